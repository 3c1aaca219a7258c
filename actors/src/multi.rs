//! `Multi<A>`: a type-erased message for handler-style actors, with no allocation of its own
//! when it is small.
//!
//! A `Multi` is a vtable pointer and three words. The message (with its reply slot, for an ask)
//! is stored in those words when it fits (24 bytes for a tell, 16 for an ask's message beside
//! its 8-byte slot), and boxed otherwise. When the actor handles it, the handler's future is
//! built in a buffer that the actor keeps in its [`ActorContext`] and reuses for every message
//! (grown when a larger future comes along). So a small handler-style tell costs no allocation
//! in steady state, and an ask only its reply slot.
//!
//! The handler's future is built in the buffer beside the reply slot its `Call` borrows (an
//! [`InPlace`]), with references to the actor and its context made of raw pointers, valid
//! while the [`Handling`] future that polls it holds their exclusive borrows.

use std::alloc::Layout;
use std::future::Future;
use std::marker::PhantomData;
use std::mem::{ManuallyDrop, MaybeUninit};
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll};

use crate::actor::{Actor, ActorContext, ActorMessage};
use crate::envelope::Envelope;
use crate::handler::{Call, Exec, Handler};
use crate::oneshot;

/// A message for any [`Handler`] the actor implements: the `Message` type of handler-style
/// actors. Built by [`Link::ask_dyn`](crate::Link::ask_dyn) and friends.
///
/// Cost: a message of up to 24 bytes (16 for an ask, beside its reply slot) is stored in the
/// `Multi` itself, larger ones are boxed; the handler's future is built in a buffer the actor
/// reuses from one message to the next. So a small tell allocates nothing once the actor has
/// warmed up, and an ask at most its reply slot (nothing once the asking thread has one it freed
/// to reuse).
///
/// # Examples
///
/// `tell_dyn` and `ask_dyn` build the `Multi` for you; built by hand, messages of different
/// types are one value type, to keep or pass around before they go:
///
/// ```
/// use actor12::prelude::*;
/// use actor12::Envelope;
///
/// struct Counter(u64);
/// struct Add(u64);
/// struct Get;
///
/// impl Actor for Counter {
///     type Message = Multi<Self>;
///     type Spec = ();
///     type Channel = MpscChannel<Self::Message>;
///     type Cancel = ();
///     type State = ();
///     fn state(_: &()) {}
///     fn init(_: Init<'_, Self>) -> impl InitFuture<Self> {
///         std::future::ready(Ok(Counter(0)))
///     }
/// }
///
/// impl Handler<Add> for Counter {
///     type Reply = anyhow::Result<()>;
///     async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, msg: Add) -> Self::Reply {
///         self.0 += msg.0;
///         Ok(())
///     }
/// }
///
/// impl Handler<Get> for Counter {
///     type Reply = anyhow::Result<u64>;
///     async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Get) -> Self::Reply {
///         Ok(self.0)
///     }
/// }
///
/// actor12::rt::Runtime::new().unwrap().block_on(async {
///     let counter = actor12::spawn::<Counter>(());
///     let (get, total) = Envelope::new(Get); // an ask: the envelope carries its reply slot
///     let batch: Vec<Multi<Counter>> =
///         vec![Multi::tell(Add(2)), Multi::tell(Add(3)), Multi::new(get)];
///     for msg in batch {
///         counter.send_raw(msg).await.unwrap();
///     }
///     assert_eq!(total.await.unwrap().unwrap(), 5);
/// });
/// ```
pub struct Multi<A: Actor> {
    vtable: &'static Vtable<A>,
    data: Inline,
    /// Neither `Send` nor `Sync` of itself (its words would make it both, whatever they hold):
    /// the impls below are the only ones, and the constructors' bounds what they rest on.
    _not_auto: PhantomData<*const ()>,
}

/// Where a message lives inside a `Multi`: the payload itself if it fits, else its box.
type Inline = [Word; 3];

/// One word of a `Multi`'s payload (uninitialised where the payload has padding, or is
/// smaller).
type Word = MaybeUninit<usize>;

// SAFETY: the payload is an `M: Send` with, for an ask, a reply sender (`Send`); the vtable is
// plain function pointers.
unsafe impl<A: Actor> Send for Multi<A> {}
// SAFETY: a `&Multi` reaches the payload only through the vtable's `delivered`, which calls
// `oneshot::Sender::delivered` (`&self`; `Sender<R>` is `Sync` for `R: Send`) on an ask's reply
// sender; everything else moves the payload out, or drops it, through ownership.
unsafe impl<A: Actor> Sync for Multi<A> {}

impl<A: Actor> std::fmt::Debug for Multi<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Multi")
    }
}

/// What a `Multi` knows about its payload's type.
struct Vtable<A: Actor> {
    /// Moves the payload out of `data` and builds the handler's future in `buf`.
    start: StartFn<A>,
    /// Drops a payload that was never handled.
    drop: unsafe fn(data: *mut Inline),
    /// The actor's own code took the message out of the mailbox: marks an ask's reply sender
    /// delivered ([`oneshot::Sender::delivered`]); nothing for a tell.
    delivered: unsafe fn(data: *const Inline),
}

/// The payload's words come by value (in registers), not as a pointer to the `Multi`: a pointer
/// made the `Multi` live at one more stack address, one more copy and reload of it per message
/// (callgrind, handler-style fan-in: 6 instructions a message).
type StartFn<A> =
    unsafe fn(Word, Word, Word, Raw<A>, Raw<ActorContext<A>>, &mut FutureBuf) -> Running;

/// The erased handler future living in the actor's [`FutureBuf`].
#[derive(Clone, Copy)]
struct Running {
    /// Polls the future ([`poll_handler`]). As it finishes, it drops the handler's future and
    /// takes the slot itself, having first set the third argument, `Running::drop`, to `None`:
    /// so a finished one is neither dropped nor polled again, even after a panic in those drops.
    poll: unsafe fn(NonNull<u8>, &mut Context<'_>, &mut Option<DropFn>) -> Poll<()>,
    /// Drops a future that did not finish ([`drop_handler`]); `None` once it finished.
    drop: Option<DropFn>,
}

/// `Running::drop`.
type DropFn = unsafe fn(NonNull<u8>);

type Reply<A, M> = <A as Handler<M>>::Reply;

impl<A: Actor> Multi<A> {
    /// Wraps an envelope for `A`'s `Handler<M>`.
    pub fn new<M: Send + 'static>(envelope: Envelope<M, <A as Handler<M>>::Reply>) -> Self
    where
        A: Handler<M>,
    {
        let (msg, reply) = envelope.split();
        Multi::with(
            &Vtable {
                start: start::<A, M, Ask<M, Reply<A, M>>>,
                drop: drop_payload::<Ask<M, Reply<A, M>>>,
                delivered: mark_ask::<M, Reply<A, M>>,
            },
            Ask(msg, reply),
        )
    }

    /// A message for `A`'s `Handler<M>` whose reply nobody waits for (what
    /// [`Link::tell_dyn`](crate::Link::tell_dyn) sends): no reply slot, and no allocation if
    /// the message fits in 24 bytes.
    pub fn tell<M: Send + 'static>(message: M) -> Self
    where
        A: Handler<M>,
    {
        Multi::with(
            &Vtable {
                start: start::<A, M, Tell<M>>,
                drop: drop_payload::<Tell<M>>,
                delivered: mark_nothing,
            },
            Tell(message),
        )
    }

    fn with<P: Payload>(vtable: &'static Vtable<A>, payload: P) -> Self {
        let mut data = [Word::uninit(); 3];
        // SAFETY: `data` is ours; `store` writes either `P` (when it fits, checked there) or a
        // box pointer, which always fits.
        unsafe { store(&mut data, payload) };
        Multi { vtable, data, _not_auto: PhantomData }
    }
}

impl<A: Actor> Drop for Multi<A> {
    fn drop(&mut self) {
        // SAFETY: an unconsumed `Multi` holds the payload its vtable was made for.
        unsafe { (self.vtable.drop)(&mut self.data) }
    }
}

/// A payload: a tell's message, or an ask's message with its reply slot.
trait Payload: Sized + Send + 'static {
    /// Stored in place (no box) when it fits in a `Multi`'s three words.
    const INLINE: bool =
        size_of::<Self>() <= size_of::<Inline>() && align_of::<Self>() <= align_of::<Inline>();
}

struct Tell<M>(M);
struct Ask<M, R>(M, oneshot::Sender<R>);

impl<M: Send + 'static> Payload for Tell<M> {}
impl<M: Send + 'static, R: Send + 'static> Payload for Ask<M, R> {}

/// # Safety
/// `data` is writable and holds no payload.
unsafe fn store<P: Payload>(data: &mut Inline, payload: P) {
    let data = data.as_mut_ptr();
    if P::INLINE {
        // SAFETY: `P` fits in size and alignment (`INLINE`).
        unsafe { data.cast::<P>().write(payload) }
    } else {
        // SAFETY: a box pointer fits in three words.
        unsafe { data.cast::<Box<P>>().write(Box::new(payload)) }
    }
}

/// # Safety
/// `data` holds a payload stored by `store::<P>`; it is moved out (the caller must not drop it
/// again).
unsafe fn take<P: Payload>(data: *mut Inline) -> P {
    let data = data.cast::<u8>();
    if P::INLINE {
        // SAFETY: per the contract.
        unsafe { data.cast::<P>().read() }
    } else {
        // SAFETY: per the contract.
        *unsafe { data.cast::<Box<P>>().read() }
    }
}

unsafe fn drop_payload<P: Payload>(data: *mut Inline) {
    // SAFETY: the vtable's `drop` contract: an unhandled payload of type `P`.
    drop(unsafe { take::<P>(data) });
}

/// The vtable's `delivered` for an ask: marks its reply sender, in place.
///
/// # Safety
/// `data` holds an unhandled `Ask<M, R>` (inline or boxed, as `store` put it).
unsafe fn mark_ask<M: Send + 'static, R: Send + 'static>(data: *const Inline) {
    // A pointer, and a reference to the sender alone: `data` is a shared borrow of the inline
    // words, which have no `UnsafeCell`, so a `&Ask` over a message that has one (an atomic, a
    // `Cell`) would claim a write permission that borrow cannot give (Stacked Borrows).
    let ask = if <Ask<M, R> as Payload>::INLINE {
        data.cast::<Ask<M, R>>()
    } else {
        // SAFETY: per the contract, the box `store` made, alive while `data` is.
        unsafe { &raw const **data.cast::<Box<Ask<M, R>>>() }
    };
    // SAFETY: per the contract, an `Ask<M, R>` (inline, or in that box) alive while `data` is;
    // only its sender is borrowed.
    unsafe { &(*ask).1 }.delivered();
}

/// The vtable's `delivered` for a tell, which has no reply sender.
unsafe fn mark_nothing(_: *const Inline) {}

/// Builds the handler's future for a payload in the buffer, with its reply slot beside it
/// ([`InPlace`]): a detached sender for a tell, the asker's for an ask.
trait IntoRun<A: Handler<M>, M: Send + 'static> {
    /// # Safety
    /// As `Running::poll`'s: `actor` and `ctx` are exclusive and valid while the future lives.
    unsafe fn put(self, actor: Raw<A>, ctx: Raw<ActorContext<A>>, buf: &mut FutureBuf) -> Running;
}

impl<A: Handler<M>, M: Send + 'static> IntoRun<A, M> for Tell<M> {
    #[inline(always)]
    unsafe fn put(self, actor: Raw<A>, ctx: Raw<ActorContext<A>>, buf: &mut FutureBuf) -> Running {
        let msg = self.0;
        // A tell has no slot; a detached sender lets `take_reply` work the same (and allocates
        // nothing).
        let slot = Some(oneshot::Sender::detached());
        // SAFETY: `actor` and `ctx` per this function's contract: they outlive the future,
        // which is all that uses the references made of them.
        unsafe { buf.put_handler::<A, M, false>(slot, actor, ctx, msg) }
    }
}

impl<A: Handler<M>, M: Send + 'static> IntoRun<A, M> for Ask<M, Reply<A, M>> {
    #[inline(always)]
    unsafe fn put(self, actor: Raw<A>, ctx: Raw<ActorContext<A>>, buf: &mut FutureBuf) -> Running {
        let Ask(msg, reply) = self;
        // Out of the mailbox: the handler may pass the reply on, to be answered later.
        reply.delivered();
        let slot = Some(reply);
        // SAFETY: as for a tell.
        unsafe { buf.put_handler::<A, M, true>(slot, actor, ctx, msg) }
    }
}

unsafe fn start<A, M, P>(
    w0: Word,
    w1: Word,
    w2: Word,
    actor: Raw<A>,
    ctx: Raw<ActorContext<A>>,
    buf: &mut FutureBuf,
) -> Running
where
    A: Handler<M>,
    M: Send + 'static,
    P: Payload + IntoRun<A, M>,
{
    let mut data = [w0, w1, w2];
    // SAFETY: the vtable's `start` contract: the words hold a `P`, consumed here; `actor` and
    // `ctx` as `Running::poll` needs them (the contract too).
    unsafe { take::<P>(&mut data).put(actor, ctx, buf) }
}

/// The future of handling one `Multi` message: the handler's future, built in the actor's
/// [`FutureBuf`] when the message is handed over, and polled there.
///
/// The message is started at once rather than at the first poll: kept whole until then, it was
/// moved into this future with 16-byte copies that straddled the 8-, 16- and 8-byte writes the
/// mailbox's pop had just made, a stalled store forward each time (38% of the lifecycle poll's
/// samples in handler-style ring). Started at once, the payload is read where the pop left it,
/// field by field. It also keeps this future at five words.
struct Handling<'a, A: Actor> {
    /// `None` once the handler's future is dropped and the buffer is back in the context.
    running: Option<Running>,
    /// The handler's future lives here while it runs (taken from the context meanwhile). Moved
    /// back into the context, once, when `running` becomes `None`: so no drop of its own, and
    /// no empty buffer written in its place.
    buf: ManuallyDrop<FutureBuf>,
    /// Used only to give the buffer back, after the handler's future (which has its own copy)
    /// is gone.
    ctx: Raw<ActorContext<A>>,
    _borrows: PhantomData<(&'a mut A, &'a mut ActorContext<A>)>,
}

impl<A: Actor> ActorMessage<A> for Multi<A> {
    /// An ask's reply slot is marked as its handler starts (`Ask::put`), or as the actor's own
    /// code takes it out of the mailbox (`taken_by_actor_code`).
    const MARKS_DELIVERY: bool = true;

    /// Marks an ask taken out by the actor's own code (`ActorReceiver::recv`, `try_recv`,
    /// `recv_many`): that code may pass it on, or answer it itself, and then await the answer
    /// to a request it sent itself. The default `cycle` leaves it to `Ask::put`, as the handler
    /// starts: no call through the vtable per message.
    fn taken_by_actor_code(&self) {
        // SAFETY: an unconsumed `Multi` holds the payload its vtable was made for.
        unsafe { (self.vtable.delivered)(&self.data) }
    }

    fn handle<'a>(
        self,
        actor: &'a mut A,
        ctx: Exec<'a, A>,
    ) -> impl Future<Output = ()> + Send + 'a {
        let ctx = ctx.ctx;
        // The buffer leaves the context while the handler (which may use the context) runs, so
        // nothing reaches it through both.
        let mut buf = std::mem::replace(&mut ctx.handler_buf, FutureBuf::EMPTY);
        let (actor, ctx) = (Raw(&raw mut *actor), Raw(&raw mut *ctx));
        let msg = ManuallyDrop::new(self);
        let [w0, w1, w2] = msg.data;
        // SAFETY: the message is consumed here, once (it is never dropped: `ManuallyDrop`). The
        // pointers come from the exclusive borrows this future holds for 'a, and the handler's
        // future, which alone uses them, finishes or is dropped (by `Handling`'s drop) before
        // those borrows end.
        let running = unsafe { (msg.vtable.start)(w0, w1, w2, actor, Raw(ctx.0), &mut buf) };
        Handling { running: Some(running), buf: ManuallyDrop::new(buf), ctx, _borrows: PhantomData }
    }
}

impl<A: Actor> Future for Handling<'_, A> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let Some(running) = &mut this.running else { return Poll::Ready(()) };
        // Finished, but a drop of its future or value panicked on the way out, and the caller
        // caught that and polls again (a `cycle` of the user's may): nothing is left to poll,
        // and polling the dropped future would drop it again (a review of 2026-12-07).
        let poll = if running.drop.is_none() {
            Poll::Ready(())
        } else {
            // SAFETY: `buf` holds the future `running` describes, built in place and never
            // moved, and not finished (`drop` is still set).
            unsafe { (running.poll)(this.buf.ptr, cx, &mut running.drop) }
        };
        if poll.is_ready() {
            // Finished: the future dropped what it held (see `Running::poll`), and the buffer
            // goes back as it is.
            this.running = None;
            this.give_back();
        }
        poll
    }
}

impl<A: Actor> Handling<'_, A> {
    /// Gives the buffer back to the context, once the handler's future is gone. Called once,
    /// as `running` becomes `None` (the callers' contract).
    fn give_back(&mut self) {
        // SAFETY: taken once (the callers' contract), and never used here again: `running` is
        // `None` from now on, and neither `poll` nor `drop` touches `buf` then.
        let buf = unsafe { ManuallyDrop::take(&mut self.buf) };
        // SAFETY: the context outlives 'a, and its only other user, the handler's future, is
        // gone (the callers' contract). The assignment drops the context's empty buffer (or one
        // a nested `handle` left there).
        unsafe { (*self.ctx.0).handler_buf = buf };
    }

    /// Dropped before the handler finished (the actor stopping or crashing mid-handler): drops
    /// its future in place, then gives the buffer back. Out of line, so that the drop glue of
    /// the futures that hold a `Handling` (the default `cycle`'s) stays small enough to be
    /// inlined where they finish: it was an out-of-line call per message (callgrind).
    #[cold]
    #[inline(never)]
    fn drop_unfinished(&mut self) {
        /// Gives the buffer back as it is dropped: also when the future's drop (user code)
        /// panics, which would otherwise leak the block.
        struct GiveBack<'h, 'a, A: Actor>(&'h mut Handling<'a, A>);
        impl<A: Actor> Drop for GiveBack<'_, '_, A> {
            fn drop(&mut self) {
                self.0.give_back();
            }
        }
        if let Some(running) = self.running.take() {
            let this = GiveBack(self);
            if let Some(drop) = running.drop {
                // SAFETY: `buf` holds the unfinished future `running` describes; dropped once.
                unsafe { drop(this.0.buf.ptr) };
            }
        }
    }
}

impl<A: Actor> Drop for Handling<'_, A> {
    #[inline]
    fn drop(&mut self) {
        // After a finished poll, `running` is `None` and the buffer is back already.
        if self.running.is_some() {
            self.drop_unfinished();
        }
    }
}

/// The least alignment of a [`FutureBuf`]'s block: a future aligned to no more is known to fit
/// its alignment without a look at the block's (callgrind, handler-style fan-in: 2 instructions
/// a message).
const MIN_ALIGN: usize = 16;

/// The reusable home of an actor's handler futures (one at a time): a heap block that only
/// grows. Sixteen bytes in every actor's context.
pub(crate) struct FutureBuf {
    ptr: NonNull<u8>,
    /// The block's layout; size 0 if there is no block.
    size: u32,
    align: u32,
}

// SAFETY: a `FutureBuf` is raw memory, and what `put_handler` moves in is `Send`.
unsafe impl Send for FutureBuf {}
// SAFETY: as above; `&FutureBuf` gives no access to the memory.
unsafe impl Sync for FutureBuf {}

impl FutureBuf {
    pub(crate) const EMPTY: FutureBuf = FutureBuf { ptr: NonNull::dangling(), size: 0, align: 1 };

    fn layout(&self) -> Layout {
        // SAFETY: made from a valid layout in `grow` (or the empty one).
        unsafe { Layout::from_size_align_unchecked(self.size as usize, self.align as usize) }
    }

    /// Builds `A`'s handler future for `msg` in the block (growing it if it does not fit), as
    /// an [`InPlace`] with the reply slot (`slot`) it borrows, and returns how to poll and drop
    /// it there (`ASK`: whether a finished one sends its value to the slot). Before the next
    /// `put_handler`, the caller polls it to completion (the poll drops the future and takes the
    /// slot as it finishes) or drops it (with `Running::drop`); a finished one is left as it is.
    ///
    /// Built in place: a handler's future is as large as its largest await point (often
    /// hundreds of bytes), and a future passed by value was built on the stack and then copied
    /// whole into the block, for every message (`memmove`, a tenth of handler-style ping-pong).
    /// And built directly, not inside an `async fn` that awaits it: that wrapper (`run_tell`,
    /// `run_ask`) cost a dispatch on its state and a copy of its arguments into the handler's
    /// future at the first poll (callgrind, handler-style fan-in: 7 instructions a message).
    ///
    /// The block grows out of line ([`grow_and_put`](Self::grow_and_put)), so that a `start`
    /// calls nothing when the block fits: with the growth inlined, every message's `start`
    /// saved and restored six registers and built the future on the stack as well as in the
    /// block (callgrind, handler-style fan-in: 33 instructions a message, then 14).
    ///
    /// # Safety
    /// `actor` and `ctx` (references in the future, `'static` in its type) stay valid and
    /// exclusive while the future lives: the caller polls it to completion or drops it (with
    /// `Running::drop`) before they end, and before the next `put_handler`.
    #[inline(always)]
    unsafe fn put_handler<A: Handler<M>, M: Send + 'static, const ASK: bool>(
        &mut self,
        slot: Option<oneshot::Sender<Reply<A, M>>>,
        actor: Raw<A>,
        ctx: Raw<ActorContext<A>>,
        msg: M,
    ) -> Running {
        let (need, have) = (in_place_layout(handler::<A, M>), self.layout());
        // A block is aligned to `MIN_ALIGN` at least (and the empty one is too small for any
        // future), so for the usual future the alignment is checked when this is compiled.
        if need.size() > have.size() || (need.align() > MIN_ALIGN && need.align() > have.align()) {
            // SAFETY: passed on.
            return unsafe { self.grow_and_put::<A, M, ASK>(slot, actor, ctx, msg) };
        }
        // SAFETY: the block is large and aligned enough, and empty (the contract: the future
        // before was finished or dropped); the references as the contract says.
        unsafe { self.build::<A, M, ASK>(slot, actor, ctx, msg) }
    }

    /// `put_handler` for a future that does not fit in the block: a larger block first. Runs
    /// once per actor and message type at most. It takes the parts of the future, not a
    /// closure holding them: a closure (over three words) went to it by reference, and every
    /// `start` stored it on the stack for this call it does not make (callgrind, handler-style
    /// fan-in: 5 instructions a message).
    ///
    /// # Safety
    /// As `put_handler`'s.
    #[cold]
    #[inline(never)]
    unsafe fn grow_and_put<A: Handler<M>, M: Send + 'static, const ASK: bool>(
        &mut self,
        slot: Option<oneshot::Sender<Reply<A, M>>>,
        actor: Raw<A>,
        ctx: Raw<ActorContext<A>>,
        msg: M,
    ) -> Running {
        self.grow(in_place_layout(handler::<A, M>));
        // SAFETY: the block now holds the `InPlace` (`grow`), and is empty (the contract).
        unsafe { self.build::<A, M, ASK>(slot, actor, ctx, msg) }
    }

    /// Builds the `InPlace` of `A`'s handler for `msg` in the block.
    ///
    /// # Safety
    /// The block is large and aligned enough for it, and empty; the rest as `put_handler`'s.
    #[inline(always)]
    unsafe fn build<A: Handler<M>, M: Send + 'static, const ASK: bool>(
        &mut self,
        slot: Option<oneshot::Sender<Reply<A, M>>>,
        actor: Raw<A>,
        ctx: Raw<ActorContext<A>>,
        msg: M,
    ) -> Running {
        let make = move |reply| {
            // SAFETY: `actor` and `ctx` per the contract.
            unsafe { handler(actor, ctx, reply, msg) }
        };
        // SAFETY: per the contract.
        unsafe { InPlace::build(self.ptr.cast().as_ptr(), slot, make) };
        running::<_, _, _, _, _, ASK>(handler::<A, M>)
    }

    /// Replaces the block (empty: the `put_handler` contract) with one large and aligned enough
    /// for `need`, and aligned to `MIN_ALIGN` at least.
    #[cold]
    #[inline(never)]
    fn grow(&mut self, need: Layout) {
        let have = self.layout();
        let layout = Layout::from_size_align(
            need.size().max(have.size()).max(64),
            need.align().max(have.align()).max(MIN_ALIGN),
        )
        .expect("a future's layout");
        let size = u32::try_from(layout.size()).expect("a handler future under 4 GiB");
        // SAFETY: `layout` has a non-zero size.
        let ptr = NonNull::new(unsafe { std::alloc::alloc(layout) })
            .unwrap_or_else(|| std::alloc::handle_alloc_error(layout));
        // Drops the old block.
        *self = FutureBuf { ptr, size, align: layout.align() as u32 };
    }
}

impl Drop for FutureBuf {
    // Inline: most drops are of the empty buffer `Handling::give_back` leaves in its place.
    #[inline]
    fn drop(&mut self) {
        if self.size != 0 {
            // SAFETY: allocated in `grow` with this layout, and nothing lives in it any more
            // (`Handling` drops its future before it gives the buffer back).
            unsafe { std::alloc::dealloc(self.ptr.as_ptr(), self.layout()) };
        }
    }
}

/// A handler's future beside the reply slot it borrows (through its [`Call`]), built in place
/// in the [`FutureBuf`] and never moved until it is dropped: the self-reference an `async fn`
/// that kept the slot as a local and awaited the handler had, without that `async fn`'s state
/// machine around the handler's. Reached only through raw pointers to its fields, never as a
/// `&mut InPlace` (which would claim the slot while the future's reference to it lives); the
/// future is polled as a pinned `&mut F`, which covers only its own bytes.
struct InPlace<F, R> {
    /// For a tell, a detached sender (or nothing, once the handler took it): it owns nothing.
    slot: Option<oneshot::Sender<R>>,
    fut: F,
}

impl<F, R: 'static> InPlace<F, R> {
    /// Writes the slot, then the future `make` builds with a reference to it.
    ///
    /// # Safety
    /// `at` is valid for writes of `Self` and aligned, and is neither moved nor reused while the
    /// future lives (the reference `make` gets, `'static` in its type, is used only by it).
    #[inline(always)]
    unsafe fn build(
        at: *mut Self,
        slot: Option<oneshot::Sender<R>>,
        make: impl FnOnce(&'static mut Option<oneshot::Sender<R>>) -> F,
    ) {
        // SAFETY: per the contract; the reference is made of the raw pointer to the field, so
        // it claims the slot alone. The guard's pointer is used only after that reference is
        // gone (a panic in `make` ended it).
        unsafe {
            let reply = &raw mut (*at).slot;
            reply.write(slot);
            // `make` calls the user's `handle`, which may panic before it returns its future:
            // the slot is then dropped (its asker gets an error) rather than left in the block.
            let unwinding = SlotGuard(reply);
            (&raw mut (*at).fut).write(make(&mut *reply));
            std::mem::forget(unwinding);
        }
    }
}

/// Drops an [`InPlace`]'s slot as it is dropped, unless forgotten: around user code (building
/// the handler's future, dropping it) that may panic, so that the asker still gets its error.
struct SlotGuard<R>(*mut Option<oneshot::Sender<R>>);

impl<R> Drop for SlotGuard<R> {
    fn drop(&mut self) {
        // SAFETY: made over a written slot that nothing else drops or reads while the guard
        // lives (see its users).
        unsafe { self.0.drop_in_place() }
    }
}

/// `Running::poll` for an [`InPlace`]: polls the handler's future; once it finishes, drops it
/// and delivers its value, to the slot for an ask (`ASK`) unless the handler took it, nowhere
/// for a tell. Before those drops (the future's, the value's: user code, which may panic), it
/// sets `drop` to `None`, so that a `Handling` dropped or polled again after that panic does
/// not drop the future again.
unsafe fn poll_handler<F: Future<Output = R>, R, const ASK: bool>(
    ptr: NonNull<u8>,
    cx: &mut Context<'_>,
    drop: &mut Option<DropFn>,
) -> Poll<()> {
    let at = ptr.cast::<InPlace<F, R>>().as_ptr();
    // SAFETY: `Running::poll`'s contract: an `InPlace<F, R>` built by `put_handler`, not
    // finished, never moved: the future is pinned.
    let fut = unsafe { Pin::new_unchecked(&mut (*at).fut) };
    let Poll::Ready(value) = fut.poll(cx) else { return Poll::Pending };
    *drop = None;
    // SAFETY: finished: the future is dropped once, here (`drop` no longer does), and the
    // reference to the slot in it with it; then the slot is moved out, once (`Handling`
    // leaves a finished `InPlace` as it is), or dropped by the guard if the future's drop
    // panics (with the value, on the way out).
    unsafe {
        let unwinding = SlotGuard(&raw mut (*at).slot);
        (&raw mut (*at).fut).drop_in_place();
        std::mem::forget(unwinding);
        if ASK {
            if let Some(reply) = (&raw mut (*at).slot).read() {
                let _ = reply.send_inline(value);
            }
        } else {
            // The slot holds the detached sender or nothing: it owns nothing, and its drop
            // would only test that again.
            std::mem::drop(value);
        }
    }
    Poll::Ready(())
}

/// `Running::drop` for an [`InPlace`] whose future did not finish: the future first (it
/// borrows the slot), then the slot (an ask's asker gets its error), also when the future's
/// drop panics.
unsafe fn drop_handler<F, R>(ptr: NonNull<u8>) {
    let at = ptr.cast::<InPlace<F, R>>().as_ptr();
    // SAFETY: `Running::drop`'s contract: an unfinished `InPlace<F, R>`, dropped once; the
    // guard drops the slot after the future (the future's reference to it goes with it).
    unsafe {
        let _slot = SlotGuard(&raw mut (*at).slot);
        (&raw mut (*at).fut).drop_in_place();
    }
}

/// The layout of the [`InPlace`] holding what `f` (`handler`) returns.
fn in_place_layout<X, Y, Z, W, F: Future>(_: unsafe fn(X, Y, Z, W) -> F) -> Layout {
    Layout::new::<InPlace<F, F::Output>>()
}

/// How to poll and drop the [`InPlace`] holding what `f` (`handler`) returns.
fn running<X, Y, Z, W, F: Future, const ASK: bool>(_: unsafe fn(X, Y, Z, W) -> F) -> Running {
    Running { poll: poll_handler::<F, F::Output, ASK>, drop: Some(drop_handler::<F, F::Output>) }
}

/// `A`'s `Handler<M>` future for one message: what [`InPlace::build`] builds.
///
/// # Safety
/// `actor` and `ctx` are exclusive and valid while the future lives (`'static` in its type).
#[inline(always)]
unsafe fn handler<A: Handler<M>, M: Send + 'static>(
    actor: Raw<A>,
    ctx: Raw<ActorContext<A>>,
    reply: &'static mut Option<oneshot::Sender<Reply<A, M>>>,
    msg: M,
) -> impl Future<Output = Reply<A, M>> + Send + 'static {
    // SAFETY: per the contract.
    let (actor, ctx) = unsafe { (&mut *actor.0, &mut *ctx.0) };
    <A as Handler<M>>::handle(actor, Call { reply, ctx: Exec::new(ctx) }, msg)
}

/// A raw pointer that may cross threads with the future holding it (see `Handling::poll`).
struct Raw<T>(*mut T);

// SAFETY: a `Raw` stands for an exclusive borrow of a `T: Send`, which may be sent.
unsafe impl<T: Send> Send for Raw<T> {}
