//! loom models of actor12's atomic protocols, and the helpers they share.
//!
//! The models live in `tests/` and compile only under `--cfg actor12_loom`, which also switches
//! the crates under test to loom's atomics:
//!
//! ```text
//! RUSTFLAGS="--cfg actor12_loom" LOOM_MAX_PREEMPTIONS=2 cargo test -p actor12-loom-tests --release
//! ```
//!
//! CI runs them at three preemptions, but for four models that outgrow loom there (three exceed
//! its limit of branch points in one execution, one runs for more than five minutes), which it
//! runs at two: `.ci/run` lists them.

#[cfg(actor12_loom)]
pub use support::{Tracked, Unpark, block_on, park_on};

#[cfg(actor12_loom)]
mod support {
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::Arc as StdArc;
    use std::task::{Context, Poll, Wake, Waker};

    use loom::sync::Arc;
    use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};

    struct Flag(AtomicBool);

    impl Wake for Flag {
        fn wake(self: StdArc<Self>) {
            self.0.store(true, SeqCst);
        }
    }

    /// Polls `fut` to completion inside a loom model: after each `Pending` it waits (yielding to
    /// the model) until the future's waker is woken. A lost wake-up leaves it waiting forever,
    /// which loom reports as "exceeded maximum number of branches".
    ///
    /// The flag is cleared with a store before each poll and waited on with loads: a
    /// `while !flag.swap(false)` loop makes loom report that error even on correct code.
    pub fn block_on<F: Future + Unpin>(mut fut: F) -> F::Output {
        let flag = StdArc::new(Flag(AtomicBool::new(false)));
        let waker = Waker::from(flag.clone());
        loop {
            flag.0.store(false, SeqCst);
            if let Poll::Ready(out) = Pin::new(&mut fut).poll(&mut Context::from_waker(&waker)) {
                return out;
            }
            while !flag.0.load(SeqCst) {
                loom::thread::yield_now();
            }
        }
    }

    /// A waker that unparks a loom thread. A thread that waits on it is blocked, not spinning as
    /// in [`block_on`], so a model where three threads wait stays within loom's branch limit at
    /// two preemptions, and a lost wake-up shows as loom's "deadlock".
    #[derive(Debug)]
    pub struct Unpark {
        woken: AtomicBool,
        thread: loom::thread::Thread,
    }

    impl Wake for Unpark {
        fn wake(self: StdArc<Self>) {
            self.woken.store(true, SeqCst);
            self.thread.unpark();
        }
    }

    impl Unpark {
        /// A waker for the calling thread, not yet woken.
        pub fn current() -> StdArc<Self> {
            StdArc::new(Unpark { woken: AtomicBool::new(false), thread: loom::thread::current() })
        }

        /// Blocks until woken. Waited on with loads, and cleared by [`clear`](Self::clear)
        /// before whatever may wake it is started: with a `swap(false)` here, loom 0.7.2 read
        /// `false` after the waker's store of `true` and a model deadlocked on correct code (an
        /// RMW racing a store can read a value it may not: tokio-rs/loom#254, open).
        pub fn wait(&self) {
            while !self.woken.load(SeqCst) {
                loom::thread::park();
            }
        }

        /// Forgets an earlier wake-up.
        pub fn clear(&self) {
            self.woken.store(false, SeqCst);
        }
    }

    /// Polls `fut` to completion, blocked between polls until its waker is woken: as
    /// [`block_on`], but parking instead of spinning (see [`Unpark`]).
    pub fn park_on<F: Future + Unpin>(mut fut: F) -> F::Output {
        let unpark = Unpark::current();
        let waker = Waker::from(unpark.clone());
        loop {
            unpark.clear();
            if let Poll::Ready(out) = Pin::new(&mut fut).poll(&mut Context::from_waker(&waker)) {
                return out;
            }
            unpark.wait();
        }
    }

    /// A value that counts its drops, to check "dropped exactly once".
    #[derive(Debug)]
    pub struct Tracked(pub u32, pub Arc<AtomicUsize>);

    impl Drop for Tracked {
        fn drop(&mut self) {
            self.1.fetch_add(1, SeqCst);
        }
    }
}
