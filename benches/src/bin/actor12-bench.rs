//! `actor12-bench`: runs every registered benchmark on every implementation in one process and
//! prints tables of medians and ratios: to actor12 in the mailbox and scheduler groups, to the
//! best peer in the peer comparison.
//!
//! `cargo run --release -p actor12-benches --bin actor12-bench -- --help` lists the options
//! ([`HELP`]).
//!
//! One untimed warm-up round comes first. Then each round runs every benchmark once; within a
//! workload the implementations take turns going first, so that a slow patch of a noisy machine
//! does not always fall on the same one. The thread that measures only spawns and joins the
//! workload's threads, so a workload gets exactly the busy threads it asks for.
//!
//! The `peers` group (`benches/src/peers/`) runs the same way: its cells take turns within a
//! workload, round by round. It has tables of its own (one per workload, ratios to the best
//! peer) and writes `peers.json`, `peers.md` and the chart `peers.svg`. `--quick` runs it at a
//! tenth of its sizes.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use std::time::Instant;

use actor12_benches::peers::report::{PeerReport, Sampled};
use actor12_benches::peers::{self, Params, Peer};
use actor12_benches::report::{CpuTimes, Machine, Measured, Report, count, git_commit, utc_now};
use actor12_benches::{Bench, all};

/// Counts live heap bytes for `spawn_stop`'s bytes per actor; counting is off outside that
/// measurement.
#[global_allocator]
static ALLOC: peers::alloc::Counting = peers::alloc::Counting;

const USAGE: &str = "usage: actor12-bench [--rounds N] [--quick] [--filter TEXT] [--out DIR] \
                     [--no-write] [--workers N] [--help]";

/// What `--help` prints after [`USAGE`].
const HELP: &str = "
  --rounds N     samples per benchmark, 1 to 1000 (default 7)
  --quick        one round (unless --rounds says otherwise) of shorter runs: a smoke test;
                 files are written only with an explicit --out
  --filter TEXT  only benchmarks whose `group/workload/impl` contains TEXT (ending TEXT
                 with `$` anchors it at the end: `peers/ask/actor12$` is handler style
                 alone); files are written only with an explicit --out
  --out DIR      where `<group>.json` and `<group>.md` (and `peers.svg`) go (default:
                 docs/benchmarks in the workspace); checked before the run starts
  --no-write     print the table only
  --workers N    worker threads of every multi-threaded runtime, 1 to 1024 (default 2, this
                 project's machines' cores)";

struct Options {
    rounds: usize,
    quick: bool,
    filter: Option<String>,
    out: PathBuf,
    write: bool,
    /// `--workers`, if given.
    workers: Option<usize>,
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut options = Options {
        rounds: 7,
        quick: false,
        filter: None,
        out: workspace_docs(),
        write: true,
        workers: None,
    };
    let mut rounds = None;
    let mut out = None;
    // Options with a value seen so far: a second one would silently replace the first.
    let mut given: Vec<&'static str> = Vec::new();
    while let Some(arg) = args.next() {
        let mut value = |name: &'static str| {
            if given.contains(&name) {
                return Err(format!("{name} given twice"));
            }
            given.push(name);
            args.next().ok_or(format!("{name} needs a value"))
        };
        match arg.as_str() {
            "--rounds" => {
                let n = value("--rounds")?;
                // The default 7 rounds of the full set took 38 s (2026-12-05): 1000, over an hour.
                let bad = || format!("bad --rounds {n} (1 to 1000)");
                rounds = Some(n.parse().ok().filter(|n| (1..=1000).contains(n)).ok_or_else(bad)?);
            }
            "--quick" => options.quick = true,
            "--filter" => {
                let text = value("--filter")?;
                // Empty (a script's unset variable), it would match everything, and a filtered
                // run writes nothing: the whole suite, for nothing.
                if text.strip_suffix('$').unwrap_or(&text).is_empty() {
                    return Err("--filter needs a non-empty TEXT".to_owned());
                }
                options.filter = Some(text);
            }
            "--out" => out = Some(PathBuf::from(value("--out")?)),
            "--no-write" => options.write = false,
            "--workers" => {
                let n = value("--workers")?;
                let bad = || format!("bad --workers {n} (1 to 1024)");
                options.workers =
                    Some(n.parse().ok().filter(|n| (1..=1024).contains(n)).ok_or_else(bad)?);
            }
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if options.quick {
        options.rounds = 1;
    }
    // A quick or filtered run would replace a group's committed results with short runs or a
    // part of them: it writes only where `--out` says.
    if (options.quick || options.filter.is_some()) && out.is_none() {
        options.write = false;
    }
    options.rounds = rounds.unwrap_or(options.rounds);
    options.out = out.unwrap_or(options.out);
    Ok(options)
}

/// Makes `dir` if needed and checks that a file can be written there.
fn writable(dir: &std::path::Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let probe = dir.join(".actor12-bench-probe");
    std::fs::write(&probe, b"")?;
    std::fs::remove_file(probe)
}

/// `docs/benchmarks` in the workspace this binary was built from.
fn workspace_docs() -> PathBuf {
    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).join("docs").join("benchmarks")
}

/// Ends the process if one run of a job takes longer than [`Watchdog::LIMIT`]: a lost message
/// or wake-up would otherwise hang the whole comparison. A thread of its own, so that no timed
/// window pays for it (a timeout around each `ask`, say, would be polled on every request).
struct Watchdog {
    running: std::sync::Arc<std::sync::Mutex<Option<(String, Instant)>>>,
}

impl Watchdog {
    /// Far above any run's length (the slowest, ractor's or kameo's `spawn_stop` at full size,
    /// takes well under a second), and above the workloads' own 60 s stall checks.
    const LIMIT: std::time::Duration = std::time::Duration::from_secs(180);

    fn start() -> Watchdog {
        let running = std::sync::Arc::new(std::sync::Mutex::new(None::<(String, Instant)>));
        let watched = running.clone();
        std::thread::spawn(move || {
            loop {
                std::thread::sleep(std::time::Duration::from_secs(1));
                let guard = watched.lock().unwrap_or_else(|e| e.into_inner());
                if let Some((id, since)) = &*guard
                    && since.elapsed() > Watchdog::LIMIT
                {
                    eprintln!(
                        "actor12-bench: {id} has not finished after {:?}: a lost message or \
                         wake-up; giving up",
                        Watchdog::LIMIT
                    );
                    std::process::exit(2);
                }
            }
        });
        Watchdog { running }
    }

    /// Runs `f` as one run of job `id`, watched.
    fn watch<R>(&self, id: String, f: impl FnOnce() -> R) -> R {
        *self.running.lock().unwrap_or_else(|e| e.into_inner()) = Some((id, Instant::now()));
        let result = f();
        *self.running.lock().unwrap_or_else(|e| e.into_inner()) = None;
        result
    }
}

/// Shows `[done/total m:ss] id ...` in place when stderr is a terminal; otherwise (a CI log, a
/// pipe) the binary prints one line per finished round instead.
struct Progress {
    tty: bool,
    done: usize,
    total: usize,
    started: Instant,
}

impl Progress {
    fn show(&self, phase: &str, id: &str) {
        if self.tty {
            let secs = self.started.elapsed().as_secs();
            eprint!(
                "\r\x1b[2K[{}/{} {}:{:02}] {phase}{id} ...",
                self.done + 1,
                self.total,
                secs / 60,
                secs % 60
            );
            let _ = std::io::stderr().flush();
        }
    }

    fn clear(&self) {
        if self.tty {
            eprint!("\r\x1b[2K");
        }
    }
}

/// One cell of a table: a [`Bench`] of the mailbox and scheduler groups, or a [`Peer`].
#[derive(Clone, Copy)]
enum Job {
    Bench(Bench),
    Peer(Peer),
}

/// One run's result: nanoseconds per message (or operation), and bytes per actor where
/// measured.
struct Sample {
    ns: f64,
    bytes: Option<peers::Bytes>,
}

impl Job {
    fn id(&self) -> String {
        match self {
            Job::Bench(b) => b.id(),
            Job::Peer(p) => p.id(),
        }
    }

    /// Cells of one row take turns going first.
    fn row(&self) -> String {
        match self {
            Job::Bench(b) => b.row(),
            Job::Peer(p) => p.row(),
        }
    }

    fn run(&self, options: &Options) -> Sample {
        match self {
            Job::Bench(b) => Sample { ns: b.ns_per_message(bench_iters(b, options)), bytes: None },
            Job::Peer(p) => {
                let m = (p.run)(&peer_params(options));
                Sample { ns: m.ns_per_op(), bytes: m.bytes_per_actor }
            }
        }
    }
}

/// Whether a job's id passes `--filter`: contains it, or ends with it if it ends in `$`.
fn matches(id: &str, filter: &str) -> bool {
    match filter.strip_suffix('$') {
        Some(end) => id.ends_with(end),
        None => id.contains(filter),
    }
}

fn bench_iters(b: &Bench, options: &Options) -> u64 {
    if options.quick { (b.iters_per_run / 10).max(1) } else { b.iters_per_run }
}

fn peer_params(options: &Options) -> Params {
    if options.quick { Params::QUICK } else { Params::FULL }
}

/// The arguments after the program's name, or an error naming the first that is not UTF-8
/// (`std::env::args` would panic on it).
fn utf8_args() -> Result<Vec<String>, String> {
    std::env::args_os()
        .skip(1)
        .map(|arg| arg.into_string().map_err(|bad| format!("argument {bad:?} is not valid UTF-8")))
        .collect()
}

fn main() -> ExitCode {
    let parsed = utf8_args().and_then(|args| Ok((parse(args.iter().cloned())?, args)));
    let (options, args) = match parsed {
        Ok(parsed) => parsed,
        Err(message) => {
            if !message.is_empty() {
                eprintln!("actor12-bench: {message}");
            }
            if message.is_empty() {
                println!("{USAGE}\n{HELP}");
                return ExitCode::SUCCESS;
            }
            eprintln!("{USAGE}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(n) = options.workers {
        actor12_benches::set_workers(n);
    }
    let jobs: Vec<Job> = all()
        .into_iter()
        .map(Job::Bench)
        .chain(peers::benches().into_iter().map(Job::Peer))
        .filter(|job| options.filter.as_ref().is_none_or(|f| matches(&job.id(), f)))
        .collect();
    if jobs.is_empty() {
        eprintln!("actor12-bench: no benchmark matches the filter");
        return ExitCode::FAILURE;
    }

    // Jobs of one row, by index, in registry order: the unit that takes turns.
    let mut rows: Vec<Vec<usize>> = Vec::new();
    for (i, job) in jobs.iter().enumerate() {
        match rows.iter_mut().find(|r| jobs[r[0]].row() == job.row()) {
            Some(r) => r.push(i),
            None => rows.push(vec![i]),
        }
    }

    // Before the run, not after its minutes: a directory the results cannot go to.
    if options.write
        && let Err(e) = writable(&options.out)
    {
        eprintln!("actor12-bench: cannot write to {}: {e}", options.out.display());
        return ExitCode::FAILURE;
    }

    let machine = Machine::detect();
    // Before the run writes its files, which may be tracked ones.
    let commit = git_commit();
    let mut progress = Progress {
        tty: std::io::stderr().is_terminal(),
        done: 0,
        total: jobs.len(),
        started: Instant::now(),
    };
    let watchdog = Watchdog::start();
    for job in &jobs {
        progress.show("warm-up ", &job.id());
        let _ = watchdog.watch(job.id(), || job.run(&options));
        progress.done += 1;
    }

    let cpu_before = CpuTimes::now();
    let mut samples: Vec<Vec<Sample>> = jobs.iter().map(|_| Vec::new()).collect();
    progress = Progress { done: 0, total: jobs.len() * options.rounds, ..progress };
    for round in 0..options.rounds {
        for r in &rows {
            for turn in turn_order(r.len(), round) {
                let i = r[turn];
                progress.show("", &jobs[i].id());
                samples[i].push(watchdog.watch(jobs[i].id(), || jobs[i].run(&options)));
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

    let command =
        std::iter::once("actor12-bench".to_owned()).chain(args).collect::<Vec<_>>().join(" ");
    let date = utc_now();
    let mut bench_results = Vec::new();
    let mut peer_results = Vec::new();
    for (job, samples) in jobs.iter().zip(samples) {
        match job {
            Job::Bench(b) => bench_results.push(Measured {
                bench: *b,
                iters_per_run: bench_iters(b, &options),
                samples: samples.iter().map(|s| s.ns).collect(),
            }),
            Job::Peer(p) => peer_results.push(Sampled {
                peer: *p,
                ops: peer_params(&options).ops(p.workload),
                ns: samples.iter().map(|s| s.ns).collect(),
                bytes: samples.iter().filter_map(|s| s.bytes).collect(),
            }),
        }
    }
    let others = others_cpu.map_or(String::new(), |share| {
        format!("; other processes used {:.0}% of the CPU meanwhile", share * 100.0)
    });

    // (file name, contents) to write, and what goes to stdout: printed once the files are
    // written, so that a reader that went away (`| head`) costs the run nothing but the
    // printing (a failed `println!` panicked, and the results were lost).
    use std::fmt::Write as _;
    let mut files: Vec<(String, String)> = Vec::new();
    let mut printed = String::new();
    if !bench_results.is_empty() {
        let report = Report {
            machine: machine.clone(),
            date: date.clone(),
            rounds: options.rounds,
            command: command.clone(),
            others_cpu,
            results: bench_results,
        };
        let _ = writeln!(
            printed,
            "median ns per {} over {}; {}; {}{others}",
            report.unit(),
            count(report.rounds, "round"),
            report.machine.summary(),
            report.date
        );
        printed.push_str(&report.table());
        for group in report.groups() {
            files.push((format!("{group}.json"), report.json(group)));
            files.push((format!("{group}.md"), report.markdown(group)));
        }
    }
    if !peer_results.is_empty() {
        let report = PeerReport {
            machine,
            date,
            commit,
            rounds: options.rounds,
            command,
            others_cpu,
            params: peer_params(&options),
            results: peer_results,
        };
        let _ = writeln!(
            printed,
            "\npeers: median ns per operation over {}; {}; {}{others}",
            count(report.rounds, "round"),
            report.machine.summary(),
            report.date
        );
        let _ = writeln!(printed, "{}; commit {}\n", peers::report::runtimes(), report.commit);
        printed.push_str(&report.summary());
        printed.push_str(&report.tables());
        files.push((format!("{}.json", peers::GROUP), report.json()));
        files.push((format!("{}.md", peers::GROUP), report.markdown()));
        files.push((format!("{}.svg", peers::GROUP), report.svg()));
    }

    let mut written = Vec::new();
    if options.write {
        if let Err(e) = std::fs::create_dir_all(&options.out) {
            eprintln!("actor12-bench: cannot create {}: {e}", options.out.display());
            return ExitCode::FAILURE;
        }
        for (name, text) in files {
            let path = options.out.join(name);
            if let Err(e) = std::fs::write(&path, text) {
                eprintln!("actor12-bench: cannot write {}: {e}", path.display());
                return ExitCode::FAILURE;
            }
            written.push(path);
        }
    }
    // A closed stdout (a broken pipe) ends the printing, and nothing else.
    let _ = std::io::stdout().lock().write_all(printed.as_bytes());
    for path in written {
        eprintln!("actor12-bench: wrote {}", path.display());
    }
    ExitCode::SUCCESS
}

/// The order of a row's `n` jobs in `round`: a different shuffle each round (a fixed one per
/// round number, so runs repeat), so that no implementation always runs right after the same
/// other one. A rotation kept the cycle, and whatever a run leaves behind (its heap, the
/// caches) weighed on the same successor in almost every round.
fn turn_order(n: usize, round: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    let mut x = 0x9E37_79B9_7F4A_7C15_u64 ^ (round as u64 + 1);
    for i in (1..n).rev() {
        // xorshift64
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        order.swap(i, (x % (i as u64 + 1)) as usize);
    }
    order
}

#[cfg(test)]
mod tests {
    use super::{matches, parse};

    fn parsed(args: &[&str]) -> super::Options {
        parse(args.iter().map(|a| a.to_string())).expect("valid arguments")
    }

    #[test]
    fn quick_and_filter_write_only_with_an_explicit_out() {
        assert!(parsed(&[]).write);
        assert!(!parsed(&["--quick"]).write);
        assert!(!parsed(&["--filter", "peers"]).write);
        let quick = parsed(&["--quick", "--out", "/tmp/quick"]);
        assert!(quick.write && quick.out == std::path::Path::new("/tmp/quick"));
        assert_eq!(quick.rounds, 1);
        assert!(parsed(&["--filter", "peers", "--out", "/tmp/f"]).write);
        assert!(!parsed(&["--quick", "--out", "/tmp/quick", "--no-write"]).write);
        assert_eq!(parsed(&["--quick", "--rounds", "3"]).rounds, 3);
    }

    #[test]
    fn an_option_with_a_value_given_twice_is_refused() {
        // `--filter a --filter b` ran `b` alone: the first was dropped without a word.
        for (name, first, second) in [
            ("--filter", "peers/ask", "peers/ring"),
            ("--rounds", "3", "5"),
            ("--out", "/tmp/a", "/tmp/b"),
            ("--workers", "1", "4"),
        ] {
            let args = [name, first, name, second].map(str::to_owned);
            match parse(args.into_iter()) {
                Err(message) => assert_eq!(message, format!("{name} given twice")),
                Ok(_) => panic!("{name} twice was accepted"),
            }
        }
        // Flags without a value may repeat: they say the same thing twice.
        assert!(parsed(&["--quick", "--quick", "--no-write", "--no-write"]).rounds == 1);
    }

    #[test]
    fn an_unwritable_out_is_refused_before_the_run() {
        let dir = std::env::temp_dir().join(format!("actor12-bench-out-{}", std::process::id()));
        assert!(super::writable(&dir).is_ok(), "made and writable");
        assert!(dir.is_dir());
        std::fs::remove_dir_all(&dir).unwrap();
        // A path under a file cannot be a directory.
        let file = std::env::temp_dir().join(format!("actor12-bench-file-{}", std::process::id()));
        std::fs::write(&file, b"").unwrap();
        assert!(super::writable(&file.join("out")).is_err());
        std::fs::remove_file(file).unwrap();
    }

    #[test]
    fn a_filter_matches_anywhere_unless_anchored_with_a_dollar() {
        assert!(matches("peers/ask/actor12-envelope", "ask/actor12"));
        assert!(matches("peers/ask/actor12", "peers/ask/actor12$"));
        assert!(!matches("peers/ask/actor12-envelope", "peers/ask/actor12$"));
        assert!(!matches("peers/ask/actor12", "fan_in"));
    }

    #[test]
    fn each_round_runs_every_job_once_and_no_job_always_follows_the_same_one() {
        // Seven implementations and seven rounds: the peer comparison's default.
        let (n, rounds) = (7, 7);
        let mut predecessors = vec![std::collections::HashSet::new(); n];
        for round in 0..rounds {
            let order = super::turn_order(n, round);
            let mut sorted = order.clone();
            sorted.sort();
            assert_eq!(sorted, (0..n).collect::<Vec<_>>(), "round {round}: {order:?}");
            for pair in order.windows(2) {
                predecessors[pair[1]].insert(pair[0]);
            }
        }
        for (job, before) in predecessors.iter().enumerate() {
            assert!(before.len() >= 2, "job {job} always ran after {before:?}");
        }
    }
}
