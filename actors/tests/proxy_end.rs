//! When a `Proxy`'s outer link counts as stopped: only once every incarnation has, including
//! one a `reset` was starting as the outer link was cancelled; and a `reset` after that starts
//! nothing. Every wait is bounded ([`HANG`]).

mod support;

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use actor12::cancel::CancelReason;
use actor12::prelude::*;
use actor12::{ActorContext, Proxy};
use support::HANG;

/// What the test and the incarnations share: counts, and the points where an incarnation
/// waits for the test.
struct Gates {
    /// `init` calls so far.
    inits: AtomicUsize,
    /// Incarnations between their `init`'s future and the end of their `terminate`.
    running: AtomicUsize,
    /// The `init` call of this number (1 for the first) tells `init_entered`, then blocks its
    /// thread (the caller of `init` or `reset`) until `release_init` sends.
    hold_init: usize,
    init_entered: Mutex<mpsc::Sender<()>>,
    release_init: Mutex<mpsc::Receiver<()>>,
    /// With `hold_terminate`, each incarnation's `terminate` tells `terminating`, then waits
    /// for the next of `releases`.
    hold_terminate: bool,
    terminating: Mutex<mpsc::Sender<()>>,
    releases: Mutex<mpsc::Receiver<actor12::oneshot::Receiver<()>>>,
}

/// The test's ends of [`Gates`]' channels.
struct TestSide {
    init_entered: mpsc::Receiver<()>,
    release_init: mpsc::Sender<()>,
    terminating: mpsc::Receiver<()>,
    releases: mpsc::Sender<actor12::oneshot::Receiver<()>>,
}

impl TestSide {
    /// Lets the next `terminate` that waits (or will) finish.
    fn release_a_terminate(&self) {
        let (release, released) = actor12::oneshot::channel();
        self.releases.send(released).unwrap();
        release.send(()).unwrap();
    }
}

fn gates(hold_init: usize, hold_terminate: bool) -> (Arc<Gates>, TestSide) {
    let (entered_tx, init_entered) = mpsc::channel();
    let (release_init, release_rx) = mpsc::channel();
    let (terminating_tx, terminating) = mpsc::channel();
    let (releases, releases_rx) = mpsc::channel();
    let gates = Gates {
        inits: AtomicUsize::new(0),
        running: AtomicUsize::new(0),
        hold_init,
        init_entered: Mutex::new(entered_tx),
        release_init: Mutex::new(release_rx),
        hold_terminate,
        terminating: Mutex::new(terminating_tx),
        releases: Mutex::new(releases_rx),
    };
    (Arc::new(gates), TestSide { init_entered, release_init, terminating, releases })
}

struct Gated(Arc<Gates>);

impl Actor for Gated {
    type Message = Multi<Self>;
    type Spec = Arc<Gates>;
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();

    fn state(_: &Arc<Gates>) {}

    fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
        let gates = ctx.spec;
        if gates.inits.fetch_add(1, SeqCst) + 1 == gates.hold_init {
            gates.init_entered.lock().unwrap().send(()).unwrap();
            gates.release_init.lock().unwrap().recv_timeout(HANG).expect("the test releases");
        }
        async move {
            gates.running.fetch_add(1, SeqCst);
            Ok(Gated(gates))
        }
    }

    async fn terminate(self, _: ActorContext<Self>, _: CancelReason<()>) {
        if self.0.hold_terminate {
            self.0.terminating.lock().unwrap().send(()).unwrap();
            // Taken in turn: the test sends one release per terminate it lets go.
            let release = self.0.releases.lock().unwrap().recv_timeout(HANG);
            let _ = release.expect("the test releases").await;
        }
        self.0.running.fetch_sub(1, SeqCst);
    }
}

fn runtime() -> actor12::rt::Runtime {
    actor12::rt::Runtime::builder().worker_threads(2).build().unwrap()
}

#[test]
fn a_reset_racing_the_cancel_of_the_outer_link_leaves_no_incarnation_running() {
    // A keeper that restarts the actor whenever it stops races the owner's cancel of the outer
    // link. A `reset` after the relay had ended (it cancels the incarnation and waits for it)
    // started an incarnation that nobody waited for: the outer link counted as stopped while it
    // ran (a review of 2026-12-06). Now a `reset` before the relay's end starts one the relay
    // waits for, and one after it starts nothing; either way the outer link stops last.
    let rt = runtime();
    let (gates, test) = gates(0, true);
    let (proxy, link) = Proxy::<Gated>::new(gates.clone());
    proxy.init();
    link.cancel(());
    // The cancel reaches the incarnation through its token, whether or not the relay has
    // ended yet.
    test.terminating.recv_timeout(HANG).expect("the incarnation stops");
    let first = proxy.current();
    proxy.reset(); // the keeper's
    // Which way the race went, read from the proxy (a 2 s timeout on the outer link's stop
    // chose the branch before an audit of 2026-12-07: on a stalled machine it took the wrong
    // one).
    let restarted = proxy.current() != first;
    test.release_a_terminate();
    if restarted {
        // The reset came before the relay's end: the relay waits for the incarnation it
        // started, which the cancel stops at once and which is held in `terminate`.
        test.terminating.recv_timeout(HANG).expect("the second incarnation stops");
        let mut stop = link.wait();
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        assert!(stop.as_mut().poll(&mut cx).is_pending(), "the outer link waits for nothing");
        test.release_a_terminate();
        rt.block_on(actor12::time::timeout(HANG, stop)).expect("the outer link stops");
        assert_eq!(gates.inits.load(SeqCst), 2);
    } else {
        // It came after: it started nothing.
        rt.block_on(actor12::time::timeout(HANG, link.wait())).expect("the outer link stops");
        assert_eq!(gates.inits.load(SeqCst), 1, "a reset after the relay's end started one");
    }
    assert_eq!(gates.running.load(SeqCst), 0, "an incarnation runs on");
}

#[test]
fn the_outer_link_stops_only_after_the_incarnation_a_reset_was_starting() {
    // The second incarnation's `init` is held in its `reset` (on another thread) while the
    // outer link is cancelled: the relay's end waits for that start, then stops that one too.
    let rt = runtime();
    let (gates, test) = gates(2, false);
    let (proxy, link) = Proxy::<Gated>::new(gates.clone());
    proxy.init();
    let first = proxy.current().expect("the first incarnation");
    rt.block_on(actor12::time::timeout(HANG, first.cancel_and_wait(()))).expect("it stops");
    let keeper = std::thread::spawn(move || {
        proxy.reset();
        proxy
    });
    test.init_entered.recv_timeout(HANG).expect("the reset is starting one");
    link.cancel(());
    // Not a synchronisation: the outer link cannot stop before the held start ends, however
    // long this waits; the broken code let it stop at once.
    let early = rt.block_on(actor12::time::timeout(Duration::from_millis(50), link.wait()));
    assert!(early.is_err(), "the outer link stopped while a reset was starting an incarnation");
    test.release_init.send(()).unwrap();
    let proxy = keeper.join().expect("the reset returns");
    rt.block_on(actor12::time::timeout(HANG, link.wait())).expect("the outer link stops");
    assert_eq!(gates.inits.load(SeqCst), 2);
    assert_eq!(gates.running.load(SeqCst), 0, "the second incarnation runs on");
    assert!(!proxy.current().expect("the second incarnation").alive());
}
