//! loom: a producer waiting for room races the consumer's pop. The pop must either be seen by
//! the producer's retry or wake it; otherwise the producer waits forever (loom reports it).
#![cfg(actor12_loom)]

use actor12_loom_tests::{Unpark, block_on, park_on};
use actor12_mailbox::{Mailbox, Pop, Push};
use loom::sync::Arc;
use loom::sync::atomic::{AtomicBool, Ordering::SeqCst};
use loom::thread;

#[test]
fn waiter_versus_pop() {
    waiter_versus_consumer(Consumer::Fenced, false);
}

/// How the consumer of `waiter_versus_consumer` pops, and what it does when it finds nothing.
#[derive(Clone, Copy, PartialEq)]
enum Consumer {
    /// `pop`, and looks again.
    Fenced,
    /// `pop_lazy`, and `try_idle`: an actor's run, ending.
    LazyThenIdle,
    /// `pop_lazy`, and `wake_missed_producer`: an actor polling `ctx.rx.try_recv()` in a loop,
    /// whose run never ends.
    LazyThenWake,
}

/// A full one-slot mailbox, a producer waiting to push `2`, and a consumer that pops until it
/// has every message (see [`Consumer`]). With `past_bound`, the consumer first pushes `3` into
/// its own full mailbox past the bound, as an actor telling itself does: the mailbox then holds
/// more than its bound, and the waiting producer must still get room once the consumer has
/// taken it below.
fn waiter_versus_consumer(consumer: Consumer, past_bound: bool) {
    loom::model(move || {
        let mailbox = Arc::new(Mailbox::<u32>::bounded(1));
        let _ = mailbox.try_push(1).unwrap();
        let producer = {
            let mailbox = mailbox.clone();
            thread::spawn(move || block_on(mailbox.push(2)).is_ok())
        };
        if past_bound {
            assert_eq!(mailbox.push_past_bound(3), Ok(Push::Queued), "the consumer is not idle");
        }
        let mut got = Vec::new();
        while got.len() < 2 + usize::from(past_bound) {
            // SAFETY: this thread is the only consumer.
            let pop = unsafe {
                if consumer == Consumer::Fenced { mailbox.pop() } else { mailbox.pop_lazy() }
            };
            match pop {
                Pop::User(v) => got.push(v),
                Pop::Empty | Pop::Busy => {
                    match consumer {
                        Consumer::Fenced => {}
                        Consumer::LazyThenIdle => {
                            // SAFETY: as above.
                            let _ = unsafe { Mailbox::try_idle(&*mailbox) };
                        }
                        Consumer::LazyThenWake => {
                            // SAFETY: as above.
                            unsafe { mailbox.wake_missed_producer() }
                        }
                    }
                    thread::yield_now();
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        assert!(producer.join().unwrap());
        assert_eq!(got[0], 1);
        got.sort_unstable();
        assert_eq!(got, if past_bound { &[1, 2, 3][..] } else { &[1, 2] });
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
            thread::spawn(move || block_on(mailbox.push(2)).map(drop).map_err(|e| e.0))
        };
        let _ = mailbox.close();
        let result = producer.join().unwrap();
        assert_eq!(result, Err(2), "a full mailbox stays full; close hands the message back");
    });
}

/// The actor's way: pops without a fence, then goes idle when it finds nothing. A producer that
/// registers to wait while the pop is in flight may be missed by the pop's look at the waiters;
/// the idle transition must then find the WAITING bit and wake it.
#[test]
fn waiter_versus_lazy_pop_then_idle() {
    waiter_versus_consumer(Consumer::LazyThenIdle, false);
}

/// The consumer pushes past the bound of its own full mailbox (an actor telling itself), then
/// drains it as an actor does, while a producer waits for room.
#[test]
fn waiter_versus_a_push_past_the_bound() {
    waiter_versus_consumer(Consumer::LazyThenIdle, true);
}

/// An actor polling `ctx.rx.try_recv()` in a loop, never awaiting: its run never reaches an
/// idle transition, so a waiter a lazy pop missed must be woken when the consumer finds
/// nothing. Without `wake_missed_producer` there the model never ends (the producer waits for
/// good, and a real actor's loop would find `Empty` for ever behind the admission gate).
#[test]
fn waiter_versus_a_consumer_that_only_polls() {
    waiter_versus_consumer(Consumer::LazyThenWake, false);
}

/// A consumer that takes one message with a lazy pop, finds nothing more, calls
/// `wake_missed_producer` once and stops consuming (an actor that polled `try_recv` and then
/// awaits something else): the producer waiting for the room that pop made must see it, or be
/// woken by that one call (its `SeqCst` fence against the one in `Waiters::wait`). The model
/// above loops until it has every message, so a wake-up one call misses the next call makes.
#[test]
fn one_wake_missed_producer_after_a_lazy_pop() {
    loom::model(|| {
        let mailbox = Arc::new(Mailbox::<u32>::bounded(1));
        let _ = mailbox.try_push(1).unwrap();
        let producer = {
            let mailbox = mailbox.clone();
            thread::spawn(move || block_on(mailbox.push(2)).is_ok())
        };
        // SAFETY: this thread is the only consumer.
        unsafe {
            assert_eq!(mailbox.pop_lazy(), Pop::User(1));
            mailbox.wake_missed_producer();
        }
        assert!(producer.join().unwrap(), "the producer got the room");
        // SAFETY: as above.
        assert_eq!(unsafe { mailbox.pop_lazy() }, Pop::User(2));
    });
}

/// As an actor parks: once `try_idle` succeeds, the consumer runs again only when a push finds
/// the mailbox idle and schedules it. A waiter that the lazy pops missed must be woken by the
/// idle transition (before it: after it, the mailbox is no longer the consumer's to touch), or
/// the producer waits for room and the consumer for a push, forever. Unlike the model above,
/// no later pop can rescue the waiter.
#[test]
fn waiter_versus_lazy_pop_then_park() {
    waiters_versus_lazy_pop_then_park(1, false);
}

/// As above with two producers waiting. Only the first in the queue, or a woken one, tries to
/// take room (admission is in arrival order); the other must still be woken once there is room
/// for it, though the consumer parks between the two. Every thread here waits by parking
/// (`park_on`, `Unpark`): with three threads spinning in `block_on`s and the parked consumer,
/// two preemptions exceeded loom's branch limit on the spins alone, and the model ran with one.
#[test]
fn two_waiters_versus_lazy_pop_then_park() {
    waiters_versus_lazy_pop_then_park(2, false);
}

/// `producers` producers wait for room in a full one-slot mailbox while its consumer pops as an
/// actor does and parks whenever it goes idle; with `past_bound`, the consumer pushes a message
/// of its own past the bound after its first pop. A lost wake-up leaves the consumer and a
/// producer parked for good: loom reports a deadlock.
fn waiters_versus_lazy_pop_then_park(producers: u32, past_bound: bool) {
    loom::model(move || {
        let mailbox = Arc::new(Mailbox::<u32>::bounded(1));
        // The consumer (this thread) is scheduled by this push.
        assert_eq!(mailbox.try_push(0).unwrap(), Push::Schedule);
        let consumer = Unpark::current();
        let threads: Vec<_> = (1..=producers)
            .map(|i| {
                let (mailbox, consumer) = (mailbox.clone(), consumer.clone());
                thread::spawn(move || {
                    if park_on(mailbox.push(i)).unwrap() == Push::Schedule {
                        std::task::Wake::wake(consumer);
                    }
                })
            })
            .collect();
        let own = producers + 1;
        let expected: Vec<u32> = (0..=producers).chain(past_bound.then_some(own)).collect();
        let mut got = consume_parking(&mailbox, &consumer, expected.len(), |v| {
            if v == 0 && past_bound {
                let past = mailbox.push_past_bound(own);
                assert_eq!(past, Ok(Push::Queued), "the consumer is running");
            }
        });
        for t in threads {
            t.join().unwrap();
        }
        got.sort_unstable();
        assert_eq!(got, expected);
    });
}

/// Pops `n` messages as an actor does, on the thread that was scheduled by the mailbox's first
/// push: lazily, and parked whenever it goes idle until a push that schedules it wakes
/// `consumer` (the models' producers do on `Push::Schedule`). `on_pop` sees each message as it
/// is popped.
fn consume_parking(
    mailbox: &Mailbox<u32>,
    consumer: &Unpark,
    n: usize,
    mut on_pop: impl FnMut(u32),
) -> Vec<u32> {
    let mut got = Vec::new();
    while got.len() < n {
        // SAFETY: this thread is the only consumer, and runs only while scheduled.
        match unsafe { mailbox.pop_lazy() } {
            Pop::User(v) => {
                on_pop(v);
                got.push(v);
            }
            Pop::Empty | Pop::Busy => {
                // Only a push that finds the mailbox idle wakes the consumer, and only after the
                // transition below.
                consumer.clear();
                // SAFETY: as above.
                if unsafe { Mailbox::try_idle(mailbox) } {
                    consumer.wait();
                } else {
                    thread::yield_now();
                }
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    got
}

/// As `waiter_versus_lazy_pop_then_park`, with the consumer pushing past the bound after its
/// first pop (an actor telling itself), which may take the room the waiter was just woken for.
/// The woken waiter then queues again without changing the state word (WAITING stays set while
/// it is woken), so the consumer's idle transition orders itself against it only through the
/// waiter lock its `wake_one` takes: either the waiter is queued by then and woken, or its
/// retry, after that lock, sees the room the consumer made.
#[test]
fn a_woken_waiter_whose_room_went_past_the_bound_versus_park() {
    waiters_versus_lazy_pop_then_park(1, true);
}

/// Marks that it was woken.
struct Flag(AtomicBool);

impl std::task::Wake for Flag {
    fn wake(self: std::sync::Arc<Self>) {
        self.0.store(true, SeqCst);
    }
}

/// A full one-slot mailbox with two producers waiting: A until it gets in, B polling once and
/// then giving up (a timeout), at once or a moment later. The consumer pops once, waking one of
/// them. If it woke B, B's going away must pass the wake-up on to A (`Waiters::cancel`), or A
/// waits for ever (loom reports it). Without that hand-on every other model here still passed.
fn two_waiters_one_gives_up(b_gives_up_late: bool) {
    loom::model(move || {
        let mailbox = Arc::new(Mailbox::<u32>::bounded(1));
        let _ = mailbox.try_push(0).unwrap();
        let a = {
            let mailbox = mailbox.clone();
            thread::spawn(move || block_on(mailbox.push(1)).is_ok())
        };
        let b = {
            let mailbox = mailbox.clone();
            thread::spawn(move || {
                let flag = std::sync::Arc::new(Flag(AtomicBool::new(false)));
                let waker = std::task::Waker::from(flag);
                let mut push = mailbox.push(2);
                let mut cx = std::task::Context::from_waker(&waker);
                match std::future::Future::poll(std::pin::Pin::new(&mut push), &mut cx) {
                    std::task::Poll::Ready(sent) => sent.is_ok(),
                    std::task::Poll::Pending => {
                        if b_gives_up_late {
                            thread::yield_now();
                        }
                        false // the push is dropped: B gives up
                    }
                }
            })
        };
        // SAFETY: this thread is the only consumer.
        assert_eq!(unsafe { mailbox.pop() }, Pop::User(0));
        let b_got_in = b.join().unwrap();
        let mut got = Vec::new();
        // B may have taken the room A was woken for: keep consuming until A's message.
        while !got.contains(&1) {
            // SAFETY: as above.
            match unsafe { mailbox.pop() } {
                Pop::User(v) => got.push(v),
                _ => thread::yield_now(),
            }
        }
        assert!(a.join().unwrap());
        // SAFETY: as above; both producers are done.
        while let Pop::User(v) = unsafe { mailbox.pop() } {
            got.push(v);
        }
        got.sort_unstable();
        assert_eq!(got, if b_got_in { vec![1, 2] } else { vec![1] });
    });
}

#[test]
fn a_woken_waiter_that_gives_up_passes_the_wake_up_on() {
    two_waiters_one_gives_up(true);
}

#[test]
fn a_waiter_that_gives_up_at_once_leaves_the_other_its_turn() {
    two_waiters_one_gives_up(false);
}

/// First come, first served: a full one-slot mailbox, a producer A queued for room, a producer
/// B that pushes once A is queued, and a consumer that pops. B's push must not take the room
/// the pop made for A: A's message comes before B's whatever the interleaving. Without the
/// admission gate, B took the slot and A's message came after it.
#[test]
fn a_new_push_does_not_take_the_room_of_a_waiting_producer() {
    loom::model(|| {
        let mailbox = Arc::new(Mailbox::<u32>::bounded(1));
        let _ = mailbox.try_push(0).unwrap();
        let a = {
            let mailbox = mailbox.clone();
            thread::spawn(move || {
                let mut push = mailbox.push(1);
                let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
                let first = std::future::Future::poll(std::pin::Pin::new(&mut push), &mut cx);
                // A is in (the pop came first) or queued: now B pushes.
                let b = {
                    let mailbox = mailbox.clone();
                    thread::spawn(move || mailbox.try_push(2).is_ok())
                };
                if first.is_pending() {
                    let _ = block_on(&mut push).unwrap();
                }
                b.join().unwrap()
            })
        };
        let mut got = Vec::new();
        while !got.contains(&1) {
            // SAFETY: this thread is the only consumer.
            match unsafe { mailbox.pop() } {
                Pop::User(v) => got.push(v),
                _ => thread::yield_now(),
            }
        }
        let b_got_in = a.join().unwrap();
        // SAFETY: as above; both producers are done.
        while let Pop::User(v) = unsafe { mailbox.pop() } {
            got.push(v);
        }
        assert_eq!(got, if b_got_in { vec![0, 1, 2] } else { vec![0, 1] });
    });
}

/// A full one-slot mailbox with two producers: B queued first, then woken by the consumer's
/// pop, ends its wait by pushing past the bound (`PushFuture::push_past_bound`, as an actor
/// that finds itself waiting on its own mailbox does); A starts pushing once B is queued and,
/// being first in line while B counts as woken, finds no room at capacity 1 (the slot is kept
/// for B). The consumer pops as an actor does and parks whenever it goes idle, and may go idle
/// before A registers, so nothing but B's going away can wake A: B must pass its wake-up on.
/// With B leaving the queue quietly instead, A waited for ever (loom reports a deadlock at two
/// preemptions), which a real-thread stress test had hit once.
///
/// A is spawned first, so that when the consumer parks loom runs A before B without spending a
/// preemption: the deadlock takes two (the consumer's after waking B, B's between its push and
/// its leaving the queue), within the bound CI explores.
#[test]
fn a_woken_waiter_that_pushes_past_the_bound_passes_the_wake_up_on() {
    loom::model(|| {
        let mailbox = Arc::new(Mailbox::<u32>::bounded(1));
        // The consumer (this thread) is scheduled by this push.
        assert_eq!(mailbox.try_push(0).unwrap(), Push::Schedule);
        let consumer = Unpark::current();
        let a_may_push = Arc::new(AtomicBool::new(false));
        let a = {
            let (mailbox, consumer, a_may_push) =
                (mailbox.clone(), consumer.clone(), a_may_push.clone());
            thread::spawn(move || {
                while !a_may_push.load(SeqCst) {
                    thread::park();
                }
                if park_on(mailbox.push(1)).unwrap() == Push::Schedule {
                    std::task::Wake::wake(consumer);
                }
            })
        };
        let b_queued = Unpark::current();
        let b = {
            let (mailbox, consumer, b_queued) =
                (mailbox.clone(), consumer.clone(), b_queued.clone());
            thread::spawn(move || {
                let me = Unpark::current();
                let waker = std::task::Waker::from(me.clone());
                let mut push = mailbox.push(2);
                let mut cx = std::task::Context::from_waker(&waker);
                let first = std::future::Future::poll(std::pin::Pin::new(&mut push), &mut cx);
                assert!(first.is_pending(), "the mailbox is full until the consumer pops");
                std::task::Wake::wake(b_queued);
                me.wait();
                if push.push_past_bound().unwrap() == Push::Schedule {
                    std::task::Wake::wake(consumer);
                }
            })
        };
        // B's ticket comes before A's.
        b_queued.wait();
        a_may_push.store(true, SeqCst);
        a.thread().unpark();
        let mut got = consume_parking(&mailbox, &consumer, 3, |_| {});
        a.join().unwrap();
        b.join().unwrap();
        got.sort_unstable();
        assert_eq!(got, [0, 1, 2]);
    });
}

/// Two woken waiters, room for one: a full one-slot mailbox, producers A and B queued for room
/// in that order (A's first poll returns before B's starts), and a consumer that pops as an
/// actor does and parks whenever it goes idle. Its lazy pop wakes A; if it then finds nothing
/// more (A not in yet), its idle transition sees WAITING (set for A, woken and not yet in) and
/// wakes B as well, so A and B retry concurrently with room for one. B must leave that room to A, woken with an earlier
/// ticket (`Waiters::wait` leaves a slot for each): A's message comes before B's in every
/// interleaving, and B still gets in once the consumer takes A's (no one stranded: loom reports
/// a deadlock). Before 68799f3 a woken waiter took any room: B, run first (as a worker's LIFO
/// slot runs the task woken last), took A's. `mailbox_basic`'s test of the same name fixes one
/// interleaving, this model explores them all; with that old retry planted back (`Some(0)` for
/// a woken waiter) it fails at one preemption: `[0, 2, 1]`.
#[test]
fn a_waiter_woken_second_leaves_the_room_to_the_one_woken_first() {
    loom::model(|| {
        let mailbox = Arc::new(Mailbox::<u32>::bounded(1));
        // The consumer (this thread) is scheduled by this push.
        assert_eq!(mailbox.try_push(0).unwrap(), Push::Schedule);
        let consumer = Unpark::current();
        let waiter = |msg: u32, queued: std::sync::Arc<Unpark>| {
            let (mailbox, consumer) = (mailbox.clone(), consumer.clone());
            thread::spawn(move || {
                let me = Unpark::current();
                let waker = std::task::Waker::from(me.clone());
                let mut cx = std::task::Context::from_waker(&waker);
                let mut push = mailbox.push(msg);
                let first = std::future::Future::poll(std::pin::Pin::new(&mut push), &mut cx);
                assert!(first.is_pending(), "the mailbox is full until the consumer pops");
                std::task::Wake::wake(queued);
                // As `park_on`, from its first wait on.
                let pushed = loop {
                    me.wait();
                    me.clear();
                    let poll = std::future::Future::poll(std::pin::Pin::new(&mut push), &mut cx);
                    if let std::task::Poll::Ready(pushed) = poll {
                        break pushed;
                    }
                };
                if pushed.unwrap() == Push::Schedule {
                    std::task::Wake::wake(consumer);
                }
            })
        };
        // A's ticket comes before B's.
        let a_queued = Unpark::current();
        let a = waiter(1, a_queued.clone());
        a_queued.wait();
        let b_queued = Unpark::current();
        let b = waiter(2, b_queued.clone());
        b_queued.wait();
        let got = consume_parking(&mailbox, &consumer, 3, |_| {});
        a.join().unwrap();
        b.join().unwrap();
        assert_eq!(got, [0, 1, 2], "the waiters get room in the order they started waiting");
    });
}
