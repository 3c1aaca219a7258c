//! Asks from tokio tasks, as a server built on tokio (axum, tonic) asks its actors: actor12's
//! actors on actor12's runtime beside the tokio runtime, against kameo's and ractor's, which run
//! on the tokio runtime itself. Two patterns: back to back (a loop of asks; the workers stay
//! awake), fanned out (eight asks awaited together, as `join_all` does, back to back) and sparse
//! (one ask after each pause of 200 us, which tokio's 1 ms timer stretches to about 1-2 ms; the
//! workers park between them). Then actor12 asked from a plain thread through
//! `Handle::block_on` (its pauses are 200 us). Two tokio workers and two actor12 workers; last,
//! a tokio task again, to actor12 on a runtime of one worker that spins for 5 ms before it
//! parks (`Builder::spin_before_park`), so that the sparse asks find it awake.
//!
//! Run: `cargo run --release -p actor12-benches --bin tokio-asks`

use std::future::Future;
use std::task::Poll;
use std::time::{Duration, Instant};

use actor12::Link;
use actor12_benches::peers::{actor12_handler, kameo_actors, ractor_actors};
use actor12_benches::process_cpu;
use kameo::actor::Spawn;

/// Asks in one back-to-back round.
const ASKS: u64 = 20_000;
/// Back-to-back rounds; the median is reported.
const ROUNDS: usize = 5;
/// Asks awaited together in the fanned-out pattern.
const FAN_OUT: u64 = 8;
/// Sparse asks, each after a pause of [`PAUSE`].
const SPARSE: usize = 1_000;
const PAUSE: Duration = Duration::from_micros(200);
/// `spin_before_park` of the last row's runtime.
const SPIN: Duration = Duration::from_millis(5);

/// One ask of `x`, checked, for each implementation.
#[derive(Clone)]
enum Asker {
    Actor12(Link<actor12_handler::Server>),
    Kameo(kameo::actor::ActorRef<kameo_actors::Server>),
    Ractor(ractor::ActorRef<ractor_actors::Ask>),
}

impl Asker {
    async fn ask(&self, x: u64) {
        let answer = match self {
            Asker::Actor12(link) => {
                link.ask_dyn(actor12_handler::Ask(x)).await.expect("actor12: an answer")
            }
            Asker::Kameo(actor) => {
                actor.ask(kameo_actors::Ask(x)).send().await.expect("kameo: an answer")
            }
            Asker::Ractor(actor) => {
                match actor.call(|reply| ractor_actors::Ask(x, reply), None).await {
                    Ok(ractor::rpc::CallResult::Success(answer)) => answer,
                    _ => panic!("ractor: no answer"),
                }
            }
        };
        assert_eq!(answer, x + 1, "a wrong answer");
    }
}

/// Awaits `futures` together, as `futures::future::join_all` does.
async fn join_all<F: Future<Output = ()>>(futures: Vec<F>) {
    let mut futures: Vec<_> = futures.into_iter().map(|f| Some(Box::pin(f))).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for slot in &mut futures {
            if let Some(future) = slot {
                if future.as_mut().poll(cx).is_ready() {
                    *slot = None;
                } else {
                    pending = true;
                }
            }
        }
        if pending { Poll::Pending } else { Poll::Ready(()) }
    })
    .await
}

/// The sparse asks' latencies, sorted, and the cores the process kept busy meanwhile (its CPU
/// time over the wall time: every runtime's threads, the asker's included).
struct Sparse {
    latencies: Vec<Duration>,
    cores: f64,
}

/// Times `ask` `SPARSE` times, each after `pause`.
async fn sparse<F: Future<Output = ()>>(ask: impl Fn(u64) -> F, pause: impl AsyncFn()) -> Sparse {
    let (cpu, wall) = (process_cpu(), Instant::now());
    let mut latencies = Vec::with_capacity(SPARSE);
    for x in 0..SPARSE as u64 {
        pause().await;
        let start = Instant::now();
        ask(x).await;
        latencies.push(start.elapsed());
    }
    let cores = (process_cpu() - cpu).as_secs_f64() / wall.elapsed().as_secs_f64();
    Sparse { latencies: sorted(latencies), cores }
}

/// Back to back, and fanned out: the median over [`ROUNDS`] of the mean ns per ask; then
/// sparse.
async fn measure(asker: Asker) -> (f64, f64, Sparse) {
    for x in 0..1_000 {
        asker.ask(x).await;
    }
    let mut rounds = Vec::new();
    for _ in 0..ROUNDS {
        let start = Instant::now();
        for x in 0..ASKS {
            asker.ask(x).await;
        }
        rounds.push(start.elapsed().as_nanos() as f64 / ASKS as f64);
    }
    let mut fanned = Vec::new();
    for _ in 0..ROUNDS {
        let start = Instant::now();
        for batch in 0..ASKS / FAN_OUT {
            join_all((0..FAN_OUT).map(|i| asker.ask(batch * FAN_OUT + i)).collect()).await;
        }
        fanned.push(start.elapsed().as_nanos() as f64 / ASKS as f64);
    }
    let sparse = sparse(|x| asker.ask(x), async || tokio::time::sleep(PAUSE).await).await;
    (median(rounds), median(fanned), sparse)
}

/// Back to back and sparse, from a plain thread through actor12's `block_on`, sleeping between sparse asks.
fn measure_plain(
    handle: &actor12::rt::Handle,
    link: &Link<actor12_handler::Server>,
) -> (f64, Sparse) {
    let ask = |x: u64| {
        let answer =
            handle.block_on(link.ask_dyn(actor12_handler::Ask(x))).expect("actor12: an answer");
        assert_eq!(answer, x + 1, "a wrong answer");
    };
    (0..1_000).for_each(ask);
    let mut rounds = Vec::new();
    for _ in 0..ROUNDS {
        let start = Instant::now();
        (0..ASKS).for_each(ask);
        rounds.push(start.elapsed().as_nanos() as f64 / ASKS as f64);
    }
    // Every ask blocks in `block_on`, and every pause in a thread sleep: one poll finishes it.
    let sparse = std::pin::pin!(sparse(
        |x| {
            ask(x);
            std::future::ready(())
        },
        async || std::thread::sleep(PAUSE),
    ))
    .poll(&mut std::task::Context::from_waker(std::task::Waker::noop()));
    let Poll::Ready(sparse) = sparse else { unreachable!("nothing in it waits") };
    (median(rounds), sparse)
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn sorted(mut xs: Vec<Duration>) -> Vec<Duration> {
    xs.sort();
    xs
}

fn us(sorted: &[Duration], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize].as_secs_f64() * 1e6
}

fn main() {
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let actor12 =
        actor12::rt::Runtime::builder().worker_threads(2).build().expect("an actor12 runtime");
    let link = actor12.block_on(async { actor12::spawn::<actor12_handler::Server>(()) });

    let mut rows = Vec::new();
    for (name, asker) in [
        ("actor12, from a tokio task", Asker::Actor12(link.clone())),
        (
            "kameo",
            Asker::Kameo(
                tokio.block_on(async { kameo_actors::Server::spawn(kameo_actors::Server) }),
            ),
        ),
        (
            "ractor",
            Asker::Ractor(tokio.block_on(async {
                let server = ractor_actors::Server;
                ractor::Actor::spawn(None, server, ()).await.expect("ractor: spawned").0
            })),
        ),
    ] {
        let (b2b, fanned, sparse) =
            tokio.block_on(async move { tokio::spawn(measure(asker)).await.expect("the asker") });
        rows.push((name, b2b, Some(fanned), sparse));
        eprintln!("tokio-asks: {name} done");
    }
    let (b2b, sparse) = measure_plain(&actor12.handle(), &link);
    rows.push(("actor12, from a plain thread (block_on)", b2b, None, sparse));

    // The same asks from a tokio task to an actor on a runtime whose one worker keeps looking
    // for work for 5 ms before it sleeps, longer than the sparse pattern's pauses.
    let spinning = actor12::rt::Runtime::builder()
        .worker_threads(1)
        .spin_before_park(SPIN)
        .build()
        .expect("an actor12 runtime");
    let asker =
        Asker::Actor12(spinning.block_on(async { actor12::spawn::<actor12_handler::Server>(()) }));
    let (b2b, fanned, sparse) =
        tokio.block_on(async move { tokio::spawn(measure(asker)).await.expect("the asker") });
    rows.push((
        "actor12 (1 worker, spin_before_park 5 ms), from a tokio task",
        b2b,
        Some(fanned),
        sparse,
    ));
    drop(spinning);

    println!(
        "\n{ROUNDS} rounds of {ASKS} asks back to back, and fanned out {FAN_OUT} at a time (median \
         ns per ask); {SPARSE} asks after pauses of {} us (latency in us, and the cores the \
         process kept busy meanwhile: CPU time over wall time)\n",
        PAUSE.as_micros()
    );
    println!(
        "| asker, actor | back to back, ns | fanned out, ns | sparse p50, us | sparse p90, us | \
         sparse p99, us | sparse, cores busy |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for (name, b2b, fanned, sparse) in rows {
        let fanned = fanned.map_or("-".to_owned(), |f| format!("{f:.0}"));
        println!(
            "| {name} | {b2b:.0} | {fanned} | {:.1} | {:.1} | {:.1} | {:.2} |",
            us(&sparse.latencies, 0.5),
            us(&sparse.latencies, 0.9),
            us(&sparse.latencies, 0.99),
            sparse.cores
        );
    }
}
