//! The `tokio` feature, when the default runtime is started by the timer of a timed ask rather
//! than by `spawn`: it gets the bridge all the same. A binary of its own, so that nothing else
//! starts the default runtime first. Run with `cargo test -p actor12 --features tokio --test
//! tokio_default_timeout`.
#![cfg(feature = "tokio")]

use std::time::Duration;

mod support;

use actor12::HandlerMessage;
use actor12::prelude::*;
use support::actor;

struct Echo;

actor!(Echo, spec = (), cancel = (), init = |_ctx| Echo);

struct Ping;

impl Handler<Ping> for Echo {
    type Reply = anyhow::Result<()>;
    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Ping) -> Self::Reply {
        Ok(())
    }
}

/// An actor on a runtime of the user's, asked with a timeout from a tokio task: the timer is
/// the first use of the default runtime. Its plain tasks and blocking closures used to run
/// outside any tokio context (the bridge is configured only on the way to an actor's spawn), so
/// tokio code in them panicked, as it does not when an actor starts that runtime.
#[tokio::test(flavor = "current_thread")]
async fn a_timed_ask_that_starts_the_default_runtime_brings_the_tokio_bridge() {
    let rt = actor12::rt::Runtime::builder().worker_threads(1).build().unwrap();
    let link = rt.block_on(async { actor12::spawn::<Echo>(()) });
    let reply = link.send_with_timeout(HandlerMessage::new(Ping), Duration::from_secs(60)).await;
    assert!(reply.unwrap().is_ok());
    let in_tokio = || tokio::runtime::Handle::try_current().is_ok();
    let task = actor12::rt::spawn(async move { in_tokio() }).await.unwrap();
    let blocking = actor12::rt::spawn_blocking(in_tokio).await.unwrap();
    assert!(task && blocking, "the default runtime started without the bridge");
    drop(rt);
}
