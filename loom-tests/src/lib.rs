//! loom models of actor12's atomic protocols.
//!
//! The models live in `tests/` and compile only under `--cfg actor12_loom`, which also switches
//! the crates under test to loom's atomics:
//!
//! ```text
//! RUSTFLAGS="--cfg actor12_loom" LOOM_MAX_PREEMPTIONS=2 cargo test -p actor12-loom-tests --release
//! ```
