//! `ctx.rx.try_recv()` and `ctx.rx.recv_many(..)` in raw-style actors with a `cycle` of their
//! own, as actor12 0.0.11's code called them on its tokio receiver: what each returns on an
//! empty, a waiting and a closed mailbox, the order they keep beside `recv`, the run's batch
//! they do and do not stop at, asks they take out, and the wake-ups after them.

mod support;

use std::future::{Future, poll_fn};
use std::ops::ControlFlow;
use std::pin::pin;
use std::task::Poll;

use actor12::cancel::CancelReason;
use actor12::prelude::*;
use actor12::{ActorContext, ActorMessage, EnvelopeMessage, TryRecvError, oneshot};
use support::resolves_within;

/// The next message, or the actor's cancellation: the default `cycle`'s wait, without a tick.
async fn next<A: Actor>(
    ctx: &mut ActorContext<A>,
) -> Result<Option<A::Message>, CancelReason<A::Cancel>> {
    let mut cancelled = pin!(ctx.token.cancelled());
    poll_fn(|cx| match cancelled.as_mut().poll(cx) {
        Poll::Ready(reason) => Poll::Ready(Err(reason)),
        Poll::Pending => ctx.rx.poll_recv(cx).map(Ok),
    })
    .await
}

/// Runs `f` on a thread of its own; fails the test if it hangs.
fn run<F>(f: F) -> F::Output
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    resolves_within(f).expect("hung (a lost wake-up?)")
}

/// An actor that does what its `Do` messages say to the messages queued behind them.
struct Script;

enum Msg {
    Item(u32),
    /// Holds the actor until the gate opens, so that what is sent meanwhile queues.
    Hold(oneshot::Receiver<()>),
    /// Runs the step in the actor's run and answers with what it saw.
    Do(Step, oneshot::Sender<Report>),
}

impl ActorMessage<Script> for Msg {}

/// What a `Do` does.
enum Step {
    /// `try_recv` until it fails.
    TryAll,
    /// Closes the mailbox, `try_recv`s until it fails, and once more.
    CloseThenTryAll,
    /// Takes this many items, alternating `try_recv` (`recv` if it finds none) and `recv`.
    Mixed(usize),
    /// Calls `recv_many` with this limit on a buffer holding `Item(999)`, until it appended
    /// `until` in all or returned 0 (closing the mailbox first if `close`); then `TryAll`.
    Many { limit: usize, until: usize, close: bool },
    /// Reads the room (`max_capacity`, `capacity`) and `is_closed` through a shared reference,
    /// then polls `poll_recv_many` with a limit of 2 and closes the mailbox.
    Room,
}

#[derive(Debug, PartialEq)]
enum Report {
    Tried(Vec<Result<u32, TryRecvError>>),
    Mixed(Vec<u32>),
    Many { counts: Vec<usize>, buffer: Vec<u32>, rest: Vec<Result<u32, TryRecvError>> },
    Room { max: usize, room: usize, closed: bool, polled: Vec<u32>, closed_after: bool },
}

/// `is_closed` through a shared context, as tokio's receiver allowed.
fn closed(ctx: &ActorContext<Script>) -> bool {
    ctx.rx.is_closed()
}

fn item(msg: Msg) -> u32 {
    match msg {
        Msg::Item(n) => n,
        _ => panic!("not an item"),
    }
}

fn try_all(ctx: &mut ActorContext<Script>) -> Vec<Result<u32, TryRecvError>> {
    let mut seen = Vec::new();
    loop {
        let got = ctx.rx.try_recv().map(item);
        let failed = got.is_err();
        seen.push(got);
        if failed {
            return seen;
        }
    }
}

impl Step {
    async fn run(self, ctx: &mut ActorContext<Script>) -> Report {
        match self {
            Step::TryAll => Report::Tried(try_all(ctx)),
            Step::CloseThenTryAll => {
                ctx.rx.close();
                let mut seen = try_all(ctx);
                seen.push(ctx.rx.try_recv().map(item));
                Report::Tried(seen)
            }
            Step::Mixed(n) => {
                let mut got = Vec::new();
                for i in 0..n {
                    let msg = if i % 2 == 0 {
                        match ctx.rx.try_recv() {
                            Ok(msg) => msg,
                            Err(TryRecvError::Empty) => ctx.rx.recv().await.unwrap(),
                            Err(TryRecvError::Disconnected) => panic!("closed"),
                        }
                    } else {
                        ctx.rx.recv().await.unwrap()
                    };
                    got.push(item(msg));
                }
                Report::Mixed(got)
            }
            Step::Many { limit, until, close } => {
                if close {
                    ctx.rx.close();
                }
                let mut buffer = vec![Msg::Item(999)];
                let mut counts = Vec::new();
                loop {
                    let n = ctx.rx.recv_many(&mut buffer, limit).await;
                    counts.push(n);
                    if n == 0 || counts.iter().sum::<usize>() >= until {
                        break;
                    }
                }
                let buffer = buffer.into_iter().map(item).collect();
                Report::Many { counts, buffer, rest: try_all(ctx) }
            }
            Step::Room => {
                let (max, room, was_closed) =
                    (ctx.rx.max_capacity(), ctx.rx.capacity(), closed(ctx));
                let mut buffer = Vec::new();
                let n = poll_fn(|cx| ctx.rx.poll_recv_many(cx, &mut buffer, 2)).await;
                assert_eq!(n, buffer.len());
                ctx.rx.close();
                let polled = buffer.into_iter().map(item).collect();
                Report::Room { max, room, closed: was_closed, polled, closed_after: closed(ctx) }
            }
        }
    }
}

impl Actor for Script {
    type Message = Msg;
    type Spec = ();
    type Channel = MpscChannel<Msg>;
    type Cancel = ();
    type State = ();

    fn state(_: &()) {}

    fn init(_: Init<'_, Self>) -> impl InitFuture<Self> {
        std::future::ready(Ok(Script))
    }

    fn mailbox_capacity() -> usize {
        256
    }

    async fn cycle(&mut self, ctx: &mut ActorContext<Self>) -> ControlFlow<CancelReason<()>> {
        let msg = match next(ctx).await {
            Err(reason) => return ControlFlow::Break(reason),
            Ok(None) => return ControlFlow::Break(CancelReason::default()),
            Ok(Some(msg)) => msg,
        };
        match msg {
            Msg::Item(_) => {}
            Msg::Hold(gate) => {
                let _ = gate.await;
            }
            Msg::Do(step, reply) => {
                let report = step.run(ctx).await;
                let _ = reply.send(report);
            }
        }
        ControlFlow::Continue(())
    }
}

/// Runs `step` with `items` queued behind it before it starts; returns its report once the
/// actor has stopped (a step that closes the mailbox stops it; the others are cancelled).
fn queued(step: Step, items: impl IntoIterator<Item = u32>) -> Report {
    let items: Vec<u32> = items.into_iter().collect();
    run(async move {
        let actor = actor12::spawn::<Script>(());
        let (open, gate) = oneshot::channel();
        assert!(actor.send_raw(Msg::Hold(gate)).await.is_ok());
        let (tx, report) = oneshot::channel();
        assert!(actor.send_raw(Msg::Do(step, tx)).await.is_ok());
        for n in items {
            assert!(actor.send_raw(Msg::Item(n)).await.is_ok());
        }
        open.send(()).unwrap();
        let report = report.await.unwrap();
        actor.cancel_and_wait(()).await;
        report
    })
}

// What 0.0.11's code called on its tokio receiver beside these: the room, `is_closed` through a
// shared reference, and `poll_recv_many` (a review of 2026-12-07: they did not compile).
#[test]
fn the_receiver_tells_its_room_and_polls_for_many() {
    let report = queued(Step::Room, [1, 2, 3]);
    let polled = vec![1, 2];
    assert_eq!(
        report,
        Report::Room { max: 256, room: 253, closed: false, polled, closed_after: true }
    );
}

#[test]
fn try_recv_on_an_empty_mailbox_is_empty() {
    assert_eq!(queued(Step::TryAll, []), Report::Tried(vec![Err(TryRecvError::Empty)]));
}

#[test]
fn try_recv_takes_the_waiting_messages_in_order_then_is_empty() {
    let mut expected: Vec<_> = (1..=5).map(Ok).collect();
    expected.push(Err(TryRecvError::Empty));
    assert_eq!(queued(Step::TryAll, 1..=5), Report::Tried(expected));
}

#[test]
fn try_recv_takes_more_messages_than_a_runs_batch() {
    // The run may take 64 messages before the worker moves on; `try_recv` counts against that
    // batch but does not stop at it: "empty" while 136 wait would be a lie.
    let mut expected: Vec<_> = (1..=200).map(Ok).collect();
    expected.push(Err(TryRecvError::Empty));
    assert_eq!(queued(Step::TryAll, 1..=200), Report::Tried(expected));
}

#[test]
fn try_recv_on_a_closed_mailbox_takes_what_it_accepted_then_is_disconnected() {
    let expected =
        vec![Ok(1), Ok(2), Err(TryRecvError::Disconnected), Err(TryRecvError::Disconnected)];
    assert_eq!(queued(Step::CloseThenTryAll, [1, 2]), Report::Tried(expected));
}

#[test]
fn try_recv_and_recv_mixed_keep_the_order() {
    // Sent while the step runs: `try_recv` finds some waiting and some not yet.
    let got = run(async {
        let actor = actor12::spawn::<Script>(());
        let (tx, report) = oneshot::channel();
        assert!(actor.send_raw(Msg::Do(Step::Mixed(100), tx)).await.is_ok());
        for n in 0..100 {
            assert!(actor.send_raw(Msg::Item(n)).await.is_ok());
            if n % 7 == 0 {
                actor12::rt::yield_now().await;
            }
        }
        let report = report.await.unwrap();
        actor.cancel_and_wait(()).await;
        report
    });
    assert_eq!(got, Report::Mixed((0..100).collect()));
}

#[test]
fn recv_many_with_limit_0_takes_nothing() {
    let report = queued(Step::Many { limit: 0, until: 1, close: false }, [1, 2]);
    let rest = vec![Ok(1), Ok(2), Err(TryRecvError::Empty)];
    assert_eq!(report, Report::Many { counts: vec![0], buffer: vec![999], rest });
}

#[test]
fn recv_many_takes_what_is_waiting_up_to_its_limit() {
    // A limit larger than what waits: all of it, appended after what the buffer held.
    let report = queued(Step::Many { limit: 10, until: 1, close: false }, 1..=3);
    let rest = vec![Err(TryRecvError::Empty)];
    assert_eq!(report, Report::Many { counts: vec![3], buffer: vec![999, 1, 2, 3], rest });
    // A smaller one: that many per call.
    let report = queued(Step::Many { limit: 2, until: 4, close: false }, 1..=5);
    let rest = vec![Ok(5), Err(TryRecvError::Empty)];
    let buffer = vec![999, 1, 2, 3, 4];
    assert_eq!(report, Report::Many { counts: vec![2, 2], buffer, rest });
}

#[test]
fn recv_many_on_a_closed_mailbox_takes_what_it_accepted_then_returns_0() {
    let report = queued(Step::Many { limit: 10, until: 100, close: true }, [1, 2]);
    let rest = vec![Err(TryRecvError::Disconnected)];
    assert_eq!(report, Report::Many { counts: vec![2, 0], buffer: vec![999, 1, 2], rest });
}

#[test]
fn recv_many_waits_for_a_message() {
    let report = run(async {
        let actor = actor12::spawn::<Script>(());
        let (tx, report) = oneshot::channel();
        let step = Step::Many { limit: 10, until: 1, close: false };
        assert!(actor.send_raw(Msg::Do(step, tx)).await.is_ok());
        assert!(actor.send_raw(Msg::Item(7)).await.is_ok());
        let report = report.await.unwrap();
        actor.cancel_and_wait(()).await;
        report
    });
    let rest = vec![Err(TryRecvError::Empty)];
    assert_eq!(report, Report::Many { counts: vec![1], buffer: vec![999, 7], rest });
}

#[test]
fn recv_many_stops_at_the_runs_batch_and_the_next_call_goes_on() {
    let report = queued(Step::Many { limit: 1000, until: 150, close: false }, 1..=150);
    let Report::Many { counts, buffer, rest } = report else { panic!("{report:?}") };
    assert!(counts.len() > 1 && counts.iter().all(|&n| (1..=64).contains(&n)), "{counts:?}");
    assert_eq!(counts.iter().sum::<usize>(), 150);
    assert_eq!(buffer, [999].into_iter().chain(1..=150).collect::<Vec<_>>());
    assert_eq!(rest, vec![Err(TryRecvError::Empty)]);
}

/// Envelope style, with a `cycle` of its own: on `n` it asks itself `n + 1` and `n + 2`, takes
/// both requests out of its mailbox (with `try_recv` for odd `n`, with `recv_many` for even
/// `n`), awaits the answers, and only then gives the requests to a background task to answer
/// (ten times the value). Awaiting an ask of itself still in its mailbox panics; taken out, it
/// is delivered, and its answer may come from anywhere.
struct OwnAsk;

impl Actor for OwnAsk {
    type Message = actor12::Envelope<u32, anyhow::Result<u32>>;
    type Spec = ();
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();

    fn state(_: &()) {}

    fn init(_: Init<'_, Self>) -> impl InitFuture<Self> {
        std::future::ready(Ok(OwnAsk))
    }

    async fn cycle(&mut self, ctx: &mut ActorContext<Self>) -> ControlFlow<CancelReason<()>> {
        let first = match next(ctx).await {
            Err(reason) => return ControlFlow::Break(reason),
            Ok(None) => return ControlFlow::Break(CancelReason::default()),
            Ok(Some(first)) => first,
        };
        let n = first.value;
        let a = ctx.link.send_message(EnvelopeMessage::new(n + 1)).await;
        let b = ctx.link.send_message(EnvelopeMessage::new(n + 2)).await;
        let mut requests = Vec::new();
        if n % 2 == 1 {
            // Both pushes finished before `send_message` returned: both are there.
            requests.push(ctx.rx.try_recv().expect("the first request it sent"));
            requests.push(ctx.rx.try_recv().expect("the second request it sent"));
        } else {
            while requests.len() < 2 {
                ctx.rx.recv_many(&mut requests, 2).await;
            }
        }
        // Both answers are awaited before anyone can answer: an ask still marked as the
        // actor's own panics at its first poll.
        let (mut a, mut b) = (pin!(a.reply()), pin!(b.reply()));
        let (mut got_a, mut got_b) = (None, None);
        let mut requests = Some(requests);
        poll_fn(|cx| {
            if got_a.is_none()
                && let Poll::Ready(answer) = a.as_mut().poll(cx)
            {
                got_a = Some(answer);
            }
            if got_b.is_none()
                && let Poll::Ready(answer) = b.as_mut().poll(cx)
            {
                got_b = Some(answer);
            }
            if let Some(requests) = requests.take() {
                ctx.spawn(async move {
                    for request in requests {
                        let value = request.value;
                        let _ = request.reply.send(Ok(value * 10));
                    }
                });
            }
            if got_a.is_some() && got_b.is_some() { Poll::Ready(()) } else { Poll::Pending }
        })
        .await;
        let [a, b] = [got_a, got_b].map(|r| r.unwrap().map_err(anyhow::Error::new).and_then(|r| r));
        let _ = first.reply.send(a.and_then(|a| Ok(a + b?)));
        ControlFlow::Continue(())
    }
}

#[test]
fn an_ask_taken_out_with_try_recv_or_recv_many_can_be_answered_and_awaited() {
    let (odd, even, alive) = run(async {
        let actor = actor12::spawn::<OwnAsk>(());
        let odd = actor.send::<u32, anyhow::Result<u32>>(1).await.map_err(|e| e.to_string());
        let even = actor.send::<u32, anyhow::Result<u32>>(2).await.map_err(|e| e.to_string());
        let alive = actor.alive();
        actor.cancel_and_wait(()).await;
        (odd, even, alive)
    });
    assert_eq!(odd.unwrap(), 20 + 30, "taken with try_recv");
    assert_eq!(even.unwrap(), 30 + 40, "taken with recv_many");
    assert!(alive, "no panic");
}

/// Answers each job with how many it has handled; each `cycle` first drains its mailbox with
/// `try_recv`, then waits with `recv` (through `poll_recv`).
struct Drainer {
    handled: u32,
}

struct Job(u32, oneshot::Sender<u32>);

impl ActorMessage<Drainer> for Job {}

impl Drainer {
    fn answer(&mut self, Job(n, reply): Job) {
        self.handled += 1;
        assert_eq!(n, self.handled, "out of order");
        let _ = reply.send(self.handled);
    }
}

impl Actor for Drainer {
    type Message = Job;
    type Spec = ();
    type Channel = MpscChannel<Job>;
    type Cancel = ();
    type State = ();

    fn state(_: &()) {}

    fn init(_: Init<'_, Self>) -> impl InitFuture<Self> {
        std::future::ready(Ok(Drainer { handled: 0 }))
    }

    fn mailbox_capacity() -> usize {
        256
    }

    async fn cycle(&mut self, ctx: &mut ActorContext<Self>) -> ControlFlow<CancelReason<()>> {
        loop {
            match ctx.rx.try_recv() {
                Ok(job) => self.answer(job),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    return ControlFlow::Break(CancelReason::default());
                }
            }
        }
        match next(ctx).await {
            Err(reason) => ControlFlow::Break(reason),
            Ok(None) => ControlFlow::Break(CancelReason::default()),
            Ok(Some(job)) => {
                self.answer(job);
                ControlFlow::Continue(())
            }
        }
    }
}

#[test]
fn an_actor_that_drains_with_try_recv_then_awaits_recv_wakes_for_later_messages() {
    // Single messages each find it idle after a drain that came up empty; bursts larger than
    // the run's batch are drained past it. A lost wake-up hangs; an answer out of order fails.
    let handled = run(async {
        let actor = actor12::spawn::<Drainer>(());
        let mut sent = 0;
        for round in 0..40 {
            let burst = if round % 2 == 0 { 1 } else { 150 };
            let mut answers = Vec::new();
            for _ in 0..burst {
                sent += 1;
                let (tx, rx) = oneshot::channel();
                assert!(actor.send_raw(Job(sent, tx)).await.is_ok());
                answers.push((sent, rx));
            }
            for (n, answer) in answers {
                assert_eq!(answer.await.expect("the actor stopped"), n);
            }
        }
        let alive = actor.alive();
        actor.cancel_and_wait(()).await;
        (sent, alive)
    });
    assert_eq!(handled, (20 + 20 * 150, true));
}

/// Sends out its context when it stops: its receiver is detached then.
struct Leaver(std::sync::mpsc::Sender<ActorContext<Leaver>>);

impl Actor for Leaver {
    type Message = Job;
    type Spec = std::sync::mpsc::Sender<ActorContext<Leaver>>;
    type Channel = MpscChannel<Job>;
    type Cancel = ();
    type State = ();

    fn state(_: &Self::Spec) {}

    fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
        std::future::ready(Ok(Leaver(ctx.spec)))
    }

    async fn terminate(self, ctx: ActorContext<Self>, _: CancelReason<()>) {
        let _ = self.0.send(ctx);
    }
}

impl ActorMessage<Leaver> for Job {}

#[test]
fn a_detached_receiver_is_disconnected() {
    let (tx, contexts) = std::sync::mpsc::channel();
    run(async move {
        let actor = actor12::spawn::<Leaver>(tx);
        let (reply, _answer) = oneshot::channel();
        // Queued when it stops: the detached receiver still does not hand it out.
        assert!(actor.send_raw(Job(1, reply)).await.is_ok());
        actor.cancel_and_wait(()).await;
    });
    let mut ctx = contexts.recv().expect("terminate sent its context");
    // On this thread, which runs no actor: a detached receiver answers without the check.
    assert_eq!(ctx.rx.try_recv().err(), Some(TryRecvError::Disconnected));
    let mut buffer = Vec::new();
    let mut many = pin!(ctx.rx.recv_many(&mut buffer, 4));
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    assert_eq!(many.as_mut().poll(&mut cx), Poll::Ready(0));
}
