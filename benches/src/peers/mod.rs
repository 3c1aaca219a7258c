//! The `peers` group: the same actor workloads on actor12 and on other actor frameworks.
//!
//! Savina-style workloads, each written once per implementation in that implementation's own
//! idiom (one file per implementation):
//!
//! | workload | what runs | one operation |
//! |---|---|---|
//! | `ping_pong` | two actors bounce a message back and forth | a round trip |
//! | `ask` | a client task asks one actor, awaiting each reply before the next request | a round trip |
//! | `fan_in` | 8 sender tasks tell one actor, which counts | a message |
//! | `ring` | a token goes round a ring of actors, each passing it to the next | a hop |
//! | `spawn_stop` | spawn N idle actors, then stop them all and wait until they are gone | an actor |
//! | `fork_join` | one sender tells 64 actors round-robin and waits until all have processed theirs | a message |
//! | `chameneos` | 32 creatures meet in pairs through one mall actor and change colour ([`Mall`]) | a meeting (four messages) |
//! | `big` | 64 actors each ping random others, one ping at a time, and await each pong ([`BigActor`]) | a ping and its pong |
//!
//! Every multi-threaded runtime gets [`workers`](crate::workers) worker threads. actix runs its
//! actors on its `System`, one thread: that is how actix is used. Raw tokio, ractor and kameo
//! run twice, on a multi-threaded runtime (`tokio`, `ractor`, `kameo`) and on a current-thread
//! one (`tokio-1t`, `ractor-1t`, `kameo-1t`), which runs on the measuring thread
//! ([`on_threads`]): one thread pays no cross-thread wake-ups, and raw tokio on one is the
//! faster of its two on every workload here but `big`, whose actors' pings run in parallel on
//! two workers (actix's one thread has been the best peer on ping-pong in some runs). The best
//! peer is the fastest column that is not actor12's, whichever runtime it runs on.
//!
//! A run is timed from the first message (or spawn) to the moment the workload's last actor
//! reports completion; spawning the actors a workload needs before that, stopping them after,
//! and the checks are not timed. Every run checks its result (counts and sums of what was
//! received against what was sent) and panics on a mismatch, or on no report within [`STALL`].
//!
//! `spawn_stop` runs two passes, in the same order for every implementation, on one runtime:
//! first an untimed one that counts live bytes once the actors are idle (a fresh runtime, so
//! that no earlier actor's memory is freed meanwhile and subtracted), twice: before any actor
//! has had a message, then once each has handled one `u64` ([`poked`]) and is idle again
//! (actor12 makes an actor's mailbox block, and in handler style its handlers' buffer, at its
//! first message; tokio's channel, which ractor and kameo use too, makes its block with the
//! channel); then the timed one: spawn the actors, wait until each has started ([`started`],
//! called from its start: actor12 runs an actor's `init` inside its spawn on a worker, where a
//! tokio task or an actix actor on one thread first runs once its spawner yields), stop them,
//! wait until each is gone and drop every handle to them, inside the window.
//!
//! To add an implementation: a file with a `benches()` list of [`Peer`] entries, one per
//! [`Workload`], chained into [`benches`], and its name in [`IMPLS`]. The binary, the tables,
//! the files and the chart pick it up.

/// The entries of an implementation that runs on both tokio runtimes ([`on_threads`]): its eight
/// workload functions, each generic over `THREADS` (`0`: the workers, `1`: one thread), under
/// `$multi` and `$one` (tokio, ractor and kameo).
macro_rules! on_both_tokio_runtimes {
    ($multi:expr, $one:expr) => {{
        let mut all = super::entries(
            $multi,
            [
                ping_pong::<0>,
                ask::<0>,
                fan_in::<0>,
                ring::<0>,
                spawn_stop::<0>,
                fork_join::<0>,
                chameneos::<0>,
                big::<0>,
            ],
        );
        all.extend(super::entries(
            $one,
            [
                ping_pong::<1>,
                ask::<1>,
                fan_in::<1>,
                ring::<1>,
                spawn_stop::<1>,
                fork_join::<1>,
                chameneos::<1>,
                big::<1>,
            ],
        ));
        all
    }};
}

pub mod actix_actors;
pub mod actor12_envelope;
pub mod actor12_handler;
pub mod alloc;
pub mod kameo_actors;
pub mod ractor_actors;
pub mod report;
pub mod tokio_tasks;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The group name: ids are `peers/<workload>/<impl>`, files `docs/benchmarks/peers.*`.
pub const GROUP: &str = "peers";

/// Implementations in report order. Names starting with `actor12` are actor12's own; the rest
/// are peers, and ratios are to the best (lowest) peer.
pub const IMPLS: &[&str] = &[
    "actor12",
    "actor12-envelope",
    "tokio",
    "tokio-1t",
    "ractor",
    "ractor-1t",
    "kameo",
    "kameo-1t",
    "actix",
];

/// Whether `imp` is a peer (not actor12 itself): the ratios' denominator is the best peer.
pub fn is_peer(imp: &str) -> bool {
    !imp.starts_with("actor12")
}

/// Whether `imp` runs on one thread, the measuring one: a `-1t` column (a current-thread tokio
/// runtime, [`on_threads`]`(1, ..)`) or actix (its `System`).
pub fn one_thread(imp: &str) -> bool {
    imp.ends_with("-1t") || imp == "actix"
}

/// A scenario of the group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Workload {
    /// Two actors bounce a message [`Params::round_trips`] times.
    PingPong,
    /// A client asks one actor [`Params::asks`] times, one request at a time.
    Ask,
    /// [`Params::fan_in_senders`] senders tell one actor [`Params::fan_in_messages`] messages.
    FanIn,
    /// A token makes [`Params::ring_hops`] hops round [`Params::ring_actors`] actors.
    Ring,
    /// [`Params::spawn_actors`] idle actors are spawned, then all stopped.
    SpawnStop,
    /// One sender tells [`Params::fork_join_messages`] messages round-robin to
    /// [`Params::fork_join_actors`] actors.
    ForkJoin,
    /// [`Params::chameneos_creatures`] creatures meet [`Params::chameneos_meetings`] times
    /// through one mall actor ([`Mall`]).
    Chameneos,
    /// [`Params::big_actors`] actors each send [`Params::big_pings`] pings to random others
    /// ([`BigActor`]), one at a time, each answered with a pong.
    Big,
}

impl Workload {
    /// Every workload, in report order.
    pub const ALL: [Workload; 8] = [
        Workload::PingPong,
        Workload::Ask,
        Workload::FanIn,
        Workload::Ring,
        Workload::SpawnStop,
        Workload::ForkJoin,
        Workload::Chameneos,
        Workload::Big,
    ];

    /// The name in ids, tables and files.
    pub fn name(self) -> &'static str {
        match self {
            Workload::PingPong => "ping_pong",
            Workload::Ask => "ask",
            Workload::FanIn => "fan_in",
            Workload::Ring => "ring",
            Workload::SpawnStop => "spawn_stop",
            Workload::ForkJoin => "fork_join",
            Workload::Chameneos => "chameneos",
            Workload::Big => "big",
        }
    }

    /// What one operation is: the cells are nanoseconds per this.
    pub fn unit(self) -> &'static str {
        match self {
            Workload::PingPong | Workload::Ask => "round trip",
            Workload::FanIn | Workload::ForkJoin => "message",
            Workload::Ring => "hop",
            Workload::SpawnStop => "actor",
            Workload::Chameneos => "meeting",
            Workload::Big => "ping",
        }
    }

    /// One line saying what a run does with `params`.
    pub fn describe(self, p: &Params) -> String {
        match self {
            Workload::PingPong => {
                format!("two actors bounce a message, {} round trips", p.round_trips)
            }
            Workload::Ask => format!("a client asks one actor {} times, one at a time", p.asks),
            Workload::FanIn => format!(
                "{} senders tell one actor {} messages in all",
                p.fan_in_senders, p.fan_in_messages
            ),
            Workload::Ring => {
                format!(
                    "a token makes {} hops round a ring of {} actors",
                    p.ring_hops, p.ring_actors
                )
            }
            Workload::SpawnStop => format!(
                "spawn {} idle actors, then stop them all and wait; bytes are live heap per idle \
                 actor, before and after it handled a message",
                p.spawn_actors
            ),
            Workload::ForkJoin => format!(
                "one sender tells {} messages round-robin to {} actors and waits for all",
                p.fork_join_messages, p.fork_join_actors
            ),
            Workload::Chameneos => format!(
                "{} creatures meet {} times in pairs through one mall actor",
                p.chameneos_creatures, p.chameneos_meetings
            ),
            Workload::Big => format!(
                "{} actors each ping random others {} times, one ping at a time",
                p.big_actors, p.big_pings
            ),
        }
    }
}

/// Sizes of one run of each workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Params {
    /// Round trips of `ping_pong`.
    pub round_trips: u64,
    /// Requests of `ask`.
    pub asks: u64,
    /// Sender tasks of `fan_in`.
    pub fan_in_senders: u64,
    /// Messages of `fan_in`, all senders together (a multiple of the senders).
    pub fan_in_messages: u64,
    /// Actors of `ring`.
    pub ring_actors: u64,
    /// Hops of `ring`.
    pub ring_hops: u64,
    /// Actors of `spawn_stop`.
    pub spawn_actors: u64,
    /// Actors of `fork_join`.
    pub fork_join_actors: u64,
    /// Messages of `fork_join` (a multiple of the actors).
    pub fork_join_messages: u64,
    /// Creatures of `chameneos` (at least 2).
    pub chameneos_creatures: u64,
    /// Meetings of `chameneos`.
    pub chameneos_meetings: u64,
    /// Actors of `big` (at least 2).
    pub big_actors: u64,
    /// Pings each actor of `big` sends.
    pub big_pings: u64,
}

impl Params {
    /// The sizes of a normal run: long enough to dwarf a run's fixed costs, short enough that
    /// the slowest implementation takes well under a second.
    pub const FULL: Params = Params {
        round_trips: 100_000,
        asks: 100_000,
        fan_in_senders: 8,
        fan_in_messages: 800_000,
        ring_actors: 100,
        ring_hops: 500_000,
        spawn_actors: 20_000,
        fork_join_actors: 64,
        fork_join_messages: 640_000,
        chameneos_creatures: 32,
        chameneos_meetings: 100_000,
        big_actors: 64,
        big_pings: 4_000,
    };

    /// The sizes of `--quick`: a tenth.
    pub const QUICK: Params = Params {
        round_trips: 10_000,
        asks: 10_000,
        fan_in_senders: 8,
        fan_in_messages: 80_000,
        ring_actors: 100,
        ring_hops: 50_000,
        spawn_actors: 2_000,
        fork_join_actors: 64,
        fork_join_messages: 64_000,
        chameneos_creatures: 32,
        chameneos_meetings: 10_000,
        big_actors: 64,
        big_pings: 400,
    };

    /// Tiny sizes for the tests: every code path, in milliseconds.
    pub const TINY: Params = Params {
        round_trips: 50,
        asks: 50,
        fan_in_senders: 8,
        fan_in_messages: 800,
        ring_actors: 10,
        ring_hops: 95,
        spawn_actors: 50,
        fork_join_actors: 64,
        fork_join_messages: 640,
        chameneos_creatures: 4,
        chameneos_meetings: 50,
        big_actors: 8,
        big_pings: 10,
    };

    /// Operations one run of `workload` performs: the divisor of its time.
    pub fn ops(&self, workload: Workload) -> u64 {
        match workload {
            Workload::PingPong => self.round_trips,
            Workload::Ask => self.asks,
            Workload::FanIn => self.fan_in_messages,
            Workload::Ring => self.ring_hops,
            Workload::SpawnStop => self.spawn_actors,
            Workload::ForkJoin => self.fork_join_messages,
            Workload::Chameneos => self.chameneos_meetings,
            Workload::Big => self.big_actors * self.big_pings,
        }
    }
}

/// What one run measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Measurement {
    /// The timed part of the run.
    pub elapsed: Duration,
    /// Operations in it (see [`Workload::unit`]).
    pub ops: u64,
    /// `spawn_stop` only, and only where the counting allocator of [`alloc`] is the global
    /// allocator: live heap bytes per idle actor, before and after it handled one message.
    pub bytes_per_actor: Option<Bytes>,
}

/// Live heap bytes per idle actor ([`BytesWindow`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bytes {
    /// Before the actor has had a message.
    pub fresh: f64,
    /// Once it has handled one ([`poked`]) and waits again.
    pub after_message: f64,
}

impl Measurement {
    /// A run of `ops` operations that took `elapsed`, with no memory figure.
    pub fn timed(elapsed: Duration, ops: u64) -> Measurement {
        Measurement { elapsed, ops, bytes_per_actor: None }
    }

    /// Nanoseconds per operation.
    pub fn ns_per_op(&self) -> f64 {
        self.elapsed.as_nanos() as f64 / self.ops.max(1) as f64
    }
}

/// One workload on one implementation.
#[derive(Debug, Clone, Copy)]
pub struct Peer {
    /// The scenario.
    pub workload: Workload,
    /// The implementation: one of [`IMPLS`].
    pub imp: &'static str,
    /// Runs the workload once at the given sizes, checks it, and says what it measured.
    pub run: fn(&Params) -> Measurement,
}

impl Peer {
    /// `peers/<workload>/<impl>`, the name used in progress lines and filters.
    pub fn id(&self) -> String {
        format!("{GROUP}/{}/{}", self.workload.name(), self.imp)
    }

    /// `peers/<workload>`: the implementations of one row take turns going first.
    pub fn row(&self) -> String {
        format!("{GROUP}/{}", self.workload.name())
    }
}

/// The entries of one implementation: `runs` lists a function per workload, in
/// [`Workload::ALL`] order.
pub fn entries(imp: &'static str, runs: [fn(&Params) -> Measurement; 8]) -> Vec<Peer> {
    Workload::ALL.into_iter().zip(runs).map(|(workload, run)| Peer { workload, imp, run }).collect()
}

/// Every entry of the group, implementation by implementation.
pub fn benches() -> Vec<Peer> {
    let mut all: Vec<Peer> = [
        actor12_handler::benches(),
        actor12_envelope::benches(),
        tokio_tasks::benches(),
        ractor_actors::benches(),
        kameo_actors::benches(),
        actix_actors::benches(),
    ]
    .concat();
    all.sort_by_key(|p| {
        let imp = IMPLS.iter().position(|&i| i == p.imp).unwrap_or(IMPLS.len());
        (Workload::ALL.iter().position(|&w| w == p.workload), imp)
    });
    all
}

/// A tokio runtime of `threads` threads: `1` builds a current-thread runtime, `0` a
/// multi-threaded one with [`workers`](crate::workers) workers, as tokio, ractor and kameo get.
pub fn tokio_runtime(threads: usize) -> tokio::runtime::Runtime {
    let mut builder = if threads == 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        builder.worker_threads(if threads == 0 { crate::workers() } else { threads });
        builder
    };
    builder.enable_time().build().expect("a tokio runtime")
}

/// Runs `driver` as a task of a fresh [`tokio_runtime`] of `threads` threads and returns its
/// output: the driver runs on the workers, like the actors, not on the thread that measures
/// (on a current-thread runtime, on that thread, as a task beside the actors).
pub fn on_threads<F>(threads: usize, driver: F) -> F::Output
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let rt = tokio_runtime(threads);
    rt.block_on(async move { tokio::spawn(driver).await.expect("the driver task") })
}

/// An actor12 runtime with [`workers`](crate::workers) workers, built per run as the peers' runtimes are.
pub fn actor12_runtime() -> actor12::rt::Runtime {
    actor12::rt::Runtime::builder()
        .worker_threads(crate::workers())
        .build()
        .expect("an actor12 runtime")
}

/// [`on_threads`]`(0, ..)` for actor12: runs `driver` as a task of a fresh [`actor12_runtime`],
/// so that `actor12::spawn` in it puts the actors on that runtime's workers.
pub fn on_actor12_workers<F>(driver: F) -> F::Output
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let rt = actor12_runtime();
    rt.block_on(rt.spawn(driver)).expect("the driver task")
}

/// Cancels every actor12 actor, then waits until each has stopped.
///
/// With `cancel_and_wait`, whose future is unboxed (`wait` returns a `BoxFuture`, as in actor12
/// 0.0.11, and would add an allocation per actor to the timing).
///
/// It checks nothing itself: `spawn_stop` calls it inside its timed window, and checks after the
/// window (by the live count) that every actor is gone.
pub async fn stop_all<A: actor12::Actor<Cancel = ()>>(links: &[actor12::Link<A>]) {
    let stopped: Vec<_> = links.iter().map(|link| link.cancel_and_wait(())).collect();
    for wait in stopped {
        wait.await;
    }
}

/// `spawn_stop` for actor12, whatever the style of the idle actor `A`: spawns `n` of them,
/// counting live bytes once they are idle, and stops them; then again, timed (the module's
/// documentation has the passes).
///
/// `poke` tells an actor one `u64`, which its handler counts with [`poked`].
pub fn actor12_spawn_stop<A, P, F>(p: &Params, poke: P) -> Measurement
where
    A: actor12::Actor<Spec = (), Cancel = ()>,
    P: Fn(actor12::Link<A>) -> F + Send + 'static,
    F: std::future::Future<Output = ()> + Send,
{
    let n = p.spawn_actors;
    on_actor12_workers(async move {
        let live = actor12::count::stats::<A>().live;
        let mut actors = Vec::with_capacity(n as usize);
        let window = BytesWindow::open();
        actors.extend((0..n).map(|_| actor12::spawn::<A>(())));
        // Let every actor reach its first receive and park (untimed; as every peer does).
        actor12::time::sleep(Duration::from_millis(20)).await;
        let fresh = window.now(n);
        reset_pokes();
        for actor in &actors {
            poke(actor.clone()).await;
        }
        all_poked(n, actor12::time::sleep).await;
        let bytes_per_actor = window.close(n, fresh);
        stop_all(&actors).await;
        drop(actors);

        let mut actors = Vec::with_capacity(n as usize);
        expect_starts(n);
        let start = std::time::Instant::now();
        actors.extend((0..n).map(|_| actor12::spawn::<A>(())));
        all_started().await;
        stop_all(&actors).await;
        drop(actors); // the last links free the actors: inside the timed window, as the peers'
        let elapsed = start.elapsed();
        assert_eq!(actor12::count::stats::<A>().live, live, "spawn_stop: actors left alive");
        Measurement { elapsed, ops: n, bytes_per_actor }
    })
}

/// [`reported`] on an actor12 runtime (its own timer wheel instead of tokio's).
pub async fn reported_actor12<F: std::future::Future>(report: F) -> F::Output {
    match actor12::time::timeout(STALL, report).await {
        Ok(output) => output,
        Err(_) => panic!("{}", stalled()),
    }
}

/// How long a run may wait for its actors' report before it is taken for stalled.
pub const STALL: Duration = Duration::from_secs(60);

/// What a stalled run says: a lost message, or an actor that panicked (its panic is reported
/// above, and where the other actors still hold the report's sender, nobody reports).
fn stalled() -> String {
    format!(
        "no report from the actors within {STALL:?}: a message was lost, or an actor panicked \
         (see any panic above)"
    )
}

/// Awaits a report from a workload's actors; panics if none comes within [`STALL`], so that a
/// lost message fails the run instead of hanging it.
pub async fn reported<F: std::future::Future>(report: F) -> F::Output {
    match tokio::time::timeout(STALL, report).await {
        Ok(output) => output,
        Err(_) => panic!("{}", stalled()),
    }
}

/// The per-actor sum `fork_join` expects: actor `i` of `actors` receives the values
/// `i, i + actors, i + 2 * actors, ...` below `messages`.
pub fn fork_join_expected_sum(i: u64, actors: u64, messages: u64) -> u64 {
    (i..messages).step_by(actors as usize).sum()
}

/// `0 + 1 + ... + (n - 1)`: what a receiver of the values `0..n` sums to.
pub fn sum_below(n: u64) -> u64 {
    n * n.saturating_sub(1) / 2
}

/// Creature `i`'s colour at the start of `chameneos`: one of three, `i % 3`.
pub fn initial_color(creature: usize) -> u8 {
    (creature % 3) as u8
}

/// The colour two creatures of colours `a` and `b` take when they meet (Savina's complement
/// over three colours): `a` if they are alike, else the third colour.
pub fn complement(a: u8, b: u8) -> u8 {
    if a == b { a } else { 3 - a - b }
}

/// A creature's request to the mall: who it is, its colour, and how many meetings it has had.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Meet {
    /// The creature's index.
    pub creature: usize,
    /// Its colour now.
    pub color: u8,
    /// Meetings it has had.
    pub met: u64,
}

/// One creature of `chameneos`: its colour and meetings, the same in every implementation.
///
/// A creature sends [`meet`](Self::meet) to the mall at the start and after each meeting. The
/// mall tells the first creature of a pair about the second ([`MallStep::Pair`]); that one
/// takes the complement of the two colours ([`paired`](Self::paired)) and sends it to its
/// partner, which takes it ([`changed`](Self::changed)): four messages a meeting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Creature {
    index: usize,
    color: u8,
    met: u64,
}

impl Creature {
    /// Creature `index`, of its [`initial_color`], with no meeting yet.
    pub fn new(index: usize) -> Creature {
        Creature { index, color: initial_color(index), met: 0 }
    }

    /// Its request to the mall.
    pub fn meet(&self) -> Meet {
        Meet { creature: self.index, color: self.color, met: self.met }
    }

    /// The mall paired it with a partner of colour `partner_color`: a meeting. Returns its new
    /// colour, which it sends to the partner.
    pub fn paired(&mut self, partner_color: u8) -> u8 {
        self.color = complement(self.color, partner_color);
        self.met += 1;
        self.color
    }

    /// Its partner sent the colour of their meeting: a meeting.
    pub fn changed(&mut self, color: u8) {
        self.color = color;
        self.met += 1;
    }
}

/// The mall of `chameneos`: pairs the creatures' requests until it has made all its meetings,
/// then retires each creature at its next request, and is done when all have retired. Every
/// creature always has a request on its way, waiting in the mall, or a meeting under way that
/// ends in one; and no request waits once the last meeting is made (that pairing took the one
/// waiting, and later requests retire at once): so each creature retires exactly once.
///
/// At the end it checks the creatures' colours: a meeting keeps the sum of the two colours
/// modulo three (`2 * complement(a, b) == a + b`, mod 3), so the final colours, which the
/// retiring requests carry, sum to the initial ones modulo three.
#[derive(Debug)]
pub struct Mall {
    creatures: usize,
    meetings: u64,
    made: u64,
    waiting: Option<Meet>,
    retired: usize,
    met: u64,
    colors: u64,
}

/// What the mall does with a request ([`Mall::meet`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MallStep {
    /// Nothing to send: the creature waits for a partner.
    Wait,
    /// Tell creature `to` that it meets `partner`, of colour `color`.
    Pair {
        /// The creature that waited.
        to: usize,
        /// The creature whose request came second.
        partner: usize,
        /// The partner's colour.
        color: u8,
    },
    /// The meetings are all made: the creature retires, nothing to send.
    Retired,
    /// The last creature retired: report `met`, the meetings the creatures counted (twice
    /// the mall's).
    Done {
        /// The creatures' meetings summed.
        met: u64,
    },
}

impl Mall {
    /// A mall that makes `meetings` meetings among `creatures` creatures.
    pub fn new(creatures: u64, meetings: u64) -> Mall {
        assert!(creatures >= 2, "chameneos: a meeting takes two creatures");
        Mall {
            creatures: creatures as usize,
            meetings,
            made: 0,
            waiting: None,
            retired: 0,
            met: 0,
            colors: 0,
        }
    }

    /// A creature's request arrived.
    pub fn meet(&mut self, request: Meet) -> MallStep {
        if self.made == self.meetings {
            debug_assert!(self.waiting.is_none(), "a request waits past the last meeting");
            self.retired += 1;
            self.met += request.met;
            self.colors += u64::from(request.color);
            if self.retired < self.creatures {
                return MallStep::Retired;
            }
            let initial: u64 = (0..self.creatures).map(|c| u64::from(initial_color(c))).sum();
            assert_eq!(self.colors % 3, initial % 3, "chameneos: the colours did not meet right");
            return MallStep::Done { met: self.met };
        }
        match self.waiting.take() {
            None => {
                self.waiting = Some(request);
                MallStep::Wait
            }
            Some(first) => {
                self.made += 1;
                MallStep::Pair {
                    to: first.creature,
                    partner: request.creature,
                    color: request.color,
                }
            }
        }
    }
}

/// Checks a `chameneos` run's report: the creatures met twice the mall's meetings.
pub fn check_chameneos(met: u64, p: &Params) {
    assert_eq!(met, 2 * p.chameneos_meetings, "chameneos: meetings the creatures counted");
}

/// Checks a `big` run's reports (the actors' indices, in any order): each actor reported once.
pub fn check_big(mut reports: Vec<usize>, p: &Params) {
    reports.sort_unstable();
    assert!(reports.iter().copied().eq(0..p.big_actors as usize), "big: reports {reports:?}");
}

/// One actor of `big`: whom it pings, the same in every implementation.
///
/// It sends `Ping { from, seq }` to [`start`](Self::start)'s target; whoever receives a ping
/// answers `Pong { from, seq }` to the ping's `from`, with its own index as the pong's `from`; at
/// each pong ([`pong`](Self::pong), which checks that it comes from the actor pinged, for the
/// ping awaited) it sends its next ping, until it has had a pong for each of its pings, and
/// then reports.
#[derive(Debug)]
pub struct BigActor {
    me: usize,
    actors: usize,
    pings: u64,
    sent: u64,
    rng: u64,
    /// The actor the last ping went to.
    pinged: usize,
}

/// What a `big` actor does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BigStep {
    /// Ping actor `to` with `seq`.
    Ping {
        /// The target.
        to: usize,
        /// The ping's number, which its pong carries back.
        seq: u64,
    },
    /// Every ping has had its pong: report.
    Done,
}

impl BigActor {
    /// Actor `me` of `actors`, which sends `pings` pings.
    pub fn new(me: usize, actors: u64, pings: u64) -> BigActor {
        assert!(actors >= 2, "big: a ping takes two actors");
        // xorshift64 never leaves 0, so the seed is odd.
        let rng = (me as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        BigActor { me, actors: actors as usize, pings, sent: 0, rng, pinged: me }
    }

    /// The first ping.
    pub fn start(&mut self) -> BigStep {
        self.next()
    }

    /// Actor `from` answered ping `seq`: the next ping, or done.
    pub fn pong(&mut self, from: usize, seq: u64) -> BigStep {
        assert_eq!((from, seq + 1), (self.pinged, self.sent), "big: a pong for another ping");
        self.next()
    }

    fn next(&mut self) -> BigStep {
        if self.sent == self.pings {
            return BigStep::Done;
        }
        // xorshift64, then a uniform pick among the other actors.
        let mut x = self.rng;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.rng = x;
        let pick = (x % (self.actors as u64 - 1)) as usize;
        let to = if pick >= self.me { pick + 1 } else { pick };
        let seq = self.sent;
        self.sent += 1;
        self.pinged = to;
        BigStep::Ping { to, seq }
    }
}

/// Where a `spawn_stop` run measures memory: wraps the part that spawns the actors, from
/// before the first spawn to when all are idle ([`now`](Self::now)), then have handled a
/// message each and are idle again ([`close`](Self::close)): live bytes per actor.
///
/// Counting is switched on only for this window, so that the timed runs pay nothing for it.
#[derive(Debug)]
pub struct BytesWindow {
    before: Option<isize>,
}

impl BytesWindow {
    /// Starts counting (when the counting allocator is installed).
    pub fn open() -> BytesWindow {
        BytesWindow { before: alloc::start_counting() }
    }

    /// Live bytes grown since [`open`](Self::open), divided by `actors`; counting goes on.
    pub fn now(&self, actors: u64) -> Option<f64> {
        Some((alloc::counted()? - self.before?) as f64 / actors.max(1) as f64)
    }

    /// Stops counting: `fresh` (what [`now`](Self::now) said before the actors had a message)
    /// and the live bytes per actor now.
    pub fn close(self, actors: u64, fresh: Option<f64>) -> Option<Bytes> {
        let before = self.before?;
        let after = alloc::stop_counting();
        let after_message = (after - before) as f64 / actors.max(1) as f64;
        Some(Bytes { fresh: fresh?, after_message })
    }
}

/// `u64`s handled by `spawn_stop`'s idle actors since [`reset_pokes`].
static POKED: AtomicU64 = AtomicU64::new(0);

/// Counts one message handled by an idle actor of `spawn_stop` (called by its handler).
pub fn poked() {
    POKED.fetch_add(1, Ordering::Relaxed);
}

/// Messages counted by [`poked`] since [`reset_pokes`].
pub fn pokes() -> u64 {
    POKED.load(Ordering::Relaxed)
}

/// Starts counting [`poked`] from zero.
pub fn reset_pokes() {
    POKED.store(0, Ordering::Relaxed);
}

/// Counts calls of [`tick`](Self::tick) and wakes one waiter at the `n`-th after
/// [`expect`](Self::expect)`(n)`: [`started`] and [`stopped`] count the idle actors of
/// `spawn_stop` with one each.
#[derive(Debug)]
struct Countdown {
    /// Calls of [`tick`](Self::tick) since [`expect`](Self::expect).
    count: AtomicU64,
    /// How many [`wait`](Self::wait) awaits; `u64::MAX` when nobody waits.
    expected: AtomicU64,
    /// Notified by the last of them.
    done: tokio::sync::Notify,
}

impl Countdown {
    const fn new() -> Countdown {
        Countdown {
            count: AtomicU64::new(0),
            expected: AtomicU64::new(u64::MAX),
            done: tokio::sync::Notify::const_new(),
        }
    }

    fn tick(&self) {
        if self.count.fetch_add(1, Ordering::AcqRel) + 1 == self.expected.load(Ordering::Acquire) {
            self.done.notify_one();
        }
    }

    fn expect(&self, n: u64) {
        self.count.store(0, Ordering::Release);
        self.expected.store(n, Ordering::Release);
        if n == 0 {
            self.done.notify_one();
        }
    }

    /// Waits (on any runtime: tokio's `Notify` needs none), then counts no more.
    async fn wait(&self) {
        self.done.notified().await;
        self.expected.store(u64::MAX, Ordering::Release);
    }
}

/// Actors of `spawn_stop`'s timed pass that have started since [`expect_starts`].
static STARTS: Countdown = Countdown::new();

/// Idle actors of `spawn_stop` that have stopped since [`expect_stops`].
static STOPS: Countdown = Countdown::new();

/// Counts one started idle actor of `spawn_stop` (called from its start: `init`, `pre_start`,
/// `on_start`, `started`, a task's first line).
pub fn started() {
    STARTS.tick();
}

/// Before the timed pass's spawns: [`all_started`] will wait for `n` calls of [`started`].
pub fn expect_starts(n: u64) {
    STARTS.expect(n);
}

/// Waits until the actors [`expect_starts`] counts have all started (on any runtime: tokio's
/// `Notify` needs none), and counts no more.
pub async fn all_started() {
    STARTS.wait().await;
}

/// Counts one stopped idle actor of `spawn_stop`, for an implementation that cannot await an
/// actor's end from outside (actix, from its `stopped` hook).
pub fn stopped() {
    STOPS.tick();
}

/// Before stopping the idle actors: [`all_stopped`] will wait for `n` calls of [`stopped`].
pub fn expect_stops(n: u64) {
    STOPS.expect(n);
}

/// Waits until the actors [`expect_stops`] counts have all stopped, and counts no more.
pub async fn all_stopped() {
    STOPS.wait().await;
}

/// Waits (untimed, looking every millisecond with the runtime's `sleep`) until [`poked`] has
/// counted `n` messages since [`reset_pokes`], then 20 ms more, for every actor to wait again.
pub async fn all_poked<S: std::future::Future>(n: u64, sleep: impl Fn(Duration) -> S) {
    while pokes() < n {
        sleep(Duration::from_millis(1)).await;
    }
    sleep(Duration::from_millis(20)).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_is_in_report_order() {
        let ids: Vec<String> = benches().iter().take(IMPLS.len()).map(Peer::id).collect();
        assert_eq!(
            ids,
            [
                "peers/ping_pong/actor12",
                "peers/ping_pong/actor12-envelope",
                "peers/ping_pong/tokio",
                "peers/ping_pong/tokio-1t",
                "peers/ping_pong/ractor",
                "peers/ping_pong/ractor-1t",
                "peers/ping_pong/kameo",
                "peers/ping_pong/kameo-1t",
                "peers/ping_pong/actix"
            ]
        );
        assert!(is_peer("ractor") && !is_peer("actor12") && !is_peer("actor12-envelope"));
        assert!(is_peer("kameo-1t") && one_thread("kameo-1t") && one_thread("actix"));
        assert!(!one_thread("ractor") && !one_thread("actor12"));
    }

    #[test]
    fn expected_sums() {
        assert_eq!(sum_below(5), 10);
        assert_eq!(sum_below(0), 0);
        assert_eq!(fork_join_expected_sum(1, 4, 10), 1 + 5 + 9);
    }

    #[test]
    fn complement_follows_savina() {
        for a in 0..3 {
            assert_eq!(complement(a, a), a);
            for b in (0..3).filter(|&b| b != a) {
                let c = complement(a, b);
                assert!(c != a && c != b && c < 3, "{a} {b} -> {c}");
            }
        }
    }

    /// Runs the mall and creatures of `chameneos` with one FIFO queue for every message: each
    /// creature retires once and the creatures count twice the mall's meetings.
    #[test]
    fn a_mall_makes_its_meetings_and_retires_every_creature_once() {
        enum Msg {
            ToMall(Meet),
            Paired { to: usize, partner: usize, color: u8 },
            Change { to: usize, color: u8 },
        }
        for (creatures, meetings) in [(2, 0), (2, 7), (3, 10), (4, 50), (32, 1000)] {
            let mut mall = Mall::new(creatures, meetings);
            let mut all: Vec<Creature> = (0..creatures as usize).map(Creature::new).collect();
            let mut queue: std::collections::VecDeque<Msg> =
                all.iter().map(|c| Msg::ToMall(c.meet())).collect();
            let (mut retired, mut done) = (0, None);
            while let Some(msg) = queue.pop_front() {
                match msg {
                    Msg::ToMall(request) => match mall.meet(request) {
                        MallStep::Wait => {}
                        MallStep::Pair { to, partner, color } => {
                            queue.push_back(Msg::Paired { to, partner, color })
                        }
                        MallStep::Retired => retired += 1,
                        MallStep::Done { met } => {
                            assert!(done.is_none(), "done twice");
                            retired += 1;
                            done = Some(met);
                        }
                    },
                    Msg::Paired { to, partner, color } => {
                        let mine = all[to].paired(color);
                        queue.push_back(Msg::Change { to: partner, color: mine });
                        queue.push_back(Msg::ToMall(all[to].meet()));
                    }
                    Msg::Change { to, color } => {
                        all[to].changed(color);
                        queue.push_back(Msg::ToMall(all[to].meet()));
                    }
                }
            }
            assert_eq!(retired, creatures, "{creatures} creatures, {meetings} meetings");
            assert_eq!(done, Some(2 * meetings), "{creatures} creatures, {meetings} meetings");
        }
    }

    #[test]
    fn a_big_actor_pings_others_only_and_stops_after_its_pings() {
        let (actors, pings) = (5, 1000);
        let mut hits = vec![0u64; actors as usize];
        let mut a = BigActor::new(2, actors, pings);
        let mut step = a.start();
        let mut sent = 0;
        while let BigStep::Ping { to, seq } = step {
            assert_eq!(seq, sent);
            assert_ne!(to, 2, "an actor does not ping itself");
            hits[to] += 1;
            sent += 1;
            step = a.pong(to, seq);
        }
        assert_eq!(sent, pings);
        // Every other actor gets a share (uniform: about 250 each).
        assert!(
            hits.iter().enumerate().all(|(i, &h)| i == 2 || (150..350).contains(&h)),
            "{hits:?}"
        );
        assert_eq!(BigActor::new(0, 2, 0).start(), BigStep::Done);
    }

    #[test]
    #[should_panic(expected = "a pong for another ping")]
    fn a_big_actor_refuses_a_pong_from_an_actor_it_did_not_ping() {
        let mut a = BigActor::new(0, 3, 2);
        let BigStep::Ping { to, seq } = a.start() else { panic!("a first ping") };
        a.pong(3 - to, seq); // the other of actors 1 and 2
    }
}
