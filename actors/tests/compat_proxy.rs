//! `Proxy<A>` (actor12 0.0.11's interface): one stable outer link in front of an actor that is
//! started, shut down and restarted behind it.

use std::time::Duration;

use actor12::cancel::CancelReason;
use actor12::prelude::*;
use actor12::{Call, MpscChannel, Multi, Proxy, Terminate};

struct Counter {
    count: u64,
}

impl Actor for Counter {
    type Message = Multi<Self>;
    type Spec = u64;
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = u64;

    fn state(spec: &u64) -> u64 {
        *spec
    }

    fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
        std::future::ready(Ok(Counter { count: ctx.spec }))
    }
}

struct Bump;
struct Get;
struct Boom;

impl Handler<Bump> for Counter {
    type Reply = anyhow::Result<u64>;

    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Bump) -> Self::Reply {
        self.count += 1;
        Ok(self.count)
    }
}

impl Handler<Get> for Counter {
    type Reply = anyhow::Result<u64>;

    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Get) -> Self::Reply {
        Ok(self.count)
    }
}

impl Handler<Boom> for Counter {
    type Reply = anyhow::Result<()>;

    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Boom) -> Self::Reply {
        panic!("boom (a deliberate panic in a test)");
    }
}

#[tokio::test]
async fn messages_reach_the_current_incarnation_in_order() {
    let (proxy, link) = Proxy::<Counter>::new(0);
    assert_eq!(*link.state(), 0, "the outer link carries the actor's state");
    assert!(proxy.current().is_none());
    // Sent before `init`: they wait for the first incarnation.
    link.tell_dyn(Bump).await;
    link.tell_dyn(Bump).await;
    proxy.init();
    for expected in 3..=50 {
        assert_eq!(link.ask_dyn(Bump).await.unwrap(), expected);
    }
    assert_eq!(proxy.current().unwrap().ask_dyn(Get).await.unwrap(), 50);
}

#[tokio::test]
async fn shutdown_and_reset_restart_behind_the_same_link() {
    let (proxy, link) = Proxy::<Counter>::new(100);
    proxy.init();
    assert_eq!(link.ask_dyn(Bump).await.unwrap(), 101);
    let first = proxy.current().unwrap();

    proxy.shutdown().await;
    assert!(!first.alive(), "shutdown waits for the incarnation to stop");
    assert!(link.alive(), "the outer link stays usable");
    // Queued while nothing runs, handled by the next incarnation.
    link.tell_dyn(Bump).await;
    let pending = link.ask_dyn_async(Get).await;

    proxy.reset();
    let second = proxy.current().unwrap();
    assert!(second != first && second.alive());
    assert_eq!(pending.await.unwrap(), 101, "a fresh state, then the queued bump");
    assert_eq!(link.ask_dyn(Bump).await.unwrap(), 102);
}

#[tokio::test]
async fn reset_after_the_actor_panicked() {
    let (proxy, link) = Proxy::<Counter>::new(0);
    proxy.init();
    assert_eq!(link.ask_dyn(Bump).await.unwrap(), 1);
    assert!(link.ask_dyn(Boom).await.is_err(), "the asker of the panicking handler gets an error");
    proxy.current().unwrap().wait().await;
    proxy.reset();
    assert_eq!(link.ask_dyn(Bump).await.unwrap(), 1);
}

#[tokio::test]
async fn dropping_the_proxy_stops_the_actor_and_the_outer_link() {
    let (proxy, link) = Proxy::<Counter>::new(0);
    proxy.init();
    assert_eq!(link.ask_dyn(Bump).await.unwrap(), 1);
    let inner = proxy.current().unwrap();
    drop(proxy);
    inner.wait().await;
    link.wait().await;
    assert!(!link.alive());
    assert!(link.token().is_cancelled(), "the outer link's token says it stopped");
    assert!(link.ask_dyn(Bump).await.is_err());
}

#[tokio::test]
async fn cancelling_the_outer_link_stops_the_actor() {
    let (proxy, link) = Proxy::<Counter>::new(0);
    proxy.init();
    let inner = proxy.current().unwrap();
    link.cancel_and_wait(()).await;
    inner.wait().await;
    assert!(!inner.alive());
    assert!(link.ask_dyn(Get).await.is_err());
}

#[tokio::test]
async fn dropping_every_outer_link_stops_the_actor() {
    let (proxy, link) = Proxy::<Counter>::new(0);
    proxy.init();
    let inner = proxy.current().unwrap();
    drop(link);
    inner.wait().await;
    assert!(!inner.alive());
}

#[test]
#[should_panic(expected = "Proxy is already initialized")]
fn init_twice_panics() {
    let (proxy, _link) = Proxy::<Counter>::new(0);
    proxy.init();
    proxy.init();
}

#[test]
#[should_panic(expected = "Proxy is not cancelled")]
fn reset_of_a_running_actor_panics() {
    let (proxy, _link) = Proxy::<Counter>::new(0);
    proxy.init();
    proxy.reset();
}

/// An actor whose handler runs until the actor is cancelled, with room for one message.
struct Patient;

impl Actor for Patient {
    type Message = Multi<Self>;
    type Spec = ();
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();

    fn state(_: &()) {}

    fn init(_: Init<'_, Self>) -> impl InitFuture<Self> {
        std::future::ready(Ok(Patient))
    }

    fn mailbox_capacity() -> usize {
        1
    }
}

struct UntilCancelled;

impl Handler<UntilCancelled> for Patient {
    type Reply = anyhow::Result<()>;

    async fn handle(
        &mut self,
        call: Call<'_, Self, Self::Reply>,
        _: UntilCancelled,
    ) -> Self::Reply {
        call.ctx.token.cancelled().await;
        Ok(())
    }
}

/// Cancelling the outer link while the relay waits for room in the incarnation's full mailbox:
/// the relay stops waiting and cancels the incarnation. It used to wait for the room first, which
/// an incarnation busy until its own cancel never made: both waited for good.
#[tokio::test]
async fn cancelling_the_outer_link_while_the_relay_waits_for_room() {
    let (proxy, link) = Proxy::<Patient>::new(());
    proxy.init();
    let inner = proxy.current().unwrap();
    // The outer mailbox holds 100: each tell past the 100th returns once the relay has taken
    // one more. So after the 103rd, the relay holds the third, waiting for room behind the
    // second, which waits behind the first, whose handler runs until a cancel.
    for _ in 0..103 {
        link.tell_dyn(UntilCancelled).await;
    }
    let stopped = tokio::time::timeout(Duration::from_secs(60), link.cancel_and_wait(())).await;
    assert!(stopped.is_ok(), "the outer link's cancel hung");
    assert!(!inner.alive());
}

/// Starts or restarts a proxy's actor from its handler, as a supervisor would.
struct Starter;

impl Actor for Starter {
    type Message = Multi<Self>;
    type Spec = ();
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();

    fn state(_: &()) {}

    fn init(_: Init<'_, Self>) -> impl InitFuture<Self> {
        std::future::ready(Ok(Starter))
    }
}

struct StartIt(std::sync::Arc<Proxy<Counter>>);

impl Handler<StartIt> for Starter {
    type Reply = anyhow::Result<()>;

    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, m: StartIt) -> Self::Reply {
        m.0.init();
        Ok(())
    }
}

/// The incarnation belongs to the proxy, not to the actor whose handler called `init` (or
/// `reset`): it used to be spawned as that actor's child, and stopped with it, while the outer
/// link lived on and its askers waited for a `reset` nobody made.
#[tokio::test]
async fn an_incarnation_started_by_another_actor_outlives_that_actor() {
    let (proxy, link) = Proxy::<Counter>::new(0);
    let proxy = std::sync::Arc::new(proxy);
    let starter = actor12::spawn::<Starter>(());
    starter.ask_dyn(StartIt(proxy.clone())).await.unwrap();
    starter.cancel_and_wait(()).await;
    let answer = tokio::time::timeout(Duration::from_secs(60), link.ask_dyn(Bump)).await;
    assert_eq!(answer.expect("the ask hung: the incarnation stopped with its starter").unwrap(), 1);
    assert!(proxy.current().unwrap().alive());
}

/// What a [`Gated`] actor's `Hold` handler tells the test and waits for.
#[derive(Default)]
struct Gates {
    /// Notified once the handler runs.
    entered: tokio::sync::Notify,
    /// The handler returns once this is notified.
    release: tokio::sync::Notify,
}

/// A counter whose `Hold` handler runs until the test releases it (not until its cancel: a
/// handler stuck on something else), with room for `CAP` messages.
struct Gated<const CAP: usize = 64> {
    count: u64,
    gates: std::sync::Arc<Gates>,
}

impl<const CAP: usize> Actor for Gated<CAP> {
    type Message = Multi<Self>;
    type Spec = std::sync::Arc<Gates>;
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();

    fn state(_: &std::sync::Arc<Gates>) {}

    fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
        std::future::ready(Ok(Gated { count: 0, gates: ctx.spec }))
    }

    fn mailbox_capacity() -> usize {
        CAP
    }
}

struct Hold;

impl<const CAP: usize> Handler<Hold> for Gated<CAP> {
    type Reply = anyhow::Result<()>;

    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Hold) -> Self::Reply {
        self.gates.entered.notify_one();
        self.gates.release.notified().await;
        Ok(())
    }
}

impl<const CAP: usize> Handler<Bump> for Gated<CAP> {
    type Reply = anyhow::Result<u64>;

    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Bump) -> Self::Reply {
        self.count += 1;
        Ok(self.count)
    }
}

/// A `reset` right after the incarnation was cancelled (through `current`), while it still
/// finishes its handler: it used to panic ("Proxy is not cancelled"), and the relay went on
/// passing messages into the stopping incarnation, where they were dropped (their askers getting
/// an error). Now what the relay takes after it sees the cancel goes to the next one (a message
/// it was passing on at the very moment of the cancel may still land in the old one).
#[tokio::test]
async fn reset_right_after_a_cancel_of_the_incarnation() {
    let gates = std::sync::Arc::new(Gates::default());
    let (proxy, link) = Proxy::<Gated>::new(gates.clone());
    proxy.init();
    let held = link.ask_dyn_async(Hold).await;
    gates.entered.notified().await;
    let first = proxy.current().unwrap();
    first.cancel(());
    let bump = link.ask_dyn_async(Bump).await;
    proxy.reset();
    let second = proxy.current().unwrap();
    assert!(second != first);
    assert_eq!(bump.await.unwrap(), 1, "the message sent after the cancel reached the new one");
    assert!(first.alive(), "the old incarnation still runs its handler");
    gates.release.notify_one();
    held.await.unwrap();
    first.wait().await;
    assert_eq!(link.ask_dyn(Bump).await.unwrap(), 2);
}

/// The same while the relay waits for room in the old incarnation's full mailbox: the reset
/// wakes it, and the message it was passing on goes first to the new incarnation. The relay used
/// to go on waiting there, so nothing reached the new incarnation until the old one's stuck
/// handler returned (for good, if it waited for something only a later message would bring).
#[tokio::test]
async fn a_reset_is_not_held_up_by_a_stuck_handler_whose_mailbox_is_full() {
    let gates = std::sync::Arc::new(Gates::default());
    let (proxy, link) = Proxy::<Gated<1>>::new(gates.clone());
    proxy.init();
    let first = proxy.current().unwrap();
    let held = link.ask_dyn_async(Hold).await;
    gates.entered.notified().await;
    // The incarnation's mailbox has room for one, the outer one for 100: `a` fills the
    // incarnation's, the relay takes `b` and waits for room for it, `c` and 99 tells wait in the
    // outer mailbox (the last of them returns once the relay has taken `b`).
    let a = link.ask_dyn_async(Bump).await;
    let b = link.ask_dyn_async(Bump).await;
    let c = link.ask_dyn_async(Bump).await;
    for _ in 0..99 {
        link.tell_dyn(Bump).await;
    }
    first.cancel(());
    proxy.reset();
    let next = tokio::time::timeout(Duration::from_secs(60), link.ask_dyn(Bump)).await;
    let still_stuck = first.alive();
    gates.release.notify_one();
    held.await.unwrap();
    assert_eq!(next.expect("the reset was held up by the stuck handler").unwrap(), 102);
    assert!(still_stuck, "the old incarnation was still in its handler");
    // `a` was in the old incarnation's mailbox, dropped with it; `b` and `c` went to the new
    // one first, in order.
    assert!(a.await.is_err());
    assert_eq!((b.await.unwrap(), c.await.unwrap()), (1, 2));
}

/// The outer link counts as stopped only once every incarnation has, also one that a `reset`
/// replaced while it still ran its handler: only the current one was waited for.
#[tokio::test]
async fn the_outer_link_stops_after_an_incarnation_a_reset_replaced() {
    let gates = std::sync::Arc::new(Gates::default());
    let (proxy, link) = Proxy::<Gated>::new(gates.clone());
    proxy.init();
    let first = proxy.current().unwrap();
    let held = link.ask_dyn_async(Hold).await;
    gates.entered.notified().await;
    first.cancel(());
    proxy.reset();
    let second = proxy.current().unwrap();
    let mut stopped = tokio::spawn({
        let (link, first) = (link.clone(), first.clone());
        async move {
            link.cancel_and_wait(()).await;
            first.alive()
        }
    });
    second.wait().await;
    // The relay ended once the current incarnation had stopped: the outer link used to count as
    // stopped then. Half a second in which it must not, while the old one is stuck (a window
    // for the bug to show in, not a wait for anything to happen).
    let early = tokio::time::timeout(Duration::from_millis(500), &mut stopped).await;
    assert!(early.is_err(), "the outer link counted as stopped while the old incarnation ran");
    gates.release.notify_one();
    held.await.unwrap();
    let first_alive = tokio::time::timeout(Duration::from_secs(60), stopped).await;
    assert!(!first_alive.expect("the outer link stopped").unwrap(), "stopped before the old one");
}

/// Gates for a [`StopGated`] actor's `terminate`: only the first incarnation's waits.
#[derive(Default)]
struct StopGates {
    taken: std::sync::atomic::AtomicBool,
    /// Notified once the first incarnation is in `terminate`.
    entered: tokio::sync::Notify,
    /// Its `terminate` returns once this is notified.
    release: tokio::sync::Notify,
    /// Set as that `terminate` returns.
    finished: std::sync::atomic::AtomicBool,
}

/// An actor whose first incarnation stays in `terminate` until the test releases it.
struct StopGated(std::sync::Arc<StopGates>);

impl Actor for StopGated {
    type Message = Multi<Self>;
    type Spec = std::sync::Arc<StopGates>;
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();

    fn state(_: &Self::Spec) {}

    fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
        std::future::ready(Ok(StopGated(ctx.spec)))
    }

    async fn terminate(self, _: actor12::ActorContext<Self>, _: CancelReason<()>) {
        if !self.0.taken.swap(true, std::sync::atomic::Ordering::SeqCst) {
            self.0.entered.notify_one();
            self.0.release.notified().await;
            self.0.finished.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    }
}

/// The same for an incarnation that a `reset` replaced after its mailbox had closed, while it
/// still ran `terminate`: replaced incarnations were kept only while their mailboxes were open,
/// so the outer link counted as stopped while that one ran (a review of 2026-12-07).
#[tokio::test]
async fn the_outer_link_stops_after_a_replaced_incarnation_still_in_terminate() {
    let gates = std::sync::Arc::new(StopGates::default());
    let (proxy, link) = Proxy::<StopGated>::new(gates.clone());
    proxy.init();
    let first = proxy.current().unwrap();
    first.cancel(());
    gates.entered.notified().await;
    assert!(!first.alive(), "in `terminate`, its mailbox closed");
    proxy.reset();
    let mut stopped = tokio::spawn({
        let (link, gates) = (link.clone(), gates.clone());
        async move {
            link.cancel_and_wait(()).await;
            gates.finished.load(std::sync::atomic::Ordering::SeqCst)
        }
    });
    drop(proxy);
    // Half a second in which the outer link must not count as stopped (a window for the bug to
    // show in, not a wait for anything to happen).
    let early = tokio::time::timeout(Duration::from_millis(500), &mut stopped).await;
    assert!(early.is_err(), "the outer link counted as stopped while the old one ran `terminate`");
    gates.release.notify_one();
    let end = tokio::time::timeout(Duration::from_secs(60), stopped).await;
    // The order itself, which the window above only gives a chance to show.
    assert!(end.expect("the outer link never stopped").unwrap(), "stopped before the old one");
}

/// `is_closed` says when a restart is pointless: not after a `shutdown` (a `reset` follows), but
/// once the outer link is cancelled or its every clone dropped. A keeper that restarted the
/// actor whenever it stopped had no way to tell from the `Proxy`, and restarted for ever (each
/// incarnation stopping at once).
#[tokio::test]
async fn is_closed_tells_a_keeper_when_to_stop_restarting() {
    let (proxy, link) = Proxy::<Counter>::new(0);
    proxy.init();
    proxy.shutdown().await;
    assert!(!proxy.is_closed(), "shut down, to be reset");
    proxy.reset();
    link.cancel_and_wait(()).await;
    assert!(proxy.is_closed(), "the outer link was cancelled");

    let (proxy, link) = Proxy::<Counter>::new(0);
    proxy.init();
    drop(link);
    proxy.current().unwrap().wait().await;
    assert!(proxy.is_closed(), "every outer link was dropped");
}

/// Stops in its second `init` (the first `reset`'s) until the test lets it go.
struct Slow;

/// `init` calls so far, and the two meeting points of the second one.
type SlowSpec =
    std::sync::Arc<(std::sync::atomic::AtomicU64, std::sync::Barrier, std::sync::Barrier)>;

impl Actor for Slow {
    type Message = Multi<Self>;
    type Spec = SlowSpec;
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();

    fn state(_: &SlowSpec) {}

    fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
        let (calls, entered, go) = &*ctx.spec;
        if calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 1 {
            entered.wait();
            go.wait();
        }
        std::future::ready(Ok(Slow))
    }
}

#[test]
fn of_two_racing_resets_one_starts_an_incarnation_and_the_other_panics() {
    use std::sync::atomic::Ordering::SeqCst;
    use std::sync::{Arc, Barrier};
    let rt = actor12::rt::Runtime::new().unwrap();
    let spec: SlowSpec = Arc::new((0.into(), Barrier::new(2), Barrier::new(2)));
    let (proxy, _link) = rt.block_on(async { Proxy::<Slow>::new(spec.clone()) });
    let proxy = Arc::new(proxy);
    rt.block_on(async {
        proxy.init();
        proxy.shutdown().await;
    });
    let first = {
        let (proxy, handle) = (proxy.clone(), rt.handle());
        std::thread::spawn(move || handle.block_on(async { proxy.reset() }))
    };
    // The first reset is in its incarnation's `init`: a second one must not start another.
    spec.1.wait();
    let second = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| proxy.reset()));
    spec.2.wait();
    first.join().expect("the first reset starts its incarnation");
    assert!(second.is_err(), "the second reset started an incarnation too");
    assert_eq!(spec.0.load(SeqCst), 2, "one `init` and one `reset`");
    let current = proxy.current().expect("the first reset's incarnation");
    assert!(current.alive());
    // The start is over: the incarnation can be shut down and reset again.
    rt.block_on(async {
        proxy.shutdown().await;
        proxy.reset();
    });
    assert_eq!(spec.0.load(SeqCst), 3);
}

/// Where [`Draining`] incarnations note what they handled: (incarnation, message).
type Handled = std::sync::Arc<std::sync::Mutex<Vec<(u64, u32)>>>;

/// Handles every message passed to it before it stops (`Terminate::ProcessAll`), noting each.
struct Draining {
    incarnation: u64,
    handled: Handled,
}

impl Actor for Draining {
    type Message = Multi<Self>;
    type Spec = (Handled, std::sync::Arc<std::sync::atomic::AtomicU64>);
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();

    fn state(_: &Self::Spec) {}

    fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
        let incarnation = ctx.spec.1.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        std::future::ready(Ok(Draining { incarnation, handled: ctx.spec.0.clone() }))
    }

    fn termination_strategy(&mut self) -> Terminate {
        Terminate::ProcessAll
    }
}

struct Note(u32);

impl Handler<Note> for Draining {
    type Reply = anyhow::Result<u64>;

    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, Note(n): Note) -> Self::Reply {
        self.handled.lock().unwrap().push((self.incarnation, n));
        Ok(self.incarnation)
    }
}

/// Waits, in the handler, until a message is queued behind it; says so, then waits for `gate`.
struct HoldQueued {
    queued: actor12::oneshot::Sender<()>,
    gate: actor12::oneshot::Receiver<()>,
}

impl Handler<HoldQueued> for Draining {
    type Reply = anyhow::Result<u64>;

    async fn handle(&mut self, call: Call<'_, Self, Self::Reply>, hold: HoldQueued) -> Self::Reply {
        while call.ctx.rx.is_empty() {
            actor12::rt::yield_now().await;
        }
        let _ = hold.queued.send(());
        let _ = hold.gate.await;
        Ok(self.incarnation)
    }
}

/// The way the docs give to keep one sender's order across a restart of a `ProcessAll`
/// incarnation: `shutdown` (which waits for it to drain and stop), then `reset`. A `reset` right
/// after a cancel would let the new incarnation handle `Note(1)` while the old one still holds
/// `Note(0)` (found by a review; documented at `Proxy::reset`).
#[test]
fn shutdown_then_reset_keeps_one_senders_order_across_a_draining_incarnation() {
    for workers in 1..=2 {
        let rt = actor12::rt::Runtime::builder().worker_threads(workers).build().unwrap();
        let handled = Handled::default();
        rt.block_on(async {
            let (proxy, link) = Proxy::<Draining>::new((handled.clone(), Default::default()));
            proxy.init();
            let (queued_tx, queued) = actor12::oneshot::channel();
            let (open, gate) = actor12::oneshot::channel();
            link.tell_dyn(HoldQueued { queued: queued_tx, gate }).await;
            link.tell_dyn(Note(0)).await;
            queued.await.expect("the first incarnation holds `Note(0)` queued");
            let first = proxy.current().unwrap();
            let shutdown = proxy.shutdown();
            let later = async {
                // Waits in the outer mailbox: the relay holds messages back once shut down.
                link.tell_dyn(Note(1)).await;
                let _ = open.send(());
            };
            tokio::join!(shutdown, later);
            assert!(!first.alive(), "`shutdown` returned before the incarnation stopped");
            proxy.reset();
            assert_eq!(link.ask_dyn(Note(2)).await.unwrap(), 1, "the second incarnation answers");
        });
        assert_eq!(*handled.lock().unwrap(), [(0, 0), (1, 1), (1, 2)], "with {workers} workers");
    }
}

/// Messages sent while no incarnation runs wait in the outer link's mailbox, which holds 100 of
/// them whatever the actor's capacity, as in actor12 0.0.11: a user queueing a few between
/// `shutdown` and `reset`, in the same task, used to wait for good on the third when the
/// actor's capacity was 2.
#[tokio::test]
async fn the_outer_mailbox_holds_100_messages_between_shutdown_and_reset() {
    let (proxy, link) = Proxy::<Gated<2>>::new(std::sync::Arc::default());
    proxy.init();
    proxy.shutdown().await;
    let mut asks = Vec::new();
    for _ in 0..100 {
        let ask = tokio::time::timeout(Duration::from_secs(60), link.ask_dyn_async(Bump)).await;
        asks.push(ask.expect("a send waited for room in the outer mailbox"));
    }
    proxy.reset();
    let mut answers = Vec::new();
    for ask in asks {
        answers.push(ask.await.unwrap());
    }
    assert_eq!(answers, (1..=100).collect::<Vec<u64>>(), "the new incarnation got them in order");
}
