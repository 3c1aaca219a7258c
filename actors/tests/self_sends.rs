//! An actor talking to itself from its own run: a tell into its own full mailbox goes past the
//! bound (waiting for room there could never end), and waiting for its own stop or for the
//! answer to its own ask panics with a message saying so, instead of hanging.

mod support;

use std::sync::Mutex;
use std::time::Duration;

use actor12::prelude::*;
use actor12::{Call, HandlerMessage, MessageHandle, Multi, Recipient, SendableMessage, oneshot};
use support::*;

/// The panic messages `Selfish::crash` saw (every test's; each looks for its own).
static CRASHES: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn crashed_with(text: &str) -> bool {
    CRASHES.lock().unwrap().iter().any(|m| m.contains(text))
}

/// Records the ticks it is told, in order; a small mailbox, so that it fills.
struct Selfish {
    seen: Vec<u32>,
}

const CAPACITY: usize = 4;

actor!(
    Selfish,
    spec = (),
    cancel = (),
    init = |_ctx| Selfish { seen: Vec::new() },
    extra = {
        fn mailbox_capacity() -> usize {
            CAPACITY
        }

        fn crash(payload: Box<dyn std::any::Any + Send>) -> impl Future<Output = ()> + Send {
            let msg = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            CRASHES.lock().unwrap().push(msg);
            std::future::ready(())
        }
    }
);

struct Tick(u32);
/// Tells the actor itself `Tick(0)`..`Tick(n - 1)`, every other one through the two-step API;
/// answers with the mailbox's length right after.
struct Burst(u32);
struct Seen;

impl Handler<Tick> for Selfish {
    type Reply = anyhow::Result<()>;

    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, Tick(n): Tick) -> Self::Reply {
        self.seen.push(n);
        Ok(())
    }
}

impl Handler<Burst> for Selfish {
    type Reply = anyhow::Result<usize>;

    async fn handle(&mut self, ctx: Call<'_, Self, Self::Reply>, Burst(n): Burst) -> Self::Reply {
        for i in 0..n {
            if i % 2 == 0 {
                ctx.link.tell_dyn(Tick(i)).await;
            } else {
                ctx.link.send_and_forget(HandlerMessage::new(Tick(i))).await;
            }
        }
        Ok(ctx.rx.len())
    }
}

impl Handler<Seen> for Selfish {
    type Reply = anyhow::Result<Vec<u32>>;

    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Seen) -> Self::Reply {
        Ok(self.seen.clone())
    }
}

#[test]
fn a_handler_telling_its_own_full_mailbox_goes_past_the_bound_and_loses_nothing() {
    let out = resolves_within(async {
        let actor = actor12::spawn::<Selfish>(());
        // Another sender, waiting for room much of the time, at once.
        let other = actor.clone();
        let outside = actor12::rt::spawn(async move {
            for i in 1000..1040 {
                other.tell_dyn(Tick(i)).await;
            }
        });
        let queued = actor.ask_dyn(Burst(50)).await.expect("the burst finished");
        outside.await.expect("the outside sender finished");
        let seen = actor.ask_dyn(Seen).await.unwrap();
        actor.cancel_and_wait(()).await;
        (queued, seen)
    });
    let (queued, seen) = out.expect("a handler telling its own full mailbox hung");
    assert!(queued > CAPACITY, "the burst left {queued} queued: it never went past the bound");
    let own: Vec<u32> = seen.iter().copied().filter(|&n| n < 1000).collect();
    let other: Vec<u32> = seen.iter().copied().filter(|&n| n >= 1000).collect();
    assert_eq!(own, (0..50).collect::<Vec<_>>(), "the actor's own ticks, once each, in order");
    assert_eq!(other, (1000..1040).collect::<Vec<_>>(), "the other sender's, once each, in order");
}

/// How a handler waits for its own actor to stop.
#[derive(Clone, Copy, Debug)]
enum WaitFor {
    /// `cancel_and_wait` through a strong link to itself.
    StrongLink,
    /// `cancel_and_wait` through its weak link.
    WeakLink,
    /// `cancel`, then `wait`.
    ThenWait,
}

struct WaitForItself(WaitFor);

impl Handler<WaitForItself> for Selfish {
    type Reply = anyhow::Result<()>;

    async fn handle(&mut self, ctx: Call<'_, Self, Self::Reply>, m: WaitForItself) -> Self::Reply {
        let link = ctx.link.upgrade().expect("the asker holds a link");
        match m.0 {
            WaitFor::StrongLink => link.cancel_and_wait(()).await,
            WaitFor::WeakLink => ctx.link.cancel_and_wait(()).await,
            WaitFor::ThenWait => {
                link.cancel(());
                link.wait().await;
            }
        }
        Ok(())
    }
}

/// Asks a new `Selfish` actor `msg`, whose handler waits for something that can never come:
/// instead of hanging, it panics with `text` in its message, the asker gets an error and the
/// actor stops.
fn panics_instead_of_hanging<M, T>(msg: M, text: &str, what: &str)
where
    M: Send + 'static,
    T: Send + 'static,
    Selfish: Handler<M, Reply = anyhow::Result<T>>,
{
    let out = resolves_within(async move {
        let actor = actor12::spawn::<Selfish>(());
        let answer = actor.ask_dyn(msg).await;
        actor.wait().await;
        answer.is_err()
    });
    let failed = out.unwrap_or_else(|| panic!("{what}: the handler hung"));
    assert!(failed, "{what}: the asker gets an error, as for any panic");
    assert!(crashed_with(text), "{what}: the panic says why");
}

#[test]
fn an_actor_waiting_for_its_own_stop_panics_instead_of_hanging() {
    for how in [WaitFor::StrongLink, WaitFor::WeakLink, WaitFor::ThenWait] {
        panics_instead_of_hanging(
            WaitForItself(how),
            "waited for its own stop",
            &format!("{how:?}"),
        );
    }
}

/// How a handler awaits the answer to its own ask of itself.
#[derive(Clone, Copy, Debug)]
enum AskFor {
    AskDyn,
    TwoStep,
    TwoStepWithTimeout,
    WeakAskDyn,
    /// Through a `SendableMessage` of the user's own, which makes its envelope with
    /// `Recipient::envelope`.
    OwnSendable,
}

/// A user's own way of asking: delivered only if there is room now.
struct NoWait<M>(M);

impl<A, M> SendableMessage<A> for NoWait<M>
where
    A: Actor<Message = Multi<A>> + Handler<M>,
    M: Send + 'static,
{
    type Reply = <A as Handler<M>>::Reply;

    async fn send_to(self, to: Recipient<'_, A>) -> MessageHandle<Self::Reply> {
        let (envelope, reply) = to.envelope(self.0);
        match to.try_send_raw(Multi::new(envelope)) {
            Ok(()) => MessageHandle::waiting(reply),
            Err(_) => MessageHandle::failed("no room, or the actor has stopped"),
        }
    }
}

struct AskItself(AskFor);

impl Handler<AskItself> for Selfish {
    type Reply = anyhow::Result<usize>;

    async fn handle(&mut self, ctx: Call<'_, Self, Self::Reply>, m: AskItself) -> Self::Reply {
        let link = ctx.link.upgrade().expect("the asker holds a link");
        let seen = match m.0 {
            AskFor::AskDyn => link.ask_dyn(Seen).await?,
            AskFor::WeakAskDyn => ctx.link.ask_dyn(Seen).await?,
            AskFor::TwoStep => link.send_message(HandlerMessage::new(Seen)).await.reply().await??,
            AskFor::TwoStepWithTimeout => {
                let handle = link.send_message(HandlerMessage::new(Seen)).await;
                handle.timeout(Duration::from_secs(3600)).reply().await??
            }
            AskFor::OwnSendable => link.send_message(NoWait(Seen)).await.reply().await??,
        };
        Ok(seen.len())
    }
}

/// Asks the actor itself from a background task, which can wait: the actor's run goes on.
struct AskItselfInBackground(oneshot::Sender<Vec<u32>>);

impl Handler<AskItselfInBackground> for Selfish {
    type Reply = anyhow::Result<()>;

    async fn handle(
        &mut self,
        mut ctx: Call<'_, Self, Self::Reply>,
        AskItselfInBackground(answer): AskItselfInBackground,
    ) -> Self::Reply {
        let link = ctx.link.clone();
        ctx.futures.spawn(async move {
            let seen = link.ask_dyn(Seen).await.expect("the actor answers its background task");
            let _ = answer.send(seen);
        });
        Ok(())
    }
}

#[test]
fn an_actor_awaiting_the_answer_to_its_own_ask_panics_instead_of_hanging() {
    use AskFor::*;
    for how in [AskDyn, WeakAskDyn, TwoStep, TwoStepWithTimeout, OwnSendable] {
        panics_instead_of_hanging(AskItself(how), "a message it sent itself", &format!("{how:?}"));
    }
}

#[test]
fn an_actor_asking_itself_from_a_background_task_gets_its_answer() {
    let out = resolves_within(async {
        let actor = actor12::spawn::<Selfish>(());
        actor.tell_dyn(Tick(7)).await;
        let (tx, rx) = oneshot::channel();
        actor.ask_dyn(AskItselfInBackground(tx)).await.unwrap();
        let seen = rx.await.expect("the background task answered");
        let alive = actor.alive();
        actor.cancel_and_wait(()).await;
        (seen, alive)
    });
    let (seen, alive) = out.expect("the background ask hung");
    assert_eq!(seen, [7]);
    assert!(alive, "no panic: the actor was still running");
}

/// Keeps the handle of an ask it sent itself; the answer comes from a background task.
struct Keeper {
    pending: Option<actor12::MessageHandle<anyhow::Result<u32>>>,
}

actor!(Keeper, spec = (), cancel = (), init = |_ctx| Keeper { pending: None });

/// Answered by a background task (`reply_async`) once the gate opens.
struct Slow(oneshot::Receiver<()>);
/// Asks the actor itself `Slow(gate)` and keeps the handle.
struct AskSlow(oneshot::Receiver<()>);
/// Awaits the kept handle, opening the gate once the first poll found no answer yet.
struct Collect(oneshot::Sender<()>);

impl Handler<Slow> for Keeper {
    type Reply = anyhow::Result<u32>;

    async fn handle(
        &mut self,
        mut ctx: Call<'_, Self, Self::Reply>,
        Slow(gate): Slow,
    ) -> Self::Reply {
        ctx.reply_async(async move {
            gate.await?;
            Ok(42)
        })
    }
}

impl Handler<AskSlow> for Keeper {
    type Reply = anyhow::Result<()>;

    async fn handle(
        &mut self,
        ctx: Call<'_, Self, Self::Reply>,
        AskSlow(gate): AskSlow,
    ) -> Self::Reply {
        self.pending = Some(ctx.link.send_message(HandlerMessage::new(Slow(gate))).await);
        Ok(())
    }
}

/// Polls `reply` once; if it is not ready, opens `go` and awaits it.
async fn await_after_first_poll<T>(reply: impl Future<Output = T>, go: oneshot::Sender<()>) -> T {
    let mut reply = std::pin::pin!(reply);
    let first = std::future::poll_fn(|cx| std::task::Poll::Ready(reply.as_mut().poll(cx))).await;
    match first {
        std::task::Poll::Ready(out) => out,
        std::task::Poll::Pending => {
            let _ = go.send(());
            reply.await
        }
    }
}

impl Handler<Collect> for Keeper {
    type Reply = anyhow::Result<u32>;

    async fn handle(
        &mut self,
        _: Call<'_, Self, Self::Reply>,
        Collect(go): Collect,
    ) -> Self::Reply {
        let handle = self.pending.take().expect("AskSlow came first");
        await_after_first_poll(handle.reply(), go).await?
    }
}

#[test]
fn an_actor_awaiting_its_own_ask_after_handling_it_gets_the_deferred_answer() {
    let out = resolves_within(async {
        let actor = actor12::spawn::<Keeper>(());
        let (go, gate) = oneshot::channel();
        actor.ask_dyn(AskSlow(gate)).await.unwrap();
        // `Slow` is queued before `Collect`: handled (its answer left to a background task)
        // by the time `Collect` awaits the handle.
        let answer = actor.ask_dyn(Collect(go)).await.map_err(|e| e.to_string());
        let alive = actor.alive();
        actor.cancel_and_wait(()).await;
        (answer, alive)
    });
    let (answer, alive) = out.expect("hung");
    assert_eq!(answer.unwrap(), 42, "the background task's answer");
    assert!(alive, "no panic");
}

/// [`Keeper`], envelope style: the kept ask's reply slot goes to a background task.
struct EnvelopeKeeper {
    pending: Option<actor12::MessageHandle<anyhow::Result<u32>>>,
}

enum Request {
    Slow(oneshot::Receiver<()>),
    AskSlow(oneshot::Receiver<()>),
    Collect(oneshot::Sender<()>),
    /// Asks the actor itself and awaits the answer at once: it would never come.
    AskNow,
}

actor!(
    EnvelopeKeeper,
    message = actor12::Envelope<Request, anyhow::Result<u32>>,
    spec = (),
    cancel = (),
    init = |_ctx| EnvelopeKeeper { pending: None },
    extra = {
        async fn handle(&mut self, mut ctx: actor12::Exec<'_, Self>, msg: Self::Message) {
            let (request, reply) = msg.split();
            match request {
                Request::AskSlow(gate) => {
                    let ask = actor12::EnvelopeMessage::new(Request::Slow(gate));
                    self.pending = Some(ctx.link.send_message(ask).await);
                    let _ = reply.send(Ok(0));
                }
                Request::AskNow => {
                    let _ = reply.send(ctx.link.send(Request::Slow(oneshot::channel().1)).await);
                }
                request => slow_or_collect(&mut ctx, &mut self.pending, request, reply).await,
            }
        }
    }
);

/// `Slow` and `Collect`, for both keepers: `Slow` leaves its answer to a background task that
/// waits for its gate; `Collect` awaits the kept handle, opening `go` after its first poll.
async fn slow_or_collect<A: Actor>(
    ctx: &mut actor12::Exec<'_, A>,
    pending: &mut Option<actor12::MessageHandle<anyhow::Result<u32>>>,
    request: Request,
    reply: oneshot::Sender<anyhow::Result<u32>>,
) {
    match request {
        Request::Slow(gate) => ctx.spawn(async move {
            let _ = gate.await;
            let _ = reply.send(Ok(42));
        }),
        Request::Collect(go) => {
            let handle = pending.take().expect("AskSlow came first");
            let answer = await_after_first_poll(handle.reply(), go).await;
            let _ = reply.send(answer.unwrap_or_else(|e| Err(e.into())));
        }
        Request::AskSlow(_) | Request::AskNow => unreachable!("the keepers' own"),
    }
}

#[test]
fn an_envelope_actor_awaiting_its_own_ask_after_handling_it_gets_the_deferred_answer() {
    let out = resolves_within(async {
        let actor = actor12::spawn::<EnvelopeKeeper>(());
        let (go, gate) = oneshot::channel();
        actor.send(Request::AskSlow(gate)).await.unwrap();
        let answer = actor.send(Request::Collect(go)).await.map_err(|e| e.to_string());
        let alive = actor.alive();
        actor.cancel_and_wait(()).await;
        (answer, alive)
    });
    let (answer, alive) = out.expect("hung");
    assert_eq!(answer.unwrap(), 42, "the background task's answer");
    assert!(alive, "no panic");
}

/// [`EnvelopeKeeper`] with a message type of its own, which carries the envelope: the runtime
/// cannot see the request leave the mailbox.
struct EnumKeeper {
    pending: Option<actor12::MessageHandle<anyhow::Result<u32>>>,
}

enum EnumMsg {
    Ask(actor12::Envelope<Request, anyhow::Result<u32>>),
}

impl actor12::ActorMessage<EnumKeeper> for EnumMsg {}

/// A request to an [`EnumKeeper`] in an envelope made by `Recipient::envelope`, as
/// `MessageHandle::waiting`'s example makes its own.
struct InEnum(Request);

impl SendableMessage<EnumKeeper> for InEnum {
    type Reply = anyhow::Result<u32>;

    async fn send_to(self, to: Recipient<'_, EnumKeeper>) -> MessageHandle<Self::Reply> {
        let (envelope, reply) = to.envelope(self.0);
        match to.send_raw(EnumMsg::Ask(envelope)).await {
            Ok(()) => MessageHandle::waiting(reply),
            Err(_) => MessageHandle::failed("the actor has stopped"),
        }
    }
}

actor!(
    EnumKeeper,
    message = EnumMsg,
    spec = (),
    cancel = (),
    init = |_ctx| EnumKeeper { pending: None },
    extra = {
        async fn handle(&mut self, mut ctx: actor12::Exec<'_, Self>, msg: Self::Message) {
            let EnumMsg::Ask(envelope) = msg;
            let (request, reply) = envelope.split();
            match request {
                Request::AskSlow(gate) => {
                    self.pending = Some(ctx.link.send_message(InEnum(Request::Slow(gate))).await);
                    let _ = reply.send(Ok(0));
                }
                request => slow_or_collect(&mut ctx, &mut self.pending, request, reply).await,
            }
        }
    }
);

#[test]
fn an_actor_of_its_own_message_type_awaiting_its_own_ask_after_handling_it_gets_the_answer() {
    // The envelope named the actor as its answerer, and nothing inside a message type of the
    // user's own marked it as taken out: awaiting the answer panicked as a self-ask would.
    let out = resolves_within(async {
        let actor = actor12::spawn::<EnumKeeper>(());
        let (go, gate) = oneshot::channel();
        let asked = actor.send_message(InEnum(Request::AskSlow(gate))).await.reply().await;
        assert_eq!(asked.unwrap().unwrap(), 0);
        let answer = actor.send_message(InEnum(Request::Collect(go))).await.reply().await;
        let alive = actor.alive();
        actor.cancel_and_wait(()).await;
        (answer.map_err(|e| e.to_string()), alive)
    });
    let (answer, alive) = out.expect("hung");
    assert_eq!(answer.unwrap().unwrap(), 42, "the background task's answer");
    assert!(alive, "no panic");
}

/// Gives its reply slot away: answered later, from outside.
struct Escape(oneshot::Sender<oneshot::Sender<anyhow::Result<u32>>>);
/// Awaits a handle, opening `go` once the first poll found no answer yet.
struct AwaitIt(actor12::MessageHandle<anyhow::Result<u32>>, oneshot::Sender<()>);

impl Handler<Escape> for Keeper {
    type Reply = anyhow::Result<u32>;

    async fn handle(&mut self, mut ctx: Call<'_, Self, Self::Reply>, m: Escape) -> Self::Reply {
        let _ = m.0.send(ctx.take_reply());
        Ok(0)
    }
}

impl Handler<AwaitIt> for Keeper {
    type Reply = anyhow::Result<u32>;

    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, m: AwaitIt) -> Self::Reply {
        await_after_first_poll(m.0.reply(), m.1).await?
    }
}

fn id_of<A: Actor>(link: &Link<A>) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::hash::DefaultHasher::new();
    link.hash(&mut h);
    h.finish()
}

/// An ask's reply slot remembers the address of the actor that answers it, to tell an actor
/// awaiting its own ask; a new actor at that address, once the answerer is gone, is another
/// actor. The test needs the allocator to give the new actor the old one's address: on a runtime
/// of one worker, which runs the test's body and the actors, the old actor's allocation is freed
/// on the thread that then spawns the new ones, whose allocation the allocator's per-thread
/// cache serves first. (On two workers the old one was often freed on the other, and no new
/// actor got its address in a run out of three on a loaded machine.)
#[test]
fn a_reply_awaited_by_a_new_actor_at_its_answerers_old_address_is_not_a_self_ask() {
    let rt = actor12::rt::Runtime::builder().worker_threads(1).build().unwrap();
    let body = rt.spawn(async {
        for _ in 0..50 {
            let old = actor12::spawn::<Keeper>(());
            let id = id_of(&old);
            let (tx, rx) = oneshot::channel();
            let handle = old.send_message(HandlerMessage::new(Escape(tx))).await;
            let reply = rx.await.unwrap();
            let weak = old.downgrade();
            old.cancel_and_wait(()).await;
            drop(old);
            drop(weak);
            let mut others = Vec::new();
            let new = loop {
                let new = actor12::spawn::<Keeper>(());
                if id_of(&new) == id {
                    break Some(new);
                }
                others.push(new);
                if others.len() == 16 {
                    break None;
                }
            };
            let Some(new) = new else { continue };
            let (go, gate) = oneshot::channel();
            let answerer = actor12::rt::spawn(async move {
                let _ = gate.await;
                let _ = reply.send(Ok(7));
            });
            let answer = new.ask_dyn(AwaitIt(handle, go)).await.map_err(|e| e.to_string());
            let _ = answerer.await;
            return Some(answer);
        }
        None
    });
    let out = resolves_within(async move { body.await.expect("the test's body panicked") });
    let answer = out.expect("hung").expect("no new actor took the old one's address");
    assert_eq!(answer.unwrap(), 7);
}

#[test]
fn an_envelope_actor_awaiting_its_own_queued_ask_still_panics() {
    let out = resolves_within(async {
        let actor = actor12::spawn::<EnvelopeKeeper>(());
        let answer = actor.send(Request::AskNow).await.map_err(|e| e.to_string());
        actor.wait().await;
        answer
    });
    assert!(out.expect("the ask of itself hung").is_err(), "the handler panicked");
}

/// Envelope style, with a `cycle` of its own: on `n` it asks itself `n + 1`, takes that request
/// out of its mailbox with `ctx.rx.recv()`, gives it to a background task to answer, and awaits
/// the answer.
struct OwnLoop;

actor!(
    OwnLoop,
    message = actor12::Envelope<u32, anyhow::Result<u32>>,
    spec = (),
    cancel = (),
    init = |_ctx| OwnLoop,
    extra = {
        async fn cycle(
            &mut self,
            ctx: &mut actor12::ActorContext<Self>,
        ) -> std::ops::ControlFlow<actor12::cancel::CancelReason<()>> {
            // The first message, or the cancellation (the token wakes the actor).
            let first = std::future::poll_fn(|cx| match ctx.token.reason() {
                Some(reason) => std::task::Poll::Ready(Err(reason)),
                None => ctx.rx.poll_recv(cx).map(Ok),
            });
            let first = match first.await {
                Ok(Some(first)) => first,
                Ok(None) => return std::ops::ControlFlow::Break(Default::default()),
                Err(reason) => return std::ops::ControlFlow::Break(reason),
            };
            let asked = ctx.link.send_message(actor12::EnvelopeMessage::new(first.value + 1)).await;
            let request = ctx.rx.recv().await.expect("the request it just sent");
            ctx.spawn(async move {
                let value = request.value;
                let _ = request.reply.send(Ok(value * 10));
            });
            let answer = asked.reply().await.map_err(anyhow::Error::new).and_then(|r| r);
            let _ = first.reply.send(answer);
            std::ops::ControlFlow::Continue(())
        }
    }
);

#[test]
fn an_own_cycle_awaiting_its_own_ask_after_taking_it_out_gets_the_answer() {
    // `ctx.rx.recv()` did not mark an envelope delivered, as the default cycle does: the reply
    // still named the actor as its answerer, and awaiting it panicked as a self-ask would.
    let out = resolves_within(async {
        let actor = actor12::spawn::<OwnLoop>(());
        let answer = actor.send::<u32, anyhow::Result<u32>>(1).await.map_err(|e| e.to_string());
        let alive = actor.alive();
        actor.cancel_and_wait(()).await;
        (answer, alive)
    });
    let (answer, alive) = out.expect("hung");
    assert_eq!(answer.unwrap(), 20, "the background task's answer");
    assert!(alive, "no panic");
}

/// Handler style: a `Go` handler asks the actor itself for `Double`, takes that request out of
/// its mailbox with the way `Go` names, hands it to the other actor `Go` carries, and awaits the
/// answer, which that other actor gives.
struct Router;

actor!(Router, spec = (), cancel = (), init = |_ctx| Router);

/// An atomic inside: a small message with interior mutability, stored inline beside its reply
/// slot, which marking it delivered must not retag as shared and read-only (Stacked Borrows
/// rejected that under Miri).
struct Double(std::sync::atomic::AtomicU32);

/// How `Go`'s handler takes its own request out.
#[derive(Clone, Copy, Debug)]
enum TakeWith {
    TryRecv,
    Recv,
    RecvMany,
}

struct Go(TakeWith, Link<Router>);

impl Handler<Double> for Router {
    type Reply = anyhow::Result<u32>;

    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, Double(n): Double) -> Self::Reply {
        Ok(2 * n.into_inner())
    }
}

impl Handler<Go> for Router {
    type Reply = anyhow::Result<u32>;

    async fn handle(&mut self, mut ctx: Call<'_, Self, Self::Reply>, go: Go) -> Self::Reply {
        let Go(take, other) = go;
        let answer = ctx.link.ask_dyn_async(Double(21.into())).await;
        let request: Multi<Router> = match take {
            TakeWith::TryRecv => ctx.rx.try_recv().expect("the request it just sent"),
            TakeWith::Recv => ctx.rx.recv().await.expect("the request it just sent"),
            TakeWith::RecvMany => {
                let mut taken = Vec::new();
                ctx.rx.recv_many(&mut taken, 1).await;
                taken.pop().expect("the request it just sent")
            }
        };
        other.send_raw(request).await.expect("the other actor is alive");
        answer.await
    }
}

#[test]
fn a_handler_awaiting_its_own_ask_after_taking_it_out_gets_the_answer() {
    // `Multi` marked an ask delivered only as its handler started: taken out by the actor's
    // own code and passed on, the request still named the actor as its answerer, and awaiting
    // it panicked as a self-ask would ("the message waits in its mailbox"), though it did not.
    for take in [TakeWith::TryRecv, TakeWith::Recv, TakeWith::RecvMany] {
        let out = resolves_within(async move {
            let actor = actor12::spawn::<Router>(());
            let other = actor12::spawn::<Router>(());
            let answer = actor.ask_dyn(Go(take, other.clone())).await.map_err(|e| e.to_string());
            let alive = actor.alive();
            actor.cancel_and_wait(()).await;
            other.cancel_and_wait(()).await;
            (answer, alive)
        });
        let (answer, alive) = out.expect("hung");
        assert_eq!(answer.unwrap(), 42, "the other actor's answer, taken with {take:?}");
        assert!(alive, "no panic ({take:?})");
    }
}

/// Asks and tells itself in `terminate`, and passes on what came back.
struct Leaving(std::sync::mpsc::Sender<(bool, bool)>);

actor!(
    Leaving,
    spec = std::sync::mpsc::Sender<(bool, bool)>,
    cancel = (),
    init = |ctx| Leaving(ctx.spec),
    extra = {
        async fn terminate(
            self,
            ctx: actor12::ActorContext<Self>,
            _: actor12::cancel::CancelReason<()>,
        ) {
            let asked = ctx.link.ask_dyn(Tick(0)).await.is_err();
            let told = ctx.link.send_message(HandlerMessage::new(Tick(1))).await.was_sent();
            let _ = self.0.send((asked, told));
        }
    }
);

impl Handler<Tick> for Leaving {
    type Reply = anyhow::Result<()>;

    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Tick) -> Self::Reply {
        Ok(())
    }
}

#[test]
fn in_terminate_its_sends_to_itself_fail_at_once() {
    // The mailbox is closed before `terminate`: an ask fails instead of waiting (or panicking
    // as a self-ask from a handler does), and a tell is refused.
    let (tx, rx) = std::sync::mpsc::channel();
    let out = resolves_within(async move {
        let actor = actor12::spawn::<Leaving>(tx);
        actor.cancel_and_wait(()).await;
    });
    out.expect("hung");
    assert_eq!(rx.try_recv(), Ok((true, false)), "the ask failed, the tell was refused");
}
