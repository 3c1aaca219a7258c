//! The `tokio` feature, when the default runtime is started by `MessageHandle::forward_to`
//! rather than by `spawn`: it gets the bridge all the same. A binary of its own, so that nothing
//! else starts the default runtime first. Run with `cargo test -p actor12 --features tokio
//! --test tokio_default_forward`.
#![cfg(feature = "tokio")]

mod support;

use actor12::prelude::*;
use actor12::{HandlerMessage, MessageError, oneshot};
use support::actor;

struct Echo;

actor!(Echo, spec = (), cancel = (), init = |_ctx| Echo);

struct Ping;

impl Handler<Ping> for Echo {
    type Reply = anyhow::Result<u32>;
    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Ping) -> Self::Reply {
        Ok(7)
    }
}

/// Passes the first outcome it is forwarded on.
struct Inbox(Option<oneshot::Sender<u32>>);

actor!(Inbox, spec = oneshot::Sender<u32>, cancel = (), init = |ctx| Inbox(Some(ctx.spec)));

type Outcome = Result<anyhow::Result<u32>, MessageError>;

impl Handler<Outcome> for Inbox {
    type Reply = anyhow::Result<()>;
    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, outcome: Outcome) -> Self::Reply {
        if let Some(tx) = self.0.take() {
            let _ = tx.send(outcome??);
        }
        Ok(())
    }
}

/// Actors on a runtime of the user's, a reply forwarded from a tokio task: the forwarding task
/// is the first use of the default runtime. Its plain tasks and blocking closures used to run
/// outside any tokio context (the bridge is configured only on the way to an actor's spawn).
#[tokio::test(flavor = "current_thread")]
async fn a_forward_that_starts_the_default_runtime_brings_the_tokio_bridge() {
    let rt = actor12::rt::Runtime::builder().worker_threads(1).build().unwrap();
    let (tx, rx) = oneshot::channel();
    let (echo, inbox) =
        rt.block_on(async { (actor12::spawn::<Echo>(()), actor12::spawn::<Inbox>(tx)) });
    echo.send_message(HandlerMessage::new(Ping)).await.forward_to(&inbox);
    assert_eq!(rx.await.unwrap(), 7);
    let in_tokio = || tokio::runtime::Handle::try_current().is_ok();
    let task = actor12::rt::spawn(async move { in_tokio() }).await.unwrap();
    let blocking = actor12::rt::spawn_blocking(in_tokio).await.unwrap();
    assert!(task && blocking, "the default runtime started without the bridge");
    drop(rt);
}
