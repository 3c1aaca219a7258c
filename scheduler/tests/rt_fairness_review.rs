//! Review of fairness, starvation and liveness under load (2026-12 review).
//!
//! Every test bounds its busy parts with a deadline (`SPIN_LIMIT`), so a starved task shows as a
//! failed assertion, never as a hung test. Nothing sleeps to synchronise: flags and gates do.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex, mpsc};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use actor12_scheduler::time::{sleep, timeout};
use actor12_scheduler::{current_worker, spawn, spawn_pinned, yield_now};

mod support;
use support::{rt, within};

/// How long a busy loop of a test may go on before it gives up: a starved task makes it run out.
const SPIN_LIMIT: Duration = Duration::from_secs(1);

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// A one-shot signal a task waits on; `open` wakes it from whatever thread calls it.
#[derive(Default)]
struct Gate {
    open: AtomicBool,
    waker: Mutex<Option<Waker>>,
}

impl Gate {
    fn new() -> Arc<Gate> {
        Arc::new(Gate::default())
    }

    fn open(&self) {
        self.open.store(true, SeqCst);
        let w = self.waker.lock().unwrap().take();
        if let Some(w) = w {
            w.wake();
        }
    }

    fn is_open(&self) -> bool {
        self.open.load(SeqCst)
    }

    /// True once a task waits on it (its waker is stored).
    fn registered(&self) -> bool {
        self.waker.lock().unwrap().is_some()
    }

    fn wait(self: &Arc<Self>) -> GateWait {
        GateWait(self.clone())
    }
}

struct GateWait(Arc<Gate>);

impl Future for GateWait {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0.is_open() {
            return Poll::Ready(());
        }
        *self.0.waker.lock().unwrap() = Some(cx.waker().clone());
        if self.0.is_open() { Poll::Ready(()) } else { Poll::Pending }
    }
}

/// Two tasks that wake each other for ever (until `stop`, or `SPIN_LIMIT` as a guard).
struct Pair {
    wakers: Mutex<[Option<Waker>; 2]>,
    stop: AtomicBool,
    rounds: AtomicUsize,
    /// Set if the pair ended on its guard, not on `stop`: something it waited for starved.
    timed_out: AtomicBool,
    start: Instant,
    /// Called with the round number on every round (by whichever task of the pair runs).
    hook: Box<dyn Fn(usize) + Send + Sync>,
}

impl Pair {
    fn new(hook: impl Fn(usize) + Send + Sync + 'static) -> Arc<Pair> {
        Arc::new(Pair {
            wakers: Mutex::new([None, None]),
            stop: AtomicBool::new(false),
            rounds: AtomicUsize::new(0),
            timed_out: AtomicBool::new(false),
            start: Instant::now(),
            hook: Box::new(hook),
        })
    }

    /// Spawns both halves on the current worker (they start ping-ponging at once).
    fn spawn(self: &Arc<Self>) -> [actor12_scheduler::JoinHandle<()>; 2] {
        [
            spawn(PingPong { me: 0, pair: self.clone() }),
            spawn(PingPong { me: 1, pair: self.clone() }),
        ]
    }
}

struct PingPong {
    me: usize,
    pair: Arc<Pair>,
}

impl Future for PingPong {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let p = &*self.pair;
        let round = p.rounds.fetch_add(1, SeqCst);
        if round.is_multiple_of(256) && p.start.elapsed() > SPIN_LIMIT {
            p.timed_out.store(true, SeqCst);
            p.stop.store(true, SeqCst);
        }
        if p.stop.load(SeqCst) {
            let other = p.wakers.lock().unwrap()[1 - self.me].take();
            if let Some(o) = other {
                o.wake();
            }
            return Poll::Ready(());
        }
        (p.hook)(round);
        let other = {
            let mut w = p.wakers.lock().unwrap();
            w[self.me] = Some(cx.waker().clone());
            w[1 - self.me].take()
        };
        if let Some(o) = other {
            o.wake();
        }
        Poll::Pending
    }
}

/// Busy-waits (never awaits) until `done()` or `SPIN_LIMIT`; true if `done()` came first.
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
// Q1: two tasks waking each other on one worker
// ---------------------------------------------------------------------------------------------

/// A third task woken by the pair (so it waits in the ring behind the pair's LIFO hand-offs)
/// runs within about one LIFO hop cap (16) of pair rounds.
#[test]
fn a_task_queued_behind_a_ping_pong_pair_runs_within_the_lifo_hop_cap() {
    let rt = rt(1);
    let gate = Gate::new();
    let opened_at = Arc::new(AtomicUsize::new(usize::MAX));
    let pair = Pair::new({
        let (gate, opened_at) = (gate.clone(), opened_at.clone());
        move |round| {
            if round == 1000 {
                opened_at.store(round, SeqCst);
                // Woken here: into the LIFO slot, displaced to the ring by the partner's wake.
                gate.open();
            }
        }
    });
    let ran_at = Arc::new(AtomicUsize::new(usize::MAX));
    let (p, r) = (pair.clone(), ran_at.clone());
    within("pair", move || {
        rt.block_on(rt.spawn(async move {
            let third = spawn({
                let (p, r) = (p.clone(), r.clone());
                async move {
                    gate.wait().await;
                    r.store(p.rounds.load(SeqCst), SeqCst);
                    p.stop.store(true, SeqCst);
                }
            });
            let halves = p.spawn();
            third.await.unwrap();
            for h in halves {
                h.await.unwrap();
            }
        }))
        .unwrap();
    });
    assert!(!pair.timed_out.load(SeqCst), "the third task never ran");
    let waited = ran_at.load(SeqCst) - opened_at.load(SeqCst);
    println!("third task ran {waited} pair rounds after its wake");
    assert!(waited <= 2 * 16 + 4, "third task waited {waited} rounds (hop cap 16)");
}

/// A timer (`sleep`) and a `timeout` armed on the worker still fire while a pair ping-pongs.
#[test]
fn a_ping_pong_pair_does_not_stop_timers() {
    let rt = rt(1);
    let pair = Pair::new(|_| {});
    let p = pair.clone();
    let late = within("timers", move || {
        rt.block_on(rt.spawn(async move {
            let started = Instant::now();
            let halves = p.spawn();
            sleep(Duration::from_millis(5)).await;
            let slept = started.elapsed();
            let t = timeout(Duration::from_millis(5), std::future::pending::<()>()).await;
            assert!(t.is_err());
            let both = started.elapsed();
            p.stop.store(true, SeqCst);
            for h in halves {
                h.await.unwrap();
            }
            (slept, both)
        }))
        .unwrap()
    });
    assert!(!pair.timed_out.load(SeqCst), "timers starved by the pair");
    println!("sleep(5ms) took {:?}, sleep+timeout(5ms) {:?}", late.0, late.1);
}

/// A task woken from another thread (global queue) and a task spawned from another thread run
/// while a pair ping-pongs on the only worker.
#[test]
fn a_ping_pong_pair_does_not_starve_the_global_queue() {
    let rt = rt(1);
    let pair = Pair::new(|_| {});
    let gate = Gate::new();
    let woken_ran = Arc::new(AtomicBool::new(false));
    let spawned_ran = Arc::new(AtomicBool::new(false));
    let ran_round = Arc::new(AtomicUsize::new(0));
    let (p, g, w, rr) = (pair.clone(), gate.clone(), woken_ran.clone(), ran_round.clone());
    let driver = rt.spawn(async move {
        let pr = p.clone();
        let waiter = spawn(async move {
            g.wait().await;
            rr.store(pr.rounds.load(SeqCst), SeqCst);
            w.store(true, SeqCst);
        });
        let halves = p.spawn();
        waiter.await.unwrap();
        halves
    });
    // Wait until the pair runs, then act from this (non-worker) thread.
    assert!(spin_until(|| pair.rounds.load(SeqCst) > 10_000), "pair did not start");
    let opened_round = pair.rounds.load(SeqCst);
    gate.open();
    let s = spawned_ran.clone();
    let from_outside = rt.handle().spawn(async move { s.store(true, SeqCst) });
    let ok = spin_until(|| woken_ran.load(SeqCst) && spawned_ran.load(SeqCst));
    pair.stop.store(true, SeqCst);
    let rt = Arc::new(rt);
    let rt2 = rt.clone();
    within("join", move || {
        let halves = rt2.block_on(driver).unwrap();
        for h in halves {
            rt2.block_on(h).unwrap();
        }
        rt2.block_on(from_outside).unwrap();
    });
    assert!(ok, "woken ran: {woken_ran:?}, spawned ran: {spawned_ran:?}");
    assert!(!pair.timed_out.load(SeqCst));
    // The global queue is looked at every 61 ticks; a tick of the pair is one run of up to
    // 1 + 16 hops: about 1,037 rounds. Two intervals, for the wake landing just after a look.
    let waited = ran_round.load(SeqCst) - opened_round;
    println!("task woken from outside ran {waited} pair rounds after its wake");
    assert!(waited <= 2 * 61 * 17 + 64, "it waited {waited} rounds");
}

// ---------------------------------------------------------------------------------------------
// Q3: a task that loops on yield_now
// ---------------------------------------------------------------------------------------------

/// Future that wakes itself and returns `Pending` once: a "foreign" yield (futures-lite,
/// tokio's own `yield_now` polled here) that does not go through `try_fast_yield`.
struct SelfWake(bool);
impl Future for SelfWake {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            return Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

fn yield_loop_vs_timer(foreign: bool) {
    let rt = rt(1);
    let stop = Arc::new(AtomicBool::new(false));
    let other_ran = Arc::new(AtomicBool::new(false));
    let s = stop.clone();
    let o = other_ran.clone();
    let (timed_out, took) = within("yield loop", move || {
        rt.block_on(rt.spawn(async move {
            let start = Instant::now();
            let yielder = spawn({
                let s = s.clone();
                async move {
                    let mut n = 0u64;
                    while !s.load(SeqCst) {
                        if foreign {
                            SelfWake(false).await;
                        } else {
                            yield_now().await;
                        }
                        n += 1;
                        if n.is_multiple_of(256) && start.elapsed() > SPIN_LIMIT {
                            return true;
                        }
                    }
                    false
                }
            });
            // A local task queued behind the yielder.
            let other = spawn(async move {
                yield_now().await;
                o.store(true, SeqCst);
            });
            sleep(Duration::from_millis(5)).await;
            let took = start.elapsed();
            other.await.unwrap();
            s.store(true, SeqCst);
            (yielder.await.unwrap(), took)
        }))
        .unwrap()
    });
    println!("foreign={foreign}: sleep(5ms) beside a yield loop took {took:?}");
    assert!(!timed_out, "the timer starved behind a yield loop");
    assert!(other_ran.load(SeqCst));
}

#[test]
fn a_yield_now_loop_does_not_starve_timers_or_tasks() {
    yield_loop_vs_timer(false);
}

#[test]
fn a_self_waking_loop_does_not_starve_timers_or_tasks() {
    yield_loop_vs_timer(true);
}

// ---------------------------------------------------------------------------------------------
// Q4: pinned tasks
// ---------------------------------------------------------------------------------------------

/// Pinned tasks are polled only on their worker, with the other worker stealing busily: they
/// yield, sleep, are woken from the other worker and from a plain thread.
#[test]
#[allow(clippy::async_yields_async, reason = "the task hands back a join handle, awaited later")]
fn pinned_tasks_are_never_stolen_under_load() {
    const PINNED: usize = 16;
    const ROUNDS: usize = 100;
    let rt = rt(2);
    let wrong = Arc::new(AtomicUsize::new(0));
    let stolen_polls = Arc::new(AtomicUsize::new(0));
    let (wr, st) = (wrong.clone(), stolen_polls.clone());
    let handle = rt.handle();
    within("pinned under load", move || {
        rt.block_on(rt.handle().spawn_pinned(1, async move {
            // Load on worker 1: unpinned tasks that compute a little and yield; worker 0 steals.
            let mut load = Vec::new();
            for _ in 0..64 {
                let st = st.clone();
                load.push(spawn(async move {
                    for _ in 0..50 {
                        let t = Instant::now();
                        while t.elapsed() < Duration::from_micros(20) {}
                        if current_worker() == Some(0) {
                            st.fetch_add(1, SeqCst);
                        }
                        yield_now().await;
                    }
                }));
            }
            let mut pinned = Vec::new();
            for i in 0..PINNED {
                let wr = wr.clone();
                let h0 = handle.clone();
                let body = async move {
                    for r in 0..ROUNDS {
                        if current_worker() != Some(1) {
                            wr.fetch_add(1, SeqCst);
                        }
                        match r % 4 {
                            0 => yield_now().await,
                            1 => sleep(Duration::ZERO).await,
                            2 => {
                                // Woken from worker 0.
                                let g = Gate::new();
                                let g2 = g.clone();
                                drop(h0.spawn_pinned(0, async move { g2.open() }));
                                g.wait().await;
                            }
                            _ => {
                                // Woken from a plain thread.
                                let g = Gate::new();
                                let g2 = g.clone();
                                std::thread::spawn(move || g2.open());
                                g.wait().await;
                            }
                        }
                        if current_worker() != Some(1) {
                            wr.fetch_add(1, SeqCst);
                        }
                    }
                };
                // Half spawned here (worker 1), half from worker 0.
                if i % 2 == 0 {
                    pinned.push(spawn_pinned(1, body));
                } else {
                    let h = handle.clone();
                    pinned.push(
                        handle
                            .spawn_pinned(0, async move { h.spawn_pinned(1, body) })
                            .await
                            .unwrap(),
                    );
                }
            }
            for p in pinned {
                p.await.unwrap();
            }
            for l in load {
                l.await.unwrap();
            }
        }))
        .unwrap();
    });
    println!("unpinned polls on worker 0 (stolen): {}", stolen_polls.load(SeqCst));
    assert!(stolen_polls.load(SeqCst) > 0, "no stealing happened: the test proves nothing");
    assert_eq!(wrong.load(SeqCst), 0, "pinned tasks polled off their worker");
}

/// A pinned task still runs on a worker busy with a ping-pong pair: spawned from outside, and
/// woken from outside.
#[test]
fn a_pinned_task_runs_while_its_worker_runs_a_ping_pong_pair() {
    let rt = rt(1);
    let pair = Pair::new(|_| {});
    let gate = Gate::new();
    let p = pair.clone();
    let g = gate.clone();
    let woken_ran = Arc::new(AtomicBool::new(false));
    let w = woken_ran.clone();
    let driver = rt.spawn(async move {
        let pinned = spawn_pinned(0, async move {
            g.wait().await;
            w.store(true, SeqCst);
        });
        (p.spawn(), pinned)
    });
    assert!(spin_until(|| pair.rounds.load(SeqCst) > 10_000), "pair did not start");
    let spawned_ran = Arc::new(AtomicBool::new(false));
    let s = spawned_ran.clone();
    let outside = rt.handle().spawn_pinned(0, async move { s.store(true, SeqCst) });
    gate.open();
    let ok = spin_until(|| woken_ran.load(SeqCst) && spawned_ran.load(SeqCst));
    pair.stop.store(true, SeqCst);
    within("join", move || {
        let (halves, pinned) = rt.block_on(driver).unwrap();
        for h in halves {
            rt.block_on(h).unwrap();
        }
        rt.block_on(pinned).unwrap();
        rt.block_on(outside).unwrap();
    });
    assert!(ok, "pinned: woken ran {woken_ran:?}, spawned ran {spawned_ran:?}");
}

/// A pinned task scheduled by its own worker (here: one that yields, so it waits in the
/// worker's private pinned deque) must not be starved by pinned tasks that keep arriving from
/// other threads (the worker's remote pinned queue). `pop_pinned` always takes the remote queue
/// first, so a steady flow from outside starves the private deque for as long as it lasts.
///
/// Deterministic: every remote task queues the next one (through a helper thread, whose
/// `spawn_pinned` goes to the remote queue) before it returns, so the remote queue is never
/// empty when the worker looks.
#[test]
#[allow(clippy::async_yields_async, reason = "the task hands back a join handle, awaited later")]
fn pinned_tasks_from_other_threads_do_not_starve_a_locally_queued_pinned_task() {
    const LIMIT: usize = 500;
    let rt = rt(1);
    let handle = rt.handle();
    let yielder_ran = Arc::new(AtomicBool::new(false));
    let remote_runs = Arc::new(AtomicUsize::new(0));
    let runs_before = Arc::new(AtomicUsize::new(usize::MAX));
    // The helper: spawns a pinned remote task on request, then acks.
    let (req_tx, req_rx) = mpsc::channel::<mpsc::Sender<()>>();
    let req_tx = Arc::new(Mutex::new(req_tx));
    fn remote_task(
        handle: actor12_scheduler::Handle,
        req: Arc<Mutex<mpsc::Sender<mpsc::Sender<()>>>>,
        yielder_ran: Arc<AtomicBool>,
        remote_runs: Arc<AtomicUsize>,
    ) -> impl Future<Output = ()> + Send + 'static {
        let _ = handle;
        async move {
            let n = remote_runs.fetch_add(1, SeqCst) + 1;
            if !yielder_ran.load(SeqCst) && n < LIMIT {
                // Queue the next remote task, from a non-worker thread, before returning.
                let (ack_tx, ack_rx) = mpsc::channel();
                req.lock().unwrap().send(ack_tx).unwrap();
                ack_rx.recv().unwrap();
            }
        }
    }
    let helper = {
        // Weak: the helper's loop ends once the test and the remote tasks dropped the sender.
        let (handle, req_tx, yielder_ran, remote_runs) =
            (handle.clone(), Arc::downgrade(&req_tx), yielder_ran.clone(), remote_runs.clone());
        std::thread::spawn(move || {
            while let Ok(ack) = req_rx.recv() {
                let Some(req_tx) = req_tx.upgrade() else { break };
                drop(handle.spawn_pinned(
                    0,
                    remote_task(handle.clone(), req_tx, yielder_ran.clone(), remote_runs.clone()),
                ));
                let _ = ack.send(());
            }
        })
    };
    let (y, rr, rb, req) =
        (yielder_ran.clone(), remote_runs.clone(), runs_before.clone(), req_tx.clone());
    let rt = Arc::new(rt);
    let rt2 = rt.clone();
    let yielder = within("setup", move || {
        rt2.block_on(rt2.handle().spawn_pinned(0, async move {
            // Spawned on worker 0: first run here; it yields into the private pinned deque.
            let yielder = spawn_pinned(0, async move {
                yield_now().await;
                rb.store(rr.load(SeqCst), SeqCst);
                y.store(true, SeqCst);
            });
            // The first remote task: queued (remote queue) before this task returns.
            let (ack_tx, ack_rx) = mpsc::channel();
            req.lock().unwrap().send(ack_tx).unwrap();
            ack_rx.recv().unwrap();
            yielder
        }))
        .unwrap()
    });
    let rt3 = rt.clone();
    within("yielder", move || rt3.block_on(yielder).unwrap());
    drop(req_tx);
    let before = runs_before.load(SeqCst);
    println!("remote pinned tasks run before the yielded pinned task: {before} (limit {LIMIT})");
    // Fair FIFO over both pinned queues: the yielder was queued before the first remote task,
    // so at most a couple of remote tasks run first.
    assert!(before <= 4, "a locally queued pinned task waited for {before} remote pinned tasks");
    drop(rt);
    let _ = helper.join();
}

// ---------------------------------------------------------------------------------------------
// Q5: two workers, one blocked by a task that spins
// ---------------------------------------------------------------------------------------------

/// A task on worker 0 wakes four waiting tasks, then spins. The first three went to its ring
/// (each displaced from the LIFO slot by the next, which tells idle workers): worker 1 steals
/// and runs them during the spin. The fourth stays in the LIFO slot, which is not stealable: it
/// runs only after the spin (the documented special case).
#[test]
fn tasks_in_a_spinning_workers_ring_are_stolen_but_its_lifo_slot_waits() {
    let rt = rt(2);
    let ran = Arc::new(AtomicUsize::new(0));
    let on_1 = Arc::new(AtomicUsize::new(0));
    let (ran2, on2) = (ran.clone(), on_1.clone());
    let (ring_ran, lifo_ran_during_spin) = within("spin", move || {
        rt.block_on(rt.handle().spawn_pinned(0, async move {
            let gates: Vec<_> = (0..4).map(|_| Gate::new()).collect();
            let lifo_ran = Arc::new(AtomicBool::new(false));
            let mut tasks = Vec::new();
            for (i, g) in gates.iter().enumerate() {
                let (g, ran, on1, lifo_ran) =
                    (g.clone(), ran2.clone(), on2.clone(), lifo_ran.clone());
                tasks.push(spawn(async move {
                    g.wait().await;
                    if current_worker() == Some(1) {
                        on1.fetch_add(1, SeqCst);
                    }
                    if i == 3 {
                        lifo_ran.store(true, SeqCst);
                    } else {
                        ran.fetch_add(1, SeqCst);
                    }
                }));
            }
            // Let them run once and wait on their gates (this task is pinned: it yields behind
            // them).
            while !gates.iter().all(|g| g.registered()) {
                yield_now().await;
            }
            for g in &gates {
                g.open();
            }
            // Spin: never await.
            let ring_ran = spin_until(|| ran2.load(SeqCst) == 3);
            let lifo = lifo_ran.load(SeqCst);
            for t in tasks {
                t.await.unwrap();
            }
            (ring_ran, lifo)
        }))
        .unwrap()
    });
    assert!(ring_ran, "only {} of the 3 ring tasks ran during the spin", ran.load(SeqCst));
    assert!(on_1.load(SeqCst) >= 3, "they ran on worker 1");
    assert!(!lifo_ran_during_spin, "LIFO slot task ran during the spin (it is not stealable)");
}

/// Worker 0 pops a task from its ring that then spins; the pop claimed up to `POP_BATCH` (8)
/// tasks at once into a private array that stealers cannot see, to run next. Those seven wait
/// for the spin, as `spawn`'s docs say; every task further back in the ring is stolen by the
/// idle worker 1 and runs during the spin.
///
/// Deterministic: worker 1 is kept busy (a pinned task) until the spinner has started, so it
/// cannot steal the tasks before worker 0's pop claims them.
#[test]
fn tasks_queued_behind_a_spinning_task_wait_only_if_claimed_with_it() {
    const N: usize = 13;
    let rt = rt(2);
    let spinner_started = Arc::new(AtomicBool::new(false));
    let ran: Arc<Vec<AtomicBool>> = Arc::new((0..N).map(|_| AtomicBool::new(false)).collect());
    let others_ran = Arc::new(AtomicUsize::new(0));
    let spin_ok = Arc::new(AtomicBool::new(false));
    let ran_during_spin = Arc::new(Mutex::new(Vec::new()));
    let (ss, or, so, rn, rds) = (
        spinner_started.clone(),
        others_ran.clone(),
        spin_ok.clone(),
        ran.clone(),
        ran_during_spin.clone(),
    );
    within("claimed", move || {
        rt.block_on(rt.handle().spawn_pinned(0, async move {
            // Keep worker 1 busy until the spinner starts.
            let blocker_running = Arc::new(AtomicBool::new(false));
            let blocker = {
                let (br, ss) = (blocker_running.clone(), ss.clone());
                spawn_pinned(1, async move {
                    br.store(true, SeqCst);
                    spin_until(|| ss.load(SeqCst));
                })
            };
            assert!(spin_until(|| blocker_running.load(SeqCst)), "blocker did not start");
            // S (the spinner), then T0..T12. Woken in that order: S, T0..T11 go to the ring,
            // T12 stays in the LIFO slot and runs right after this task. Worker 0's next pop
            // claims S and T0..T6 (8); T7..T11 stay in the ring.
            let s_gate = Gate::new();
            let spinner = {
                let (g, ss, or, so, rn, rds) =
                    (s_gate.clone(), ss.clone(), or.clone(), so.clone(), rn.clone(), rds.clone());
                spawn(async move {
                    g.wait().await;
                    ss.store(true, SeqCst);
                    // T7..T12: all but the seven claimed with the spinner.
                    so.store(spin_until(|| or.load(SeqCst) >= N - 7), SeqCst);
                    *rds.lock().unwrap() =
                        (0..N).filter(|&i| rn[i].load(SeqCst)).collect::<Vec<_>>();
                })
            };
            let gates: Vec<_> = (0..N).map(|_| Gate::new()).collect();
            let mut tasks = Vec::new();
            for (i, g) in gates.iter().enumerate() {
                let (g, or, rn) = (g.clone(), or.clone(), rn.clone());
                tasks.push(spawn(async move {
                    g.wait().await;
                    rn[i].store(true, SeqCst);
                    or.fetch_add(1, SeqCst);
                }));
            }
            s_gate.open();
            for g in &gates {
                g.open();
            }
            (blocker, spinner, tasks)
        }))
        .map(|(blocker, spinner, tasks)| {
            rt.block_on(blocker).unwrap();
            rt.block_on(spinner).unwrap();
            for t in tasks {
                rt.block_on(t).unwrap();
            }
        })
        .unwrap();
    });
    assert!(spinner_started.load(SeqCst));
    let during = ran_during_spin.lock().unwrap().clone();
    println!("tasks (woken in order T0..T12) that ran during the spin: {during:?}");
    assert!(
        spin_ok.load(SeqCst),
        "tasks queued behind the spinner were not stolen during its {SPIN_LIMIT:?} spin; \
         ran: {during:?}"
    );
    assert_eq!(during, (7..N).collect::<Vec<_>>(), "the unclaimed ones ran during the spin");
}
