//! loom: pushes racing close. Every message is either delivered before `Closed` or handed back
//! to its producer, never both, never neither, and dropped exactly once.
#![cfg(actor12_loom)]

use actor12_loom_tests::Tracked;
use actor12_mailbox::{Mailbox, Pop, TrySendError};
use loom::sync::Arc;
use loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use loom::thread;

#[test]
fn push_versus_close() {
    loom::model(|| {
        let mailbox = Arc::new(Mailbox::<Tracked>::unbounded());
        let drops = Arc::new(AtomicUsize::new(0));
        let producers: Vec<_> = (1..=2)
            .map(|v| {
                let mailbox = mailbox.clone();
                let drops = drops.clone();
                thread::spawn(move || match mailbox.try_push(Tracked(v, drops)) {
                    Ok(_) => None,
                    Err(TrySendError::Closed(back)) => Some(back.0),
                    Err(TrySendError::Full(_)) => unreachable!(),
                })
            })
            .collect();
        let closer = {
            let mailbox = mailbox.clone();
            thread::spawn(move || {
                let _ = mailbox.close();
            })
        };
        let mut delivered = Vec::new();
        loop {
            // SAFETY: this thread is the only consumer.
            match unsafe { mailbox.pop() } {
                Pop::User(t) => delivered.push(t.0),
                Pop::Closed => break,
                Pop::Empty | Pop::Busy => thread::yield_now(),
                Pop::System(()) => unreachable!(),
            }
        }
        let mut returned: Vec<u32> =
            producers.into_iter().filter_map(|p| p.join().unwrap()).collect();
        closer.join().unwrap();
        let mut all: Vec<u32> = delivered.iter().copied().chain(returned.drain(..)).collect();
        all.sort_unstable();
        assert_eq!(all, [1, 2], "each message delivered or handed back, exactly once");
        assert_eq!(drops.load(SeqCst), 2, "every value dropped exactly once");
        drop(mailbox);
        assert_eq!(drops.load(SeqCst), 2);
    });
}

/// A consumer that finished for good frees the blocks (`Mailbox::release_blocks`, an actor's
/// teardown) while producers that read the state word before the close are still pushing: the
/// first message fills the first block's first slot, the others race the close, one of them
/// possibly the block's last slot (whose producer links a second block). Each message is
/// delivered or handed back exactly once; no producer touches a freed block (loom reports an
/// access to a dropped cell); later pushes are refused; the mailbox's drop frees nothing twice.
#[test]
fn release_blocks_versus_late_pushes() {
    loom::model(|| {
        let mailbox = Arc::new(Mailbox::<Tracked>::unbounded());
        let drops = Arc::new(AtomicUsize::new(0));
        assert!(mailbox.try_push(Tracked(0, drops.clone())).is_ok());
        let producers: Vec<_> = (1..=2)
            .map(|v| {
                let mailbox = mailbox.clone();
                let drops = drops.clone();
                thread::spawn(move || match mailbox.try_push(Tracked(v, drops)) {
                    Ok(_) => None,
                    Err(TrySendError::Closed(back)) => Some(back.0),
                    Err(TrySendError::Full(_)) => unreachable!(),
                })
            })
            .collect();
        let _ = mailbox.close();
        let mut delivered = Vec::new();
        loop {
            // SAFETY: this thread is the only consumer.
            match unsafe { mailbox.pop() } {
                Pop::User(t) => delivered.push(t.0),
                Pop::Closed => break,
                Pop::Empty => unreachable!("closed before the first pop"),
                Pop::Busy => thread::yield_now(),
                Pop::System(()) => unreachable!(),
            }
        }
        // SAFETY: the only consumer; its last pop returned `Closed`, and it pops no more.
        unsafe { mailbox.release_blocks() };
        let back = Tracked(9, drops.clone());
        assert!(matches!(mailbox.try_push(back), Err(TrySendError::Closed(_))));
        let mut returned: Vec<u32> =
            producers.into_iter().filter_map(|p| p.join().unwrap()).collect();
        let mut all: Vec<u32> = delivered.iter().copied().chain(returned.drain(..)).collect();
        all.sort_unstable();
        assert_eq!(all, [0, 1, 2], "each message delivered or handed back, exactly once");
        drop(mailbox);
        assert_eq!(drops.load(SeqCst), 4, "every value dropped exactly once");
    });
}
