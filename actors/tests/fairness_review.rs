//! Review of fairness, starvation and liveness of actors under load (2026-12 review).
//!
//! Every busy part (a ping-pong, a flood, a send loop) gives up after `SPIN_LIMIT` and records
//! that it did: a starved actor, task or timer shows as a failed assertion, never as a hung
//! test. Nothing sleeps to synchronise.

mod support;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actor12::cancel::CancelReason;
use actor12::oneshot;
use actor12::prelude::*;
use actor12::{ActorContext, ActorMessage};
use support::HANG;

const SPIN_LIMIT: Duration = Duration::from_secs(1);

fn rt1() -> actor12::rt::Runtime {
    actor12::rt::Runtime::builder().worker_threads(1).build().unwrap()
}

/// Awaits `f` in `rt.block_on` on a thread of its own (so that its spawns go to `rt`); `None`
/// if it did not resolve within [`HANG`]. (`support::resolves_within` uses the default runtime.)
fn on_rt<F>(rt: &actor12::rt::Runtime, f: F) -> Option<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let (tx, rx) = std::sync::mpsc::channel();
    let handle = rt.handle();
    std::thread::spawn(move || {
        let _ = tx.send(handle.block_on(f));
    });
    rx.recv_timeout(HANG).ok()
}

/// Busy-waits (this is a plain thread) until `done()` or `SPIN_LIMIT`.
fn spin_until(done: impl Fn() -> bool) -> bool {
    let start = Instant::now();
    while !done() {
        if start.elapsed() > SPIN_LIMIT {
            return false;
        }
        std::hint::spin_loop();
    }
    true
}

// ---------------------------------------------------------------------------------------------
// Actors
// ---------------------------------------------------------------------------------------------

/// Answers after a short sleep on the runtime's timer: it needs a turn on the worker and a
/// timer that fires.
struct Sleeper;
struct Ping(oneshot::Sender<()>);
impl ActorMessage<Sleeper> for Ping {}

impl Actor for Sleeper {
    type Message = Ping;
    type Spec = ();
    type Channel = MpscChannel<Ping>;
    type Cancel = ();
    type State = ();
    fn state(_: &()) {}
    fn init(_: Init<'_, Self>) -> impl InitFuture<Self> {
        std::future::ready(Ok(Sleeper))
    }
    async fn handle(&mut self, _: Exec<'_, Self>, Ping(reply): Ping) {
        actor12::time::sleep(Duration::from_millis(2)).await;
        let _ = reply.send(());
    }
}

/// Counts what it handles; mailbox bound `CAP` (`usize::MAX`: unbounded).
struct Sink<const CAP: usize> {
    handled: Arc<AtomicUsize>,
}
struct Item;
impl<const CAP: usize> ActorMessage<Sink<CAP>> for Item {}

impl<const CAP: usize> Actor for Sink<CAP> {
    type Message = Item;
    type Spec = Arc<AtomicUsize>;
    type Channel = MpscChannel<Item>;
    type Cancel = ();
    type State = ();
    fn state(_: &Self::Spec) {}
    fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
        std::future::ready(Ok(Sink { handled: ctx.spec }))
    }
    fn mailbox_capacity() -> usize {
        CAP
    }
    async fn handle(&mut self, _: Exec<'_, Self>, _: Item) {
        self.handled.fetch_add(1, SeqCst);
    }
    async fn terminate(self, _: ActorContext<Self>, _: CancelReason<()>) {}
}

type Unbounded = Sink<{ usize::MAX }>;

/// Two of these bounce a ball until `stop` (or `SPIN_LIMIT`, recorded in `timed_out`).
struct Player {
    shared: Arc<Court>,
    me: usize,
}
struct Court {
    links: Mutex<[Option<Link<Player>>; 2]>,
    stop: AtomicBool,
    timed_out: AtomicBool,
    rounds: AtomicUsize,
    start: Instant,
}
struct Ball;
impl ActorMessage<Player> for Ball {}

impl Actor for Player {
    type Message = Ball;
    type Spec = (Arc<Court>, usize);
    type Channel = MpscChannel<Ball>;
    type Cancel = ();
    type State = ();
    fn state(_: &Self::Spec) {}
    fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
        let (shared, me) = ctx.spec;
        std::future::ready(Ok(Player { shared, me }))
    }
    async fn handle(&mut self, _: Exec<'_, Self>, _: Ball) {
        let c = &*self.shared;
        let r = c.rounds.fetch_add(1, SeqCst);
        if r.is_multiple_of(256) && c.start.elapsed() > SPIN_LIMIT {
            c.timed_out.store(true, SeqCst);
            c.stop.store(true, SeqCst);
        }
        if c.stop.load(SeqCst) {
            return;
        }
        let other = c.links.lock().unwrap()[1 - self.me].clone();
        if let Some(other) = other {
            let _ = other.try_send_raw(Ball);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Two actors messaging each other for ever
// ---------------------------------------------------------------------------------------------

/// Two actors bounce a message on the only worker; an actor asked from outside still gets its
/// turn, and its timer fires.
#[test]
fn actors_playing_ping_pong_do_not_starve_another_actor_or_its_timer() {
    let rt = rt1();
    let court = Arc::new(Court {
        links: Mutex::new([None, None]),
        stop: AtomicBool::new(false),
        timed_out: AtomicBool::new(false),
        rounds: AtomicUsize::new(0),
        start: Instant::now(),
    });
    let (sleeper, players) = rt.block_on(async {
        let a = actor12::spawn::<Player>((court.clone(), 0));
        let b = actor12::spawn::<Player>((court.clone(), 1));
        *court.links.lock().unwrap() = [Some(a.clone()), Some(b.clone())];
        a.try_send_raw(Ball).ok().unwrap();
        (actor12::spawn::<Sleeper>(()), [a, b])
    });
    assert!(spin_until(|| court.rounds.load(SeqCst) > 10_000), "the pair did not start");
    let (tx, rx) = oneshot::channel();
    let s = sleeper.clone();
    let answered = on_rt(&rt, async move {
        s.send_raw(Ping(tx)).await.ok().unwrap();
        rx.await.is_ok()
    });
    court.stop.store(true, SeqCst);
    *court.links.lock().unwrap() = [None, None];
    drop(players);
    drop(sleeper);
    assert_eq!(answered, Some(true));
    assert!(!court.timed_out.load(SeqCst), "the third actor waited for the pair's guard");
}

// ---------------------------------------------------------------------------------------------
// A flooded actor
// ---------------------------------------------------------------------------------------------

/// Floods `link` from a plain thread until `stop` (or `SPIN_LIMIT`); returns (pushed, whether
/// it ran out of time).
fn flood(link: Link<Unbounded>, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<(usize, bool)> {
    std::thread::spawn(move || {
        let start = Instant::now();
        let mut pushed = 0;
        while !stop.load(SeqCst) {
            if link.try_send_raw(Item).is_err() {
                return (pushed, false); // stopped
            }
            pushed += 1;
            if pushed % 1024 == 0 && start.elapsed() > SPIN_LIMIT {
                return (pushed, true);
            }
        }
        (pushed, false)
    })
}

/// An actor flooded from another thread (unbounded mailbox, always more queued) lets another
/// actor on the same worker run, whose timer fires: the per-actor batch (64) returns the worker.
#[test]
fn a_flooded_actor_does_not_starve_another_actor_on_its_worker() {
    let rt = rt1();
    let handled = Arc::new(AtomicUsize::new(0));
    let (flooded, sleeper) = rt.block_on(async {
        (actor12::spawn::<Unbounded>(handled.clone()), actor12::spawn::<Sleeper>(()))
    });
    let stop = Arc::new(AtomicBool::new(false));
    let flooder = flood(flooded.clone(), stop.clone());
    assert!(spin_until(|| handled.load(SeqCst) > 10_000), "the flood did not start");
    let (tx, rx) = oneshot::channel();
    let s = sleeper.clone();
    let answered = on_rt(&rt, async move {
        s.send_raw(Ping(tx)).await.ok().unwrap();
        rx.await.is_ok()
    });
    let at_answer = handled.load(SeqCst);
    stop.store(true, SeqCst);
    let (pushed, ran_out) = flooder.join().unwrap();
    println!("pushed {pushed}, handled {at_answer} when the other actor answered");
    assert_eq!(answered, Some(true));
    assert!(!ran_out, "the other actor answered only after the flood's guard ran out");
    drop((flooded, sleeper, rt));
}

/// A flooded actor sees a cancel at once (the cancellation is checked before every message),
/// stops, and its `wait` resolves while the flood goes on.
#[test]
fn a_flooded_actor_stops_promptly_when_cancelled() {
    let rt = rt1();
    let handled = Arc::new(AtomicUsize::new(0));
    let flooded = rt.block_on(async { actor12::spawn::<Unbounded>(handled.clone()) });
    let stop = Arc::new(AtomicBool::new(false));
    let flooder = flood(flooded.clone(), stop.clone());
    assert!(spin_until(|| handled.load(SeqCst) > 10_000), "the flood did not start");
    flooded.cancel(());
    let at_cancel = handled.load(SeqCst);
    let l = flooded.clone();
    let started = Instant::now();
    let stopped = on_rt(&rt, async move { l.wait().await });
    let took = started.elapsed();
    let after = handled.load(SeqCst) - at_cancel;
    stop.store(true, SeqCst);
    let (_, ran_out) = flooder.join().unwrap();
    println!("cancel: {after} messages handled after cancel() returned, wait took {took:?}");
    assert!(stopped.is_some(), "wait() did not resolve within {HANG:?}");
    assert!(!ran_out, "the actor stopped only after the flood's guard ran out");
    assert!(after <= 2, "{after} messages handled after the cancel");
    drop(rt);
}

/// Shutting the runtime down while an actor is flooded ends promptly.
#[test]
fn a_runtime_with_a_flooded_actor_shuts_down() {
    let rt = rt1();
    let handled = Arc::new(AtomicUsize::new(0));
    let flooded = rt.block_on(async { actor12::spawn::<Unbounded>(handled.clone()) });
    let stop = Arc::new(AtomicBool::new(false));
    let flooder = flood(flooded.clone(), stop.clone());
    assert!(spin_until(|| handled.load(SeqCst) > 10_000), "the flood did not start");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        drop(rt);
        let _ = tx.send(());
    });
    let dropped = rx.recv_timeout(HANG).is_ok();
    stop.store(true, SeqCst);
    let (_, ran_out) = flooder.join().unwrap();
    drop(flooded);
    assert!(dropped, "dropping the runtime hung");
    assert!(!ran_out, "the flooder was never refused: the mailbox stayed open");
}

// ---------------------------------------------------------------------------------------------
// A sender on the worker that never stops
// ---------------------------------------------------------------------------------------------

/// A task on the only worker sends to an actor in a loop (`send_raw(..).await` each time) until
/// a timer says stop. Returns (stopped by the timer, messages the sink handled meanwhile).
fn send_loop<const CAP: usize>() -> (bool, usize) {
    let rt = rt1();
    let handled = Arc::new(AtomicUsize::new(0));
    let h = handled.clone();
    let out = on_rt(&rt, async move {
        let sink = actor12::spawn::<Sink<CAP>>(h);
        let stop = Arc::new(AtomicBool::new(false));
        let armed = Arc::new(AtomicBool::new(false));
        let (s, a) = (stop.clone(), armed.clone());
        let timer = actor12::rt::spawn(async move {
            let sleep = actor12::time::sleep(Duration::from_millis(2));
            a.store(true, SeqCst);
            sleep.await;
            s.store(true, SeqCst);
        });
        let sender = actor12::rt::spawn(async move {
            // The loop starts once the timer task runs (so the timer cannot have fired before).
            while !armed.load(SeqCst) {
                actor12::rt::yield_now().await;
            }
            let start = Instant::now();
            let mut n = 0u64;
            while !stop.load(SeqCst) {
                sink.send_raw(Item).await.ok().unwrap();
                n += 1;
                if n.is_multiple_of(1024) && start.elapsed() > SPIN_LIMIT {
                    return false;
                }
            }
            true
        });
        let by_timer = sender.await.unwrap();
        timer.await.unwrap();
        by_timer
    });
    drop(rt);
    (out.expect("hung"), handled.load(SeqCst))
}

/// Bounded mailbox (64): the loop waits for room, so the sink and the timer get the worker.
#[test]
fn a_send_loop_into_a_bounded_mailbox_on_the_same_worker_lets_others_run() {
    let (by_timer, handled) = send_loop::<64>();
    println!("bounded: by timer {by_timer}, sink handled {handled}");
    assert!(by_timer, "the timer never fired during the send loop");
}

/// Unbounded mailbox: each `send_raw(..).await` is ready at once; were it not for a send's share
/// of the cooperative budget, and its giving way once the sink is ~500 messages behind (the last
/// test of this file), the loop would never give the worker back, and the sink, the timer and
/// every other task on the worker would starve for as long as it went on (here until its guard,
/// 1 s).
#[test]
fn a_send_loop_into_an_unbounded_mailbox_on_the_same_worker_lets_others_run() {
    let (by_timer, handled) = send_loop::<{ usize::MAX }>();
    println!("unbounded: by timer {by_timer}, sink handled {handled}");
    assert!(by_timer, "the timer never fired during the send loop (sink handled {handled})");
}

// ---------------------------------------------------------------------------------------------
// An unbounded mailbox fed from its actor's own worker
// ---------------------------------------------------------------------------------------------

/// Counts what it handles, and how far behind the sender it ever was.
struct Lagging {
    sent: Arc<AtomicUsize>,
    handled: usize,
    max_behind: Arc<AtomicUsize>,
}
enum Tick {
    One,
    /// The last message: answered with the count handled.
    Count(oneshot::Sender<usize>),
}
impl ActorMessage<Lagging> for Tick {}

impl Actor for Lagging {
    type Message = Tick;
    type Spec = (Arc<AtomicUsize>, Arc<AtomicUsize>);
    type Channel = MpscChannel<Tick>;
    type Cancel = ();
    type State = ();
    fn state(_: &Self::Spec) {}
    fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
        let (sent, max_behind) = ctx.spec;
        std::future::ready(Ok(Lagging { sent, handled: 0, max_behind }))
    }
    fn mailbox_capacity() -> usize {
        usize::MAX
    }
    async fn handle(&mut self, _: Exec<'_, Self>, tick: Tick) {
        if let Tick::Count(answer) = tick {
            let _ = answer.send(self.handled);
            return;
        }
        self.handled += 1;
        // Messages sent and not yet handled, this one included: the queue as it stood.
        let behind = self.sent.load(SeqCst) - self.handled + 1;
        self.max_behind.fetch_max(behind, SeqCst);
    }
    async fn terminate(self, _: ActorContext<Self>, _: CancelReason<()>) {}
}

/// A task on the only worker sends 200,000 messages to an actor with an unbounded mailbox. A
/// send's share of the budget alone let it send 8,192 a turn while the actor handled 64 a run,
/// so the queue grew by about 8,000 a turn for as long as the task sent (measured: 198,464
/// behind). Told that the actor is `BACKLOG` (496) messages behind, the sender gives way at its
/// next send: the queue stays near that, and nothing is lost.
#[test]
fn an_unbounded_mailbox_fed_from_its_own_worker_stays_near_the_backlog_mark() {
    const N: usize = 200_000;
    let rt = rt1();
    let (sent, max_behind) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (s, m) = (sent.clone(), max_behind.clone());
    let out = on_rt(&rt, async move {
        let sink = actor12::spawn::<Lagging>((s.clone(), m));
        let sender = actor12::rt::spawn(async move {
            for _ in 0..N {
                sink.send_raw(Tick::One).await.ok().unwrap();
                s.fetch_add(1, SeqCst);
            }
            let (answer, handled) = oneshot::channel();
            sink.send_raw(Tick::Count(answer)).await.ok().unwrap();
            handled.await.unwrap()
        });
        sender.await.unwrap()
    });
    drop(rt);
    assert_eq!(out.expect("hung"), N, "messages handled");
    let max_behind = max_behind.load(SeqCst);
    println!("the actor was at most {max_behind} messages behind");
    assert!(
        max_behind <= 2 * actor12_mailbox::BACKLOG,
        "the queue grew to {max_behind} messages (backlog mark {})",
        actor12_mailbox::BACKLOG
    );
}

// ---- a busy actor and a timer on its worker (a review of 2026-12-07) ------------------------

/// Handled messages of [`Spinner`], for the test below.
static SPUN: AtomicUsize = AtomicUsize::new(0);

/// Computes `SPIN` for each message, never awaiting.
struct Spinner;
struct Spin;

impl Actor for Spinner {
    type Message = Multi<Self>;
    type Spec = ();
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();
    fn mailbox_capacity() -> usize {
        usize::MAX
    }
    fn state(_: &()) {}
    fn init(_: Init<'_, Self>) -> impl InitFuture<Self> {
        std::future::ready(Ok(Spinner))
    }
}

impl Handler<Spin> for Spinner {
    type Reply = anyhow::Result<()>;
    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Spin) -> Self::Reply {
        let start = Instant::now();
        while start.elapsed() < Duration::from_micros(200) {
            std::hint::spin_loop();
        }
        SPUN.fetch_add(1, SeqCst);
        Ok(())
    }
}

/// Holds the actor until the test opens the gate, so its work queues up first.
struct Gate(oneshot::Receiver<()>);

impl Handler<Gate> for Spinner {
    type Reply = anyhow::Result<()>;
    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, Gate(gate): Gate) -> Self::Reply {
        let _ = gate.await;
        Ok(())
    }
}

/// An actor busy with 2,000 queued messages of 200 us on the only worker, beside a 1 ms sleep:
/// the sleep ends within about one of the actor's runs (64 messages) of its deadline. A run that
/// ends with its batch spent did not count as a yield, so the worker checked its timers only
/// every 61 runs: the sleep ended after all 2,000 (with messages of 500 us, 2 to 4 s late).
#[test]
fn a_busy_actor_lets_a_sleep_on_its_worker_end_within_about_one_of_its_runs() {
    const QUEUED: usize = 2_000;
    let rt = rt1();
    let (open, gate) = oneshot::channel();
    let spinner = rt.block_on(async {
        let spinner = actor12::spawn::<Spinner>(());
        spinner.tell_dyn(Gate(gate)).await;
        for _ in 0..QUEUED {
            spinner.tell_dyn(Spin).await;
        }
        spinner
    });
    let (armed_tx, armed) = std::sync::mpsc::channel();
    let sleeper = rt.spawn(async move {
        let sleep = actor12::time::sleep(Duration::from_millis(1));
        let before = SPUN.load(SeqCst);
        armed_tx.send(()).unwrap();
        sleep.await;
        SPUN.load(SeqCst) - before
    });
    armed.recv_timeout(HANG).unwrap();
    open.send(()).unwrap();
    let during = on_rt(&rt, sleeper).expect("the sleep never ended").unwrap();
    // 1 ms is 5 messages; then the rest of the run that was going, up to 64, and the next.
    assert!(during <= 5 + 2 * 64, "{during} messages of 200 us during a 1 ms sleep");
    drop(spinner);
}

/// A send into a full mailbox of 1 waits behind at most the senders already waiting: four
/// tasks on the only worker send in a loop while a fifth's 200 sends are timed in messages
/// handled (a task on the worker, so that no preemption of a thread counts). The waiter woken
/// second (by the run's idle transition), run first from the LIFO slot, took the room the first
/// was woken for: 21 messages got in ahead of one send (a review of 2026-12-07; 137 with the
/// timed sender on a thread of its own).
#[test]
fn a_sender_waits_behind_at_most_those_already_waiting() {
    let rt = rt1();
    let handled = Arc::new(AtomicUsize::new(0));
    let link = rt.block_on(async { actor12::spawn::<Sink<1>>(handled.clone()) });
    let stop = Arc::new(AtomicBool::new(false));
    let others: Vec<_> = (0..4)
        .map(|_| {
            let (link, stop) = (link.clone(), stop.clone());
            rt.spawn(async move {
                while !stop.load(SeqCst) {
                    link.send_raw(Item).await.expect("the sink runs");
                }
            })
        })
        .collect();
    let timed = rt.spawn(async move {
        let mut worst = 0;
        for _ in 0..200 {
            let before = handled.load(SeqCst);
            link.send_raw(Item).await.expect("the sink runs");
            worst = worst.max(handled.load(SeqCst) - before);
        }
        worst
    });
    let worst = on_rt(&rt, timed).expect("the timed sends did not end").unwrap();
    stop.store(true, SeqCst);
    for other in others {
        on_rt(&rt, other).expect("a sender did not stop").unwrap();
    }
    // The message in the mailbox, and one of each other sender's ahead of this one's.
    assert!(worst <= 5, "{worst} messages got in ahead of one send behind 4 senders");
}

/// A timeout around a loop of tells that find room fires: the sends spend the task's budget on
/// every run, and the timeout's deadline used to be refused with it, run after run.
#[test]
fn a_timeout_around_a_loop_of_tells_fires() {
    let rt = rt1();
    let handled = Arc::new(AtomicUsize::new(0));
    let fed = rt.spawn(async move {
        let sink = actor12::spawn::<Unbounded>(handled);
        actor12::time::timeout(Duration::from_millis(20), async {
            loop {
                sink.send_raw(Item).await.expect("the sink runs");
            }
        })
        .await
        .is_err()
    });
    let fired = on_rt(&rt, fed).expect("the 20 ms timeout never fired").unwrap();
    assert!(fired);
}
