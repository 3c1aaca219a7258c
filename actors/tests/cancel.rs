//! Hierarchical cancellation tokens.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::task::{Context, Poll, Wake, Waker};
use std::thread;
use std::time::{Duration, Instant};

use actor12::cancel::{CancelReason, CancelToken};

#[derive(Default)]
struct Count(AtomicUsize);

impl Wake for Count {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }
}

fn waker() -> (Arc<Count>, Waker) {
    let count = Arc::new(Count::default());
    (count.clone(), Waker::from(count))
}

fn poll<F: Future + Unpin>(fut: &mut F, waker: &Waker) -> Poll<F::Output> {
    Pin::new(fut).poll(&mut Context::from_waker(waker))
}

#[test]
fn cancelling_a_parent_cancels_the_whole_subtree_with_its_reason() {
    let root: CancelToken<String> = CancelToken::new();
    let child = root.child();
    let grandchild = child.child();
    let sibling = root.child();
    root.cancel("shutdown");
    for token in [&root, &child, &grandchild, &sibling] {
        assert!(token.is_cancelled());
        assert_eq!(token.reason().unwrap().value(), "shutdown");
    }
}

#[test]
fn cancelling_a_child_leaves_the_parent_running() {
    let root: CancelToken<u8> = CancelToken::new();
    let child = root.child();
    child.cancel(1);
    assert!(child.is_cancelled());
    assert!(!root.is_cancelled());
    root.cancel(2);
    assert_eq!(*child.reason().unwrap().value(), 1, "the first reason stays");
}

#[test]
fn the_reason_records_where_cancel_was_called() {
    let token: CancelToken<()> = CancelToken::new();
    let line = line!() + 1;
    token.cancel(());
    let reason = token.reason().unwrap();
    assert_eq!(reason.location().file(), file!());
    assert_eq!(reason.location().line(), line);
}

#[test]
fn a_child_of_a_cancelled_token_starts_cancelled() {
    let root: CancelToken<&str> = CancelToken::new();
    root.cancel("gone");
    let child = root.child();
    assert_eq!(child.reason().map(|r| *r.value()), Some("gone"));
}

#[test]
fn waiters_are_woken_and_resolve_with_the_reason() {
    let token: CancelToken<u32> = CancelToken::new();
    let child = token.child();
    let (count, w) = waker();
    let mut on_parent = token.cancelled();
    let mut on_child = child.cancelled_or_dropped();
    assert!(poll(&mut on_parent, &w).is_pending());
    assert!(poll(&mut on_child, &w).is_pending());
    token.cancel(9u32);
    assert_eq!(count.0.load(SeqCst), 2);
    assert!(matches!(poll(&mut on_parent, &w), Poll::Ready(r) if *r.value() == 9));
    assert!(matches!(poll(&mut on_child, &w), Poll::Ready(Some(r)) if *r.value() == 9));
}

#[test]
fn dropping_every_token_resolves_cancelled_or_dropped_to_none() {
    let token: CancelToken<u32> = CancelToken::new();
    let (count, w) = waker();
    let mut or_dropped = token.cancelled_or_dropped();
    let mut cancelled = token.cancelled();
    assert!(poll(&mut or_dropped, &w).is_pending());
    assert!(poll(&mut cancelled, &w).is_pending());
    drop(token);
    assert_eq!(count.0.load(SeqCst), 2);
    assert_eq!(poll(&mut or_dropped, &w), Poll::Ready(None));
    assert!(poll(&mut cancelled, &w).is_pending(), "it can never fire now");
}

#[test]
fn dropped_waiters_leave_no_registration_behind() {
    let token: CancelToken<u32> = CancelToken::new();
    let (count, w) = waker();
    for _ in 0..1000 {
        let mut fut = token.cancelled();
        assert!(poll(&mut fut, &w).is_pending());
    }
    token.cancel(1u32);
    assert_eq!(count.0.load(SeqCst), 0, "no stale waker was woken");
}

#[test]
fn tokens_below_dropped_tokens_still_hear_the_cancel_from_above() {
    let root: CancelToken<u32> = CancelToken::new();
    // The middle tokens are temporaries, dropped at the end of each statement.
    let grandchild = root.child().child();
    let other: CancelToken<u8> = root.child_with::<u16>().child_with();
    let mixed: CancelToken<u32> = root.child_with::<u16>().child().child_with();
    root.cancel(1u32);
    assert_eq!(grandchild.reason().map(|r| *r.value()), Some(1));
    assert_eq!(other.reason().map(|r| *r.value()), Some(0), "`u8::default()`");
    assert_eq!(mixed.reason().map(|r| *r.value()), Some(0), "`u32::default()` from `u16`'s");
}

#[test]
fn the_last_token_of_a_parent_ends_its_waiters_while_its_children_live_on() {
    let root: CancelToken<u32> = CancelToken::new();
    let middle = root.child();
    let leaf = middle.child();
    let (count, w) = waker();
    let mut or_dropped = middle.cancelled_or_dropped();
    let mut cancelled = middle.cancelled();
    assert!(poll(&mut or_dropped, &w).is_pending());
    assert!(poll(&mut cancelled, &w).is_pending());
    drop(middle);
    assert_eq!(count.0.load(SeqCst), 2, "both waiters are woken by the last token's drop");
    assert_eq!(poll(&mut or_dropped, &w), Poll::Ready(None));
    assert!(poll(&mut cancelled, &w).is_pending());
    // The node lives on for the leaf, and passes the root's cancel on to it.
    root.cancel(2u32);
    assert_eq!(leaf.reason().map(|r| *r.value()), Some(2));
}

/// Chains of tokens of which only the ends are kept, of one reason type and of two alternating:
/// the root's cancel reaches the far end, and a chain is dropped without a call per level (a
/// node is kept by its child; dropping the last would otherwise drop the chain recursively).
#[test]
fn long_chains_of_dropped_tokens_are_cancelled_and_dropped_without_a_call_per_level() {
    let depth = scaled(100_000, 100);
    let root: CancelToken<u32> = CancelToken::new();
    let (mut same, mut mixed) = (root.child(), root.child());
    for _ in 0..depth {
        same = same.child();
        let other: CancelToken<u16> = mixed.child_with();
        mixed = other.child_with();
    }
    root.cancel(7u32);
    assert_eq!(same.reason().map(|r| *r.value()), Some(7));
    assert_eq!(mixed.reason().map(|r| *r.value()), Some(0), "`u32::default()` from `u16`'s");
    // The same again, uncancelled: dropping the far end drops the chain.
    let root: CancelToken<u32> = CancelToken::new();
    let (mut same, mut mixed) = (root.child(), root.child());
    for _ in 0..depth {
        same = same.child();
        let other: CancelToken<u16> = mixed.child_with();
        mixed = other.child_with();
    }
    drop(root);
    drop((same, mixed));
}

#[test]
fn reset_makes_a_token_usable_again() {
    let token: CancelToken<u8> = CancelToken::new();
    let old_child = token.child();
    token.cancel(1);
    token.reset();
    assert!(!token.is_cancelled());
    assert_eq!(token.reason(), None);
    assert!(old_child.is_cancelled(), "children stay cancelled");
    let new_child = token.child();
    token.cancel_with_reason(CancelReason::new(2));
    assert_eq!(*new_child.reason().unwrap().value(), 2);
}

#[test]
fn cancel_races_child_creation_without_missing_a_child() {
    // 10 rounds under Miri in CI (200 took 95 s there).
    for _ in 0..scaled(200, 10) {
        let root: CancelToken<u8> = CancelToken::new();
        let spawner = {
            let root = root.clone();
            thread::spawn(move || (0..50).map(|_| root.child()).collect::<Vec<_>>())
        };
        root.cancel(1);
        for child in spawner.join().unwrap() {
            assert!(child.is_cancelled(), "a child created around the cancel was missed");
        }
    }
}

/// `n` divided by `ACTOR12_STRESS_DIV` (1 if unset), and at least `min`: CI runs this suite
/// under Miri, hundreds of times slower, with a large divisor.
fn scaled(n: u32, min: u32) -> u32 {
    let div: u32 =
        std::env::var("ACTOR12_STRESS_DIV").ok().and_then(|v| v.parse().ok()).unwrap_or(1);
    (n / div.max(1)).max(min)
}

/// Trees grown from several threads at once, at every depth and across reason types, while the
/// root is cancelled: every token ends up cancelled, with the reason of its type.
#[test]
fn cancel_reaches_trees_grown_from_many_threads_at_once() {
    let steps = scaled(200, 16);
    for round in 0..scaled(50, 2) {
        let root: CancelToken<u32> = CancelToken::new();
        let start = Arc::new(std::sync::Barrier::new(5));
        let growers: Vec<_> = (0..4)
            .map(|_| {
                let (below, start) = (root.child(), start.clone());
                thread::spawn(move || {
                    start.wait();
                    let (mut same, mut other) = (vec![below], Vec::<CancelToken<u8>>::new());
                    for i in 0..steps {
                        // Alternately deeper and wider; each with a child of another type.
                        let parent = if i % 2 == 0 { same.last() } else { same.first() };
                        let child = parent.unwrap().child();
                        other.push(child.child_with());
                        other.push(other.last().unwrap().child());
                        same.push(child);
                    }
                    (same, other)
                })
            })
            .collect();
        start.wait();
        root.cancel(round);
        for grower in growers {
            let (same, other) = grower.join().unwrap();
            assert!(same.iter().all(|t| t.reason().map(|r| *r.value()) == Some(round)));
            assert!(other.iter().all(|t| t.reason().map(|r| *r.value()) == Some(0)));
        }
    }
}

/// Polls `fut` on this thread until it resolves, parked between polls; panics if it is not woken
/// within a minute (ten under Miri): a guard against a lost wake-up, not a timing assertion.
fn block_on<F: Future + Unpin>(mut fut: F) -> F::Output {
    struct Unpark(thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(thread::current())));
    let deadline = Instant::now() + Duration::from_secs(if cfg!(miri) { 600 } else { 60 });
    loop {
        if let Poll::Ready(output) = poll(&mut fut, &waker) {
            return output;
        }
        let left = deadline.checked_duration_since(Instant::now());
        thread::park_timeout(left.expect("the future was never woken: a lost wake-up"));
    }
}

/// A waiter against a thread dropping the last token of its node, which a child keeps alive or
/// nothing does: the waiter is woken, or sees the drop, either way.
#[test]
fn cancelled_or_dropped_races_the_drop_of_the_last_token() {
    for round in 0..scaled(2_000, 20) {
        let token: CancelToken<u32> = CancelToken::new();
        let child = (round % 2 == 0).then(|| token.child());
        let waiter = token.cancelled_or_dropped();
        let dropper = thread::spawn(move || drop(token));
        assert!(block_on(waiter).is_none());
        dropper.join().unwrap();
        drop(child);
    }
}

/// The root's cancel against a thread dropping the tokens between the root and the ones kept:
/// whichever comes first, the kept tokens are cancelled. (The loom models do not see the nodes'
/// reference counts, which are std's; this runs the race for real, and under Miri in CI.)
#[test]
fn cancel_races_the_drop_of_the_tokens_between() {
    for round in 0..scaled(2_000, 20) {
        let root: CancelToken<u32> = CancelToken::new();
        let middle = root.child();
        let other: CancelToken<u16> = middle.child_with();
        let (same, mixed): (_, CancelToken<u32>) = (middle.child().child(), other.child_with());
        let start = Arc::new(std::sync::Barrier::new(2));
        let dropper = {
            let start = start.clone();
            thread::spawn(move || {
                start.wait();
                drop((middle, other));
            })
        };
        start.wait();
        root.cancel(round);
        dropper.join().unwrap();
        assert_eq!(same.reason().map(|r| *r.value()), Some(round));
        assert_eq!(mixed.reason().map(|r| *r.value()), Some(0), "`u32::default()`");
    }
}

thread_local! {
    /// Clones of `Flaky` left before one panics.
    static CLONES_BEFORE_PANIC: std::cell::Cell<usize> = const { std::cell::Cell::new(usize::MAX) };
}

/// A reason whose `Clone` panics once, when `CLONES_BEFORE_PANIC` runs out.
#[derive(Debug, Default)]
struct Flaky;

impl Clone for Flaky {
    fn clone(&self) -> Self {
        let left = CLONES_BEFORE_PANIC.get();
        CLONES_BEFORE_PANIC.set(left.wrapping_sub(1));
        assert!(left != 0, "a reason's clone panicked (expected by the test)");
        Flaky
    }
}

#[test]
fn a_panicking_reason_clone_leaves_only_its_own_node_uncancelled() {
    let root: CancelToken<Flaky> = CancelToken::new();
    let children: Vec<_> = (0..5).map(|_| root.child()).collect();
    let other: CancelToken<u8> = root.child_with();
    // The root's own copy, then one per child: the third clone panics.
    CLONES_BEFORE_PANIC.set(2);
    let cancel = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| root.cancel(Flaky)));
    CLONES_BEFORE_PANIC.set(usize::MAX);
    assert!(cancel.is_err(), "the panic of the reason's clone reaches the caller");
    assert!(root.is_cancelled() && other.is_cancelled());
    let missed = children.iter().filter(|c| !c.is_cancelled()).count();
    assert_eq!(missed, 1, "the cancel stopped at the panicking clone: the rest lost it");
}

/// A reason whose `Drop` panics once while its static is armed, for a value made with `boom`.
macro_rules! panicking_drop_reason {
    ($name:ident, $armed:ident) => {
        static $armed: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
        #[derive(Clone, Default, Debug)]
        struct $name {
            boom: bool,
        }
        impl Drop for $name {
            fn drop(&mut self) {
                if self.boom && $armed.swap(false, SeqCst) && !thread::panicking() {
                    panic!("a reason's drop panicked (expected by the test)");
                }
            }
        }
    };
}
panicking_drop_reason!(SiblingReason, SIBLING_ARMED);
panicking_drop_reason!(BelowReason, BELOW_ARMED);

/// When woken, drops what it holds: a task that ends on the wake-up, or another thread dropping
/// the same things at that moment.
struct DropsOnWake<T>(std::sync::Mutex<Option<T>>);

impl<T: Send + 'static> Wake for DropsOnWake<T> {
    fn wake(self: Arc<Self>) {
        drop(self.0.lock().unwrap().take());
    }
}

/// Polls `token.cancelled()` once with a waker that drops `held` when woken.
fn drop_on_wake<T: Send + 'static, R: Clone + Send + Sync + 'static>(
    token: &CancelToken<R>,
    held: impl FnOnce(actor12::cancel::Cancelled<R>) -> T,
) {
    let holder = Arc::new(DropsOnWake(std::sync::Mutex::new(None)));
    let mut waiting = token.cancelled();
    assert!(poll(&mut waiting, &Waker::from(holder.clone())).is_pending());
    *holder.0.lock().unwrap() = Some(held(waiting));
}

/// A reason's `Drop` that panics during a cancel's walk (the walk holding the last pointer to
/// a node whose tokens went meanwhile) does not end the walk: the siblings after that node, and
/// the subtree and waiters of a node whose parent went, still get the cancel. The walk stopped
/// there, leaving a node cancelled with its waiters asleep (a review of 2026-12-07).
#[test]
fn a_panicking_reason_drop_during_the_walk_does_not_stop_the_cancel() {
    let root: CancelToken<SiblingReason> = CancelToken::new();
    let (first, second) = (root.child(), root.child());
    let (count, counting) = waker();
    let mut second_waits = second.cancelled();
    assert!(poll(&mut second_waits, &counting).is_pending());
    drop_on_wake(&first.clone(), move |waiting| (waiting, first));
    SIBLING_ARMED.store(true, SeqCst);
    let cancel = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        root.cancel(SiblingReason { boom: true })
    }));
    SIBLING_ARMED.store(false, SeqCst);
    assert!(cancel.is_err(), "the panic of the reason's drop reaches the caller");
    assert!(second.is_cancelled(), "the sibling after the node whose reason's drop panicked");
    assert_eq!(count.0.load(SeqCst), 1, "the sibling's waiter was not woken");
}

#[test]
fn a_panicking_reason_drop_during_the_walk_does_not_stop_the_cancel_below() {
    let grand: CancelToken<BelowReason> = CancelToken::new();
    let parent = grand.child();
    let (child, (count, counting)) = (parent.child(), waker());
    let below = child.child();
    let mut child_waits = child.cancelled();
    assert!(poll(&mut child_waits, &counting).is_pending());
    // `parent`'s last token goes while the walk is between `grand` and `parent`.
    drop_on_wake(&grand, move |waiting| (waiting, parent));
    BELOW_ARMED.store(true, SeqCst);
    let cancel = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        grand.cancel(BelowReason { boom: true })
    }));
    BELOW_ARMED.store(false, SeqCst);
    assert!(cancel.is_err(), "the panic of the reason's drop reaches the caller");
    assert!(child.is_cancelled());
    assert_eq!(count.0.load(SeqCst), 1, "the child is cancelled, but its waiter was never woken");
    assert!(below.is_cancelled(), "the token below the child missed the cancel");
}

/// A waker that holds a token (as a task whose future holds one does), and does nothing else.
struct HoldsToken(#[allow(dead_code)] CancelToken<u8>);

impl Wake for HoldsToken {
    fn wake(self: Arc<Self>) {}
}

/// Runs `f` on a thread of its own; panics if it has not returned within a minute (ten under
/// Miri): a guard against a deadlock, not a timing assertion.
fn finishes(f: impl FnOnce() + Send + 'static) {
    let (done, finished) = std::sync::mpsc::channel();
    thread::spawn(move || {
        f();
        done.send(()).unwrap();
    });
    let limit = Duration::from_secs(if cfg!(miri) { 600 } else { 60 });
    finished.recv_timeout(limit).expect("deadlocked: the node's lock was taken twice");
}

/// The waker a waiter gave up (dropped with the waiter, or replaced by the next poll's) may hold
/// the node's last token: dropping it must not take the node's lock again.
#[test]
fn a_waker_holding_the_last_token_may_be_dropped_by_its_waiter() {
    finishes(|| {
        let token: CancelToken<u8> = CancelToken::new();
        let _child = token.child();
        let mut waiter = token.cancelled_or_dropped();
        let holder = Waker::from(Arc::new(HoldsToken(token)));
        assert!(poll(&mut waiter, &holder).is_pending());
        drop(holder);
        // The waiter's registration is the last owner of the waker, and so of the token.
        drop(waiter);
    });
    finishes(|| {
        let token: CancelToken<u8> = CancelToken::new();
        let mut waiter = token.cancelled_or_dropped();
        let holder = Waker::from(Arc::new(HoldsToken(token)));
        assert!(poll(&mut waiter, &holder).is_pending());
        drop(holder);
        // Polled with another waker: the old one, and the last token, go.
        let (count, other) = waker();
        match poll(&mut waiter, &other) {
            Poll::Ready(None) => {}
            Poll::Pending => assert_eq!(count.0.load(SeqCst), 1, "the drop woke the waiter"),
            Poll::Ready(Some(_)) => panic!("never cancelled"),
        }
        assert_eq!(poll(&mut waiter, &other), Poll::Ready(None));
    });
}

/// A reason that holds a token (a reason may carry a handle to other work).
#[derive(Clone, Default)]
struct HoldsAToken(#[allow(dead_code)] Option<CancelToken<u8>>);

/// `reset` drops the old reason: if it holds the last token of the node above, that token's
/// drop detaches the node's children, this one among them, and takes its lock.
#[test]
fn a_reset_may_drop_a_reason_holding_the_last_token_above() {
    finishes(|| {
        let root: CancelToken<u8> = CancelToken::new();
        let child: CancelToken<HoldsAToken> = root.child_with();
        child.cancel(HoldsAToken(Some(root)));
        child.reset();
        assert!(!child.is_cancelled());
    });
}

/// A waiter woken by the cancel may run after every token is gone (the canceller dropped its
/// token right after cancelling): it must still see the cancel, not wait for good.
#[test]
fn a_waiter_sees_the_cancel_after_the_tokens_of_its_node_are_dropped() {
    let token = CancelToken::<u8>::new();
    let mut waiter = token.cancelled();
    let mut or_dropped = token.cancelled_or_dropped();
    let (count, waker) = waker();
    assert!(poll(&mut waiter, &waker).is_pending());
    assert!(poll(&mut or_dropped, &waker).is_pending());
    token.cancel(1);
    assert_eq!(count.0.load(SeqCst), 2, "the cancel wakes both");
    drop(token);
    assert_eq!(poll(&mut waiter, &waker).map(|r| *r.value()), Poll::Ready(1));
    assert_eq!(poll(&mut or_dropped, &waker).map(|r| r.map(|r| *r.value())), Poll::Ready(Some(1)));
    // Not polled before the cancel, nor before the drop.
    let token = CancelToken::<u8>::new();
    let mut waiter = token.cancelled();
    token.cancel(2);
    drop(token);
    assert_eq!(poll(&mut waiter, &waker).map(|r| *r.value()), Poll::Ready(2));
}

/// Once its node's tokens are gone, `cancelled` is woken by a cancel from above (the node is
/// kept for its child and for the future), and resolves with its reason.
#[test]
fn cancelled_after_the_last_token_is_woken_by_a_cancel_from_above() {
    let root = CancelToken::<u8>::new();
    let middle = root.child();
    let leaf = middle.child();
    let mut waiter = middle.cancelled();
    let (count, waker) = waker();
    assert!(poll(&mut waiter, &waker).is_pending());
    drop(middle);
    assert_eq!(count.0.load(SeqCst), 1, "the last token's drop wakes the waiter");
    assert!(poll(&mut waiter, &waker).is_pending());
    root.cancel(3);
    assert_eq!(count.0.load(SeqCst), 2, "the cancel from above did not wake it");
    assert!(leaf.is_cancelled());
    assert_eq!(poll(&mut waiter, &waker).map(|r| *r.value()), Poll::Ready(3));
}

/// `parent.child().cancelled()`: the future outlives the only token of its node (a temporary),
/// and waits for the parent's cancel, which still reaches the node. It must be woken by it, as
/// it is when the token is kept; it used to be woken no more once the token was gone, and
/// waited for good. So through tokens between dropped too, and through a child of another type.
#[test]
fn a_cancelled_future_of_a_dropped_child_token_is_woken_by_the_parents_cancel() {
    let parent = CancelToken::<u8>::new();
    let mut same = parent.child().cancelled();
    let mut deeper = parent.child().child().cancelled();
    let mut other = parent.child_with::<u16>().cancelled();
    let (count, waker) = waker();
    assert!(poll(&mut same, &waker).is_pending());
    assert!(poll(&mut deeper, &waker).is_pending());
    assert!(poll(&mut other, &waker).is_pending());
    parent.cancel(4);
    assert_eq!(count.0.load(SeqCst), 3, "the parent's cancel did not wake every waiter");
    assert_eq!(poll(&mut same, &waker).map(|r| *r.value()), Poll::Ready(4));
    assert_eq!(poll(&mut deeper, &waker).map(|r| *r.value()), Poll::Ready(4));
    assert_eq!(poll(&mut other, &waker).map(|r| *r.value()), Poll::Ready(0));
    // Across threads, on a real wait.
    let parent = CancelToken::<u8>::new();
    let waiter = parent.child().cancelled();
    let canceller = {
        let parent = parent.clone();
        thread::spawn(move || parent.cancel(5))
    };
    assert_eq!(*block_on(waiter).value(), 5);
    canceller.join().unwrap();
}

/// A task that an executor keeps only through its wakers: its waker owns the future, and each
/// wake polls it; the future is dropped once it finishes.
struct WakerOwned(std::sync::Mutex<Option<actor12::cancel::Cancelled<u8>>>);

impl Wake for WakerOwned {
    fn wake(self: Arc<Self>) {
        let waker = Waker::from(self.clone());
        let mut slot = self.0.lock().unwrap();
        if let Some(fut) = slot.as_mut()
            && poll(fut, &waker).is_ready()
        {
            *slot = None;
        }
    }
}

/// Starts `fut` as a [`WakerOwned`] task; the task is alive while the weak pointer upgrades.
fn waker_owned(fut: actor12::cancel::Cancelled<u8>) -> std::sync::Weak<WakerOwned> {
    let task = Arc::new(WakerOwned(std::sync::Mutex::new(Some(fut))));
    let weak = Arc::downgrade(&task);
    task.wake();
    weak
}

#[test]
fn a_cancelled_future_that_no_cancel_can_reach_keeps_no_waker() {
    // No cancel can reach a node with no token left and no parent: its `cancelled()` waits for
    // good, registered nowhere, so a task kept only by its wakers goes. When the last token of
    // a child went, its waiter registered again to wait for the parent's cancel; the parent then
    // dropped uncancelled left it registered, and the waker, the task, the future and the node
    // kept each other (found by a review on 2026-12-06).
    let root = CancelToken::<u8>::new();
    let task = waker_owned(root.cancelled());
    drop(root);
    assert!(task.upgrade().is_none(), "a root's waiter is let go with its last token");

    let parent = CancelToken::<u8>::new();
    let task = waker_owned(parent.child().cancelled());
    assert!(task.upgrade().is_some(), "waits for the parent's cancel");
    drop(parent);
    assert!(task.upgrade().is_none(), "a child's waiter is let go once its parent goes too");

    // The same two levels down, and with the parent cancelled instead: the waiter resolves.
    let parent = CancelToken::<u8>::new();
    let task = waker_owned(parent.child().child().cancelled());
    drop(parent);
    assert!(task.upgrade().is_none(), "a grandchild's waiter is let go too");
    let parent = CancelToken::<u8>::new();
    let task = waker_owned(parent.child().cancelled());
    parent.cancel(3);
    assert!(task.upgrade().is_none(), "the waiter finished with the parent's cancel");
}

/// A `cancelled()` waiter registered again after its node's last token went (to wait for the
/// parent's cancel) against a thread dropping the parent's last token, uncancelled: whichever
/// comes first, the waiter's registration is gone once both are (the detach takes it, or the
/// poll sees the node detached and registers nothing), so the node keeps no waker. (The loom
/// models do not see the nodes' reference counts, and the parent's node is freed here; this
/// runs the race for real, and under Miri in CI.)
#[test]
fn a_waiter_registering_again_races_the_detach_from_its_parent() {
    for _ in 0..scaled(2_000, 20) {
        let parent: CancelToken<u8> = CancelToken::new();
        let child = parent.child();
        let mut waiter = child.cancelled();
        let (count, waker) = waker();
        assert!(poll(&mut waiter, &waker).is_pending());
        let dropper = thread::spawn(move || drop(parent));
        drop(child); // the last token: the waiter is woken
        assert!(poll(&mut waiter, &waker).is_pending(), "no cancel came");
        dropper.join().unwrap();
        drop(waker);
        assert_eq!(Arc::strong_count(&count), 1, "a registration kept the waiter's waker");
        drop(waiter);
    }
}
