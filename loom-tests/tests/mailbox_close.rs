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
