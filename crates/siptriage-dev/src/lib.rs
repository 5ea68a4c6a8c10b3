//! Development tools of siptriage, kept out of the shipped library: the deterministic workload
//! generator (`workload`, for benchmarks and limit tests), the fixture recorder (the
//! `record-fixtures` binary) and the TCP/IP framer they share (`framer`).

pub mod framer;
pub mod workload;
