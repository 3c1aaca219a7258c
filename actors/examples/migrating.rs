//! Code written for actor12 0.0.11 (on tokio), running unchanged on this crate; then the same
//! actors through the two-step API.
//!
//! ```text
//! cargo run -p actor12 --example migrating
//! ```

// ANCHOR: old
// ANCHOR: imports
use actor12::{Actor, Call, Envelope, Exec, Handler, Init, MpscChannel, Multi, spawn};
use std::future::Future;
// ANCHOR_END: imports

struct Counter {
    count: i64,
}

struct Increment;
struct Get;

impl Actor for Counter {
    type Message = Multi<Self>; // handler style
    type Spec = ();
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();

    fn state(_spec: &Self::Spec) -> Self::State {}

    fn init(
        _ctx: Init<'_, Self>,
    ) -> impl Future<Output = Result<Self, Self::Cancel>> + Send + 'static {
        std::future::ready(Ok(Counter { count: 0 }))
    }
}

impl Handler<Increment> for Counter {
    type Reply = anyhow::Result<()>;
    async fn handle(&mut self, _ctx: Call<'_, Self, Self::Reply>, _msg: Increment) -> Self::Reply {
        self.count += 1;
        Ok(())
    }
}

impl Handler<Get> for Counter {
    type Reply = anyhow::Result<i64>;
    async fn handle(&mut self, _ctx: Call<'_, Self, Self::Reply>, _msg: Get) -> Self::Reply {
        Ok(self.count)
    }
}

// ANCHOR: envelope_actor
enum Op {
    Inc,
    Get,
}

struct StaticCounter {
    count: i64,
}

impl Actor for StaticCounter {
    type Message = Envelope<Op, anyhow::Result<i64>>; // envelope style
    type Spec = ();
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();

    fn state(_spec: &Self::Spec) -> Self::State {}

    fn init(
        _ctx: Init<'_, Self>,
    ) -> impl Future<Output = Result<Self, Self::Cancel>> + Send + 'static {
        std::future::ready(Ok(StaticCounter { count: 0 }))
    }

    async fn handle(&mut self, _ctx: Exec<'_, Self>, msg: Self::Message) {
        let reply = match msg.value {
            Op::Inc => {
                self.count += 1;
                Ok(self.count)
            }
            Op::Get => Ok(self.count),
        };
        let _ = msg.reply.send(reply);
    }
}
// ANCHOR_END: envelope_actor

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let counter = spawn::<Counter>(());
    counter.tell_dyn(Increment).await; // fire-and-forget
    let n: i64 = counter.ask_dyn(Get).await?; // request/response
    println!("handler style: {n}");

    let static_counter = spawn::<StaticCounter>(());
    let n: i64 = static_counter.send::<Op, anyhow::Result<i64>>(Op::Inc).await?;
    println!("envelope style: {n}");
    // ANCHOR_END: old

    // ANCHOR: new
    // The same actors through the two-step API.
    use actor12::{EnvelopeMessage, HandlerMessage};
    use std::time::Duration;

    let handle = counter.send_message(HandlerMessage::new(Get)).await;
    println!("handler style, two steps: {}", handle.reply().await??);

    let request = EnvelopeMessage::<Op, anyhow::Result<i64>>::new(Op::Get);
    let n = static_counter.send_with_timeout(request, Duration::from_secs(10)).await??;
    println!("envelope style, with a deadline: {n}");
    // ANCHOR_END: new
    Ok(())
}
