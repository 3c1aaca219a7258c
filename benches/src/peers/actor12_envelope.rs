//! actor12, envelope style: an actor's `Message` is one type of its own (a struct or an enum
//! with an empty [`ActorMessage`] impl, the "raw" style) or an [`Envelope<T, R>`] (a request and
//! its reply slot), and the actor overrides [`Actor::handle`] to match on it. Tells are
//! `send_raw(..).await` (the message goes into the mailbox as is: no box); the ask is
//! `Link::send(..).await` on an `Envelope` actor (the reply slot, reused by the asking thread).
//!
//! Everything else is as in [`actor12_handler`](super::actor12_handler): a fresh runtime with
//! [`workers`](crate::workers) workers per run, completion reported through an `actor12::oneshot`
//! slot (the ring's members: a tokio unbounded channel, as every peer's), actors stopped and
//! awaited with `Link::cancel_and_wait`, and the counters of `fan_in` and `fork_join` and the
//! actors of `chameneos` and `big` with an unbounded mailbox (`mailbox_capacity` overridden to
//! `usize::MAX`, like the peers' mailboxes; the default is 64).

use std::sync::Arc;
use std::time::Instant;

use actor12::oneshot;
use actor12::prelude::*;
use actor12::{ActorMessage, Envelope, MpscChannel};
use tokio::sync::mpsc;

use super::{
    BigActor, BigStep, Creature, Mall, MallStep, Measurement, Params, Peer, Workload,
    actor12_spawn_stop, check_big, check_chameneos, entries, fork_join_expected_sum,
    on_actor12_workers, poked, reported_actor12, started, stop_all, sum_below,
};

/// The implementation's name.
pub const IMPL: &str = "actor12-envelope";

/// The eight workloads.
pub fn benches() -> Vec<Peer> {
    entries(IMPL, [ping_pong, ask, fan_in, ring, spawn_stop, fork_join, chameneos, big])
}

// ---- ping_pong ----

/// Answers every `Ping` with a `Pong` to its peer.
struct Ponger {
    peer: Option<Link<Pinger>>,
}

/// What the ponger receives.
enum PongerMsg {
    /// Who the ponger answers: sent once, before the timed part.
    SetPeer(Link<Pinger>),
    /// The ball.
    Ping(u64),
}

impl ActorMessage<Ponger> for PongerMsg {}

impl Actor for Ponger {
    type Message = PongerMsg;
    type Spec = ();
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();

    fn state(_: &()) {}

    fn init(_: Init<'_, Self>) -> impl InitFuture<Self> {
        std::future::ready(Ok(Ponger { peer: None }))
    }

    async fn handle(&mut self, _: Exec<'_, Self>, msg: PongerMsg) {
        match msg {
            PongerMsg::SetPeer(peer) => self.peer = Some(peer),
            PongerMsg::Ping(x) => {
                let peer = self.peer.as_ref().expect("peer set");
                peer.send_raw(Pong(x)).await.expect("the pinger is alive");
            }
        }
    }
}

/// The ball, coming back to the pinger.
struct Pong(u64);

impl ActorMessage<Pinger> for Pong {}

/// Counts the balls that come back and serves the next; reports after the last.
struct Pinger {
    ponger: Link<Ponger>,
    n: u64,
    received: u64,
    done: Option<oneshot::Sender<u64>>,
}

impl Actor for Pinger {
    type Message = Pong;
    type Spec = (Link<Ponger>, u64, oneshot::Sender<u64>);
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();

    fn state(_: &Self::Spec) {}

    fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
        let (ponger, n, done) = ctx.spec;
        std::future::ready(Ok(Pinger { ponger, n, received: 0, done: Some(done) }))
    }

    async fn handle(&mut self, _: Exec<'_, Self>, Pong(x): Pong) {
        self.received += 1;
        assert_eq!(x, self.received, "ping_pong: a ball was lost or reordered");
        if self.received == self.n {
            let _ = self.done.take().expect("reported once").send(self.received);
        } else {
            self.ponger.send_raw(PongerMsg::Ping(x + 1)).await.expect("the ponger is alive");
        }
    }
}

/// Two actors bounce a counter; the pinger reports after the last round trip.
pub fn ping_pong(p: &Params) -> Measurement {
    let n = p.round_trips;
    on_actor12_workers(async move {
        let (done_tx, done_rx) = oneshot::channel();
        let ponger = actor12::spawn::<Ponger>(());
        let pinger = actor12::spawn::<Pinger>((ponger.clone(), n, done_tx));
        ponger.send_raw(PongerMsg::SetPeer(pinger.clone())).await.expect("ponger alive");

        let start = Instant::now();
        ponger.send_raw(PongerMsg::Ping(1)).await.expect("ponger alive");
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

/// Answers every request `x` with `x + 1`.
struct Server;

impl Actor for Server {
    type Message = Envelope<u64, anyhow::Result<u64>>;
    type Spec = ();
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();

    fn state(_: &()) {}

    fn init(_: Init<'_, Self>) -> impl InitFuture<Self> {
        std::future::ready(Ok(Server))
    }

    async fn handle(&mut self, _: Exec<'_, Self>, msg: Self::Message) {
        let _ = msg.reply.send(Ok(msg.value + 1));
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

/// Asks `server` `0`, ..., `n - 1`, one at a time; checks and sums the answers.
async fn ask_n(server: &Link<Server>, n: u64) -> u64 {
    let mut sum = 0;
    for x in 0..n {
        let answer = server.send(x).await.expect("ask: no answer");
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

/// A value told to a [`Counter`].
struct Value(u64);

impl ActorMessage<Counter> for Value {}

impl Actor for Counter {
    type Message = Value;
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

    async fn handle(&mut self, _: Exec<'_, Self>, Value(x): Value) {
        self.count += 1;
        self.sum += x;
        if self.count == self.expected
            && let Some(done) = self.done.take()
        {
            let _ = done.send((self.count, self.sum));
        }
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
                        actor.send_raw(Value(x)).await.expect("the receiver is alive");
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
            workers[(x % actors) as usize].send_raw(Value(x)).await.expect("the actor is alive");
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

/// What a ring member receives.
enum RingMsg {
    /// The next actor of the ring: sent once, before the timed part.
    Next(Link<RingNode>),
    /// The token: hops still to go.
    Token(u64),
}

impl ActorMessage<RingNode> for RingMsg {}

impl Actor for RingNode {
    type Message = RingMsg;
    type Spec = (usize, mpsc::UnboundedSender<usize>);
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();

    fn state(_: &Self::Spec) {}

    fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
        let (place, done) = ctx.spec;
        std::future::ready(Ok(RingNode { place, next: None, done }))
    }

    async fn handle(&mut self, _: Exec<'_, Self>, msg: RingMsg) {
        match msg {
            RingMsg::Next(next) => self.next = Some(next),
            RingMsg::Token(0) => {
                let _ = self.done.send(self.place);
            }
            RingMsg::Token(k) => {
                let next = self.next.as_ref().expect("next set");
                if next.send_raw(RingMsg::Token(k - 1)).await.is_err() {
                    panic!("ring: the next actor is gone");
                }
            }
        }
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
            let next = nodes[(i + 1) % actors].clone();
            node.send_raw(RingMsg::Next(next)).await.expect("ring actor alive");
        }

        let start = Instant::now();
        nodes[0].send_raw(RingMsg::Token(hops)).await.expect("ring actor alive");
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

/// What [`Idle`] could be told.
struct Poke(#[allow(dead_code, reason = "never sent: the actor stays idle")] u64);

impl ActorMessage<Idle> for Poke {}

impl Actor for Idle {
    type Message = Poke;
    type Spec = ();
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();

    fn state(_: &()) {}

    fn init(_: Init<'_, Self>) -> impl InitFuture<Self> {
        started();
        std::future::ready(Ok(Idle))
    }

    async fn handle(&mut self, _: Exec<'_, Self>, _: Poke) {
        poked();
    }
}

/// Spawns `n` idle actors, counting live bytes once they are idle, and stops them; then again,
/// timed (see [`spawn_stop` in `peers`](super)).
pub fn spawn_stop(p: &Params) -> Measurement {
    actor12_spawn_stop(p, |idle: Link<Idle>| async move {
        idle.send_raw(Poke(1)).await.expect("the idle actor is alive");
    })
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

/// What a creature receives.
enum CreatureMsg {
    /// Every creature's link: sent once, before the timed part.
    Table(Creatures),
    /// The start: ask the mall for a first meeting.
    Go,
    /// From the mall: meet creature `partner`, of colour `color`.
    Paired { partner: usize, color: u8 },
    /// From the partner the mall paired it with: the meeting's colour.
    Change { color: u8 },
}

impl ActorMessage<ChameneosCreature> for CreatureMsg {}

impl ChameneosCreature {
    /// Asks the mall for the next meeting.
    async fn meet(&self) {
        let request = MallMsg::Meet(self.creature.meet());
        self.mall.send_raw(request).await.expect("chameneos: the mall is alive");
    }
}

impl Actor for ChameneosCreature {
    type Message = CreatureMsg;
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

    async fn handle(&mut self, _: Exec<'_, Self>, msg: CreatureMsg) {
        match msg {
            CreatureMsg::Table(others) => self.others = Some(others),
            CreatureMsg::Go => self.meet().await,
            CreatureMsg::Paired { partner, color } => {
                let color = self.creature.paired(color);
                let others = self.others.as_ref().expect("chameneos: table set");
                let change = CreatureMsg::Change { color };
                others[partner].send_raw(change).await.expect("chameneos: the partner is alive");
                self.meet().await;
            }
            CreatureMsg::Change { color } => {
                self.creature.changed(color);
                self.meet().await;
            }
        }
    }
}

/// The mall of `chameneos` ([`Mall`]): pairs the creatures, reports when all have retired.
struct ChameneosMall {
    mall: Mall,
    creatures: Option<Creatures>,
    done: Option<oneshot::Sender<u64>>,
}

/// What the mall receives.
enum MallMsg {
    /// Every creature's link: sent once, before the timed part.
    Table(Creatures),
    /// A creature's request.
    Meet(super::Meet),
}

impl ActorMessage<ChameneosMall> for MallMsg {}

impl Actor for ChameneosMall {
    type Message = MallMsg;
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

    async fn handle(&mut self, _: Exec<'_, Self>, msg: MallMsg) {
        let request = match msg {
            MallMsg::Table(creatures) => {
                self.creatures = Some(creatures);
                return;
            }
            MallMsg::Meet(request) => request,
        };
        match self.mall.meet(request) {
            MallStep::Wait | MallStep::Retired => {}
            MallStep::Pair { to, partner, color } => {
                let creatures = self.creatures.as_ref().expect("chameneos: table set");
                let paired = CreatureMsg::Paired { partner, color };
                creatures[to].send_raw(paired).await.expect("chameneos: the creature is alive");
            }
            MallStep::Done { met } => {
                let _ = self.done.take().expect("chameneos: done once").send(met);
            }
        }
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
        mall.send_raw(MallMsg::Table(table.clone())).await.expect("chameneos: the mall is alive");
        for creature in &creatures {
            let msg = CreatureMsg::Table(table.clone());
            creature.send_raw(msg).await.expect("chameneos: the creature is alive");
        }

        let start = Instant::now();
        for creature in &creatures {
            creature.send_raw(CreatureMsg::Go).await.expect("chameneos: the creature is alive");
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

/// What a `big` actor receives.
enum BigMsg {
    /// Every actor's link: sent once, before the timed part.
    Table(BigTable),
    /// The start: send the first ping.
    Go,
    /// Ping `seq` of actor `from`: answer it.
    Ping { from: usize, seq: u64 },
    /// Actor `from`'s answer to this actor's ping `seq`.
    Pong { from: usize, seq: u64 },
}

impl ActorMessage<BigNode> for BigMsg {}

impl Actor for BigNode {
    type Message = BigMsg;
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

    async fn handle(&mut self, _: Exec<'_, Self>, msg: BigMsg) {
        let step = match msg {
            BigMsg::Table(others) => {
                self.others = Some(others);
                return;
            }
            BigMsg::Go => self.big.start(),
            BigMsg::Ping { from, seq } => {
                let others = self.others.as_ref().expect("big: table set");
                let pong = BigMsg::Pong { from: self.me, seq };
                others[from].send_raw(pong).await.expect("big: the pinger is alive");
                return;
            }
            BigMsg::Pong { from, seq } => self.big.pong(from, seq),
        };
        match step {
            BigStep::Ping { to, seq } => {
                let others = self.others.as_ref().expect("big: table set");
                let ping = BigMsg::Ping { from: self.me, seq };
                others[to].send_raw(ping).await.expect("big: the target is alive");
            }
            BigStep::Done => self.done.send(self.me).expect("big: the driver waits"),
        }
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
            node.send_raw(BigMsg::Table(table.clone())).await.expect("big: the actor is alive");
        }

        let start = Instant::now();
        for node in &nodes {
            node.send_raw(BigMsg::Go).await.expect("big: the actor is alive");
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
