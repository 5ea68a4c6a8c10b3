//! Development tools of siptriage, kept out of the shipped library: the deterministic workload
//! generator (`workload`, for benchmarks and limit tests), the cluster generator (`cluster`:
//! many devices registering for minutes, a chosen share failing), the fixture recorder (the
//! `record-fixtures` binary) and the TCP/IP framer they share (`framer`).

pub mod cluster;
pub mod framer;
pub mod workload;
