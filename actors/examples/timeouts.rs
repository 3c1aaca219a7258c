//! Timeouts: a deadline on a reply, a reply that never blocks, and the runtime's timers.
//!
//! ```text
//! cargo run -p actor12 --example timeouts
//! ```

// ANCHOR: imports
use std::time::Duration;

use actor12::MessageError;
use actor12::oneshot;
use actor12::prelude::*;
// ANCHOR_END: imports

// ANCHOR: actor
/// Answers `Now` at once, and `Later` only when told to with `Release`.
struct Desk {
    parked: Vec<oneshot::Sender<anyhow::Result<&'static str>>>,
}

struct Now;
struct Later;
struct Release;

impl Actor for Desk {
    type Message = Multi<Self>;
    type Spec = ();
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();

    fn state(_: &()) {}

    fn init(_: Init<'_, Self>) -> impl InitFuture<Self> {
        std::future::ready(Ok(Desk { parked: Vec::new() }))
    }
}

impl Handler<Now> for Desk {
    type Reply = anyhow::Result<&'static str>;

    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Now) -> Self::Reply {
        Ok("now")
    }
}

impl Handler<Later> for Desk {
    type Reply = anyhow::Result<&'static str>;

    async fn handle(&mut self, mut ctx: Call<'_, Self, Self::Reply>, _: Later) -> Self::Reply {
        // Take the reply slot to answer later; what this handler returns is then discarded.
        self.parked.push(ctx.take_reply());
        Ok("discarded")
    }
}

impl Handler<Release> for Desk {
    type Reply = anyhow::Result<usize>;

    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Release) -> Self::Reply {
        let n = self.parked.len();
        for reply in self.parked.drain(..) {
            let _ = reply.send(Ok("later")); // the asker may have given up: ignore that
        }
        Ok(n)
    }
}
// ANCHOR_END: actor

fn main() -> anyhow::Result<()> {
    let runtime = actor12::rt::Runtime::new()?;
    runtime.block_on(async {
        let desk = actor12::spawn::<Desk>(());

        // ANCHOR: deadline
        // A deadline on both steps at once.
        let answer =
            desk.send_with_timeout(HandlerMessage::new(Now), Duration::from_secs(10)).await;
        println!("Now: {}", answer??);

        // A deadline set on the handle, before taking the reply. `Later` is never answered in
        // time, so the reply resolves to `MessageError::Timeout`.
        let handle = desk.send_message(HandlerMessage::new(Later)).await;
        match handle.timeout(Duration::from_millis(20)).reply().await {
            Err(MessageError::Timeout { timeout }) => {
                println!("Later: no reply within {timeout:?}")
            }
            other => println!("Later: unexpected {other:?}"),
        }
        // ANCHOR_END: deadline

        // ANCHOR: try_reply
        // `try_reply` never waits: `Ok(None)` means "not yet".
        let mut handle = desk.send_message(HandlerMessage::new(Later)).await;
        println!("try_reply before Release: {:?}", handle.try_reply()?.is_some());
        // Two are parked: this one, and the one that timed out above (its answer is dropped).
        let released = desk.send_and_reply(HandlerMessage::new(Release)).await??;
        println!("Release answered {released} parked request(s)");
        println!("reply after Release: {}", handle.reply().await??);
        // ANCHOR_END: try_reply

        // ANCHOR: timers
        // The runtime's timers: `sleep`, `timeout` (any future) and `interval`.
        actor12::time::sleep(Duration::from_millis(1)).await;
        let never = std::future::pending::<()>();
        let timed_out = actor12::time::timeout(Duration::from_millis(5), never).await.is_err();
        println!("a pending future under a 5 ms timeout timed out: {timed_out}");
        // ANCHOR_END: timers

        desk.cancel_and_wait(()).await;
        Ok(())
    })
}
