//! actor12's runtime: a work-stealing, thread-per-core scheduler with its own timer wheel.
//!
//! Under construction: the scheduler arrives with the runtime issue. Today this crate only fixes
//! its place in the workspace.
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]
