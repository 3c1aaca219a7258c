//! `DropHandle`: a task handle that aborts its task when dropped.

use std::future::Future;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::task::{Context, Poll};

use actor12_scheduler::{JoinError, JoinHandle};

/// Owns a spawned task: dropping the handle aborts the task. Await it for the task's output.
///
/// # Examples
///
/// ```
/// use actor12::DropHandle;
///
/// actor12::rt::Runtime::new().unwrap().block_on(async {
///     let forever = DropHandle(actor12::rt::spawn(std::future::pending::<()>()));
///     let done = DropHandle(actor12::rt::spawn(async { 5 }));
///     assert_eq!(done.await.unwrap(), 5);
///     drop(forever); // aborts the task
/// });
/// ```
#[derive(Debug)]
pub struct DropHandle<T>(pub JoinHandle<T>);

impl<T> DropHandle<T> {
    /// Aborts the task now, keeping the handle: awaiting it then says the task was cancelled,
    /// unless the task had finished (or its current poll returns `Ready`): then it gives the
    /// task's output, as [`JoinHandle::abort`] says.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor12::DropHandle;
    ///
    /// actor12::rt::Runtime::new().unwrap().block_on(async {
    ///     let task = DropHandle(actor12::rt::spawn(std::future::pending::<()>()));
    ///     task.abort();
    ///     assert!(task.await.unwrap_err().is_cancelled());
    /// });
    /// ```
    pub fn abort(&self) {
        self.0.abort();
    }
}

impl<T> Deref for DropHandle<T> {
    type Target = JoinHandle<T>;

    fn deref(&self) -> &JoinHandle<T> {
        &self.0
    }
}

impl<T> DerefMut for DropHandle<T> {
    fn deref_mut(&mut self) -> &mut JoinHandle<T> {
        &mut self.0
    }
}

impl<T> Future for DropHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0).poll(cx)
    }
}

impl<T> Drop for DropHandle<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}
