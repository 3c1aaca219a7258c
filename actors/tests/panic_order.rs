//! A panic stops its actor before anybody hears of it: the asker whose request the handler was
//! handling gets its error only once the actor's mailbox is closed, so it finds the actor gone
//! (`alive()` false, a send failing) rather than still taking messages. Whether the reply slot
//! lived in the handler's future (handler style) or on the stack the panic unwound (an envelope
//! taken apart in the handler), and on two workers, where the asker runs beside the unwinding.

mod support;

use actor12::prelude::*;
use actor12::{ActorMessage, Call, Envelope, Exec, HandlerMessage, MpscChannel};
use support::*;

/// Rounds per test: the race shows within ten on two workers; CI's Miri run divides them.
fn rounds() -> usize {
    let div: usize =
        std::env::var("ACTOR12_STRESS_DIV").ok().and_then(|v| v.parse().ok()).unwrap_or(1);
    (200 / div.max(1)).max(2)
}

/// Panics after an await: the reply slot then lives in the handler's future, dropped after the
/// panic was caught.
struct LateBoom;

impl Handler<LateBoom> for Recorder {
    type Reply = anyhow::Result<()>;

    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: LateBoom) -> Self::Reply {
        actor12::rt::yield_now().await;
        panic!("boom");
    }
}

#[test]
fn the_asker_of_a_panicking_handler_finds_the_actor_gone() {
    quiet_booms();
    runtime().block_on(async {
        for round in 0..rounds() {
            let actor = actor12::spawn::<Recorder>(Probe::default());
            let answer = if round % 2 == 0 {
                actor.send_message(HandlerMessage::new(Boom)).await.reply().await
            } else {
                actor.send_message(HandlerMessage::new(LateBoom)).await.reply().await
            };
            assert!(answer.is_err(), "round {round}: {answer:?}");
            assert!(!actor.alive(), "round {round}: the asker heard while the actor was alive");
            assert!(actor.send_raw(actor12::Multi::tell(Note(0, 0))).await.is_err());
        }
    });
}

/// An envelope-style actor whose handler takes the request apart and panics holding its reply
/// slot on the stack.
struct Brittle;

enum BrittleMsg {
    Boom(Envelope<(), u32>),
}

impl ActorMessage<Brittle> for BrittleMsg {}

impl Actor for Brittle {
    type Message = BrittleMsg;
    type Spec = ();
    type Channel = MpscChannel<BrittleMsg>;
    type Cancel = ();
    type State = ();

    fn state(_: &()) {}

    fn init(_: Init<'_, Self>) -> impl InitFuture<Self> {
        std::future::ready(Ok(Brittle))
    }

    async fn handle(&mut self, _: Exec<'_, Self>, msg: BrittleMsg) {
        let BrittleMsg::Boom(envelope) = msg;
        let reply = envelope.reply;
        if reply.is_closed() {
            return;
        }
        panic!("boom");
    }
}

#[test]
fn the_asker_of_a_panicking_envelope_handler_finds_the_actor_gone() {
    quiet_booms();
    runtime().block_on(async {
        for round in 0..rounds() {
            let actor = actor12::spawn::<Brittle>(());
            let (envelope, answer) = Envelope::new(());
            assert!(actor.send_raw(BrittleMsg::Boom(envelope)).await.is_ok());
            assert!(answer.await.is_err(), "round {round}: answered");
            assert!(!actor.alive(), "round {round}: the asker heard while the actor was alive");
            let (envelope, _answer) = Envelope::new(());
            assert!(actor.send_raw(BrittleMsg::Boom(envelope)).await.is_err());
        }
    });
}
