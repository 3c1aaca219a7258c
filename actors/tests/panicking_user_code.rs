//! A handler-style asker gets its answer or an error whatever user code around its handler's
//! future panics: the `handle` that builds the future, the future's drop once it finished, and
//! its drop unfinished (the runtime shutting down mid-handler). Each of these used to leave the
//! asker's reply slot in the actor's handler buffer, never dropped: the asker waited for ever.
//! And a sender dropped by a panic that the handler catches itself resolves its receiver by the
//! end of the run (`oneshot::Sender`'s docs).

mod support;

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use actor12::Call;
use actor12::oneshot;
use actor12::prelude::*;
use support::*;

struct Victim;

actor!(Victim, spec = (), cancel = (), init = |_ctx| Victim);

/// Handled by a `handle` that panics before it returns its future (a plain `fn`, which the
/// `Handler` trait allows).
struct PanicsInHandle;

impl Handler<PanicsInHandle> for Victim {
    type Reply = anyhow::Result<()>;

    #[expect(unreachable_code, reason = "the panic is the point")]
    fn handle(
        &mut self,
        _: Call<'_, Self, Self::Reply>,
        _: PanicsInHandle,
    ) -> impl Future<Output = Self::Reply> + Send {
        panic!("boom");
        std::future::ready(Ok(()))
    }
}

/// A future that is ready at once and panics when it is dropped.
struct PanicsWhenDropped;

impl Future for PanicsWhenDropped {
    type Output = anyhow::Result<()>;

    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Self::Output> {
        Poll::Ready(Ok(()))
    }
}

impl Drop for PanicsWhenDropped {
    fn drop(&mut self) {
        panic!("boom");
    }
}

/// Handled by a future that finishes, then panics as it is dropped.
struct FutureDropPanics;

impl Handler<FutureDropPanics> for Victim {
    type Reply = anyhow::Result<()>;

    fn handle(
        &mut self,
        _: Call<'_, Self, Self::Reply>,
        _: FutureDropPanics,
    ) -> impl Future<Output = Self::Reply> + Send {
        PanicsWhenDropped
    }
}

/// Panics when dropped while armed.
struct Bomb(bool);

impl Drop for Bomb {
    fn drop(&mut self) {
        if self.0 {
            panic!("boom");
        }
    }
}

/// Handled by a handler that says it started, then holds a [`Bomb`] until the gate opens.
struct HoldsABomb {
    started: oneshot::Sender<()>,
    gate: oneshot::Receiver<()>,
}

impl Handler<HoldsABomb> for Victim {
    type Reply = anyhow::Result<()>;

    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, msg: HoldsABomb) -> Self::Reply {
        let mut bomb = Bomb(true);
        let _ = msg.started.send(());
        let _ = msg.gate.await;
        bomb.0 = false;
        Ok(())
    }
}

/// Spawns a [`Victim`] on a runtime of two workers and asks it `msg`: the runtime, the link and
/// the answer.
fn ask_a_victim<M: Send + 'static>(
    msg: M,
) -> (actor12::rt::Runtime, Link<Victim>, <Victim as Handler<M>>::Reply)
where
    Victim: Handler<M>,
{
    quiet_booms();
    let rt = runtime();
    let actor = rt.block_on(async { actor12::spawn::<Victim>(()) });
    let asker = actor.clone();
    let reply = async move { asker.ask_dyn(msg).await };
    let answer = resolves_within(reply).expect("the asker waited for ever");
    (rt, actor, answer)
}

/// [`ask_a_victim`]: the asker gets an error, the actor stops.
fn the_asker_gets_an_error_and_the_actor_stops<M: Send + 'static>(msg: M)
where
    Victim: Handler<M, Reply = anyhow::Result<()>>,
{
    let (_rt, actor, answer) = ask_a_victim(msg);
    assert!(answer.is_err(), "{answer:?}");
    assert!(resolves_within(async move { actor.wait().await }).is_some(), "the actor did not stop");
}

#[test]
fn a_handle_that_panics_before_returning_its_future_answers_its_asker() {
    the_asker_gets_an_error_and_the_actor_stops(PanicsInHandle);
}

#[test]
fn a_finished_handlers_future_that_panics_as_it_is_dropped_answers_its_asker() {
    // The future borrows the reply slot, so it goes before its value can be sent: the panic
    // comes first, and stops the actor as a panic in the handler does.
    the_asker_gets_an_error_and_the_actor_stops(FutureDropPanics);
}

#[test]
fn an_unfinished_handler_that_panics_as_the_runtime_drops_it_answers_its_asker() {
    quiet_booms();
    let rt = actor12::rt::Runtime::builder().worker_threads(1).build().unwrap();
    let (_open, gate) = oneshot::channel();
    let (started, has_started) = oneshot::channel();
    let (actor, reply) = rt.block_on(async {
        let actor = actor12::spawn::<Victim>(());
        let reply = actor.ask_dyn_async(HoldsABomb { started, gate }).await;
        has_started.await.unwrap();
        (actor, reply)
    });
    // The shutdown drops the waiting handler's future on this thread; the bomb goes off in it.
    drop(rt);
    assert!(!actor.alive());
    let answer = resolves_within(reply).expect("the asker waited for ever");
    assert!(answer.is_err(), "{answer:?}");
}

/// Drops a channel's sender inside a panic it catches, then awaits the receiver.
struct CatchesAPanic;

impl Handler<CatchesAPanic> for Victim {
    type Reply = anyhow::Result<bool>;

    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: CatchesAPanic) -> Self::Reply {
        let (tx, rx) = oneshot::channel::<u8>();
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
            let _tx = tx;
            panic!("boom");
        }));
        assert!(caught.is_err());
        // The close is kept for the end of this run (`oneshot::Sender`'s docs): the await
        // ends the run, and the receiver resolves then.
        Ok(rx.await.is_err())
    }
}

#[test]
fn a_sender_dropped_by_a_panic_the_handler_catches_resolves_its_receiver() {
    let (_rt, actor, answer) = ask_a_victim(CatchesAPanic);
    assert!(answer.expect("the actor goes on"), "the receiver got a value");
    assert!(actor.alive());
}

/// A tick that never fires and panics when it is dropped: the default cycle drops it as each
/// message arrives, before the message's handler.
struct TickThatPanicsWhenDropped;

impl Future for TickThatPanicsWhenDropped {
    type Output = std::ops::ControlFlow<()>;

    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Self::Output> {
        Poll::Pending
    }
}

impl Drop for TickThatPanicsWhenDropped {
    fn drop(&mut self) {
        panic!("boom");
    }
}

/// Handler style: its messages are large enough to be received into the cycle's slot.
struct TickVictim;

actor!(
    TickVictim,
    spec = (),
    cancel = (),
    init = |_ctx| TickVictim,
    extra = {
        fn tick(&mut self) -> impl Future<Output = std::ops::ControlFlow<()>> + Send {
            TickThatPanicsWhenDropped
        }
    }
);

impl Handler<u32> for TickVictim {
    type Reply = anyhow::Result<u32>;

    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, n: u32) -> Self::Reply {
        Ok(n)
    }
}

/// Envelope style: its messages are two words, received by value.
struct EnvelopeTickVictim;

actor!(
    EnvelopeTickVictim,
    message = actor12::Envelope<u32, anyhow::Result<u32>>,
    spec = (),
    cancel = (),
    init = |_ctx| EnvelopeTickVictim,
    extra = {
        fn tick(&mut self) -> impl Future<Output = std::ops::ControlFlow<()>> + Send {
            TickThatPanicsWhenDropped
        }

        async fn handle(&mut self, _: actor12::Exec<'_, Self>, msg: Self::Message) {
            let _ = msg.reply.send(Ok(msg.value));
        }
    }
);

#[test]
fn a_tick_whose_drop_panics_as_a_message_arrives_answers_that_messages_asker() {
    quiet_booms();
    let rt = runtime();
    let actor = rt.block_on(async { actor12::spawn::<TickVictim>(()) });
    let asker = actor.clone();
    let answer = resolves_within(async move { asker.ask_dyn(7u32).await })
        .expect("the asker waited for ever");
    assert!(answer.is_err(), "{answer:?}");
    assert!(resolves_within(async move { actor.wait().await }).is_some(), "the actor did not stop");
}

#[test]
fn an_envelope_actors_tick_whose_drop_panics_answers_the_envelopes_asker() {
    quiet_booms();
    let rt = runtime();
    let actor = rt.block_on(async { actor12::spawn::<EnvelopeTickVictim>(()) });
    let asker = actor.clone();
    let answer = resolves_within(async move {
        asker.send_message(actor12::EnvelopeMessage::new(7)).await.reply().await
    })
    .expect("the asker waited for ever");
    assert!(answer.is_err(), "{answer:?}");
    assert!(resolves_within(async move { actor.wait().await }).is_some(), "the actor did not stop");
}
