//! loom: exactly one push per idle period schedules the consumer, and none is lost.
//!
//! Two producers push while the consumer runs, drains, and offers to go idle. A push that
//! returns `Schedule` issues a run token; the consumer runs only with a token. A lost wake-up
//! leaves the consumer spinning for a token that never comes (loom reports it); a double
//! schedule shows as a second token issued for the same idle period. And the token carries the
//! consumer's state to whichever thread runs it next.
#![cfg(actor12_loom)]

use actor12_mailbox::{Mailbox, Pop, Push};
use loom::sync::Arc;
use loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use loom::thread;

#[test]
fn two_producers_and_an_idling_consumer() {
    loom::model(|| {
        let mailbox = Arc::new(Mailbox::<u32>::unbounded());
        let tokens = Arc::new(AtomicUsize::new(0));
        let producers: Vec<_> = (1..=2)
            .map(|value| {
                let mailbox = mailbox.clone();
                let tokens = tokens.clone();
                thread::spawn(move || {
                    if mailbox.try_push(value).unwrap() == Push::Schedule {
                        tokens.fetch_add(1, SeqCst);
                    }
                })
            })
            .collect();

        let (mut taken, mut idles, mut received) = (0, 0, Vec::new());
        while received.len() < 2 {
            // Wait for a run token.
            while tokens.load(SeqCst) == taken {
                thread::yield_now();
            }
            assert_eq!(tokens.load(SeqCst), taken + 1, "two tokens for one idle period");
            taken += 1;
            loop {
                // SAFETY: this thread is the only consumer, and runs only with a token.
                match unsafe { mailbox.pop() } {
                    Pop::User(v) => received.push(v),
                    Pop::Busy => thread::yield_now(),
                    Pop::Empty => {
                        // SAFETY: as above.
                        if unsafe { Mailbox::try_idle(&*mailbox) } {
                            idles += 1;
                            break;
                        }
                    }
                    other => panic!("unexpected {other:?}"),
                }
            }
        }
        for p in producers {
            p.join().unwrap();
        }
        received.sort_unstable();
        assert_eq!(received, [1, 2]);
        assert_eq!(
            tokens.load(SeqCst),
            taken,
            "a token was issued for an idle period that had one"
        );
        assert_eq!(taken, idles);
    });
}

/// A system signal races the consumer's idle step: either the consumer sees the signal before
/// it goes idle, or the signal's push schedules it.
#[test]
fn signal_versus_idle() {
    loom::model(|| {
        let mailbox = Arc::new(Mailbox::<u32, u32>::unbounded());
        // The consumer holds the run token from this first push.
        assert_eq!(mailbox.try_push(1).unwrap(), Push::Schedule);
        let signaller = {
            let mailbox = mailbox.clone();
            thread::spawn(move || mailbox.push_system(7).unwrap())
        };
        let (mut signals, mut messages) = (0, 0);
        loop {
            // SAFETY: this thread is the only consumer.
            match unsafe { mailbox.pop() } {
                Pop::System(7) => signals += 1,
                Pop::User(1) => messages += 1,
                Pop::Busy => thread::yield_now(),
                // SAFETY: as above.
                Pop::Empty if unsafe { Mailbox::try_idle(&*mailbox) } => break,
                Pop::Empty => {}
                other => panic!("unexpected {other:?}"),
            }
        }
        let push = signaller.join().unwrap();
        assert_eq!(messages, 1);
        if signals == 0 {
            assert_eq!(
                push,
                Push::Schedule,
                "the consumer went idle and the signal did not wake it"
            );
            // SAFETY: scheduled by that push; the only consumer.
            assert_eq!(unsafe { mailbox.pop() }, Pop::System(7));
        } else if push == Push::Schedule {
            // The consumer took the signal and went idle before its flag went up: the run that
            // flag schedules finds nothing, and ends in idle again.
            // SAFETY: as above.
            unsafe {
                assert_eq!(mailbox.pop(), Pop::Empty);
                assert!(Mailbox::try_idle(&*mailbox));
            }
        }
    });
}

/// Pops until the mailbox is empty and the consumer idles; returns the messages.
///
/// # Safety
/// The caller holds the run token, and is the only consumer while it does.
unsafe fn drain_then_idle(mailbox: &Mailbox<u32>) -> Vec<u32> {
    let mut got = Vec::new();
    loop {
        // SAFETY: per the contract.
        match unsafe { mailbox.pop() } {
            Pop::User(v) => got.push(v),
            Pop::Busy => thread::yield_now(),
            // SAFETY: as above.
            Pop::Empty if unsafe { Mailbox::try_idle(mailbox) } => return got,
            Pop::Empty => {}
            other => panic!("unexpected {other:?}"),
        }
    }
}

/// The run token changes threads, as an actor's does between workers: the consumer drains and
/// goes idle on one thread, and the producer whose push finds it idle runs it next, on its own.
/// The consumer's state (its position and block, in a cell) goes with the token: the idle CAS's
/// release, the claim's acquire. In the other models the consumer stays on one thread.
#[test]
fn the_run_token_moves_to_the_producer_that_schedules() {
    loom::model(|| {
        let mailbox = Arc::new(Mailbox::<u32>::unbounded());
        // This thread holds the run token from the first push.
        assert_eq!(mailbox.try_push(1).unwrap(), Push::Schedule);
        let producer = {
            let mailbox = mailbox.clone();
            thread::spawn(move || match mailbox.try_push(2).unwrap() {
                // SAFETY: the push handed us the token; the other thread has given it up.
                Push::Schedule => unsafe { drain_then_idle(&mailbox) },
                Push::Queued | Push::Backlogged => Vec::new(),
            })
        };
        // SAFETY: we hold the token until `try_idle` gives it up.
        let mut got = unsafe { drain_then_idle(&mailbox) };
        got.extend(producer.join().unwrap());
        got.sort_unstable();
        assert_eq!(got, [1, 2]);
    });
}
