//! loom: the channel layer over the mailbox (`mailbox/src/channel.rs`). The mailbox's own
//! protocols have their models; these check what the channel adds on top: the receiver's waker
//! handshake (register the waker, then offer to go idle; the sender whose push schedules takes
//! and wakes it), the senders' count (the last sender's drop closes and wakes), and the
//! receiver's drop closing the system lane while a signal is pushed. The system lane's nodes keep
//! their fields in loom cells, and the signals here carry their value in one too: a node or a
//! signal read without the push's release before it is reported either way.
#![cfg(actor12_loom)]

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc as StdArc;
use std::task::{Context, Poll, Wake, Waker};

use actor12_mailbox::SendError;
use loom::sync::Arc;
use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use loom::thread;

struct Flag(AtomicBool);

impl Wake for Flag {
    fn wake(self: StdArc<Self>) {
        self.0.store(true, SeqCst);
    }
}

/// `actor12_loom_tests::block_on`, yielding to the model after every `Pending`: a receiver
/// that finds a slot claimed but not yet written wakes itself and returns `Pending`, and
/// without a yield it would poll again at once, for ever, while its producer never gets to
/// write. The wait for the waker is the same: a lost wake-up leaves it waiting for ever.
fn block_on<F: Future + Unpin>(mut fut: F) -> F::Output {
    let flag = StdArc::new(Flag(AtomicBool::new(false)));
    let waker = Waker::from(flag.clone());
    loop {
        flag.0.store(false, SeqCst);
        if let Poll::Ready(out) = Pin::new(&mut fut).poll(&mut Context::from_waker(&waker)) {
            return out;
        }
        thread::yield_now();
        while !flag.0.load(SeqCst) {
            thread::yield_now();
        }
    }
}

/// A system signal whose value lives in a loom cell, written when it is made and read when it
/// is dropped: loom reports a read not ordered after the push that published it. Counts its
/// drops.
struct Signal(loom::cell::UnsafeCell<u32>, Arc<AtomicUsize>);

impl Signal {
    fn value(&self) -> u32 {
        // SAFETY: written only when made; loom checks that this read comes after that.
        self.0.with(|p| unsafe { *p })
    }
}

impl Drop for Signal {
    fn drop(&mut self) {
        assert_eq!(self.value(), 7, "a signal is dropped whole");
        self.1.fetch_add(1, SeqCst);
    }
}

/// Two senders (one cloned from the other) each send a message and drop, while the receiver
/// awaits with `recv_async` until the channel closes. Each push that finds the receiver idle
/// must find its waker registered; the last sender's drop must close the channel and wake an
/// idle receiver. A lost wake-up leaves the receiver waiting for ever, which loom reports.
#[test]
fn senders_versus_an_idling_receiver() {
    loom::model(|| {
        let (tx, mut rx) = actor12_mailbox::unbounded::<u32>();
        let senders: Vec<_> = [tx.clone(), tx]
            .into_iter()
            .zip(1..)
            .map(|(tx, v)| thread::spawn(move || tx.try_send(v).unwrap()))
            .collect();
        let mut got = Vec::new();
        while let Some(item) = block_on(rx.recv_async()) {
            got.push(item.user().expect("only user messages are sent"));
        }
        got.sort_unstable();
        assert_eq!(got, [1, 2], "every message received before the close");
        for sender in senders {
            sender.join().unwrap();
        }
    });
}

/// A signal is sent while the receiver is dropped (which closes the system lane): it is either
/// handed back to the sender or dropped by the receiver's drop, exactly once, and not left in
/// the lane for the last sender's drop.
#[test]
fn a_signal_versus_the_receivers_drop() {
    loom::model(|| {
        let (tx, rx) =
            actor12_mailbox::channel::<u8, Signal>(actor12_mailbox::Mailbox::unbounded());
        let drops = Arc::new(AtomicUsize::new(0));
        let sender = {
            let (tx, drops) = (tx.clone(), drops.clone());
            // Made on the sender's thread: only the push orders its write before the reads.
            thread::spawn(move || {
                match tx.send_system(Signal(loom::cell::UnsafeCell::new(7), drops)) {
                    Ok(()) => false,
                    Err(SendError(back)) => {
                        drop(back);
                        true
                    }
                }
            })
        };
        drop(rx);
        let handed_back = sender.join().unwrap();
        assert_eq!(
            drops.load(SeqCst),
            1,
            "the signal dropped exactly once, by the receiver's drop or its sender (handed \
             back: {handed_back})"
        );
        drop(tx);
        assert_eq!(drops.load(SeqCst), 1);
    });
}
