//! loom: the reply slot. An answer races the asker giving up (a timeout drops the receiver),
//! re-registering another waker, and the sender being dropped; a sender waiting in `closed`
//! races the asker giving up: the asker resolves exactly once, the value is dropped exactly
//! once, a registered waker (either side's) is never left unwoken, and every waker the slot held
//! is woken or dropped exactly once.
#![cfg(actor12_loom)]

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::atomic::AtomicIsize as StdAtomicIsize;
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};

use actor12::oneshot::{self, TryRecvError};
use actor12_loom_tests::{Tracked, block_on, park_on};
use loom::cell::UnsafeCell;
use loom::sync::Arc;
use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
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

/// A waker that counts its live clones and records a wake, so that a leaked clone or a double
/// drop shows as a wrong count rather than as memory corruption.
struct Counted {
    live: StdAtomicIsize,
    woken: AtomicBool,
}

impl Counted {
    fn new() -> Box<Counted> {
        Box::new(Counted { live: StdAtomicIsize::new(0), woken: AtomicBool::new(false) })
    }

    fn waker(&self) -> Waker {
        self.live.fetch_add(1, SeqCst);
        // SAFETY: the vtable's functions treat the data pointer as a `&Counted`, which the
        // test keeps alive (boxed) until after every waker is gone.
        unsafe { Waker::from_raw(RawWaker::new(self as *const Counted as *const (), &COUNTED)) }
    }

    fn live(&self) -> isize {
        self.live.load(SeqCst)
    }
}

static COUNTED: RawWakerVTable = RawWakerVTable::new(
    |p| {
        counted(p).live.fetch_add(1, SeqCst);
        RawWaker::new(p, &COUNTED)
    },
    |p| {
        counted(p).woken.store(true, SeqCst);
        counted(p).live.fetch_sub(1, SeqCst);
    },
    |p| counted(p).woken.store(true, SeqCst),
    |p| {
        counted(p).live.fetch_sub(1, SeqCst);
    },
);

/// The `Counted` behind a waker's data pointer.
fn counted<'a>(p: *const ()) -> &'a Counted {
    // SAFETY: every waker with the `COUNTED` vtable points at a `Counted` the test keeps alive
    // (boxed) until after every waker is gone (see `Counted::waker`).
    unsafe { &*(p as *const Counted) }
}

/// The asker registers one waker, then replaces it with another while the answer is sent: the
/// sender must never wake (or drop) a waker the asker already took back, and the waker left
/// registered is woken.
#[test]
fn reply_versus_waker_replaced() {
    loom::model(|| {
        let (tx, mut rx) = oneshot::channel::<u32>();
        let (first, second) = (Counted::new(), Counted::new());
        let (first_waker, second_waker) = (first.waker(), second.waker());
        let handler = thread::spawn(move || tx.send(7).unwrap());
        let mut answer = None;
        for waker in [&first_waker, &second_waker] {
            if answer.is_none()
                && let Poll::Ready(a) = Pin::new(&mut rx).poll(&mut Context::from_waker(waker))
            {
                answer = Some(a);
            }
        }
        if answer.is_none() {
            while !second.woken.load(SeqCst) {
                thread::yield_now();
            }
            answer = Some(block_on(&mut rx));
        }
        assert_eq!(answer, Some(Ok(7)));
        handler.join().unwrap();
        drop(rx);
        drop((first_waker, second_waker));
        assert_eq!(first.live(), 0, "the first waker: a clone leaked or was dropped twice");
        assert_eq!(second.live(), 0, "the second waker: a clone leaked or was dropped twice");
    });
}

/// The asker registers its waker, then gives up while the answer is sent: whichever side comes
/// second frees the slot, the answer is dropped once, and the registered waker is dropped once.
#[test]
fn reply_versus_registered_asker_dropped() {
    loom::model(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let (tx, mut rx) = oneshot::channel::<Tracked>();
        let counted = Counted::new();
        let waker = counted.waker();
        let handler = {
            let drops = drops.clone();
            thread::spawn(move || tx.send(Tracked(7, drops)).is_ok())
        };
        let early = Pin::new(&mut rx).poll(&mut Context::from_waker(&waker));
        let took = matches!(early, Poll::Ready(Ok(_)));
        drop(early);
        drop(rx);
        let delivered = handler.join().unwrap();
        assert!(!took || delivered, "the asker cannot take an answer that was handed back");
        assert_eq!(drops.load(SeqCst), 1, "the answer is dropped exactly once");
        drop(waker);
        assert_eq!(counted.live(), 0, "the registered waker leaked or was dropped twice");
    });
}

/// A handler waits in `closed` while the asker gives up, after registering its own waker or
/// not: the handler is woken and sees the asker gone, never hangs (a lost wake-up is a loom
/// deadlock).
#[test]
fn closed_versus_asker_dropped() {
    loom::model(|| {
        let (mut tx, mut rx) = oneshot::channel::<u32>();
        let handler = thread::spawn(move || {
            park_on(std::future::poll_fn(|cx| tx.poll_closed(cx)));
            tx.is_closed()
        });
        let counted = Counted::new();
        let waker = counted.waker();
        assert!(Pin::new(&mut rx).poll(&mut Context::from_waker(&waker)).is_pending());
        drop(rx);
        assert!(handler.join().unwrap(), "`closed` returned with the asker still there");
        drop(waker);
        assert_eq!(counted.live(), 0, "the asker's waker leaked or was dropped twice");
    });
}

/// The handler polls `closed` with one waker, then replaces it with another, while the asker
/// gives up: the asker never wakes (or drops) a waker the handler took back, the one left
/// registered is woken, and every waker clone is gone at the end.
#[test]
fn closed_waker_replaced_versus_asker_dropped() {
    loom::model(|| {
        let (mut tx, rx) = oneshot::channel::<u32>();
        let asker = thread::spawn(move || drop(rx));
        let (first, second) = (Counted::new(), Counted::new());
        let (first_waker, second_waker) = (first.waker(), second.waker());
        let mut done = false;
        for waker in [&first_waker, &second_waker] {
            if !done && tx.poll_closed(&mut Context::from_waker(waker)).is_ready() {
                done = true;
            }
        }
        if !done {
            while !second.woken.load(SeqCst) {
                thread::yield_now();
            }
        }
        assert!(tx.is_closed());
        // Before the join: the slot may be freed while the asker is still in its drop.
        drop(tx);
        asker.join().unwrap();
        drop((first_waker, second_waker));
        assert_eq!(first.live(), 0, "the first waker: a clone leaked or was dropped twice");
        assert_eq!(second.live(), 0, "the second waker: a clone leaked or was dropped twice");
    });
}

/// The handler has registered in `closed` and answers while the asker (waiting with its own
/// waker) gives up: whichever side comes second frees the slot, the answer is dropped once,
/// and each side's waker is woken or dropped exactly once. The registration comes before the
/// asker's thread starts, so that the asker's drop reaching the slot just before the answer
/// frees it takes two preemptions, within CI's bound (racing registrations are the models
/// above).
#[test]
fn answer_from_a_closed_waiter_versus_asker_dropped() {
    loom::model(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let (mut tx, mut rx) = oneshot::channel::<Tracked>();
        let (tx_side, rx_side) = (Counted::new(), Counted::new());
        let (tx_waker, rx_waker) = (tx_side.waker(), rx_side.waker());
        assert!(tx.poll_closed(&mut Context::from_waker(&tx_waker)).is_pending());
        let asker = thread::spawn(move || {
            let early = Pin::new(&mut rx).poll(&mut Context::from_waker(&rx_waker));
            let took = matches!(early, Poll::Ready(Ok(_)));
            drop(early);
            drop(rx);
            drop(rx_waker);
            took
        });
        let delivered = tx.send(Tracked(7, drops.clone())).is_ok();
        let took = asker.join().unwrap();
        assert!(!took || delivered, "the asker cannot take an answer that was handed back");
        assert_eq!(drops.load(SeqCst), 1, "the answer is dropped exactly once");
        drop(tx_waker);
        assert_eq!(tx_side.live(), 0, "the handler's waker leaked or was dropped twice");
        assert_eq!(rx_side.live(), 0, "the asker's waker leaked or was dropped twice");
    });
}

/// The asker closes the slot (`Receiver::close`) while the handler answers: the answer is
/// either taken by the asker or handed back to the handler, never both or neither, and dropped
/// exactly once.
#[test]
fn close_versus_answer() {
    loom::model(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let (tx, mut rx) = oneshot::channel::<Tracked>();
        let handler = {
            let drops = drops.clone();
            thread::spawn(move || {
                let closed_before = tx.is_closed();
                let delivered = tx.send(Tracked(7, drops)).is_ok();
                assert!(!(closed_before && delivered), "a send after the close went through");
                delivered
            })
        };
        rx.close();
        let took = block_on(&mut rx).is_ok();
        let delivered = handler.join().unwrap();
        assert_eq!(took, delivered, "taken by the asker exactly when the handler delivered it");
        assert_eq!(drops.load(SeqCst), 1, "the answer is dropped exactly once");
    });
}

/// The handler registers in `closed` while the asker closes the slot and then drops its
/// receiver: the registration that finds the slot closed must not drop a waker the asker's
/// drop took (and woke), nor leave one behind. That race alternates the threads four times
/// (the handler's look, the close, its registration, the drop's swap, its take-back), so this
/// small model runs at three preemptions whatever `LOOM_MAX_PREEMPTIONS` says.
#[test]
fn closed_registration_versus_close_then_drop() {
    let mut model = loom::model::Builder::new();
    model.preemption_bound = Some(3);
    model.check(|| {
        let (mut tx, mut rx) = oneshot::channel::<u32>();
        let counted = Counted::new();
        let waker = counted.waker();
        let asker = thread::spawn(move || {
            rx.close();
            drop(rx);
        });
        let ready = tx.poll_closed(&mut Context::from_waker(&waker)).is_ready();
        if !ready {
            while !counted.woken.load(SeqCst) {
                thread::yield_now();
            }
        }
        asker.join().unwrap();
        assert!(tx.is_closed());
        drop(tx);
        drop(waker);
        assert_eq!(counted.live(), 0, "the handler's waker leaked or was dropped twice");
    });
}

// The acquire loads of the slot's word that no model above reaches: each model below writes
// on one side and reads on the other once the slot says the first side is done.

/// `try_recv` takes the value the sender wrote into the cell before its release.
#[test]
fn try_recv_versus_send() {
    loom::model(|| {
        let (tx, mut rx) = oneshot::channel::<u32>();
        let sender = thread::spawn(move || {
            let _ = tx.send(7);
        });
        match rx.try_recv() {
            Ok(v) => assert_eq!(v, 7),
            Err(TryRecvError::Empty) => {}
            Err(e) => panic!("{e:?}"),
        }
        drop(rx);
        sender.join().unwrap();
    });
}

/// The asker writes, then drops its receiver; a sender that sees `is_closed` reads the write.
#[test]
fn is_closed_orders_the_receivers_drop() {
    loom::model(|| {
        let data = Arc::new(UnsafeCell::new(0u32));
        let (tx, rx) = oneshot::channel::<u32>();
        let asker = {
            let data = data.clone();
            thread::spawn(move || {
                // SAFETY: the only access until the drop publishes it.
                data.with_mut(|p| unsafe { *p = 7 });
                drop(rx);
            })
        };
        // A loop, not one look: with one, loom never ran the drop before it.
        while !tx.is_closed() {
            thread::yield_now();
        }
        // SAFETY: the asker wrote before its drop, which we saw.
        assert_eq!(data.with(|p| unsafe { *p }), 7);
        drop(tx);
        asker.join().unwrap();
    });
}

/// The same through `closed`: a sender whose `closed` resolved reads the asker's write.
/// `repoll`: a first poll registers a no-op waker, then `block_on` polls with its own, so the
/// take-back of the old waker can be the step that sees the receiver gone.
fn closed_orders_the_receivers_drop(repoll: bool) {
    loom::model(move || {
        let data = Arc::new(UnsafeCell::new(0u32));
        let (mut tx, rx) = oneshot::channel::<u32>();
        let asker = {
            let data = data.clone();
            thread::spawn(move || {
                // SAFETY: the only access until the drop publishes it.
                data.with_mut(|p| unsafe { *p = 7 });
                drop(rx);
            })
        };
        let first = if repoll {
            tx.poll_closed(&mut Context::from_waker(Waker::noop()))
        } else {
            Poll::Pending
        };
        if first.is_pending() {
            block_on(poll_fn(|cx| tx.poll_closed(cx)));
        }
        // SAFETY: `closed` resolved: the asker's drop, after its write, was seen.
        assert_eq!(data.with(|p| unsafe { *p }), 7);
        drop(tx);
        asker.join().unwrap();
    });
}

#[test]
fn closed_orders_the_receivers_drop_first_poll() {
    closed_orders_the_receivers_drop(false);
}

#[test]
fn closed_orders_the_receivers_drop_after_a_new_waker() {
    closed_orders_the_receivers_drop(true);
}

/// The handler writes, then answers; an asker that sees `is_terminated` reads the write.
#[test]
fn is_terminated_orders_the_answer() {
    loom::model(|| {
        let data = Arc::new(UnsafeCell::new(0u32));
        let (tx, mut rx) = oneshot::channel::<u32>();
        let handler = {
            let data = data.clone();
            thread::spawn(move || {
                // SAFETY: the only access until the send publishes it.
                data.with_mut(|p| unsafe { *p = 7 });
                tx.send(1).unwrap();
            })
        };
        while !rx.is_terminated() {
            thread::yield_now();
        }
        // SAFETY: the handler wrote before its send, which we saw.
        assert_eq!(data.with(|p| unsafe { *p }), 7);
        assert_eq!(
            Pin::new(&mut rx).poll(&mut Context::from_waker(Waker::noop())),
            Poll::Ready(Ok(1))
        );
        drop(rx);
        handler.join().unwrap();
    });
}
