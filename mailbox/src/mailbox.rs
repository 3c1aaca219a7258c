//! The mailbox: a user lane (the block list) and a system lane, sharing one state word that also
//! says whether the consumer is idle.

use std::fmt;
use std::future::Future;
use std::mem::MaybeUninit;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::pin::Pin;
use std::ptr;
use std::task::{Context, Poll};

use crate::error::{SendError, TrySendError};
use crate::list::{Refused, Rx, Tx, after_link, messages_below};
use crate::loom::{AtomicUsize, Ordering::*, UnsafeCell, fence};
use crate::state::Snapshot;
use crate::system::{SystemLane, SystemRx};
use crate::waiters::Waiters;

/// What a push (or a close) means for the consumer.
///
/// Exactly one push per idle period returns [`Push::Schedule`]: the one that took the mailbox from
/// idle to non-empty. The caller that receives it must arrange for the consumer to run (put the
/// actor on a run queue, wake the receiving thread); everyone else need do nothing
/// ([`Push::Backlogged`] is a hint to slow down).
#[must_use = "a push that returns `Push::Schedule` must schedule the consumer, or it never runs"]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Push {
    /// The consumer was idle; the caller must schedule it.
    Schedule,
    /// The consumer is already running or scheduled.
    Queued,
    /// As [`Queued`](Self::Queued), and the consumer is far behind: this push linked a new
    /// block with [`BACKLOG`](crate::BACKLOG) messages or more ahead of it. Only the push that
    /// links a block (one in 31) looks, so a long queue reports it once a block. A producer
    /// that shares its thread with the consumer should give way, so that an unbounded queue
    /// does not grow for as long as it keeps pushing.
    Backlogged,
}

/// What the consumer found in [`Mailbox::pop`].
#[derive(Debug, PartialEq, Eq)]
pub enum Pop<T, S> {
    /// A system signal. Signals are always popped before user messages.
    System(S),
    /// A user message.
    User(T),
    /// Nothing to do: the consumer may call [`Mailbox::try_idle`].
    Empty,
    /// A producer has claimed the next slot but not finished writing it. Do not park on this:
    /// run something else (or spin briefly) and pop again.
    Busy,
    /// The user lane is closed and everything accepted before closing has been popped.
    Closed,
}

/// A lock-free multi-producer, single-consumer mailbox with scheduling fused into the queue.
///
/// * Producers push from any thread with [`try_push`](Self::try_push), [`push`](Self::push) (waits
///   for room in a bounded mailbox) or [`push_system`](Self::push_system).
/// * One consumer at a time drains it with [`pop`](Self::pop) and, when it runs out of work,
///   offers to go idle with [`try_idle`](Self::try_idle). Those methods are `unsafe`: the caller
///   promises a single consumer (an actor runtime runs each actor on one worker at a time; the
///   [`Receiver`](crate::Receiver) handle enforces it with `&mut self`).
///
/// A new mailbox is idle, so its first push returns [`Push::Schedule`].
///
/// Messages are stored inline in blocks of 31 slots that are recycled once consumed: in steady
/// state neither a push nor a pop allocates. A push is one atomic read-modify-write on the state
/// word, on the idle-to-scheduled edge too; a pop is plain loads and stores, plus a fence and a
/// look at the waiting senders where a bounded mailbox may have some.
///
/// # Examples
///
/// ```
/// use actor12_mailbox::{Mailbox, Pop, Push};
///
/// let mailbox: Mailbox<&str, &str> = Mailbox::unbounded();
/// assert_eq!(mailbox.try_push("hello"), Ok(Push::Schedule)); // idle -> scheduled
/// assert_eq!(mailbox.try_push("world"), Ok(Push::Queued));
/// assert_eq!(mailbox.push_system("stop"), Ok(Push::Queued));
///
/// // SAFETY: this thread is the only consumer.
/// unsafe {
///     assert_eq!(mailbox.pop(), Pop::System("stop")); // the system lane goes first
///     assert_eq!(mailbox.pop(), Pop::User("hello"));
///     assert_eq!(mailbox.pop(), Pop::User("world"));
///     assert_eq!(mailbox.pop(), Pop::Empty);
///     assert!(Mailbox::try_idle(&mailbox));
/// }
/// assert_eq!(mailbox.try_push("again"), Ok(Push::Schedule));
/// ```
#[repr(C)]
pub struct Mailbox<T, S = ()> {
    /// Producers' side, its hot words first (`repr(C)`: the field order is the layout).
    tx: Tx<T>,
    /// Messages the consumer has taken, published for `len` and the bounded check.
    head: AtomicUsize,
    rx: UnsafeCell<Consumer<T, S>>,
    system: SystemLane<S>,
    waiters: Waiters,
}

// No cache line holds both the producers' hot words (at offset 0) and `head`, the first word
// the consumer writes per message (see `list::Hot`). Loom's atomics and spare count differ.
#[cfg(not(actor12_loom))]
const _: () = assert!(
    std::mem::offset_of!(Mailbox<u8>, head) >= crate::list::HOT_BYTES + crate::list::COLD_GAP
);

struct Consumer<T, S> {
    list: Rx<T>,
    system: SystemRx<S>,
}

// SAFETY: the mailbox moves `T`s and `S`s from producer threads to the consumer thread, so both
// must be `Send`; it never hands out shared references to them, so `Sync` is not required.
// Consumer-side state is touched only under the single-consumer contract of the `unsafe` methods.
unsafe impl<T: Send, S: Send> Send for Mailbox<T, S> {}
// SAFETY: as above; every shared field is atomic or behind a lock.
unsafe impl<T: Send, S: Send> Sync for Mailbox<T, S> {}

impl<T, S> Mailbox<T, S> {
    /// A mailbox with no bound on its user lane.
    ///
    /// # Examples
    ///
    /// ```
    /// let mailbox: actor12_mailbox::Mailbox<u64> = actor12_mailbox::Mailbox::unbounded();
    /// assert_eq!(mailbox.capacity(), None);
    /// ```
    pub fn unbounded() -> Self {
        Self::with_capacity(usize::MAX)
    }

    /// A mailbox whose user lane holds at most `capacity` messages. The system lane is not
    /// counted. `usize::MAX` is taken as no bound ([`capacity`](Self::capacity) then says `None`).
    ///
    /// # Panics
    /// If `capacity` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// let mailbox: actor12_mailbox::Mailbox<u64> = actor12_mailbox::Mailbox::bounded(64);
    /// assert_eq!(mailbox.capacity(), Some(64));
    /// ```
    pub fn bounded(capacity: usize) -> Self {
        assert!(capacity > 0, "a bounded mailbox needs a capacity of at least 1");
        Self::with_capacity(capacity)
    }

    fn with_capacity(capacity: usize) -> Self {
        Mailbox {
            tx: Tx::new(capacity),
            head: AtomicUsize::new(0),
            rx: UnsafeCell::new(Consumer { list: Rx::new(), system: SystemRx::new() }),
            system: SystemLane::new(),
            waiters: Waiters::new(),
        }
    }

    /// The bound of a bounded mailbox.
    pub fn capacity(&self) -> Option<usize> {
        let capacity = self.tx.capacity();
        (capacity != usize::MAX).then_some(capacity)
    }

    /// User messages accepted and not yet popped. Exact when read by the consumer; a snapshot
    /// otherwise.
    ///
    /// # Examples
    ///
    /// ```
    /// let mailbox: actor12_mailbox::Mailbox<u8> = actor12_mailbox::Mailbox::unbounded();
    /// let _ = mailbox.try_push(1);
    /// assert_eq!(mailbox.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        let end = messages_below(after_link(self.tx.state().load().pos()));
        // Relaxed: a snapshot; the consumer's own reads are exact because it wrote `head`.
        end.saturating_sub(self.head.load(Relaxed))
    }

    /// True if [`len`](Self::len) is 0.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True once [`close`](Self::close) has been called.
    pub fn is_closed(&self) -> bool {
        self.tx.state().load().is_closed()
    }

    /// Pushes a user message without waiting.
    ///
    /// Fails with [`TrySendError::Full`] if a bounded mailbox is full, or if producers are
    /// waiting for room in it (they go first: [`push`](Self::push)), and with
    /// [`TrySendError::Closed`] once closed; either way the message comes back.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor12_mailbox::{Mailbox, Push};
    ///
    /// let mailbox: Mailbox<u32> = Mailbox::unbounded();
    /// assert_eq!(mailbox.try_push(1), Ok(Push::Schedule));
    /// ```
    #[inline]
    pub fn try_push(&self, msg: T) -> Result<Push, TrySendError<T>> {
        // Relaxed: a stale count only makes the bounded check stricter.
        match self.tx.push(msg, || self.head.load(Relaxed)) {
            Ok(push) => Ok(push),
            Err((Refused::Full, msg)) => Err(TrySendError::Full(msg)),
            Err((Refused::Closed, msg)) => Err(TrySendError::Closed(msg)),
        }
    }

    /// Pushes a user message, waiting for room if a bounded mailbox is full.
    ///
    /// First come, first served: producers that wait for room are given it in the order they
    /// started waiting, and while any of them waits, a new push (this one, or a
    /// [`try_push`](Self::try_push)) does not take the room kept for them but waits behind
    /// them, however much room a pop has just made. So under a steady stream of pushes to a
    /// full mailbox no producer waits for ever. (With a capacity over 1, a new push first in
    /// line may take room beyond what is kept for the producers already woken, and its message
    /// then arrives before theirs if it runs first.) The check is one bit of the word a push
    /// reads anyway. Closing the mailbox wakes every waiter and hands their messages back.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::future::Future;
    /// # fn block_on<F: Future>(f: F) -> F::Output {
    /// #     let mut f = std::pin::pin!(f);
    /// #     let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// #     loop { if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v } }
    /// # }
    /// use actor12_mailbox::{Mailbox, Push};
    ///
    /// let mailbox: Mailbox<u32> = Mailbox::bounded(8);
    /// assert_eq!(block_on(mailbox.push(1)), Ok(Push::Schedule));
    /// ```
    pub fn push(&self, msg: T) -> PushFuture<'_, T, S> {
        PushFuture { mailbox: self, msg: Some(msg), ticket: None }
    }

    /// Pushes a user message even if a bounded mailbox is full; fails only once it is closed.
    ///
    /// For the consumer itself: an actor's handler that sends to its own full mailbox would
    /// otherwise wait for room that only its own next pop can make. Waiting producers keep
    /// their places; they get room once the consumer has taken the mailbox below its bound.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor12_mailbox::{Mailbox, Pop};
    ///
    /// let mailbox: Mailbox<u32> = Mailbox::bounded(1);
    /// let _ = mailbox.try_push(1).unwrap();
    /// assert!(mailbox.try_push(2).is_err()); // full
    /// let _ = mailbox.push_past_bound(2).unwrap();
    /// assert_eq!(mailbox.len(), 2);
    /// // SAFETY: this thread is the only consumer.
    /// unsafe {
    ///     assert_eq!(mailbox.pop(), Pop::User(1));
    ///     assert_eq!(mailbox.pop(), Pop::User(2));
    /// }
    /// ```
    pub fn push_past_bound(&self, msg: T) -> Result<Push, SendError<T>> {
        match self.tx.push_past_bound(msg, || self.head.load(Relaxed)) {
            Ok(push) => Ok(push),
            Err((_, msg)) => Err(SendError(msg)),
        }
    }

    /// Pushes a system signal. Signals ignore the bound and are accepted after [`close`]; they
    /// are refused only once the consumer has closed the system lane
    /// ([`close_system`](Self::close_system)).
    ///
    /// [`close`]: Self::close
    ///
    /// # Examples
    ///
    /// ```
    /// use actor12_mailbox::{Mailbox, Push};
    ///
    /// let mailbox: Mailbox<u32, &str> = Mailbox::bounded(1);
    /// let _ = mailbox.try_push(1).unwrap();
    /// assert!(mailbox.try_push(2).is_err()); // full
    /// assert_eq!(mailbox.push_system("kill"), Ok(Push::Queued)); // still accepted
    /// ```
    pub fn push_system(&self, signal: S) -> Result<Push, SendError<S>> {
        self.system.push(signal).map_err(SendError)?;
        // The signal is in the lane before the flag goes up, so a consumer that clears the flag
        // and then looks finds it. In a narrow race the consumer takes the signal and goes idle
        // before the flag is raised; the flag then schedules a run that finds nothing. Never
        // more than one run per idle period, and never a signal left without one (when the
        // consumer idles with `try_idle`; see `try_idle_unless_notified`).
        if self.tx.state().flag_system() {
            return Ok(Push::Schedule);
        }
        Ok(Push::Queued)
    }

    /// Stops accepting user messages. Messages accepted before stay to be popped; later pushes
    /// fail with their message handed back; producers waiting for room are woken and get theirs
    /// back.
    ///
    /// Returns [`Push::Schedule`] if the consumer was idle: it must run to see the close. Closing
    /// twice is harmless (the second call returns [`Push::Queued`], unless the consumer went
    /// idle in between with [`try_idle_unless_notified`](Self::try_idle_unless_notified)).
    ///
    /// # Examples
    ///
    /// ```
    /// use actor12_mailbox::{Mailbox, Pop};
    ///
    /// let mailbox: Mailbox<u32> = Mailbox::unbounded();
    /// let _ = mailbox.try_push(1);
    /// let _ = mailbox.close();
    /// assert!(mailbox.try_push(2).is_err());
    /// // SAFETY: the only consumer.
    /// unsafe {
    ///     assert_eq!(mailbox.pop(), Pop::User(1));
    ///     assert_eq!(mailbox.pop(), Pop::Closed);
    /// }
    /// ```
    pub fn close(&self) -> Push {
        // A producer registering to wait either sees CLOSED on its retry or is woken below. Its
        // WAITING flag and this close are read-modify-writes of one word: if the close came
        // first, the registration's retry sees CLOSED; if it came second, it sees WAITING (the
        // flag is cleared only when the queue is empty), so without it there is nobody to wake.
        let before = self.tx.state().close();
        if before.has_waiters() {
            self.waiters.wake_all();
        }
        if before.is_idle() { Push::Schedule } else { Push::Queued }
    }

    /// Takes the next signal or message.
    ///
    /// # Safety
    /// Only one thread at a time may call the consumer methods (`pop`, `try_idle`,
    /// `close_system`), and calls must not overlap.
    #[inline]
    pub unsafe fn pop(&self) -> Pop<T, S> {
        // SAFETY: the caller's contract; the message is read once, into the value returned.
        unsafe { self.pop_with(true, |msg| msg.read()) }
    }

    /// As [`pop`](Self::pop), without the `SeqCst` fence `pop` issues after each message of a
    /// bounded mailbox: for a consumer whose every run ends in [`try_idle`](Self::try_idle) or
    /// [`try_idle_unless_notified`](Self::try_idle_unless_notified), or pops again (an actor's
    /// run). A producer that starts waiting for room at the moment of the pop may then be woken
    /// only by that transition (which finds the state word's WAITING bit) instead of at once;
    /// it is never left waiting while the consumer sleeps.
    ///
    /// # Safety
    /// As for [`pop`](Self::pop).
    ///
    /// # Examples
    ///
    /// ```
    /// use actor12_mailbox::{Mailbox, Pop};
    ///
    /// let mailbox: Mailbox<u32> = Mailbox::bounded(1);
    /// let _ = mailbox.try_push(7).unwrap();
    /// // SAFETY: the only consumer.
    /// unsafe {
    ///     assert_eq!(mailbox.pop_lazy(), Pop::User(7));
    ///     assert_eq!(mailbox.pop_lazy(), Pop::Empty);
    ///     // The run ends in an idle transition, which wakes any producer the pop missed.
    ///     assert!(Mailbox::try_idle(&mailbox));
    /// }
    /// ```
    #[inline]
    pub unsafe fn pop_lazy(&self) -> Pop<T, S> {
        // SAFETY: as in `pop`.
        unsafe { self.pop_with(false, |msg| msg.read()) }
    }

    /// As [`pop_lazy`](Self::pop_lazy), moving a user message straight from its slot into
    /// `place` (`Pop::User(())` says it is there). For a consumer that keeps a large message in
    /// a place of its own: one copy, made before the pop's bookkeeping, instead of the message
    /// kept on the stack across that bookkeeping and returned through `Pop` (a copy at each step
    /// the compiler does not remove). A small message (a word or two) is better popped by value
    /// with `pop_lazy`: it comes back in registers.
    ///
    /// # Safety
    /// As for [`pop`](Self::pop).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::mem::MaybeUninit;
    /// use actor12_mailbox::{Mailbox, Pop};
    ///
    /// let mailbox: Mailbox<[u64; 4]> = Mailbox::unbounded();
    /// let _ = mailbox.try_push([1, 2, 3, 4]).unwrap();
    /// let mut place = MaybeUninit::uninit();
    /// // SAFETY: the only consumer.
    /// unsafe {
    ///     assert_eq!(mailbox.pop_lazy_into(&mut place), Pop::User(()));
    ///     assert_eq!(place.assume_init(), [1, 2, 3, 4]); // `Pop::User` says it is written
    ///     assert_eq!(mailbox.pop_lazy_into(&mut place), Pop::Empty);
    /// }
    /// ```
    #[inline(always)]
    pub unsafe fn pop_lazy_into(&self, place: &mut MaybeUninit<T>) -> Pop<(), S> {
        // SAFETY: the caller's contract; the message is read once, into `place` (which, a
        // `MaybeUninit`, drops nothing it held before).
        unsafe { self.pop_with(false, |msg| ptr::copy_nonoverlapping(msg, place.as_mut_ptr(), 1)) }
    }

    /// # Safety
    /// As for `pop`; `take` reads the message once.
    #[inline(always)]
    unsafe fn pop_with<R>(&self, fenced: bool, take: impl FnOnce(*const T) -> R) -> Pop<R, S> {
        // SAFETY: the caller is the only consumer, so nobody else touches the consumer state.
        let rx = self.rx.with_mut(|p| unsafe { &mut *p });
        if let Some(signal) = rx.system.pop(&self.system) {
            return Pop::System(signal);
        }
        // SAFETY: single consumer, per the contract; `take` per the contract.
        if let Some(msg) = unsafe { rx.list.pop(&self.tx, take) } {
            // Relaxed: only a count for `len` and the bounded check; see `Waiters` for the fence.
            self.head.store(rx.list.taken, Relaxed);
            if fenced {
                if self.tx.capacity() != usize::MAX {
                    // SeqCst: pairs with the fence in `Waiters::wait` (Dekker: head store, then
                    // waiter count load).
                    fence(SeqCst);
                    if self.waiters.any() {
                        self.waiters.wake_one();
                    }
                }
            } else if self.waiters.any() {
                // Without the fence, a registration in flight may be missed here; the idle
                // transition catches it (`Waiters`). No capacity test: an unbounded mailbox has
                // no waiters, and the capacity lies on the producers' hot cache line, which a
                // read per message would keep pulling to the consumer's core.
                self.waiters.wake_one();
            }
            return Pop::User(msg);
        }
        let state = self.tx.state().load();
        let pos = rx.list.pos;
        if state.is_closed() && after_link(state.pos()) == pos {
            // Claims stop at CLOSED; a link step still in flight adds no message.
            Pop::Closed
        } else if state.pos() == pos {
            Pop::Empty
        } else {
            // A slot claimed but not yet written, or a block being linked.
            Pop::Busy
        }
    }

    /// Wakes a waiting producer that an unfenced pop may have missed, if `state` says one may be
    /// queued: `state` is the word an idle transition is about to replace, or one a
    /// read-modify-write returned.
    ///
    /// An idle transition calls it before, not after: once the transition succeeds, the mailbox
    /// is no longer the caller's to touch. It is still exact. The transition is a
    /// compare-and-swap expecting `state`, and a producer queues with a read-modify-write that
    /// sets WAITING, so a producer queued since `state` was read either changed the word (the
    /// transition fails, and the next attempt sees it) or found WAITING set already. Then the
    /// wake-up here takes the waiter lock, which a producer holds from its registration through
    /// its retry: one queued before it is woken (WAITING may stand only for producers woken
    /// earlier, with nobody queued), one queued after it sees the room the consumer made before
    /// it. A producer queued after the transition acquires it and sees that room too. Done at
    /// every transition, lazy pops or not: it costs a bit test on a word already read, where a
    /// flag saying whether a lazy pop happened would make every mailbox a word larger.
    fn wake_flagged_waiter(&self, state: Snapshot) {
        if state.has_waiters() {
            self.waiters.wake_one();
        }
    }

    /// For a consumer that finds the word idle already (it ran without being scheduled), so made
    /// no transition that orders it against the producers: `pop`'s fence, then a look at the
    /// queue.
    fn wake_missed_waiter(&self, state: Snapshot) {
        debug_assert!(state.is_idle());
        // SAFETY: only the consumer makes the idle transition that calls this.
        unsafe { self.wake_missed_producer() }
    }

    /// For a consumer of [`pop_lazy`](Self::pop_lazy) that found nothing (`Empty` or `Busy`)
    /// and goes on without an idle transition (it will look again, not wait): wakes a producer
    /// waiting for room that a lazy pop before may have missed. Without it, a consumer that
    /// only ever polls would leave that producer waiting for good, and the producers queued
    /// behind it (the admission gate turns every later send away meanwhile). One `SeqCst`
    /// fence, paid when the mailbox is found empty rather than for every message.
    ///
    /// # Safety
    /// As for [`pop`](Self::pop).
    ///
    /// # Examples
    ///
    /// ```
    /// use actor12_mailbox::{Mailbox, Pop};
    ///
    /// let mailbox: Mailbox<u32> = Mailbox::bounded(1);
    /// let _ = mailbox.try_push(7).unwrap();
    /// // SAFETY: the only consumer.
    /// unsafe {
    ///     assert_eq!(mailbox.pop_lazy(), Pop::User(7));
    ///     assert_eq!(mailbox.pop_lazy(), Pop::Empty);
    ///     // Polling on instead of going idle: pass the room on to a producer waiting for it.
    ///     mailbox.wake_missed_producer();
    /// }
    /// ```
    pub unsafe fn wake_missed_producer(&self) {
        // SeqCst: pairs with the fence in `Waiters::wait` (Dekker: the pops' head stores, then
        // the waiter count's load), as in `pop`.
        fence(SeqCst);
        if self.waiters.any() {
            self.waiters.wake_one();
        }
    }

    /// True if the next [`pop`](Self::pop) would return a signal or a message (not
    /// [`Pop::Closed`]: false on a closed, drained mailbox). Unlike `pop` on an empty
    /// mailbox it does not read the state word that producers update, so a consumer waiting for
    /// a message can spin on it without slowing the producers down.
    ///
    /// # Safety
    /// As for [`pop`](Self::pop).
    #[inline]
    pub unsafe fn has_next(&self) -> bool {
        // SAFETY: single consumer.
        let rx = self.rx.with_mut(|p| unsafe { &*p });
        !rx.system.is_empty() || self.system.has_pushed() || rx.list.next_is_ready(&self.tx, 0)
    }

    /// True if the user message `ahead` places after the next one has been written (capped at
    /// the end of the next message's block).
    ///
    /// # Safety
    /// As for [`pop`](Self::pop).
    #[inline]
    pub unsafe fn is_written_ahead(&self, ahead: usize) -> bool {
        // SAFETY: single consumer.
        let rx = self.rx.with_mut(|p| unsafe { &*p });
        rx.list.next_is_ready(&self.tx, ahead)
    }

    /// How many consecutive messages share a 64-byte cache line in this mailbox's blocks.
    pub(crate) fn messages_per_line() -> usize {
        (64 / crate::block::Block::<T>::slot_size()).max(1)
    }

    /// Offers to go idle: true if the mailbox is now idle (the next push will return
    /// [`Push::Schedule`]), false if anything arrived since the last pop, or the mailbox is
    /// closed: keep popping. A closed mailbox does not go idle this way, however long ago it was
    /// closed: its consumer pops until [`Pop::Closed`] and then stops for good
    /// ([`try_idle_unless_notified`](Self::try_idle_unless_notified) does idle it).
    ///
    /// Once it returns true the consumer's right to run is given away, and the mailbox may be
    /// freed by whoever holds it next at any moment, so nothing here touches the mailbox after
    /// the transition (a producer waiting for room is woken before it). That is why it takes a
    /// pointer, not `&self`: a reference argument must stay valid until the call returns, even
    /// where nothing reads through it, and the next holder may free the mailbox before that.
    ///
    /// # Safety
    /// As for [`pop`](Self::pop), and `this` points at a live mailbox when the call starts.
    #[inline]
    pub unsafe fn try_idle(this: *const Self) -> bool {
        // SAFETY: the caller's contract. A local reference, unlike an argument, need not outlive
        // its last use, which is the transition at the latest.
        let this = unsafe { &*this };
        // SAFETY: single consumer.
        let rx = this.rx.with_mut(|p| unsafe { &mut *p });
        let mut state = this.tx.state().load();
        loop {
            if state.is_idle() {
                // Already idle (the consumer ran without being scheduled): nothing changes.
                this.wake_missed_waiter(state);
                return true;
            }
            if state.pos() != rx.list.pos
                || state.is_closed()
                || state.is_notified()
                || !rx.system.is_empty()
            {
                return false;
            }
            if state.has_system() {
                // Clear the flag first, then look at the lane: a signal pushed before the clear
                // is visible to the look (acquire/release on the state word); one pushed after
                // sets the flag again and fails the CAS below.
                state = this.tx.state().clear_system().without_system();
                if this.system.has_pushed() {
                    return false;
                }
                continue;
            }
            this.wake_flagged_waiter(state);
            match this.tx.state().try_idle(state) {
                Ok(()) => return true,
                Err(now) => state = now,
            }
        }
    }

    /// Offers to go idle while user messages may still be waiting: for a consumer that is busy
    /// with something else (an actor whose handler awaits a reply) and wants to run again only
    /// when [`notify`](Self::notify) is called. Messages pushed meanwhile still schedule it (the
    /// first push after this returns [`Push::Schedule`]); the consumer decides what to do with
    /// such a run. False if a notification arrived since [`take_notified`](Self::take_notified):
    /// run again. Like [`try_idle`](Self::try_idle), it touches nothing once it has succeeded.
    ///
    /// It does not look at the system lane: a signal pushed before it stays unread until the
    /// next push or notification schedules the consumer. A consumer that uses signals drains
    /// them before it calls this (actor12's actors use none). It succeeds on a closed mailbox
    /// too, after which a second [`close`](Self::close) returns [`Push::Schedule`].
    ///
    /// # Safety
    /// As for [`try_idle`](Self::try_idle).
    pub unsafe fn try_idle_unless_notified(this: *const Self) -> bool {
        // SAFETY: the caller's contract; a local reference, as in `try_idle`.
        let this = unsafe { &*this };
        let mut state = this.tx.state().load();
        loop {
            if state.is_notified() {
                return false;
            }
            if state.is_idle() {
                // An already idle word is only read.
                this.wake_missed_waiter(state);
                return true;
            }
            this.wake_flagged_waiter(state);
            match this.tx.state().try_idle(state) {
                Ok(()) => return true,
                Err(now) => state = now,
            }
        }
    }

    /// Clears the notification flag set by [`notify`](Self::notify); true if it was set. Call it
    /// before polling whatever the notification was about, so that a notification arriving
    /// during the poll is kept and fails the next `try_idle`.
    ///
    /// # Safety
    /// As for [`pop`](Self::pop).
    pub unsafe fn take_notified(&self) -> bool {
        let state = self.tx.state();
        if !state.load().is_notified() {
            return false;
        }
        let before = state.take_notify();
        // A read-modify-write: it may stand for the idle transition a run spent on notifications.
        self.wake_flagged_waiter(before);
        before.is_notified()
    }

    /// Asks the consumer to run again without a message (a wake-up for an actor whose handler
    /// awaits something). Returns [`Push::Schedule`] if the consumer was idle: the caller must
    /// schedule it. Costs one atomic read-modify-write.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor12_mailbox::{Mailbox, Pop, Push};
    ///
    /// let mailbox: Mailbox<u32> = Mailbox::unbounded();
    /// assert_eq!(mailbox.notify(), Push::Schedule);
    /// assert_eq!(mailbox.notify(), Push::Queued);
    /// // SAFETY: the only consumer.
    /// unsafe {
    ///     assert!(!Mailbox::try_idle(&mailbox)); // the notification is pending
    ///     assert!(mailbox.take_notified());
    ///     assert_eq!(mailbox.pop(), Pop::Empty);
    ///     assert!(Mailbox::try_idle(&mailbox));
    /// }
    /// ```
    pub fn notify(&self) -> Push {
        if self.tx.state().notify() { Push::Schedule } else { Push::Queued }
    }

    /// [`notify`](Self::notify) through `&mut self`: nobody else can see the mailbox, so a
    /// plain write does it, with no atomic read-modify-write. For an owner that takes a new
    /// mailbox's run token before it shares the mailbox (actor12 does, for every actor it
    /// spawns).
    ///
    /// # Examples
    ///
    /// ```
    /// use actor12_mailbox::{Mailbox, Push};
    ///
    /// let mut mailbox: Mailbox<u32> = Mailbox::unbounded();
    /// assert_eq!(mailbox.notify_unshared(), Push::Schedule); // the run token is ours
    /// assert_eq!(mailbox.try_push(1).unwrap(), Push::Queued); // so this push schedules nothing
    /// ```
    pub fn notify_unshared(&mut self) -> Push {
        if self.tx.state_mut().notify_unshared() { Push::Schedule } else { Push::Queued }
    }

    /// Frees the mailbox's blocks, for a consumer that has finished for good while the mailbox
    /// itself stays (an actor that stopped, kept by a weak link): up to six blocks of 31
    /// messages each that a burst left behind. Pushes are refused from the close on, so no
    /// block is needed again. A consumer that never popped a message leaves the blocks (at most
    /// one, linked by a producer the close refused) to the mailbox's drop.
    ///
    /// # Safety
    /// As for [`pop`](Self::pop); the mailbox is closed and the caller has taken every message
    /// in it (its last pop returned [`Pop::Closed`], or, after the close, [`is_empty`](Self::is_empty)
    /// said so), and it pops no more.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor12_mailbox::{Mailbox, Pop};
    ///
    /// let mailbox: Mailbox<u32> = Mailbox::unbounded();
    /// let _ = mailbox.try_push(1);
    /// let _ = mailbox.close();
    /// // SAFETY: the only consumer, which pops no more after `Closed`.
    /// unsafe {
    ///     assert_eq!(mailbox.pop(), Pop::User(1));
    ///     assert_eq!(mailbox.pop(), Pop::Closed);
    ///     mailbox.release_blocks();
    /// }
    /// assert!(mailbox.try_push(2).is_err());
    /// ```
    pub unsafe fn release_blocks(&self) {
        // SAFETY: single consumer, finished (the contract).
        let rx = self.rx.with_mut(|p| unsafe { &mut *p });
        // SAFETY: as above.
        unsafe { rx.list.release_blocks(&self.tx) };
    }

    /// Closes the system lane and drops every signal in it; later
    /// [`push_system`](Self::push_system) calls fail. For a consumer that has finished for good.
    ///
    /// # Safety
    /// As for [`pop`](Self::pop).
    pub unsafe fn close_system(&self) {
        // SAFETY: single consumer.
        let rx = self.rx.with_mut(|p| unsafe { &mut *p });
        self.system.close(&mut rx.system);
    }
}

impl<T, S> Drop for Mailbox<T, S> {
    /// Drops every message, then every signal, each once, whatever their destructors do; the
    /// first panic among them goes on. The signals are dropped here, not by the lanes' own drops
    /// after this one: unwinding from a message's panic, a second from a signal's would abort
    /// the process.
    fn drop(&mut self) {
        let tx = &self.tx;
        // SAFETY: `&mut self`: no producer or consumer is running.
        let rx = self.rx.with_mut(|p| unsafe { &mut *p });
        // SAFETY: as above; each value is dropped once.
        let messages = catch_unwind(AssertUnwindSafe(|| unsafe { rx.list.drop_all(tx) }));
        let signals = catch_unwind(AssertUnwindSafe(|| self.system.close(&mut rx.system)));
        if let Err(payload) = messages.and(signals) {
            resume_unwind(payload);
        }
    }
}

impl<T, S> fmt::Debug for Mailbox<T, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mailbox")
            .field("len", &self.len())
            .field("capacity", &self.capacity())
            .field("closed", &self.is_closed())
            .finish_non_exhaustive()
    }
}

/// The future of [`Mailbox::push`]: resolves once the message is in, or handed back on close.
#[must_use = "futures do nothing unless polled"]
pub struct PushFuture<'a, T, S = ()> {
    mailbox: &'a Mailbox<T, S>,
    msg: Option<T>,
    ticket: Option<u64>,
}

impl<T, S> Unpin for PushFuture<'_, T, S> {}

impl<T, S> Future for PushFuture<'_, T, S> {
    type Output = Result<Push, SendError<T>>;

    /// The first poll that finds room (or the mailbox closed), the usual case, is inlined into
    /// the caller's: the message then moves into the slot without a round trip through the
    /// stack, which the caller would read back as wider words than were written (a failed store
    /// forward per message). Waiting for room is out of line.
    #[inline(always)]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        assert!(this.msg.is_some(), "`PushFuture` polled after it completed");
        if this.ticket.is_some() {
            // Queued for room: whether this poll may take some depends on its place in line.
            let msg = this.take_msg();
            return this.wait_for_room(msg, cx);
        }
        // The message stays in the future until its slot is claimed (`Tx::push_from`).
        // Relaxed: a stale count only makes the bounded check stricter.
        match this.mailbox.tx.push_from(&mut this.msg, || this.mailbox.head.load(Relaxed)) {
            Ok(push) => Poll::Ready(Ok(push)),
            Err(Refused::Closed) => Poll::Ready(Err(SendError(this.take_msg()))),
            Err(Refused::Full) => {
                let msg = this.take_msg();
                this.wait_for_room(msg, cx)
            }
        }
    }
}

impl<T, S> PushFuture<'_, T, S> {
    fn take_msg(&mut self) -> T {
        self.msg.take().expect("`PushFuture` polled after it completed")
    }

    /// The mailbox was full: queue for room (or take it, if it came meanwhile).
    #[inline(never)]
    fn wait_for_room(&mut self, msg: T, cx: &mut Context<'_>) -> Poll<Result<Push, SendError<T>>> {
        let this = self;
        let mailbox = this.mailbox;
        let mut held = Some(msg);
        let done =
            mailbox.waiters.wait(mailbox.tx.state(), &mut this.ticket, cx.waker(), |reserved| {
                let msg = held.take().expect("message present");
                // Relaxed: as in `try_push`.
                match mailbox.tx.push_in_turn(msg, reserved, || mailbox.head.load(Relaxed)) {
                    Ok(push) => Some(Ok(push)),
                    Err((Refused::Closed, msg)) => Some(Err(SendError(msg))),
                    Err((Refused::Full, msg)) => {
                        held = Some(msg);
                        None
                    }
                }
            });
        match done {
            Some(result) => Poll::Ready(result),
            None => {
                this.msg = held;
                Poll::Pending
            }
        }
    }

    /// Ends a push that is waiting for room by pushing its message past the bound
    /// ([`Mailbox::push_past_bound`]), leaving the queue of waiting producers. For a consumer
    /// that finds itself waiting on its own mailbox.
    ///
    /// # Panics
    ///
    /// If the push has completed.
    pub fn push_past_bound(&mut self) -> Result<Push, SendError<T>> {
        let msg = self.take_msg();
        let result = self.mailbox.push_past_bound(msg);
        self.finish(result)
    }

    /// Ends a push that waits for room without pushing: its message back, and the queue of
    /// waiting producers left (a wake-up meant for it passes on). `None` if the push completed.
    /// For a producer that must take its message elsewhere (a relay whose target moved on).
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::future::Future;
    /// use actor12_mailbox::Mailbox;
    ///
    /// let mailbox: Mailbox<&str> = Mailbox::bounded(1);
    /// let _ = mailbox.try_push("first").unwrap();
    /// let mut push = mailbox.push("second");
    /// let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// assert!(std::pin::Pin::new(&mut push).poll(&mut cx).is_pending()); // full: it waits
    /// assert_eq!(push.give_up(), Some("second"));
    /// assert_eq!(mailbox.len(), 1);
    /// ```
    pub fn give_up(&mut self) -> Option<T> {
        let msg = self.msg.take()?;
        self.mailbox.waiters.cancel(self.mailbox.tx.state(), self.ticket.take());
        Some(msg)
    }

    fn finish(&mut self, result: Result<Push, SendError<T>>) -> Result<Push, SendError<T>> {
        // Completed without its turn: leave the queue, or pass on the wake-up it had.
        self.mailbox.waiters.cancel(self.mailbox.tx.state(), self.ticket.take());
        result
    }
}

impl<T, S> Drop for PushFuture<'_, T, S> {
    fn drop(&mut self) {
        // A ticket means the push still waits (a completed one gave its ticket up), also after
        // a poll that panicked with its message out of the future: leave the queue, or pass
        // the wake-up on.
        if self.ticket.is_some() {
            self.mailbox.waiters.cancel(self.mailbox.tx.state(), self.ticket.take());
        }
    }
}

impl<T, S> fmt::Debug for PushFuture<'_, T, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PushFuture").field("waiting", &self.ticket.is_some()).finish()
    }
}
