//! Allocations per message, counted by a global allocator over every thread: a raw message, a
//! small `Multi` tell and an ask allocate nothing in steady state (the asking thread reuses the
//! reply slot it freed last), and a `Multi` message too large to be stored in place one box.
//! And an actor's allocation is freed even when its `State`'s destructor panics.
//!
//! Each case warms up first (mailbox blocks, run queues and the actor's allocation reach their
//! steady size), then counts allocations over `N` messages. The bound allows a handful of
//! one-time allocations (a worker's queue growing the first time it sees a deeper backlog), far
//! below one per message.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Arc;
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering::SeqCst};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use actor12::prelude::*;
use actor12::{ActorMessage, BoxFuture, Call, DynLink, Envelope, EnvelopeMessage, HandlerMessage};
use actor12::{MessageError, MpscChannel, Multi};

struct Counting;

static ALLOCS: AtomicUsize = AtomicUsize::new(0);
/// Bytes allocated and not freed.
static LIVE: AtomicIsize = AtomicIsize::new(0);
/// The tests measure the whole process: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

// SAFETY: forwards to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, SeqCst);
        LIVE.fetch_add(layout.size() as isize, SeqCst);
        // SAFETY: the caller's contract is passed on unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, SeqCst);
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, SeqCst);
        LIVE.fetch_add(new_size as isize - layout.size() as isize, SeqCst);
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const N: usize = 20_000;
/// One-time allocations tolerated per measured window.
const SLACK: usize = 8;

/// Counts what it receives, in every style.
struct Sink {
    seen: Arc<AtomicUsize>,
}

#[derive(Clone, Copy)]
struct Tick;

impl ActorMessage<Sink> for Tick {}

impl Actor for Sink {
    type Message = Tick;
    type Spec = Arc<AtomicUsize>;
    type Channel = MpscChannel<Tick>;
    type Cancel = ();
    type State = ();
    fn state(_: &Self::Spec) {}
    fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
        std::future::ready(Ok(Sink { seen: ctx.spec }))
    }
    async fn handle(&mut self, _: Exec<'_, Self>, _: Tick) {
        self.seen.fetch_add(1, SeqCst);
    }
}

struct Asked {
    seen: Arc<AtomicUsize>,
}

impl Actor for Asked {
    type Message = Envelope<u64, anyhow::Result<u64>>;
    type Spec = Arc<AtomicUsize>;
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();
    fn state(_: &Self::Spec) {}
    fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
        std::future::ready(Ok(Asked { seen: ctx.spec }))
    }
    async fn handle(&mut self, _: Exec<'_, Self>, msg: Self::Message) {
        self.seen.fetch_add(1, SeqCst);
        let _ = msg.reply.send(Ok(msg.value));
    }
}

struct Multi1 {
    seen: Arc<AtomicUsize>,
}

impl Actor for Multi1 {
    type Message = Multi<Self>;
    type Spec = Arc<AtomicUsize>;
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();
    fn state(_: &Self::Spec) {}
    fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
        std::future::ready(Ok(Multi1 { seen: ctx.spec }))
    }
}

/// Too large to be stored in a `Multi` in place (24 bytes): boxed.
struct Large([u64; 4]);

impl Handler<Large> for Multi1 {
    type Reply = anyhow::Result<u64>;
    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, Large(n): Large) -> Self::Reply {
        self.seen.fetch_add(1, SeqCst);
        Ok(n[0])
    }
}

impl Handler<u64> for Multi1 {
    type Reply = anyhow::Result<u64>;
    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, n: u64) -> Self::Reply {
        self.seen.fetch_add(1, SeqCst);
        Ok(n)
    }
}

/// Runs `round` (`N` messages) twice, warm-up then measured, and returns the allocations of
/// the second.
fn measure(seen: &AtomicUsize, round: impl FnMut()) -> usize {
    measure_n(seen, N, N, round)
}

/// Runs `round` twice, warm-up then measured, each time until `seen` has grown by `handled`,
/// and returns the allocations of the second. The warm-up's messages are all handled before
/// counting starts (a tell returns before its message is handled), and the measured ones
/// before it stops: the actors' counter is the synchronisation.
fn measure_n(
    seen: &AtomicUsize,
    messages: usize,
    handled: usize,
    mut round: impl FnMut(),
) -> usize {
    let wait = |until: usize| {
        while seen.load(SeqCst) < until {
            std::thread::yield_now();
        }
    };
    let start = seen.load(SeqCst);
    round();
    wait(start + handled);
    let before = ALLOCS.load(SeqCst);
    round();
    wait(start + 2 * handled);
    let allocs = ALLOCS.load(SeqCst) - before;
    eprintln!("{allocs} allocations for {messages} messages");
    allocs
}

#[test]
fn messages_allocate_nothing_beyond_a_box_for_a_large_one() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let rt = actor12::rt::Runtime::builder().worker_threads(2).build().unwrap();

    // Raw style: a user type goes into the mailbox as is.
    let seen = Arc::new(AtomicUsize::new(0));
    let sink = rt.block_on(async { actor12::spawn::<Sink>(seen.clone()) });
    let allocs = measure(&seen, || {
        rt.block_on(async {
            for _ in 0..N {
                sink.send_raw(Tick).await.unwrap();
            }
        })
    });
    assert!(allocs <= SLACK, "raw messages: {allocs} allocations for {N} messages");

    // Envelope style: the reply slot is an ask's only allocation, and the asker's thread keeps
    // the slot it freed for its next ask.
    let seen = Arc::new(AtomicUsize::new(0));
    let asked = rt.block_on(async { actor12::spawn::<Asked>(seen.clone()) });
    let allocs = measure(&seen, || {
        rt.block_on(async {
            for n in 0..N as u64 {
                assert_eq!(asked.send::<u64, anyhow::Result<u64>>(n).await.unwrap(), n);
            }
        })
    });
    assert!(allocs <= SLACK, "envelope asks: {allocs} allocations for {N} asks");

    // Handler style: a small message is stored in the `Multi` and its handler's future in the
    // actor's reused buffer, so a tell allocates nothing, nor does an ask (its reply slot is
    // reused, as above).
    let seen = Arc::new(AtomicUsize::new(0));
    let multi = rt.block_on(async { actor12::spawn::<Multi1>(seen.clone()) });
    let allocs = measure(&seen, || {
        rt.block_on(async {
            for n in 0..N as u64 {
                multi.tell_dyn(n).await;
            }
        })
    });
    assert!(allocs <= SLACK, "Multi tells: {allocs} allocations for {N} tells");
    let allocs = measure(&seen, || {
        rt.block_on(async {
            for n in 0..N as u64 {
                assert_eq!(multi.ask_dyn(n).await.unwrap(), n);
            }
        })
    });
    assert!(allocs <= SLACK, "Multi asks: {allocs} allocations for {N} asks");
    // A message too large to be stored in place: one box each.
    let allocs = measure(&seen, || {
        rt.block_on(async {
            for n in 0..N as u64 {
                multi.tell_dyn(Large([n; 4])).await;
            }
        })
    });
    assert!(allocs <= N + SLACK, "large Multi tells: {allocs} allocations for {N} tells");
    let allocs = measure(&seen, || {
        rt.block_on(async {
            for n in 0..N as u64 {
                assert_eq!(multi.ask_dyn(Large([n; 4])).await.unwrap(), n);
            }
        })
    });
    assert!(allocs <= N + SLACK, "large Multi asks: {allocs} allocations for {N} asks");
}

/// A `State` whose destructor panics, with this message.
struct Bomb;

const BOMB: &str = "this State's destructor panics";

impl Drop for Bomb {
    fn drop(&mut self) {
        std::panic::panic_any(BOMB);
    }
}

struct BombState;

impl ActorMessage<BombState> for Tick {}

impl Actor for BombState {
    type Message = Tick;
    type Spec = ();
    type Channel = MpscChannel<Tick>;
    type Cancel = ();
    type State = Bomb;
    fn state(_: &()) -> Bomb {
        Bomb
    }
    fn init(_: Init<'_, Self>) -> impl InitFuture<Self> {
        std::future::ready(Ok(BombState))
    }
}

/// The links' state is dropped with the last link. When its destructor panics, the panic
/// reaches whoever dropped that link, and the actor still stops and is freed: the links' share
/// of the allocation used to be skipped by the unwinding and leaked (about 500 bytes each here).
#[test]
fn a_state_whose_destructor_panics_leaks_nothing() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    const ACTORS: isize = 32;
    let rt = actor12::rt::Runtime::builder().worker_threads(2).build().unwrap();
    let cycle = || {
        let link = rt.block_on(async { actor12::spawn::<BombState>(()) });
        let weak = link.downgrade();
        let dropped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(link)));
        assert!(dropped.is_err(), "the State's panic reaches the last link's drop");
        // Stops the actor, then lets go of the allocation.
        rt.block_on(weak.cancel_and_wait(()));
        assert!(weak.upgrade().is_none());
    };
    // The expected panics go unreported, as the report (kept by the test harness) would be
    // counted as live bytes; any other panic is reported as usual.
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if info.payload().downcast_ref::<&str>() != Some(&BOMB) {
            report(info);
        }
    }));
    // Warm-up: the runtime's queues, lists and thread-locals, on both workers, reach their
    // size.
    for _ in 0..ACTORS {
        cycle();
    }
    // A leak grows with every batch; a one-time allocation (seen once in more than 160 runs,
    // not explained) does not repeat. So the test passes on the first batch that leaves no
    // more than `slack` bytes, of three.
    let slack = 2048;
    let mut grown = Vec::with_capacity(3);
    for _ in 0..3 {
        let before = LIVE.load(SeqCst);
        for _ in 0..ACTORS {
            cycle();
        }
        // The worker drops its own reference to a stopped actor just after it wakes the
        // waiter: wait (bounded) for the count to settle.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while LIVE.load(SeqCst) - before > slack && std::time::Instant::now() < deadline {
            std::thread::yield_now();
        }
        grown.push(LIVE.load(SeqCst) - before);
        if grown.last() <= Some(&slack) {
            break;
        }
    }
    drop(std::panic::take_hook());
    assert!(
        grown.last() <= Some(&slack),
        "{grown:?} bytes still live after each batch of {ACTORS} actors stopped"
    );
}

/// Four KiB held inline in its allocation (the lifecycle future holds the actor's value).
struct Big(#[allow(dead_code, reason = "only its size matters")] [u8; 4096]);

impl Actor for Big {
    type Message = Multi<Self>;
    type Spec = ();
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();
    fn state(_: &()) {}
    fn init(_: Init<'_, Self>) -> impl InitFuture<Self> {
        std::future::ready(Ok(Big([0; 4096])))
    }
}

/// A clone of a stopped actor's token keeps the token's node, not the actor's allocation: the
/// actor's wake-up hook (a reference to the allocation) stayed in the node, so each kept token
/// held more than 4 KiB here.
#[test]
fn a_kept_token_keeps_its_node_not_the_stopped_actor() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    const ACTORS: isize = 64;
    let rt = actor12::rt::Runtime::builder().worker_threads(2).build().unwrap();
    let stopped_keeping_tokens = || -> Vec<actor12::cancel::CancelToken<()>> {
        (0..ACTORS)
            .map(|_| {
                let link = rt.block_on(async { actor12::spawn::<Big>(()) });
                let token = link.token().clone();
                rt.block_on(link.cancel_and_wait(()));
                token
            })
            .collect()
    };
    drop(stopped_keeping_tokens()); // warm-up
    let before = LIVE.load(SeqCst);
    let tokens = stopped_keeping_tokens();
    // The worker drops its own reference to a stopped actor just after it wakes the waiter:
    // wait (bounded) for the count to settle.
    let limit = ACTORS * 1024;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while LIVE.load(SeqCst) - before > limit && std::time::Instant::now() < deadline {
        std::thread::yield_now();
    }
    let per_actor = (LIVE.load(SeqCst) - before) / ACTORS;
    assert!(per_actor < 1024, "{per_actor} bytes per stopped actor kept by a token clone");
    drop(tokens);
}

/// What one message puts in a mailbox slot, as the guide's "What each style moves" says: a
/// `Multi` is four words whatever it carries, an envelope its value and an 8-byte reply slot.
#[cfg(target_pointer_width = "64")]
#[test]
fn a_multi_takes_four_words_and_an_envelope_its_value_and_a_reply_slot() {
    assert_eq!(size_of::<Multi<Sink>>(), 32);
    assert_eq!(size_of::<Envelope<u64, u64>>(), 16);
    assert_eq!(size_of::<Envelope<[u64; 4], u64>>(), 40);
}

/// Messages per path in [`every_way_of_sending_allocates_at_most_what_its_docs_say`].
const PATH_N: usize = 1000;
/// One-time allocations tolerated per path and sender: `SLACK`, and the round's own (its box,
/// the task that runs it, a tokio runtime's first growth of its own queues).
const PATH_SLACK: usize = 2 * SLACK;

/// A handler-style actor with a handler for each kind of message the paths send.
struct Many {
    seen: Arc<AtomicUsize>,
}

impl Actor for Many {
    type Message = Multi<Self>;
    type Spec = Arc<AtomicUsize>;
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();
    fn state(_: &Self::Spec) {}
    fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
        std::future::ready(Ok(Many { seen: ctx.spec }))
    }
}

impl Handler<u64> for Many {
    type Reply = anyhow::Result<u64>;
    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, n: u64) -> Self::Reply {
        self.seen.fetch_add(1, SeqCst);
        Ok(n)
    }
}

impl Handler<Large> for Many {
    type Reply = anyhow::Result<u64>;
    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, Large(n): Large) -> Self::Reply {
        self.seen.fetch_add(1, SeqCst);
        Ok(n[0])
    }
}

/// A zero-sized message.
struct Zst;

impl Handler<Zst> for Many {
    type Reply = anyhow::Result<()>;
    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Zst) -> Self::Reply {
        self.seen.fetch_add(1, SeqCst);
        Ok(())
    }
}

/// Asks for a reply of 512 bytes.
struct BigReply(u64);

impl Handler<BigReply> for Many {
    type Reply = anyhow::Result<[u64; 64]>;
    async fn handle(
        &mut self,
        _: Call<'_, Self, Self::Reply>,
        BigReply(n): BigReply,
    ) -> Self::Reply {
        self.seen.fetch_add(1, SeqCst);
        Ok([n; 64])
    }
}

/// What `forward_to` delivers.
type Outcome = Result<anyhow::Result<u64>, MessageError>;

impl Handler<Outcome> for Many {
    type Reply = anyhow::Result<()>;
    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Outcome) -> Self::Reply {
        self.seen.fetch_add(1, SeqCst);
        Ok(())
    }
}

/// Asked by the sender, this handler asks `peer`: an ask from inside an actor.
struct Relay(u64, Link<Many>);

impl Handler<Relay> for Many {
    type Reply = anyhow::Result<u64>;
    async fn handle(
        &mut self,
        _: Call<'_, Self, Self::Reply>,
        Relay(n, peer): Relay,
    ) -> Self::Reply {
        self.seen.fetch_add(1, SeqCst);
        peer.ask_dyn(n).await
    }
}

/// The actors a path sends to, all counting into one `seen`.
#[derive(Clone)]
struct Targets {
    many: Link<Many>,
    /// Another `Many`, for `forward_to` and relays.
    other: Link<Many>,
    asked: Link<Asked>,
    sink: Link<Sink>,
    dyn_u64: DynLink<u64>,
    dyn_large: DynLink<Large>,
}

/// One way of sending: its name, the allocations per message it may make (what its docs say),
/// the counter increments per message, and a round of `PATH_N` messages.
struct Path {
    name: &'static str,
    allocs: usize,
    handled: usize,
    /// One-time allocations tolerated over `PATH_SLACK`.
    slack: usize,
    round: fn(Targets) -> BoxFuture<'static, ()>,
}

/// Where the sender runs.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Sender {
    /// `Runtime::block_on`'s thread: off the workers.
    BlockOn,
    /// A task on one of the runtime's workers.
    Worker,
    /// A task of a tokio runtime: off the workers, another executor's wakers.
    Tokio,
}

fn paths() -> Vec<Path> {
    macro_rules! path {
        ($name:expr, $allocs:expr, $handled:expr, |$t:ident, $n:ident| $body:expr) => {
            Path {
                name: $name,
                allocs: $allocs,
                handled: $handled,
                slack: 0,
                round: |$t| {
                    Box::pin(async move {
                        for $n in 0..PATH_N as u64 {
                            $body;
                        }
                    })
                },
            }
        };
    }
    vec![
        path!("send_raw (raw)", 0, 1, |t, _n| t.sink.send_raw(Tick).await.unwrap()),
        path!("send_raw_message(..).forget() (raw)", 0, 1, |t, _n| {
            t.sink.send_raw_message(Tick).await.forget()
        }),
        path!("WeakLink::send_raw (raw)", 0, 1, |t, _n| {
            t.sink.downgrade().send_raw(Tick).await.unwrap()
        }),
        path!("send (envelope ask)", 0, 1, |t, n| {
            t.asked.send::<u64, anyhow::Result<u64>>(n).await.unwrap()
        }),
        path!("send_message(..).reply() (envelope)", 0, 1, |t, n| {
            let m = EnvelopeMessage::<u64, anyhow::Result<u64>>::new(n);
            t.asked.send_message(m).await.reply().await.unwrap().unwrap()
        }),
        path!("send_message(..).forget() (envelope)", 1, 1, |t, n| {
            let m = EnvelopeMessage::<u64, anyhow::Result<u64>>::new(n);
            t.asked.send_message(m).await.forget()
        }),
        path!("WeakLink::send (envelope ask)", 0, 1, |t, n| {
            t.asked.downgrade().send::<u64, anyhow::Result<u64>>(n).await.unwrap()
        }),
        path!("tell_dyn", 0, 1, |t, n| t.many.tell_dyn(n).await),
        path!("tell_dyn, zero-sized", 0, 1, |t, _n| t.many.tell_dyn(Zst).await),
        path!("tell_dyn, 32 bytes (boxed)", 1, 1, |t, n| t.many.tell_dyn(Large([n; 4])).await),
        path!("WeakLink::tell_dyn", 0, 1, |t, n| t.many.downgrade().tell_dyn(n).await),
        path!("ask_dyn", 0, 1, |t, n| t.many.ask_dyn(n).await.unwrap()),
        path!("ask_dyn, zero-sized", 0, 1, |t, _n| t.many.ask_dyn(Zst).await.unwrap()),
        path!("ask_dyn, 32 bytes (boxed)", 1, 1, |t, n| {
            t.many.ask_dyn(Large([n; 4])).await.unwrap()
        }),
        path!("ask_dyn, 512-byte reply", 1, 1, |t, n| t.many.ask_dyn(BigReply(n)).await.unwrap()),
        path!("WeakLink::ask_dyn", 0, 1, |t, n| t.many.downgrade().ask_dyn(n).await.unwrap()),
        path!("send_message(..).reply()", 0, 1, |t, n| {
            t.many.send_message(HandlerMessage::new(n)).await.reply().await.unwrap().unwrap()
        }),
        path!("send_message(..).forget()", 1, 1, |t, n| {
            t.many.send_message(HandlerMessage::new(n)).await.forget()
        }),
        path!("send_and_reply", 0, 1, |t, n| {
            t.many.send_and_reply(HandlerMessage::new(n)).await.unwrap().unwrap()
        }),
        path!("send_and_reply, zero-sized", 0, 1, |t, _n| {
            t.many.send_and_reply(HandlerMessage::new(Zst)).await.unwrap().unwrap()
        }),
        path!("send_and_reply, 32 bytes (boxed)", 1, 1, |t, n| {
            t.many.send_and_reply(HandlerMessage::new(Large([n; 4]))).await.unwrap().unwrap()
        }),
        path!("WeakLink::send_and_reply", 0, 1, |t, n| {
            t.many.downgrade().send_and_reply(HandlerMessage::new(n)).await.unwrap().unwrap()
        }),
        path!("an ask from inside a handler", 0, 1, |t, n| {
            // Two messages handled per round trip, two asks made.
            if n % 2 == 0 {
                t.many.ask_dyn(Relay(n, t.other.clone())).await.unwrap();
            }
        }),
        // The documented extras: the box `DynLink::tell_dyn` and `ask_dyn_async` return, the
        // task `forward_to` spawns and the reply slot of its ask to the target (which it waits
        // on to hold its link until the target handled the outcome).
        path!("DynLink::tell_dyn", 1, 1, |t, n| t.dyn_u64.tell_dyn(n).await),
        path!("DynLink::tell_dyn, 32 bytes (boxed)", 2, 1, |t, n| {
            t.dyn_large.tell_dyn(Large([n; 4])).await
        }),
        path!("ask_dyn_async", 1, 1, |t, n| t.many.ask_dyn_async(n).await.await.unwrap()),
        Path {
            // Its tasks run on the default runtime when sent from a tokio task; up to 25 more
            // allocations in a round were seen there, not reproduced when traced (run queues
            // growing under a backlog, most likely), never near one per message.
            slack: PATH_N / 20,
            ..path!("send_message(..).forward_to(..)", 3, 2, |t, n| {
                t.many.send_message(HandlerMessage::new(n)).await.forward_to(&t.other)
            })
        },
    ]
}

/// The timed asks: off the workers the deadline is one shared timer (`Arc<RemoteTimer>`) more.
fn timed_paths() -> Vec<Path> {
    const D: Duration = Duration::from_secs(60);
    macro_rules! path {
        ($name:expr, |$t:ident, $n:ident| $body:expr) => {
            Path {
                name: $name,
                allocs: 1,
                handled: 1,
                slack: 0,
                round: |$t| {
                    Box::pin(async move {
                        for $n in 0..PATH_N as u64 {
                            $body;
                        }
                    })
                },
            }
        };
    }
    vec![
        path!("send_message(..).timeout(..).reply()", |t, n| {
            let handle = t.many.send_message(HandlerMessage::new(n)).await;
            handle.timeout(D).reply().await.unwrap().unwrap()
        }),
        path!("send_with_timeout", |t, n| {
            t.many.send_with_timeout(HandlerMessage::new(n), D).await.unwrap().unwrap()
        }),
        path!("send_with_timeout (envelope)", |t, n| {
            let m = EnvelopeMessage::<u64, anyhow::Result<u64>>::new(n);
            t.asked.send_with_timeout(m, D).await.unwrap().unwrap()
        }),
        path!("WeakLink::send_with_timeout", |t, n| {
            t.many.downgrade().send_with_timeout(HandlerMessage::new(n), D).await.unwrap().unwrap()
        }),
    ]
}

/// Runs `round` from `sender` and returns when it has.
fn run_from(rt: &actor12::rt::Runtime, sender: Sender, round: BoxFuture<'static, ()>) {
    static TOKIO: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    match sender {
        Sender::BlockOn => rt.block_on(round),
        Sender::Worker => rt.block_on(rt.spawn(round)).unwrap(),
        Sender::Tokio => {
            let tokio = TOKIO.get_or_init(|| {
                tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(1)
                    .enable_all()
                    .build()
                    .unwrap()
            });
            tokio.block_on(tokio.spawn(round)).unwrap()
        }
    }
}

/// Measures each path from each kind of sender, and checks it against `allocs_for` per message.
fn check(rt: &actor12::rt::Runtime, paths: &[Path], allocs_for: impl Fn(&Path, Sender) -> usize) {
    let seen = Arc::new(AtomicUsize::new(0));
    let (many, other, asked, sink) = rt.block_on(async {
        (
            actor12::spawn::<Many>(seen.clone()),
            actor12::spawn::<Many>(seen.clone()),
            actor12::spawn::<Asked>(seen.clone()),
            actor12::spawn::<Sink>(seen.clone()),
        )
    });
    let targets =
        Targets { dyn_u64: many.to_dyn(), dyn_large: many.to_dyn(), many, other, asked, sink };
    let mut failed = Vec::new();
    for sender in [Sender::BlockOn, Sender::Worker, Sender::Tokio] {
        for path in paths {
            let bound = allocs_for(path, sender);
            let limit = bound * PATH_N + PATH_SLACK + path.slack;
            // Up to three rounds, the fewest counted: a round may also pay for a queue that grew
            // once under a backlog (seen on a loaded machine), never for one per message.
            let mut allocs = usize::MAX;
            for _ in 0..3 {
                let round = measure_n(&seen, PATH_N, path.handled * PATH_N, || {
                    run_from(rt, sender, (path.round)(targets.clone()))
                });
                allocs = allocs.min(round);
                if allocs <= limit {
                    break;
                }
            }
            eprintln!("{sender:?} {}: {allocs} allocations for {PATH_N} messages", path.name);
            if allocs > limit {
                failed.push(format!("{sender:?} {}: {allocs} > {bound} per message", path.name));
            }
        }
    }
    assert!(failed.is_empty(), "more allocations than documented: {failed:#?}");
}

/// Every way a user sends, from `block_on`, from a task on a worker and from a tokio task, in
/// steady state: a raw or envelope message allocates nothing of its own, a `Multi` message at
/// most its box (over 24 bytes, 16 for an ask); an ask nothing more when the asker takes the
/// answer (it frees the reply slot and reuses it for its next ask), its slot when it `forget`s
/// the answer (the actor's thread frees that slot) or the slot is too large to be kept (a
/// 512-byte reply); and the documented extras of `DynLink::tell_dyn`, `ask_dyn_async` and
/// `forward_to`.
#[test]
fn every_way_of_sending_allocates_at_most_what_its_docs_say() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let rt = actor12::rt::Runtime::builder().worker_threads(2).build().unwrap();
    check(&rt, &paths(), |path, _| path.allocs);
}

/// A deadline on a reply allocates nothing on a worker (an entry in its timer wheel), and off
/// the workers one shared timer. The worker's inbox of timers armed and dropped from elsewhere
/// used to give its vector away at each drain, and the list of entries removed was a new vector
/// at each turn: 3 to 4 allocations per timed ask from `block_on` or a tokio task.
#[test]
fn a_deadline_on_a_reply_allocates_at_most_one_timer() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let rt = actor12::rt::Runtime::builder().worker_threads(2).build().unwrap();
    check(&rt, &timed_paths(), |path, sender| match sender {
        Sender::Worker => path.allocs,
        Sender::BlockOn | Sender::Tokio => path.allocs + 1,
    });
}
