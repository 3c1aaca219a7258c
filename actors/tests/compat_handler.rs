//! actor12 0.0.11 behaviour, handler style: several message types on one actor, replies
//! returned, taken by hand or produced by a background task (`reply_async`), and the calls
//! 0.0.11 users make from `#[tokio::test]` (a tokio thread spawning actor12 actors).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::task::{Context, Poll};

use actor12::oneshot;
use actor12::prelude::*;
use actor12::{ActorError, Call, Envelope, MpscChannel, Multi};

/// Handles strings, numbers, a gated async reply and a reply taken by hand.
struct Desk {
    seen: Vec<String>,
    parked: Option<oneshot::Sender<anyhow::Result<u32>>>,
}

impl Actor for Desk {
    type Message = Multi<Self>;
    type Spec = ();
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();

    fn state(_: &()) {}

    // 0.0.11's long spelling of the init signature.
    fn init(
        _: Init<'_, Self>,
    ) -> impl Future<Output = Result<Self, Self::Cancel>> + Send + 'static {
        std::future::ready(Ok(Desk { seen: Vec::new(), parked: None }))
    }
}

impl Handler<String> for Desk {
    type Reply = Result<String, anyhow::Error>;

    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, text: String) -> Self::Reply {
        self.seen.push(text.clone());
        Ok(text.to_uppercase())
    }
}

impl Handler<u32> for Desk {
    type Reply = anyhow::Result<u32>;

    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, n: u32) -> Self::Reply {
        self.seen.push(n.to_string());
        Ok(n * 2)
    }
}

/// Everything the actor has seen, in order.
struct Seen;

impl Handler<Seen> for Desk {
    type Reply = anyhow::Result<Vec<String>>;

    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Seen) -> Self::Reply {
        Ok(self.seen.clone())
    }
}

/// Answered by a background task once the gate opens.
struct Gated(oneshot::Receiver<u32>);

impl Handler<Gated> for Desk {
    type Reply = anyhow::Result<u32>;

    async fn handle(&mut self, mut ctx: Call<'_, Self, Self::Reply>, gate: Gated) -> Self::Reply {
        ctx.reply_async(async move { Ok(gate.0.await? + 1) })
    }
}

/// Tries to answer asynchronously twice: the second attempt finds the slot taken.
struct Twice;

impl Handler<Twice> for Desk {
    type Reply = anyhow::Result<u32>;

    async fn handle(&mut self, mut ctx: Call<'_, Self, Self::Reply>, _: Twice) -> Self::Reply {
        let _ = ctx.reply_async(async { Ok(1) });
        let second = ctx.reply_async(async { Ok(2) });
        let err = second.unwrap_err();
        assert_eq!(err.downcast_ref::<ActorError>(), Some(&ActorError::ReplyTaken));
        Ok(3) // discarded: the first background task answers
    }
}

/// Parks its reply slot; `Release` answers it.
struct Park;
struct Release(u32);

impl Handler<Park> for Desk {
    type Reply = anyhow::Result<u32>;

    async fn handle(&mut self, mut ctx: Call<'_, Self, Self::Reply>, _: Park) -> Self::Reply {
        self.parked = Some(ctx.take_reply());
        Ok(0) // discarded: the slot was taken
    }
}

impl Handler<Release> for Desk {
    type Reply = anyhow::Result<()>;

    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, msg: Release) -> Self::Reply {
        let parked = self.parked.take().ok_or_else(|| anyhow::anyhow!("nothing parked"))?;
        parked.send(Ok(msg.0)).map_err(|_| anyhow::anyhow!("the asker is gone"))
    }
}

#[tokio::test]
async fn several_message_types_on_one_actor() {
    let desk = actor12::spawn::<Desk>(());
    assert_eq!(desk.ask_dyn("hi".to_string()).await.unwrap(), "HI");
    assert_eq!(desk.ask_dyn(21u32).await.unwrap(), 42);
    desk.tell_dyn("told".to_string()).await;
    let later = desk.ask_dyn_async(5u32).await;
    // The relay's reply goes to the envelope's own receiver.
    let (envelope, relayed) = Envelope::new("relayed".to_string());
    desk.relay_dyn(envelope).await;
    assert_eq!(desk.ask_dyn(Seen).await.unwrap(), ["hi", "21", "told", "5", "relayed"]);
    assert_eq!(later.await.unwrap(), 10);
    assert_eq!(relayed.await.unwrap().unwrap(), "RELAYED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reply_async_answers_after_the_handler_returned() {
    let desk = actor12::spawn::<Desk>(());
    let (open, gate) = oneshot::channel();
    let pending = desk.ask_dyn_async(Gated(gate)).await;
    // The actor goes on with the next message while the gated reply waits in the background.
    assert_eq!(desk.ask_dyn(1u32).await.unwrap(), 2);
    open.send(41).unwrap();
    assert_eq!(pending.await.unwrap(), 42);
}

#[tokio::test]
async fn reply_async_twice_reports_reply_taken() {
    let desk = actor12::spawn::<Desk>(());
    assert_eq!(desk.ask_dyn(Twice).await.unwrap(), 1);
}

#[tokio::test]
async fn a_reply_taken_by_hand_is_answered_by_a_later_message() {
    let desk = actor12::spawn::<Desk>(());
    let parked = desk.ask_dyn_async(Park).await;
    desk.ask_dyn(Release(7)).await.unwrap();
    assert_eq!(parked.await.unwrap(), 7);
}

#[tokio::test]
async fn an_async_reply_whose_actor_stops_resolves_to_an_error() {
    let desk = actor12::spawn::<Desk>(());
    let (open, gate) = oneshot::channel::<u32>();
    let pending = desk.ask_dyn_async(Gated(gate)).await;
    desk.ask_dyn(0u32).await.unwrap(); // the gated handler has run
    desk.cancel_and_wait(()).await; // aborts the background task that owned the reply
    assert!(pending.await.is_err());
    drop(open);
}

#[tokio::test]
async fn asks_to_a_stopped_actor_fail_at_once() {
    let desk = actor12::spawn::<Desk>(());
    desk.cancel_and_wait(()).await;
    assert!(!desk.alive());
    assert!(desk.ask_dyn(1u32).await.is_err());
    assert!(desk.ask_dyn_async(1u32).await.await.is_err());
    desk.tell_dyn(1u32).await; // dropped, no panic
}

#[test]
fn spawn_from_a_plain_thread_and_from_block_on() {
    let desk = actor12::spawn::<Desk>(());
    let rt = actor12::rt::Runtime::new().unwrap();
    rt.block_on(async {
        assert_eq!(desk.ask_dyn(4u32).await.unwrap(), 8);
        let inner = actor12::spawn::<Desk>(());
        assert_eq!(inner.ask_dyn("x".to_string()).await.unwrap(), "X");
    });
}

/// Counts the drops of its handlers' futures, which are hand-written (not `async fn`): such a
/// future may own things to its end, and is dropped once whatever happens.
struct Fuse {
    drops: Arc<AtomicUsize>,
}

impl Actor for Fuse {
    type Message = Multi<Self>;
    type Spec = Arc<AtomicUsize>;
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();

    fn state(_: &Self::Spec) {}

    fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
        std::future::ready(Ok(Fuse { drops: ctx.spec }))
    }
}

/// A reply whose drop panics when it is armed.
struct Bomb(bool);

impl Drop for Bomb {
    fn drop(&mut self) {
        assert!(!self.0, "the reply's drop panics");
    }
}

/// Asks for a `Bomb`, armed or not.
struct Light(bool);

/// A handler's future that owns a count of its drops, ready at once with its value.
struct Counted<T> {
    drops: Arc<AtomicUsize>,
    value: Option<T>,
}

impl<T> Unpin for Counted<T> {}

impl<T> Future for Counted<T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<T> {
        Poll::Ready(self.value.take().expect("polled after it finished"))
    }
}

impl<T> Drop for Counted<T> {
    fn drop(&mut self) {
        self.drops.fetch_add(1, SeqCst);
    }
}

/// `Handler<Light>` for an actor with a `drops` count: a hand-written future, [`Counted`],
/// ready at once with its `Bomb`.
macro_rules! lights {
    ($actor:ty) => {
        impl Handler<Light> for $actor {
            type Reply = anyhow::Result<Bomb>;

            fn handle<'a>(
                &'a mut self,
                _: Call<'a, Self, Self::Reply>,
                Light(armed): Light,
            ) -> impl Future<Output = Self::Reply> + use<'a> + Send {
                Counted { drops: self.drops.clone(), value: Some(Ok(Bomb(armed))) }
            }
        }
    };
}

lights!(Fuse);

#[test]
fn a_handlers_future_drops_once_even_when_its_replys_drop_panics() {
    actor12::rt::Runtime::new().unwrap().block_on(async {
        let drops = Arc::new(AtomicUsize::new(0));
        let fuse = actor12::spawn::<Fuse>(drops.clone());
        fuse.tell_dyn(Light(false)).await;
        assert!(fuse.ask_dyn(Light(false)).await.is_ok());
        assert_eq!(drops.load(SeqCst), 2, "each finished future dropped once");

        // Told, the reply is dropped as the handler finishes: its panic crashes the actor, and
        // the future, dropped already, is not dropped again.
        fuse.tell_dyn(Light(true)).await;
        fuse.wait().await;
        assert!(!fuse.alive());
        assert_eq!(drops.load(SeqCst), 3);
    });
}

/// Handles each `Light` with a `cycle` of its own that catches a panic out of the message's
/// future and polls that future again, as code of a user's may: the second poll must find the
/// handler finished, not poll or drop its future again. Reports the drops it counted then, and
/// stops.
struct Repoller {
    drops: Arc<AtomicUsize>,
    report: Option<oneshot::Sender<(bool, usize)>>,
}

impl Actor for Repoller {
    type Message = Multi<Self>;
    type Spec = (Arc<AtomicUsize>, oneshot::Sender<(bool, usize)>);
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();

    fn state(_: &Self::Spec) {}

    fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
        let (drops, report) = ctx.spec;
        std::future::ready(Ok(Repoller { drops, report: Some(report) }))
    }

    async fn cycle(
        &mut self,
        ctx: &mut actor12::ActorContext<Self>,
    ) -> std::ops::ControlFlow<actor12::cancel::CancelReason<()>> {
        use std::panic::{AssertUnwindSafe, catch_unwind};
        let Some(msg) = ctx.rx.recv().await else {
            return std::ops::ControlFlow::Break(Default::default());
        };
        let drops = self.drops.clone();
        let mut handling =
            Box::pin(actor12::ActorMessage::handle(msg, self, actor12::Exec::new(ctx)));
        let first = std::future::poll_fn(|cx| {
            Poll::Ready(catch_unwind(AssertUnwindSafe(|| handling.as_mut().poll(cx))))
        })
        .await;
        let second = std::future::poll_fn(|cx| {
            Poll::Ready(catch_unwind(AssertUnwindSafe(|| handling.as_mut().poll(cx))))
        })
        .await;
        drop(handling);
        let finished = first.is_err() && matches!(second, Ok(Poll::Ready(())));
        if let Some(report) = self.report.take() {
            let _ = report.send((finished, drops.load(SeqCst)));
        }
        // One message is the whole test: the actor stops (this `cycle` watches no token).
        std::ops::ControlFlow::Break(Default::default())
    }
}

lights!(Repoller);

#[test]
fn a_handler_polled_again_after_its_replys_drop_panicked_is_finished() {
    // The second poll polled the dropped future again and dropped it a second time (a review
    // of 2026-12-07): two drops counted, and a double drop of what it owned.
    let (finished, drops) = actor12::rt::Runtime::new().unwrap().block_on(async {
        let drops = Arc::new(AtomicUsize::new(0));
        let (report, reported) = oneshot::channel();
        let actor = actor12::spawn::<Repoller>((drops, report));
        actor.tell_dyn(Light(true)).await;
        let out = reported.await.expect("the cycle reports");
        actor.wait().await;
        out
    });
    assert!(finished, "the first poll panicked (the reply's drop), the second found it finished");
    assert_eq!(drops, 1, "the handler's future dropped once");
}

/// A value that must sit at a 64-byte boundary.
#[repr(align(64))]
struct Wide(u64);

/// Asks for the address of a `Wide` its handler keeps across an await.
struct WhereWide(u64);

impl Handler<WhereWide> for Fuse {
    type Reply = anyhow::Result<(usize, u64)>;

    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, w: WhereWide) -> Self::Reply {
        let wide = Wide(w.0);
        actor12::rt::yield_now().await; // `wide` lives in the handler's future
        Ok((&raw const wide as usize, wide.0))
    }
}

/// Has its handler keep 512 bytes (aligned to 8) across an await.
struct Big;

impl Handler<Big> for Fuse {
    type Reply = anyhow::Result<u64>;

    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Big) -> Self::Reply {
        let big = std::hint::black_box([1u64; 64]);
        actor12::rt::yield_now().await; // `big` lives in the handler's future
        Ok(big.iter().sum())
    }
}

#[test]
fn a_handlers_future_is_as_aligned_as_it_needs_after_larger_ones() {
    actor12::rt::Runtime::new().unwrap().block_on(async {
        let fuse = actor12::spawn::<Fuse>(Arc::new(AtomicUsize::new(0)));
        // A large future aligned to 8 first (the actor's buffer is made for it), then a smaller
        // one aligned to 64: it fits in size, not in alignment.
        assert_eq!(fuse.ask_dyn(Big).await.unwrap(), 64);
        for n in 0..3 {
            let (at, value) = fuse.ask_dyn(WhereWide(n)).await.unwrap();
            assert_eq!(at % 64, 0, "a 64-aligned local at {at:#x}");
            assert_eq!(value, n);
        }
    });
}
