//! Criterion micro-benches of actor12's two message calls, in both styles. Ids are
//! `actors/WORKLOAD/IMPL`, with `IMPL` `actor12` (handler style: `tell_dyn`, `ask_dyn`) or
//! `actor12-envelope` (`send_raw` of a plain message, `send` of an `Envelope`).
//!
//! They reuse the `peers` workloads (`benches/src/peers/actor12_*.rs`), each on a fresh 2-worker
//! runtime per sample:
//!
//! * `tell`: one sender task tells one actor `iters` values, and the actor reports when it has
//!   them all (the `fan_in` workload with one sender); one iteration is one message.
//! * `ask`: a client task asks one actor `iters` times, one request at a time (the `ask`
//!   workload); one iteration is one round trip.
//!
//! Run with `cargo bench -p actor12-benches --bench actors`.

use std::time::Duration;

use actor12_benches::peers::{Measurement, Params, actor12_envelope, actor12_handler};
use criterion::{
    BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};

/// One cell of the group: runs `iters` operations and returns the time they took.
type Run = fn(u64) -> Duration;

/// `tell` over a peers workload: `fan_in` with one sender.
fn tell(fan_in: fn(&Params) -> Measurement, iters: u64) -> Duration {
    fan_in(&Params { fan_in_senders: 1, fan_in_messages: iters, ..Params::TINY }).elapsed
}

/// `ask` over a peers workload.
fn ask(ask: fn(&Params) -> Measurement, iters: u64) -> Duration {
    ask(&Params { asks: iters, ..Params::TINY }).elapsed
}

fn actors(c: &mut Criterion) {
    let mut group = c.benchmark_group("actors");
    // Small samples keep `cargo bench` short on a 2-core machine; a runtime starts per sample.
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(3));
    group.sampling_mode(SamplingMode::Flat);
    group.throughput(Throughput::Elements(1));
    let benches: [(&str, &str, Run); 4] = [
        ("tell", actor12_handler::IMPL, |n| tell(actor12_handler::fan_in, n)),
        ("tell", actor12_envelope::IMPL, |n| tell(actor12_envelope::fan_in, n)),
        ("ask", actor12_handler::IMPL, |n| ask(actor12_handler::ask, n)),
        ("ask", actor12_envelope::IMPL, |n| ask(actor12_envelope::ask, n)),
    ];
    for (workload, imp, run) in benches {
        group.bench_function(BenchmarkId::new(workload, imp), |b| b.iter_custom(run));
    }
    group.finish();
}

criterion_group!(benches, actors);
criterion_main!(benches);
