//! `count`: live, total and peak instances per actor type.
//!
//! Every spawned actor is counted from `spawn` until its lifecycle ends (until the lifecycle is
//! dropped, in the run that sees it end, before [`Link::wait`](crate::Link::wait) resolves).
//!
//! ```
//! use actor12::count;
//! # use actor12::prelude::*;
//! # use actor12::{MpscChannel, Multi};
//! # struct Worker;
//! # impl Actor for Worker {
//! #     type Message = Multi<Self>;
//! #     type Spec = ();
//! #     type Channel = MpscChannel<Self::Message>;
//! #     type Cancel = ();
//! #     type State = ();
//! #     fn state(_: &()) {}
//! #     fn init(_: Init<'_, Self>) -> impl InitFuture<Self> { std::future::ready(Ok(Worker)) }
//! # }
//! actor12::rt::Runtime::new().unwrap().block_on(async {
//!     let a = actor12::spawn::<Worker>(());
//!     let b = actor12::spawn::<Worker>(());
//!     let stats = count::stats::<Worker>();
//!     assert_eq!((stats.live, stats.total), (2, 2));
//!     a.cancel_and_wait(()).await;
//!     assert_eq!(count::stats::<Worker>().live, 1);
//!     println!("{}", count::report());
//!     # drop(b);
//! });
//! ```

use std::any::{TypeId, type_name};
use std::cell::Cell;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::marker::PhantomData;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use parking_lot::RwLock;

/// The counters of one type. Read one by one while other threads count, they may disagree for
/// a moment (a `live` above `max_live`); [`stats`] gives a snapshot that does not.
#[derive(Debug)]
pub struct Stats {
    /// The type's name.
    pub type_name: &'static str,
    /// Instances ever created.
    pub total: AtomicUsize,
    /// The most instances alive at once.
    pub max_live: AtomicUsize,
    /// Instances alive now.
    pub live: AtomicUsize,
}

/// A snapshot of one type's counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Snapshot {
    /// Instances ever created.
    pub total: usize,
    /// The most instances alive at once.
    pub max_live: usize,
    /// Instances alive now.
    pub live: usize,
}

fn registry() -> &'static RwLock<HashMap<TypeId, &'static Stats>> {
    static COUNTS: OnceLock<RwLock<HashMap<TypeId, &'static Stats>>> = OnceLock::new();
    COUNTS.get_or_init(Default::default)
}

thread_local! {
    /// The last type this thread counted and its counters: a run of spawns of one type skips
    /// the global map (and its lock's shared cache line).
    static LAST: Cell<Option<(TypeId, &'static Stats)>> = const { Cell::new(None) };
}

fn stats_of<T: 'static>() -> &'static Stats {
    let id = TypeId::of::<T>();
    if let Ok(Some((last, stats))) = LAST.try_with(Cell::get)
        && last == id
    {
        return stats;
    }
    let stats = lookup::<T>(id);
    let _ = LAST.try_with(|l| l.set(Some((id, stats))));
    stats
}

fn lookup<T: 'static>(id: TypeId) -> &'static Stats {
    if let Some(stats) = registry().read().get(&id) {
        return stats;
    }
    registry().write().entry(id).or_insert_with(|| {
        Box::leak(Box::new(Stats {
            type_name: type_name::<T>(),
            total: AtomicUsize::new(0),
            max_live: AtomicUsize::new(0),
            live: AtomicUsize::new(0),
        }))
    })
}

/// The counters of type `T` now (all zero for a type never counted, which reading does not add
/// to [`counts`]).
///
/// # Examples
///
/// Actors are counted for you; [`Count`] counts any other type:
///
/// ```
/// use actor12::count::{self, Count, Snapshot};
///
/// struct Job;
/// assert_eq!(count::stats::<Job>(), Snapshot { total: 0, max_live: 0, live: 0 });
/// let first = Count::<Job>::new();
/// let second = Count::<Job>::new();
/// drop(first);
/// let _third = Count::<Job>::new();
/// assert_eq!(count::stats::<Job>(), Snapshot { total: 3, max_live: 2, live: 2 });
/// # drop(second);
/// ```
pub fn stats<T: 'static>() -> Snapshot {
    match registry().read().get(&TypeId::of::<T>()) {
        Some(stats) => snapshot(stats),
        None => Snapshot { total: 0, max_live: 0, live: 0 },
    }
}

/// The three counters are separate atomics, read one after the other while other threads
/// count: `live` can be read after an increment that `total` was read before, or before its
/// `max_live` update lands. Both only grow, so the snapshot raises them to what the `live` it
/// read implies (the peak is at least the live count, the total at least the peak).
fn snapshot(s: &Stats) -> Snapshot {
    let live = s.live.load(Relaxed);
    let max_live = s.max_live.load(Relaxed).max(live);
    let total = s.total.load(Relaxed).max(max_live);
    Snapshot { total, max_live, live }
}

/// Every type counted so far, by `TypeId`: actor12 0.0.11's `counts()`.
///
/// 0.0.11 returned its `DashMap` itself; this returns a snapshot of which types are counted,
/// with the calls code written against that map makes: [`get`](Counts::get),
/// [`contains_key`](Counts::contains_key), [`len`](Counts::len), [`is_empty`](Counts::is_empty)
/// and [`iter`](Counts::iter), whose entries have `key()`, `value()` and `pair()`. The
/// [`Stats`] it hands out are the live counters, not copies.
///
/// # Examples
///
/// ```
/// use std::any::TypeId;
/// use std::sync::atomic::Ordering::Relaxed;
/// use actor12::count::{self, Count};
///
/// struct Worker;
/// let _one = Count::<Worker>::new();
/// let counts = count::counts();
/// let worker = counts.get(&TypeId::of::<Worker>()).expect("counted");
/// assert_eq!(worker.live.load(Relaxed), 1);
/// assert!(counts.iter().any(|entry| *entry.key() == TypeId::of::<Worker>()));
/// ```
pub fn counts() -> Counts {
    Counts { by_id: registry().read().clone() }
}

/// What [`counts`] returns: the types counted when it was called, each with its live counters.
#[derive(Debug, Clone)]
pub struct Counts {
    by_id: HashMap<TypeId, &'static Stats>,
}

impl Counts {
    /// The counters of the type `id`, if it was counted.
    pub fn get(&self, id: &TypeId) -> Option<&'static Stats> {
        self.by_id.get(id).copied()
    }

    /// True if the type `id` was counted.
    pub fn contains_key(&self, id: &TypeId) -> bool {
        self.by_id.contains_key(id)
    }

    /// How many types were counted.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// True if nothing was counted yet.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// Every counted type with its counters, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = CountsEntry> + '_ {
        self.by_id.iter().map(|(&id, &stats)| CountsEntry { id, stats })
    }
}

/// One type of [`Counts::iter`]: its `TypeId` and counters (derefs to the counters).
#[derive(Debug, Clone, Copy)]
pub struct CountsEntry {
    id: TypeId,
    stats: &'static Stats,
}

impl CountsEntry {
    /// The type's id.
    pub fn key(&self) -> &TypeId {
        &self.id
    }

    /// The type's counters.
    pub fn value(&self) -> &'static Stats {
        self.stats
    }

    /// Both.
    pub fn pair(&self) -> (&TypeId, &'static Stats) {
        (&self.id, self.stats)
    }
}

impl std::ops::Deref for CountsEntry {
    type Target = Stats;

    fn deref(&self) -> &Stats {
        self.stats
    }
}

/// Counts one live instance of `T` while it exists. Every actor holds one for its type; a field
/// of this type counts your own types the same way.
///
/// # Examples
///
/// ```
/// use actor12::count::{self, Count, Snapshot};
///
/// struct Connection {
///     _count: Count<Connection>,
/// }
///
/// let a = Connection { _count: Count::new() };
/// let b = Connection { _count: Count::new() };
/// drop(a);
/// assert_eq!(count::stats::<Connection>(), Snapshot { total: 2, max_live: 2, live: 1 });
/// # drop(b);
/// ```
#[derive(Debug)]
pub struct Count<T: 'static> {
    stats: &'static Stats,
    _t: PhantomData<fn(T)>,
}

impl<T: 'static> Count<T> {
    /// Counts a new instance.
    pub fn new() -> Self {
        let stats = stats_of::<T>();
        stats.total.fetch_add(1, Relaxed);
        let live = stats.live.fetch_add(1, Relaxed) + 1;
        // Most spawns do not set a new peak: a load instead of a read-modify-write for them.
        if live > stats.max_live.load(Relaxed) {
            stats.max_live.fetch_max(live, Relaxed);
        }
        Count { stats, _t: PhantomData }
    }
}

impl<T: 'static> Default for Count<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: 'static> Drop for Count<T> {
    fn drop(&mut self) {
        self.stats.live.fetch_sub(1, Relaxed);
    }
}

/// Every counted type's counters, sorted by name; `Display` prints a table.
#[derive(Debug, Clone)]
pub struct Report {
    /// `type name -> (total, max_live, live)`.
    pub by_type: BTreeMap<&'static str, (usize, usize, usize)>,
}

/// The counters of every type counted so far.
///
/// # Examples
///
/// ```
/// use actor12::count::{self, Count};
///
/// struct Job;
/// let _job = Count::<Job>::new();
/// let report = count::report();
/// // `(total, max_live, live)` by type name.
/// assert_eq!(report.by_type[std::any::type_name::<Job>()], (1, 1, 1));
/// // As text: a header, then a row per type.
/// let table = report.to_string();
/// assert!(table.lines().next().unwrap().contains("max_live"));
/// assert!(table.contains(std::any::type_name::<Job>()));
/// ```
pub fn report() -> Report {
    let by_type = registry()
        .read()
        .values()
        .map(|s| {
            let n = snapshot(s);
            (s.type_name, (n.total, n.max_live, n.live))
        })
        .collect();
    Report { by_type }
}

/// [`report`] as text.
///
/// # Examples
///
/// ```
/// struct Session;
/// let _session = actor12::count::Count::<Session>::new();
/// let text = actor12::count::report_string();
/// assert!(text.lines().any(|row| row.contains(std::any::type_name::<Session>())));
/// ```
pub fn report_string() -> String {
    report().to_string()
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self.by_type.keys().map(|k| k.len()).max().unwrap_or(0).max(5);
        writeln!(f, "{:<width$} {:>12} {:>12} {:>12}", "", "total", "max_live", "live")?;
        for (name, (total, max_live, live)) in &self.by_type {
            writeln!(f, "{name:<width$} {total:>12} {max_live:>12} {live:>12}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct A;
    struct B;

    #[test]
    fn counts_stay_per_type_when_types_alternate_on_one_thread() {
        let a1 = Count::<A>::new();
        let b1 = Count::<B>::new();
        let a2 = Count::<A>::new();
        assert_eq!(stats::<A>(), Snapshot { total: 2, max_live: 2, live: 2 });
        assert_eq!(stats::<B>(), Snapshot { total: 1, max_live: 1, live: 1 });
        drop((a1, a2));
        let a3 = Count::<A>::new();
        // Below the peak: the peak stays.
        assert_eq!(stats::<A>(), Snapshot { total: 3, max_live: 2, live: 1 });
        // Another thread starts with no cached type.
        std::thread::spawn(|| {
            let b2 = Count::<B>::new();
            assert_eq!(stats::<B>(), Snapshot { total: 2, max_live: 2, live: 2 });
            drop(b2);
        })
        .join()
        .unwrap();
        drop((a3, b1));
        assert_eq!(stats::<A>().live, 0);
        assert_eq!(stats::<B>(), Snapshot { total: 2, max_live: 2, live: 0 });
    }

    /// The counters between a new instance's `live` increment and its `max_live` update (and a
    /// `total` read before another thread's increment): a snapshot still says no more were
    /// alive now than at the peak, nor at the peak than were ever made.
    #[test]
    fn a_snapshot_taken_mid_update_is_consistent() {
        let mid = Stats {
            type_name: "Mid",
            total: AtomicUsize::new(4),
            max_live: AtomicUsize::new(4),
            live: AtomicUsize::new(5),
        };
        assert_eq!(snapshot(&mid), Snapshot { total: 5, max_live: 5, live: 5 });
    }

    #[test]
    fn reading_a_type_never_counted_does_not_list_it() {
        struct NeverCounted;
        assert_eq!(stats::<NeverCounted>(), Snapshot { total: 0, max_live: 0, live: 0 });
        assert!(!counts().contains_key(&TypeId::of::<NeverCounted>()));
    }
}
