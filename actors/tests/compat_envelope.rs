//! actor12 0.0.11 behaviour, envelope style: an actor whose `Message` is `Envelope<T, R>`,
//! answered in its own `handle`, reached with `Link::send`, `WeakLink::send` and the two-step
//! `EnvelopeMessage`.

use std::future::Future;

use actor12::{Actor, Envelope, EnvelopeMessage, Exec, Init, MessageError, MpscChannel};

struct Upper {
    handled: u32,
}

impl Actor for Upper {
    type Message = Envelope<String, anyhow::Result<String>>;
    type Spec = ();
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();

    fn state(_: &()) {}

    // As in 0.0.11's tests/regular.rs: no `Send` spelled out on the init future.
    fn init(_: Init<'_, Self>) -> impl Future<Output = Result<Self, Self::Cancel>> + 'static {
        std::future::ready(Ok(Upper { handled: 0 }))
    }

    async fn handle(&mut self, _: Exec<'_, Self>, msg: Self::Message) {
        self.handled += 1;
        let answer = match msg.value.as_str() {
            "" => Err(anyhow::anyhow!("empty request #{}", self.handled)),
            text => Ok(format!("{}#{}", text.to_uppercase(), self.handled)),
        };
        let _ = msg.reply.send(answer);
    }
}

#[tokio::test]
async fn send_is_request_reply_in_order() {
    let upper = actor12::spawn::<Upper>(());
    assert_eq!(upper.send("a".to_string()).await.unwrap(), "A#1");
    assert_eq!(upper.send("b".to_string()).await.unwrap(), "B#2");
    let err = upper.send(String::new()).await.unwrap_err();
    assert_eq!(err.to_string(), "empty request #3");
}

#[tokio::test]
async fn send_to_a_stopped_actor_fails_at_once() {
    let upper = actor12::spawn::<Upper>(());
    upper.cancel_and_wait(()).await;
    assert!(upper.send("late".to_string()).await.is_err());
}

#[tokio::test]
async fn weak_send_reaches_a_live_actor_and_fails_on_a_dead_one() {
    let upper = actor12::spawn::<Upper>(());
    let weak = upper.downgrade();
    assert_eq!(weak.send("w".to_string()).await.unwrap(), "W#1");
    drop(upper); // the last link: the actor stops
    assert!(weak.send("gone".to_string()).await.is_err());
}

#[tokio::test]
async fn two_step_envelope_message() {
    let upper = actor12::spawn::<Upper>(());
    let handle = upper.send_message(EnvelopeMessage::new("two".to_string())).await;
    assert!(handle.was_sent());
    assert_eq!(handle.reply().await.unwrap().unwrap(), "TWO#1");

    upper.cancel_and_wait(()).await;
    let handle = upper.send_message(EnvelopeMessage::new("x".to_string())).await;
    assert!(!handle.was_sent());
    assert!(matches!(handle.reply().await, Err(MessageError::SendFailed(_))));
}

#[tokio::test]
async fn raw_sends_hand_the_envelope_back_when_the_actor_is_gone() {
    let upper = actor12::spawn::<Upper>(());
    let (envelope, reply) = Envelope::new("raw".to_string());
    upper.send_raw(envelope).await.unwrap();
    assert_eq!(reply.await.unwrap().unwrap(), "RAW#1");

    upper.cancel_and_wait(()).await;
    let (envelope, reply) = Envelope::new("back".to_string());
    let err = upper.send_raw(envelope).await.unwrap_err();
    assert_eq!(err.into_inner().value, "back");
    assert!(reply.await.is_err(), "the returned envelope was dropped unanswered");
}
