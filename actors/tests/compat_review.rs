//! actor12 0.0.11 behaviour that its own tests do not check, and that code migrating from it may
//! rely on: its error texts, the `Debug` of its value types, its instance report's layout, what
//! `terminate` sees and when waiters resolve, and cancel reasons.

use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use actor12::cancel::{CancelReason, CancelToken};
use actor12::prelude::*;
use actor12::{ActorContext, ActorError, Call, Envelope, MpscChannel, Multi, NoReply};

/// Sends what it sees to the test: `init` starts a background task holding `guard`, and
/// `terminate` reports its reason, whether that task still runs, and its own link.
struct Closing {
    events: mpsc::Sender<String>,
    guard: Arc<()>,
}

/// Sends `"task dropped"` when the background task is dropped (aborted).
struct OnDrop(mpsc::Sender<String>);

impl Drop for OnDrop {
    fn drop(&mut self) {
        let _ = self.0.send("task dropped".into());
    }
}

impl Actor for Closing {
    type Message = Multi<Self>;
    type Spec = mpsc::Sender<String>;
    type Channel = MpscChannel<Self::Message>;
    type Cancel = String;
    type State = ();

    fn state(_: &mpsc::Sender<String>) {}

    fn init(mut ctx: Init<'_, Self>) -> impl InitFuture<Self> {
        let guard = Arc::new(());
        let held = (guard.clone(), OnDrop(ctx.spec.clone()));
        ctx.spawn(async move {
            let _held = held;
            std::future::pending::<()>().await
        });
        std::future::ready(Ok(Closing { events: ctx.spec, guard }))
    }

    async fn terminate(self, ctx: ActorContext<Self>, reason: CancelReason<String>) {
        let task_runs = Arc::strong_count(&self.guard) == 2;
        let linked = ctx.link.upgrade().is_some();
        let _ = self.events.send(format!(
            "terminate {:?} token_cancelled={} task_runs={task_runs} linked={linked}",
            reason.value(),
            ctx.token.is_cancelled(),
        ));
    }
}

impl Handler<u8> for Closing {
    type Reply = anyhow::Result<u8>;
    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, n: u8) -> Self::Reply {
        Ok(n)
    }
}

fn runtime() -> actor12::rt::Runtime {
    actor12::rt::Runtime::builder().worker_threads(2).build().unwrap()
}

const LIMIT: Duration = Duration::from_secs(10);

#[test]
fn terminate_runs_before_cancel_and_wait_resolves_with_the_background_tasks_still_running() {
    let rt = runtime();
    let (tx, events) = mpsc::channel();
    rt.block_on(async {
        let actor = actor12::spawn::<Closing>(tx);
        assert_eq!(actor.ask_dyn(7).await.unwrap(), 7);
        actor.cancel_and_wait("bye".into()).await;
        // Sent by `terminate` before it returned: there before `cancel_and_wait` resolved.
        assert_eq!(
            events.try_recv().as_deref(),
            Ok(r#"terminate "bye" token_cancelled=true task_runs=true linked=true"#),
        );
    });
    assert_eq!(events.recv_timeout(LIMIT).as_deref(), Ok("task dropped"), "aborted after");
}

#[test]
fn dropping_the_last_link_terminates_with_the_default_reason_and_no_link_left() {
    let rt = runtime();
    let (tx, events) = mpsc::channel();
    rt.block_on(async {
        let actor = actor12::spawn::<Closing>(tx);
        assert_eq!(actor.ask_dyn(1).await.unwrap(), 1);
        let weak = actor.downgrade();
        drop(actor);
        assert_eq!(
            events.recv_timeout(LIMIT).as_deref(),
            Ok(r#"terminate "" token_cancelled=true task_runs=true linked=false"#),
        );
        assert!(weak.upgrade().is_none());
        weak.cancel_and_wait(String::new()).await;
    });
    assert_eq!(events.recv_timeout(LIMIT).as_deref(), Ok("task dropped"));
}

#[test]
fn actor_errors_display_as_in_0_0_11() {
    let texts = [
        (ActorError::DynSendError(), "DynSendError", "Dynamic send error"),
        (ActorError::Dead, "Dead", "Actor is already dead"),
        (ActorError::ReplyTaken, "ReplyTaken", "Reply taken"),
        (ActorError::AsyncReply, "AsyncReply", "Async reply"),
    ];
    for (error, debug, display) in texts {
        assert_eq!((format!("{error:?}"), error.to_string()), (debug.into(), display.into()));
    }
}

#[test]
fn envelopes_and_weak_links_debug_as_in_0_0_11() {
    let (envelope, _reply) = Envelope::<&str, u8>::new("hello");
    assert_eq!(format!("{envelope:?}"), r#""hello""#, "the value's Debug, nothing else");
    assert_eq!(format!("{:?}", NoReply((1, 2))), "(1, 2)");
    let empty = WeakLink::<Closing>::new();
    assert_eq!(format!("{empty:?}"), "WeakLink { set: false, alive: false }");

    let rt = runtime();
    let (tx, _events) = mpsc::channel();
    rt.block_on(async {
        let actor = actor12::spawn::<Closing>(tx);
        let weak = actor.downgrade();
        assert_eq!(format!("{weak:?}"), "WeakLink { set: true, alive: true }");
        drop(actor);
        weak.cancel_and_wait(String::new()).await;
        assert_eq!(format!("{weak:?}"), "WeakLink { set: true, alive: false }");
    });
}

#[test]
fn cancel_reasons_compare_as_in_0_0_11() {
    // Equal only with the same value from the same place.
    let here = || CancelReason::<String>::new("stop");
    assert_eq!(here(), here());
    assert_ne!(CancelReason::<String>::new("stop"), CancelReason::<String>::new("stop"));

    let token = CancelToken::<String>::new();
    token.cancel("first");
    token.cancel("second");
    assert_eq!(token.reason().unwrap().value(), "first", "a second cancel changes nothing");
    let child = token.child();
    assert_eq!(child.reason().unwrap().value(), "first", "a child of a cancelled token");
}

#[test]
fn the_instance_report_has_0_0_11s_layout() {
    struct Counted;
    let _one = actor12::count::Count::<Counted>::new();
    let name = std::any::type_name::<Counted>();
    let report = actor12::count::report();
    let width = report.by_type.keys().map(|k| k.len()).max().unwrap().max(5);
    let text = report.to_string();
    let header = format!("{:<width$} {:>12} {:>12} {:>12}\n", "", "total", "max_live", "live");
    assert!(text.starts_with(&header), "{text}");
    let row = format!("{name:<width$} {:>12} {:>12} {:>12}", 1, 1, 1);
    assert!(text.lines().any(|line| line == row), "{text}");
    assert!(actor12::count::report_string().starts_with(&header));
}
