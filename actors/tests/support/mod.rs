//! Actors shared by the integration tests.
#![allow(dead_code, unreachable_pub, unused_macros, unused_imports)]

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Condvar, Mutex};

use actor12::prelude::*;
use actor12::{Call, MpscChannel, Multi};

/// The `Actor` impl of a small test actor: `Multi` messages (handler style) unless `message`
/// names another type, no state, an `init` that is ready at once with `$init` (or, given as
/// `init_future`, whose future is that expression), and any `extra` items (`terminate`, `tick`,
/// an envelope-style `handle`, ...).
macro_rules! actor {
    ($name:ident, spec = $($rest:tt)*) => {
        actor!($name, message = actor12::Multi<Self>, spec = $($rest)*);
    };
    ($name:ident, message = $message:ty, spec = $spec:ty, cancel = $cancel:ty, init = |$ctx:ident| $init:expr $(, extra = { $($extra:tt)* })?) => {
        actor!($name, message = $message, spec = $spec, cancel = $cancel,
            init_future = |$ctx| std::future::ready(Ok($init)) $(, extra = { $($extra)* })?);
    };
    ($name:ident, message = $message:ty, spec = $spec:ty, cancel = $cancel:ty, init_future = |$ctx:ident| $init:expr $(, extra = { $($extra:tt)* })?) => {
        impl actor12::Actor for $name {
            type Message = $message;
            type Spec = $spec;
            type Channel = actor12::MpscChannel<Self::Message>;
            type Cancel = $cancel;
            type State = ();
            fn state(_: &$spec) {}
            fn init($ctx: actor12::Init<'_, Self>) -> impl actor12::InitFuture<Self> {
                $init
            }
            $($($extra)*)?
        }
    };
}
pub(crate) use actor;

/// `n` divided by `ACTOR12_STRESS_DIV` (1 if unset), and at least `min`: CI runs the stress
/// tests small under valgrind and Miri.
pub fn scaled(n: u64, min: u64) -> u64 {
    let div: u64 =
        std::env::var("ACTOR12_STRESS_DIV").ok().and_then(|v| v.parse().ok()).unwrap_or(1);
    (n / div.max(1)).max(min)
}

pub fn runtime() -> actor12::rt::Runtime {
    actor12::rt::Runtime::builder().worker_threads(2).build().unwrap()
}

/// How long a future may take before it is taken for hung: a guard against a hang, never a
/// timing assertion, so generous for a loaded 2-core machine; Miri interprets the program
/// hundreds of times slower than it runs.
pub const HANG: std::time::Duration =
    std::time::Duration::from_secs(if cfg!(miri) { 600 } else { 60 });

/// Awaits `f` on a thread of its own; `None` if it did not resolve within [`HANG`].
pub fn resolves_within<F>(f: F) -> Option<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let (tx, rx) = std::sync::mpsc::channel();
    // `block_on` of any runtime's handle polls `f` on this plain thread.
    let handle = actor12::rt::Handle::current_or_default();
    std::thread::spawn(move || {
        let _ = tx.send(handle.block_on(f));
    });
    rx.recv_timeout(HANG).ok()
}

/// Counts its own drops and `terminate` calls, so tests can see the actor go away.
#[derive(Default, Clone)]
pub struct Probe {
    drops: Arc<(Mutex<usize>, Condvar)>,
    pub terminates: Arc<AtomicUsize>,
}

impl Probe {
    pub fn drops(&self) -> usize {
        *self.drops.0.lock().unwrap()
    }

    /// Blocks the calling thread (not a worker) until the actor's state has been dropped.
    pub fn wait_dropped(&self) {
        let (lock, cvar) = &*self.drops;
        let _unused = cvar.wait_while(lock.lock().unwrap(), |n| *n == 0).unwrap();
    }

    /// As [`wait_dropped`](Self::wait_dropped), giving up after `limit` (a guard against a
    /// hang, not a timing claim): true if the state was dropped.
    pub fn wait_dropped_for(&self, limit: std::time::Duration) -> bool {
        let (lock, cvar) = &*self.drops;
        let (n, _) = cvar.wait_timeout_while(lock.lock().unwrap(), limit, |n| *n == 0).unwrap();
        *n > 0
    }

    pub fn terminates(&self) -> usize {
        self.terminates.load(SeqCst)
    }
}

/// Records every `(sender, seq)` it is told, answers asks with the count so far.
pub struct Recorder {
    pub seen: Vec<(u32, u32)>,
    pub probe: Probe,
}

impl Drop for Recorder {
    fn drop(&mut self) {
        let (lock, cvar) = &*self.probe.drops;
        *lock.lock().unwrap() += 1;
        cvar.notify_all();
    }
}

impl Actor for Recorder {
    type Message = Multi<Self>;
    type Spec = Probe;
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();

    fn state(_: &Probe) {}

    fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
        std::future::ready(Ok(Recorder { seen: Vec::new(), probe: ctx.spec }))
    }

    async fn terminate(
        self,
        _ctx: actor12::ActorContext<Self>,
        _reason: actor12::cancel::CancelReason<()>,
    ) {
        self.probe.terminates.fetch_add(1, SeqCst);
    }
}

/// `(sender, seq)`: recorded, answered with how many messages were seen.
pub struct Note(pub u32, pub u32);

impl Handler<Note> for Recorder {
    type Reply = anyhow::Result<usize>;

    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, Note(s, n): Note) -> Self::Reply {
        self.seen.push((s, n));
        Ok(self.seen.len())
    }
}

/// Returns everything recorded so far.
pub struct Dump;

impl Handler<Dump> for Recorder {
    type Reply = anyhow::Result<Vec<(u32, u32)>>;

    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Dump) -> Self::Reply {
        Ok(self.seen.clone())
    }
}

/// Panics in the handler.
pub struct Boom;

impl Handler<Boom> for Recorder {
    type Reply = anyhow::Result<()>;

    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Boom) -> Self::Reply {
        panic!("boom");
    }
}

/// Waits (inside the handler) until the given gate opens, then answers.
pub struct Hold(pub actor12::oneshot::Receiver<()>);

impl Handler<Hold> for Recorder {
    type Reply = anyhow::Result<()>;

    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, Hold(gate): Hold) -> Self::Reply {
        let _ = gate.await;
        Ok(())
    }
}

/// Says that its handler has started, then waits (inside the handler) until the gate opens.
pub struct HoldStarted(pub actor12::oneshot::Sender<()>, pub actor12::oneshot::Receiver<()>);

impl Handler<HoldStarted> for Recorder {
    type Reply = anyhow::Result<()>;

    async fn handle(
        &mut self,
        _: Call<'_, Self, Self::Reply>,
        HoldStarted(started, gate): HoldStarted,
    ) -> Self::Reply {
        let _ = started.send(());
        let _ = gate.await;
        Ok(())
    }
}

/// Blocks its worker thread (not just the handler) until the gate opens; says when it starts.
pub struct Block(pub std::sync::mpsc::Sender<()>, pub std::sync::mpsc::Receiver<()>);

impl Handler<Block> for Recorder {
    type Reply = anyhow::Result<()>;

    async fn handle(
        &mut self,
        _: Call<'_, Self, Self::Reply>,
        Block(on, gate): Block,
    ) -> Self::Reply {
        on.send(()).unwrap();
        let _ = gate.recv();
        Ok(())
    }
}

/// Takes the reply slot and drops it unanswered.
pub struct Ghost;

impl Handler<Ghost> for Recorder {
    type Reply = anyhow::Result<()>;

    async fn handle(&mut self, mut ctx: Call<'_, Self, Self::Reply>, _: Ghost) -> Self::Reply {
        drop(ctx.take_reply());
        Ok(())
    }
}

/// Checks that each sender's sequence numbers arrived in order, without gaps or duplicates.
pub fn assert_in_order(seen: &[(u32, u32)], senders: u32, per_sender: u32) {
    let mut next = vec![0u32; senders as usize];
    for &(s, n) in seen {
        assert_eq!(n, next[s as usize], "sender {s}: got {n}, expected {}", next[s as usize]);
        next[s as usize] += 1;
    }
    assert!(next.iter().all(|&n| n == per_sender), "missing messages: {next:?}");
}

/// Keeps the reports of the panics a test expects (payload `"boom"`) out of its output; others
/// are reported as usual. The hook is the test binary's own.
pub fn quiet_booms() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if info.payload().downcast_ref::<&str>() != Some(&"boom") {
                default(info);
            }
        }));
    });
}
