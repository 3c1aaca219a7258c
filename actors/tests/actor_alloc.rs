//! Allocations per message, counted by a global allocator over every thread: a raw message and
//! a small `Multi` tell allocate nothing in steady state, an ask one reply slot, and a `Multi`
//! message too large to be stored in place one box more. And an actor's allocation is freed
//! even when its `State`'s destructor panics.
//!
//! Each case warms up first (mailbox blocks, run queues and the actor's allocation reach their
//! steady size), then counts allocations over `N` messages. The bound allows a handful of
//! one-time allocations (a worker's queue growing the first time it sees a deeper backlog), far
//! below one per message.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering::SeqCst};

use actor12::prelude::*;
use actor12::{ActorMessage, Call, Envelope, MpscChannel, Multi};

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

/// Runs `round` twice (warm-up, then measured) and returns allocations per message of the second.
fn measure(seen: &AtomicUsize, mut round: impl FnMut()) -> usize {
    round();
    let before_seen = seen.load(SeqCst);
    let before = ALLOCS.load(SeqCst);
    round();
    // Every message handled: the actor's counter is the synchronisation.
    while seen.load(SeqCst) < before_seen + N {
        std::thread::yield_now();
    }
    let allocs = ALLOCS.load(SeqCst) - before;
    eprintln!("{allocs} allocations for {N} messages");
    allocs
}

#[test]
fn messages_allocate_nothing_beyond_their_box_and_reply_slot() {
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

    // Envelope style: the reply slot is the only allocation of an ask.
    let seen = Arc::new(AtomicUsize::new(0));
    let asked = rt.block_on(async { actor12::spawn::<Asked>(seen.clone()) });
    let allocs = measure(&seen, || {
        rt.block_on(async {
            for n in 0..N as u64 {
                assert_eq!(asked.send::<u64, anyhow::Result<u64>>(n).await.unwrap(), n);
            }
        })
    });
    assert!(allocs <= N + SLACK, "envelope asks: {allocs} allocations for {N} asks");

    // Handler style: a small message is stored in the `Multi` and its handler's future in the
    // actor's reused buffer, so a tell allocates nothing and an ask only its reply slot.
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
    assert!(allocs <= N + SLACK, "Multi asks: {allocs} allocations for {N} asks");
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
    assert!(allocs <= 2 * N + SLACK, "large Multi asks: {allocs} allocations for {N} asks");
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
