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
    pub(crate) use loom::sync::{Mutex as StdMutex, MutexGuard as StdMutexGuard};

    /// loom's condition variable, whose `wait_timeout` never times out (loom 0.7.2 waits for a
    /// notification, and reports no time-out), with a model of time passing: [`Condvar::expire`]
    /// ends every wait in progress as timed out. A model calls it from a thread of its own, so
    /// that loom places the expiry anywhere among the other threads' steps.
    #[derive(Debug, Default)]
    pub(crate) struct Condvar {
        inner: loom::sync::Condvar,
        /// Expiries so far. Read and written only with the condvar's mutex held, so a std
        /// atomic (invisible to loom) is enough; it is the model's clock, not shared state of
        /// the code under test.
        expiries: std::sync::atomic::AtomicUsize,
    }

    /// Whether a [`Condvar::wait_timeout`] ended by [`Condvar::expire`].
    #[derive(Debug)]
    pub(crate) struct WaitTimeoutResult(bool);

    impl WaitTimeoutResult {
        pub(crate) fn timed_out(&self) -> bool {
            self.0
        }
    }

    impl Condvar {
        pub(crate) fn new() -> Condvar {
            Condvar::default()
        }

        pub(crate) fn wait<'a, T>(
            &self,
            guard: StdMutexGuard<'a, T>,
        ) -> std::sync::LockResult<StdMutexGuard<'a, T>> {
            self.inner.wait(guard)
        }

        /// Waits for a notification or an expiry; timed out if an expiry came while it waited
        /// (a notification may have come too, as with std).
        pub(crate) fn wait_timeout<'a, T>(
            &self,
            guard: StdMutexGuard<'a, T>,
            _timeout: std::time::Duration,
        ) -> std::sync::LockResult<(StdMutexGuard<'a, T>, WaitTimeoutResult)> {
            let before = self.expiries.load(std::sync::atomic::Ordering::Relaxed);
            let after = |guard: StdMutexGuard<'a, T>| {
                let expired = self.expiries.load(std::sync::atomic::Ordering::Relaxed) != before;
                (guard, WaitTimeoutResult(expired))
            };
            match self.inner.wait(guard) {
                Ok(guard) => Ok(after(guard)),
                Err(e) => Err(std::sync::PoisonError::new(after(e.into_inner()))),
            }
        }

        pub(crate) fn notify_one(&self) {
            self.inner.notify_one();
        }

        pub(crate) fn notify_all(&self) {
            self.inner.notify_all();
        }

        /// Time passes: every `wait_timeout` waiting now returns timed out. `held` is the guard
        /// of the mutex the waiters wait with, so that no waiter is between its look at the
        /// clock and its wait.
        pub(crate) fn expire<T>(&self, held: &StdMutexGuard<'_, T>) {
            let _ = held;
            self.expiries.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            self.inner.notify_all();
        }
    }

    /// The thread stand-ins: loom's threads.
    pub(crate) mod thread {
        pub(crate) use loom::thread::{Builder, JoinHandle, current};
    }

    /// The fallback timer thread's stand-ins (`time/mod.rs`): a model clock that moves only when
    /// that thread waits, and a park token. A `park_timeout` takes the token if an unpark left
    /// one, or else lets its whole timeout pass; both under one lock, so that an unpark comes
    /// either before the wait or after its timeout, as with a real clock. The threads started
    /// are kept, so that a model can join them.
    pub(crate) mod timer_thread {
        use std::time::{Duration, Instant};

        struct Clock {
            token: bool,
            elapsed: Duration,
        }

        loom::lazy_static! {
            static ref CLOCK: loom::sync::Mutex<Clock> =
                loom::sync::Mutex::new(Clock { token: false, elapsed: Duration::ZERO });
            static ref STARTED: loom::sync::Mutex<Vec<loom::thread::JoinHandle<()>>> =
                loom::sync::Mutex::new(Vec::new());
        }

        /// The model clock's zero (any fixed instant).
        fn base() -> Instant {
            static BASE: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
            *BASE.get_or_init(Instant::now)
        }

        fn clock() -> loom::sync::MutexGuard<'static, Clock> {
            CLOCK.lock().unwrap_or_else(|e| e.into_inner())
        }

        /// Unparks the fallback thread. One token serves every such thread a model starts: a
        /// thread that takes a token left for one that has gone returns early, as a spurious
        /// wake-up of `park_timeout` may.
        #[derive(Debug, Clone)]
        pub(crate) struct Thread;

        impl Thread {
            pub(crate) fn unpark(&self) {
                clock().token = true;
            }
        }

        pub(crate) fn park_timeout(timeout: Duration) {
            let mut clock = clock();
            if !std::mem::take(&mut clock.token) {
                clock.elapsed += timeout;
            }
        }

        pub(crate) fn now() -> Instant {
            base() + clock().elapsed
        }

        /// The time the model clock has let pass.
        pub(crate) fn elapsed() -> Duration {
            clock().elapsed
        }

        pub(crate) fn spawn(f: fn()) -> std::io::Result<Thread> {
            let handle = loom::thread::spawn(f);
            STARTED.lock().unwrap_or_else(|e| e.into_inner()).push(handle);
            Ok(Thread)
        }

        /// Joins every thread started, those started meanwhile too.
        pub(crate) fn join_all() {
            loop {
                let next = STARTED.lock().unwrap_or_else(|e| e.into_inner()).pop();
                match next {
                    Some(handle) => handle.join().expect("the fallback thread panicked"),
                    None => return,
                }
            }
        }
    }

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
    pub(crate) use std::sync::{Condvar, Mutex as StdMutex, MutexGuard as StdMutexGuard};

    /// The thread stand-ins: std's threads.
    pub(crate) mod thread {
        pub(crate) use std::thread::{JoinHandle, current};
    }

    /// What the fallback timer thread (`time/mod.rs`) uses of threads and time.
    pub(crate) mod timer_thread {
        pub(crate) use std::thread::{Thread, park_timeout};

        pub(crate) fn now() -> std::time::Instant {
            std::time::Instant::now()
        }

        pub(crate) fn spawn(f: fn()) -> std::io::Result<Thread> {
            std::thread::Builder::new()
                .name("actor12-timer".into())
                .spawn(f)
                .map(|handle| handle.thread().clone())
        }
    }

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
