//! The cluster captures the benchmarks judge (`siptriage_dev::cluster`: devices registering
//! and refreshing over three CUCM nodes, 20 % failing), made once per benchmark binary.
//! `SIPTRIAGE_BENCH_DEVICES` (default 2,000) and `SIPTRIAGE_BENCH_SECONDS` (default 600) set
//! the size.
#![allow(dead_code)]

use std::sync::OnceLock;

use siptriage::config::Config;
use siptriage_dev::cluster::{generate, Cluster};

/// A generated capture, with what it holds.
pub struct Capture {
    pub bytes: Vec<u8>,
    pub keylog: String,
    pub sip_messages: u64,
    pub frames: u64,
    pub devices: u32,
}

impl Capture {
    /// The settings to judge it with, with its key log or without.
    pub fn config(&self, keys: bool) -> Config {
        let mut cfg = Config::default();
        if keys {
            cfg.secrets.keylog.add_text("bench.keys", &self.keylog);
        }
        cfg
    }
}

fn env(name: &str, default: u32) -> u32 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn make(tls: bool) -> Capture {
    let spec = Cluster {
        devices: env("SIPTRIAGE_BENCH_DEVICES", 2000),
        seconds: env("SIPTRIAGE_BENCH_SECONDS", 600),
        tls,
        ..Cluster::default()
    };
    let mut bytes = Vec::new();
    let stats = generate(&spec, &mut bytes).expect("generates");
    Capture {
        bytes,
        keylog: stats.keylog,
        sip_messages: stats.sip_messages,
        frames: stats.frames,
        devices: spec.devices,
    }
}

/// SIP in clear.
pub fn clear() -> &'static Capture {
    static C: OnceLock<Capture> = OnceLock::new();
    C.get_or_init(|| make(false))
}

/// SIP in TLS 1.2, with its key log beside it.
pub fn tls() -> &'static Capture {
    static C: OnceLock<Capture> = OnceLock::new();
    C.get_or_init(|| make(true))
}
