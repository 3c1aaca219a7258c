//! loom models of a runtime shutdown that reaches a task twice at once: through the task list
//! (`OwnedTasks::close_and_shutdown_all`, on the thread that shuts the runtime down) and through
//! a run queue (`TaskRef::shutdown_queued`, on a worker leaving its loop, which drains its
//! ring). The two run together when the shutdown's wait for the workers times out (a worker
//! still in a long poll) and the shutdown goes on without it. The header's SHUTDOWN bit
//! (`State::claim_shutdown`) lets one of them cancel the task; a queue entry of a task that
//! yielded through the fast path holds RUNNING (`task/mod.rs` rule 6), and the queue runs it
//! once more so that it sees CANCELLED.
#![cfg(actor12_loom)]

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use actor12_scheduler::loom_api::TestQueue;
use loom::sync::Arc;
use loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use loom::thread;

/// Counts drops of the value that owns it.
struct DropCount(Arc<AtomicUsize>);

impl Drop for DropCount {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

fn noop_poll<F: Future + Unpin>(f: &mut F) -> Poll<F::Output> {
    let mut cx = Context::from_waker(Waker::noop());
    Pin::new(f).poll(&mut cx)
}

/// A task that keeps yielding has run once: it is in the task list (rule 5) and queued with
/// its entry holding RUNNING (rule 6). Then the list's shutdown and the queue's drain race on
/// two threads. The future must be dropped exactly once, by a cancel (it never completes), and
/// the join handle must report the cancel.
///
/// Failed at 2 preemptions before the queue set CANCELLED itself (`TaskRef::shutdown_queued`):
/// if the list claimed SHUTDOWN and the queue's drain came between that claim and the list's
/// CAS that sets CANCELLED, the drain's `shutdown` did nothing (the claim was taken), and its
/// run of the held entry found no CANCELLED and polled the future, which yielded again: the run
/// handed the entry back (debug assertion "a cancelled task asked to run again"; in a release
/// build the entry was dropped). The list's CAS then found RUNNING and only set CANCELLED, for
/// a runner that no longer existed: the future was never cancelled and the join handle never
/// completed.
#[test]
fn a_held_entry_drained_while_the_list_shuts_the_task_down() {
    loom::model(|| {
        let q = TestQueue::new();
        let drops = Arc::new(AtomicUsize::new(0));
        let guard = DropCount(drops.clone());
        let mut join = q.spawn(async move {
            let _g = guard;
            loop {
                actor12_scheduler::yield_now().await;
            }
        });
        // The first poll: the task yields, joins the list, and is queued holding RUNNING.
        assert_eq!(q.run_all(), 1);
        assert_eq!((q.len(), q.bound()), (1, 1));
        let list = {
            let q = q.clone();
            thread::spawn(move || q.shutdown_all())
        };
        q.shutdown_queue();
        list.join().unwrap();
        assert_eq!(drops.load(SeqCst), 1, "the future was not cancelled exactly once");
        match noop_poll(&mut join) {
            Poll::Ready(Err(e)) => assert!(e.is_cancelled()),
            other => panic!("expected cancelled, got {other:?}"),
        }
    });
}

/// As above for a task woken while idle (not yielding): its queue entry holds no RUNNING, and
/// the list's shutdown and the queue's drain race on two threads. Exactly one of them cancels
/// the future; the other only drops its reference.
#[test]
fn a_queued_entry_drained_while_the_list_shuts_the_task_down() {
    loom::model(|| {
        let q = TestQueue::new();
        let drops = Arc::new(AtomicUsize::new(0));
        let guard = DropCount(drops.clone());
        let woken = Arc::new(loom::sync::Mutex::new(None::<Waker>));
        let mut join = {
            let woken = woken.clone();
            q.spawn(std::future::poll_fn(move |cx| {
                let _g = &guard;
                *woken.lock().unwrap() = Some(cx.waker().clone());
                Poll::<()>::Pending
            }))
        };
        // The first poll: the task waits, in the list; a wake queues it.
        assert_eq!(q.run_all(), 1);
        woken.lock().unwrap().take().expect("the waker was kept").wake();
        assert_eq!((q.len(), q.bound()), (1, 1));
        let list = {
            let q = q.clone();
            thread::spawn(move || q.shutdown_all())
        };
        q.shutdown_queue();
        list.join().unwrap();
        assert_eq!(drops.load(SeqCst), 1, "the future was not cancelled exactly once");
        match noop_poll(&mut join) {
            Poll::Ready(Err(e)) => assert!(e.is_cancelled()),
            other => panic!("expected cancelled, got {other:?}"),
        }
    });
}
