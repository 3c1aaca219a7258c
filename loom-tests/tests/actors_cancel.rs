//! loom: the CancelToken tree. A cancel of the parent races the creation of a child and a
//! future waiting on the child: the child is always cancelled, the waiter always woken.
#![cfg(actor12_loom)]

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc as StdArc;
use std::task::{Context, Poll, Wake, Waker};

use actor12::cancel::CancelToken;
use loom::sync::atomic::{AtomicBool, Ordering::SeqCst};
use loom::thread;

struct Flag(AtomicBool);

impl Wake for Flag {
    fn wake(self: StdArc<Self>) {
        self.0.store(true, SeqCst);
    }
}

#[test]
fn parent_cancel_versus_child_creation_and_waiter() {
    loom::model(|| {
        let root: CancelToken<u8> = CancelToken::new();
        let middle = root.child();
        let canceller = {
            let root = root.clone();
            thread::spawn(move || root.cancel(3u8))
        };
        // Created while the cancel may be in flight.
        let leaf = middle.child();
        let flag = StdArc::new(Flag(AtomicBool::new(false)));
        let waker = Waker::from(flag.clone());
        let mut waiting = leaf.cancelled();
        let reason = loop {
            flag.0.store(false, SeqCst);
            match Pin::new(&mut waiting).poll(&mut Context::from_waker(&waker)) {
                Poll::Ready(reason) => break reason,
                Poll::Pending => {
                    while !flag.0.load(SeqCst) {
                        thread::yield_now();
                    }
                }
            }
        };
        assert_eq!(*reason.value(), 3);
        canceller.join().unwrap();
        assert!(middle.is_cancelled() && leaf.is_cancelled());
    });
}
