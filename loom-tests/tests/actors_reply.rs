//! loom: the reply slot. An answer races the asker giving up (a timeout drops the receiver) and
//! the sender being dropped: the asker resolves exactly once, the value is dropped exactly once,
//! and a registered waker is never left unwoken.
#![cfg(actor12_loom)]

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use actor12::oneshot;
use actor12_loom_tests::{Tracked, block_on};
use loom::sync::Arc;
use loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use loom::thread;

/// The asker waits for the answer: woken, and gets it.
#[test]
fn reply_versus_waiting_asker() {
    loom::model(|| {
        let (tx, rx) = oneshot::channel::<u32>();
        let answer = thread::spawn(move || tx.send(7).unwrap());
        assert_eq!(block_on(rx), Ok(7));
        answer.join().unwrap();
    });
}

/// The answer races the asker timing out (dropping its receiver after one poll) while the
/// handler might also drop the request unanswered.
#[test]
fn reply_versus_timeout_versus_drop() {
    loom::model(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let (tx, mut rx) = oneshot::channel::<Tracked>();
        let handler = {
            let drops = drops.clone();
            thread::spawn(move || tx.send(Tracked(7, drops)).is_ok())
        };
        let early = Pin::new(&mut rx).poll(&mut Context::from_waker(Waker::noop()));
        let took = matches!(early, Poll::Ready(Ok(_)));
        drop(early);
        drop(rx); // the timeout fires: the asker gives up
        let delivered = handler.join().unwrap();
        assert!(!took || delivered, "the asker cannot take an answer that was handed back");
        assert_eq!(drops.load(SeqCst), 1, "the answer is dropped exactly once");
    });
}

/// The handler drops the request without answering while the asker waits: the asker is woken
/// and resolves to an error, never hangs.
#[test]
fn sender_dropped_versus_waiting_asker() {
    loom::model(|| {
        let (tx, rx) = oneshot::channel::<u32>();
        let handler = thread::spawn(move || drop(tx));
        assert_eq!(block_on(rx), Err(oneshot::RecvError));
        handler.join().unwrap();
    });
}
