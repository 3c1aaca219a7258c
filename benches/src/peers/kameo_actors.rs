//! kameo: an actor is its own state, implements `kameo::Actor` and one `Message<M>` per message
//! type; it is spawned with an unbounded mailbox (`Spawn::spawn_with_mailbox`, the same kind of
//! queue as every other column; kameo's default is bounded to 64), told with
//! `tell(..).send().await`, asked with `ask(..).send().await` (an `.await` on the request itself
//! goes through `IntoFuture`, which boxes the send in kameo 0.22), and stopped with
//! `stop_gracefully` plus `wait_for_shutdown`.
//!
//! kameo runs on tokio: the same runtimes as the raw tokio columns, as `kameo` on a
//! multi-threaded runtime with [`workers`](crate::workers) workers and as `kameo-1t` on a
//! current-thread one (the workloads' `THREADS`: 0 for the workers, 1 for one thread; see
//! [`on_threads`]). Tasks that are not actors (the client of `ask`, the senders of `fan_in`)
//! are plain tokio tasks.

use std::sync::Arc;
use std::time::{Duration, Instant};

use kameo::Actor;
use kameo::actor::{ActorRef, Spawn};
use kameo::error::Infallible;
use kameo::mailbox;
use kameo::message::{Context, Message};
use tokio::sync::{mpsc, oneshot};

use super::{
    BigActor, BigStep, BytesWindow, Creature, Mall, MallStep, Measurement, Meet, Params, Peer,
    Workload, all_poked, all_started, check_big, check_chameneos, expect_starts,
    fork_join_expected_sum, on_threads, poked, reported, reset_pokes, started, sum_below,
};

/// The implementation's name: a multi-threaded runtime with [`workers`](crate::workers) workers.
pub const IMPL: &str = "kameo";

/// The same actors on a current-thread runtime: one thread, no cross-thread wake-ups.
pub const IMPL_ONE_THREAD: &str = "kameo-1t";

/// The eight workloads, on each of the two runtimes.
pub fn benches() -> Vec<Peer> {
    on_both_tokio_runtimes!(IMPL, IMPL_ONE_THREAD)
}

/// Spawns `actor` with an unbounded mailbox.
fn spawn<A: Actor<Args = A>>(actor: A) -> ActorRef<A> {
    A::spawn_with_mailbox(actor, mailbox::unbounded())
}

/// Stops the actors gracefully and waits until each has shut down.
async fn stop_all<A: Actor>(actors: Vec<ActorRef<A>>) {
    for actor in &actors {
        actor.stop_gracefully().await.expect("kameo actor running");
    }
    for actor in &actors {
        actor.wait_for_shutdown().await;
    }
}

/// `impl Actor` for a type that is its own start argument and cannot fail to start.
macro_rules! plain_actor {
    ($($ty:ty),*) => {$(
        impl Actor for $ty {
            type Args = Self;
            type Error = Infallible;

            async fn on_start(state: Self, _: ActorRef<Self>) -> Result<Self, Infallible> {
                Ok(state)
            }
        }
    )*};
}

plain_actor!(Ponger, Pinger, Server, Counter, RingNode, Chameneo, MallActor, BigNode);

// ---- ping_pong ----

struct Ponger {
    peer: Option<ActorRef<Pinger>>,
}

/// Who the ponger answers: sent once, before the timed part.
struct SetPeer(ActorRef<Pinger>);
struct Ping(u64);
struct Pong(u64);

impl Message<SetPeer> for Ponger {
    type Reply = ();

    async fn handle(&mut self, SetPeer(pinger): SetPeer, _: &mut Context<Self, ()>) {
        self.peer = Some(pinger);
    }
}

impl Message<Ping> for Ponger {
    type Reply = ();

    async fn handle(&mut self, Ping(x): Ping, _: &mut Context<Self, ()>) {
        let peer = self.peer.as_ref().expect("peer set");
        peer.tell(Pong(x)).send().await.expect("the pinger is alive");
    }
}

struct Pinger {
    ponger: ActorRef<Ponger>,
    n: u64,
    received: u64,
    done: Option<oneshot::Sender<u64>>,
}

impl Message<Pong> for Pinger {
    type Reply = ();

    async fn handle(&mut self, Pong(x): Pong, _: &mut Context<Self, ()>) {
        self.received += 1;
        assert_eq!(x, self.received, "ping_pong: a ball was lost or reordered");
        if self.received == self.n {
            let _ = self.done.take().expect("reported once").send(self.received);
        } else {
            self.ponger.tell(Ping(x + 1)).send().await.expect("the ponger is alive");
        }
    }
}

/// Two actors bounce a counter; the pinger reports after the last round trip.
pub fn ping_pong<const THREADS: usize>(p: &Params) -> Measurement {
    let n = p.round_trips;
    on_threads(THREADS, async move {
        let (done_tx, done_rx) = oneshot::channel();
        let ponger = spawn(Ponger { peer: None });
        let pinger = spawn(Pinger { ponger: ponger.clone(), n, received: 0, done: Some(done_tx) });
        ponger.tell(SetPeer(pinger.clone())).send().await.expect("ponger alive");

        let start = Instant::now();
        ponger.tell(Ping(1)).send().await.expect("ponger alive");
        let received = reported(done_rx).await.expect("the pinger reports");
        let elapsed = start.elapsed();

        assert_eq!(received, n, "ping_pong: round trips");
        stop_all(vec![pinger]).await;
        stop_all(vec![ponger]).await;
        Measurement::timed(elapsed, n)
    })
}

// ---- ask ----

/// Answers every `Ask(x)` with `x + 1` (also asked by the `tokio-asks` binary).
#[derive(Debug)]
pub struct Server;

/// A request of `ask`.
#[derive(Debug)]
pub struct Ask(pub u64);

impl Message<Ask> for Server {
    type Reply = u64;

    async fn handle(&mut self, Ask(x): Ask, _: &mut Context<Self, u64>) -> u64 {
        x + 1
    }
}

/// A client task asks one actor `n` times; the actor answers each `x` with `x + 1`.
pub fn ask<const THREADS: usize>(p: &Params) -> Measurement {
    let n = p.asks;
    on_threads(THREADS, async move {
        let server = spawn(Server);

        let start = Instant::now();
        let mut sum = 0;
        for x in 0..n {
            let answer = server.ask(Ask(x)).send().await.expect("ask: no answer");
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

struct Counter {
    id: u64,
    expected: u64,
    count: u64,
    sum: u64,
    done: mpsc::UnboundedSender<(u64, u64, u64)>,
}

struct Value(u64);

impl Message<Value> for Counter {
    type Reply = ();

    async fn handle(&mut self, Value(x): Value, _: &mut Context<Self, ()>) {
        self.count += 1;
        self.sum += x;
        if self.count == self.expected {
            let _ = self.done.send((self.id, self.count, self.sum));
        }
    }
}

fn counter(id: u64, expected: u64, done: &mpsc::UnboundedSender<(u64, u64, u64)>) -> Counter {
    Counter { id, expected, count: 0, sum: 0, done: done.clone() }
}

/// Eight sender tasks tell one actor; it reports count and sum after the last message.
pub fn fan_in<const THREADS: usize>(p: &Params) -> Measurement {
    let (senders, m) = (p.fan_in_senders, p.fan_in_messages);
    let per_sender = m / senders;
    assert_eq!(per_sender * senders, m, "fan_in: messages must divide among the senders");
    on_threads(THREADS, async move {
        let (done_tx, mut done_rx) = mpsc::unbounded_channel();
        let receiver = spawn(counter(0, m, &done_tx));
        receiver.wait_for_startup().await;

        let start = Instant::now();
        let tasks: Vec<_> = (0..senders)
            .map(|s| {
                let actor = receiver.clone();
                tokio::spawn(async move {
                    for x in s * per_sender..(s + 1) * per_sender {
                        actor.tell(Value(x)).send().await.expect("the receiver is alive");
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
        let workers: Vec<_> = (0..actors).map(|i| spawn(counter(i, share, &done_tx))).collect();
        for worker in &workers {
            worker.wait_for_startup().await;
        }

        let start = Instant::now();
        for x in 0..m {
            workers[(x % actors) as usize].tell(Value(x)).send().await.expect("the actor is alive");
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

struct RingNode {
    place: usize,
    next: Option<ActorRef<RingNode>>,
    done: mpsc::UnboundedSender<usize>,
}

/// The next actor of the ring: sent once, before the timed part.
struct Next(ActorRef<RingNode>);
struct Token(u64);

impl Message<Next> for RingNode {
    type Reply = ();

    async fn handle(&mut self, Next(next): Next, _: &mut Context<Self, ()>) {
        self.next = Some(next);
    }
}

impl Message<Token> for RingNode {
    type Reply = ();

    async fn handle(&mut self, Token(k): Token, _: &mut Context<Self, ()>) {
        if k == 0 {
            let _ = self.done.send(self.place);
        } else {
            let next = self.next.as_ref().expect("next set");
            next.tell(Token(k - 1)).send().await.expect("the next actor is alive");
        }
    }
}

/// A token counts down round a ring of actors; whoever receives 0 reports its place.
pub fn ring<const THREADS: usize>(p: &Params) -> Measurement {
    let (actors, hops) = (p.ring_actors as usize, p.ring_hops);
    on_threads(THREADS, async move {
        let (done_tx, mut done_rx) = mpsc::unbounded_channel();
        let nodes: Vec<_> = (0..actors)
            .map(|place| spawn(RingNode { place, next: None, done: done_tx.clone() }))
            .collect();
        for (i, node) in nodes.iter().enumerate() {
            node.tell(Next(nodes[(i + 1) % actors].clone()))
                .send()
                .await
                .expect("ring actor alive");
        }

        let start = Instant::now();
        nodes[0].tell(Token(hops)).send().await.expect("ring actor alive");
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
    type Args = Self;
    type Error = Infallible;

    async fn on_start(state: Self, _: ActorRef<Self>) -> Result<Self, Infallible> {
        started();
        Ok(state)
    }
}

impl Message<u64> for Idle {
    type Reply = ();

    async fn handle(&mut self, _: u64, _: &mut Context<Self, Self::Reply>) -> Self::Reply {
        poked();
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
            actors.push(spawn(Idle));
        }
        for actor in &actors {
            actor.wait_for_startup().await;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        let fresh = window.now(n);
        reset_pokes();
        for actor in &actors {
            actor.tell(1).send().await.expect("the idle actor is alive");
        }
        all_poked(n, tokio::time::sleep).await;
        let bytes_per_actor = window.close(n, fresh);
        stop_all(actors).await;

        let mut actors = Vec::with_capacity(n as usize);
        expect_starts(n);
        let start = Instant::now();
        for _ in 0..n {
            actors.push(spawn(Idle));
        }
        all_started().await;
        stop_all(actors).await; // the handles go inside the timed window
        let elapsed = start.elapsed();
        Measurement { elapsed, ops: n, bytes_per_actor }
    })
}

// ---- chameneos and big: a table of every actor, and a start ----

/// Every actor of a workload, by index: sent once, before the timed part.
struct Table<A: Actor>(Arc<Vec<ActorRef<A>>>);

/// The start of a workload's actors.
struct Go;

/// Spawns `actors`, waits until each has started, and tells each the [`Table`] of them all.
async fn with_table<A>(actors: impl Iterator<Item = A>, workload: &str) -> Vec<ActorRef<A>>
where
    A: Actor<Args = A> + Message<Table<A>, Reply = ()>,
{
    let refs: Vec<_> = actors.map(spawn).collect();
    for actor in &refs {
        actor.wait_for_startup().await;
    }
    let table = Arc::new(refs.clone());
    for actor in &refs {
        actor
            .tell(Table(table.clone()))
            .send()
            .await
            .unwrap_or_else(|_| panic!("{workload}: actor alive"));
    }
    refs
}

// ---- chameneos ----

/// A creature of `chameneos`: the shared [`Creature`] and whom it talks to.
struct Chameneo {
    creature: Creature,
    mall: ActorRef<MallActor>,
    creatures: Option<Arc<Vec<ActorRef<Chameneo>>>>,
}

/// The mall paired the creature with creature `partner`, of colour `color`.
struct Paired {
    partner: usize,
    color: u8,
}

/// The creature's partner's colour after their meeting.
struct Change {
    color: u8,
}

impl Chameneo {
    /// Sends the creature's request to the mall.
    async fn meet(&self) {
        self.mall.tell(self.creature.meet()).send().await.expect("chameneos: the mall is alive");
    }
}

impl Message<Table<Chameneo>> for Chameneo {
    type Reply = ();

    async fn handle(&mut self, Table(creatures): Table<Chameneo>, _: &mut Context<Self, ()>) {
        self.creatures = Some(creatures);
    }
}

impl Message<Go> for Chameneo {
    type Reply = ();

    async fn handle(&mut self, _: Go, _: &mut Context<Self, ()>) {
        self.meet().await;
    }
}

impl Message<Paired> for Chameneo {
    type Reply = ();

    async fn handle(&mut self, Paired { partner, color }: Paired, _: &mut Context<Self, ()>) {
        let mine = self.creature.paired(color);
        let creatures = self.creatures.as_ref().expect("table set");
        creatures[partner]
            .tell(Change { color: mine })
            .send()
            .await
            .expect("chameneos: the partner is alive");
        self.meet().await;
    }
}

impl Message<Change> for Chameneo {
    type Reply = ();

    async fn handle(&mut self, Change { color }: Change, _: &mut Context<Self, ()>) {
        self.creature.changed(color);
        self.meet().await;
    }
}

/// The mall of `chameneos`: the shared [`Mall`], the creatures, and where to report. A
/// creature's request is the shared [`Meet`] itself.
struct MallActor {
    mall: Mall,
    creatures: Option<Arc<Vec<ActorRef<Chameneo>>>>,
    done: Option<oneshot::Sender<u64>>,
}

impl Message<Table<Chameneo>> for MallActor {
    type Reply = ();

    async fn handle(&mut self, Table(creatures): Table<Chameneo>, _: &mut Context<Self, ()>) {
        self.creatures = Some(creatures);
    }
}

impl Message<Meet> for MallActor {
    type Reply = ();

    async fn handle(&mut self, request: Meet, _: &mut Context<Self, ()>) {
        match self.mall.meet(request) {
            MallStep::Wait | MallStep::Retired => {}
            MallStep::Pair { to, partner, color } => {
                let creatures = self.creatures.as_ref().expect("table set");
                creatures[to]
                    .tell(Paired { partner, color })
                    .send()
                    .await
                    .expect("chameneos: the creature is alive");
            }
            MallStep::Done { met } => {
                let _ = self.done.take().expect("reported once").send(met);
            }
        }
    }
}

/// Creatures meet in pairs through one mall actor; the mall reports once every creature has
/// retired.
pub fn chameneos<const THREADS: usize>(p: &Params) -> Measurement {
    let p = *p;
    let (creatures, meetings) = (p.chameneos_creatures, p.chameneos_meetings);
    on_threads(THREADS, async move {
        let (done_tx, done_rx) = oneshot::channel();
        let mall = spawn(MallActor {
            mall: Mall::new(creatures, meetings),
            creatures: None,
            done: Some(done_tx),
        });
        mall.wait_for_startup().await;
        let all = with_table(
            (0..creatures as usize).map(|i| Chameneo {
                creature: Creature::new(i),
                mall: mall.clone(),
                creatures: None,
            }),
            "chameneos",
        )
        .await;
        mall.tell(Table(Arc::new(all.clone()))).send().await.expect("chameneos: mall alive");

        let start = Instant::now();
        for creature in &all {
            creature.tell(Go).send().await.expect("chameneos: creature alive");
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

/// An actor of `big`: the shared [`BigActor`], the actors, and where to report.
struct BigNode {
    me: usize,
    big: BigActor,
    actors: Option<Arc<Vec<ActorRef<BigNode>>>>,
    done: mpsc::UnboundedSender<usize>,
}

/// Actor `from` pings with `seq` (`Ping` of the module's `big`; ping_pong has a `Ping`).
struct BigPing {
    from: usize,
    seq: u64,
}

/// Actor `from`'s pong of the receiver's ping `seq`.
struct BigPong {
    from: usize,
    seq: u64,
}

impl BigNode {
    /// The actors, by index.
    fn actors(&self) -> &[ActorRef<BigNode>] {
        self.actors.as_ref().expect("table set")
    }

    /// Sends the next ping, or reports.
    async fn step(&mut self, step: BigStep) {
        match step {
            BigStep::Ping { to, seq } => {
                self.actors()[to]
                    .tell(BigPing { from: self.me, seq })
                    .send()
                    .await
                    .expect("big: the target is alive");
            }
            BigStep::Done => {
                let _ = self.done.send(self.me);
            }
        }
    }
}

impl Message<Table<BigNode>> for BigNode {
    type Reply = ();

    async fn handle(&mut self, Table(actors): Table<BigNode>, _: &mut Context<Self, ()>) {
        self.actors = Some(actors);
    }
}

impl Message<Go> for BigNode {
    type Reply = ();

    async fn handle(&mut self, _: Go, _: &mut Context<Self, ()>) {
        let step = self.big.start();
        self.step(step).await;
    }
}

impl Message<BigPing> for BigNode {
    type Reply = ();

    async fn handle(&mut self, BigPing { from, seq }: BigPing, _: &mut Context<Self, ()>) {
        let pong = BigPong { from: self.me, seq };
        self.actors()[from].tell(pong).send().await.expect("big: the pinger is alive");
    }
}

impl Message<BigPong> for BigNode {
    type Reply = ();

    async fn handle(&mut self, BigPong { from, seq }: BigPong, _: &mut Context<Self, ()>) {
        let step = self.big.pong(from, seq);
        self.step(step).await;
    }
}

/// Every actor pings random others, one ping at a time; each reports after its last pong.
pub fn big<const THREADS: usize>(p: &Params) -> Measurement {
    let p = *p;
    let (actors, pings) = (p.big_actors, p.big_pings);
    on_threads(THREADS, async move {
        let (done_tx, mut done_rx) = mpsc::unbounded_channel();
        let nodes = with_table(
            (0..actors as usize).map(|me| BigNode {
                me,
                big: BigActor::new(me, actors, pings),
                actors: None,
                done: done_tx.clone(),
            }),
            "big",
        )
        .await;

        let start = Instant::now();
        for node in &nodes {
            node.tell(Go).send().await.expect("big: actor alive");
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
