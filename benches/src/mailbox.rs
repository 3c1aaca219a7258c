//! The `mailbox` group: actor12's channel against crossbeam-channel, tokio's and std's mpsc.
//!
//! Each workload is written once, over [`Channel`], and instantiated for every implementation.
//! All four are unbounded multi-producer single-consumer channels of `u64`; each is used the way
//! a synchronous caller uses it (blocking receive on a plain thread), so the numbers include each
//! one's own way of waiting: actor12 and crossbeam spin briefly and then park, std (crossbeam's
//! algorithm since Rust 1.67) likewise, tokio's `blocking_recv` parks at once.

use std::hint::black_box;
use std::sync::Barrier;
use std::thread;
use std::time::{Duration, Instant};

use crate::Bench;

/// Messages one iteration of `spsc` and `fanin4` moves.
pub const MESSAGES: u64 = 1_000_000;

/// Producer threads in `fanin4`.
pub const FANIN_PRODUCERS: u64 = 4;

/// Push-pop pairs one run of `uncontended` times in the comparison binary.
const UNCONTENDED_PER_RUN: u64 = 1_000_000;

/// What the workloads need from a channel: an unbounded multi-producer queue of `u64` with one
/// receiver.
pub trait Channel {
    /// The column name in reports.
    const NAME: &'static str;
    /// The sending half; cloned once per producer.
    type Tx: Clone + Send;
    /// The receiving half.
    type Rx: Send;
    /// Makes an unbounded channel.
    fn channel() -> (Self::Tx, Self::Rx);
    /// Sends; never blocks, since the channel is unbounded. Panics if the receiver is gone.
    fn send(tx: &Self::Tx, msg: u64);
    /// Receives, blocking the way this implementation blocks; `None` once every sender is
    /// dropped and the channel is drained.
    fn recv(rx: &mut Self::Rx) -> Option<u64>;
    /// Receives without blocking; `None` if nothing is there.
    fn try_recv(rx: &mut Self::Rx) -> Option<u64>;
}

/// `actor12_mailbox::unbounded`.
#[derive(Debug)]
pub enum Actor12 {}

/// `crossbeam_channel::unbounded`.
#[derive(Debug)]
pub enum Crossbeam {}

/// `tokio::sync::mpsc::unbounded_channel`, received with `blocking_recv`.
#[derive(Debug)]
pub enum Tokio {}

/// `std::sync::mpsc::channel`.
#[derive(Debug)]
pub enum Std {}

impl Channel for Actor12 {
    const NAME: &'static str = "actor12";
    type Tx = actor12_mailbox::Sender<u64>;
    type Rx = actor12_mailbox::Receiver<u64>;

    fn channel() -> (Self::Tx, Self::Rx) {
        actor12_mailbox::unbounded()
    }

    #[inline]
    fn send(tx: &Self::Tx, msg: u64) {
        tx.try_send(msg).expect("receiver dropped");
    }

    #[inline]
    fn recv(rx: &mut Self::Rx) -> Option<u64> {
        // No system signals are sent, so every item is a user message.
        rx.recv().and_then(|item| item.user())
    }

    #[inline]
    fn try_recv(rx: &mut Self::Rx) -> Option<u64> {
        rx.try_recv().ok().and_then(|item| item.user())
    }
}

impl Channel for Crossbeam {
    const NAME: &'static str = "crossbeam";
    type Tx = crossbeam_channel::Sender<u64>;
    type Rx = crossbeam_channel::Receiver<u64>;

    fn channel() -> (Self::Tx, Self::Rx) {
        crossbeam_channel::unbounded()
    }

    #[inline]
    fn send(tx: &Self::Tx, msg: u64) {
        tx.send(msg).expect("receiver dropped");
    }

    #[inline]
    fn recv(rx: &mut Self::Rx) -> Option<u64> {
        rx.recv().ok()
    }

    #[inline]
    fn try_recv(rx: &mut Self::Rx) -> Option<u64> {
        rx.try_recv().ok()
    }
}

impl Channel for Tokio {
    const NAME: &'static str = "tokio";
    type Tx = tokio::sync::mpsc::UnboundedSender<u64>;
    type Rx = tokio::sync::mpsc::UnboundedReceiver<u64>;

    fn channel() -> (Self::Tx, Self::Rx) {
        tokio::sync::mpsc::unbounded_channel()
    }

    #[inline]
    fn send(tx: &Self::Tx, msg: u64) {
        tx.send(msg).expect("receiver dropped");
    }

    #[inline]
    fn recv(rx: &mut Self::Rx) -> Option<u64> {
        rx.blocking_recv()
    }

    #[inline]
    fn try_recv(rx: &mut Self::Rx) -> Option<u64> {
        rx.try_recv().ok()
    }
}

impl Channel for Std {
    const NAME: &'static str = "std";
    type Tx = std::sync::mpsc::Sender<u64>;
    type Rx = std::sync::mpsc::Receiver<u64>;

    fn channel() -> (Self::Tx, Self::Rx) {
        std::sync::mpsc::channel()
    }

    #[inline]
    fn send(tx: &Self::Tx, msg: u64) {
        tx.send(msg).expect("receiver dropped");
    }

    #[inline]
    fn recv(rx: &mut Self::Rx) -> Option<u64> {
        rx.recv().ok()
    }

    #[inline]
    fn try_recv(rx: &mut Self::Rx) -> Option<u64> {
        rx.try_recv().ok()
    }
}

/// `uncontended`: `iters` times, one thread pushes a message and pops it back.
///
/// # Examples
///
/// ```
/// use actor12_benches::mailbox::{Actor12, uncontended};
/// let _elapsed = uncontended::<Actor12>(100);
/// ```
pub fn uncontended<C: Channel>(iters: u64) -> Duration {
    let (tx, mut rx) = C::channel();
    let mut sum = 0u64;
    let start = Instant::now();
    for i in 0..iters {
        C::send(&tx, black_box(i));
        let msg = C::try_recv(&mut rx).expect("a message pushed on this thread is there to pop");
        sum = sum.wrapping_add(msg);
    }
    let elapsed = start.elapsed();
    assert_eq!(sum, sum_below(iters), "a message was lost or changed");
    elapsed
}

/// `spsc`: each iteration moves [`MESSAGES`] messages from one producer thread to one consumer
/// thread.
///
/// # Examples
///
/// ```
/// use actor12_benches::mailbox::{Actor12, spsc};
/// # if false {
/// let _elapsed = spsc::<Actor12>(1);
/// # }
/// ```
pub fn spsc<C: Channel>(iters: u64) -> Duration {
    (0..iters).map(|_| transfer::<C>(1, MESSAGES)).sum()
}

/// `fanin4`: each iteration moves [`MESSAGES`] messages from [`FANIN_PRODUCERS`] producer threads
/// (an equal share each) to one consumer thread.
///
/// # Examples
///
/// ```
/// use actor12_benches::mailbox::{Actor12, fanin4};
/// # if false {
/// let _elapsed = fanin4::<Actor12>(1);
/// # }
/// ```
pub fn fanin4<C: Channel>(iters: u64) -> Duration {
    (0..iters).map(|_| transfer::<C>(FANIN_PRODUCERS, MESSAGES)).sum()
}

/// Moves `messages` messages from `producers` threads to one consumer thread, and returns the
/// time from the common start to the consumer's receipt of the last message.
///
/// The calling thread only spawns and joins: it blocks, it does not spin, so the workload gets
/// exactly `producers + 1` busy threads. Producer `p` sends the numbers `p * share..(p + 1) *
/// share`, so the consumer's sum proves every message arrived once; after the timed part it also
/// checks that the channel then reports closed.
pub fn transfer<C: Channel>(producers: u64, messages: u64) -> Duration {
    assert!(producers > 0 && messages.is_multiple_of(producers), "messages must split evenly");
    let share = messages / producers;
    let (tx, mut rx) = C::channel();
    let start = Barrier::new(producers as usize + 1);
    thread::scope(|s| {
        for p in 0..producers {
            let tx = tx.clone();
            let start = &start;
            s.spawn(move || {
                start.wait();
                for msg in p * share..(p + 1) * share {
                    C::send(&tx, msg);
                }
            });
        }
        drop(tx);
        let consumer = s.spawn(|| {
            start.wait();
            let began = Instant::now();
            let mut sum = 0u64;
            for _ in 0..messages {
                let msg = C::recv(&mut rx).expect("channel closed before every message arrived");
                sum = sum.wrapping_add(msg);
            }
            let elapsed = began.elapsed();
            assert_eq!(sum, sum_below(messages), "a message was lost, duplicated or changed");
            assert_eq!(C::recv(&mut rx), None, "more messages arrived than were sent");
            elapsed
        });
        consumer.join().expect("consumer panicked")
    })
}

/// `0 + 1 + ... + (n - 1)`, wrapping like the consumers' sums.
fn sum_below(n: u64) -> u64 {
    let n = u128::from(n);
    (n * n.saturating_sub(1) / 2) as u64
}

/// The three workloads on one implementation, in report order.
fn on<C: Channel>() -> [Bench; 3] {
    let bench = |workload, messages_per_iter, iters_per_run, run| Bench {
        group: "mailbox",
        workload,
        imp: C::NAME,
        messages_per_iter,
        iters_per_run,
        run,
    };
    [
        bench("uncontended", 1, UNCONTENDED_PER_RUN, uncontended::<C>),
        bench("spsc", MESSAGES, 1, spsc::<C>),
        bench("fanin4", MESSAGES, 1, fanin4::<C>),
    ]
}

/// The group's benchmarks, workload by workload, actor12 first.
pub fn benches() -> Vec<Bench> {
    let by_impl = [on::<Actor12>(), on::<Crossbeam>(), on::<Tokio>(), on::<Std>()];
    (0..by_impl[0].len()).flat_map(|w| by_impl.iter().map(move |benches| benches[w])).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small_transfers<C: Channel>() {
        uncontended::<C>(1000);
        transfer::<C>(1, 10_000);
        transfer::<C>(FANIN_PRODUCERS, 10_000);
    }

    #[test]
    fn every_channel_moves_every_message() {
        small_transfers::<Actor12>();
        small_transfers::<Crossbeam>();
        small_transfers::<Tokio>();
        small_transfers::<Std>();
    }

    #[test]
    fn registry_is_workload_major_with_actor12_first() {
        let ids: Vec<_> = benches().iter().map(Bench::id).collect();
        assert_eq!(ids.len(), 12);
        assert_eq!(ids[0], "mailbox/uncontended/actor12");
        assert_eq!(ids[5], "mailbox/spsc/crossbeam");
        assert_eq!(ids[11], "mailbox/fanin4/std");
    }

    #[test]
    fn sum_below_matches_a_loop() {
        for n in [0, 1, 2, 10, 1000] {
            assert_eq!(sum_below(n), (0..n).sum::<u64>());
        }
    }
}
