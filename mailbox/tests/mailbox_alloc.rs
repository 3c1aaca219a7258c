//! Proves "no allocation per message in steady state" with a counting global allocator.
//!
//! This binary holds a single test so that no other test allocates while it counts.

mod support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicIsize, AtomicUsize, Ordering::SeqCst};
use std::thread;

use actor12_mailbox::{BLOCK_CAPACITY, Mailbox, Pop};
use support::block_on;

struct Counting;

static COUNTING: AtomicBool = AtomicBool::new(false);

thread_local! {
    /// Set on the threads whose allocations count: the test's and the producers it spawns (the
    /// test harness's own threads may allocate at any time).
    static TRACKED: Cell<bool> = const { Cell::new(false) };
}

fn counts() -> bool {
    COUNTING.load(SeqCst) && TRACKED.with(Cell::get)
}
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);
/// Bytes allocated and not yet freed by the tracked threads while counting.
static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: forwards to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if counts() {
            ALLOCATIONS.fetch_add(1, SeqCst);
            LIVE.fetch_add(layout.size() as isize, SeqCst);
        }
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if counts() {
            LIVE.fetch_sub(layout.size() as isize, SeqCst);
        }
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if counts() {
            ALLOCATIONS.fetch_add(1, SeqCst);
            LIVE.fetch_add(new_size as isize - layout.size() as isize, SeqCst);
        }
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations made while `f` runs.
fn allocations_during(f: impl FnOnce()) -> usize {
    ALLOCATIONS.store(0, SeqCst);
    COUNTING.store(true, SeqCst);
    f();
    COUNTING.store(false, SeqCst);
    ALLOCATIONS.load(SeqCst)
}

/// Bursts of `burst` pushes, then a full drain, `rounds` times.
fn bursts(mailbox: &Mailbox<[u64; 4]>, burst: usize, rounds: usize) {
    for r in 0..rounds {
        for i in 0..burst {
            let _ = mailbox.try_push([r as u64, i as u64, 0, 0]).unwrap();
        }
        for i in 0..burst {
            // SAFETY: this thread is the only consumer.
            match unsafe { mailbox.pop() } {
                Pop::User(m) => assert_eq!(m, [r as u64, i as u64, 0, 0]),
                other => panic!("expected a message, got {other:?}"),
            }
        }
        // SAFETY: as above.
        assert!(unsafe { Mailbox::try_idle(mailbox) });
    }
}

#[test]
fn steady_state_allocates_nothing() {
    TRACKED.with(|t| t.set(true));
    // One thread, unbounded, bursts that span several blocks.
    let mailbox = Mailbox::unbounded();
    let burst = BLOCK_CAPACITY * 3 + 5;
    bursts(&mailbox, burst, 10); // warm-up: grow the block list to what the burst needs
    assert_eq!(allocations_during(|| bursts(&mailbox, burst, 10_000)), 0, "unbounded, one thread");

    // One thread, bounded, through the async push path.
    let bounded: Mailbox<u64> = Mailbox::bounded(64);
    let run = |rounds: u64| {
        for i in 0..rounds {
            let _ = block_on(bounded.push(i)).unwrap();
            // SAFETY: this thread is the only consumer.
            assert_eq!(unsafe { bounded.pop() }, Pop::User(i));
        }
    };
    run(1_000);
    assert_eq!(allocations_during(|| run(100_000)), 0, "bounded, one thread");

    // Two threads through the channel handles: a bounded channel keeps the backlog, and so the
    // number of blocks, bounded; producers wait for room, the consumer parks when it runs dry.
    let (tx, mut rx) = actor12_mailbox::bounded::<u64>(64);
    let transfer =
        |tx: actor12_mailbox::Sender<u64>, rx: &mut actor12_mailbox::Receiver<u64>, n: u64| {
            let producer = thread::spawn(move || {
                TRACKED.with(|t| t.set(true));
                for i in 0..n {
                    block_on(tx.send(i)).unwrap();
                }
                tx
            });
            for i in 0..n {
                assert_eq!(rx.recv().and_then(|item| item.user()), Some(i));
            }
            producer.join().unwrap()
        };
    // Warm up twice, so that the one-time set-ups (the producer's first wait registration, the
    // receiver's first park and its waker, the blocks the list needs) mostly happen before
    // counting.
    let tx = transfer(tx, &mut rx, 100_000);
    let tx = transfer(tx, &mut rx, 100_000);
    // Spawning the producer thread and its first `block_on` (which makes the thread's waker)
    // allocate. Beyond that, the block list may still grow by a block or two if this run's
    // scheduling leaves a larger backlog than the warm-up did, and a new thread may set up its
    // thread-locals: a handful of one-time allocations. One allocation per block of 31 messages
    // would be over 32,000.
    let producer_spawn = allocations_during(|| {
        drop(
            thread::spawn(|| {
                TRACKED.with(|t| t.set(true));
                block_on(async {})
            })
            .join(),
        )
    });
    let during = allocations_during(|| drop(transfer(tx.clone(), &mut rx, 1_000_000)));
    assert!(
        during <= producer_spawn + 8,
        "two threads: {during} allocations for 1,000,000 messages (a thread spawn costs {producer_spawn})"
    );
    drop(tx);

    drained_bursts_give_their_memory_back();
}

/// A burst far larger than the spare ring grows the block list; once drained, its blocks are
/// freed, so a long run of bursts keeps memory bounded by what one burst needs plus a few
/// spare blocks, and the next small burst runs in what is left.
fn drained_bursts_give_their_memory_back() {
    let block = std::mem::size_of::<[u64; 4]>() * BLOCK_CAPACITY;
    let mailbox = Mailbox::unbounded();
    COUNTING.store(true, SeqCst);
    LIVE.store(0, SeqCst);
    bursts(&mailbox, 10, 1);
    let small = LIVE.load(SeqCst);
    for round in 0..20 {
        bursts(&mailbox, 20_000 + round * 1_000, 1);
        let live = LIVE.load(SeqCst);
        // One block in use and five spares at most.
        assert!(live <= small + 6 * block as isize, "round {round}: {live} bytes still held");
    }
    drop(mailbox);
    COUNTING.store(false, SeqCst);
    assert_eq!(LIVE.load(SeqCst), 0, "bytes left after the mailbox was dropped");
}
