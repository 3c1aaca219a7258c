//! A `Proxy`'s incarnations run on the runtime its outer link runs on, wherever `init` and
//! `reset` are called: off any runtime (a plain thread, a test's main thread) they used to
//! start the incarnation on the process-wide default runtime instead, away from the relay.

use actor12::prelude::*;
use actor12::{Call, MpscChannel, Multi, Proxy};

/// Answers with the name of the thread its handler runs on.
struct Where;

/// Asks a [`Where`] for its thread's name.
struct Name;

impl Actor for Where {
    type Message = Multi<Self>;
    type Spec = ();
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();
    fn state(_: &()) {}
    fn init(_: Init<'_, Self>) -> impl InitFuture<Self> {
        std::future::ready(Ok(Where))
    }
}

impl Handler<Name> for Where {
    type Reply = anyhow::Result<String>;
    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Name) -> Self::Reply {
        Ok(std::thread::current().name().unwrap_or("(unnamed)").to_string())
    }
}

#[test]
fn init_and_reset_off_any_runtime_start_the_incarnation_on_the_outer_links_runtime() {
    let rt = actor12::rt::Runtime::builder()
        .worker_threads(1)
        .thread_name("proxy-home")
        .build()
        .unwrap();
    let (proxy, outer) = rt.block_on(async { Proxy::<Where>::new(()) });

    // This thread is on no runtime.
    assert!(actor12::rt::Handle::try_current().is_none());
    proxy.init();
    let first = proxy.current().expect("init started an incarnation");
    let name = rt.block_on(first.ask_dyn(Name)).expect("the incarnation answers");
    assert_eq!(name, "proxy-home-0", "init: the incarnation's worker");

    rt.block_on(proxy.shutdown());
    proxy.reset();
    let second = proxy.current().expect("reset started an incarnation");
    assert!(!first.alive() && second.alive(), "reset started a new incarnation");
    let name = rt.block_on(second.ask_dyn(Name)).expect("the new incarnation answers");
    assert_eq!(name, "proxy-home-0", "reset: the incarnation's worker");

    // Through the relay, too.
    let name = rt.block_on(outer.ask_dyn(Name)).expect("the outer link passes it on");
    assert_eq!(name, "proxy-home-0");
}
