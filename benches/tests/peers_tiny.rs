//! Every peer implementation runs every workload at tiny sizes and reports what it should.
//!
//! This test has a process of its own: `spawn_stop` counts live heap bytes across all threads
//! while its window is open, so a test running beside it in the same process (freeing what it
//! allocated before) would be counted too, and could drive the count below zero.

use actor12_benches::peers::{IMPLS, Params, Workload, alloc::Counting, benches};
use std::time::Duration;

#[global_allocator]
static ALLOC: Counting = Counting;

#[test]
fn every_implementation_passes_every_workload_at_tiny_sizes() {
    let all = benches();
    assert_eq!(all.len(), IMPLS.len() * Workload::ALL.len());
    for peer in all {
        let m = (peer.run)(&Params::TINY);
        assert_eq!(m.ops, Params::TINY.ops(peer.workload), "{}", peer.id());
        assert!(m.elapsed > Duration::ZERO, "{}", peer.id());
        if peer.workload == Workload::SpawnStop {
            let bytes = m.bytes_per_actor.expect("this test installs the counting allocator");
            assert!(bytes.fresh > 0.0 && bytes.after_message > 0.0, "{}: {bytes:?}", peer.id());
        } else {
            assert_eq!(m.bytes_per_actor, None, "{}", peer.id());
        }
    }
}
