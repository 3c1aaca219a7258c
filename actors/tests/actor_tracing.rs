//! What actor12 tells `tracing`: `Actor::span` is the span the actor's code runs in (events from
//! its `init`, its handlers and its `terminate` carry it, as in actor12 0.0.11), and a tell
//! dropped because its actor has stopped is reported. Both were missing before (review of
//! 2026-12-02, evening).
//!
//! A binary of its own: it installs a process-wide tracing subscriber that records, for every
//! event, its target and the names of the spans entered on its thread.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use actor12::cancel::CancelReason;
use actor12::prelude::*;
use actor12::{ActorContext, Call, MpscChannel, Multi};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// Events seen: target, and the spans entered on the thread at the time (outermost first).
static EVENTS: Mutex<Vec<(&'static str, Vec<&'static str>)>> = Mutex::new(Vec::new());
static SPANS: Mutex<Option<HashMap<u64, &'static str>>> = Mutex::new(None);
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

thread_local! {
    static ENTERED: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
}

struct Recorder;

/// Installs the recorder, once for the binary.
fn record() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| tracing::subscriber::set_global_default(Recorder).expect("one subscriber"));
}

/// How many events with `target` were recorded so far.
fn events_of(target: &str) -> usize {
    EVENTS.lock().unwrap().iter().filter(|(t, _)| *t == target).count()
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
        let spans = SPANS.lock().unwrap();
        let names = ENTERED
            .with(|e| e.borrow().iter().map(|id| spans.as_ref().map_or("?", |s| s[id])).collect());
        EVENTS.lock().unwrap().push((event.metadata().target(), names));
    }

    fn enter(&self, id: &Id) {
        ENTERED.with(|e| e.borrow_mut().push(id.into_u64()));
    }

    fn exit(&self, id: &Id) {
        ENTERED.with(|e| {
            let popped = e.borrow_mut().pop();
            assert_eq!(popped, Some(id.into_u64()), "spans exited out of order");
        });
    }
}

/// An actor with a span of its own, logging from `init`, a handler and `terminate`.
struct Spanned;

impl Actor for Spanned {
    type Message = Multi<Self>;
    type Spec = ();
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();

    fn state(_: &()) {}

    fn span(_: &()) -> tracing::Span {
        tracing::info_span!("spanned_actor", id = 7)
    }

    fn init(_: Init<'_, Self>) -> impl InitFuture<Self> {
        async {
            tracing::info!(target: "in_init", "init runs");
            Ok(Spanned)
        }
    }

    async fn terminate(self, _: ActorContext<Self>, _: CancelReason<()>) {
        tracing::info!(target: "in_terminate", "terminate runs");
    }
}

struct Log;

impl Handler<Log> for Spanned {
    type Reply = anyhow::Result<()>;

    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Log) -> Self::Reply {
        tracing::info!(target: "in_handler", "handler runs");
        Ok(())
    }
}

#[test]
fn an_actors_init_handlers_and_terminate_run_in_its_span() {
    record();
    let rt = actor12::rt::Runtime::builder().worker_threads(2).build().unwrap();
    rt.block_on(async {
        let actor = actor12::spawn::<Spanned>(());
        actor.ask_dyn(Log).await.unwrap();
        actor.ask_dyn(Log).await.unwrap();
        actor.cancel_and_wait(()).await;
    });
    tracing::info!(target: "outside", "the test itself");

    let events = EVENTS.lock().unwrap();
    let spans_of = |target: &str| -> Vec<Vec<&'static str>> {
        events.iter().filter(|(t, _)| *t == target).map(|(_, spans)| spans.clone()).collect()
    };
    for target in ["in_init", "in_handler", "in_terminate"] {
        let seen = spans_of(target);
        assert!(!seen.is_empty(), "no `{target}` event was recorded");
        for spans in seen {
            assert_eq!(spans, ["spanned_actor"], "a `{target}` event outside the actor's span");
        }
    }
    assert_eq!(spans_of("in_handler").len(), 2);
    assert_eq!(spans_of("outside"), [Vec::<&str>::new()], "the span leaked out of the actor");
}

#[test]
fn a_tell_to_a_stopped_actor_is_reported() {
    record();
    let rt = actor12::rt::Runtime::builder().worker_threads(2).build().unwrap();
    rt.block_on(async {
        let actor = actor12::spawn::<Spanned>(());
        let weak = actor.downgrade();
        actor.cancel_and_wait(()).await;
        let (strong, weakly) = (events_of("actor12::link"), events_of("actor12::weak"));
        actor.tell_dyn(Log).await;
        assert_eq!(events_of("actor12::link"), strong + 1, "Link::tell_dyn dropped silently");
        drop(actor);
        weak.tell_dyn(Log).await;
        assert_eq!(
            events_of("actor12::link") + events_of("actor12::weak"),
            strong + weakly + 2,
            "WeakLink::tell_dyn dropped silently"
        );
        // `send_and_forget` has nothing to return the error in either (a review of 2026-12-07:
        // it dropped the message without a word).
        let before = events_of("actor12::link");
        weak.send_and_forget(HandlerMessage::new(Log)).await;
        assert_eq!(events_of("actor12::link"), before + 1, "WeakLink::send_and_forget");
        let stopped = actor12::spawn::<Spanned>(());
        stopped.cancel_and_wait(()).await;
        stopped.send_and_forget(HandlerMessage::new(Log)).await;
        assert_eq!(events_of("actor12::link"), before + 2, "Link::send_and_forget");
    });
}
