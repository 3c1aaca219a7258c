//! The reply slot: a one-shot channel carrying one answer from a handler to its asker.
//!
//! One allocation per ask (the shared slot) and one atomic word. The receiving side is a plain
//! [`Future`], so any executor can await a reply: actor12's runtime, tokio, or a blocked thread.
//!
//! # Protocol
//!
//! The state word holds four flags:
//!
//! * `RX_WAITING`: the waker cell holds the receiver's waker, and the sender may read it. While
//!   it is set the receiver does not write the cell; to replace the waker it first clears the
//!   flag with an RMW, and if that RMW shows the value (or the sender's drop) already arrived, it
//!   completes instead.
//! * `SENT`: the value cell holds the answer. The sender writes the cell *before* setting the
//!   flag (release) and never touches it after; the receiver reads it only after seeing the flag
//!   (acquire).
//! * `TX_DROPPED`: the sender went away without answering. The receiver resolves to
//!   [`RecvError`] at once: nothing waits forever on a dead actor.
//! * `RX_DROPPED`: the asker went away. A later send hands the value back; if the value was
//!   already sent, the receiver's drop drops it.
//!
//! Whichever side sets its flag second learns, from the RMW's return value, everything it must
//! clean up: the value is dropped exactly once, and the waker is woken at most once per
//! registration.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use crate::loom::{AtomicUsize, Ordering::*, UnsafeCell};

const RX_WAITING: usize = 1;
const SENT: usize = 1 << 1;
const TX_DROPPED: usize = 1 << 2;
const RX_DROPPED: usize = 1 << 3;

struct Slot<T> {
    state: AtomicUsize,
    value: UnsafeCell<Option<T>>,
    waker: UnsafeCell<Option<Waker>>,
}

// SAFETY: the slot moves one `T` from the sender's thread to the receiver's; the flags decide
// which side may touch each cell at any time (module documentation).
unsafe impl<T: Send> Send for Slot<T> {}
// SAFETY: as above; shared access to the cells is arbitrated by the state word.
unsafe impl<T: Send> Sync for Slot<T> {}

/// Creates a reply slot: the [`Sender`] goes with the request, the [`Receiver`] stays with the
/// asker.
///
/// # Examples
///
/// ```
/// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     let mut f = std::pin::pin!(f);
/// #     let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
/// #     loop { if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v } }
/// # }
/// let (tx, rx) = actor12::oneshot::channel();
/// std::thread::spawn(move || tx.send(42).unwrap());
/// assert_eq!(block_on(rx), Ok(42));
/// ```
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let slot = Arc::new(Slot {
        state: AtomicUsize::new(0),
        value: UnsafeCell::new(None),
        waker: UnsafeCell::new(None),
    });
    (Sender { slot: Some(slot.clone()) }, Receiver { slot, done: false })
}

/// The answering side of a reply slot. Dropping it without sending resolves the receiver to
/// [`RecvError`].
pub struct Sender<T> {
    slot: Option<Arc<Slot<T>>>,
}

/// The asking side of a reply slot: a future of the answer.
pub struct Receiver<T> {
    slot: Arc<Slot<T>>,
    done: bool,
}

/// The sender was dropped without answering: the actor died, or dropped the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecvError;

/// Why [`Receiver::try_recv`] returned no answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryRecvError {
    /// No answer yet.
    Empty,
    /// The sender was dropped without answering.
    Closed,
}

impl<T> Sender<T> {
    /// A sender with no receiver (for a message nobody awaits the answer to): `send` hands the
    /// value back, and it allocates nothing.
    #[cfg_attr(actor12_loom, allow(dead_code))] // used by the actor runtime, absent under loom
    pub(crate) fn detached() -> Sender<T> {
        Sender { slot: None }
    }

    /// Sends the answer; gives it back if the receiver is gone.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = actor12::oneshot::channel();
    /// drop(rx);
    /// assert_eq!(tx.send("late"), Err("late"));
    /// ```
    pub fn send(mut self, value: T) -> Result<(), T> {
        let Some(slot) = self.slot.take() else {
            // A detached sender: nobody asked.
            return Err(value);
        };
        // SAFETY: until SENT is set, only the sender touches the value cell, and it sends once.
        slot.value.with_mut(|p| unsafe { *p = Some(value) });
        // AcqRel: release publishes the value to the receiver's acquire; acquire orders our
        // reading of the waker cell after the receiver's write of it.
        let prev = slot.state.fetch_or(SENT, AcqRel);
        if prev & RX_DROPPED != 0 {
            // SAFETY: the receiver was gone before SENT, so it never looks at the value.
            let value = slot.value.with_mut(|p| unsafe { (*p).take() });
            return Err(value.expect("the value written above"));
        }
        if prev & RX_WAITING != 0 {
            // SAFETY: RX_WAITING was set, so the receiver does not write the waker cell until it
            // clears the flag with an RMW, which then sees SENT and leaves the cell alone.
            slot.waker.with(|p| unsafe { (*p).as_ref().map(Waker::wake_by_ref) });
        }
        Ok(())
    }

    /// True once the receiver is gone: answering is pointless.
    pub fn is_closed(&self) -> bool {
        self.slot.as_ref().is_none_or(|slot| slot.state.load(Acquire) & RX_DROPPED != 0)
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let Some(slot) = self.slot.take() else { return };
        // AcqRel: as in `send`.
        let prev = slot.state.fetch_or(TX_DROPPED, AcqRel);
        if prev & RX_WAITING != 0 && prev & RX_DROPPED == 0 {
            // SAFETY: as in `send`.
            slot.waker.with(|p| unsafe { (*p).as_ref().map(Waker::wake_by_ref) });
        }
    }
}

impl<T> Receiver<T> {
    /// Takes the answer if it has arrived; never waits.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor12::oneshot::{TryRecvError, channel};
    ///
    /// let (tx, mut rx) = channel();
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// tx.send(1).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        assert!(!self.done, "the reply was already taken");
        // Acquire: pairs with the release in `send` / the sender's drop.
        let state = self.slot.state.load(Acquire);
        let result = self.slot.complete(&mut self.done, state).ok_or(TryRecvError::Empty)?;
        result.map_err(|RecvError| TryRecvError::Closed)
    }

    /// True once the answer arrived or the sender is gone: awaiting resolves at once.
    pub fn is_terminated(&self) -> bool {
        self.done || self.slot.state.load(Acquire) & (SENT | TX_DROPPED) != 0
    }
}

impl<T> Slot<T> {
    /// The receiver's outcome if `state` says the value or the sender's drop arrived; sets
    /// `done` when it does.
    fn complete(&self, done: &mut bool, state: usize) -> Option<Result<T, RecvError>> {
        if state & SENT != 0 {
            *done = true;
            // SAFETY: SENT was seen with acquire; the sender no longer touches the cell, and the
            // receiver takes it once (`done`).
            let value = self.value.with_mut(|p| unsafe { (*p).take() });
            Some(Ok(value.expect("SENT means the value is in the slot")))
        } else if state & TX_DROPPED != 0 {
            *done = true;
            Some(Err(RecvError))
        } else {
            None
        }
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        assert!(!this.done, "`Receiver` polled after it completed");
        let (slot, done) = (&*this.slot, &mut this.done);
        // Acquire: pairs with the release in `send` / the sender's drop.
        let mut state = slot.state.load(Acquire);
        if let Some(result) = slot.complete(done, state) {
            return Poll::Ready(result);
        }
        if state & RX_WAITING != 0 {
            // SAFETY: a shared read; the sender only ever reads the cell too.
            let same = slot
                .waker
                .with(|p| unsafe { (*p).as_ref() }.is_some_and(|w| w.will_wake(cx.waker())));
            if same {
                return Poll::Pending;
            }
            // Take the cell back before writing it. AcqRel: acquire sees a value sent meanwhile.
            state = slot.state.fetch_and(!RX_WAITING, AcqRel);
            if let Some(result) = slot.complete(done, state) {
                return Poll::Ready(result);
            }
        }
        // SAFETY: RX_WAITING is clear, so the sender does not read the cell.
        slot.waker.with_mut(|p| unsafe { *p = Some(cx.waker().clone()) });
        // AcqRel: release publishes the waker to the sender's acquire; acquire sees a value sent
        // before this.
        state = slot.state.fetch_or(RX_WAITING, AcqRel);
        match slot.complete(done, state) {
            Some(result) => Poll::Ready(result),
            None => Poll::Pending,
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        // AcqRel: acquire sees a value sent before, so we may drop it; release tells a later
        // `send` to keep its value.
        let prev = self.slot.state.fetch_or(RX_DROPPED, AcqRel);
        if prev & SENT != 0 && !self.done {
            // SAFETY: SENT seen: the sender is done with the cell; we never took the value.
            drop(self.slot.value.with_mut(|p| unsafe { (*p).take() }));
        }
    }
}

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the reply was dropped before it was sent")
    }
}

impl std::error::Error for RecvError {}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("no reply yet"),
            TryRecvError::Closed => f.write_str("the reply was dropped before it was sent"),
        }
    }
}

impl std::error::Error for TryRecvError {}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender").field("closed", &self.is_closed()).finish()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver").field("terminated", &self.is_terminated()).finish()
    }
}
