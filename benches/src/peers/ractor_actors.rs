//! ractor: actors implement `ractor::Actor` (one message type, state returned by `pre_start`),
//! are spawned with `Actor::spawn`, told with `ActorRef::cast`, asked with `ActorRef::call` and
//! an `RpcReplyPort`, and stopped with `ActorRef::stop` plus the spawn's join handle.
//!
//! ractor runs on tokio: the same runtimes as the raw tokio columns, as `ractor` on a
//! multi-threaded runtime with [`workers`](crate::workers) workers and as `ractor-1t` on a
//! current-thread one (the workloads' `THREADS`: 0 for the workers, 1 for one thread; see
//! [`on_threads`]). Tasks that are not actors (the client of `ask`, the senders of `fan_in`)
//! are plain tokio tasks.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ractor::concurrency::JoinHandle;
use ractor::rpc::CallResult;
use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
use tokio::sync::{mpsc, oneshot};

use super::{
    BigActor, BigStep, BytesWindow, Creature, Mall, MallStep, Measurement, Meet, Params, Peer,
    Workload, all_poked, all_started, check_big, check_chameneos, expect_starts,
    fork_join_expected_sum, on_threads, poked, reported, reset_pokes, started, sum_below,
};

/// The implementation's name: a multi-threaded runtime with [`workers`](crate::workers) workers.
pub const IMPL: &str = "ractor";

/// The same actors on a current-thread runtime: one thread, no cross-thread wake-ups.
pub const IMPL_ONE_THREAD: &str = "ractor-1t";

/// The eight workloads, on each of the two runtimes.
pub fn benches() -> Vec<Peer> {
    on_both_tokio_runtimes!(IMPL, IMPL_ONE_THREAD)
}

type Err = ActorProcessingErr;

/// Spawns an unnamed actor; panics if it fails to start.
async fn spawn<A: Actor>(actor: A, args: A::Arguments) -> (ActorRef<A::Msg>, JoinHandle<()>) {
    Actor::spawn(None, actor, args).await.expect("ractor spawn")
}

/// Stops the actors and waits until each has finished.
async fn stop_all<M>(actors: Vec<(ActorRef<M>, JoinHandle<()>)>) {
    let (refs, handles): (Vec<_>, Vec<_>) = actors.into_iter().unzip();
    for actor in &refs {
        actor.stop(None);
    }
    for handle in handles {
        handle.await.expect("ractor actor task");
    }
}

// ---- ping_pong ----

struct Ponger;

enum PongerMsg {
    /// Who to answer: sent once, before the timed part.
    Peer(ActorRef<u64>),
    Ping(u64),
}

impl Actor for Ponger {
    type Msg = PongerMsg;
    type State = Option<ActorRef<u64>>;
    type Arguments = ();

    async fn pre_start(&self, _: ActorRef<PongerMsg>, _: ()) -> Result<Self::State, Err> {
        Ok(None)
    }

    async fn handle(
        &self,
        _: ActorRef<PongerMsg>,
        msg: PongerMsg,
        peer: &mut Self::State,
    ) -> Result<(), Err> {
        match msg {
            PongerMsg::Peer(pinger) => *peer = Some(pinger),
            PongerMsg::Ping(x) => peer.as_ref().expect("peer set").cast(x)?,
        }
        Ok(())
    }
}

struct Pinger;

struct PingerState {
    ponger: ActorRef<PongerMsg>,
    n: u64,
    received: u64,
    done: Option<oneshot::Sender<u64>>,
}

impl Actor for Pinger {
    type Msg = u64;
    type State = PingerState;
    type Arguments = PingerState;

    async fn pre_start(&self, _: ActorRef<u64>, state: PingerState) -> Result<PingerState, Err> {
        Ok(state)
    }

    async fn handle(&self, _: ActorRef<u64>, x: u64, s: &mut PingerState) -> Result<(), Err> {
        s.received += 1;
        assert_eq!(x, s.received, "ping_pong: a ball was lost or reordered");
        if s.received == s.n {
            let _ = s.done.take().expect("reported once").send(s.received);
        } else {
            s.ponger.cast(PongerMsg::Ping(x + 1))?;
        }
        Ok(())
    }
}

/// Two actors bounce a counter; the pinger reports after the last round trip.
pub fn ping_pong<const THREADS: usize>(p: &Params) -> Measurement {
    let n = p.round_trips;
    on_threads(THREADS, async move {
        let (done_tx, done_rx) = oneshot::channel();
        let ponger = spawn(Ponger, ()).await;
        let state = PingerState { ponger: ponger.0.clone(), n, received: 0, done: Some(done_tx) };
        let pinger = spawn(Pinger, state).await;
        ponger.0.cast(PongerMsg::Peer(pinger.0.clone())).expect("ponger alive");

        let start = Instant::now();
        ponger.0.cast(PongerMsg::Ping(1)).expect("ponger alive");
        let received = reported(done_rx).await.expect("the pinger reports");
        let elapsed = start.elapsed();

        assert_eq!(received, n, "ping_pong: round trips");
        stop_all(vec![pinger]).await;
        stop_all(vec![ponger]).await;
        Measurement::timed(elapsed, n)
    })
}

// ---- ask ----

/// Answers every `Ask(x, reply)` with `x + 1` (also asked by the `tokio-asks` binary).
#[derive(Debug)]
pub struct Server;

/// A request of `ask`, with the port of its answer.
#[derive(Debug)]
pub struct Ask(pub u64, pub RpcReplyPort<u64>);

impl Actor for Server {
    type Msg = Ask;
    type State = ();
    type Arguments = ();

    async fn pre_start(&self, _: ActorRef<Ask>, _: ()) -> Result<(), Err> {
        Ok(())
    }

    async fn handle(&self, _: ActorRef<Ask>, Ask(x, reply): Ask, _: &mut ()) -> Result<(), Err> {
        let _ = reply.send(x + 1);
        Ok(())
    }
}

/// A client task asks one actor `n` times; the actor answers each `x` with `x + 1`.
pub fn ask<const THREADS: usize>(p: &Params) -> Measurement {
    let n = p.asks;
    on_threads(THREADS, async move {
        let server = spawn(Server, ()).await;

        let start = Instant::now();
        let mut sum = 0;
        for x in 0..n {
            let answer = match server.0.call(|reply| Ask(x, reply), None).await {
                Ok(CallResult::Success(answer)) => answer,
                _ => panic!("ask: no answer"),
            };
            assert_eq!(answer, x + 1, "ask: wrong answer");
            sum += answer;
        }
        let elapsed = start.elapsed();

        assert_eq!(sum, sum_below(n) + n, "ask: answers");
        stop_all(vec![server]).await;
        Measurement::timed(elapsed, n)
    })
}

// ---- fan_in and fork_join: an actor that counts and sums, reporting when it has all ----

struct Counter;

struct CounterState {
    id: u64,
    expected: u64,
    count: u64,
    sum: u64,
    done: mpsc::UnboundedSender<(u64, u64, u64)>,
}

impl Actor for Counter {
    type Msg = u64;
    type State = CounterState;
    type Arguments = CounterState;

    async fn pre_start(&self, _: ActorRef<u64>, state: CounterState) -> Result<CounterState, Err> {
        Ok(state)
    }

    async fn handle(&self, _: ActorRef<u64>, x: u64, s: &mut CounterState) -> Result<(), Err> {
        s.count += 1;
        s.sum += x;
        if s.count == s.expected {
            let _ = s.done.send((s.id, s.count, s.sum));
        }
        Ok(())
    }
}

fn counter(id: u64, expected: u64, done: &mpsc::UnboundedSender<(u64, u64, u64)>) -> CounterState {
    CounterState { id, expected, count: 0, sum: 0, done: done.clone() }
}

/// Eight sender tasks tell one actor; it reports count and sum after the last message.
pub fn fan_in<const THREADS: usize>(p: &Params) -> Measurement {
    let (senders, m) = (p.fan_in_senders, p.fan_in_messages);
    let per_sender = m / senders;
    assert_eq!(per_sender * senders, m, "fan_in: messages must divide among the senders");
    on_threads(THREADS, async move {
        let (done_tx, mut done_rx) = mpsc::unbounded_channel();
        let receiver = spawn(Counter, counter(0, m, &done_tx)).await;

        let start = Instant::now();
        let tasks: Vec<_> = (0..senders)
            .map(|s| {
                let actor = receiver.0.clone();
                tokio::spawn(async move {
                    for x in s * per_sender..(s + 1) * per_sender {
                        actor.cast(x).expect("the receiver is alive");
                    }
                })
            })
            .collect();
        let (_, count, sum) = reported(done_rx.recv()).await.expect("the receiver reports");
        let elapsed = start.elapsed();

        assert_eq!((count, sum), (m, sum_below(m)), "fan_in: count and sum received");
        for task in tasks {
            task.await.expect("sender");
        }
        stop_all(vec![receiver]).await;
        Measurement::timed(elapsed, m)
    })
}

/// One sender tells `m` messages round-robin to 64 actors; each reports when it has its share.
pub fn fork_join<const THREADS: usize>(p: &Params) -> Measurement {
    let (actors, m) = (p.fork_join_actors, p.fork_join_messages);
    let share = m / actors;
    assert_eq!(share * actors, m, "fork_join: messages must divide among the actors");
    on_threads(THREADS, async move {
        let (done_tx, mut done_rx) = mpsc::unbounded_channel();
        let mut workers = Vec::with_capacity(actors as usize);
        for i in 0..actors {
            workers.push(spawn(Counter, counter(i, share, &done_tx)).await);
        }

        let start = Instant::now();
        for x in 0..m {
            workers[(x % actors) as usize].0.cast(x).expect("the actor is alive");
        }
        let mut sums = vec![None; actors as usize];
        for _ in 0..actors {
            let (i, count, sum) = reported(done_rx.recv()).await.expect("an actor reports");
            assert_eq!(count, share, "fork_join: count");
            sums[i as usize] = Some(sum);
        }
        let elapsed = start.elapsed();

        for (i, sum) in sums.into_iter().enumerate() {
            assert_eq!(sum, Some(fork_join_expected_sum(i as u64, actors, m)), "fork_join: sum");
        }
        stop_all(workers).await;
        Measurement::timed(elapsed, m)
    })
}

// ---- ring ----

struct RingNode;

enum RingMsg {
    /// The next actor of the ring: sent once, before the timed part.
    Next(ActorRef<RingMsg>),
    Token(u64),
}

struct RingState {
    place: usize,
    next: Option<ActorRef<RingMsg>>,
    done: mpsc::UnboundedSender<usize>,
}

impl Actor for RingNode {
    type Msg = RingMsg;
    type State = RingState;
    type Arguments = RingState;

    async fn pre_start(&self, _: ActorRef<RingMsg>, state: RingState) -> Result<RingState, Err> {
        Ok(state)
    }

    async fn handle(
        &self,
        _: ActorRef<RingMsg>,
        msg: RingMsg,
        s: &mut RingState,
    ) -> Result<(), Err> {
        match msg {
            RingMsg::Next(next) => s.next = Some(next),
            RingMsg::Token(0) => {
                let _ = s.done.send(s.place);
            }
            RingMsg::Token(k) => s.next.as_ref().expect("next set").cast(RingMsg::Token(k - 1))?,
        }
        Ok(())
    }
}

/// A token counts down round a ring of actors; whoever receives 0 reports its place.
pub fn ring<const THREADS: usize>(p: &Params) -> Measurement {
    let (actors, hops) = (p.ring_actors as usize, p.ring_hops);
    on_threads(THREADS, async move {
        let (done_tx, mut done_rx) = mpsc::unbounded_channel();
        let mut nodes = Vec::with_capacity(actors);
        for place in 0..actors {
            let state = RingState { place, next: None, done: done_tx.clone() };
            nodes.push(spawn(RingNode, state).await);
        }
        for (i, node) in nodes.iter().enumerate() {
            let next = nodes[(i + 1) % actors].0.clone();
            node.0.cast(RingMsg::Next(next)).expect("ring actor alive");
        }

        let start = Instant::now();
        nodes[0].0.cast(RingMsg::Token(hops)).expect("ring actor alive");
        let last = reported(done_rx.recv()).await.expect("an actor reports");
        let elapsed = start.elapsed();

        assert_eq!(last, hops as usize % actors, "ring: the token stopped at the wrong place");
        stop_all(nodes).await;
        Measurement::timed(elapsed, hops)
    })
}

// ---- spawn_stop ----

struct Idle;

impl Actor for Idle {
    type Msg = u64;
    type State = ();
    type Arguments = ();

    async fn pre_start(&self, _: ActorRef<u64>, _: ()) -> Result<(), Err> {
        started();
        Ok(())
    }

    async fn handle(&self, _: ActorRef<u64>, _: u64, _: &mut ()) -> Result<(), Err> {
        poked();
        Ok(())
    }
}

/// Spawns `n` idle actors, counting live bytes once they are idle, and stops them; then again,
/// timed (see [`spawn_stop` in `peers`](super)).
pub fn spawn_stop<const THREADS: usize>(p: &Params) -> Measurement {
    let n = p.spawn_actors;
    on_threads(THREADS, async move {
        let mut actors = Vec::with_capacity(n as usize);
        let window = BytesWindow::open();
        for _ in 0..n {
            actors.push(spawn(Idle, ()).await);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        let fresh = window.now(n);
        reset_pokes();
        for (actor, _) in &actors {
            actor.cast(1).expect("the idle actor is alive");
        }
        all_poked(n, tokio::time::sleep).await;
        let bytes_per_actor = window.close(n, fresh);
        stop_all(actors).await;

        let mut actors = Vec::with_capacity(n as usize);
        expect_starts(n);
        let start = Instant::now();
        for _ in 0..n {
            actors.push(spawn(Idle, ()).await);
        }
        all_started().await;
        stop_all(actors).await; // the handles go inside the timed window
        let elapsed = start.elapsed();
        Measurement { elapsed, ops: n, bytes_per_actor }
    })
}

// ---- chameneos ----

/// A creature of `chameneos`.
struct Chameneo;

/// What a creature of `chameneos` receives.
enum CreatureMsg {
    /// Every creature, by index: sent once, before the timed part.
    Table(Arc<Vec<ActorRef<CreatureMsg>>>),
    /// The start: send the first request to the mall.
    Go,
    /// The mall paired it with creature `partner`, of colour `color`.
    Paired { partner: usize, color: u8 },
    /// Its partner's colour after their meeting.
    Change { color: u8 },
}

/// A creature's state: the shared [`Creature`] and whom it talks to.
struct ChameneoState {
    creature: Creature,
    mall: ActorRef<MallMsg>,
    creatures: Option<Arc<Vec<ActorRef<CreatureMsg>>>>,
}

impl Actor for Chameneo {
    type Msg = CreatureMsg;
    type State = ChameneoState;
    type Arguments = ChameneoState;

    async fn pre_start(
        &self,
        _: ActorRef<CreatureMsg>,
        state: ChameneoState,
    ) -> Result<ChameneoState, Err> {
        Ok(state)
    }

    async fn handle(
        &self,
        _: ActorRef<CreatureMsg>,
        msg: CreatureMsg,
        s: &mut ChameneoState,
    ) -> Result<(), Err> {
        match msg {
            CreatureMsg::Table(creatures) => {
                s.creatures = Some(creatures);
                return Ok(());
            }
            CreatureMsg::Go => {}
            CreatureMsg::Paired { partner, color } => {
                let mine = s.creature.paired(color);
                let creatures = s.creatures.as_ref().expect("table set");
                creatures[partner]
                    .cast(CreatureMsg::Change { color: mine })
                    .expect("chameneos: the partner is alive");
            }
            CreatureMsg::Change { color } => s.creature.changed(color),
        }
        s.mall.cast(MallMsg::Meet(s.creature.meet())).expect("chameneos: the mall is alive");
        Ok(())
    }
}

/// The mall of `chameneos`.
struct MallActor;

/// What the mall of `chameneos` receives.
enum MallMsg {
    /// Every creature, by index: sent once, before the timed part.
    Table(Arc<Vec<ActorRef<CreatureMsg>>>),
    /// A creature's request.
    Meet(Meet),
}

/// The mall's state: the shared [`Mall`], the creatures, and where to report.
struct MallState {
    mall: Mall,
    creatures: Option<Arc<Vec<ActorRef<CreatureMsg>>>>,
    done: Option<oneshot::Sender<u64>>,
}

impl Actor for MallActor {
    type Msg = MallMsg;
    type State = MallState;
    type Arguments = MallState;

    async fn pre_start(&self, _: ActorRef<MallMsg>, state: MallState) -> Result<MallState, Err> {
        Ok(state)
    }

    async fn handle(
        &self,
        _: ActorRef<MallMsg>,
        msg: MallMsg,
        s: &mut MallState,
    ) -> Result<(), Err> {
        match msg {
            MallMsg::Table(creatures) => s.creatures = Some(creatures),
            MallMsg::Meet(request) => match s.mall.meet(request) {
                MallStep::Wait | MallStep::Retired => {}
                MallStep::Pair { to, partner, color } => {
                    let creatures = s.creatures.as_ref().expect("table set");
                    creatures[to]
                        .cast(CreatureMsg::Paired { partner, color })
                        .expect("chameneos: the creature is alive");
                }
                MallStep::Done { met } => {
                    let _ = s.done.take().expect("reported once").send(met);
                }
            },
        }
        Ok(())
    }
}

/// Creatures meet in pairs through one mall actor; the mall reports once every creature has
/// retired.
pub fn chameneos<const THREADS: usize>(p: &Params) -> Measurement {
    let p = *p;
    let (creatures, meetings) = (p.chameneos_creatures, p.chameneos_meetings);
    on_threads(THREADS, async move {
        let (done_tx, done_rx) = oneshot::channel();
        let state = MallState {
            mall: Mall::new(creatures, meetings),
            creatures: None,
            done: Some(done_tx),
        };
        let mall = spawn(MallActor, state).await;
        let mut all = Vec::with_capacity(creatures as usize);
        for i in 0..creatures as usize {
            let state =
                ChameneoState { creature: Creature::new(i), mall: mall.0.clone(), creatures: None };
            all.push(spawn(Chameneo, state).await);
        }
        let table = Arc::new(all.iter().map(|(creature, _)| creature.clone()).collect::<Vec<_>>());
        for (creature, _) in &all {
            creature.cast(CreatureMsg::Table(table.clone())).expect("chameneos: creature alive");
        }
        mall.0.cast(MallMsg::Table(table)).expect("chameneos: mall alive");

        let start = Instant::now();
        for (creature, _) in &all {
            creature.cast(CreatureMsg::Go).expect("chameneos: creature alive");
        }
        let met = reported(done_rx).await.expect("the mall reports");
        let elapsed = start.elapsed();

        check_chameneos(met, &p);
        stop_all(all).await;
        stop_all(vec![mall]).await;
        Measurement::timed(elapsed, meetings)
    })
}

// ---- big ----

/// An actor of `big`.
struct BigNode;

/// What an actor of `big` receives.
enum BigMsg {
    /// Every actor, by index: sent once, before the timed part.
    Table(Arc<Vec<ActorRef<BigMsg>>>),
    /// The start: send the first ping.
    Go,
    /// Actor `from` pings with `seq`: answer with a pong.
    Ping { from: usize, seq: u64 },
    /// Actor `from`'s pong of this actor's ping `seq`.
    Pong { from: usize, seq: u64 },
}

/// An actor's state: the shared [`BigActor`], the actors, and where to report.
struct BigState {
    me: usize,
    big: BigActor,
    actors: Option<Arc<Vec<ActorRef<BigMsg>>>>,
    done: mpsc::UnboundedSender<usize>,
}

impl Actor for BigNode {
    type Msg = BigMsg;
    type State = BigState;
    type Arguments = BigState;

    async fn pre_start(&self, _: ActorRef<BigMsg>, state: BigState) -> Result<BigState, Err> {
        Ok(state)
    }

    async fn handle(&self, _: ActorRef<BigMsg>, msg: BigMsg, s: &mut BigState) -> Result<(), Err> {
        let step = match msg {
            BigMsg::Table(actors) => {
                s.actors = Some(actors);
                return Ok(());
            }
            BigMsg::Ping { from, seq } => {
                let actors = s.actors.as_ref().expect("table set");
                let pong = BigMsg::Pong { from: s.me, seq };
                actors[from].cast(pong).expect("big: the pinger is alive");
                return Ok(());
            }
            BigMsg::Go => s.big.start(),
            BigMsg::Pong { from, seq } => s.big.pong(from, seq),
        };
        match step {
            BigStep::Ping { to, seq } => {
                let actors = s.actors.as_ref().expect("table set");
                actors[to]
                    .cast(BigMsg::Ping { from: s.me, seq })
                    .expect("big: the target is alive");
            }
            BigStep::Done => {
                let _ = s.done.send(s.me);
            }
        }
        Ok(())
    }
}

/// Every actor pings random others, one ping at a time; each reports after its last pong.
pub fn big<const THREADS: usize>(p: &Params) -> Measurement {
    let p = *p;
    let (actors, pings) = (p.big_actors, p.big_pings);
    on_threads(THREADS, async move {
        let (done_tx, mut done_rx) = mpsc::unbounded_channel();
        let mut nodes = Vec::with_capacity(actors as usize);
        for me in 0..actors as usize {
            let state = BigState {
                me,
                big: BigActor::new(me, actors, pings),
                actors: None,
                done: done_tx.clone(),
            };
            nodes.push(spawn(BigNode, state).await);
        }
        let table = Arc::new(nodes.iter().map(|(node, _)| node.clone()).collect::<Vec<_>>());
        for (node, _) in &nodes {
            node.cast(BigMsg::Table(table.clone())).expect("big: actor alive");
        }

        let start = Instant::now();
        for (node, _) in &nodes {
            node.cast(BigMsg::Go).expect("big: actor alive");
        }
        let mut reports = Vec::with_capacity(actors as usize);
        for _ in 0..actors {
            reports.push(reported(done_rx.recv()).await.expect("an actor reports"));
        }
        let elapsed = start.elapsed();

        check_big(reports, &p);
        stop_all(nodes).await;
        Measurement::timed(elapsed, p.ops(Workload::Big))
    })
}
