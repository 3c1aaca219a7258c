//! The two-step API under review: `forward_to` passing on every kind of outcome, and reply
//! deadlines racing the answers on two workers.

mod support;

use std::sync::mpsc;
use std::time::Duration;

use actor12::prelude::*;
use actor12::{Call, HandlerMessage, MessageError};
use support::actor;
use support::*;

async fn within<F: std::future::Future>(f: F) -> F::Output {
    actor12::time::timeout(HANG, f).await.expect("hung: no answer within the limit")
}

type Outcome = Result<anyhow::Result<usize>, MessageError>;

/// Passes every outcome it is told to a channel.
struct Inbox(mpsc::Sender<Outcome>);
actor!(Inbox, spec = mpsc::Sender<Outcome>, cancel = (), init = |ctx| Inbox(ctx.spec));

impl Handler<Outcome> for Inbox {
    type Reply = anyhow::Result<()>;
    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, outcome: Outcome) -> Self::Reply {
        let _ = self.0.send(outcome);
        Ok(())
    }
}

/// The next outcome the inbox passed on, received on a plain thread.
fn next(rx: mpsc::Receiver<Outcome>) -> (Outcome, mpsc::Receiver<Outcome>) {
    resolves_within(async move { (rx.recv().unwrap(), rx) }).expect("hung: nothing forwarded")
}

#[test]
fn forward_to_passes_on_a_timeout_a_send_error_and_an_answer() {
    let rt = runtime();
    let (tx, rx) = mpsc::channel();
    let (inbox, open, rec) = rt.block_on(async {
        let inbox = actor12::spawn::<Inbox>(tx);
        let rec = actor12::spawn::<Recorder>(Probe::default());
        let (open, gate) = actor12::oneshot::channel();
        rec.send_message(HandlerMessage::new(Hold(gate))).await.forget();
        // Queued behind the held handler: the handle's deadline passes first.
        let late = rec.send_message(HandlerMessage::new(Note(0, 0))).await;
        late.timeout(Duration::from_millis(5)).forward_to(&inbox);
        (inbox, open, rec)
    });
    let (got, rx) = next(rx);
    assert_eq!(got.unwrap_err(), MessageError::Timeout { timeout: Duration::from_millis(5) });

    let rx = rt.block_on(async {
        open.send(()).unwrap();
        // Not delivered: the outcome is the send error, forwarded all the same.
        let dead = actor12::spawn::<Recorder>(Probe::default());
        dead.cancel_and_wait(()).await;
        dead.send_message(HandlerMessage::new(Note(0, 1))).await.forward_to(&inbox);
        rx
    });
    let (got, rx) = next(rx);
    assert!(matches!(got, Err(MessageError::SendFailed(_))), "{got:?}");

    rt.block_on(async {
        // The note that timed out was handled all the same: this one is the second.
        rec.send_message(HandlerMessage::new(Note(0, 2))).await.forward_to(&inbox);
    });
    let (got, _rx) = next(rx);
    assert_eq!(got.unwrap().unwrap(), 2);
}

/// Answers `Slow(n)` after a few yields, some of them after a timer; counts what it handled.
struct Slowish(u64);
actor!(Slowish, spec = (), cancel = (), init = |_ctx| Slowish(0));

struct Slow(u32);

impl Handler<Slow> for Slowish {
    type Reply = anyhow::Result<u32>;
    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, Slow(n): Slow) -> Self::Reply {
        for _ in 0..n % 5 {
            actor12::rt::yield_now().await;
        }
        if n % 7 == 0 {
            actor12::time::sleep(Duration::from_millis(1)).await;
        }
        self.0 += 1;
        Ok(n)
    }
}

struct Handled;

impl Handler<Handled> for Slowish {
    type Reply = anyhow::Result<u64>;
    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Handled) -> Self::Reply {
        Ok(self.0)
    }
}

#[test]
fn reply_deadlines_racing_their_answers_give_the_answer_or_a_timeout_never_another_error() {
    const SENDERS: u32 = 4;
    let per = scaled(300, 20) as u32;
    runtime().block_on(async {
        let slowish = actor12::spawn::<Slowish>(());
        let mut joins = Vec::new();
        for s in 0..SENDERS {
            let link = slowish.clone();
            joins.push(actor12::rt::spawn(async move {
                for n in 0..per {
                    let handle = link.send_message(HandlerMessage::new(Slow(n + s))).await;
                    let deadline = Duration::from_millis(u64::from(n % 3));
                    let outcome = match n % 2 {
                        0 => handle.timeout(deadline).reply().await,
                        _ => handle.timeout(deadline).map_reply(|r| r).await,
                    };
                    match outcome {
                        Ok(answer) => assert_eq!(answer.unwrap(), n + s),
                        Err(MessageError::Timeout { timeout }) => assert_eq!(timeout, deadline),
                        Err(e) => panic!("sender {s}, message {n}: {e:?}"),
                    }
                }
            }));
        }
        for join in joins {
            within(join).await.unwrap();
        }
        // Every message stayed delivered, whether or not its asker gave up.
        let handled = within(slowish.ask_dyn(Handled)).await.unwrap();
        assert_eq!(handled, u64::from(SENDERS * per));
    });
}

/// Works on a request until its asker gives up: the handler keeps the reply slot and waits in
/// `closed` (standing in for work raced against it), then reports that nobody waits any more.
struct Patient(mpsc::Sender<bool>);
actor!(Patient, spec = mpsc::Sender<bool>, cancel = (), init = |ctx| Patient(ctx.spec));

/// A request its handler never answers on its own.
struct Endless;

impl Handler<Endless> for Patient {
    type Reply = anyhow::Result<()>;
    async fn handle(&mut self, mut call: Call<'_, Self, Self::Reply>, _: Endless) -> Self::Reply {
        let mut reply = call.take_reply();
        reply.closed().await;
        let _ = self.0.send(reply.is_closed());
        Ok(())
    }
}

#[test]
fn a_handler_hears_its_asker_give_up() {
    let rt = runtime();
    let (tx, rx) = mpsc::channel();
    rt.block_on(async {
        let patient = actor12::spawn::<Patient>(tx);
        let handle = patient.send_message(HandlerMessage::new(Endless)).await;
        let outcome = within(handle.timeout(Duration::from_millis(5)).reply()).await;
        assert!(matches!(outcome, Err(MessageError::Timeout { .. })), "{outcome:?}");
        // The handler is woken by the asker's giving up, and its actor goes on.
        assert!(rx.recv_timeout(HANG).expect("the handler never heard the asker go"));
        patient.cancel_and_wait(()).await;
    });
}
