//! Raw tokio: an "actor" is a task that owns the receiving end of a `tokio::sync::mpsc`
//! unbounded channel and loops on `recv`; a reply travels on a `tokio::sync::oneshot`. No
//! framework: the floor that tokio-based frameworks build on.
//!
//! The workload's driver runs as a task on the runtime's workers, like the actors. Each
//! workload runs twice: as `tokio`, on a multi-threaded runtime with as many workers as
//! actor12's, and as `tokio-1t`, on a current-thread runtime, where a wake-up never crosses a
//! thread (the workloads' `THREADS`: 0 for the workers, 1 for one thread; see
//! [`on_threads`]).

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};

use super::{
    BigActor, BigStep, BytesWindow, Creature, Mall, MallStep, Measurement, Meet, Params, Peer,
    Workload, all_poked, all_started, check_big, check_chameneos, expect_starts,
    fork_join_expected_sum, on_threads, poked, reported, reset_pokes, started, sum_below,
};

/// The implementation's name: a multi-threaded runtime with [`workers`](crate::workers) workers.
pub const IMPL: &str = "tokio";

/// The same tasks on a current-thread runtime: one thread, no cross-thread wake-ups.
pub const IMPL_ONE_THREAD: &str = "tokio-1t";

/// The eight workloads, on each of the two runtimes.
pub fn benches() -> Vec<Peer> {
    on_both_tokio_runtimes!(IMPL, IMPL_ONE_THREAD)
}

/// Two tasks bounce a counter; the pinger reports after the last round trip.
pub fn ping_pong<const THREADS: usize>(p: &Params) -> Measurement {
    let n = p.round_trips;
    on_threads(THREADS, async move {
        let (to_ponger, mut ponger_rx) = mpsc::unbounded_channel::<u64>();
        let (to_pinger, mut pinger_rx) = mpsc::unbounded_channel::<u64>();
        let (done_tx, done_rx) = oneshot::channel::<u64>();
        let ponger = tokio::spawn(async move {
            while let Some(x) = ponger_rx.recv().await {
                if to_pinger.send(x).is_err() {
                    break;
                }
            }
        });
        let serve = to_ponger.clone();
        let pinger = tokio::spawn(async move {
            let mut received = 0;
            while let Some(x) = pinger_rx.recv().await {
                received += 1;
                assert_eq!(x, received, "ping_pong: a ball was lost or reordered");
                if received == n {
                    break;
                }
                serve.send(x + 1).expect("the ponger is alive");
            }
            done_tx.send(received).expect("the driver waits");
        });

        let start = Instant::now();
        to_ponger.send(1).expect("the ponger is alive");
        let received = reported(done_rx).await.expect("the pinger reports");
        let elapsed = start.elapsed();

        assert_eq!(received, n, "ping_pong: round trips");
        drop(to_ponger);
        pinger.await.expect("pinger");
        ponger.await.expect("ponger");
        Measurement::timed(elapsed, n)
    })
}

/// A client asks one task `n` times; the task answers each `x` with `x + 1`.
pub fn ask<const THREADS: usize>(p: &Params) -> Measurement {
    let n = p.asks;
    on_threads(THREADS, async move {
        let (tx, mut rx) = mpsc::unbounded_channel::<(u64, oneshot::Sender<u64>)>();
        let server = tokio::spawn(async move {
            let mut served = 0u64;
            while let Some((x, reply)) = rx.recv().await {
                served += 1;
                let _ = reply.send(x + 1);
            }
            served
        });

        let start = Instant::now();
        let mut sum = 0;
        for x in 0..n {
            let (reply_tx, reply_rx) = oneshot::channel();
            tx.send((x, reply_tx)).expect("the server is alive");
            let answer = reply_rx.await.expect("the server answers");
            assert_eq!(answer, x + 1, "ask: wrong answer");
            sum += answer;
        }
        let elapsed = start.elapsed();

        assert_eq!(sum, sum_below(n) + n, "ask: answers");
        drop(tx);
        assert_eq!(server.await.expect("server"), n, "ask: requests served");
        Measurement::timed(elapsed, n)
    })
}

/// Eight sender tasks tell one receiving task; it reports count and sum after the last one.
pub fn fan_in<const THREADS: usize>(p: &Params) -> Measurement {
    let (senders, m) = (p.fan_in_senders, p.fan_in_messages);
    let per_sender = m / senders;
    assert_eq!(per_sender * senders, m, "fan_in: messages must divide among the senders");
    on_threads(THREADS, async move {
        let (tx, mut rx) = mpsc::unbounded_channel::<u64>();
        let (done_tx, done_rx) = oneshot::channel::<(u64, u64)>();
        let receiver = tokio::spawn(async move {
            let (mut count, mut sum) = (0, 0);
            while let Some(x) = rx.recv().await {
                count += 1;
                sum += x;
                if count == m {
                    break;
                }
            }
            done_tx.send((count, sum)).expect("the driver waits");
        });

        let start = Instant::now();
        let tasks: Vec<_> = (0..senders)
            .map(|s| {
                let tx = tx.clone();
                tokio::spawn(async move {
                    for x in s * per_sender..(s + 1) * per_sender {
                        tx.send(x).expect("the receiver is alive");
                    }
                })
            })
            .collect();
        let (count, sum) = reported(done_rx).await.expect("the receiver reports");
        let elapsed = start.elapsed();

        assert_eq!((count, sum), (m, sum_below(m)), "fan_in: count and sum received");
        for task in tasks {
            task.await.expect("sender");
        }
        receiver.await.expect("receiver");
        Measurement::timed(elapsed, m)
    })
}

/// The token that stops a ring task; real tokens count down from the hops to 0.
const STOP: u64 = u64::MAX;

/// A token counts down round a ring of tasks; whoever receives 0 reports its place.
pub fn ring<const THREADS: usize>(p: &Params) -> Measurement {
    let (actors, hops) = (p.ring_actors as usize, p.ring_hops);
    on_threads(THREADS, async move {
        let (done_tx, mut done_rx) = mpsc::unbounded_channel::<usize>();
        let (txs, rxs): (Vec<_>, Vec<_>) =
            (0..actors).map(|_| mpsc::unbounded_channel::<u64>()).unzip();
        let tasks: Vec<_> = rxs
            .into_iter()
            .enumerate()
            .map(|(i, mut rx)| {
                let next = txs[(i + 1) % actors].clone();
                let done = done_tx.clone();
                tokio::spawn(async move {
                    while let Some(token) = rx.recv().await {
                        match token {
                            STOP => {
                                let _ = next.send(STOP);
                                break;
                            }
                            0 => done.send(i).expect("the driver waits"),
                            k => next.send(k - 1).expect("the next task is alive"),
                        }
                    }
                })
            })
            .collect();

        let start = Instant::now();
        txs[0].send(hops).expect("the first task is alive");
        let last = reported(done_rx.recv()).await.expect("a task reports");
        let elapsed = start.elapsed();

        assert_eq!(last, hops as usize % actors, "ring: the token stopped at the wrong place");
        txs[0].send(STOP).expect("the first task is alive");
        for task in tasks {
            task.await.expect("ring task");
        }
        Measurement::timed(elapsed, hops)
    })
}

/// An idle task: counts what it receives until its channel closes.
fn spawn_idle(actors: &mut Vec<(mpsc::UnboundedSender<u64>, tokio::task::JoinHandle<u64>)>) {
    let (tx, mut rx) = mpsc::unbounded_channel::<u64>();
    let task = tokio::spawn(async move {
        started();
        let mut received = 0;
        while rx.recv().await.is_some() {
            received += 1;
            poked();
        }
        received
    });
    actors.push((tx, task));
}

/// Stops the tasks (closes their channels) and waits for each to finish, checking that each
/// received `told` messages.
async fn stop_all(
    actors: Vec<(mpsc::UnboundedSender<u64>, tokio::task::JoinHandle<u64>)>,
    told: u64,
) {
    let (txs, tasks): (Vec<_>, Vec<_>) = actors.into_iter().unzip();
    drop(txs);
    for task in tasks {
        assert_eq!(task.await.expect("idle task"), told, "spawn_stop: an idle task's messages");
    }
}

/// Spawns `n` idle tasks, counting live bytes once they are parked, and stops them; then again,
/// timed (see [`spawn_stop` in `peers`](super)).
pub fn spawn_stop<const THREADS: usize>(p: &Params) -> Measurement {
    let n = p.spawn_actors;
    on_threads(THREADS, async move {
        let mut actors = Vec::with_capacity(n as usize);
        let window = BytesWindow::open();
        for _ in 0..n {
            spawn_idle(&mut actors);
        }
        // Let every task reach its first `recv` and park.
        tokio::time::sleep(Duration::from_millis(20)).await;
        let fresh = window.now(n);
        reset_pokes();
        for (tx, _) in &actors {
            tx.send(1).expect("the idle task is alive");
        }
        all_poked(n, tokio::time::sleep).await;
        let bytes_per_actor = window.close(n, fresh);
        stop_all(actors, 1).await;

        let mut actors = Vec::with_capacity(n as usize);
        expect_starts(n);
        let start = Instant::now();
        for _ in 0..n {
            spawn_idle(&mut actors);
        }
        all_started().await;
        stop_all(actors, 0).await; // the handles go inside the timed window
        let elapsed = start.elapsed();
        Measurement { elapsed, ops: n, bytes_per_actor }
    })
}

/// One sender tells `m` messages round-robin to 64 tasks; each reports its sum when it has all
/// of its share.
pub fn fork_join<const THREADS: usize>(p: &Params) -> Measurement {
    let (actors, m) = (p.fork_join_actors, p.fork_join_messages);
    let share = m / actors;
    assert_eq!(share * actors, m, "fork_join: messages must divide among the actors");
    on_threads(THREADS, async move {
        let (done_tx, mut done_rx) = mpsc::unbounded_channel::<(u64, u64)>();
        let (txs, tasks): (Vec<_>, Vec<_>) = (0..actors)
            .map(|i| {
                let (tx, mut rx) = mpsc::unbounded_channel::<u64>();
                let done = done_tx.clone();
                let task = tokio::spawn(async move {
                    let (mut count, mut sum) = (0, 0);
                    while let Some(x) = rx.recv().await {
                        count += 1;
                        sum += x;
                        if count == share {
                            done.send((i, sum)).expect("the driver waits");
                        }
                    }
                    count
                });
                (tx, task)
            })
            .unzip();

        let start = Instant::now();
        for x in 0..m {
            txs[(x % actors) as usize].send(x).expect("the actor is alive");
        }
        let mut sums = vec![None; actors as usize];
        for _ in 0..actors {
            let (i, sum) = reported(done_rx.recv()).await.expect("an actor reports");
            sums[i as usize] = Some(sum);
        }
        let elapsed = start.elapsed();

        for (i, sum) in sums.into_iter().enumerate() {
            assert_eq!(sum, Some(fork_join_expected_sum(i as u64, actors, m)), "fork_join: sum");
        }
        drop(txs);
        for task in tasks {
            assert_eq!(task.await.expect("fork_join task"), share, "fork_join: count");
        }
        Measurement::timed(elapsed, m)
    })
}

/// What a creature task of `chameneos` receives.
enum ToCreature {
    /// Every creature's sender: the first message, before the timed part.
    Table(Arc<Vec<mpsc::UnboundedSender<ToCreature>>>),
    /// Starts the timed part: the creature's first request.
    Go,
    /// The mall paired the creature with `partner`, of colour `color`.
    Paired { partner: usize, color: u8 },
    /// The creature's partner took colour `color` at their meeting.
    Change { color: u8 },
    /// Ends the task.
    Stop,
}

/// What the mall task of `chameneos` receives.
enum ToMall {
    /// Every creature's sender: the first message, before the timed part.
    Table(Arc<Vec<mpsc::UnboundedSender<ToCreature>>>),
    /// A creature's request.
    Meet(Meet),
    /// Ends the task.
    Stop,
}

/// Creature `i` of `chameneos`: requests meetings of `mall` until told to stop.
fn spawn_creature(
    i: usize,
    mall: mpsc::UnboundedSender<ToMall>,
) -> (mpsc::UnboundedSender<ToCreature>, tokio::task::JoinHandle<()>) {
    let (tx, mut rx) = mpsc::unbounded_channel::<ToCreature>();
    let task = tokio::spawn(async move {
        let Some(ToCreature::Table(all)) = rx.recv().await else {
            panic!("chameneos: the table comes first");
        };
        let request = |creature: &Creature| {
            mall.send(ToMall::Meet(creature.meet())).expect("chameneos: the mall is alive");
        };
        let mut creature = Creature::new(i);
        while let Some(msg) = rx.recv().await {
            match msg {
                ToCreature::Go => request(&creature),
                ToCreature::Paired { partner, color } => {
                    let mine = creature.paired(color);
                    all[partner]
                        .send(ToCreature::Change { color: mine })
                        .expect("chameneos: the partner is alive");
                    request(&creature);
                }
                ToCreature::Change { color } => {
                    creature.changed(color);
                    request(&creature);
                }
                ToCreature::Stop => break,
                ToCreature::Table(_) => panic!("chameneos: a second table"),
            }
        }
    });
    (tx, task)
}

/// The mall of `chameneos`: pairs the creatures' requests, and reports the creatures' meetings
/// on `done` once all have retired.
fn spawn_mall(
    mut mall: Mall,
    done: oneshot::Sender<u64>,
) -> (mpsc::UnboundedSender<ToMall>, tokio::task::JoinHandle<()>) {
    let (tx, mut rx) = mpsc::unbounded_channel::<ToMall>();
    let task = tokio::spawn(async move {
        let Some(ToMall::Table(creatures)) = rx.recv().await else {
            panic!("chameneos: the table comes first");
        };
        let mut done = Some(done);
        while let Some(msg) = rx.recv().await {
            match msg {
                ToMall::Meet(request) => match mall.meet(request) {
                    MallStep::Wait | MallStep::Retired => {}
                    MallStep::Pair { to, partner, color } => creatures[to]
                        .send(ToCreature::Paired { partner, color })
                        .expect("chameneos: the creature is alive"),
                    MallStep::Done { met } => done
                        .take()
                        .expect("chameneos: reported once")
                        .send(met)
                        .expect("chameneos: the driver waits"),
                },
                ToMall::Stop => break,
                ToMall::Table(_) => panic!("chameneos: a second table"),
            }
        }
    });
    (tx, task)
}

/// Creatures meet in pairs through one mall task; the mall reports the creatures' meetings
/// once all have retired.
pub fn chameneos<const THREADS: usize>(p: &Params) -> Measurement {
    let p = *p;
    on_threads(THREADS, async move {
        let (done_tx, done_rx) = oneshot::channel::<u64>();
        let (to_mall, mall) =
            spawn_mall(Mall::new(p.chameneos_creatures, p.chameneos_meetings), done_tx);
        let (txs, tasks): (Vec<_>, Vec<_>) =
            (0..p.chameneos_creatures as usize).map(|i| spawn_creature(i, to_mall.clone())).unzip();
        let creatures = Arc::new(txs);
        for creature in creatures.iter() {
            creature
                .send(ToCreature::Table(creatures.clone()))
                .expect("chameneos: the creature is alive");
        }
        to_mall.send(ToMall::Table(creatures.clone())).expect("chameneos: the mall is alive");

        let start = Instant::now();
        for creature in creatures.iter() {
            creature.send(ToCreature::Go).expect("chameneos: the creature is alive");
        }
        let met = reported(done_rx).await.expect("the mall reports");
        let elapsed = start.elapsed();

        check_chameneos(met, &p);
        for creature in creatures.iter() {
            creature.send(ToCreature::Stop).expect("chameneos: the creature is alive");
        }
        to_mall.send(ToMall::Stop).expect("chameneos: the mall is alive");
        for task in tasks {
            task.await.expect("chameneos creature");
        }
        mall.await.expect("chameneos mall");
        Measurement::timed(elapsed, p.chameneos_meetings)
    })
}

/// What a task of `big` receives.
enum ToBig {
    /// Every task's sender: the first message, before the timed part.
    Table(Arc<Vec<mpsc::UnboundedSender<ToBig>>>),
    /// Starts the timed part: the first ping.
    Go,
    /// Ping `seq` of task `from`, which awaits its pong.
    Ping { from: usize, seq: u64 },
    /// Task `from`'s answer to ping `seq`.
    Pong { from: usize, seq: u64 },
    /// Ends the task.
    Stop,
}

/// Task `me` of `big`: pings random others one at a time, answers their pings, and sends `me`
/// on `done` once each of its pings has had its pong.
fn spawn_big(
    mut big: BigActor,
    me: usize,
    done: mpsc::UnboundedSender<usize>,
) -> (mpsc::UnboundedSender<ToBig>, tokio::task::JoinHandle<()>) {
    let (tx, mut rx) = mpsc::unbounded_channel::<ToBig>();
    let task = tokio::spawn(async move {
        let Some(ToBig::Table(all)) = rx.recv().await else {
            panic!("big: the table comes first");
        };
        while let Some(msg) = rx.recv().await {
            let step = match msg {
                ToBig::Go => big.start(),
                ToBig::Pong { from, seq } => big.pong(from, seq),
                ToBig::Ping { from, seq } => {
                    let pong = ToBig::Pong { from: me, seq };
                    all[from].send(pong).expect("big: the pinger is alive");
                    continue;
                }
                ToBig::Stop => break,
                ToBig::Table(_) => panic!("big: a second table"),
            };
            match step {
                BigStep::Ping { to, seq } => {
                    all[to].send(ToBig::Ping { from: me, seq }).expect("big: the target is alive")
                }
                BigStep::Done => done.send(me).expect("big: the driver waits"),
            }
        }
    });
    (tx, task)
}

/// Every task pings random others, one ping at a time, and reports once each of its pings has
/// had its pong.
pub fn big<const THREADS: usize>(p: &Params) -> Measurement {
    let p = *p;
    let (actors, pings) = (p.big_actors, p.big_pings);
    on_threads(THREADS, async move {
        let (done_tx, mut done_rx) = mpsc::unbounded_channel::<usize>();
        let (txs, tasks): (Vec<_>, Vec<_>) = (0..actors as usize)
            .map(|me| spawn_big(BigActor::new(me, actors, pings), me, done_tx.clone()))
            .unzip();
        let all = Arc::new(txs);
        for tx in all.iter() {
            tx.send(ToBig::Table(all.clone())).expect("big: the task is alive");
        }

        let start = Instant::now();
        for tx in all.iter() {
            tx.send(ToBig::Go).expect("big: the task is alive");
        }
        let mut reports = Vec::with_capacity(actors as usize);
        for _ in 0..actors {
            reports.push(reported(done_rx.recv()).await.expect("a task reports"));
        }
        let elapsed = start.elapsed();

        check_big(reports, &p);
        for tx in all.iter() {
            tx.send(ToBig::Stop).expect("big: the task is alive");
        }
        for task in tasks {
            task.await.expect("big task");
        }
        Measurement::timed(elapsed, p.ops(Workload::Big))
    })
}
