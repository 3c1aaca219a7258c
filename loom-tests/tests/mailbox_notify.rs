//! loom: a notification (the wake-up of an actor whose handler awaits something) is never lost,
//! and shares the run token with pushes: one schedule per idle period.
//!
//! The consumer runs while a notifier and a producer race it. It models an actor: first it waits
//! for a reply that the notifier writes before notifying (its handler is pending; it goes idle
//! with `try_idle_unless_notified`, ignoring the message), then it drains messages and goes idle
//! with `try_idle`. Notifications coalesce, as wake-ups do. A lost
//! notification leaves it waiting for a token that never comes; a double schedule issues two
//! tokens for one idle period.
#![cfg(actor12_loom)]

use actor12_mailbox::{Mailbox, Pop, Push};
use loom::sync::Arc;
use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use loom::thread;

#[test]
fn notify_versus_push_versus_idle() {
    loom::model(|| {
        let mailbox = Arc::new(Mailbox::<u32>::unbounded());
        let tokens = Arc::new(AtomicUsize::new(0));
        // The consumer starts with the run token (as an actor does while its first handler runs).
        assert_eq!(mailbox.notify(), Push::Schedule);
        let mut taken = 1;
        tokens.store(1, SeqCst);

        let reply = Arc::new(AtomicBool::new(false));
        let notifier = {
            let (mailbox, tokens, reply) = (mailbox.clone(), tokens.clone(), reply.clone());
            thread::spawn(move || {
                reply.store(true, SeqCst);
                if mailbox.notify() == Push::Schedule {
                    tokens.fetch_add(1, SeqCst);
                }
            })
        };
        let producer = {
            let (mailbox, tokens) = (mailbox.clone(), tokens.clone());
            thread::spawn(move || {
                if mailbox.try_push(5).unwrap() == Push::Schedule {
                    tokens.fetch_add(1, SeqCst);
                }
            })
        };

        // Phase 1: the handler waits for the reply.
        loop {
            // SAFETY: this thread is the only consumer, and runs only with a token.
            unsafe { mailbox.take_notified() };
            if reply.load(SeqCst) {
                break;
            }
            // SAFETY: as above.
            if unsafe { Mailbox::try_idle_unless_notified(&*mailbox) } {
                while tokens.load(SeqCst) == taken {
                    thread::yield_now();
                }
                assert_eq!(tokens.load(SeqCst), taken + 1, "two tokens for one idle period");
                taken += 1;
            }
        }

        // Phase 2: the handler is done; drain the message and go idle.
        let mut received = None;
        loop {
            // SAFETY: as above.
            match unsafe { mailbox.pop() } {
                Pop::User(v) => received = Some(v),
                Pop::Busy => thread::yield_now(),
                Pop::Empty => {
                    // SAFETY: as above. A run first takes the notification it may be for.
                    unsafe { mailbox.take_notified() };
                    // SAFETY: as above.
                    if unsafe { Mailbox::try_idle(&*mailbox) } {
                        if received.is_some() {
                            break;
                        }
                        while tokens.load(SeqCst) == taken {
                            thread::yield_now();
                        }
                        taken += 1;
                    }
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        notifier.join().unwrap();
        producer.join().unwrap();
        assert_eq!(received, Some(5));
        // A notification that lands after the reply was seen schedules one more (empty) run.
        let late = tokens.load(SeqCst) - taken;
        assert!(late <= 1, "{late} tokens issued for one idle period");
        if late == 1 {
            // SAFETY: as above; this run holds the late token.
            unsafe {
                assert!(mailbox.take_notified());
                assert_eq!(mailbox.pop(), Pop::Empty);
                assert!(Mailbox::try_idle(&*mailbox));
            }
        }
    });
}
