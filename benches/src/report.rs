//! What the comparison binary prints and writes: the table, and the JSON and Markdown files.

use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::{BASELINE, Bench, median, workers};

/// The machine a run was measured on.
#[derive(Debug, Clone)]
pub struct Machine {
    /// Threads the process may use (`nproc`).
    pub nproc: usize,
    /// The CPU's `model name` from `/proc/cpuinfo`, or `unknown`.
    pub cpu: String,
    /// `rustc --version` of the `rustc` on the path, if there is one.
    pub rustc: Option<String>,
    /// `std::env::consts::OS` and `ARCH`.
    pub os: String,
    /// The 1, 5 and 15 minute load averages from `/proc/loadavg` when the run started: other
    /// work on the machine skews absolute numbers (ratios less so).
    pub load: Option<String>,
}

impl Machine {
    /// The machine as a JSON object (one line).
    pub(crate) fn json(&self) -> String {
        let optional =
            |value: &Option<String>| value.as_deref().map_or("null".to_owned(), json_str);
        format!(
            "{{ \"nproc\": {}, \"cpu\": {}, \"os\": {}, \"rustc\": {}, \"loadavg_at_start\": {} }}",
            self.nproc,
            json_str(&self.cpu),
            json_str(&self.os),
            optional(&self.rustc),
            optional(&self.load)
        )
    }

    /// Looks at the machine this process runs on.
    pub fn detect() -> Machine {
        let nproc = std::thread::available_parallelism().map_or(1, |n| n.get());
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|info| {
                info.lines()
                    .find(|line| line.starts_with("model name"))
                    .and_then(|line| line.split_once(':'))
                    .map(|(_, model)| model.trim().to_owned())
            })
            .unwrap_or_else(|| "unknown".to_owned());
        let rustc = std::process::Command::new("rustc")
            .arg("--version")
            .output()
            .ok()
            .filter(|out| out.status.success())
            .and_then(|out| String::from_utf8(out.stdout).ok())
            .map(|version| version.trim().to_owned());
        let os = format!("{}-{}", std::env::consts::OS, std::env::consts::ARCH);
        let load = std::fs::read_to_string("/proc/loadavg")
            .ok()
            .map(|avg| avg.split_whitespace().take(3).collect::<Vec<_>>().join(" "));
        Machine { nproc, cpu, rustc, os, load }
    }

    /// One line: `2 threads, <cpu>, linux-x86_64, rustc ...`.
    pub fn summary(&self) -> String {
        let mut line = format!("{} threads (nproc), {}, {}", self.nproc, self.cpu, self.os);
        if let Some(rustc) = &self.rustc {
            let _ = write!(line, ", {rustc}");
        }
        if let Some(load) = &self.load {
            let _ = write!(line, ", load average {load} at start");
        }
        line
    }
}

/// CPU time counters, to tell how much of the machine other processes took during a run.
///
/// Linux only (`/proc/stat`, `/proc/self/stat`); both count in `USER_HZ` ticks, 100 a second.
#[derive(Debug, Clone, Copy)]
pub struct CpuTimes {
    /// Ticks every CPU spent busy (all but idle and iowait), summed.
    busy: u64,
    /// Ticks of all kinds, summed over CPUs.
    total: u64,
    /// Ticks this process spent on CPU, all threads, user and system.
    own: u64,
}

impl CpuTimes {
    /// Reads the counters now; `None` where `/proc` is missing.
    pub fn now() -> Option<CpuTimes> {
        let stat = std::fs::read_to_string("/proc/stat").ok()?;
        let cpu: Vec<u64> = stat
            .lines()
            .next()?
            .split_whitespace()
            .skip(1)
            .take(8)
            .map(|field| field.parse().unwrap_or(0))
            .collect();
        let total: u64 = cpu.iter().sum();
        let idle = cpu.get(3)? + cpu.get(4)?;
        // Fields 14 and 15 (utime, stime), counted after the parenthesised command name.
        let own_stat = std::fs::read_to_string("/proc/self/stat").ok()?;
        let after_name = &own_stat[own_stat.rfind(')')? + 1..];
        let mut fields = after_name.split_whitespace().skip(11);
        let own = fields.next()?.parse::<u64>().ok()? + fields.next()?.parse::<u64>().ok()?;
        Some(CpuTimes { busy: total - idle, total, own })
    }

    /// The share of the machine's CPU time between `self` and `later` that other processes used:
    /// 0 on a quiet machine, 0.5 if they kept one of two cores busy throughout.
    pub fn others_share(&self, later: &CpuTimes) -> f64 {
        let total = later.total.saturating_sub(self.total);
        let others = later.busy.saturating_sub(self.busy).saturating_sub(later.own - self.own);
        if total == 0 { 0.0 } else { others as f64 / total as f64 }
    }
}

/// The samples of one benchmark: nanoseconds per message, one per run.
#[derive(Debug, Clone)]
pub struct Measured {
    /// What was run.
    pub bench: Bench,
    /// Iterations each run timed.
    pub iters_per_run: u64,
    /// Nanoseconds per message, one sample per round.
    pub samples: Vec<f64>,
}

impl Measured {
    /// The median of the samples.
    pub fn median(&self) -> f64 {
        median(&self.samples)
    }
}

/// A finished run of the comparison binary.
#[derive(Debug, Clone)]
pub struct Report {
    /// Where it ran.
    pub machine: Machine,
    /// When it finished, as `YYYY-MM-DDTHH:MM:SSZ`.
    pub date: String,
    /// Rounds run (samples per benchmark).
    pub rounds: usize,
    /// The command line that produced it.
    pub command: String,
    /// The share of CPU time that other processes used while it ran (see
    /// [`CpuTimes::others_share`]), if known.
    pub others_cpu: Option<f64>,
    /// Every benchmark's samples, in registry order.
    pub results: Vec<Measured>,
}

impl Report {
    /// The groups present, in order.
    pub fn groups(&self) -> Vec<&'static str> {
        let mut groups = Vec::new();
        for m in &self.results {
            if !groups.contains(&m.bench.group) {
                groups.push(m.bench.group);
            }
        }
        groups
    }

    /// What the cells' nanoseconds are per: `message` (`mailbox`), `operation` (`scheduler`),
    /// or `message or operation` where both groups are present (the binary's one table).
    pub fn unit(&self) -> &'static str {
        units(&self.results.iter().collect::<Vec<_>>())
    }

    /// The results of one group.
    fn of(&self, group: &str) -> Vec<&Measured> {
        self.results.iter().filter(|m| m.bench.group == group).collect()
    }

    /// The table of every result: one row per `group/workload`, the median ns per message or
    /// operation of each implementation, then each peer's median divided by actor12's (above
    /// 1x: actor12 is faster). Markdown, padded so that it also reads as plain text.
    pub fn table(&self) -> String {
        table(&self.results.iter().collect::<Vec<_>>())
    }

    /// The Markdown file for `group`: machine, date, rounds, the table.
    pub fn markdown(&self, group: &str) -> String {
        let mut md = format!("# Benchmarks: `{group}`\n\n");
        let _ = writeln!(md, "Written by `{}`; scenarios in `benches/README.md`.\n", self.command);
        let _ = writeln!(md, "- machine: {}", self.machine.summary());
        let _ = writeln!(md, "- date: {}", self.date);
        if let Some(share) = self.others_cpu {
            let _ = writeln!(
                md,
                "- other processes used {:.0}% of the CPU time during the run",
                share * 100.0
            );
        }
        let _ = writeln!(
            md,
            "- median of {} per cell, implementations interleaved round by round",
            count(self.rounds, "run")
        );
        let _ = writeln!(md, "- {} workers for every multi-threaded runtime\n", workers());
        md.push_str(&table(&self.of(group)));
        let _ = writeln!(
            md,
            "\nCells are ns per {} (lower is better); `peer/actor12` is the peer's median \
             divided by actor12's, so above 1x actor12 is faster.",
            unit(group)
        );
        md
    }

    /// The JSON file for `group`: machine, date, rounds, and every run's sample.
    pub fn json(&self, group: &str) -> String {
        let results = self.of(group);
        let mut out = String::from("{\n");
        let _ = writeln!(out, "  \"group\": {},", json_str(group));
        let _ = writeln!(out, "  \"unit\": \"ns per {}\",", unit(group));
        let _ = writeln!(out, "  \"baseline\": {},", json_str(BASELINE));
        let _ = writeln!(out, "  \"date\": {},", json_str(&self.date));
        let _ = writeln!(out, "  \"command\": {},", json_str(&self.command));
        let _ = writeln!(out, "  \"rounds\": {},", self.rounds);
        let _ = writeln!(out, "  \"workers\": {},", workers());
        let others = self.others_cpu.map_or("null".to_owned(), json_num);
        let _ = writeln!(out, "  \"others_cpu_share\": {others},");
        let _ = writeln!(out, "  \"machine\": {},", self.machine.json());
        out.push_str("  \"results\": [\n");
        for (i, r) in results.iter().enumerate() {
            let baseline = baseline_median(&results, r.bench.workload);
            let ratio = match baseline {
                Some(base) if r.bench.imp != BASELINE => json_num(r.median() / base),
                _ => "null".to_owned(),
            };
            let samples: Vec<_> = r.samples.iter().map(|&s| json_num(s)).collect();
            let _ = write!(
                out,
                "    {{ \"workload\": {}, \"impl\": {}, \"messages_per_run\": {}, \
                 \"median\": {}, \"ratio_to_baseline\": {}, \"samples\": [{}] }}",
                json_str(r.bench.workload),
                json_str(r.bench.imp),
                r.iters_per_run * r.bench.messages_per_iter,
                json_num(r.median()),
                ratio,
                samples.join(", ")
            );
            out.push_str(if i + 1 < results.len() { ",\n" } else { "\n" });
        }
        out.push_str("  ]\n}\n");
        out
    }
}

/// What a cell of `group` is nanoseconds per: a message in `mailbox`, an operation (a spawn, a
/// yield, a round trip, an arm and cancel) in `scheduler`, as `benches/README.md` defines them.
/// [`Bench::messages_per_iter`] counts these.
fn unit(group: &str) -> &'static str {
    if group == "scheduler" { "operation" } else { "message" }
}

/// The [`unit`] shared by every group of `results`, or `message or operation`.
fn units(results: &[&Measured]) -> &'static str {
    let mut units = results.iter().map(|m| unit(m.bench.group));
    let first = units.next().unwrap_or("message");
    if units.all(|u| u == first) { first } else { "message or operation" }
}

/// The baseline's median for `workload` among `results`, if it was run.
fn baseline_median(results: &[&Measured], workload: &str) -> Option<f64> {
    results
        .iter()
        .find(|m| m.bench.workload == workload && m.bench.imp == BASELINE)
        .map(|m| m.median())
}

fn table(results: &[&Measured]) -> String {
    let mut rows: Vec<String> = Vec::new();
    let mut imps: Vec<&str> = Vec::new();
    for m in results {
        if !rows.contains(&m.bench.row()) {
            rows.push(m.bench.row());
        }
        if !imps.contains(&m.bench.imp) {
            imps.push(m.bench.imp);
        }
    }
    // The baseline leads; the ratios are of the others to it.
    imps.sort_by_key(|&imp| imp != BASELINE);
    let has_baseline = imps.first() == Some(&BASELINE);
    let peers: &[&str] = if has_baseline { &imps[1..] } else { &[] };

    let mut header = vec!["group/workload".to_owned()];
    let per = if units(results) == "message" { "msg" } else { "op" };
    header.extend(imps.iter().map(|imp| format!("{imp} ns/{per}")));
    header.extend(peers.iter().map(|peer| format!("{peer}/{BASELINE}")));
    let mut cells = vec![header];
    for row in &rows {
        let median_of = |imp: &str| {
            results.iter().find(|m| m.bench.row() == *row && m.bench.imp == imp).map(|m| m.median())
        };
        let mut line = vec![row.clone()];
        line.extend(imps.iter().map(|imp| median_of(imp).map_or("-".to_owned(), ns)));
        let base = median_of(BASELINE);
        line.extend(peers.iter().map(|peer| match (median_of(peer), base) {
            (Some(peer), Some(base)) => format!("{:.2}x", peer / base),
            _ => "-".to_owned(),
        }));
        cells.push(line);
    }

    markdown_table(&cells)
}

/// A Markdown table, the first column left-aligned and the others right-aligned.
pub(crate) fn markdown_table(lines: &[Vec<String>]) -> String {
    let widths: Vec<usize> = (0..lines[0].len())
        .map(|col| lines.iter().map(|line| line[col].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for (i, line) in lines.iter().enumerate() {
        out.push('|');
        for (col, cell) in line.iter().enumerate() {
            if col == 0 {
                let _ = write!(out, " {cell:<w$} |", w = widths[col]);
            } else {
                let _ = write!(out, " {cell:>w$} |", w = widths[col]);
            }
        }
        out.push('\n');
        if i == 0 {
            out.push('|');
            for (col, w) in widths.iter().enumerate() {
                if col == 0 {
                    let _ = write!(out, "{}|", "-".repeat(w + 2));
                } else {
                    let _ = write!(out, "{}:|", "-".repeat(w + 1));
                }
            }
            out.push('\n');
        }
    }
    out
}

/// Nanoseconds with one decimal, or none past 1000.
pub(crate) fn ns(value: f64) -> String {
    if value >= 1000.0 { format!("{value:.0}") } else { format!("{value:.1}") }
}

pub(crate) fn json_num(value: f64) -> String {
    if value.is_finite() { format!("{value:.3}") } else { "null".to_owned() }
}

pub(crate) fn json_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The commit of the checkout these benchmarks were built from (`git rev-parse --short HEAD`
/// in it), with `-dirty` when a tracked file differs from it (`git status --porcelain`),
/// results files under `docs/benchmarks/` apart, which a run rewrites; `unknown` without git
/// or a checkout.
pub fn git_commit() -> String {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .arg("-C")
            .arg(env!("CARGO_MANIFEST_DIR"))
            .args(args)
            .output()
            .ok()
            .filter(|out| out.status.success())
            .and_then(|out| String::from_utf8(out.stdout).ok())
    };
    let Some(head) = git(&["rev-parse", "--short", "HEAD"]) else {
        return "unknown".to_owned();
    };
    let status = ["status", "--porcelain", "--untracked-files=no", "--", ":/"];
    let changed = git(&[&status[..], &[":(top,exclude)docs/benchmarks"]].concat());
    match changed {
        Some(changed) if changed.trim().is_empty() => head.trim().to_owned(),
        Some(_) => format!("{}-dirty", head.trim()),
        None => "unknown".to_owned(),
    }
}

/// Now, in UTC, as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn utc_now() -> String {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem / 60 % 60, rem % 60)
}

/// The Gregorian date `days` after 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// `n` and `noun`, plural unless `n` is 1: "1 round", "7 rounds".
pub fn count(n: usize, noun: &str) -> String {
    if n == 1 { format!("1 {noun}") } else { format!("{n} {noun}s") }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn the_commit_is_a_short_hash_or_unknown() {
        let commit = git_commit();
        let hash = commit.strip_suffix("-dirty").unwrap_or(&commit);
        assert!(
            commit == "unknown" || (hash.len() >= 7 && hash.chars().all(|c| c.is_ascii_hexdigit())),
            "{commit}"
        );
    }

    fn measured(workload: &'static str, imp: &'static str, samples: &[f64]) -> Measured {
        let bench = Bench {
            group: "g",
            workload,
            imp,
            messages_per_iter: 1,
            iters_per_run: 1,
            run: |_| Duration::ZERO,
        };
        Measured { bench, iters_per_run: 10, samples: samples.to_vec() }
    }

    fn report() -> Report {
        Report {
            machine: Machine {
                nproc: 2,
                cpu: "cpu \"x\"".into(),
                rustc: None,
                os: "linux-x86_64".into(),
                load: Some("0.10 0.20 0.30".into()),
            },
            date: "2026-01-01T00:00:00Z".into(),
            rounds: 3,
            command: "bench".into(),
            others_cpu: Some(0.25),
            results: vec![
                measured("w", "peer", &[30.0, 40.0, 20.0]),
                measured("w", "actor12", &[10.0, 20.0, 15.0]),
            ],
        }
    }

    #[test]
    fn table_puts_actor12_first_and_divides_by_it() {
        let table = report().table();
        let lines: Vec<_> = table.lines().collect();
        assert_eq!(lines.len(), 3, "{table}");
        assert!(
            lines[0]
                .starts_with("| group/workload | actor12 ns/msg | peer ns/msg | peer/actor12 |")
        );
        assert!(lines[1].starts_with("|---") && lines[1].ends_with(":|"), "{table}");
        assert!(lines[2].contains("15.0") && lines[2].contains("30.0"), "{table}");
        assert!(lines[2].ends_with("2.00x |"), "{table}");
    }

    #[test]
    fn json_escapes_and_records_samples() {
        let json = report().json("g");
        assert!(json.contains(r#""cpu": "cpu \"x\"""#), "{json}");
        assert!(json.contains(r#""rustc": null"#), "{json}");
        assert!(json.contains(r#""others_cpu_share": 0.250,"#), "{json}");
        assert!(json.contains(r#""loadavg_at_start": "0.10 0.20 0.30""#), "{json}");
        assert!(json.contains(r#""samples": [30.000, 40.000, 20.000]"#), "{json}");
        assert!(json.contains(r#""ratio_to_baseline": 2.000"#), "{json}");
        assert!(json.contains(r#""messages_per_run": 10"#), "{json}");
    }

    #[test]
    fn scheduler_cells_are_labelled_per_operation_and_mailbox_cells_per_message() {
        let mut report = report();
        for m in &mut report.results {
            m.bench.group = "scheduler";
        }
        let json = report.json("scheduler");
        assert!(json.contains(r#""unit": "ns per operation","#), "{json}");
        let md = report.markdown("scheduler");
        assert!(md.contains("| actor12 ns/op |") && !md.contains("ns/msg"), "{md}");
        assert!(md.contains("Cells are ns per operation"), "{md}");
        assert_eq!(report.unit(), "operation");

        report.results[0].bench.group = "mailbox";
        let json = report.json("mailbox");
        assert!(json.contains(r#""unit": "ns per message","#), "{json}");
        assert!(report.markdown("mailbox").contains("| peer ns/msg |"));
        // Both groups in one table, as the binary prints them.
        assert_eq!(report.unit(), "message or operation");
        assert!(report.table().contains("| actor12 ns/op |"), "{}", report.table());
    }

    #[test]
    fn cpu_times_are_read_and_a_busy_thread_is_not_counted_as_others() {
        let before = CpuTimes::now().expect("/proc is readable");
        let end = std::time::Instant::now() + Duration::from_millis(300);
        while std::time::Instant::now() < end {
            std::hint::spin_loop();
        }
        let after = CpuTimes::now().expect("/proc is readable");
        assert!(after.own > before.own, "{before:?} {after:?}");
        let share = before.others_share(&after);
        assert!((0.0..=1.0).contains(&share), "{share}");
    }

    #[test]
    fn dates_are_gregorian() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(20_454), (2026, 1, 1));
    }
}
