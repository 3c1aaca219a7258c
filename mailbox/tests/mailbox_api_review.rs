//! The public API at its edges, as a user of the crate calls it: odd capacities, pushes after a
//! close in every flavour, push futures dropped at each stage, values dropped exactly once
//! (panicking destructors included), and the error types.

mod support;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::task::Poll;

use actor12_mailbox::{
    BLOCK_CAPACITY, Item, Mailbox, Pop, Push, SendError, TryRecvError, TrySendError, bounded,
    channel,
};
use support::{Bomb, CountingWaker, Tracked, poll_once};

#[test]
fn a_zero_capacity_is_refused_by_the_channel_too() {
    assert!(catch_unwind(|| bounded::<u8>(0)).is_err());
    assert!(catch_unwind(|| Mailbox::<u8, u8>::bounded(0)).is_err());
    assert_eq!(Mailbox::<u8>::bounded(1).capacity(), Some(1));
}

#[test]
fn len_counts_pushes_past_the_bound_and_the_bound_holds_until_below_it() {
    let mailbox: Mailbox<u32> = Mailbox::bounded(2);
    let _ = mailbox.try_push(0).unwrap();
    let _ = mailbox.try_push(1).unwrap();
    for i in 2..5 {
        let _ = mailbox.push_past_bound(i).unwrap();
    }
    assert_eq!((mailbox.len(), mailbox.capacity()), (5, Some(2)));
    assert!(mailbox.try_push(9).unwrap_err().is_full());
    for expect in 0..3 {
        // SAFETY: the only consumer.
        assert_eq!(unsafe { mailbox.pop() }, Pop::User(expect));
        assert!(mailbox.try_push(9).unwrap_err().is_full(), "len {}", mailbox.len());
    }
    // SAFETY: the only consumer.
    assert_eq!(unsafe { mailbox.pop() }, Pop::User(3));
    assert_eq!(mailbox.len(), 1);
    assert_eq!(mailbox.try_push(5), Ok(Push::Queued));
    assert!(mailbox.try_push(9).unwrap_err().is_full());
}

#[test]
fn every_push_after_close_hands_its_message_back() {
    let drops = Arc::new(AtomicUsize::new(0));
    let mailbox: Mailbox<Tracked, Tracked> = Mailbox::bounded(1);
    let _ = mailbox.try_push(Tracked::new(0, &drops)).unwrap();
    let (_, waker) = CountingWaker::new();
    let mut waiting = mailbox.push(Tracked::new(1, &drops));
    assert!(poll_once(&mut waiting, &waker).is_pending());
    let mut fresh = mailbox.push(Tracked::new(2, &drops));
    let mut waiting_past = mailbox.push(Tracked::new(3, &drops));
    assert!(poll_once(&mut waiting_past, &waker).is_pending());

    assert_eq!(mailbox.close(), Push::Queued);
    assert_eq!(mailbox.close(), Push::Queued, "closing twice");
    assert!(mailbox.is_closed());

    let back = |r: Poll<Result<Push, SendError<Tracked>>>| match r {
        Poll::Ready(Err(SendError(t))) => t.id,
        other => panic!("{other:?}"),
    };
    assert_eq!(back(poll_once(&mut waiting, &waker)), 1);
    assert_eq!(back(poll_once(&mut fresh, &waker)), 2);
    assert_eq!(waiting_past.push_past_bound().unwrap_err().0.id, 3);
    assert_eq!(mailbox.try_push(Tracked::new(4, &drops)).unwrap_err().into_inner().id, 4);
    assert_eq!(mailbox.push_past_bound(Tracked::new(5, &drops)).unwrap_err().0.id, 5);
    assert_eq!(drops.load(SeqCst), 5, "each refused message dropped by its caller, once");
    drop((waiting, fresh, waiting_past));
    assert_eq!(drops.load(SeqCst), 5, "a completed push future drops nothing more");

    // Signals still pass the closed user lane, until the consumer closes theirs.
    assert_eq!(mailbox.push_system(Tracked::new(6, &drops)).map_err(drop), Ok(Push::Queued));
    // SAFETY: the only consumer.
    unsafe {
        assert!(matches!(mailbox.pop(), Pop::System(t) if t.id == 6));
        assert!(matches!(mailbox.pop(), Pop::User(t) if t.id == 0));
        for _ in 0..3 {
            assert!(matches!(mailbox.pop(), Pop::Closed));
            assert!(!mailbox.has_next());
            // However long ago it was closed.
            assert!(!Mailbox::try_idle(&mailbox));
        }
        mailbox.close_system();
        mailbox.close_system();
    }
    assert_eq!(mailbox.push_system(Tracked::new(7, &drops)).unwrap_err().0.id, 7);
    assert_eq!(mailbox.len(), 0);
    drop(mailbox);
    assert_eq!(drops.load(SeqCst), 8);
}

#[test]
fn a_push_future_dropped_at_any_stage_drops_its_message_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let mailbox: Mailbox<Tracked> = Mailbox::bounded(1);
    let (_, waker) = CountingWaker::new();
    // Never polled.
    drop(mailbox.push(Tracked::new(0, &drops)));
    assert_eq!(drops.load(SeqCst), 1);
    // Completed at once: the message is in the mailbox, not in the future.
    let mut done = mailbox.push(Tracked::new(1, &drops));
    assert!(matches!(poll_once(&mut done, &waker), Poll::Ready(Ok(Push::Schedule))));
    drop(done);
    assert_eq!(drops.load(SeqCst), 1);
    // Queued for room.
    let mut queued = mailbox.push(Tracked::new(2, &drops));
    assert!(poll_once(&mut queued, &waker).is_pending());
    drop(queued);
    assert_eq!(drops.load(SeqCst), 2);
    // Woken by a pop, then dropped: the room goes to the next push.
    let mut woken = mailbox.push(Tracked::new(3, &drops));
    assert!(poll_once(&mut woken, &waker).is_pending());
    // SAFETY: the only consumer.
    assert!(matches!(unsafe { mailbox.pop() }, Pop::User(t) if t.id == 1));
    assert_eq!(drops.load(SeqCst), 3);
    drop(woken);
    assert_eq!(drops.load(SeqCst), 4);
    assert_eq!(mailbox.try_push(Tracked::new(4, &drops)).map_err(drop), Ok(Push::Queued));
    assert_eq!(mailbox.len(), 1);
    drop(mailbox);
    assert_eq!(drops.load(SeqCst), 5);
}

#[test]
fn a_panicking_user_message_still_lets_the_signals_drop() {
    let dropped = Arc::new(AtomicUsize::new(0));
    let mailbox: Mailbox<Bomb, Tracked> = Mailbox::unbounded();
    for i in 0..BLOCK_CAPACITY + 2 {
        let _ = mailbox.try_push(Bomb(dropped.clone(), i == 0)).unwrap();
    }
    for i in 0..3 {
        let _ = mailbox.push_system(Tracked::new(i, &dropped)).unwrap();
    }
    // SAFETY: the only consumer; one signal popped, two left in its taken list.
    assert!(matches!(unsafe { mailbox.pop() }, Pop::System(_)));
    let _ = mailbox.push_system(Tracked::new(3, &dropped)).unwrap();
    assert!(catch_unwind(AssertUnwindSafe(|| drop(mailbox))).is_err());
    assert_eq!(dropped.load(SeqCst), BLOCK_CAPACITY + 2 + 4);
}

/// A signal whose destructor panics: counts its drops like [`Tracked`].
struct SignalBomb(Arc<AtomicUsize>);

impl Drop for SignalBomb {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
        panic!("a signal's destructor panicked (expected by the test)");
    }
}

/// A message and signals whose destructors panic, the signals both in the consumer's taken
/// list and in the lane: the mailbox's drop drops each once and lets the first panic go on. It
/// used to re-raise the message's panic and then, unwinding, a signal's from the lanes' own
/// drops: a panic during cleanup, which aborted the process.
#[test]
fn a_mailbox_whose_message_and_signals_panic_when_dropped_drops_each_once() {
    let dropped = Arc::new(AtomicUsize::new(0));
    let mailbox: Mailbox<Bomb, SignalBomb> = Mailbox::unbounded();
    let _ = mailbox.try_push(Bomb(dropped.clone(), true)).unwrap();
    let _ = mailbox.try_push(Bomb(dropped.clone(), false)).unwrap();
    for _ in 0..3 {
        let _ = mailbox.push_system(SignalBomb(dropped.clone())).unwrap();
    }
    // SAFETY: the only consumer; one signal popped (and dropped), two left in its taken list.
    let popped = catch_unwind(AssertUnwindSafe(|| drop(unsafe { mailbox.pop() })));
    assert!(popped.is_err());
    let _ = mailbox.push_system(SignalBomb(dropped.clone())).unwrap();
    let payload = catch_unwind(AssertUnwindSafe(|| drop(mailbox))).unwrap_err();
    let text = payload.downcast_ref::<&str>().copied().unwrap_or_default();
    assert!(text.starts_with("a message's destructor"), "the first panic goes on: {text:?}");
    assert_eq!(dropped.load(SeqCst), 2 + 4);
}

#[test]
fn the_error_types_need_no_debug_message_and_work_as_errors() {
    struct Opaque(u8);
    let full: TrySendError<Opaque> = TrySendError::Full(Opaque(1));
    assert_eq!(format!("{full:?} / {full}"), "Full(..) / mailbox full");
    assert!(full.is_full() && !full.is_closed());
    assert_eq!(full.into_inner().0, 1);
    let closed: TrySendError<Opaque> = SendError(Opaque(2)).into();
    assert_eq!(format!("{closed:?} / {closed}"), "Closed(..) / mailbox closed");
    assert!(closed.is_closed() && !closed.is_full());
    assert_eq!(closed.into_inner().0, 2);
    let send = SendError(Opaque(3));
    assert_eq!(format!("{send:?} / {send}"), "SendError(..) / mailbox closed");
    assert_eq!(send.into_inner().0, 3);
    let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(SendError(4u8));
    assert_eq!(boxed.to_string(), "mailbox closed");
    assert!(boxed.source().is_none());
    let boxed: Box<dyn std::error::Error> = Box::new(TrySendError::Full(5u8));
    assert_eq!(boxed.to_string(), "mailbox full");
    for (err, text) in
        [(TryRecvError::Empty, "mailbox empty"), (TryRecvError::Closed, "mailbox closed")]
    {
        let boxed: Box<dyn std::error::Error> = Box::new(err);
        assert_eq!(boxed.to_string(), text);
    }
}

#[test]
fn is_written_ahead_takes_any_distance() {
    let mailbox: Mailbox<u32> = Mailbox::unbounded();
    let _ = mailbox.try_push(1).unwrap();
    // SAFETY: the only consumer.
    unsafe {
        assert!(mailbox.is_written_ahead(0));
        assert!(!mailbox.is_written_ahead(1));
        // Capped at the end of the block, where nothing is written yet.
        assert!(!mailbox.is_written_ahead(usize::MAX));
        assert_eq!(mailbox.pop(), Pop::User(1));
        assert!(!mailbox.is_written_ahead(usize::MAX));
    }
}

#[test]
fn a_channel_receives_in_order_after_close_until_drained() {
    let (tx, mut rx) = channel::<u32, u8>(Mailbox::bounded(3));
    for i in 0..3 {
        tx.try_send(i).unwrap();
    }
    tx.close();
    tx.close();
    assert!(rx.is_closed());
    assert_eq!(rx.len(), 3);
    tx.send_system(7).unwrap();
    assert_eq!(rx.try_recv(), Ok(Item::System(7)));
    for i in 0..3 {
        assert_eq!(rx.recv(), Some(Item::User(i)));
    }
    for _ in 0..2 {
        assert_eq!(rx.recv(), None);
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    }
    assert!(rx.is_empty());
}
/// The consumer's taken list and the lane's stack are dropped apart: a panic in one used to
/// leave the other's signals undropped until the mailbox went.
#[test]
fn closing_the_system_lane_drops_every_signal_though_a_destructor_panics() {
    // Where the panicking signal is: in the consumer's taken list, in the lane, or both.
    for (taken_panics, pushed_panics) in [(false, true), (true, false), (true, true)] {
        let dropped = Arc::new(AtomicUsize::new(0));
        let mailbox: Mailbox<u32, Bomb> = Mailbox::unbounded();
        for i in 0..3 {
            let bomb = Bomb(dropped.clone(), taken_panics && i == 1);
            let _ = mailbox.push_system(bomb).unwrap();
        }
        // SAFETY: the only consumer: one signal popped, two left in its taken list.
        assert!(matches!(unsafe { mailbox.pop() }, Pop::System(_)));
        for i in 0..2 {
            let _ = mailbox.push_system(Bomb(dropped.clone(), pushed_panics && i == 0)).unwrap();
        }
        // SAFETY: the only consumer.
        let closing = catch_unwind(AssertUnwindSafe(|| unsafe { mailbox.close_system() }));
        assert!(closing.is_err(), "the panic goes on");
        let case = (taken_panics, pushed_panics);
        assert_eq!(dropped.load(SeqCst), 5, "signals outlived the close of their lane: {case:?}");
        drop(mailbox);
        assert_eq!(dropped.load(SeqCst), 5, "a signal dropped twice: {case:?}");
    }
}
/// The receiver's drop used to stop at the first panicking destructor, leaving the rest to
/// the last sender's drop.
#[test]
fn dropping_the_receiver_drops_every_message_though_a_destructor_panics() {
    // A panicking user message, then a panicking signal (dropped first, by the lane's close).
    for signal_panics in [false, true] {
        let dropped = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = channel::<Bomb, Bomb>(Mailbox::unbounded());
        for i in 0..5 {
            tx.try_send(Bomb(dropped.clone(), !signal_panics && i == 1)).unwrap();
        }
        tx.send_system(Bomb(dropped.clone(), signal_panics)).unwrap();
        assert!(catch_unwind(AssertUnwindSafe(|| drop(rx))).is_err(), "the panic goes on");
        // The sender lives on: what the receiver accepted must not wait for it.
        assert_eq!(dropped.load(SeqCst), 6, "messages outlived their receiver: {signal_panics}");
        assert!(tx.try_send(Bomb(dropped.clone(), false)).unwrap_err().is_closed());
        assert_eq!(dropped.load(SeqCst), 7);
        drop(tx);
        assert_eq!(dropped.load(SeqCst), 7, "a message dropped twice");
    }
}

/// `channel` takes any mailbox, one notified already too. A receiver cannot take a
/// notification, and one left pending failed its every offer to go idle: `poll_recv` never
/// returned, `recv` spun instead of parking.
#[test]
fn a_channel_over_a_notified_mailbox_can_wait() {
    let mailbox: Mailbox<u32> = Mailbox::unbounded();
    assert_eq!(mailbox.notify(), Push::Schedule);
    let (tx, mut rx) = channel(mailbox);
    let (counter, waker) = CountingWaker::new();
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    // On its own thread, so that the test fails rather than hangs.
    std::thread::spawn(move || {
        let pending = rx.poll_recv(&mut std::task::Context::from_waker(&waker)).is_pending();
        done_tx.send((pending, rx)).unwrap();
    });
    let (pending, mut rx) =
        done_rx.recv_timeout(std::time::Duration::from_secs(30)).expect("poll_recv never returned");
    assert!(pending);
    tx.try_send(1).unwrap();
    assert_eq!(counter.count(), 1, "the send did not wake the idle receiver");
    assert_eq!(rx.try_recv(), Ok(Item::User(1)));
}
