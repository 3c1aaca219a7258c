//! Long-running churn: live heap bytes after N iterations against after 2N, with the work
//! finished between the measurements. A server that runs for months repeats each of these
//! patterns without end; growth proportional to the iterations once everything is idle is a
//! leak.
//!
//! Each case runs a warm-up round first (queues, slabs, per-thread stores and lists reach their
//! steady size), then two measured rounds, and reports the live bytes after each against the
//! count after the warm-up. Live bytes are counted by a global allocator over every thread; the
//! work of a round is awaited (its replies, its tasks' ends, the actors' stops), and what a
//! worker frees just after it wakes its waiter is waited for with a bound (a guard against a
//! hang, not a timing claim).

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::{Duration, Instant};

use actor12::cancel::CancelToken;
use actor12::prelude::*;
use actor12::{MessageError, MpscChannel, Multi};

#[path = "support/live_heap.rs"]
mod live_heap;

use live_heap::serial;

#[global_allocator]
static GLOBAL: live_heap::LiveBytes = live_heap::LiveBytes;

fn runtime() -> actor12::rt::Runtime {
    actor12::rt::Runtime::builder().worker_threads(2).build().unwrap()
}

/// `n` divided by `ACTOR12_STRESS_DIV` (1 if unset), and at least 2: to run the cases small
/// under valgrind.
fn scaled(n: usize) -> usize {
    let div: usize =
        std::env::var("ACTOR12_STRESS_DIV").ok().and_then(|v| v.parse().ok()).unwrap_or(1);
    (n / div.max(1)).max(2)
}

/// [`live_heap::growth`] with `n` [`scaled`].
fn growth(what: &str, n: usize, slack: isize, round: impl FnMut(usize)) -> (isize, isize) {
    live_heap::growth(what, scaled(n), slack, round)
}

/// What the two workers' timer inboxes keep after a burst of timers armed or dropped off the
/// workers, by design: each worker's two lists of requests (16 bytes each) shrink back to 1,024
/// entries at most (`keep_modest` in `scheduler/src/time/mod.rs`). A burst that large builds up
/// while a worker waits for a core and another thread arms and drops timers (under load from
/// other processes, rounds of these tests reached 16 to 55 KiB). Against rounds of 10,000 and more
/// iterations, a leak of one allocation an iteration still shows, several times over.
const TIMER_INBOXES: isize = 2 * 2 * 1024 * 16;

/// What a mailbox of `A` keeps after a backlog, by design: five spare blocks of 31 slots
/// (`SPARES` and `BLOCK_CAP` in `mailbox/src/`; the block's flags and link are under 40 bytes).
fn spare_blocks<A: Actor>() -> isize {
    (5 * (31 * std::mem::size_of::<A::Message>() + 40)) as isize
}

fn assert_bounded(what: &str, (first, second): (isize, isize), slack: isize) {
    assert!(
        second <= slack,
        "{what}: grew by {first} bytes over the first round and {second} over two (slack {slack})"
    );
}

// ---------------------------------------------------------------------------------------------
// A long-lived actor that answers, parks replies, or is slow.

#[derive(Default)]
struct Server {
    parked: Vec<actor12::oneshot::Sender<anyhow::Result<u64>>>,
}

impl Actor for Server {
    type Message = Multi<Self>;
    type Spec = ();
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();
    fn state(_: &()) {}
    fn init(_: Init<'_, Self>) -> impl InitFuture<Self> {
        std::future::ready(Ok(Server::default()))
    }
}

struct Ping(u64);

impl Handler<Ping> for Server {
    type Reply = anyhow::Result<u64>;
    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, Ping(n): Ping) -> Self::Reply {
        Ok(n)
    }
}

/// Keeps the reply slot: the answer comes with the next [`Flush`], after the asker gave up.
struct Park;

impl Handler<Park> for Server {
    type Reply = anyhow::Result<u64>;
    async fn handle(&mut self, mut call: Call<'_, Self, Self::Reply>, _: Park) -> Self::Reply {
        self.parked.push(call.take_reply());
        Ok(0)
    }
}

/// Answers (`true`) or drops (`false`) every parked reply slot; returns how many.
struct Flush(bool);

impl Handler<Flush> for Server {
    type Reply = anyhow::Result<u64>;
    async fn handle(
        &mut self,
        _: Call<'_, Self, Self::Reply>,
        Flush(answer): Flush,
    ) -> Self::Reply {
        let n = self.parked.len() as u64;
        for reply in self.parked.drain(..) {
            if answer {
                let _ = reply.send(Ok(1));
            }
        }
        Ok(n)
    }
}

const ASKS: usize = 4_000;

#[test]
fn asks_with_a_deadline_answered_in_time_keep_nothing() {
    let _serial = serial();
    let rt = runtime();
    let server = rt.block_on(async { actor12::spawn::<Server>(()) });
    // Armed through a worker's inbox: the inbox's lists and the wheel's slab settle at sizes
    // that vary by a few KiB from round to round, more under load ([`TIMER_INBOXES`]).
    let remote = 32 * 1024 + TIMER_INBOXES;
    let from_block_on = growth("send_with_timeout from block_on", 10_000, remote, |n| {
        rt.block_on(async {
            for i in 0..n as u64 {
                let r = server
                    .send_with_timeout(HandlerMessage::new(Ping(i)), Duration::from_secs(3600));
                assert_eq!(r.await.unwrap().unwrap(), i);
            }
        })
    });
    let s = server.clone();
    let from_a_task = growth("send_with_timeout from a task", ASKS, 4096, |n| {
        let s = s.clone();
        rt.block_on(rt.spawn(async move {
            for i in 0..n as u64 {
                let h = s.send_message(HandlerMessage::new(Ping(i))).await;
                assert_eq!(h.timeout(Duration::from_secs(3600)).reply().await.unwrap().unwrap(), i);
            }
        }))
        .unwrap()
    });
    assert_bounded("send_with_timeout from block_on", from_block_on, remote);
    assert_bounded("send_with_timeout from a task", from_a_task, 4096);
}

/// Askers give up (a 1 ms deadline) on a handler that parks its reply slot; the slots are then
/// answered, or dropped, late. Fifty askers at a time, so that the peak of live tasks and timers
/// (and the run queues and wheel slab sized by it) is the same in every round.
#[test]
fn asks_that_time_out_before_a_late_answer_keep_nothing() {
    let _serial = serial();
    let rt = runtime();
    let server = rt.block_on(async { actor12::spawn::<Server>(()) });
    for answer in [true, false] {
        let what = format!("asks timed out, then answered late ({answer})");
        let grown = growth(&what, 2_000, 8192, |n| {
            let s = server.clone();
            rt.block_on(async move {
                for _ in 0..n / 50 {
                    let tasks: Vec<_> = (0..50)
                        .map(|_| {
                            let s = s.clone();
                            actor12::rt::spawn(async move {
                                let h = s.send_message(HandlerMessage::new(Park)).await;
                                let r = h.timeout(Duration::from_millis(1)).reply().await;
                                assert!(matches!(r, Err(MessageError::Timeout { .. })), "{r:?}");
                            })
                        })
                        .collect();
                    for t in tasks {
                        t.await.unwrap();
                    }
                    assert_eq!(s.ask_dyn(Flush(answer)).await.unwrap(), 50);
                }
            })
        });
        assert_bounded(&what, grown, 8192);
    }
}

/// The same from `block_on`: the timer is armed through a worker's inbox, and fires there.
#[test]
fn asks_from_block_on_that_time_out_keep_nothing() {
    let _serial = serial();
    let rt = runtime();
    let server = rt.block_on(async { actor12::spawn::<Server>(()) });
    let grown = growth("asks from block_on timed out, then answered late", 300, 8192, |n| {
        rt.block_on(async {
            for _ in 0..n {
                let h = server.send_message(HandlerMessage::new(Park)).await;
                let r = h.timeout(Duration::from_millis(1)).reply().await;
                assert!(matches!(r, Err(MessageError::Timeout { .. })), "{r:?}");
                let r =
                    server.send_with_timeout(HandlerMessage::new(Park), Duration::from_millis(1));
                assert!(matches!(r.await, Err(MessageError::Timeout { .. })));
                assert_eq!(server.ask_dyn(Flush(true)).await.unwrap(), 2);
            }
        })
    });
    assert_bounded("asks from block_on timed out", grown, 8192);
}

// ---------------------------------------------------------------------------------------------
// Cancel tokens under a long-lived parent.

const TOKENS: usize = 20_000;

/// Polls `f` once with a no-op waker (registers it), then drops it.
fn poll_once<F: std::future::Future>(f: F) {
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    assert!(f.as_mut().poll(&mut cx).is_pending());
}

#[test]
fn token_churn_under_a_long_lived_parent_keeps_nothing() {
    let _serial = serial();
    let parent = CancelToken::<u32>::new();
    let mut results = Vec::new();
    results.push(growth("child tokens dropped", TOKENS, 1024, |n| {
        for _ in 0..n {
            drop(parent.child());
        }
    }));
    results.push(growth("child tokens cancelled, then dropped", TOKENS, 1024, |n| {
        for _ in 0..n {
            parent.child().cancel(1u32);
        }
    }));
    results.push(growth("grandchildren dropped", TOKENS, 1024, |n| {
        for _ in 0..n {
            let child = parent.child();
            drop(child.child());
        }
    }));
    results.push(growth("child_with tokens dropped", TOKENS, 1024, |n| {
        for _ in 0..n {
            drop(parent.child_with::<u8>());
        }
    }));
    results.push(growth("cancelled() polled once and dropped", TOKENS, 1024, |n| {
        for _ in 0..n {
            poll_once(parent.cancelled());
        }
    }));
    results.push(growth(
        "cancelled_or_dropped() of a child, polled and dropped",
        TOKENS,
        1024,
        |n| {
            for _ in 0..n {
                let child = parent.child();
                poll_once(child.cancelled_or_dropped());
            }
        },
    ));
    let kept = parent.child();
    results.push(growth(
        "cancelled() of a kept child polled, then the child's tokens dropped",
        TOKENS,
        1024,
        |n| {
            for _ in 0..n {
                let c = kept.child();
                let wait = c.cancelled();
                drop(c);
                poll_once(wait);
            }
        },
    ));
    results.push(growth("a token cancelled and reset with a child each time", TOKENS, 1024, |n| {
        for _ in 0..n {
            let c = kept.child();
            kept.cancel(3u32);
            assert!(c.is_cancelled());
            kept.reset();
        }
    }));
    results.push(growth("a token reset with a waiter each time", TOKENS, 1024, |n| {
        for _ in 0..n {
            let w = kept.cancelled();
            let mut w = std::pin::pin!(w);
            let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
            assert!(w.as_mut().poll(&mut cx).is_pending());
            kept.cancel(3u32);
            kept.reset();
        }
    }));
    let names = [
        "child tokens dropped",
        "child tokens cancelled, then dropped",
        "grandchildren dropped",
        "child_with tokens dropped",
        "cancelled() polled once and dropped",
        "cancelled_or_dropped() of a child",
        "cancelled() of a dropped child",
        "cancel and reset with a child",
        "cancel and reset with a waiter",
    ];
    for (what, grown) in names.iter().zip(results) {
        assert_bounded(what, grown, 1024);
    }
}

// ---------------------------------------------------------------------------------------------
// A long-lived parent actor and its short-lived children.

/// Stops by itself: its first `tick` breaks.
struct Brief;

impl Actor for Brief {
    type Message = Multi<Self>;
    type Spec = ();
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();
    fn state(_: &()) {}
    fn init(_: Init<'_, Self>) -> impl InitFuture<Self> {
        std::future::ready(Ok(Brief))
    }
    async fn tick(&mut self) -> std::ops::ControlFlow<()> {
        std::ops::ControlFlow::Break(())
    }
}

/// As [`Brief`], with another reason type than its parent's: its token is a `child_with`.
struct BriefU8;

impl Actor for BriefU8 {
    type Message = Multi<Self>;
    type Spec = ();
    type Channel = MpscChannel<Self::Message>;
    type Cancel = u8;
    type State = ();
    fn state(_: &()) {}
    fn init(_: Init<'_, Self>) -> impl InitFuture<Self> {
        std::future::ready(Ok(BriefU8))
    }
    async fn tick(&mut self) -> std::ops::ControlFlow<u8> {
        std::ops::ControlFlow::Break(1)
    }
}

/// Refuses to start.
struct Refuses;

impl Actor for Refuses {
    type Message = Multi<Self>;
    type Spec = ();
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();
    fn state(_: &()) {}
    fn init(_: Init<'_, Self>) -> impl InitFuture<Self> {
        std::future::ready(Err(()))
    }
}

/// Lives until cancelled.
struct Idle;

impl Actor for Idle {
    type Message = Multi<Self>;
    type Spec = ();
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();
    fn state(_: &()) {}
    fn init(_: Init<'_, Self>) -> impl InitFuture<Self> {
        std::future::ready(Ok(Idle))
    }
}

struct Parent;

impl Actor for Parent {
    type Message = Multi<Self>;
    type Spec = ();
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();
    fn state(_: &()) {}
    fn init(_: Init<'_, Self>) -> impl InitFuture<Self> {
        std::future::ready(Ok(Parent))
    }
}

#[derive(Clone, Copy, Debug)]
enum Kid {
    /// A child whose `tick` breaks at once, awaited in the handler.
    StopsByItself,
    /// A child whose `init` refuses.
    Refuses,
    /// A child whose link the handler drops at once.
    Dropped,
    /// A child cancelled and awaited.
    Cancelled,
    /// A child that stops by itself, spawned from a background task of the parent.
    FromATask,
    /// A child of another reason type that stops by itself.
    OtherType,
    /// A background task of the parent's, awaited.
    Task,
}

impl Handler<Kid> for Parent {
    type Reply = anyhow::Result<()>;
    async fn handle(&mut self, mut call: Call<'_, Self, Self::Reply>, kid: Kid) -> Self::Reply {
        match kid {
            Kid::StopsByItself => actor12::spawn::<Brief>(()).wait().await,
            Kid::Refuses => actor12::spawn::<Refuses>(()).wait().await,
            Kid::Dropped => drop(actor12::spawn::<Idle>(())),
            Kid::Cancelled => actor12::spawn::<Idle>(()).cancel_and_wait(()).await,
            Kid::FromATask => {
                let (tx, rx) = actor12::oneshot::channel();
                call.ctx.spawn(async move {
                    actor12::spawn::<Brief>(()).wait().await;
                    let _ = tx.send(());
                });
                let _ = rx.await;
            }
            Kid::OtherType => actor12::spawn::<BriefU8>(()).wait().await,
            Kid::Task => {
                let (tx, rx) = actor12::oneshot::channel();
                call.ctx.spawn(async move {
                    let _ = tx.send(());
                });
                let _ = rx.await;
            }
        }
        Ok(())
    }
}

#[test]
fn a_long_lived_parent_actor_keeps_nothing_of_its_stopped_children() {
    let _serial = serial();
    let rt = runtime();
    let parent = rt.block_on(async { actor12::spawn::<Parent>(()) });
    let mut failures = Vec::new();
    let kids = [
        Kid::StopsByItself,
        Kid::Refuses,
        Kid::Dropped,
        Kid::Cancelled,
        Kid::FromATask,
        Kid::OtherType,
        Kid::Task,
    ];
    for kid in kids {
        let what = format!("{kid:?} children of a long-lived parent");
        let grown = growth(&what, 5_000, 8192, |n| {
            rt.block_on(async {
                for _ in 0..n {
                    parent.ask_dyn(kid).await.unwrap();
                }
            })
        });
        if grown.1 > 8192 {
            failures.push((what, grown));
        }
    }
    // Every child counted out once its lifecycle ended.
    let deadline = Instant::now() + Duration::from_secs(10);
    while (actor12::count::stats::<Brief>().live + actor12::count::stats::<Idle>().live) > 0
        && Instant::now() < deadline
    {
        std::thread::yield_now();
    }
    assert_eq!(actor12::count::stats::<Brief>().live, 0);
    assert_eq!(actor12::count::stats::<Idle>().live, 0);
    assert_eq!(actor12::count::stats::<Refuses>().live, 0);
    assert!(failures.is_empty(), "{failures:?}");
}

// ---------------------------------------------------------------------------------------------
// Mailboxes: bursts, senders that give up, stops with messages queued.

/// Counts its drops.
struct Tracked(Arc<AtomicUsize>);

impl Drop for Tracked {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

enum Cmd {
    /// Holds the actor until the gate opens or its sender goes; says it started.
    Hold(actor12::oneshot::Receiver<()>, actor12::oneshot::Sender<()>),
    /// Counted when handled; dropped as it is.
    Item(Tracked),
    /// Answers once everything before it was handled.
    Sync(actor12::oneshot::Sender<()>),
}

impl actor12::ActorMessage<Small> for Cmd {}

/// Raw style, a mailbox of 4.
struct Small {
    handled: Arc<AtomicUsize>,
}

impl Actor for Small {
    type Message = Cmd;
    type Spec = Arc<AtomicUsize>;
    type Channel = MpscChannel<Cmd>;
    type Cancel = ();
    type State = ();
    fn state(_: &Self::Spec) {}
    fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
        std::future::ready(Ok(Small { handled: ctx.spec }))
    }
    fn mailbox_capacity() -> usize {
        4
    }
    async fn handle(&mut self, _: Exec<'_, Self>, msg: Cmd) {
        match msg {
            Cmd::Hold(gate, started) => {
                let _ = started.send(());
                let _ = gate.await;
            }
            Cmd::Item(_item) => {
                self.handled.fetch_add(1, SeqCst);
            }
            Cmd::Sync(done) => {
                let _ = done.send(());
            }
        }
    }
}

/// Holds `link`'s actor in a handler and fills its mailbox; returns the gate.
async fn hold_and_fill(
    link: &Link<Small>,
    drops: &Arc<AtomicUsize>,
) -> actor12::oneshot::Sender<()> {
    let (gate, held) = actor12::oneshot::channel();
    let (started, running) = actor12::oneshot::channel();
    link.send_raw(Cmd::Hold(held, started)).await.ok().unwrap();
    running.await.unwrap();
    for _ in 0..4 {
        link.send_raw(Cmd::Item(Tracked(drops.clone()))).await.ok().unwrap();
    }
    gate
}

#[test]
fn senders_that_give_up_on_a_full_mailbox_keep_nothing() {
    let _serial = serial();
    let rt = runtime();
    let handled = Arc::new(AtomicUsize::new(0));
    let drops = Arc::new(AtomicUsize::new(0));
    let link = rt.block_on(async { actor12::spawn::<Small>(handled.clone()) });
    let sent = AtomicUsize::new(0);
    let grown = growth("senders giving up on a full mailbox", 2_000, 4096, |n| {
        rt.block_on(async {
            let gate = hold_and_fill(&link, &drops).await;
            sent.fetch_add(4, SeqCst);
            for _ in 0..n.div_ceil(50) {
                let tasks: Vec<_> = (0..50)
                    .map(|i| {
                        let link = link.clone();
                        let drops = drops.clone();
                        sent.fetch_add(1, SeqCst);
                        actor12::rt::spawn(async move {
                            let item = Cmd::Item(Tracked(drops));
                            if i % 2 == 0 {
                                // A send future dropped while it waits for room.
                                let r = actor12::time::timeout(
                                    Duration::from_millis(1),
                                    link.send_raw(item),
                                );
                                assert!(r.await.is_err());
                            } else {
                                assert!(link.try_send_raw(item).is_err());
                            }
                        })
                    })
                    .collect();
                for t in tasks {
                    t.await.unwrap();
                }
            }
            drop(gate);
            let (done, synced) = actor12::oneshot::channel();
            link.send_raw(Cmd::Sync(done)).await.ok().unwrap();
            synced.await.unwrap();
        })
    });
    assert_eq!(drops.load(SeqCst), sent.load(SeqCst), "every message dropped once");
    assert_eq!(handled.load(SeqCst), 4 * 3, "the four held in each round handled");
    assert_bounded("senders giving up on a full mailbox", grown, 4096);
}

/// Unbounded, raw style: bursts into a long-lived actor that then idles.
struct Sink {
    handled: Arc<AtomicUsize>,
}

impl actor12::ActorMessage<Sink> for Tracked {}

impl Actor for Sink {
    type Message = Tracked;
    type Spec = Arc<AtomicUsize>;
    type Channel = MpscChannel<Tracked>;
    type Cancel = ();
    type State = ();
    fn state(_: &Self::Spec) {}
    fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
        std::future::ready(Ok(Sink { handled: ctx.spec }))
    }
    fn mailbox_capacity() -> usize {
        usize::MAX
    }
    async fn handle(&mut self, _: Exec<'_, Self>, _: Tracked) {
        self.handled.fetch_add(1, SeqCst);
    }
}

#[test]
fn bursts_into_a_long_lived_actor_leave_a_bounded_mailbox() {
    let _serial = serial();
    let rt = runtime();
    let handled = Arc::new(AtomicUsize::new(0));
    let drops = Arc::new(AtomicUsize::new(0));
    let link = rt.block_on(async { actor12::spawn::<Sink>(handled.clone()) });
    let mut expected = 0;
    let grown = growth("bursts of 5,000 then idle", 20, 16 * 1024, |n| {
        for _ in 0..n {
            for _ in 0..5_000 {
                link.try_send_raw(Tracked(drops.clone())).ok().unwrap();
            }
            expected += 5_000;
            while handled.load(SeqCst) < expected {
                std::thread::yield_now();
            }
        }
    });
    assert_bounded("bursts of 5,000 then idle", grown, 16 * 1024);
    rt.block_on(link.cancel_and_wait(()));
    assert_eq!(drops.load(SeqCst), expected);
}

// ---------------------------------------------------------------------------------------------
// The runtime: timers, tasks, blocking closures, runtimes.

/// The names of this process's threads.
fn thread_names() -> Vec<String> {
    std::fs::read_dir("/proc/self/task")
        .map(|d| {
            d.filter_map(|e| std::fs::read_to_string(e.ok()?.path().join("comm")).ok())
                .map(|name| name.trim_end().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// How many of this process's threads are the runtimes' (workers, blocking threads, the
/// shutdown and timer threads: all named `actor12...`); the test harness's threads come and go.
fn threads() -> usize {
    thread_names().iter().filter(|name| name.starts_with("actor12")).count()
}

#[test]
fn timers_armed_and_dropped_keep_nothing() {
    let _serial = serial();
    let rt = runtime();
    let mut results = Vec::new();
    results.push(growth("sleeps polled once on a worker and dropped", 20_000, 4096, |n| {
        rt.block_on(rt.spawn(async move {
            for i in 0..n {
                let s = actor12::time::sleep(Duration::from_secs(3600 + i as u64));
                poll_once_async(s).await;
            }
        }))
        .unwrap()
    }));
    let remote = 16384 + TIMER_INBOXES;
    results.push(growth("sleeps polled once in block_on and dropped", 20_000, remote, |n| {
        rt.block_on(async {
            for i in 0..n {
                let s = actor12::time::sleep(Duration::from_secs(3600 + i as u64));
                poll_once_async(s).await;
            }
        })
    }));
    results.push(growth("timeouts that finish first, on a worker", 20_000, 4096, |n| {
        rt.block_on(rt.spawn(async move {
            for _ in 0..n {
                let r = actor12::time::timeout(Duration::from_secs(3600), async {
                    actor12::rt::spawn(async {}).await.unwrap()
                });
                r.await.unwrap();
            }
        }))
        .unwrap()
    }));
    results.push(growth("intervals made, ticked twice and dropped", 2_000, 4096, |n| {
        rt.block_on(rt.spawn(async move {
            for _ in 0..n {
                let mut i = actor12::time::interval(Duration::from_micros(50));
                i.tick().await;
                i.tick().await;
            }
        }))
        .unwrap()
    }));
    let names = ["sleeps on a worker", "sleeps in block_on", "timeouts on a worker", "intervals"];
    let slacks = [16384, remote, 16384, 16384];
    for ((what, grown), slack) in names.iter().zip(results).zip(slacks) {
        assert_bounded(what, grown, slack);
    }
}

/// Polls `f` once with the task's waker (it registers), then drops it.
async fn poll_once_async<F: std::future::Future>(f: F) {
    let mut f = std::pin::pin!(f);
    std::future::poll_fn(|cx| {
        assert!(f.as_mut().poll(cx).is_pending());
        std::task::Poll::Ready(())
    })
    .await
}

#[test]
fn tasks_and_blocking_closures_keep_nothing() {
    let _serial = serial();
    let rt = runtime();
    let mut results = Vec::new();
    results.push(growth("short tasks awaited", 20_000, 4096, |n| {
        rt.block_on(async {
            for i in 0..n {
                assert_eq!(actor12::rt::spawn(async move { i }).await.unwrap(), i);
            }
        })
    }));
    results.push(growth("short tasks whose handles are dropped", 20_000, 4096, |n| {
        let done = Arc::new(AtomicUsize::new(0));
        // A hundred at a time, so that the peak of queued tasks is the same in every round.
        for batch in 1..=n.div_ceil(100) {
            rt.block_on(async {
                for _ in 0..100 {
                    let done = done.clone();
                    drop(actor12::rt::spawn(async move {
                        done.fetch_add(1, SeqCst);
                    }));
                }
            });
            while done.load(SeqCst) < batch * 100 {
                std::thread::yield_now();
            }
        }
    }));
    results.push(growth("pending tasks aborted", 20_000, 4096, |n| {
        rt.block_on(async {
            for _ in 0..n {
                let t = actor12::rt::spawn(std::future::pending::<()>());
                actor12::rt::spawn(async {}).await.unwrap();
                t.abort();
                assert!(t.await.unwrap_err().is_cancelled());
            }
        })
    }));
    results.push(growth("pinned tasks awaited", 20_000, 4096, |n| {
        rt.block_on(async {
            for i in 0..n {
                assert_eq!(actor12::rt::spawn_pinned(i % 2, async move { i }).await.unwrap(), i);
            }
        })
    }));
    results.push(growth("blocking closures awaited", 5_000, 4096, |n| {
        rt.block_on(async {
            for i in 0..n {
                assert_eq!(actor12::rt::spawn_blocking(move || i).await.unwrap(), i);
            }
        })
    }));
    results.push(growth("DropHandles dropped", 20_000, 4096, |n| {
        rt.block_on(async {
            for _ in 0..n {
                let t = actor12::DropHandle(actor12::rt::spawn(std::future::pending::<()>()));
                actor12::rt::spawn(async {}).await.unwrap();
                drop(t);
            }
        })
    }));
    let names = ["awaited", "handles dropped", "aborted", "pinned", "blocking", "DropHandle"];
    for (what, grown) in names.iter().zip(results) {
        assert_bounded(what, grown, 4096);
    }
}

#[test]
fn runtimes_built_and_dropped_keep_nothing() {
    let _serial = serial();
    let threads_before = threads();
    let grown = growth("runtimes built, used and dropped", 50, 4096, |n| {
        for _ in 0..n {
            let rt = runtime();
            let server = rt.block_on(async { actor12::spawn::<Server>(()) });
            rt.block_on(async {
                assert_eq!(server.ask_dyn(Ping(1)).await.unwrap(), 1);
                actor12::rt::spawn_blocking(|| ()).await.unwrap();
                let _ = actor12::time::timeout(Duration::from_secs(3600), server.ask_dyn(Ping(2)))
                    .await;
            });
            drop(rt);
            drop(server);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    while threads() > threads_before && Instant::now() < deadline {
        std::thread::yield_now();
    }
    let names = thread_names();
    assert!(threads() <= threads_before, "{threads_before} threads before, now {names:?}");
    assert_bounded("runtimes built and dropped", grown, 4096);
}

// ---------------------------------------------------------------------------------------------
// Links: weak, dynamic, proxies, handles dropped unanswered.

/// Receives forwarded outcomes.
struct Outcomes {
    seen: Arc<AtomicUsize>,
}

impl Actor for Outcomes {
    type Message = Multi<Self>;
    type Spec = Arc<AtomicUsize>;
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();
    fn state(_: &Self::Spec) {}
    fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
        std::future::ready(Ok(Outcomes { seen: ctx.spec }))
    }
}

impl Handler<Result<anyhow::Result<u64>, MessageError>> for Outcomes {
    type Reply = anyhow::Result<()>;
    async fn handle(
        &mut self,
        _: Call<'_, Self, Self::Reply>,
        _: Result<anyhow::Result<u64>, MessageError>,
    ) -> Self::Reply {
        self.seen.fetch_add(1, SeqCst);
        Ok(())
    }
}

#[test]
fn link_churn_keeps_nothing() {
    let _serial = serial();
    let rt = runtime();
    let server = rt.block_on(async { actor12::spawn::<Server>(()) });
    let seen = Arc::new(AtomicUsize::new(0));
    let outcomes = rt.block_on(async { actor12::spawn::<Outcomes>(seen.clone()) });
    let mut results = Vec::new();
    let s = server.clone();
    // The server's and the outcomes' mailboxes fill up to their spare blocks when a worker falls
    // behind, as under load from other processes (a block at a time: 1,032 bytes).
    let slack = 2048 + spare_blocks::<Server>() + spare_blocks::<Outcomes>();
    results.push(growth("weak links upgraded and dropped", 20_000, slack, |n| {
        rt.block_on(async {
            for i in 0..n as u64 {
                let weak = s.downgrade();
                let link = weak.upgrade().unwrap();
                assert_eq!(weak.ask_dyn(Ping(i)).await.unwrap(), i);
                drop(link);
            }
        })
    }));
    results.push(growth("dyn links made and told", 20_000, slack, |n| {
        rt.block_on(async {
            for i in 0..n as u64 {
                let dynamic = s.to_dyn::<Ping>();
                dynamic.tell_dyn(Ping(i)).await;
                assert!(dynamic.is::<Server>());
                drop(dynamic.to::<Server>());
            }
            assert_eq!(s.ask_dyn(Ping(0)).await.unwrap(), 0);
        })
    }));
    results.push(growth("message handles dropped unanswered", 20_000, slack, |n| {
        rt.block_on(async {
            for i in 0..n as u64 {
                drop(s.send_message(HandlerMessage::new(Ping(i))).await);
            }
            assert_eq!(s.ask_dyn(Ping(0)).await.unwrap(), 0);
        })
    }));
    results.push(growth("asks sent now, their answers dropped", 20_000, slack, |n| {
        rt.block_on(async {
            for i in 0..n as u64 {
                drop(s.ask_dyn_async(Ping(i)).await);
            }
            assert_eq!(s.ask_dyn(Ping(0)).await.unwrap(), 0);
        })
    }));
    let mut forwarded = 0;
    results.push(growth("replies forwarded", 10_000, slack, |n| {
        // A hundred at a time, so that the peak of forwarding tasks is the same in every round.
        for _ in 0..n.div_ceil(100) {
            rt.block_on(async {
                for i in 0..100 {
                    s.send_message(HandlerMessage::new(Ping(i))).await.forward_to(&outcomes);
                }
            });
            forwarded += 100;
            while seen.load(SeqCst) < forwarded {
                std::thread::yield_now();
            }
        }
    }));
    results.push(growth("try_reply polled until answered", 10_000, slack, |n| {
        rt.block_on(async {
            for i in 0..n as u64 {
                let mut h = s.send_message(HandlerMessage::new(Ping(i))).await;
                loop {
                    match h.try_reply() {
                        Ok(Some(r)) => break assert_eq!(r.unwrap(), i),
                        Ok(None) => actor12::rt::spawn(async {}).await.unwrap(),
                        Err(e) => panic!("{e:?}"),
                    }
                }
            }
        })
    }));
    let names =
        ["weak", "dyn", "handles dropped", "ask_dyn_async dropped", "forward_to", "try_reply"];
    for (what, grown) in names.iter().zip(results) {
        assert_bounded(what, grown, slack);
    }
}

#[test]
fn proxy_restarts_keep_nothing() {
    let _serial = serial();
    let rt = runtime();
    let (proxy, outer) = rt.block_on(async {
        let (proxy, outer) = actor12::Proxy::<Server>::new(());
        proxy.init();
        (proxy, outer)
    });
    let grown = growth("proxy shut down and reset", 2_000, 4096, |n| {
        rt.block_on(async {
            for i in 0..n as u64 {
                assert_eq!(outer.ask_dyn(Ping(i)).await.unwrap(), i);
                proxy.shutdown().await;
                proxy.reset();
            }
        })
    });
    let grown_cancel = growth("proxy incarnation cancelled and reset", 2_000, 4096, |n| {
        rt.block_on(async {
            for i in 0..n as u64 {
                assert_eq!(outer.ask_dyn(Ping(i)).await.unwrap(), i);
                let current = proxy.current().unwrap();
                current.cancel_and_wait(()).await;
                proxy.reset();
            }
        })
    });
    let grown_new = growth("proxies made and dropped", 2_000, 4096, |n| {
        rt.block_on(async {
            for i in 0..n as u64 {
                let (proxy, outer) = actor12::Proxy::<Server>::new(());
                proxy.init();
                assert_eq!(outer.ask_dyn(Ping(i)).await.unwrap(), i);
                drop(proxy);
                outer.wait().await;
            }
        })
    });
    assert_bounded("proxy shut down and reset", grown, 4096);
    assert_bounded("proxy cancelled and reset", grown_cancel, 4096);
    assert_bounded("proxies made and dropped", grown_new, 4096);
}

// ---------------------------------------------------------------------------------------------
// Actors stopped with messages queued, asks pending and senders waiting for room.

#[test]
fn actors_stopped_with_work_pending_drop_everything_once() {
    let _serial = serial();
    let rt = runtime();
    let drops = Arc::new(AtomicUsize::new(0));
    let made = Arc::new(AtomicUsize::new(0));
    let grown = growth("stopped with messages queued and senders waiting", 300, 4096, |n| {
        rt.block_on(async {
            for round in 0..n {
                let link = actor12::spawn::<Small>(Arc::new(AtomicUsize::new(0)));
                let gate = hold_and_fill(&link, &drops).await;
                made.fetch_add(4, SeqCst);
                // Ten senders waiting for room.
                let waiting: Vec<_> = (0..10)
                    .map(|_| {
                        let (link, drops) = (link.clone(), drops.clone());
                        made.fetch_add(1, SeqCst);
                        actor12::rt::spawn(async move {
                            link.send_raw(Cmd::Item(Tracked(drops))).await.is_err()
                        })
                    })
                    .collect();
                // Let them run up to their wait for room.
                actor12::rt::spawn(async {}).await.unwrap();
                if round % 2 == 0 {
                    // Cancelled while its handler holds: the handler ends when the gate goes,
                    // and the four queued messages and the waiting senders' are dropped.
                    link.cancel(());
                    drop(gate);
                    link.wait().await;
                } else {
                    drop(gate);
                    let (done, synced) = actor12::oneshot::channel();
                    link.send_raw(Cmd::Sync(done)).await.ok().unwrap();
                    synced.await.unwrap();
                    link.cancel_and_wait(()).await;
                    continue;
                }
                for w in waiting {
                    assert!(w.await.unwrap(), "a send to a stopped actor fails");
                }
            }
        })
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    while drops.load(SeqCst) < made.load(SeqCst) && Instant::now() < deadline {
        std::thread::yield_now();
    }
    assert_eq!(drops.load(SeqCst), made.load(SeqCst), "every message dropped exactly once");
    assert_bounded("stopped with messages queued and senders waiting", grown, 4096);

    // Asks pending in a handler and in the mailbox when the actor stops.
    let grown = growth("stopped with asks pending", 2_000, 4096, |n| {
        rt.block_on(async {
            for _ in 0..n {
                // Two replies parked in the actor, one ask queued behind them.
                let parent = actor12::spawn::<Server>(());
                let running = parent.ask_dyn_async(Park).await;
                let timed = parent.send_message(HandlerMessage::new(Park)).await;
                let queued = parent.ask_dyn_async(Ping(1)).await;
                parent.cancel(());
                assert!(running.await.is_err());
                let _ = queued.await;
                assert!(timed.timeout(Duration::from_secs(3600)).reply().await.is_err());
                parent.wait().await;
            }
        })
    });
    assert_bounded("stopped with asks pending", grown, 4096);
}

/// Idle actors left running when their runtime is dropped, and spawns through a handle of a
/// runtime that has shut down: each counted out, and its memory given back.
struct Leftover;

impl Actor for Leftover {
    type Message = Multi<Self>;
    type Spec = ();
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();
    fn state(_: &()) {}
    fn init(_: Init<'_, Self>) -> impl InitFuture<Self> {
        std::future::ready(Ok(Leftover))
    }
}

#[test]
fn actors_left_at_a_runtime_drop_are_counted_out_and_freed() {
    let _serial = serial();
    let grown = growth("runtimes dropped with idle actors, then spawns after", 20, 4096, |n| {
        for _ in 0..n {
            let rt = runtime();
            let handle = rt.handle();
            let links: Vec<Link<Leftover>> =
                rt.block_on(async { (0..200).map(|_| actor12::spawn::<Leftover>(())).collect() });
            let pending: Vec<Link<Leftover>> = (0..50)
                .map(|_| handle.block_on(async { actor12::spawn::<Leftover>(()) }))
                .collect();
            drop(rt);
            let late: Vec<Link<Leftover>> = (0..50)
                .map(|_| handle.block_on(async { actor12::spawn::<Leftover>(()) }))
                .collect();
            for link in links.iter().chain(&pending).chain(&late) {
                handle.block_on(link.wait());
            }
            drop((links, pending, late, handle));
        }
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    while actor12::count::stats::<Leftover>().live > 0 && Instant::now() < deadline {
        std::thread::yield_now();
    }
    assert_eq!(actor12::count::stats::<Leftover>().live, 0);
    assert_bounded("runtimes dropped with idle actors", grown, 4096);
}

/// Short-lived plain threads that ask a long-lived actor (their reply slots' per-thread store,
/// their timers armed from outside the workers, the runtime's thread-locals) leave nothing once
/// joined. The slack covers the entries of timers dropped off the workers that an idle worker
/// keeps until its next arm (fewer than 64 a worker, `docs/design/timer-wheel.md` §2), and the
/// inboxes' lists ([`TIMER_INBOXES`]).
#[test]
fn short_lived_threads_that_ask_keep_nothing() {
    let _serial = serial();
    let rt = runtime();
    let server = rt.block_on(async { actor12::spawn::<Server>(()) });
    let handle = rt.handle();
    // A thousand threads a round: a leak of one reply slot a thread (64 bytes or more) shows
    // above the timer inboxes' bound.
    let slack = 32 * 1024 + TIMER_INBOXES;
    let grown = growth("threads that ask, then exit", 1_000, slack, |n| {
        for i in 0..n as u64 {
            let (server, handle) = (server.clone(), handle.clone());
            std::thread::spawn(move || {
                handle.block_on(async {
                    for j in 0..20 {
                        let m = HandlerMessage::new(Ping(i + j));
                        let r = server.send_with_timeout(m, Duration::from_secs(3600)).await;
                        assert_eq!(r.unwrap().unwrap(), i + j);
                        server.send_message(HandlerMessage::new(Ping(j))).await.forget();
                        drop(server.ask_dyn_async(Ping(j)).await);
                    }
                })
            })
            .join()
            .unwrap();
        }
        rt.block_on(async { server.ask_dyn(Ping(0)).await.unwrap() });
    });
    assert_bounded("threads that ask, then exit", grown, slack);
}

// ---------------------------------------------------------------------------------------------
// Panics.

fn quiet_booms() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if info.payload().downcast_ref::<&str>() != Some(&"boom") {
                default(info);
            }
        }));
    });
}

struct Boom;

impl Handler<Boom> for Server {
    type Reply = anyhow::Result<u64>;
    async fn handle(&mut self, mut call: Call<'_, Self, Self::Reply>, _: Boom) -> Self::Reply {
        // A reply slot parked and a background task running when the handler panics.
        self.parked.push(call.take_reply());
        call.ctx.spawn(std::future::pending());
        panic!("boom")
    }
}

#[test]
fn actors_whose_handlers_panic_keep_nothing() {
    let _serial = serial();
    quiet_booms();
    let rt = runtime();
    let grown = growth("actors crashed by a handler's panic", 2_000, 4096, |n| {
        rt.block_on(async {
            for i in 0..n as u64 {
                let server = actor12::spawn::<Server>(());
                assert_eq!(server.ask_dyn(Ping(i)).await.unwrap(), i);
                let queued = server.ask_dyn_async(Ping(i)).await;
                assert!(server.ask_dyn(Boom).await.is_err());
                let _ = queued.await;
                server.wait().await;
            }
        })
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    while actor12::count::stats::<Server>().live > 0 && Instant::now() < deadline {
        std::thread::yield_now();
    }
    assert_eq!(actor12::count::stats::<Server>().live, 0);
    assert_bounded("actors crashed by a handler's panic", grown, 4096);
}

/// Too large for a `Multi`'s three words: boxed.
struct Big([u64; 8]);

impl Handler<Big> for Server {
    type Reply = anyhow::Result<u64>;
    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, Big(v): Big) -> Self::Reply {
        Ok(v[0])
    }
}

#[test]
fn sends_to_a_stopped_actor_keep_nothing() {
    let _serial = serial();
    let rt = runtime();
    let (dead, weak) = rt.block_on(async {
        let dead = actor12::spawn::<Server>(());
        let weak = dead.downgrade();
        dead.cancel_and_wait(()).await;
        (dead, weak)
    });
    let empty = WeakLink::<Server>::new();
    let grown = growth("sends of every kind to a stopped actor", 10_000, 2048, |n| {
        rt.block_on(async {
            for i in 0..n as u64 {
                assert!(dead.ask_dyn(Big([i; 8])).await.is_err());
                assert!(dead.ask_dyn(Ping(i)).await.is_err());
                dead.tell_dyn(Big([i; 8])).await;
                assert!(weak.ask_dyn(Big([i; 8])).await.is_err());
                weak.tell_dyn(Ping(i)).await;
                assert!(empty.ask_dyn(Big([i; 8])).await.is_err());
                let h = dead.send_message(HandlerMessage::new(Big([i; 8]))).await;
                assert!(h.reply().await.is_err());
                let r =
                    dead.send_with_timeout(HandlerMessage::new(Ping(i)), Duration::from_secs(9));
                assert!(r.await.is_err());
                assert!(dead.ask_dyn_async(Big([i; 8])).await.await.is_err());
            }
        })
    });
    assert_bounded("sends to a stopped actor", grown, 2048);
}

#[test]
fn runtimes_dropped_in_their_own_task_keep_nothing() {
    let _serial = serial();
    let threads_before = threads();
    let outer = runtime();
    let grown = growth("runtimes dropped in their own task", 50, 4096, |n| {
        for _ in 0..n {
            let rt = runtime();
            let server = rt.block_on(async { actor12::spawn::<Server>(()) });
            let (tx, rx) = std::sync::mpsc::channel();
            let handle = rt.handle();
            let rt = Mutex::new(Some(rt));
            let rt = Arc::new(rt);
            let in_task = rt.clone();
            handle.spawn(async move {
                let _ = server.ask_dyn(Ping(1)).await;
                drop(in_task.lock().unwrap().take());
                let _ = tx.send(());
            });
            rx.recv().unwrap();
            // And one dropped on a worker of another runtime.
            let other = runtime();
            outer.block_on(outer.spawn(async move { drop(other) })).unwrap();
        }
    });
    drop(outer);
    let deadline = Instant::now() + Duration::from_secs(20);
    while threads() > threads_before && Instant::now() < deadline {
        std::thread::yield_now();
    }
    let names = thread_names();
    assert!(threads() <= threads_before, "{threads_before} threads before, now {names:?}");
    assert_bounded("runtimes dropped in their own task", grown, 4096);
}

/// Panics in `init`'s body, after spawning a child and a background task.
struct InitPanics;

impl Actor for InitPanics {
    type Message = Multi<Self>;
    type Spec = bool;
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();
    fn state(_: &bool) {}
    fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
        let child = actor12::spawn::<Idle>(());
        ctx.tasks.spawn(async move {
            child.wait().await;
        });
        if ctx.spec {
            panic!("boom");
        }
        // Or waits for good, until cancelled.
        std::future::pending()
    }
}

#[test]
fn actors_whose_init_panics_or_never_ends_keep_nothing() {
    let _serial = serial();
    quiet_booms();
    let rt = runtime();
    let grown = growth("init panicking or pending, then cancelled", 2_000, 4096, |n| {
        rt.block_on(async {
            for _ in 0..n {
                let spawned = rt.spawn(async { actor12::spawn::<InitPanics>(true) }).await;
                assert!(spawned.is_err());
                let pending = actor12::spawn::<InitPanics>(false);
                actor12::rt::spawn(async {}).await.unwrap();
                pending.cancel_and_wait(()).await;
            }
        })
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    while actor12::count::stats::<Idle>().live + actor12::count::stats::<InitPanics>().live > 0
        && Instant::now() < deadline
    {
        std::thread::yield_now();
    }
    assert_eq!(actor12::count::stats::<Idle>().live, 0);
    assert_eq!(actor12::count::stats::<InitPanics>().live, 0);
    assert_bounded("init panicking or pending", grown, 4096);
}
