//! The one door to atomics, cells, locks and thread hints: std normally, loom under
//! `--cfg actor12_loom`.
//!
//! Every other module imports its synchronisation primitives from here, so that the loom models
//! in `loom-tests/` see every shared access of this crate. `UnsafeCell` is used only through
//! `with`/`with_mut`. Capacities that loom must explore exhaustively are shrunk here too.

#[cfg(actor12_loom)]
mod imp {
    pub(crate) use loom::cell::UnsafeCell;
    pub(crate) use loom::hint::spin_loop;
    pub(crate) use loom::sync::Arc;
    pub(crate) use loom::sync::atomic::{
        AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering, fence,
    };
    pub(crate) use loom::sync::{Condvar, Mutex as StdMutex};

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
}

#[cfg(not(actor12_loom))]
mod imp {
    pub(crate) use parking_lot::Mutex;
    pub(crate) use std::hint::spin_loop;
    pub(crate) use std::sync::Arc;
    pub(crate) use std::sync::atomic::{
        AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering, fence,
    };
    pub(crate) use std::sync::{Condvar, Mutex as StdMutex};

    /// `std::cell::UnsafeCell` with loom's closure API.
    #[derive(Debug)]
    #[repr(transparent)]
    pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

    impl<T> UnsafeCell<T> {
        pub(crate) const fn new(value: T) -> Self {
            UnsafeCell(std::cell::UnsafeCell::new(value))
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

/// Slots in a worker's local run queue. Four under loom, so that a model with a handful of tasks
/// wraps around and overflows.
#[cfg(not(actor12_loom))]
pub(crate) const LOCAL_QUEUE_CAPACITY: usize = 1024;
#[cfg(actor12_loom)]
pub(crate) const LOCAL_QUEUE_CAPACITY: usize = 4;

/// Tasks one `pop` claims from the ring's head with its CAS (the owner keeps the rest aside for
/// the next pops). Two under loom, so that models claim both one and several.
#[cfg(not(actor12_loom))]
pub(crate) const POP_BATCH: usize = 8;
#[cfg(actor12_loom)]
pub(crate) const POP_BATCH: usize = 2;
