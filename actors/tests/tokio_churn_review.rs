//! The `tokio` feature under churn: asks with deadlines from tokio tasks (their timers armed on
//! actor12's workers from tokio's threads), tokio timers in actors' handlers (on the side
//! runtime), actors spawned from tokio tasks and stopped. Live heap bytes after N iterations
//! against after 2N, the work finished between. Run with `cargo test -p actor12 --features
//! tokio --test tokio_churn_review`.
#![cfg(feature = "tokio")]

use std::time::Duration;

use actor12::prelude::*;
use actor12::{MessageError, MpscChannel};

#[path = "support/live_heap.rs"]
mod live_heap;

use live_heap::growth;

#[global_allocator]
static GLOBAL: live_heap::LiveBytes = live_heap::LiveBytes;

struct Napper;

impl Actor for Napper {
    type Message = actor12::Multi<Self>;
    type Spec = ();
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();
    fn state(_: &()) {}
    fn init(_: Init<'_, Self>) -> impl InitFuture<Self> {
        std::future::ready(Ok(Napper))
    }
}

/// Sleeps on tokio's timer for `.0` microseconds, then answers.
struct Nap(u64);

impl Handler<Nap> for Napper {
    type Reply = anyhow::Result<u64>;
    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, Nap(us): Nap) -> Self::Reply {
        tokio::time::sleep(Duration::from_micros(us)).await;
        Ok(us)
    }
}

/// Waits until its gate opens, then sleeps on tokio's timer for `.1` microseconds and answers:
/// an answer that comes after its asker's deadline whatever the load, since the asker opens the
/// gate only once its ask has timed out.
struct GatedNap(actor12::oneshot::Receiver<()>, u64);

impl Handler<GatedNap> for Napper {
    type Reply = anyhow::Result<u64>;
    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, nap: GatedNap) -> Self::Reply {
        let GatedNap(gate, us) = nap;
        let _ = gate.await;
        tokio::time::sleep(Duration::from_micros(us)).await;
        Ok(us)
    }
}

/// Sized so that a leak of 8 bytes an ask, 82 bytes a timed-out ask or 16 bytes an actor
/// exceeds the slack over the two measured rounds, in about 7 s (tokio's timer naps in
/// milliseconds).
#[test]
fn tokio_bridge_churn_keeps_nothing() {
    let tokio =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let napper = tokio.block_on(async { actor12::spawn::<Napper>(()) });
    let mut results = Vec::new();
    results.push(growth("asks with a deadline from a tokio task", 1_000, 8192, |n| {
        let napper = napper.clone();
        tokio
            .block_on(tokio.spawn(async move {
                for _ in 0..n {
                    let r = napper
                        .send_with_timeout(HandlerMessage::new(Nap(0)), Duration::from_secs(3600));
                    assert_eq!(r.await.unwrap().unwrap(), 0);
                }
            }))
            .unwrap()
    }));
    results.push(growth("asks from a tokio task that time out", 100, 8192, |n| {
        let napper = napper.clone();
        tokio
            .block_on(tokio.spawn(async move {
                for _ in 0..n {
                    // A nap of 5 ms alone did not make the answer late: `Timeout` polls the
                    // reply before its timer, so an answer there by the time the asking task
                    // runs again wins, and under load from other processes a nap's answer was
                    // there first (`Ok(Ok(5000))`, 2 of 8 runs). The gate makes it late.
                    let (open, gate) = actor12::oneshot::channel();
                    let h = napper.send_message(HandlerMessage::new(GatedNap(gate, 5_000))).await;
                    let r = h.timeout(Duration::from_micros(100)).reply().await;
                    assert!(matches!(r, Err(MessageError::Timeout { .. })), "{r:?}");
                    let _ = open.send(());
                }
                // Every nap answered (late) before the round ends.
                assert_eq!(napper.ask_dyn(Nap(0)).await.unwrap(), 0);
            }))
            .unwrap()
    }));
    results.push(growth("actors spawned from a tokio task and stopped", 500, 8192, |n| {
        tokio
            .block_on(tokio.spawn(async move {
                for _ in 0..n {
                    let a = actor12::spawn::<Napper>(());
                    assert_eq!(a.ask_dyn(Nap(1)).await.unwrap(), 1);
                    a.cancel_and_wait(()).await;
                }
            }))
            .unwrap()
    }));
    for (what, (first, second)) in ["deadline", "time out", "spawn and stop"].iter().zip(results) {
        assert!(second <= 8192, "{what}: grew by {first} bytes, then {second}");
    }
}
