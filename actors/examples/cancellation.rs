//! Cancellation: tokens and their subtrees, stop reasons, and how an actor stops.
//!
//! ```text
//! cargo run -p actor12 --example cancellation
//! ```

// ANCHOR: imports
use actor12::ActorContext;
use actor12::cancel::{CancelReason, CancelToken};
use actor12::oneshot;
use actor12::prelude::*;
// ANCHOR_END: imports

// ANCHOR: reason
/// Why a `Worker` stopped: the actor's `Cancel` type. `Default` is the reason used when the
/// last link is dropped.
#[derive(Debug, Clone, Default, PartialEq)]
enum Stop {
    #[default]
    Dropped,
    Shutdown,
    Failed(String),
}
// ANCHOR_END: reason

// ANCHOR: actor
/// Reports the reason it stopped for through `report`.
struct Worker {
    report: oneshot::Sender<Stop>,
}

/// Makes the worker stop itself with `Stop::Failed`.
struct Fail(&'static str);

impl Actor for Worker {
    type Message = Multi<Self>;
    type Spec = oneshot::Sender<Stop>;
    type Channel = MpscChannel<Self::Message>;
    type Cancel = Stop;
    type State = ();

    fn state(_: &oneshot::Sender<Stop>) {}

    fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
        std::future::ready(Ok(Worker { report: ctx.spec }))
    }

    // Runs once, after the actor stopped, with the reason.
    async fn terminate(self, _: ActorContext<Self>, reason: CancelReason<Stop>) {
        let _ = self.report.send(reason.into_value());
    }
}

impl Handler<Fail> for Worker {
    type Reply = anyhow::Result<()>;

    async fn handle(&mut self, ctx: Call<'_, Self, Self::Reply>, msg: Fail) -> Self::Reply {
        // An actor stops itself by cancelling its own token; it stops after this message.
        ctx.token.cancel(Stop::Failed(msg.0.to_string()));
        Ok(())
    }
}
// ANCHOR_END: actor

fn main() -> anyhow::Result<()> {
    // ANCHOR: tokens
    // Tokens form a tree: cancelling one cancels its whole subtree, and only that.
    let root: CancelToken<Stop> = CancelToken::new();
    let child = root.child();
    let grandchild = child.child();
    let sibling = root.child();
    child.cancel(Stop::Shutdown);
    println!(
        "root {}, child {}, grandchild {}, sibling {}",
        root.is_cancelled(),
        child.is_cancelled(),
        grandchild.is_cancelled(),
        sibling.is_cancelled()
    );
    // The reason travels down, and records where `cancel` was called.
    let reason = grandchild.reason().expect("cancelled");
    let file = std::path::Path::new(reason.location().file()).file_name();
    println!("grandchild's reason: {:?}, cancelled in {file:?}", reason.value());
    // ANCHOR_END: tokens

    let runtime = actor12::rt::Runtime::new()?;
    runtime.block_on(async {
        // ANCHOR: actors
        // Stop with a reason, and wait until the actor has stopped (`terminate` has run).
        let (report, stopped) = oneshot::channel();
        let a = actor12::spawn::<Worker>(report);
        a.cancel_and_wait(Stop::Shutdown).await;
        println!("a stopped: {:?}", stopped.await?);

        // The actor stops itself.
        let (report, stopped) = oneshot::channel();
        let b = actor12::spawn::<Worker>(report);
        b.ask_dyn(Fail("disk full")).await?;
        b.wait().await;
        println!("b stopped: {:?}", stopped.await?);

        // Dropping the last link stops the actor with the default reason.
        let (report, stopped) = oneshot::channel();
        let c = actor12::spawn::<Worker>(report);
        let token = c.token().clone();
        drop(c);
        let reason = token.cancelled().await; // a token can be awaited from any task
        println!("c's token was cancelled: {:?}", reason.value());
        println!("c stopped: {:?}", stopped.await?);
        // ANCHOR_END: actors
        Ok(())
    })
}
