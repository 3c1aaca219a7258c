//! The quick start: a counter actor, used through the two-step API.
//!
//! ```text
//! cargo run -p actor12 --example quick_start
//! ```

// ANCHOR: imports
use actor12::prelude::*;
// ANCHOR_END: imports

// ANCHOR: actor
/// The actor: its state is one number.
struct Counter {
    value: i64,
}

/// Adds to the counter and answers with the new value.
struct Increment(i64);

/// Answers with the current value.
struct GetValue;

impl Actor for Counter {
    type Message = Multi<Self>; // handler style: one `Handler` impl per message type
    type Spec = i64; // what `spawn` takes: the starting value
    type Channel = MpscChannel<Self::Message>;
    type Cancel = (); // the stop reason
    type State = (); // nothing shared with links

    fn state(_spec: &i64) {}

    fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
        std::future::ready(Ok(Counter { value: ctx.spec }))
    }
}

impl Handler<Increment> for Counter {
    type Reply = anyhow::Result<i64>;

    async fn handle(&mut self, _ctx: Call<'_, Self, Self::Reply>, msg: Increment) -> Self::Reply {
        self.value += msg.0;
        Ok(self.value)
    }
}

impl Handler<GetValue> for Counter {
    type Reply = anyhow::Result<i64>;

    async fn handle(&mut self, _ctx: Call<'_, Self, Self::Reply>, _msg: GetValue) -> Self::Reply {
        Ok(self.value)
    }
}
// ANCHOR_END: actor

fn main() -> anyhow::Result<()> {
    // ANCHOR: main
    let runtime = actor12::rt::Runtime::new()?;
    runtime.block_on(async {
        let counter = actor12::spawn::<Counter>(0);

        // Step one delivers the message; step two decides what to do with the answer.
        let handle = counter.send_message(HandlerMessage::new(Increment(5))).await;
        let value = handle.reply().await??; // transport error, then the handler's own
        println!("after Increment(5): {value}");

        // Both steps at once.
        let value = counter.send_and_reply(HandlerMessage::new(GetValue)).await??;
        println!("GetValue: {value}");

        // Deliver and ignore the answer.
        counter.send_and_forget(HandlerMessage::new(Increment(10))).await;

        // Messages from one sender are handled in the order they were sent, so this sees +10.
        let value = counter.send_and_reply(HandlerMessage::new(GetValue)).await??;
        println!("GetValue after a forgotten Increment(10): {value}");

        counter.cancel_and_wait(()).await;
        println!("stopped; alive: {}", counter.alive());
        Ok(())
    })
    // ANCHOR_END: main
}
