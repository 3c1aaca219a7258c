//! Where an actor's first run happens: inside the spawn on one of the runtime's workers (its
//! `init`'s future and first cycle, until it waits), queued when the spawn comes from another
//! thread or from such a first run itself, and what a panic there stops.
//!
//! Every wait is bounded ([`HANG`]) and none stands in for synchronisation: the checks made right
//! after a spawn hold because of where the first run happens, not because of timing.

mod support;

use std::future::Future;
use std::sync::mpsc;

use actor12::Call;
use actor12::prelude::*;
use actor12::rt::current_worker;
use support::{HANG, actor};

fn runtime(workers: usize) -> actor12::rt::Runtime {
    actor12::rt::Runtime::builder().worker_threads(workers).build().unwrap()
}

/// An actor whose `init` future reports the worker and thread it runs on.
struct Reports;

/// What [`Reports`] reports from its `init` future.
type Where = (Option<usize>, std::thread::ThreadId);

actor!(Reports, spec = mpsc::Sender<Where>, cancel = (), init_future = |ctx| {
    let report = ctx.spec;
    async move {
        let _ = report.send((current_worker(), std::thread::current().id()));
        Ok(Reports)
    }
});

#[test]
fn an_actor_spawned_on_a_worker_has_run_its_init_future_when_spawn_returns() {
    let rt = runtime(2);
    let (spawner, init) = rt
        .block_on(rt.spawn(async {
            let (report, reported) = mpsc::channel();
            let link = actor12::spawn::<Reports>(report);
            // Not a wait: the first run happened inside the spawn, or it did not.
            let init = reported.try_recv().expect("init's future ran inside the spawn");
            assert!(link.alive());
            ((current_worker(), std::thread::current().id()), init)
        }))
        .unwrap();
    assert!(spawner.0.is_some(), "the spawning task ran on a worker");
    assert_eq!(init, spawner, "init's future ran on the spawner's worker and thread");
}

#[test]
fn every_spawn_in_a_run_starts_its_actor_inside_the_spawn() {
    // The mark that keeps a first run from nesting another is cleared when the run ends, after
    // a panic in it too: the third spawn still runs its actor at once.
    support::quiet_booms();
    let rt = runtime(1);
    rt.block_on(rt.spawn(async {
        for panicking_between in [false, true] {
            if panicking_between {
                drop(actor12::spawn::<PanicsInInit>(()));
            }
            let (report, reported) = mpsc::channel();
            drop(actor12::spawn::<Reports>(report));
            reported.try_recv().expect("init's future ran inside the spawn");
        }
    }))
    .unwrap();
}

#[test]
fn an_actor_spawned_off_the_workers_runs_its_init_future_on_a_worker() {
    let rt = runtime(2);
    let (report, reported) = mpsc::channel();
    let link = rt.block_on(async { actor12::spawn::<Reports>(report) });
    let (worker, thread) = reported.recv_timeout(HANG).expect("init's future ran");
    assert!(worker.is_some(), "init's future ran on a worker");
    assert_ne!(thread, std::thread::current().id(), "not on the spawning thread");
    drop(link);
}

/// Spawns a [`Reports`] in its `init` future, and reports whether that one's `init` future had
/// run when the spawn returned.
struct SpawnsInInit;

actor!(SpawnsInInit, spec = (mpsc::Sender<bool>, mpsc::Sender<Where>), cancel = (),
    init_future = |ctx| {
        let (ran_at_once, child_report) = ctx.spec;
        async move {
            let (report, reported) = mpsc::channel();
            drop(actor12::spawn::<Reports>(report));
            let _ = ran_at_once.send(reported.try_recv().is_ok());
            // Passes the child's report on once it comes (the child runs after this run ends).
            std::thread::spawn(move || {
                if let Ok(r) = reported.recv_timeout(HANG) {
                    let _ = child_report.send(r);
                }
            });
            Ok(SpawnsInInit)
        }
    }
);

#[test]
fn a_spawn_inside_a_first_run_queues_the_new_actor() {
    // One level only, so that a chain of spawns cannot grow the stack: the parent's first run
    // happens inside the task's spawn, and the child it spawns there is queued.
    let rt = runtime(1);
    let (ran_at_once, ran) = mpsc::channel();
    let (child_report, child_reported) = mpsc::channel();
    let parent = rt
        .block_on(
            rt.spawn(async move { actor12::spawn::<SpawnsInInit>((ran_at_once, child_report)) }),
        )
        .unwrap();
    assert_eq!(ran.recv_timeout(HANG), Ok(false), "the child's init ran inside its spawn");
    let (worker, _) = child_reported.recv_timeout(HANG).expect("the queued child ran");
    assert_eq!(worker, Some(0));
    drop(parent);
}

/// Spawns the next link of a chain in its `init` future until `left` is 0, then reports.
struct Chain;

actor!(Chain, spec = (u64, mpsc::Sender<()>), cancel = (), init_future = |ctx| {
    let (left, done) = ctx.spec;
    async move {
        match left {
            0 => done.send(()).expect("the test waits"),
            _ => drop(actor12::spawn::<Chain>((left - 1, done))),
        }
        Ok(Chain)
    }
});

#[test]
fn a_long_chain_of_spawns_in_init_futures_runs_to_its_end() {
    // Were every first run made inside the spawn before it, this chain of 20,000 would nest one
    // run per link on one worker's stack, and overflow it. Scaled down (Miri, valgrind) it
    // would not: there the test above shows the rule.
    let rt = runtime(2);
    let (done, finished) = mpsc::channel();
    let links = support::scaled(20_000, 100);
    let first = rt.block_on(rt.spawn(async move { actor12::spawn::<Chain>((links, done)) }));
    finished.recv_timeout(HANG).expect("the chain's last actor ran");
    drop(first);
}

/// Panics in its `init` future.
struct PanicsInInit;

actor!(
    PanicsInInit,
    spec = (),
    cancel = (),
    init_future = |_ctx| async {
        panic!("boom: init's future");
        #[allow(unreachable_code)]
        Ok(PanicsInInit)
    }
);

#[test]
fn a_panic_in_a_first_run_inside_the_spawn_stops_only_the_new_actor() {
    support::quiet_booms();
    let rt = runtime(1);
    let spawner_went_on = rt
        .block_on(rt.spawn(async {
            let link = actor12::spawn::<PanicsInInit>(());
            // The panic was caught in the actor's run, inside the spawn: it has stopped.
            assert!(!link.alive(), "the actor whose init panicked is stopped");
            link.wait().await;
            true
        }))
        .expect("the spawning task did not panic");
    assert!(spawner_went_on);
}

/// Whom [`SpawnsInCrash`]'s `crash` hands the actor it spawns to.
static SURVIVOR: std::sync::Mutex<Option<mpsc::Sender<Link<Reports>>>> =
    std::sync::Mutex::new(None);

/// Panics in its `init` future; its `crash` spawns a [`Reports`] and hands it to [`SURVIVOR`].
struct SpawnsInCrash;

actor!(
    SpawnsInCrash,
    spec = (),
    cancel = (),
    init_future = |_ctx| async {
        panic!("boom: init's future, before a crash that spawns");
        #[allow(unreachable_code)]
        Ok(SpawnsInCrash)
    },
    extra = {
        fn crash(_: Box<dyn std::any::Any + Send>) -> impl Future<Output = ()> + Send {
            let (report, _) = mpsc::channel();
            let survivor = actor12::spawn::<Reports>(report);
            let out = SURVIVOR.lock().unwrap().take().expect("the test set it");
            out.send(survivor).expect("the test waits");
            std::future::ready(())
        }
    }
);

/// Spawns a [`SpawnsInCrash`] in its handler.
struct Host;

actor!(Host, spec = (), cancel = (), init = |_ctx| Host);

struct SpawnOne;

impl Handler<SpawnOne> for Host {
    type Reply = anyhow::Result<()>;
    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: SpawnOne) -> Self::Reply {
        drop(actor12::spawn::<SpawnsInCrash>(()));
        Ok(())
    }
}

#[test]
fn an_actor_spawned_by_a_crash_inside_a_spawn_is_not_the_spawners_child() {
    // A first run made inside a handler's spawn runs the new actor's `crash` there. An actor
    // spawned in `crash` gets a root token, as it does when a worker runs the crash: it used to
    // take the handler's actor for its parent, and stop with it.
    support::quiet_booms();
    let (out, survivor) = mpsc::channel();
    *SURVIVOR.lock().unwrap() = Some(out);
    let rt = runtime(1);
    let host = rt.block_on(async { actor12::spawn::<Host>(()) });
    rt.block_on(host.ask_dyn(SpawnOne)).unwrap();
    let survivor = survivor.recv_timeout(HANG).expect("the crash spawned an actor");
    rt.block_on(host.cancel_and_wait(()));
    assert!(!survivor.token().is_cancelled(), "the crash's actor stopped with the handler's");
    assert!(survivor.alive());
}

/// Drops a reply slot's sender while a panic it catches unwinds (so the slot closes at the end
/// of the run), then spawns a [`Reports`], whose first run happens inside the spawn: nested in
/// this run.
struct Defers;

actor!(Defers, spec = (), cancel = (), init = |_ctx| Defers);

struct DeferThenSpawn;

/// Whether the slot was open before the spawn, whether the spawned actor's first run happened
/// inside it, whether the slot was still open after it, and the slot's receiver.
type Seen = (bool, bool, bool, actor12::oneshot::Receiver<u32>);

impl Handler<DeferThenSpawn> for Defers {
    type Reply = anyhow::Result<Seen>;
    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: DeferThenSpawn) -> Self::Reply {
        let (tx, mut rx) = actor12::oneshot::channel::<u32>();
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
            let _tx = tx;
            panic!("boom");
        }));
        let empty = Err(actor12::oneshot::TryRecvError::Empty);
        let open_before = rx.try_recv() == empty;
        let (report, reported) = mpsc::channel();
        drop(actor12::spawn::<Reports>(report));
        let nested = reported.try_recv().is_ok();
        let open_after = rx.try_recv() == empty;
        Ok((open_before, nested, open_after, rx))
    }
}

#[test]
fn a_first_run_nested_in_a_handler_leaves_the_handlers_deferred_slots_to_its_run() {
    // A sender dropped by a panic inside an actor's run resolves its receiver when that run
    // ends. The first run of an actor spawned in a handler is nested in the handler's run, and
    // its end closed the handler's deferred slots too, in the middle of the handler (found by a
    // review on 2026-12-06).
    support::quiet_booms();
    let rt = runtime(1);
    // Spawned from outside the workers: its first run is queued, and a spawn in it nests.
    let actor = rt.block_on(async { actor12::spawn::<Defers>(()) });
    let (open_before, nested, open_after, rx) =
        rt.block_on(actor.ask_dyn(DeferThenSpawn)).expect("the handler answers");
    assert!(open_before, "the slot waits for the end of the run");
    assert!(nested, "the spawned actor's first run happened inside the spawn");
    assert!(open_after, "the nested run closed a slot of the run it was nested in");
    // The handler's run has ended since: the slot is closed.
    assert_eq!(rt.block_on(rx), Err(actor12::oneshot::RecvError));
}
