//! Live heap bytes over the whole process, for the tests that measure what a long-running
//! pattern keeps: install [`LiveBytes`] with `#[global_allocator]` in the test binary.
#![allow(dead_code, unreachable_pub)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Mutex;
use std::sync::atomic::{AtomicIsize, Ordering::SeqCst};
use std::time::{Duration, Instant};

/// A global allocator that forwards to the system's and counts the bytes live in [`LIVE`].
pub struct LiveBytes;

/// Bytes allocated and not freed, over the whole process.
pub static LIVE: AtomicIsize = AtomicIsize::new(0);

/// The tests measure the whole process: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

// SAFETY: forwards to the system allocator; only counts.
unsafe impl GlobalAlloc for LiveBytes {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, SeqCst);
        // SAFETY: the caller's contract is passed on unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, SeqCst);
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size as isize - layout.size() as isize, SeqCst);
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Holds the other measuring tests of this binary off.
pub fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// Live bytes above `base`, once they have come down to `bound` or the hang guard (10 s)
/// passed: what a worker frees just after it wakes its waiter comes a moment late.
pub fn settled_above(base: isize, bound: isize) -> isize {
    let deadline = Instant::now() + Duration::from_secs(10);
    while LIVE.load(SeqCst) - base > bound && Instant::now() < deadline {
        std::thread::yield_now();
    }
    LIVE.load(SeqCst) - base
}

/// Runs `round` once to warm up and twice measured; returns the live bytes above the warm-up's
/// after one and after two measured rounds (after `n` and `2n` iterations past the warm-up).
pub fn growth(what: &str, n: usize, slack: isize, mut round: impl FnMut(usize)) -> (isize, isize) {
    round(n);
    let base = settled_above(0, isize::MAX);
    let base = {
        // Let what the warm-up frees late come down first.
        let _ = settled_above(base, 0);
        LIVE.load(SeqCst)
    };
    round(n);
    let first = settled_above(base, slack);
    round(n);
    let second = settled_above(base, slack);
    eprintln!("{what}: {first} bytes live after {n} more iterations, {second} after {}", 2 * n);
    (first, second)
}
