//! The `tokio` feature: tokio's timers and context inside actors, whichever way their worker
//! thread's runtime was started. Run with `cargo test -p actor12 --features tokio --test
//! tokio_bridge` (CI does).
#![cfg(feature = "tokio")]

use std::time::Duration;

mod support;

use actor12::Call;
use actor12::prelude::*;
use support::actor;

/// Sleeps on tokio's timer, and says whether its thread is in a tokio context.
struct TokioUser;

actor!(TokioUser, spec = (), cancel = (), init = |_ctx| TokioUser);

struct SleepWithTokio;

impl Handler<SleepWithTokio> for TokioUser {
    type Reply = anyhow::Result<bool>;
    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: SleepWithTokio) -> Self::Reply {
        let in_tokio = tokio::runtime::Handle::try_current().is_ok();
        if in_tokio {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        Ok(in_tokio)
    }
}

/// Actors get a tokio context on a worker whose runtime started without the bridge: the default
/// runtime started by a plain task before any actor (the bridge's configuration came too late
/// for it), and a runtime built without `on_thread_start`. Their workers used to run actors
/// outside any tokio context. Nothing else in this process may use the default runtime, or
/// it could start first.
#[test]
fn actors_get_tokio_on_runtimes_started_without_the_bridge() {
    let default = actor12::rt::Handle::current_or_default();
    assert_eq!(default.block_on(actor12::rt::spawn(async { 1 })).unwrap(), 1);
    let actor = actor12::spawn::<TokioUser>(());
    let answer = default.block_on(actor.ask_dyn(SleepWithTokio));
    assert!(answer.unwrap(), "on the default runtime, the actor's worker had no tokio context");

    let rt = actor12::rt::Runtime::builder().worker_threads(2).build().unwrap();
    let answer =
        rt.block_on(async { actor12::spawn::<TokioUser>(()).ask_dyn(SleepWithTokio).await });
    assert!(answer.unwrap(), "on a runtime of its own, the actor's worker had no tokio context");
}

/// On a runtime built with the bridge's hook, plain tasks and blocking closures are in the tokio
/// context too, not only actors. (This runtime is built, so the default one is not touched.)
#[test]
fn tasks_and_blocking_closures_get_tokio_on_a_runtime_built_with_the_hook() {
    let rt = actor12::rt::Runtime::builder()
        .worker_threads(2)
        .on_thread_start(actor12::tokio_bridge::on_thread_start)
        .build()
        .unwrap();
    let in_tokio = || tokio::runtime::Handle::try_current().is_ok();
    rt.block_on(async move {
        assert!(actor12::rt::spawn(async move { in_tokio() }).await.unwrap());
        let slept = actor12::rt::spawn_blocking(move || {
            tokio::runtime::Handle::current()
                .block_on(tokio::time::sleep(Duration::from_millis(1)));
            in_tokio()
        });
        assert!(slept.await.unwrap(), "a blocking closure had no tokio context");
    });
}

/// Starts a background task that sleeps on tokio's timer, then reports.
struct WithBackground;

actor!(WithBackground, spec = std::sync::mpsc::Sender<bool>, cancel = (), init = |ctx| {
    let done = ctx.spec.clone();
    ctx.tasks.spawn(async move {
        let in_tokio = tokio::runtime::Handle::try_current().is_ok();
        if in_tokio {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let _ = done.send(in_tokio);
    });
    WithBackground
});

/// An actor's background tasks get the tokio context as the actor does, on a runtime built
/// without the hook too (they used to panic there: no reactor running).
#[test]
fn an_actors_background_tasks_get_tokio_on_a_runtime_built_without_the_hook() {
    let rt = actor12::rt::Runtime::builder().worker_threads(2).build().unwrap();
    let (done_tx, done) = std::sync::mpsc::channel();
    let _actor = rt.block_on(async { actor12::spawn::<WithBackground>(done_tx) });
    let in_tokio = done.recv_timeout(Duration::from_secs(10)).expect("the task reported");
    assert!(in_tokio, "the background task had no tokio context");
}

/// A worker whose first actor is spawned inside a scoped tokio context of the spawner's (a
/// `Handle::enter` guard, to build a tokio object for the spec, say) still enters the side
/// runtime when its actors run. It used to take that context for its own and never look again:
/// every actor on that worker ran outside any tokio context.
#[test]
fn a_scoped_tokio_context_at_a_workers_first_spawn_does_not_cost_it_the_bridge() {
    let rt = actor12::rt::Runtime::builder().worker_threads(1).build().unwrap();
    let users = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let users = users.handle().clone();
    let first = rt
        .block_on(rt.spawn(async move {
            let _scope = users.enter();
            actor12::spawn::<TokioUser>(())
        }))
        .unwrap();
    let answers = rt.block_on(async {
        let second = actor12::spawn::<TokioUser>(());
        (
            first.ask_dyn(SleepWithTokio).await.unwrap(),
            second.ask_dyn(SleepWithTokio).await.unwrap(),
        )
    });
    assert_eq!(answers, (true, true), "actors on this worker ran outside any tokio context");
}

/// Sends the flavour of the tokio runtime its `init` future runs in.
struct SaysFlavour;

actor!(SaysFlavour, spec = std::sync::mpsc::Sender<Option<tokio::runtime::RuntimeFlavor>>,
    cancel = (), init_future = |ctx| {
        let say = ctx.spec;
        async move {
            let flavour = tokio::runtime::Handle::try_current().ok().map(|h| h.runtime_flavor());
            let _ = say.send(flavour);
            Ok(SaysFlavour)
        }
    }
);

/// An actor spawned on a worker makes its first run inside the spawn; spawned inside a scoped
/// tokio context of the spawner's, that run still gets the worker's own context (the bridge's
/// multi-threaded side runtime), not the spawner's current-thread one, which the actor may
/// outlive.
#[test]
fn an_actor_started_inside_a_scoped_tokio_context_runs_in_the_workers_own() {
    let rt = actor12::rt::Runtime::builder().worker_threads(1).build().unwrap();
    // A first actor, so that the worker has looked at its tokio context.
    let first = rt.block_on(async { actor12::spawn::<TokioUser>(()) });
    assert!(rt.block_on(first.ask_dyn(SleepWithTokio)).unwrap());
    let users = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let users = users.handle().clone();
    let (say, said) = std::sync::mpsc::channel();
    let flavour = rt
        .block_on(rt.spawn(async move {
            let _scope = users.enter();
            let actor = actor12::spawn::<SaysFlavour>(say);
            (said.try_recv().expect("init's future ran inside the spawn"), actor)
        }))
        .unwrap()
        .0;
    assert_eq!(flavour, Some(tokio::runtime::RuntimeFlavor::MultiThread));
}

/// Starts async clean-up with `tokio::spawn` when dropped; says whether it could.
/// Reports, as it is dropped, whether it had a tokio context to clean up in.
struct CleanUpGuard(std::sync::mpsc::Sender<&'static str>);

impl Drop for CleanUpGuard {
    fn drop(&mut self) {
        if tokio::runtime::Handle::try_current().is_err() {
            let _ = self.0.send("dropped outside any tokio context");
            return;
        }
        let done = self.0.clone();
        tokio::spawn(async move {
            let _ = done.send("cleaned up");
        });
    }
}

struct CleansUpWithTokio(#[allow(dead_code, reason = "dropped with the actor")] CleanUpGuard);

actor!(
    CleansUpWithTokio,
    spec = std::sync::mpsc::Sender<&'static str>,
    cancel = (),
    init = |ctx| CleansUpWithTokio(CleanUpGuard(ctx.spec))
);

impl Handler<SleepWithTokio> for CleansUpWithTokio {
    type Reply = anyhow::Result<bool>;
    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: SleepWithTokio) -> Self::Reply {
        Ok(tokio::runtime::Handle::try_current().is_ok())
    }
}

/// An actor alive when its runtime is dropped is torn down on the dropping thread: its
/// destructors get the side runtime's context there, as its runs had on the workers (with the
/// bridge's hook or without). They had none: `tokio::spawn` in a `Drop` panicked.
#[test]
fn an_actor_torn_down_at_shutdown_gets_the_bridge_on_the_dropping_thread() {
    for hook in [false, true] {
        let mut builder = actor12::rt::Runtime::builder();
        builder.worker_threads(1);
        if hook {
            builder.on_thread_start(actor12::tokio_bridge::on_thread_start);
        }
        let rt = builder.build().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let actor = rt.block_on(async {
            let actor = actor12::spawn::<CleansUpWithTokio>(tx);
            assert!(actor.ask_dyn(SleepWithTokio).await.unwrap());
            actor
        });
        drop(rt);
        assert_eq!(rx.recv_timeout(support::HANG).unwrap(), "cleaned up", "hook: {hook}");
        drop(actor);
    }
}

/// Keeps a background task waiting for good, with a [`CleanUpGuard`] in it.
struct WaitsInBackground;

actor!(WaitsInBackground, spec = std::sync::mpsc::Sender<&'static str>, cancel = (), init = |ctx| {
    let guard = CleanUpGuard(ctx.spec.clone());
    ctx.tasks.spawn(async move {
        let _guard = guard;
        std::future::pending::<()>().await
    });
    WaitsInBackground
});

/// An actor's background task alive when its runtime is dropped is dropped on the dropping
/// thread, before its actor or by the actor's teardown, whichever the shutdown reaches first:
/// either way inside the side runtime's context, as the actor is. A task reached first had
/// none. With 32 actors, each order comes up.
#[test]
fn an_actors_background_task_dropped_at_shutdown_gets_the_bridge_on_the_dropping_thread() {
    const ACTORS: usize = 32;
    let rt = actor12::rt::Runtime::builder().worker_threads(1).build().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    // `init` runs in the spawn: each background task exists once its spawn returns.
    let actors: Vec<_> = rt.block_on(async {
        (0..ACTORS).map(|_| actor12::spawn::<WaitsInBackground>(tx.clone())).collect()
    });
    drop(rt);
    for _ in 0..ACTORS {
        assert_eq!(rx.recv_timeout(support::HANG).unwrap(), "cleaned up");
    }
    drop(actors);
}
