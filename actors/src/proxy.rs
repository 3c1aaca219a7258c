//! `Proxy<A>`: a stable link in front of an actor that can be stopped and started again.

use std::fmt;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Poll, Waker};

use actor12_scheduler::TaskHandle;
use parking_lot::Mutex;

use crate::actor::Actor;
use crate::cancel::CancelToken;
use crate::channel::ActorReceiver;
use crate::link::{Link, LinkPart};
use crate::task;

/// A stable [`Link`] in front of a restartable actor (actor12 0.0.11's `Proxy`).
///
/// [`Proxy::new`] returns the proxy and the *outer* link: a `Link<A>` like any other, whose
/// messages a small relay passes on, in order, to the current incarnation of the actor. Start
/// the first incarnation with [`init`](Self::init), stop it with [`shutdown`](Self::shutdown) and
/// start a fresh one from the same spec with [`reset`](Self::reset): holders of the outer link
/// never see the change. While no incarnation runs (before `init`, between `shutdown` and
/// `reset`, once the current one is cancelled, or after it stopped on its own) messages wait in
/// the outer link's mailbox and go to the next incarnation. That mailbox holds 100 messages,
/// as in actor12 0.0.11 (the actor's [`mailbox_capacity`](Actor::mailbox_capacity) if larger);
/// a send to it waits for room beyond that. Messages already passed on to an
/// incarnation stay with it: when it stops (a `shutdown`, a crash), those it has not handled
/// are dropped with their askers answered by an error, as for any actor (or handled before it
/// stops, with `Terminate::ProcessAll`: [`reset`](Self::reset) says what that means for the
/// order across a restart).
///
/// Cancelling the outer link (or dropping every clone of it), or dropping the `Proxy`, stops the
/// relay and the current incarnation, and the outer link counts as stopped (`wait`,
/// `cancel_and_wait`) once the incarnation has, and every one that a `reset` replaced while it
/// was still stopping, and one an `init` or `reset` was starting meanwhile (started, it is
/// stopped at once). Either way the outer link is then dead:
/// its token is cancelled, and once it counts as stopped sends to it fail at once (while the
/// incarnation still finishes, a send may be accepted and then dropped, its asker answered with
/// an error). Once the relay has ended, `init` and `reset` start nothing: a keeper that
/// restarts the actor whenever it stops may race the cancel without leaving one running. A
/// cancel does not wait for room in a busy incarnation's mailbox: the message the relay was
/// passing on is dropped with the rest.
/// Made inside an actor, the outer link is that actor's child, as an actor spawned there would
/// be: it stops (with its incarnation) when that actor stops. Each incarnation is the outer
/// link's child, wherever `init` or `reset` is called: a supervisor actor that restarts it from
/// a handler does not take it down when that supervisor stops.
///
/// The outer link's [`state`](Link::state) is its own, built by `A::state` from the spec in
/// [`new`](Self::new); each incarnation builds another when it starts. A state that the
/// incarnations update and the outer link's holders read must come through the spec (an `Arc`
/// in the spec that `state` clones): one made inside `state` is not what the outer link shows.
///
/// The incarnation is not the outer link's "actor" to the checks of the guide's "An actor
/// talking to itself": awaiting, in its own handler, the answer to an ask it sent through the
/// outer link, or the outer link's stop, hangs as it would between two actors, and a tell into
/// the outer link while both mailboxes are full waits for good. Use its own `ctx.link` for that.
///
/// # Examples
///
/// ```
/// use actor12::prelude::*;
/// use actor12::{Call, MpscChannel, Multi, Proxy};
///
/// struct Counter(u64);
/// impl Actor for Counter {
///     type Message = Multi<Self>;
///     type Spec = u64; // the starting count
///     type Channel = MpscChannel<Self::Message>;
///     type Cancel = ();
///     type State = ();
///     fn state(_: &u64) {}
///     fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
///         std::future::ready(Ok(Counter(ctx.spec)))
///     }
/// }
/// struct Bump;
/// impl Handler<Bump> for Counter {
///     type Reply = anyhow::Result<u64>;
///     async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Bump) -> Self::Reply {
///         self.0 += 1;
///         Ok(self.0)
///     }
/// }
///
/// actor12::rt::Runtime::new().unwrap().block_on(async {
///     let (proxy, link) = Proxy::<Counter>::new(10);
///     proxy.init(); // the first incarnation
///     assert_eq!(link.ask_dyn(Bump).await.unwrap(), 11);
///     assert_eq!(link.ask_dyn(Bump).await.unwrap(), 12);
///
///     proxy.shutdown().await; // stops it; the outer link stays usable
///     proxy.reset(); // a fresh incarnation from the same spec
///     assert_eq!(link.ask_dyn(Bump).await.unwrap(), 11);
/// });
/// ```
pub struct Proxy<A: Actor> {
    /// The spec every incarnation is spawned from.
    pub spec: A::Spec,
    shared: Arc<Shared<A>>,
    /// The outer link's runtime, where the relay runs: `init` and `reset` called off any runtime
    /// start the incarnation there.
    home: TaskHandle,
}

/// What the proxy and its relay share.
struct Shared<A: Actor> {
    target: Mutex<Target<A>>,
    /// The outer link's token: each incarnation is spawned below it, whoever calls `init` or
    /// `reset` (spawned below the caller's actor, it stopped with that actor).
    token: CancelToken<A::Cancel>,
}

struct Target<A: Actor> {
    /// The current incarnation (`None` before `init`).
    link: Option<Link<A>>,
    /// Incarnations that a start replaced before they had stopped, cancelled: the relay's end
    /// waits for them too (the outer link counted as stopped while one still ran its handler).
    /// Pruned of the stopped ones at each start.
    replaced: Vec<Link<A>>,
    /// Cancelled by `shutdown`: the relay holds messages back until `reset`.
    token: CancelToken<A::Cancel>,
    /// The proxy was dropped: the relay ends.
    closed: bool,
    /// The relay's waker, while it waits for a change of target.
    waker: Option<Waker>,
    /// An `init` or `reset` is spawning an incarnation (outside the lock): another one fails
    /// its check, as if that incarnation were running already, and the relay's end waits for it.
    starting: bool,
    /// The relay has ended, and taken the incarnations it waits for: a start now starts nothing
    /// (an incarnation it started would run on while the outer link counts as stopped).
    ended: bool,
}

impl<A: Actor> Target<A> {
    /// The incarnation messages go to now, if one is running and was not cancelled: one that
    /// is stopping (cancelled through [`Proxy::current`], say, and finishing its handler) gets
    /// nothing more, and `reset` may replace it.
    fn forwarding(&self) -> Option<&Link<A>> {
        self.link.as_ref().filter(|link| {
            !self.token.is_cancelled() && !link.token().is_cancelled() && link.alive()
        })
    }

    fn wake(&mut self) {
        if let Some(waker) = self.waker.take() {
            waker.wake();
        }
    }
}

impl<A: Actor> fmt::Debug for Proxy<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let target = self.shared.target.lock();
        f.debug_struct("Proxy")
            .field("actor", &std::any::type_name::<A>())
            .field("current", &target.link)
            .field("shut_down", &target.token.is_cancelled())
            .finish()
    }
}

/// The least capacity of a proxy's outer mailbox: 0.0.11's, where messages sent while no
/// incarnation runs wait (a user queueing a few between `shutdown` and `reset` must not block
/// on a small actor capacity).
const OUTER_CAPACITY: usize = 100;

impl<A: Actor> Proxy<A> {
    /// A proxy for actors built from `spec`, and its outer link. No actor runs yet: call
    /// [`init`](Self::init). Works from anywhere [`spawn`](crate::spawn) does.
    pub fn new(spec: A::Spec) -> (Self, Link<A>) {
        // The user's `state` and `mailbox_capacity` run in the tokio context an actor's do in
        // `spawn` (the side runtime's, with the `tokio` feature), not the caller's: without it a
        // tokio timer made in `state` panicked on a plain thread, and in a `#[tokio::test]`
        // belonged to the test's runtime (a review of 2026-12-06).
        #[cfg(all(feature = "tokio", not(actor12_loom)))]
        let init_context = crate::runtime::tokio_bridge::context_for_init();
        #[cfg(all(feature = "tokio", not(actor12_loom)))]
        let tokio_context = init_context.as_ref().map(tokio::runtime::Handle::enter);
        let (state, capacity) = (A::state(&spec), A::mailbox_capacity().max(OUTER_CAPACITY));
        #[cfg(all(feature = "tokio", not(actor12_loom)))]
        drop(tokio_context);
        // Below the current actor's token, as an actor spawned here would be: made inside an
        // actor, the outer link stops with it (with a root token it outlived it, and its askers
        // waited for a `reset`).
        let token = crate::actor::token_for::<A::Cancel>();
        let shared = Arc::new(Shared {
            target: Mutex::new(Target {
                link: None,
                replaced: Vec::new(),
                token: CancelToken::new(),
                closed: false,
                waker: None,
                starting: false,
                ended: false,
            }),
            token: token.clone(),
        });
        let home = crate::runtime::handle();
        let link =
            start_relay::<A, _>(home.clone(), state, capacity, token, shared.clone(), relay::<A>);
        (Proxy { spec, shared, home }, link)
    }

    /// Starts the first incarnation, on the current runtime, or (called off any runtime) on the
    /// outer link's. So do [`reset`](Self::reset)s.
    ///
    /// # Panics
    /// If the proxy was already initialized (use [`reset`](Self::reset) to restart).
    pub fn init(&self)
    where
        A::Spec: Clone,
    {
        self.start(|target| target.link.is_none(), "Proxy is already initialized");
    }

    /// Stops the current incarnation and waits until it has. Messages sent to the outer link
    /// meanwhile wait for [`reset`](Self::reset).
    pub async fn shutdown(&self) {
        let link = {
            let mut target = self.shared.target.lock();
            target.token.cancel(A::Cancel::default());
            target.wake();
            target.link.clone()
        };
        if let Some(link) = link {
            link.cancel_and_wait(A::Cancel::default()).await;
        }
    }

    /// Starts a fresh incarnation from the spec, after [`shutdown`](Self::shutdown), after a
    /// cancel of the current one (through [`current`](Self::current)), or once it has stopped
    /// on its own (a panic, a `tick` that broke). Messages waiting in the outer link go to it.
    /// A cancelled incarnation may still be finishing its handler and `terminate` while the new
    /// one starts and takes the messages that come next: a restart that a stuck handler cannot
    /// hold up. One sender's order then holds across the restart only if the old one handles
    /// nothing more than that handler: with `Terminate::ProcessAll` it still handles the messages
    /// it was passed before the cancel, after later ones the new incarnation may have handled
    /// already. `shutdown` waits for it first, and keeps the order (as does
    /// `current().wait()` before this).
    ///
    /// The asker of a handler that panicked gets its error before the incarnation counts as
    /// stopped: wait for that (`current().wait()`) before calling this.
    ///
    /// # Panics
    /// If the current incarnation is running and was neither shut down nor cancelled, or
    /// another `reset` is starting one (of two racing resets, one starts an incarnation).
    pub fn reset(&self)
    where
        A::Spec: Clone,
    {
        self.start(|target| target.forwarding().is_none(), "Proxy is not cancelled");
    }

    /// The link to the current incarnation, if one was started (it may have stopped since).
    ///
    /// # Examples
    ///
    /// To reach the incarnation itself, not through the relay: to watch it stop, for instance.
    ///
    /// ```
    /// # use actor12::prelude::*;
    /// # use actor12::{Call, MpscChannel, Multi};
    /// # struct Counter(u64);
    /// # impl Actor for Counter {
    /// #     type Message = Multi<Self>;
    /// #     type Spec = u64;
    /// #     type Channel = MpscChannel<Self::Message>;
    /// #     type Cancel = ();
    /// #     type State = ();
    /// #     fn state(_: &u64) {}
    /// #     fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
    /// #         std::future::ready(Ok(Counter(ctx.spec)))
    /// #     }
    /// # }
    /// # struct Bump;
    /// # impl Handler<Bump> for Counter {
    /// #     type Reply = anyhow::Result<u64>;
    /// #     async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Bump) -> Self::Reply {
    /// #         self.0 += 1;
    /// #         Ok(self.0)
    /// #     }
    /// # }
    /// use actor12::Proxy;
    ///
    /// # actor12::rt::Runtime::new().unwrap().block_on(async {
    /// let (proxy, _link) = Proxy::<Counter>::new(10);
    /// assert!(proxy.current().is_none()); // nothing started yet
    /// proxy.init();
    /// let first = proxy.current().unwrap();
    /// assert_eq!(first.ask_dyn(Bump).await.unwrap(), 11);
    ///
    /// proxy.shutdown().await;
    /// assert!(!first.alive());
    /// proxy.reset();
    /// let second = proxy.current().unwrap();
    /// assert_ne!(second, first);
    /// assert_eq!(second.ask_dyn(Bump).await.unwrap(), 11); // a fresh one, from the spec
    /// # });
    /// ```
    pub fn current(&self) -> Option<Link<A>> {
        self.shared.target.lock().link.clone()
    }

    /// True once the outer link is dead for good: cancelled, or every clone of it dropped (or
    /// the actor whose handler made the proxy stopped). A [`reset`](Self::reset) then starts
    /// nothing (in the moment before the relay has ended, one that is stopped at once), and
    /// [`current`](Self::current) keeps returning the stopped incarnation, whose `wait` resolves
    /// at once: a keeper that restarts the actor whenever it stops checks this first, or it
    /// spins.
    ///
    /// # Examples
    ///
    /// ```
    /// # use actor12::prelude::*;
    /// # use actor12::{MpscChannel, Multi};
    /// # struct Counter;
    /// # impl Actor for Counter {
    /// #     type Message = Multi<Self>;
    /// #     type Spec = ();
    /// #     type Channel = MpscChannel<Self::Message>;
    /// #     type Cancel = ();
    /// #     type State = ();
    /// #     fn state(_: &()) {}
    /// #     fn init(_: Init<'_, Self>) -> impl InitFuture<Self> {
    /// #         std::future::ready(Ok(Counter))
    /// #     }
    /// # }
    /// use actor12::Proxy;
    ///
    /// # actor12::rt::Runtime::new().unwrap().block_on(async {
    /// let (proxy, link) = Proxy::<Counter>::new(());
    /// proxy.init();
    /// // A keeper: whenever the actor stops (here a cancel, a crash say), it restarts it...
    /// proxy.current().unwrap().cancel(());
    /// proxy.current().unwrap().wait().await;
    /// assert!(!proxy.is_closed());
    /// proxy.reset();
    /// // ...until the outer link is gone.
    /// link.cancel_and_wait(()).await;
    /// proxy.current().unwrap().wait().await;
    /// assert!(proxy.is_closed());
    /// # });
    /// ```
    pub fn is_closed(&self) -> bool {
        self.shared.token.is_cancelled()
    }

    /// Starts an incarnation if `may_start` holds and no other start is under way; else panics
    /// with `refused`. Of two racing `reset`s (or `init`s) one starts, the other panics, as
    /// if it had come second.
    fn start(&self, may_start: impl FnOnce(&Target<A>) -> bool, refused: &str)
    where
        A::Spec: Clone,
    {
        {
            let mut target = self.shared.target.lock();
            if target.ended {
                return;
            }
            assert!(!target.starting && may_start(&target), "{refused}");
            target.starting = true;
        }
        /// Ends the start if the spawn panics (`init`'s body reaches the caller): a later
        /// `reset` may start again, and a relay ending meanwhile goes on.
        struct Starting<'a, A: Actor>(&'a Mutex<Target<A>>);
        impl<A: Actor> Drop for Starting<'_, A> {
            fn drop(&mut self) {
                let mut target = self.0.lock();
                target.starting = false;
                target.wake();
            }
        }
        let starting = Starting(&self.shared.target);
        // Spawned outside the lock: the actor's `init` is user code. Below the outer link's
        // token, not the current actor's: the incarnation belongs to the proxy, not to whichever
        // actor's handler (re)starts it.
        let spawn =
            || crate::actor::with_parent(&self.shared.token, || A::spawn(self.spec.clone()));
        // Off any runtime, `A::spawn` would take the process-wide default one: the incarnation
        // goes to the outer link's runtime instead, beside its relay (a `block_on` of nothing
        // but the spawn, which never waits).
        let link = if TaskHandle::try_current().is_some() {
            spawn()
        } else {
            self.home.handle().block_on(async { spawn() })
        };
        std::mem::forget(starting);
        let old = {
            let mut target = self.shared.target.lock();
            target.starting = false;
            target.token = CancelToken::new();
            let old = target.link.replace(link);
            // Kept until they have stopped, not only closed their mailboxes: one in its drain,
            // `terminate` or `crash` still runs, and the outer link waits for it.
            let running = |l: &Link<A>| !l.inner.core().has_stopped();
            target.replaced.retain(running);
            target.replaced.extend(old.iter().filter(|old| running(old)).cloned());
            target.wake();
            old
        };
        if let Some(old) = old {
            old.cancel(A::Cancel::default());
        }
    }
}

impl<A: Actor> Drop for Proxy<A> {
    fn drop(&mut self) {
        // The incarnation stays in the target: the relay, ending, waits for it to stop, so that
        // the outer link counts as stopped only once the incarnation has (as after a cancel).
        let link = {
            let mut target = self.shared.target.lock();
            target.closed = true;
            target.token.cancel_in_drop();
            target.wake();
            target.link.clone()
        };
        if let Some(link) = link {
            link.token().cancel_in_drop();
        }
    }
}

/// Builds the relay future from the outer mailbox's receiver, the outer link's token and the
/// shared target.
type MakeRelay<A, F> =
    fn(ActorReceiver<<A as Actor>::Message>, RelayToken<<A as Actor>::Cancel>, Arc<Shared<A>>) -> F;

/// The outer link's token as the relay holds it. Dropped with the relay, also unfinished (its
/// runtime shut down, even before its first poll), it cancels the token unless it is cancelled
/// already, so that the incarnation, spawned below it, stops too, as an actor's lifecycle stops
/// its children (`Scoped`); and it lets go of the relay's hook. (An incarnation on another
/// runtime ran on when the relay's runtime was dropped.)
struct RelayToken<C: Clone + Default>(CancelToken<C>);

impl<C: Clone + Default> std::ops::Deref for RelayToken<C> {
    type Target = CancelToken<C>;

    fn deref(&self) -> &CancelToken<C> {
        &self.0
    }
}

impl<C: Clone + Default> Drop for RelayToken<C> {
    fn drop(&mut self) {
        self.0.cancel_in_drop();
        self.0.clear_hook();
    }
}

/// Starts the relay as the lifecycle of the outer link's core, with `token` and a mailbox of
/// `capacity`: the outer link is a real actor link (same mailbox, same sends), only its "actor"
/// passes messages on. `make` names the relay future's type for the allocation.
fn start_relay<A: Actor, F>(
    handle: TaskHandle,
    state: A::State,
    capacity: usize,
    token: CancelToken<A::Cancel>,
    shared: Arc<Shared<A>>,
    make: MakeRelay<A, F>,
) -> Link<A>
where
    F: Future<Output = ()> + Send + 'static,
{
    let part = LinkPart { token: token.clone(), state };
    // Two spare references: the relay's waker and its receiver.
    let (inner, mut refs) = task::allocate::<A::Message, LinkPart<A>, F>(
        handle,
        Some(capacity),
        relay_hooks(),
        part,
        2,
        0,
    );
    let link = Link::<A> { inner };
    let core = link.inner.core();
    // The relay's own waker is its cancellation hook, as for an actor.
    let _ = token.register_waker(refs.take().into_waker());
    let relay = make(ActorReceiver::new(refs.take()), RelayToken(token), shared);
    // SAFETY: `core` was allocated above for `LinkPart<A>` and `F`, and this is its one start.
    // Nothing between the two can unwind (the user's `state` ran before `allocate`).
    unsafe { task::start::<A::Message, LinkPart<A>, F>(core, relay) };
    link
}

/// The relay: passes each message of the outer mailbox to the current incarnation, in order;
/// holds them back while none runs. Ends when the outer link is cancelled or dropped, or the
/// proxy is dropped, and then stops the current incarnation.
async fn relay<A: Actor>(
    mut rx: ActorReceiver<A::Message>,
    token: RelayToken<A::Cancel>,
    shared: Arc<Shared<A>>,
) {
    // A message the incarnation refused because it stopped meanwhile: it goes to the next one,
    // first, as the messages still queued do (it used to be dropped).
    let mut held: Option<A::Message> = None;
    loop {
        let next = poll_fn(|cx| {
            if token.is_cancelled() {
                return Poll::Ready(None);
            }
            let mut target = shared.target.lock();
            if target.closed {
                return Poll::Ready(None);
            }
            if let Some(link) = target.forwarding() {
                if let Some(msg) = held.take() {
                    return Poll::Ready(Some((msg, link.clone())));
                }
                // Only while an incarnation runs: otherwise messages stay queued, and the
                // runtime does not wake the relay for them.
                match rx.poll_recv_unmarked(cx) {
                    Poll::Ready(Some(msg)) => return Poll::Ready(Some((msg, link.clone()))),
                    Poll::Ready(None) => return Poll::Ready(None),
                    Poll::Pending => {}
                }
            }
            if !target.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                target.waker = Some(cx.waker().clone());
            }
            Poll::Pending
        })
        .await;
        let Some((msg, link)) = next else { break };
        // While it waits for room, the send gives way to a cancel of the outer link (the
        // relay's waker is the token's hook: an incarnation that makes room only once it is
        // cancelled would otherwise hold the relay, which is what cancels it, for good; the
        // message is dropped with the others still queued) and to a change of target (a
        // `reset` or `shutdown` wakes the relay: its message then goes first to the next
        // incarnation, and a stuck handler in the old one cannot hold the restart up, as it
        // did when the mailbox it waited on was full).
        let mut send = link.inner.core().send(msg);
        let sent = poll_fn(|cx| {
            if token.is_cancelled() {
                return Poll::Ready(Sent::Cancelled);
            }
            if let Poll::Ready(sent) = Pin::new(&mut send).poll(cx) {
                return Poll::Ready(Sent::Done(sent));
            }
            let mut target = shared.target.lock();
            if target.closed || target.forwarding() != Some(&link) {
                return Poll::Ready(Sent::Moved);
            }
            if !target.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                target.waker = Some(cx.waker().clone());
            }
            Poll::Pending
        })
        .await;
        match sent {
            Sent::Cancelled => break,
            Sent::Done(Ok(())) => {}
            // The incarnation stopped: `forwarding` now waits for the next one.
            Sent::Done(Err(refused)) => held = Some(refused),
            Sent::Moved => held = send.give_up(),
        }
    }
    // A start under way (spawning outside the lock) comes first: the relay waits for the
    // incarnation it makes too. Once the relay has taken the incarnations it waits for, a start
    // starts nothing: one made after the outer link was cancelled (a keeper's `reset` racing the
    // cancel) ran on after the outer link counted as stopped (a review of 2026-12-06).
    let (link, replaced) = poll_fn(|cx| {
        let mut target = shared.target.lock();
        if target.starting {
            target.waker = Some(cx.waker().clone());
            return Poll::Pending;
        }
        target.waker = None;
        target.ended = true;
        Poll::Ready((target.link.clone(), std::mem::take(&mut target.replaced)))
    })
    .await;
    // Ended by the proxy's drop: the outer link's token is cancelled too, as an actor's is when
    // it stops (its children stop with it, and `is_cancelled` says so).
    if !token.is_cancelled() {
        token.cancel(A::Cancel::default());
    }
    if let (Some(link), Some(reason)) = (link, token.reason()) {
        link.token().cancel_with_reason(reason);
        // The outer link stops when the incarnation has: `cancel_and_wait` on it waits for the
        // incarnation's `terminate` too.
        link.wait().await;
    }
    // And when those a start replaced have (cancelled then).
    for old in replaced {
        old.wait().await;
    }
}

/// How the relay's wait for room in an incarnation's mailbox ended.
enum Sent<M> {
    /// The outer link was cancelled.
    Cancelled,
    /// The send completed: the message is in, or (the incarnation stopped) back.
    Done(Result<(), M>),
    /// The proxy moved on from that incarnation while the send waited.
    Moved,
}

/// A relay's hooks: it marks nothing (the incarnation does, as it takes each message).
fn relay_hooks<M: Send + 'static>() -> &'static task::Hooks<M> {
    const { &task::Hooks::new(relay_crash, task::unmarked::<M>) }
}

fn relay_crash(
    payload: Box<dyn std::any::Any + Send>,
) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send>> {
    let msg = crate::actor::panic_message(&*payload);
    tracing::error!("actor12 proxy relay panicked: {msg}");
    Box::pin(std::future::ready(()))
}
