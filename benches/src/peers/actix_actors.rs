//! actix: actors implement `actix::Actor` with a `Context`, one `Handler<M>` per message type;
//! they are started with `Actor::start` on an `actix::System`, told with `Addr::do_send`, asked
//! with `Addr::send(..).await`, and stopped by a message whose handler calls `ctx.stop()`.
//!
//! An actix `System` runs every actor it starts on one thread (its arbiter): that is how actix is
//! used, and it is why actix is not given [`workers`](crate::workers) workers like the other
//! columns. The workload's driver, the client of `ask` and the senders of `fan_in` are tasks on
//! that same thread. actix has no way to await an actor's end from outside, so each actor says
//! it has stopped from its `stopped` hook: on a channel, and in `spawn_stop`, whose stops are
//! timed, by a count that wakes the driver once the last has stopped ([`stopped`]), as the
//! starts are counted.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::{Actor, ActorContext, Addr, Context, Handler, Message};
use tokio::sync::{mpsc, oneshot};

use super::{
    BigActor, BigStep, BytesWindow, Creature, Mall, MallStep, Measurement, Meet, Params, Peer,
    Workload, all_poked, all_started, all_stopped, check_big, check_chameneos, entries,
    expect_starts, expect_stops, fork_join_expected_sum, poked, reported, reset_pokes, started,
    stopped, sum_below,
};

/// The implementation's name.
pub const IMPL: &str = "actix";

/// The eight workloads.
pub fn benches() -> Vec<Peer> {
    entries(IMPL, [ping_pong, ask, fan_in, ring, spawn_stop, fork_join, chameneos, big])
}

/// Runs `driver` on a fresh actix `System` (one thread: this one) and returns its output.
fn on_system<F: Future>(driver: F) -> F::Output {
    actix::System::new().block_on(driver)
}

/// Tells an actor to stop: its handler calls `ctx.stop()`.
struct Stop;

impl Message for Stop {
    type Result = ();
}

/// Where actors say they have stopped, and how the driver waits for that.
struct Exits {
    tx: mpsc::UnboundedSender<()>,
    rx: mpsc::UnboundedReceiver<()>,
}

impl Exits {
    fn new() -> Exits {
        let (tx, rx) = mpsc::unbounded_channel();
        Exits { tx, rx }
    }

    /// A notifier for one actor, to call from its `stopped` hook.
    fn notifier(&self) -> mpsc::UnboundedSender<()> {
        self.tx.clone()
    }

    /// Sends [`Stop`] to every actor and waits until as many have said they stopped.
    async fn stop_all<A>(&mut self, actors: &[Addr<A>])
    where
        A: Actor<Context = Context<A>> + Handler<Stop>,
    {
        for actor in actors {
            actor.do_send(Stop);
        }
        for _ in actors {
            self.rx.recv().await.expect("an actor stops");
        }
    }
}

/// `Actor` (that says when it has stopped through its `exit` field, or calls `$stopped`, and
/// calls `$started` when it starts) and `Handler<Stop>`.
macro_rules! stoppable_actor {
    ($($ty:ty),*) => {$(
        stoppable_actor!($ty, started = |_| (), stopped = |a: &mut $ty| {
            let _ = a.exit.send(());
        });
    )*};
    ($ty:ty, started = $started:expr, stopped = $stopped:expr) => {
        impl Actor for $ty {
            type Context = Context<Self>;

            fn started(&mut self, _: &mut Context<Self>) {
                $started(self);
            }

            fn stopped(&mut self, _: &mut Context<Self>) {
                $stopped(self);
            }
        }

        impl Handler<Stop> for $ty {
            type Result = ();

            fn handle(&mut self, _: Stop, ctx: &mut Context<Self>) {
                ctx.stop();
            }
        }
    };
}

stoppable_actor!(Ponger, Pinger, Server, Counter, RingNode, Chameneo, MallActor, BigNode);
stoppable_actor!(Idle, started = |_: &mut Idle| started(), stopped = |_: &mut Idle| stopped());

/// `impl Message` with `Result = ()` for each message type told, never asked.
macro_rules! told {
    ($($ty:ty),*) => {$(
        impl Message for $ty {
            type Result = ();
        }
    )*};
}

told!(SetPeer, Ping, Pong, Value, Next, Token, Go, Paired, Change, Request, BigPing, BigPong);

// ---- ping_pong ----

struct Ponger {
    peer: Option<Addr<Pinger>>,
    exit: mpsc::UnboundedSender<()>,
}

/// Who the ponger answers: sent once, before the timed part.
struct SetPeer(Addr<Pinger>);
struct Ping(u64);
struct Pong(u64);

impl Handler<SetPeer> for Ponger {
    type Result = ();

    fn handle(&mut self, SetPeer(pinger): SetPeer, _: &mut Context<Self>) {
        self.peer = Some(pinger);
    }
}

impl Handler<Ping> for Ponger {
    type Result = ();

    fn handle(&mut self, Ping(x): Ping, _: &mut Context<Self>) {
        self.peer.as_ref().expect("peer set").do_send(Pong(x));
    }
}

struct Pinger {
    ponger: Addr<Ponger>,
    n: u64,
    received: u64,
    done: Option<oneshot::Sender<u64>>,
    exit: mpsc::UnboundedSender<()>,
}

impl Handler<Pong> for Pinger {
    type Result = ();

    fn handle(&mut self, Pong(x): Pong, _: &mut Context<Self>) {
        self.received += 1;
        assert_eq!(x, self.received, "ping_pong: a ball was lost or reordered");
        if self.received == self.n {
            let _ = self.done.take().expect("reported once").send(self.received);
        } else {
            self.ponger.do_send(Ping(x + 1));
        }
    }
}

/// Two actors bounce a counter; the pinger reports after the last round trip.
pub fn ping_pong(p: &Params) -> Measurement {
    let n = p.round_trips;
    on_system(async move {
        let mut exits = Exits::new();
        let (done_tx, done_rx) = oneshot::channel();
        let ponger = Ponger { peer: None, exit: exits.notifier() }.start();
        let pinger = Pinger {
            ponger: ponger.clone(),
            n,
            received: 0,
            done: Some(done_tx),
            exit: exits.notifier(),
        }
        .start();
        ponger.do_send(SetPeer(pinger.clone()));

        let start = Instant::now();
        ponger.do_send(Ping(1));
        let received = reported(done_rx).await.expect("the pinger reports");
        let elapsed = start.elapsed();

        assert_eq!(received, n, "ping_pong: round trips");
        exits.stop_all(&[pinger]).await;
        exits.stop_all(&[ponger]).await;
        Measurement::timed(elapsed, n)
    })
}

// ---- ask ----

struct Server {
    exit: mpsc::UnboundedSender<()>,
}

struct Ask(u64);

impl Message for Ask {
    type Result = u64;
}

impl Handler<Ask> for Server {
    type Result = u64;

    fn handle(&mut self, Ask(x): Ask, _: &mut Context<Self>) -> u64 {
        x + 1
    }
}

/// A client task asks one actor `n` times; the actor answers each `x` with `x + 1`.
pub fn ask(p: &Params) -> Measurement {
    let n = p.asks;
    on_system(async move {
        let mut exits = Exits::new();
        let server = Server { exit: exits.notifier() }.start();

        let start = Instant::now();
        let mut sum = 0;
        for x in 0..n {
            let answer = server.send(Ask(x)).await.expect("ask: no answer");
            assert_eq!(answer, x + 1, "ask: wrong answer");
            sum += answer;
        }
        let elapsed = start.elapsed();

        assert_eq!(sum, sum_below(n) + n, "ask: answers");
        exits.stop_all(&[server]).await;
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
    exit: mpsc::UnboundedSender<()>,
}

struct Value(u64);

impl Handler<Value> for Counter {
    type Result = ();

    fn handle(&mut self, Value(x): Value, _: &mut Context<Self>) {
        self.count += 1;
        self.sum += x;
        if self.count == self.expected {
            let _ = self.done.send((self.id, self.count, self.sum));
        }
    }
}

impl Counter {
    fn new(
        id: u64,
        expected: u64,
        done: &mpsc::UnboundedSender<(u64, u64, u64)>,
        exits: &Exits,
    ) -> Counter {
        Counter { id, expected, count: 0, sum: 0, done: done.clone(), exit: exits.notifier() }
    }
}

/// Eight sender tasks tell one actor; it reports count and sum after the last message.
pub fn fan_in(p: &Params) -> Measurement {
    let (senders, m) = (p.fan_in_senders, p.fan_in_messages);
    let per_sender = m / senders;
    assert_eq!(per_sender * senders, m, "fan_in: messages must divide among the senders");
    on_system(async move {
        let mut exits = Exits::new();
        let (done_tx, mut done_rx) = mpsc::unbounded_channel();
        let receiver = Counter::new(0, m, &done_tx, &exits).start();

        let start = Instant::now();
        let tasks: Vec<_> = (0..senders)
            .map(|s| {
                let actor = receiver.clone();
                actix::spawn(async move {
                    for x in s * per_sender..(s + 1) * per_sender {
                        actor.do_send(Value(x));
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
        exits.stop_all(&[receiver]).await;
        Measurement::timed(elapsed, m)
    })
}

/// One sender tells `m` messages round-robin to 64 actors; each reports when it has its share.
pub fn fork_join(p: &Params) -> Measurement {
    let (actors, m) = (p.fork_join_actors, p.fork_join_messages);
    let share = m / actors;
    assert_eq!(share * actors, m, "fork_join: messages must divide among the actors");
    on_system(async move {
        let mut exits = Exits::new();
        let (done_tx, mut done_rx) = mpsc::unbounded_channel();
        let workers: Vec<_> =
            (0..actors).map(|i| Counter::new(i, share, &done_tx, &exits).start()).collect();

        let start = Instant::now();
        for x in 0..m {
            workers[(x % actors) as usize].do_send(Value(x));
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
        exits.stop_all(&workers).await;
        Measurement::timed(elapsed, m)
    })
}

// ---- ring ----

struct RingNode {
    place: usize,
    next: Option<Addr<RingNode>>,
    done: mpsc::UnboundedSender<usize>,
    exit: mpsc::UnboundedSender<()>,
}

/// The next actor of the ring: sent once, before the timed part.
struct Next(Addr<RingNode>);
struct Token(u64);

impl Handler<Next> for RingNode {
    type Result = ();

    fn handle(&mut self, Next(next): Next, _: &mut Context<Self>) {
        self.next = Some(next);
    }
}

impl Handler<Token> for RingNode {
    type Result = ();

    fn handle(&mut self, Token(k): Token, _: &mut Context<Self>) {
        if k == 0 {
            let _ = self.done.send(self.place);
        } else {
            self.next.as_ref().expect("next set").do_send(Token(k - 1));
        }
    }
}

/// A token counts down round a ring of actors; whoever receives 0 reports its place.
pub fn ring(p: &Params) -> Measurement {
    let (actors, hops) = (p.ring_actors as usize, p.ring_hops);
    on_system(async move {
        let mut exits = Exits::new();
        let (done_tx, mut done_rx) = mpsc::unbounded_channel();
        let nodes: Vec<_> = (0..actors)
            .map(|place| {
                RingNode { place, next: None, done: done_tx.clone(), exit: exits.notifier() }
                    .start()
            })
            .collect();
        for (i, node) in nodes.iter().enumerate() {
            node.do_send(Next(nodes[(i + 1) % actors].clone()));
        }

        let start = Instant::now();
        nodes[0].do_send(Token(hops));
        let last = reported(done_rx.recv()).await.expect("an actor reports");
        let elapsed = start.elapsed();

        assert_eq!(last, hops as usize % actors, "ring: the token stopped at the wrong place");
        exits.stop_all(&nodes).await;
        Measurement::timed(elapsed, hops)
    })
}

// ---- spawn_stop ----

/// An idle actor of `spawn_stop`: it counts its start and its stop ([`started`], [`stopped`]).
struct Idle;

/// What [`Idle`] is told (a `u64`, as every implementation's idle actor).
struct Poke(#[allow(dead_code, reason = "only carried")] u64);

impl Message for Poke {
    type Result = ();
}

impl Handler<Poke> for Idle {
    type Result = ();

    fn handle(&mut self, _: Poke, _: &mut Context<Self>) {
        poked();
    }
}

/// Sends [`Stop`] to every idle actor and waits until each has stopped ([`all_stopped`]).
async fn stop_idle(actors: &[Addr<Idle>]) {
    expect_stops(actors.len() as u64);
    for actor in actors {
        actor.do_send(Stop);
    }
    all_stopped().await;
}

/// Spawns `n` idle actors, counting live bytes once they are idle, and stops them; then again,
/// timed (see [`spawn_stop` in `peers`](super)).
pub fn spawn_stop(p: &Params) -> Measurement {
    let n = p.spawn_actors;
    on_system(async move {
        let mut actors = Vec::with_capacity(n as usize);
        let window = BytesWindow::open();
        for _ in 0..n {
            actors.push(Idle.start());
        }
        actix::clock::sleep(Duration::from_millis(20)).await;
        let fresh = window.now(n);
        reset_pokes();
        for actor in &actors {
            actor.do_send(Poke(1));
        }
        all_poked(n, tokio::time::sleep).await;
        let bytes_per_actor = window.close(n, fresh);
        stop_idle(&actors).await;
        drop(actors);

        let mut actors = Vec::with_capacity(n as usize);
        expect_starts(n);
        let start = Instant::now();
        for _ in 0..n {
            actors.push(Idle.start());
        }
        all_started().await;
        stop_idle(&actors).await;
        drop(actors); // inside the timed window, as every implementation's handles
        let elapsed = start.elapsed();
        Measurement { elapsed, ops: n, bytes_per_actor }
    })
}

// ---- chameneos and big: actors that know each other through a table ----

/// Every actor's address, sent to each (and to the mall of `chameneos`) once, before the timed
/// part.
struct Table<A: Actor>(Arc<Vec<Addr<A>>>);

impl<A: Actor> Message for Table<A> {
    type Result = ();
}

/// Starts the timed part: a creature's first request, a `big` actor's first ping.
struct Go;

// ---- chameneos ----

/// A creature of `chameneos`.
struct Chameneo {
    creature: Creature,
    mall: Addr<MallActor>,
    all: Option<Arc<Vec<Addr<Chameneo>>>>,
    exit: mpsc::UnboundedSender<()>,
}

/// The mall paired the creature with `partner`, of colour `color`.
struct Paired {
    partner: usize,
    color: u8,
}

/// The creature's partner took colour `color` at their meeting.
struct Change {
    color: u8,
}

/// A creature's request to the mall.
struct Request(Meet);

impl Chameneo {
    /// Asks the mall for a meeting.
    fn request(&self) {
        self.mall.do_send(Request(self.creature.meet()));
    }
}

impl Handler<Table<Chameneo>> for Chameneo {
    type Result = ();

    fn handle(&mut self, Table(all): Table<Chameneo>, _: &mut Context<Self>) {
        self.all = Some(all);
    }
}

impl Handler<Go> for Chameneo {
    type Result = ();

    fn handle(&mut self, _: Go, _: &mut Context<Self>) {
        self.request();
    }
}

impl Handler<Paired> for Chameneo {
    type Result = ();

    fn handle(&mut self, Paired { partner, color }: Paired, _: &mut Context<Self>) {
        let mine = self.creature.paired(color);
        self.all.as_ref().expect("chameneos: table set")[partner].do_send(Change { color: mine });
        self.request();
    }
}

impl Handler<Change> for Chameneo {
    type Result = ();

    fn handle(&mut self, Change { color }: Change, _: &mut Context<Self>) {
        self.creature.changed(color);
        self.request();
    }
}

/// The mall of `chameneos`: pairs the creatures' requests, and reports when all have retired.
struct MallActor {
    mall: Mall,
    creatures: Option<Arc<Vec<Addr<Chameneo>>>>,
    done: Option<oneshot::Sender<u64>>,
    exit: mpsc::UnboundedSender<()>,
}

impl Handler<Table<Chameneo>> for MallActor {
    type Result = ();

    fn handle(&mut self, Table(all): Table<Chameneo>, _: &mut Context<Self>) {
        self.creatures = Some(all);
    }
}

impl Handler<Request> for MallActor {
    type Result = ();

    fn handle(&mut self, Request(request): Request, _: &mut Context<Self>) {
        match self.mall.meet(request) {
            MallStep::Wait | MallStep::Retired => {}
            MallStep::Pair { to, partner, color } => {
                self.creatures.as_ref().expect("chameneos: table set")[to]
                    .do_send(Paired { partner, color });
            }
            MallStep::Done { met } => {
                let _ = self.done.take().expect("chameneos: reported once").send(met);
            }
        }
    }
}

/// Creatures meet in pairs through one mall actor; the mall reports the creatures' meetings
/// once all have retired.
pub fn chameneos(p: &Params) -> Measurement {
    let p = *p;
    on_system(async move {
        let mut exits = Exits::new();
        let (done_tx, done_rx) = oneshot::channel();
        let mall = MallActor {
            mall: Mall::new(p.chameneos_creatures, p.chameneos_meetings),
            creatures: None,
            done: Some(done_tx),
            exit: exits.notifier(),
        }
        .start();
        let creatures: Arc<Vec<_>> = Arc::new(
            (0..p.chameneos_creatures as usize)
                .map(|i| {
                    Chameneo {
                        creature: Creature::new(i),
                        mall: mall.clone(),
                        all: None,
                        exit: exits.notifier(),
                    }
                    .start()
                })
                .collect(),
        );
        for creature in creatures.iter() {
            creature.do_send(Table(creatures.clone()));
        }
        mall.do_send(Table(creatures.clone()));

        let start = Instant::now();
        for creature in creatures.iter() {
            creature.do_send(Go);
        }
        let met = reported(done_rx).await.expect("the mall reports");
        let elapsed = start.elapsed();

        check_chameneos(met, &p);
        exits.stop_all(&creatures).await;
        exits.stop_all(&[mall]).await;
        Measurement::timed(elapsed, p.chameneos_meetings)
    })
}

// ---- big ----

/// An actor of `big`.
struct BigNode {
    big: BigActor,
    me: usize,
    all: Option<Arc<Vec<Addr<BigNode>>>>,
    done: mpsc::UnboundedSender<usize>,
    exit: mpsc::UnboundedSender<()>,
}

/// Ping `seq` of actor `from`, which awaits its pong.
struct BigPing {
    from: usize,
    seq: u64,
}

/// Actor `from`'s answer to ping `seq`.
struct BigPong {
    from: usize,
    seq: u64,
}

impl BigNode {
    /// The table of every actor.
    fn all(&self) -> &[Addr<BigNode>] {
        self.all.as_ref().expect("big: table set")
    }

    /// Sends the next ping, or reports.
    fn step(&self, step: BigStep) {
        match step {
            BigStep::Ping { to, seq } => self.all()[to].do_send(BigPing { from: self.me, seq }),
            BigStep::Done => {
                let _ = self.done.send(self.me);
            }
        }
    }
}

impl Handler<Table<BigNode>> for BigNode {
    type Result = ();

    fn handle(&mut self, Table(all): Table<BigNode>, _: &mut Context<Self>) {
        self.all = Some(all);
    }
}

impl Handler<Go> for BigNode {
    type Result = ();

    fn handle(&mut self, _: Go, _: &mut Context<Self>) {
        let step = self.big.start();
        self.step(step);
    }
}

impl Handler<BigPing> for BigNode {
    type Result = ();

    fn handle(&mut self, BigPing { from, seq }: BigPing, _: &mut Context<Self>) {
        self.all()[from].do_send(BigPong { from: self.me, seq });
    }
}

impl Handler<BigPong> for BigNode {
    type Result = ();

    fn handle(&mut self, BigPong { from, seq }: BigPong, _: &mut Context<Self>) {
        let step = self.big.pong(from, seq);
        self.step(step);
    }
}

/// Every actor pings random others, one ping at a time, and reports once each of its pings
/// has had its pong.
pub fn big(p: &Params) -> Measurement {
    let p = *p;
    let (actors, pings) = (p.big_actors, p.big_pings);
    on_system(async move {
        let mut exits = Exits::new();
        let (done_tx, mut done_rx) = mpsc::unbounded_channel();
        let nodes: Arc<Vec<_>> = Arc::new(
            (0..actors as usize)
                .map(|me| {
                    BigNode {
                        big: BigActor::new(me, actors, pings),
                        me,
                        all: None,
                        done: done_tx.clone(),
                        exit: exits.notifier(),
                    }
                    .start()
                })
                .collect(),
        );
        for node in nodes.iter() {
            node.do_send(Table(nodes.clone()));
        }

        let start = Instant::now();
        for node in nodes.iter() {
            node.do_send(Go);
        }
        let mut reports = Vec::with_capacity(actors as usize);
        for _ in 0..actors {
            reports.push(reported(done_rx.recv()).await.expect("an actor reports"));
        }
        let elapsed = start.elapsed();

        check_big(reports, &p);
        exits.stop_all(&nodes).await;
        Measurement::timed(elapsed, p.ops(Workload::Big))
    })
}
