//! `std::task::Waker` for future tasks: a pointer to the header, one counted reference per waker.
//!
//! The waker's vtable is made per task type, so that a wake reaches the task's scheduler
//! directly: that is how a wake on a worker can queue the task there holding RUNNING
//! (`task/mod.rs` rule 7).

use std::future::Future;
use std::ptr::NonNull;
use std::task::{RawWaker, RawWakerVTable, Waker};

use super::{Header, Schedule};

/// The waker vtable of future tasks of type `F` scheduled by `S`.
pub(crate) fn vtable<F, S>() -> &'static RawWakerVTable
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    S: Schedule,
{
    &RawWakerVTable::new(clone::<F, S>, wake::<F, S>, wake_by_ref::<F, S>, drop_waker)
}

/// A waker that borrows the caller's reference: it must not be dropped (wrap it in
/// `ManuallyDrop`); clones take their own reference.
pub(crate) fn waker_ref(ptr: NonNull<Header>, vtable: &'static RawWakerVTable) -> Waker {
    // SAFETY: the vtable's functions uphold the `RawWaker` contract for a header pointer.
    unsafe { Waker::from_raw(RawWaker::new(ptr.as_ptr() as *const (), vtable)) }
}

unsafe fn clone<F, S>(ptr: *const ()) -> RawWaker
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    S: Schedule,
{
    // SAFETY: a waker holds (or borrows) a reference, so the header is live.
    let header = unsafe { &*(ptr as *const Header) };
    header.state.ref_inc();
    RawWaker::new(ptr, vtable::<F, S>())
}

unsafe fn wake<F, S>(ptr: *const ())
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    S: Schedule,
{
    // SAFETY: as in `clone`; this waker's reference is consumed here. The vtable is only used
    // for tasks made by `new_task::<F, S>`.
    unsafe { super::core::wake::<F, S>(NonNull::new_unchecked(ptr as *mut Header), true) }
}

unsafe fn wake_by_ref<F, S>(ptr: *const ())
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    S: Schedule,
{
    // SAFETY: as in `wake`, borrowing the waker's reference.
    unsafe { super::core::wake::<F, S>(NonNull::new_unchecked(ptr as *mut Header), false) }
}

unsafe fn drop_waker(ptr: *const ()) {
    // SAFETY: the waker owned one reference, given up here.
    unsafe { super::drop_ref(NonNull::new_unchecked(ptr as *mut Header)) }
}
