//! loom model of the tasks' references to their runtime (`scheduler/src/refs.rs`): the tasks'
//! share of the runtime's `Arc` is released exactly once, and only after every use of the
//! runtime through a task's reference.
#![cfg(actor12_loom)]

use actor12_scheduler::loom_api::TaskRefs;
use loom::cell::UnsafeCell;
use loom::sync::Arc;
use loom::thread;

/// Stands for the runtime's `Shared`: its task count, and a flag the release of the tasks'
/// share sets. Reading the flag is a "use"; loom reports a use not ordered before the release
/// as a data race.
struct Shared {
    refs: TaskRefs,
    released: UnsafeCell<bool>,
}

/// A pointer to `Shared` held through a counted reference (a task's `RuntimeRef`).
#[derive(Clone, Copy)]
struct Ptr(*const Shared);

// SAFETY: in this model the pointer stands for a counted reference, as `RuntimeRef` is `Send`.
unsafe impl Send for Ptr {}

impl Ptr {
    fn get(&self) -> &Shared {
        // SAFETY: the caller holds a counted reference (rule 4 keeps `Shared` alive).
        unsafe { &*self.0 }
    }

    /// A task uses the runtime (a wake queues it there).
    fn use_it(&self) {
        // SAFETY: a read; loom checks it against the release's write.
        self.get().released.with(|r| assert!(!unsafe { *r }, "used after the release"));
    }

    /// Rule 4: whoever gave the last reference back releases the share, once.
    fn release(&self) {
        self.get().released.with_mut(|r| {
            // SAFETY: loom checks this access against every use.
            assert!(!unsafe { *r }, "the share was released twice");
            // SAFETY: as above.
            unsafe { *r = true };
        });
        // SAFETY: the share was taken with `increment_strong_count` below; released once.
        unsafe { Arc::decrement_strong_count(self.0) };
    }
}

/// The owner drops the runtime while a worker spawns two tasks: one freed on another thread
/// (rule 3), one freed on the worker after its bank may have run dry (rules 2 and 4), then the
/// worker leaves and gives its bank back.
#[test]
fn the_share_is_released_once_after_every_use() {
    loom::model(|| {
        let shared =
            Arc::new(Shared { refs: TaskRefs::default(), released: UnsafeCell::new(false) });
        // The tasks' share, taken when the runtime is built.
        // SAFETY: `shared` is live; `Ptr::release` gives the count back.
        unsafe { Arc::increment_strong_count(Arc::as_ptr(&shared)) };
        let ptr = Ptr(Arc::as_ptr(&shared));
        let worker = {
            let own = shared.clone();
            thread::spawn(move || {
                let mut bank = 0;
                // A spawn takes a reference from the bank, refilling it if it is empty; false
                // if the count is gone (the task would clone the `Arc` instead, not modelled).
                let spawn = |bank: &mut usize| {
                    if *bank == 0 {
                        if !own.refs.take(TaskRefs::BATCH) {
                            return false;
                        }
                        *bank = TaskRefs::BATCH;
                    }
                    *bank -= 1;
                    true
                };
                // Task 1, freed on another thread.
                let elsewhere = spawn(&mut bank).then(|| {
                    thread::spawn(move || {
                        ptr.use_it();
                        if ptr.get().refs.put(1) {
                            ptr.release();
                        }
                    })
                });
                // Task 2, freed on its worker: its reference goes back to the bank.
                if spawn(&mut bank) {
                    ptr.use_it();
                    bank += 1;
                }
                // Leaving the loop: the bank goes back.
                if bank > 0 && own.refs.put(bank) {
                    ptr.release();
                }
                if let Some(t) = elsewhere {
                    t.join().unwrap();
                }
            })
        };
        drop(shared);
        // The owner drops the runtime.
        if ptr.get().refs.close() {
            ptr.release();
        }
        worker.join().unwrap();
    });
}
