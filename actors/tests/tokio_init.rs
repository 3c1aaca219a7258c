//! The `tokio` feature and the body of an actor's `init`, which its spawner runs: it gets the
//! tokio context the actor's runs get, whoever spawns it. Run with `cargo test -p actor12
//! --features tokio --test tokio_init` (CI does).
#![cfg(feature = "tokio")]

use std::time::Duration;

mod support;

use actor12::Call;
use actor12::prelude::*;
use support::actor;

/// Makes its tokio interval in `init`'s body, as `std::future::ready(Ok(..))` inits do.
struct Ticker(tokio::time::Interval);

actor!(
    Ticker,
    spec = (),
    cancel = (),
    init = |_ctx| Ticker(tokio::time::interval(Duration::from_millis(1)))
);

struct Tick;

impl Handler<Tick> for Ticker {
    type Reply = anyhow::Result<()>;
    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Tick) -> Self::Reply {
        self.0.tick().await;
        self.0.tick().await;
        Ok(())
    }
}

/// Spawned outside any tokio context (a plain thread, `block_on`, a plain task on a worker that
/// has run no actor yet), `init`'s body panicked in the spawner: no reactor running.
#[test]
fn init_gets_tokio_when_its_spawner_has_none() {
    let ticker = actor12::spawn::<Ticker>(());
    let answer = support::resolves_within(async move { ticker.ask_dyn(Tick).await });
    assert!(answer.expect("the ask hung").is_ok(), "from a plain thread");

    let rt = actor12::rt::Runtime::builder().worker_threads(1).build().unwrap();
    let answer = rt.block_on(async { actor12::spawn::<Ticker>(()).ask_dyn(Tick).await });
    assert!(answer.is_ok(), "from `block_on` of a runtime built without the hook");
    // A worker of a fresh runtime: it has run no actor, so it has not entered the side runtime.
    let rt = actor12::rt::Runtime::builder().worker_threads(1).build().unwrap();
    let task = rt.spawn(async { actor12::spawn::<Ticker>(()).ask_dyn(Tick).await });
    assert!(rt.block_on(task).unwrap().is_ok(), "from a plain task");
}

/// A tokio runtime spawns an actor and is dropped, as each `#[tokio::test]`'s is, and the actor
/// lives on (kept in a static, say). Its interval was made in the first runtime's context, and
/// the next ask, from a second runtime, panicked the actor: "A Tokio 1.x context was found, but
/// it is being shutdown"; the asker got an error.
#[test]
fn init_outlives_the_tokio_runtime_that_spawned_its_actor() {
    let first = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let ticker = first.block_on(async {
        let ticker = actor12::spawn::<Ticker>(());
        ticker.ask_dyn(Tick).await.unwrap();
        ticker
    });
    drop(first);
    let second = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let answer = second.block_on(async { ticker.ask_dyn(Tick).await });
    assert!(answer.is_ok(), "the actor's interval died with the first tokio runtime");
}

/// Keeps a tokio interval in its `State`, made by `state` in `spawn`'s caller.
struct TickerState;

impl Actor for TickerState {
    type Message = actor12::Multi<Self>;
    type Spec = ();
    type Channel = actor12::MpscChannel<Self::Message>;
    type Cancel = ();
    type State = std::sync::Arc<tokio::sync::Mutex<tokio::time::Interval>>;

    fn state(_: &()) -> Self::State {
        let interval = tokio::time::interval(Duration::from_millis(1));
        std::sync::Arc::new(tokio::sync::Mutex::new(interval))
    }

    fn init(_: Init<'_, Self>) -> impl InitFuture<Self> {
        std::future::ready(Ok(TickerState))
    }
}

/// `state`, like `init`'s body, runs in `spawn`'s caller, and gets the same tokio context: from
/// `block_on` on a plain thread it panicked there (no reactor running).
#[test]
fn state_gets_tokio_when_its_spawner_has_none() {
    let rt = actor12::rt::Runtime::builder().worker_threads(1).build().unwrap();
    let ticked = rt.block_on(async {
        let actor = actor12::spawn::<TickerState>(());
        let state = actor.state().clone();
        let mut interval = state.lock().await;
        interval.tick().await;
        interval.tick().await;
        actor.alive()
    });
    assert!(ticked);
}

/// A `Proxy`'s outer link gets its state from the same `state`, in `Proxy::new`'s caller, and
/// the same tokio context: there it ran in the caller's (none, on a plain thread or in
/// `block_on`: it panicked; a `#[tokio::test]`'s otherwise), found by a review on 2026-12-06.
#[test]
fn a_proxys_state_gets_tokio_when_its_maker_has_none() {
    let rt = actor12::rt::Runtime::builder().worker_threads(1).build().unwrap();
    let ticked = rt.block_on(async {
        let (proxy, link) = actor12::Proxy::<TickerState>::new(());
        proxy.init();
        let state = link.state().clone();
        let mut interval = state.lock().await;
        interval.tick().await;
        interval.tick().await;
        link.alive()
    });
    assert!(ticked);
    // And from a plain thread, outside any runtime.
    let (proxy, link) = actor12::Proxy::<TickerState>::new(());
    proxy.init();
    assert!(link.alive());
}

/// An actor that answers at once: run on a worker, it makes that worker look at its tokio
/// context.
struct Plain;

actor!(Plain, spec = (), cancel = (), init = |_ctx| Plain);

struct Ping;

impl Handler<Ping> for Plain {
    type Reply = anyhow::Result<()>;
    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Ping) -> Self::Reply {
        Ok(())
    }
}

/// Spawned on a worker that has run an actor, by code inside a scoped tokio context of its own
/// (a `Handle::enter` guard, of a runtime that nobody drives): `init`'s body ran in that scoped
/// context, so its interval belonged to that runtime and the ask hung (and once that runtime
/// was dropped, the actor panicked), found by a review on 2026-12-07. It gets the context of
/// the worker's actor runs, as the actor's first run inside the spawn does.
#[test]
fn init_on_a_worker_gets_the_workers_context_over_a_scoped_one_of_its_spawner() {
    let rt = actor12::rt::Runtime::builder().worker_threads(1).build().unwrap();
    let first = rt.block_on(async { actor12::spawn::<Plain>(()) });
    rt.block_on(first.ask_dyn(Ping)).unwrap(); // the worker has run an actor
    let undriven = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let scope = undriven.handle().clone();
    let ticker = rt
        .block_on(rt.spawn(async move {
            let _scoped = scope.enter();
            actor12::spawn::<Ticker>(())
        }))
        .unwrap();
    let asking = ticker.clone();
    let answer = support::resolves_within(async move { asking.ask_dyn(Tick).await });
    drop(undriven);
    assert!(answer.expect("the ask hung").is_ok());
    let answer = support::resolves_within(async move { ticker.ask_dyn(Tick).await });
    assert!(answer.expect("the ask hung").is_ok(), "after the scoped runtime was dropped");
}
