//! `actor12-bench`: runs every registered benchmark on every implementation in one process and
//! prints one table of medians and ratios to actor12.
//!
//! ```text
//! cargo run --release -p actor12-benches --bin actor12-bench [-- OPTIONS]
//!
//!   --rounds N     samples per benchmark (default 7)
//!   --quick        one round of shorter runs, files not written: a smoke test
//!   --filter TEXT  only benchmarks whose `group/workload/impl` contains TEXT; files are
//!                  written only with an explicit --out
//!   --out DIR      where `<group>.json` and `<group>.md` go (default: docs/benchmarks
//!                  in the workspace)
//!   --no-write     print the table only
//! ```
//!
//! One untimed warm-up round comes first. Then each round runs every benchmark once; within a
//! workload the implementations take turns going first, so that a slow patch of a noisy machine
//! does not always fall on the same one. The thread that measures only spawns and joins the
//! workload's threads, so a workload gets exactly the busy threads it asks for.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use actor12_benches::report::{CpuTimes, Machine, Measured, Report, utc_now};
use actor12_benches::{Bench, all};

const USAGE: &str = "usage: actor12-bench [--rounds N] [--quick] [--filter TEXT] [--out DIR] \
                     [--no-write]";

struct Options {
    rounds: usize,
    quick: bool,
    filter: Option<String>,
    out: PathBuf,
    write: bool,
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut options =
        Options { rounds: 7, quick: false, filter: None, out: workspace_docs(), write: true };
    let mut rounds = None;
    let mut out = None;
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--rounds" => {
                let n = value("--rounds")?;
                rounds =
                    Some(n.parse().ok().filter(|&n| n > 0).ok_or(format!("bad --rounds {n}"))?);
            }
            "--quick" => options.quick = true,
            "--filter" => options.filter = Some(value("--filter")?),
            "--out" => out = Some(PathBuf::from(value("--out")?)),
            "--no-write" => options.write = false,
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if options.quick {
        options.rounds = 1;
        options.write = false;
    }
    // A filtered run would replace a group's committed results with a part of them.
    if options.filter.is_some() && out.is_none() {
        options.write = false;
    }
    options.rounds = rounds.unwrap_or(options.rounds);
    options.out = out.unwrap_or(options.out);
    Ok(options)
}

/// `docs/benchmarks` in the workspace this binary was built from.
fn workspace_docs() -> PathBuf {
    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).join("docs").join("benchmarks")
}

/// Shows `[done/total] id ...` in place on a terminal; stays quiet otherwise.
struct Progress {
    tty: bool,
    done: usize,
    total: usize,
}

impl Progress {
    fn show(&self, phase: &str, id: &str) {
        if self.tty {
            eprint!("\r\x1b[2K[{}/{}] {phase}{id} ...", self.done + 1, self.total);
            let _ = std::io::stderr().flush();
        }
    }

    fn clear(&self) {
        if self.tty {
            eprint!("\r\x1b[2K");
        }
    }
}

fn main() -> ExitCode {
    let options = match parse(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(message) => {
            if !message.is_empty() {
                eprintln!("actor12-bench: {message}");
            }
            eprintln!("{USAGE}");
            return if message.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE };
        }
    };
    let benches: Vec<Bench> = all()
        .into_iter()
        .filter(|b| options.filter.as_ref().is_none_or(|f| b.id().contains(f.as_str())))
        .collect();
    if benches.is_empty() {
        eprintln!("actor12-bench: no benchmark matches the filter");
        return ExitCode::FAILURE;
    }
    let iters =
        |b: &Bench| if options.quick { (b.iters_per_run / 10).max(1) } else { b.iters_per_run };

    // Benchmarks of one workload, by index, in registry order: the unit that takes turns.
    let mut workloads: Vec<Vec<usize>> = Vec::new();
    for (i, b) in benches.iter().enumerate() {
        match workloads.iter_mut().find(|w| benches[w[0]].row() == b.row()) {
            Some(w) => w.push(i),
            None => workloads.push(vec![i]),
        }
    }

    let machine = Machine::detect();
    let mut progress =
        Progress { tty: std::io::stderr().is_terminal(), done: 0, total: benches.len() };
    for b in &benches {
        progress.show("warm-up ", &b.id());
        let _ = b.ns_per_message(iters(b));
        progress.done += 1;
    }

    let cpu_before = CpuTimes::now();
    let mut samples = vec![Vec::with_capacity(options.rounds); benches.len()];
    progress = Progress { done: 0, total: benches.len() * options.rounds, ..progress };
    for round in 0..options.rounds {
        for w in &workloads {
            for turn in 0..w.len() {
                let i = w[(turn + round) % w.len()];
                let b = &benches[i];
                progress.show("", &b.id());
                samples[i].push(b.ns_per_message(iters(b)));
                progress.done += 1;
            }
        }
        if !progress.tty {
            eprintln!("actor12-bench: round {}/{} done", round + 1, options.rounds);
        }
    }
    progress.clear();
    let others_cpu =
        cpu_before.zip(CpuTimes::now()).map(|(before, after)| before.others_share(&after));

    let command = std::iter::once("actor12-bench".to_owned())
        .chain(std::env::args().skip(1))
        .collect::<Vec<_>>()
        .join(" ");
    let report = Report {
        machine,
        date: utc_now(),
        rounds: options.rounds,
        command,
        others_cpu,
        results: benches
            .iter()
            .zip(samples)
            .map(|(b, samples)| Measured { bench: *b, iters_per_run: iters(b), samples })
            .collect(),
    };

    let others = others_cpu.map_or(String::new(), |share| {
        format!("; other processes used {:.0}% of the CPU meanwhile", share * 100.0)
    });
    println!(
        "median ns per message over {} rounds; {}; {}{others}",
        report.rounds,
        report.machine.summary(),
        report.date
    );
    print!("{}", report.table());

    if options.write {
        if let Err(e) = std::fs::create_dir_all(&options.out) {
            eprintln!("actor12-bench: cannot create {}: {e}", options.out.display());
            return ExitCode::FAILURE;
        }
        for group in report.groups() {
            for (ext, text) in [("json", report.json(group)), ("md", report.markdown(group))] {
                let path = options.out.join(format!("{group}.{ext}"));
                if let Err(e) = std::fs::write(&path, text) {
                    eprintln!("actor12-bench: cannot write {}: {e}", path.display());
                    return ExitCode::FAILURE;
                }
                eprintln!("actor12-bench: wrote {}", path.display());
            }
        }
    }
    ExitCode::SUCCESS
}
