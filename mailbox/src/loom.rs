//! The one door to atomics, cells and locks: std normally, loom under `--cfg actor12_loom`.
//!
//! Every other module imports its synchronisation primitives from here, so that the loom models in
//! `loom-tests/` see every shared access of this crate. `UnsafeCell` is used only through
//! `with`/`with_mut`, which loom needs to track raw accesses and which cost nothing on std.

#[cfg(actor12_loom)]
mod imp {
    pub(crate) use loom::cell::UnsafeCell;
    pub(crate) use loom::hint::spin_loop;
    pub(crate) use loom::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize, Ordering, fence};

    /// A mutex without poisoning, so that std and loom call sites read the same.
    #[derive(Debug)]
    pub(crate) struct Mutex<T>(loom::sync::Mutex<T>);

    impl<T> Mutex<T> {
        pub(crate) fn new(value: T) -> Self {
            Mutex(loom::sync::Mutex::new(value))
        }

        pub(crate) fn lock(&self) -> loom::sync::MutexGuard<'_, T> {
            self.0.lock().unwrap_or_else(|e| e.into_inner())
        }
    }

    /// The value of an atomic nobody else can see, through `&mut`: a plain access.
    pub(crate) fn with_mut_usize<R>(
        atomic: &mut AtomicUsize,
        f: impl FnOnce(&mut usize) -> R,
    ) -> R {
        atomic.with_mut(f)
    }
}

#[cfg(not(actor12_loom))]
mod imp {
    pub(crate) use parking_lot::Mutex;
    pub(crate) use std::hint::spin_loop;
    pub(crate) use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize, Ordering, fence};

    /// The value of an atomic nobody else can see, through `&mut`: a plain access.
    #[inline(always)]
    pub(crate) fn with_mut_usize<R>(
        atomic: &mut AtomicUsize,
        f: impl FnOnce(&mut usize) -> R,
    ) -> R {
        f(atomic.get_mut())
    }

    /// `std::cell::UnsafeCell` with loom's closure API.
    #[derive(Debug)]
    #[repr(transparent)]
    pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

    impl<T> UnsafeCell<T> {
        pub(crate) const fn new(value: T) -> Self {
            UnsafeCell(std::cell::UnsafeCell::new(value))
        }

        pub(crate) fn into_inner(self) -> T {
            self.0.into_inner()
        }

        #[inline(always)]
        pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
            f(self.0.get())
        }

        #[inline(always)]
        pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
            f(self.0.get())
        }
    }
}

pub(crate) use imp::*;

/// Message slots per block. Small under loom so that a model with a handful of messages crosses
/// block boundaries and exercises recycling.
#[cfg(not(actor12_loom))]
pub(crate) const BLOCK_CAP: usize = 31;
#[cfg(actor12_loom)]
pub(crate) const BLOCK_CAP: usize = 2;

/// Positions per block: the slots plus one that means "the next block is being linked". 32 keeps
/// the arithmetic on positions to shifts and masks.
pub(crate) const LAP: usize = BLOCK_CAP + 1;

/// Waits a little, for a producer that is between two steps of linking a block.
#[cfg(not(actor12_loom))]
pub(crate) fn snooze(backoff: &crossbeam_utils::Backoff) {
    backoff.snooze();
}

/// Under loom a wait must yield, or the model never lets the other thread finish.
#[cfg(actor12_loom)]
pub(crate) fn snooze(_: &crossbeam_utils::Backoff) {
    loom::thread::yield_now();
}
