//! A global allocator that counts live heap bytes, for `spawn_stop`'s bytes per idle actor.
//!
//! The comparison binary installs it:
//!
//! ```
//! use actor12_benches::peers::alloc::{Counting, start_counting, stop_counting};
//!
//! #[global_allocator]
//! static ALLOC: Counting = Counting;
//!
//! fn main() {
//!     let before = start_counting().expect("installed");
//!     let kept = vec![0u8; 4096];
//!     let after = stop_counting();
//!     assert!(after - before >= 4096);
//!     drop(kept);
//! }
//! ```
//!
//! It counts only between [`start_counting`] and [`stop_counting`]; the rest of the time each
//! allocation costs one load of a flag that nobody writes (a cache line every core keeps), so
//! the timed runs, of this group and the others, are not slowed by a counter that every
//! thread's allocations would fight over.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};

/// The system allocator, counting live bytes while asked to.
#[derive(Debug, Clone, Copy, Default)]
pub struct Counting;

/// Keeps each flag and the counter on a cache line of its own.
#[repr(align(128))]
struct Padded<T>(T);

/// Whether allocations are counted now.
static COUNTING: Padded<AtomicBool> = Padded(AtomicBool::new(false));
/// Bytes allocated minus bytes freed while counting.
static LIVE: Padded<AtomicIsize> = Padded(AtomicIsize::new(0));
/// Set by the first allocation or free counted: this allocator is the one in use.
static INSTALLED: Padded<AtomicBool> = Padded(AtomicBool::new(false));

#[inline]
fn note(delta: isize) {
    if COUNTING.0.load(Ordering::Relaxed) {
        LIVE.0.fetch_add(delta, Ordering::Relaxed);
        if !INSTALLED.0.load(Ordering::Relaxed) {
            INSTALLED.0.store(true, Ordering::Relaxed);
        }
    }
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so it keeps
// `System`'s guarantees; the bookkeeping around it touches only atomics and never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc` is passed on unchanged.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            note(layout.size() as isize);
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc_zeroed` is passed on unchanged.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            note(layout.size() as isize);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract for `dealloc` is passed on unchanged.
        unsafe { System.dealloc(ptr, layout) };
        note(-(layout.size() as isize));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller's contract for `realloc` is passed on unchanged.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            note(new_size as isize - layout.size() as isize);
        }
        new
    }
}

/// Starts counting; the count now, or `None` where [`Counting`] is not the global allocator.
pub fn start_counting() -> Option<isize> {
    COUNTING.0.store(true, Ordering::SeqCst);
    // An allocation is counted only if this allocator is the one in use. (Whether the count
    // moved said so before, and said no when another thread freed as much meanwhile.)
    drop(std::hint::black_box(Box::new(0u64)));
    if !INSTALLED.0.load(Ordering::SeqCst) {
        COUNTING.0.store(false, Ordering::SeqCst);
        return None;
    }
    Some(LIVE.0.load(Ordering::SeqCst))
}

/// The count now, while counting; `None` where [`Counting`] is not the global allocator.
pub fn counted() -> Option<isize> {
    INSTALLED.0.load(Ordering::SeqCst).then(|| LIVE.0.load(Ordering::SeqCst))
}

/// Stops counting; the count now.
///
/// Allocations other threads make or free while counting count too: only one window should be
/// open at a time, around a part of the program that is the only thing running.
pub fn stop_counting() -> isize {
    let live = LIVE.0.load(Ordering::SeqCst);
    COUNTING.0.store(false, Ordering::SeqCst);
    live
}
