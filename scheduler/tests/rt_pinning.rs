//! Pinning workers to cores (`Builder::pin_to_cores`): what `worker_cores` reports, and the
//! affinity of the runtime's other threads.

use actor12_scheduler::{Runtime, spawn_blocking};

/// The cores this thread may run on (its affinity mask), as the OS reports them.
fn allowed_cores() -> Vec<usize> {
    core_affinity::get_core_ids().unwrap_or_default().into_iter().map(|c| c.id).collect()
}

/// True if this machine lets a thread pin itself to one core (a container may refuse).
fn pinning_works() -> bool {
    let Some(&core) = allowed_cores().first() else { return false };
    std::thread::spawn(move || core_affinity::set_for_current(core_affinity::CoreId { id: core }))
        .join()
        .unwrap()
}

/// `worker_cores` right after `build` reports the core each worker got. The workers used to pin
/// themselves after `build` returned, so the call raced them and usually reported `None` (read
/// as "the OS refused") for workers that were about to be pinned.
#[test]
fn worker_cores_reports_the_pinning_as_soon_as_build_returns() {
    if !pinning_works() {
        eprintln!("skipped: this machine refuses pinning");
        return;
    }
    let cores = allowed_cores();
    for _ in 0..20 {
        let rt = Runtime::builder().worker_threads(2).pin_to_cores(true).build().unwrap();
        let expected: Vec<_> = (0..2).map(|i| Some(cores[i % cores.len()])).collect();
        assert_eq!(rt.worker_cores(), expected);
    }
}

/// A blocking closure started from a pinned worker is not confined to that worker's core: a
/// thread starts with the affinity of the thread that starts it, and the pool starts its threads
/// on demand, mostly from workers. They used to inherit the worker's single core, so CPU-heavy
/// `spawn_blocking` work all ran on the cores of the workers that started the threads, competing
/// with them, while the docs promise it keeps the workers free.
#[test]
fn blocking_threads_of_a_pinned_runtime_keep_the_runtimes_cores() {
    let cores = allowed_cores();
    if cores.len() < 2 || !pinning_works() {
        eprintln!("skipped: needs two cores and pinning");
        return;
    }
    let rt = Runtime::builder().worker_threads(2).pin_to_cores(true).build().unwrap();
    for w in 0..2 {
        let seen = rt
            .block_on(rt.handle().spawn_pinned(w, async { spawn_blocking(allowed_cores).await }))
            .unwrap()
            .unwrap();
        assert_eq!(seen, cores, "a blocking thread started from worker {w}");
    }
}

/// The same for an unpinned runtime whose blocking thread is started by a pinned user thread (an
/// I/O thread of a latency-sensitive server): the thread kept that one core, and every closure
/// run on it later, whoever spawned it, ran confined there (review of 2026-12-06).
#[test]
fn blocking_threads_do_not_keep_the_core_of_a_pinned_spawner() {
    let cores = allowed_cores();
    if cores.len() < 2 || !pinning_works() {
        eprintln!("skipped: needs two cores and pinning");
        return;
    }
    let rt = Runtime::builder().worker_threads(1).build().unwrap();
    let handle = rt.handle();
    let first = core_affinity::CoreId { id: cores[0] };
    let seen_by_pinned_spawner = std::thread::spawn(move || {
        assert!(core_affinity::set_for_current(first));
        handle.block_on(handle.spawn_blocking(allowed_cores)).unwrap()
    })
    .join()
    .unwrap();
    // The same thread, idle in the pool, runs the next closure.
    let seen_later = rt.block_on(rt.handle().spawn_blocking(allowed_cores)).unwrap();
    assert_eq!((seen_by_pinned_spawner, seen_later), (cores.clone(), cores));
}
