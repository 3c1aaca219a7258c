//! The `Sender`/`Receiver` handles as a user of the crate meets them: close from either side,
//! blocked senders and a blocked receiver woken by it, messages left behind dropped once,
//! waiting senders that give up at random, and the bounds at their edges.

mod support;

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed, Ordering::SeqCst};
use std::sync::{Arc, Barrier, mpsc};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

use actor12_mailbox::{
    Item, Mailbox, SendError, TryRecvError, TrySendError, bounded, channel, unbounded,
};
use support::{Tracked, block_on};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Aborts the test binary when its test has made no progress for a minute (no
/// [`Watchdog::progress`] since): a lost wake-up would otherwise hang it. Dropped when the test
/// is done. It used to allow a minute for the whole test, which the stress test below outlasted
/// on a loaded 2-core machine while it still moved (a slow run, not a hang).
struct Watchdog {
    progress: Arc<AtomicUsize>,
    _done: mpsc::Sender<()>,
}

fn watchdog(what: &'static str) -> Watchdog {
    let progress = Arc::new(AtomicUsize::new(0));
    let (done, wait) = mpsc::channel::<()>();
    let seen = progress.clone();
    thread::spawn(move || {
        let (mut last, mut since) = (seen.load(SeqCst), Instant::now());
        // Nothing is sent: the channel disconnects when the watchdog is dropped.
        while wait.recv_timeout(Duration::from_secs(1)) == Err(mpsc::RecvTimeoutError::Timeout) {
            let now = seen.load(SeqCst);
            if now != last {
                (last, since) = (now, Instant::now());
            } else if since.elapsed() > Duration::from_secs(60) {
                eprintln!("{what}: no progress for a minute (a lost wake-up?)");
                std::process::abort();
            }
        }
    });
    Watchdog { progress, _done: done }
}

impl Watchdog {
    /// The test moved on: its minute starts again.
    fn progress(&self) {
        self.progress.fetch_add(1, Relaxed);
    }
}

/// A small xorshift generator: the tests need cheap, seeded randomness, not quality.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// Unparks a thread and records that it was woken.
struct Flag {
    thread: Thread,
    woken: AtomicBool,
}

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.woken.store(true, SeqCst);
        self.thread.unpark();
    }
}

#[test]
fn dropping_the_receiver_drops_the_messages_left_in_it_while_senders_live() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = channel::<Tracked, Tracked>(Mailbox::unbounded());
    for i in 0..40 {
        tx.try_send(Tracked::new(i, &drops)).unwrap();
    }
    tx.send_system(Tracked::new(99, &drops)).unwrap();
    drop(rx);
    assert_eq!(drops.load(SeqCst), 41, "messages outlived their receiver");
    let back = tx.try_send(Tracked::new(100, &drops)).unwrap_err();
    assert!(back.is_closed());
    drop(back);
    drop(tx);
    assert_eq!(drops.load(SeqCst), 42, "a message dropped twice");
}

#[test]
fn a_send_after_close_fails_and_hands_the_message_back() {
    let (tx, mut rx) = bounded::<String>(1);
    tx.try_send("a".into()).unwrap();
    assert_eq!(tx.try_send("b".into()), Err(TrySendError::Full("b".into())));
    assert_eq!(tx.try_send("b".into()).unwrap_err().to_string(), "mailbox full");
    // A signal passes the full user lane, and is received first.
    tx.send_system(()).unwrap();
    assert_eq!(rx.recv(), Some(Item::System(())));
    assert!(tx.try_send("b".into()).unwrap_err().is_full());
    tx.close();
    assert!(tx.is_closed());
    let err = tx.try_send("c".into()).unwrap_err();
    assert_eq!(err.to_string(), "mailbox closed");
    assert_eq!(err.into_inner(), "c");
    assert_eq!(block_on(tx.send("d".into())), Err(SendError("d".into())));
    assert_eq!(rx.recv(), Some(Item::User("a".into())));
    assert_eq!(rx.recv(), None);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    // The system lane stays open until the receiver is gone.
    tx.send_system(()).unwrap();
    assert_eq!(rx.try_recv(), Ok(Item::System(())));
    drop(rx);
    assert_eq!(tx.send_system(()), Err(SendError(())));
}

#[test]
fn capacity_edges() {
    let (tx, mut rx) = bounded::<u8>(usize::MAX);
    for i in 0..100 {
        tx.try_send(i).unwrap();
    }
    assert_eq!(tx.len(), 100);
    assert_eq!(Mailbox::<u8>::bounded(usize::MAX).capacity(), None);
    assert_eq!(Mailbox::<u8>::bounded(usize::MAX - 1).capacity(), Some(usize::MAX - 1));
    let huge: Mailbox<u8> = Mailbox::bounded(usize::MAX - 1);
    for i in 0..100 {
        let _ = huge.try_push(i).unwrap();
    }
    assert_eq!(huge.len(), 100);
    for i in 0..100 {
        assert_eq!(rx.try_recv(), Ok(Item::User(i)));
    }
    let one: Mailbox<u8> = Mailbox::bounded(1);
    for round in 0..200u8 {
        let _ = one.try_push(round).unwrap();
        assert_eq!(one.len(), 1);
        assert!(one.try_push(round).unwrap_err().is_full());
        // SAFETY: the only consumer.
        assert_eq!(unsafe { one.pop() }, actor12_mailbox::Pop::User(round));
        assert!(one.is_empty());
    }
}

#[test]
fn a_huge_burst_arrives_in_order_and_len_follows_it() {
    let (tx, mut rx) = unbounded::<u32>();
    let n = env("ACTOR12_STRESS_MESSAGES", 1_000_000) as u32;
    for i in 0..n {
        tx.try_send(i).unwrap();
    }
    assert_eq!(tx.len(), n as usize);
    drop(tx);
    let mut next = 0;
    while let Some(item) = rx.recv() {
        assert_eq!(item, Item::User(next));
        next += 1;
    }
    assert_eq!(next, n);
}

/// Senders blocked for room, and a receiver blocked for a message, all woken by a close from
/// either side, whatever the timing.
#[test]
fn close_wakes_blocked_senders_and_a_blocked_receiver() {
    let watchdog = watchdog("close_wakes_blocked_senders_and_a_blocked_receiver");
    let rounds = env("ACTOR12_STRESS_MESSAGES", 1_000_000) / 2_000;
    for round in 0..rounds.max(20) {
        watchdog.progress();
        let drops = Arc::new(AtomicUsize::new(0));
        // Senders blocked on a full channel; the receiver is dropped.
        let (tx, rx) = bounded::<Tracked>(2);
        tx.try_send(Tracked::new(0, &drops)).unwrap();
        tx.try_send(Tracked::new(1, &drops)).unwrap();
        let start = Arc::new(Barrier::new(5));
        let senders: Vec<_> = (0..4)
            .map(|i| {
                let (tx, drops, start) = (tx.clone(), drops.clone(), start.clone());
                thread::spawn(move || {
                    start.wait();
                    let err = block_on(tx.send(Tracked::new(10 + i, &drops))).unwrap_err();
                    assert_eq!(err.0.id, 10 + i);
                })
            })
            .collect();
        start.wait();
        if round % 2 == 0 {
            thread::yield_now();
        }
        drop(rx);
        for s in senders {
            s.join().unwrap();
        }
        assert_eq!(drops.load(SeqCst), 6, "round {round}");

        // A receiver blocked in `recv`; every sender is dropped, or one closes.
        let (tx, mut rx) = unbounded::<u32>();
        let receiver = thread::spawn(move || rx.recv());
        let tx2 = tx.clone();
        if round % 3 == 0 {
            thread::yield_now();
        }
        if round % 2 == 0 {
            drop(tx);
            drop(tx2);
        } else {
            tx2.close();
        }
        assert_eq!(receiver.join().unwrap(), None);
    }
    drop(watchdog);
}

/// Many senders on a small bounded channel; each waiting send gives up at random, before or
/// after it is woken. A give-up must pass on a wake-up it was handed, so nobody is stranded;
/// every message is delivered in its sender's order or dropped with its future, exactly once;
/// `len` never exceeds the bound.
#[test]
fn waiting_senders_that_give_up_at_random_strand_nobody() {
    let watchdog = watchdog("waiting_senders_that_give_up_at_random_strand_nobody");
    let producers = 6;
    let per_producer = (env("ACTOR12_STRESS_MESSAGES", 1_000_000) / 20 / producers).max(50);
    for capacity in [1usize, 2, 3] {
        let drops = Arc::new(AtomicUsize::new(0));
        let (tx, mut rx) = bounded::<(usize, Tracked)>(capacity);
        let handles: Vec<_> = (0..producers)
            .map(|p| {
                let (tx, drops) = (tx.clone(), drops.clone());
                thread::spawn(move || {
                    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ ((p as u64 + 1) * 7919));
                    let flag = Arc::new(Flag { thread: thread::current(), woken: false.into() });
                    let waker = Waker::from(flag.clone());
                    let mut abandoned = Vec::new();
                    for i in 0..per_producer as u64 {
                        let mut send = Box::pin(tx.send((p, Tracked::new(i, &drops))));
                        loop {
                            flag.woken.store(false, SeqCst);
                            match send.as_mut().poll(&mut Context::from_waker(&waker)) {
                                Poll::Ready(result) => {
                                    result.expect("nobody closes the channel");
                                    break;
                                }
                                Poll::Pending if rng.below(4) == 0 => {
                                    abandoned.push(i);
                                    break;
                                }
                                Poll::Pending => {}
                            }
                            while !flag.woken.load(SeqCst) {
                                thread::park();
                            }
                            if rng.below(3) == 0 {
                                abandoned.push(i);
                                break;
                            }
                        }
                        assert!(tx.len() <= capacity, "len {} over the bound", tx.len());
                    }
                    abandoned
                })
            })
            .collect();
        drop(tx);
        let mut received: Vec<Vec<u64>> = vec![Vec::new(); producers];
        while let Some(item) = rx.recv() {
            watchdog.progress();
            let Item::User((p, t)) = item else { unreachable!("no signals") };
            if let Some(&last) = received[p].last() {
                assert!(t.id > last, "producer {p}: {} after {last}", t.id);
            }
            received[p].push(t.id);
        }
        for (p, h) in handles.into_iter().enumerate() {
            let mut all = h.join().unwrap();
            all.extend(&received[p]);
            all.sort_unstable();
            let expected: Vec<u64> = (0..per_producer as u64).collect();
            assert!(all == expected, "producer {p}: a message lost or duplicated");
        }
        drop(rx);
        assert_eq!(drops.load(SeqCst), producers * per_producer, "capacity {capacity}");
    }
    drop(watchdog);
}

#[test]
fn an_async_receiver_is_woken_by_the_close() {
    let watchdog = watchdog("an_async_receiver_is_woken_by_the_close");
    for round in 0..200 {
        watchdog.progress();
        let (tx, mut rx) = unbounded::<u32>();
        let receiver = thread::spawn(move || {
            let first = block_on(rx.recv_async());
            (first, block_on(rx.recv_async()))
        });
        if round % 2 == 0 {
            thread::yield_now();
        }
        tx.try_send(round).unwrap();
        if round % 3 == 0 {
            thread::yield_now();
        }
        drop(tx);
        assert_eq!(receiver.join().unwrap(), (Some(Item::User(round)), None));
    }
    drop(watchdog);
}

/// The receiver is dropped while producers are still sending: every message accepted before
/// the close is dropped by the receiver's drop (a sender is still alive, so the mailbox is
/// not), every refused one by its producer, each exactly once.
#[test]
fn a_receiver_dropped_mid_flight_drops_what_it_accepted_once() {
    let watchdog = watchdog("a_receiver_dropped_mid_flight_drops_what_it_accepted_once");
    let rounds = (env("ACTOR12_STRESS_MESSAGES", 1_000_000) / 10_000).max(5);
    for round in 0..rounds {
        watchdog.progress();
        let drops = Arc::new(AtomicUsize::new(0));
        let (tx, mut rx) = channel::<Tracked, Tracked>(Mailbox::bounded(100));
        let producers: Vec<_> = (0..3)
            .map(|p| {
                let (tx, drops) = (tx.clone(), drops.clone());
                thread::spawn(move || {
                    let mut made = 0;
                    loop {
                        made += 1;
                        if p == 0 && made % 7 == 0 {
                            if tx.send_system(Tracked::new(made, &drops)).is_err() {
                                return made;
                            }
                            continue;
                        }
                        match block_on(tx.send(Tracked::new(made, &drops))) {
                            Ok(()) => {}
                            Err(_) => return made,
                        }
                    }
                })
            })
            .collect();
        for _ in 0..round * 10 {
            rx.recv().unwrap();
        }
        drop(rx);
        let made: u64 = producers.into_iter().map(|h| h.join().unwrap()).sum();
        assert_eq!(drops.load(SeqCst) as u64, made, "round {round}");
        drop(tx);
        assert_eq!(drops.load(SeqCst) as u64, made, "round {round}: dropped twice");
    }
    drop(watchdog);
}

/// A receiver polled again with a new waker, where its old waker held the last sender: the old
/// waker was dropped under the lock of the receiver's waker slot, and the last sender's drop
/// (which closes the channel and takes that lock to wake the receiver) deadlocked the thread on
/// itself (a review of 2026-12-07).
#[test]
fn a_receiver_repolled_with_a_new_waker_survives_its_old_one_dropping_the_last_sender() {
    struct HoldsSender(#[allow(dead_code)] std::sync::Mutex<Option<actor12_mailbox::Sender<u32>>>);
    impl Wake for HoldsSender {
        fn wake(self: Arc<Self>) {}
    }
    let (tx, mut rx) = unbounded::<u32>();
    let (done_tx, done) = mpsc::channel();
    thread::spawn(move || {
        let first = Waker::from(Arc::new(HoldsSender(std::sync::Mutex::new(Some(tx)))));
        assert!(rx.poll_recv(&mut Context::from_waker(&first)).is_pending());
        drop(first); // the receiver's copy now holds the last sender
        let mut cx = Context::from_waker(Waker::noop());
        // The new waker replaces the old one, whose drop closes the channel.
        let polled = rx.poll_recv(&mut cx);
        let next = if polled.is_pending() { rx.poll_recv(&mut cx) } else { polled };
        done_tx.send(matches!(next, Poll::Ready(None))).unwrap();
    });
    let closed = done.recv_timeout(Duration::from_secs(60)).expect("the receiver deadlocked");
    assert!(closed, "the last sender's drop closes the channel");
}
