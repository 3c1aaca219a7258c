//! The `Sender`/`Receiver` handles as a user of the crate meets them: close from either side,
//! blocked senders and a blocked receiver woken by it, messages left behind dropped once,
//! waiting senders that give up at random, and the bounds at their edges.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use actor12_mailbox::{Mailbox, channel};
use support::Tracked;

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
