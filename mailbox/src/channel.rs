//! `Sender`/`Receiver` handles over a shared [`Mailbox`], for use outside an actor runtime.
//!
//! The receiver is "scheduled" the way an actor is: when it runs dry it registers a waker and
//! offers to go idle; the one sender whose push returns [`Push::Schedule`] wakes it. Waking
//! therefore costs nothing while the receiver is busy, and one lock plus one wake per idle period
//! otherwise. The blocking [`Receiver::recv`] spins briefly before it parks, like
//! crossbeam-channel, because waking a parked thread costs microseconds.

use std::fmt;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};

use crate::error::{SendError, TryRecvError, TrySendError};
use crate::loom::{AtomicUsize, Mutex, Ordering::*};
use crate::mailbox::{Mailbox, Pop, Push, PushFuture};

/// What a [`Receiver`] receives: a system signal or a user message.
#[derive(Debug, PartialEq, Eq)]
pub enum Item<T, S> {
    /// From [`Sender::send_system`]; received before any user message.
    System(S),
    /// From [`Sender::try_send`] or [`Sender::send`].
    User(T),
}

impl<T, S> Item<T, S> {
    /// The user message, if this is one.
    pub fn user(self) -> Option<T> {
        match self {
            Item::User(msg) => Some(msg),
            Item::System(_) => None,
        }
    }
}

struct Chan<T, S> {
    mailbox: Mailbox<T, S>,
    /// The receiver's waker while it is idle. Touched once per idle period on each side.
    waker: Mutex<Option<Waker>>,
    senders: AtomicUsize,
}

impl<T, S> Chan<T, S> {
    fn notify(&self, push: Push) {
        if push == Push::Schedule {
            let waker = self.waker.lock().take();
            if let Some(waker) = waker {
                waker.wake();
            }
        }
    }
}

/// Creates a channel with an unbounded user lane.
///
/// # Examples
///
/// ```
/// let (tx, mut rx) = actor12_mailbox::unbounded::<u32>();
/// std::thread::spawn(move || tx.try_send(42).unwrap());
/// assert_eq!(rx.recv().and_then(|item| item.user()), Some(42));
/// ```
pub fn unbounded<T>() -> (Sender<T>, Receiver<T>) {
    channel(Mailbox::unbounded())
}

/// Creates a channel whose user lane holds at most `capacity` messages.
///
/// # Panics
/// If `capacity` is 0.
///
/// # Examples
///
/// ```
/// let (tx, _rx) = actor12_mailbox::bounded::<u32>(1);
/// tx.try_send(1).unwrap();
/// assert!(tx.try_send(2).unwrap_err().is_full());
/// ```
pub fn bounded<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    channel(Mailbox::bounded(capacity))
}

/// Creates a channel over a mailbox made with [`Mailbox::unbounded`] or [`Mailbox::bounded`],
/// for a system lane of a type other than `()`.
///
/// # Examples
///
/// ```
/// use actor12_mailbox::{Item, Mailbox, channel};
///
/// let (tx, mut rx) = channel::<u32, &str>(Mailbox::unbounded());
/// tx.try_send(1).unwrap();
/// tx.send_system("stop").unwrap();
/// assert_eq!(rx.recv(), Some(Item::System("stop")));
/// ```
pub fn channel<T, S>(mailbox: Mailbox<T, S>) -> (Sender<T, S>, Receiver<T, S>) {
    // A receiver cannot take a notification (`Mailbox::notify`), and one left pending would
    // fail its every offer to go idle: `poll_recv` would never return. None can come later.
    // SAFETY: the mailbox is ours by value: nobody else consumes it.
    let _ = unsafe { mailbox.take_notified() };
    let chan = Arc::new(Chan { mailbox, waker: Mutex::new(None), senders: AtomicUsize::new(1) });
    (Sender { chan: chan.clone() }, Receiver { chan, parker: None, run: 0 })
}

/// The sending half. Cheap to clone; usable from any thread. When the last sender is dropped the
/// channel closes, and the receiver sees [`None`] once it has received everything.
pub struct Sender<T, S = ()> {
    chan: Arc<Chan<T, S>>,
}

impl<T, S> Sender<T, S> {
    /// Sends without waiting; hands the message back if the channel is full, or senders are
    /// waiting for room in it (they go first), or it is closed.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor12_mailbox::TrySendError;
    ///
    /// let (tx, rx) = actor12_mailbox::bounded::<u8>(1);
    /// tx.try_send(1).unwrap();
    /// assert_eq!(tx.try_send(2), Err(TrySendError::Full(2)));
    /// drop(rx);
    /// assert_eq!(tx.try_send(3), Err(TrySendError::Closed(3)));
    /// ```
    pub fn try_send(&self, msg: T) -> Result<(), TrySendError<T>> {
        let push = self.chan.mailbox.try_push(msg)?;
        self.chan.notify(push);
        Ok(())
    }

    /// Sends, waiting for room if the channel is bounded and full.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
    /// #     let mut f = std::pin::pin!(f);
    /// #     let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// #     loop { if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v } }
    /// # }
    /// let (tx, mut rx) = actor12_mailbox::bounded::<u32>(4);
    /// block_on(tx.send(7)).unwrap();
    /// assert_eq!(rx.try_recv().unwrap().user(), Some(7));
    /// ```
    pub fn send(&self, msg: T) -> SendFuture<'_, T, S> {
        SendFuture { chan: &self.chan, push: self.chan.mailbox.push(msg) }
    }

    /// Sends a system signal: received before user messages, never refused for lack of room,
    /// and accepted after [`close`](Self::close) until the receiver is gone.
    pub fn send_system(&self, signal: S) -> Result<(), SendError<S>> {
        let push = self.chan.mailbox.push_system(signal)?;
        self.chan.notify(push);
        Ok(())
    }

    /// Closes the user lane for every sender.
    pub fn close(&self) {
        self.chan.notify(self.chan.mailbox.close());
    }

    /// True once the channel is closed.
    pub fn is_closed(&self) -> bool {
        self.chan.mailbox.is_closed()
    }

    /// User messages waiting in the channel.
    pub fn len(&self) -> usize {
        self.chan.mailbox.len()
    }

    /// True if no user message is waiting.
    pub fn is_empty(&self) -> bool {
        self.chan.mailbox.is_empty()
    }

    /// The bound on user messages; `None` for an unbounded channel.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = actor12_mailbox::bounded::<u8>(4);
    /// assert_eq!(tx.capacity(), Some(4));
    /// let (tx, _rx) = actor12_mailbox::unbounded::<u8>();
    /// assert_eq!(tx.capacity(), None);
    /// ```
    pub fn capacity(&self) -> Option<usize> {
        self.chan.mailbox.capacity()
    }
}

impl<T, S> Clone for Sender<T, S> {
    fn clone(&self) -> Self {
        // Relaxed: as for `Arc`, a new handle can only come from an existing one.
        self.chan.senders.fetch_add(1, Relaxed);
        Sender { chan: self.chan.clone() }
    }
}

impl<T, S> Drop for Sender<T, S> {
    fn drop(&mut self) {
        // AcqRel: the last sender closes after every other sender's pushes.
        if self.chan.senders.fetch_sub(1, AcqRel) == 1 {
            self.close();
        }
    }
}

/// The future of [`Sender::send`].
#[must_use = "futures do nothing unless polled"]
pub struct SendFuture<'a, T, S = ()> {
    chan: &'a Chan<T, S>,
    push: PushFuture<'a, T, S>,
}

impl<T, S> Future for SendFuture<'_, T, S> {
    type Output = Result<(), SendError<T>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        Pin::new(&mut this.push).poll(cx).map(|result| {
            this.chan.notify(result?);
            Ok(())
        })
    }
}

/// The receiving half. Only one exists per channel; dropping it closes the channel and drops the
/// messages still in it (senders get later ones back).
pub struct Receiver<T, S = ()> {
    chan: Arc<Chan<T, S>>,
    /// A waker that unparks the thread blocked in `recv`, kept to avoid allocating per wait.
    parker: Option<(thread::ThreadId, Waker)>,
    /// Messages `recv` may still pop before it checks again that it is a cache line behind the
    /// producers (see `lag_behind_producers`).
    run: usize,
}

/// How long `recv` waits for a producer to move past the cache line it is about to read: this
/// many yields, each followed by a look at the next line. Yielding rather than spinning leaves
/// the core to a producer when threads outnumber cores.
const LINE_WAIT: u32 = 4;

/// How a blocked receiver waits before it parks: a few short spins (a producer on the other
/// core is moments away), then yields (a producer may need this core to finish), then park.
/// Yielding early matters when threads outnumber cores: a long spin only burns the time slice a
/// producer needs.
#[derive(Default)]
struct Wait(u32);

impl Wait {
    const SPINS: u32 = 4;
    const YIELDS: u32 = 16;

    fn step(&mut self) {
        if self.0 < Self::SPINS {
            for _ in 0..1 << self.0 {
                crate::loom::spin_loop();
            }
        } else {
            thread::yield_now();
        }
        self.0 += 1;
    }

    fn is_over(&self) -> bool {
        self.0 >= Self::SPINS + Self::YIELDS
    }
}

struct Unpark(Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

impl<T, S> Receiver<T, S> {
    /// Receives without waiting.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor12_mailbox::{Item, TryRecvError};
    ///
    /// let (tx, mut rx) = actor12_mailbox::unbounded::<u8>();
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// tx.try_send(1).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(Item::User(1)));
    /// drop(tx);
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    /// ```
    pub fn try_recv(&mut self) -> Result<Item<T, S>, TryRecvError> {
        // SAFETY: `&mut self` on the only receiver makes this the only consumer.
        match unsafe { self.chan.mailbox.pop() } {
            Pop::System(s) => Ok(Item::System(s)),
            Pop::User(m) => Ok(Item::User(m)),
            // A message being written is not there yet; waiting for it (its producer may have
            // been preempted) would make `try_recv` block.
            Pop::Empty | Pop::Busy => Err(TryRecvError::Empty),
            Pop::Closed => Err(TryRecvError::Closed),
        }
    }

    /// Receives, blocking the thread until something arrives. `None` once the channel is closed
    /// and drained.
    pub fn recv(&mut self) -> Option<Item<T, S>> {
        let mut wait = Wait::default();
        loop {
            // Wait on our own next slot first: `pop` on an empty mailbox reads the state word the
            // producers CAS, and a consumer that keeps up would otherwise pull that line away
            // from them once per message.
            // SAFETY: `&mut self` on the only receiver makes this the only consumer.
            let keeping_pace = unsafe { self.chan.mailbox.has_next() };
            // SAFETY: as above.
            while !unsafe { self.chan.mailbox.has_next() } && !wait.is_over() {
                wait.step();
            }
            if !keeping_pace {
                // We waited for this message: the producers are slower than us, nothing to
                // lag behind, and a lone message must not wait.
                self.run = 0;
            } else if self.run == 0 {
                self.run = self.lag_behind_producers() - 1;
            } else {
                self.run -= 1;
            }
            // SAFETY: as above.
            match unsafe { self.chan.mailbox.pop() } {
                Pop::System(s) => return Some(Item::System(s)),
                Pop::User(m) => return Some(Item::User(m)),
                Pop::Closed => return None,
                // A slot claimed but not written: the producer needs a moment (and maybe a core).
                Pop::Busy => thread::yield_now(),
                Pop::Empty => {
                    let waker = self.thread_waker();
                    if self.idle(&waker) {
                        thread::park();
                    }
                    wait = Wait::default();
                }
            }
        }
    }

    /// Receives asynchronously. `None` once the channel is closed and drained.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
    /// #     let mut f = std::pin::pin!(f);
    /// #     let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// #     loop { if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v } }
    /// # }
    /// let (tx, mut rx) = actor12_mailbox::unbounded::<u32>();
    /// tx.try_send(5).unwrap();
    /// drop(tx);
    /// assert_eq!(block_on(rx.recv_async()).and_then(|i| i.user()), Some(5));
    /// assert_eq!(block_on(rx.recv_async()), None);
    /// ```
    pub fn recv_async(&mut self) -> RecvFuture<'_, T, S> {
        RecvFuture { rx: self }
    }

    /// Polls for the next item; registers `cx`'s waker when there is none.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<Item<T, S>>> {
        loop {
            // SAFETY: `&mut self` on the only receiver makes this the only consumer.
            match unsafe { self.chan.mailbox.pop() } {
                Pop::System(s) => return Poll::Ready(Some(Item::System(s))),
                Pop::User(m) => return Poll::Ready(Some(Item::User(m))),
                Pop::Closed => return Poll::Ready(None),
                Pop::Busy => {
                    // Never park on a half-written slot: ask to be polled again.
                    cx.waker().wake_by_ref();
                    return Poll::Pending;
                }
                Pop::Empty => {
                    if self.idle(cx.waker()) {
                        return Poll::Pending;
                    }
                }
            }
        }
    }

    /// Closes the channel; messages already sent can still be received.
    pub fn close(&mut self) {
        let _ = self.chan.mailbox.close();
    }

    /// True once the channel is closed (by [`close`](Self::close), a sender's
    /// [`close`](Sender::close), or the last sender's drop).
    pub fn is_closed(&self) -> bool {
        self.chan.mailbox.is_closed()
    }

    /// User messages waiting in the channel (the same count as [`Sender::len`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = actor12_mailbox::bounded::<u8>(8);
    /// tx.try_send(1).unwrap();
    /// tx.try_send(2).unwrap();
    /// assert_eq!((rx.len(), rx.capacity()), (2, Some(8)));
    /// rx.try_recv().unwrap();
    /// assert_eq!(rx.len(), 1);
    /// drop(tx);
    /// assert!(rx.is_closed() && !rx.is_empty());
    /// ```
    pub fn len(&self) -> usize {
        self.chan.mailbox.len()
    }

    /// True if no user message is waiting.
    pub fn is_empty(&self) -> bool {
        self.chan.mailbox.is_empty()
    }

    /// The bound on user messages; `None` for an unbounded channel.
    pub fn capacity(&self) -> Option<usize> {
        self.chan.mailbox.capacity()
    }

    /// Keeps a receiver that keeps pace with its producers one cache line behind them: if it
    /// read each line while a producer was still writing it, the line would cross cores once per
    /// message, slowing both sides (on the 2-vCPU test machine this took SPSC from about 50 to
    /// about 110 ns per message). Waits, briefly (a few yields) and without touching the
    /// producers' lines, until a slot in the line after the next one is written; returns how
    /// many messages may be popped before checking again.
    fn lag_behind_producers(&self) -> usize {
        let line = Mailbox::<T, S>::messages_per_line();
        for _ in 0..LINE_WAIT {
            // SAFETY: `&mut self` (our caller's) on the only receiver: the only consumer.
            if unsafe { self.chan.mailbox.is_written_ahead(2 * line - 1) } {
                return line;
            }
            thread::yield_now();
        }
        // The producers have stopped, or are slow: take what there is, one message at a time.
        1
    }

    /// Registers `waker` and offers to go idle; true if idle (the next send wakes `waker`).
    fn idle(&self, waker: &Waker) -> bool {
        let replaced = {
            let mut slot = self.chan.waker.lock();
            match &*slot {
                Some(w) if w.will_wake(waker) => None,
                _ => slot.replace(waker.clone()),
            }
        };
        // Outside the lock: a waker's drop is its executor's code, which may drop the last
        // sender, whose drop takes the lock to wake us.
        drop(replaced);
        // SAFETY: only the receiver consumes.
        unsafe { Mailbox::try_idle(&self.chan.mailbox) }
    }

    fn thread_waker(&mut self) -> Waker {
        let me = thread::current();
        match &self.parker {
            Some((id, waker)) if *id == me.id() => waker.clone(),
            _ => {
                let waker = Waker::from(Arc::new(Unpark(me.clone())));
                self.parker = Some((me.id(), waker.clone()));
                waker
            }
        }
    }
}

impl<T, S> Drop for Receiver<T, S> {
    fn drop(&mut self) {
        let _ = self.chan.mailbox.close();
        let mailbox = &self.chan.mailbox;
        // A message whose destructor panics does not keep the others: as `Vec` does, the rest
        // are still dropped, and the first panic goes on once all are.
        // SAFETY: the receiver is the only consumer, and it is going away.
        let mut dropped = catch_unwind(AssertUnwindSafe(|| unsafe { mailbox.close_system() }));
        // Drop what was accepted before the close now, not when the last sender goes: senders
        // may live on, and a message may hold something its sender waits on (a reply slot).
        loop {
            // SAFETY: the receiver is the only consumer, and it is going away.
            let item = match unsafe { mailbox.pop() } {
                Pop::User(msg) => Item::User(msg),
                Pop::System(signal) => Item::System(signal),
                // Claimed before the close, not written yet: its producer is a few stores away.
                Pop::Busy => {
                    thread::yield_now();
                    continue;
                }
                Pop::Empty | Pop::Closed => break,
            };
            dropped = dropped.and(catch_unwind(AssertUnwindSafe(|| drop(item))));
        }
        if let Err(payload) = dropped {
            resume_unwind(payload);
        }
    }
}

/// The future of [`Receiver::recv_async`].
#[must_use = "futures do nothing unless polled"]
pub struct RecvFuture<'a, T, S = ()> {
    rx: &'a mut Receiver<T, S>,
}

impl<T, S> Future for RecvFuture<'_, T, S> {
    type Output = Option<Item<T, S>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.get_mut().rx.poll_recv(cx)
    }
}

impl<T, S> fmt::Debug for Sender<T, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender").field("mailbox", &self.chan.mailbox).finish()
    }
}

impl<T, S> fmt::Debug for Receiver<T, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver").field("mailbox", &self.chan.mailbox).finish()
    }
}

impl<T, S> fmt::Debug for SendFuture<'_, T, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendFuture").finish_non_exhaustive()
    }
}

impl<T, S> fmt::Debug for RecvFuture<'_, T, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecvFuture").finish_non_exhaustive()
    }
}
