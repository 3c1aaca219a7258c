//! The `tokio` feature and tokio's cooperative budget: actor12's sends, replies and join
//! handles awaited in a tokio task spend it, as tokio's own channels do (actor12 0.0.11's
//! mailboxes and reply slots were tokio's), so a loop of them gives its tokio thread back to the
//! runtime's other tasks, timers and sockets. Run with `cargo test -p actor12 --features tokio
//! --test tokio_coop` (CI does).
#![cfg(feature = "tokio")]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};

mod support;

use actor12::prelude::*;
use actor12::{Call, HandlerMessage};
use support::{HANG, actor};

/// Room for all of a test's messages; its first message holds it until a gate opens.
struct Roomy;

actor!(
    Roomy,
    spec = (),
    cancel = (),
    init = |_ctx| Roomy,
    extra = {
        fn mailbox_capacity() -> usize {
            10 * N
        }
    }
);

struct Gate(actor12::oneshot::Receiver<()>);

impl Handler<Gate> for Roomy {
    type Reply = anyhow::Result<()>;
    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, gate: Gate) -> Self::Reply {
        let _ = gate.0.await;
        Ok(())
    }
}

struct Ping;

impl Handler<Ping> for Roomy {
    type Reply = anyhow::Result<u32>;
    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Ping) -> Self::Reply {
        Ok(1)
    }
}

/// Far more than tokio's budget of 128 a turn.
const N: usize = 1000;

/// A flag another task of the current tokio runtime sets once it gets a turn.
fn other_task() -> Arc<AtomicBool> {
    let ran = Arc::new(AtomicBool::new(false));
    let flag = ran.clone();
    tokio::spawn(async move { flag.store(true, SeqCst) });
    ran
}

/// `N` replies already answered, awaited back to back. tokio's oneshot gives the runtime back
/// within 128 of them (the control); actor12's replies never did.
#[tokio::test(flavor = "current_thread")]
async fn replies_already_answered_give_the_tokio_thread_back() {
    let replies: Vec<_> = (0..N)
        .map(|i| {
            let (tx, rx) = tokio::sync::oneshot::channel();
            tx.send(i).unwrap();
            rx
        })
        .collect();
    let ran = other_task();
    for reply in replies {
        reply.await.unwrap();
    }
    assert!(ran.load(SeqCst), "control: tokio's oneshot did not give the thread back");

    let actor = actor12::spawn::<Roomy>(());
    let mut handles = Vec::with_capacity(N);
    for _ in 0..N {
        handles.push(actor.send_message(HandlerMessage::new(Ping)).await);
    }
    // Answered in order: once this one is, every one above is.
    actor.ask_dyn(Ping).await.unwrap();
    let ran = other_task();
    for handle in handles {
        assert_eq!(handle.reply().await.unwrap().unwrap(), 1);
    }
    assert!(ran.load(SeqCst), "{N} actor12 replies in a row kept the tokio thread");
}

/// `N` sends that find room, back to back. tokio's bounded channel gives the runtime back
/// within 128 of them (the control); actor12's sends never did.
#[tokio::test(flavor = "current_thread")]
async fn sends_that_find_room_give_the_tokio_thread_back() {
    let (tx, _rx) = tokio::sync::mpsc::channel::<usize>(N);
    let ran = other_task();
    for i in 0..N {
        tx.send(i).await.unwrap();
    }
    assert!(ran.load(SeqCst), "control: tokio's channel did not give the thread back");

    let actor = actor12::spawn::<Roomy>(());
    let (open, gate) = actor12::oneshot::channel();
    actor.tell_dyn(Gate(gate)).await;
    let ran = other_task();
    for _ in 0..N {
        actor.tell_dyn(Ping).await;
    }
    let gave_back = ran.load(SeqCst);
    let _ = open.send(());
    assert!(gave_back, "{N} actor12 sends in a row kept the tokio thread");
}

/// `N` join handles of finished actor12 tasks, awaited back to back: the runtime's own leaf
/// futures spend tokio's budget too.
#[tokio::test(flavor = "current_thread")]
async fn join_handles_of_finished_tasks_give_the_tokio_thread_back() {
    let finished = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..N)
        .map(|_| {
            let finished = finished.clone();
            actor12::rt::spawn(async move {
                finished.fetch_add(1, SeqCst);
            })
        })
        .collect();
    // The tasks run on actor12's workers: this thread may wait for them.
    let start = std::time::Instant::now();
    while finished.load(SeqCst) < N {
        assert!(start.elapsed() < HANG, "the tasks did not finish");
        std::thread::yield_now();
    }
    let ran = other_task();
    for handle in handles {
        handle.await.unwrap();
    }
    assert!(ran.load(SeqCst), "{N} actor12 join handles in a row kept the tokio thread");
}

/// A `block_on` of actor12's inside a tokio task does not spend tokio's budget: a wake that
/// tokio defers to the task's next turn would never come while the task blocks. After it, the
/// task's sends spend tokio's budget again.
#[test]
fn a_block_on_inside_a_tokio_task_asks_past_tokios_budget() {
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let tokio = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let outcome = tokio.block_on(async {
            let actor = actor12::spawn::<Roomy>(());
            let answers = actor12::rt::Handle::current_or_default().block_on(async {
                let mut answers = 0;
                for _ in 0..N {
                    answers += actor.ask_dyn(Ping).await.unwrap();
                }
                answers
            });
            let ran = other_task();
            for _ in 0..N {
                actor.tell_dyn(Ping).await;
            }
            (answers, ran.load(SeqCst))
        });
        let _ = done.send(outcome);
    });
    let (answers, gave_back) = finished.recv_timeout(HANG).expect("the block_on hung");
    assert_eq!(answers as usize, N);
    assert!(gave_back, "after a block_on, {N} actor12 sends in a row kept the tokio thread");
}

/// In a tokio task, `actor12::time::timeout` around a future that spends tokio's budget on
/// every poll (a busy tokio channel) fires, as tokio's own `timeout` does: its deadline is
/// looked at past the budget.
#[tokio::test(flavor = "current_thread")]
async fn a_timeout_around_a_busy_tokio_channel_fires() {
    let busy = async {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<u32>();
        loop {
            tx.send(1).unwrap();
            rx.recv().await;
        }
    };
    let timed = actor12::time::timeout(std::time::Duration::from_millis(20), busy);
    let fired = tokio::time::timeout(HANG, timed).await;
    assert!(fired.expect("the 20 ms timeout never fired").is_err());
}
