//! The message path as a user sees it: `MessageHandle`'s calls in every order, dropped sends,
//! relays and forwards, weak and dynamic links to dead or stopping actors.

mod support;

use std::sync::mpsc;
use std::task::{Context, Waker};
use std::time::Duration;

use actor12::cancel::CancelReason;
use actor12::prelude::*;
use actor12::{Call, Envelope, HandlerMessage, MessageError, RelayMessage, WeakLink};
use support::actor;
use support::*;

async fn within<F: std::future::Future>(f: F) -> F::Output {
    actor12::time::timeout(HANG, f).await.expect("hung: no answer within the limit")
}

/// A reply that has come: polled until it is.
async fn answered<R: Send + 'static>(handle: &mut actor12::MessageHandle<R>) -> R {
    within(async {
        loop {
            match handle.try_reply() {
                Ok(Some(r)) => break r,
                Ok(None) => actor12::rt::yield_now().await,
                Err(e) => panic!("no answer: {e}"),
            }
        }
    })
    .await
}

// ---- MessageHandle, call by call ----

#[test]
fn try_reply_after_an_answer_a_tell_or_a_failed_send() {
    runtime().block_on(async {
        let rec = actor12::spawn::<Recorder>(Probe::default());
        let mut handle = rec.send_message(HandlerMessage::new(Note(0, 0))).await;
        assert_eq!(answered(&mut handle).await.unwrap(), 1);
        assert_eq!(handle.try_reply().unwrap_err(), MessageError::AlreadyConsumed);
        assert_eq!(handle.try_reply().unwrap_err(), MessageError::AlreadyConsumed);
        assert!(handle.was_sent());
        assert_eq!(handle.send_error(), None);
        assert_eq!(handle.reply().await.unwrap_err(), MessageError::AlreadyConsumed);

        // A raw message: answered at once with `()`, once.
        let mut tell = rec.send_raw_message(actor12::Multi::tell(Note(0, 1))).await;
        assert_eq!(tell.try_reply(), Ok(Some(())));
        assert_eq!(tell.try_reply(), Err(MessageError::AlreadyConsumed));
        assert_eq!(tell.map_reply(|()| 1).await, Err(MessageError::AlreadyConsumed));

        rec.cancel_and_wait(()).await;
        let mut failed = rec.send_message(HandlerMessage::new(Note(0, 2))).await;
        for _ in 0..3 {
            assert!(matches!(failed.try_reply(), Err(MessageError::SendFailed(_))));
            assert!(!failed.was_sent());
            assert!(failed.send_error().is_some());
        }
        let e = failed.map_err(|e| e).await.unwrap_err();
        assert!(matches!(e, MessageError::SendFailed(_)), "{e:?}");
    });
}

#[test]
fn timeouts_zero_chained_and_too_long_for_an_instant() {
    runtime().block_on(async {
        let rec = actor12::spawn::<Recorder>(Probe::default());
        let (open, gate) = actor12::oneshot::channel();
        let _hold = rec.send_message(HandlerMessage::new(Hold(gate))).await;

        // Zero: times out at once when the answer is not there.
        let h = rec.send_message(HandlerMessage::new(Note(0, 0))).await;
        let e = within(h.timeout(Duration::ZERO).reply()).await.unwrap_err();
        assert_eq!(e, MessageError::Timeout { timeout: Duration::ZERO });

        // Chained: the last one counts.
        let h = rec.send_message(HandlerMessage::new(Note(0, 1))).await;
        let short = Duration::from_millis(5);
        let e = within(h.timeout(Duration::MAX).timeout(short).reply()).await.unwrap_err();
        assert_eq!(e, MessageError::Timeout { timeout: short });

        // `Duration::MAX`: no panic, and the answer comes through it.
        let h = rec.send_message(HandlerMessage::new(Note(0, 2))).await;
        let waiting = actor12::rt::spawn(h.timeout(Duration::MAX).map_reply(|r| r.unwrap()));
        open.send(()).unwrap();
        // Notes 0 and 1 were delivered and handled though their askers gave up.
        assert_eq!(within(waiting).await.unwrap(), Ok(3));
        let r = within(rec.send_with_timeout(HandlerMessage::new(Note(0, 3)), Duration::MAX)).await;
        assert_eq!(r.unwrap().unwrap(), 4);

        // Zero, with the answer there already: the answer.
        let h = rec.send_message(HandlerMessage::new(Note(0, 4))).await;
        assert_eq!(within(rec.ask_dyn(Dump)).await.unwrap().len(), 5);
        assert_eq!(h.timeout(Duration::ZERO).reply().await.unwrap().unwrap(), 5);

        // `Duration::MAX` on a reply that never comes: resolves at once when the actor dies.
        let (open, gate) = actor12::oneshot::channel::<()>();
        let (started_tx, started) = actor12::oneshot::channel();
        let _held = rec.send_message(HandlerMessage::new(HoldStarted(started_tx, gate))).await;
        let h = rec.send_message(HandlerMessage::new(Note(1, 0))).await;
        started.await.unwrap();
        let waiting = actor12::rt::spawn(h.timeout(Duration::MAX).reply());
        rec.cancel(());
        drop(open);
        let r = within(waiting).await.unwrap();
        assert!(matches!(r, Err(MessageError::RecvFailed(_))), "{r:?}");

        // After the end: the send error, whatever the timeout.
        let h = rec.send_message(HandlerMessage::new(Note(2, 0))).await;
        let r = h.timeout(Duration::ZERO).reply().await;
        assert!(matches!(r, Err(MessageError::SendFailed(_))), "{r:?}");
        let r = rec.send_with_timeout(HandlerMessage::new(Note(2, 1)), Duration::ZERO).await;
        assert!(matches!(r, Err(MessageError::SendFailed(_))), "{r:?}");
    });
}

// ---- forward_to ----

/// Passes every outcome it is told to a channel.
struct Inbox(mpsc::Sender<Result<anyhow::Result<usize>, MessageError>>);
actor!(Inbox, spec = mpsc::Sender<Result<anyhow::Result<usize>, MessageError>>, cancel = (),
    init = |ctx| Inbox(ctx.spec));

impl Handler<Result<anyhow::Result<usize>, MessageError>> for Inbox {
    type Reply = anyhow::Result<()>;
    async fn handle(
        &mut self,
        _: Call<'_, Self, Self::Reply>,
        outcome: Result<anyhow::Result<usize>, MessageError>,
    ) -> Self::Reply {
        let _ = self.0.send(outcome);
        Ok(())
    }
}

/// Answers `Note` with a count, and panics on `Boom` (reply type `anyhow::Result<usize>`).
struct Panicky;
actor!(Panicky, spec = (), cancel = (), init = |_ctx| Panicky);

struct Explode;
impl Handler<Explode> for Panicky {
    type Reply = anyhow::Result<usize>;
    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Explode) -> Self::Reply {
        panic!("explode");
    }
}

#[test]
fn forward_to_delivers_an_error_when_the_replier_panics_or_is_dead() {
    runtime().block_on(async {
        let (tx, rx) = mpsc::channel();
        let inbox = actor12::spawn::<Inbox>(tx);
        let panicky = actor12::spawn::<Panicky>(());
        panicky.send_message(HandlerMessage::new(Explode)).await.forward_to(&inbox);
        let got = resolves_within(async move { rx.recv().unwrap() }).expect("hung");
        assert!(matches!(got, Err(MessageError::RecvFailed(_))), "{got:?}");

        // To a dead inbox: nothing panics, nothing hangs, the replier is unaffected.
        let rec = actor12::spawn::<Recorder>(Probe::default());
        let (tx, _rx) = mpsc::channel();
        let dead = actor12::spawn::<Inbox>(tx);
        dead.cancel_and_wait(()).await;
        rec.send_message(HandlerMessage::new(Note(0, 0))).await.forward_to(&dead);
        assert_eq!(within(rec.ask_dyn(Note(0, 1))).await.unwrap(), 2);
    });
}

// ---- dropped sends ----

/// A bounded handler-style recorder (capacity 1).
struct Narrow(Vec<(u32, u32)>);
actor!(
    Narrow,
    spec = (),
    cancel = (),
    init = |_ctx| Narrow(Vec::new()),
    extra = {
        fn mailbox_capacity() -> usize {
            1
        }
    }
);

impl Handler<Note> for Narrow {
    type Reply = anyhow::Result<usize>;
    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, Note(s, n): Note) -> Self::Reply {
        self.0.push((s, n));
        Ok(self.0.len())
    }
}

impl Handler<Dump> for Narrow {
    type Reply = anyhow::Result<Vec<(u32, u32)>>;
    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Dump) -> Self::Reply {
        Ok(self.0.clone())
    }
}

impl Handler<HoldStarted> for Narrow {
    type Reply = anyhow::Result<()>;
    async fn handle(
        &mut self,
        _: Call<'_, Self, Self::Reply>,
        HoldStarted(started, gate): HoldStarted,
    ) -> Self::Reply {
        let _ = started.send(());
        let _ = gate.await;
        Ok(())
    }
}

#[test]
fn sends_dropped_while_waiting_for_room_are_never_handled_and_keep_order() {
    runtime().block_on(async {
        let narrow = actor12::spawn::<Narrow>(());
        let (open, gate) = actor12::oneshot::channel();
        let (started_tx, started) = actor12::oneshot::channel();
        narrow.send_and_forget(HandlerMessage::new(HoldStarted(started_tx, gate))).await;
        started.await.unwrap();
        // Fills the mailbox.
        narrow.send_and_forget(HandlerMessage::new(Note(0, 0))).await;
        // Given up while waiting for room: by a timeout, by a drop after one poll.
        let r = narrow.send_with_timeout(HandlerMessage::new(Note(9, 0)), Duration::from_millis(5));
        assert!(matches!(within(r).await, Err(MessageError::SendFailed(_))), "not delivered");
        {
            let mut send = Box::pin(narrow.send_message(HandlerMessage::new(Note(9, 1))));
            let mut cx = Context::from_waker(Waker::noop());
            assert!(send.as_mut().poll(&mut cx).is_pending());
        }
        {
            let mut tell = Box::pin(narrow.tell_dyn(Note(9, 2)));
            let mut cx = Context::from_waker(Waker::noop());
            assert!(tell.as_mut().poll(&mut cx).is_pending());
        }
        // The sender goes on; the others wait behind it.
        let sender = narrow.clone();
        let rest = actor12::rt::spawn(async move {
            for n in 1..20 {
                sender.send_and_forget(HandlerMessage::new(Note(0, n))).await;
            }
        });
        open.send(()).unwrap();
        within(rest).await.unwrap();
        let seen = within(narrow.ask_dyn(Dump)).await.unwrap();
        assert_in_order(&seen, 1, 20);
    });
}

// ---- relays ----

/// Passes every `Note` envelope it gets on to its target (or drops it, with no target).
struct Relay(Option<actor12::Link<Recorder>>);

impl Actor for Relay {
    type Message = Envelope<Note, anyhow::Result<usize>>;
    type Spec = Option<actor12::Link<Recorder>>;
    type Channel = actor12::MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();
    fn state(_: &Self::Spec) {}
    fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
        std::future::ready(Ok(Relay(ctx.spec)))
    }
    async fn handle(&mut self, _: Exec<'_, Self>, msg: Self::Message) {
        if let Some(to) = &self.0 {
            to.relay_dyn(msg).await;
        }
    }
}

#[test]
fn a_relayed_envelope_answers_its_asker_or_fails_it_at_once() {
    runtime().block_on(async {
        let rec = actor12::spawn::<Recorder>(Probe::default());
        let relay = actor12::spawn::<Relay>(Some(rec.clone()));
        assert_eq!(within(relay.send::<Note, anyhow::Result<usize>>(Note(0, 0))).await.unwrap(), 1);
        let h = relay.send_message(actor12::EnvelopeMessage::new(Note(0, 1))).await;
        assert_eq!(within(h.reply()).await.unwrap().unwrap(), 2);

        let nowhere = actor12::spawn::<Relay>(None);
        let h = nowhere.send_message(actor12::EnvelopeMessage::new(Note(0, 2))).await;
        let r = within(h.reply()).await;
        assert!(matches!(r, Err(MessageError::RecvFailed(_))), "{r:?}");

        // To a dead target, by every relay call.
        rec.cancel_and_wait(()).await;
        let r = within(relay.send::<Note, anyhow::Result<usize>>(Note(0, 3))).await;
        assert!(r.is_err());
        let (env, rx) = Envelope::new(Note(0, 4));
        let h = rec.send_message(RelayMessage::new(env)).await;
        assert!(!h.was_sent());
        assert!(within(rx).await.is_err());
        let (env, rx) = Envelope::new(Note(0, 5));
        rec.downgrade().relay_dyn(env).await;
        assert!(within(rx).await.is_err());
        let (env, rx) = Envelope::new(Note(0, 6));
        WeakLink::<Recorder>::new().relay_dyn(env).await;
        assert!(within(rx).await.is_err());
    });
}

// ---- weak and dynamic links to a stopping actor ----

/// Takes its time in `terminate`: stopping, but not gone.
struct Lingering(actor12::oneshot::Receiver<()>, Option<actor12::oneshot::Sender<()>>);
actor!(Lingering, spec = (actor12::oneshot::Receiver<()>, actor12::oneshot::Sender<()>),
    cancel = (), init = |ctx| Lingering(ctx.spec.0, Some(ctx.spec.1)), extra = {
    async fn terminate(mut self, _: actor12::ActorContext<Self>, _: CancelReason<()>) {
        if let Some(t) = self.1.take() {
            let _ = t.send(());
        }
        let _ = (&mut self.0).await;
    }
});

impl Handler<Note> for Lingering {
    type Reply = anyhow::Result<usize>;
    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Note) -> Self::Reply {
        Ok(0)
    }
}

#[test]
fn every_send_to_a_stopping_actor_fails_at_once() {
    runtime().block_on(async {
        let (open, gate) = actor12::oneshot::channel();
        let (term_tx, terminating) = actor12::oneshot::channel();
        let link = actor12::spawn::<Lingering>((gate, term_tx));
        let weak = link.downgrade();
        let dynl = link.to_dyn::<Note>();
        link.cancel(());
        terminating.await.unwrap();
        assert!(within(link.ask_dyn(Note(0, 0))).await.is_err());
        assert!(within(weak.ask_dyn(Note(0, 0))).await.is_err());
        assert!(within(weak.ask_dyn_async(Note(0, 0))).await.await.is_err());
        within(weak.tell_dyn(Note(0, 0))).await;
        within(dynl.tell_dyn(Note(0, 0))).await;
        let h = within(weak.send_message(HandlerMessage::new(Note(0, 0)))).await;
        assert!(!h.was_sent());
        let r = within(weak.send_and_reply(HandlerMessage::new(Note(0, 0)))).await;
        assert!(matches!(r, Err(MessageError::SendFailed(_))), "{r:?}");
        let r = weak.send_with_timeout(HandlerMessage::new(Note(0, 0)), Duration::MAX);
        assert!(matches!(within(r).await, Err(MessageError::SendFailed(_))));
        within(weak.send_and_forget(HandlerMessage::new(Note(0, 0)))).await;
        open.send(()).unwrap();
        within(weak.cancel_and_wait(())).await;
    });
}

#[test]
fn every_send_future_can_be_spawned() {
    fn sendable<F: std::future::Future + Send + 'static>(f: F) -> F {
        f
    }
    runtime().block_on(async {
        let rec = actor12::spawn::<Recorder>(Probe::default());
        let weak = rec.downgrade();
        let dynl = rec.to_dyn::<Note>();
        let (l, w, d) = (rec.clone(), weak.clone(), dynl.clone());
        let all = sendable(async move {
            let _ = l.send_message(HandlerMessage::new(Note(0, 0))).await.reply().await;
            let _ = l.send_with_timeout(HandlerMessage::new(Note(0, 1)), HANG).await;
            let _ = w.send_message(HandlerMessage::new(Note(0, 2))).await.reply().await;
            let _ = w.send_with_timeout(HandlerMessage::new(Note(0, 3)), HANG).await;
            w.send_and_forget(HandlerMessage::new(Note(0, 4))).await;
            let _ = w.ask_dyn(Note(0, 5)).await;
            let _ = w.ask_dyn_async(Note(0, 6)).await.await;
            w.tell_dyn(Note(0, 7)).await;
            let (env, rx) = Envelope::new(Note(0, 8));
            w.relay_dyn(env).await;
            let _ = rx.await;
            let (env, rx) = Envelope::new(Note(0, 9));
            l.relay_dyn(env).await;
            let _ = rx.await;
            d.tell_dyn(Note(0, 10)).await;
            let _ = w.send_raw_message(actor12::Multi::tell(Note(0, 11))).await;
        });
        within(actor12::rt::spawn(all)).await.unwrap();
        let seen = within(rec.ask_dyn(Dump)).await.unwrap();
        assert_in_order(&seen, 1, 12);
    });
}

#[test]
fn senders_giving_up_at_random_lose_no_wake_up_and_keep_order() {
    let per = scaled(400, 20) as u32;
    runtime().block_on(async {
        let narrow = actor12::spawn::<Narrow>(());
        let mut joins = Vec::new();
        for s in 0..6u32 {
            let link = narrow.clone();
            joins.push(actor12::rt::spawn(async move {
                for n in 0..per {
                    let d = Duration::from_micros(u64::from((n * 7 + s * 13) % 50));
                    match n % 3 {
                        0 => {
                            let _ =
                                link.send_with_timeout(HandlerMessage::new(Note(s, n)), d).await;
                        }
                        1 => {
                            let send = link.tell_dyn(Note(s, n));
                            let _ = actor12::time::timeout(d, send).await;
                        }
                        _ => link.send_and_forget(HandlerMessage::new(Note(s, n))).await,
                    }
                }
            }));
        }
        for j in joins {
            within(j).await.unwrap();
        }
        let seen = within(narrow.ask_dyn(Dump)).await.unwrap();
        let mut last = [None::<u32>; 6];
        let mut count = [0u32; 6];
        for (s, n) in seen {
            assert!(last[s as usize].is_none_or(|l| l < n), "sender {s}: {n} after {last:?}");
            last[s as usize] = Some(n);
            count[s as usize] += 1;
        }
        for c in count {
            assert!(c >= per / 3, "the waiting sends all got through: {count:?}");
        }
    });
}
