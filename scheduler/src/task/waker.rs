//! `std::task::Waker` for future tasks: a pointer to the header, one counted reference per waker.

use std::ptr::NonNull;
use std::task::{RawWaker, RawWakerVTable, Waker};

use super::Header;

static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake_by_ref, drop_waker);

/// A waker that borrows the caller's reference: it must not be dropped (wrap it in
/// `ManuallyDrop`); clones take their own reference.
pub(crate) fn waker_ref(ptr: NonNull<Header>) -> Waker {
    // SAFETY: the vtable's functions uphold the `RawWaker` contract for a header pointer.
    unsafe { Waker::from_raw(RawWaker::new(ptr.as_ptr() as *const (), &VTABLE)) }
}

/// True if `waker` is a future task's waker for the task at `ptr`.
pub(crate) fn is_task_waker(waker: &Waker, ptr: *const Header) -> bool {
    waker.data() == ptr as *const () && std::ptr::eq(waker.vtable(), &VTABLE)
}

unsafe fn clone(ptr: *const ()) -> RawWaker {
    // SAFETY: a waker holds (or borrows) a reference, so the header is live.
    let header = unsafe { &*(ptr as *const Header) };
    header.state.ref_inc();
    RawWaker::new(ptr, &VTABLE)
}

unsafe fn wake(ptr: *const ()) {
    // SAFETY: as in `clone`; this waker's reference is consumed here.
    let header = unsafe { &*(ptr as *const Header) };
    super::core::wake_by_val(header);
}

unsafe fn wake_by_ref(ptr: *const ()) {
    // SAFETY: as in `clone`.
    let header = unsafe { &*(ptr as *const Header) };
    super::core::wake_by_ref(header);
}

unsafe fn drop_waker(ptr: *const ()) {
    // SAFETY: the waker owned one reference, given up here.
    unsafe { super::drop_ref(NonNull::new_unchecked(ptr as *mut Header)) }
}
