//! The `tokio` feature and the default runtime's one configuration: an actor spawned on a
//! runtime of the user's leaves it free. A binary of its own, so that nothing else starts the
//! default runtime first. Run with `cargo test -p actor12 --features tokio --test
//! tokio_default` (CI does).
#![cfg(feature = "tokio")]

mod support;

use actor12::prelude::*;
use support::actor;

struct Named;

actor!(Named, spec = (), cancel = (), init = |_ctx| Named);

struct ThreadName;

impl Handler<ThreadName> for Named {
    type Reply = anyhow::Result<String>;
    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: ThreadName) -> Self::Reply {
        Ok(std::thread::current().name().unwrap_or_default().to_owned())
    }
}

#[test]
fn an_actor_on_the_users_runtime_leaves_the_default_configuration_free() {
    let rt = actor12::rt::Runtime::builder().worker_threads(1).build().unwrap();
    let mine = rt.block_on(async { actor12::spawn::<Named>(()).ask_dyn(ThreadName).await });
    assert!(mine.unwrap().starts_with("actor12-"));
    // It used to take the slot for the tokio bridge, and this returned false.
    assert!(actor12::rt::configure_default(|b| {
        b.thread_name("app-worker").on_thread_start(actor12::tokio_bridge::on_thread_start);
    }));
    let default = actor12::rt::Handle::current_or_default();
    let name = default.block_on(actor12::spawn::<Named>(()).ask_dyn(ThreadName)).unwrap();
    assert!(name.starts_with("app-worker"), "{name}");
}
