//! loom: the CancelToken tree. A cancel of the parent races the creation of a child (of the
//! same reason type, or of another one) and a future waiting on the child: the child is always
//! cancelled, the waiter always woken.
#![cfg(actor12_loom)]

use actor12::cancel::CancelToken;
use actor12_loom_tests::block_on;
use loom::thread;

#[test]
fn parent_cancel_versus_child_creation_and_waiter() {
    loom::model(|| {
        let root: CancelToken<u8> = CancelToken::new();
        let middle = root.child();
        let canceller = {
            let root = root.clone();
            thread::spawn(move || root.cancel(3u8))
        };
        // Created while the cancel may be in flight.
        let leaf = middle.child();
        let reason = block_on(leaf.cancelled());
        assert_eq!(*reason.value(), 3);
        canceller.join().unwrap();
        assert!(middle.is_cancelled() && leaf.is_cancelled());
    });
}

#[test]
fn parent_cancel_versus_child_of_another_type_and_waiter() {
    loom::model(|| {
        let root: CancelToken<u8> = CancelToken::new();
        let canceller = {
            let root = root.clone();
            thread::spawn(move || root.cancel(3u8))
        };
        // Another reason type, created while the cancel may be in flight: cancelled with its
        // type's default.
        let other: CancelToken<u16> = root.child_with();
        let leaf = other.child();
        let reason = block_on(leaf.cancelled());
        assert_eq!(*reason.value(), 0);
        canceller.join().unwrap();
        assert!(other.is_cancelled());
        assert_eq!(root.reason().map(|r| *r.value()), Some(3));
    });
}
