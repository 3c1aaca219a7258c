//! The lifecycle when user code misbehaves: panics in every hook, `init` refusing or never
//! finishing, a `terminate` that spawns, an actor dropping its own last link, a runtime dropped
//! while actors are mid-init, mid-handler or mid-terminate. Every test checks what a user relies
//! on: askers get errors, `wait()` resolves, `terminate` runs at most once, the actor is dropped
//! once, and the live count returns to where it started.
//!
//! Hangs are detected with bounded waits, never with sleeps standing in for synchronisation.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, mpsc};
use std::time::Duration;

use actor12::Multi;
use actor12::prelude::*;

const HANG: Duration = Duration::from_secs(if cfg!(miri) { 600 } else { 5 });

fn runtime(workers: usize) -> actor12::rt::Runtime {
    actor12::rt::Runtime::builder().worker_threads(workers).build().unwrap()
}

/// Live instances of `A` now.
fn live<A: 'static>() -> usize {
    actor12::count::stats::<A>().live
}

/// Counts its drops (and says so on a channel).
#[derive(Clone)]
struct Drops(Arc<AtomicUsize>, mpsc::Sender<()>);

impl Drops {
    fn new() -> (Drops, Arc<AtomicUsize>, mpsc::Receiver<()>) {
        let n = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = mpsc::channel();
        (Drops(n.clone(), tx), n, rx)
    }
}

struct DropGuard(Drops);
impl Drop for DropGuard {
    fn drop(&mut self) {
        self.0.0.fetch_add(1, SeqCst);
        let _ = self.0.1.send(());
    }
}

// ---------------------------------------------------------------------------------------------
// A panic in the synchronous part of `init`: the spawner sees it; the half-built actor is gone,
// and so are the actors its `init` spawned, as when `init`'s future panics.

/// Keeps itself alive (its own link) and its parent's link; says when it is dropped.
struct Orphan {
    _me: Link<Orphan>,
    _parent: Link<SyncInitPanic>,
    _guard: DropGuard,
}
impl Actor for Orphan {
    type Message = Multi<Self>;
    type Spec = (Link<SyncInitPanic>, Drops);
    type Channel = actor12::MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();
    fn state(_: &Self::Spec) {}
    fn init(ctx: actor12::Init<'_, Self>) -> impl actor12::InitFuture<Self> {
        let (parent, drops) = ctx.spec;
        std::future::ready(Ok(Orphan { _me: ctx.link, _parent: parent, _guard: DropGuard(drops) }))
    }
}

struct SyncInitPanic;
impl Actor for SyncInitPanic {
    type Message = Multi<Self>;
    type Spec = (Drops, Drops);
    type Channel = actor12::MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();
    fn state(_: &Self::Spec) {}
    fn init(ctx: actor12::Init<'_, Self>) -> impl actor12::InitFuture<Self> {
        let (spec_drops, child_drops) = ctx.spec;
        let _spec = DropGuard(spec_drops);
        let _child = actor12::spawn::<Orphan>((ctx.link.clone(), child_drops));
        panic!("init panics (expected by the test)");
        #[allow(unreachable_code)]
        std::future::ready(Ok(SyncInitPanic))
    }
}

#[test]
fn a_panic_in_inits_body_stops_the_actors_it_spawned() {
    let rt = runtime(2);
    let (spec_drops, spec_n, _) = Drops::new();
    let (child_drops, child_n, child_dropped) = Drops::new();
    let before = live::<SyncInitPanic>();
    let spawned = rt.block_on(async {
        catch_unwind(AssertUnwindSafe(|| {
            actor12::spawn::<SyncInitPanic>((spec_drops, child_drops))
        }))
        .is_err()
    });
    assert!(spawned, "the panic in init did not reach the spawner");
    assert_eq!(spec_n.load(SeqCst), 1, "the spec was not dropped once");
    assert_eq!(live::<SyncInitPanic>(), before, "the half-built actor is still counted");
    child_dropped
        .recv_timeout(HANG)
        .expect("an actor spawned by init outlived its parent whose init panicked");
    assert_eq!(child_n.load(SeqCst), 1);
}
