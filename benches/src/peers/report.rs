//! What the comparison binary prints and writes for the `peers` group: one table per workload
//! with each implementation's ratio to the best peer, a summary table, `peers.json`, `peers.md`
//! and a bar chart, `peers.svg` (written by hand: one panel per workload).

use std::fmt::Write as _;

use super::{Bytes, GROUP, IMPLS, Params, Peer, Workload, is_peer, one_thread};
use crate::median;
use crate::report::{Machine, json_num, json_str, ns};
use crate::workers;

/// Every run of one workload on one implementation.
#[derive(Debug, Clone)]
pub struct Sampled {
    /// What was run.
    pub peer: Peer,
    /// Operations each run timed.
    pub ops: u64,
    /// Nanoseconds per operation, one per round.
    pub ns: Vec<f64>,
    /// Bytes per idle actor, one per round (`spawn_stop` with the counting allocator only).
    pub bytes: Vec<Bytes>,
}

impl Sampled {
    /// The median nanoseconds per operation.
    pub fn median(&self) -> f64 {
        median(&self.ns)
    }

    /// The median bytes per idle actor, before and after a message (each its own median),
    /// where measured.
    pub fn median_bytes(&self) -> Option<Bytes> {
        let of = |f: fn(&Bytes) -> f64| median(&self.bytes.iter().map(f).collect::<Vec<_>>());
        (!self.bytes.is_empty())
            .then(|| Bytes { fresh: of(|b| b.fresh), after_message: of(|b| b.after_message) })
    }
}

/// A finished run of the `peers` group.
#[derive(Debug, Clone)]
pub struct PeerReport {
    /// Where it ran.
    pub machine: Machine,
    /// When it finished, as `YYYY-MM-DDTHH:MM:SSZ`.
    pub date: String,
    /// The code it ran: the checkout's commit ([`git_commit`](crate::report::git_commit)).
    pub commit: String,
    /// Rounds run (samples per cell).
    pub rounds: usize,
    /// The command line that produced it.
    pub command: String,
    /// The share of CPU time other processes used meanwhile, if known.
    pub others_cpu: Option<f64>,
    /// The sizes every run used.
    pub params: Params,
    /// Every cell's samples, in registry order.
    pub results: Vec<Sampled>,
}

/// What the numbers mean, under every table: `workers` is the run's [`workers`].
fn notes(workers: usize) -> String {
    format!(
        "Cells are the median over the rounds of nanoseconds per operation (lower is better), \
         operations as each table's title says. `impl / best peer` divides the median by the best \
         (lowest) peer's median: 1.00x is the best peer, and for actor12 below 1.00x means \
         faster than every peer. actor12 runs on its own runtime, and tokio, ractor and kameo \
         on a tokio multi-threaded runtime, each with {workers} workers; tokio-1t, ractor-1t \
         and kameo-1t run on a tokio current-thread runtime, and actix every actor on its \
         System's single thread, all on the measuring thread, which spares them every \
         cross-thread wake-up (their latency is that of one thread). \
         Bytes per actor: live heap growth while the idle actors are alive, divided by their \
         number, counted as the sizes asked of the allocator (not its own overhead per block): \
         first before any actor has had a message, then (`after a message`) once each has \
         handled one `u64` and waits again. An actor12 actor allocates its mailbox's first \
         block at its first message (and a handler-style one its handlers' buffer), where \
         tokio's channel (which ractor and kameo use too) allocates its block when it is made."
    )
}

impl PeerReport {
    /// The workloads present, in order.
    pub fn workloads(&self) -> Vec<Workload> {
        Workload::ALL
            .into_iter()
            .filter(|&w| self.results.iter().any(|r| r.peer.workload == w))
            .collect()
    }

    /// The cells of `workload`, in [`IMPLS`] order.
    fn of(&self, workload: Workload) -> Vec<&Sampled> {
        let mut cells: Vec<&Sampled> =
            self.results.iter().filter(|r| r.peer.workload == workload).collect();
        cells.sort_by_key(|r| IMPLS.iter().position(|&i| i == r.peer.imp).unwrap_or(IMPLS.len()));
        cells
    }

    /// The implementations present, in [`IMPLS`] order.
    pub fn imps(&self) -> Vec<&'static str> {
        let mut imps: Vec<&'static str> = Vec::new();
        for r in &self.results {
            if !imps.contains(&r.peer.imp) {
                imps.push(r.peer.imp);
            }
        }
        imps.sort_by_key(|imp| IMPLS.iter().position(|i| i == imp).unwrap_or(IMPLS.len()));
        imps
    }

    /// The best (lowest) peer median of `workload`, and whose it is.
    pub fn best_peer(&self, workload: Workload) -> Option<(&'static str, f64)> {
        self.of(workload)
            .into_iter()
            .filter(|r| is_peer(r.peer.imp))
            .map(|r| (r.peer.imp, r.median()))
            .filter(|(_, m)| m.is_finite())
            .min_by(|a, b| a.1.total_cmp(&b.1))
    }

    /// One table per workload: median, throughput, spread, bytes (`spawn_stop`), ratio to the
    /// best peer. Markdown, padded so that it reads as plain text.
    pub fn tables(&self) -> String {
        let mut out = String::new();
        for w in self.workloads() {
            let _ = writeln!(
                out,
                "\n{GROUP}/{}: ns per {} ({})\n",
                w.name(),
                w.unit(),
                w.describe(&self.params)
            );
            out.push_str(&self.table(w));
        }
        out
    }

    fn table(&self, w: Workload) -> String {
        let cells = self.of(w);
        let best = self.best_peer(w).map(|(_, m)| m);
        let with_bytes = cells.iter().any(|r| r.median_bytes().is_some());
        let mut header = vec![
            "impl".to_owned(),
            format!("ns per {}", w.unit()),
            format!("M {}s/s", w.unit()),
            "min..max ns".to_owned(),
        ];
        if with_bytes {
            header.push("bytes per actor".to_owned());
            header.push("after a message".to_owned());
        }
        header.push("impl / best peer".to_owned());
        let mut lines = vec![header];
        for r in cells {
            let m = r.median();
            let (lo, hi) =
                r.ns.iter().fold((f64::INFINITY, 0f64), |(lo, hi), &s| (lo.min(s), hi.max(s)));
            let mut line = vec![
                imp_label(r.peer.imp),
                ns(m),
                format!("{:.2}", 1e3 / m),
                format!("{}..{}", ns(lo), ns(hi)),
            ];
            if with_bytes {
                let b = r.median_bytes();
                line.push(b.map_or("-".to_owned(), |b| format!("{:.0}", b.fresh)));
                line.push(b.map_or("-".to_owned(), |b| format!("{:.0}", b.after_message)));
            }
            line.push(match best {
                Some(best) if best > 0.0 => {
                    let ratio = format!("{:.2}x", m / best);
                    if m == best && is_peer(r.peer.imp) { format!("{ratio} (best)") } else { ratio }
                }
                _ => "-".to_owned(),
            });
            lines.push(line);
        }
        crate::report::markdown_table(&lines)
    }

    /// Workloads down, implementations across: each cell the median (and bytes for
    /// `spawn_stop`), the shape of the table in the design notes.
    pub fn summary(&self) -> String {
        let imps = self.imps();
        let mut header = vec!["workload".to_owned()];
        header.extend(imps.iter().map(|&imp| imp_label(imp)));
        let mut lines = vec![header];
        for w in self.workloads() {
            let cells = self.of(w);
            let mut line = vec![format!("{}, ns per {}", w.name(), w.unit())];
            for imp in &imps {
                line.push(cells.iter().find(|r| r.peer.imp == *imp).map_or("-".to_owned(), |r| {
                    match r.median_bytes() {
                        Some(b) => {
                            format!(
                                "{} / {:.0} B, {:.0} B",
                                ns(r.median()),
                                b.fresh,
                                b.after_message
                            )
                        }
                        None => ns(r.median()),
                    }
                }));
            }
            lines.push(line);
        }
        crate::report::markdown_table(&lines)
    }

    /// `peers.md`: machine, date, rounds, the summary, the tables, what the numbers mean.
    pub fn markdown(&self) -> String {
        let mut md = format!("# Benchmarks: `{GROUP}`\n\n");
        let _ = writeln!(
            md,
            "Written by `{}`; scenarios in `benches/README.md`, code in `benches/src/peers/`.\n",
            self.command
        );
        let _ = writeln!(md, "- machine: {}", self.machine.summary());
        let _ = writeln!(md, "- date: {}", self.date);
        let _ = writeln!(md, "- commit: {}", self.commit);
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
            crate::report::count(self.rounds, "run")
        );
        let _ = writeln!(md, "- {}\n", runtimes());
        md.push_str("![peers chart](peers.svg)\n\n## Summary (median ns per operation)\n\n");
        md.push_str(&self.summary());
        for w in self.workloads() {
            let _ = writeln!(
                md,
                "\n## `{}`: ns per {}\n\n{}.\n",
                w.name(),
                w.unit(),
                w.describe(&self.params)
            );
            md.push_str(&self.table(w));
        }
        let _ = writeln!(md, "\n{}", notes(workers()));
        md
    }

    /// `peers.json`: machine, date, rounds, sizes, and every run's sample.
    pub fn json(&self) -> String {
        let mut out = String::from("{\n");
        let _ = writeln!(out, "  \"group\": {},", json_str(GROUP));
        let _ = writeln!(out, "  \"unit\": \"ns per operation (see each result's unit)\",");
        let _ = writeln!(out, "  \"ratio\": \"median divided by the best peer's median\",");
        let _ = writeln!(out, "  \"date\": {},", json_str(&self.date));
        let _ = writeln!(out, "  \"commit\": {},", json_str(&self.commit));
        let _ = writeln!(out, "  \"command\": {},", json_str(&self.command));
        let _ = writeln!(out, "  \"rounds\": {},", self.rounds);
        let _ = writeln!(out, "  \"workers\": {},", workers());
        let single: Vec<String> =
            IMPLS.iter().filter(|&&imp| one_thread(imp)).map(|imp| json_str(imp)).collect();
        let _ = writeln!(out, "  \"single_threaded\": [{}],", single.join(", "));
        let others = self.others_cpu.map_or("null".to_owned(), json_num);
        let _ = writeln!(out, "  \"others_cpu_share\": {others},");
        let _ = writeln!(out, "  \"machine\": {},", self.machine.json());
        out.push_str("  \"results\": [\n");
        let rows: Vec<&Sampled> = self.workloads().into_iter().flat_map(|w| self.of(w)).collect();
        for (i, r) in rows.iter().enumerate() {
            let w = r.peer.workload;
            let ratio = self
                .best_peer(w)
                .filter(|(_, best)| *best > 0.0)
                .map_or("null".to_owned(), |(_, best)| json_num(r.median() / best));
            let samples: Vec<_> = r.ns.iter().map(|&s| json_num(s)).collect();
            let bytes: Vec<_> = r.bytes.iter().map(|b| json_num(b.fresh)).collect();
            let after: Vec<_> = r.bytes.iter().map(|b| json_num(b.after_message)).collect();
            let median_bytes = r.median_bytes();
            let _ = write!(
                out,
                "    {{ \"workload\": {}, \"impl\": {}, \"unit\": {}, \"ops_per_run\": {}, \
                 \"median_ns\": {}, \"ratio_to_best_peer\": {}, \"samples_ns\": [{}], \
                 \"median_bytes_per_actor\": {}, \"samples_bytes_per_actor\": [{}], \
                 \"median_bytes_after_message\": {}, \"samples_bytes_after_message\": [{}] }}",
                json_str(w.name()),
                json_str(r.peer.imp),
                json_str(w.unit()),
                r.ops,
                json_num(r.median()),
                ratio,
                samples.join(", "),
                median_bytes.map_or("null".to_owned(), |b| json_num(b.fresh)),
                bytes.join(", "),
                median_bytes.map_or("null".to_owned(), |b| json_num(b.after_message)),
                after.join(", ")
            );
            out.push_str(if i + 1 < rows.len() { ",\n" } else { "\n" });
        }
        out.push_str("  ]\n}\n");
        out
    }

    /// `peers.svg`: a horizontal bar chart, one panel per workload (and one for the bytes of
    /// `spawn_stop`), bars scaled to the panel's largest value and labelled with the median and
    /// the ratio to the best peer.
    pub fn svg(&self) -> String {
        const WIDTH: f64 = 760.0;
        const LABEL: f64 = 150.0;
        const BAR_MAX: f64 = 440.0;
        const BAR: f64 = 18.0;
        const GAP: f64 = 6.0;
        const TITLE: f64 = 34.0;

        // (impl, value, label) per bar; (title, bars) per panel.
        type Bar = (&'static str, f64, String);
        let mut panels: Vec<(String, Vec<Bar>)> = Vec::new();
        for w in self.workloads() {
            let best = self.best_peer(w).map(|(_, m)| m);
            let bars = self
                .of(w)
                .into_iter()
                .map(|r| {
                    let m = r.median();
                    let ratio = best
                        .filter(|b| *b > 0.0)
                        .map_or(String::new(), |b| format!(" ({:.2}x)", m / b));
                    (r.peer.imp, m, format!("{} ns{ratio}", ns(m)))
                })
                .collect();
            panels.push((format!("{}: ns per {} (lower is better)", w.name(), w.unit()), bars));
            type Pick = fn(&Bytes) -> f64;
            let kinds: [(&str, Pick); 2] = [
                ("bytes per idle actor", |b| b.fresh),
                ("bytes per idle actor after a message", |b| b.after_message),
            ];
            for (what, pick) in kinds {
                let bytes: Vec<_> = self
                    .of(w)
                    .into_iter()
                    .filter_map(|r| r.median_bytes().map(|b| (r.peer.imp, pick(&b))))
                    .map(|(imp, b)| (imp, b, format!("{b:.0} B")))
                    .collect();
                if !bytes.is_empty() {
                    panels.push((format!("{}: {what} (lower is better)", w.name()), bytes));
                }
            }
        }

        let height: f64 = 76.0
            + panels
                .iter()
                .map(|(_, bars)| TITLE + bars.len() as f64 * (BAR + GAP) + 10.0)
                .sum::<f64>();
        let mut svg = String::new();
        let _ = writeln!(
            svg,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height}\" \
             viewBox=\"0 0 {WIDTH} {height}\" font-family=\"sans-serif\" font-size=\"12\">"
        );
        let _ = writeln!(svg, "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>");
        let _ = writeln!(
            svg,
            "<text x=\"10\" y=\"22\" font-size=\"16\" font-weight=\"bold\">actor12 peers: median \
             of {}</text>",
            crate::report::count(self.rounds, "round")
        );
        let m = &self.machine;
        let lines = [
            format!(
                "{} threads (nproc), {}, {}; {}; commit {}",
                m.nproc, m.cpu, m.os, self.date, self.commit
            ),
            format!(
                "{} workers for actor12, tokio, ractor, kameo; one thread for those marked \
                 (1 thread); ratios to the best peer",
                workers()
            ),
        ];
        for (i, line) in lines.iter().enumerate() {
            let _ = writeln!(
                svg,
                "<text x=\"10\" y=\"{}\" fill=\"#555\">{}</text>",
                40 + 16 * i,
                xml(line)
            );
        }
        let mut y = 76.0;
        for (title, bars) in &panels {
            let _ = writeln!(
                svg,
                "<text x=\"10\" y=\"{}\" font-weight=\"bold\">{}</text>",
                y + 20.0,
                xml(title)
            );
            y += TITLE;
            let max = bars.iter().map(|b| b.1).filter(|v| v.is_finite()).fold(0f64, f64::max);
            for (imp, value, text) in bars {
                let len = if max > 0.0 && value.is_finite() { value / max * BAR_MAX } else { 0.0 };
                let _ = writeln!(
                    svg,
                    "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
                    LABEL - 8.0,
                    y + BAR - 5.0,
                    xml(&imp_label(imp))
                );
                let _ = writeln!(
                    svg,
                    "<rect x=\"{LABEL}\" y=\"{y}\" width=\"{len:.1}\" height=\"{BAR}\" fill=\"{}\"/>",
                    color(imp)
                );
                let _ = writeln!(
                    svg,
                    "<text x=\"{:.1}\" y=\"{}\">{}</text>",
                    LABEL + len + 6.0,
                    y + BAR - 5.0,
                    xml(text)
                );
                y += BAR + GAP;
            }
            y += 10.0;
        }
        svg.push_str("</svg>\n");
        svg
    }
}

/// The column name: the peers that run on one thread are marked so (`tokio-1t` is
/// `tokio (1 thread)`).
fn imp_label(imp: &str) -> String {
    match imp.strip_suffix("-1t") {
        Some(base) => format!("{base} (1 thread)"),
        None if one_thread(imp) => format!("{imp} (1 thread)"),
        None => imp.to_owned(),
    }
}

/// Which runtime each column runs on, in one line (`peers.md`'s and the printed one).
pub fn runtimes() -> String {
    let (single, multi): (Vec<&str>, Vec<&str>) =
        IMPLS.iter().copied().filter(|&imp| imp != "actix").partition(|&imp| one_thread(imp));
    format!(
        "{} workers for every multi-threaded runtime ({}); {} on a current-thread runtime, \
         actix on its single-threaded System",
        workers(),
        multi.join(", "),
        single.join(", ")
    )
}

/// A fixed colour per implementation, so that charts compare across runs.
fn color(imp: &str) -> &'static str {
    match imp {
        "actor12" => "#d62728",
        "actor12-envelope" => "#ff7f0e",
        "tokio" => "#1f77b4",
        "tokio-1t" => "#17becf",
        "ractor" => "#2ca02c",
        "ractor-1t" => "#98df8a",
        "kameo" => "#9467bd",
        "kameo-1t" => "#c5b0d5",
        "actix" => "#8c564b",
        _ => "#7f7f7f",
    }
}

fn xml(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::super::Measurement;
    use super::*;

    fn never(_: &Params) -> Measurement {
        unreachable!()
    }

    fn sampled(workload: Workload, imp: &'static str, ns: &[f64], bytes: &[(f64, f64)]) -> Sampled {
        Sampled {
            peer: Peer { workload, imp, run: never },
            ops: 100,
            ns: ns.to_vec(),
            bytes: bytes
                .iter()
                .map(|&(fresh, after_message)| Bytes { fresh, after_message })
                .collect(),
        }
    }

    fn report() -> PeerReport {
        PeerReport {
            machine: Machine {
                nproc: 2,
                cpu: "cpu <x>".into(),
                rustc: None,
                os: "linux-x86_64".into(),
                load: None,
            },
            date: "2026-01-01T00:00:00Z".into(),
            commit: "abc1234-dirty".into(),
            rounds: 3,
            command: "actor12-bench --filter peers".into(),
            others_cpu: None,
            params: Params::TINY,
            results: vec![
                sampled(Workload::Ring, "kameo", &[400.0, 300.0, 500.0], &[]),
                sampled(Workload::Ring, "tokio", &[100.0, 120.0, 110.0], &[]),
                sampled(Workload::Ring, "actor12", &[50.0, 55.0, 60.0], &[]),
                sampled(Workload::SpawnStop, "tokio", &[1000.0], &[(1300.0, 1400.0)]),
                sampled(Workload::SpawnStop, "kameo", &[2000.0], &[(7000.0, 7500.0)]),
            ],
        }
    }

    #[test]
    fn ratios_are_to_the_best_peer_and_actor12_leads() {
        let r = report();
        assert_eq!(r.best_peer(Workload::Ring), Some(("tokio", 110.0)));
        let tables = r.tables();
        let ring: Vec<&str> =
            tables.lines().skip_while(|l| !l.starts_with("peers/ring")).skip(2).take(5).collect();
        assert!(ring[0].starts_with("| impl"), "{tables}");
        assert!(ring[2].starts_with("| actor12 ") && ring[2].ends_with(" 0.50x |"), "{tables}");
        assert!(ring[3].starts_with("| tokio ") && ring[3].ends_with("1.00x (best) |"), "{tables}");
        assert!(ring[4].starts_with("| kameo ") && ring[4].ends_with(" 3.64x |"), "{tables}");
        assert!(tables.contains("| after a message | impl / best peer |"), "{tables}");
    }

    #[test]
    fn summary_has_a_row_per_workload_and_bytes_for_spawn_stop() {
        let summary = report().summary();
        let header: Vec<&str> = summary.lines().next().unwrap().split('|').map(str::trim).collect();
        assert_eq!(header, ["", "workload", "actor12", "tokio", "kameo", ""], "{summary}");
        assert!(summary.contains("1000 / 1300 B, 1400 B"), "{summary}");
        assert_eq!(summary.lines().count(), 4, "{summary}");
    }

    #[test]
    fn one_thread_columns_are_labelled_so() {
        assert_eq!(imp_label("tokio-1t"), "tokio (1 thread)");
        assert_eq!(imp_label("ractor-1t"), "ractor (1 thread)");
        assert_eq!(imp_label("kameo-1t"), "kameo (1 thread)");
        assert_eq!(imp_label("actix"), "actix (1 thread)");
        assert_eq!(imp_label("kameo"), "kameo");
        let colors: Vec<&str> = IMPLS.iter().map(|imp| color(imp)).collect();
        for (i, c) in colors.iter().enumerate() {
            assert!(!colors[..i].contains(c) && *c != "#7f7f7f", "{} shares {c}", IMPLS[i]);
        }
        let runtimes = runtimes();
        assert!(runtimes.contains("; tokio-1t, ractor-1t, kameo-1t on a current-thread"));
    }

    #[test]
    fn json_and_svg_are_well_formed() {
        let r = report();
        let json = r.json();
        assert!(json.contains(r#""median_ns": 110.000, "ratio_to_best_peer": 1.000"#), "{json}");
        assert!(json.contains(r#""median_bytes_per_actor": 7000.000"#), "{json}");
        assert!(json.contains(r#""median_bytes_after_message": 7500.000"#), "{json}");
        assert!(json.contains(r#""samples_bytes_per_actor": []"#), "{json}");
        assert_eq!(json.matches('{').count(), json.matches('}').count());
        let svg = r.svg();
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"));
        assert!(svg.contains("cpu &lt;x&gt;"), "{svg}");
        assert!(svg.contains("; commit abc1234-dirty</text>"), "{svg}");
        assert_eq!(svg.matches("<rect").count(), 1 + 3 + 2 + 2 + 2, "{svg}");
        assert!(json.contains("\n  \"commit\": \"abc1234-dirty\",\n"), "{json}");
        let single = r#""single_threaded": ["tokio-1t", "ractor-1t", "kameo-1t", "actix"],"#;
        assert!(json.contains(single), "{json}");
        let md = r.markdown();
        assert!(md.contains("![peers chart](peers.svg)"));
        assert!(md.contains("\n- commit: abc1234-dirty\n"), "{md}");
    }
}
