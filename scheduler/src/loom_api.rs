//! Entry points for the loom models in `loom-tests/` (compiled only under `--cfg actor12_loom`).
//!
//! Thin public wrappers around the crate-private protocols, so that the models drive the real
//! code: the task state machine with its join handle and wakers, the local run queue, the parker,
//! the idle/searching protocol, the cross-thread timer handoff, the blocking pool and the fallback
//! timer thread.

use std::future::Future;
use std::ptr::NonNull;
use std::task::Waker;

use crate::inject::Inject;
use crate::loom::{Arc, AtomicUsize, Mutex, Ordering::SeqCst};
use crate::task::{Header, Schedule, TaskRef};

/// A scheduler that just collects notified tasks, standing in for a worker. Clones share the
/// queue (and the task list).
#[derive(Debug, Clone)]
pub struct TestQueue(Arc<Mutex<Vec<TaskRef>>>, Arc<Mutex<(Vec<TaskRef>, bool)>>, bool);

/// The scheduler handle a model task carries.
#[derive(Debug, Clone)]
struct TestSchedule(TestQueue);

impl Schedule for TestSchedule {
    fn schedule(&self, task: TaskRef) {
        self.0.0.lock().push(task);
    }

    fn release(&self, task: NonNull<Header>) -> Option<TaskRef> {
        let mut list = self.0.1.lock();
        let i = list.0.iter().position(|t| t.as_ptr() == task)?;
        Some(list.0.swap_remove(i))
    }

    fn bind(&self, task: TaskRef) -> Result<(), TaskRef> {
        let mut list = self.0.1.lock();
        if list.1 {
            return Err(task);
        }
        list.0.push(task);
        Ok(())
    }

    /// The queue itself: with [`TestQueue::holding`], every wake queues the task holding
    /// RUNNING, as a wake on a worker does (`task/mod.rs` rule 7).
    type Here = TestQueue;

    fn hold_here(&self) -> Option<TestQueue> {
        self.0.2.then(|| self.0.clone())
    }

    fn schedule_held(here: TestQueue, task: TaskRef) {
        here.0.lock().push(task);
    }
}

impl Default for TestQueue {
    fn default() -> Self {
        TestQueue::new()
    }
}

impl TestQueue {
    /// A new, empty queue.
    pub fn new() -> TestQueue {
        TestQueue(
            Arc::new(Mutex::new(Vec::new())),
            Arc::new(Mutex::new((Vec::new(), false))),
            false,
        )
    }

    /// A new, empty queue whose tasks' wakes queue them holding RUNNING (rule 7 of
    /// `task/mod.rs`).
    pub fn holding() -> TestQueue {
        TestQueue { 2: true, ..TestQueue::new() }
    }

    /// Spawns `future` as a task scheduled on this queue; its first notification is queued.
    pub fn spawn<F>(&self, future: F) -> crate::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let ptr = crate::task::core::new_task(future, TestSchedule(self.clone()), 2, None);
        // SAFETY: two references: the join handle's and the first notification's.
        let (join, notified) = unsafe { (crate::JoinHandle::new(ptr), TaskRef::from_raw(ptr)) };
        self.0.lock().push(notified);
        join
    }

    /// Runs every queued task once (as a worker would); returns how many ran. A task that asks to
    /// run again is queued again.
    pub fn run_all(&self) -> usize {
        let tasks: Vec<TaskRef> = std::mem::take(&mut *self.0.lock());
        let n = tasks.len();
        for t in tasks {
            if let Some(again) = t.run() {
                self.0.lock().push(again);
            }
        }
        n
    }

    /// Closes the task list and cancels every task in it, each once (runtime shutdown, as
    /// `OwnedTasks::close_and_shutdown_all` does).
    pub fn shutdown_all(&self) {
        let list: Vec<TaskRef> = {
            let mut list = self.1.lock();
            list.1 = true;
            std::mem::take(&mut list.0)
        };
        for t in list {
            t.shutdown_listed();
        }
    }

    /// Cancels every queued task, as a worker leaving at shutdown does with its ring
    /// (`TaskRef::shutdown_queued`).
    pub fn shutdown_queue(&self) {
        let tasks: Vec<TaskRef> = std::mem::take(&mut *self.0.lock());
        for t in tasks {
            t.shutdown_queued();
        }
    }

    /// Tasks in the task list.
    pub fn bound(&self) -> usize {
        self.1.lock().0.len()
    }

    /// Queued notifications.
    pub fn len(&self) -> usize {
        self.0.lock().len()
    }

    /// True if nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Runs a queued task through its vtable, as a worker does: the entry's reference goes to the
/// task, which hands back an entry to queue again if it wants another run.
pub fn run(task: TaskRef) -> Option<TaskRef> {
    task.run()
}

/// Cancels the task behind this reference, once (the task list's call at shutdown).
pub fn shutdown(task: &TaskRef) {
    task.shutdown_listed();
}

/// Cancels a task taken out of a queue that will never run it, and drops the entry (a worker
/// or a closed queue at shutdown).
pub fn shutdown_queued(task: TaskRef) {
    task.shutdown_queued();
}

/// A task with no future, to fill run queues: its id is readable from the queue's output.
fn dummy_task(id: usize) -> TaskRef {
    counted_task(id, None)
}

/// [`dummy_task`], whose future adds one to `drops` when it is dropped (cancelled, or freed
/// with the task).
fn counted_task(id: usize, drops: Option<Arc<AtomicUsize>>) -> TaskRef {
    struct Id(#[allow(dead_code)] usize, Option<Arc<AtomicUsize>>);
    impl Future for Id {
        type Output = ();
        fn poll(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<()> {
            std::task::Poll::Ready(())
        }
    }
    impl Drop for Id {
        fn drop(&mut self) {
            if let Some(drops) = &self.1 {
                drops.fetch_add(1, SeqCst);
            }
        }
    }
    let q = TestQueue::new();
    let ptr = crate::task::core::new_task(Id(id, drops), TestSchedule(q), 1, Some(id));
    // SAFETY: the one reference.
    unsafe { TaskRef::from_raw(ptr) }
}

/// A task taken out of a model queue; `id` is what it was made with.
#[derive(Debug)]
pub struct QueuedTask(TaskRef);

impl QueuedTask {
    /// The id given to [`LocalQueue::push`].
    pub fn id(&self) -> usize {
        self.0.header().pinned().expect("model tasks carry their id")
    }
}

/// The owner side of a worker's run queue (capacity 4 under loom), with its overflow queue.
#[derive(Debug)]
pub struct LocalQueue {
    local: crate::queue::Local,
    inject: Inject,
}

/// The stealer side.
#[derive(Debug, Clone)]
pub struct StealQueue(crate::queue::Steal);

// SAFETY: used only by loom models, where `LocalQueue` moves once into the owner's thread; the
// queue's owner methods are then only called from there.
unsafe impl Send for LocalQueue {}

/// A new run queue.
pub fn local_queue() -> (LocalQueue, StealQueue) {
    let (local, steal) = crate::queue::local();
    (LocalQueue { local, inject: Inject::new() }, StealQueue(steal))
}

impl LocalQueue {
    /// Pushes a task with this id (overflowing half the queue to the global queue when full).
    pub fn push(&self, id: usize) {
        self.local.push_back_or_overflow(dummy_task(id), &self.inject);
    }

    /// Pops from the front.
    pub fn pop(&self) -> Option<QueuedTask> {
        self.local.pop().map(QueuedTask)
    }

    /// Pops from the overflow (global) queue.
    pub fn pop_overflow(&self) -> Option<QueuedTask> {
        self.inject.pop().map(QueuedTask)
    }
}

impl LocalQueue {
    /// True if the queue (ring and claimed tasks) is empty.
    pub fn is_empty(&self) -> bool {
        self.local.is_empty()
    }
}

/// The global queue (`inject.rs`), shared by the model's workers and the threads outside.
#[derive(Debug)]
pub struct GlobalQueue(Inject);

impl Default for GlobalQueue {
    fn default() -> Self {
        GlobalQueue::new()
    }
}

impl GlobalQueue {
    /// A new, empty queue.
    pub fn new() -> GlobalQueue {
        GlobalQueue(Inject::new())
    }

    /// Pushes a task with this id (as a spawn or wake from outside the workers does).
    pub fn push(&self, id: usize) {
        self.0.push(dummy_task(id));
    }

    /// The worker's look before it sleeps.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Takes a worker's share, as `Core::pop_global` does: `len / workers + 1` tasks, at most
    /// `max`; the first to run, the rest into `dst`'s ring.
    pub fn pop_share(&self, workers: usize, max: usize, dst: &LocalQueue) -> Option<QueuedTask> {
        let share = (self.0.len() / workers + 1).min(max);
        self.0.pop_n(share, |t| dst.local.push_back_or_overflow(t, &dst.inject)).map(QueuedTask)
    }
}

impl StealQueue {
    /// Steals half into `dst`, returning one task to run.
    pub fn steal_into(&self, dst: &LocalQueue) -> Option<QueuedTask> {
        self.0.steal_into(&dst.local).map(QueuedTask)
    }

    /// True if the queue looks empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A worker's queue of the tasks pinned to it by other threads (`Remote::pinned`, an
/// [`Inject`]) with the worker's parker, which such a push unparks: what other threads share
/// with the worker. The worker's own queue is [`PinnedHere`].
#[derive(Debug)]
pub struct PinnedRemote {
    pinned: Inject,
    parker: crate::park::Parker,
}

impl Default for PinnedRemote {
    fn default() -> Self {
        PinnedRemote { pinned: Inject::new(), parker: crate::park::Parker::new() }
    }
}

impl PinnedRemote {
    /// Another thread schedules a task pinned to the worker, as `Shared::try_schedule_slow`
    /// does: into the remote queue, then the worker's parker.
    pub fn push(&self, id: usize) {
        self.push_task(dummy_task(id));
    }

    /// [`push`](Self::push) with a task whose future counts its drop in `drops`.
    pub fn push_counted(&self, id: usize, drops: Arc<AtomicUsize>) {
        self.push_task(counted_task(id, Some(drops)));
    }

    fn push_task(&self, task: TaskRef) {
        self.pinned.push(task);
        self.parker.unpark();
    }

    /// Runtime shutdown closes the queue (`shut_down`): later pushes cancel their task at once,
    /// the queued ones are cancelled.
    pub fn close(&self) {
        self.pinned.close();
    }

    /// The remote queue's length hint is zero (the worker's look in `Core::has_work`).
    pub fn is_empty(&self) -> bool {
        self.pinned.is_empty()
    }

    /// The worker sleeps until a push unparks it (`Core::sleep`, no timer).
    pub fn park(&self) {
        self.parker.park(None);
    }
}

/// The worker's own queue of pinned tasks (`Core::pinned_here`), on the worker's thread only.
#[derive(Debug, Default)]
pub struct PinnedHere(std::collections::VecDeque<TaskRef>);

impl PinnedHere {
    /// The worker schedules a task pinned to itself (spawned, woken or yielding there):
    /// `Core::schedule_local`.
    pub fn push(&mut self, id: usize) {
        self.0.push_back(dummy_task(id));
    }

    /// Tasks in this queue (not counting the remote one).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True if this queue (not the remote one) is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The next pinned task, as `Core::pop_pinned` takes it: the remote queue's tasks join the
    /// back of this one (`Inject::drain_into`), then the oldest.
    pub fn pop(&mut self, remote: &PinnedRemote) -> Option<QueuedTask> {
        remote.pinned.drain_into(&mut self.0);
        self.0.pop_front().map(QueuedTask)
    }

    /// The pinned half of `Core::has_work`: the remote queue's hint, then this queue.
    pub fn has_work(&self, remote: &PinnedRemote) -> bool {
        !remote.pinned.is_empty() || !self.0.is_empty()
    }

    /// The worker leaves its loop at shutdown: every task left here is cancelled
    /// (`TaskRef::shutdown_queued`), as `worker::run` does after the loop.
    pub fn shutdown_all(&mut self) {
        while let Some(task) = self.0.pop_front() {
            task.shutdown_queued();
        }
    }
}

/// The worker parker.
#[derive(Debug)]
pub struct Parker(crate::park::Parker);

impl Default for Parker {
    fn default() -> Self {
        Parker(crate::park::Parker::new())
    }
}

impl Parker {
    /// Blocks until a token is there (consuming it).
    pub fn park(&self) {
        self.0.park(None);
    }

    /// Sets the token, waking the parked thread.
    pub fn unpark(&self) {
        self.0.unpark();
    }
}

/// The idle/searching bookkeeping (`idle.rs`).
#[derive(Debug)]
pub struct Idle(crate::idle::Idle);

impl Idle {
    /// For `n` workers, all awake.
    pub fn new(n: usize) -> Idle {
        Idle(crate::idle::Idle::new(n))
    }

    /// Rule 1.
    pub fn try_transition_to_searching(&self) -> bool {
        self.0.try_transition_to_searching()
    }

    /// Rule 2.
    pub fn transition_from_searching(&self) -> bool {
        self.0.transition_from_searching()
    }

    /// Rule 1's check before parking: true if a worker that does not search would be let
    /// search (`Idle::may_search`).
    pub fn may_search(&self) -> bool {
        self.0.may_search()
    }

    /// Rule 3.
    pub fn worker_to_notify(&self) -> Option<usize> {
        self.0.worker_to_notify()
    }

    /// Rule 4 (first half, including its fence).
    pub fn transition_worker_to_parked(&self, worker: usize, searching: bool) {
        self.0.transition_worker_to_parked(worker, searching)
    }

    /// Rule 5.
    pub fn unpark_self(&self, worker: usize, searching: bool) -> bool {
        self.0.unpark_self(worker, searching)
    }

    /// Rule 5 as the worker loop applies it: whether the worker searches from here on.
    pub fn wake_up(
        &self,
        worker: usize,
        searched: bool,
        found_work: bool,
        global_has_work: impl FnOnce() -> bool,
    ) -> bool {
        self.0.wake_up(worker, searched, found_work, global_has_work)
    }

    /// Rule 2 after the last searcher stopped searching: the fence, then `work_left`.
    pub fn work_left_after_search(&self, work_left: impl FnOnce() -> bool) -> bool {
        self.0.work_left_after_search(work_left)
    }

    /// Registered sleepers.
    pub fn num_sleepers(&self) -> usize {
        self.0.num_sleepers()
    }
}

/// The timer shared between a sleep polled off its wheel's worker and that wheel.
#[derive(Debug, Clone)]
pub struct RemoteTimer(std::sync::Arc<crate::time::RemoteTimer>);

impl RemoteTimer {
    /// Armed with `waker`.
    pub fn new(waker: Waker) -> RemoteTimer {
        RemoteTimer(crate::time::RemoteTimer::new(waker))
    }

    /// The wheel fires it.
    pub fn fire(&self) {
        crate::time::Payload::Remote(self.0.clone()).fire();
    }

    /// The sleep is dropped.
    pub fn cancel(&self) {
        self.0.cancel();
    }

    /// The sleep is polled again off the workers, with `waker`, its deadline not passed yet
    /// when it looked.
    pub fn repoll(&self, waker: &Waker) {
        self.0.set_waker(waker);
    }

    /// Its worker leaves before the deadline.
    pub fn orphan(&self) {
        self.0.orphan();
    }
}

/// A worker's timer inbox with its wheel: other threads arm timers, the owner drains them.
#[derive(Debug, Default)]
pub struct TimerInbox {
    inbox: crate::time::Inbox,
}

/// The owner's side: the wheel the inbox drains into.
#[derive(Debug, Default)]
pub struct TimerWheel {
    wheel: crate::time::Wheel,
    fired: Vec<crate::time::Payload>,
}

impl TimerInbox {
    /// A new, empty inbox.
    pub fn new() -> TimerInbox {
        TimerInbox { inbox: crate::time::Inbox::new() }
    }

    /// Another thread arms a timer for tick `when` (as a `Sleep` polled off the workers does).
    pub fn arm(&self, when: u64, waker: Waker) -> RemoteTimer {
        let timer = crate::time::RemoteTimer::new(waker);
        assert!(self.inbox.arm(when, timer.clone()).is_ok(), "the model never closes the inbox");
        RemoteTimer(timer)
    }

    /// The sleep of `timer`, armed here, is dropped (as a `Sleep` dropped off the workers is).
    pub fn cancel(&self, timer: &RemoteTimer) {
        self.inbox.cancel_timer(&timer.0);
    }

    /// The worker's cheap check before it sleeps.
    pub fn has_messages(&self) -> bool {
        self.inbox.has_messages()
    }

    /// The worker leaves (`worker::run` after its loop): later arms are refused; the timers armed
    /// and not yet taken into the wheel are orphaned (their sleeps woken, to arm elsewhere).
    pub fn close_and_orphan(&self) {
        for timer in self.inbox.close() {
            timer.orphan();
        }
    }

    /// [`arm`](Self::arm), from a thread racing the worker's exit: `None` if the inbox was
    /// closed and refused the timer (the sleep then arms it on the fallback thread).
    pub fn try_arm(&self, when: u64, waker: Waker) -> Option<RemoteTimer> {
        let timer = crate::time::RemoteTimer::new(waker);
        self.inbox.arm(when, timer.clone()).is_ok().then(|| RemoteTimer(timer))
    }

    /// The worker takes the requests into its wheel.
    pub fn drain_into(&self, wheel: &mut TimerWheel) {
        let mut removed = Vec::new();
        self.inbox.drain_into(&mut wheel.wheel, &mut wheel.fired, &mut removed);
        drop(removed);
    }
}

impl TimerWheel {
    /// Armed entries.
    pub fn len(&self) -> usize {
        self.wheel.len()
    }

    /// True if nothing is armed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The worker leaves with these entries armed (`worker::run` after its loop): each timer
    /// armed off the workers is orphaned, its sleep woken to arm elsewhere.
    pub fn orphan_all(self) {
        for payload in self.fired.into_iter().chain(self.wheel.into_payloads()) {
            match payload {
                crate::time::Payload::Remote(timer) => timer.orphan(),
                waker @ crate::time::Payload::Waker(_) => waker.fire(),
            }
        }
    }

    /// Advances to tick `now`, firing what is due; returns how many fired.
    pub fn fire_until(&mut self, now: u64) -> usize {
        self.wheel.poll(now, &mut self.fired);
        let n = self.fired.len();
        for p in self.fired.drain(..) {
            p.fire();
        }
        n
    }
}

/// The tasks' references to a runtime, counted apart from its `Arc` (`refs.rs`).
#[derive(Debug)]
pub struct TaskRefs(crate::refs::TaskRefs);

impl Default for TaskRefs {
    fn default() -> Self {
        TaskRefs(crate::refs::TaskRefs::new())
    }
}

impl TaskRefs {
    /// References a worker takes into its bank at a time (1 under loom).
    pub const BATCH: usize = crate::refs::BATCH;

    /// Rule 2: a worker refills its bank; false once the count reached zero (rule 4).
    pub fn take(&self, n: usize) -> bool {
        self.0.take(n)
    }

    /// Rules 2 and 3: gives references back; true if they were the last.
    pub fn put(&self, n: usize) -> bool {
        self.0.put(n)
    }

    /// Rule 1: the runtime's owner gives its base back; true if that was the last reference.
    pub fn close(&self) -> bool {
        self.0.close()
    }
}

/// The blocking pool (`blocking.rs`), its threads loom threads that run the pool's loop
/// (`Pool::work`) outside any runtime.
#[derive(Debug, Clone)]
pub struct BlockingPool(crate::blocking::Pool);

/// A blocking pool's counts, read under its lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockingCounts {
    /// Threads started and not gone.
    pub threads: usize,
    /// Threads on the idle stack: waiting for work, nothing has woken them.
    pub idle: usize,
    /// Threads taken off the idle stack and woken (by a spawn or the shutdown), not yet back
    /// under the lock.
    pub woken: usize,
    /// Closures queued.
    pub queued: usize,
    /// Join handles kept (threads that left after their keep-alive drop theirs).
    pub handles: usize,
}

impl BlockingPool {
    /// A pool of at most `max_threads` threads.
    pub fn new(max_threads: usize) -> BlockingPool {
        BlockingPool(crate::blocking::Pool::new(
            "model".into(),
            None,
            max_threads,
            crate::blocking::DEFAULT_KEEP_ALIVE,
            None,
        ))
    }

    /// Queues `f` (`spawn_blocking`), starting a thread if none is idle and the cap allows.
    pub fn spawn<F, R>(&self, f: F) -> crate::JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.0.spawn_with(std::sync::Weak::new(), f, |pool, _id| {
            let pool = pool.clone();
            Ok(loom::thread::spawn(move || pool.work()))
        })
    }

    /// The keep-alive of every thread waiting now passes.
    pub fn expire_keep_alive(&self) {
        self.0.expire_keep_alive();
    }

    /// Shuts the pool down: cancels queued closures, waits for the threads (with no deadline
    /// the model reaches). True if every thread left.
    pub fn shutdown(&self) -> bool {
        self.0.shutdown(std::time::Instant::now() + std::time::Duration::from_secs(3600))
    }

    /// The pool's counts.
    pub fn counts(&self) -> BlockingCounts {
        let (threads, idle, woken, queued, handles) = self.0.counts();
        BlockingCounts { threads, idle, woken, queued, handles }
    }
}

/// Hands a timer to the process's fallback timer thread (`time/mod.rs`, `fire_from_thread`),
/// due `after` from the model clock's now, starting the thread if there is none. Under loom
/// the clock moves only when that thread waits (its `park_timeout` lets its timeout pass
/// unless an unpark came first): see `crate::loom::timer_thread`.
pub fn fallback_sleep(after: std::time::Duration, waker: Waker) -> RemoteTimer {
    let timer = crate::time::RemoteTimer::new(waker);
    crate::time::fire_from_thread(timer.clone(), crate::loom::timer_thread::now() + after);
    RemoteTimer(timer)
}

/// The model clock: how much time the fallback threads have let pass.
pub fn fallback_elapsed() -> std::time::Duration {
    crate::loom::timer_thread::elapsed()
}

/// Joins every fallback timer thread started in this model run, those started meanwhile too.
pub fn fallback_join_all() {
    crate::loom::timer_thread::join_all();
}
