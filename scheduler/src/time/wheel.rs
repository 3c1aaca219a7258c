//! A hierarchical timer wheel, owned by one worker: 6 levels of 64 slots, 1 ms per level-0 slot.
//!
//! Level `k` slots are `64^k` ms wide, so the levels cover about 64 ms, 4 s, 4 min, 4.6 h,
//! 12 days and 2.2 years. An entry due at tick `when` lives on the level of the highest 6-bit
//! group in which `when` differs from `elapsed` (the wheel's current tick), in the slot that group
//! names. Each level keeps an `occupied` bitmap, so the next due slot is found with a rotate and a
//! trailing-zeros count, and empty slots are never visited. When a higher-level slot comes due,
//! its entries are filed again, now on lower levels (cascading) or fired.
//!
//! Entries live in a slab; a slot is a doubly linked list of slab indices; a [`Key`] is (index,
//! generation), so arming and cancelling are O(1) and a stale key is harmless. A slab that a
//! burst made long gives back its free tail as the burst's entries go (see [`Wheel::trim`]).
//!
//! The wheel is single-threaded: other threads reach it through the worker's [`Inbox`](super::Inbox).

use std::task::Waker;

use super::Payload;

const LEVELS: usize = 6;
const SLOT_BITS: u32 = 6;
const SLOTS: usize = 1 << SLOT_BITS;
const SLOT_MASK: u64 = SLOTS as u64 - 1;
/// Ticks the wheel can see ahead; later deadlines are filed at the horizon, and filed again
/// (further on) when the horizon comes.
const MAX_TICKS: u64 = (1 << (SLOT_BITS * LEVELS as u32)) - 1;
const NIL: u32 = u32::MAX;
/// Entries of room a wheel keeps whatever its use (48 KiB: an entry is 48 bytes on x86-64).
const KEEP: usize = 1024;

/// Identifies an armed entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Key {
    index: u32,
    generation: u32,
}

#[derive(Debug)]
struct Entry {
    when: u64,
    prev: u32,
    next: u32,
    generation: u32,
    level: u8,
    slot: u8,
    payload: Option<Payload>,
}

#[derive(Debug)]
struct Level {
    occupied: u64,
    heads: [u32; SLOTS],
}

/// See the module documentation.
#[derive(Debug)]
pub(crate) struct Wheel {
    elapsed: u64,
    levels: Box<[Level; LEVELS]>,
    slab: Vec<Entry>,
    /// Free entries of the slab's lower half (as it was when each was freed), then those of its
    /// upper half: a new entry takes a lower one first, so that in a sparse wheel the armed
    /// entries move down, out of the end that [`trim`](Self::trim) gives back. With one list a
    /// timer re-armed as it fires took its own index again, at the end, for good.
    free_low: u32,
    free_high: u32,
    len: usize,
    /// The generation of entries pushed onto the slab: above that of every entry `trim` cut
    /// off, so that a stale key to a cut-off index never matches the entry pushed there next.
    fresh: u32,
    /// No entry at or above this index is armed or retired. Exact after `trim` looked; an
    /// insert above it moves it up.
    clear_from: usize,
}

impl Default for Wheel {
    fn default() -> Self {
        Wheel::new()
    }
}

fn level_for(elapsed: u64, when: u64) -> usize {
    // Capped: `when` may be up to `elapsed + MAX_TICKS`, whose top bit can lie above the last
    // level once `elapsed > 0`.
    let masked = ((elapsed ^ when) | SLOT_MASK).min(MAX_TICKS);
    let significant = 63 - masked.leading_zeros();
    (significant / SLOT_BITS) as usize
}

fn slot_for(when: u64, level: usize) -> usize {
    ((when >> (level as u32 * SLOT_BITS)) & SLOT_MASK) as usize
}

impl Wheel {
    pub(crate) fn new() -> Wheel {
        Wheel {
            elapsed: 0,
            levels: Box::new(std::array::from_fn(|_| Level { occupied: 0, heads: [NIL; SLOTS] })),
            slab: Vec::new(),
            free_low: NIL,
            free_high: NIL,
            len: 0,
            fresh: 0,
            clear_from: 0,
        }
    }

    /// The current tick: everything due at or before it has fired.
    pub(crate) fn elapsed(&self) -> u64 {
        self.elapsed
    }

    /// Armed entries.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Entries of room the slab holds.
    #[cfg(test)]
    pub(crate) fn room(&self) -> usize {
        self.slab.capacity()
    }

    /// Arms `payload` for tick `when`. Gives it back if `when` is not in the future.
    pub(crate) fn insert(&mut self, when: u64, payload: Payload) -> Result<Key, Payload> {
        if when <= self.elapsed {
            return Err(payload);
        }
        let index = if let Some(i) = self.take_free() {
            i
        } else {
            self.slab.push(Entry {
                when: 0,
                prev: NIL,
                next: NIL,
                generation: self.fresh,
                level: 0,
                slot: 0,
                payload: None,
            });
            (self.slab.len() - 1) as u32
        };
        self.clear_from = self.clear_from.max(index as usize + 1);
        let e = &mut self.slab[index as usize];
        e.when = when;
        e.payload = Some(payload);
        let generation = e.generation;
        self.link(index);
        self.len += 1;
        Ok(Key { index, generation })
    }

    /// Files entry `index` (not in any list) by its `when`.
    fn link(&mut self, index: u32) {
        let when = self.slab[index as usize].when.min(self.elapsed + MAX_TICKS);
        let level = level_for(self.elapsed, when);
        let slot = slot_for(when, level);
        let head = self.levels[level].heads[slot];
        {
            let e = &mut self.slab[index as usize];
            e.level = level as u8;
            e.slot = slot as u8;
            e.prev = NIL;
            e.next = head;
        }
        if head != NIL {
            self.slab[head as usize].prev = index;
        }
        self.levels[level].heads[slot] = index;
        self.levels[level].occupied |= 1 << slot;
    }

    fn unlink(&mut self, index: u32) {
        let (prev, next, level, slot) = {
            let e = &self.slab[index as usize];
            (e.prev, e.next, e.level as usize, e.slot as usize)
        };
        if prev != NIL {
            self.slab[prev as usize].next = next;
        } else {
            self.levels[level].heads[slot] = next;
            if next == NIL {
                self.levels[level].occupied &= !(1 << slot);
            }
        }
        if next != NIL {
            self.slab[next as usize].prev = prev;
        }
    }

    fn release(&mut self, index: u32) -> Option<Payload> {
        let e = &mut self.slab[index as usize];
        let payload = e.payload.take();
        self.len -= 1;
        // A stale key must never match the slot again, so a slot whose generation would wrap
        // is retired instead of reused: one entry left behind per 2^32 uses of a slot.
        if let Some(next) = e.generation.checked_add(1) {
            e.generation = next;
            let low = (index as usize) < self.slab.len() / 2;
            let head = if low { &mut self.free_low } else { &mut self.free_high };
            self.slab[index as usize].next = *head;
            *head = index;
        }
        payload
    }

    /// A free entry's index, a lower one first (see `free_low`).
    fn take_free(&mut self) -> Option<u32> {
        let head = if self.free_low != NIL { &mut self.free_low } else { &mut self.free_high };
        let index = *head;
        if index == NIL {
            return None;
        }
        *head = self.slab[index as usize].next;
        Some(index)
    }

    fn is_live(&self, key: Key) -> bool {
        self.slab
            .get(key.index as usize)
            .is_some_and(|e| e.generation == key.generation && e.payload.is_some())
    }

    /// Every payload still armed (the wheel's worker is leaving).
    pub(crate) fn into_payloads(self) -> impl Iterator<Item = Payload> {
        self.slab.into_iter().filter_map(|e| e.payload)
    }

    /// Cancels an entry; `None` if it already fired or was cancelled.
    pub(crate) fn remove(&mut self, key: Key) -> Option<Payload> {
        if !self.is_live(key) {
            return None;
        }
        self.unlink(key.index);
        let payload = self.release(key.index);
        self.trim();
        payload
    }

    /// Gives back the slab's free tail once at most a quarter of the slab is armed: after a
    /// burst of sleeps cancelled (a million one-hour timeouts, 45 MB of entries), not only when
    /// the worker goes. Armed entries keep their indexes, so only the end past the last armed
    /// (or retired) one can go, once it is at least half the slab; new entries take lower
    /// indexes first, so the armed ones move down as they are re-armed. The look starts at
    /// `clear_from`: each entry it passes stays passed until an insert above it, so the looks
    /// cost O(1) a removal, amortized.
    fn trim(&mut self) {
        let slab = self.slab.len();
        if slab <= KEEP || self.len * 4 > slab {
            return;
        }
        // Retired entries (a generation spent) stay, so that no stale key matches anew.
        let end = self.clear_from.min(slab);
        let last =
            self.slab[..end].iter().rposition(|e| e.payload.is_some() || e.generation == u32::MAX);
        let keep = last.map_or(0, |i| i + 1);
        self.clear_from = keep;
        if keep * 2 > slab {
            return;
        }
        let cut = self.slab[keep..].iter().map(|e| e.generation).max().unwrap_or(0);
        // No overflow: an entry of generation `u32::MAX` is retired, and kept above.
        self.fresh = self.fresh.max(cut + 1);
        // The free lists without the cut-off indexes, each entry on the list of its half now.
        let mut heads = [NIL; 2];
        for mut index in [self.free_low, self.free_high] {
            while index != NIL {
                let next = self.slab[index as usize].next;
                if (index as usize) < keep {
                    let head = &mut heads[usize::from(index as usize >= keep / 2)];
                    self.slab[index as usize].next = *head;
                    *head = index;
                }
                index = next;
            }
        }
        [self.free_low, self.free_high] = heads;
        self.slab.truncate(keep);
        self.slab.shrink_to(keep.max(KEEP));
    }

    /// Replaces the waker of a live entry; `None` if the entry is gone. The replaced waker is
    /// returned, to be dropped once the wheel is no longer borrowed (its destructor may free a
    /// task whose `Sleep` looks for this wheel).
    pub(crate) fn update_waker(&mut self, key: Key, waker: &Waker) -> Option<Option<Waker>> {
        if !self.is_live(key) {
            return None;
        }
        match &mut self.slab[key.index as usize].payload {
            Some(Payload::Waker(w)) if !w.will_wake(waker) => {
                Some(Some(std::mem::replace(w, waker.clone())))
            }
            _ => Some(None),
        }
    }

    /// The earliest due slot: (level, slot, its first tick).
    fn next_expiration(&self) -> Option<(usize, usize, u64)> {
        for (level, lvl) in self.levels.iter().enumerate() {
            if lvl.occupied == 0 {
                continue;
            }
            let shift = level as u32 * SLOT_BITS;
            let now_slot = ((self.elapsed >> shift) & SLOT_MASK) as u32;
            // An entry in the top level's current slot is due in its next rotation (a deadline
            // filed at the horizon, or 2.2 years ahead): look at it last, or it would hide the
            // sooner slots after it. On lower levels the current slot holds nothing not yet due.
            let from = if level == LEVELS - 1 { (now_slot + 1) % SLOTS as u32 } else { now_slot };
            let slot = (lvl.occupied.rotate_right(from).trailing_zeros() + from) as usize % SLOTS;
            let level_range = 1u64 << (shift + SLOT_BITS);
            let slot_range = 1u64 << shift;
            let level_start = self.elapsed & !(level_range - 1);
            let mut deadline = level_start + slot as u64 * slot_range;
            if deadline <= self.elapsed {
                // Only the top level wraps around (deadlines filed at the horizon).
                deadline += level_range;
            }
            return Some((level, slot, deadline));
        }
        None
    }

    /// The tick of the next entry to fire (or to cascade), if any.
    pub(crate) fn next_deadline(&self) -> Option<u64> {
        self.next_expiration().map(|(_, _, d)| d)
    }

    /// Advances to tick `now`, moving the payloads of due entries into `fired`.
    pub(crate) fn poll(&mut self, now: u64, fired: &mut Vec<Payload>) {
        while let Some((level, slot, deadline)) = self.next_expiration() {
            if deadline > now {
                break;
            }
            self.elapsed = self.elapsed.max(deadline);
            let mut index = std::mem::replace(&mut self.levels[level].heads[slot], NIL);
            self.levels[level].occupied &= !(1 << slot);
            while index != NIL {
                let next = self.slab[index as usize].next;
                if self.slab[index as usize].when <= self.elapsed {
                    fired.extend(self.release(index));
                } else {
                    self.link(index);
                }
                index = next;
            }
        }
        self.elapsed = self.elapsed.max(now);
        self.trim();
    }
}

#[cfg(all(test, not(actor12_loom)))]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn payload(tag: &Arc<Count>) -> Payload {
        Payload::Waker(Waker::from(tag.clone()))
    }

    fn fire_until(w: &mut Wheel, now: u64) -> usize {
        let mut fired = Vec::new();
        w.poll(now, &mut fired);
        let n = fired.len();
        for p in fired {
            p.fire();
        }
        n
    }

    #[test]
    fn fires_each_entry_at_its_tick_on_every_level() {
        let c = Arc::new(Count(AtomicUsize::new(0)));
        let mut w = Wheel::new();
        let whens = [1u64, 2, 63, 64, 65, 100, 4095, 4096, 5000, 262_143, 262_144, 1 << 30];
        for &t in &whens {
            w.insert(t, payload(&c)).unwrap();
        }
        assert_eq!(w.len(), whens.len());
        for (i, &t) in whens.iter().enumerate() {
            // Nothing fires a tick early.
            assert_eq!(fire_until(&mut w, t - 1), 0, "early at {t}");
            assert_eq!(w.next_deadline().map(|d| d <= t), Some(true));
            assert_eq!(fire_until(&mut w, t), 1, "entry {i} due at {t}");
        }
        assert_eq!(w.len(), 0);
        assert_eq!(w.next_deadline(), None);
        assert_eq!(c.0.load(Ordering::SeqCst), whens.len());
    }

    /// Review of the time API (2026-12-06): a million one-hour sleeps armed and cancelled left
    /// their 45 MB of entries in the wheel for as long as the worker lived.
    #[test]
    fn a_cancelled_burst_gives_its_entries_back_and_stale_keys_stay_stale() {
        let c = Arc::new(Count(AtomicUsize::new(0)));
        let mut w = Wheel::new();
        let hour = 3_600_000;
        // A long-lived entry armed before the burst keeps its place, and its key.
        let early = w.insert(hour * 2, payload(&c)).unwrap();
        let burst: Vec<Key> = (0..100_000).map(|_| w.insert(hour, payload(&c)).unwrap()).collect();
        assert!(w.slab.capacity() > 100_000);
        for &key in &burst {
            assert!(w.remove(key).is_some());
        }
        assert_eq!(w.len(), 1);
        assert!(w.slab.capacity() <= KEEP, "{} entries of room kept", w.slab.capacity());
        // New entries take the cut-off indexes again; the burst's keys match none of them.
        let again: Vec<Key> = (0..5_000).map(|_| w.insert(hour, payload(&c)).unwrap()).collect();
        assert!(burst.iter().all(|&key| w.remove(key).is_none()), "a stale key matched");
        assert_eq!(w.len(), 5_001);
        // Fired, not cancelled: the slab goes back too.
        assert_eq!(fire_until(&mut w, hour), 5_000);
        assert!(again.iter().all(|&key| w.remove(key).is_none()));
        assert!(w.slab.capacity() <= KEEP);
        assert!(w.remove(early).is_some(), "the early entry kept its key");
        assert_eq!(c.0.load(Ordering::SeqCst), 5_000);
    }

    /// An entry live at the slab's end keeps the slab (indexes never move); once it goes, the
    /// slab does.
    #[test]
    fn a_live_entry_at_the_end_holds_the_slab_until_it_goes() {
        let c = Arc::new(Count(AtomicUsize::new(0)));
        let mut w = Wheel::new();
        let keys: Vec<Key> =
            (0..10_000).map(|t| w.insert(1_000 + t, payload(&c)).unwrap()).collect();
        let (last, rest) = keys.split_last().unwrap();
        for &key in rest {
            assert!(w.remove(key).is_some());
        }
        assert_eq!(w.slab.len(), 10_000, "the last entry is live");
        assert_eq!(w.clear_from, 10_000, "the look found it");
        assert!(w.remove(*last).is_some());
        assert!(w.slab.capacity() <= KEEP);
    }

    /// Timers that live through a burst's cancels (periodic ticks, other requests' timeouts)
    /// are re-armed as they fire. With one free list they took the index just freed, near the
    /// slab's end where the cancels in arming order had left the list's head, and then their
    /// own index again at each fire: the burst's slab stayed for good behind three live timers
    /// (131,072 entries of room; review of 2026-12-06). Lower indexes go first now.
    #[test]
    fn timers_re_armed_through_a_cancelled_burst_do_not_hold_its_slab() {
        let c = Arc::new(Count(AtomicUsize::new(0)));
        let mut w = Wheel::new();
        let hour = 3_600_000;
        // Two long-lived entries from before the burst (another actor's idle timeouts).
        let _early = [(); 2].map(|()| w.insert(hour * 2, payload(&c)).unwrap());
        let burst: Vec<Key> = (0..100_000).map(|_| w.insert(hour, payload(&c)).unwrap()).collect();
        let (most, last) = burst.split_at(burst.len() - 10);
        for &key in most {
            assert!(w.remove(key).is_some());
        }
        // A periodic tick re-arms now (its entry before fired).
        let mut now = 0;
        w.insert(now + 1_000, payload(&c)).unwrap();
        for &key in last {
            assert!(w.remove(key).is_some());
        }
        assert_eq!(w.len(), 3, "the burst is gone");
        // It fires and re-arms, a hundred times (a hundred seconds).
        for _ in 0..100 {
            now += 1_000;
            assert_eq!(fire_until(&mut w, now), 1);
            w.insert(now + 1_000, payload(&c)).unwrap();
        }
        assert!(w.slab.capacity() <= KEEP, "{} entries of room for 3 timers", w.slab.capacity());
    }

    #[test]
    fn a_jump_fires_everything_due() {
        let c = Arc::new(Count(AtomicUsize::new(0)));
        let mut w = Wheel::new();
        for t in 1..1000u64 {
            w.insert(t * 7, payload(&c)).unwrap();
        }
        assert_eq!(fire_until(&mut w, 3500), 500);
        assert_eq!(fire_until(&mut w, 100_000), 499);
    }

    #[test]
    fn cancel_is_exact_and_stale_keys_are_harmless() {
        let c = Arc::new(Count(AtomicUsize::new(0)));
        let mut w = Wheel::new();
        let a = w.insert(10, payload(&c)).unwrap();
        let b = w.insert(10, payload(&c)).unwrap();
        let d = w.insert(5000, payload(&c)).unwrap();
        assert!(w.remove(a).is_some());
        assert!(w.remove(a).is_none());
        assert!(w.remove(d).is_some());
        // The freed slot is reused with a new generation; the old key does not reach it.
        let e = w.insert(20, payload(&c)).unwrap();
        assert!(w.remove(a).is_none());
        assert_eq!(fire_until(&mut w, 100), 2);
        assert!(w.remove(b).is_none());
        assert!(w.remove(e).is_none());
        assert!(w.insert(100, payload(&c)).is_err());
    }

    /// A key kept after its entry fired or was cancelled (a `Sleep` dropped long after it
    /// fired) cannot cancel a later entry in the same slot, even after the slot's generation
    /// has gone round: the slot is retired at the last generation. (Before, the wrapped
    /// generation made the old key match the new entry, and its drop cancelled that timer.)
    #[test]
    fn a_stale_key_cannot_cancel_a_later_entry_after_the_generation_wraps() {
        let c = Arc::new(Count(AtomicUsize::new(0)));
        let mut w = Wheel::new();
        let stale = w.insert(10, payload(&c)).unwrap();
        assert!(w.remove(stale).is_some());
        // As if the slot had been used 2^32 - 1 times since.
        w.slab[stale.index as usize].generation = u32::MAX;
        let last = w.insert(10, payload(&c)).unwrap();
        assert_eq!((last.index, last.generation), (stale.index, u32::MAX));
        assert!(w.remove(last).is_some());
        let live = w.insert(10, payload(&c)).unwrap();
        assert!(w.remove(stale).is_none(), "a stale key cancelled a live entry");
        assert!(w.remove(last).is_none());
        assert_eq!(fire_until(&mut w, 10), 1);
        assert_eq!(c.0.load(Ordering::SeqCst), 1);
        assert!(w.remove(live).is_none());
    }

    /// Random arm, cancel and advance steps from `seed`, checked against a list of the live
    /// entries: every poll fires exactly the entries due, and after every step the next deadline
    /// (how long the wheel's worker may park) is not after the earliest live entry. A step arms
    /// an entry up to `2^when_bits` ticks ahead, or advances by up to `jump(x)` ticks.
    fn matches_a_model(seed: u64, steps: usize, when_bits: u64, jump: impl Fn(u64) -> u64) {
        let c = Arc::new(Count(AtomicUsize::new(0)));
        let mut w = Wheel::new();
        let mut live: Vec<(Key, u64)> = Vec::new();
        let mut x = seed;
        let mut now = 0u64;
        let mut expected = 0usize;
        for _ in 0..steps {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            match x % 4 {
                0 | 1 => {
                    let when = now + 1 + (x >> 8) % (1 << (x % when_bits));
                    live.push((w.insert(when, payload(&c)).unwrap(), when));
                }
                2 if !live.is_empty() => {
                    let i = (x >> 16) as usize % live.len();
                    assert!(w.remove(live.swap_remove(i).0).is_some());
                }
                _ => {
                    now += jump(x);
                    let due = live.iter().filter(|(_, t)| *t <= now).count();
                    live.retain(|(_, t)| *t > now);
                    expected += due;
                    assert_eq!(fire_until(&mut w, now), due, "seed {seed:#x}, now {now}");
                }
            }
            if let Some(&earliest) = live.iter().map(|(_, t)| t).min() {
                let next = w.next_deadline().expect("entries are live");
                assert!(next <= earliest, "seed {seed:#x}: next {next} after {earliest}");
            }
        }
        assert_eq!(w.len(), live.len());
        assert_eq!(c.0.load(Ordering::SeqCst), expected);
    }

    #[test]
    fn random_arm_cancel_matches_a_model() {
        // Deadlines within 2^23 ticks, small steps.
        matches_a_model(0x2545_F491_4F6C_DD1D, 20_000, 24, |x| (x >> 20) % 300);
    }

    #[test]
    fn random_steps_over_the_whole_range_match_a_model() {
        // Deadlines up to 2^42 ticks (past the horizon), jumps up to 2^40.
        for seed in 1..=8u64 {
            let seed = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
            matches_a_model(seed, 5_000, 43, |x| (x >> 20) % (1 << ((x >> 8) % 41)));
        }
    }

    #[test]
    fn a_far_deadline_does_not_hide_a_nearer_one_on_the_top_level() {
        let c = Arc::new(Count(AtomicUsize::new(0)));
        let mut w = Wheel::new();
        fire_until(&mut w, 100);
        // At the horizon (a sleep of `Duration::MAX`): the top level's current slot.
        w.insert(u64::MAX, payload(&c)).unwrap();
        let twenty_days = 20 * 86_400_000;
        w.insert(twenty_days, payload(&c)).unwrap();
        // It used to say 2^36 (795 days), and the worker slept until then.
        assert!(w.next_deadline().unwrap() <= twenty_days);
        assert_eq!(fire_until(&mut w, twenty_days - 1), 0);
        assert_eq!(fire_until(&mut w, twenty_days), 1);
    }
}
