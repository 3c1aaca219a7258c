//! Guarantees of the API contract (API.md), the guide (`docs/book/src`) and the crate docs that
//! no other test checked as written, from a review of 2026-12-06. Each test names the sentence
//! it checks.

mod support;

use std::any::TypeId;
use std::future::Future;
use std::ops::ControlFlow;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use actor12::cancel::{CancelReason, CancelToken};
use actor12::prelude::*;
use actor12::{
    ActorContext, ActorError, DropHandle, DynLink, HandlerMessage, MessageError, Multi, Proxy,
    TryRecvError, oneshot,
};
use support::*;

async fn within<F: Future>(f: F) -> F::Output {
    actor12::time::timeout(HANG, f).await.expect("hung: no answer within the limit")
}

/// Polls `f` once with a waker that does nothing.
fn poll_once<F: Future>(f: std::pin::Pin<&mut F>) -> Poll<F::Output> {
    f.poll(&mut Context::from_waker(Waker::noop()))
}

/// Polls `f` once: its output if it is ready on that first poll ("at once").
fn at_once<F: Future>(f: F) -> Option<F::Output> {
    let f = pin!(f);
    match poll_once(f) {
        Poll::Ready(v) => Some(v),
        Poll::Pending => None,
    }
}

/// Waits (bounded) until `cond` holds, yielding between looks.
async fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let start = std::time::Instant::now();
    while !cond() {
        assert!(start.elapsed() < HANG, "never happened: {what}");
        actor12::time::sleep(Duration::from_millis(1)).await;
    }
}

/// Sends a `HoldStarted` and waits until its handler runs; dropping or sending on the returned
/// sender lets it go on.
async fn hold(rec: &Link<Recorder>) -> (MessageHandle<anyhow::Result<()>>, oneshot::Sender<()>) {
    let (started_tx, started) = oneshot::channel();
    let (open, gate) = oneshot::channel();
    let h = rec.send_message(HandlerMessage::new(HoldStarted(started_tx, gate))).await;
    within(started).await.unwrap();
    (h, open)
}

use actor12::MessageHandle;

// ---- Timeouts -------------------------------------------------------------------------------

// timeouts.md:3-5 "`handle.timeout(d)` before `reply()` ... That deadline counts from when the
// reply is awaited"; message.rs:551-552 "the deadline counts from when the reply is awaited".
// The sleep below is the quantity under test (time passing between `timeout(..)` and the await),
// not a stand-in for synchronisation.
#[test]
fn a_reply_deadline_counts_from_when_the_reply_is_awaited() {
    runtime().block_on(async {
        let rec = actor12::spawn::<Recorder>(Probe::default());
        let (_held, open) = hold(&rec).await;
        let h = rec.send_message(HandlerMessage::new(Note(0, 0))).await;
        let h = h.timeout(Duration::from_secs(1));
        actor12::time::sleep(Duration::from_millis(1500)).await; // longer than the deadline
        let mut reply = pin!(h.reply());
        let first = std::future::poll_fn(|cx| Poll::Ready(reply.as_mut().poll(cx))).await;
        assert!(first.is_pending(), "timed out at its first poll: {first:?}");
        open.send(()).unwrap();
        assert_eq!(within(reply).await.unwrap().unwrap(), 1);
    });
}

// timeouts.md:9-10 "`send_with_timeout(message, d)` puts both steps under one deadline of `d`
// from when it is first awaited (not from the call, as for any `async fn`)"; message.rs:1181.
#[test]
fn send_with_timeout_counts_from_its_first_poll_not_from_the_call() {
    runtime().block_on(async {
        let rec = actor12::spawn::<Recorder>(Probe::default());
        let (_held, open) = hold(&rec).await;
        let send = rec.send_with_timeout(HandlerMessage::new(Note(0, 0)), Duration::from_secs(1));
        actor12::time::sleep(Duration::from_millis(1500)).await; // longer than the deadline
        let mut send = pin!(send);
        let first = std::future::poll_fn(|cx| Poll::Ready(send.as_mut().poll(cx))).await;
        assert!(first.is_pending(), "done at its first poll: {first:?}");
        open.send(()).unwrap();
        assert_eq!(within(send).await.unwrap().unwrap(), 1);
    });
}

// timeouts.md:42-43 "`try_reply()` never waits: ... `Ok(None)` if not yet (the handle stays
// usable)"; two-step.md:50.
#[test]
fn try_reply_not_yet_leaves_the_handle_usable() {
    runtime().block_on(async {
        let rec = actor12::spawn::<Recorder>(Probe::default());
        let (_held, open) = hold(&rec).await;
        let mut h = rec.send_message(HandlerMessage::new(Note(0, 0))).await;
        assert!(matches!(h.try_reply(), Ok(None)));
        assert!(matches!(h.try_reply(), Ok(None)));
        open.send(()).unwrap();
        assert_eq!(within(h.reply()).await.unwrap().unwrap(), 1);
    });
}

// two-step.md:43-44 "A `MessageHandle` is `#[must_use]`: dropping one unused is `forget()` (the
// actor still handles the message)".
#[test]
fn a_handle_dropped_unused_is_forget() {
    runtime().block_on(async {
        let rec = actor12::spawn::<Recorder>(Probe::default());
        let h = rec.send_message(HandlerMessage::new(Note(0, 0))).await;
        drop(h);
        assert_eq!(within(rec.ask_dyn(Dump)).await.unwrap(), vec![(0, 0)]);
    });
}

// ---- Sends to a stopped actor or an empty weak link -----------------------------------------

struct Doubler;
actor!(Doubler, message = Envelope<u64, anyhow::Result<u64>>, spec = (), cancel = (),
init = |_ctx| Doubler,
extra = {
    async fn handle(&mut self, _: actor12::Exec<'_, Self>, msg: Self::Message) {
        let n = msg.value;
        let _ = msg.send(Ok(n * 2));
    }
});

fn dead(e: &anyhow::Error) -> bool {
    e.downcast_ref::<ActorError>() == Some(&ActorError::Dead)
}

// two-step.md:75-77 "`SendFailed(why)`: ... the actor has stopped, the weak link is empty ...
// Its text reads `message not delivered: <why>`"; error.rs:219-221 "The text says which.";
// message.rs:36-37 "To a dead or empty target it yields a handle whose `send_error` says so."
#[test]
fn a_two_step_send_failure_says_whether_the_actor_stopped_or_the_link_is_empty() {
    runtime().block_on(async {
        let empty = WeakLink::<Recorder>::new();
        let h = empty.send_message(HandlerMessage::new(Note(0, 0))).await;
        assert_eq!(h.send_error(), Some("the weak link is empty"));
        let e = h.reply().await.unwrap_err();
        assert_eq!(e.to_string(), "message not delivered: the weak link is empty");
        let e = within(empty.send_with_timeout(HandlerMessage::new(Note(0, 0)), HANG))
            .await
            .unwrap_err();
        assert_eq!(e.to_string(), "message not delivered: the weak link is empty");

        let rec = actor12::spawn::<Recorder>(Probe::default());
        rec.cancel_and_wait(()).await;
        let e = rec.downgrade().send_and_reply(HandlerMessage::new(Note(0, 0))).await.unwrap_err();
        assert_eq!(e.to_string(), "message not delivered: the actor has stopped");
    });
}

// API.md §2 "`WeakLink<A>` ... every send call of `Link`: to a dead or empty target they resolve
// at once to `ActorError::Dead` / `MessageError::SendFailed`, never hang"; weak.rs:560-561
// (`send`), 747-748 (`ask_dyn_async`: "a ready `ActorError::Dead`"), 856-857 (`relay_dyn`: "the
// envelope is dropped and its asker gets an error at once"), 644-645 (`try_send_raw`: `Closed`);
// concepts.md:134 "Every send through a link to a stopped actor fails at once". "At once" is
// checked as "ready at the first poll".
#[test]
fn every_send_to_a_dead_or_empty_target_is_ready_at_its_first_poll() {
    runtime().block_on(async {
        let rec = actor12::spawn::<Recorder>(Probe::default());
        rec.cancel_and_wait(()).await;
        let dbl = actor12::spawn::<Doubler>(());
        dbl.cancel_and_wait(()).await;
        let gone_dbl = {
            let l = actor12::spawn::<Doubler>(());
            let w = l.downgrade();
            drop(l);
            within(w.cancel_and_wait(())).await;
            w
        };
        for (what, weak, wdbl) in [
            ("stopped", rec.downgrade(), dbl.downgrade()),
            ("empty", WeakLink::new(), WeakLink::new()),
            ("gone", rec.downgrade(), gone_dbl.clone()),
        ] {
            let r = at_once(weak.ask_dyn(Note(0, 0))).unwrap_or_else(|| panic!("{what}: ask_dyn"));
            assert!(dead(&r.unwrap_err()), "{what}: ask_dyn is Dead");
            let r = at_once(wdbl.send::<u64, anyhow::Result<u64>>(1))
                .unwrap_or_else(|| panic!("{what}: send"));
            assert!(dead(&r.unwrap_err()), "{what}: send is Dead");
            let later =
                at_once(weak.ask_dyn_async(Note(0, 0))).unwrap_or_else(|| panic!("{what}: async"));
            let r = at_once(later).unwrap_or_else(|| panic!("{what}: ask_dyn_async's reply"));
            assert!(dead(&r.unwrap_err()), "{what}: ask_dyn_async is Dead");
            let (env, mut asker) = Envelope::new(Note(0, 0));
            at_once(weak.relay_dyn(env)).unwrap_or_else(|| panic!("{what}: relay_dyn"));
            // `Closed`, not `Empty`: the envelope was dropped, not kept (an audit of 2026-12-07:
            // `is_err` passed with the envelope leaked).
            assert!(
                matches!(asker.try_recv(), Err(actor12::oneshot::TryRecvError::Closed)),
                "{what}: the relayed envelope's asker has its error"
            );
            at_once(weak.tell_dyn(Note(0, 0))).unwrap_or_else(|| panic!("{what}: tell_dyn"));
            let h = at_once(weak.send_message(HandlerMessage::new(Note(0, 0))))
                .unwrap_or_else(|| panic!("{what}: send_message"));
            assert!(!h.was_sent());
            let r = at_once(weak.send_and_reply(HandlerMessage::new(Note(0, 0))))
                .unwrap_or_else(|| panic!("{what}: send_and_reply"));
            assert!(matches!(r, Err(MessageError::SendFailed(_))), "{what}: {r:?}");
            let r = at_once(weak.send_with_timeout(HandlerMessage::new(Note(0, 0)), HANG))
                .unwrap_or_else(|| panic!("{what}: send_with_timeout"));
            assert!(matches!(r, Err(MessageError::SendFailed(_))), "{what}: {r:?}");
            at_once(weak.send_and_forget(HandlerMessage::new(Note(0, 0))))
                .unwrap_or_else(|| panic!("{what}: send_and_forget"));
            let r = at_once(weak.send_raw(Multi::tell(Note(0, 0))))
                .unwrap_or_else(|| panic!("{what}: send_raw"));
            assert!(r.is_err());
            let r = weak.try_send_raw(Multi::tell(Note(0, 0)));
            assert!(r.is_err_and(|e| e.is_closed()), "{what}: try_send_raw is Closed");
            at_once(weak.cancel_and_wait(())).unwrap_or_else(|| panic!("{what}: cancel_and_wait"));
        }
        // The strong link's calls, to the stopped actor.
        assert!(at_once(rec.ask_dyn(Note(0, 0))).expect("ask_dyn").is_err());
        assert!(at_once(dbl.send::<u64, anyhow::Result<u64>>(1)).expect("send").is_err());
        let later = at_once(rec.ask_dyn_async(Note(0, 0))).expect("ask_dyn_async");
        assert!(at_once(later).expect("ask_dyn_async's reply").is_err());
        let h = at_once(rec.send_message(HandlerMessage::new(Note(0, 0)))).expect("send_message");
        assert!(matches!(at_once(h.reply()).expect("reply"), Err(MessageError::SendFailed(_))));
        let r = at_once(rec.send_with_timeout(HandlerMessage::new(Note(0, 0)), HANG));
        assert!(matches!(r.expect("send_with_timeout"), Err(MessageError::SendFailed(_))));
        assert!(at_once(rec.send_raw(Multi::tell(Note(0, 0)))).expect("send_raw").is_err());
        let (env, mut asker) = Envelope::new(Note(0, 0));
        at_once(rec.relay_dyn(env)).expect("relay_dyn");
        assert!(
            matches!(asker.try_recv(), Err(actor12::oneshot::TryRecvError::Closed)),
            "the relayed envelope's asker has its error"
        );
        at_once(rec.tell_dyn(Note(0, 0))).expect("tell_dyn");
        at_once(rec.to_dyn::<Note>().tell_dyn(Note(0, 0))).expect("DynLink::tell_dyn");
        at_once(rec.wait()).expect("wait on a stopped actor");
    });
}

// weak.rs:357-359 "`upgrade`: A strong link, if another strong link to the actor still exists.
// The actor may have stopped meanwhile (sends through the link then fail at once)";
// weak-links.md:10-11.
#[test]
fn upgrade_gives_a_link_to_a_stopped_actor_while_another_is_left() {
    runtime().block_on(async {
        let rec = actor12::spawn::<Recorder>(Probe::default());
        let weak = rec.downgrade();
        rec.cancel_and_wait(()).await;
        let up = weak.upgrade().expect("a strong link is left");
        assert!(up == rec);
        assert!(!up.alive() && !weak.alive());
        assert!(at_once(up.ask_dyn(Note(0, 0))).expect("at once").is_err());
    });
}

// ---- Mailbox bounds -------------------------------------------------------------------------

// API.md §1 "fn mailbox_capacity() -> usize  default 64"; concepts.md:22 "senders wait when the
// mailbox holds this many | 64".
#[test]
fn the_default_mailbox_holds_64_messages() {
    runtime().block_on(async {
        let rec = actor12::spawn::<Recorder>(Probe::default());
        let (_held, open) = hold(&rec).await;
        for i in 0..64 {
            rec.try_send_raw(Multi::tell(Note(0, i))).unwrap_or_else(|_| panic!("message {i}"));
        }
        let r = rec.try_send_raw(Multi::tell(Note(0, 64)));
        assert!(r.is_err_and(|e| e.is_full()), "the 65th finds the mailbox full");
        open.send(()).unwrap();
        assert_eq!(within(rec.ask_dyn(Dump)).await.unwrap().len(), 64);
    });
}

/// A `Recorder`-like actor with room for one queued message.
struct Narrow {
    seen: Vec<(u32, u32)>,
}
actor!(
    Narrow,
    spec = (),
    cancel = (),
    init = |_ctx| Narrow { seen: Vec::new() },
    extra = {
        fn mailbox_capacity() -> usize {
            1
        }
    }
);

impl Handler<Note> for Narrow {
    type Reply = anyhow::Result<usize>;
    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, Note(s, n): Note) -> Self::Reply {
        self.seen.push((s, n));
        Ok(self.seen.len())
    }
}
impl Handler<Dump> for Narrow {
    type Reply = anyhow::Result<Vec<(u32, u32)>>;
    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Dump) -> Self::Reply {
        Ok(self.seen.clone())
    }
}
impl Handler<HoldStarted> for Narrow {
    type Reply = anyhow::Result<()>;
    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, h: HoldStarted) -> Self::Reply {
        let HoldStarted(started, gate) = h;
        let _ = started.send(());
        let _ = gate.await;
        Ok(())
    }
}
/// Says it was handled.
struct Signal(oneshot::Sender<()>);
impl Handler<Signal> for Narrow {
    type Reply = anyhow::Result<()>;
    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, s: Signal) -> Self::Reply {
        let _ = s.0.send(());
        Ok(())
    }
}

// link.rs:728-730 "`try_send_raw`: Pushes a raw `A::Message` without waiting: fails if the
// mailbox is full, or senders are waiting for room in it (they go first), or the actor has
// stopped"; actor.rs:122-123 "Waiting senders get room in the order they started waiting, ahead
// of any later send."
#[test]
fn try_send_raw_refuses_while_a_sender_waits_for_room() {
    runtime().block_on(async {
        let narrow = actor12::spawn::<Narrow>(());
        let (started_tx, started) = oneshot::channel();
        let (open, gate) = oneshot::channel();
        narrow.tell_dyn(HoldStarted(started_tx, gate)).await;
        within(started).await.unwrap();
        let (handled_tx, handled) = oneshot::channel();
        narrow.tell_dyn(Signal(handled_tx)).await; // the mailbox is full now
        let r = narrow.downgrade().try_send_raw(Multi::tell(Note(9, 9)));
        assert!(r.is_err_and(|e| e.is_full()), "a weak link's try_send_raw: Full");
        let mut waiting = pin!(narrow.tell_dyn(Note(0, 0)));
        assert!(poll_once(waiting.as_mut()).is_pending(), "the tell waits for room");
        open.send(()).unwrap();
        within(handled).await.unwrap(); // `Signal` left the mailbox: it has room again
        let r = narrow.try_send_raw(Multi::tell(Note(1, 0)));
        let refused = r.is_err();
        within(waiting).await;
        let seen = within(narrow.ask_dyn(Dump)).await.unwrap();
        assert!(refused, "try_send_raw took the room a waiting sender waits for: {seen:?}");
        assert_eq!(seen, vec![(0, 0)]);
    });
}

/// A proxied actor with a mailbox of `CAP`.
struct Proxied<const CAP: usize>;
impl<const CAP: usize> Actor for Proxied<CAP> {
    type Message = Multi<Self>;
    type Spec = ();
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();
    fn state(_: &()) {}
    fn init(_: Init<'_, Self>) -> impl InitFuture<Self> {
        std::future::ready(Ok(Proxied))
    }
    fn mailbox_capacity() -> usize {
        CAP
    }
}
impl<const CAP: usize> Handler<Note> for Proxied<CAP> {
    type Reply = anyhow::Result<()>;
    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Note) -> Self::Reply {
        Ok(())
    }
}

fn outer_room<const CAP: usize>() -> usize {
    let (proxy, outer) = Proxy::<Proxied<CAP>>::new(());
    let mut n = 0;
    while n < 10_000 && outer.try_send_raw(Multi::tell(Note(0, 0))).is_ok() {
        n += 1;
    }
    drop(proxy);
    n
}

// proxy.rs:23-27 "While no incarnation runs (before `init`, ...) messages wait in the outer
// link's mailbox ... That mailbox holds 100 messages, as in actor12 0.0.11 (the actor's
// `mailbox_capacity` if larger); a send to it waits for room beyond that."
#[test]
fn a_proxys_outer_mailbox_holds_100_or_the_actors_capacity_if_larger() {
    runtime().block_on(async {
        assert_eq!(outer_room::<2>(), 100);
        assert_eq!(outer_room::<150>(), 150);
    });
}

/// Records every raw `u32` it gets.
struct Sink(Arc<AtomicUsize>);
actor!(Sink, message = Multi<Self>, spec = Arc<AtomicUsize>, cancel = (),
    init = |ctx| Sink(ctx.spec),
    extra = { fn mailbox_capacity() -> usize { usize::MAX } });
impl Handler<u32> for Sink {
    type Reply = anyhow::Result<()>;
    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: u32) -> Self::Reply {
        self.0.fetch_add(1, SeqCst);
        Ok(())
    }
}

// runtime.md "a message's send [spends] a 64th of [a unit of the cooperative budget of 128] ...
// So a loop of sends that always find room ... yields after 8,192 sends". The loop spreads its
// messages over 64 actors, 315 each at most: none falls the ~500 messages behind that would make
// the sender give way sooner (the test after this one).
#[test]
fn a_loop_of_sends_into_a_mailbox_with_room_yields_every_8192_sends() {
    runtime().block_on(async {
        let seen = Arc::new(AtomicUsize::new(0));
        let sinks: Vec<_> = (0..64).map(|_| actor12::spawn::<Sink>(seen.clone())).collect();
        let senders = sinks.clone();
        let polls = actor12::rt::spawn(async move {
            let mut sends = pin!(async {
                for i in 0..4_000u32 {
                    let sender = &senders[i as usize % senders.len()];
                    sender.tell_dyn(i).await;
                    sender.send_and_forget(HandlerMessage::new(i)).await;
                    sender.send_raw(Multi::tell(i)).await.unwrap();
                    sender.send_message(HandlerMessage::new(i)).await.forget();
                    sender.downgrade().tell_dyn(i).await;
                }
            });
            let mut polls = 0;
            std::future::poll_fn(|cx| {
                polls += 1;
                sends.as_mut().poll(cx)
            })
            .await;
            polls
        });
        let polls = within(polls).await.unwrap();
        assert_eq!(polls - 1, 20_000 / 8_192, "yields of the sending task");
        eventually("every message handled", || seen.load(SeqCst) == 20_000).await;
    });
}

// runtime.md "A send that finds its actor about 500 messages behind ... spends the rest of the
// budget, so the sender yields at its next send". On one worker the actor runs only when the
// sender yields. The 527th send is a `send_and_forget`; the `send_raw` after it yields.
#[test]
fn a_send_that_finds_its_actor_500_messages_behind_yields_at_the_next_send() {
    let rt = actor12::rt::Runtime::builder().worker_threads(1).build().unwrap();
    rt.block_on(async {
        let seen = Arc::new(AtomicUsize::new(0));
        let sink = actor12::spawn::<Sink>(seen.clone());
        let sender = sink.clone();
        let polls = actor12::rt::spawn(async move {
            let mut sends = pin!(async {
                // The 527th send takes a block's last slot, with 526 messages ahead of it.
                for i in 0..106u32 {
                    sender.tell_dyn(i).await;
                    sender.send_and_forget(HandlerMessage::new(i)).await;
                    sender.send_raw(Multi::tell(i)).await.unwrap();
                    sender.send_message(HandlerMessage::new(i)).await.forget();
                    sender.downgrade().tell_dyn(i).await;
                }
                seen.load(SeqCst)
            });
            let mut polls = 0;
            std::future::poll_fn(|cx| {
                polls += 1;
                sends.as_mut().poll(cx).map(|handled| (polls, handled))
            })
            .await
        });
        let (polls, handled) = within(polls).await.unwrap();
        assert_eq!(polls, 2, "the sender yields once, at its 528th send");
        assert!(handled > 0, "the actor ran while the sender gave way");
    });
}

// runtime.md "(after `try_send_raw`, at its next await of the runtime's futures)": a due
// sleep is ready when polled, unless the budget is spent.
#[test]
fn a_try_send_that_finds_its_actor_500_messages_behind_yields_at_the_next_await() {
    let rt = actor12::rt::Runtime::builder().worker_threads(1).build().unwrap();
    rt.block_on(async {
        let seen = Arc::new(AtomicUsize::new(0));
        let sink = actor12::spawn::<Sink>(seen.clone());
        let task = actor12::rt::spawn(async move {
            for i in 0..527u32 {
                sink.try_send_raw(Multi::tell(i)).ok().unwrap();
            }
            let before = seen.load(SeqCst);
            actor12::time::sleep(Duration::ZERO).await;
            (before, seen.load(SeqCst))
        });
        let (before, after) = within(task).await.unwrap();
        assert_eq!(before, 0, "the actor waits on the only worker");
        assert!(after > 0, "the task yielded at the sleep and the actor ran");
    });
}

// ---- Counting -------------------------------------------------------------------------------

struct Counted;
actor!(Counted, spec = (), cancel = (), init = |_ctx| Counted);

struct NeverSpawned;

// migrating.md:75 "`count::counts()` | a snapshot of the counted types with the same calls
// (`get`, `contains_key`, `len`, `iter` with `key()` and `value()`); the counters in it are
// live"; count.rs:103-104 "(all zero for a type never counted, which reading does not add to
// `counts`)"; count.rs:3 "Every spawned actor is counted from `spawn` until its lifecycle ends."
#[test]
fn counts_is_a_snapshot_of_the_types_with_live_counters() {
    runtime().block_on(async {
        let id = TypeId::of::<Counted>();
        let a = actor12::spawn::<Counted>(());
        let snap = actor12::count::counts();
        assert!(snap.contains_key(&id) && !snap.is_empty());
        assert!(!snap.is_empty());
        let stats = snap.get(&id).expect("Counted is counted");
        assert_eq!(stats.live.load(SeqCst), 1);
        assert_eq!(stats.total.load(SeqCst), 1);
        let entry = snap.iter().find(|e| *e.key() == id).expect("iter lists it");
        assert!(std::ptr::eq(entry.value(), stats));
        let b = actor12::spawn::<Counted>(());
        assert_eq!(stats.live.load(SeqCst), 2, "the snapshot's counters are live");
        assert_eq!(stats.max_live.load(SeqCst), 2);
        a.cancel_and_wait(()).await;
        b.cancel_and_wait(()).await;
        assert_eq!(stats.live.load(SeqCst), 0, "counted until its lifecycle ends");
        assert_eq!(actor12::count::stats::<Counted>().total, 2);

        assert_eq!(
            actor12::count::stats::<NeverSpawned>(),
            actor12::count::Snapshot { total: 0, max_live: 0, live: 0 }
        );
        assert!(!actor12::count::counts().contains_key(&TypeId::of::<NeverSpawned>()));
    });
}

// ---- The actor's own code -------------------------------------------------------------------

/// What `terminate` saw.
#[derive(Debug, PartialEq, Eq)]
struct Seen {
    weak_alive: bool,
    strong_alive: Option<bool>,
    closed: bool,
    empty: bool,
    len: usize,
    try_recv_disconnected: bool,
    recv_none: bool,
}

struct Observer {
    out: std::sync::mpsc::Sender<Seen>,
}
actor!(Observer, spec = std::sync::mpsc::Sender<Seen>, cancel = (),
init = |ctx| Observer { out: ctx.spec },
extra = {
    async fn terminate(self, mut ctx: ActorContext<Self>, _: CancelReason<()>) {
        let seen = Seen {
            weak_alive: ctx.link.alive(),
            strong_alive: ctx.link.upgrade().map(|l| l.alive()),
            closed: ctx.rx.is_closed(),
            empty: ctx.rx.is_empty(),
            len: ctx.rx.len(),
            try_recv_disconnected: matches!(ctx.rx.try_recv(), Err(TryRecvError::Disconnected)),
            recv_none: ctx.rx.recv().await.is_none(),
        };
        let _ = self.out.send(seen);
    }
});
impl Handler<HoldStarted> for Observer {
    type Reply = anyhow::Result<()>;
    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, h: HoldStarted) -> Self::Reply {
        let HoldStarted(started, gate) = h;
        let _ = started.send(());
        let _ = gate.await;
        Ok(())
    }
}
impl Handler<Note> for Observer {
    type Reply = anyhow::Result<()>;
    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Note) -> Self::Reply {
        Ok(())
    }
}

// migrating.md:57 "`alive()` is false from the stop on, during `terminate` too, and `ctx.rx`
// there is closed and empty (a drain in `terminate` finds nothing)"; actor.rs:144-145 "The
// mailbox is closed by then and the queued messages handled or dropped".
#[test]
fn terminate_finds_the_actor_stopped_and_its_mailbox_closed_and_empty() {
    let (tx, rx) = std::sync::mpsc::channel();
    let link = runtime();
    let seen = link.block_on(async {
        let obs = actor12::spawn::<Observer>(tx);
        let (started_tx, started) = oneshot::channel();
        let (open, gate) = oneshot::channel();
        obs.tell_dyn(HoldStarted(started_tx, gate)).await;
        within(started).await.unwrap();
        for i in 0..3 {
            obs.tell_dyn(Note(0, i)).await;
        }
        obs.cancel(());
        open.send(()).unwrap();
        within(obs.wait()).await;
        rx.recv_timeout(HANG).expect("terminate reported")
    });
    assert_eq!(
        seen,
        Seen {
            weak_alive: false,
            strong_alive: Some(false),
            closed: true,
            empty: true,
            len: 0,
            try_recv_disconnected: true,
            recv_none: true,
        }
    );
}

struct SelfKeeper {
    _me: Link<SelfKeeper>,
}
actor!(SelfKeeper, spec = (), cancel = (), init = |ctx| SelfKeeper { _me: ctx.link });
impl Handler<Note> for SelfKeeper {
    type Reply = anyhow::Result<u32>;
    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, Note(_, n): Note) -> Self::Reply {
        Ok(n)
    }
}

// weak-links.md:5-7 "in `init`, `ctx.link` is a strong `Link` to the actor being built (kept in
// the actor, it keeps the actor alive)"; actor.rs:712.
#[test]
fn the_link_init_gets_kept_in_the_actor_keeps_it_alive() {
    runtime().block_on(async {
        let link = actor12::spawn::<SelfKeeper>(());
        let weak = link.downgrade();
        drop(link);
        assert!(weak.alive(), "dropping the spawner's link did not stop it");
        assert_eq!(within(weak.ask_dyn(Note(0, 7))).await.unwrap(), 7);
        within(weak.cancel_and_wait(())).await;
        assert!(!weak.alive());
    });
}

struct Ticker {
    made: Arc<AtomicUsize>,
}
actor!(Ticker, spec = Arc<AtomicUsize>, cancel = (), init = |ctx| Ticker { made: ctx.spec },
extra = {
    fn tick(&mut self) -> impl Future<Output = ControlFlow<()>> + Send {
        self.made.fetch_add(1, SeqCst);
        std::future::pending()
    }
});
impl Handler<Note> for Ticker {
    type Reply = anyhow::Result<()>;
    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Note) -> Self::Reply {
        Ok(())
    }
}

// concepts.md:18 "`fn tick` ... made again after each message"; actor.rs:178 "Its future is made
// again for every cycle, that is after every message".
#[test]
fn the_tick_future_is_made_again_for_every_message() {
    runtime().block_on(async {
        let made = Arc::new(AtomicUsize::new(0));
        let t = actor12::spawn::<Ticker>(made.clone());
        for i in 0..10 {
            t.tell_dyn(Note(0, i)).await;
        }
        within(t.ask_dyn(Note(0, 10))).await.unwrap();
        let n = made.load(SeqCst);
        assert!(n >= 11, "tick made {n} times for 11 messages");
        t.cancel_and_wait(()).await;
    });
}

struct Taker;
actor!(Taker, spec = (), cancel = (), init = |_ctx| Taker);
struct TakeTwice;
impl Handler<TakeTwice> for Taker {
    type Reply = anyhow::Result<bool>;
    async fn handle(&mut self, mut ctx: Call<'_, Self, Self::Reply>, _: TakeTwice) -> Self::Reply {
        let first = ctx.take_reply();
        let second_panicked = catch_unwind(AssertUnwindSafe(|| drop(ctx.take_reply()))).is_err();
        let _ = first.send(Ok(second_panicked));
        Ok(false)
    }
}

// handler.rs:201-206 "`take_reply`: Takes the reply slot ... The handler's return value is then
// discarded. ... # Panics If the slot was already taken in this run."
#[test]
fn a_second_take_reply_panics_and_the_return_value_is_discarded() {
    runtime().block_on(async {
        let t = actor12::spawn::<Taker>(());
        assert!(within(t.ask_dyn(TakeTwice)).await.unwrap(), "the second take_reply panicked");
    });
}

/// Closes its own mailbox in a handler, then reports what it sees.
struct Closer;
actor!(Closer, spec = (), cancel = (), init = |_ctx| Closer);
#[derive(Debug, PartialEq, Eq)]
struct AfterClose {
    alive: bool,
    send_refused: bool,
    received: usize,
    then_disconnected: bool,
}
struct Close;
impl Handler<Close> for Closer {
    type Reply = anyhow::Result<AfterClose>;
    async fn handle(&mut self, ctx: Call<'_, Self, Self::Reply>, _: Close) -> Self::Reply {
        let mut ctx = ctx;
        ctx.rx.close();
        let me = ctx.link.upgrade().expect("the asker holds a link");
        let alive = me.alive();
        let send_refused = me.try_send_raw(Multi::tell(Note(9, 9))).is_err();
        let mut received = 0;
        let then_disconnected = loop {
            match ctx.rx.try_recv() {
                Ok(_) => received += 1,
                Err(e) => break e == TryRecvError::Disconnected,
            }
        };
        Ok(AfterClose { alive, send_refused, received, then_disconnected })
    }
}
impl Handler<Note> for Closer {
    type Reply = anyhow::Result<()>;
    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Note) -> Self::Reply {
        Ok(())
    }
}
impl Handler<HoldStarted> for Closer {
    type Reply = anyhow::Result<()>;
    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, h: HoldStarted) -> Self::Reply {
        let HoldStarted(started, gate) = h;
        let _ = started.send(());
        let _ = gate.await;
        Ok(())
    }
}

// channel.rs:498-500 "`close`: Stops accepting messages: later sends fail; those already queued
// can still be received. To its links the actor is stopped from then on: `alive()` is false".
#[test]
fn closing_the_receiver_refuses_sends_and_keeps_what_was_queued() {
    runtime().block_on(async {
        let c = actor12::spawn::<Closer>(());
        let (started_tx, started) = oneshot::channel();
        let (open, gate) = oneshot::channel();
        c.tell_dyn(HoldStarted(started_tx, gate)).await;
        within(started).await.unwrap();
        let report = c.send_message(HandlerMessage::new(Close)).await;
        c.tell_dyn(Note(0, 0)).await;
        c.tell_dyn(Note(0, 1)).await;
        open.send(()).unwrap();
        let seen = within(report.reply()).await.unwrap().unwrap();
        assert_eq!(
            seen,
            AfterClose { alive: false, send_refused: true, received: 2, then_disconnected: true }
        );
        assert!(!c.alive());
        within(c.wait()).await;
    });
}

// ---- Cancellation ---------------------------------------------------------------------------

/// Reports its stop reason.
struct Reasoned(std::sync::mpsc::Sender<CancelReason<String>>);
actor!(Reasoned, spec = std::sync::mpsc::Sender<CancelReason<String>>, cancel = String,
init = |ctx| Reasoned(ctx.spec),
extra = {
    async fn terminate(self, _: ActorContext<Self>, reason: CancelReason<String>) {
        let _ = self.0.send(reason);
    }
});
impl Handler<Note> for Reasoned {
    type Reply = anyhow::Result<()>;
    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Note) -> Self::Reply {
        Ok(())
    }
}

fn at(reason: &CancelReason<String>) -> (&'static str, u32) {
    (reason.location().file(), reason.location().line())
}

// migrating.md:66 "`CancelReason::location` of a link's cancel | ... the caller of `cancel` on a
// `Link`, `WeakLink`, `DynLink` or `CancelToken`"; API.md §2 "`cancel(reason)` recording the
// caller's location"; link.rs:1334 "`DynLink::cancel`: Asks the actor to stop with its default
// reason."; cancellation.md:5-6 "(`cancel_with_reason` takes a reason made beforehand)".
#[test]
fn every_cancel_records_its_callers_location() {
    runtime().block_on(async {
        let (tx, rx) = std::sync::mpsc::channel();
        let mut got = Vec::new();

        let a = actor12::spawn::<Reasoned>(tx.clone());
        let line = line!() + 1;
        a.cancel("link".into());
        within(a.wait()).await;
        got.push(("Link::cancel", line, "link"));

        let a = actor12::spawn::<Reasoned>(tx.clone());
        let line = line!() + 1;
        a.cancel_and_wait("link wait".into()).await;
        got.push(("Link::cancel_and_wait", line, "link wait"));

        let a = actor12::spawn::<Reasoned>(tx.clone());
        let line = line!() + 1;
        a.downgrade().cancel("weak".into());
        within(a.wait()).await;
        got.push(("WeakLink::cancel", line, "weak"));

        let a = actor12::spawn::<Reasoned>(tx.clone());
        let line = line!() + 1;
        within(a.downgrade().cancel_and_wait("weak wait".into())).await;
        got.push(("WeakLink::cancel_and_wait", line, "weak wait"));

        let a = actor12::spawn::<Reasoned>(tx.clone());
        let line = line!() + 1;
        a.to_dyn::<Note>().cancel();
        within(a.wait()).await;
        got.push(("DynLink::cancel", line, ""));

        let a = actor12::spawn::<Reasoned>(tx.clone());
        let line = line!() + 1;
        within(a.to_dyn::<Note>().cancel_and_wait()).await;
        got.push(("DynLink::cancel_and_wait", line, ""));

        let a = actor12::spawn::<Reasoned>(tx.clone());
        let line = line!() + 1;
        a.token().cancel("token".to_string());
        within(a.wait()).await;
        got.push(("CancelToken::cancel", line, "token"));

        let a = actor12::spawn::<Reasoned>(tx.clone());
        let line = line!() + 1;
        let made = CancelReason::<String>::new("made");
        a.token().cancel_with_reason(made);
        within(a.wait()).await;
        got.push(("CancelToken::cancel_with_reason (where the reason was made)", line, "made"));

        let mut wrong = Vec::new();
        for (what, line, value) in got {
            let r = rx.recv_timeout(HANG).expect("terminate reported");
            if at(&r) != (file!(), line) || r.value() != value {
                wrong.push(format!(
                    "{what}: {:?} at {}, expected {value:?} at {}:{line}",
                    r.value(),
                    r.location(),
                    file!()
                ));
            }
        }
        assert!(wrong.is_empty(), "{wrong:#?}");
    });
}

// cancel.rs:445-448 "`child_with`: A child token with another reason type `U`: cancelled, with
// `U::default()` and this token's cancel location, when this token is; its own cancel reaches
// only its subtree. Starts cancelled if this token is. If `U` is `T` after all, this is a
// `child`: it gets this token's reason, not `T::default()`."; cancel.rs:520-521 "Cancelling twice
// keeps the first reason."
#[test]
fn child_with_follows_its_parent_as_documented() {
    let root: CancelToken<u32> = CancelToken::new();
    let other: CancelToken<String> = root.child_with();
    let below = other.child();
    let same: CancelToken<u32> = root.child_with::<u32>();
    let sibling: CancelToken<String> = root.child_with();
    other.cancel("own");
    assert!(below.is_cancelled() && !root.is_cancelled() && !sibling.is_cancelled());
    let line = line!() + 1;
    root.cancel(7u32);
    root.cancel(8u32);
    assert_eq!(*root.reason().unwrap().value(), 7, "the first reason stays");
    let r = sibling.reason().expect("cancelled with its parent");
    assert_eq!((r.value().as_str(), r.location().line()), ("", line));
    assert_eq!(other.reason().unwrap().value(), "own", "its own, earlier cancel stays");
    assert_eq!(*same.reason().unwrap().value(), 7, "U = T: the parent's reason");
    let late: CancelToken<String> = root.child_with();
    assert_eq!(late.reason().map(|r| r.into_value()).as_deref(), Some(""), "born cancelled");
}

/// Spawns a child in its handler, hands out the child's link and a child token, then holds.
struct Parent;
actor!(Parent, spec = (), cancel = (), init = |_ctx| Parent);
struct Kid;
actor!(Kid, spec = (), cancel = (), init = |_ctx| Kid);
impl Handler<Note> for Kid {
    type Reply = anyhow::Result<()>;
    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Note) -> Self::Reply {
        Ok(())
    }
}
struct Brood {
    out: oneshot::Sender<(Link<Kid>, CancelToken<()>)>,
    gate: oneshot::Receiver<()>,
}
impl Handler<Brood> for Parent {
    type Reply = anyhow::Result<u32>;
    async fn handle(&mut self, ctx: Call<'_, Self, Self::Reply>, b: Brood) -> Self::Reply {
        let kid = actor12::spawn::<Kid>(());
        let _ = b.out.send((kid, ctx.token.child()));
        let _ = b.gate.await;
        Ok(1)
    }
}

// cancellation.md:55-57 "Its token is cancelled with the same reason, and with it every token
// created below it with `child()`: at once when the stop came through the token (a `cancel`, or
// the last link dropped), so the tokens below see it while the actor still finishes its message
// and runs `terminate`"; cancellation.md:62-66 (actors spawned in a handler stop with it);
// concepts.md:138 "a handler is never interrupted".
#[test]
fn tokens_and_actors_below_see_a_cancel_while_the_actor_finishes_its_message() {
    runtime().block_on(async {
        let p = actor12::spawn::<Parent>(());
        let (out, got) = oneshot::channel();
        let (open, gate) = oneshot::channel();
        let answer = p.send_message(HandlerMessage::new(Brood { out, gate })).await;
        let (kid, token) = within(got).await.unwrap();
        p.cancel(());
        assert!(token.is_cancelled(), "the child token is cancelled at once");
        within(kid.wait()).await; // the kid stops while the parent's handler still runs
        assert!(!kid.alive());
        open.send(()).unwrap();
        assert_eq!(within(answer.reply()).await.unwrap().unwrap(), 1, "the handler finished");
        within(p.wait()).await;
    });
}

/// A reason whose `Default` panics.
#[derive(Clone, Debug, PartialEq)]
struct Touchy(u32);
impl Default for Touchy {
    fn default() -> Self {
        panic!("boom");
    }
}

struct Fragile;
actor!(Fragile, spec = std::sync::mpsc::Sender<Link<Sturdy>>, cancel = Touchy,
init_future = |ctx| {
    let _ = ctx.spec.send(actor12::spawn::<Sturdy>(()));
    std::future::ready(Ok(Fragile))
});
impl Handler<Boom> for Fragile {
    type Reply = anyhow::Result<()>;
    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Boom) -> Self::Reply {
        panic!("boom");
    }
}
struct Sturdy;
actor!(Sturdy, spec = (), cancel = Touchy, init = |_ctx| Sturdy);
impl Handler<Note> for Sturdy {
    type Reply = anyhow::Result<u32>;
    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, Note(_, n): Note) -> Self::Reply {
        Ok(n)
    }
}

// cancellation.md:28-30 "a `Default` that panics where actor12 stops an actor (its last link
// dropped, a panic in its code) leaves its token uncancelled, so the actors it spawned go on."
#[test]
fn a_panicking_default_reason_leaves_the_children_running() {
    quiet_booms();
    runtime().block_on(async {
        // A panic in its code.
        let (tx, rx) = std::sync::mpsc::channel();
        let f = actor12::spawn::<Fragile>(tx.clone());
        let kid = rx.recv_timeout(HANG).unwrap();
        assert!(within(f.ask_dyn(Boom)).await.is_err());
        within(f.wait()).await;
        assert!(!f.token().is_cancelled(), "the crashed actor's token stays uncancelled");
        assert!(!kid.token().is_cancelled());
        assert_eq!(within(kid.ask_dyn(Note(0, 3))).await.unwrap(), 3, "the child goes on");
        kid.cancel_and_wait(Touchy(1)).await;

        // Its last link dropped.
        let f = actor12::spawn::<Fragile>(tx);
        let kid = rx.recv_timeout(HANG).unwrap();
        let token = f.token().clone();
        drop(f);
        assert!(!token.is_cancelled(), "the token stays uncancelled");
        assert_eq!(within(kid.ask_dyn(Note(0, 4))).await.unwrap(), 4, "the child goes on");
        kid.cancel_and_wait(Touchy(1)).await;
    });
}

/// Spawns a `Kid` in its `state` and hands the kid's link out.
struct Stately;
impl Actor for Stately {
    type Message = Multi<Self>;
    type Spec = std::sync::mpsc::Sender<Link<Kid>>;
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();
    fn state(spec: &Self::Spec) {
        let _ = spec.send(actor12::spawn::<Kid>(()));
    }
    fn init(_: Init<'_, Self>) -> impl InitFuture<Self> {
        std::future::ready(Ok(Stately))
    }
}

/// Spawns a `Stately` in a handler and hands its link out.
struct Spawner;
actor!(Spawner, spec = (), cancel = (), init = |_ctx| Spawner);
struct SpawnStately(std::sync::mpsc::Sender<Link<Kid>>);
impl Handler<SpawnStately> for Spawner {
    type Reply = anyhow::Result<Link<Stately>>;
    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, s: SpawnStately) -> Self::Reply {
        Ok(actor12::spawn::<Stately>(s.0))
    }
}

// cancellation.md:73-74 "those spawned in `state`, `span` or `mailbox_capacity` belong to whoever
// calls `spawn`".
#[test]
fn an_actor_spawned_in_state_belongs_to_whoever_calls_spawn() {
    runtime().block_on(async {
        let spawner = actor12::spawn::<Spawner>(());
        let (tx, rx) = std::sync::mpsc::channel();
        let stately = within(spawner.ask_dyn(SpawnStately(tx))).await.unwrap();
        let kid = rx.recv_timeout(HANG).unwrap();
        stately.cancel_and_wait(()).await;
        assert!(kid.alive(), "not the new actor's child");
        spawner.cancel(());
        within(kid.wait()).await; // the spawner's child: stops with it
    });
}

// ---- Odds and ends --------------------------------------------------------------------------

/// A state that records the thread it is dropped on.
struct Marker(Arc<Mutex<Option<std::thread::ThreadId>>>);
impl Drop for Marker {
    fn drop(&mut self) {
        *self.0.lock().unwrap() = Some(std::thread::current().id());
    }
}
struct Holder;
impl Actor for Holder {
    type Message = Multi<Self>;
    type Spec = Arc<Mutex<Option<std::thread::ThreadId>>>;
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = Marker;
    fn state(spec: &Self::Spec) -> Marker {
        Marker(spec.clone())
    }
    fn init(_: Init<'_, Self>) -> impl InitFuture<Self> {
        std::future::ready(Ok(Holder))
    }
}
impl Handler<Note> for Holder {
    type Reply = anyhow::Result<()>;
    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Note) -> Self::Reply {
        Ok(())
    }
}

// actor.rs:131-134 "The shared `State` ... is dropped with the last `Link` (which stops the
// actor), on the thread that drops it".
#[test]
fn the_state_is_dropped_with_the_last_link_on_the_dropping_thread() {
    let rt = runtime();
    let slot = Arc::new(Mutex::new(None));
    let link = rt.block_on(async {
        let link = actor12::spawn::<Holder>(slot.clone());
        within(link.ask_dyn(Note(0, 0))).await.unwrap();
        link
    });
    let weak = link.downgrade();
    drop(link);
    assert_eq!(*slot.lock().unwrap(), Some(std::thread::current().id()));
    rt.block_on(async { within(weak.cancel_and_wait(())).await });
}

struct Inbox(std::sync::mpsc::Sender<Result<anyhow::Result<usize>, MessageError>>);
actor!(Inbox, spec = std::sync::mpsc::Sender<Result<anyhow::Result<usize>, MessageError>>,
    cancel = (), init = |ctx| Inbox(ctx.spec));
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

// message.rs "`forward_to`: The task holds a `Link<B>` until `B` has handled the outcome, so `B`
// stays alive until then." It held it until the outcome was queued: B, its last link gone,
// stopped with the outcome unhandled.
#[test]
fn forward_to_keeps_its_target_alive_until_it_has_handled_the_outcome() {
    runtime().block_on(async {
        let rec = actor12::spawn::<Recorder>(Probe::default());
        let (_held, open) = hold(&rec).await;
        let (tx, rx) = std::sync::mpsc::channel();
        let inbox = actor12::spawn::<Inbox>(tx);
        let weak = inbox.downgrade();
        rec.send_message(HandlerMessage::new(Note(0, 0))).await.forward_to(&inbox);
        drop(inbox); // the caller's only link
        assert!(weak.alive(), "the forwarding task keeps it alive");
        open.send(()).unwrap();
        let got = rx.recv_timeout(HANG);
        let stopped = !weak.alive();
        assert!(
            got.is_ok(),
            "the outcome never reached B's handler ({got:?}); B stopped meanwhile: {stopped}"
        );
        assert_eq!(got.unwrap().unwrap().unwrap(), 1);
        within(weak.cancel_and_wait(())).await;
    });
}

struct Other;
actor!(Other, spec = (), cancel = (), init = |_ctx| Other);
impl Handler<Note> for Other {
    type Reply = anyhow::Result<usize>;
    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Note) -> Self::Reply {
        Ok(0)
    }
}

// link.rs:1284-1288 "`DynLink::to`: The typed link. # Panics If the actor is not an `A`".
#[test]
fn dyn_link_to_the_wrong_type_panics() {
    runtime().block_on(async {
        let rec = actor12::spawn::<Recorder>(Probe::default());
        let d: DynLink<Note> = rec.to_dyn();
        assert!(catch_unwind(AssertUnwindSafe(|| d.to::<Other>())).is_err());
        assert!(d.to::<Recorder>() == rec);
    });
}

// drop.rs:28-30 "`DropHandle::abort`: Aborts the task now, keeping the handle: awaiting it then
// says the task was cancelled, unless the task had finished ...: then it gives the task's
// output"; API.md §2 "`DropHandle<T>` (aborts its task on drop)".
#[test]
fn drop_handle_abort_keeps_the_handle() {
    runtime().block_on(async {
        let h = DropHandle(actor12::rt::spawn(std::future::pending::<()>()));
        h.abort();
        assert!(within(h).await.unwrap_err().is_cancelled());
        let h = DropHandle(actor12::rt::spawn(async { 7 }));
        eventually("the task finished", || h.0.is_finished()).await;
        h.abort();
        assert_eq!(within(h).await.unwrap(), 7);
    });
}

// envelope.rs:85 "`Envelope::send`: Answers; gives the answer back if the asker is gone."
#[test]
fn envelope_send_gives_the_answer_back_when_the_asker_is_gone() {
    let (env, asker) = Envelope::<u32, u32>::new(1);
    drop(asker);
    assert_eq!(env.send(5), Err(5));
}

// API.md §1 "Outside a runtime it uses a process-wide default runtime started on first use (one
// worker per core)"; lib.rs:198-201; installation.md:19-20.
#[test]
fn spawn_outside_a_runtime_uses_a_default_runtime_with_one_worker_per_core() {
    struct Where;
    actor!(Where, spec = (), cancel = (), init = |_ctx| Where);
    struct Workers;
    impl Handler<Workers> for Where {
        type Reply = anyhow::Result<usize>;
        async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Workers) -> Self::Reply {
            Ok(actor12::rt::Handle::current().num_workers())
        }
    }
    let n = std::thread::spawn(|| {
        let w = actor12::spawn::<Where>(());
        actor12::rt::Handle::current_or_default().block_on(w.ask_dyn(Workers)).unwrap()
    })
    .join()
    .unwrap();
    assert_eq!(n, std::thread::available_parallelism().map_or(1, |n| n.get()));
}

// ---- More: weak waits, shutdown, proxies, self-stops, tracing --------------------------------

// weak-links.md:14-18 "A call that waits, for room in a full mailbox or for its reply, does not
// keep the actor alive either: when the last strong link goes, the actor stops and the call
// fails: an ask still waiting for room resolves to `ActorError::Dead` (a two-step send to
// `SendFailed`)"; weak.rs:693-695, 747-748.
#[test]
fn weak_calls_waiting_for_room_fail_when_the_last_strong_link_goes() {
    let rt = runtime();
    let (narrow, open) = rt.block_on(async {
        let narrow = actor12::spawn::<Narrow>(());
        let (started_tx, started) = oneshot::channel();
        let (open, gate) = oneshot::channel();
        narrow.tell_dyn(HoldStarted(started_tx, gate)).await;
        within(started).await.unwrap();
        narrow.tell_dyn(Note(0, 0)).await; // full now
        (narrow, open)
    });
    let weak = narrow.downgrade();
    let mut ask = Box::pin(async move {
        let w = weak;
        let a = w.ask_dyn(Note(1, 0));
        let b = w.send_message(HandlerMessage::new(Note(2, 0)));
        let c = w.ask_dyn_async(Note(3, 0));
        let (a, b, c) = futures_join3(a, b, c).await;
        (a, b.reply().await, c.await)
    });
    assert!(poll_once(ask.as_mut()).is_pending(), "all three wait for room");
    drop(narrow); // the last strong link
    open.send(()).unwrap();
    let (a, b, c) = resolves_within(ask).expect("the weak calls hung");
    assert!(a.as_ref().is_err_and(dead), "ask_dyn: {a:?}");
    assert!(matches!(b, Err(MessageError::SendFailed(_))), "send_message: {b:?}");
    assert!(c.as_ref().is_err_and(dead), "ask_dyn_async: {c:?}");
}

/// Polls three futures side by side until all are done.
async fn futures_join3<A: Future, B: Future, C: Future>(
    a: A,
    b: B,
    c: C,
) -> (A::Output, B::Output, C::Output) {
    let (mut a, mut b, mut c) = (Box::pin(a), Box::pin(b), Box::pin(c));
    let (mut ra, mut rb, mut rc) = (None, None, None);
    std::future::poll_fn(|cx| {
        if ra.is_none()
            && let Poll::Ready(v) = a.as_mut().poll(cx)
        {
            ra = Some(v);
        }
        if rb.is_none()
            && let Poll::Ready(v) = b.as_mut().poll(cx)
        {
            rb = Some(v);
        }
        if rc.is_none()
            && let Poll::Ready(v) = c.as_mut().poll(cx)
        {
            rc = Some(v);
        }
        if ra.is_some() && rb.is_some() && rc.is_some() { Poll::Ready(()) } else { Poll::Pending }
    })
    .await;
    (ra.unwrap(), rb.unwrap(), rc.unwrap())
}

// runtime.md:45-48 "An actor still alive is dropped the same way, without `terminate`: its state
// is dropped ..., its queued messages too (their askers get an error), its token is cancelled
// with the default reason, and `wait()` on its links resolves."; actor.rs:154-160.
#[test]
fn a_runtime_shutdown_cancels_a_live_actors_token_with_the_default_reason_and_ends_wait() {
    let (tx, rx) = std::sync::mpsc::channel();
    let rt = runtime();
    let link = rt.block_on(async {
        let link = actor12::spawn::<Reasoned>(tx);
        within(link.ask_dyn(Note(0, 0))).await.unwrap();
        link
    });
    drop(rt);
    assert!(!link.alive());
    let reason = link.token().reason().expect("the token is cancelled");
    assert_eq!(reason.value(), "", "the default reason");
    let other = runtime();
    other.block_on(async { within(link.wait()).await });
    assert!(rx.try_recv().is_err(), "terminate did not run");
}

/// Its state is the how-manieth `state` call this is.
struct Versioned;
impl Actor for Versioned {
    type Message = Multi<Self>;
    type Spec = Arc<AtomicUsize>;
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = usize;
    fn state(spec: &Self::Spec) -> usize {
        spec.fetch_add(1, SeqCst) + 1
    }
    fn init(_: Init<'_, Self>) -> impl InitFuture<Self> {
        std::future::ready(Ok(Versioned))
    }
}

// proxy.rs:49-50 "The outer link's `state` is its own, built by `A::state` from the spec in
// `new`; each incarnation builds another when it starts."
#[test]
fn a_proxys_outer_state_is_its_own_and_each_incarnation_builds_another() {
    runtime().block_on(async {
        let (proxy, outer) = Proxy::<Versioned>::new(Arc::new(AtomicUsize::new(0)));
        assert_eq!(*outer.state(), 1);
        proxy.init();
        assert_eq!(*proxy.current().unwrap().state(), 2);
        within(proxy.shutdown()).await;
        proxy.reset();
        assert_eq!(*proxy.current().unwrap().state(), 3);
        assert_eq!(*outer.state(), 1);
    });
}

struct Quitter(std::sync::mpsc::Sender<CancelReason<String>>);
actor!(Quitter, spec = std::sync::mpsc::Sender<CancelReason<String>>, cancel = String,
init = |ctx| Quitter(ctx.spec),
extra = {
    async fn terminate(self, _: ActorContext<Self>, reason: CancelReason<String>) {
        let _ = self.0.send(reason);
    }
});
impl Handler<HoldStarted> for Quitter {
    type Reply = anyhow::Result<u32>;
    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, h: HoldStarted) -> Self::Reply {
        let HoldStarted(started, gate) = h;
        let _ = started.send(());
        let _ = gate.await;
        Ok(0)
    }
}
struct StopMe;
static STOP_LINE: AtomicUsize = AtomicUsize::new(0);
impl Handler<StopMe> for Quitter {
    type Reply = anyhow::Result<u32>;
    async fn handle(&mut self, ctx: Call<'_, Self, Self::Reply>, _: StopMe) -> Self::Reply {
        STOP_LINE.store(line!() as usize + 1, SeqCst);
        ctx.link.cancel("self".into());
        Ok(1)
    }
}
impl Handler<Note> for Quitter {
    type Reply = anyhow::Result<u32>;
    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Note) -> Self::Reply {
        Ok(2)
    }
}

// cancellation.md:44-45 "it cancels its own token (`ctx.token.cancel(reason)` in a handler, or
// `ctx.link.cancel(reason)` through its weak link to itself): it stops after the current
// message"; cancellation.md:49-53 (queued messages dropped, askers get an error; `terminate`
// with the reason).
#[test]
fn an_actor_cancelling_itself_through_ctx_link_stops_after_the_current_message() {
    let (tx, rx) = std::sync::mpsc::channel();
    runtime().block_on(async {
        let q = actor12::spawn::<Quitter>(tx);
        let (started_tx, started) = oneshot::channel();
        let (open, gate) = oneshot::channel();
        q.tell_dyn(HoldStarted(started_tx, gate)).await;
        within(started).await.unwrap();
        let stop = q.send_message(HandlerMessage::new(StopMe)).await;
        let behind = q.send_message(HandlerMessage::new(Note(0, 0))).await;
        open.send(()).unwrap();
        assert_eq!(within(stop.reply()).await.unwrap().unwrap(), 1, "it finished its message");
        let r = within(behind.reply()).await;
        assert!(matches!(r, Err(MessageError::RecvFailed(_))), "the queued one: {r:?}");
        within(q.wait()).await;
    });
    let reason = rx.recv_timeout(HANG).expect("terminate ran");
    assert_eq!(reason.value(), "self");
    assert_eq!(reason.location().line() as usize, STOP_LINE.load(SeqCst), "{}", reason.location());
}

// ---- tracing --------------------------------------------------------------------------------

mod traced {
    use std::cell::RefCell;
    use std::collections::HashMap;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

    use tracing::field::{Field, Visit};
    use tracing::span::{Attributes, Id, Record};
    use tracing::{Event, Level, Metadata, Subscriber};

    /// (target, level, message, spans entered on the thread, outermost first).
    pub(crate) type Seen = (String, Level, String, Vec<&'static str>);

    pub(crate) static EVENTS: Mutex<Vec<Seen>> = Mutex::new(Vec::new());
    static SPANS: Mutex<Option<HashMap<u64, &'static str>>> = Mutex::new(None);
    static NEXT_ID: AtomicU64 = AtomicU64::new(1);

    thread_local! {
        static ENTERED: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
    }

    struct Recorder;

    pub(crate) fn install() {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| tracing::subscriber::set_global_default(Recorder).unwrap());
    }

    struct Message(String);
    impl Visit for Message {
        fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
            if field.name() == "message" {
                self.0 = format!("{value:?}");
            }
        }
    }

    impl Subscriber for Recorder {
        fn enabled(&self, _: &Metadata<'_>) -> bool {
            true
        }
        fn new_span(&self, attrs: &Attributes<'_>) -> Id {
            let id = NEXT_ID.fetch_add(1, Relaxed);
            SPANS.lock().unwrap().get_or_insert_default().insert(id, attrs.metadata().name());
            Id::from_u64(id)
        }
        fn record(&self, _: &Id, _: &Record<'_>) {}
        fn record_follows_from(&self, _: &Id, _: &Id) {}
        fn event(&self, event: &Event<'_>) {
            let mut msg = Message(String::new());
            event.record(&mut msg);
            let spans = SPANS.lock().unwrap();
            let names = ENTERED.with(|e| {
                e.borrow().iter().map(|id| spans.as_ref().map_or("?", |s| s[id])).collect()
            });
            let m = event.metadata();
            EVENTS.lock().unwrap().push((m.target().to_owned(), *m.level(), msg.0, names));
        }
        fn enter(&self, id: &Id) {
            ENTERED.with(|e| e.borrow_mut().push(id.into_u64()));
        }
        fn exit(&self, _: &Id) {
            ENTERED.with(|e| {
                e.borrow_mut().pop();
            });
        }
    }
}

struct Loud;
impl Actor for Loud {
    type Message = Multi<Self>;
    type Spec = ();
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();
    fn state(_: &()) {}
    fn span(_: &()) -> tracing::Span {
        tracing::info_span!("loud_actor")
    }
    fn init(_: Init<'_, Self>) -> impl InitFuture<Self> {
        std::future::ready(Ok(Loud))
    }
}
struct LoudBoom;
impl Handler<LoudBoom> for Loud {
    type Reply = anyhow::Result<()>;
    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: LoudBoom) -> Self::Reply {
        panic!("boom");
    }
}
impl Handler<Note> for Loud {
    type Reply = anyhow::Result<()>;
    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Note) -> Self::Reply {
        Ok(())
    }
}

// concepts.md:21 "`fn crash(payload)` | ... | logs it with `tracing`"; migrating.md:53 "`crash`
// reports it (by default with `tracing`)"; migrating.md:70 / actor.rs:113-115 "a span you return
// is entered around `init`'s future, every `cycle` (its handlers) and `terminate`, ... but not
// `crash`"; concepts.md:47-49 "`tell_dyn`, which returns nothing, as in 0.0.11, logs a `debug`
// event" (`Link::tell_dyn` and `DynLink::tell_dyn` to a stopped actor).
#[test]
fn the_default_crash_logs_outside_the_actors_span_and_a_dropped_tell_logs_at_debug() {
    quiet_booms();
    traced::install();
    runtime().block_on(async {
        let loud = actor12::spawn::<Loud>(());
        assert!(within(loud.ask_dyn(LoudBoom)).await.is_err());
        within(loud.wait()).await;
        let before = traced::EVENTS.lock().unwrap().len();
        loud.tell_dyn(Note(0, 0)).await;
        loud.to_dyn::<Note>().tell_dyn(Note(0, 0)).await;
        loud.downgrade().tell_dyn(Note(0, 0)).await;
        let events = traced::EVENTS.lock().unwrap();
        let crash: Vec<_> =
            events.iter().filter(|e| e.2.contains("boom") && e.0.starts_with("actor12")).collect();
        assert_eq!(crash.len(), 1, "one crash report: {events:#?}");
        assert_eq!(crash[0].1, tracing::Level::ERROR);
        assert!(crash[0].3.is_empty(), "crash ran inside spans {:?}", crash[0].3);
        let tells: Vec<_> =
            events[before..].iter().filter(|e| e.0.starts_with("actor12")).collect();
        assert_eq!(tells.len(), 3, "one event per dropped tell: {tells:#?}");
        assert!(tells.iter().all(|e| e.1 == tracing::Level::DEBUG), "{tells:#?}");
    });
}

// ---- Where actors spawned from odd places belong ---------------------------------------------

/// Spawns a `Kid` in its `span` and hands the kid's link out.
struct Spanner;
impl Actor for Spanner {
    type Message = Multi<Self>;
    type Spec = std::sync::mpsc::Sender<Link<Kid>>;
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();
    fn state(_: &Self::Spec) {}
    fn span(spec: &Self::Spec) -> tracing::Span {
        let _ = spec.send(actor12::spawn::<Kid>(()));
        tracing::Span::none()
    }
    fn init(_: Init<'_, Self>) -> impl InitFuture<Self> {
        std::future::ready(Ok(Spanner))
    }
}
struct SpawnSpanner(std::sync::mpsc::Sender<Link<Kid>>);
impl Handler<SpawnSpanner> for Spawner {
    type Reply = anyhow::Result<Link<Spanner>>;
    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, s: SpawnSpanner) -> Self::Reply {
        Ok(actor12::spawn::<Spanner>(s.0))
    }
}

// cancellation.md:73-74 "those spawned in `state`, `span` or `mailbox_capacity` belong to whoever
// calls `spawn`" (`span`).
#[test]
fn an_actor_spawned_in_span_belongs_to_whoever_calls_spawn() {
    runtime().block_on(async {
        let spawner = actor12::spawn::<Spawner>(());
        let (tx, rx) = std::sync::mpsc::channel();
        let spanner = within(spawner.ask_dyn(SpawnSpanner(tx))).await.unwrap();
        let kid = rx.recv_timeout(HANG).expect("span was called");
        spanner.cancel_and_wait(()).await;
        assert!(kid.alive(), "not the new actor's child");
        spawner.cancel(());
        within(kid.wait()).await; // the spawner's child: stops with it
    });
}

/// Spawns a `Kid` in its `Drop` and hands the kid's link out.
struct DropSpawner(std::sync::mpsc::Sender<Link<Kid>>);
impl Drop for DropSpawner {
    fn drop(&mut self) {
        let _ = self.0.send(actor12::spawn::<Kid>(()));
    }
}
actor!(DropSpawner, spec = std::sync::mpsc::Sender<Link<Kid>>, cancel = (),
    init = |ctx| DropSpawner(ctx.spec));
impl Handler<Note> for DropSpawner {
    type Reply = anyhow::Result<()>;
    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Note) -> Self::Reply {
        Ok(())
    }
}

// cancellation.md:70-71 "One spawned in `terminate` (or in the actor's `Drop`) of an actor
// stopped by a cancel is below a cancelled token, so it stops at once".
#[test]
fn an_actor_spawned_in_the_drop_of_a_cancelled_actor_stops_at_once() {
    runtime().block_on(async {
        let (tx, rx) = std::sync::mpsc::channel();
        let d = actor12::spawn::<DropSpawner>(tx);
        within(d.ask_dyn(Note(0, 0))).await.unwrap();
        d.cancel_and_wait(()).await;
        let kid = rx.recv_timeout(HANG).expect("the actor was dropped");
        assert!(kid.token().is_cancelled(), "born below a cancelled token");
        within(kid.wait()).await;
    });
}

/// A message whose drop spawns a `Kid` and hands its link out.
struct SpawnsWhenDropped(std::sync::mpsc::Sender<Link<Kid>>);
impl Drop for SpawnsWhenDropped {
    fn drop(&mut self) {
        let _ = self.0.send(actor12::spawn::<Kid>(()));
    }
}
impl Handler<SpawnsWhenDropped> for Recorder {
    type Reply = anyhow::Result<()>;
    async fn handle(
        &mut self,
        _: Call<'_, Self, Self::Reply>,
        _: SpawnsWhenDropped,
    ) -> Self::Reply {
        Ok(())
    }
}

// cancellation.md:72-73 "Actors spawned anywhere else (a plain task, a thread, `crash`, the drop
// of the messages still queued when a panic stops the actor) get a root token of their own".
#[test]
fn an_actor_spawned_by_the_drop_of_a_message_queued_behind_a_panic_is_a_root() {
    quiet_booms();
    runtime().block_on(async {
        let rec = actor12::spawn::<Recorder>(Probe::default());
        let (held, open) = hold(&rec).await;
        let boom = rec.send_message(HandlerMessage::new(Boom)).await;
        let (tx, rx) = std::sync::mpsc::channel();
        let queued = rec.send_message(HandlerMessage::new(SpawnsWhenDropped(tx))).await;
        open.send(()).unwrap();
        within(held.reply()).await.unwrap().unwrap();
        assert!(within(boom.reply()).await.is_err());
        assert!(within(queued.reply()).await.is_err(), "dropped unhandled");
        within(rec.wait()).await;
        let kid = rx.recv_timeout(HANG).expect("the queued message was dropped");
        assert!(!kid.token().is_cancelled(), "a root token, not below the crashed actor's");
        assert!(within(kid.ask_dyn(Note(0, 0))).await.is_ok());
        kid.cancel_and_wait(()).await;
    });
}

struct DynSelf;
actor!(
    DynSelf,
    spec = (),
    cancel = (),
    init = |_ctx| DynSelf,
    extra = {
        fn crash(payload: Box<dyn std::any::Any + Send>) -> impl Future<Output = ()> + Send {
            let msg = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            *DYN_CRASH.lock().unwrap() = Some(msg);
            std::future::ready(())
        }
    }
);
static DYN_CRASH: Mutex<Option<String>> = Mutex::new(None);
struct WaitViaDyn;
impl Handler<WaitViaDyn> for DynSelf {
    type Reply = anyhow::Result<()>;
    async fn handle(&mut self, ctx: Call<'_, Self, Self::Reply>, _: WaitViaDyn) -> Self::Reply {
        let me = ctx.link.upgrade().expect("the asker holds a link");
        me.to_dyn::<WaitViaDyn>().cancel_and_wait().await;
        Ok(())
    }
}

// link.rs:1425-1427 "`DynLink::cancel_and_wait`: Asks the actor to stop and waits until it has.
// Not from the actor's own handler: ... it panics there instead (call `cancel` and return)";
// concepts.md:219-220 "Waiting for its own stop panics".
#[test]
fn a_dyn_link_cancel_and_wait_in_the_actors_own_handler_panics() {
    let out = resolves_within(async {
        let a = actor12::spawn::<DynSelf>(());
        let r = a.ask_dyn(WaitViaDyn).await;
        a.wait().await;
        r.is_err()
    });
    assert_eq!(out, Some(true), "the handler hung (None) or answered (Some(false))");
    let msg = DYN_CRASH.lock().unwrap().clone().unwrap_or_default();
    assert!(msg.contains("its own stop"), "the panic says why: {msg:?}");
}

struct TellSlot(std::sync::mpsc::Sender<(bool, bool, bool)>);
impl Handler<TellSlot> for Recorder {
    type Reply = anyhow::Result<()>;
    async fn handle(&mut self, mut ctx: Call<'_, Self, Self::Reply>, t: TellSlot) -> Self::Reply {
        let mut slot = ctx.take_reply();
        let closed = slot.is_closed();
        let closed_at_once = at_once(slot.closed()).is_some();
        let handed_back = slot.send(Ok(())).is_err();
        let _ = t.0.send((closed, closed_at_once, handed_back));
        Ok(())
    }
}

// oneshot.rs:364-365 "A sender with no receiver (for a message nobody awaits the answer to):
// `send` hands the value back"; oneshot.rs:427-428 "`closed`: ... A sender with no receiver (a
// tell's) resolves at once."; oneshot.rs:418 "`is_closed`: True once the receiver is gone".
#[test]
fn a_tells_reply_slot_has_nobody_waiting() {
    runtime().block_on(async {
        let rec = actor12::spawn::<Recorder>(Probe::default());
        let (tx, rx) = std::sync::mpsc::channel();
        rec.tell_dyn(TellSlot(tx)).await;
        assert_eq!(rx.recv_timeout(HANG).unwrap(), (true, true, true));
    });
}

struct Tasks(oneshot::Sender<()>, oneshot::Sender<()>);
impl Handler<Tasks> for Recorder {
    type Reply = anyhow::Result<(usize, bool, usize, bool)>;
    async fn handle(&mut self, mut ctx: Call<'_, Self, Self::Reply>, t: Tasks) -> Self::Reply {
        let Tasks(a, b) = t;
        ctx.futures.spawn(async move {
            let _a = a;
            std::future::pending::<()>().await;
        });
        ctx.futures.spawn(async move {
            let _b = b;
            std::future::pending::<()>().await;
        });
        let (done_tx, done) = oneshot::channel();
        ctx.futures.spawn(async move {
            let _ = done_tx.send(());
        });
        let _ = within(done).await;
        let start = std::time::Instant::now();
        while ctx.futures.len() != 2 && start.elapsed() < HANG {
            actor12::time::sleep(Duration::from_millis(1)).await;
        }
        let (len, empty) = (ctx.futures.len(), ctx.futures.is_empty());
        ctx.futures.abort_all();
        Ok((len, empty, ctx.futures.len(), ctx.futures.is_empty()))
    }
}

// migrating.md:71 "`ctx.futures`, `Init::tasks` | ... a `TaskSet` on actor12's runtime: `spawn`,
// `len`, `is_empty`, `abort_all`"; actor.rs:905-917 "`len`: Tasks spawned and not yet finished.
// `is_empty`: True if no task is running. `abort_all`: Aborts every task in the set."
#[test]
fn a_task_set_counts_unfinished_tasks_and_aborts_them_all() {
    runtime().block_on(async {
        let rec = actor12::spawn::<Recorder>(Probe::default());
        let (a, a_gone) = oneshot::channel();
        let (b, b_gone) = oneshot::channel();
        let seen = within(rec.ask_dyn(Tasks(a, b))).await.unwrap();
        assert_eq!(seen, (2, false, 0, true), "(len, is_empty) before and after abort_all");
        assert!(within(a_gone).await.is_err() && within(b_gone).await.is_err(), "aborted");
        assert!(rec.alive(), "the actor goes on");
    });
}
