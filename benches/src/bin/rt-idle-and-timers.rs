//! Two runtime measurements that are not ns-per-message: the CPU an idle runtime burns, and how
//! late 1 ms sleeps wake, idle and under load (short polls, and polls of a millisecond, which a
//! worker's timer checks must not wait out). Compares actor12's runtime with tokio's (2 workers
//! each).
//!
//! Run: `cargo run --release -p actor12-benches --bin rt-idle-and-timers`

use std::time::{Duration, Instant};

use actor12_benches::process_cpu;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn report(name: &str, mut lateness: Vec<Duration>) {
    lateness.sort();
    println!(
        "| {name} | {:.2} | {:.2} | {:.2} |",
        percentile(&lateness, 0.5).as_secs_f64() * 1e3,
        percentile(&lateness, 0.99).as_secs_f64() * 1e3,
        lateness.last().unwrap().as_secs_f64() * 1e3
    );
}

const SLEEPS: usize = 500;
/// Sleeps under the load of long polls (each takes milliseconds where a worker waits too long).
const LONG_POLL_SLEEPS: usize = 100;
/// How long a poll of the long-poll load computes before it yields.
const LONG_POLL: Duration = Duration::from_millis(1);

/// Sleeps 1 ms `n` times; returns how late each wake-up was.
async fn sleeps_actor12(n: usize) -> Vec<Duration> {
    let mut late = Vec::with_capacity(n);
    for _ in 0..n {
        let start = Instant::now();
        actor12_scheduler::time::sleep(Duration::from_millis(1)).await;
        late.push(start.elapsed().saturating_sub(Duration::from_millis(1)));
    }
    late
}

async fn sleeps_tokio(n: usize) -> Vec<Duration> {
    let mut late = Vec::with_capacity(n);
    for _ in 0..n {
        let start = Instant::now();
        tokio::time::sleep(Duration::from_millis(1)).await;
        late.push(start.elapsed().saturating_sub(Duration::from_millis(1)));
    }
    late
}

/// A task that keeps its worker busy, yielding now and then, until `stop`.
async fn busy_actor12(stop: Instant) {
    while Instant::now() < stop {
        std::hint::black_box((0..10_000u64).sum::<u64>());
        actor12_scheduler::yield_now().await;
    }
}

async fn busy_tokio(stop: Instant) {
    while Instant::now() < stop {
        std::hint::black_box((0..10_000u64).sum::<u64>());
        tokio::task::yield_now().await;
    }
}

/// Computes for [`LONG_POLL`] and yields, until `stop`.
async fn long_polls_actor12(stop: Instant) {
    while Instant::now() < stop {
        compute(LONG_POLL);
        actor12_scheduler::yield_now().await;
    }
}

async fn long_polls_tokio(stop: Instant) {
    while Instant::now() < stop {
        compute(LONG_POLL);
        tokio::task::yield_now().await;
    }
}

fn compute(d: Duration) {
    let start = Instant::now();
    while start.elapsed() < d {
        std::hint::spin_loop();
    }
}

fn main() {
    let idle = Duration::from_secs(5);

    let rt = actor12_scheduler::Runtime::builder().worker_threads(2).build().unwrap();
    rt.block_on(async {}); // workers started
    let before = process_cpu();
    std::thread::sleep(idle);
    let actor12_idle = process_cpu() - before;
    let idle_late = rt.block_on(rt.spawn(sleeps_actor12(SLEEPS))).unwrap();
    let stop = Instant::now() + Duration::from_secs(10);
    let load: Vec<_> = (0..4).map(|_| rt.spawn(busy_actor12(stop))).collect();
    let loaded_late = rt.block_on(rt.spawn(sleeps_actor12(SLEEPS))).unwrap();
    for task in load {
        task.abort();
    }
    let stop = Instant::now() + Duration::from_secs(30);
    let load: Vec<_> = (0..8).map(|_| rt.spawn(long_polls_actor12(stop))).collect();
    let long_polls_late = rt.block_on(rt.spawn(sleeps_actor12(LONG_POLL_SLEEPS))).unwrap();
    for task in load {
        task.abort();
    }
    drop(rt);

    let tk = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .unwrap();
    tk.block_on(async {});
    let before = process_cpu();
    std::thread::sleep(idle);
    let tokio_idle = process_cpu() - before;
    let tokio_idle_late = tk.block_on(tk.spawn(sleeps_tokio(SLEEPS))).unwrap();
    let stop = Instant::now() + Duration::from_secs(10);
    let load: Vec<_> = (0..4).map(|_| tk.spawn(busy_tokio(stop))).collect();
    let tokio_loaded_late = tk.block_on(tk.spawn(sleeps_tokio(SLEEPS))).unwrap();
    for task in load {
        task.abort();
    }
    let stop = Instant::now() + Duration::from_secs(30);
    let load: Vec<_> = (0..8).map(|_| tk.spawn(long_polls_tokio(stop))).collect();
    let tokio_long_polls_late = tk.block_on(tk.spawn(sleeps_tokio(LONG_POLL_SLEEPS))).unwrap();
    for task in load {
        task.abort();
    }
    drop(tk);

    println!(
        "idle runtime, 2 workers, {} s: actor12 used {:?} of CPU, tokio {:?}",
        idle.as_secs(),
        actor12_idle,
        tokio_idle
    );
    println!("(CPU time is read from /proc in 10 ms ticks: 0 means under 0.2% of a core)\n");
    println!(
        "lateness of sequential 1 ms sleeps ({SLEEPS}, or {LONG_POLL_SLEEPS} beside the tasks of \
         {LONG_POLL:?} polls), ms\n"
    );
    println!("| runtime | p50 | p99 | max |");
    println!("|---|---:|---:|---:|");
    report("actor12, idle", idle_late);
    report("actor12, 4 busy tasks", loaded_late);
    report("actor12, 8 tasks of 1 ms polls", long_polls_late);
    report("tokio, idle", tokio_idle_late);
    report("tokio, 4 busy tasks", tokio_loaded_late);
    report("tokio, 8 tasks of 1 ms polls", tokio_long_polls_late);
}
