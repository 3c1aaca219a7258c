//! loom: a producer waiting for room races the consumer's pop. The pop must either be seen by
//! the producer's retry or wake it; otherwise the producer waits forever (loom reports it).
#![cfg(actor12_loom)]

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc as StdArc;
use std::task::{Context, Poll, Wake, Waker};

use actor12_mailbox::{Mailbox, Pop};
use loom::sync::Arc;
use loom::sync::atomic::{AtomicBool, Ordering::SeqCst};
use loom::thread;

struct Flag(AtomicBool);

impl Wake for Flag {
    fn wake(self: StdArc<Self>) {
        self.0.store(true, SeqCst);
    }
}

#[test]
fn waiter_versus_pop() {
    loom::model(|| {
        let mailbox = Arc::new(Mailbox::<u32>::bounded(1));
        let _ = mailbox.try_push(1).unwrap();
        let producer = {
            let mailbox = mailbox.clone();
            thread::spawn(move || {
                let flag = StdArc::new(Flag(AtomicBool::new(false)));
                let waker = Waker::from(flag.clone());
                let mut push = mailbox.push(2);
                loop {
                    flag.0.store(false, SeqCst);
                    match Pin::new(&mut push).poll(&mut Context::from_waker(&waker)) {
                        Poll::Ready(result) => return result.is_ok(),
                        Poll::Pending => {
                            while !flag.0.load(SeqCst) {
                                thread::yield_now();
                            }
                        }
                    }
                }
            })
        };
        let mut got = Vec::new();
        while got.len() < 2 {
            // SAFETY: this thread is the only consumer.
            match unsafe { mailbox.pop() } {
                Pop::User(v) => got.push(v),
                Pop::Empty | Pop::Busy => thread::yield_now(),
                other => panic!("unexpected {other:?}"),
            }
        }
        assert!(producer.join().unwrap());
        assert_eq!(got, [1, 2]);
    });
}

/// Close racing a waiter: the waiter gets its message back or it was delivered; never stuck.
#[test]
fn waiter_versus_close() {
    loom::model(|| {
        let mailbox = Arc::new(Mailbox::<u32>::bounded(1));
        let _ = mailbox.try_push(1).unwrap();
        let producer = {
            let mailbox = mailbox.clone();
            thread::spawn(move || {
                let flag = StdArc::new(Flag(AtomicBool::new(false)));
                let waker = Waker::from(flag.clone());
                let mut push = mailbox.push(2);
                loop {
                    flag.0.store(false, SeqCst);
                    match Pin::new(&mut push).poll(&mut Context::from_waker(&waker)) {
                        Poll::Ready(result) => return result.map_err(|e| e.0),
                        Poll::Pending => {
                            while !flag.0.load(SeqCst) {
                                thread::yield_now();
                            }
                        }
                    }
                }
            })
        };
        let _ = mailbox.close();
        let result = producer.join().unwrap();
        assert_eq!(result, Err(2), "a full mailbox stays full; close hands the message back");
    });
}
