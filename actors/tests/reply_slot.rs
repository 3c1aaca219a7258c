//! The one-shot reply slot: answer, sender dropped, asker dropped, wakers, drops.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::task::{Context, Poll, Wake, Waker};
use std::thread;

use actor12::oneshot::{self, RecvError, TryRecvError};

mod support;
use support::quiet_booms;

#[derive(Default)]
struct Count(AtomicUsize);

impl Wake for Count {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }
}

fn waker() -> (Arc<Count>, Waker) {
    let count = Arc::new(Count::default());
    (count.clone(), Waker::from(count))
}

fn poll<F: Future + Unpin>(fut: &mut F, waker: &Waker) -> Poll<F::Output> {
    Pin::new(fut).poll(&mut Context::from_waker(waker))
}

struct Tracked(Arc<AtomicUsize>);

impl Drop for Tracked {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

#[test]
fn a_sent_answer_wakes_the_registered_waker_once() {
    let (tx, mut rx) = oneshot::channel();
    let (count, w) = waker();
    assert!(poll(&mut rx, &w).is_pending());
    assert!(poll(&mut rx, &w).is_pending(), "re-polling with the same waker is fine");
    tx.send(5).unwrap();
    assert_eq!(count.0.load(SeqCst), 1);
    assert_eq!(poll(&mut rx, &w), Poll::Ready(Ok(5)));
}

#[test]
fn the_newest_waker_is_the_one_woken() {
    let (tx, mut rx) = oneshot::channel::<u8>();
    let (first, w1) = waker();
    let (second, w2) = waker();
    assert!(poll(&mut rx, &w1).is_pending());
    assert!(poll(&mut rx, &w2).is_pending());
    drop(tx);
    assert_eq!((first.0.load(SeqCst), second.0.load(SeqCst)), (0, 1));
    assert_eq!(poll(&mut rx, &w2), Poll::Ready(Err(RecvError)));
}

#[test]
fn a_dropped_sender_resolves_the_asker_at_once() {
    let (tx, mut rx) = oneshot::channel::<u8>();
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    assert!(!rx.is_terminated());
    drop(tx);
    assert!(rx.is_terminated());
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

/// Once `try_recv` has reported the end (an answer taken, or the sender gone), later calls keep
/// saying `Closed`: a second call after `Closed` used to panic with "the reply was already
/// taken", though nothing was, so a loop that polled an ask with `try_recv` crashed its actor.
#[test]
fn try_recv_after_the_end_keeps_saying_closed() {
    let (tx, mut rx) = oneshot::channel::<u8>();
    drop(tx);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    assert!(rx.is_terminated());

    let (tx, mut rx) = oneshot::channel();
    tx.send(3).unwrap();
    assert_eq!(rx.try_recv(), Ok(3));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn a_send_to_a_dropped_asker_hands_the_value_back() {
    let (tx, rx) = oneshot::channel();
    assert!(!tx.is_closed());
    drop(rx);
    assert!(tx.is_closed());
    assert_eq!(tx.send("answer"), Err("answer"));
}

#[test]
fn an_answer_nobody_takes_is_dropped_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = oneshot::channel();
    tx.send(Tracked(drops.clone())).map_err(drop).unwrap();
    assert_eq!(drops.load(SeqCst), 0);
    drop(rx);
    assert_eq!(drops.load(SeqCst), 1);

    let (tx, mut rx) = oneshot::channel();
    tx.send(Tracked(drops.clone())).map_err(drop).unwrap();
    drop(rx.try_recv().map_err(drop).unwrap());
    drop(rx);
    assert_eq!(drops.load(SeqCst), 2, "taken then dropped by the taker, not again by the slot");
}

#[test]
fn answers_cross_threads() {
    // Fewer under Miri, whose thread spawns are slow (1,000 took 37 s there).
    for i in 0..if cfg!(miri) { 50 } else { 1000u32 } {
        let (tx, rx) = oneshot::channel();
        let t = thread::spawn(move || tx.send(i).unwrap());
        let (_, w) = waker();
        let mut rx = rx;
        let got = loop {
            match poll(&mut rx, &w) {
                Poll::Ready(v) => break v,
                Poll::Pending => thread::yield_now(),
            }
        };
        assert_eq!(got, Ok(i));
        t.join().unwrap();
    }
}

#[test]
#[should_panic(expected = "polled after it completed")]
fn polling_after_completion_is_a_clear_error() {
    let (tx, mut rx) = oneshot::channel();
    tx.send(1).unwrap();
    let w = Waker::noop();
    assert_eq!(poll(&mut rx, w), Poll::Ready(Ok(1)));
    let _ = poll(&mut rx, w);
}

/// Real threads race every ending of an ask: the answer or the sender's drop against an asker
/// that registers one waker, replaces it with another, keeps polling, or gives up. Afterwards
/// every waker clone the slot took is gone (woken or dropped, once) and the answer was dropped
/// exactly once. CI runs this under valgrind, which also catches a use of a freed slot.
#[test]
fn racing_endings_leak_no_waker_and_drop_the_answer_once() {
    let div: u32 =
        std::env::var("ACTOR12_STRESS_DIV").ok().and_then(|v| v.parse().ok()).unwrap_or(1);
    let rounds = 20_000 / div.max(1);
    let (to_sender, requests) = std::sync::mpsc::channel::<(u32, oneshot::Sender<Tracked>)>();
    let (done_tx, done) = std::sync::mpsc::channel::<()>();
    let drops = Arc::new(AtomicUsize::new(0));
    let sender = {
        let drops = drops.clone();
        thread::spawn(move || {
            for (i, tx) in requests {
                if i % 5 == 0 {
                    drop(tx); // the handler drops the request unanswered
                } else {
                    let _ = tx.send(Tracked(drops.clone()));
                }
                done_tx.send(()).unwrap();
            }
        })
    };
    let (first, first_waker) = waker();
    let (second, second_waker) = waker();
    let mut answered = 0;
    for i in 0..rounds {
        let (tx, mut rx) = oneshot::channel::<Tracked>();
        to_sender.send((i, tx)).unwrap();
        let mut outcome = poll(&mut rx, &first_waker);
        if outcome.is_pending() {
            outcome = poll(&mut rx, &second_waker);
        }
        match (i % 3, outcome) {
            (_, Poll::Ready(result)) => answered += u32::from(result.is_ok()),
            (0, Poll::Pending) => drop(rx), // the asker gives up
            (_, Poll::Pending) => loop {
                // Alternate wakers while waiting, as a select over changing futures would.
                let waker = if i % 2 == 0 { &first_waker } else { &second_waker };
                if let Poll::Ready(result) = poll(&mut rx, waker) {
                    answered += u32::from(result.is_ok());
                    break;
                }
                thread::yield_now();
            },
        }
        done.recv().unwrap();
        assert_eq!(Arc::strong_count(&first), 2, "round {i}: the first waker leaked a clone");
        assert_eq!(Arc::strong_count(&second), 2, "round {i}: the second waker leaked a clone");
    }
    drop(to_sender);
    sender.join().unwrap();
    let sent = (0..rounds).filter(|i| i % 5 != 0).count();
    assert_eq!(drops.load(SeqCst), sent, "every answer sent is dropped exactly once");
    assert!(answered as usize <= sent);
}

/// An asker that gives up (a timeout, a lost `select`) while the sender lives on, unfinished (a
/// handler that parked the reply slot and never answers): the slot gave the asker's waker back
/// only when the sender finished, so each abandoned ask kept its asker's task alive (its whole
/// allocation) for as long as the parked slot lived.
#[test]
fn an_asker_that_gives_up_leaves_no_waker_with_a_parked_sender() {
    let (count, waker) = waker();
    let (tx, mut rx) = oneshot::channel::<u32>();
    assert!(poll(&mut rx, &waker).is_pending());
    assert_eq!(Arc::strong_count(&count), 3, "the slot holds one clone while the asker waits");
    drop(rx);
    assert_eq!(Arc::strong_count(&count), 2, "the asker's waker stayed in the slot");
    assert!(tx.is_closed());
    assert_eq!(tx.send(1), Err(1));
    assert_eq!(count.0.load(SeqCst), 0, "nobody woke the asker that left");
}

/// The sender's `closed`: pending while the asker waits, woken once when the asker goes (with a
/// waker that was registered and then replaced), and ready at once afterwards.
#[test]
fn closed_wakes_the_sender_when_the_asker_goes() {
    let (mut tx, rx) = oneshot::channel::<u32>();
    let (first, w1) = waker();
    let (second, w2) = waker();
    let mut closed = Box::pin(tx.closed());
    assert!(closed.as_mut().poll(&mut Context::from_waker(&w1)).is_pending());
    assert!(closed.as_mut().poll(&mut Context::from_waker(&w1)).is_pending());
    assert!(closed.as_mut().poll(&mut Context::from_waker(&w2)).is_pending());
    assert_eq!(Arc::strong_count(&first), 2, "the replaced waker was given back");
    drop(rx);
    assert_eq!((first.0.load(SeqCst), second.0.load(SeqCst)), (0, 1));
    assert_eq!(Arc::strong_count(&second), 2, "the woken waker was consumed");
    assert!(closed.as_mut().poll(&mut Context::from_waker(&w2)).is_ready());
    drop(closed);
    assert!(tx.is_closed());
    assert_eq!(tx.send(3), Err(3));
}

/// A sender that registered for `closed` and then answers (or is dropped) lets go of its own
/// waker; the asker gets the answer; nobody wakes the sender.
#[test]
fn a_sender_waiting_on_closed_can_still_answer() {
    for answer in [true, false] {
        let (mut tx, mut rx) = oneshot::channel::<u32>();
        let (tx_count, tx_waker) = waker();
        let (rx_count, rx_waker) = waker();
        assert!(poll(&mut rx, &rx_waker).is_pending());
        assert!(tx.poll_closed(&mut Context::from_waker(&tx_waker)).is_pending());
        assert_eq!(Arc::strong_count(&tx_count), 3, "the slot holds the sender's waker");
        if answer {
            tx.send(9).unwrap();
        } else {
            drop(tx);
        }
        assert_eq!(Arc::strong_count(&tx_count), 2, "the sender's waker leaked");
        assert_eq!(tx_count.0.load(SeqCst), 0, "the sender woke itself");
        assert_eq!(rx_count.0.load(SeqCst), 1);
        let expected = if answer { Ok(9) } else { Err(RecvError) };
        assert_eq!(poll(&mut rx, &rx_waker), Poll::Ready(expected));
    }
}

/// `closed` on a sender whose asker is already gone is ready at once and keeps no waker.
#[test]
fn closed_is_ready_at_once_when_nobody_waits() {
    let (mut tx, rx) = oneshot::channel::<u32>();
    drop(rx);
    let (count, w) = waker();
    assert!(tx.poll_closed(&mut Context::from_waker(&w)).is_ready());
    assert_eq!(Arc::strong_count(&count), 2);
}

/// Real threads race the asker's drop against a sender that polls `closed` with changing
/// wakers, then answers or waits: every waker clone is gone afterwards, and a waiting sender
/// is always woken. CI runs this under valgrind.
#[test]
fn closed_racing_the_askers_drop_leaks_no_waker() {
    let div: u32 =
        std::env::var("ACTOR12_STRESS_DIV").ok().and_then(|v| v.parse().ok()).unwrap_or(1);
    let rounds = 20_000 / div.max(1);
    let (first, first_waker) = waker();
    let (second, second_waker) = waker();
    for i in 0..rounds {
        let (mut tx, rx) = oneshot::channel::<u32>();
        let woken_before = second.0.load(SeqCst);
        let asker = thread::spawn(move || drop(rx));
        let mut done = false;
        for w in [&first_waker, &second_waker] {
            if !done && tx.poll_closed(&mut Context::from_waker(w)).is_ready() {
                done = true;
            }
        }
        asker.join().unwrap();
        if i % 2 == 0 {
            let _ = tx.send(i);
        } else {
            // The asker is gone: a sender still waiting had its last waker woken, once.
            let woken = second.0.load(SeqCst) - woken_before;
            assert!(done || woken == 1, "round {i}: the sender was woken {woken} times");
            assert!(tx.poll_closed(&mut Context::from_waker(&first_waker)).is_ready());
            drop(tx);
        }
        assert_eq!(Arc::strong_count(&first), 2, "round {i}: the first waker leaked a clone");
        assert_eq!(Arc::strong_count(&second), 2, "round {i}: the second waker leaked a clone");
    }
}

/// `blocking_recv` off the runtime: the answer from another thread, the sender's drop as an
/// error, and an answer already there.
#[test]
fn blocking_recv_waits_for_the_answer_or_the_senders_drop() {
    let (tx, rx) = oneshot::channel();
    let answerer = thread::spawn(move || tx.send(5).unwrap());
    assert_eq!(rx.blocking_recv(), Ok(5));
    answerer.join().unwrap();

    let (tx, rx) = oneshot::channel::<u8>();
    let dropper = thread::spawn(move || drop(tx));
    assert_eq!(rx.blocking_recv(), Err(RecvError));
    dropper.join().unwrap();

    let (tx, rx) = oneshot::channel();
    tx.send(1).unwrap();
    assert_eq!(rx.blocking_recv(), Ok(1));
}

/// On a worker it would block the worker: it panics there instead, with a message that says so.
#[test]
fn blocking_recv_on_a_worker_is_refused() {
    let rt = actor12::rt::Runtime::new().unwrap();
    let (_tx, rx) = oneshot::channel::<u8>();
    let outcome =
        rt.block_on(async { actor12::rt::spawn(async move { rx.blocking_recv() }).await });
    let err = outcome.expect_err("blocking_recv on a worker returned");
    assert!(err.to_string().contains("`blocking_recv` called on a worker thread"), "{err}");
}

/// `Receiver::close` before the answer: the sender hears it at once and gets its value back;
/// the receiver resolves to the error, at once.
#[test]
fn a_closed_receiver_refuses_a_later_answer() {
    let (mut tx, mut rx) = oneshot::channel::<u32>();
    let (count, w) = waker();
    assert!(tx.poll_closed(&mut Context::from_waker(&w)).is_pending());
    rx.close();
    assert_eq!(count.0.load(SeqCst), 1, "the sender waiting in `closed` is woken");
    assert!(tx.is_closed());
    assert!(tx.poll_closed(&mut Context::from_waker(&w)).is_ready());
    assert!(rx.is_terminated());
    assert_eq!(tx.send(4), Err(4));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));

    let (tx, mut rx) = oneshot::channel::<u32>();
    rx.close();
    assert_eq!(poll(&mut rx, &w), Poll::Ready(Err(RecvError)), "awaiting resolves at once");
    drop(tx);
}

/// An answer sent before `close` stays to be taken; one whose sender was dropped resolves to
/// the error. Nothing is dropped twice or leaked.
#[test]
fn close_keeps_an_answer_sent_before() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, mut rx) = oneshot::channel();
    assert!(tx.send(Tracked(drops.clone())).is_ok());
    rx.close();
    let answer = rx.try_recv();
    assert!(answer.is_ok());
    drop(answer);
    assert_eq!(drops.load(SeqCst), 1);

    let (tx, mut rx) = oneshot::channel::<Tracked>();
    let (count, w) = waker();
    assert!(poll(&mut rx, &w).is_pending());
    rx.close();
    assert!(matches!(poll(&mut rx, &w), Poll::Ready(Err(RecvError))));
    assert_eq!(Arc::strong_count(&count), 2, "the receiver's waker left the slot");
    assert!(tx.send(Tracked(drops.clone())).is_err());
    assert_eq!(drops.load(SeqCst), 2, "the refused answer is dropped once, by its sender");
}

/// A waker whose drop panics once armed (its last clone's drop runs the `Drop` below).
struct DropBomb(std::sync::atomic::AtomicBool);

impl Wake for DropBomb {
    fn wake(self: Arc<Self>) {}
}

impl Drop for DropBomb {
    fn drop(&mut self) {
        if self.0.load(SeqCst) {
            panic!("boom");
        }
    }
}

/// A waker whose wake panics.
struct WakeBomb;

impl Wake for WakeBomb {
    fn wake(self: Arc<Self>) {
        panic!("boom");
    }
}

#[test]
fn a_receiver_whose_registered_waker_panics_as_it_is_dropped_still_lets_go_of_the_slot() {
    // The receiver's drop dropped its waker before leaving the slot: a panic there left the
    // sender waiting for a receiver that was gone, and the slot and its value never freed.
    quiet_booms();
    let (mut tx, mut rx) = oneshot::channel::<Arc<()>>();
    let bomb = Arc::new(DropBomb(false.into()));
    let registered = Waker::from(bomb.clone());
    assert!(Pin::new(&mut rx).poll(&mut Context::from_waker(&registered)).is_pending());
    drop(registered);
    bomb.0.store(true, SeqCst);
    drop(bomb); // the slot's copy is the last
    let dropped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(rx)));
    assert!(dropped.is_err(), "the waker's drop panicked");
    let (_, own) = waker();
    assert!(tx.poll_closed(&mut Context::from_waker(&own)).is_ready(), "the sender sees it gone");
    let value = Arc::new(());
    assert!(tx.send(value.clone()).is_err(), "the answer comes back");
    assert_eq!(Arc::strong_count(&value), 1, "and nothing keeps it");
}

#[test]
fn a_receivers_wake_that_panics_does_not_keep_the_senders_own_waker() {
    // The send woke the receiver, then dropped the waker its own `poll_closed` had registered:
    // a panic in the wake left that one in the slot for good.
    quiet_booms();
    let (mut tx, mut rx) = oneshot::channel::<u8>();
    let bomb = Waker::from(Arc::new(WakeBomb));
    assert!(Pin::new(&mut rx).poll(&mut Context::from_waker(&bomb)).is_pending());
    let (count, own) = waker();
    assert!(tx.poll_closed(&mut Context::from_waker(&own)).is_pending());
    drop(own);
    assert_eq!(Arc::strong_count(&count), 2, "ours and the slot's");
    let sent = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || tx.send(1)));
    assert!(sent.is_err(), "the receiver's wake panicked");
    drop(rx);
    assert_eq!(Arc::strong_count(&count), 1, "the sender's registered waker was dropped");
}
