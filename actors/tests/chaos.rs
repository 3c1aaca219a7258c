//! Chaos: a seeded random mix of everything the public API offers, from driver tasks on a
//! 2-worker runtime and from plain threads, with the guarantees the guide lists
//! (`docs/book/src/concepts.md`) checked as invariants as it goes and at the end of every round.
//!
//! Actors of three types (handler style in a wide and a narrow mailbox, envelope style), some
//! behind a `Proxy`, some handling what is queued when they stop (`Terminate::ProcessAll`),
//! are spawned and stopped at random (cancel, cancel and wait, the last link dropped, a parent
//! stopped, a panic in a handler, an `init` that refuses), while messages go to them by every
//! route (tells, asks, timed asks, the two-step API, relays, `forward_to`, weak and dynamic
//! links, asks given up before their answer). Checked:
//!
//! * every ask resolves: a watchdog aborts the process, printing the seed, when nothing made
//!   progress for a minute;
//! * per-sender order: each message carries a sequence number per (sender, receiver), and the
//!   receiver checks they only increase;
//! * no message is handled twice, nor by an actor it was not sent to, nor two at a time;
//! * every actor that was built ran exactly one of `terminate` and `crash` (a panic), and was
//!   dropped once; one whose `init` refused or was stopped ran neither;
//! * `count::stats` says no actor of any type is live at the end of a round;
//! * the bytes allocated come back after every round: no growth over the rounds.
//!
//! `ACTOR12_CHAOS_SEED=<n>` replays one seed (printed on failure); `ACTOR12_STRESS_DIV` shrinks
//! the run (CI's valgrind job); `ACTOR12_CHAOS_ROUNDS` and `ACTOR12_CHAOS_OPS` (operations per
//! driver and round) make it longer, and `ACTOR12_CHAOS_VERBOSE` says what each round did.

mod support;

use std::collections::{HashMap, HashSet};
use std::future::{Future, poll_fn};
use std::marker::PhantomData;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use actor12::cancel::CancelReason;
use actor12::prelude::*;
use actor12::{
    ActorContext, Call, Envelope, EnvelopeMessage, HandlerMessage, MessageError, Multi, Proxy,
    Terminate,
};
use support::scaled;

// ---- counting allocator ----

#[path = "support/live_heap.rs"]
mod live_heap;

use live_heap::LIVE;

#[global_allocator]
static GLOBAL: live_heap::LiveBytes = live_heap::LiveBytes;

// ---- the PRNG ----

/// xorshift64*: small, fast, and plenty for picking what to do next.
#[derive(Clone, Debug)]
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        // splitmix64 of the seed: nearby seeds give unrelated streams, and never 0.
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Rng((z ^ (z >> 31)) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// True `percent` times in a hundred.
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn fork(&mut self) -> Rng {
        Rng::new(self.next())
    }
}

// ---- what the run records ----

/// Bumped by everything that finishes a step: the watchdog's sign of life.
static PROGRESS: AtomicU64 = AtomicU64::new(0);
/// Ids of actors, instances, senders and messages: unique over the whole run.
static IDS: AtomicU64 = AtomicU64::new(1);
/// Broken invariants, seen where a panic would only crash an actor.
static VIOLATIONS: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn progress() {
    PROGRESS.fetch_add(1, SeqCst);
}

fn new_id() -> u64 {
    IDS.fetch_add(1, SeqCst)
}

fn violation(what: String) {
    eprintln!("chaos: VIOLATION: {what}");
    VIOLATIONS.lock().unwrap().push(what);
}

/// One actor instance (a proxy's incarnations are instances of one logical actor).
#[derive(Debug)]
struct Inst {
    id: u64,
    logical: u64,
    kind: &'static str,
    /// `init`'s future made the actor.
    started: AtomicU32,
    terminated: AtomicU32,
    crashed: AtomicU32,
    dropped: AtomicU32,
    busy: AtomicBool,
}

/// A weak link to every actor of the round, to stop them all at its end.
enum AnyWeak {
    Wide(WeakLink<Wide>),
    Narrow(WeakLink<Narrow>),
    Env(WeakLink<Env>),
}

impl AnyWeak {
    async fn stop(&self) {
        match self {
            AnyWeak::Wide(w) => w.cancel_and_wait(Why::End).await,
            AnyWeak::Narrow(w) => w.cancel_and_wait(Why::End).await,
            AnyWeak::Env(w) => w.cancel_and_wait(Why::End).await,
        }
    }
}

/// What one round records.
#[derive(Default)]
struct Ledger {
    insts: Mutex<Vec<Arc<Inst>>>,
    weaks: Mutex<Vec<AnyWeak>>,
    handled: Mutex<HashSet<u64>>,
    /// The last sequence number handled per (sender, receiver).
    order: Mutex<HashMap<(u64, u64), u64>>,
    /// Set at the end of the round: drivers and proxy keepers finish.
    stop: AtomicBool,
}

impl Ledger {
    fn register(&self, logical: u64, kind: &'static str, weak: AnyWeak) -> Arc<Inst> {
        let inst = Arc::new(Inst {
            id: new_id(),
            logical,
            kind,
            started: AtomicU32::new(0),
            terminated: AtomicU32::new(0),
            crashed: AtomicU32::new(0),
            dropped: AtomicU32::new(0),
            busy: AtomicBool::new(false),
        });
        self.insts.lock().unwrap().push(inst.clone());
        self.weaks.lock().unwrap().push(weak);
        inst
    }

    /// A message `(from, to, seq, id)` reaches `inst`'s handler.
    fn enter(&self, inst: &Inst, from: u64, to: u64, seq: u64, id: u64) {
        if inst.busy.swap(true, SeqCst) {
            violation(format!("{} {} handles two messages at once", inst.kind, inst.id));
        }
        if to != inst.logical {
            violation(format!("message {id} for {to} handled by {} {}", inst.kind, inst.logical));
        }
        if !self.handled.lock().unwrap().insert(id) {
            violation(format!("message {id} handled twice (by {} {})", inst.kind, inst.id));
        }
        let mut order = self.order.lock().unwrap();
        let last = order.entry((from, to)).or_insert(0);
        if seq <= *last {
            violation(format!(
                "out of order: {from} -> {to}: seq {seq} handled after {} ({} {})",
                *last, inst.kind, inst.id
            ));
        }
        *last = (*last).max(seq);
    }

    fn leave(&self, inst: &Inst) {
        inst.busy.store(false, SeqCst);
    }
}

/// The stop reason.
#[derive(Clone, Debug, Default, PartialEq)]
enum Why {
    #[default]
    Dropped,
    Cancelled,
    Init,
    End,
}

/// What a spawn takes.
#[derive(Clone)]
struct Spec {
    logical: u64,
    ledger: Arc<Ledger>,
    seed: u64,
    /// Percent of `init`s that refuse.
    fail_init: u64,
    process_all: bool,
}

/// The payload of the panics the test injects.
struct Injected(Arc<Inst>);

fn crashed(payload: Box<dyn std::any::Any + Send>) {
    match payload.downcast::<Injected>() {
        Ok(injected) => {
            injected.0.crashed.fetch_add(1, SeqCst);
        }
        Err(other) => {
            let msg = other
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| other.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            violation(format!("an actor panicked of its own: {msg}"));
        }
    }
    progress();
}

/// `init` for every type: registers the instance; refuses sometimes; waits sometimes.
fn init_common(spec: &Spec, kind: &'static str, weak: AnyWeak) -> (Arc<Inst>, Rng, bool, u32) {
    let inst = spec.ledger.register(spec.logical, kind, weak);
    let mut rng = Rng::new(spec.seed ^ inst.id);
    let refuse = rng.chance(spec.fail_init);
    let waits = if rng.chance(30) { 1 + rng.below(4) as u32 } else { 0 };
    (inst, rng, refuse, waits)
}

async fn init_wait(waits: u32, rng: &mut Rng) {
    for _ in 0..waits {
        if rng.chance(50) {
            actor12::rt::yield_now().await;
        } else {
            actor12::time::sleep(Duration::from_micros(rng.below(300))).await;
        }
    }
}

// ---- the handler-style actors ----

trait Flavor: Send + Sync + 'static {
    const CAP: usize;
    const NAME: &'static str;
    fn weak(link: WeakLink<Hand<Self>>) -> AnyWeak
    where
        Self: Sized;
}

struct WideF;
struct NarrowF;

impl Flavor for WideF {
    const CAP: usize = 64;
    const NAME: &'static str = "wide";
    fn weak(link: WeakLink<Wide>) -> AnyWeak {
        AnyWeak::Wide(link)
    }
}

impl Flavor for NarrowF {
    const CAP: usize = 2;
    const NAME: &'static str = "narrow";
    fn weak(link: WeakLink<Narrow>) -> AnyWeak {
        AnyWeak::Narrow(link)
    }
}

/// A handler-style actor; its mailbox holds `F::CAP` messages.
struct Hand<F: Flavor> {
    inst: Arc<Inst>,
    spec: Spec,
    rng: Rng,
    /// Its own sends: the next sequence number per receiver.
    seqs: HashMap<u64, u64>,
    _flavor: PhantomData<F>,
}

type Wide = Hand<WideF>;
type Narrow = Hand<NarrowF>;

impl<F: Flavor> Drop for Hand<F> {
    fn drop(&mut self) {
        self.inst.dropped.fetch_add(1, SeqCst);
    }
}

impl<F: Flavor> Actor for Hand<F> {
    type Message = Multi<Self>;
    type Spec = Spec;
    type Channel = MpscChannel<Self::Message>;
    type Cancel = Why;
    type State = ();

    fn state(_: &Spec) {}

    fn mailbox_capacity() -> usize {
        F::CAP
    }

    fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
        let weak = F::weak(ctx.link.downgrade());
        let (inst, mut rng, refuse, waits) = init_common(&ctx.spec, F::NAME, weak);
        let spec = ctx.spec;
        async move {
            init_wait(waits, &mut rng).await;
            if refuse {
                return Err(Why::Init);
            }
            inst.started.fetch_add(1, SeqCst);
            Ok(Hand { inst, spec, rng, seqs: HashMap::new(), _flavor: PhantomData })
        }
    }

    fn termination_strategy(&mut self) -> Terminate {
        if self.spec.process_all { Terminate::ProcessAll } else { Terminate::Exit }
    }

    async fn terminate(self, _: ActorContext<Self>, _: CancelReason<Why>) {
        self.inst.terminated.fetch_add(1, SeqCst);
        progress();
    }

    async fn crash(payload: Box<dyn std::any::Any + Send>) {
        crashed(payload);
    }
}

impl<F: Flavor> Hand<F> {
    fn next_seq(&mut self, to: u64) -> u64 {
        let seq = self.seqs.entry(to).or_insert(0);
        *seq += 1;
        *seq
    }

    /// A message of its own to `to`.
    fn msg(&mut self, to: u64, act: Act) -> Msg {
        Msg { from: self.inst.id, to, seq: self.next_seq(to), id: new_id(), act }
    }

    fn req(&mut self, to: u64, act: EnvAct) -> EnvReq {
        EnvReq { from: self.inst.id, to, seq: self.next_seq(to), id: new_id(), act }
    }
}

/// Where an actor sends on its own (always to an actor of a higher logical id: no cycle of
/// actors waiting on each other's mailboxes).
enum Target {
    Wide(Link<Wide>),
    Narrow(WeakLink<Narrow>),
    Env(Link<Env>),
    Dyn(u64, actor12::DynLink<Msg>),
}

impl Target {
    fn logical(&self, to: u64) -> u64 {
        match self {
            Target::Dyn(logical, _) => *logical,
            _ => to,
        }
    }
}

/// What a handler does with a message.
enum Act {
    Plain,
    Panic,
    /// Yields this many times inside the handler.
    Slow(u32),
    Sleep(u64),
    /// Takes the reply slot and drops it: the asker gets an error.
    Ghost,
    /// Answers from a task of the actor's.
    Later,
    /// `reply_async`.
    Async,
    /// Tells a message of its own to the target.
    Tell(u64, Target),
    /// Asks the target and answers with its answer.
    Ask(u64, Target),
    /// Relays the asker's request to the target: the target answers the asker.
    Relay(u64, Target),
    /// Tells itself a message (past the bound of a full mailbox).
    SelfTell,
    /// Stops the target and waits until it has stopped.
    Stop(Target),
}

struct Msg {
    from: u64,
    to: u64,
    seq: u64,
    id: u64,
    act: Act,
}

type Reply = anyhow::Result<u64>;
type Outcome = Result<Reply, MessageError>;

impl<F: Flavor> Handler<Msg> for Hand<F> {
    type Reply = Reply;

    async fn handle(&mut self, mut ctx: Call<'_, Self, Reply>, msg: Msg) -> Reply {
        let ledger = self.spec.ledger.clone();
        ledger.enter(&self.inst, msg.from, msg.to, msg.seq, msg.id);
        let reply = match msg.act {
            Act::Plain => Ok(msg.id),
            Act::Panic => std::panic::panic_any(Injected(self.inst.clone())),
            Act::Slow(n) => {
                for _ in 0..n {
                    actor12::rt::yield_now().await;
                }
                Ok(msg.id)
            }
            Act::Sleep(us) => {
                actor12::time::sleep(Duration::from_micros(us)).await;
                Ok(msg.id)
            }
            Act::Ghost => {
                drop(ctx.take_reply());
                Ok(0)
            }
            Act::Later => {
                let reply = ctx.take_reply();
                let id = msg.id;
                let yields = self.rng.below(3);
                ctx.spawn(async move {
                    for _ in 0..yields {
                        actor12::rt::yield_now().await;
                    }
                    let _ = reply.send(Ok(id));
                });
                Ok(0)
            }
            Act::Async => {
                let id = msg.id;
                ctx.reply_async(async move {
                    actor12::rt::yield_now().await;
                    Ok(id)
                })
            }
            Act::Tell(to, target) => {
                let to = target.logical(to);
                match &target {
                    Target::Wide(l) => l.tell_dyn(self.msg(to, Act::Plain)).await,
                    Target::Narrow(w) => w.tell_dyn(self.msg(to, Act::Plain)).await,
                    Target::Dyn(_, d) => d.tell_dyn(self.msg(to, Act::Plain)).await,
                    Target::Env(l) => {
                        let req = self.req(to, EnvAct::Plain);
                        l.send_message(EnvelopeMessage::new(req)).await.forget();
                    }
                }
                Ok(msg.id)
            }
            Act::Ask(to, target) => {
                let to = target.logical(to);
                match &target {
                    Target::Wide(l) => l.ask_dyn(self.msg(to, Act::Plain)).await,
                    Target::Narrow(w) => w.ask_dyn(self.msg(to, Act::Plain)).await,
                    Target::Dyn(_, d) => {
                        d.tell_dyn(self.msg(to, Act::Plain)).await;
                        Ok(msg.id)
                    }
                    Target::Env(l) => l.send(self.req(to, EnvAct::Plain)).await,
                }
            }
            Act::Relay(to, target) => {
                let to = target.logical(to);
                let reply = ctx.take_reply();
                match &target {
                    Target::Wide(l) => {
                        l.relay_dyn(Envelope::relay(self.msg(to, Act::Plain), reply)).await
                    }
                    Target::Narrow(w) => {
                        w.relay_dyn(Envelope::relay(self.msg(to, Act::Plain), reply)).await
                    }
                    Target::Dyn(_, d) => {
                        d.tell_dyn(self.msg(to, Act::Plain)).await;
                        let _ = reply.send(Ok(0));
                    }
                    Target::Env(l) => {
                        let req = self.req(to, EnvAct::Plain);
                        let _ = l.send_raw(Envelope::relay(req, reply)).await;
                    }
                }
                Ok(0)
            }
            Act::SelfTell => {
                let me = self.inst.logical;
                let m = self.msg(me, Act::Plain);
                ctx.link.tell_dyn(m).await;
                Ok(msg.id)
            }
            Act::Stop(target) => {
                match &target {
                    Target::Wide(l) => l.cancel_and_wait(Why::Cancelled).await,
                    Target::Narrow(w) => w.cancel_and_wait(Why::Cancelled).await,
                    Target::Dyn(_, d) => d.cancel_and_wait().await,
                    Target::Env(l) => l.cancel_and_wait(Why::Cancelled).await,
                }
                Ok(msg.id)
            }
        };
        ledger.leave(&self.inst);
        progress();
        reply
    }
}

/// An outcome passed on by `forward_to`.
impl<F: Flavor> Handler<Outcome> for Hand<F> {
    type Reply = anyhow::Result<()>;

    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Outcome) -> Self::Reply {
        progress();
        Ok(())
    }
}

/// Spawns a child (below this actor's token) and hands its link back.
struct SpawnChild(Spec);

impl<F: Flavor> Handler<SpawnChild> for Hand<F> {
    type Reply = anyhow::Result<Link<Wide>>;

    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, m: SpawnChild) -> Self::Reply {
        Ok(actor12::spawn::<Wide>(m.0))
    }
}

// ---- the envelope-style actor ----

struct Env {
    inst: Arc<Inst>,
    spec: Spec,
}

enum EnvAct {
    Plain,
    Panic,
    Slow(u32),
    /// Drops the reply unanswered.
    Ghost,
}

struct EnvReq {
    from: u64,
    to: u64,
    seq: u64,
    id: u64,
    act: EnvAct,
}

impl Drop for Env {
    fn drop(&mut self) {
        self.inst.dropped.fetch_add(1, SeqCst);
    }
}

impl Actor for Env {
    type Message = Envelope<EnvReq, Reply>;
    type Spec = Spec;
    type Channel = MpscChannel<Self::Message>;
    type Cancel = Why;
    type State = ();

    fn state(_: &Spec) {}

    fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
        let weak = AnyWeak::Env(ctx.link.downgrade());
        let (inst, mut rng, refuse, waits) = init_common(&ctx.spec, "env", weak);
        let spec = ctx.spec;
        async move {
            init_wait(waits, &mut rng).await;
            if refuse {
                return Err(Why::Init);
            }
            inst.started.fetch_add(1, SeqCst);
            Ok(Env { inst, spec })
        }
    }

    fn termination_strategy(&mut self) -> Terminate {
        if self.spec.process_all { Terminate::ProcessAll } else { Terminate::Exit }
    }

    async fn handle(&mut self, _: Exec<'_, Self>, msg: Self::Message) {
        let ledger = self.spec.ledger.clone();
        let Envelope { value: req, reply } = msg;
        ledger.enter(&self.inst, req.from, req.to, req.seq, req.id);
        match req.act {
            EnvAct::Plain => {
                let _ = reply.send(Ok(req.id));
            }
            EnvAct::Panic => std::panic::panic_any(Injected(self.inst.clone())),
            EnvAct::Slow(n) => {
                for _ in 0..n {
                    actor12::rt::yield_now().await;
                }
                let _ = reply.send(Ok(req.id));
            }
            EnvAct::Ghost => drop(reply),
        }
        ledger.leave(&self.inst);
        progress();
    }

    async fn terminate(self, _: ActorContext<Self>, _: CancelReason<Why>) {
        self.inst.terminated.fetch_add(1, SeqCst);
        progress();
    }

    async fn crash(payload: Box<dyn std::any::Any + Send>) {
        crashed(payload);
    }
}

// ---- the pool ----

#[derive(Clone)]
enum Kind {
    Wide(Link<Wide>),
    Narrow(Link<Narrow>),
    Env(Link<Env>),
    /// The outer link of a proxy (of `Wide` incarnations).
    Proxied(Link<Wide>),
}

#[derive(Clone)]
struct Entry {
    logical: u64,
    kind: Kind,
}

struct Round {
    ledger: Arc<Ledger>,
    pool: Mutex<Vec<Entry>>,
    seed: u64,
    handle: actor12::rt::Handle,
    /// The proxies' keepers: they restart an incarnation that stopped.
    keepers: Mutex<Vec<actor12::rt::JoinHandle<()>>>,
}

const POOL: usize = 12;

impl Round {
    fn spec(&self, rng: &mut Rng, fail_init: u64) -> Spec {
        Spec {
            logical: new_id(),
            ledger: self.ledger.clone(),
            seed: self.seed ^ rng.next(),
            fail_init,
            process_all: rng.chance(30),
        }
    }

    /// Spawns a random actor into the pool.
    fn spawn_one(self: &Arc<Self>, rng: &mut Rng) {
        let spec = self.spec(rng, 15);
        let logical = spec.logical;
        let kind = match rng.below(10) {
            0..=3 => Kind::Wide(actor12::spawn::<Wide>(spec)),
            4..=5 => Kind::Narrow(actor12::spawn::<Narrow>(spec)),
            6..=7 => Kind::Env(actor12::spawn::<Env>(spec)),
            _ => Kind::Proxied(self.spawn_proxy(Spec { fail_init: 5, ..spec })),
        };
        self.pool.lock().unwrap().push(Entry { logical, kind });
    }

    fn spawn_proxy(self: &Arc<Self>, spec: Spec) -> Link<Wide> {
        let spec_seed = spec.seed;
        let (proxy, outer) = Proxy::<Wide>::new(spec);
        proxy.init();
        self.ledger.weaks.lock().unwrap().push(AnyWeak::Wide(outer.downgrade()));
        let weak = outer.downgrade();
        let round = self.clone();
        let mut rng = Rng::new(spec_seed);
        let keeper = self.handle.spawn(async move {
            loop {
                if let Some(current) = proxy.current() {
                    // Now and then the keeper restarts a running incarnation itself.
                    let timer = Duration::from_micros(200 + rng.below(3000));
                    if rng.chance(50) && race(current.wait(), timer).await.is_none() {
                        proxy.shutdown().await;
                    } else {
                        current.wait().await;
                    }
                }
                progress();
                let outer_alive = weak.upgrade().is_some_and(|outer| !outer.token().is_cancelled());
                if round.ledger.stop.load(SeqCst) || !outer_alive {
                    break;
                }
                proxy.reset();
            }
            // Dropping the proxy stops the outer link.
            drop(proxy);
        });
        self.keepers.lock().unwrap().push(keeper);
        outer
    }

    fn pick(&self, rng: &mut Rng) -> Option<Entry> {
        let pool = self.pool.lock().unwrap();
        if pool.is_empty() {
            return None;
        }
        Some(pool[rng.below(pool.len() as u64) as usize].clone())
    }

    /// An actor of a logical id above `above`, as a target for an actor's own sends.
    fn target_above(&self, rng: &mut Rng, above: u64) -> Option<(u64, Target)> {
        let pool = self.pool.lock().unwrap();
        let higher: Vec<&Entry> = pool.iter().filter(|e| e.logical > above).collect();
        if higher.is_empty() {
            return None;
        }
        let e = higher[rng.below(higher.len() as u64) as usize];
        let target = match &e.kind {
            Kind::Wide(l) | Kind::Proxied(l) => {
                if rng.chance(30) {
                    Target::Dyn(e.logical, l.to_dyn::<Msg>())
                } else {
                    Target::Wide(l.clone())
                }
            }
            Kind::Narrow(l) => Target::Narrow(l.downgrade()),
            Kind::Env(l) => Target::Env(l.clone()),
        };
        Some((e.logical, target))
    }

    fn remove(&self, logical: u64) -> Option<Entry> {
        let mut pool = self.pool.lock().unwrap();
        let at = pool.iter().position(|e| e.logical == logical)?;
        Some(pool.swap_remove(at))
    }
}

// ---- a driver: one sender ----

struct Driver {
    id: u64,
    rng: Rng,
    seqs: HashMap<u64, u64>,
    round: Arc<Round>,
    /// Uses `forward_to`, whose tasks run on the driver's runtime: not on the default one,
    /// whose tasks the end of a round cannot wait for.
    forwards: bool,
}

fn short(rng: &mut Rng) -> Duration {
    Duration::from_micros(rng.below(400))
}

/// Polls `f` until `timer` fires, then drops it: an ask given up before its answer.
async fn race<F: Future>(f: F, timer: Duration) -> Option<F::Output> {
    let mut f = pin!(f);
    let mut sleep = pin!(actor12::time::sleep(timer));
    poll_fn(|cx| {
        if let Poll::Ready(v) = f.as_mut().poll(cx) {
            return Poll::Ready(Some(v));
        }
        sleep.as_mut().poll(cx).map(|()| None)
    })
    .await
}

/// Polls `f` once, with a waker that does nothing.
fn poll_once<F: Future>(f: F) -> Option<F::Output> {
    let mut f = pin!(f);
    match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => Some(v),
        Poll::Pending => None,
    }
}

impl Driver {
    fn next_seq(&mut self, to: u64) -> u64 {
        let seq = self.seqs.entry(to).or_insert(0);
        *seq += 1;
        *seq
    }

    fn act(&mut self, receiver: u64) -> Act {
        let r = &mut self.rng;
        match r.below(100) {
            0..=1 => Act::Panic,
            2..=11 => Act::Slow(1 + r.below(4) as u32),
            12..=15 => Act::Sleep(r.below(200)),
            16..=19 => Act::Ghost,
            20..=24 => Act::Later,
            25..=29 => Act::Async,
            30..=39 => match self.round.target_above(r, receiver) {
                Some((to, t)) => Act::Tell(to, t),
                None => Act::Plain,
            },
            40..=45 => match self.round.target_above(r, receiver) {
                Some((to, t)) => Act::Ask(to, t),
                None => Act::Plain,
            },
            46..=51 => match self.round.target_above(r, receiver) {
                Some((to, t)) => Act::Relay(to, t),
                None => Act::Plain,
            },
            52..=55 => Act::SelfTell,
            56 => match self.round.target_above(r, receiver) {
                Some((_, t)) => Act::Stop(t),
                None => Act::Plain,
            },
            _ => Act::Plain,
        }
    }

    fn msg(&mut self, to: u64) -> Msg {
        let act = self.act(to);
        Msg { from: self.id, to, seq: self.next_seq(to), id: new_id(), act }
    }

    fn plain(&mut self, to: u64) -> Msg {
        Msg { from: self.id, to, seq: self.next_seq(to), id: new_id(), act: Act::Plain }
    }

    fn req(&mut self, to: u64) -> EnvReq {
        let act = match self.rng.below(100) {
            0..=1 => EnvAct::Panic,
            2..=14 => EnvAct::Slow(1 + self.rng.below(4) as u32),
            15..=19 => EnvAct::Ghost,
            _ => EnvAct::Plain,
        };
        EnvReq { from: self.id, to, seq: self.next_seq(to), id: new_id(), act }
    }

    async fn run(mut self, ops: u64) {
        for _ in 0..ops {
            if self.round.ledger.stop.load(SeqCst) {
                break;
            }
            self.step().await;
            progress();
        }
    }

    async fn step(&mut self) {
        let round = self.round.clone();
        if round.pool.lock().unwrap().len() < POOL || self.rng.chance(3) {
            round.spawn_one(&mut self.rng);
            return;
        }
        let Some(entry) = round.pick(&mut self.rng) else { return };
        let to = entry.logical;
        match self.rng.below(100) {
            // The ways an actor stops.
            0 => entry_cancel(&entry),
            1 => self.cancel_and_wait(&entry).await,
            2 => drop(round.remove(to)),
            3 => self.stop_otherwise(&entry).await,
            4 => self.spawn_child(&entry).await,
            5 | 6 => self.stop_with_asks_in_flight(&entry).await,
            _ => match &entry.kind {
                Kind::Wide(l) | Kind::Proxied(l) => self.hand_op(l, to).await,
                Kind::Narrow(l) => self.hand_op(l, to).await,
                Kind::Env(l) => self.env_op(l, to).await,
            },
        }
    }

    async fn cancel_and_wait(&mut self, entry: &Entry) {
        let to = entry.logical;
        match &entry.kind {
            Kind::Wide(l) | Kind::Proxied(l) => {
                l.cancel_and_wait(Why::Cancelled).await;
                let m = self.plain(to);
                self.dead_at_once(l, m);
            }
            Kind::Narrow(l) => {
                l.cancel_and_wait(Why::Cancelled).await;
                let m = self.plain(to);
                self.dead_at_once(l, m);
            }
            Kind::Env(l) => {
                l.cancel_and_wait(Why::Cancelled).await;
                let req = self.req(to);
                match poll_once(l.send::<EnvReq, Reply>(req)) {
                    Some(Err(_)) => {}
                    Some(Ok(_)) => violation(format!("env {to}: answered after it stopped")),
                    None => violation(format!("env {to}: a send after it stopped waits")),
                }
            }
        }
        self.round.remove(to);
    }

    /// Asks queued or being handled when the actor stops are answered or failed by the time
    /// its stop is over, never left waiting.
    async fn stop_with_asks_in_flight(&mut self, entry: &Entry) {
        let to = entry.logical;
        let n = 1 + self.rng.below(6);
        let mut handles = Vec::new();
        match &entry.kind {
            Kind::Wide(l) | Kind::Proxied(l) => {
                for _ in 0..n {
                    let act = if self.rng.chance(30) { Act::Slow(2) } else { Act::Plain };
                    let m = Msg { act, ..self.plain(to) };
                    handles.push(l.send_message(HandlerMessage::new(m)).await);
                }
                l.cancel_and_wait(Why::Cancelled).await;
            }
            Kind::Narrow(l) => {
                for _ in 0..n {
                    let m = self.plain(to);
                    handles.push(l.send_message(HandlerMessage::new(m)).await);
                }
                l.cancel_and_wait(Why::Cancelled).await;
            }
            Kind::Env(l) => {
                for _ in 0..n {
                    let req = EnvReq { act: EnvAct::Plain, ..self.req(to) };
                    handles.push(l.send_message(EnvelopeMessage::new(req)).await);
                }
                l.cancel_and_wait(Why::Cancelled).await;
            }
        }
        for (i, mut handle) in handles.into_iter().enumerate() {
            if let Ok(None) = handle.try_reply() {
                violation(format!("{to}: ask {i} of {n} still waits after the actor stopped"));
            }
        }
        self.round.remove(to);
    }

    /// An ask to an actor known to be stopped resolves at once, with an error.
    fn dead_at_once<F: Flavor>(&mut self, l: &Link<Hand<F>>, m: Msg) {
        let to = m.to;
        match poll_once(l.ask_dyn(m)) {
            Some(Err(_)) => {}
            Some(Ok(_)) => violation(format!("{to}: answered after it stopped")),
            None => violation(format!("{to}: an ask after it stopped waits")),
        }
    }

    /// Stops through a weak or dynamic link.
    async fn stop_otherwise(&mut self, entry: &Entry) {
        match &entry.kind {
            Kind::Wide(l) | Kind::Proxied(l) => match self.rng.below(3) {
                0 => l.to_dyn::<Msg>().cancel(),
                1 => l.to_dyn::<Msg>().cancel_and_wait().await,
                _ => l.downgrade().cancel(Why::Cancelled),
            },
            Kind::Narrow(l) => l.downgrade().cancel_and_wait(Why::Cancelled).await,
            Kind::Env(l) => l.downgrade().cancel(Why::Cancelled),
        }
    }

    /// Has a handler-style actor spawn a child (which stops with it), and sometimes stops the
    /// parent.
    async fn spawn_child(&mut self, entry: &Entry) {
        let parent = match &entry.kind {
            Kind::Wide(l) => l.clone(),
            _ => return,
        };
        let spec = self.round.spec(&mut self.rng, 10);
        let logical = spec.logical;
        if let Ok(child) = parent.ask_dyn(SpawnChild(spec)).await {
            self.round.pool.lock().unwrap().push(Entry { logical, kind: Kind::Wide(child) });
            if self.rng.chance(50) {
                parent.cancel(Why::Cancelled);
            }
        }
    }

    async fn hand_op<F: Flavor>(&mut self, l: &Link<Hand<F>>, to: u64) {
        let m = self.msg(to);
        match self.rng.below(16) {
            0 | 1 => l.tell_dyn(m).await,
            2 | 3 => drop(l.ask_dyn(m).await),
            4 => drop(actor12::time::timeout(short(&mut self.rng), l.ask_dyn(m)).await),
            5 => {
                let later = l.ask_dyn_async(m).await;
                if self.rng.chance(50) {
                    let m = self.msg(to);
                    l.tell_dyn(m).await;
                }
                if self.rng.chance(80) {
                    drop(later.await);
                }
            }
            6 | 7 => {
                let handle = l.send_message(HandlerMessage::new(m)).await;
                self.use_handle(handle).await;
            }
            8 => drop(l.send_with_timeout(HandlerMessage::new(m), short(&mut self.rng)).await),
            9 => {
                let (envelope, reply) = Envelope::new(m);
                l.relay_dyn(envelope).await;
                if self.rng.chance(80) {
                    drop(reply.await);
                }
            }
            10 => {
                let weak = l.downgrade();
                match self.rng.below(3) {
                    0 => weak.tell_dyn(m).await,
                    1 => drop(weak.ask_dyn(m).await),
                    _ => {
                        let handle = weak.send_message(HandlerMessage::new(m)).await;
                        self.use_handle(handle).await;
                    }
                }
            }
            11 => l.to_dyn::<Msg>().tell_dyn(m).await,
            12 => drop(race(l.ask_dyn(m), short(&mut self.rng)).await),
            13 => drop(poll_once(l.ask_dyn(m))),
            _ => {
                let handle = l.send_message(HandlerMessage::new(m)).await;
                let inbox = self.round.pick(&mut self.rng).filter(|_| self.forwards);
                match inbox.map(|e| e.kind) {
                    Some(Kind::Wide(inbox)) | Some(Kind::Proxied(inbox)) => {
                        handle.forward_to(&inbox)
                    }
                    Some(Kind::Narrow(inbox)) => handle.forward_to(&inbox),
                    _ => handle.forget(),
                }
            }
        }
    }

    async fn use_handle(&mut self, mut handle: actor12::MessageHandle<Reply>) {
        match self.rng.below(6) {
            0 => handle.forget(),
            1 => {
                for _ in 0..self.rng.below(4) {
                    match handle.try_reply() {
                        Ok(None) => actor12::rt::yield_now().await,
                        _ => break,
                    }
                }
            }
            2 => drop(handle.timeout(short(&mut self.rng)).reply().await),
            3 => drop(handle.map_reply(|r| r.is_ok()).await),
            4 => drop(handle.then(|r| async move { r.is_ok() }).await),
            _ => drop(handle.reply().await),
        }
    }

    async fn env_op(&mut self, l: &Link<Env>, to: u64) {
        let req = self.req(to);
        match self.rng.below(7) {
            0 | 1 => drop(l.send::<EnvReq, Reply>(req).await),
            2 => {
                let handle = l.send_message(EnvelopeMessage::new(req)).await;
                self.use_handle(handle).await;
            }
            3 => drop(l.send_with_timeout(EnvelopeMessage::new(req), short(&mut self.rng)).await),
            4 => {
                let (envelope, reply) = Envelope::new(req);
                let sent = l.send_raw_message(envelope).await;
                if sent.was_sent() && self.rng.chance(80) {
                    drop(reply.await);
                }
            }
            5 => drop(l.downgrade().send::<EnvReq, Reply>(req).await),
            _ => drop(race(l.send::<EnvReq, Reply>(req), short(&mut self.rng)).await),
        }
    }
}

fn entry_cancel(entry: &Entry) {
    match &entry.kind {
        Kind::Wide(l) | Kind::Proxied(l) => l.cancel(Why::Cancelled),
        Kind::Narrow(l) => l.cancel(Why::Cancelled),
        Kind::Env(l) => l.cancel(Why::Cancelled),
    }
}

// ---- the run ----

/// Aborts the process when nothing made progress for [`support::HANG`]: an ask that never
/// resolves, a stop that never ends.
struct Watchdog {
    done: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Watchdog {
    fn start(seed: Arc<AtomicU64>) -> Watchdog {
        let done = Arc::new(AtomicBool::new(false));
        let flag = done.clone();
        let thread = std::thread::spawn(move || {
            let mut last = PROGRESS.load(SeqCst);
            let mut since = Instant::now();
            while !flag.load(SeqCst) {
                std::thread::park_timeout(Duration::from_millis(100));
                let now = PROGRESS.load(SeqCst);
                if now != last {
                    (last, since) = (now, Instant::now());
                } else if since.elapsed() > support::HANG {
                    eprintln!(
                        "chaos: no progress for {:?}: hung (seed {}; replay with \
                         ACTOR12_CHAOS_SEED={})",
                        support::HANG,
                        seed.load(SeqCst),
                        seed.load(SeqCst)
                    );
                    std::process::abort();
                }
            }
        });
        Watchdog { done, thread: Some(thread) }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.done.store(true, SeqCst);
        if let Some(thread) = self.thread.take() {
            thread.thread().unpark();
            let _ = thread.join();
        }
    }
}

/// Prints the seed if the test fails.
struct SeedOnPanic(Arc<AtomicU64>);

impl Drop for SeedOnPanic {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let seed = self.0.load(SeqCst);
            eprintln!("chaos: failed with seed {seed}; replay with ACTOR12_CHAOS_SEED={seed}");
        }
    }
}

/// One round from `seed`: drivers on the runtime and on plain threads, then everything
/// stopped and the invariants checked.
fn round(rt: &actor12::rt::Runtime, seed: u64, ops: u64) {
    let mut rng = Rng::new(seed);
    let round = Arc::new(Round {
        ledger: Arc::new(Ledger::default()),
        pool: Mutex::new(Vec::new()),
        seed,
        handle: rt.handle(),
        keepers: Mutex::new(Vec::new()),
    });
    rt.block_on(async {
        for _ in 0..POOL {
            round.spawn_one(&mut rng);
        }
    });
    let driver = |rng: &mut Rng| Driver {
        id: new_id(),
        rng: rng.fork(),
        seqs: HashMap::new(),
        round: round.clone(),
        forwards: true,
    };
    // Two driver tasks pinned, one to each worker, and one free to be stolen.
    let tasks: Vec<_> = (0..3)
        .map(|i| match i {
            0 | 1 => rt.handle().spawn_pinned(i, driver(&mut rng).run(ops)),
            _ => rt.spawn(driver(&mut rng).run(ops)),
        })
        .collect();
    // One plain thread drives on the test's runtime, one on the process-wide default runtime
    // (where the actors it spawns run): messages cross between the two.
    let threads: Vec<_> = [rt.handle(), actor12::rt::Handle::current_or_default()]
        .into_iter()
        .enumerate()
        .map(|(i, handle)| {
            let d = Driver { forwards: i == 0, ..driver(&mut rng) };
            std::thread::spawn(move || handle.block_on(d.run(ops)))
        })
        .collect();
    for t in threads {
        t.join().expect("a driver thread panicked");
    }
    rt.block_on(async {
        for t in tasks {
            t.await.expect("a driver task panicked");
        }
    });

    // The end: proxies first (their keepers stop restarting), then every actor ever spawned,
    // until no new one appears.
    round.ledger.stop.store(true, SeqCst);
    round.pool.lock().unwrap().clear();
    rt.block_on(async {
        let mut stopped = 0;
        loop {
            let weaks = std::mem::take(&mut *round.ledger.weaks.lock().unwrap());
            if weaks.is_empty() {
                let keepers = std::mem::take(&mut *round.keepers.lock().unwrap());
                if keepers.is_empty() {
                    break;
                }
                for k in keepers {
                    k.await.expect("a proxy keeper panicked");
                }
                continue;
            }
            for w in &weaks {
                w.stop().await;
                progress();
            }
            stopped += weaks.len();
            // Dropped here, before the next batch: the round keeps none of them.
            drop(weaks);
        }
        assert!(stopped > 0);
    });
    // The forwards (`forward_to`'s tasks) finish once their actors are stopped.
    while rt.live_tasks() > 0 {
        std::thread::yield_now();
    }

    for (name, stats) in [
        ("wide", actor12::count::stats::<Wide>()),
        ("narrow", actor12::count::stats::<Narrow>()),
        ("env", actor12::count::stats::<Env>()),
    ] {
        assert_eq!(stats.live, 0, "{name} actors still live after the round: {stats:?}");
    }
    let insts = std::mem::take(&mut *round.ledger.insts.lock().unwrap());
    let (mut started, mut terminated, mut crashes) = (0, 0, 0);
    for inst in &insts {
        let s = inst.started.load(SeqCst);
        let t = inst.terminated.load(SeqCst);
        let c = inst.crashed.load(SeqCst);
        let d = inst.dropped.load(SeqCst);
        let ok = match s {
            0 => t == 0 && c == 0 && d == 0,
            1 => t + c == 1 && d == 1,
            _ => false,
        };
        if !ok {
            violation(format!(
                "{} {} (logical {}): started {s}, terminated {t}, crashed {c}, dropped {d}",
                inst.kind, inst.id, inst.logical
            ));
        }
        started += s;
        terminated += t;
        crashes += c;
    }
    let handled = round.ledger.handled.lock().unwrap().len();
    if std::env::var_os("ACTOR12_CHAOS_VERBOSE").is_some() {
        eprintln!(
            "chaos: seed {seed}: {} actors, {started} started, {terminated} terminated, \
             {crashes} crashed, {handled} messages handled",
            insts.len()
        );
    }
    let violations = std::mem::take(&mut *VIOLATIONS.lock().unwrap());
    assert!(violations.is_empty(), "{} violations, the first: {}", violations.len(), violations[0]);
}

#[test]
fn chaos() {
    // The injected panics are expected: keep them out of the output.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !info.payload().is::<Injected>() {
            hook(info);
        }
    }));
    let first: u64 = match std::env::var("ACTOR12_CHAOS_SEED") {
        Ok(s) => s.parse().expect("ACTOR12_CHAOS_SEED: a number"),
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64),
    };
    let replay = std::env::var_os("ACTOR12_CHAOS_SEED").is_some();
    let env = |name: &str| std::env::var(name).ok().map(|v| v.parse::<u64>().expect(name));
    let rounds = env("ACTOR12_CHAOS_ROUNDS").unwrap_or(if replay { 1 } else { scaled(6, 2) });
    let ops = env("ACTOR12_CHAOS_OPS").unwrap_or(scaled(1500, 40));
    let seed = Arc::new(AtomicU64::new(first));
    let _report = SeedOnPanic(seed.clone());
    let _watchdog = Watchdog::start(seed.clone());
    let rt = support::runtime();

    let mut baseline = None;
    for r in 0..rounds {
        let s = first.wrapping_add(r);
        seed.store(s, SeqCst);
        round(&rt, s, ops);
        let live = LIVE.load(SeqCst);
        if std::env::var_os("ACTOR12_CHAOS_VERBOSE").is_some() {
            eprintln!("chaos: round {r}: {live} bytes live");
        }
        match baseline {
            // The first round warms up what is allocated once (mailbox blocks kept for reuse,
            // timer wheels, the counters' registry).
            None => baseline = Some(live),
            Some(base) => assert!(
                live - base < 64 * 1024,
                "round {r}: {live} bytes live, {base} after the first round"
            ),
        }
    }
}
