//! Unusual type shapes (over-aligned, zero-sized, large, drop-counting, drop-panicking,
//! `!Unpin`, at the `Multi` inline boundary) through every path of actor12 that stores a user
//! value in raw memory: `Multi`'s inline words and its box, the `FutureBuf` handler futures live
//! in, reply slots, the mailbox blocks, the actor's allocation (lifecycle future, `State`),
//! `InitSlot`.
//!
//! Every tracked value carries an id and records in a ledger when it is made and dropped: a test
//! checks that each value it made was dropped exactly once, and checks the value's content and
//! its address's alignment wherever it is seen (inside handlers, across awaits, in replies).

mod support;

use std::collections::HashMap;
use std::marker::PhantomPinned;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actor12::prelude::*;
use actor12::{
    ActorMessage, Call, Envelope, EnvelopeMessage, Exec, FromError, HandlerMessage, MessageError,
    Multi, Proxy, oneshot,
};
use support::HANG;

/// Runs a test's driver on a thread with a large stack: the drivers' own futures (polled by
/// `block_on` on the calling thread) hold dozens of the shape's values, each a stack slot of its
/// own in a debug build. Worker threads keep the runtime's stack size: what runs there is
/// the runtime's code and the handlers'.
fn on_big_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap_or_else(|p| std::panic::resume_unwind(p))
}

fn runtime() -> actor12::rt::Runtime {
    actor12::rt::Runtime::builder().worker_threads(2).build().unwrap()
}

async fn within<F: std::future::Future>(f: F) -> F::Output {
    actor12::time::timeout(HANG, f).await.expect("hung: no answer within the limit")
}

// ---------------------------------------------------------------------------------------------
// The ledger: every tracked value made and dropped, by id.
// ---------------------------------------------------------------------------------------------

/// Flags in a message id's low bits.
const PANIC: u64 = 1; // the handler panics (after an await, holding the message)
const BOMB: u64 = 2; // the value's drop panics
const HOLD: u64 = 4; // the handler waits on a gate registered for this id

/// Roles (bits 4..8): what a value is, relative to the message it was derived from.
const MSG: u64 = 0;
const HELD: u64 = 1; // held by the handler across an await
const REPLY: u64 = 2;
const STATE: u64 = 3;
const CLONE: u64 = 4;

fn derive(id: u64, role: u64) -> u64 {
    (id & !0xff) | (role << 4)
}

mod ledger {
    use super::*;

    static NEXT_NS: AtomicU64 = AtomicU64::new(1);
    static CLONES: AtomicU64 = AtomicU64::new(1);
    static BOOK: Mutex<Option<HashMap<u64, (u32, u32)>>> = Mutex::new(None);

    /// A test's own range of ids.
    pub(crate) struct Ns {
        base: u64,
        next: AtomicU64,
    }

    pub(crate) fn ns() -> Ns {
        Ns { base: NEXT_NS.fetch_add(1, SeqCst) << 32, next: AtomicU64::new(1) }
    }

    impl Ns {
        pub(crate) fn id(&self) -> u64 {
            self.base | (self.next.fetch_add(1, SeqCst) << 8)
        }

        /// Each value of this range made once and dropped once: the violations, if any.
        pub(crate) fn violations(&self) -> Vec<String> {
            let book = BOOK.lock().unwrap_or_else(|e| e.into_inner());
            let mut bad: Vec<String> = book
                .iter()
                .flatten()
                .filter(|(id, _)| *id >> 32 == self.base >> 32)
                .filter(|(_, (made, dropped))| (*made, *dropped) != (1, 1))
                .map(|(id, (m, d))| format!("id {id:#x}: made {m}, dropped {d}"))
                .collect();
            bad.sort();
            bad
        }

        pub(crate) fn made(&self) -> usize {
            let book = BOOK.lock().unwrap_or_else(|e| e.into_inner());
            book.iter().flatten().filter(|(id, _)| *id >> 32 == self.base >> 32).count()
        }

        #[track_caller]
        pub(crate) fn assert_each_dropped_once(&self) {
            let bad = self.violations();
            assert!(bad.is_empty(), "values not dropped exactly once: {bad:#?}");
            assert!(self.made() > 0, "nothing tracked");
        }
    }

    pub(crate) fn clone_id(id: u64) -> u64 {
        (id & !0xffff_ffff) | (1 << 31) | (CLONES.fetch_add(1, SeqCst) << 8) | (CLONE << 4)
    }

    pub(crate) fn made(id: u64) {
        if id == 0 {
            return;
        }
        let mut book = BOOK.lock().unwrap_or_else(|e| e.into_inner());
        book.get_or_insert_with(HashMap::new).entry(id).or_default().0 += 1;
    }

    pub(crate) fn dropped(id: u64) {
        if id == 0 {
            return;
        }
        let mut book = BOOK.lock().unwrap_or_else(|e| e.into_inner());
        book.get_or_insert_with(HashMap::new).entry(id).or_default().1 += 1;
    }
}

/// Gates registered per message id: a handler for an id with `HOLD` says it started and waits.
mod gates {
    use super::*;

    type Gate = (oneshot::Sender<()>, oneshot::Receiver<()>);
    static GATES: Mutex<Option<HashMap<u64, Gate>>> = Mutex::new(None);

    /// Registers a gate for `id`: returns (open, started).
    pub(crate) fn register(id: u64) -> (oneshot::Sender<()>, oneshot::Receiver<()>) {
        let (open, gate) = oneshot::channel();
        let (started_tx, started) = oneshot::channel();
        GATES.lock().unwrap().get_or_insert_with(HashMap::new).insert(id, (started_tx, gate));
        (open, started)
    }

    pub(crate) fn take(id: u64) -> Option<Gate> {
        GATES.lock().unwrap().get_or_insert_with(HashMap::new).remove(&id)
    }
}

// ---------------------------------------------------------------------------------------------
// Shapes.
// ---------------------------------------------------------------------------------------------

trait Shape: Send + Sync + 'static + Sized {
    /// Whether the value carries its id (zero-sized ones do not).
    const HAS_ID: bool = true;
    fn new(id: u64) -> Self;
    fn id(&self) -> u64;
    /// The content is intact (a function of the id).
    fn content_ok(&self) -> bool {
        true
    }
    /// Intact, and aligned where it is now.
    #[track_caller]
    fn check(&self) {
        let addr = self as *const Self as usize;
        assert_eq!(
            addr % align_of::<Self>(),
            0,
            "{} at {addr:#x} is not aligned to {}",
            std::any::type_name::<Self>(),
            align_of::<Self>()
        );
        assert!(
            self.content_ok(),
            "{} {:#x}: content corrupted",
            std::any::type_name::<Self>(),
            self.id()
        );
    }
}

fn fill(id: u64, i: usize) -> u64 {
    id.rotate_left(i as u32) ^ (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

macro_rules! tracked_drop {
    ($t:ty) => {
        impl Drop for $t {
            fn drop(&mut self) {
                let id = Shape::id(self);
                ledger::dropped(id);
                if id & BOMB != 0 && derive(id, MSG) == id & !0xf {
                    if !std::thread::panicking() {
                        panic!("bomb {id:#x} (a deliberate panic in a drop, in a test)");
                    }
                }
            }
        }
        impl Clone for $t {
            fn clone(&self) -> Self {
                <$t as Shape>::new(ledger::clone_id(Shape::id(self)))
            }
        }
    };
}

/// Aligned to 64: a cache line.
#[repr(align(64))]
struct A64 {
    id: u64,
    fill: [u64; 3],
}
impl Shape for A64 {
    fn new(id: u64) -> Self {
        ledger::made(id);
        A64 { id, fill: std::array::from_fn(|i| fill(id, i)) }
    }
    fn id(&self) -> u64 {
        self.id
    }
    fn content_ok(&self) -> bool {
        self.fill.iter().enumerate().all(|(i, &v)| v == fill(self.id, i))
    }
}
tracked_drop!(A64);

/// Aligned to a page.
#[repr(align(4096))]
struct A4096 {
    id: u64,
    fill: [u64; 3],
}
impl Shape for A4096 {
    fn new(id: u64) -> Self {
        ledger::made(id);
        A4096 { id, fill: std::array::from_fn(|i| fill(id, i)) }
    }
    fn id(&self) -> u64 {
        self.id
    }
    fn content_ok(&self) -> bool {
        self.fill.iter().enumerate().all(|(i, &v)| v == fill(self.id, i))
    }
}
tracked_drop!(A4096);

/// Large: `N` bytes of content.
struct Big<const N: usize> {
    id: u64,
    data: [u8; N],
}
impl<const N: usize> Shape for Big<N> {
    fn new(id: u64) -> Self {
        ledger::made(id);
        let mut big = Big { id, data: [0; N] };
        for (i, b) in big.data.iter_mut().enumerate() {
            *b = (fill(id, i % 61) as u8).wrapping_add(i as u8);
        }
        big
    }
    fn id(&self) -> u64 {
        self.id
    }
    fn content_ok(&self) -> bool {
        self.data
            .iter()
            .enumerate()
            .all(|(i, &b)| b == (fill(self.id, i % 61) as u8).wrapping_add(i as u8))
    }
}
impl<const N: usize> Drop for Big<N> {
    fn drop(&mut self) {
        ledger::dropped(self.id);
    }
}
impl<const N: usize> Clone for Big<N> {
    fn clone(&self) -> Self {
        Big::new(ledger::clone_id(self.id))
    }
}

/// A tell's inline limit exactly: 24 bytes, align 8.
struct T24 {
    id: u64,
    a: u64,
    b: u64,
}
impl Shape for T24 {
    fn new(id: u64) -> Self {
        ledger::made(id);
        T24 { id, a: fill(id, 1), b: fill(id, 2) }
    }
    fn id(&self) -> u64 {
        self.id
    }
    fn content_ok(&self) -> bool {
        self.a == fill(self.id, 1) && self.b == fill(self.id, 2)
    }
}
tracked_drop!(T24);

/// One byte over a tell's limit: 25 bytes, align 1.
struct T25 {
    id: [u8; 8],
    rest: [u8; 17],
}
impl Shape for T25 {
    fn new(id: u64) -> Self {
        ledger::made(id);
        T25 { id: id.to_le_bytes(), rest: std::array::from_fn(|i| fill(id, i) as u8) }
    }
    fn id(&self) -> u64 {
        u64::from_le_bytes(self.id)
    }
    fn content_ok(&self) -> bool {
        self.rest.iter().enumerate().all(|(i, &b)| b == fill(self.id(), i) as u8)
    }
}
tracked_drop!(T25);

/// An ask's inline limit exactly: 16 bytes, align 8.
struct Q16 {
    id: u64,
    a: u64,
}
impl Shape for Q16 {
    fn new(id: u64) -> Self {
        ledger::made(id);
        Q16 { id, a: fill(id, 1) }
    }
    fn id(&self) -> u64 {
        self.id
    }
    fn content_ok(&self) -> bool {
        self.a == fill(self.id, 1)
    }
}
tracked_drop!(Q16);

/// One byte over an ask's limit: 17 bytes, align 1.
struct Q17 {
    id: [u8; 8],
    rest: [u8; 9],
}
impl Shape for Q17 {
    fn new(id: u64) -> Self {
        ledger::made(id);
        Q17 { id: id.to_le_bytes(), rest: std::array::from_fn(|i| fill(id, i) as u8) }
    }
    fn id(&self) -> u64 {
        u64::from_le_bytes(self.id)
    }
    fn content_ok(&self) -> bool {
        self.rest.iter().enumerate().all(|(i, &b)| b == fill(self.id(), i) as u8)
    }
}
tracked_drop!(Q17);

/// 16 bytes at alignment 16: fits the words' size, not their alignment.
struct U128 {
    x: u128,
}
impl Shape for U128 {
    fn new(id: u64) -> Self {
        ledger::made(id);
        U128 { x: u128::from(id) | (u128::from(!id) << 64) }
    }
    fn id(&self) -> u64 {
        self.x as u64
    }
    fn content_ok(&self) -> bool {
        (self.x >> 64) as u64 == !(self.x as u64)
    }
}
tracked_drop!(U128);

/// `!Unpin`.
struct Pinned {
    id: u64,
    _pin: PhantomPinned,
}
impl Shape for Pinned {
    fn new(id: u64) -> Self {
        ledger::made(id);
        Pinned { id, _pin: PhantomPinned }
    }
    fn id(&self) -> u64 {
        self.id
    }
}
tracked_drop!(Pinned);

/// Its drop panics when the id has `BOMB` (and is a message's, not a derived value's).
struct Bomb {
    id: u64,
}
impl Shape for Bomb {
    fn new(id: u64) -> Self {
        ledger::made(id);
        Bomb { id }
    }
    fn id(&self) -> u64 {
        self.id
    }
}
tracked_drop!(Bomb);

/// Zero-sized, counted apart (it has no id).
static ZST_MADE: AtomicUsize = AtomicUsize::new(0);
static ZST_DROPPED: AtomicUsize = AtomicUsize::new(0);
static ZST_LOCK: Mutex<()> = Mutex::new(());

struct Zst;
impl Shape for Zst {
    const HAS_ID: bool = false;
    fn new(_: u64) -> Self {
        ZST_MADE.fetch_add(1, SeqCst);
        Zst
    }
    fn id(&self) -> u64 {
        0
    }
}
impl Drop for Zst {
    fn drop(&mut self) {
        ZST_DROPPED.fetch_add(1, SeqCst);
    }
}
impl Clone for Zst {
    fn clone(&self) -> Self {
        Zst::new(0)
    }
}

/// Zero-sized and aligned to a page.
#[repr(align(4096))]
struct ZstA4096;
impl Shape for ZstA4096 {
    const HAS_ID: bool = false;
    fn new(_: u64) -> Self {
        ZST_MADE.fetch_add(1, SeqCst);
        ZstA4096
    }
    fn id(&self) -> u64 {
        0
    }
}
impl Drop for ZstA4096 {
    fn drop(&mut self) {
        ZST_DROPPED.fetch_add(1, SeqCst);
    }
}
impl Clone for ZstA4096 {
    fn clone(&self) -> Self {
        ZstA4096::new(0)
    }
}

// ---------------------------------------------------------------------------------------------
// The reply: a value of the shape, or the transport error.
// ---------------------------------------------------------------------------------------------

enum Rep<S> {
    Ok(S),
    Err(String),
}

impl<S, E: std::fmt::Display> FromError<E> for Rep<S> {
    fn from_err(err: E) -> Self {
        Rep::Err(err.to_string())
    }
}

impl<S: Shape> Rep<S> {
    #[track_caller]
    fn expect_reply_to(self, id: u64) {
        match self {
            Rep::Ok(s) => {
                s.check();
                if S::HAS_ID {
                    assert_eq!(s.id(), derive(id, REPLY), "the reply to {id:#x}");
                }
            }
            Rep::Err(e) => panic!("no reply to {id:#x}: {e}"),
        }
    }

    fn is_err(&self) -> bool {
        matches!(self, Rep::Err(_))
    }
}

// ---------------------------------------------------------------------------------------------
// The handler's work, shared by every style: checks what it is given and what it holds across
// awaits (a self-reference among them), makes the reply.
// ---------------------------------------------------------------------------------------------

async fn serve<S: Shape>(own: &S, msg: S) -> S {
    msg.check();
    own.check();
    if let Some((started, gate)) = gates::take(msg.id()) {
        let _ = started.send(());
        let _ = gate.await;
    }
    let held = S::new(derive(msg.id(), HELD));
    let held_ref = &held; // a self-reference in the future, across the await
    held.check();
    actor12::rt::yield_now().await;
    msg.check();
    held_ref.check();
    own.check();
    if msg.id() & PANIC != 0 {
        panic!("asked to panic (a deliberate panic in a test)");
    }
    drop(held);
    let reply = S::new(derive(msg.id(), REPLY));
    reply.check();
    drop(msg);
    reply
}

// ---- handler style: the actor struct, `Spec` and `State` of the shape too ----

struct H<S: Shape> {
    own: S,
}

impl<S: Shape> Actor for H<S> {
    type Message = Multi<Self>;
    type Spec = S;
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = S;

    fn state(spec: &S) -> S {
        spec.check();
        S::new(derive(spec.id(), STATE))
    }

    fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
        ctx.spec.check();
        std::future::ready(Ok(H { own: ctx.spec }))
    }
}

impl<S: Shape> Handler<S> for H<S> {
    type Reply = Rep<S>;

    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, msg: S) -> Self::Reply {
        self.own.check();
        Rep::Ok(serve(&self.own, msg).await)
    }
}

/// Holds the actor until the gate opens; says it started.
struct Hold(oneshot::Sender<()>, oneshot::Receiver<()>);

impl<S: Shape> Handler<Hold> for H<S> {
    type Reply = anyhow::Result<()>;

    async fn handle(
        &mut self,
        _: Call<'_, Self, Self::Reply>,
        Hold(started, gate): Hold,
    ) -> Self::Reply {
        let _ = started.send(());
        let _ = gate.await;
        Ok(())
    }
}

/// Panics in the handler, holding the value.
struct Boom<S>(S);

impl<S: Shape> Handler<Boom<S>> for H<S> {
    type Reply = Rep<S>;

    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, Boom(s): Boom<S>) -> Self::Reply {
        s.check();
        actor12::rt::yield_now().await;
        s.check();
        panic!("Boom (a deliberate panic in a test)");
    }
}

/// Answered later, from a background task of the actor: by `take_reply` (`false`) or
/// `reply_async` (`true`).
struct Later<S>(S, bool);

impl<S: Shape> Handler<Later<S>> for H<S> {
    type Reply = Rep<S>;

    async fn handle(&mut self, mut call: Call<'_, Self, Self::Reply>, m: Later<S>) -> Self::Reply {
        let Later(msg, use_async) = m;
        msg.check();
        let answer = async move {
            actor12::rt::yield_now().await;
            msg.check();
            let reply = S::new(derive(msg.id(), REPLY));
            drop(msg);
            Rep::Ok(reply)
        };
        if use_async {
            call.reply_async(answer)
        } else {
            let reply = call.take_reply();
            call.spawn(async move {
                let _ = reply.send(answer.await);
            });
            Rep::Err("the reply was taken".into())
        }
    }
}

// ---- envelope style ----

struct E<S: Shape> {
    own: S,
}

impl<S: Shape> Actor for E<S> {
    type Message = Envelope<S, Rep<S>>;
    type Spec = S;
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();

    fn state(_: &S) {}

    fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
        std::future::ready(Ok(E { own: ctx.spec }))
    }

    async fn handle(&mut self, _: Exec<'_, Self>, msg: Self::Message) {
        let Envelope { value, reply } = msg;
        let answer = serve(&self.own, value).await;
        let _ = reply.send(Rep::Ok(answer));
    }
}

// ---- raw style ----

enum RawCmd<S> {
    Item(S),
    Sync(oneshot::Sender<()>),
}

struct R<S: Shape> {
    own: S,
}

impl<S: Shape> ActorMessage<R<S>> for RawCmd<S> {}

impl<S: Shape> Actor for R<S> {
    type Message = RawCmd<S>;
    type Spec = S;
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();

    fn state(_: &S) {}

    fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
        std::future::ready(Ok(R { own: ctx.spec }))
    }

    async fn handle(&mut self, _: Exec<'_, Self>, msg: Self::Message) {
        match msg {
            RawCmd::Item(s) => drop(serve(&self.own, s).await),
            RawCmd::Sync(done) => {
                let _ = done.send(());
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Every path, for one shape.
// ---------------------------------------------------------------------------------------------

async fn handler_paths<S: Shape>(h: &Link<H<S>>, ns: &ledger::Ns) {
    h.state().check();
    // tell_dyn
    h.tell_dyn(S::new(ns.id())).await;
    // ask_dyn
    let id = ns.id();
    within(h.ask_dyn(S::new(id))).await.expect_reply_to(id);
    // ask_dyn_async
    let id = ns.id();
    let later = h.ask_dyn_async(S::new(id)).await;
    within(later).await.expect_reply_to(id);
    // two-step: reply, forget, timeout, send_and_reply, send_with_timeout, send_and_forget
    let id = ns.id();
    let r = within(h.send_message(HandlerMessage::new(S::new(id))).await.reply()).await;
    r.unwrap_or_else(|e| panic!("{e}")).expect_reply_to(id);
    h.send_message(HandlerMessage::new(S::new(ns.id()))).await.forget();
    let id = ns.id();
    let r = h.send_message(HandlerMessage::new(S::new(id))).await.timeout(HANG).reply().await;
    r.unwrap_or_else(|e| panic!("{e}")).expect_reply_to(id);
    let id = ns.id();
    let r = within(h.send_and_reply(HandlerMessage::new(S::new(id)))).await;
    r.unwrap_or_else(|e| panic!("{e}")).expect_reply_to(id);
    let id = ns.id();
    let r = h.send_with_timeout(HandlerMessage::new(S::new(id)), HANG).await;
    r.unwrap_or_else(|e| panic!("{e}")).expect_reply_to(id);
    h.send_and_forget(HandlerMessage::new(S::new(ns.id()))).await;
    // Multi built by hand: an ask (an envelope) and a tell, sent raw.
    let id = ns.id();
    let (envelope, rx) = Envelope::new(S::new(id));
    h.send_raw(Multi::new(envelope)).await.ok().unwrap();
    within(rx).await.ok().unwrap().expect_reply_to(id);
    h.send_raw(Multi::tell(S::new(ns.id()))).await.ok().unwrap();
    let _ = h.send_raw_message(Multi::tell(S::new(ns.id()))).await;
    // relay_dyn
    let id = ns.id();
    let (envelope, rx) = Envelope::new(S::new(id));
    h.relay_dyn(envelope).await;
    within(rx).await.ok().unwrap().expect_reply_to(id);
    // weak and dynamic links
    let weak = h.downgrade();
    let id = ns.id();
    within(weak.ask_dyn(S::new(id))).await.expect_reply_to(id);
    weak.tell_dyn(S::new(ns.id())).await;
    h.to_dyn::<S>().tell_dyn(S::new(ns.id())).await;
    // answered later, from a background task
    for use_async in [false, true] {
        let id = ns.id();
        within(h.ask_dyn(Later(S::new(id), use_async))).await.expect_reply_to(id);
        h.tell_dyn(Later(S::new(ns.id()), use_async)).await;
    }
    // built and dropped unsent: the payload dropped once, an ask's asker answered
    drop(Multi::<H<S>>::tell(S::new(ns.id())));
    let (envelope, rx) = Envelope::new(S::new(ns.id()));
    drop(Multi::<H<S>>::new(envelope));
    assert!(within(rx).await.is_err());
    // the last, answered: everything before it was handled
    let id = ns.id();
    within(h.ask_dyn(S::new(id))).await.expect_reply_to(id);
}

async fn envelope_paths<S: Shape>(e: &Link<E<S>>, ns: &ledger::Ns) {
    let id = ns.id();
    within(e.send::<S, Rep<S>>(S::new(id))).await.expect_reply_to(id);
    let id = ns.id();
    let r = within(e.send_message(EnvelopeMessage::new(S::new(id))).await.reply()).await;
    r.unwrap_or_else(|err| panic!("{err}")).expect_reply_to(id);
    e.send_message(EnvelopeMessage::new(S::new(ns.id()))).await.forget();
    let id = ns.id();
    let (envelope, rx) = Envelope::new(S::new(id));
    e.send_raw(envelope).await.ok().unwrap();
    within(rx).await.ok().unwrap().expect_reply_to(id);
    let id = ns.id();
    within(e.downgrade().send::<S, Rep<S>>(S::new(id))).await.expect_reply_to(id);
}

async fn raw_paths<S: Shape>(r: &Link<R<S>>, ns: &ledger::Ns) {
    for _ in 0..40 {
        // more than a block of 31 slots
        r.send_raw(RawCmd::Item(S::new(ns.id()))).await.ok().unwrap();
    }
    r.try_send_raw(RawCmd::Item(S::new(ns.id()))).ok().unwrap();
    let (done, synced) = oneshot::channel();
    r.send_raw(RawCmd::Sync(done)).await.ok().unwrap();
    within(synced).await.unwrap();
}

/// A `Proxy` in front of a handler-style actor of the shape (its spec cloned per incarnation).
async fn proxy_paths<S: Shape + Clone>(ns: &ledger::Ns) {
    let (proxy, link) = Proxy::<H<S>>::new(S::new(ns.id()));
    link.state().check();
    link.tell_dyn(S::new(ns.id())).await; // queued before `init`
    proxy.init();
    let id = ns.id();
    within(link.ask_dyn(S::new(id))).await.expect_reply_to(id);
    proxy.shutdown().await;
    proxy.reset();
    let id = ns.id();
    within(link.ask_dyn(S::new(id))).await.expect_reply_to(id);
    let inner = proxy.current().unwrap();
    drop(proxy);
    within(inner.wait()).await;
    within(link.wait()).await;
}

fn all_paths<S: Shape + Clone>() {
    on_big_stack(all_paths_here::<S>)
}

fn all_paths_here<S: Shape + Clone>() {
    let ns = ledger::ns();
    let rt = runtime();
    rt.block_on(async {
        let h = actor12::spawn::<H<S>>(S::new(ns.id()));
        handler_paths(&h, &ns).await;
        within(h.cancel_and_wait(())).await;
        drop(h);

        let e = actor12::spawn::<E<S>>(S::new(ns.id()));
        envelope_paths(&e, &ns).await;
        within(e.cancel_and_wait(())).await;
        drop(e);

        let r = actor12::spawn::<R<S>>(S::new(ns.id()));
        raw_paths(&r, &ns).await;
        within(r.cancel_and_wait(())).await;
        drop(r);

        proxy_paths::<S>(&ns).await;
    });
    drop(rt);
    if S::HAS_ID {
        ns.assert_each_dropped_once();
    }
}

/// The same paths with the actors spawned from inside an actor's handler (on a worker thread):
/// a large lifecycle future is built on a worker's stack then.
struct Spawner;
impl Actor for Spawner {
    type Message = Multi<Self>;
    type Spec = ();
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();
    fn state(_: &()) {}
    fn init(_: Init<'_, Self>) -> impl InitFuture<Self> {
        std::future::ready(Ok(Spawner))
    }
}

struct RunOnWorker<S>(Arc<ledger::Ns>, std::marker::PhantomData<fn(S)>);

impl<S: Shape + Clone> Handler<RunOnWorker<S>> for Spawner {
    type Reply = anyhow::Result<()>;
    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, m: RunOnWorker<S>) -> Self::Reply {
        assert!(actor12::rt::on_worker_thread());
        let ns = &*m.0;
        // Lean on purpose: this future is polled on a worker, and its own frame (a debug build
        // gives every temporary a slot) must not be what overflows.
        let h = actor12::spawn::<H<S>>(S::new(ns.id()));
        h.state().check();
        let id = ns.id();
        h.ask_dyn(S::new(id)).await.expect_reply_to(id);
        h.tell_dyn(S::new(ns.id())).await;
        h.cancel_and_wait(()).await;
        drop(h);
        let e = actor12::spawn::<E<S>>(S::new(ns.id()));
        let id = ns.id();
        e.send::<S, Rep<S>>(S::new(id)).await.expect_reply_to(id);
        e.cancel_and_wait(()).await;
        drop(e);
        let r = actor12::spawn::<R<S>>(S::new(ns.id()));
        for _ in 0..33 {
            r.send_raw(RawCmd::Item(S::new(ns.id()))).await.ok().unwrap();
        }
        let (done, synced) = oneshot::channel();
        r.send_raw(RawCmd::Sync(done)).await.ok().unwrap();
        synced.await.unwrap();
        r.cancel_and_wait(()).await;
        Ok(())
    }
}

fn all_paths_from_a_worker<S: Shape + Clone>() {
    on_big_stack(all_paths_from_a_worker_here::<S>)
}

fn all_paths_from_a_worker_here<S: Shape + Clone>() {
    let ns = Arc::new(ledger::ns());
    let rt = runtime();
    rt.block_on(async {
        let spawner = actor12::spawn::<Spawner>(());
        within(spawner.ask_dyn(RunOnWorker::<S>(ns.clone(), std::marker::PhantomData)))
            .await
            .unwrap();
        spawner.cancel_and_wait(()).await;
    });
    drop(rt);
    ns.assert_each_dropped_once();
}

// ---------------------------------------------------------------------------------------------
// Values whose end is unusual: left in a mailbox, replies never read or late, a panic.
// ---------------------------------------------------------------------------------------------

/// A handler-style actor held on a gate, with asks and tells queued behind it, stopped: every
/// queued value dropped once, the askers answered with an error; an ask that timed out while
/// queued, one whose handler ran when it timed out (its reply comes late), a reply never read
/// (handle dropped before and after the answer), an ask whose handler panics holding its message
/// and a value across an await.
fn unusual_ends<S: Shape>() {
    on_big_stack(unusual_ends_here::<S>)
}

fn unusual_ends_here<S: Shape>() {
    let ns = ledger::ns();
    let rt = runtime();
    rt.block_on(async {
        // 1. Timed out while its handler runs (the reply comes late), and timed out queued.
        let h = actor12::spawn::<H<S>>(S::new(ns.id()));
        let open_running = if S::HAS_ID {
            let held_id = ns.id() | HOLD;
            let (open, started) = gates::register(held_id);
            let running = h.send_message(HandlerMessage::new(S::new(held_id))).await;
            within(started).await.unwrap();
            let queued = h.send_message(HandlerMessage::new(S::new(ns.id()))).await;
            let e = within(running.timeout(Duration::from_millis(1)).reply()).await.err().unwrap();
            assert!(matches!(e, MessageError::Timeout { .. }), "{e:?}");
            let e = within(queued.timeout(Duration::ZERO).reply()).await.err().unwrap();
            assert!(matches!(e, MessageError::Timeout { .. }), "{e:?}");
            Some(open)
        } else {
            None
        };
        let (open, gate) = oneshot::channel();
        let (started_tx, started) = oneshot::channel();
        let _hold = h.send_message(HandlerMessage::new(Hold(started_tx, gate))).await;
        if let Some(open) = open_running {
            open.send(()).unwrap();
        }
        within(started).await.unwrap();
        let queued = h.send_message(HandlerMessage::new(S::new(ns.id()))).await;
        let e = within(queued.timeout(Duration::ZERO).reply()).await.err().unwrap();
        assert!(matches!(e, MessageError::Timeout { .. }), "{e:?}");
        // 2. A reply never read: one dropped before its answer, one after.
        let unread_early = h.send_message(HandlerMessage::new(S::new(ns.id()))).await;
        let unread_late = h.send_message(HandlerMessage::new(S::new(ns.id()))).await;
        let answered_unread = h.ask_dyn_async(S::new(ns.id())).await;
        drop(unread_early);
        open.send(()).unwrap();
        let id = ns.id();
        within(h.ask_dyn(S::new(id))).await.expect_reply_to(id); // all of the above handled
        drop(unread_late); // answered, never read: the answer goes with the handle
        drop(answered_unread);

        // 3. Left in the mailbox at stop.
        let (open, gate) = oneshot::channel();
        let (started_tx, started) = oneshot::channel();
        let _hold = h.send_message(HandlerMessage::new(Hold(started_tx, gate))).await;
        within(started).await.unwrap();
        let mut asks = Vec::new();
        for i in 0..40 {
            if i % 2 == 0 {
                h.tell_dyn(S::new(ns.id())).await;
            } else {
                asks.push(h.ask_dyn_async(S::new(ns.id())).await);
            }
        }
        let (envelope, raw_rx) = Envelope::new(S::new(ns.id()));
        h.send_raw(Multi::new(envelope)).await.ok().unwrap();
        h.cancel(());
        open.send(()).unwrap();
        for ask in asks {
            assert!(within(ask).await.is_err(), "a queued ask dropped at stop answers an error");
        }
        assert!(within(raw_rx).await.is_err());
        within(h.wait()).await;
        // Sends after the stop: handed back, dropped by the sender.
        assert!(h.ask_dyn(S::new(ns.id())).await.is_err());
        h.tell_dyn(S::new(ns.id())).await;
        assert!(h.send_raw(Multi::tell(S::new(ns.id()))).await.is_err());
        drop(h);

        // 4. An ask whose handler panics, holding its message and a value across an await, with
        // more queued behind it.
        let h = actor12::spawn::<H<S>>(S::new(ns.id()));
        let (open, gate) = oneshot::channel();
        let (started_tx, started) = oneshot::channel();
        let _hold = h.send_message(HandlerMessage::new(Hold(started_tx, gate))).await;
        within(started).await.unwrap();
        let boom = if S::HAS_ID {
            h.ask_dyn_async(S::new(ns.id() | PANIC)).await
        } else {
            Box::pin(async { Rep::Err(String::new()) })
        };
        let boom2 = h.ask_dyn_async(Boom(S::new(ns.id()))).await;
        let behind = h.ask_dyn_async(S::new(ns.id())).await;
        h.tell_dyn(S::new(ns.id())).await;
        open.send(()).unwrap();
        assert!(within(boom).await.is_err(), "the asker of a panicking handler gets an error");
        assert!(within(boom2).await.is_err());
        assert!(within(behind).await.is_err());
        within(h.wait()).await;
        drop(h);

        // 5. The same ends for envelope and raw style.
        if S::HAS_ID {
            let e = actor12::spawn::<E<S>>(S::new(ns.id()));
            let held_id = ns.id() | HOLD;
            let (open, started) = gates::register(held_id);
            let running = e.send_message(EnvelopeMessage::new(S::new(held_id))).await;
            within(started).await.unwrap();
            let timed_out = e.send_message(EnvelopeMessage::new(S::new(ns.id()))).await;
            let e1 = within(running.timeout(Duration::from_millis(1)).reply()).await;
            assert!(matches!(e1, Err(MessageError::Timeout { .. })));
            let e2 = within(timed_out.timeout(Duration::ZERO).reply()).await;
            assert!(matches!(e2, Err(MessageError::Timeout { .. })));
            let mut queued = Vec::new();
            for _ in 0..35 {
                queued.push(e.send_message(EnvelopeMessage::new(S::new(ns.id()))).await);
            }
            e.cancel(());
            open.send(()).unwrap();
            for q in queued {
                assert!(within(q.reply()).await.is_err());
            }
            within(e.wait()).await;
            drop(e);

            let r = actor12::spawn::<R<S>>(S::new(ns.id()));
            let held_id = ns.id() | HOLD;
            let (open, started) = gates::register(held_id);
            r.send_raw(RawCmd::Item(S::new(held_id))).await.ok().unwrap();
            within(started).await.unwrap();
            for _ in 0..35 {
                r.send_raw(RawCmd::Item(S::new(ns.id()))).await.ok().unwrap();
            }
            r.cancel(());
            open.send(()).unwrap();
            within(r.wait()).await;
            let back = r.send_raw(RawCmd::Item(S::new(ns.id()))).await;
            assert!(back.is_err());
            drop(back);
            drop(r);

            // 6. A raw actor that panics with messages queued.
            let r = actor12::spawn::<R<S>>(S::new(ns.id()));
            let held_id = ns.id() | HOLD | PANIC;
            let (open, started) = gates::register(held_id);
            r.send_raw(RawCmd::Item(S::new(held_id))).await.ok().unwrap();
            within(started).await.unwrap();
            for _ in 0..35 {
                r.send_raw(RawCmd::Item(S::new(ns.id()))).await.ok().unwrap();
            }
            open.send(()).unwrap();
            within(r.wait()).await;
        }
    });
    drop(rt);
    if S::HAS_ID {
        ns.assert_each_dropped_once();
    }
}

// ---------------------------------------------------------------------------------------------
// The tests, shape by shape.
// ---------------------------------------------------------------------------------------------

#[test]
fn align64_every_path() {
    all_paths::<A64>();
}

#[test]
fn align64_unusual_ends() {
    unusual_ends::<A64>();
}

#[test]
fn align4096_every_path() {
    all_paths::<A4096>();
}

#[test]
fn align4096_unusual_ends() {
    unusual_ends::<A4096>();
}

#[test]
fn align4096_from_a_worker() {
    all_paths_from_a_worker::<A4096>();
}

#[test]
fn tell_boundary_24_bytes_every_path() {
    assert_eq!((size_of::<T24>(), align_of::<T24>()), (24, 8));
    all_paths::<T24>();
    unusual_ends::<T24>();
}

#[test]
fn tell_boundary_25_bytes_every_path() {
    assert_eq!((size_of::<T25>(), align_of::<T25>()), (25, 1));
    all_paths::<T25>();
    unusual_ends::<T25>();
}

#[test]
fn ask_boundary_16_bytes_every_path() {
    assert_eq!((size_of::<Q16>(), align_of::<Q16>()), (16, 8));
    all_paths::<Q16>();
    unusual_ends::<Q16>();
}

#[test]
fn ask_boundary_17_bytes_every_path() {
    assert_eq!((size_of::<Q17>(), align_of::<Q17>()), (17, 1));
    all_paths::<Q17>();
    unusual_ends::<Q17>();
}

#[test]
fn u128_at_the_boundary_every_path() {
    assert_eq!((size_of::<U128>(), align_of::<U128>()), (16, 16));
    all_paths::<U128>();
    unusual_ends::<U128>();
}

#[test]
fn not_unpin_every_path() {
    all_paths::<Pinned>();
    unusual_ends::<Pinned>();
}

#[test]
#[cfg_attr(miri, ignore = "large values: slow under Miri")]
fn big_4k_every_path() {
    all_paths::<Big<4096>>();
    unusual_ends::<Big<4096>>();
    all_paths_from_a_worker::<Big<4096>>();
}

/// Zero-sized values (plain and page-aligned) through every path: each made one dropped once.
#[test]
fn zero_sized_every_path() {
    let _lock = ZST_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let (made, dropped) = (ZST_MADE.load(SeqCst), ZST_DROPPED.load(SeqCst));
    all_paths::<Zst>();
    all_paths::<ZstA4096>();
    let made = ZST_MADE.load(SeqCst) - made;
    let dropped = ZST_DROPPED.load(SeqCst) - dropped;
    assert!(made > 0);
    assert_eq!(made, dropped, "zero-sized values made and dropped");
}

#[test]
fn zero_sized_unusual_ends() {
    let _lock = ZST_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let (made, dropped) = (ZST_MADE.load(SeqCst), ZST_DROPPED.load(SeqCst));
    unusual_ends::<Zst>();
    unusual_ends::<ZstA4096>();
    let made = ZST_MADE.load(SeqCst) - made;
    let dropped = ZST_DROPPED.load(SeqCst) - dropped;
    assert_eq!(made, dropped, "zero-sized values made and dropped");
}

// ---------------------------------------------------------------------------------------------
// Values whose drop panics.
// ---------------------------------------------------------------------------------------------

/// Polls `f`, catching a panic of its poll.
async fn catch<F: std::future::Future>(f: F) -> std::thread::Result<F::Output> {
    let mut f = std::pin::pin!(f);
    std::future::poll_fn(move |cx| {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f.as_mut().poll(cx))) {
            Ok(std::task::Poll::Ready(v)) => std::task::Poll::Ready(Ok(v)),
            Ok(std::task::Poll::Pending) => std::task::Poll::Pending,
            Err(p) => std::task::Poll::Ready(Err(p)),
        }
    })
    .await
}

/// A message whose drop panics, handled: the handler panics as it drops it (user code), so the
/// actor stops as for any handler panic: its asker gets an error, what is queued behind it is
/// dropped once, another actor on the runtime goes on, the process does not abort.
#[test]
fn bomb_message_dropped_by_its_handler() {
    on_big_stack(|| {
        let ns = ledger::ns();
        let rt = runtime();
        rt.block_on(async {
            let other = actor12::spawn::<H<Q16>>(Q16::new(ns.id()));
            let h = actor12::spawn::<H<Bomb>>(Bomb::new(ns.id()));
            let (open, gate) = oneshot::channel();
            let (started_tx, started) = oneshot::channel();
            let _hold = h.send_message(HandlerMessage::new(Hold(started_tx, gate))).await;
            within(started).await.unwrap();
            let armed = h.ask_dyn_async(Bomb::new(ns.id() | BOMB)).await;
            let behind: Vec<_> = futures_behind(&h, &ns, 5).await;
            open.send(()).unwrap();
            assert!(within(armed).await.is_err(), "the asker of the handler that panicked");
            for b in behind {
                assert!(within(b).await.is_err());
            }
            within(h.wait()).await;
            let id = ns.id();
            within(other.ask_dyn(Q16::new(id))).await.expect_reply_to(id);
            other.cancel_and_wait(()).await;
        });
        drop(rt);
        ns.assert_each_dropped_once();
    });
}

async fn futures_behind<S: Shape>(
    h: &Link<H<S>>,
    ns: &ledger::Ns,
    n: usize,
) -> Vec<actor12::BoxFuture<'static, Rep<S>>> {
    let mut v = Vec::new();
    for _ in 0..n {
        h.tell_dyn(S::new(ns.id() | BOMB)).await; // armed, queued: dropped by the stop
        v.push(h.ask_dyn_async(S::new(ns.id() | BOMB)).await);
    }
    v
}

/// Messages whose drop panics, left in the mailbox at stop, in every style: each dropped once
/// (the panics are swallowed by the stop), the askers answered, the actor stopped, no abort.
#[test]
fn bombs_left_in_the_mailbox_at_stop() {
    on_big_stack(|| {
        let ns = ledger::ns();
        let rt = runtime();
        rt.block_on(async {
            // handler style
            let h = actor12::spawn::<H<Bomb>>(Bomb::new(ns.id()));
            let (open, gate) = oneshot::channel();
            let (started_tx, started) = oneshot::channel();
            let _hold = h.send_message(HandlerMessage::new(Hold(started_tx, gate))).await;
            within(started).await.unwrap();
            let behind = futures_behind(&h, &ns, 20).await;
            h.cancel(());
            open.send(()).unwrap();
            for b in behind {
                assert!(within(b).await.is_err());
            }
            within(h.wait()).await;
            // envelope style
            let e = actor12::spawn::<E<Bomb>>(Bomb::new(ns.id()));
            let held_id = ns.id() | HOLD;
            let (open, started) = gates::register(held_id);
            let _running = e.send_message(EnvelopeMessage::new(Bomb::new(held_id))).await;
            within(started).await.unwrap();
            let mut queued = Vec::new();
            for _ in 0..35 {
                queued.push(e.send_message(EnvelopeMessage::new(Bomb::new(ns.id() | BOMB))).await);
            }
            e.cancel(());
            open.send(()).unwrap();
            for q in queued {
                assert!(within(q.reply()).await.is_err());
            }
            within(e.wait()).await;
            // raw style
            let r = actor12::spawn::<R<Bomb>>(Bomb::new(ns.id()));
            let held_id = ns.id() | HOLD;
            let (open, started) = gates::register(held_id);
            r.send_raw(RawCmd::Item(Bomb::new(held_id))).await.ok().unwrap();
            within(started).await.unwrap();
            for _ in 0..35 {
                r.send_raw(RawCmd::Item(Bomb::new(ns.id() | BOMB))).await.ok().unwrap();
            }
            r.cancel(());
            open.send(()).unwrap();
            within(r.wait()).await;
        });
        drop(rt);
        ns.assert_each_dropped_once();
    });
}

/// Answers with a reply whose drop panics (an armed `Bomb`), after the gate registered for
/// its id, if any; counts its crashes.
struct BombReplier;
static BOMB_REPLIER_CRASHES: AtomicUsize = AtomicUsize::new(0);

impl Actor for BombReplier {
    type Message = Multi<Self>;
    type Spec = ();
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();
    fn state(_: &()) {}
    fn init(_: Init<'_, Self>) -> impl InitFuture<Self> {
        std::future::ready(Ok(BombReplier))
    }
    fn crash(_: Box<dyn std::any::Any + Send>) -> impl std::future::Future<Output = ()> + Send {
        BOMB_REPLIER_CRASHES.fetch_add(1, SeqCst);
        std::future::ready(())
    }
}

struct AskBomb(u64);

impl Handler<AskBomb> for BombReplier {
    type Reply = Rep<Bomb>;
    async fn handle(
        &mut self,
        _: Call<'_, Self, Self::Reply>,
        AskBomb(id): AskBomb,
    ) -> Self::Reply {
        if let Some((started, gate)) = gates::take(id) {
            let _ = started.send(());
            let _ = gate.await;
        }
        Rep::Ok(Bomb::new(id))
    }
}

/// A reply whose drop panics, never read: (a) the asker timed out before the answer, so the
/// runtime drops the answer in the actor's run; (b) the answer came and the asker dropped its
/// handle. Each dropped once; no abort; what happens to the actor in (a) is recorded below.
#[test]
fn bomb_reply_never_read() {
    on_big_stack(|| {
        let ns = ledger::ns();
        let rt = runtime();
        rt.block_on(async {
            // (b) answered, never read: the drop (and its panic) comes in the asker's drop.
            let b = actor12::spawn::<BombReplier>(());
            let id = ns.id() | BOMB;
            let handle = b.send_message(HandlerMessage::new(AskBomb(id))).await;
            within(b.ask_dyn(AskBomb(ns.id()))).await.expect_reply_to_any();
            let dropped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(handle)));
            assert!(dropped.is_err(), "the reply's drop panics in the asker that drops it");
            assert!(b.alive());

            // (a) timed out: the late answer is dropped by the runtime, in the actor's run.
            let crashes = BOMB_REPLIER_CRASHES.load(SeqCst);
            let id = ns.id() | BOMB;
            let (open, started) = gates::register(id);
            let handle = b.send_message(HandlerMessage::new(AskBomb(id))).await;
            within(started).await.unwrap();
            let r = within(handle.timeout(Duration::from_millis(1)).reply()).await;
            assert!(matches!(r, Err(MessageError::Timeout { .. })));
            open.send(()).unwrap();
            let after = within(b.ask_dyn(AskBomb(ns.id()))).await;
            let alive = b.alive();
            within(b.cancel_and_wait(())).await;
            eprintln!(
                "bomb_reply_never_read (a): actor alive after the late reply's drop panicked: \
                 {alive}, crash hook runs: {}, the next ask: {}",
                BOMB_REPLIER_CRASHES.load(SeqCst) - crashes,
                if after.is_err() { "error" } else { "answered" }
            );
            // As a handler's panic: the actor stopped, its `crash` ran, the next ask failed.
            assert!(!alive);
            assert_eq!(BOMB_REPLIER_CRASHES.load(SeqCst) - crashes, 1);
            assert!(after.is_err());
            drop(after);
        });
        drop(rt);
        ns.assert_each_dropped_once();
    });
}

impl<S: Shape> Rep<S> {
    fn expect_reply_to_any(self) {
        match self {
            Rep::Ok(s) => s.check(),
            Rep::Err(e) => panic!("no reply: {e}"),
        }
    }
}

/// An actor struct whose drop panics (its `own` field is an armed `Bomb`): the stop goes on,
/// `cancel_and_wait` returns, the runtime goes on, no abort.
#[test]
fn bomb_actor_struct() {
    on_big_stack(|| {
        let ns = ledger::ns();
        let rt = runtime();
        rt.block_on(async {
            let h = actor12::spawn::<H<Bomb>>(Bomb::new(ns.id() | BOMB));
            let id = ns.id();
            within(h.ask_dyn(Bomb::new(id))).await.expect_reply_to(id);
            within(h.cancel_and_wait(())).await;
            assert!(!h.alive());
            // The actor's drop panicked in its `terminate` (user code): a crash. Another actor
            // still runs.
            let other = actor12::spawn::<H<Q16>>(Q16::new(ns.id()));
            let id = ns.id();
            within(other.ask_dyn(Q16::new(id))).await.expect_reply_to(id);
            other.cancel_and_wait(()).await;
        });
        drop(rt);
        ns.assert_each_dropped_once();
    });
}

/// A `State` whose drop panics: the drop of the last link panics in the dropper; the actor's
/// allocation and everything else is freed.
struct BombState;
impl Actor for BombState {
    type Message = Multi<Self>;
    type Spec = u64;
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = Bomb;
    fn state(id: &u64) -> Bomb {
        Bomb::new(*id)
    }
    fn init(_: Init<'_, Self>) -> impl InitFuture<Self> {
        std::future::ready(Ok(BombState))
    }
}

#[test]
fn bomb_state() {
    on_big_stack(|| {
        let ns = ledger::ns();
        let rt = runtime();
        rt.block_on(async {
            let s = actor12::spawn::<BombState>(ns.id() | BOMB);
            s.state().check();
            within(s.cancel_and_wait(())).await;
            let dropped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(s)));
            assert!(dropped.is_err(), "the state's drop panics in the dropper of the last link");
        });
        drop(rt);
        ns.assert_each_dropped_once();
    });
}

/// A message whose drop panics, sent to a stopped actor: handed back and dropped in the
/// sender's future, where the panic surfaces.
#[test]
fn bomb_sent_to_a_stopped_actor() {
    on_big_stack(|| {
        let ns = ledger::ns();
        let rt = runtime();
        rt.block_on(async {
            let h = actor12::spawn::<H<Bomb>>(Bomb::new(ns.id()));
            h.cancel_and_wait(()).await;
            assert!(catch(h.tell_dyn(Bomb::new(ns.id() | BOMB))).await.is_err());
            assert!(catch(h.ask_dyn(Bomb::new(ns.id() | BOMB))).await.is_err());
            let back = catch(h.send_raw(Multi::tell(Bomb::new(ns.id() | BOMB)))).await;
            // The message comes back in the error; its drop panics where the sender drops it.
            let back = back.expect("the send itself does not panic");
            assert!(std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(back))).is_err());
        });
        drop(rt);
        ns.assert_each_dropped_once();
    });
}

/// A handler future holding a value whose drop panics, dropped unfinished because the runtime
/// shuts down while it waits: the drop's panic is contained, the asker answered, every value
/// dropped once.
#[test]
fn bomb_held_by_a_handler_dropped_unfinished() {
    on_big_stack(|| {
        let ns = ledger::ns();
        let rt = runtime();
        let (asked, open) = rt.block_on(async {
            let h = actor12::spawn::<H<Bomb>>(Bomb::new(ns.id()));
            let id = ns.id() | BOMB | HOLD;
            let (open, started) = gates::register(id);
            let asked = h.ask_dyn_async(Bomb::new(id)).await;
            within(started).await.unwrap();
            (asked, open)
        });
        drop(rt);
        let r = resolves_within_here(asked);
        assert!(r.is_err(), "the asker of a handler dropped unfinished gets an error");
        drop(open);
        ns.assert_each_dropped_once();
    });
}

fn resolves_within_here<F: std::future::Future + Send + 'static>(f: F) -> F::Output
where
    F::Output: Send + 'static,
{
    support::resolves_within(f).expect("hung")
}

// ---------------------------------------------------------------------------------------------
// One actor, its handler futures of every shape in turn: the reused `FutureBuf` grows for size
// and alignment, in any order.
// ---------------------------------------------------------------------------------------------

struct Mixed;

impl Actor for Mixed {
    type Message = Multi<Self>;
    type Spec = ();
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();
    fn state(_: &()) {}
    fn init(_: Init<'_, Self>) -> impl InitFuture<Self> {
        std::future::ready(Ok(Mixed))
    }
}

macro_rules! mixed {
    ($($t:ty),*) => {$(
        impl Handler<$t> for Mixed {
            type Reply = Rep<$t>;
            async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, msg: $t) -> Self::Reply {
                // `own` for `serve`: a value of the shape made for the call (id 0: untracked).
                let own = <$t>::new(0);
                let reply = serve(&own, msg).await;
                std::mem::forget(own);
                Rep::Ok(reply)
            }
        }
    )*};
}
mixed!(Q16, T24, T25, Q17, U128, A64, A4096, Big<4096>, Pinned, Zst, ZstA4096);

#[test]
fn one_future_buffer_for_every_shape_in_turn() {
    on_big_stack(|| {
        let _lock = ZST_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        let (zmade, zdropped) = (ZST_MADE.load(SeqCst), ZST_DROPPED.load(SeqCst));
        let ns = ledger::ns();
        let rt = runtime();
        rt.block_on(async {
            let m = actor12::spawn::<Mixed>(());
            for _ in 0..2 {
                macro_rules! ask {
                    ($t:ty) => {{
                        let id = ns.id();
                        within(m.ask_dyn(<$t>::new(id))).await.expect_reply_to(id);
                        m.tell_dyn(<$t>::new(ns.id())).await;
                    }};
                }
                ask!(Q16);
                ask!(Big<4096>);
                ask!(A64);
                ask!(Zst);
                ask!(A4096);
                ask!(T25);
                ask!(ZstA4096);
                ask!(U128);
                ask!(A64);
                ask!(Pinned);
                ask!(Big<4096>);
                ask!(T24);
                ask!(Q17);
            }
            m.cancel_and_wait(()).await;
        });
        drop(rt);
        ns.assert_each_dropped_once();
        let made = ZST_MADE.load(SeqCst) - zmade;
        let dropped = ZST_DROPPED.load(SeqCst) - zdropped;
        // each `own` of a zero-sized shape was forgotten, not dropped
        assert_eq!(made, dropped + 8, "zero-sized values made and dropped");
    });
}

// ---------------------------------------------------------------------------------------------
// `init` futures holding a value of the shape across an await (`InitSlot`, boxed or in place).
// ---------------------------------------------------------------------------------------------

struct InitHolds<S: Shape> {
    own: S,
}

impl<S: Shape> Actor for InitHolds<S> {
    type Message = Multi<Self>;
    type Spec = u64;
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();
    fn state(_: &u64) {}
    fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
        let id = ctx.spec;
        async move {
            let own = S::new(id);
            let r = &own;
            actor12::rt::yield_now().await;
            r.check();
            Ok(InitHolds { own })
        }
    }
}

impl<S: Shape> Handler<S> for InitHolds<S> {
    type Reply = Rep<S>;
    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, msg: S) -> Self::Reply {
        Rep::Ok(serve(&self.own, msg).await)
    }
}

fn init_holds<S: Shape>() {
    let ns = ledger::ns();
    let rt = runtime();
    rt.block_on(async {
        let a = actor12::spawn::<InitHolds<S>>(ns.id());
        let id = ns.id();
        within(a.ask_dyn(S::new(id))).await.expect_reply_to(id);
        a.cancel_and_wait(()).await;
        // stopped while `init` waits: its future dropped unfinished
        let (open, gate) = oneshot::channel::<()>();
        let b = actor12::spawn::<InitWaits<S>>((ns.id(), Mutex::new(Some(gate))));
        b.cancel_and_wait(()).await;
        drop(open);
    });
    drop(rt);
    if S::HAS_ID {
        ns.assert_each_dropped_once();
    }
}

struct InitWaits<S: Shape>(S);

impl<S: Shape> Actor for InitWaits<S> {
    type Message = Multi<Self>;
    type Spec = (u64, Mutex<Option<oneshot::Receiver<()>>>);
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();
    fn state(_: &Self::Spec) {}
    fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
        let (id, gate) = ctx.spec;
        let gate = gate.into_inner().unwrap().unwrap();
        async move {
            let own = S::new(id);
            let _ = gate.await;
            own.check();
            Ok(InitWaits(own))
        }
    }
}

#[test]
fn init_futures_holding_every_shape() {
    on_big_stack(|| {
        init_holds::<A64>();
        init_holds::<A4096>();
        init_holds::<U128>();
        init_holds::<T25>();
        init_holds::<Pinned>();
        init_holds::<Big<4096>>();
        let _lock = ZST_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        let (made, dropped) = (ZST_MADE.load(SeqCst), ZST_DROPPED.load(SeqCst));
        init_holds::<Zst>();
        init_holds::<ZstA4096>();
        assert_eq!(ZST_MADE.load(SeqCst) - made, ZST_DROPPED.load(SeqCst) - dropped);
    });
}

// ---------------------------------------------------------------------------------------------
// Raw style with the shape itself as the message type (no enum around it): mailbox blocks of
// zero-sized, over-aligned and boundary-sized slots, received by value (two words or less) or
// into the cycle's slot (larger).
// ---------------------------------------------------------------------------------------------

struct RawDirect<M> {
    handled: Arc<AtomicUsize>,
    _m: std::marker::PhantomData<fn(M)>,
}

impl<M: Shape> Actor for RawDirect<M>
where
    M: ActorMessage<RawDirect<M>>,
{
    type Message = M;
    type Spec = Arc<AtomicUsize>;
    type Channel = MpscChannel<M>;
    type Cancel = ();
    type State = ();
    fn state(_: &Self::Spec) {}
    fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
        std::future::ready(Ok(RawDirect { handled: ctx.spec, _m: std::marker::PhantomData }))
    }
    fn termination_strategy(&mut self) -> actor12::Terminate {
        actor12::Terminate::ProcessAll
    }
    async fn handle(&mut self, _: Exec<'_, Self>, msg: M) {
        msg.check();
        actor12::rt::yield_now().await;
        msg.check();
        self.handled.fetch_add(1, SeqCst);
    }
}

macro_rules! raw_direct {
    ($($t:ty),*) => {$( impl ActorMessage<RawDirect<$t>> for $t {} )*};
}
raw_direct!(Zst, ZstA4096, A64, A4096, U128, Q16, Q17, T24, T25, Pinned, Big<4096>);

fn raw_direct<M: Shape + ActorMessage<RawDirect<M>>>() {
    let ns = ledger::ns();
    let rt = runtime();
    let handled = Arc::new(AtomicUsize::new(0));
    rt.block_on(async {
        let r = actor12::spawn::<RawDirect<M>>(handled.clone());
        for _ in 0..70 {
            r.send_raw(M::new(ns.id())).await.ok().unwrap();
        }
        within(r.cancel_and_wait(())).await;
        assert!(r.send_raw(M::new(ns.id())).await.is_err());
    });
    drop(rt);
    assert_eq!(handled.load(SeqCst), 70);
    if M::HAS_ID {
        ns.assert_each_dropped_once();
    }
}

#[test]
fn raw_style_shape_as_the_message_type() {
    on_big_stack(|| {
        raw_direct::<A64>();
        raw_direct::<A4096>();
        raw_direct::<U128>();
        raw_direct::<Q16>();
        raw_direct::<Q17>();
        raw_direct::<T24>();
        raw_direct::<T25>();
        raw_direct::<Pinned>();
        raw_direct::<Big<4096>>();
        let _lock = ZST_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        let (made, dropped) = (ZST_MADE.load(SeqCst), ZST_DROPPED.load(SeqCst));
        raw_direct::<Zst>();
        raw_direct::<ZstA4096>();
        assert_eq!(ZST_MADE.load(SeqCst) - made, 142);
        assert_eq!(ZST_DROPPED.load(SeqCst) - dropped, 142);
    });
}
