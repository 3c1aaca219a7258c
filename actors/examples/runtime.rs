//! The runtime: building one, its workers, pinning, and where actors and tasks run.
//!
//! ```text
//! cargo run -p actor12 --example runtime
//! ```

// ANCHOR: imports
use actor12::prelude::*;
use actor12::rt::{Runtime, current_worker, spawn, spawn_blocking, spawn_pinned};
// ANCHOR_END: imports

// ANCHOR: actor
/// Answers with the name of the thread that handled the message.
struct WhereAmI;

struct Ask;

impl Actor for WhereAmI {
    type Message = Multi<Self>;
    type Spec = ();
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();

    fn state(_: &()) {}

    fn init(_: Init<'_, Self>) -> impl InitFuture<Self> {
        std::future::ready(Ok(WhereAmI))
    }
}

impl Handler<Ask> for WhereAmI {
    type Reply = anyhow::Result<String>;

    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Ask) -> Self::Reply {
        Ok(std::thread::current().name().unwrap_or("unnamed").to_string())
    }
}
// ANCHOR_END: actor

fn main() -> anyhow::Result<()> {
    // ANCHOR: build
    // Two worker threads named `docs-0` and `docs-1`. Without a builder, `Runtime::new()` starts
    // one worker per core; without any runtime, `actor12::spawn` uses a process-wide default.
    let runtime = Runtime::builder().worker_threads(2).thread_name("docs").build()?;
    println!("workers: {}", runtime.num_workers());
    // ANCHOR_END: build

    runtime.block_on(async {
        // ANCHOR: actors
        // Actors spawned inside `block_on` (or inside an actor or a task) run on this runtime.
        let actor = actor12::spawn::<WhereAmI>(());
        let thread = actor.ask_dyn(Ask).await?;
        println!("the actor ran on one of our workers: {}", thread.starts_with("docs-"));
        // ANCHOR_END: actors

        // ANCHOR: tasks
        // Plain tasks: `spawn` starts on the current worker and may be stolen by an idle one;
        // `spawn_pinned` runs on the given worker only; `spawn_blocking` keeps blocking work off
        // the workers.
        // (A `JoinHandle` resolves to `Err(JoinError)` if the task panicked or was aborted.)
        let sum = spawn(async { 20 + 22 }).await.expect("task failed");
        let pinned = spawn_pinned(1, async { current_worker() }).await.expect("task failed");
        let blocking = spawn_blocking(current_worker).await.expect("task failed");
        println!("spawn: {sum}, spawn_pinned(1) ran on worker {pinned:?}");
        println!("spawn_blocking ran on worker {blocking:?}");
        // ANCHOR_END: tasks
        anyhow::Ok(())
    })?;

    // ANCHOR: handle
    // A `Handle` reaches the runtime from any thread.
    let handle = runtime.handle();
    let answer = std::thread::spawn(move || handle.block_on(async { spawn(async { 7 }).await }))
        .join()
        .expect("the thread panicked")
        .expect("task failed");
    println!("from another thread: {answer}");
    // ANCHOR_END: handle

    // ANCHOR: pinning
    // Pin worker `i` to core `i`. Where the OS refuses, the worker runs unpinned:
    // `worker_cores` says which core each worker got (`None`: not pinned).
    let pinned = Runtime::builder().worker_threads(2).pin_to_cores(true).build()?;
    let cores = pinned.worker_cores();
    println!(
        "pinned runtime: {} workers, {} core assignments reported",
        pinned.num_workers(),
        cores.len()
    );
    // ANCHOR_END: pinning

    // ANCHOR: spin
    // An idle worker looks for work for 5 ms before it sleeps: a message from outside the
    // runtime within that time finds it awake, at the price of a busy core meanwhile.
    let eager = Runtime::builder()
        .worker_threads(1)
        .spin_before_park(std::time::Duration::from_millis(5))
        .build()?;
    let actor = eager.block_on(async { actor12::spawn::<WhereAmI>(()) });
    let thread = eager.block_on(actor.ask_dyn(Ask))?;
    println!("the spinning runtime's worker answered: {}", thread.starts_with("actor12-"));
    // ANCHOR_END: spin
    Ok(())
}
