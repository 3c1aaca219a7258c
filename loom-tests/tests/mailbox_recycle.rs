//! loom: linking and recycling blocks, with two-slot blocks so that a few messages cross several.
//!
//! Two models, each with one thread that spins (loom explores spinning threads that wait on each
//! other poorly): producers racing a link step, and a consumer recycling blocks while a producer
//! links new ones and takes the recycled spares. Nothing may be lost, duplicated or reordered,
//! and loom checks that no slot is written while it is reset or read.
#![cfg(actor12_loom)]

use actor12_mailbox::{BLOCK_CAPACITY, Mailbox, Pop};
use loom::sync::Arc;
use loom::thread;

/// Two producers race across a link step (one claims the block's last slot and links the next
/// block; the other must wait for it and claim in the new block).
#[test]
fn producers_race_a_link_step() {
    assert_eq!(BLOCK_CAPACITY, 2, "the model relies on tiny blocks");
    loom::model(|| {
        let mailbox = Arc::new(Mailbox::<(u8, u8)>::unbounded());
        let _ = mailbox.try_push((0, 0)).unwrap();
        let other = {
            let mailbox = mailbox.clone();
            thread::spawn(move || {
                for i in 0..2 {
                    let _ = mailbox.try_push((1, i)).unwrap();
                }
            })
        };
        let _ = mailbox.try_push((0, 1)).unwrap();
        other.join().unwrap();
        let mut next = [0u8; 2];
        for _ in 0..4 {
            // SAFETY: this thread is the only consumer, and every push has returned.
            match unsafe { mailbox.pop() } {
                Pop::User((p, i)) => {
                    assert_eq!(i, next[p as usize], "producer {p} out of order");
                    next[p as usize] += 1;
                }
                other => panic!("expected a message, got {other:?}"),
            }
        }
        // SAFETY: as above.
        assert_eq!(unsafe { mailbox.pop() }, Pop::Empty);
    });
}

/// The consumer drains and recycles while a producer keeps linking blocks, which takes the
/// recycled spare as soon as it is offered.
#[test]
fn recycle_while_a_producer_links() {
    assert_eq!(BLOCK_CAPACITY, 2, "the model relies on tiny blocks");
    loom::model(|| {
        let mailbox = Arc::new(Mailbox::<u8>::unbounded());
        let producer = {
            let mailbox = mailbox.clone();
            thread::spawn(move || {
                for i in 0..5 {
                    let _ = mailbox.try_push(i).unwrap();
                }
            })
        };
        let mut next = 0;
        while next < 5 {
            // SAFETY: this thread is the only consumer.
            match unsafe { mailbox.pop() } {
                Pop::User(i) => {
                    assert_eq!(i, next, "out of order");
                    next += 1;
                }
                Pop::Empty | Pop::Busy => thread::yield_now(),
                other => panic!("unexpected {other:?}"),
            }
        }
        producer.join().unwrap();
    });
}
