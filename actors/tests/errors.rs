//! Precise errors: for every way a request can fail, the variant the caller gets, its text, and
//! its `source` chain, against the variant the docs name for that cause.
//!
//! The table test collects one row per cause (cause -> variant observed -> variant documented)
//! and fails with the whole table if any row differs.

mod support;

use std::error::Error;
use std::fmt::Write as _;
use std::time::Duration;

use actor12::mailbox::TrySendError;
use actor12::oneshot::{self, RecvError};
use actor12::prelude::*;
use actor12::{
    ActorError, Call, HandlerMessage, MessageError, MessageHandle, Multi, SendError, WeakLink,
};
use support::{HANG, runtime};

/// A handler-style actor whose mailbox holds `CAP` messages.
struct Desk<const CAP: usize>;

/// Room for many queued messages.
type Wide = Desk<64>;
/// Room for one queued message.
type Narrow = Desk<1>;

impl<const CAP: usize> Actor for Desk<CAP> {
    type Message = Multi<Self>;
    type Spec = ();
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();

    fn state(_: &()) {}

    fn init(_: Init<'_, Self>) -> impl InitFuture<Self> {
        std::future::ready(Ok(Desk))
    }

    fn mailbox_capacity() -> usize {
        CAP
    }
}

/// Answered with its number.
struct Get(u32);

impl<const CAP: usize> Handler<Get> for Desk<CAP> {
    type Reply = anyhow::Result<u32>;

    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, Get(n): Get) -> Self::Reply {
        Ok(n)
    }
}

/// Answered with its number, in a reply whose transport errors are `MessageError`s.
struct Strict(u32);

impl<const CAP: usize> Handler<Strict> for Desk<CAP> {
    type Reply = Result<u32, MessageError>;

    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, Strict(n): Strict) -> Self::Reply {
        Ok(n)
    }
}

/// Says that its handler has started, then waits in the handler until the gate opens (or its
/// sender is dropped); answers 0.
struct Hold(oneshot::Sender<()>, oneshot::Receiver<()>);

impl<const CAP: usize> Handler<Hold> for Desk<CAP> {
    type Reply = anyhow::Result<u32>;

    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, hold: Hold) -> Self::Reply {
        let Hold(started, gate) = hold;
        let _ = started.send(());
        let _ = gate.await;
        Ok(0)
    }
}

/// Panics in the handler.
struct Boom;

impl<const CAP: usize> Handler<Boom> for Desk<CAP> {
    type Reply = anyhow::Result<u32>;

    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Boom) -> Self::Reply {
        panic!("boom (expected by the test)");
    }
}

/// Takes the reply slot and drops it unanswered.
struct Ghost;

impl<const CAP: usize> Handler<Ghost> for Desk<CAP> {
    type Reply = anyhow::Result<u32>;

    async fn handle(&mut self, mut ctx: Call<'_, Self, Self::Reply>, _: Ghost) -> Self::Reply {
        drop(ctx.take_reply());
        Ok(0)
    }
}

/// [`Ghost`], with a `MessageError` reply.
struct StrictGhost;

impl<const CAP: usize> Handler<StrictGhost> for Desk<CAP> {
    type Reply = Result<u32, MessageError>;

    async fn handle(
        &mut self,
        mut ctx: Call<'_, Self, Self::Reply>,
        _: StrictGhost,
    ) -> Self::Reply {
        drop(ctx.take_reply());
        Ok(0)
    }
}

/// Answers from a background task twice; the second call's placeholder goes to the sender.
struct Twice(oneshot::Sender<String>);

impl<const CAP: usize> Handler<Twice> for Desk<CAP> {
    type Reply = anyhow::Result<u32>;

    async fn handle(&mut self, mut ctx: Call<'_, Self, Self::Reply>, t: Twice) -> Self::Reply {
        let _first = ctx.reply_async(async { Ok(1) });
        let second = ctx.reply_async(async { Ok(2) });
        let _ = t.0.send(match second {
            Ok(n) => format!("answer {n}"),
            Err(e) => anyhow_kind::<CAP>(&e),
        });
        Ok(3)
    }
}

/// The same in a reply whose transport errors are `MessageError`s: the second placeholder says
/// the slot was taken (`AlreadyConsumed`), not that a send failed.
struct StrictTwice(oneshot::Sender<String>);

impl<const CAP: usize> Handler<StrictTwice> for Desk<CAP> {
    type Reply = Result<u32, MessageError>;

    async fn handle(
        &mut self,
        mut ctx: Call<'_, Self, Self::Reply>,
        t: StrictTwice,
    ) -> Self::Reply {
        let _first = ctx.reply_async(async { Ok(1) });
        let second = ctx.reply_async(async { Ok(2) });
        let _ = t.0.send(kind(&second));
        Ok(3)
    }
}

/// Refuses to start (`init` returns `Err`) once its gate opens.
struct Refused;

impl Actor for Refused {
    type Message = Multi<Self>;
    type Spec = oneshot::Receiver<()>;
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();

    fn state(_: &oneshot::Receiver<()>) {}

    fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
        let gate = ctx.spec;
        async move {
            let _ = gate.await;
            Err(())
        }
    }
}

impl Handler<Get> for Refused {
    type Reply = Result<u32, MessageError>;

    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, Get(n): Get) -> Self::Reply {
        Ok(n)
    }
}

/// The variant of a two-step outcome, as the table shows it.
fn kind<R>(outcome: &Result<R, MessageError>) -> String {
    match outcome {
        Ok(_) => "answer".into(),
        Err(e) => message_kind(e),
    }
}

fn message_kind(e: &MessageError) -> String {
    match e {
        MessageError::SendFailed(_) => "SendFailed".into(),
        MessageError::RecvFailed(_) => "RecvFailed".into(),
        MessageError::Timeout { timeout } => format!("Timeout {{ {timeout:?} }}"),
        MessageError::AlreadyConsumed => "AlreadyConsumed".into(),
    }
}

/// The error type inside an `anyhow` reply, as the table shows it.
fn anyhow_kind<const CAP: usize>(e: &anyhow::Error) -> String {
    if let Some(e) = e.downcast_ref::<ActorError>() {
        format!("ActorError::{e:?}")
    } else if e.downcast_ref::<SendError<Multi<Desk<CAP>>>>().is_some() {
        "SendError".into()
    } else if e.downcast_ref::<RecvError>().is_some() {
        "RecvError".into()
    } else if let Some(e) = e.downcast_ref::<MessageError>() {
        message_kind(e)
    } else {
        format!("other: {e}")
    }
}

fn anyhow_outcome<const CAP: usize, T>(reply: &anyhow::Result<T>) -> String {
    match reply {
        Ok(_) => "answer".into(),
        Err(e) => anyhow_kind::<CAP>(e),
    }
}

/// The error and its sources, joined as error reporters print them (`anyhow`'s `{:#}`).
fn chain(e: &(dyn Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut next = e.source();
    while let Some(source) = next {
        let _ = write!(text, ": {source}");
        next = source.source();
    }
    text
}

/// Cause -> variant observed -> variant documented.
#[derive(Default)]
struct Table {
    rows: Vec<(&'static str, String, &'static str)>,
}

impl Table {
    fn row(&mut self, cause: &'static str, observed: String, documented: &'static str) {
        self.rows.push((cause, observed, documented));
    }

    fn check(&self) {
        let mut text = String::new();
        let mut wrong = 0;
        for (cause, observed, documented) in &self.rows {
            let mark = if observed == documented { "  " } else { "!!" };
            wrong += usize::from(observed != documented);
            let _ = writeln!(text, "{mark} {cause} -> {observed} -> {documented}");
        }
        println!("cause -> variant observed -> variant documented\n{text}");
        assert_eq!(wrong, 0, "rows marked !! differ from the docs:\n{text}");
    }
}

async fn within<F: std::future::Future>(f: F) -> F::Output {
    actor12::time::timeout(HANG, f).await.expect("hung: no answer within the limit")
}

/// Sends a [`Hold`] and waits until its handler runs; the gate's sender opens it.
async fn hold<const CAP: usize>(
    link: &Link<Desk<CAP>>,
) -> (MessageHandle<anyhow::Result<u32>>, oneshot::Sender<()>) {
    let (started_tx, started) = oneshot::channel();
    let (open, gate) = oneshot::channel();
    let handle = link.send_message(HandlerMessage::new(Hold(started_tx, gate))).await;
    within(started).await.unwrap();
    (handle, open)
}

#[test]
fn every_cause_of_failure_gets_the_documented_variant() {
    let rt = runtime();
    let mut t = Table::default();
    rt.block_on(async {
        // Stopped before the send (`MessageError::SendFailed`'s doc, `ask_dyn`'s doc).
        let desk = actor12::spawn::<Wide>(());
        desk.cancel_and_wait(()).await;
        let r = desk.send_and_reply(HandlerMessage::new(Get(1))).await;
        t.row("stopped before the send: send_and_reply", kind(&r), "SendFailed");
        let handle = desk.send_message(HandlerMessage::new(Get(1))).await;
        let text = handle.send_error().map(str::to_owned);
        t.row("stopped before the send: send_error", format!("{text:?}"), STOPPED_TEXT);
        let r = within(desk.send_with_timeout(HandlerMessage::new(Get(1)), HANG)).await;
        t.row("stopped before the send: send_with_timeout", kind(&r), "SendFailed");
        let r = desk.ask_dyn(Get(1)).await;
        t.row("stopped before the send: ask_dyn, anyhow", anyhow_outcome::<64, _>(&r), "SendError");
        let r = desk.ask_dyn(Strict(1)).await;
        t.row("stopped before the send: ask_dyn, MessageError", kind(&r), "SendFailed");
        let r = desk.try_send_raw(Multi::tell(Get(1)));
        let observed = format!("{:?}", r.map_err(|e| e.is_closed()));
        t.row("stopped before the send: try_send_raw", observed, "Err(true)");

        // Stopped while the message was queued (`Terminate::Exit`, the default): dropped
        // unhandled, its asker told at once (`Actor::termination_strategy`'s doc).
        let desk = actor12::spawn::<Wide>(());
        let (running, open) = hold(&desk).await;
        let queued = desk.send_message(HandlerMessage::new(Get(2))).await;
        let strict = desk.ask_dyn_async(Strict(2)).await;
        desk.cancel(());
        open.send(()).unwrap();
        t.row("stopped while queued: reply", kind(&within(queued.reply()).await), "RecvFailed");
        t.row(
            "stopped while queued: ask_dyn, MessageError",
            kind(&within(strict).await),
            "RecvFailed",
        );
        // Cancelled while handling: the cancel is seen between messages, so the running handler
        // finishes and answers (the guide's "Timeouts": a handler holds up its actor, and a
        // cancel, until it returns).
        t.row("cancelled while handling: reply", kind(&within(running.reply()).await), "answer");

        // Panicked while handling; and the message queued behind the panic (both queued while
        // a first handler holds the actor: else it may panic before the second is sent).
        let desk = actor12::spawn::<Wide>(());
        let (held, open) = hold(&desk).await;
        let boom = desk.send_message(HandlerMessage::new(Boom)).await;
        let behind = desk.send_message(HandlerMessage::new(Get(3))).await;
        open.send(()).unwrap();
        assert!(within(held.reply()).await.is_ok(), "the first handler answers");
        t.row("panicked while handling: reply", kind(&within(boom.reply()).await), "RecvFailed");
        t.row("queued behind a panic: reply", kind(&within(behind.reply()).await), "RecvFailed");
        let desk = actor12::spawn::<Wide>(());
        let r = within(desk.ask_dyn(Boom)).await;
        t.row("panicked while handling: ask_dyn, anyhow", anyhow_outcome::<64, _>(&r), "RecvError");

        // The handler took the reply slot and dropped it.
        let desk = actor12::spawn::<Wide>(());
        let r = within(desk.send_and_reply(HandlerMessage::new(Ghost))).await;
        t.row("reply slot dropped by the handler: reply", kind(&r), "RecvFailed");
        let r = within(desk.ask_dyn(Ghost)).await;
        t.row("reply slot dropped: ask_dyn, anyhow", anyhow_outcome::<64, _>(&r), "RecvError");
        let r = within(desk.ask_dyn(StrictGhost)).await;
        t.row("reply slot dropped: ask_dyn, MessageError", kind(&r), "RecvFailed");
        // `reply_async` once the slot is taken: the handler's own placeholder says so.
        let (tx, rx) = oneshot::channel();
        let r = within(desk.ask_dyn(Twice(tx))).await;
        t.row("reply_async twice: the asker", anyhow_outcome::<64, _>(&r), "answer");
        let second = within(rx).await.unwrap();
        t.row("reply_async twice: the second call", second, "ActorError::ReplyTaken");
        let (tx, rx) = oneshot::channel();
        within(desk.ask_dyn(StrictTwice(tx))).await.unwrap();
        let second = within(rx).await.unwrap();
        t.row("reply_async twice, MessageError: the second call", second, "AlreadyConsumed");

        // The deadline passes while the reply is awaited: the message stays delivered.
        let (running, open) = hold(&desk).await;
        let short = Duration::from_millis(5);
        let r = within(desk.send_with_timeout(HandlerMessage::new(Get(4)), short)).await;
        t.row("deadline passed during the reply: send_with_timeout", kind(&r), "Timeout { 5ms }");
        let handle = desk.send_message(HandlerMessage::new(Get(5))).await;
        let r = within(handle.timeout(short).reply()).await;
        t.row("deadline passed during the reply: timeout(d).reply", kind(&r), "Timeout { 5ms }");
        open.send(()).unwrap();
        t.row("the held request", kind(&within(running.reply()).await), "answer");

        // The deadline passes while delivery waits for room: the message is dropped, unhandled.
        let narrow = actor12::spawn::<Narrow>(());
        let (running, open) = hold(&narrow).await;
        let queued = narrow.send_message(HandlerMessage::new(Get(6))).await; // full now
        let r = within(narrow.send_with_timeout(HandlerMessage::new(Get(7)), short)).await;
        t.row("deadline passed during delivery: send_with_timeout", kind(&r), "SendFailed");
        let text = format!("{:?}", r.map_err(|e| e.to_string()).err());
        let full = "Some(\"message not delivered: the actor's mailbox stayed full for 5ms\")";
        t.row("deadline passed during delivery: its text", text, full);
        // Mailbox full, for a call that does not wait.
        let r = narrow.try_send_raw(Multi::tell(Get(8)));
        t.row(
            "mailbox full: try_send_raw",
            format!("{:?}", r.map_err(|e| e.is_full())),
            "Err(true)",
        );
        open.send(()).unwrap();
        t.row("the held request (narrow)", kind(&within(running.reply()).await), "answer");
        t.row("the queued request (narrow)", kind(&within(queued.reply()).await), "answer");

        // A weak link's ask that waits for room while the actor stops: `ActorError::Dead`, as
        // when the actor had stopped before (it was the strong link's `SendError`, by timing).
        let narrow = actor12::spawn::<Narrow>(());
        let (_running, open) = hold(&narrow).await;
        narrow.tell_dyn(Get(15)).await; // full now
        let weak = narrow.downgrade();
        let mut ask = std::pin::pin!(weak.ask_dyn(Get(16)));
        let mut strict = std::pin::pin!(weak.ask_dyn(Strict(16)));
        std::future::poll_fn(|cx| {
            assert!(ask.as_mut().poll(cx).is_pending() && strict.as_mut().poll(cx).is_pending());
            std::task::Poll::Ready(())
        })
        .await; // both wait for room
        narrow.cancel(());
        drop(open);
        let r = within(ask).await;
        t.row(
            "weak link, stopped during the send: ask_dyn, anyhow",
            anyhow_outcome::<1, _>(&r),
            "ActorError::Dead",
        );
        let r = within(strict).await;
        t.row("weak link, stopped during the send: ask_dyn, MessageError", kind(&r), "SendFailed");

        // A reply already taken, and a reply that can never come, asked twice.
        let mut handle = desk.send_message(HandlerMessage::new(Get(9))).await;
        let taken = within(async {
            loop {
                match handle.try_reply() {
                    Ok(Some(r)) => break r,
                    Ok(None) => actor12::rt::yield_now().await,
                    Err(e) => panic!("no answer: {e}"),
                }
            }
        })
        .await;
        t.row("try_reply: the answer", anyhow_outcome::<64, _>(&taken), "answer");
        t.row("reply already taken: try_reply", kind(&handle.try_reply()), "AlreadyConsumed");
        t.row("reply already taken: reply", kind(&handle.reply().await), "AlreadyConsumed");
        let mut lost = desk.send_message(HandlerMessage::new(Ghost)).await;
        let first = within(async {
            loop {
                match lost.try_reply() {
                    Ok(None) => actor12::rt::yield_now().await,
                    other => break other.map(|_| ()),
                }
            }
        })
        .await;
        t.row("reply lost: try_reply", kind(&first), "RecvFailed");
        t.row("reply lost: try_reply again", kind(&lost.try_reply()), "RecvFailed");
        t.row("reply lost: reply after try_reply", kind(&lost.reply().await), "RecvFailed");

        // Weak links: the actor gone (its last link dropped), stopped with strong links left,
        // or never set (`WeakLink`'s doc, the guide's "Weak links").
        let gone = {
            let desk = actor12::spawn::<Wide>(());
            let weak = desk.downgrade();
            drop(desk);
            weak
        };
        within(gone.cancel_and_wait(())).await;
        let stopped = actor12::spawn::<Wide>(());
        stopped.cancel_and_wait(()).await;
        let empty = actor12::WeakLink::<Wide>::new();
        for (what, weak) in [("gone", &gone), ("stopped", &stopped.downgrade()), ("empty", &empty)]
        {
            let r = weak.ask_dyn(Get(10)).await;
            let cause: &'static str = match what {
                "gone" => "weak link, actor gone: ask_dyn, anyhow",
                "stopped" => "weak link, actor stopped: ask_dyn, anyhow",
                _ => "weak link, empty: ask_dyn, anyhow",
            };
            t.row(cause, anyhow_outcome::<64, _>(&r), "ActorError::Dead");
            let r = weak.ask_dyn(Strict(10)).await;
            let cause: &'static str = match what {
                "gone" => "weak link, actor gone: ask_dyn, MessageError",
                "stopped" => "weak link, actor stopped: ask_dyn, MessageError",
                _ => "weak link, empty: ask_dyn, MessageError",
            };
            t.row(cause, kind(&r), "SendFailed");
            let r = weak.send_and_reply(HandlerMessage::new(Get(10))).await;
            let cause: &'static str = match what {
                "gone" => "weak link, actor gone: send_and_reply",
                "stopped" => "weak link, actor stopped: send_and_reply",
                _ => "weak link, empty: send_and_reply",
            };
            t.row(cause, kind(&r), "SendFailed");
            let r = weak.send_raw(Multi::tell(Get(10))).await;
            let cause: &'static str = match what {
                "gone" => "weak link, actor gone: send_raw",
                "stopped" => "weak link, actor stopped: send_raw",
                _ => "weak link, empty: send_raw",
            };
            t.row(cause, format!("{:?}", r.map_err(|_| "SendError")), "Err(\"SendError\")");
            let r = weak.try_send_raw(Multi::tell(Get(10)));
            let cause: &'static str = match what {
                "gone" => "weak link, actor gone: try_send_raw",
                "stopped" => "weak link, actor stopped: try_send_raw",
                _ => "weak link, empty: try_send_raw",
            };
            t.row(cause, format!("{:?}", r.map_err(|e| e.is_closed())), "Err(true)");
        }

        // `init` refuses to start: a request queued while it ran was delivered, then dropped;
        // one sent after finds the actor stopped (`Actor::init`'s doc).
        let (open, gate) = oneshot::channel();
        let refused = actor12::spawn::<Refused>(gate);
        let early = refused.send_message(HandlerMessage::new(Get(13))).await;
        open.send(()).unwrap();
        within(refused.wait()).await;
        t.row(
            "init refused, request queued: reply",
            kind(&within(early.reply()).await),
            "RecvFailed",
        );
        let r = refused.ask_dyn(Get(14)).await;
        t.row("init refused, request after: ask_dyn, MessageError", kind(&r), "SendFailed");

        // A `DynLink` to a stopped actor: a tell is dropped, with no error to report
        // (`ActorError::DynSendError` is never produced).
        let dyn_link = stopped.to_dyn::<Get>();
        within(dyn_link.tell_dyn(Get(11))).await;
        t.row("DynLink::tell_dyn to a stopped actor", "()".into(), "()");
    });

    // The runtime shuts down while a handler runs: the handler is dropped mid-run, and so are
    // the messages queued behind it (the guide's "Runtime": their askers get an error).
    let other = runtime();
    let (running, queued, open) = other.block_on(async {
        let desk = actor12::spawn::<Wide>(());
        let (running, open) = hold(&desk).await;
        let queued = desk.send_message(HandlerMessage::new(Get(12))).await;
        (running, queued, open)
    });
    other.shutdown_timeout(HANG);
    drop(open); // only now: the handler would answer when its gate closes
    rt.block_on(async {
        let r = within(running.reply()).await;
        t.row("runtime shut down while handling: reply", kind(&r), "RecvFailed");
        let r = within(queued.reply()).await;
        t.row("runtime shut down, message queued: reply", kind(&r), "RecvFailed");
    });

    // The runtime's own tasks.
    rt.block_on(async {
        let task = actor12::rt::spawn(std::future::pending::<()>());
        task.abort();
        let e = within(task).await.unwrap_err();
        t.row(
            "task aborted: JoinError",
            format!("cancelled {}", e.is_cancelled()),
            "cancelled true",
        );
        let task = actor12::rt::spawn(async { panic!("task panic (expected by the test)") });
        let e = within(task).await.unwrap_err();
        t.row("task panicked: JoinError", format!("panic {}", e.is_panic()), "panic true");
    });
    t.check();
}

/// `send_error`'s text for an actor stopped before the send (`MessageHandle::send_error`'s
/// example).
const STOPPED_TEXT: &str = "Some(\"the actor has stopped\")";

/// What a reply slot dropped unanswered says.
const DROPPED: &str = "the reply slot was dropped unanswered (the actor stopped, or its handler \
                       panicked or dropped the slot)";

#[test]
fn each_error_says_what_happened_and_chains_its_source_once() {
    runtime().block_on(async {
        let desk = actor12::spawn::<Wide>(());
        let lost = within(desk.send_and_reply(HandlerMessage::new(Ghost))).await.unwrap_err();
        // Not the slot's text twice over: a reporter that prints the chain says it once.
        assert_eq!(chain(&lost), format!("the request got no reply: {DROPPED}"));
        let source = lost.source().expect("RecvFailed has its RecvError as source");
        assert!(source.is::<RecvError>(), "{source:?}");

        let (running, open) = hold(&desk).await;
        let short = Duration::from_millis(5);
        let timeout = within(desk.send_with_timeout(HandlerMessage::new(Get(1)), short)).await;
        let timeout = timeout.unwrap_err();
        let text = "no reply within 5ms (the message was delivered: the actor may still handle it)";
        assert_eq!(chain(&timeout), text);
        assert!(timeout.source().is_none());

        let mut handle = desk.send_message(HandlerMessage::new(Get(2))).await;
        open.send(()).unwrap();
        within(running.reply()).await.unwrap().unwrap();
        while handle.try_reply().unwrap().is_none() {
            actor12::rt::yield_now().await;
        }
        let consumed = handle.try_reply().unwrap_err();
        assert_eq!(chain(&consumed), "the reply was already consumed");

        desk.cancel_and_wait(()).await;
        let refused = desk.send_and_reply(HandlerMessage::new(Get(3))).await.unwrap_err();
        assert_eq!(chain(&refused), "message not delivered: the actor has stopped");
        // `map_err` hands the same error on.
        let handle = desk.send_message(HandlerMessage::new(Get(3))).await;
        assert_eq!(handle.map_err(|e| e).await.unwrap_err(), refused);

        // In an `anyhow` reply: the transport error is the chain's root, with its own text.
        let e = desk.ask_dyn(Get(4)).await.unwrap_err();
        assert_eq!(format!("{e:#}"), "the actor has stopped: message not delivered");
        let e = actor12::spawn::<Wide>(()).ask_dyn(Ghost).await.unwrap_err();
        assert_eq!(format!("{e:#}"), DROPPED);
        let e = desk.downgrade().ask_dyn(Get(5)).await.unwrap_err();
        assert_eq!(format!("{e:#}"), "Actor is already dead");
        // A two-step error carried by `anyhow`: the chain, once.
        let e = anyhow::Error::new(lost);
        assert_eq!(format!("{e:#}"), format!("the request got no reply: {DROPPED}"));
        // `Debug` says why a handle failed, and which message a send error holds.
        let handle = desk.send_message(HandlerMessage::new(Get(6))).await;
        let debug = format!("{handle:?}");
        assert!(debug.contains(r#"why: "the actor has stopped""#), "{debug}");
        let e = desk.send_raw(Multi::tell(Get(6))).await.unwrap_err();
        assert!(format!("{e:?}").contains("actor12::multi::Multi<errors::Desk<64>>"), "{e:?}");

        let full = TrySendError::Full(());
        assert_eq!(full.to_string(), "mailbox full");

        // A weak link that points at no actor says so, where it can (a review of 2026-12-07:
        // each of these said the actor had stopped); a 0.0.x ask's `ActorError::Dead` cannot
        // tell the two apart, and its conversion names both.
        let empty = WeakLink::<Wide>::new();
        let e = empty.send_raw(Multi::tell(Get(7))).await.unwrap_err();
        assert_eq!(e.to_string(), "the weak link is empty: message not delivered");
        assert_eq!(
            MessageError::from(e).to_string(),
            "message not delivered: the weak link is empty"
        );
        let e = empty.send_and_reply(HandlerMessage::new(Strict(7))).await.unwrap_err();
        assert_eq!(e.to_string(), "message not delivered: the weak link is empty");
        let both = "message not delivered: the actor has stopped, or the weak link is empty";
        assert_eq!(empty.ask_dyn(Strict(7)).await.unwrap_err().to_string(), both);
        assert_eq!(desk.downgrade().ask_dyn(Strict(7)).await.unwrap_err().to_string(), both);
        let e = desk.downgrade().send_raw(Multi::tell(Get(7))).await.unwrap_err();
        assert_eq!(e.to_string(), "the actor has stopped: message not delivered");

        let task = actor12::rt::spawn(std::future::pending::<()>());
        task.abort();
        assert_eq!(within(task).await.unwrap_err().to_string(), "task was cancelled");
    });
}

/// `DynLink::to` for an actor of another type panics at the caller's line, where the mistake
/// is (a review of 2026-12-07: it pointed into actor12's `link.rs`).
#[test]
fn a_dyn_link_asked_for_the_wrong_actor_panics_at_the_callers_line() {
    let (tx, rx) = std::sync::mpsc::channel();
    let tx = std::sync::Mutex::new(tx);
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| match info.payload().downcast_ref::<String>() {
        Some(text) if text.starts_with("DynLink::to:") => {
            let _ = tx.lock().unwrap().send(info.location().map(|l| l.file().to_owned()));
        }
        _ => previous(info),
    }));
    runtime().block_on(async {
        let dynamic = actor12::spawn::<Wide>(()).to_dyn::<Get>();
        let wrong = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            dynamic.to::<Narrow>();
        }));
        assert!(wrong.is_err(), "a Desk<64> taken for a Desk<1>");
    });
    assert_eq!(rx.recv_timeout(HANG).unwrap().as_deref(), Some(file!()));
}
