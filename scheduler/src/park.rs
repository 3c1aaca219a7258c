//! Parking one thread: a token that `unpark` sets and `park` consumes.
//!
//! The state word makes a wake cheap when the target is awake: `unpark` is one atomic swap, and
//! only when the target is really asleep (`PARKED`) does it take the lock and signal the condvar
//! (the syscall). `park` returns at once if a token is there, so an `unpark` that comes before the
//! `park` is never lost.

use std::time::Duration;

use crate::loom::{AtomicUsize, Condvar, Ordering::*, StdMutex};

const EMPTY: usize = 0;
const PARKED: usize = 1;
const NOTIFIED: usize = 2;

pub(crate) struct Parker {
    state: AtomicUsize,
    lock: StdMutex<()>,
    cvar: Condvar,
}

impl std::fmt::Debug for Parker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Parker").field("state", &self.state.load(Relaxed)).finish()
    }
}

impl Parker {
    pub(crate) fn new() -> Parker {
        Parker { state: AtomicUsize::new(EMPTY), lock: StdMutex::new(()), cvar: Condvar::new() }
    }

    /// Blocks until a token is there (consuming it) or `timeout` passes. May return spuriously;
    /// callers re-check their condition.
    pub(crate) fn park(&self, timeout: Option<Duration>) {
        // Acquire: pairs with the release of `unpark`'s swap, so whatever the unparker did
        // before is visible now.
        if self.state.compare_exchange(NOTIFIED, EMPTY, Acquire, Relaxed).is_ok() {
            return;
        }
        if timeout == Some(Duration::ZERO) {
            return;
        }
        let mut guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        // AcqRel on success: release orders our earlier checks before the unparker's swap that
        // reads PARKED. Acquire on failure: the token's release, as above.
        match self.state.compare_exchange(EMPTY, PARKED, AcqRel, Acquire) {
            Ok(_) => {}
            Err(NOTIFIED) => {
                // Acquire: as above.
                self.state.swap(EMPTY, Acquire);
                return;
            }
            Err(actual) => unreachable!("parker in state {actual}"),
        }
        loop {
            guard = match timeout {
                None => self.cvar.wait(guard).unwrap_or_else(|e| e.into_inner()),
                Some(d) => {
                    let (g, _) =
                        self.cvar.wait_timeout(guard, d).unwrap_or_else(|e| e.into_inner());
                    // Timed out or woken: either way leave PARKED. Acquire: as above.
                    self.state.swap(EMPTY, Acquire);
                    drop(g);
                    return;
                }
            };
            // Acquire: as above.
            if self.state.compare_exchange(NOTIFIED, EMPTY, Acquire, Relaxed).is_ok() {
                return;
            }
            // Spurious wake-up: wait again.
        }
    }

    /// True while the thread sleeps in `park` (tests).
    #[cfg(all(test, not(actor12_loom)))]
    pub(crate) fn is_parked(&self) -> bool {
        self.state.load(Acquire) == PARKED
    }

    /// Sets the token; wakes the thread if it is parked.
    pub(crate) fn unpark(&self) {
        // Release: pairs with the acquire in `park`. Acquire: to read PARKED with the parker's
        // release.
        match self.state.swap(NOTIFIED, AcqRel) {
            EMPTY | NOTIFIED => {}
            PARKED => {
                // Taking the lock orders our swap after the parker's transition to PARKED and its
                // entry into `wait`, so the notify cannot fall in between.
                drop(self.lock.lock().unwrap_or_else(|e| e.into_inner()));
                self.cvar.notify_one();
            }
            actual => unreachable!("parker in state {actual}"),
        }
    }
}
