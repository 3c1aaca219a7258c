//! actor12 0.0.11 behaviour of the handles: `WeakLink` (empty, set, try_set, clear, take, a dead
//! target), `DynLink` (is, to, tell_dyn, cancel), and links' identity.

use std::collections::HashSet;

use actor12::cancel::CancelReason;
use actor12::prelude::*;
use actor12::{ActorContext, Call, DynLink, MpscChannel, Multi, WeakLink, oneshot};

struct Counter {
    count: i32,
}

impl Actor for Counter {
    type Message = Multi<Self>;
    type Spec = i32;
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = i32; // the starting count, readable through every link

    fn state(spec: &i32) -> i32 {
        *spec
    }

    fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
        std::future::ready(Ok(Counter { count: ctx.spec }))
    }
}

struct Increment;
struct Get;

impl Handler<Increment> for Counter {
    type Reply = anyhow::Result<i32>;

    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Increment) -> Self::Reply {
        self.count += 1;
        Ok(self.count)
    }
}

impl Handler<Get> for Counter {
    type Reply = anyhow::Result<i32>;

    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Get) -> Self::Reply {
        Ok(self.count)
    }
}

/// A second actor type that also handles `Increment`.
struct Other;

impl Actor for Other {
    type Message = Multi<Self>;
    type Spec = ();
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();

    fn state(_: &()) {}

    fn init(_: Init<'_, Self>) -> impl InitFuture<Self> {
        std::future::ready(Ok(Other))
    }
}

impl Handler<Increment> for Other {
    type Reply = anyhow::Result<i32>;

    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Increment) -> Self::Reply {
        Ok(-1)
    }
}

#[tokio::test]
async fn an_empty_weak_link_behaves_as_a_dead_actor() {
    let weak = WeakLink::<Counter>::new();
    assert!(!weak.is_set());
    assert!(weak.upgrade().is_none());
    assert!(weak.ask_dyn(Increment).await.is_err());
    assert!(weak.ask_dyn_async(Increment).await.await.is_err());
    weak.tell_dyn(Increment).await;
    weak.cancel(());
    weak.cancel_and_wait(()).await;
    assert!(weak == WeakLink::default());
}

#[tokio::test]
async fn set_points_the_link_at_another_actor() {
    let first = actor12::spawn::<Counter>(0);
    let second = actor12::spawn::<Counter>(100);
    let mut weak = WeakLink::new();
    weak.set(&first);
    assert!(weak.upgrade().unwrap() == first);
    assert_eq!(weak.ask_dyn(Increment).await.unwrap(), 1);
    weak.set(&second);
    assert!(weak.upgrade().unwrap() == second);
    assert_eq!(weak.ask_dyn(Increment).await.unwrap(), 101);
    assert_eq!(first.ask_dyn(Get).await.unwrap(), 1, "the first actor saw one message");
}

#[tokio::test]
async fn try_set_only_fills_an_empty_link() {
    let first = actor12::spawn::<Counter>(0);
    let second = actor12::spawn::<Counter>(0);
    let mut weak = WeakLink::default();
    assert!(weak.try_set(&first));
    assert!(!weak.try_set(&second));
    assert!(weak.upgrade().unwrap() == first);
    weak.clear();
    assert!(weak.try_set(&second));
    assert!(weak.upgrade().unwrap() == second);
}

#[tokio::test]
async fn take_leaves_the_link_empty() {
    let link = actor12::spawn::<Counter>(5);
    let mut weak = WeakLink::from(&link);
    let taken = weak.take();
    assert!(!weak.is_set());
    assert!(taken.is_set());
    assert_eq!(taken.ask_dyn(Get).await.unwrap(), 5);
    assert!(weak.ask_dyn(Get).await.is_err());
}

#[tokio::test]
async fn a_weak_link_to_a_stopped_actor_fails_at_once() {
    let link = actor12::spawn::<Counter>(0);
    let weak = link.downgrade();
    link.cancel_and_wait(()).await;
    assert!(weak.is_set(), "still pointed at the actor");
    assert!(weak.ask_dyn(Increment).await.is_err());
    drop(link);
    assert!(weak.upgrade().is_none());
    assert!(weak.ask_dyn(Increment).await.is_err());
}

#[tokio::test]
async fn a_weak_link_does_not_keep_the_actor_alive() {
    /// Reports its end through the sender it was spawned with.
    struct Lonely(Option<oneshot::Sender<()>>);
    impl Actor for Lonely {
        type Message = Multi<Self>;
        type Spec = oneshot::Sender<()>;
        type Channel = MpscChannel<Self::Message>;
        type Cancel = ();
        type State = ();
        fn state(_: &Self::Spec) {}
        fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
            std::future::ready(Ok(Lonely(Some(ctx.spec))))
        }
        async fn terminate(mut self, _: ActorContext<Self>, _: CancelReason<()>) {
            let _ = self.0.take().unwrap().send(());
        }
    }
    let (tx, terminated) = oneshot::channel();
    let link = actor12::spawn::<Lonely>(tx);
    let weak = link.downgrade();
    assert!(weak.upgrade().is_some());
    drop(link); // the last strong link
    terminated.await.unwrap();
    assert!(weak.upgrade().is_none());
    assert!(weak.is_set());
}

#[tokio::test]
async fn dyn_link_is_to_and_tell_dyn() {
    let counter = actor12::spawn::<Counter>(0);
    let other = actor12::spawn::<Other>(());
    let dyns: Vec<DynLink<Increment>> = vec![counter.to_dyn(), other.to_dyn()];
    for link in &dyns {
        link.tell_dyn(Increment).await;
    }
    assert!(dyns[0].is::<Counter>() && !dyns[0].is::<Other>());
    assert!(dyns[1].is::<Other>() && !dyns[1].is::<Counter>());
    let back = dyns[0].to::<Counter>();
    assert!(back == counter, "the same actor, the same identity");
    assert!(dyns[1].try_to::<Counter>().is_none());
    // Order per sender: the tell was handled before this ask.
    assert_eq!(back.ask_dyn(Get).await.unwrap(), 1);

    dyns[1].cancel_and_wait().await;
    assert!(!other.alive());
    dyns[0].cancel();
    counter.wait().await;
    assert!(!counter.alive());
    dyns[0].tell_dyn(Increment).await; // to a stopped actor: dropped, no hang
}

// Beyond 0.0.11: a registry of `DynLink`s can tell which actors stopped, wait for one, and find
// one by identity (a new user's review of 2026-12-07 found none of these).
#[allow(clippy::mutable_key_type)]
#[tokio::test]
async fn dyn_links_tell_alive_wait_and_compare_by_identity() {
    let counter = actor12::spawn::<Counter>(0);
    let other = actor12::spawn::<Other>(());
    let a: DynLink<Increment> = counter.to_dyn();
    let b: DynLink<Increment> = other.to_dyn();
    assert!(a == counter.to_dyn::<Increment>() && a == a.clone(), "the same actor");
    assert!(a != b);
    let set: HashSet<DynLink<Increment>> = [a.clone(), counter.to_dyn(), b.clone()].into();
    assert_eq!(set.len(), 2);
    assert!(a.alive() && b.alive());

    other.cancel(());
    b.wait().await;
    assert!(!b.alive() && !other.alive());
    assert!(a.alive(), "the other actor runs on");
    let mut listeners = vec![a.clone(), b];
    listeners.retain(|l| l.alive());
    assert!(listeners.len() == 1 && listeners[0] == a);

    // A `DynLink` is strong: the last one keeps its actor running.
    let weak = counter.downgrade();
    drop((counter, listeners, set));
    assert!(weak.upgrade().is_some(), "kept by `a`");
    drop(a);
    assert!(weak.upgrade().is_none(), "the last link went with `a`");
    weak.cancel_and_wait(()).await;
    assert!(!weak.alive());
}

// `cancel_and_wait` asks for the stop when it is called (0.0.11's `Link::cancel_and_wait`, an
// `async fn`, asked at its first poll; its `DynLink`'s at the call): a future dropped unpolled
// has still stopped the actor, through each kind of link.
#[tokio::test]
async fn cancel_and_wait_asks_for_the_stop_when_called() {
    let strong = actor12::spawn::<Counter>(0);
    drop(strong.cancel_and_wait(()));
    assert!(strong.token().is_cancelled(), "Link");
    let weak = actor12::spawn::<Counter>(0);
    drop(weak.downgrade().cancel_and_wait(()));
    assert!(weak.token().is_cancelled(), "WeakLink");
    let dynamic = actor12::spawn::<Counter>(0);
    drop(dynamic.to_dyn::<Increment>().cancel_and_wait());
    assert!(dynamic.token().is_cancelled(), "DynLink");
    for link in [strong, weak, dynamic] {
        link.wait().await;
        assert!(!link.alive());
    }
}

// A link hashes by identity (the pointer), never by the interior-mutable state behind it.
#[allow(clippy::mutable_key_type)]
#[tokio::test]
async fn links_compare_and_hash_by_identity_and_share_state() {
    let a = actor12::spawn::<Counter>(7);
    let b = actor12::spawn::<Counter>(7);
    assert!(a == a.clone() && a != b);
    let set: HashSet<_> = [a.clone(), a.clone(), b.clone()].into_iter().collect();
    assert_eq!(set.len(), 2);
    assert_eq!(*a.state(), 7);
    assert_eq!(a.downgrade(), WeakLink::from(&a));
    assert_ne!(a.downgrade(), b.downgrade());
}

// `{:?}` of a weak link says what `alive()` says: not "alive" for a stopped actor that still has
// strong links.
#[tokio::test]
async fn a_weak_links_debug_says_what_alive_says() {
    let link = actor12::spawn::<Counter>(0);
    let weak = link.downgrade();
    assert_eq!(format!("{weak:?}"), "WeakLink { set: true, alive: true }");
    link.cancel_and_wait(()).await; // stopped; `link` is still a strong link
    assert!(!weak.alive());
    assert_eq!(format!("{weak:?}"), "WeakLink { set: true, alive: false }");
    drop(link);
    assert_eq!(format!("{weak:?}"), "WeakLink { set: true, alive: false }");
    assert_eq!(
        format!("{:?}", WeakLink::<Counter>::new()),
        "WeakLink { set: false, alive: false }"
    );
}
