//! Workloads shared by the criterion benches and the comparison binary.

pub mod scheduler;
