//! loom: block recycling. With two-slot blocks under loom, a handful of messages crosses several
//! blocks while the consumer drains and relinks them; producers walking the list must never see
//! a block being reset, and nothing may be lost, duplicated or reordered.
#![cfg(actor12_loom)]

use actor12_mailbox::{BLOCK_CAPACITY, Mailbox, Pop};
use loom::sync::Arc;
use loom::thread;

#[test]
fn recycle_while_producers_walk() {
    assert_eq!(BLOCK_CAPACITY, 2, "the model relies on tiny blocks");
    loom::model(|| {
        let mailbox = Arc::new(Mailbox::<(u8, u8)>::unbounded());
        // Fill and drain the first block so that it is recycled during the model.
        for i in 0..2 {
            let _ = mailbox.try_push((0, i)).unwrap();
        }
        let producers: Vec<_> = (1..=2u8)
            .map(|p| {
                let mailbox = mailbox.clone();
                thread::spawn(move || {
                    for i in 0..2 {
                        let _ = mailbox.try_push((p, i)).unwrap();
                    }
                })
            })
            .collect();
        let mut next = [0u8; 3];
        let mut received = 0;
        while received < 6 {
            // SAFETY: this thread is the only consumer.
            match unsafe { mailbox.pop() } {
                Pop::User((p, i)) => {
                    assert_eq!(i, next[p as usize], "producer {p} out of order");
                    next[p as usize] += 1;
                    received += 1;
                }
                Pop::Empty | Pop::Busy => thread::yield_now(),
                other => panic!("unexpected {other:?}"),
            }
        }
        for p in producers {
            p.join().unwrap();
        }
        // Push again after recycling: the reused blocks must be linked correctly.
        for i in 0..3 {
            let _ = mailbox.try_push((0, 2 + i)).unwrap();
        }
        for i in 0..3 {
            // SAFETY: as above.
            assert_eq!(unsafe { mailbox.pop() }, Pop::User((0, 2 + i)));
        }
    });
}
