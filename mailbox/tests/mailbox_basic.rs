//! Single-threaded behaviour of the mailbox: order, scheduling, the system lane, close, bounds,
//! waiters and drops.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::task::Poll;

use actor12_mailbox::{BACKLOG, BLOCK_CAPACITY, Mailbox, Pop, Push, SendError, TrySendError};
use support::{Bomb, CountingWaker, Tracked, poll_once};

/// Pops everything currently available as user messages (the caller is the only consumer).
fn drain<T: std::fmt::Debug, S: std::fmt::Debug>(mailbox: &Mailbox<T, S>) -> Vec<T> {
    let mut out = Vec::new();
    loop {
        // SAFETY: the tests are single-consumer.
        match unsafe { mailbox.pop() } {
            Pop::User(m) => out.push(m),
            Pop::System(s) => panic!("unexpected signal {s:?}"),
            _ => return out,
        }
    }
}

#[test]
fn fifo_across_many_blocks() {
    let mailbox: Mailbox<usize> = Mailbox::unbounded();
    let n = BLOCK_CAPACITY * 10 + 7;
    for i in 0..n {
        let _ = mailbox.try_push(i).unwrap();
    }
    assert_eq!(mailbox.len(), n);
    assert_eq!(drain(&mailbox), (0..n).collect::<Vec<_>>());
    assert!(mailbox.is_empty());
}

#[test]
fn interleaved_push_pop_keeps_order_while_recycling() {
    let mailbox: Mailbox<usize> = Mailbox::unbounded();
    let mut next_in = 0;
    let mut next_out = 0;
    // Under Miri each batch size from 0 to 69 once (131 s at 200 rounds).
    let rounds = if cfg!(miri) { 70 } else { 200 };
    for round in 0..rounds {
        for _ in 0..(round % 70) {
            let _ = mailbox.try_push(next_in).unwrap();
            next_in += 1;
        }
        for m in drain(&mailbox) {
            assert_eq!(m, next_out);
            next_out += 1;
        }
    }
    assert_eq!(next_in, next_out);
}

/// Pushes `from..to` without popping; returns those that said `Push::Backlogged`.
fn push_range(mailbox: &Mailbox<usize>, from: usize, to: usize) -> Vec<usize> {
    let mut backlogged = Vec::new();
    for i in from..to {
        match mailbox.try_push(i).unwrap() {
            Push::Schedule => assert_eq!(i, 0, "only the first push schedules"),
            Push::Queued => {}
            Push::Backlogged => backlogged.push(i),
        }
    }
    backlogged
}

/// Message `i` links a block if it takes a block's last slot; the backlog it sees is what the
/// consumer has not taken.
fn linking_at_backlog(from: usize, to: usize, taken: usize) -> Vec<usize> {
    (from..to)
        .filter(|i| i % BLOCK_CAPACITY == BLOCK_CAPACITY - 1 && i - taken >= BACKLOG)
        .collect()
}

#[test]
fn a_push_that_links_a_block_far_ahead_of_the_consumer_says_backlogged() {
    let mailbox: Mailbox<usize> = Mailbox::unbounded();
    let first = BACKLOG + 3 * BLOCK_CAPACITY;
    let backlogged = push_range(&mailbox, 0, first);
    assert_eq!(backlogged, linking_at_backlog(0, first, 0));
    assert!(backlogged.len() >= 2);
    // The consumer catches up to 100 behind: no push says it until it is `BACKLOG` behind again.
    let taken = first - 100;
    for i in 0..taken {
        // SAFETY: the tests are single-consumer.
        assert_eq!(unsafe { mailbox.pop() }, Pop::User(i));
    }
    let to = taken + BACKLOG + 2 * BLOCK_CAPACITY;
    let backlogged = push_range(&mailbox, first, to);
    assert_eq!(backlogged, linking_at_backlog(first, to, taken));
    assert!(backlogged[0] >= taken + BACKLOG);
    assert_eq!(drain(&mailbox), (taken..to).collect::<Vec<_>>());
}

#[test]
fn exactly_one_push_per_idle_period_schedules() {
    let mailbox: Mailbox<u8> = Mailbox::unbounded();
    assert_eq!(mailbox.try_push(1), Ok(Push::Schedule), "a new mailbox is idle");
    assert_eq!(mailbox.try_push(2), Ok(Push::Queued));
    assert_eq!(drain(&mailbox), [1, 2]);
    // Not idle until the consumer says so: pushes while it runs schedule nothing.
    assert_eq!(mailbox.try_push(3), Ok(Push::Queued));
    // SAFETY: single consumer.
    unsafe {
        assert!(!Mailbox::try_idle(&mailbox), "a message arrived since the last pop");
        assert_eq!(drain(&mailbox), [3]);
        assert!(Mailbox::try_idle(&mailbox));
        assert!(Mailbox::try_idle(&mailbox), "idling twice is harmless");
    }
    assert_eq!(mailbox.try_push(4), Ok(Push::Schedule));
    assert_eq!(mailbox.try_push(5), Ok(Push::Queued));
}

#[test]
fn bounded_claims_schedule_in_the_same_step() {
    let mailbox: Mailbox<u8> = Mailbox::bounded(4);
    assert_eq!(mailbox.try_push(1), Ok(Push::Schedule));
    assert_eq!(mailbox.try_push(2), Ok(Push::Queued));
    assert_eq!(drain(&mailbox), [1, 2]);
    // SAFETY: single consumer.
    assert!(unsafe { Mailbox::try_idle(&mailbox) });
    assert_eq!(mailbox.try_push(3), Ok(Push::Schedule));
}

#[test]
fn system_lane_goes_first_in_arrival_order() {
    let mailbox: Mailbox<u32, &str> = Mailbox::unbounded();
    let _ = mailbox.try_push(1).unwrap();
    let _ = mailbox.push_system("a").unwrap();
    let _ = mailbox.try_push(2).unwrap();
    let _ = mailbox.push_system("b").unwrap();
    // SAFETY: single consumer.
    unsafe {
        assert_eq!(mailbox.pop(), Pop::System("a"));
        let _ = mailbox.push_system("c").unwrap();
        assert_eq!(mailbox.pop(), Pop::System("b"));
        assert_eq!(mailbox.pop(), Pop::System("c"));
        assert_eq!(mailbox.pop(), Pop::User(1));
        assert_eq!(mailbox.pop(), Pop::User(2));
        assert_eq!(mailbox.pop(), Pop::Empty);
    }
}

#[test]
fn a_signal_schedules_an_idle_consumer_and_blocks_idling() {
    let mailbox: Mailbox<u32, u32> = Mailbox::unbounded();
    // SAFETY: single consumer throughout.
    unsafe {
        assert!(Mailbox::try_idle(&mailbox));
        assert_eq!(mailbox.push_system(7), Ok(Push::Schedule));
        assert_eq!(mailbox.push_system(8), Ok(Push::Queued));
        assert_eq!(mailbox.pop(), Pop::System(7));
        assert!(!Mailbox::try_idle(&mailbox), "signal 8 is still pending");
        assert_eq!(mailbox.pop(), Pop::System(8));
        assert!(Mailbox::try_idle(&mailbox));
        assert_eq!(mailbox.push_system(9), Ok(Push::Schedule));
        // A signal pushed after the pop made the lane look empty still blocks idling.
        assert_eq!(mailbox.pop(), Pop::System(9));
        assert_eq!(mailbox.pop(), Pop::Empty);
        let _ = mailbox.push_system(10).unwrap();
        assert!(!Mailbox::try_idle(&mailbox));
        assert_eq!(mailbox.pop(), Pop::System(10));
        assert!(Mailbox::try_idle(&mailbox));
    }
}

#[test]
fn signals_pass_a_full_or_closed_user_lane_until_the_lane_closes() {
    let mailbox: Mailbox<u32, &str> = Mailbox::bounded(1);
    let _ = mailbox.try_push(1).unwrap();
    assert_eq!(mailbox.try_push(2), Err(TrySendError::Full(2)));
    assert!(mailbox.push_system("while full").is_ok());
    let _ = mailbox.close();
    assert!(mailbox.push_system("while closed").is_ok());
    // SAFETY: single consumer.
    unsafe {
        assert_eq!(mailbox.pop(), Pop::System("while full"));
        assert_eq!(mailbox.pop(), Pop::System("while closed"));
        assert_eq!(mailbox.pop(), Pop::User(1));
        assert_eq!(mailbox.pop(), Pop::Closed);
        mailbox.close_system();
    }
    assert_eq!(mailbox.push_system("after"), Err(SendError("after")));
}

#[test]
fn close_hands_messages_back_and_keeps_what_was_accepted() {
    let mailbox: Mailbox<u32> = Mailbox::unbounded();
    for i in 0..40 {
        let _ = mailbox.try_push(i).unwrap();
    }
    assert_eq!(mailbox.close(), Push::Queued, "the consumer is not idle");
    assert_eq!(mailbox.close(), Push::Queued, "closing twice is harmless");
    assert!(mailbox.is_closed());
    assert_eq!(mailbox.try_push(99), Err(TrySendError::Closed(99)));
    assert_eq!(mailbox.len(), 40);
    assert_eq!(drain(&mailbox), (0..40).collect::<Vec<_>>());
    // SAFETY: single consumer.
    unsafe {
        assert_eq!(mailbox.pop(), Pop::Closed);
        assert!(!Mailbox::try_idle(&mailbox), "a closed mailbox never idles");
    }
}

// After `release_blocks` the consumer may still ask whether anything is there: it read the
// released blocks' marker as a block (SIGSEGV natively, a dangling reference under Miri).
#[test]
fn a_drained_mailbox_whose_blocks_are_released_has_nothing_next() {
    let mailbox: Mailbox<u32> = Mailbox::unbounded();
    let _ = mailbox.try_push(1).unwrap();
    let _ = mailbox.close();
    // SAFETY: the only consumer; it pops no more after `Closed` and the release.
    unsafe {
        assert_eq!(mailbox.pop(), Pop::User(1));
        assert_eq!(mailbox.pop(), Pop::Closed);
        mailbox.release_blocks();
        assert!(!mailbox.has_next());
        assert!(!mailbox.is_written_ahead(0));
    }
}

#[test]
fn closing_an_idle_mailbox_schedules_its_consumer() {
    let mailbox: Mailbox<u32> = Mailbox::bounded(2);
    // SAFETY: single consumer.
    assert!(unsafe { Mailbox::try_idle(&mailbox) });
    assert_eq!(mailbox.close(), Push::Schedule);
    assert_eq!(mailbox.try_push(1), Err(TrySendError::Closed(1)));
    // SAFETY: single consumer.
    assert_eq!(unsafe { mailbox.pop() }, Pop::Closed);
}

#[test]
fn bounded_refuses_at_capacity_and_accepts_after_a_pop() {
    let mailbox: Mailbox<u32> = Mailbox::bounded(3);
    for i in 0..3 {
        let _ = mailbox.try_push(i).unwrap();
    }
    assert_eq!(mailbox.len(), 3);
    assert_eq!(mailbox.try_push(3), Err(TrySendError::Full(3)));
    // SAFETY: single consumer.
    assert_eq!(unsafe { mailbox.pop() }, Pop::User(0));
    let _ = mailbox.try_push(3).unwrap();
    assert_eq!(mailbox.try_push(4), Err(TrySendError::Full(4)));
    assert_eq!(drain(&mailbox), [1, 2, 3]);
}

#[test]
#[should_panic(expected = "capacity of at least 1")]
fn zero_capacity_is_refused() {
    let _ = Mailbox::<u8>::bounded(0);
}

#[test]
fn waiters_are_woken_one_per_pop_in_fifo_order() {
    let mailbox: Mailbox<u32> = Mailbox::bounded(1);
    let _ = mailbox.try_push(0).unwrap();
    let wakers: Vec<_> = (0..3).map(|_| CountingWaker::new()).collect();
    let mut pushes: Vec<_> = (1..=3).map(|i| mailbox.push(i)).collect();
    for (push, (_, waker)) in pushes.iter_mut().zip(&wakers) {
        assert!(poll_once(push, waker).is_pending());
    }
    for turn in 0..3 {
        // SAFETY: single consumer.
        assert_eq!(unsafe { mailbox.pop() }, Pop::User(turn as u32));
        let woken: Vec<usize> = wakers.iter().map(|(c, _)| c.count()).collect();
        let expected: Vec<usize> = (0..3).map(|i| usize::from(i <= turn)).collect();
        assert_eq!(woken, expected, "after pop {turn}");
        assert_eq!(poll_once(&mut pushes[turn], &wakers[turn].1), Poll::Ready(Ok(Push::Queued)));
    }
    assert_eq!(drain(&mailbox), [3]);
}

#[test]
fn a_woken_waiter_that_loses_the_slot_keeps_its_turn() {
    let mailbox: Mailbox<u32> = Mailbox::bounded(1);
    let _ = mailbox.try_push(0).unwrap();
    let (first_count, first) = CountingWaker::new();
    let (second_count, second) = CountingWaker::new();
    let mut a = mailbox.push(1);
    let mut b = mailbox.push(2);
    assert!(poll_once(&mut a, &first).is_pending());
    assert!(poll_once(&mut b, &second).is_pending());
    // SAFETY: single consumer.
    assert_eq!(unsafe { mailbox.pop() }, Pop::User(0));
    assert_eq!(first_count.count(), 1);
    // The consumer pushes past the bound (as an actor telling itself) before the woken
    // waiter runs, taking the room it was woken for.
    let _ = mailbox.push_past_bound(9).unwrap();
    assert!(poll_once(&mut a, &first).is_pending());
    // SAFETY: single consumer.
    assert_eq!(unsafe { mailbox.pop() }, Pop::User(9));
    assert_eq!((first_count.count(), second_count.count()), (2, 0), "a is still first in line");
    assert_eq!(poll_once(&mut a, &first), Poll::Ready(Ok(Push::Queued)));
}

/// Two waiters, both woken with room for one: the one woken second runs first (a worker's LIFO
/// slot) and leaves the room to the first. An actor's run ending on lazy pops wakes the next
/// waiter at its idle transition (the WAITING bit stood for the one woken already), and the
/// second took the room every round (a review of 2026-12-07: a sender overtaken by 137
/// messages of 4 others).
#[test]
fn a_waiter_woken_second_leaves_the_room_to_the_one_woken_first() {
    let mut mailbox: Mailbox<&str> = Mailbox::bounded(1);
    let _ = mailbox.notify_unshared(); // the run token is ours, as an actor's
    // SAFETY: the only consumer.
    unsafe { assert!(mailbox.take_notified()) };
    let _ = mailbox.try_push("a").unwrap();
    let (first_count, first_waker) = CountingWaker::new();
    let (_, second_waker) = CountingWaker::new();
    let mut first = mailbox.push("first");
    let mut second = mailbox.push("second");
    assert!(poll_once(&mut first, &first_waker).is_pending());
    assert!(poll_once(&mut second, &second_waker).is_pending());
    // An actor's run: lazy pops, then the idle transition.
    // SAFETY: the only consumer.
    unsafe {
        assert_eq!(mailbox.pop_lazy(), Pop::User("a"));
        assert_eq!(mailbox.pop_lazy(), Pop::Empty);
        assert!(Mailbox::try_idle(&mailbox));
    }
    assert_eq!(first_count.count(), 1);
    assert!(poll_once(&mut second, &second_waker).is_pending(), "the second took the room");
    assert!(poll_once(&mut first, &first_waker).is_ready());
    assert_eq!(drain(&mailbox), ["first"]);
    assert!(poll_once(&mut second, &second_waker).is_ready());
}

/// The same with the wake-ups of a handler's notification (its reply came) while the mailbox
/// is full, and of the pop after it.
#[test]
fn waiters_get_room_in_the_order_they_started_waiting_after_a_notification() {
    let mut mailbox: Mailbox<&str> = Mailbox::bounded(1);
    let _ = mailbox.notify_unshared();
    // SAFETY: the only consumer.
    unsafe { assert!(mailbox.take_notified()) };
    let _ = mailbox.try_push("a").unwrap();
    let (_, first_waker) = CountingWaker::new();
    let (_, second_waker) = CountingWaker::new();
    let mut first = mailbox.push("first");
    let mut second = mailbox.push("second");
    assert!(poll_once(&mut first, &first_waker).is_pending());
    assert!(poll_once(&mut second, &second_waker).is_pending());
    let _ = mailbox.notify();
    // SAFETY: the only consumer.
    unsafe {
        assert!(mailbox.take_notified());
        assert_eq!(mailbox.pop(), Pop::User("a"));
    }
    let _ = poll_once(&mut second, &second_waker);
    let _ = poll_once(&mut first, &first_waker);
    // SAFETY: the only consumer.
    assert_eq!(unsafe { mailbox.pop() }, Pop::User("first"));
}

#[test]
fn a_new_push_waits_behind_the_producers_already_waiting() {
    let mailbox: Mailbox<u32> = Mailbox::bounded(1);
    let _ = mailbox.try_push(0).unwrap();
    let (a_count, a_waker) = CountingWaker::new();
    let (c_count, c_waker) = CountingWaker::new();
    let mut a = mailbox.push(1);
    assert!(poll_once(&mut a, &a_waker).is_pending());
    // SAFETY: single consumer.
    assert_eq!(unsafe { mailbox.pop() }, Pop::User(0));
    assert_eq!(a_count.count(), 1);
    assert_eq!(mailbox.len(), 0, "there is room");
    // The room is a's: a new push, waiting or not, does not take it.
    assert_eq!(mailbox.try_push(2), Err(TrySendError::Full(2)));
    let mut c = mailbox.push(3);
    assert!(poll_once(&mut c, &c_waker).is_pending());
    assert_eq!(poll_once(&mut a, &a_waker), Poll::Ready(Ok(Push::Queued)));
    assert_eq!(mailbox.try_push(2), Err(TrySendError::Full(2)), "c is waiting");
    // SAFETY: single consumer.
    assert_eq!(unsafe { mailbox.pop() }, Pop::User(1));
    assert_eq!(c_count.count(), 1);
    assert_eq!(poll_once(&mut c, &c_waker), Poll::Ready(Ok(Push::Queued)));
    // Nobody waits any more: a push that finds room takes it again.
    assert_eq!(drain(&mailbox), [3]);
    assert_eq!(mailbox.try_push(4), Ok(Push::Queued));
}

#[test]
fn a_queued_waiter_polled_before_its_turn_does_not_take_the_room() {
    let mailbox: Mailbox<u32> = Mailbox::bounded(1);
    let _ = mailbox.try_push(0).unwrap();
    let (a_count, a_waker) = CountingWaker::new();
    let (b_count, b_waker) = CountingWaker::new();
    let mut a = mailbox.push(1);
    let mut b = mailbox.push(2);
    assert!(poll_once(&mut a, &a_waker).is_pending());
    assert!(poll_once(&mut b, &b_waker).is_pending());
    // SAFETY: single consumer.
    assert_eq!(unsafe { mailbox.pop() }, Pop::User(0));
    assert_eq!((a_count.count(), b_count.count()), (1, 0));
    // b, polled without a wake-up (a `select!` polling every branch), stays behind a.
    assert!(poll_once(&mut b, &b_waker).is_pending());
    assert_eq!(poll_once(&mut a, &a_waker), Poll::Ready(Ok(Push::Queued)));
    assert_eq!(drain(&mailbox), [1]);
    assert_eq!(b_count.count(), 1);
    assert_eq!(poll_once(&mut b, &b_waker), Poll::Ready(Ok(Push::Queued)));
}

#[test]
fn the_last_waiter_giving_up_opens_the_mailbox_to_new_pushes() {
    let mailbox: Mailbox<u32> = Mailbox::bounded(1);
    let _ = mailbox.try_push(0).unwrap();
    let (_, waker) = CountingWaker::new();
    // Queued, then dropped.
    let mut a = mailbox.push(1);
    assert!(poll_once(&mut a, &waker).is_pending());
    drop(a);
    // Woken, then dropped.
    let mut b = mailbox.push(2);
    assert!(poll_once(&mut b, &waker).is_pending());
    assert_eq!(drain(&mailbox), [0]);
    assert_eq!(mailbox.try_push(3), Err(TrySendError::Full(3)), "the room is b's");
    drop(b);
    assert_eq!(mailbox.try_push(3), Ok(Push::Queued));
    // Woken, then pushed past the bound instead.
    let mut c = mailbox.push(4);
    assert!(poll_once(&mut c, &waker).is_pending());
    assert_eq!(drain(&mailbox), [3]);
    assert_eq!(c.push_past_bound(), Ok(Push::Queued));
    assert_eq!(drain(&mailbox), [4]);
    assert_eq!(mailbox.try_push(5), Ok(Push::Queued));
}

#[test]
fn a_woken_waiter_that_is_forgotten_keeps_one_slot_not_the_mailbox() {
    let mailbox: Mailbox<u32> = Mailbox::bounded(2);
    let _ = mailbox.try_push(0).unwrap();
    let _ = mailbox.try_push(0).unwrap();
    let (_, waker) = CountingWaker::new();
    let mut lost = mailbox.push(1);
    assert!(poll_once(&mut lost, &waker).is_pending());
    assert_eq!(drain(&mailbox), [0, 0]);
    // Woken for a slot, then never polled nor dropped.
    std::mem::forget(lost);
    assert_eq!(mailbox.try_push(2), Err(TrySendError::Full(2)), "the gate stays shut");
    // A push that waits is the first in line: it takes the room beyond the forgotten one's.
    let mut next = mailbox.push(3);
    assert_eq!(poll_once(&mut next, &waker), Poll::Ready(Ok(Push::Queued)));
    let mut full = mailbox.push(4);
    assert!(poll_once(&mut full, &waker).is_pending(), "one slot is the forgotten push's");
    assert_eq!(drain(&mailbox), [3]);
    assert_eq!(poll_once(&mut full, &waker), Poll::Ready(Ok(Push::Queued)));
    assert_eq!(drain(&mailbox), [4]);
}

/// A waker whose `clone` panics, as a buggy executor's might.
fn waker_that_panics_when_cloned() -> std::task::Waker {
    use std::task::{RawWaker, RawWakerVTable};
    fn clone(_: *const ()) -> RawWaker {
        panic!("a waker that panics when cloned (expected by the test)")
    }
    fn noop(_: *const ()) {}
    static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, noop, noop, noop);
    // SAFETY: the vtable's functions ignore the data pointer, and none of them is unsound to
    // call any number of times.
    unsafe { std::task::Waker::from_raw(RawWaker::new(std::ptr::null(), &VTABLE)) }
}

#[test]
fn a_woken_waiter_whose_waker_panics_when_cloned_can_still_give_up() {
    let mailbox: Mailbox<u32> = Mailbox::bounded(1);
    let _ = mailbox.try_push(0).unwrap();
    let (_, waker) = CountingWaker::new();
    let mut a = mailbox.push(1);
    assert!(poll_once(&mut a, &waker).is_pending());
    assert_eq!(drain(&mailbox), [0]);
    // Woken; its next poll panics as it queues again.
    let panicking = waker_that_panics_when_cloned();
    let poll =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| poll_once(&mut a, &panicking)));
    assert!(poll.is_err());
    // Its drop gives up the room it was woken for: the mailbox takes new pushes again.
    drop(a);
    assert_eq!(mailbox.try_push(2), Ok(Push::Queued));
}

/// Wakes by panicking, as a buggy executor's waker might.
struct PanicWake;
impl std::task::Wake for PanicWake {
    fn wake(self: Arc<Self>) {
        panic!("a waker that panics when woken (expected by the test)");
    }
}

#[test]
fn a_waiter_whose_waker_panics_does_not_cost_the_consumer_its_message() {
    let mailbox: Mailbox<u32> = Mailbox::bounded(1);
    let _ = mailbox.try_push(7).unwrap();
    let panicking = std::task::Waker::from(Arc::new(PanicWake));
    let mut a = mailbox.push(1);
    assert!(poll_once(&mut a, &panicking).is_pending());
    // The pop wakes `a`, whose waker panics: the pop still hands over its message.
    // SAFETY: single consumer.
    let pop = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| unsafe { mailbox.pop() }));
    assert_eq!(pop.ok(), Some(Pop::User(7)));
    assert_eq!(poll_once(&mut a, &CountingWaker::new().1), Poll::Ready(Ok(Push::Queued)));
}

#[test]
fn a_woken_waiter_that_is_dropped_passes_the_wake_on() {
    let mailbox: Mailbox<u32> = Mailbox::bounded(1);
    let _ = mailbox.try_push(0).unwrap();
    let (_, first) = CountingWaker::new();
    let (second_count, second) = CountingWaker::new();
    let mut a = mailbox.push(1);
    let mut b = mailbox.push(2);
    assert!(poll_once(&mut a, &first).is_pending());
    assert!(poll_once(&mut b, &second).is_pending());
    // SAFETY: single consumer.
    assert_eq!(unsafe { mailbox.pop() }, Pop::User(0));
    assert_eq!(second_count.count(), 0);
    drop(a);
    assert_eq!(second_count.count(), 1);
    assert_eq!(poll_once(&mut b, &second), Poll::Ready(Ok(Push::Queued)));
    assert_eq!(drain(&mailbox), [2]);
}

#[test]
fn close_wakes_every_waiter_and_hands_back_its_message() {
    let mailbox: Mailbox<u32> = Mailbox::bounded(1);
    let _ = mailbox.try_push(0).unwrap();
    let wakers: Vec<_> = (0..4).map(|_| CountingWaker::new()).collect();
    let mut pushes: Vec<_> = (1..=4).map(|i| mailbox.push(i)).collect();
    for (push, (_, waker)) in pushes.iter_mut().zip(&wakers) {
        assert!(poll_once(push, waker).is_pending());
    }
    let _ = mailbox.close();
    for (i, (push, (count, waker))) in pushes.iter_mut().zip(&wakers).enumerate() {
        assert_eq!(count.count(), 1);
        assert_eq!(poll_once(push, waker), Poll::Ready(Err(SendError(i as u32 + 1))));
    }
}

#[test]
fn close_wakes_every_waiter_even_when_one_waker_panics() {
    /// Panics when woken.
    struct Panics;
    impl std::task::Wake for Panics {
        fn wake(self: Arc<Self>) {
            panic!("a waker that panics (expected by the test)");
        }
    }
    let mailbox: Mailbox<u32> = Mailbox::bounded(1);
    let _ = mailbox.try_push(0).unwrap();
    let panicking = std::task::Waker::from(Arc::new(Panics));
    let (count, waker) = CountingWaker::new();
    let (mut first, mut second) = (mailbox.push(1), mailbox.push(2));
    assert!(poll_once(&mut first, &panicking).is_pending());
    assert!(poll_once(&mut second, &waker).is_pending());
    let _ = mailbox.close();
    assert_eq!(count.count(), 1, "the waiter after a panicking waker was never woken");
    assert_eq!(poll_once(&mut second, &waker), Poll::Ready(Err(SendError(2))));
}

#[test]
fn dropping_a_mailbox_drops_each_remaining_message_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let mailbox: Mailbox<Tracked, Tracked> = Mailbox::unbounded();
    let total = BLOCK_CAPACITY * 5 + 3;
    for i in 0..total as u64 {
        let _ = mailbox.try_push(Tracked::new(i, &drops)).unwrap();
    }
    // Consume part of the messages, crossing a block boundary.
    let consumed = BLOCK_CAPACITY + 5;
    // SAFETY: single consumer.
    unsafe {
        for i in 0..consumed as u64 {
            assert!(matches!(mailbox.pop(), Pop::User(t) if t.id == i));
        }
    }
    // Signals: one consumed, two left in the consumer's taken list, one never taken.
    for i in 0..3 {
        let _ = mailbox.push_system(Tracked::new(1000 + i, &drops)).unwrap();
    }
    // SAFETY: single consumer.
    assert!(matches!(unsafe { mailbox.pop() }, Pop::System(t) if t.id == 1000));
    let _ = mailbox.push_system(Tracked::new(1003, &drops)).unwrap();
    assert_eq!(drops.load(SeqCst), consumed + 1);
    drop(mailbox);
    assert_eq!(drops.load(SeqCst), total + 4);
}

#[test]
fn a_refused_message_is_dropped_by_the_caller_not_the_mailbox() {
    let drops = Arc::new(AtomicUsize::new(0));
    let mailbox: Mailbox<Tracked> = Mailbox::bounded(1);
    let _ = mailbox.try_push(Tracked::new(0, &drops)).unwrap();
    let back = mailbox.try_push(Tracked::new(1, &drops)).unwrap_err().into_inner();
    assert_eq!(back.id, 1);
    let _ = mailbox.close();
    let back = mailbox.try_push(Tracked::new(2, &drops)).unwrap_err().into_inner();
    assert_eq!(back.id, 2);
    assert_eq!(drops.load(SeqCst), 0);
    drop(mailbox);
    assert_eq!(drops.load(SeqCst), 1);
}

#[test]
fn an_untouched_mailbox_allocates_no_block() {
    let drops = Arc::new(AtomicUsize::new(0));
    let mailbox: Mailbox<Tracked> = Mailbox::unbounded();
    // SAFETY: single consumer.
    unsafe {
        assert!(matches!(mailbox.pop(), Pop::Empty));
        assert!(Mailbox::try_idle(&mailbox));
    }
    drop(mailbox);
    assert_eq!(drops.load(SeqCst), 0);
}

#[test]
fn zero_sized_messages_work() {
    let mailbox: Mailbox<()> = Mailbox::unbounded();
    for _ in 0..100 {
        let _ = mailbox.try_push(()).unwrap();
    }
    assert_eq!(drain(&mailbox).len(), 100);
}

#[test]
fn a_large_message_needs_no_block_on_the_stack() {
    // A block holds 31 messages: 31 × 4 KiB, more than this thread's stack (which has room for
    // the copies of the message a debug build makes on its way in). The block used to be built
    // on the stack before its box (debug builds do not elide the move): an overflow.
    let popped = std::thread::Builder::new()
        .stack_size(96 * 1024)
        .spawn(|| {
            let mailbox: Mailbox<[u8; 4 * 1024]> = Mailbox::unbounded();
            let _ = mailbox.try_push([7; 4 * 1024]).unwrap();
            // SAFETY: this thread is the only consumer.
            match unsafe { mailbox.pop() } {
                Pop::User(message) => message[4 * 1024 - 1],
                _ => 0,
            }
        })
        .unwrap()
        .join()
        .expect("the thread overflowed its stack");
    assert_eq!(popped, 7);
}

#[test]
fn a_panicking_destructor_does_not_leak_the_other_messages() {
    // As `Vec` does: the rest are still dropped, and the panic goes on after them. The rest
    // (and their blocks, or the other signals) used to leak. One lane at a time: a second
    // panic while the first unwinds would abort the process, as it would for a `Vec`.
    for system in [false, true] {
        let dropped = Arc::new(AtomicUsize::new(0));
        let mailbox: Mailbox<Bomb, Bomb> = Mailbox::unbounded();
        let n = BLOCK_CAPACITY + 5; // two blocks
        for i in 0..n {
            let bomb = Bomb(dropped.clone(), i == 1);
            let pushed = if system {
                mailbox.push_system(bomb).is_ok()
            } else {
                mailbox.try_push(bomb).is_ok()
            };
            assert!(pushed);
        }
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(mailbox)));
        assert!(result.is_err(), "the destructor's panic goes on");
        assert_eq!(dropped.load(SeqCst), n, "system lane: {system}");
    }
}

#[test]
fn woken_waiters_that_all_lose_their_slots_keep_their_order() {
    let mailbox: Mailbox<u32> = Mailbox::bounded(2);
    let _ = mailbox.try_push(0).unwrap();
    let _ = mailbox.try_push(0).unwrap();
    let wakers: Vec<_> = (0..3).map(|_| CountingWaker::new()).collect();
    let mut pushes: Vec<_> = (1..=3).map(|i| mailbox.push(i)).collect();
    for (push, (_, waker)) in pushes.iter_mut().zip(&wakers) {
        assert!(poll_once(push, waker).is_pending());
    }
    // Two pops wake the first two waiters; two pushes past the bound take both slots before
    // they run.
    drain_n(&mailbox, 2);
    let _ = mailbox.push_past_bound(9).unwrap();
    let _ = mailbox.push_past_bound(9).unwrap();
    // The woken ones find no room and queue again: in their original order, ahead of the third.
    assert!(poll_once(&mut pushes[0], &wakers[0].1).is_pending());
    assert!(poll_once(&mut pushes[1], &wakers[1].1).is_pending());
    let before: Vec<usize> = wakers.iter().map(|(c, _)| c.count()).collect();
    assert_eq!(before, [1, 1, 0]);
    drain_n(&mailbox, 1);
    let after: Vec<usize> = wakers.iter().map(|(c, _)| c.count()).collect();
    assert_eq!(after, [2, 1, 0], "the first waiter is no longer first in line");
}

/// Pops `n` user messages (the caller is the only consumer).
fn drain_n(mailbox: &Mailbox<u32>, n: usize) {
    for _ in 0..n {
        // SAFETY: the tests are single-consumer.
        assert!(matches!(unsafe { mailbox.pop() }, Pop::User(_)));
    }
}
