//! Timers: `sleep`, `sleep_until`, `timeout` and `interval`, on a timer wheel per worker.
//!
//! # Where a timer lives
//!
//! A [`Sleep`] registers lazily, on its first poll that finds it not yet due: a timeout around a
//! future that is ready at once never touches a wheel. Polled on a worker, it arms an entry in
//! that worker's wheel (O(1), no lock, no atomic); dropped or re-polled on the same worker, it
//! cancels or updates that entry in place, so a cancelled timer never wakes anyone; re-polled
//! on another worker (its task was stolen), it cancels that entry through the first worker's
//! `Inbox` and arms one in its new worker's wheel. Polled off the workers (on `block_on`'s
//! thread, a plain thread, a tokio task), it arms through a worker's inbox, holding an `Arc`
//! that the wheel fires and the sleep can cancel; dropped, it sends the cancel through that
//! inbox, applied at the worker's next turn (a pile of cancels wakes an idle worker), so its
//! entry does not wait for the deadline.
//!
//! Deadlines are rounded up to the next 1 ms tick, and a wheel's clock is the real one rounded
//! down, so a timer never fires early. On a worker, `Sleep` reports `Ready` once its entry has
//! fired or its tick is not after the wheel's clock, and reads the real clock only for a deadline
//! within 64 ticks of it (so that an already-due sleep is ready at once); off the workers it
//! reads the real clock on every poll.

mod wheel;

pub(crate) use wheel::{Key, Wheel};

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use crate::loom::timer_thread;
use crate::loom::{AtomicBool, Mutex, Ordering::*, StdMutex, StdMutexGuard};

/// The runtime's time base: milliseconds since it started.
#[derive(Debug)]
pub(crate) struct Clock {
    start: Instant,
}

impl Clock {
    pub(crate) fn new() -> Clock {
        Clock { start: Instant::now() }
    }

    /// The current tick (rounded down).
    pub(crate) fn now_tick(&self) -> u64 {
        let d = self.start.elapsed();
        d.as_secs() * 1000 + u64::from(d.subsec_millis())
    }

    /// The tick at which `deadline` has surely passed (rounded up). Saturating: a deadline past
    /// `u64::MAX` milliseconds from the start (an `Instant` may lie that far) is the last tick,
    /// which the wheel files at its horizon; it must not wrap round to a near tick.
    pub(crate) fn tick_for(&self, deadline: Instant) -> u64 {
        let d = deadline.saturating_duration_since(self.start);
        let nanos = d.subsec_nanos();
        d.as_secs().saturating_mul(1000).saturating_add(u64::from(nanos.div_ceil(1_000_000)))
    }

    /// How long from now until tick `when` begins (`Duration::MAX` past what `Instant` holds).
    pub(crate) fn until(&self, when: u64) -> Duration {
        match self.start.checked_add(Duration::from_millis(when)) {
            Some(at) => at.saturating_duration_since(Instant::now()),
            None => Duration::MAX,
        }
    }
}

/// What a wheel entry does when it fires.
#[derive(Debug)]
pub(crate) enum Payload {
    /// Wake a task polled on the wheel's own worker.
    Waker(Waker),
    /// A timer armed from another thread.
    Remote(Arc<RemoteTimer>),
}

impl Payload {
    pub(crate) fn fire(self) {
        match self {
            Payload::Waker(w) => wake_caught(w),
            Payload::Remote(r) => r.fire(),
        }
    }
}

/// Wakes a sleep's waker, which is its awaiter's code: a panic in it is reported (by the panic
/// hook) and goes no further, so that the worker firing or orphaning a batch of timers wakes
/// the rest. One that unwound out of a leaving worker's orphaning stopped it there: the other
/// sleeps armed off the workers were never woken, and waited for a wheel that was gone.
fn wake_caught(waker: Waker) {
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || waker.wake()));
}

/// A timer armed from off the wheel's worker: the sleep and the wheel share it.
///
/// Who removes its wheel entry when the sleep goes first is decided under its lock: the worker
/// records the entry's key there when it files the timer, unless the sleep has cancelled it
/// already (then the worker removes the entry at once); the sleep's cancel takes the key, and
/// sends it back through the worker's inbox ([`Inbox::cancel_timer`]). A fire clears the key,
/// so a timer that fired costs its sleep's drop nothing.
#[derive(Debug)]
pub(crate) struct RemoteTimer {
    /// Set by the sleep when it is dropped; the wheel then discards the entry.
    cancelled: AtomicBool,
    /// Set when its worker left before the deadline: the sleep must arm a new timer.
    orphaned: AtomicBool,
    state: Mutex<RemoteState>,
}

#[derive(Debug)]
struct RemoteState {
    /// Taken by the fire, or by the cancel.
    waker: Option<Waker>,
    /// The wheel entry, while it is filed and has not fired.
    key: Option<Key>,
    /// The thread that fires it when no worker can ([`fire_from_thread`]): a cancel unparks it,
    /// so that it lets the timer go instead of keeping it to the deadline.
    thread: Option<timer_thread::Thread>,
}

impl RemoteTimer {
    pub(crate) fn new(waker: Waker) -> Arc<RemoteTimer> {
        Arc::new(RemoteTimer {
            cancelled: AtomicBool::new(false),
            orphaned: AtomicBool::new(false),
            state: Mutex::new(RemoteState { waker: Some(waker), key: None, thread: None }),
        })
    }

    /// Its worker is leaving (shutdown) with the timer not yet due: wakes the sleep, which then
    /// sees the timer orphaned and arms a new one (on the fallback thread, if no worker takes it).
    pub(crate) fn orphan(&self) {
        // Relaxed: the wake-up below comes after it, and a wake-up happens before the poll it
        // causes (any executor's contract), which reads it.
        self.orphaned.store(true, Relaxed);
        self.fire();
    }

    fn is_orphaned(&self) -> bool {
        // Relaxed: see `orphan`; a poll before its wake-up may miss it, and that wake-up then
        // brings another poll.
        self.orphaned.load(Relaxed)
    }

    /// The sleep went away: after this returns the timer holds no waker, so nothing wakes the
    /// sleep's task but a fire that took the waker just before (and may still be waking it).
    /// Returns the key of its wheel entry if the worker filed it and it has not fired: the
    /// caller has it removed.
    pub(crate) fn cancel(&self) -> Option<Key> {
        let (waker, key, thread) = {
            let mut state = self.state.lock();
            // Relaxed: the flag lets the wheel skip the lock in `fire`; the guarantees come from
            // the lock, which `fire`, `filed` and `fire_from_thread` also take (they read the
            // flag under it).
            self.cancelled.store(true, Relaxed);
            (state.waker.take(), state.key.take(), state.thread.take())
        };
        drop(waker);
        if let Some(thread) = thread {
            thread.unpark();
        }
        key
    }

    /// The worker filed the timer under `key` (owner worker only). False if the sleep had
    /// cancelled it: nobody else will remove that entry, the worker must.
    fn filed(&self, key: Key) -> bool {
        let mut state = self.state.lock();
        // Relaxed: written under this lock by `cancel`.
        if self.cancelled.load(Relaxed) {
            return false;
        }
        state.key = Some(key);
        true
    }

    /// The sleep is polled again, its deadline not passed yet when it looked: `waker` is the one
    /// to wake. If the timer fired (or was orphaned) since that look, its slot is empty and
    /// nobody would wake a waker stored now: it is woken at once, and the next poll sees why.
    pub(crate) fn set_waker(&self, waker: &Waker) {
        let mut state = self.state.lock();
        match &state.waker {
            Some(w) if w.will_wake(waker) => {}
            Some(_) => state.waker = Some(waker.clone()),
            None => {
                drop(state);
                waker.wake_by_ref();
            }
        }
    }

    fn fire(&self) {
        // Relaxed: a stale false only costs one spurious wake-up.
        if self.cancelled.load(Relaxed) {
            return;
        }
        let waker = {
            let mut state = self.state.lock();
            // Its entry has left the wheel (fired, or the worker left): nothing to remove.
            state.key = None;
            state.waker.take()
        };
        if let Some(w) = waker {
            wake_caught(w);
        }
    }
}

enum InboxMsg {
    Arm(u64, Arc<RemoteTimer>),
    Cancel(Key),
}

/// How many requests may wait in a worker's inbox before a cancel from another thread wakes
/// the worker to take them in (see [`Inbox::cancel_timer`]).
pub(crate) const CANCELS_PER_WAKE: usize = 64;

/// Timer requests from other threads to one worker's wheel.
pub(crate) struct Inbox {
    msgs: Mutex<InboxState>,
    pending: AtomicBool,
}

#[derive(Default)]
struct InboxState {
    msgs: Vec<InboxMsg>,
    /// The vector the worker drained last, emptied, given back for the next batch: `msgs` and
    /// this one trade places at each drain, so that arms and cancels from other threads
    /// allocate no vector once both have grown.
    spare: Vec<InboxMsg>,
    /// The worker left: arms are refused (the caller hands the timer to the fallback thread).
    closed: bool,
}

impl std::fmt::Debug for Inbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inbox").field("pending", &self.has_messages()).finish()
    }
}

impl Default for Inbox {
    fn default() -> Self {
        Inbox::new()
    }
}

impl Inbox {
    pub(crate) fn new() -> Inbox {
        Inbox { msgs: Mutex::new(InboxState::default()), pending: AtomicBool::new(false) }
    }

    /// Room in the inbox's two lists: (the one pushes go to, the spare).
    #[cfg(test)]
    fn room(&self) -> (usize, usize) {
        let state = self.msgs.lock();
        (state.msgs.capacity(), state.spare.capacity())
    }

    pub(crate) fn has_messages(&self) -> bool {
        // Acquire: pairs with the release in `push`; the messages themselves are read under
        // the lock.
        self.pending.load(Acquire)
    }

    /// Arms `timer` at tick `when` (any thread). Gives it back once the worker has left.
    pub(crate) fn arm(&self, when: u64, timer: Arc<RemoteTimer>) -> Result<(), Arc<RemoteTimer>> {
        match self.push(InboxMsg::Arm(when, timer)) {
            Ok(_) => Ok(()),
            Err(InboxMsg::Arm(_, timer)) => Err(timer),
            Err(InboxMsg::Cancel(_)) => unreachable!("an arm was pushed"),
        }
    }

    /// Cancels entry `key` (any thread; applied at the owner's next turn; nothing to do once the
    /// worker has left).
    pub(crate) fn cancel(&self, key: Key) {
        let _ = self.push(InboxMsg::Cancel(key));
    }

    /// Cancels `timer`, armed through this inbox (any thread): it holds no waker after this
    /// returns, and its wheel entry is removed at the owner's next turn, or never filed.
    ///
    /// True if the caller should unpark the owner: [`CANCELS_PER_WAKE`] requests or more wait
    /// in the inbox. An idle owner sleeps until its next deadline, and the entries of the
    /// timers cancelled meanwhile stay in its wheel that long; a wake-up per cancel would cost
    /// every ask with a timeout from outside a futex call, so only a pile of them wakes it.
    pub(crate) fn cancel_timer(&self, timer: &RemoteTimer) -> bool {
        match timer.cancel() {
            Some(key) => self.push(InboxMsg::Cancel(key)).is_ok_and(|n| n >= CANCELS_PER_WAKE),
            None => false,
        }
    }

    /// Queues `msg`; returns how many requests wait now.
    fn push(&self, msg: InboxMsg) -> Result<usize, InboxMsg> {
        let mut state = self.msgs.lock();
        if state.closed {
            return Err(msg);
        }
        state.msgs.push(msg);
        // Release: pairs with the acquire in `has_messages`.
        self.pending.store(true, Release);
        Ok(state.msgs.len())
    }

    /// Requests waiting (tests).
    #[cfg(all(test, not(actor12_loom)))]
    fn len(&self) -> usize {
        self.msgs.lock().msgs.len()
    }

    /// The worker is leaving: refuses later arms and returns the timers armed and not yet
    /// applied to its wheel.
    pub(crate) fn close(&self) -> Vec<Arc<RemoteTimer>> {
        let mut state = self.msgs.lock();
        state.closed = true;
        let msgs = std::mem::take(&mut state.msgs);
        msgs.into_iter()
            .filter_map(|m| match m {
                InboxMsg::Arm(_, timer) => Some(timer),
                InboxMsg::Cancel(_) => None,
            })
            .collect()
    }

    /// Applies the requests (owner worker only). Due arms go to `fired`, cancelled entries'
    /// payloads to `removed`: the caller drops them after releasing the wheel, since a payload's
    /// destructor may drop a `Sleep` that looks for the wheel.
    pub(crate) fn drain_into(
        &self,
        wheel: &mut Wheel,
        fired: &mut Vec<Payload>,
        removed: &mut Vec<Payload>,
    ) {
        let mut msgs = {
            let mut state = self.msgs.lock();
            // Relaxed: cleared under the lock, before the messages are taken, so a push that
            // comes later sets it again (the lock orders its store after ours).
            self.pending.store(false, Relaxed);
            let spare = std::mem::take(&mut state.spare);
            std::mem::replace(&mut state.msgs, spare)
        };
        for msg in msgs.drain(..) {
            match msg {
                // Relaxed: a stale false only files an entry that `filed` then takes back.
                InboxMsg::Arm(_, timer) if timer.cancelled.load(Relaxed) => {
                    removed.push(Payload::Remote(timer));
                }
                InboxMsg::Arm(when, timer) => {
                    let handle = Arc::clone(&timer);
                    match wheel.insert(when, Payload::Remote(timer)) {
                        Ok(key) if !handle.filed(key) => removed.extend(wheel.remove(key)),
                        Ok(_) => {}
                        Err(p) => fired.push(p),
                    }
                }
                InboxMsg::Cancel(key) => removed.extend(wheel.remove(key)),
            }
        }
        // Empty: its capacity is all that goes back, up to a modest size.
        keep_modest(&mut msgs);
        self.msgs.lock().spare = msgs;
    }
}

/// Shrinks an emptied list of timers, messages or payloads back to a modest size (1,024
/// entries) once a burst has made it larger: kept for reuse otherwise, so that a steady flow
/// allocates nothing.
pub(crate) fn keep_modest<T>(list: &mut Vec<T>) {
    const MODEST: usize = 1024;
    debug_assert!(list.is_empty());
    if list.capacity() > MODEST {
        list.shrink_to(MODEST);
    }
}

/// Deadlines this close to a worker wheel's clock are checked against the real clock before they
/// are armed (one level-0 rotation).
const NEAR_TICKS: u64 = 64;

enum Registration {
    None,
    /// In the wheel of worker `worker` of the runtime with id `rt` (`Shared::id`: never reused,
    /// unlike an address, so a sleep that outlived its runtime cannot match another's entry).
    Local {
        rt: u64,
        worker: usize,
        key: Key,
    },
    /// Armed through the inbox of worker `worker` of that runtime.
    Remote {
        timer: Arc<RemoteTimer>,
        shared: Arc<crate::worker::Shared>,
        worker: usize,
    },
}

/// A future that completes at a deadline. Made by [`sleep`] and [`sleep_until`].
///
/// Dropping it cancels the timer.
///
/// # Examples
///
/// A deadline moved with [`reset`](Self::reset), as a watchdog that each sign of life pushes back
/// would do:
///
/// ```
/// use std::time::{Duration, Instant};
/// use actor12_scheduler::time::sleep;
///
/// let rt = actor12_scheduler::Runtime::builder().worker_threads(1).build().unwrap();
/// rt.block_on(async {
///     let mut watchdog = sleep(Duration::from_secs(3600));
///     let soon = Instant::now() + Duration::from_millis(2);
///     watchdog.reset(soon);
///     assert_eq!(watchdog.deadline(), soon);
///     watchdog.await;
///     assert!(Instant::now() >= soon);
/// });
/// ```
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Sleep {
    deadline: Instant,
    reg: Registration,
}

impl std::fmt::Debug for Sleep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sleep").field("deadline", &self.deadline).finish()
    }
}

/// Waits until `duration` has passed.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
/// let rt = actor12_scheduler::Runtime::builder().worker_threads(1).build().unwrap();
/// let start = Instant::now();
/// rt.block_on(actor12_scheduler::time::sleep(Duration::from_millis(5)));
/// assert!(start.elapsed() >= Duration::from_millis(5));
/// ```
pub fn sleep(duration: Duration) -> Sleep {
    sleep_until(after(duration))
}

/// Waits until `deadline`.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
/// let rt = actor12_scheduler::Runtime::builder().worker_threads(1).build().unwrap();
/// let deadline = Instant::now() + Duration::from_millis(3);
/// rt.block_on(actor12_scheduler::time::sleep_until(deadline));
/// assert!(Instant::now() >= deadline);
/// ```
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep { deadline, reg: Registration::None }
}

/// `duration` from now, or an instant 30 years away if `Instant` cannot hold it.
pub(crate) fn after(duration: Duration) -> Instant {
    Instant::now().checked_add(duration).unwrap_or_else(far_future)
}

fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(86400 * 365 * 30)
}

impl Sleep {
    /// The instant it completes at.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Moves the deadline (the timer is re-armed on the next poll).
    pub fn reset(&mut self, deadline: Instant) {
        self.cancel();
        self.deadline = deadline;
    }

    fn cancel(&mut self) {
        match std::mem::replace(&mut self.reg, Registration::None) {
            Registration::None => {}
            Registration::Local { rt, worker, key } => {
                crate::context::with_core(|core| cancel_local(core, rt, worker, key))
            }
            Registration::Remote { timer, shared, worker } => {
                let remote = &shared.remotes[worker];
                if remote.timers.cancel_timer(&timer) {
                    remote.parker.unpark();
                }
            }
        }
    }

    /// The poll on a worker: `None` off the workers.
    ///
    /// An entry that is gone has fired, which means its tick (the deadline rounded up) has
    /// passed; an entry that cannot be filed is due by the wheel's clock already. The real clock
    /// is read only for deadlines within [`NEAR_TICKS`] of the wheel's clock.
    fn poll_on_worker(&mut self, cx: &mut Context<'_>) -> Option<Poll<()>> {
        crate::context::with_core(|core| {
            let core = core?;
            let here = (core.shared_id(), core.index);
            match std::mem::replace(&mut self.reg, Registration::None) {
                Registration::Local { rt, worker, key } if (rt, worker) == here => {
                    // The borrow ends with this statement; the replaced waker is dropped after.
                    let updated = core.wheel.borrow_mut().update_waker(key, cx.waker());
                    let Some(old) = updated else { return Some(Poll::Ready(())) };
                    drop(old);
                    self.reg = Registration::Local { rt, worker, key };
                    return Some(Poll::Pending);
                }
                Registration::Local { rt, worker, key } => {
                    cancel_local(Some(core), rt, worker, key)
                }
                remote @ Registration::Remote { .. } => {
                    self.reg = remote;
                    self.cancel();
                }
                Registration::None => {}
            }
            let when = core.shared.clock.tick_for(self.deadline);
            let mut wheel = core.wheel.borrow_mut();
            if when <= wheel.elapsed() {
                return Some(Poll::Ready(()));
            }
            // The wheel's clock lags the real one by up to a maintenance interval: for a deadline
            // that close, ask the real clock, so that an already-due sleep (`sleep(ZERO)`) is
            // ready at once. Far deadlines (most timeouts) skip the clock read.
            if when <= wheel.elapsed() + NEAR_TICKS && Instant::now() >= self.deadline {
                return Some(Poll::Ready(()));
            }
            match wheel.insert(when, Payload::Waker(cx.waker().clone())) {
                Ok(key) => {
                    self.reg = Registration::Local { rt: here.0, worker: here.1, key };
                    Some(Poll::Pending)
                }
                Err(payload) => {
                    // Not under the borrow (see `Wheel::update_waker`).
                    drop(wheel);
                    drop(payload);
                    Some(Poll::Ready(()))
                }
            }
        })
    }

    fn register_remote(&mut self, waker: &Waker) {
        if let Registration::Remote { timer, .. } = &self.reg
            && !timer.is_orphaned()
        {
            timer.set_waker(waker);
            return;
        }
        self.cancel();
        let handle = crate::runtime::current_or_default();
        let timer = RemoteTimer::new(waker.clone());
        let shared = handle.shared;
        let worker = shared.timer_worker();
        let armed = !shared.is_shutdown() && {
            let armed = shared.remotes[worker]
                .timers
                .arm(shared.clock.tick_for(self.deadline), timer.clone());
            shared.remotes[worker].parker.unpark();
            armed.is_ok()
        };
        if !armed {
            // No worker will fire it (`Handle::block_on` still runs after shutdown): the
            // process's fallback timer thread does, so that the sleep ends instead of hanging.
            fire_from_thread(timer.clone(), self.deadline);
        }
        self.reg = Registration::Remote { timer, shared, worker };
    }
}

/// Fires `timer` at `deadline` from the process's fallback timer thread, started if there is
/// none. A cancel unparks that thread, which then lets the timer go instead of keeping it to its
/// deadline.
pub(crate) fn fire_from_thread(timer: Arc<RemoteTimer>, deadline: Instant) {
    let thread = {
        let mut fallback = Fallback::lock();
        let thread = match &fallback.thread {
            Some(thread) => thread.clone(),
            None => {
                let Ok(thread) = timer_thread::spawn(Fallback::run) else {
                    drop(fallback);
                    // No thread either: wake the sleep as an orphan, so that its next poll
                    // checks the clock and arms a new timer (another try at a thread). A plain
                    // fire would leave it re-polled at once, for good, without a timer.
                    timer.orphan();
                    return;
                };
                fallback.thread = Some(thread.clone());
                thread
            }
        };
        fallback.due.push(Due { deadline, timer: timer.clone() });
        thread
    };
    {
        let mut state = timer.state.lock();
        // Relaxed: written under this lock. Cancelled already: the unpark below has the thread
        // drop it.
        if !timer.cancelled.load(Relaxed) {
            state.thread = Some(thread.clone());
        }
    }
    // Its deadline may be the earliest now.
    thread.unpark();
}

/// The timers that no worker will fire (their runtime shut down while `Handle::block_on` still
/// runs, or a worker left before their deadline), and the one thread that fires them, in the
/// order of their deadlines. It lingers a second once it has none, so that sleeps awaited one
/// after another do not each start a thread, then leaves; a timer armed later starts another.
/// It was a thread per timer: 500 sleeps awaited at once there, 500 threads (review of
/// 2026-12-06).
struct Fallback {
    due: std::collections::BinaryHeap<Due>,
    thread: Option<timer_thread::Thread>,
}

#[cfg(not(actor12_loom))]
static FALLBACK: StdMutex<Fallback> =
    StdMutex::new(Fallback { due: std::collections::BinaryHeap::new(), thread: None });

// A static of each model run (loom's mutex has no `const` constructor).
#[cfg(actor12_loom)]
loom::lazy_static! {
    static ref FALLBACK: StdMutex<Fallback> =
        StdMutex::new(Fallback { due: std::collections::BinaryHeap::new(), thread: None });
}

/// How long the fallback thread waits with no timer before it leaves.
const FALLBACK_LINGER: Duration = Duration::from_secs(1);

/// Entries of capacity the fallback thread's heap keeps whatever its length while the thread
/// runs (24 KiB); past it, a heap down to a quarter of its capacity shrinks to twice its
/// length. Given back whole when the thread leaves.
const FALLBACK_KEEP: usize = 1024;

impl Fallback {
    fn lock() -> StdMutexGuard<'static, Fallback> {
        FALLBACK.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn run() {
        let mut idle_since = None;
        let mut fallback = Fallback::lock();
        loop {
            // Relaxed: a stale false keeps a timer whose `fire` then does nothing.
            fallback.due.retain(|d| !d.timer.cancelled.load(Relaxed));
            let now = timer_thread::now();
            let mut fired = Vec::new();
            while fallback.due.peek().is_some_and(|d| d.deadline <= now) {
                fired.extend(fallback.due.pop().map(|d| d.timer));
            }
            // The heap, a static, kept a burst's capacity for the process's life (100,000
            // sleeps armed and dropped after a shutdown: 3,144,490 bytes; a review of
            // 2026-12-07): it shrinks as the global queue does.
            let (len, capacity) = (fallback.due.len(), fallback.due.capacity());
            if let Some(to) = crate::inject::shrunk_capacity(len, capacity, FALLBACK_KEEP) {
                fallback.due.shrink_to(to);
            }
            let wait = match fallback.due.peek() {
                _ if !fired.is_empty() => Duration::ZERO,
                Some(next) => {
                    idle_since = None;
                    next.deadline - now
                }
                None => {
                    let since = *idle_since.get_or_insert(now);
                    match FALLBACK_LINGER.checked_sub(now - since) {
                        Some(left) if !left.is_zero() => left,
                        // Left under the lock: a timer armed from now on starts a new thread.
                        _ => {
                            fallback.thread = None;
                            fallback.due = std::collections::BinaryHeap::new();
                            return;
                        }
                    }
                }
            };
            drop(fallback);
            // Outside the lock: a waker is its awaiter's code (`wake_caught` in `fire`).
            for timer in fired {
                timer.fire();
            }
            if !wait.is_zero() {
                timer_thread::park_timeout(wait);
            }
            fallback = Fallback::lock();
        }
    }
}

/// A timer of the fallback thread: ordered so that the earliest deadline is the heap's top.
struct Due {
    deadline: Instant,
    timer: Arc<RemoteTimer>,
}

impl PartialEq for Due {
    fn eq(&self, other: &Due) -> bool {
        self.deadline == other.deadline
    }
}

impl Eq for Due {}

impl PartialOrd for Due {
    fn partial_cmp(&self, other: &Due) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Due {
    fn cmp(&self, other: &Due) -> std::cmp::Ordering {
        other.deadline.cmp(&self.deadline)
    }
}

/// Cancels an entry of worker `worker`'s wheel of runtime `rt`: directly on that worker,
/// through its inbox from another worker of the same runtime. Off that runtime's workers (an
/// `abort` from a plain thread, a task's handle dropped in `block_on`) the runtime is looked up
/// by its id and the cancel goes through the same inbox. Either way the owner is unparked: idle,
/// it would otherwise sleep to that very deadline, its entry keeping the task's allocation
/// alive and its inbox growing by one message per cancel. A
/// runtime that is gone, or whose worker has left, has dropped its wheel already.
fn cancel_local(core: Option<&crate::worker::Core>, rt: u64, worker: usize, key: Key) {
    if let Some(core) = core
        && core.shared_id() == rt
    {
        if core.index == worker {
            let removed = core.wheel.borrow_mut().remove(key);
            drop(removed);
        } else {
            // Unparked as below: an idle owner would sleep to that very deadline.
            core.shared.remotes[worker].timers.cancel(key);
            core.shared.remotes[worker].parker.unpark();
        }
    } else if let Some(shared) = crate::worker::Shared::find(rt) {
        shared.remotes[worker].timers.cancel(key);
        shared.remotes[worker].parker.unpark();
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // The cooperative budget: a loop over sleeps that are already due still yields.
        if !crate::coop::proceed(cx) {
            return Poll::Pending;
        }
        self.get_mut().poll_unbudgeted(cx)
    }
}

impl Sleep {
    /// [`poll`](Future::poll) without the budget's share.
    fn poll_unbudgeted(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if let Some(poll) = self.poll_on_worker(cx) {
            return poll;
        }
        if Instant::now() >= self.deadline {
            self.cancel();
            return Poll::Ready(());
        }
        self.register_remote(cx.waker());
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        self.cancel();
    }
}

/// The error of [`timeout`]: the deadline came first.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use actor12_scheduler::time::timeout;
///
/// let rt = actor12_scheduler::Runtime::builder().worker_threads(1).build().unwrap();
/// let never = std::future::pending::<()>();
/// let err = rt.block_on(timeout(Duration::from_millis(1), never)).unwrap_err();
/// assert_eq!(err.to_string(), "deadline has elapsed");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed(());

impl std::fmt::Display for Elapsed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("deadline has elapsed")
    }
}

impl std::error::Error for Elapsed {}

/// A future with a deadline. Made by [`timeout`].
///
/// # Examples
///
/// The future runs inside it and is dropped with it when the deadline comes first:
///
/// ```
/// use std::time::Duration;
/// use actor12_scheduler::time::{sleep, timeout};
///
/// struct Cleanup(std::sync::mpsc::Sender<&'static str>);
/// impl Drop for Cleanup {
///     fn drop(&mut self) {
///         let _ = self.0.send("dropped");
///     }
/// }
///
/// let rt = actor12_scheduler::Runtime::builder().worker_threads(1).build().unwrap();
/// let (tx, rx) = std::sync::mpsc::channel();
/// let slow = async move {
///     let _cleanup = Cleanup(tx);
///     sleep(Duration::from_secs(3600)).await;
/// };
/// assert!(rt.block_on(timeout(Duration::from_millis(1), slow)).is_err());
/// assert_eq!(rx.try_recv(), Ok("dropped"));
/// ```
#[derive(Debug)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Timeout<F> {
    future: F,
    sleep: Sleep,
}

/// Runs `future` until it completes or `duration` passes, whichever comes first.
///
/// The timer is armed only if the future is not ready on its first poll, and is cancelled when
/// the future completes: a timeout that does not fire costs no wake-up.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use actor12_scheduler::time::timeout;
/// let rt = actor12_scheduler::Runtime::builder().worker_threads(1).build().unwrap();
/// assert_eq!(rt.block_on(timeout(Duration::from_secs(1), async { 5 })), Ok(5));
/// assert!(rt.block_on(timeout(Duration::from_millis(2), std::future::pending::<()>())).is_err());
/// ```
pub fn timeout<F: Future>(duration: Duration, future: F) -> Timeout<F> {
    Timeout { future, sleep: sleep(duration) }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: `future` is structurally pinned (never moved out of `self`); `sleep` is Unpin
        // and not pinned.
        let (future, sleep) = unsafe {
            let this = self.get_unchecked_mut();
            (Pin::new_unchecked(&mut this.future), &mut this.sleep)
        };
        let had_budget = crate::coop::has_budget();
        if let Poll::Ready(v) = future.poll(cx) {
            // The timer goes now, not with the `Timeout`: one kept after it completed (pinned in
            // a struct, a `select!` loop) must not wake its task at a deadline that means nothing.
            sleep.cancel();
            return Poll::Ready(Ok(v));
        }
        // The future spent what was left of the budget: the deadline is looked at all the same,
        // as tokio's `Timeout` does. Refused, a timeout around a future that spends the budget
        // on every poll (a loop of sends that find room) never fired (a review of 2026-12-07).
        // Only then: a loop of timeouts that elapse at once must still yield.
        let poll = if had_budget && !crate::coop::has_budget() {
            sleep.poll_unbudgeted(cx)
        } else {
            Pin::new(sleep).poll(cx)
        };
        match poll {
            Poll::Ready(()) => Poll::Ready(Err(Elapsed(()))),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// Ticks at a fixed period. Made by [`interval`].
///
/// A tick that comes late (the task was busy) is delivered at once. The next one stays due one
/// period after the late tick's scheduled instant, so it may come sooner than a period after the
/// late one; if that instant has passed too, it is due one period after now (missed ticks are
/// skipped, not burst).
///
/// # Examples
///
/// [`tick`](Self::tick) returns each tick's scheduled instant: a [`period`](Self::period) after
/// the one before, or later if a tick came late:
///
/// ```
/// use std::time::Duration;
///
/// let rt = actor12_scheduler::Runtime::builder().worker_threads(1).build().unwrap();
/// rt.block_on(async {
///     let mut ticker = actor12_scheduler::time::interval(Duration::from_millis(2));
///     let first = ticker.tick().await; // at once
///     let second = ticker.tick().await;
///     assert!(second - first >= ticker.period());
/// });
/// ```
#[derive(Debug)]
pub struct Interval {
    next: Instant,
    period: Duration,
    sleep: Option<Sleep>,
}

/// A ticker whose first tick completes at once, then every `period`.
///
/// # Panics
///
/// If `period` is zero.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// let rt = actor12_scheduler::Runtime::builder().worker_threads(1).build().unwrap();
/// rt.block_on(async {
///     let mut ticker = actor12_scheduler::time::interval(Duration::from_millis(1));
///     for _ in 0..3 {
///         ticker.tick().await;
///     }
/// });
/// ```
pub fn interval(period: Duration) -> Interval {
    assert!(period > Duration::ZERO, "`interval` period must be non-zero");
    Interval { next: Instant::now(), period, sleep: None }
}

impl Interval {
    /// Completes at the next tick and returns its scheduled instant.
    pub async fn tick(&mut self) -> Instant {
        std::future::poll_fn(|cx| self.poll_tick(cx)).await
    }

    /// The poll function behind [`tick`](Self::tick).
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        let sleep = self.sleep.get_or_insert_with(|| sleep_until(self.next));
        if sleep.deadline != self.next {
            sleep.reset(self.next);
        }
        if Pin::new(sleep).poll(cx).is_pending() {
            return Poll::Pending;
        }
        let tick = self.next;
        let now = Instant::now();
        // Checked: a period too long for `Instant` (`Duration::MAX`) means no further tick.
        self.next = tick.checked_add(self.period).unwrap_or_else(far_future);
        if self.next <= now {
            self.next = after(self.period);
        }
        Poll::Ready(tick)
    }

    /// The period.
    pub fn period(&self) -> Duration {
        self.period
    }
}

#[cfg(all(test, not(actor12_loom)))]
mod tests {
    use super::*;

    /// The clock's arithmetic on its own, so that it is checked in release builds too, where an
    /// overflow wraps silently instead of panicking (a sleep of `Duration::MAX` once ended after
    /// 384 ms in release).
    #[test]
    fn ticks_round_up_and_saturate_at_the_far_end() {
        let clock = Clock::new();
        let at = |d: Duration| clock.start.checked_add(d).expect("an Instant that far");
        assert_eq!(clock.tick_for(clock.start), 0);
        assert_eq!(clock.tick_for(at(Duration::from_nanos(1))), 1, "rounded up, never early");
        assert_eq!(clock.tick_for(at(Duration::from_millis(1))), 1);
        assert_eq!(clock.tick_for(at(Duration::from_nanos(1_000_001))), 2);
        assert_eq!(clock.tick_for(at(Duration::from_secs(3))), 3000);
        // Past u64::MAX milliseconds: the last tick, not a near one.
        let far = Duration::from_secs(u64::MAX / 1000 + 1);
        if let Some(deadline) = clock.start.checked_add(far) {
            assert_eq!(clock.tick_for(deadline), u64::MAX);
        }
        let far = Duration::from_millis(u64::MAX) + Duration::from_nanos(999_999);
        if let Some(deadline) = clock.start.checked_add(far) {
            assert_eq!(clock.tick_for(deadline), u64::MAX);
        }
        // A deadline before the clock started is due at once.
        if let Some(before) = clock.start.checked_sub(Duration::from_secs(1)) {
            assert_eq!(clock.tick_for(before), 0);
        }
        // The last tick is about 585 million years away, not wrapped round to a near one.
        assert!(clock.until(u64::MAX) > Duration::from_secs(u64::MAX / 1000 - 60));
        assert_eq!(clock.until(0), Duration::ZERO, "tick 0 has begun");
    }

    /// A timeout awaited off the workers (`block_on`, a tokio task) whose future finishes first
    /// leaves nothing in the wheel: its entry is removed (or never filed), instead of staying
    /// until the deadline (before, 200,000 `block_on(timeout(1 h, ..))` kept 200,000 entries
    /// for an hour: 22 MB).
    #[test]
    fn timeouts_dropped_off_the_workers_leave_no_entry_in_the_wheel() {
        let rt = crate::Runtime::builder().worker_threads(1).build().unwrap();
        let hour = Duration::from_secs(3600);
        for _ in 0..200 {
            // Pending once, so that the timeout arms its timer, then ready.
            assert_eq!(rt.block_on(timeout(hour, async { crate::yield_now().await })), Ok(()));
        }
        // On the worker: take in what the inbox holds, then count the wheel's entries.
        let armed = rt.block_on(rt.spawn(async {
            crate::context::with_core(|core| {
                let core = core.expect("a task runs on a worker");
                core.maintenance();
                core.wheel.borrow().len()
            })
        }));
        assert_eq!(armed.unwrap(), 0, "entries of dropped timeouts stayed in the wheel");
    }

    /// A timeout whose future completes after its timer was armed cancels the timer then, as
    /// its docs say, not when it is dropped: a completed `Timeout` kept alive (pinned in a
    /// struct, a `select!` loop) fired at its deadline and woke its task for nothing (review of
    /// 2026-12-06). On a worker, where the entry is in the wheel, and off the workers, where it
    /// is a remote timer.
    #[test]
    fn a_completed_timeout_kept_alive_holds_no_timer() {
        let rt = crate::Runtime::builder().worker_threads(1).build().unwrap();
        let hour = Duration::from_secs(3600);
        let on_worker = rt.block_on(rt.spawn(async move {
            let mut t = Box::pin(timeout(hour, crate::yield_now()));
            assert_eq!(t.as_mut().await, Ok(()));
            let armed =
                crate::context::with_core(|core| core.expect("a worker").wheel.borrow().len());
            (armed, matches!(t.sleep.reg, Registration::None))
        }));
        assert_eq!(
            on_worker.unwrap(),
            (0, true),
            "entries in the wheel, and the registration gone"
        );

        let _enter = crate::context::enter(rt.handle());
        let mut first = true;
        let ready_second = std::future::poll_fn(move |_| {
            if std::mem::take(&mut first) { Poll::Pending } else { Poll::Ready(()) }
        });
        let mut t = Box::pin(timeout(hour, ready_second));
        let mut cx = Context::from_waker(Waker::noop());
        assert!(t.as_mut().poll(&mut cx).is_pending());
        assert!(matches!(t.sleep.reg, Registration::Remote { .. }), "armed off the workers");
        assert_eq!(t.as_mut().poll(&mut cx), Poll::Ready(Ok(())));
        assert!(matches!(t.sleep.reg, Registration::None), "the remote timer kept");
    }

    /// Waits (a guard against a hang, not a timing claim) until `cond` holds; false if it did
    /// not within 30 s.
    fn eventually(cond: impl Fn() -> bool) -> bool {
        let limit = Instant::now() + Duration::from_secs(30);
        while !cond() {
            if Instant::now() >= limit {
                return false;
            }
            std::thread::yield_now();
        }
        true
    }

    /// A burst of sleeps dropped off the workers while their worker is parked until their
    /// (far) deadline: the worker is woken to take their cancels in, so no more than
    /// `CANCELS_PER_WAKE` entries stay. Before, all of them stayed in its inbox, and their
    /// entries in its wheel, until something else woke it: an hour here.
    #[test]
    fn a_burst_of_sleeps_dropped_off_the_workers_leaves_few_entries_on_an_idle_worker() {
        let rt = crate::Runtime::builder().worker_threads(1).build().unwrap();
        let shared = rt.handle().shared;
        let remote = &shared.remotes[0];
        let mut cx = Context::from_waker(Waker::noop());
        let _enter = crate::context::enter(rt.handle());
        let n = 10 * CANCELS_PER_WAKE + 7;
        let mut sleeps: Vec<Sleep> = (0..n).map(|_| sleep(Duration::from_secs(3600))).collect();
        for s in &mut sleeps {
            assert!(Pin::new(s).poll(&mut cx).is_pending(), "armed through the inbox");
        }
        // The worker takes the arms in, then sleeps until the first deadline.
        assert!(eventually(|| !remote.timers.has_messages() && remote.parker.is_parked()));
        // Fewer cancels than wake the worker first: they wait in the inbox. Checked after the
        // whole burst, the worker woken by it could have taken every one in already (seen in
        // CI: the burst's last 7 drained before the check).
        let rest = sleeps.split_off(CANCELS_PER_WAKE - 1);
        drop(sleeps);
        assert!(remote.timers.has_messages(), "the cancels went through the inbox");
        drop(rest);
        assert!(
            eventually(|| remote.timers.len() < CANCELS_PER_WAKE && remote.parker.is_parked()),
            "{} cancels of dropped sleeps waited in the inbox of a parked worker",
            remote.timers.len()
        );
    }

    /// A burst of 100,000 one-hour sleeps armed and dropped off the workers (through the
    /// inbox) leaves no room behind it in the wheel, the inbox or the worker's lists, once the
    /// worker has taken the burst in: all kept their peak size before (review of 2026-12-06: a
    /// million sleeps held 45 MB for the runtime's life).
    #[test]
    fn a_burst_of_sleeps_dropped_gives_its_memory_back() {
        let rt = crate::Runtime::builder().worker_threads(1).build().unwrap();
        let remote = &rt.handle().shared.remotes[0];
        let mut cx = Context::from_waker(Waker::noop());
        let _enter = crate::context::enter(rt.handle());
        let mut sleeps: Vec<Sleep> =
            (0..100_000).map(|_| sleep(Duration::from_secs(3600))).collect();
        for s in &mut sleeps {
            assert!(Pin::new(s).poll(&mut cx).is_pending(), "armed through the inbox");
        }
        drop(sleeps);
        // The worker takes the arms and cancels in (two batches at least: the inbox's lists
        // trade places at each), then reports its room.
        let room = |rt: &crate::Runtime| {
            rt.block_on(rt.spawn(async {
                crate::context::with_core(|core| {
                    let core = core.expect("a task runs on a worker");
                    core.maintenance();
                    let wheel = core.wheel.borrow();
                    (wheel.len(), wheel.room(), core.removed.borrow().capacity())
                })
            }))
            .unwrap()
        };
        assert!(eventually(|| !remote.timers.has_messages()));
        let (armed, wheel, removed) = room(&rt);
        assert_eq!(armed, 0, "every sleep was dropped");
        assert!(wheel <= 1024 && removed <= 1024, "room kept: wheel {wheel}, removed {removed}");
        let (to, spare) = remote.timers.room();
        assert!(to <= 1024 && spare <= 1024, "room kept in the inbox: {to} and {spare}");
    }

    /// A task asleep on a worker's wheel and aborted from another thread (its future dropped
    /// there) leaves no entry behind: before, the entry stayed until the deadline, keeping the
    /// task's allocation.
    #[test]
    fn a_sleeping_task_aborted_off_the_workers_leaves_no_entry_in_the_wheel() {
        let rt = crate::Runtime::builder().worker_threads(1).build().unwrap();
        let wheel_len = |maintain: bool| {
            rt.block_on(rt.spawn(async move {
                crate::context::with_core(|core| {
                    let core = core.expect("a task runs on a worker");
                    if maintain {
                        core.maintenance();
                    }
                    core.wheel.borrow().len()
                })
            }))
            .unwrap()
        };
        let task = rt.spawn(sleep(Duration::from_secs(3600)));
        while wheel_len(false) == 0 {
            std::thread::yield_now();
        }
        task.abort();
        assert!(task.is_finished(), "an idle task's abort drops its future at once");
        assert_eq!(wheel_len(true), 0, "the aborted task's sleep stayed in the wheel");
    }

    /// A task asleep on one worker's wheel and aborted on another worker (its future dropped
    /// there, as a task stopping another does) has its entry removed soon, not at the deadline:
    /// the cancel went to the owner's inbox without waking it, and an idle owner slept on for
    /// the whole hour, its inbox and wheel keeping the message and the task's allocation.
    #[test]
    fn a_sleeping_task_aborted_on_another_worker_leaves_its_wheel_soon() {
        use std::sync::atomic::AtomicBool;
        let rt = crate::Runtime::builder().worker_threads(2).build().unwrap();
        let h = rt.handle();
        let armed = Arc::new(AtomicBool::new(false));
        let sleeper = h.spawn_pinned(0, {
            let armed = armed.clone();
            let mut s = sleep(Duration::from_secs(3600));
            std::future::poll_fn(move |cx| {
                let poll = Pin::new(&mut s).poll(cx);
                // Stored after the poll filed the entry in worker 0's wheel.
                armed.store(true, SeqCst);
                poll
            })
        });
        // Worker 0 has filed the entry and both workers are idle.
        let guard = Instant::now() + Duration::from_secs(60);
        while !armed.load(SeqCst) || h.shared.idle.num_sleepers() < 2 {
            assert!(Instant::now() < guard, "the workers never went idle");
            std::thread::yield_now();
        }
        // The abort drops the future on worker 1, which sends the cancel to worker 0's inbox.
        rt.block_on(h.spawn_pinned(1, async move { sleeper.abort() })).unwrap();
        while h.shared.remotes[0].timers.has_messages() {
            assert!(Instant::now() < guard, "the idle owner never took the cancel in");
            std::thread::yield_now();
        }
    }
}
