//! Weak links: handles that do not keep an actor alive, fail at once when it is gone, and can
//! start empty.
//!
//! ```text
//! cargo run -p actor12 --example weak_links
//! ```

// ANCHOR: imports
use actor12::oneshot;
use actor12::prelude::*;
// ANCHOR_END: imports

// ANCHOR: actor
/// Echoes what it gets; tells `stopped` when it ends.
struct Echo {
    stopped: Option<oneshot::Sender<()>>,
}

impl Actor for Echo {
    type Message = Multi<Self>;
    type Spec = oneshot::Sender<()>;
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();

    fn state(_: &oneshot::Sender<()>) {}

    fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
        std::future::ready(Ok(Echo { stopped: Some(ctx.spec) }))
    }

    async fn terminate(
        mut self,
        _: actor12::ActorContext<Self>,
        _: actor12::cancel::CancelReason<()>,
    ) {
        if let Some(stopped) = self.stopped.take() {
            let _ = stopped.send(());
        }
    }
}

impl Handler<String> for Echo {
    type Reply = anyhow::Result<String>;

    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, text: String) -> Self::Reply {
        Ok(text)
    }
}
// ANCHOR_END: actor

fn main() -> anyhow::Result<()> {
    let runtime = actor12::rt::Runtime::new()?;
    runtime.block_on(async {
        // ANCHOR: weak
        let (stopped_tx, stopped) = oneshot::channel();
        let echo: Link<Echo> = actor12::spawn::<Echo>(stopped_tx);
        let weak: WeakLink<Echo> = echo.downgrade();

        // A weak link sends like a strong one while the actor lives.
        let reply = weak.send_and_reply(HandlerMessage::new("hi".to_string())).await??;
        println!("through the weak link: {reply}");

        // Dropping the last strong link stops the actor; the weak link does not keep it alive.
        drop(echo);
        stopped.await?;
        println!("actor stopped; upgrade: {:?}", weak.upgrade().map(|_| "a link"));

        // Every call through it now fails at once instead of hanging.
        let handle = weak.send_message(HandlerMessage::new("anyone?".to_string())).await;
        println!("was_sent: {}, send_error: {:?}", handle.was_sent(), handle.send_error());
        match weak.send_and_reply(HandlerMessage::new("anyone?".to_string())).await {
            Ok(_) => println!("unexpected answer"),
            Err(e) => println!("send_and_reply: {e}"),
        }
        // ANCHOR_END: weak

        // ANCHOR: empty
        // A weak link can start empty and be pointed at an actor later.
        let mut later: WeakLink<Echo> = WeakLink::new();
        println!(
            "empty: is_set {}, ask: {}",
            later.is_set(),
            later.ask_dyn("x".to_string()).await.is_err()
        );
        let (stopped_tx, stopped) = oneshot::channel();
        let second = actor12::spawn::<Echo>(stopped_tx);
        later.set(&second);
        println!("set: {}", later.ask_dyn("after set".to_string()).await?);
        second.cancel_and_wait(()).await;
        stopped.await?;
        // ANCHOR_END: empty
        Ok(())
    })
}
