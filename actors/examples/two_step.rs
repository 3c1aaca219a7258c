//! The two-step API in full: every way to send, and everything a `MessageHandle` can do.
//!
//! ```text
//! cargo run -p actor12 --example two_step
//! ```

// ANCHOR: imports
use actor12::prelude::*;
use actor12::{MessageError, RelayMessage};
// ANCHOR_END: imports

// ANCHOR: actors
/// Handler style: doubles numbers, refuses negative ones.
struct Doubler;

struct Double(i64);

impl Actor for Doubler {
    type Message = Multi<Self>;
    type Spec = ();
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();

    fn state(_: &()) {}

    fn init(_: Init<'_, Self>) -> impl InitFuture<Self> {
        std::future::ready(Ok(Doubler))
    }
}

impl Handler<Double> for Doubler {
    type Reply = anyhow::Result<i64>;

    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, msg: Double) -> Self::Reply {
        anyhow::ensure!(msg.0 >= 0, "negative: {}", msg.0);
        Ok(msg.0 * 2)
    }
}

/// Envelope style: its mailbox carries `Envelope<String, usize>`; answers with the length.
struct Measure;

impl Actor for Measure {
    type Message = Envelope<String, usize>;
    type Spec = ();
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();

    fn state(_: &()) {}

    fn init(_: Init<'_, Self>) -> impl InitFuture<Self> {
        std::future::ready(Ok(Measure))
    }

    async fn handle(&mut self, _: Exec<'_, Self>, msg: Envelope<String, usize>) {
        let len = msg.value.len();
        let _ = msg.reply.send(len);
    }
}
// ANCHOR_END: actors

fn main() -> anyhow::Result<()> {
    let runtime = actor12::rt::Runtime::new()?;
    runtime.block_on(async {
        let doubler = actor12::spawn::<Doubler>(());
        let measure = actor12::spawn::<Measure>(());

        // ANCHOR: send
        // Handler style: `HandlerMessage`; the reply is the handler's `Reply`.
        let handle = doubler.send_message(HandlerMessage::new(Double(21))).await;
        let reply: Result<anyhow::Result<i64>, MessageError> = handle.reply().await;
        println!("Double(21): {}", reply??);

        // Envelope style: `EnvelopeMessage`; the reply is the envelope's `R`.
        let request = EnvelopeMessage::<String, usize>::new("hello".to_string());
        println!("Measure(\"hello\"): {}", measure.send_and_reply(request).await?);

        // Passing on an envelope someone else is waiting on: the answer goes to them.
        let (envelope, answer) = Envelope::new(Double(5));
        doubler.send_and_forget(RelayMessage::new(envelope)).await;
        println!("relayed Double(5), the original asker got: {}", answer.await??);

        // Raw style: any `A::Message`; the handle's reply is `()` once delivered.
        let (envelope, answer) = Envelope::new("raw".to_string());
        let handle = measure.send_raw_message(envelope).await;
        println!("raw message delivered: {}, answer: {}", handle.was_sent(), answer.await?);
        // ANCHOR_END: send

        // ANCHOR: handle
        // Transform the answer, or the error, or both, while awaiting it.
        let doubled_twice = doubler
            .send_message(HandlerMessage::new(Double(10)))
            .await
            .map_reply(|reply| reply.map(|n| n * 2))
            .await?;
        println!("map_reply: {}", doubled_twice?);

        let described = doubler
            .send_message(HandlerMessage::new(Double(-1)))
            .await
            .then(|outcome| async move {
                match outcome {
                    Ok(Ok(n)) => format!("answer {n}"),
                    Ok(Err(refused)) => format!("the handler refused: {refused}"),
                    Err(transport) => format!("no answer: {transport}"),
                }
            })
            .await;
        println!("then: {described}");

        // A message to an actor that has stopped is not delivered; the handle says so, and every
        // way of taking its reply fails at once.
        measure.cancel_and_wait(()).await;
        let request = EnvelopeMessage::<String, usize>::new("late".to_string());
        let handle = measure.send_message(request).await;
        println!("was_sent: {}, send_error: {:?}", handle.was_sent(), handle.send_error());
        let code = handle.map_err(|e| matches!(e, MessageError::SendFailed(_))).await;
        println!("map_err: SendFailed? {:?}", code.err());
        // ANCHOR_END: handle

        // ANCHOR: forget
        // `forget` drops the reply: the actor still handles the message.
        doubler.send_message(HandlerMessage::new(Double(1))).await.forget();
        // ANCHOR_END: forget
        doubler.cancel_and_wait(()).await;
        Ok(())
    })
}
