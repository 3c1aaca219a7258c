//! loom models of actor12's atomic protocols, and the helpers they share.
//!
//! The models live in `tests/` and compile only under `--cfg actor12_loom`, which also switches
//! the crates under test to loom's atomics:
//!
//! ```text
//! RUSTFLAGS="--cfg actor12_loom" LOOM_MAX_PREEMPTIONS=2 cargo test -p actor12-loom-tests --release
//! ```

#[cfg(actor12_loom)]
pub use support::{Tracked, block_on};

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

    /// A value that counts its drops, to check "dropped exactly once".
    #[derive(Debug)]
    pub struct Tracked(pub u32, pub Arc<AtomicUsize>);

    impl Drop for Tracked {
        fn drop(&mut self) {
            self.1.fetch_add(1, SeqCst);
        }
    }
}
