//! Criterion benches of actor12's runtime against tokio's multi-threaded runtime (2 workers
//! each). Ids are `scheduler/WORKLOAD/IMPL`; the workloads are described in
//! `benches/src/scheduler.rs`. Run with `cargo bench -p actor12-benches --bench scheduler`.

use std::time::Duration;

use criterion::{
    BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};

fn scheduler(c: &mut Criterion) {
    let mut group = c.benchmark_group("scheduler");
    // Small samples keep `cargo bench` short on a 2-core machine; each iteration is long.
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(3));
    group.sampling_mode(SamplingMode::Flat);
    for bench in actor12_benches::scheduler::benches() {
        group.throughput(Throughput::Elements(bench.messages_per_iter));
        group.bench_function(BenchmarkId::new(bench.workload, bench.imp), |b| {
            b.iter_custom(bench.run)
        });
    }
    group.finish();
}

criterion_group!(benches, scheduler);
criterion_main!(benches);
