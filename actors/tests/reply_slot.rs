//! The one-shot reply slot: answer, sender dropped, asker dropped, wakers, drops.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::task::{Context, Poll, Wake, Waker};
use std::thread;

use actor12::oneshot::{self, RecvError, TryRecvError};

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
    for i in 0..1000u32 {
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
