//! loom: the CancelToken tree. A cancel of the parent races the creation of a child and a
//! future waiting on the child: the child is always cancelled, the waiter always woken.
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
