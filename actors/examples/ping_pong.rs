//! ractor's ping-pong, on actor12: an actor that sends itself `Ping`, answers every `Ping` with a
//! `Pong` and every `Pong` with a `Ping`, printing `ping..pong..` until a counter hits 10; then
//! it stops itself.
//!
//! ```text
//! cargo run -p actor12 --example ping_pong
//! ```

// ANCHOR: imports
use actor12::ActorMessage;
use actor12::prelude::*;
// ANCHOR_END: imports

// ANCHOR: actor
/// Prints `ping..pong..` until its counter hits 10, then stops.
struct PingPong {
    count: u8,
}

/// The messages `PingPong` supports: raw style, its own enum as the mailbox type.
#[derive(Debug, Clone)]
enum Message {
    Ping,
    Pong,
}

impl ActorMessage<PingPong> for Message {}

impl Message {
    /// The next message in the sequence.
    fn next(&self) -> Self {
        match self {
            Self::Ping => Self::Pong,
            Self::Pong => Self::Ping,
        }
    }

    fn print(&self) {
        match self {
            Self::Ping => print!("ping.."),
            Self::Pong => print!("pong.."),
        }
    }
}

impl Actor for PingPong {
    type Message = Message;
    type Spec = ();
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();

    fn state(_: &()) {}

    fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
        // Start the exchange by posting the first message to ourselves (the mailbox is empty,
        // so this cannot fail for lack of room).
        let started = ctx.link.try_send_raw(Message::Ping).is_ok();
        std::future::ready(if started { Ok(PingPong { count: 0 }) } else { Err(()) })
    }

    async fn handle(&mut self, ctx: Exec<'_, Self>, message: Message) {
        if self.count < 10 {
            message.print();
            // `ctx.link` is a weak link to ourselves: it does not keep us alive.
            let _ = ctx.link.send_raw(message.next()).await;
            self.count += 1;
        } else {
            // Don't send another message; stop after 10 iterations.
            ctx.link.cancel(());
        }
    }
}
// ANCHOR_END: actor

fn main() -> anyhow::Result<()> {
    // ANCHOR: main
    let runtime = actor12::rt::Runtime::new()?;
    runtime.block_on(async {
        let ping_pong = actor12::spawn::<PingPong>(());
        ping_pong.wait().await; // resolves once the actor has stopped itself
    });
    println!();
    // ANCHOR_END: main
    Ok(())
}
