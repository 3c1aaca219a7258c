//! Raw and envelope style under stress: what a raw message holds is freed exactly once however
//! the actor ends, envelopes forwarded or dropped answer their askers exactly once.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use actor12::cancel::CancelReason;
use actor12::oneshot;
use actor12::prelude::*;
use actor12::{ActorContext, ActorMessage, EnvelopeMessage, Terminate};
use support::resolves_within;

mod support;

fn runtime(workers: usize) -> actor12::rt::Runtime {
    actor12::rt::Runtime::builder().worker_threads(workers).build().unwrap()
}

/// A raw command.
enum Cmd {
    /// Holds the actor until the gate opens (or its sender is dropped); says it started.
    Hold(oneshot::Receiver<()>, oneshot::Sender<()>),
    /// An item: counted when handled, its answer sent.
    Item(Arc<()>, oneshot::Sender<u32>),
    /// Panics.
    Panic,
}

impl ActorMessage<Raw> for Cmd {}

struct Raw {
    handled: Arc<AtomicUsize>,
    strategy: Terminate,
}

impl Actor for Raw {
    type Message = Cmd;
    type Spec = (Arc<AtomicUsize>, Terminate);
    type Channel = MpscChannel<Cmd>;
    type Cancel = ();
    type State = ();
    fn state(_: &Self::Spec) {}
    fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
        std::future::ready(Ok(Raw { handled: ctx.spec.0, strategy: ctx.spec.1 }))
    }
    fn mailbox_capacity() -> usize {
        4
    }
    fn termination_strategy(&mut self) -> Terminate {
        self.strategy
    }
    async fn handle(&mut self, _: Exec<'_, Self>, msg: Cmd) {
        match msg {
            Cmd::Hold(gate, started) => {
                let _ = started.send(());
                let _ = gate.await;
            }
            Cmd::Item(_arc, reply) => {
                let n = self.handled.fetch_add(1, SeqCst) as u32;
                let _ = reply.send(n);
            }
            Cmd::Panic => panic!("raw actor asked to panic"),
        }
    }
    async fn terminate(self, _: ActorContext<Self>, _: CancelReason<()>) {}
}

/// Fills the mailbox of a held actor with items (behind a `Cmd::Panic` if `panic_first`, in
/// one of its slots); returns the gate, the items' answers and their shared resource, and the
/// answers of the sends still waiting for room (spawned on `rt`).
#[allow(clippy::type_complexity)]
fn held_and_full(
    rt: &actor12::rt::Runtime,
    link: &Link<Raw>,
    res: &Arc<()>,
    waiting: usize,
    panic_first: bool,
) -> (oneshot::Sender<()>, Vec<oneshot::Receiver<u32>>, Vec<actor12::rt::JoinHandle<Option<Cmd>>>) {
    rt.block_on(async {
        let (open, gate) = oneshot::channel();
        let (started_tx, started) = oneshot::channel();
        link.send_raw(Cmd::Hold(gate, started_tx)).await.ok().unwrap();
        started.await.unwrap();
        if panic_first {
            link.send_raw(Cmd::Panic).await.ok().unwrap();
        }
        let mut answers = Vec::new();
        for _ in 0..4 - usize::from(panic_first) {
            let (tx, rx) = oneshot::channel();
            link.send_raw(Cmd::Item(res.clone(), tx)).await.ok().unwrap();
            answers.push(rx);
        }
        let mut senders = Vec::new();
        for _ in 0..waiting {
            let (tx, rx) = oneshot::channel();
            answers.push(rx);
            let link = link.clone();
            let res = res.clone();
            senders.push(actor12::rt::spawn(async move {
                link.send_raw(Cmd::Item(res, tx)).await.err().map(|e| e.into_inner())
            }));
        }
        // Gives the senders a chance to park (parked or not, each ends the same way).
        for _ in 0..10 {
            actor12::rt::yield_now().await;
        }
        (open, answers, senders)
    })
}

#[test]
fn queued_raw_messages_are_freed_once_however_the_actor_stops() {
    for strategy in [Terminate::Exit, Terminate::ProcessAll] {
        let rt = runtime(2);
        let handled = Arc::new(AtomicUsize::new(0));
        let res = Arc::new(());
        let link = rt.block_on(async { actor12::spawn::<Raw>((handled.clone(), strategy)) });
        let (open, answers, senders) = held_and_full(&rt, &link, &res, 2, false);
        link.cancel(());
        open.send(()).unwrap();
        let returned: Vec<_> = rt.block_on(async {
            link.wait().await;
            let mut returned = Vec::new();
            for s in senders {
                returned.extend(s.await.unwrap());
            }
            returned
        });
        assert_eq!(returned.len(), 2, "{strategy:?}: the waiting sends were not handed back");
        drop(returned);
        let got: Vec<_> = rt.block_on(async {
            let mut got = Vec::new();
            for a in answers {
                got.push(a.await.ok());
            }
            got
        });
        let oks = got.iter().filter(|a| a.is_some()).count();
        assert_eq!(oks, handled.load(SeqCst), "{strategy:?}: {got:?}");
        if strategy == Terminate::ProcessAll {
            assert_eq!(oks, 4, "{strategy:?}: queued items not all handled: {got:?}");
        } else {
            assert_eq!(oks, 0, "{strategy:?}: {got:?}");
        }
        assert_eq!(Arc::strong_count(&res), 1, "{strategy:?}: a queued item leaked");
    }
}

#[test]
fn queued_raw_messages_are_freed_once_when_the_actor_crashes() {
    let rt = runtime(2);
    let handled = Arc::new(AtomicUsize::new(0));
    let res = Arc::new(());
    let link =
        rt.block_on(async { actor12::spawn::<Raw>((handled.clone(), Terminate::ProcessAll)) });
    let (open, answers, senders) = held_and_full(&rt, &link, &res, 2, true);
    open.send(()).unwrap();
    rt.block_on(async {
        link.wait().await;
        let mut returned = Vec::new();
        for s in senders {
            returned.extend(s.await.unwrap());
        }
        // One may have got in when the panic left the mailbox: dropped with the others.
        assert!(returned.len() <= 2);
        drop(returned);
        for a in answers {
            assert!(a.await.is_err());
        }
    });
    assert_eq!(handled.load(SeqCst), 0);
    assert_eq!(Arc::strong_count(&res), 1, "a queued item leaked");
}

#[test]
fn queued_raw_messages_are_freed_once_when_the_runtime_shuts_down() {
    for strategy in [Terminate::Exit, Terminate::ProcessAll] {
        let rt = runtime(2);
        let other = runtime(1);
        let handled = Arc::new(AtomicUsize::new(0));
        let res = Arc::new(());
        let link = rt.block_on(async { actor12::spawn::<Raw>((handled.clone(), strategy)) });
        let (open, answers, _) = held_and_full(&rt, &link, &res, 0, false);
        // Two senders on another runtime wait for room.
        let mut answers = answers;
        let mut senders = Vec::new();
        for _ in 0..2 {
            let (tx, rx) = oneshot::channel();
            answers.push(rx);
            let link = link.clone();
            let res = res.clone();
            senders.push(other.spawn(async move {
                link.send_raw(Cmd::Item(res, tx)).await.err().map(|e| e.into_inner())
            }));
        }
        // Parked or not when the runtime goes, each gets its message back.
        drop(rt);
        drop(open);
        let returned = resolves_within(async move {
            let mut returned = Vec::new();
            for s in senders {
                returned.extend(s.await.unwrap());
            }
            returned
        })
        .expect("a sender waiting for room hung after the runtime shut down");
        assert_eq!(returned.len(), 2, "{strategy:?}");
        drop(returned);
        let got = resolves_within(async move {
            let mut got = Vec::new();
            for a in answers {
                got.push(a.await.ok());
            }
            got
        })
        .expect("an answer hung");
        assert!(got.iter().all(Option::is_none), "{strategy:?}: {got:?}");
        assert_eq!(Arc::strong_count(&res), 1, "{strategy:?}: a queued item leaked");
        drop(link);
        drop(other);
    }
}

// ---- envelope style ----

/// Parks every envelope it gets; answers the parked ones, newest first, on `Flush`; forwards
/// to `next` on `Forward`.
struct Parker {
    parked: Vec<Envelope<Req, Arc<()>>>,
    next: Option<Link<Parker>>,
}

enum Req {
    Park,
    Flush,
    Forward,
    Panic,
}

impl Actor for Parker {
    type Message = Envelope<Req, Arc<()>>;
    type Spec = Option<Link<Parker>>;
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();
    fn state(_: &Self::Spec) {}
    fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
        std::future::ready(Ok(Parker { parked: Vec::new(), next: ctx.spec }))
    }
    async fn handle(&mut self, _: Exec<'_, Self>, msg: Self::Message) {
        match msg.value {
            Req::Park => self.parked.push(msg),
            Req::Flush => {
                let res = Arc::new(());
                for p in self.parked.drain(..) {
                    let _ = p.send(res.clone());
                }
                let _ = msg.send(res);
            }
            Req::Forward => {
                let next = self.next.clone().unwrap();
                if let Err(e) = next.send_raw(msg.map(|_| Req::Park)).await {
                    // Hand it back: answer here.
                    let _ = e.into_inner().send(Arc::new(()));
                }
            }
            Req::Panic => panic!("parker asked to panic"),
        }
    }
}

#[test]
fn parked_envelopes_answer_their_askers_once_however_the_actor_ends() {
    for how in 0..3 {
        let rt = runtime(2);
        let link = rt.block_on(async { actor12::spawn::<Parker>(None) });
        let asks = rt.block_on(async {
            let mut asks = Vec::new();
            for _ in 0..3 {
                asks.push(link.send_message(EnvelopeMessage::new(Req::Park)).await);
            }
            let flush = link.send_message(EnvelopeMessage::new(Req::Flush)).await;
            let res = flush.reply().await.unwrap();
            for a in asks {
                assert!(Arc::ptr_eq(&a.reply().await.unwrap(), &res));
            }
            drop(res);
            let mut asks = Vec::new();
            for _ in 0..3 {
                asks.push(link.send_message(EnvelopeMessage::new(Req::Park)).await);
            }
            match how {
                0 => link.cancel_and_wait(()).await,
                1 => {
                    link.send_and_forget(EnvelopeMessage::new(Req::Panic)).await;
                    link.wait().await;
                }
                _ => {}
            }
            asks
        });
        drop(rt);
        let r = resolves_within(async move {
            let mut out = Vec::new();
            for a in asks {
                out.push(a.reply().await.is_err());
            }
            out
        })
        .expect("an asker hung");
        assert!(r.iter().all(|e| *e), "{how}: {r:?}");
        drop(link);
    }
}

#[test]
fn a_forwarded_envelope_answers_once_whether_or_not_its_target_lives() {
    let rt = runtime(2);
    rt.block_on(async {
        let target = actor12::spawn::<Parker>(None);
        let front = actor12::spawn::<Parker>(Some(target.clone()));
        let h = front.send_message(EnvelopeMessage::new(Req::Forward)).await;
        // Handled after the forward: the forwarded envelope is in the target's mailbox.
        front.send_and_reply(EnvelopeMessage::new(Req::Flush)).await.unwrap();
        let res = target.send_and_reply(EnvelopeMessage::new(Req::Flush)).await.unwrap();
        assert!(Arc::ptr_eq(&h.reply().await.unwrap(), &res));
        target.cancel_and_wait(()).await;
        let h = front.send_message(EnvelopeMessage::new(Req::Forward)).await;
        let a = h.reply().await.unwrap();
        assert_eq!(Arc::strong_count(&a), 1);
        // Answered after its asker gave up: the answer is dropped, once.
        let mut h = front.send_message(EnvelopeMessage::new(Req::Park)).await;
        assert_eq!(h.try_reply().unwrap().map(|_| ()), None);
        drop(h);
        let res = front.send_and_reply(EnvelopeMessage::new(Req::Flush)).await.unwrap();
        assert_eq!(Arc::strong_count(&res), 1);
    });
}

// ---- a message that is `Send` but not `Sync` ----

struct Cells;
struct CellMsg(std::cell::Cell<u32>, oneshot::Sender<u32>);
impl ActorMessage<Cells> for CellMsg {}
impl Actor for Cells {
    type Message = CellMsg;
    type Spec = ();
    type Channel = MpscChannel<CellMsg>;
    type Cancel = ();
    type State = ();
    fn state(_: &()) {}
    fn init(_: Init<'_, Self>) -> impl InitFuture<Self> {
        std::future::ready(Ok(Cells))
    }
    async fn handle(&mut self, _: Exec<'_, Self>, msg: CellMsg) {
        let _ = msg.1.send(msg.0.get());
    }
}

struct CellEnv;
impl Actor for CellEnv {
    type Message = Envelope<std::cell::Cell<u32>, anyhow::Result<u32>>;
    type Spec = ();
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();
    fn state(_: &()) {}
    fn init(_: Init<'_, Self>) -> impl InitFuture<Self> {
        std::future::ready(Ok(CellEnv))
    }
    async fn handle(&mut self, _: Exec<'_, Self>, msg: Self::Message) {
        let n = msg.value.get();
        let _ = msg.send(Ok(n));
    }
}

#[test]
fn messages_that_are_not_sync_go_every_way() {
    fn spawnable<F: std::future::Future + Send + 'static>(f: F) -> F {
        f
    }
    fn shared<T: Send + Sync>(t: T) -> T {
        t
    }
    runtime(2).block_on(async {
        let link = shared(actor12::spawn::<Cells>(()));
        let (tx, rx) = oneshot::channel();
        let l = link.clone();
        spawnable(async move { l.send_raw(CellMsg(std::cell::Cell::new(3), tx)).await.ok() })
            .await
            .unwrap();
        assert_eq!(rx.await, Ok(3));
        let (tx, rx) = oneshot::channel();
        let l = link.downgrade();
        spawnable(async move { l.send_raw_message(CellMsg(std::cell::Cell::new(4), tx)).await })
            .await
            .forget();
        assert_eq!(rx.await, Ok(4));
        let env = actor12::spawn::<CellEnv>(());
        let l = env.clone();
        let n = spawnable(async move { l.send(std::cell::Cell::new(5)).await }).await.unwrap();
        assert_eq!(n, 5);
        let l = env.downgrade();
        let h = spawnable(async move {
            l.send_message(EnvelopeMessage::<_, anyhow::Result<u32>>::new(std::cell::Cell::new(6)))
                .await
        })
        .await;
        assert_eq!(h.reply().await.unwrap().unwrap(), 6);
        env.cancel_and_wait(()).await;
        assert!(env.send(std::cell::Cell::new(7)).await.is_err());
    });
}

// ---- queued messages holding the last links to their own actor ----

struct SelfHeld {
    _guard: Arc<()>,
    terminated: Arc<AtomicUsize>,
    strategy: Terminate,
    crash: bool,
}
/// Links to its own actor and a shared resource, held until dropped; a gate for the first.
struct Hold2(
    #[allow(dead_code)] Option<Link<SelfHeld>>,
    #[allow(dead_code)] Arc<()>,
    Option<oneshot::Receiver<()>>,
);
impl ActorMessage<SelfHeld> for Hold2 {}
impl Actor for SelfHeld {
    type Message = Hold2;
    type Spec = (Arc<()>, Arc<AtomicUsize>, Terminate, bool);
    type Channel = MpscChannel<Hold2>;
    type Cancel = ();
    type State = ();
    fn state(_: &Self::Spec) {}
    fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
        let (g, t, s, c) = ctx.spec;
        std::future::ready(Ok(SelfHeld { _guard: g, terminated: t, strategy: s, crash: c }))
    }
    fn termination_strategy(&mut self) -> Terminate {
        self.strategy
    }
    async fn handle(&mut self, _: Exec<'_, Self>, msg: Hold2) {
        if let Some(gate) = msg.2 {
            let _ = gate.await;
            if self.crash {
                panic!("crash with links to itself queued");
            }
        }
    }
    async fn terminate(self, _: ActorContext<Self>, _: CancelReason<()>) {
        self.terminated.fetch_add(1, SeqCst);
    }
}

#[test]
fn queued_messages_holding_the_last_links_to_their_actor_are_freed_once() {
    for how in 0..4 {
        let rt = runtime(2);
        let guard = Arc::new(());
        let res = Arc::new(());
        let terminated = Arc::new(AtomicUsize::new(0));
        let strategy = if how == 1 { Terminate::ProcessAll } else { Terminate::Exit };
        let (weak, open) = rt.block_on(async {
            let link =
                actor12::spawn::<SelfHeld>((guard.clone(), terminated.clone(), strategy, how == 2));
            let (open, gate) = oneshot::channel();
            link.send_raw(Hold2(None, res.clone(), Some(gate))).await.ok().unwrap();
            for _ in 0..3 {
                link.send_raw(Hold2(Some(link.clone()), res.clone(), None)).await.ok().unwrap();
            }
            (link.downgrade(), open)
            // `link` dropped: the only strong links are in the mailbox.
        });
        if how == 3 {
            drop(rt);
            drop(open);
        } else {
            weak.cancel(());
            // Gone already if the cancel came before the gate's message was handled.
            let _ = open.send(());
            let w = weak.clone();
            let waited = resolves_within(async move { w.cancel_and_wait(()).await });
            assert!(waited.is_some(), "{how}: wait hung");
            drop(rt);
        }
        assert_eq!(Arc::strong_count(&res), 1, "{how}: a queued message leaked");
        assert_eq!(Arc::strong_count(&guard), 1, "{how}: the actor was not dropped");
        assert!(terminated.load(SeqCst) <= 1);
        assert!(weak.upgrade().is_none());
    }
}
