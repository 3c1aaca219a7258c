//! The reply slot: a one-shot channel carrying one answer from a handler to its asker.
//!
//! One block per ask (the slot, reused by the thread that freed it: see `spare`) and, in the
//! common case, one atomic read-modify-write per side: the slot has no reference count, because
//! each side's last step is a single RMW on the state word and whichever side comes second
//! frees the slot. The receiving side is a plain [`Future`], so any executor can await a reply:
//! actor12's runtime, tokio, or a blocked thread.
//!
//! # Protocol
//!
//! The state word holds six flags and a registration count:
//!
//! * `RX_WAITING`: the receiver's waker cell holds the receiver's waker. The receiver writes
//!   the cell only while the flag is clear, then sets it with an RMW that also adds one to the
//!   count; to replace its waker it first clears the flag with an RMW.
//! * `TX_WAITING`: the same for the sender's waker cell and the sender's waker, registered by
//!   [`Sender::closed`] to hear the receiver go.
//! * `SENT`: the value cell holds the answer, and the sender is finished with the slot. The
//!   sender writes the cell *before* setting the flag (release); the receiver reads it only
//!   after seeing the flag (acquire).
//! * `CLOSED`: the sender went away without answering, and is finished with the slot. The
//!   receiver resolves to [`RecvError`] at once: nothing waits forever on a dead actor.
//! * `RX_DROPPED`: the receiver went away; the sender, now the only user, frees the slot. A
//!   receiver with a waker registered takes it back first (as to replace it), so that a
//!   sender that lives on unfinished does not keep the asker's task alive.
//! * `RX_CLOSED`: the receiver said no answer may come ([`Receiver::close`]) and stays to
//!   take one sent before. A sender that sees it finishes with `CLOSED` and hands its value
//!   back; the receiver, seeing it unanswered, leaves as if dropped.
//!
//! Each side finishes with one compare-and-swap that may hand the *other* side's waker over.
//! When the word it read shows the other side's waiting flag, it copies that waker out of its
//! cell *before* the swap; the swap succeeds only if the word is unchanged, count included, so
//! the other side neither replaced nor took back that waker in between, and the finishing side
//! then owns the copy and wakes it after the swap without touching the slot again. The sender's
//! swap sets `SENT` or `CLOSED` and takes the receiver's waker; the receiver's sets
//! `RX_DROPPED` (or `RX_CLOSED`), clears `TX_WAITING` and takes the sender's. So a receiver
//! that sees `SENT` or `CLOSED` while its waker is registered knows the sender took that waker,
//! and a sender that sees `RX_DROPPED` or `RX_CLOSED` knows the receiver took its waker, if it
//! had one registered. Whichever
//! side finishes second frees the slot and drops what is left in it: the value is dropped
//! exactly once, and a registered waker is woken or dropped exactly once.

#[cfg(not(actor12_loom))]
use std::alloc::Layout;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};

use crate::loom::{AtomicPtr, AtomicUsize, Ordering::*, UnsafeCell};

const RX_WAITING: usize = 1;
const SENT: usize = 1 << 1;
const CLOSED: usize = 1 << 2;
const RX_DROPPED: usize = 1 << 3;
const TX_WAITING: usize = 1 << 4;
const RX_CLOSED: usize = 1 << 5;
/// One registration of a waker, by either side: the count makes a re-registered word differ
/// from the old one. It wraps at the word's top, harmlessly.
const REGISTERED_ONE: usize = 1 << 6;
/// The sender is finished with the slot.
const SENDER_DONE: usize = SENT | CLOSED;
/// No answer will be taken: the sender's `is_closed`.
const RX_GONE: usize = RX_DROPPED | RX_CLOSED;

struct Slot<T> {
    state: AtomicUsize,
    /// The receiver's registered waker.
    rx_waker: WakerCell,
    /// The sender's registered waker (for [`Sender::closed`]).
    tx_waker: WakerCell,
    value: UnsafeCell<Option<T>>,
    /// The address of the actor whose mailbox holds the request, while it is there: set by an
    /// ask ([`Receiver::answered_by`]), cleared when that actor takes the request out for its
    /// code ([`Sender::delivered`]); 0 otherwise. The receiver polled, unanswered, by that
    /// actor's run could never see the answer come.
    answerer: AtomicUsize,
    /// Under loom a freed slot is kept, marked, so that a model catches any later use.
    #[cfg(actor12_loom)]
    freed: crate::loom::AtomicBool,
}

/// The two words of a registered waker.
type WakerParts = (*mut (), *mut RawWakerVTable);

/// A registered waker's two words (`Waker::data`, `Waker::vtable`), written by its side while
/// that side's waiting flag is clear. Atomic because the other side reads them before its swap
/// decides whether the read was valid.
struct WakerCell {
    data: AtomicPtr<()>,
    vtable: AtomicPtr<RawWakerVTable>,
}

impl WakerCell {
    fn empty() -> WakerCell {
        WakerCell {
            data: AtomicPtr::new(std::ptr::null_mut()),
            vtable: AtomicPtr::new(std::ptr::null_mut()),
        }
    }
}

impl<T> Slot<T> {
    /// The slot behind `slot`.
    ///
    /// # Safety
    /// The slot is not freed yet, and is not freed while the reference is used.
    unsafe fn live<'a>(slot: NonNull<Slot<T>>) -> &'a Slot<T> {
        // SAFETY: function contract.
        let s = unsafe { slot.as_ref() };
        s.assert_live();
        s
    }

    /// The words of the waker in `cell` (one of this slot's), read as they are now.
    fn parts(&self, cell: &WakerCell) -> WakerParts {
        let parts = (cell.data.load(Relaxed), cell.vtable.load(Relaxed));
        self.assert_live(); // after the loads: loom may run the other side at each of them
        parts
    }

    /// The waker registered in `cell`, owned by the caller from now on.
    ///
    /// # Safety
    /// The cell holds a waker nobody else owns: the caller cleared its side's waiting flag
    /// itself, or is the side the protocol gives that waker to.
    unsafe fn take(&self, cell: &WakerCell) -> Waker {
        // SAFETY: the caller owns the registered waker (function contract).
        unsafe { waker_from(self.parts(cell)) }
    }

    /// Registers a clone of `waker` in `cell`, the caller's side's cell, whose waiting `flag`
    /// is clear: writes the cell, then sets the flag with an RMW that also adds one to the
    /// count (so the word differs from any it was before). Returns the word before the RMW;
    /// if it shows a bit of `gone`, the other side finished or left before it could see the
    /// waker, which is then returned, the caller's again.
    #[inline]
    fn register(
        &self,
        cell: &WakerCell,
        flag: usize,
        gone: usize,
        waker: &Waker,
    ) -> (usize, Option<Waker>) {
        let waker = std::mem::ManuallyDrop::new(waker.clone());
        let (data, vtable) = parts_of(&waker);
        cell.data.store(data, Relaxed);
        cell.vtable.store(vtable, Relaxed);
        // The flag is clear, so adding sets it. Release: the waker's words to the other side's
        // acquire; acquire: a side that finished or left first.
        let state = self.state.fetch_add(flag + REGISTERED_ONE, AcqRel);
        (state, (state & gone != 0).then(|| std::mem::ManuallyDrop::into_inner(waker)))
    }

    /// Frees the slot and whatever value it still holds.
    ///
    /// # Safety
    /// Both sides are finished with the slot, and `slot` came from [`channel`].
    unsafe fn free(slot: NonNull<Slot<T>>) {
        #[cfg(actor12_loom)]
        {
            // SAFETY: as below; under loom the memory is kept and marked instead.
            let s = unsafe { slot.as_ref() };
            assert!(!s.freed.swap(true, SeqCst), "slot freed twice");
            // SAFETY: both sides are finished: nobody else touches the cell any more.
            drop(s.value.with_mut(|p| unsafe { (*p).take() }));
        }
        #[cfg(not(actor12_loom))]
        {
            // The value is taken out first and dropped after the block is back: its drop is
            // user code, which may panic. The other fields own nothing.
            // SAFETY: both sides are finished (contract): nobody else touches the slot.
            let value = unsafe { slot.as_ref() }.value.with_mut(|p| unsafe { std::ptr::read(p) });
            // SAFETY: the block came from `spare::alloc` with this layout (`channel`), and is
            // not used again.
            unsafe { spare::dealloc(slot.cast(), Layout::new::<Slot<T>>()) };
            drop(value);
        }
    }

    #[inline(always)]
    fn assert_live(&self) {
        #[cfg(actor12_loom)]
        assert!(!self.freed.load(SeqCst), "slot used after free");
    }
}

/// A waker's two words, as the cell stores them.
fn parts_of(waker: &Waker) -> WakerParts {
    (waker.data().cast_mut(), std::ptr::from_ref(waker.vtable()).cast_mut())
}

/// Rebuilds a waker from the two words the receiver stored.
///
/// # Safety
/// `parts` are the words of a `Waker` the receiver forgot after storing them, and the caller
/// owns that waker.
unsafe fn waker_from((data, vtable): WakerParts) -> Waker {
    // SAFETY: the words came from a live `Waker` whose ownership passes to the caller; its
    // vtable is `'static`.
    unsafe { Waker::from_raw(RawWaker::new(data, &*vtable)) }
}

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
    // A block this thread freed before, if it kept one (see `spare`); under loom, never freed.
    #[cfg(not(actor12_loom))]
    let slot = spare::alloc(Layout::new::<Slot<T>>()).cast::<Slot<T>>();
    #[cfg(actor12_loom)]
    let slot = NonNull::from(Box::leak(Box::<Slot<T>>::new_uninit())).cast::<Slot<T>>();
    let p = slot.as_ptr();
    // Each field is written straight into the block. `Box::new(Slot { .. })` built the slot on
    // the stack and copied it over in 16-byte halves that straddled the stack writes, which
    // stalled their store forwarding (4% of envelope ask).
    // SAFETY: `p` points to a block with `Slot<T>`'s size and alignment, which nothing else
    // uses; every field is written once before the slot is used.
    unsafe {
        (&raw mut (*p).state).write(AtomicUsize::new(0));
        (&raw mut (*p).rx_waker).write(WakerCell::empty());
        (&raw mut (*p).tx_waker).write(WakerCell::empty());
        (&raw mut (*p).value).write(UnsafeCell::new(None));
        (&raw mut (*p).answerer).write(AtomicUsize::new(0));
        #[cfg(actor12_loom)]
        (&raw mut (*p).freed).write(crate::loom::AtomicBool::new(false));
    }
    (
        Sender { slot: Some(slot), owns: PhantomData },
        Receiver { slot: Some(slot), registered: false, owns: PhantomData },
    )
}

/// The answering side of a reply slot. Dropping it without sending resolves the receiver to
/// [`RecvError`].
///
/// At once, but for one case: a sender dropped by a panic unwinding inside an actor's run
/// resolves its receiver when that run ends, so that an asker who hears of the panic finds the
/// actor stopped, its mailbox closed. That holds also when the actor's own code catches the
/// panic (`catch_unwind` in a handler): its receivers then resolve at the end of the run. So a
/// handler must not block its thread waiting for such a receiver (a `blocking_recv` elsewhere
/// that it waits for, say): the run would never end.
///
/// # Examples
///
/// A handler gets one from [`Call::take_reply`](crate::Call::take_reply) or an
/// [`Envelope`](crate::Envelope); it can tell whether anybody still waits:
///
/// ```
/// let (tx, rx) = actor12::oneshot::channel::<u32>();
/// assert!(!tx.is_closed());
/// drop(rx); // the asker gave up (a timeout, say)
/// assert!(tx.is_closed());
/// assert_eq!(tx.send(7), Err(7)); // the answer comes back
/// ```
pub struct Sender<T> {
    /// `None` for a detached sender, and once finished.
    slot: Option<NonNull<Slot<T>>>,
    /// Either side may drop the slot's `T` (for the drop check).
    owns: PhantomData<T>,
}

/// The asking side of a reply slot: a future of the answer.
///
/// Awaited outside actor12's workers (in a tokio task, `block_on`, `blocking_recv`), its first
/// wait looks for the answer for up to 20 µs before it lets its task or thread sleep, since an
/// answer from an awake worker comes much sooner than a cross-thread wake-up; a thread whose
/// answers come slower than that spins in at most one wait of 64. On a worker it never spins.
///
/// # Examples
///
/// A plain future, awaitable from any executor; from a thread outside one, `blocking_recv`:
///
/// ```
/// use actor12::oneshot::{RecvError, channel};
///
/// let (tx, rx) = channel();
/// actor12::rt::Runtime::new().unwrap().block_on(async move {
///     actor12::rt::spawn(async move { tx.send("from a task").unwrap() });
///     assert_eq!(rx.await, Ok("from a task"));
/// });
///
/// let (tx, rx) = channel::<()>();
/// std::thread::spawn(move || drop(tx)); // no answer
/// assert_eq!(rx.blocking_recv(), Err(RecvError));
/// ```
pub struct Receiver<T> {
    /// `None` once the answer (or the error) was taken: the slot is freed then.
    slot: Option<NonNull<Slot<T>>>,
    /// Our waker is in the cell and `RX_WAITING` is set.
    registered: bool,
    /// As in `Sender`.
    owns: PhantomData<T>,
}

// SAFETY: each side moves to another thread with nothing but its pointer; the slot carries one
// `T` from the sender's thread to the receiver's, and the state word decides which side may
// touch each cell at any time (module documentation).
unsafe impl<T: Send> Send for Sender<T> {}
// SAFETY: `&Sender` reads only the state word.
unsafe impl<T: Send> Sync for Sender<T> {}
// SAFETY: as for `Sender`.
unsafe impl<T: Send> Send for Receiver<T> {}
// SAFETY: `&Receiver` reads only the state word.
unsafe impl<T: Send> Sync for Receiver<T> {}
// The `T` is behind a pointer, never pinned in place.
impl<T> Unpin for Sender<T> {}
impl<T> Unpin for Receiver<T> {}

// Both sides can go anywhere a `T: Send` can, and any `T` leaves them `Unpin`.
const _: () = {
    const fn sendable<S: Send + Sync + Unpin>() {}
    const fn unpin<S: Unpin>() {}
    sendable::<Sender<String>>();
    sendable::<Receiver<String>>();
    unpin::<Receiver<std::marker::PhantomPinned>>();
};

/// The sender was dropped without answering: the actor died, or dropped the request.
///
/// # Examples
///
/// ```
/// let (tx, rx) = actor12::oneshot::channel::<u32>();
/// drop(tx);
/// let err = rx.blocking_recv().unwrap_err();
/// assert_eq!(err, actor12::oneshot::RecvError);
/// assert!(!err.to_string().is_empty()); // an `std::error::Error`
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecvError;

/// Why [`Receiver::try_recv`] returned no answer.
///
/// # Examples
///
/// ```
/// use actor12::oneshot::{TryRecvError, channel};
///
/// let (tx, mut rx) = channel::<u32>();
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty)); // not yet: ask again later
/// drop(tx);
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed)); // never
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryRecvError {
    /// No answer yet.
    Empty,
    /// No answer will come: the sender was dropped without answering (or the answer was
    /// already taken).
    Closed,
}

impl<T> Sender<T> {
    /// A sender with no receiver (for a message nobody awaits the answer to): `send` hands the
    /// value back, and it allocates nothing.
    #[cfg_attr(actor12_loom, allow(dead_code))] // used by the actor runtime, absent under loom
    pub(crate) fn detached() -> Sender<T> {
        Sender { slot: None, owns: PhantomData }
    }

    /// Sends the answer; gives it back if the receiver is gone (or [closed](Receiver::close)
    /// it).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = actor12::oneshot::channel();
    /// drop(rx);
    /// assert_eq!(tx.send("late"), Err("late"));
    /// ```
    pub fn send(mut self, value: T) -> Result<(), T> {
        match self.slot.take() {
            // SAFETY: the slot is ours until we finish, which `finish` does.
            Some(slot) => unsafe { finish(slot, Some(value)) },
            // A detached sender: nobody asked.
            None => Err(value),
        }
    }

    /// [`send`](Self::send) with its finishing code inlined: for a caller that is a call
    /// apart already (the poll of a handler-style message's future, through its vtable), where
    /// the inlined code grows nothing that is inlined elsewhere.
    #[cfg_attr(actor12_loom, allow(dead_code))] // used by the actor runtime, absent under loom
    #[inline(always)]
    pub(crate) fn send_inline(mut self, value: T) -> Result<(), T> {
        match self.slot.take() {
            // SAFETY: as in `send`.
            Some(slot) => unsafe { finish_inline(slot, Some(value)) },
            None => Err(value),
        }
    }

    /// The request this sender answers has left the mailbox [`Receiver::answered_by`] named,
    /// for the answering actor's code: the answer may come now, from wherever the sender goes.
    #[cfg_attr(actor12_loom, allow(dead_code))] // used by the actor runtime, absent under loom
    #[inline]
    pub(crate) fn delivered(&self) {
        if let Some(slot) = self.slot {
            // SAFETY: the receiver never frees the slot while we hold it unfinished.
            let s = unsafe { Slot::live(slot) };
            // Relaxed: read only by the answering actor's later runs (ordered after this one by
            // the hand-over of its run token) or, at the same address, by a later actor's (its
            // allocation comes after this actor's teardown).
            s.answerer.store(0, Relaxed);
        }
    }

    /// True once the receiver is gone (or [closed](Receiver::close) the slot): answering is
    /// pointless, and [`send`](Self::send) hands the answer back.
    pub fn is_closed(&self) -> bool {
        // SAFETY: the receiver never frees the slot while we hold it unfinished.
        self.slot.is_none_or(|slot| unsafe { Slot::live(slot) }.state.load(Acquire) & RX_GONE != 0)
    }

    /// Waits until the receiver is gone ([`is_closed`](Self::is_closed)): the asker timed out,
    /// dropped its reply, or closed it. A handler doing long work for an answer can race that
    /// work with this and stop once nobody waits for the answer. A sender with no receiver (a
    /// tell's) resolves at once.
    ///
    /// # Examples
    ///
    /// ```
    /// actor12::rt::Runtime::new().unwrap().block_on(async {
    ///     let (mut tx, rx) = actor12::oneshot::channel::<u64>();
    ///     let worker = actor12::rt::spawn(async move {
    ///         // In a handler: `tokio::select!` (or any select) over the work and this.
    ///         tx.closed().await;
    ///         tx.is_closed()
    ///     });
    ///     drop(rx); // the asker stops waiting
    ///     assert!(worker.await.unwrap());
    /// });
    /// ```
    pub async fn closed(&mut self) {
        std::future::poll_fn(|cx| self.poll_closed(cx)).await
    }

    /// Polls for the receiver to be gone (see [`closed`](Self::closed)): `Ready` once it is,
    /// else `Pending`, and the waker of `cx` is woken when it goes. Only the waker of the last
    /// call is kept.
    pub fn poll_closed(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let Some(slot) = self.slot else { return Poll::Ready(()) };
        // SAFETY: the receiver never frees the slot while we hold it unfinished.
        let s = unsafe { Slot::live(slot) };
        // Acquire: as in `is_closed`.
        let mut state = s.state.load(Acquire);
        if state & RX_GONE != 0 {
            return Poll::Ready(());
        }
        if state & TX_WAITING != 0 {
            if s.parts(&s.tx_waker) == parts_of(cx.waker()) {
                return Poll::Pending;
            }
            // Take the cell back before writing it, as the receiver does. Acquire: a receiver
            // that left meanwhile (and then took the waker).
            state = s.state.fetch_and(!TX_WAITING, AcqRel);
            if state & RX_GONE != 0 {
                return Poll::Ready(());
            }
            // SAFETY: the flag was ours and is now clear: the old waker is ours again.
            drop(unsafe { s.take(&s.tx_waker) });
        }
        if let (_, Some(waker)) = s.register(&s.tx_waker, TX_WAITING, RX_GONE, cx.waker()) {
            // The receiver left (or closed) before it could see this waker. Clear the flag
            // again: `finish` takes `RX_GONE` to mean the receiver holds no waker of ours. A
            // receiver that closed may meanwhile have left, its swap taking (and waking) the
            // waker: then the flag is clear already and the waker is not ours to drop.
            // AcqRel, as the receiver's take-back in `poll`, though nothing here needs it (the
            // loom models pass with it weakened either way): `register`'s add already read
            // `RX_GONE` with an acquire, and a receiver that then sees the flag clear does not
            // touch the waker's words.
            if s.state.fetch_and(!TX_WAITING, AcqRel) & TX_WAITING != 0 {
                drop(waker);
            } else {
                std::mem::forget(waker);
            }
            return Poll::Ready(());
        }
        Poll::Pending
    }
}

/// The sender's one way out: with `Some(value)` it answers, with `None` it closes. Hands the
/// value back if the receiver is gone.
///
/// Out of line: inlined into `send`, it made every future that answers an ask (a handler's, an
/// actor's `handle` that sends on a slot it keeps) too large to be inlined into the actor's
/// cycle, a call and its register saves per message even where the answer is rare.
/// actor12's own answer path, already out of line, inlines it ([`Sender::send_inline`]).
///
/// # Safety
/// `slot` is an unfinished sender's slot; the sender does not use it again.
#[inline(never)]
unsafe fn finish<T>(slot: NonNull<Slot<T>>, value: Option<T>) -> Result<(), T> {
    // SAFETY: the function's contract.
    unsafe { finish_inline(slot, value) }
}

/// [`finish`], inlined.
///
/// # Safety
/// As for [`finish`].
#[inline(always)]
unsafe fn finish_inline<T>(slot: NonNull<Slot<T>>, mut value: Option<T>) -> Result<(), T> {
    // SAFETY: the receiver does not free the slot before we set a SENDER_DONE flag.
    let s = unsafe { Slot::live(slot) };
    let mut flag = if value.is_some() { SENT } else { CLOSED };
    // Acquire: a registered waker's words, and the receiver's drop, happen before what we read.
    let mut state = s.state.load(Acquire);
    let mut in_cell = false;
    loop {
        if state & RX_DROPPED != 0 {
            // The receiver is gone for good: we are the slot's last user. It took its waker
            // back before it left (`Receiver::drop`), and ours with it if we had one.
            debug_assert_eq!(state & (RX_WAITING | TX_WAITING), 0, "a waker left registered");
            if in_cell {
                // SAFETY: the receiver never read the cell (SENT was never set).
                value = s.value.with_mut(|p| unsafe { (*p).take() });
            }
            // SAFETY: the receiver finished (RX_DROPPED), and so do we.
            unsafe { Slot::free(slot) };
            return value.map_or(Ok(()), Err);
        }
        if state & RX_CLOSED != 0 && flag == SENT {
            // The receiver closed the slot: no answer may go in. Finish as a close, and hand
            // the value back.
            flag = CLOSED;
            if in_cell {
                // SAFETY: until SENT is set only the sender touches the value cell.
                value = s.value.with_mut(|p| unsafe { (*p).take() });
                in_cell = false;
            }
        }
        if flag == SENT && !in_cell {
            // SAFETY: until SENT is set only the sender touches the value cell.
            s.value.with_mut(|p| unsafe { *p = value.take() });
            in_cell = true;
        }
        // Copy the receiver's waker out before the swap; the swap validates the copy (module
        // docs). Our own, if `closed` registered one, is ours to drop: only we write its cell.
        let waker = (state & RX_WAITING != 0).then(|| s.parts(&s.rx_waker));
        let own = (state & TX_WAITING != 0).then(|| s.parts(&s.tx_waker));
        // Release: the value (and everything before) to the receiver's acquire. Acquire on
        // failure: as for the load above.
        match s.state.compare_exchange_weak(state, state | flag, AcqRel, Acquire) {
            Ok(_) => {
                // Both wakers are ours now, rebuilt before either runs foreign code: a panic in
                // the asker's wake still drops our own (and one in our own's drop, the asker's).
                // SAFETY: the swap saw our registration: the receiver did not take it (its
                // swap would have cleared TX_WAITING). The slot is not touched again.
                let own = own.map(|parts| unsafe { waker_from(parts) });
                // The asker first: our own waker's drop (user code) may panic.
                if let Some(parts) = waker {
                    // SAFETY: the swap saw the registration we copied, unchanged: the receiver
                    // gave that waker to us (module docs). The slot is not touched again.
                    unsafe { waker_from(parts) }.wake();
                }
                drop(own);
                // A value still here was refused by a closed receiver.
                return value.map_or(Ok(()), Err);
            }
            Err(actual) => state = actual,
        }
    }
}

impl<T> Drop for Sender<T> {
    // Inline: most drops are of a sender that answered (its slot taken by `send`), or of a
    // detached one, a test in its owner's drop; the unanswered close is a call apart. Inlined
    // whole, it grew the drop glue of every future holding a sender (a handler's, for one):
    // more registers saved and restored on each drop, 2 ns per hop of envelope-style ring.
    #[inline]
    fn drop(&mut self) {
        if let Some(slot) = self.slot.take() {
            close_unanswered(slot);
        }
    }
}

/// A sender dropped unanswered: its receiver resolves to [`RecvError`]. Dropped by a panic
/// unwinding an actor's run, it resolves once that run has closed the actor's mailbox (see
/// `task::defer_close`).
#[inline(never)]
fn close_unanswered<T>(slot: NonNull<Slot<T>>) {
    #[cfg(not(actor12_loom))]
    if std::thread::panicking() && crate::task::defer_close(slot.cast(), close_later::<T>) {
        return;
    }
    // SAFETY: as in `send`: the slot was an unfinished sender's, which is gone. Closing hands
    // nothing back.
    let _ = unsafe { finish(slot, None) };
}

/// [`close_unanswered`]'s close, kept for the end of a panicking actor's run.
///
/// # Safety
/// `slot` is a `Slot<T>` whose sender is gone unfinished, and this is its one close. No `T` is
/// in it (nothing was sent), so the close touches none, however long after the sender's drop.
#[cfg(not(actor12_loom))]
unsafe fn close_later<T>(slot: NonNull<()>) {
    // SAFETY: the function's contract.
    let _ = unsafe { finish(slot.cast::<Slot<T>>(), None) };
}

impl<T> Receiver<T> {
    /// Takes the answer if it has arrived; never waits. Once it has returned the answer, or
    /// [`TryRecvError::Closed`], later calls return `Closed`.
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
        // Finished: the answer was taken, or the sender is gone; either way none will come.
        let Some(slot) = self.slot else { return Err(TryRecvError::Closed) };
        // SAFETY: unfinished, the slot is live. Acquire: pairs with the sender's release.
        let state = unsafe { Slot::live(slot) }.state.load(Acquire);
        if state & (SENDER_DONE | RX_CLOSED) == 0 {
            return Err(TryRecvError::Empty);
        }
        self.outcome(slot, state).map_err(|RecvError| TryRecvError::Closed)
    }

    /// Blocks the calling thread until the answer comes (or the sender is gone): for code
    /// outside any async context, as tokio's `blocking_recv`.
    ///
    /// # Panics
    /// On a worker thread of an actor12 runtime (in an actor's handler or a task), where it
    /// would block the worker: `.await` the receiver there. Not in a tokio task, where tokio's
    /// panics: there it blocks the tokio thread, and an answer that must come from a task of
    /// that runtime (a current-thread one, say) never comes.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = actor12::oneshot::channel();
    /// std::thread::spawn(move || tx.send("answer").unwrap());
    /// assert_eq!(rx.blocking_recv(), Ok("answer"));
    /// ```
    #[cfg(not(actor12_loom))]
    pub fn blocking_recv(mut self) -> Result<T, RecvError> {
        assert!(
            !actor12_scheduler::on_worker_thread(),
            "`blocking_recv` called on a worker thread of an actor12 runtime: it would block the \
             worker; `.await` the receiver instead"
        );
        struct Unpark(std::thread::Thread);
        impl std::task::Wake for Unpark {
            fn wake(self: std::sync::Arc<Self>) {
                self.0.unpark();
            }
            fn wake_by_ref(self: &std::sync::Arc<Self>) {
                self.0.unpark();
            }
        }
        let waker = Waker::from(std::sync::Arc::new(Unpark(std::thread::current())));
        let mut cx = Context::from_waker(&waker);
        loop {
            if let Poll::Ready(outcome) = Pin::new(&mut self).poll(&mut cx) {
                return outcome;
            }
            // A wake-up before this park makes it return at once (the thread's token).
            std::thread::park();
        }
    }

    /// True once the answer arrived, the sender is gone or the receiver
    /// [closed](Self::close) the slot (awaiting then resolves at once), and after the receiver
    /// has returned its outcome (it must not be awaited again then).
    pub fn is_terminated(&self) -> bool {
        let done = SENDER_DONE | RX_CLOSED;
        // SAFETY: the slot is live while we hold it.
        self.slot.is_none_or(|slot| unsafe { Slot::live(slot) }.state.load(Acquire) & done != 0)
    }

    /// Says that no answer may come any more, as tokio's `oneshot::Receiver::close`: a later
    /// [`send`](Sender::send) hands its value back, and the sender's
    /// [`is_closed`](Sender::is_closed) and [`closed`](Sender::closed) say so at once. An answer
    /// sent before is still there to take: [`try_recv`](Self::try_recv) (or awaiting) returns
    /// it, or [`RecvError`] if none was sent. For a graceful stop that must not lose an answer
    /// that was already on its way.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor12::oneshot::{TryRecvError, channel};
    ///
    /// let (tx, mut rx) = channel::<u32>();
    /// rx.close();
    /// assert!(tx.is_closed());
    /// assert_eq!(tx.send(7), Err(7)); // refused: handed back
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    ///
    /// let (tx, mut rx) = channel();
    /// tx.send(8).unwrap();
    /// rx.close(); // after the answer: it stays
    /// assert_eq!(rx.try_recv(), Ok(8));
    /// ```
    pub fn close(&mut self) {
        if let Some(slot) = self.slot {
            // SAFETY: unfinished, the slot is live; `leave` with `RX_CLOSED` does not give it
            // up (the sender does not free it for that flag).
            unsafe { leave(slot, RX_CLOSED) };
        }
    }

    /// Records that the request this receiver awaits the answer to is in the mailbox of the
    /// actor at `actor`: until that actor takes it out ([`Sender::delivered`]), its own run can
    /// never see the answer come (the request waits behind the code awaiting it), so awaiting
    /// it there panics instead of hanging. Called before the request is sent.
    #[cfg_attr(actor12_loom, allow(dead_code))] // set by the actor runtime, absent under loom
    pub(crate) fn answered_by(&mut self, actor: usize) {
        if let Some(slot) = self.slot {
            // SAFETY: unfinished, the slot is live.
            // Relaxed: the push of the request (release, to the pop's acquire) publishes it.
            unsafe { Slot::live(slot) }.answerer.store(actor, Relaxed);
        }
    }

    /// The outcome once `state` (read with acquire) shows the sender finished or the receiver
    /// closed the slot: the answer or the error. The receiver is finished then.
    #[inline(always)]
    fn outcome(&mut self, slot: NonNull<Slot<T>>, state: usize) -> Result<T, RecvError> {
        if state & SENDER_DONE != 0 {
            return self.complete(slot, state);
        }
        // Closed, and no answer came before: none will. Leave as a drop does.
        self.slot = None;
        self.give_up(slot);
        Err(RecvError)
    }

    /// The outcome once `state` (read with acquire) shows the sender finished; frees the slot.
    fn complete(&mut self, slot: NonNull<Slot<T>>, state: usize) -> Result<T, RecvError> {
        // A waker still registered was taken by the sender (module docs).
        self.registered = false;
        self.slot = None;
        let value = if state & SENT != 0 {
            // SAFETY: SENT seen with acquire: the sender is finished with the cell.
            let value = unsafe { Slot::live(slot) }.value.with_mut(|p| unsafe { (*p).take() });
            Ok(value.expect("SENT means the value is in the slot"))
        } else {
            Err(RecvError)
        };
        // SAFETY: the sender finished, and we just did.
        unsafe { Slot::free(slot) };
        value
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // In a tokio task, a share of tokio's cooperative budget, as a reply on tokio's own
        // oneshot (0.0.11's) spends: a loop of asks answered at once gives its thread back.
        #[cfg(feature = "tokio")]
        if !actor12_scheduler::task::poll_foreign_budget(cx) {
            return Poll::Pending;
        }
        let this = self.get_mut();
        let slot = this.slot.expect("`Receiver` polled after it completed");
        // SAFETY: unfinished, the slot is live until we free it in `complete`.
        let s = unsafe { Slot::live(slot) };
        // Acquire: pairs with the sender's release.
        let mut state = s.state.load(Acquire);
        if state & (SENDER_DONE | RX_CLOSED) != 0 {
            return Poll::Ready(this.outcome(slot, state));
        }
        if this.registered {
            // The same waker (`Waker::will_wake`'s test): nothing to do.
            if s.parts(&s.rx_waker) == parts_of(cx.waker()) {
                return Poll::Pending;
            }
            // Take the cell back before writing it. AcqRel: acquire sees a sender that
            // finished meanwhile (and then took the waker); release, nothing needed.
            state = s.state.fetch_and(!RX_WAITING, AcqRel);
            this.registered = false;
            if state & SENDER_DONE != 0 {
                return Poll::Ready(this.complete(slot, state));
            }
            // SAFETY: the flag was ours and is now clear: the old waker is ours again.
            drop(unsafe { s.take(&s.rx_waker) });
        }
        // Off the workers, a first wait looks for the answer a while before it sleeps.
        #[cfg(not(actor12_loom))]
        if !actor12_scheduler::on_worker_thread() {
            return this.wait_off_workers(slot, cx);
        }
        // Before a first wait, or one with a new waker: a wait from the run of the actor whose
        // mailbox holds the request never ends. Relaxed: see `Sender::delivered`.
        let answerer = s.answerer.load(Relaxed);
        if answerer != 0 {
            check_not_answerers_run(answerer);
        }
        this.register_waker(slot, cx)
    }
}

impl<T> Receiver<T> {
    /// Registers the waker of `cx` (none is registered): the end of a poll that found no
    /// answer.
    #[inline(always)]
    fn register_waker(
        &mut self,
        slot: NonNull<Slot<T>>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<T, RecvError>> {
        // SAFETY: unfinished, the slot is live until we free it in `complete`.
        let s = unsafe { Slot::live(slot) };
        if let (state, Some(waker)) = s.register(&s.rx_waker, RX_WAITING, SENDER_DONE, cx.waker()) {
            // The sender finished before it could see this waker: it is still ours.
            drop(waker);
            return Poll::Ready(self.complete(slot, state));
        }
        self.registered = true;
        Poll::Pending
    }

    /// A wait off the workers with no waker registered: [`spin_for_answer`], then as on a
    /// worker. Out of line, so that a poll on a worker pays little more than the thread-local
    /// test for it: callgrind, `peers/ask/actor12` on one worker (`--quick`, 20,000 asks),
    /// counted 22.06 M instructions before the spin, 22.46 M with it (20 an ask), and 22.80 M
    /// to 22.94 M with it inlined in `poll`.
    #[cfg(not(actor12_loom))]
    #[inline(never)]
    fn wait_off_workers(
        &mut self,
        slot: NonNull<Slot<T>>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<T, RecvError>> {
        // SAFETY: unfinished, the slot is live until we free it in `complete`.
        let state = spin_for_answer(&unsafe { Slot::live(slot) }.state);
        if state & (SENDER_DONE | RX_CLOSED) != 0 {
            return Poll::Ready(self.outcome(slot, state));
        }
        // No answerer's check: no actor runs off the workers.
        self.register_waker(slot, cx)
    }
}

/// How long a first wait off the workers looks for the answer before it registers its waker.
///
/// A thread outside the runtime (a tokio task's, a `block_on`'s) that lets its executor put
/// it to sleep must be woken when the answer comes: a futex wake-up, and under tokio one of its
/// workers unparked, 5 to 50 us on a VM, where an answer from an awake worker takes well under
/// one. So the first wait looks for the answer a while (measured in
/// `docs/design/reply-and-cancel.md`, "A first wait off the workers"): long enough for a short
/// handler on a worker that must be woken first, short against tokio's advice for a poll (10 to
/// 100 us).
#[cfg(not(actor12_loom))]
const SPIN_LIMIT: std::time::Duration = std::time::Duration::from_micros(20);

#[cfg(not(actor12_loom))]
thread_local! {
    /// After spins that did not see the answer: first waits to let go by without spinning,
    /// and the next such count (1, 3, 7, ... 63), so that a thread whose answers come slowly
    /// (a busy actor, a long handler) spins in at most one wait of 64. `u8::MAX` waits to let
    /// go by on a thread that never spins ([`never_spin_here`]).
    static SPIN_BACKOFF: std::cell::Cell<(u8, u8)> = const { std::cell::Cell::new((0, 0)) };
}

/// Marks this thread as one whose waits never spin: the `tokio` feature's side runtime, whose
/// two threads drive every actor's tokio timers and I/O, which a spin would hold up.
#[cfg(not(actor12_loom))]
#[cfg_attr(not(feature = "tokio"), allow(dead_code))]
pub(crate) fn never_spin_here() {
    SPIN_BACKOFF.set((u8::MAX, u8::MAX));
}

/// A first wait's look for the answer: the state word as last read, with the answer (or the
/// sender's close) in it if that came within [`SPIN_LIMIT`]; one read only while backing off.
/// Only off the workers: on one, the answer comes from this very worker, or from another that
/// this one must not keep its tasks waiting for.
///
/// The spin gives the core away every 16 loads: the answer may come from a worker that the OS
/// has just woken on this very core.
#[cfg(not(actor12_loom))]
#[inline(never)]
fn spin_for_answer(state: &AtomicUsize) -> usize {
    let (skip, stride) = SPIN_BACKOFF.get();
    if skip == u8::MAX {
        // `never_spin_here`.
        return state.load(Acquire);
    }
    if skip > 0 {
        SPIN_BACKOFF.set((skip - 1, stride));
        // Acquire: as in `poll`.
        return state.load(Acquire);
    }
    // Under Miri, one round: its clock is not what is checked there.
    let limit = if cfg!(miri) { std::time::Duration::ZERO } else { SPIN_LIMIT };
    let start = std::time::Instant::now();
    loop {
        for _ in 0..16 {
            std::hint::spin_loop();
            // Acquire: as in `poll`.
            let s = state.load(Acquire);
            if s & (SENDER_DONE | RX_CLOSED) != 0 {
                SPIN_BACKOFF.set((0, 0));
                return s;
            }
        }
        if start.elapsed() >= limit {
            let stride = (stride * 2 + 1).min(63);
            SPIN_BACKOFF.set((stride, stride));
            // Acquire: as in `poll`.
            return state.load(Acquire);
        }
        crate::loom::yield_now();
    }
}

/// Panics if this thread runs the actor at `answerer`: its run would await the answer to a
/// message waiting in its own mailbox ([`Receiver::answered_by`]). Out of line: inlined, the
/// check cost every poll of a receiver (not only an ask's) registers of its own.
#[inline(never)]
fn check_not_answerers_run(answerer: usize) {
    if !crate::task::runs_actor(answerer) {
        return;
    }
    panic!(
        "an actor awaited, in its own run, the answer to a message it sent itself: the message \
         waits in its mailbox behind the code awaiting it, so the answer would never come; tell \
         it instead (`tell_dyn`, `send_and_forget`), or await the answer in a background task \
         (`ctx.futures.spawn`)"
    )
}

impl<T> Drop for Receiver<T> {
    #[inline]
    fn drop(&mut self) {
        // A receiver that returned its outcome has nothing left to do: the common case, kept
        // apart from the rest so that it stays a test inlined into its owner's drop.
        if let Some(slot) = self.slot {
            self.give_up(slot);
        }
    }
}

impl<T> Receiver<T> {
    /// Dropped unfinished: leaves the slot to the sender, or frees it if the sender is done.
    #[inline(never)]
    fn give_up(&mut self, slot: NonNull<Slot<T>>) {
        // SAFETY: unfinished, the slot is live.
        let s = unsafe { Slot::live(slot) };
        if self.registered {
            // Take the waker back, as a poll with a new waker does: left in the cell, it kept
            // the asker's task alive for as long as the sender lived unfinished (a reply slot
            // parked by a handler that never answers). AcqRel: as in `poll`.
            let prev = s.state.fetch_and(!RX_WAITING, AcqRel);
            self.registered = false;
            if prev & SENDER_DONE != 0 {
                // The sender finished first and took the waker (module docs).
                // SAFETY: both sides are finished; the value, if any, goes with the slot.
                unsafe { Slot::free(slot) };
                return;
            }
            // SAFETY: the flag was ours and is now clear: the waker is ours again. Dropped
            // last: its drop is foreign code, and a panic there must not keep the slot.
            let waker = unsafe { s.take(&s.rx_waker) };
            self.leave_for_good(slot);
            drop(waker);
            return;
        }
        self.leave_for_good(slot);
    }

    /// The drop's last step: leaves the slot to the sender, or frees it if the sender finished.
    fn leave_for_good(&mut self, slot: NonNull<Slot<T>>) {
        // SAFETY: unfinished, the slot is live; after `leave` with `RX_DROPPED` it is the
        // sender's (or ours to free, if the sender finished first).
        if unsafe { leave(slot, RX_DROPPED) } {
            // SAFETY: both sides are finished; the value, if any, is dropped with the slot.
            unsafe { Slot::free(slot) };
        }
    }
}

/// The receiver's swap that sets `flag` (`RX_DROPPED` or `RX_CLOSED`) and takes a waker the
/// sender registered in `closed`, clearing `TX_WAITING`, and wakes it. Returns true, setting
/// nothing, if the sender finished first.
///
/// # Safety
/// `slot` is an unfinished receiver's. With `RX_DROPPED`, the receiver must not touch the slot
/// again unless this returns true (the sender frees it).
unsafe fn leave<T>(slot: NonNull<Slot<T>>, flag: usize) -> bool {
    // SAFETY: the receiver is unfinished, so the slot is live.
    let s = unsafe { Slot::live(slot) };
    // Acquire: a sender's waker words (for the copy below), or a value it sent, so that we may
    // drop it.
    let mut state = s.state.load(Acquire);
    loop {
        if state & SENDER_DONE != 0 {
            return true;
        }
        // A sender waiting in `closed`: copy its waker out before the swap, which validates the
        // copy (module docs).
        let waker = (state & TX_WAITING != 0).then(|| s.parts(&s.tx_waker));
        // Release: hands the slot to the sender.
        let next = (state | flag) & !TX_WAITING;
        match s.state.compare_exchange_weak(state, next, AcqRel, Acquire) {
            Ok(_) => {
                if let Some(parts) = waker {
                    // SAFETY: the swap saw the registration we copied, unchanged: the sender
                    // gave that waker to us. The slot is not touched again.
                    unsafe { waker_from(parts) }.wake();
                }
                return false;
            }
            Err(actual) => state = actual,
        }
    }
}

/// What [`RecvError`] and [`TryRecvError::Closed`] say.
const DROPPED: &str = "the reply slot was dropped unanswered (the actor stopped, or its handler panicked or \
     dropped the slot)";

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(DROPPED)
    }
}

impl std::error::Error for RecvError {}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("no reply yet"),
            TryRecvError::Closed => f.write_str(DROPPED),
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

/// Reply slots' blocks, kept for reuse by the thread that freed them.
///
/// An ask allocates its slot and, once answered, frees it: through the system allocator that
/// was two calls of about 40 and 100 instructions per ask (callgrind, `peers/ask`), a tenth of
/// an ask. The asker usually frees the slot (it takes the answer after the actor sent it) on the
/// thread that allocated it, so a few freed blocks kept per thread serve the next asks.
///
/// Blocks are grouped by size in classes of 16 bytes, up to 256; a class's blocks all have its
/// layout (its size, aligned to 16), whichever slot type they held, so any of them serves any
/// slot of the class, and one kept by another thread is freed with the same layout. A thread
/// keeps [`KEEP`] blocks per class at most (2 KiB per class at most) and frees its blocks when
/// it exits. Larger or more aligned slots use the allocator directly.
#[cfg(not(actor12_loom))]
mod spare {
    use std::alloc::Layout;
    use std::cell::Cell;
    use std::ptr::NonNull;

    /// Bytes per size class.
    const STEP: usize = 16;
    /// Size classes: blocks of up to `STEP * CLASSES` bytes are kept.
    const CLASSES: usize = 16;
    /// Blocks a thread keeps per class.
    const KEEP: u32 = 8;

    /// A thread's kept blocks: per class, a stack linked through each block's first word.
    struct Spares {
        heads: [Cell<Option<NonNull<u8>>>; CLASSES],
        counts: [Cell<u32>; CLASSES],
    }

    impl Drop for Spares {
        fn drop(&mut self) {
            for class in 0..CLASSES {
                while let Some(block) = self.pop(class) {
                    // SAFETY: a kept block of `class`, allocated with its layout.
                    unsafe { std::alloc::dealloc(block.as_ptr(), layout_of(class)) };
                }
            }
        }
    }

    impl Spares {
        fn pop(&self, class: usize) -> Option<NonNull<u8>> {
            let block = self.heads[class].get()?;
            // SAFETY: a kept block, whose first word links the next (written in `push`).
            self.heads[class].set(unsafe { block.cast::<Option<NonNull<u8>>>().read() });
            self.counts[class].set(self.counts[class].get() - 1);
            Some(block)
        }

        /// Keeps `block` unless the class is full; false if it was not kept.
        fn push(&self, class: usize, block: NonNull<u8>) -> bool {
            if self.counts[class].get() == KEEP {
                return false;
            }
            // SAFETY: the block is ours and at least 16 bytes: its first word links the stack.
            unsafe { block.cast::<Option<NonNull<u8>>>().write(self.heads[class].get()) };
            self.heads[class].set(Some(block));
            self.counts[class].set(self.counts[class].get() + 1);
            true
        }
    }

    thread_local! {
        static SPARES: Spares = const {
            Spares {
                heads: [const { Cell::new(None) }; CLASSES],
                counts: [const { Cell::new(0) }; CLASSES],
            }
        };
    }

    /// The class of blocks for `layout`, if it is one that is kept.
    #[inline(always)]
    const fn class_of(layout: Layout) -> Option<usize> {
        if layout.size() == 0 || layout.size() > STEP * CLASSES || layout.align() > STEP {
            return None;
        }
        Some((layout.size() - 1) / STEP)
    }

    const fn layout_of(class: usize) -> Layout {
        match Layout::from_size_align((class + 1) * STEP, STEP) {
            Ok(layout) => layout,
            Err(_) => panic!("a size class's layout"),
        }
    }

    /// A block for a slot of `layout` (of non-zero size): one this thread kept, or a new one.
    ///
    /// Under Miri, always a new one: a slot used after it was freed would otherwise be a use of
    /// a block reused, which Miri cannot tell from a fresh one (the tests below still run the
    /// kept blocks under it).
    #[inline]
    pub(super) fn alloc(layout: Layout) -> NonNull<u8> {
        if cfg!(miri) { fresh(layout) } else { take(layout) }
    }

    /// Gives back a block that [`alloc`] returned for `layout`.
    ///
    /// # Safety
    /// `block` came from `alloc(layout)`, and is not used again.
    #[inline]
    pub(super) unsafe fn dealloc(block: NonNull<u8>, layout: Layout) {
        if cfg!(miri) {
            // SAFETY: per the contract; under Miri `alloc` allocated it with this layout.
            unsafe { std::alloc::dealloc(block.as_ptr(), layout) };
        } else {
            // SAFETY: per the contract; `alloc` took it from `take`.
            unsafe { give(block, layout) };
        }
    }

    /// A block for `layout` (of non-zero size): one this thread kept, or a new one.
    #[inline]
    fn take(layout: Layout) -> NonNull<u8> {
        let Some(class) = class_of(layout) else { return fresh(layout) };
        // After the thread's kept blocks are gone (it is exiting), a new block.
        match SPARES.try_with(|spares| spares.pop(class)) {
            Ok(Some(block)) => block,
            _ => fresh(layout_of(class)),
        }
    }

    /// Gives back a block that [`take`] returned for `layout`: kept, or freed.
    ///
    /// # Safety
    /// `block` came from `take(layout)`, and is not used again.
    #[inline]
    unsafe fn give(block: NonNull<u8>, layout: Layout) {
        let layout = match class_of(layout) {
            Some(class) => {
                if let Ok(true) = SPARES.try_with(|spares| spares.push(class, block)) {
                    return;
                }
                layout_of(class)
            }
            None => layout,
        };
        // SAFETY: allocated with this layout (`take` gives a class's blocks its layout).
        unsafe { std::alloc::dealloc(block.as_ptr(), layout) };
    }

    #[cold]
    fn fresh(layout: Layout) -> NonNull<u8> {
        debug_assert!(layout.size() != 0, "a slot has a state word at least");
        // SAFETY: the callers' layouts have a non-zero size (a slot's, or a class's).
        NonNull::new(unsafe { std::alloc::alloc(layout) })
            .unwrap_or_else(|| std::alloc::handle_alloc_error(layout))
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        fn kept(class: usize) -> u32 {
            SPARES.with(|spares| spares.counts[class].get())
        }

        #[test]
        fn a_freed_block_serves_the_next_slot_of_its_class() {
            let (small, other) = (Layout::new::<[u64; 5]>(), Layout::new::<[u32; 11]>());
            assert_eq!(class_of(small), class_of(other), "40 and 44 bytes: one class");
            let block = take(small);
            // SAFETY: from `take(small)`, not used again.
            unsafe { give(block, small) };
            let again = take(other);
            assert_eq!(again, block, "the kept block comes back, for any slot of its class");
            // SAFETY: from `take(other)`.
            unsafe { give(again, other) };
        }

        #[test]
        fn a_thread_keeps_a_few_blocks_per_class_and_frees_the_rest() {
            let layout = Layout::new::<[u64; 9]>();
            let class = class_of(layout).expect("72 bytes are kept");
            let blocks: Vec<_> = (0..KEEP + 3).map(|_| take(layout)).collect();
            assert_eq!(kept(class), 0);
            for &block in &blocks {
                // SAFETY: from `take(layout)`, each given back once.
                unsafe { give(block, layout) };
            }
            assert_eq!(kept(class), KEEP, "the rest went back to the allocator");
            let again: Vec<_> = (0..KEEP).map(|_| take(layout)).collect();
            assert!(again.iter().all(|b| blocks.contains(b)));
            assert_eq!(kept(class), 0);
            for block in again {
                // SAFETY: as above.
                unsafe { give(block, layout) };
            }
        }

        #[test]
        fn large_or_overaligned_slots_use_the_allocator_directly() {
            let aligned = Layout::from_size_align(32, 32).expect("a layout");
            assert_eq!(class_of(Layout::new::<[u8; 257]>()), None);
            assert_eq!(class_of(aligned), None);
            assert_eq!(class_of(Layout::new::<[u8; 256]>()), Some(CLASSES - 1));
            for layout in [Layout::new::<[u8; 300]>(), aligned] {
                let block = take(layout);
                assert_eq!(block.as_ptr() as usize % layout.align(), 0);
                // SAFETY: from `take(layout)`.
                unsafe { give(block, layout) };
            }
        }

        /// A block allocated on one thread and given back on another is kept there, and freed
        /// with its class's layout when that thread exits (Miri checks the layout).
        #[test]
        fn blocks_move_between_threads_and_go_with_the_thread() {
            let layout = Layout::new::<[u64; 3]>();
            let class = class_of(layout).expect("24 bytes are kept");
            /// The blocks, sent to the other thread (raw pointers are not `Send`).
            struct Blocks(Vec<NonNull<u8>>);
            // SAFETY: the blocks are plain memory nobody else uses.
            unsafe impl Send for Blocks {}
            let blocks = Blocks((0..3).map(|_| take(layout)).collect());
            std::thread::spawn(move || {
                // Through the whole wrapper: a closure that named only its field would capture
                // only the (unsendable) vector.
                let blocks = { blocks }.0;
                for block in blocks {
                    // SAFETY: from `take(layout)` on the other thread, given back once.
                    unsafe { give(block, layout) };
                }
                assert_eq!(kept(class), 3);
            })
            .join()
            .expect("the thread");
        }
    }
}

#[cfg(all(test, not(actor12_loom)))]
mod spin_tests {
    use super::*;

    /// A waker that counts its wakes.
    struct Count(AtomicUsize);

    impl std::task::Wake for Count {
        fn wake(self: std::sync::Arc<Self>) {
            self.0.fetch_add(1, SeqCst);
        }
    }

    #[test]
    fn spins_that_see_no_answer_back_off_up_to_one_wait_in_64() {
        let state = AtomicUsize::new(0);
        SPIN_BACKOFF.set((0, 0));
        let mut spun = Vec::new();
        for _ in 0..200 {
            let before = SPIN_BACKOFF.get();
            assert_eq!(spin_for_answer(&state) & SENDER_DONE, 0, "no answer was sent");
            if before.0 == 0 {
                spun.push(SPIN_BACKOFF.get().1);
            }
        }
        // Each spin that saw nothing doubles the waits let go by without one, up to 63.
        assert_eq!(spun[..7], [1, 3, 7, 15, 31, 63, 63]);
        assert!(spun[6..].iter().all(|&s| s == 63));
    }

    #[test]
    fn an_answer_seen_resets_the_back_off() {
        let state = AtomicUsize::new(SENT);
        SPIN_BACKOFF.set((0, 31));
        assert_eq!(spin_for_answer(&state), SENT);
        assert_eq!(SPIN_BACKOFF.get(), (0, 0));
    }

    /// Off the workers, a wait whose spin saw no answer registers its waker as on a worker:
    /// the answer wakes it once, and the next poll takes it.
    #[test]
    fn a_wait_that_spun_in_vain_is_woken_by_the_answer() {
        assert!(!actor12_scheduler::on_worker_thread());
        SPIN_BACKOFF.set((0, 0));
        let (tx, mut rx) = channel::<u32>();
        let count = std::sync::Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(count.clone());
        let mut cx = Context::from_waker(&waker);
        assert!(Pin::new(&mut rx).poll(&mut cx).is_pending());
        assert_eq!(SPIN_BACKOFF.get(), (1, 1), "the first wait spun, and saw nothing");
        assert_eq!(count.0.load(SeqCst), 0, "and registered its waker");
        tx.send(5).unwrap();
        assert_eq!(count.0.load(SeqCst), 1, "the answer woke the registered waker");
        assert_eq!(Pin::new(&mut rx).poll(&mut cx), Poll::Ready(Ok(5)));
    }

    /// On a worker a first wait registers at once, without spinning.
    #[test]
    fn on_a_worker_a_first_wait_does_not_spin() {
        let rt = actor12_scheduler::Runtime::builder().worker_threads(1).build().unwrap();
        let (wakes, backoff) = rt
            .block_on(rt.spawn(async {
                let (tx, mut rx) = channel::<u32>();
                let count = std::sync::Arc::new(Count(AtomicUsize::new(0)));
                let waker = Waker::from(count.clone());
                let mut cx = Context::from_waker(&waker);
                assert!(Pin::new(&mut rx).poll(&mut cx).is_pending());
                let before = count.0.load(SeqCst);
                tx.send(5).unwrap();
                assert_eq!(Pin::new(&mut rx).poll(&mut cx), Poll::Ready(Ok(5)));
                ((before, count.0.load(SeqCst)), SPIN_BACKOFF.get())
            }))
            .unwrap();
        assert_eq!(wakes, (0, 1), "registered; the answer woke it");
        assert_eq!(backoff, (0, 0), "no spin on the worker");
    }

    /// A thread marked by `never_spin_here` (the tokio bridge's) looks once and stays marked.
    #[test]
    fn a_thread_that_never_spins_looks_once() {
        never_spin_here();
        let state = AtomicUsize::new(0);
        for _ in 0..300 {
            assert_eq!(spin_for_answer(&state), 0);
        }
        assert_eq!(SPIN_BACKOFF.get(), (u8::MAX, u8::MAX));
    }
}
