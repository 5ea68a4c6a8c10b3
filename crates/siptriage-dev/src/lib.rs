//! Development tools of siptriage, kept out of the shipped library: the deterministic workload
//! generator (`workload`, for benchmarks and limit tests), the cluster generator (`cluster`:
//! many devices registering for minutes, a chosen share failing), the fixture recorder (the
//! `record-fixtures` binary) and the TCP/IP framer they share (`framer`).

pub mod cluster;
pub mod framer;
pub mod live;
pub mod logs;
pub mod workload;

/// The value after `flag` on a tool's command line (`--seed 7` gives `Some("7")`).
pub fn flag_value(args: &[String], flag: &str) -> Option<String> {
    args.iter()
        .position(|a| a == flag)
        .and_then(|i| args.get(i + 1))
        .cloned()
}
