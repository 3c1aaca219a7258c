//! Entry points for the loom models in `loom-tests/` (compiled only under `--cfg actor12_loom`).
//!
//! The actor task (`task.rs`) is the real code; what stands in for the runtime is [`Handle`]: a
//! global queue and a task list, with the contract `task.rs` relies on from
//! `actor12_scheduler::Handle`: a schedule fails once the runtime is shut down, the task list
//! refuses binds once closed and cancels each entry once at shutdown, and a token queued when
//! the queue closes is cancelled (`shutdown_queued`) instead of run.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll};

use actor12_scheduler::loom_api as rt;
use actor12_scheduler::task::{Header, TaskRef};
use loom::sync::Arc;

use crate::loom::{AtomicBool, Mutex, Ordering::*};
use crate::task::{self, CoreRef, LinkRef, RecvStep};

/// The runtime as an actor sees it: a global queue (a worker's [`run_one`](Handle::run_one)
/// pops it) and the task list.
#[derive(Debug, Clone)]
pub struct Handle(Arc<Shared>);

#[derive(Debug)]
struct Shared {
    shut_down: AtomicBool,
    /// Queued run tokens, and "closed".
    queue: Mutex<(VecDeque<TaskRef>, bool)>,
    /// Bound list entries, and "closed".
    list: Mutex<(Vec<TaskRef>, bool)>,
}

impl Default for Handle {
    fn default() -> Self {
        Handle::new()
    }
}

impl Handle {
    /// A runtime with nothing in it.
    pub fn new() -> Handle {
        Handle(Arc::new(Shared {
            shut_down: AtomicBool::new(false),
            queue: Mutex::new((VecDeque::new(), false)),
            list: Mutex::new((Vec::new(), false)),
        }))
    }

    /// As `Runtime::shutdown`: the flag that makes later schedules fail, then the task list
    /// (each entry cancelled once), then the queue (each token cancelled, later pushes too).
    pub fn shutdown(&self) {
        self.0.shut_down.store(true, SeqCst);
        let entries = {
            let mut list = self.0.list.lock();
            list.1 = true;
            std::mem::take(&mut list.0)
        };
        for entry in entries {
            rt::shutdown(&entry);
        }
        let queued = {
            let mut queue = self.0.queue.lock();
            queue.1 = true;
            std::mem::take(&mut queue.0)
        };
        for token in queued {
            rt::shutdown_queued(token);
        }
    }

    /// A worker's turn: runs the first queued actor, queueing it again if it asks to. False if
    /// nothing was queued.
    pub fn run_one(&self) -> bool {
        let Some(token) = self.0.queue.lock().0.pop_front() else { return false };
        if let Some(again) = rt::run(token) {
            self.push(again);
        }
        true
    }

    /// Queued run tokens.
    pub fn queued(&self) -> usize {
        self.0.queue.lock().0.len()
    }

    /// Bound task list entries.
    pub fn bound(&self) -> usize {
        self.0.list.lock().0.len()
    }

    fn push(&self, token: TaskRef) {
        let mut queue = self.0.queue.lock();
        if queue.1 {
            drop(queue);
            rt::shutdown_queued(token);
        } else {
            queue.0.push_back(token);
        }
    }

    /// As `actor12_scheduler::TaskHandle::bind_task`.
    ///
    /// # Safety
    /// As there: `task` is a task list entry the caller releases once.
    pub(crate) unsafe fn bind_task(&self, task: TaskRef) -> Result<(), TaskRef> {
        let mut list = self.0.list.lock();
        if list.1 {
            return Err(task);
        }
        list.0.push(task);
        Ok(())
    }

    /// As `actor12_scheduler::TaskHandle::try_schedule`.
    pub(crate) fn try_schedule(&self, token: TaskRef) -> Result<(), TaskRef> {
        if self.0.shut_down.load(SeqCst) {
            return Err(token);
        }
        self.push(token);
        Ok(())
    }

    /// As `actor12_scheduler::TaskHandle::try_start` off the workers (a model has none): the
    /// task is queued, for the model's thread that runs the queue.
    pub(crate) fn try_start(&self, token: TaskRef) -> Result<(), TaskRef> {
        self.try_schedule(token)
    }

    /// As `actor12_scheduler::TaskHandle::release_task`.
    ///
    /// # Safety
    /// As there: `task` points to a live header.
    pub(crate) unsafe fn release_task(&self, task: NonNull<Header>) -> Option<TaskRef> {
        let mut list = self.0.list.lock();
        let i = list.0.iter().position(|t| t.as_ptr() == task)?;
        Some(list.0.swap_remove(i))
    }
}

/// A link to a model actor whose lifecycle takes messages until its mailbox closes. Its links
/// share a part `P` (an actor's token and state), dropped with the last link.
#[allow(missing_debug_implementations)]
pub struct Actor<M: Send + 'static, P: Send + Sync + 'static = ()> {
    link: LinkRef<M, P>,
}

impl<M: Send + 'static> Actor<M> {
    /// Allocates and starts the actor: its first run is queued on `handle`. `keep` lives in the
    /// lifecycle, and is dropped with it (to count that this happens once).
    pub fn spawn<K: Send + 'static>(handle: &Handle, keep: K) -> Actor<M> {
        Actor::spawn_with_part(handle, keep, ())
    }
}

impl<M: Send + 'static, P: Send + Sync + 'static> Clone for Actor<M, P> {
    fn clone(&self) -> Self {
        Actor { link: self.link.clone() }
    }
}

/// A weak link to a model actor: keeps its allocation, not its links' part.
#[allow(missing_debug_implementations)]
pub struct WeakActor<M: Send + 'static, P: Send + Sync + 'static> {
    core: CoreRef<M>,
    _part: std::marker::PhantomData<P>,
}

impl<M: Send + 'static, P: Send + Sync + 'static> WeakActor<M, P> {
    /// A link, unless the last one is gone.
    pub fn upgrade(&self) -> Option<Actor<M, P>> {
        // SAFETY: the core comes from an `Actor<M, P>`, allocated for `P`.
        unsafe { LinkRef::upgrade(&self.core) }.map(|link| Actor { link })
    }
}

impl<M: Send + 'static, P: Send + Sync + 'static> Actor<M, P> {
    /// [`Actor::spawn`], with `part` shared by the links.
    pub fn spawn_with_part<K: Send + 'static>(handle: &Handle, keep: K, part: P) -> Actor<M, P> {
        Actor::spawn_inner(handle, keep, part, None)
    }

    /// [`Actor::spawn`], whose lifecycle first awaits `first` (a handler waiting on something
    /// other than its mailbox: a reply, a timer), polled with the actor's own waker.
    pub fn spawn_awaiting<K: Send + 'static>(
        handle: &Handle,
        keep: K,
        part: P,
        first: impl Future<Output = ()> + Send + 'static,
    ) -> Actor<M, P> {
        Actor::spawn_inner(handle, keep, part, Some(Box::pin(first)))
    }

    fn spawn_inner<K: Send + 'static>(
        handle: &Handle,
        keep: K,
        part: P,
        first: Option<Pin<Box<dyn Future<Output = ()> + Send>>>,
    ) -> Actor<M, P> {
        let hooks = const { &task::Hooks::new(model_crash, task::unmarked::<M>) };
        let (link, mut refs) =
            task::allocate::<M, P, Lifecycle<M, K>>(handle.clone(), None, hooks, part, 1, 0);
        let core = link.core();
        let lifecycle = Lifecycle { rx: refs.take(), first, _keep: keep };
        // SAFETY: made by `allocate::<M, P, Lifecycle<M, K>>` just above, started once, by us.
        unsafe { task::start::<M, P, _>(core, lifecycle) };
        Actor { link }
    }

    /// What the links share.
    pub fn part(&self) -> &P {
        self.link.part()
    }

    /// A weak link.
    pub fn downgrade(&self) -> WeakActor<M, P> {
        WeakActor { core: self.link.core().clone(), _part: std::marker::PhantomData }
    }

    /// Sends without waiting (the mailbox is unbounded); gives the message back if the actor has
    /// stopped.
    pub fn send(&self, msg: M) -> Result<(), M> {
        self.link.core().try_send(msg).map_err(|e| match e {
            actor12_mailbox::TrySendError::Full(m) | actor12_mailbox::TrySendError::Closed(m) => m,
        })
    }

    /// Sends as a handler's `send(..).await` does (`task::SendFuture`): spends a send's share
    /// of the running task's cooperative budget (refused once it is spent: the task is woken
    /// and the future is pending), waits for room in a bounded mailbox, and schedules the actor
    /// if the push woke it; gives the message back if the actor has stopped.
    pub fn send_waiting(&self, msg: M) -> impl Future<Output = Result<(), M>> + Send + '_ {
        self.link.core().send(msg)
    }

    /// Resolves once the actor has stopped and been torn down, as `Link::wait` does.
    pub fn stopped(&self) -> impl Future<Output = ()> + Unpin + '_ {
        self.link.core().stopped()
    }

    /// Asks the actor to stop, as dropping its last link does.
    pub fn close(&self) {
        let core = self.link.core();
        if core.mailbox.close() == actor12_mailbox::Push::Schedule {
            core.schedule();
        }
    }
}

/// A model actor's `crash` hook: its lifecycle never panics.
fn model_crash(_: Box<dyn std::any::Any + Send>) -> Pin<Box<dyn Future<Output = ()> + Send>> {
    unreachable!("model lifecycles do not panic")
}

/// The model actor's lifecycle: awaits `first` if any, then drops each message it takes.
struct Lifecycle<M: Send + 'static, K> {
    rx: CoreRef<M>,
    first: Option<Pin<Box<dyn Future<Output = ()> + Send>>>,
    _keep: K,
}

// Nothing in it is pinned: `keep` is only held, and `first` is boxed.
impl<M: Send + 'static, K> Unpin for Lifecycle<M, K> {}

impl<M: Send + 'static, K> Future for Lifecycle<M, K> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        if let Some(first) = this.first.as_mut() {
            if first.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            this.first = None;
        }
        loop {
            // SAFETY: a lifecycle is polled only by its run token's holder.
            match unsafe { this.rx.poll_recv(&mut crate::task::ByValue) } {
                RecvStep::Message(msg) => drop(msg),
                RecvStep::Closed => return Poll::Ready(()),
                RecvStep::Pending => return Poll::Pending,
            }
        }
    }
}
