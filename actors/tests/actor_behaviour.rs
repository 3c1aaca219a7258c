//! The guarantees the guide lists (`docs/book/src/concepts.md`, "What actor12 guarantees"), each
//! as a test: on two workers, and the ones about order, loss and one message at a time also on
//! one worker, on more workers than cores, and with the actor moving between workers.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::Duration;

use actor12::cancel::CancelReason;
use actor12::prelude::*;
use actor12::{Call, EnvelopeMessage, HandlerMessage, MessageError, MpscChannel, Multi, WeakLink};
use support::actor;
use support::*;

#[test]
fn one_sender_mixed_call_styles_keep_order() {
    let rt = runtime();
    rt.block_on(async {
        let probe = Probe::default();
        let actor = actor12::spawn::<Recorder>(probe.clone());
        let weak = actor.downgrade();
        let mut replies = Vec::new();
        // Each of the six styles 10 times at least (Miri, valgrind).
        let count = scaled(400, 60) as u32;
        for n in 0..count {
            match n % 6 {
                0 => actor.tell_dyn(Note(0, n)).await,
                1 => assert!(actor.ask_dyn(Note(0, n)).await.unwrap() > 0),
                2 => replies.push(actor.ask_dyn_async(Note(0, n)).await),
                3 => actor.send_message(HandlerMessage::new(Note(0, n))).await.forget(),
                4 => actor.send_and_forget(HandlerMessage::new(Note(0, n))).await,
                _ => weak.tell_dyn(Note(0, n)).await,
            }
        }
        for r in replies {
            r.await.unwrap();
        }
        let seen = actor.ask_dyn(Dump).await.unwrap();
        assert_in_order(&seen, 1, count);
    });
}

#[test]
fn many_senders_on_all_workers_lose_and_duplicate_nothing() {
    lose_and_duplicate_nothing(runtime());
}

#[test]
fn many_senders_lose_and_duplicate_nothing_on_one_worker() {
    lose_and_duplicate_nothing(actor12::rt::Runtime::builder().worker_threads(1).build().unwrap());
}

#[test]
fn many_senders_lose_and_duplicate_nothing_on_more_pinned_workers_than_cores() {
    // Four workers pinned to cores, modulo the cores: on a 2-core machine two share each core.
    let rt = actor12::rt::Runtime::builder().worker_threads(4).pin_to_cores(true).build().unwrap();
    lose_and_duplicate_nothing(rt);
}

/// Eight senders (four tasks on `rt`, four plain threads) tell four actors on `rt`; each actor
/// gets every message of each sender once, in the sender's order.
fn lose_and_duplicate_nothing(rt: actor12::rt::Runtime) {
    const SENDERS: u32 = 8;
    let per_sender = u32::try_from(scaled(20_000, 4)).expect("a small size") / 4 * 4;
    let actors: Vec<_> = (0..4)
        .map(|_| rt.block_on(async { actor12::spawn::<Recorder>(Probe::default()) }))
        .collect();
    let handle = rt.handle();
    // Half the senders are tasks on the runtime, half are plain threads.
    let tasks: Vec<_> = (0..SENDERS / 2)
        .map(|s| {
            let actors = actors.clone();
            handle.spawn(async move {
                for n in 0..per_sender {
                    actors[(n % 4) as usize].tell_dyn(Note(s, n / 4 + (n % 4) * per_sender)).await;
                }
            })
        })
        .collect();
    let threads: Vec<_> = (SENDERS / 2..SENDERS)
        .map(|s| {
            let actors = actors.clone();
            let handle = handle.clone();
            std::thread::spawn(move || {
                handle.block_on(async {
                    for n in 0..per_sender {
                        actors[(n % 4) as usize]
                            .tell_dyn(Note(s, n / 4 + (n % 4) * per_sender))
                            .await;
                    }
                })
            })
        })
        .collect();
    rt.block_on(async {
        for t in tasks {
            t.await.unwrap();
        }
    });
    for t in threads {
        t.join().unwrap();
    }
    rt.block_on(async {
        let mut total = 0;
        for (i, actor) in actors.iter().enumerate() {
            let seen = actor.ask_dyn(Dump).await.unwrap();
            total += seen.len();
            // Each actor got, from each sender, the sequence base..base+per_sender/4 in order.
            let mut next = vec![i as u32 * per_sender; SENDERS as usize];
            for (s, n) in seen {
                assert_eq!(n, next[s as usize], "actor {i}, sender {s}");
                next[s as usize] += 1;
            }
        }
        assert_eq!(total, (SENDERS * per_sender) as usize);
    });
}

#[test]
fn replies_resolve_with_answer_timeout_or_error_when_the_actor_dies() {
    let rt = runtime();
    rt.block_on(async {
        let probe = Probe::default();
        let actor = actor12::spawn::<Recorder>(probe.clone());

        // An answer.
        assert_eq!(actor.ask_dyn(Note(0, 0)).await.unwrap(), 1);

        // A timeout: the handler waits on a gate that opens only later.
        let (open, gate) = actor12::oneshot::channel();
        let slow = actor.send_message(HandlerMessage::new(Hold(gate))).await;
        let queued = actor.send_message(HandlerMessage::new(Note(0, 1))).await;
        let err = slow.timeout(Duration::from_millis(10)).reply().await.unwrap_err();
        assert_eq!(err, MessageError::Timeout { timeout: Duration::from_millis(10) });

        // A reply slot dropped unanswered is an error at once, not a hang.
        open.send(()).unwrap();
        assert_eq!(queued.reply().await.unwrap().unwrap(), 2);
        assert!(actor.ask_dyn(Ghost).await.is_err());

        // The actor is cancelled while a handler runs, with asks queued behind it: it stops
        // after that handler (cancellation is seen between messages, as in actor12 0.0.11), and
        // every queued ask gets an error at once. The handler is known to have started: a test
        // that cancelled while it might still be queued passed only while the actor was slower
        // to start it than the test was to cancel (Miri's scheduler ran it first, and hung).
        let (started_tx, started) = actor12::oneshot::channel();
        let (open, gate) = actor12::oneshot::channel::<()>();
        let running = actor.send_message(HandlerMessage::new(HoldStarted(started_tx, gate))).await;
        let mut queued = Vec::new();
        for n in 0..10 {
            queued.push(actor.send_message(HandlerMessage::new(Note(1, n))).await);
        }
        started.await.unwrap();
        actor.cancel(());
        open.send(()).unwrap();
        actor.cancel_and_wait(()).await;
        assert!(running.reply().await.unwrap().is_ok(), "the running handler finished");
        for q in queued {
            assert!(matches!(q.reply().await, Err(MessageError::RecvFailed(_))));
        }
        // And a send after the end fails at once.
        let late = actor.send_message(HandlerMessage::new(Note(2, 0))).await;
        assert!(!late.was_sent());
        assert!(matches!(late.reply().await, Err(MessageError::SendFailed(_))));
        assert!(actor.ask_dyn(Note(2, 1)).await.is_err());
        assert_eq!(probe.drops(), 1);
        assert_eq!(probe.terminates(), 1);
    });
}

#[test]
fn a_panicking_handler_stops_only_its_actor() {
    let rt = runtime();
    rt.block_on(async {
        let (a, b) = (Probe::default(), Probe::default());
        let victim = actor12::spawn::<Recorder>(a.clone());
        let bystander = actor12::spawn::<Recorder>(b.clone());
        let (_never, gate) = actor12::oneshot::channel::<()>();
        // An ask queued behind the panic also gets an error. The actor waits in a first
        // handler until both are queued: otherwise it may panic before the second is sent,
        // which then fails to send (a `SendFailed`; Miri's schedule found that order).
        let (open, first_gate) = actor12::oneshot::channel::<()>();
        let first = victim.send_message(HandlerMessage::new(Hold(first_gate))).await;
        let boom = victim.send_message(HandlerMessage::new(Boom)).await;
        let behind = victim.send_message(HandlerMessage::new(Hold(gate))).await;
        open.send(()).unwrap();
        assert!(first.reply().await.unwrap().is_ok());
        assert!(matches!(boom.reply().await, Err(MessageError::RecvFailed(_))));
        assert!(matches!(behind.reply().await, Err(MessageError::RecvFailed(_))));
        victim.wait().await;
        assert!(!victim.alive());
        assert_eq!(a.drops(), 1, "the actor's state is dropped");
        assert_eq!(a.terminates(), 0, "terminate does not run after a panic");
        assert!(victim.ask_dyn(Note(0, 0)).await.is_err());
        // The worker and the other actor go on.
        assert_eq!(bystander.ask_dyn(Note(0, 0)).await.unwrap(), 1);
        assert!(bystander.alive());
    });
}

/// What a handler holds while it runs: counts its drops.
struct Held(Arc<AtomicUsize>);

impl Drop for Held {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

/// Handles `Finish` at once and `Stall` not until its gate opens: the handler's future, in the
/// actor's reused buffer, either completes or is dropped there (here by a runtime shutdown).
struct Holder;

actor!(Holder, spec = (), cancel = (), init = |_ctx| Holder);

/// Held for one poll.
struct Finish(Held);
/// Held across an await that never ends; `started` says the handler is waiting.
struct Stall(Held, actor12::oneshot::Sender<()>, actor12::oneshot::Receiver<()>);

impl Handler<Finish> for Holder {
    type Reply = anyhow::Result<()>;

    async fn handle(
        &mut self,
        _: Call<'_, Self, Self::Reply>,
        Finish(held): Finish,
    ) -> Self::Reply {
        let _held = held;
        Ok(())
    }
}

impl Handler<Stall> for Holder {
    type Reply = anyhow::Result<()>;

    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, msg: Stall) -> Self::Reply {
        let Stall(held, started, gate) = msg;
        let _held = held;
        let _ = started.send(());
        let _ = gate.await;
        Ok(())
    }
}

#[test]
fn a_handlers_locals_drop_once_whether_it_finishes_or_a_shutdown_drops_it_mid_handler() {
    let rt = runtime();
    let drops = Arc::new(AtomicUsize::new(0));
    let n = scaled(1000, 20) as usize;
    let (never, gate) = actor12::oneshot::channel::<()>();
    let actor = rt.block_on(async {
        let actor = actor12::spawn::<Holder>(());
        for _ in 0..n {
            actor.tell_dyn(Finish(Held(drops.clone()))).await;
        }
        within(actor.ask_dyn(Finish(Held(drops.clone())))).await.unwrap();
        assert_eq!(drops.load(SeqCst), n + 1, "each finished handler dropped what it held, once");

        let (started_tx, started) = actor12::oneshot::channel();
        actor.tell_dyn(Stall(Held(drops.clone()), started_tx, gate)).await;
        within(started).await.unwrap();
        actor
    });
    assert_eq!(drops.load(SeqCst), n + 1, "the waiting handler still holds its value");
    // The shutdown drops the busy actor's lifecycle, and with it the handler's future, in the
    // actor's buffer; the gate stays shut until after it, so the handler cannot finish instead.
    drop(rt);
    assert_eq!(drops.load(SeqCst), n + 2, "the shutdown dropped the waiting handler, once");
    drop(never);
    assert!(!actor.alive());
}

#[test]
fn dropping_the_last_link_stops_the_actor_and_terminates_once() {
    let rt = runtime();
    let probe = Probe::default();
    let weak = rt.block_on(async {
        let actor = actor12::spawn::<Recorder>(probe.clone());
        let clone = actor.clone();
        actor.tell_dyn(Note(0, 0)).await;
        let weak = actor.downgrade();
        drop(actor);
        assert!(clone.alive(), "a clone keeps it alive");
        assert_eq!(clone.ask_dyn(Dump).await.unwrap(), [(0, 0)]);
        drop(clone); // the last link
        weak
    });
    probe.wait_dropped();
    assert!(weak.upgrade().is_none());
    assert_eq!(probe.terminates(), 1);
    drop(rt);
    assert_eq!(probe.drops(), 1);
    assert_eq!(probe.terminates(), 1);
}

#[test]
fn a_weak_link_to_a_dead_actor_fails_at_once() {
    let rt = runtime();
    rt.block_on(async {
        let actor = actor12::spawn::<Recorder>(Probe::default());
        let weak = actor.downgrade();
        actor.cancel_and_wait(()).await;
        drop(actor);
        assert!(weak.upgrade().is_none());
        assert!(weak.ask_dyn(Note(0, 0)).await.is_err());
        weak.tell_dyn(Note(0, 0)).await;
        let handle = weak.send_message(HandlerMessage::new(Note(0, 1))).await;
        assert!(handle.send_error().is_some());
        assert!(weak.ask_dyn_async(Note(0, 2)).await.await.is_err());
        let empty = WeakLink::<Recorder>::new();
        assert!(empty.ask_dyn(Note(0, 0)).await.is_err());
        assert!(empty.send_and_reply(HandlerMessage::new(Dump)).await.is_err());
    });
}

/// A parent whose handler spawns a child actor of the same cancel type.
struct Parent {
    children: Vec<actor12::Link<Recorder>>,
}

impl Actor for Parent {
    type Message = Multi<Self>;
    type Spec = ();
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();
    fn state(_: &()) {}
    fn init(_: Init<'_, Self>) -> impl InitFuture<Self> {
        std::future::ready(Ok(Parent { children: Vec::new() }))
    }
}

struct SpawnChild(Probe);

impl Handler<SpawnChild> for Parent {
    type Reply = anyhow::Result<WeakLink<Recorder>>;
    async fn handle(
        &mut self,
        _: Call<'_, Self, Self::Reply>,
        SpawnChild(p): SpawnChild,
    ) -> Self::Reply {
        let child = actor12::spawn::<Recorder>(p);
        let weak = child.downgrade();
        self.children.push(child);
        Ok(weak)
    }
}

#[test]
fn cancelling_a_parent_stops_the_actors_it_spawned() {
    let rt = runtime();
    rt.block_on(async {
        let parent = actor12::spawn::<Parent>(());
        let probes: Vec<Probe> = (0..3).map(|_| Probe::default()).collect();
        let mut children = Vec::new();
        for p in &probes {
            children.push(parent.ask_dyn(SpawnChild(p.clone())).await.unwrap().upgrade().unwrap());
        }
        assert!(children.iter().all(|c| c.alive()));
        // The children hold strong links to nothing but themselves here: only the parent's
        // token can stop them.
        parent.cancel_and_wait(()).await;
        for c in &children {
            c.wait().await;
            assert!(!c.alive());
        }
        assert!(probes.iter().all(|p| p.terminates() == 1));
    });
}

/// An actor whose init refuses to start.
struct Refuses;

impl Actor for Refuses {
    type Message = Multi<Self>;
    type Spec = ();
    type Channel = MpscChannel<Self::Message>;
    type Cancel = String;
    type State = ();
    fn state(_: &()) {}
    fn init(_: Init<'_, Self>) -> impl InitFuture<Self> {
        std::future::ready(Err("no".to_string()))
    }
}

impl Handler<u8> for Refuses {
    type Reply = anyhow::Result<u8>;
    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, n: u8) -> Self::Reply {
        Ok(n)
    }
}

#[test]
fn every_waiter_of_a_stopping_actor_resolves() {
    let rt = runtime();
    rt.block_on(async {
        let actor = actor12::spawn::<Recorder>(Probe::default());
        // Three tasks, three wakers: the waiter list holds one, then several.
        let registered = Arc::new(AtomicUsize::new(0));
        let waiters: Vec<_> = (0..3)
            .map(|_| {
                let (link, registered) = (actor.clone(), registered.clone());
                actor12::rt::spawn(async move {
                    let mut wait = link.wait();
                    let mut first = true;
                    std::future::poll_fn(|cx| {
                        let poll = wait.as_mut().poll(cx);
                        if std::mem::take(&mut first) {
                            registered.fetch_add(1, SeqCst);
                        }
                        poll
                    })
                    .await
                })
            })
            .collect();
        while registered.load(SeqCst) < 3 {
            actor12::rt::yield_now().await;
        }
        assert!(actor.alive());
        actor.cancel(());
        for w in waiters {
            w.await.unwrap();
        }
        assert!(!actor.alive());
    });
}

#[test]
fn init_refusing_stops_the_actor_with_its_reason() {
    let rt = runtime();
    rt.block_on(async {
        let link = actor12::spawn::<Refuses>(());
        link.wait().await;
        assert!(!link.alive());
        assert_eq!(link.token().reason().map(|r| r.into_value()), Some("no".to_string()));
        assert!(link.ask_dyn(1u8).await.is_err());
    });
}

/// Envelope style, with a small mailbox so senders wait for room.
struct Doubler {
    handled: Arc<AtomicUsize>,
}

impl Actor for Doubler {
    type Message = actor12::Envelope<u64, anyhow::Result<u64>>;
    type Spec = Arc<AtomicUsize>;
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();
    fn state(_: &Self::Spec) {}
    fn mailbox_capacity() -> usize {
        2
    }
    fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
        std::future::ready(Ok(Doubler { handled: ctx.spec }))
    }
    fn termination_strategy(&mut self) -> actor12::Terminate {
        actor12::Terminate::ProcessAll
    }
    async fn handle(&mut self, _: Exec<'_, Self>, msg: Self::Message) {
        self.handled.fetch_add(1, SeqCst);
        // Yield inside the handler: the actor is woken through its own waker.
        actor12::rt::yield_now().await;
        let _ = msg.reply.send(Ok(msg.value * 2));
    }
}

#[test]
fn a_full_mailbox_makes_senders_wait_and_process_all_drains_it() {
    let rt = runtime();
    rt.block_on(async {
        let handled = Arc::new(AtomicUsize::new(0));
        let link = actor12::spawn::<Doubler>(handled.clone());
        let mut pending = Vec::new();
        for n in 0..50u64 {
            pending.push(link.send_message(EnvelopeMessage::new(n)).await);
        }
        assert_eq!(link.send::<u64, anyhow::Result<u64>>(21).await.unwrap(), 42);
        // Queue more, then stop: ProcessAll answers them before the actor ends.
        for n in 0..5u64 {
            pending.push(link.send_message(EnvelopeMessage::new(100 + n)).await);
        }
        link.cancel(());
        for (i, p) in pending.into_iter().enumerate() {
            let n = if i < 50 { i as u64 } else { 100 + (i - 50) as u64 };
            assert_eq!(p.reply().await.unwrap().unwrap(), n * 2);
        }
        link.wait().await;
        assert_eq!(handled.load(SeqCst), 56);
    });
}

/// Pings a peer and waits for its answer inside the handler (the handler awaits while messages
/// queue behind it).
struct Pinger {
    peer: actor12::Link<Recorder>,
}

impl Actor for Pinger {
    type Message = Multi<Self>;
    type Spec = actor12::Link<Recorder>;
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();
    fn state(_: &Self::Spec) {}
    fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
        std::future::ready(Ok(Pinger { peer: ctx.spec }))
    }
}

impl Handler<u32> for Pinger {
    type Reply = anyhow::Result<usize>;
    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, n: u32) -> Self::Reply {
        actor12::time::sleep(Duration::from_micros(50)).await;
        self.peer.ask_dyn(Note(0, n)).await
    }
}

#[test]
fn handlers_that_await_other_actors_and_timers_while_messages_queue() {
    let rt = runtime();
    rt.block_on(async {
        let recorder = actor12::spawn::<Recorder>(Probe::default());
        let pinger = actor12::spawn::<Pinger>(recorder.clone());
        let count = scaled(200, 40) as u32;
        let mut replies = Vec::new();
        for n in 0..count {
            replies.push(pinger.ask_dyn_async(n).await);
        }
        for (i, r) in replies.into_iter().enumerate() {
            assert_eq!(r.await.unwrap(), i + 1);
        }
        assert_in_order(&recorder.ask_dyn(Dump).await.unwrap(), 1, count);
    });
}

#[test]
fn ping_pong_between_actors_on_both_workers() {
    let rt = runtime();
    rt.block_on(async {
        let recorder = actor12::spawn::<Recorder>(Probe::default());
        let pingers: Vec<_> = (0..4).map(|_| actor12::spawn::<Pinger>(recorder.clone())).collect();
        let rounds = scaled(50, 10) as u32;
        let mut total = 0;
        for round in 0..rounds {
            for p in &pingers {
                total = p.ask_dyn(round).await.unwrap();
            }
        }
        assert_eq!(total, 4 * rounds as usize);
    });
}

#[test]
fn spawn_works_outside_any_runtime_and_from_tokio() {
    // A plain thread: the default runtime.
    let link = actor12::spawn::<Recorder>(Probe::default());
    let (tx, rx) = std::sync::mpsc::channel();
    let l = link.clone();
    actor12::rt::spawn(async move { tx.send(l.ask_dyn(Note(0, 0)).await.unwrap()).unwrap() });
    assert_eq!(rx.recv().unwrap(), 1);
    // A tokio runtime: its tasks await actor12 replies like any future.
    let tokio = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let n = tokio.block_on(async {
        let other = actor12::spawn::<Recorder>(Probe::default());
        other.ask_dyn(Note(0, 0)).await.unwrap() + link.ask_dyn(Note(0, 1)).await.unwrap()
    });
    assert_eq!(n, 3);
}

#[test]
fn shutting_the_runtime_down_drops_idle_and_busy_actors_once() {
    let rt = runtime();
    let probes: Vec<Probe> = (0..6).map(|_| Probe::default()).collect();
    let mut gates = Vec::new();
    let links: Vec<_> = rt.block_on(async {
        let mut links = Vec::new();
        for (i, p) in probes.iter().enumerate() {
            let link = actor12::spawn::<Recorder>(p.clone());
            if i % 2 == 0 {
                // Busy: blocked inside a handler on a gate nobody opens.
                let (tx, gate) = actor12::oneshot::channel::<()>();
                gates.push(tx); // kept shut until after the shutdown
                link.send_message(HandlerMessage::new(Hold(gate))).await.forget();
            } else {
                link.ask_dyn(Note(0, 0)).await.unwrap();
            }
            links.push(link);
        }
        links
    });
    drop(rt);
    for p in &probes {
        assert_eq!(p.drops(), 1, "each actor's state dropped exactly once at shutdown");
        // As `Actor::terminate` documents.
        assert_eq!(p.terminates(), 0, "a shutdown drops actors, it does not terminate them");
    }
    drop(gates);
    assert!(links.iter().all(|l| !l.alive()));
}

#[test]
fn a_shutdown_that_times_out_still_drops_an_actor_busy_on_its_worker() {
    let rt = runtime();
    let probe = Probe::default();
    let (entered_tx, entered) = std::sync::mpsc::channel();
    let (open, gate) = std::sync::mpsc::channel();
    let link = rt.block_on(async {
        let link = actor12::spawn::<Recorder>(probe.clone());
        link.send_message(HandlerMessage::new(Block(entered_tx, gate))).await.forget();
        link
    });
    entered.recv().unwrap();
    // Its worker cannot leave in time, so the task list asks for the actor while it runs.
    rt.shutdown_timeout(Duration::from_millis(1));
    assert_eq!(probe.drops(), 0, "still inside its handler");
    open.send(()).unwrap();
    assert!(
        probe.wait_dropped_for(Duration::from_secs(30)),
        "the actor went idle after the shutdown instead of being dropped"
    );
    assert_eq!(probe.terminates(), 0, "a shutdown drops actors, it does not terminate them");
    drop(link);
}

/// Receives `(sender, sequence)` pairs through a one-slot mailbox, checks each sender's order,
/// and reports once it has them all.
struct Tally {
    next: Vec<u64>,
    left: u64,
    done: Option<actor12::oneshot::Sender<Vec<u64>>>,
}

struct Numbered(usize, u64);

impl actor12::ActorMessage<Tally> for Numbered {}

impl Actor for Tally {
    type Message = Numbered;
    type Spec = (usize, u64, actor12::oneshot::Sender<Vec<u64>>);
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();
    fn state(_: &Self::Spec) {}
    fn mailbox_capacity() -> usize {
        1
    }
    fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
        let (senders, per_sender, done) = ctx.spec;
        std::future::ready(Ok(Tally {
            next: vec![0; senders],
            left: senders as u64 * per_sender,
            done: Some(done),
        }))
    }
    async fn handle(&mut self, _: Exec<'_, Self>, Numbered(sender, seq): Numbered) {
        assert_eq!(seq, self.next[sender], "sender {sender}: out of order");
        self.next[sender] += 1;
        self.left -= 1;
        if self.left == 0 {
            let _ = self.done.take().expect("reported once").send(self.next.clone());
        }
    }
}

/// Senders on every worker keep a one-slot mailbox full, so each send waits for room, and the
/// actor's pops wake them (`Mailbox::pop_lazy`: a waiter missed by a pop is woken when the actor
/// next goes idle). Every message arrives, in order per sender, and nobody hangs.
#[test]
fn many_senders_waiting_for_room_all_get_through() {
    const SENDERS: usize = 4;
    // Every send waits for room (a one-slot mailbox), at any size CI picks.
    let each = scaled(5_000, 50);
    let rt = runtime();
    let counts = rt.block_on(async {
        let (done, report) = actor12::oneshot::channel();
        let tally = actor12::spawn::<Tally>((SENDERS, each, done));
        let senders: Vec<_> = (0..SENDERS)
            .map(|s| {
                let tally = tally.clone();
                actor12::rt::spawn(async move {
                    for seq in 0..each {
                        tally.send_raw(Numbered(s, seq)).await.expect("the tally is alive");
                    }
                })
            })
            .collect();
        for s in senders {
            s.await.unwrap();
        }
        let counts = report.await.expect("the tally reports");
        tally.cancel_and_wait(()).await;
        counts
    });
    assert_eq!(counts, vec![each; SENDERS]);
}

/// Counts its drops.
struct Dropped(Arc<AtomicUsize>);

impl Drop for Dropped {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

/// An `init` future that waits for a gate: `PAD` bytes of padding decide whether the actor
/// keeps it in place (small) or boxes it (large).
struct GatedInit<const PAD: usize> {
    gate: actor12::oneshot::Receiver<()>,
    _dropped: Dropped,
    _pad: [u8; PAD],
}

impl<const PAD: usize> std::future::Future for GatedInit<PAD> {
    type Output = Result<Gated<PAD>, ()>;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        std::pin::Pin::new(&mut self.gate).poll(cx).map(|_| Ok(Gated))
    }
}

/// An actor whose `init` waits for a gate.
struct Gated<const PAD: usize>;

impl<const PAD: usize> Actor for Gated<PAD> {
    type Message = Multi<Self>;
    type Spec = (actor12::oneshot::Receiver<()>, Arc<AtomicUsize>);
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();

    fn state(_: &Self::Spec) {}

    fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
        let (gate, drops) = ctx.spec;
        GatedInit::<PAD> { gate, _dropped: Dropped(drops), _pad: [0; PAD] }
    }
}

impl<const PAD: usize> Handler<Dump> for Gated<PAD> {
    type Reply = anyhow::Result<Vec<(u32, u32)>>;

    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Dump) -> Self::Reply {
        Ok(Vec::new())
    }
}

/// An `init` future that is pending at first runs to completion before the first message,
/// whether the actor keeps it in place or boxes it, and is dropped exactly once; one still
/// pending at shutdown is dropped exactly once too.
fn gated_init<const PAD: usize>() {
    let rt = runtime();
    let drops = Arc::new(AtomicUsize::new(0));
    let (open, gate) = actor12::oneshot::channel();
    let actor = rt.block_on(async { actor12::spawn::<Gated<PAD>>((gate, drops.clone())) });
    let asked = rt.handle().spawn({
        let actor = actor.clone();
        async move { actor.ask_dyn(Dump).await }
    });
    assert!(!asked.is_finished() && drops.load(SeqCst) == 0);
    open.send(()).unwrap();
    assert_eq!(rt.block_on(asked).unwrap().unwrap(), Vec::new());
    assert_eq!(drops.load(SeqCst), 1, "the finished init future is dropped once");

    let never = Arc::new(AtomicUsize::new(0));
    let (_closed, gate) = actor12::oneshot::channel::<()>();
    let pending = rt.block_on(async { actor12::spawn::<Gated<PAD>>((gate, never.clone())) });
    drop(rt);
    assert_eq!(never.load(SeqCst), 1, "an init future pending at shutdown is dropped once");
    drop((actor, pending));
}

#[test]
fn a_small_pending_init_future_kept_in_place_runs_and_drops_once() {
    gated_init::<0>();
}

#[test]
fn a_large_pending_init_future_kept_in_a_box_runs_and_drops_once() {
    gated_init::<64>();
}

/// Sends on drop: tells the test that a background task's future was dropped.
struct OnDrop(std::sync::mpsc::Sender<&'static str>);

impl Drop for OnDrop {
    fn drop(&mut self) {
        let _ = self.0.send("dropped");
    }
}

/// Spawns one background task from `init` and one per `Envelope` it handles; answers with how
/// many are running.
struct Background(std::sync::mpsc::Sender<&'static str>);

impl Actor for Background {
    type Message = actor12::Envelope<(), anyhow::Result<usize>>;
    type Spec = std::sync::mpsc::Sender<&'static str>;
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();

    fn state(_: &Self::Spec) {}

    fn init(mut ctx: Init<'_, Self>) -> impl InitFuture<Self> {
        let guard = OnDrop(ctx.spec.clone());
        ctx.spawn(async move {
            let _guard = guard;
            std::future::pending::<()>().await
        });
        std::future::ready(Ok(Background(ctx.spec.clone())))
    }

    async fn handle(&mut self, mut ctx: Exec<'_, Self>, msg: Self::Message) {
        let guard = OnDrop(self.0.clone());
        ctx.spawn(async move {
            let _guard = guard;
            std::future::pending::<()>().await
        });
        let _ = msg.reply.send(Ok(ctx.futures.len()));
    }
}

#[test]
fn background_tasks_run_with_the_actor_and_are_aborted_when_it_stops() {
    let rt = runtime();
    let (tx, dropped) = std::sync::mpsc::channel();
    rt.block_on(async {
        let actor = actor12::spawn::<Background>(tx);
        assert_eq!(actor.send(()).await.unwrap(), 2, "init's task and the first handler's");
        assert_eq!(actor.send(()).await.unwrap(), 3);
        assert!(dropped.try_recv().is_err(), "nothing aborted while the actor runs");
        actor.cancel_and_wait(()).await;
    });
    for _ in 0..3 {
        let limit = Duration::from_secs(10);
        assert_eq!(dropped.recv_timeout(limit), Ok("dropped"), "every task is aborted");
    }
}

/// Awaits `f`, panicking if it takes longer than a hang would (a guard that turns a lost
/// wake-up into a failure, not a timing claim: Miri runs hundreds of times slower).
async fn within<F: std::future::Future>(f: F) -> F::Output {
    let limit = Duration::from_secs(if cfg!(miri) { 600 } else { 10 });
    actor12::time::timeout(limit, f).await.expect("hung: no answer within the limit")
}

// ---- one message at a time, on any worker ----

/// Checks that no two of its handlers overlap: each yields in the middle (so a second run of
/// the actor, were there one, would get in), and records which worker ran it.
struct Exclusive {
    inside: bool,
    seen: Vec<(u32, u32)>,
    workers: std::collections::BTreeSet<usize>,
}

actor!(
    Exclusive,
    spec = (),
    cancel = (),
    init = |_ctx| Exclusive { inside: false, seen: Vec::new(), workers: Default::default() }
);

impl Handler<Note> for Exclusive {
    type Reply = anyhow::Result<()>;
    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, Note(s, n): Note) -> Self::Reply {
        // `&mut self` makes overlapping runs undefined behaviour, not merely a wrong count: the
        // flag is what a data race would most likely show, and Miri checks the rest.
        assert!(!std::mem::replace(&mut self.inside, true), "two handlers ran at once");
        self.workers.extend(actor12::rt::current_worker());
        actor12::rt::yield_now().await;
        self.seen.push((s, n));
        self.inside = false;
        Ok(())
    }
}

/// What an [`Exclusive`] recorded.
struct Report;

impl Handler<Report> for Exclusive {
    type Reply = anyhow::Result<(Vec<(u32, u32)>, usize)>;
    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Report) -> Self::Reply {
        Ok((std::mem::take(&mut self.seen), self.workers.len()))
    }
}

#[test]
fn an_actor_woken_from_every_worker_runs_one_message_at_a_time_in_order() {
    let rt = runtime();
    rt.block_on(async {
        let actor = actor12::spawn::<Exclusive>(());
        // Asks from a task pinned to each worker in turn: each wakes the idle actor from that
        // worker, where it then runs, so the actor moves between the workers.
        for n in 0..20u32 {
            let (link, worker) = (actor.clone(), (n % 2) as usize);
            let ask =
                actor12::rt::spawn_pinned(worker, async move { link.ask_dyn(Note(0, n)).await });
            ask.await.unwrap().unwrap();
        }
        let (seen, workers) = actor.ask_dyn(Report).await.unwrap();
        assert_in_order(&seen, 1, 20);
        assert_eq!(workers, 2, "the actor never ran on one of the workers");

        // Then senders pinned to both workers at once, asks and tells mixed: handlers never
        // overlap, and each sender's messages are handled in its order.
        let per_sender = scaled(400, 40) as u32;
        let senders: Vec<_> = (0..4u32)
            .map(|s| {
                let link = actor.clone();
                actor12::rt::spawn_pinned((s % 2) as usize, async move {
                    for n in 0..per_sender {
                        if n % 3 == 0 {
                            link.ask_dyn(Note(s, n)).await.unwrap();
                        } else {
                            link.tell_dyn(Note(s, n)).await;
                        }
                    }
                })
            })
            .collect();
        for sender in senders {
            sender.await.unwrap();
        }
        let (seen, _) = actor.ask_dyn(Report).await.unwrap();
        assert_in_order(&seen, 4, per_sender);
        assert!(actor.alive(), "no handler panicked");
    });
}

#[test]
fn a_panicking_handler_leaves_a_one_worker_runtime_serving_others() {
    // One worker: the bystander can only be served by the worker the panic happened on.
    let rt = actor12::rt::Runtime::builder().worker_threads(1).build().unwrap();
    rt.block_on(async {
        let victim = actor12::spawn::<Recorder>(Probe::default());
        let bystander = actor12::spawn::<Recorder>(Probe::default());
        assert!(victim.ask_dyn(Boom).await.is_err());
        victim.wait().await;
        assert_eq!(bystander.ask_dyn(Note(0, 0)).await.unwrap(), 1);
        let task = actor12::rt::spawn(async { 7 });
        assert_eq!(task.await.unwrap(), 7, "the worker runs tasks after the panic");
    });
}

// ---- a runtime shutdown answers the askers of its actors ----

#[test]
fn a_runtime_shutdown_fails_the_askers_of_its_actors() {
    let rt = runtime();
    let (started_tx, started) = actor12::oneshot::channel();
    let (gate_tx, gate) = actor12::oneshot::channel::<()>();
    let (link, held, queued) = rt.block_on(async {
        let link = actor12::spawn::<Recorder>(Probe::default());
        // One ask in a handler that waits on a gate nobody opens, one queued behind it.
        let held = link.ask_dyn_async(HoldStarted(started_tx, gate)).await;
        started.await.unwrap();
        let queued = link.ask_dyn_async(Note(0, 0)).await;
        (link, held, queued)
    });
    drop(rt);
    // Awaited on another runtime: the first one is gone.
    let other = actor12::rt::Runtime::builder().worker_threads(1).build().unwrap();
    other.block_on(async {
        assert!(within(held).await.is_err(), "the ask held in a handler at shutdown");
        assert!(within(queued).await.is_err(), "the ask queued at shutdown");
        assert!(link.ask_dyn(Note(0, 1)).await.is_err(), "an ask after shutdown");
    });
    assert!(!link.alive());
    drop(gate_tx);
}

// ---- tick and an overridden cycle ----

/// Stops itself from `tick` once its gate opens; reports the reason `terminate` got.
struct Ticker {
    gate: Option<actor12::oneshot::Receiver<()>>,
    terminated: Option<actor12::oneshot::Sender<CancelReason<&'static str>>>,
}

actor!(
    Ticker,
    spec = (actor12::oneshot::Receiver<()>, actor12::oneshot::Sender<CancelReason<&'static str>>),
    cancel = &'static str,
    init = |ctx| Ticker { gate: Some(ctx.spec.0), terminated: Some(ctx.spec.1) },
    extra = {
        async fn tick(&mut self) -> std::ops::ControlFlow<&'static str> {
            match self.gate.as_mut() {
                Some(gate) => {
                    let _ = gate.await;
                    self.gate = None;
                    std::ops::ControlFlow::Break("ticked")
                }
                None => std::future::pending().await,
            }
        }
        async fn terminate(
            mut self,
            _: actor12::ActorContext<Self>,
            reason: CancelReason<&'static str>,
        ) {
            let _ = self.terminated.take().unwrap().send(reason);
        }
    }
);

impl Handler<u32> for Ticker {
    type Reply = anyhow::Result<u32>;
    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, n: u32) -> Self::Reply {
        Ok(n + 1)
    }
}

#[test]
fn tick_breaking_stops_the_actor_with_its_reason() {
    let rt = runtime();
    rt.block_on(async {
        let (open, gate) = actor12::oneshot::channel();
        let (terminated_tx, terminated) = actor12::oneshot::channel();
        let link = actor12::spawn::<Ticker>((gate, terminated_tx));
        // Messages are handled while `tick` is pending.
        assert_eq!(link.ask_dyn(1u32).await.unwrap(), 2);
        open.send(()).unwrap();
        let reason = terminated.await.expect("terminate ran");
        assert_eq!(*reason.value(), "ticked");
        // Recorded where actor12 takes the `Break` (it used to name a line of `core`).
        assert!(reason.location().file().ends_with("actor.rs"), "{}", reason.location());
        link.wait().await;
        assert_eq!(link.token().reason().map(|r| *r.value()), Some("ticked"));
        assert!(link.ask_dyn(2u32).await.is_err(), "an ask after the stop");
    });
}

/// Runs its own `cycle` instead of the default: the first of cancellation and the next message,
/// with no `tick`; counts its cycles.
struct OwnLoop {
    cycles: usize,
}

actor!(
    OwnLoop,
    spec = (),
    cancel = u32,
    init = |_ctx| OwnLoop { cycles: 0 },
    extra = {
        async fn cycle(
            &mut self,
            ctx: &mut actor12::ActorContext<Self>,
        ) -> std::ops::ControlFlow<CancelReason<u32>, ()> {
            let token = ctx.token.clone();
            let msg = {
                let cancelled = std::pin::pin!(token.cancelled());
                let next = std::pin::pin!(ctx.rx.recv());
                match first_of(cancelled, next).await {
                    Next::Cancelled(reason) => return std::ops::ControlFlow::Break(reason),
                    Next::Message(None) => {
                        return std::ops::ControlFlow::Break(CancelReason::new(0u32));
                    }
                    Next::Message(Some(msg)) => msg,
                }
            };
            self.cycles += 1;
            Actor::handle(self, actor12::Exec::new(ctx), msg).await;
            std::ops::ControlFlow::Continue(())
        }
    }
);

enum Next<M> {
    Cancelled(CancelReason<u32>),
    Message(Option<M>),
}

/// The first of a token's cancellation and the next message.
async fn first_of<M>(
    mut cancelled: std::pin::Pin<&mut impl std::future::Future<Output = CancelReason<u32>>>,
    mut next: std::pin::Pin<&mut impl std::future::Future<Output = Option<M>>>,
) -> Next<M> {
    std::future::poll_fn(|cx| {
        if let std::task::Poll::Ready(reason) = cancelled.as_mut().poll(cx) {
            return std::task::Poll::Ready(Next::Cancelled(reason));
        }
        next.as_mut().poll(cx).map(Next::Message)
    })
    .await
}

impl Handler<u32> for OwnLoop {
    type Reply = anyhow::Result<(u32, usize)>;
    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, n: u32) -> Self::Reply {
        Ok((n, self.cycles))
    }
}

#[test]
fn an_overridden_cycle_runs_the_actor_and_stops_on_cancel() {
    let rt = runtime();
    rt.block_on(async {
        let link = actor12::spawn::<OwnLoop>(());
        let replies: Vec<_> = ask_all(&link, 10).await;
        for (i, (n, cycles)) in replies.into_iter().enumerate() {
            assert_eq!((n, cycles), (i as u32, i + 1), "one cycle per message, in order");
        }
        link.cancel_and_wait(7).await;
        assert_eq!(link.token().reason().map(|r| *r.value()), Some(7));
        assert!(link.ask_dyn(0u32).await.is_err());
    });
}

async fn ask_all(link: &actor12::Link<OwnLoop>, n: u32) -> Vec<(u32, usize)> {
    let mut pending = Vec::new();
    for i in 0..n {
        pending.push(link.ask_dyn_async(i).await);
    }
    let mut replies = Vec::new();
    for reply in pending {
        replies.push(reply.await.unwrap());
    }
    replies
}

// ---- a bounded mailbox ----

#[test]
fn a_bounded_mailbox_refuses_at_its_capacity_and_gives_a_waiting_sender_its_message_back() {
    let rt = runtime();
    rt.block_on(async {
        let handled = Arc::new(AtomicUsize::new(0));
        let link = actor12::spawn::<Bounded>(handled.clone());
        // Hold the handler, then fill the mailbox: exactly `CAPACITY` more fit.
        let (open, gate) = actor12::oneshot::channel::<()>();
        let (started_tx, started) = actor12::oneshot::channel();
        link.try_send_raw(BoundedMsg::Hold(started_tx, gate)).map_err(|_| ()).unwrap();
        started.await.unwrap();
        for n in 0..Bounded::CAPACITY {
            assert!(link.try_send_raw(BoundedMsg::Count(n)).is_ok(), "refused at {n}");
        }
        assert!(matches!(
            link.try_send_raw(BoundedMsg::Count(99)),
            Err(actor12::mailbox::TrySendError::Full(BoundedMsg::Count(99)))
        ));
        // A sender waiting for room...
        let mut waiting = Box::pin(link.send_raw(BoundedMsg::Count(100)));
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        assert!(waiting.as_mut().poll(&mut cx).is_pending(), "the mailbox is full");
        // ...gets its message back when the actor stops (Exit drops the queued ones).
        link.cancel(());
        open.send(()).unwrap();
        match within(waiting).await {
            Err(e) => assert!(matches!(e.into_inner(), BoundedMsg::Count(100))),
            Ok(()) => panic!("a send to a stopped actor succeeded"),
        }
        link.wait().await;
        assert_eq!(handled.load(SeqCst), 0, "no queued message was handled after the cancel");
    });
}

#[test]
fn send_with_timeout_times_out_while_waiting_for_room() {
    // The deadline covers delivery too: it used to start once the message was in the mailbox,
    // so a full mailbox held the caller for as long as the actor was stuck. Not delivered in
    // time, the message is dropped, and the error says so (`SendFailed`, not `Timeout`, which
    // means delivered).
    let rt = runtime();
    rt.block_on(async {
        let link = actor12::spawn::<Bounded>(Arc::new(AtomicUsize::new(0)));
        let (open, gate) = actor12::oneshot::channel::<()>();
        let (started_tx, started) = actor12::oneshot::channel();
        link.try_send_raw(BoundedMsg::Hold(started_tx, gate)).map_err(|_| ()).unwrap();
        started.await.unwrap();
        for n in 0..Bounded::CAPACITY {
            assert!(link.try_send_raw(BoundedMsg::Count(n)).is_ok());
        }
        let timeout = Duration::from_millis(20);
        let message = actor12::RawMessage(BoundedMsg::Count(99));
        let result = within(link.send_with_timeout(message, timeout)).await;
        let full = "the actor's mailbox stayed full for 20ms";
        assert!(matches!(&result, Err(MessageError::SendFailed(why)) if why == full), "{result:?}");
        drop(open);
    });
}

/// Answers only when told to: parks every reply slot, as a handler that answers later does.
struct Parker(Vec<actor12::oneshot::Sender<anyhow::Result<()>>>);

actor!(Parker, spec = (), cancel = (), init = |_ctx| Parker(Vec::new()));

struct Later;

impl Handler<Later> for Parker {
    type Reply = anyhow::Result<()>;
    async fn handle(&mut self, mut ctx: Call<'_, Self, Self::Reply>, _: Later) -> Self::Reply {
        self.0.push(ctx.take_reply());
        Ok(())
    }
}

/// Passes its wakes on to the task's own waker, and counts who holds it.
struct Forward(std::task::Waker);

impl std::task::Wake for Forward {
    fn wake(self: Arc<Self>) {
        self.0.wake_by_ref();
    }
}

#[test]
fn a_reply_given_up_keeps_no_waker_of_its_asker() {
    // The handler parks the reply slot and never answers. The asker waits, then gives up (as a
    // timeout or a lost `select` drops its reply future): the slot kept the asker's waker until
    // the parked sender went, so every such ask kept its asker's task (the whole allocation)
    // alive for as long as the actor lived. The reply future is polled with a waker of its own,
    // so that nothing else (a timer's entry, say) holds a clone of it.
    let rt = runtime();
    rt.block_on(async {
        let parker = actor12::spawn::<Parker>(());
        let handle = parker.send_message(HandlerMessage::new(Later)).await;
        let mut reply = Box::pin(handle.reply());
        let counted = std::future::poll_fn(|cx| {
            let counted = Arc::new(Forward(cx.waker().clone()));
            let waker = std::task::Waker::from(counted.clone());
            let first = reply.as_mut().poll(&mut std::task::Context::from_waker(&waker));
            assert!(first.is_pending(), "the parker never answers");
            std::task::Poll::Ready(counted)
        })
        .await;
        assert!(Arc::strong_count(&counted) > 1, "the waiting reply holds the asker's waker");
        drop(reply);
        assert!(parker.alive(), "the reply slot is still there");
        assert_eq!(Arc::strong_count(&counted), 1, "the abandoned reply kept the asker's waker");
    });
}

/// A raw-style actor with a mailbox of [`Bounded::CAPACITY`].
struct Bounded {
    handled: Arc<AtomicUsize>,
}

impl Bounded {
    const CAPACITY: usize = 4;
}

enum BoundedMsg {
    Hold(actor12::oneshot::Sender<()>, actor12::oneshot::Receiver<()>),
    Count(usize),
}

impl actor12::ActorMessage<Bounded> for BoundedMsg {}

impl Actor for Bounded {
    type Message = BoundedMsg;
    type Spec = Arc<AtomicUsize>;
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();
    fn state(_: &Self::Spec) {}
    fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
        std::future::ready(Ok(Bounded { handled: ctx.spec }))
    }
    fn mailbox_capacity() -> usize {
        Self::CAPACITY
    }
    async fn handle(&mut self, _: Exec<'_, Self>, msg: BoundedMsg) {
        match msg {
            BoundedMsg::Hold(started, gate) => {
                let _ = started.send(());
                let _ = gate.await;
            }
            BoundedMsg::Count(_) => {
                self.handled.fetch_add(1, SeqCst);
            }
        }
    }
}

/// A raw-style actor with a mailbox of `CAP` that records `(sender, seq)` messages; every 37th
/// it tells itself one more (past the bound if the mailbox is full or senders wait), and every
/// 11th it yields inside the handler (its run idles and is woken by a notification).
struct Tight<const CAP: usize> {
    seen: Arc<std::sync::Mutex<Vec<(u32, u32)>>>,
    own: u32,
}

/// `(sender, seq)`; [`OWN`] as the sender: the actor's own; `Some`: answered once handled.
struct TightMsg(u32, u32, Option<actor12::oneshot::Sender<()>>);

/// The sender number of a [`Tight`] actor's messages to itself.
const OWN: u32 = u32::MAX;

impl<const CAP: usize> actor12::ActorMessage<Tight<CAP>> for TightMsg {}

impl<const CAP: usize> Actor for Tight<CAP> {
    type Message = TightMsg;
    type Spec = Arc<std::sync::Mutex<Vec<(u32, u32)>>>;
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();
    fn state(_: &Self::Spec) {}
    fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
        std::future::ready(Ok(Tight { seen: ctx.spec, own: 0 }))
    }
    fn mailbox_capacity() -> usize {
        CAP
    }
    async fn handle(&mut self, ctx: Exec<'_, Self>, TightMsg(s, n, done): TightMsg) {
        if let Some(done) = done {
            let _ = done.send(());
            return;
        }
        self.seen.lock().unwrap().push((s, n));
        if s != OWN && n % 37 == 0 {
            ctx.link.send_raw(TightMsg(OWN, self.own, None)).await.expect("running");
            self.own += 1;
        }
        if n % 11 == 0 {
            actor12::rt::yield_now().await;
        }
    }
}

/// Many senders into a mailbox of `CAP`: plain threads (waiting sends, and `try_send_raw`
/// retried when refused) and tasks on the workers, while the actor tells itself and yields.
/// Admission goes in arrival order (a new send waits behind those already waiting), so a
/// sender left waiting with nobody to wake it would stop them all: every message arrives, in
/// its sender's order.
fn many_senders_into_a_mailbox_of<const CAP: usize>() {
    // At least 8 a sender when scaled down (Miri, valgrind): each sender still waits and
    // retries, and the actor tells itself and yields (at `n` 0). At 50 it took 320 s under
    // Miri in CI, at 16 113 s.
    let per_sender = scaled(2000, 8) as u32;
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let spec = seen.clone();
    let finished = resolves_within(async move {
        let handle = actor12::rt::Handle::current_or_default();
        let actor = actor12::spawn::<Tight<CAP>>(spec);
        let threads: Vec<_> = (0..4u32)
            .map(|s| {
                let (link, handle) = (actor.clone(), handle.clone());
                std::thread::spawn(move || {
                    for n in 0..per_sender {
                        let mut msg = TightMsg(s, n, None);
                        if n % 3 != 0 {
                            handle.block_on(link.send_raw(msg)).expect("running");
                            continue;
                        }
                        loop {
                            match link.try_send_raw(msg) {
                                Ok(()) => break,
                                Err(actor12_mailbox::TrySendError::Full(back)) => msg = back,
                                Err(_) => panic!("the actor stopped"),
                            }
                            std::thread::yield_now();
                        }
                    }
                })
            })
            .collect();
        let tasks: Vec<_> = (4..6u32)
            .map(|s| {
                let link = actor.clone();
                actor12::rt::spawn(async move {
                    for n in 0..per_sender {
                        link.send_raw(TightMsg(s, n, None)).await.expect("running");
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        for thread in threads {
            thread.join().unwrap();
        }
        // Behind every message sent above.
        let (done, handled) = actor12::oneshot::channel();
        actor.send_raw(TightMsg(0, 0, Some(done))).await.expect("running");
        handled.await.unwrap();
        actor.cancel_and_wait(()).await;
    });
    assert!(finished.is_some(), "capacity {CAP}: a sender or the actor hung");
    let seen = seen.lock().unwrap();
    let others: Vec<_> = seen.iter().copied().filter(|&(s, _)| s != OWN).collect();
    assert_in_order(&others, 6, per_sender);
    let own: Vec<u32> = seen.iter().filter(|&&(s, _)| s == OWN).map(|&(_, n)| n).collect();
    assert_eq!(own, (0..own.len() as u32).collect::<Vec<_>>(), "capacity {CAP}: own tells");
}

#[test]
fn many_senders_into_a_tiny_mailbox_all_get_in_in_order() {
    many_senders_into_a_mailbox_of::<1>();
    // The smallest and the largest under Miri in CI (the four took 73 s there).
    if !cfg!(miri) {
        many_senders_into_a_mailbox_of::<2>();
        many_senders_into_a_mailbox_of::<3>();
    }
    many_senders_into_a_mailbox_of::<4>();
}

// ---- the cooperative budget ----

/// Awaits `n` zero-length sleeps per message: each spends a unit of the worker's budget.
struct Sleeper;

actor!(Sleeper, spec = (), cancel = (), init = |_ctx| Sleeper);

impl Handler<u32> for Sleeper {
    type Reply = anyhow::Result<u32>;
    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, n: u32) -> Self::Reply {
        for _ in 0..n {
            actor12::time::sleep(Duration::ZERO).await;
        }
        Ok(n)
    }
}

#[test]
fn an_actor_gets_a_fresh_budget_every_run() {
    // An actor's run did not reset the worker's budget: it spent what the last future task left
    // (128 units), and once that was gone every timer poll sent it back to the queue, for ever.
    let rt = actor12::rt::Runtime::builder().worker_threads(1).build().unwrap();
    rt.block_on(async {
        // A future task runs first, so the worker's budget is a task's, not unlimited.
        actor12::rt::spawn(async {}).await.unwrap();
        let actor = actor12::spawn::<Sleeper>(());
        assert_eq!(within(actor.ask_dyn(300u32)).await.unwrap(), 300);
        assert_eq!(within(actor.ask_dyn(300u32)).await.unwrap(), 300);
    });
}

// ---- init refusing late, a DropHandle, spawning from inside an actor ----

/// `init` waits for a gate, then refuses.
struct RefusesLate;

impl Actor for RefusesLate {
    type Message = Multi<Self>;
    type Spec = actor12::oneshot::Receiver<()>;
    type Channel = MpscChannel<Self::Message>;
    type Cancel = String;
    type State = ();
    fn state(_: &Self::Spec) {}
    fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
        let gate = ctx.spec;
        async move {
            let _ = gate.await;
            Err("refused late".to_string())
        }
    }
}

impl Handler<u8> for RefusesLate {
    type Reply = anyhow::Result<u8>;
    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, n: u8) -> Self::Reply {
        Ok(n)
    }
}

#[test]
fn asks_queued_while_init_is_pending_fail_when_it_refuses() {
    let rt = runtime();
    rt.block_on(async {
        let (open, gate) = actor12::oneshot::channel();
        let link = actor12::spawn::<RefusesLate>(gate);
        let queued = link.ask_dyn_async(1u8).await;
        let handle = link.send_message(HandlerMessage::new(2u8)).await;
        assert!(link.alive(), "init is still pending");
        open.send(()).unwrap();
        assert!(within(queued).await.is_err());
        assert!(matches!(within(handle.reply()).await, Err(MessageError::RecvFailed(_))));
        within(link.wait()).await;
        assert_eq!(link.token().reason().map(|r| r.into_value()), Some("refused late".into()));
    });
}

#[test]
fn dropping_a_drop_handle_aborts_its_task() {
    /// Sends on its channel when dropped: the task holding it was dropped, not just left.
    struct SignalOnDrop(Option<actor12::oneshot::Sender<()>>);
    impl Drop for SignalOnDrop {
        fn drop(&mut self) {
            let _ = self.0.take().unwrap().send(());
        }
    }
    let rt = runtime();
    rt.block_on(async {
        let (dropped_tx, dropped) = actor12::oneshot::channel();
        let (started_tx, started) = actor12::oneshot::channel();
        let guard = SignalOnDrop(Some(dropped_tx));
        let handle = actor12::DropHandle(actor12::rt::spawn(async move {
            let _guard = guard;
            let _ = started_tx.send(());
            std::future::pending::<()>().await;
        }));
        started.await.unwrap();
        drop(handle);
        within(dropped).await.expect("the aborted task dropped its future");
    });
}

/// Spawns an actor and a task when asked, and reports the names of the threads they ran on.
struct Spawner;

actor!(Spawner, spec = (), cancel = (), init = |_ctx| Spawner);

/// Asks for the thread names of a child's `init` and of a task spawned from the handler.
struct Where;

impl Handler<Where> for Spawner {
    type Reply = anyhow::Result<Vec<String>>;
    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Where) -> Self::Reply {
        let child = actor12::spawn::<ThreadName>(());
        let task = actor12::rt::spawn(async { thread_name() });
        Ok(vec![child.ask_dyn(Where).await?, task.await?])
    }
}

/// Answers with the name of the thread it runs on.
struct ThreadName;

actor!(ThreadName, spec = (), cancel = (), init = |_ctx| ThreadName);

impl Handler<Where> for ThreadName {
    type Reply = anyhow::Result<String>;
    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Where) -> Self::Reply {
        Ok(thread_name())
    }
}

fn thread_name() -> String {
    std::thread::current().name().unwrap_or_default().to_string()
}

#[test]
fn actors_and_tasks_spawned_inside_an_actor_run_on_its_runtime() {
    let rt = actor12::rt::Runtime::builder()
        .worker_threads(2)
        .thread_name("parents-runtime")
        .build()
        .unwrap();
    let names = rt.block_on(async { actor12::spawn::<Spawner>(()).ask_dyn(Where).await.unwrap() });
    for name in names {
        assert!(name.starts_with("parents-runtime-"), "ran on {name:?}");
    }
}

// ---- a reply that can never come, seen through `try_reply` ----

/// Takes the reply slot of `DropReply` and drops it unanswered.
struct Ghostly;
actor!(Ghostly, spec = (), cancel = (), init = |_ctx| Ghostly);

struct DropReply;
impl Handler<DropReply> for Ghostly {
    type Reply = anyhow::Result<()>;
    async fn handle(&mut self, mut call: Call<'_, Self, Self::Reply>, _: DropReply) -> Self::Reply {
        drop(call.take_reply());
        Ok(())
    }
}

#[test]
fn a_lost_reply_stays_lost_for_every_later_call() {
    let rt = runtime();
    rt.block_on(async {
        let ghostly = actor12::spawn::<Ghostly>(());
        let mut handle = ghostly.send_message(HandlerMessage::new(DropReply)).await;
        let first = loop {
            match handle.try_reply() {
                Ok(None) => actor12::rt::yield_now().await,
                other => break other,
            }
        };
        assert!(matches!(first, Err(MessageError::RecvFailed(_))), "{first:?}");
        // Nothing was taken: later calls say the same (they used to say `AlreadyConsumed`).
        assert!(matches!(handle.try_reply(), Err(MessageError::RecvFailed(_))));
        assert!(matches!(handle.reply().await, Err(MessageError::RecvFailed(_))));
    });
}
