//! `JoinHandle` and `JoinError`: the spawner's side of a task.

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll};

use super::Header;
use super::core::Panic;

/// An owned permission to await a spawned task's output.
///
/// Awaiting it gives `Ok(output)`, or a [`JoinError`] if the task panicked or was cancelled.
/// Dropping it detaches the task, which keeps running.
///
/// # Examples
///
/// ```
/// let rt = actor12_scheduler::Runtime::builder().worker_threads(1).build().unwrap();
/// let handle = rt.spawn(async { 6 * 7 });
/// assert_eq!(rt.block_on(handle).unwrap(), 42);
/// ```
pub struct JoinHandle<T> {
    raw: NonNull<Header>,
    _output: PhantomData<T>,
}

// SAFETY: the handle only moves the output (`T: Send`) between threads.
unsafe impl<T: Send> Send for JoinHandle<T> {}
// SAFETY: `&JoinHandle` only allows `abort`/`is_finished`, which are atomic.
unsafe impl<T: Send> Sync for JoinHandle<T> {}

impl<T> Unpin for JoinHandle<T> {}

impl<T> JoinHandle<T> {
    /// # Safety
    ///
    /// `raw` is a future task with output `T`, and the caller gives the handle the join
    /// handle's reference.
    pub(crate) unsafe fn new(raw: NonNull<Header>) -> JoinHandle<T> {
        JoinHandle { raw, _output: PhantomData }
    }

    fn header(&self) -> &Header {
        // SAFETY: the handle holds a reference.
        unsafe { self.raw.as_ref() }
    }

    /// Cancels the task: its future is dropped, and awaiting the handle gives a cancelled
    /// [`JoinError`], or a panic one if the future's destructor panicked. The future is dropped
    /// now, on this thread but inside the task's runtime, if the task waits for a wake-up or is
    /// queued to run, except when a wake or a yield on one of the runtime's workers queued it
    /// (that entry keeps the task: then when a worker takes it); after its current poll if it
    /// is running. No effect on a finished task, nor on one whose current poll returns `Ready`:
    /// awaiting the handle then gives its output (the abort came too late to stop it).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = actor12_scheduler::Runtime::builder().worker_threads(1).build().unwrap();
    /// let handle = rt.spawn(std::future::pending::<()>());
    /// handle.abort();
    /// assert!(rt.block_on(handle).unwrap_err().is_cancelled());
    /// ```
    pub fn abort(&self) {
        // SAFETY: the handle holds a reference; `shutdown` borrows it.
        unsafe { (self.header().vtable.shutdown)(self.raw) }
    }

    /// True once the task has finished (completed, panicked or been cancelled).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = actor12_scheduler::Runtime::builder().worker_threads(1).build().unwrap();
    /// let handle = rt.spawn(async {});
    /// while !handle.is_finished() {
    ///     std::thread::yield_now();
    /// }
    /// ```
    pub fn is_finished(&self) -> bool {
        self.header().state.load().is_complete()
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if !crate::coop::proceed(cx) {
            return Poll::Pending;
        }
        let mut out: Poll<Result<T, JoinError>> = Poll::Pending;
        // SAFETY: `out` has the type this task's vtable writes; the handle holds a reference.
        unsafe {
            (self.header().vtable.try_read_output)(
                self.raw,
                &mut out as *mut _ as *mut (),
                cx.waker(),
            )
        };
        out
    }
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        // SAFETY: the handle's reference is given up here.
        unsafe { (self.header().vtable.drop_join_handle)(self.raw) }
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle").field("state", &self.header().state).finish()
    }
}

enum Repr {
    Cancelled,
    /// Boxed, so that a `JoinError` is one word: it sits in every task's output slot.
    Panic(Box<Panicked>),
}

/// A task's panic: the payload, and its text if it is a string.
struct Panicked {
    payload: SyncPanic,
    message: Option<Cow<'static, str>>,
}

/// A panic payload that makes `JoinError` `Sync`: the payload (`dyn Any + Send`, not `Sync`) is
/// only ever reached by value ([`JoinError::into_panic`]), never through a shared reference.
struct SyncPanic(Panic);

// SAFETY: no method gives out `&Panic` from `&SyncPanic` (or from `&JoinError`): the payload
// is only moved out by value, so sharing `&SyncPanic` between threads shares nothing.
unsafe impl Sync for SyncPanic {}

/// Why a task gave no output: it panicked, or it was cancelled (by `abort` or shutdown).
///
/// # Examples
///
/// ```
/// let rt = actor12_scheduler::Runtime::builder().worker_threads(1).build().unwrap();
///
/// let err = rt.block_on(rt.spawn(async { panic!("boom") })).unwrap_err();
/// assert!(err.is_panic());
/// assert_eq!(err.into_panic().downcast_ref::<&str>(), Some(&"boom"));
///
/// let task = rt.spawn(std::future::pending::<()>());
/// task.abort();
/// assert!(rt.block_on(task).unwrap_err().is_cancelled());
/// ```
pub struct JoinError {
    repr: Repr,
}

impl JoinError {
    pub(crate) fn cancelled() -> JoinError {
        JoinError { repr: Repr::Cancelled }
    }

    pub(crate) fn panic(payload: Panic) -> JoinError {
        // Read now, while the payload is ours: `Display` and `Debug` show it, and the payload
        // itself is never reached through a shared reference (`SyncPanic`).
        let message = if let Some(s) = payload.downcast_ref::<&'static str>() {
            Some(Cow::Borrowed(*s))
        } else {
            payload.downcast_ref::<String>().map(|s| Cow::Owned(s.clone()))
        };
        JoinError { repr: Repr::Panic(Box::new(Panicked { payload: SyncPanic(payload), message })) }
    }

    /// True if the task was cancelled.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = actor12_scheduler::Runtime::builder().worker_threads(1).build().unwrap();
    /// let handle = rt.spawn(std::future::pending::<()>());
    /// handle.abort();
    /// assert!(rt.block_on(handle).unwrap_err().is_cancelled());
    /// ```
    pub fn is_cancelled(&self) -> bool {
        matches!(self.repr, Repr::Cancelled)
    }

    /// True if the task panicked.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = actor12_scheduler::Runtime::builder().worker_threads(1).build().unwrap();
    /// let err = rt.block_on(rt.spawn(async { panic!("boom") })).unwrap_err();
    /// assert!(err.is_panic());
    /// ```
    pub fn is_panic(&self) -> bool {
        matches!(self.repr, Repr::Panic(..))
    }

    /// The panic payload, to resume it with `std::panic::resume_unwind`.
    ///
    /// # Panics
    ///
    /// If the task was cancelled, not panicked.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = actor12_scheduler::Runtime::builder().worker_threads(1).build().unwrap();
    /// let err = rt.block_on(rt.spawn(async { std::panic::panic_any(7u32) })).unwrap_err();
    /// assert_eq!(*err.into_panic().downcast::<u32>().unwrap(), 7);
    /// ```
    pub fn into_panic(self) -> Box<dyn std::any::Any + Send + 'static> {
        match self.repr {
            Repr::Panic(p) => p.payload.0,
            Repr::Cancelled => panic!("`JoinError::into_panic` called on a cancelled task"),
        }
    }
}

/// `JoinError::Panic("the message")` for a panic whose payload is a string (`panic!` with a
/// message), else `JoinError::Panic(..)`, as `unwrap()` on a join shows it.
impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Cancelled => f.write_str("JoinError::Cancelled"),
            Repr::Panic(p) => match &p.message {
                Some(message) => write!(f, "JoinError::Panic({message:?})"),
                None => f.write_str("JoinError::Panic(..)"),
            },
        }
    }
}

/// `task panicked with message "..."` when the payload is a string, else `task panicked`;
/// `task was cancelled`.
///
/// # Examples
///
/// ```
/// let rt = actor12_scheduler::Runtime::builder().worker_threads(1).build().unwrap();
/// let err = rt.block_on(rt.spawn(async { panic!("boom {}", 7) })).unwrap_err();
/// assert_eq!(err.to_string(), "task panicked with message \"boom 7\"");
/// ```
impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Cancelled => f.write_str("task was cancelled"),
            Repr::Panic(p) => match &p.message {
                Some(message) => write!(f, "task panicked with message {message:?}"),
                None => f.write_str("task panicked"),
            },
        }
    }
}

impl std::error::Error for JoinError {}

#[cfg(all(test, not(actor12_loom)))]
mod tests {
    /// A `JoinError` sits in every task's output slot (`Result<T, JoinError>`): one word, the
    /// panic boxed.
    #[test]
    fn a_join_error_is_one_word() {
        assert_eq!(std::mem::size_of::<super::JoinError>(), std::mem::size_of::<usize>());
    }
}
