//! actor12, handler style: an actor's `Message` is [`Multi<Self>`], it implements one
//! [`Handler<M>`] per message type, and it is told with `tell_dyn(..).await` and asked with
//! `ask_dyn(..).await` (the actor12 0.0.x API). A small `Multi` message is stored in place and
//! its handler's future in the actor's reused buffer: a tell allocates nothing, an ask its reply
//! slot.
//!
//! Each run builds an actor12 runtime with [`workers`](crate::workers) workers
//! ([`on_actor12_workers`]); the driver is a task on it, and tasks that are not actors (the
//! client of `ask`, the senders of `fan_in`) are plain tasks of that runtime. Actors report
//! completion through the `actor12::oneshot` slot they were given, or (the ring's members, as
//! every peer's do) a tokio unbounded channel; they are stopped and awaited with
//! `Link::cancel_and_wait`.
//!
//! Mailboxes: actor12's default capacity is 64 (senders wait when it is full). The counters of
//! `fan_in` and `fork_join`, and the actors of `chameneos` and `big`, override
//! [`Actor::mailbox_capacity`] to `usize::MAX` (unbounded), as the peers' mailboxes are
//! unbounded; the other workloads keep the default (they never have more than one message in
//! flight per actor).

use std::sync::Arc;
use std::time::Instant;

use actor12::oneshot;
use actor12::prelude::*;
use actor12::{Call, MpscChannel, Multi};
use tokio::sync::mpsc;

use super::{
    BigActor, BigStep, Creature, Mall, MallStep, Measurement, Params, Peer, Workload,
    actor12_spawn_stop, check_big, check_chameneos, entries, fork_join_expected_sum,
    on_actor12_workers, poked, reported_actor12, started, stop_all, sum_below,
};

/// The implementation's name.
pub const IMPL: &str = "actor12";

/// The eight workloads.
pub fn benches() -> Vec<Peer> {
    entries(IMPL, [ping_pong, ask, fan_in, ring, spawn_stop, fork_join, chameneos, big])
}

// ---- ping_pong ----

/// Answers every `Ping` with a `Pong` to its peer.
struct Ponger {
    peer: Option<Link<Pinger>>,
}

impl Actor for Ponger {
    type Message = Multi<Self>;
    type Spec = ();
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();

    fn state(_: &()) {}

    fn init(_: Init<'_, Self>) -> impl InitFuture<Self> {
        std::future::ready(Ok(Ponger { peer: None }))
    }
}

/// Who the ponger answers: sent once, before the timed part.
struct SetPeer(Link<Pinger>);
/// The ball, going to the ponger.
struct Ping(u64);
/// The ball, coming back.
struct Pong(u64);

impl Handler<SetPeer> for Ponger {
    type Reply = anyhow::Result<()>;

    async fn handle(
        &mut self,
        _: Call<'_, Self, Self::Reply>,
        SetPeer(peer): SetPeer,
    ) -> Self::Reply {
        self.peer = Some(peer);
        Ok(())
    }
}

impl Handler<Ping> for Ponger {
    type Reply = anyhow::Result<()>;

    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, Ping(x): Ping) -> Self::Reply {
        self.peer.as_ref().expect("peer set").tell_dyn(Pong(x)).await;
        Ok(())
    }
}

/// Counts the balls that come back and serves the next; reports after the last.
struct Pinger {
    ponger: Link<Ponger>,
    n: u64,
    received: u64,
    done: Option<oneshot::Sender<u64>>,
}

impl Actor for Pinger {
    type Message = Multi<Self>;
    type Spec = (Link<Ponger>, u64, oneshot::Sender<u64>);
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();

    fn state(_: &Self::Spec) {}

    fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
        let (ponger, n, done) = ctx.spec;
        std::future::ready(Ok(Pinger { ponger, n, received: 0, done: Some(done) }))
    }
}

impl Handler<Pong> for Pinger {
    type Reply = anyhow::Result<()>;

    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, Pong(x): Pong) -> Self::Reply {
        self.received += 1;
        assert_eq!(x, self.received, "ping_pong: a ball was lost or reordered");
        if self.received == self.n {
            let _ = self.done.take().expect("reported once").send(self.received);
        } else {
            self.ponger.tell_dyn(Ping(x + 1)).await;
        }
        Ok(())
    }
}

/// Two actors bounce a counter; the pinger reports after the last round trip.
pub fn ping_pong(p: &Params) -> Measurement {
    let n = p.round_trips;
    on_actor12_workers(async move {
        let (done_tx, done_rx) = oneshot::channel();
        let ponger = actor12::spawn::<Ponger>(());
        let pinger = actor12::spawn::<Pinger>((ponger.clone(), n, done_tx));
        ponger.tell_dyn(SetPeer(pinger.clone())).await;

        let start = Instant::now();
        ponger.tell_dyn(Ping(1)).await;
        let received = reported_actor12(done_rx).await.expect("the pinger reports");
        let elapsed = start.elapsed();

        assert_eq!(received, n, "ping_pong: round trips");
        // The two hold links to each other: stop them explicitly.
        stop_all(&[pinger]).await;
        stop_all(&[ponger]).await;
        Measurement::timed(elapsed, n)
    })
}

// ---- ask ----

/// Answers every `Ask(x)` with `x + 1` (also asked from tokio tasks by the `tokio-asks` binary).
#[derive(Debug)]
pub struct Server;

impl Actor for Server {
    type Message = Multi<Self>;
    type Spec = ();
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();

    fn state(_: &()) {}

    fn init(_: Init<'_, Self>) -> impl InitFuture<Self> {
        std::future::ready(Ok(Server))
    }
}

/// A request of `ask`.
#[derive(Debug)]
pub struct Ask(pub u64);

impl Handler<Ask> for Server {
    type Reply = anyhow::Result<u64>;

    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, Ask(x): Ask) -> Self::Reply {
        Ok(x + 1)
    }
}

/// A client task asks one actor `n` times; the actor answers each `x` with `x + 1`.
pub fn ask(p: &Params) -> Measurement {
    let n = p.asks;
    on_actor12_workers(async move {
        let server = actor12::spawn::<Server>(());

        let start = Instant::now();
        let sum = ask_n(&server, n).await;
        let elapsed = start.elapsed();

        assert_eq!(sum, sum_below(n) + n, "ask: answers");
        stop_all(&[server]).await;
        Measurement::timed(elapsed, n)
    })
}

/// Asks `server` `Ask(0)`, ..., `Ask(n - 1)`, one at a time; checks and sums the answers.
async fn ask_n(server: &Link<Server>, n: u64) -> u64 {
    let mut sum = 0;
    for x in 0..n {
        let answer = server.ask_dyn(Ask(x)).await.expect("ask: no answer");
        assert_eq!(answer, x + 1, "ask: wrong answer");
        sum += answer;
    }
    sum
}

// ---- fan_in and fork_join: an actor that counts and sums, reporting when it has all ----

/// Counts and sums the values it is told; reports `(count, sum)` when it has `expected`.
struct Counter {
    expected: u64,
    count: u64,
    sum: u64,
    done: Option<oneshot::Sender<(u64, u64)>>,
}

impl Actor for Counter {
    type Message = Multi<Self>;
    type Spec = (u64, Option<oneshot::Sender<(u64, u64)>>);
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();

    /// Unbounded, as the peers' mailboxes are: a sender never waits.
    fn mailbox_capacity() -> usize {
        usize::MAX
    }

    fn state(_: &Self::Spec) {}

    fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
        let (expected, done) = ctx.spec;
        std::future::ready(Ok(Counter { expected, count: 0, sum: 0, done }))
    }
}

/// A value told to a [`Counter`].
struct Value(u64);

impl Handler<Value> for Counter {
    type Reply = anyhow::Result<()>;

    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, Value(x): Value) -> Self::Reply {
        self.count += 1;
        self.sum += x;
        if self.count == self.expected
            && let Some(done) = self.done.take()
        {
            let _ = done.send((self.count, self.sum));
        }
        Ok(())
    }
}

/// Eight sender tasks tell one actor; it reports count and sum after the last message.
pub fn fan_in(p: &Params) -> Measurement {
    let (senders, m) = (p.fan_in_senders, p.fan_in_messages);
    let per_sender = m / senders;
    assert_eq!(per_sender * senders, m, "fan_in: messages must divide among the senders");
    on_actor12_workers(async move {
        let (done_tx, done_rx) = oneshot::channel();
        let receiver = actor12::spawn::<Counter>((m, Some(done_tx)));

        let start = Instant::now();
        let tasks: Vec<_> = (0..senders)
            .map(|s| {
                let actor = receiver.clone();
                actor12::rt::spawn(async move {
                    for x in s * per_sender..(s + 1) * per_sender {
                        actor.tell_dyn(Value(x)).await;
                    }
                })
            })
            .collect();
        let (count, sum) = reported_actor12(done_rx).await.expect("the receiver reports");
        let elapsed = start.elapsed();

        assert_eq!((count, sum), (m, sum_below(m)), "fan_in: count and sum received");
        for task in tasks {
            task.await.expect("sender");
        }
        stop_all(&[receiver]).await;
        Measurement::timed(elapsed, m)
    })
}

/// One sender tells `m` messages round-robin to 64 actors; each reports when it has its share.
pub fn fork_join(p: &Params) -> Measurement {
    let (actors, m) = (p.fork_join_actors, p.fork_join_messages);
    let share = m / actors;
    assert_eq!(share * actors, m, "fork_join: messages must divide among the actors");
    on_actor12_workers(async move {
        let (workers, reports): (Vec<_>, Vec<_>) = (0..actors)
            .map(|_| {
                let (done_tx, done_rx) = oneshot::channel();
                (actor12::spawn::<Counter>((share, Some(done_tx))), done_rx)
            })
            .unzip();

        let start = Instant::now();
        for x in 0..m {
            workers[(x % actors) as usize].tell_dyn(Value(x)).await;
        }
        let mut sums = Vec::with_capacity(actors as usize);
        for report in reports {
            let (count, sum) = reported_actor12(report).await.expect("an actor reports");
            assert_eq!(count, share, "fork_join: count");
            sums.push(sum);
        }
        let elapsed = start.elapsed();

        for (i, sum) in sums.into_iter().enumerate() {
            assert_eq!(sum, fork_join_expected_sum(i as u64, actors, m), "fork_join: sum");
        }
        stop_all(&workers).await;
        Measurement::timed(elapsed, m)
    })
}

// ---- ring ----

/// A ring member: passes the token on to `next`; reports its place on `done` when the token
/// reaches 0 (as every peer's ring member does).
struct RingNode {
    place: usize,
    next: Option<Link<RingNode>>,
    done: mpsc::UnboundedSender<usize>,
}

impl Actor for RingNode {
    type Message = Multi<Self>;
    type Spec = (usize, mpsc::UnboundedSender<usize>);
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();

    fn state(_: &Self::Spec) {}

    fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
        let (place, done) = ctx.spec;
        std::future::ready(Ok(RingNode { place, next: None, done }))
    }
}

/// The next actor of the ring: sent once, before the timed part.
struct Next(Link<RingNode>);
/// The token: hops still to go.
struct Token(u64);

impl Handler<Next> for RingNode {
    type Reply = anyhow::Result<()>;

    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, Next(next): Next) -> Self::Reply {
        self.next = Some(next);
        Ok(())
    }
}

impl Handler<Token> for RingNode {
    type Reply = anyhow::Result<()>;

    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, Token(k): Token) -> Self::Reply {
        if k == 0 {
            let _ = self.done.send(self.place);
        } else {
            self.next.as_ref().expect("next set").tell_dyn(Token(k - 1)).await;
        }
        Ok(())
    }
}

/// A token counts down round a ring of actors; whoever receives 0 reports its place.
pub fn ring(p: &Params) -> Measurement {
    let (actors, hops) = (p.ring_actors as usize, p.ring_hops);
    on_actor12_workers(async move {
        let (done_tx, mut done_rx) = mpsc::unbounded_channel();
        let nodes: Vec<_> =
            (0..actors).map(|i| actor12::spawn::<RingNode>((i, done_tx.clone()))).collect();
        for (i, node) in nodes.iter().enumerate() {
            node.tell_dyn(Next(nodes[(i + 1) % actors].clone())).await;
        }

        let start = Instant::now();
        nodes[0].tell_dyn(Token(hops)).await;
        let last = reported_actor12(done_rx.recv()).await.expect("a node reports");
        let elapsed = start.elapsed();

        assert_eq!(last, hops as usize % actors, "ring: the token stopped at the wrong place");
        // The ring holds links to itself: stop it explicitly.
        stop_all(&nodes).await;
        Measurement::timed(elapsed, hops)
    })
}

// ---- spawn_stop ----

/// An idle actor: spawned, told one `u64` (in the untimed pass that counts bytes) and stopped,
/// as the peers' idle actors are.
struct Idle;

/// What [`Idle`] is told.
struct Poke(#[allow(dead_code, reason = "only carried, as the peers' u64")] u64);

impl Handler<Poke> for Idle {
    type Reply = anyhow::Result<()>;

    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Poke) -> Self::Reply {
        poked();
        Ok(())
    }
}

impl Actor for Idle {
    type Message = Multi<Self>;
    type Spec = ();
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();

    fn state(_: &()) {}

    fn init(_: Init<'_, Self>) -> impl InitFuture<Self> {
        started();
        std::future::ready(Ok(Idle))
    }
}

/// Spawns `n` idle actors, counting live bytes once they are idle, and stops them; then again,
/// timed (see [`spawn_stop` in `peers`](super)).
pub fn spawn_stop(p: &Params) -> Measurement {
    actor12_spawn_stop(p, |idle: Link<Idle>| async move { idle.tell_dyn(Poke(1)).await })
}

// ---- chameneos ----

/// Every creature's link: the mall and each creature get the table before the timed part.
type Creatures = Arc<Vec<Link<ChameneosCreature>>>;

/// A creature of `chameneos` ([`Creature`]): asks the mall for a meeting, again after each.
struct ChameneosCreature {
    creature: Creature,
    mall: Link<ChameneosMall>,
    others: Option<Creatures>,
}

impl ChameneosCreature {
    /// Asks the mall for the next meeting.
    async fn meet(&self) {
        self.mall.tell_dyn(self.creature.meet()).await;
    }
}

impl Actor for ChameneosCreature {
    type Message = Multi<Self>;
    type Spec = (usize, Link<ChameneosMall>);
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();

    /// Unbounded, as the peers' mailboxes are: a sender never waits.
    fn mailbox_capacity() -> usize {
        usize::MAX
    }

    fn state(_: &Self::Spec) {}

    fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
        let (index, mall) = ctx.spec;
        std::future::ready(Ok(ChameneosCreature {
            creature: Creature::new(index),
            mall,
            others: None,
        }))
    }
}

/// Every creature's link (to a creature or the mall): sent once, before the timed part.
struct CreatureTable(Creatures);
/// The start: ask the mall for a first meeting.
struct Go;
/// From the mall: meet creature `partner`, of colour `color`.
struct Paired {
    partner: usize,
    color: u8,
}
/// From the partner the mall paired a creature with: the meeting's colour.
struct Change(u8);

impl Handler<CreatureTable> for ChameneosCreature {
    type Reply = anyhow::Result<()>;

    async fn handle(
        &mut self,
        _: Call<'_, Self, Self::Reply>,
        table: CreatureTable,
    ) -> Self::Reply {
        self.others = Some(table.0);
        Ok(())
    }
}

impl Handler<Go> for ChameneosCreature {
    type Reply = anyhow::Result<()>;

    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Go) -> Self::Reply {
        self.meet().await;
        Ok(())
    }
}

impl Handler<Paired> for ChameneosCreature {
    type Reply = anyhow::Result<()>;

    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, paired: Paired) -> Self::Reply {
        let color = self.creature.paired(paired.color);
        let others = self.others.as_ref().expect("chameneos: table set");
        others[paired.partner].tell_dyn(Change(color)).await;
        self.meet().await;
        Ok(())
    }
}

impl Handler<Change> for ChameneosCreature {
    type Reply = anyhow::Result<()>;

    async fn handle(
        &mut self,
        _: Call<'_, Self, Self::Reply>,
        Change(color): Change,
    ) -> Self::Reply {
        self.creature.changed(color);
        self.meet().await;
        Ok(())
    }
}

/// The mall of `chameneos` ([`Mall`]): pairs the creatures, reports when all have retired.
struct ChameneosMall {
    mall: Mall,
    creatures: Option<Creatures>,
    done: Option<oneshot::Sender<u64>>,
}

impl Actor for ChameneosMall {
    type Message = Multi<Self>;
    type Spec = (Mall, oneshot::Sender<u64>);
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();

    /// Unbounded, as the peers' mailboxes are: a sender never waits.
    fn mailbox_capacity() -> usize {
        usize::MAX
    }

    fn state(_: &Self::Spec) {}

    fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
        let (mall, done) = ctx.spec;
        std::future::ready(Ok(ChameneosMall { mall, creatures: None, done: Some(done) }))
    }
}

impl Handler<CreatureTable> for ChameneosMall {
    type Reply = anyhow::Result<()>;

    async fn handle(
        &mut self,
        _: Call<'_, Self, Self::Reply>,
        table: CreatureTable,
    ) -> Self::Reply {
        self.creatures = Some(table.0);
        Ok(())
    }
}

impl Handler<super::Meet> for ChameneosMall {
    type Reply = anyhow::Result<()>;

    async fn handle(
        &mut self,
        _: Call<'_, Self, Self::Reply>,
        request: super::Meet,
    ) -> Self::Reply {
        match self.mall.meet(request) {
            MallStep::Wait | MallStep::Retired => {}
            MallStep::Pair { to, partner, color } => {
                let creatures = self.creatures.as_ref().expect("chameneos: table set");
                creatures[to].tell_dyn(Paired { partner, color }).await;
            }
            MallStep::Done { met } => {
                let _ = self.done.take().expect("chameneos: done once").send(met);
            }
        }
        Ok(())
    }
}

/// Creatures meet in pairs through one mall; it reports once every creature has retired.
pub fn chameneos(p: &Params) -> Measurement {
    let p = *p;
    on_actor12_workers(async move {
        let (done_tx, done_rx) = oneshot::channel();
        let mall = actor12::spawn::<ChameneosMall>((
            Mall::new(p.chameneos_creatures, p.chameneos_meetings),
            done_tx,
        ));
        let creatures: Vec<_> = (0..p.chameneos_creatures as usize)
            .map(|i| actor12::spawn::<ChameneosCreature>((i, mall.clone())))
            .collect();
        let table = Arc::new(creatures.clone());
        mall.tell_dyn(CreatureTable(table.clone())).await;
        for creature in &creatures {
            creature.tell_dyn(CreatureTable(table.clone())).await;
        }

        let start = Instant::now();
        for creature in &creatures {
            creature.tell_dyn(Go).await;
        }
        let met = reported_actor12(done_rx).await.expect("the mall reports");
        let elapsed = start.elapsed();

        check_chameneos(met, &p);
        // The creatures and the mall hold links to each other: stop them explicitly.
        stop_all(&creatures).await;
        stop_all(&[mall]).await;
        Measurement::timed(elapsed, p.chameneos_meetings)
    })
}

// ---- big ----

/// Every `big` actor's link: each gets the table before the timed part.
type BigTable = Arc<Vec<Link<BigNode>>>;

/// An actor of `big` ([`BigActor`]): pings random others, one at a time, and answers pings.
struct BigNode {
    me: usize,
    big: BigActor,
    others: Option<BigTable>,
    done: mpsc::UnboundedSender<usize>,
}

impl BigNode {
    /// Sends the next ping, or reports once every ping has had its pong.
    async fn step(&mut self, step: BigStep) {
        match step {
            BigStep::Ping { to, seq } => {
                let others = self.others.as_ref().expect("big: table set");
                others[to].tell_dyn(BigPing { from: self.me, seq }).await;
            }
            BigStep::Done => self.done.send(self.me).expect("big: the driver waits"),
        }
    }
}

impl Actor for BigNode {
    type Message = Multi<Self>;
    type Spec = (usize, BigActor, mpsc::UnboundedSender<usize>);
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();

    /// Unbounded, as the peers' mailboxes are: a sender never waits.
    fn mailbox_capacity() -> usize {
        usize::MAX
    }

    fn state(_: &Self::Spec) {}

    fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
        let (me, big, done) = ctx.spec;
        std::future::ready(Ok(BigNode { me, big, others: None, done }))
    }
}

/// Every `big` actor's link: sent once, before the timed part.
struct BigTableMsg(BigTable);
/// Ping `seq` of actor `from`: answer it.
struct BigPing {
    from: usize,
    seq: u64,
}
/// Actor `from`'s answer to ping `seq`.
struct BigPong {
    from: usize,
    seq: u64,
}

impl Handler<BigTableMsg> for BigNode {
    type Reply = anyhow::Result<()>;

    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, table: BigTableMsg) -> Self::Reply {
        self.others = Some(table.0);
        Ok(())
    }
}

impl Handler<Go> for BigNode {
    type Reply = anyhow::Result<()>;

    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Go) -> Self::Reply {
        let step = self.big.start();
        self.step(step).await;
        Ok(())
    }
}

impl Handler<BigPing> for BigNode {
    type Reply = anyhow::Result<()>;

    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, ping: BigPing) -> Self::Reply {
        let others = self.others.as_ref().expect("big: table set");
        others[ping.from].tell_dyn(BigPong { from: self.me, seq: ping.seq }).await;
        Ok(())
    }
}

impl Handler<BigPong> for BigNode {
    type Reply = anyhow::Result<()>;

    async fn handle(
        &mut self,
        _: Call<'_, Self, Self::Reply>,
        BigPong { from, seq }: BigPong,
    ) -> Self::Reply {
        let step = self.big.pong(from, seq);
        self.step(step).await;
        Ok(())
    }
}

/// Actors ping random others, one ping at a time; each reports when its pings are answered.
pub fn big(p: &Params) -> Measurement {
    let p = *p;
    on_actor12_workers(async move {
        let (done_tx, mut done_rx) = mpsc::unbounded_channel();
        let nodes: Vec<_> = (0..p.big_actors as usize)
            .map(|i| {
                let big = BigActor::new(i, p.big_actors, p.big_pings);
                actor12::spawn::<BigNode>((i, big, done_tx.clone()))
            })
            .collect();
        let table = Arc::new(nodes.clone());
        for node in &nodes {
            node.tell_dyn(BigTableMsg(table.clone())).await;
        }

        let start = Instant::now();
        for node in &nodes {
            node.tell_dyn(Go).await;
        }
        let mut reports = Vec::with_capacity(nodes.len());
        for _ in 0..nodes.len() {
            reports.push(reported_actor12(done_rx.recv()).await.expect("an actor reports"));
        }
        let elapsed = start.elapsed();

        check_big(reports, &p);
        // The actors hold links to each other: stop them explicitly.
        stop_all(&nodes).await;
        Measurement::timed(elapsed, p.ops(Workload::Big))
    })
}
