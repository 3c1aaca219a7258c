//! The written reports state the worker count the run used (`--workers`), everywhere they
//! state one.
//!
//! A process of its own: it sets the process-wide worker count.

use std::time::Duration;

use actor12_benches::peers::report::{PeerReport, Sampled};
use actor12_benches::peers::{Measurement, Params, Peer, Workload};
use actor12_benches::report::{Machine, Measured, Report};
use actor12_benches::{Bench, set_workers};

fn never(_: &Params) -> Measurement {
    unreachable!("only the report is built")
}

fn machine() -> Machine {
    Machine { nproc: 16, cpu: "cpu".into(), rustc: None, os: "linux-x86_64".into(), load: None }
}

#[test]
fn reports_of_a_run_with_four_workers_say_four_and_never_two() {
    set_workers(4);
    let sampled = |imp| Sampled {
        peer: Peer { workload: Workload::Ask, imp, run: never },
        ops: 50,
        ns: vec![100.0],
        bytes: vec![],
    };
    let peers = PeerReport {
        machine: machine(),
        date: "2026-01-01T00:00:00Z".into(),
        commit: "abc1234".into(),
        rounds: 1,
        command: "actor12-bench --workers 4".into(),
        others_cpu: None,
        params: Params::TINY,
        results: vec![sampled("actor12"), sampled("tokio"), sampled("actix")],
    };
    let md = peers.markdown();
    assert!(!md.contains("2 workers"), "{md}");
    assert!(md.contains("4 workers for every multi-threaded runtime"), "{md}");
    assert!(md.contains("each with 4 workers"), "{md}");
    let svg = peers.svg();
    assert!(svg.contains("4 workers for actor12, tokio, ractor, kameo;"), "{svg}");
    assert!(peers.json().contains("\"workers\": 4,"));

    let bench = Bench {
        group: "scheduler",
        workload: "spawn_many",
        imp: "actor12",
        messages_per_iter: 1,
        iters_per_run: 1,
        run: |_| Duration::ZERO,
    };
    let scheduler = Report {
        machine: machine(),
        date: "2026-01-01T00:00:00Z".into(),
        rounds: 1,
        command: "actor12-bench --workers 4".into(),
        others_cpu: None,
        results: vec![Measured { bench, iters_per_run: 1, samples: vec![1.0] }],
    };
    let md = scheduler.markdown("scheduler");
    assert!(md.contains("4 workers for every multi-threaded runtime"), "{md}");
    let json = scheduler.json("scheduler");
    assert!(json.contains("\"workers\": 4,"), "{json}");
}
