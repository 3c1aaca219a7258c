//! Criterion benches of actor12's mailbox against crossbeam-channel, tokio's and std's mpsc.
//!
//! Ids are `mailbox/WORKLOAD/IMPL`; the workloads are defined in `benches/README.md`. Run with
//! `cargo bench -p actor12-benches --bench mailbox`. For one table of all of them with ratios,
//! use the `actor12-bench` binary instead.

use std::time::Duration;

use criterion::{
    BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};

fn channels(c: &mut Criterion) {
    let mut group = c.benchmark_group("mailbox");
    // Small samples keep `cargo bench` to a minute or two on a 2-core machine.
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(3));
    for bench in actor12_benches::mailbox::benches() {
        group.throughput(Throughput::Elements(bench.messages_per_iter));
        // An iteration that moves a million messages is long: time each the same number of
        // times rather than ramping the count up linearly.
        group.sampling_mode(if bench.messages_per_iter > 1 {
            SamplingMode::Flat
        } else {
            SamplingMode::Auto
        });
        group.bench_function(BenchmarkId::new(bench.workload, bench.imp), |b| {
            b.iter_custom(bench.run)
        });
    }
    group.finish();
}

criterion_group!(mailbox, channels);
criterion_main!(mailbox);
