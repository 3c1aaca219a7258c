//! The system lane: a small lock-free stack for control signals, drained in arrival order.
//!
//! Signals (stop, kill, supervision events) are rare and must never wait behind user messages,
//! nor fail because the user lane is full or closed. Producers push with one CAS onto a Treiber
//! stack; the consumer takes the whole stack with one swap and reverses it into a private FIFO
//! list, so signals come out in the order their pushes took effect. The consumer takes whole
//! stacks only, never single nodes, so there is no ABA. One allocation per signal is accepted:
//! signals are not the hot path.
//!
//! Closing the lane swaps in a sentinel; a push that finds it gives the signal back.

use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::ptr;

use crate::loom::{AtomicPtr, Ordering::*, UnsafeCell};

/// One signal. Both fields are cells, so that a loom model sees every access to them: a node
/// read by the consumer without the push's release before it is a data race there.
struct Node<S> {
    value: UnsafeCell<S>,
    next: UnsafeCell<*mut Node<S>>,
}

impl<S> Node<S> {
    /// The next node of a taken list.
    ///
    /// # Safety
    ///
    /// `node` is a live node the caller owns (unpublished, or taken from the lane).
    unsafe fn next(node: *mut Self) -> *mut Self {
        // SAFETY: the caller owns the node; no other thread accesses it.
        unsafe { (*node).next.with(|next| *next) }
    }

    /// Sets the next node. Safety as for [`next`](Self::next).
    unsafe fn set_next(node: *mut Self, next: *mut Self) {
        // SAFETY: as in `next`.
        unsafe { (*node).next.with_mut(|p| *p = next) }
    }

    /// Frees the node, giving its signal back. Safety as for [`next`](Self::next).
    unsafe fn into_value(node: *mut Self) -> S {
        // SAFETY: as in `next`; the node came from `Box::into_raw` and is freed once, here.
        let node = unsafe { Box::from_raw(node) };
        // An access for loom's sake (free on std): the signal is read here.
        node.value.with(|_| ());
        node.value.into_inner()
    }
}

/// The producers' side of the lane.
pub(crate) struct SystemLane<S> {
    head: AtomicPtr<Node<S>>,
}

/// The consumer's private list of taken signals, oldest first.
pub(crate) struct SystemRx<S> {
    pending: *mut Node<S>,
}

fn closed<S>() -> *mut Node<S> {
    // A non-null address no allocation can have: nodes hold a pointer, so they are at least
    // pointer-aligned and never live at address 1.
    ptr::without_provenance_mut(1)
}

impl<S> SystemLane<S> {
    pub(crate) fn new() -> Self {
        SystemLane { head: AtomicPtr::new(ptr::null_mut()) }
    }

    /// Pushes a signal; gives it back if the lane is closed.
    pub(crate) fn push(&self, value: S) -> Result<(), S> {
        let node = Node { value: UnsafeCell::new(value), next: UnsafeCell::new(ptr::null_mut()) };
        let node = Box::into_raw(Box::new(node));
        // Relaxed: the CAS below decides.
        let mut head = self.head.load(Relaxed);
        loop {
            if head == closed() {
                // SAFETY: `node` was never published.
                return Err(unsafe { Node::into_value(node) });
            }
            // SAFETY: `node` is unpublished, ours alone.
            unsafe { Node::set_next(node, head) };
            // Release on success: pairs with the acquire swap in `take`, publishing the node.
            match self.head.compare_exchange_weak(head, node, Release, Relaxed) {
                Ok(_) => return Ok(()),
                Err(actual) => head = actual,
            }
        }
    }

    /// True if the lane holds signals the consumer has not taken.
    pub(crate) fn has_pushed(&self) -> bool {
        // Acquire: pairs with the release in `push`, so a later `take` finds the node.
        let head = self.head.load(Acquire);
        !head.is_null() && head != closed()
    }

    /// Closes the lane and drops every signal in it, taken or not (consumer only). A signal
    /// whose destructor panics does not keep the others: all are dropped, and the first panic
    /// goes on once they are.
    pub(crate) fn close(&self, rx: &mut SystemRx<S>) {
        // Acquire: pairs with `push`, so the nodes we free are fully written.
        let head = self.head.swap(closed(), Acquire);
        let taken = std::mem::replace(&mut rx.pending, ptr::null_mut());
        let taken = catch_unwind(AssertUnwindSafe(|| drop_list(taken)));
        let rest = if head == closed() {
            Ok(())
        } else {
            catch_unwind(AssertUnwindSafe(|| drop_list(head)))
        };
        if let Err(payload) = taken.and(rest) {
            resume_unwind(payload);
        }
    }
}

impl<S> SystemRx<S> {
    pub(crate) fn new() -> Self {
        SystemRx { pending: ptr::null_mut() }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.pending.is_null()
    }

    /// The oldest signal, taking a new batch from the lane when the private list is empty.
    pub(crate) fn pop(&mut self, lane: &SystemLane<S>) -> Option<S> {
        if self.pending.is_null() {
            if !lane.has_pushed() {
                return None;
            }
            // Acquire: pairs with the release in `push`. The check above ruled out `closed`, and
            // only the consumer (us) closes the lane.
            let mut stack = lane.head.swap(ptr::null_mut(), Acquire);
            // Reverse the newest-first stack into an oldest-first list.
            let mut list = ptr::null_mut();
            while !stack.is_null() {
                // SAFETY: taken nodes belong to the consumer alone.
                let next = unsafe { Node::next(stack) };
                // SAFETY: as above.
                unsafe { Node::set_next(stack, list) };
                list = stack;
                stack = next;
            }
            self.pending = list;
        }
        let node = self.pending;
        // SAFETY: `pending` is non-null here and owned by the consumer.
        self.pending = unsafe { Node::next(node) };
        // SAFETY: as above; `node` is off the list now.
        Some(unsafe { Node::into_value(node) })
    }
}

/// Drops every signal of a taken list. One whose destructor panics does not leak the others:
/// they are still dropped, and the first panic goes on once all are.
fn drop_list<S>(mut node: *mut Node<S>) {
    let mut panic = None;
    while !node.is_null() {
        let this = node;
        // SAFETY: every node of a taken list is owned by the caller and freed once.
        node = unsafe { Node::next(this) };
        // SAFETY: as above; `this` is off the list now.
        let value = unsafe { Node::into_value(this) };
        if let Err(payload) = catch_unwind(AssertUnwindSafe(|| drop(value))) {
            panic.get_or_insert(payload);
        }
    }
    if let Some(payload) = panic {
        resume_unwind(payload);
    }
}

impl<S> Drop for SystemLane<S> {
    fn drop(&mut self) {
        // Relaxed: `&mut self`, no other thread.
        let head = self.head.load(Relaxed);
        if head != closed() {
            drop_list(head);
        }
    }
}

impl<S> Drop for SystemRx<S> {
    fn drop(&mut self) {
        drop_list(std::mem::replace(&mut self.pending, ptr::null_mut()));
    }
}
