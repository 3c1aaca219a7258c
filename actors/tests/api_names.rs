//! Every public name a user defines an actor with and talks to it through, used with the shape
//! the rustdoc and the guide (`docs/book/`) give it: a user who reads them finds each call where
//! they say, with the types they say.

use std::any::Any;
use std::collections::HashSet;
use std::future::Future;
use std::ops::ControlFlow;
use std::time::Duration;

use actor12::cancel::{CancelReason, CancelToken};
use actor12::prelude::*;
use actor12::{
    ActorContext, ActorError, ActorMessage, DropHandle, DynLink, EnvelopeMessage, FromError,
    MessageError, MessageHandle, NoReply, Proxy, RelayMessage, SendableMessage, Terminate,
    WeakSendableMessage,
};

/// Handler style, with every overridable item of `Actor` written out.
struct Full {
    sum: u64,
}

struct Add(u64);
struct Later(u64);
struct Background(u64);

impl Actor for Full {
    type Message = Multi<Self>;
    type Spec = u64;
    type Channel = MpscChannel<Self::Message>;
    type Cancel = String;
    type State = &'static str;

    fn state(_spec: &u64) -> &'static str {
        "full"
    }

    fn init(mut ctx: Init<'_, Self>) -> impl InitFuture<Self> {
        let Init { spec, link, token, .. } = &ctx;
        let (spec, _link, _token): (u64, &Link<Self>, &CancelToken<String>) = (*spec, link, token);
        ctx.spawn(async {});
        let _tasks: &mut actor12::TaskSet = ctx.tasks;
        async move { Ok(Full { sum: spec }) }
    }

    fn handle<'a>(
        &'a mut self,
        ctx: Exec<'a, Self>,
        msg: Multi<Self>,
    ) -> impl Future<Output = ()> + Send + 'a {
        // The default: dispatch `Multi`.
        msg.handle(self, ctx)
    }

    fn tick(&mut self) -> impl Future<Output = ControlFlow<String>> + Send {
        std::future::pending()
    }

    #[allow(clippy::manual_async_fn, reason = "the shape the rustdoc gives")]
    fn cycle(
        &mut self,
        ctx: &mut ActorContext<Self>,
    ) -> impl Future<Output = ControlFlow<CancelReason<String>>> + Send {
        async move {
            let ActorContext { token, span, link, .. } = &*ctx;
            let (_, _, _): (&CancelToken<String>, &tracing::Span, &WeakLink<Self>) =
                (token, span, link);
            ctx.spawn(async {});
            let msg = tokio::select! {
                biased;
                reason = ctx.token.cancelled() => return ControlFlow::Break(reason),
                msg = ctx.rx.recv() => msg,
            };
            let Some(msg) = msg else { return ControlFlow::Break(CancelReason::default()) };
            Actor::handle(self, Exec::new(ctx), msg).await;
            ControlFlow::Continue(())
        }
    }

    fn terminate(
        self,
        _ctx: ActorContext<Self>,
        _reason: CancelReason<String>,
    ) -> impl Future<Output = ()> + Send {
        std::future::ready(())
    }

    fn crash(_payload: Box<dyn Any + Send>) -> impl Future<Output = ()> + Send {
        std::future::ready(())
    }

    fn mailbox_capacity() -> usize {
        8
    }

    fn termination_strategy(&mut self) -> Terminate {
        Terminate::ProcessAll
    }

    fn span(_spec: &u64) -> tracing::Span {
        tracing::Span::none()
    }
}

impl Handler<Add> for Full {
    type Reply = anyhow::Result<u64>;
    async fn handle(&mut self, ctx: Call<'_, Self, Self::Reply>, Add(n): Add) -> Self::Reply {
        // `Call` derefs to `Exec`, which derefs to `ActorContext`.
        let exec: &Exec<'_, Self> = &ctx;
        let _: &ActorContext<Self> = exec;
        self.sum += n;
        Ok(self.sum)
    }
}

impl Handler<Later> for Full {
    type Reply = anyhow::Result<u64>;
    async fn handle(
        &mut self,
        mut ctx: Call<'_, Self, Self::Reply>,
        Later(n): Later,
    ) -> Self::Reply {
        let slot: actor12::oneshot::Sender<anyhow::Result<u64>> = ctx.take_reply();
        let _ = slot.send(Ok(n));
        Ok(0) // discarded
    }
}

impl Handler<Background> for Full {
    type Reply = anyhow::Result<u64>;
    async fn handle(&mut self, mut ctx: Call<'_, Self, Self::Reply>, b: Background) -> Self::Reply {
        ctx.reply_async(async move { Ok(b.0) })
    }
}

impl Handler<Result<anyhow::Result<u64>, MessageError>> for Full {
    type Reply = anyhow::Result<()>;
    async fn handle(
        &mut self,
        _: Call<'_, Self, Self::Reply>,
        outcome: Result<anyhow::Result<u64>, MessageError>,
    ) -> Self::Reply {
        self.sum = outcome??;
        Ok(())
    }
}

/// Envelope style.
struct Doubler;

impl Actor for Doubler {
    type Message = Envelope<u64, anyhow::Result<u64>>;
    type Spec = ();
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();
    fn state(_: &()) {}
    fn init(_: Init<'_, Self>) -> impl InitFuture<Self> {
        std::future::ready(Ok(Doubler))
    }
    async fn handle(&mut self, _: Exec<'_, Self>, msg: Self::Message) {
        msg.reply(|n| async move { Ok(n * 2) }).await;
    }
}

/// Raw style.
struct Sink;

impl Actor for Sink {
    type Message = NoReply<u64>;
    type Spec = ();
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();
    fn state(_: &()) {}
    fn init(_: Init<'_, Self>) -> impl InitFuture<Self> {
        std::future::ready(Ok(Sink))
    }
}

fn needs_sendable<A: Actor, M: SendableMessage<A> + WeakSendableMessage<A>>(_: &M) {}

fn reply_from_errors<R>()
where
    R: FromError<ActorError> + FromError<actor12::oneshot::RecvError>,
{
}

#[test]
fn every_name_of_api_md_has_the_shape_it_gives() {
    reply_from_errors::<anyhow::Result<u64>>();
    let envelope_calls = |e: Envelope<u64, u64>| {
        let Envelope { value, reply } = e;
        let e = Envelope::relay(value, reply).map(|v| v + 1);
        let (_value, _reply) = e.split();
    };
    let (e, _rx) = Envelope::<u64, u64>::new(1);
    envelope_calls(e);
    let (e, _rx) = Envelope::<u64, u64>::new(1);
    let _: Result<(), u64> = e.send(2);

    actor12::rt::Runtime::new().unwrap().block_on(async {
        let (e, rx) = Envelope::<u64, u64>::new(1);
        e.reply_fut(async { 3 }).await;
        assert_eq!(rx.await, Ok(3));
        let link: Link<Full> = actor12::spawn::<Full>(1);
        let same: Link<Full> = Full::spawn(0);
        assert_eq!(link, link.clone());
        assert_ne!(link, same);
        assert_eq!(HashSet::from([link.clone(), link.clone()]).len(), 1);
        let _: &&'static str = link.state();
        assert!(link.alive());

        // Handler style, actor12 0.0.11's calls.
        let n: anyhow::Result<u64> = link.ask_dyn(Add(1)).await;
        assert_eq!(n.unwrap(), 2);
        let later = link.ask_dyn_async(Later(7)).await;
        assert_eq!(later.await.unwrap(), 7);
        link.tell_dyn(Add(1)).await;
        let (envelope, reply) = Envelope::new(Background(5));
        link.relay_dyn(envelope).await;
        assert_eq!(reply.await.unwrap().unwrap(), 5);

        // The two-step API.
        let message = HandlerMessage::new(Add(1));
        needs_sendable::<Full, _>(&message);
        let handle: MessageHandle<anyhow::Result<u64>> = link.send_message(message).await;
        assert!(handle.was_sent());
        assert_eq!(handle.send_error(), None);
        let sum = handle.timeout(Duration::from_secs(60)).reply().await.unwrap().unwrap();
        assert_eq!(sum, 4);
        let mut handle = link.send_message(HandlerMessage::new(Add(0))).await;
        let first: Result<Option<anyhow::Result<u64>>, MessageError> = handle.try_reply();
        let _ = first;
        let handle = link.send_message(HandlerMessage::new(Add(0))).await;
        assert_eq!(handle.map_reply(|r| r.unwrap()).await.unwrap(), 4);
        let handle = link.send_message(HandlerMessage::new(Add(0))).await;
        assert!(handle.then(|r| async move { r.is_ok() }).await);
        let handle = link.send_message(HandlerMessage::new(Add(0))).await;
        let _: Result<anyhow::Result<u64>, String> = handle.map_err(|e| e.to_string()).await;
        link.send_message(HandlerMessage::new(Add(0))).await.forget();
        let r: Result<anyhow::Result<u64>, MessageError> =
            link.send_and_reply(HandlerMessage::new(Add(0))).await;
        assert_eq!(r.unwrap().unwrap(), 4);
        link.send_and_forget(HandlerMessage::new(Add(0))).await;
        let r = link.send_with_timeout(HandlerMessage::new(Add(0)), Duration::from_secs(60)).await;
        assert_eq!(r.unwrap().unwrap(), 4);
        let (envelope, reply) = Envelope::new(Add(1));
        let relayed: MessageHandle<()> = link.send_message(RelayMessage::new(envelope)).await;
        relayed.reply().await.unwrap();
        assert_eq!(reply.await.unwrap().unwrap(), 5);
        // `forward_to`: the outcome of an ask to `same` arrives at `link` as a message.
        link.send_message(HandlerMessage::new(Add(0))).await.forward_to(&same);

        // Envelope style and raw style.
        let doubler = actor12::spawn::<Doubler>(());
        let n: anyhow::Result<u64> = doubler.send::<u64, anyhow::Result<u64>>(2).await;
        assert_eq!(n.unwrap(), 4);
        let r = doubler.send_and_reply(EnvelopeMessage::<u64, anyhow::Result<u64>>::new(3)).await;
        assert_eq!(r.unwrap().unwrap(), 6);
        let sink = actor12::spawn::<Sink>(());
        let sent: Result<(), actor12::ActorSendError<Sink>> = sink.send_raw(NoReply::new(1)).await;
        sent.unwrap();
        let handle: MessageHandle<()> = sink.send_raw_message(NoReply(2)).await;
        handle.reply().await.unwrap();

        // Weak and type-erased links.
        let mut weak: WeakLink<Full> = WeakLink::new();
        assert!(!weak.is_set() && weak == WeakLink::default());
        weak.set(&link);
        assert!(!weak.try_set(&same));
        assert_eq!(weak.clone().take(), WeakLink::from(&link));
        assert_eq!(weak.upgrade().as_ref(), Some(&link));
        assert_eq!(weak.ask_dyn(Add(0)).await.unwrap(), link.ask_dyn(Add(0)).await.unwrap());
        let _ = weak.ask_dyn_async(Add(0)).await.await;
        weak.tell_dyn(Add(0)).await;
        let (envelope, _reply) = Envelope::new(Add(0));
        weak.relay_dyn(envelope).await;
        weak.send_message(HandlerMessage::new(Add(0))).await.forget();
        weak.send_and_reply(HandlerMessage::new(Add(0))).await.unwrap().unwrap();
        weak.send_and_forget(HandlerMessage::new(Add(0))).await;
        let timed = weak.send_with_timeout(HandlerMessage::new(Add(0)), Duration::from_secs(60));
        timed.await.unwrap().unwrap();
        let weak_doubler = doubler.downgrade();
        assert_eq!(weak_doubler.send::<u64, anyhow::Result<u64>>(1).await.unwrap(), 2);
        let (envelope, _reply) = Envelope::new(1);
        weak_doubler.send_raw(envelope).await.unwrap();
        let (envelope, _reply) = Envelope::new(1);
        weak_doubler.send_raw_message(envelope).await.reply().await.unwrap();
        weak.clear();
        let empty = weak.ask_dyn(Add(0)).await.unwrap_err();
        assert_eq!(empty.downcast_ref::<ActorError>(), Some(&ActorError::Dead));
        let err = weak.send_and_reply(HandlerMessage::new(Add(0))).await.unwrap_err();
        assert!(matches!(err, MessageError::SendFailed(_)));
        weak.cancel(String::new());
        weak.cancel_and_wait(String::new()).await;

        let dynamic: DynLink<Add> = link.to_dyn::<Add>();
        assert!(dynamic.is::<Full>());
        assert_eq!(dynamic.to::<Full>(), link);
        dynamic.tell_dyn(Add(0)).await;

        // Cancellation.
        let root = CancelToken::<String>::new();
        let child = root.child();
        root.cancel("stop");
        assert!(child.is_cancelled());
        let reason: CancelReason<String> = child.cancelled().await;
        assert_eq!(reason.value(), "stop");
        assert_eq!(child.cancelled_or_dropped().await.unwrap().value(), "stop");
        assert_eq!(root.reason().map(CancelReason::into_value).as_deref(), Some("stop"));
        root.reset();
        root.cancel_with_reason(CancelReason::new("again"));
        assert_eq!(DropHandle(actor12::rt::spawn(async { 1 })).await.unwrap(), 1);
        assert!(actor12::count::stats::<Full>().live >= 1);

        let (proxy, outer): (Proxy<Full>, Link<Full>) = Proxy::new(10);
        proxy.init();
        assert_eq!(outer.ask_dyn(Add(1)).await.unwrap(), 11);
        proxy.shutdown().await;
        proxy.reset();
        drop(proxy);

        assert!(!link.token().is_cancelled());
        link.cancel("bye".to_string());
        link.wait().await;
        dynamic.cancel();
        dynamic.cancel_and_wait().await;
        same.cancel_and_wait("bye".to_string()).await;
        assert!(!link.alive());
        // A dead actor: an error at once, never a hang.
        assert!(link.ask_dyn(Add(0)).await.is_err());
        let err = link.send_and_reply(HandlerMessage::new(Add(0))).await.unwrap_err();
        assert!(matches!(err, MessageError::SendFailed(_)));
        let _ = [
            MessageError::RecvFailed(actor12::oneshot::RecvError),
            MessageError::Timeout { timeout: Duration::ZERO },
            MessageError::AlreadyConsumed,
        ];
        let _ = [ActorError::DynSendError(), ActorError::ReplyTaken, ActorError::AsyncReply];
    });
}

// The contexts are `Sync`, as in actor12 0.0.11, so a handler may pass `&ctx` to an async helper
// and hold it across an await (the handler's future must be `Send`).
async fn note_cancelled<A: Actor>(ctx: &ActorContext<A>) -> bool {
    actor12::rt::yield_now().await;
    ctx.token.is_cancelled()
}

struct Ping;

impl Handler<Ping> for Full {
    type Reply = anyhow::Result<bool>;
    async fn handle(&mut self, ctx: Call<'_, Self, Self::Reply>, _: Ping) -> Self::Reply {
        Ok(note_cancelled(&ctx).await)
    }
}

#[test]
fn a_handler_may_hold_its_context_across_an_await() {
    fn sync<T: Sync>() {}
    sync::<ActorContext<Full>>();
    sync::<Exec<'_, Full>>();
    sync::<Call<'_, Full, anyhow::Result<bool>>>();
    sync::<Init<'_, Full>>();
    actor12::rt::Runtime::new().unwrap().block_on(async {
        let full = actor12::spawn::<Full>(0);
        assert!(!full.ask_dyn(Ping).await.unwrap());
    });
}
