//! Which runtime an actor runs on, and the tokio bridge.

use actor12_scheduler::TaskHandle;

/// The runtime `spawn` uses: the current one (inside an actor, a task, or `Runtime::block_on`),
/// else the process-wide default (one worker per core, started on first use). With the `tokio`
/// feature the default runtime's workers run inside a side tokio runtime's context.
pub(crate) fn handle() -> TaskHandle {
    #[cfg(feature = "tokio")]
    {
        // Only on the way to the default runtime: a spawn on a runtime of the user's must not
        // take the default runtime's one configuration.
        TaskHandle::try_current().unwrap_or_else(|| {
            tokio_bridge::configure();
            TaskHandle::current_or_default()
        })
    }
    #[cfg(not(feature = "tokio"))]
    TaskHandle::current_or_default()
}

/// Before a timer of actor12's own API (a timed ask) is made: polled outside any runtime, it
/// may be what starts the default runtime, which must then get the tokio bridge as it does on
/// the way to an actor's spawn (and only then: inside a runtime of the user's, the default
/// runtime's one configuration stays free).
#[inline]
pub(crate) fn before_timer() {
    #[cfg(feature = "tokio")]
    if !tokio_bridge::configured()
        && actor12_scheduler::current_worker().is_none()
        && actor12_scheduler::Handle::try_current().is_none()
    {
        tokio_bridge::configure();
    }
}

/// The `tokio` feature: a small tokio runtime on side threads whose context every worker
/// thread enters when it first runs an actor (unless it is in a tokio context already), and
/// every worker of actor12's default runtime when actor12's API starts that runtime, so that
/// `tokio::time::sleep`, tokio sockets and tokio-based clients work inside actors. (tokio does
/// no scheduling of actors: it only drives its timers and I/O for the futures that use them.)
#[cfg(feature = "tokio")]
pub mod tokio_bridge {
    use std::sync::OnceLock;

    static SIDE: OnceLock<tokio::runtime::Runtime> = OnceLock::new();

    /// The side tokio runtime (two threads, started on first use).
    pub fn runtime() -> &'static tokio::runtime::Runtime {
        SIDE.get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_name("actor12-tokio-bridge")
                .on_thread_start(crate::oneshot::never_spin_here)
                .enable_all()
                .build()
                .expect("failed to start the tokio bridge runtime")
        })
    }

    /// Enters the side runtime's context on the calling thread for the rest of its life.
    pub fn enter_for_thread() {
        std::mem::forget(runtime().enter());
    }

    /// Enters the side runtime on the calling thread, once, if the thread is in no tokio
    /// context: an actor runs here, and the thread's runtime started without the bridge (the
    /// default runtime started by a plain `rt::spawn` before any actor, or a runtime built
    /// without `on_thread_start`). A thread already in a tokio context keeps it.
    pub(crate) fn enter_once() {
        if !LOOKED.get() {
            LOOKED.set(true);
            if tokio::runtime::Handle::try_current().is_err() {
                enter_for_thread();
            }
            THREADS.set(tokio::runtime::Handle::try_current().ok());
        }
    }

    thread_local! {
        /// True once [`enter_once`] has looked at this thread's tokio context.
        static LOOKED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
        /// The tokio context [`enter_once`] found or entered: the one the actors' runs on this
        /// thread get.
        static THREADS: std::cell::RefCell<Option<tokio::runtime::Handle>> =
            const { std::cell::RefCell::new(None) };
    }

    /// The tokio context for an actor's first run made inside its spawn
    /// (`TaskHandle::try_start`): the one the actors' runs on this thread get, to enter over any
    /// scoped context of the spawner's (a `Handle::enter` guard), which the actor must not take
    /// for its own, nor `enter_once` for the thread's. `None` on a thread where no actor has run
    /// yet: its look must be made outside the spawner's code, so the caller queues the run.
    pub(crate) fn threads_context() -> Option<Option<tokio::runtime::Handle>> {
        LOOKED.get().then(|| THREADS.with_borrow(Clone::clone))
    }

    /// The tokio context for the body of an actor's `init`, which its spawner runs (the caller
    /// enters the handle returned for the call): the one the actor's own runs get. On a worker
    /// thread that is the thread's: the one an actor's run found or entered there, over any
    /// scoped context of the spawner's (a `Handle::enter` guard), as the first run inside the
    /// spawn gets it (`threads_context`). Kept, it made a tokio interval in `init` belong to a
    /// runtime of the spawner's that nobody drove, and the actor's asks hang (a review of
    /// 2026-12-07). Elsewhere (a plain thread, `block_on`, a tokio task) it is the side
    /// runtime's, even over a tokio context of the caller's: what `init` makes there (a
    /// `tokio::time::interval`, a `tokio::spawn`ed task) must not hang on a runtime that the
    /// actor outlives, or one whose thread blocks, as a `#[tokio::test]`'s is dropped.
    ///
    /// `None` on a worker where no actor has run yet: the thread enters the side runtime then,
    /// unless a tokio context is there, which is kept and the thread not marked as looked at.
    /// That context may be a scoped one of the spawner's, gone before the actor runs, which
    /// must not stop the worker from entering the side runtime then (it did: every actor on
    /// that worker ran outside any tokio context); but `init`'s body runs in it.
    pub(crate) fn context_for_init() -> Option<tokio::runtime::Handle> {
        if actor12_scheduler::current_worker().is_some() {
            if let Some(threads) = threads_context() {
                return threads;
            }
            if tokio::runtime::Handle::try_current().is_err() {
                enter_once();
            }
            None
        } else {
            Some(runtime().handle().clone())
        }
    }

    /// The side runtime's context while an actor is torn down off its runtime's workers (a
    /// runtime's shutdown drops its idle actors on the thread that drops it), if the side
    /// runtime runs: the actor's destructors get the context its runs had, as `init`'s body
    /// does off the workers. (They had none, or the dropping thread's.)
    #[must_use = "the side runtime's context lasts as long as the guard"]
    pub(crate) fn enter_off_workers() -> Option<tokio::runtime::EnterGuard<'static>> {
        if actor12_scheduler::current_worker().is_some() {
            return None;
        }
        SIDE.get().map(|side| side.enter())
    }

    static CONFIGURED: std::sync::Once = std::sync::Once::new();

    /// True once [`configure`] has run.
    pub(crate) fn configured() -> bool {
        CONFIGURED.is_completed()
    }

    /// Makes the default actor12 runtime's workers enter the side runtime (before its first use).
    pub(crate) fn configure() {
        CONFIGURED.call_once(|| {
            let _ = actor12_scheduler::configure_default(|b| {
                b.on_thread_start(enter_for_thread);
            });
        });
    }

    /// For a runtime you build yourself:
    /// `builder.on_thread_start(actor12::tokio_bridge::on_thread_start)` enters the side runtime
    /// on each of its workers and blocking threads as it starts.
    pub use enter_for_thread as on_thread_start;
}
