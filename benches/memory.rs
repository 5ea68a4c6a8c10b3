//! Memory of a cluster's capture judged whole, from divan's allocation profiler wrapped around
//! the binary's allocator: `max alloc` is the most heap alive at once during a run (the
//! capture's own bytes, read before, are not in it), `alloc` how many allocations a run makes
//! (divide by the SIP messages for allocations per message). Devices registering and
//! refreshing over three CUCM nodes, 20 % failing (`siptriage_dev::cluster`), SIP in clear and
//! in TLS 1.2 with its key log. Peak heap over devices is the per-device cost the memory model
//! in docs/performance.md states; the whole process adds the program and the allocator's
//! own pages (measured there with the binary).
//!
//! Run: `cargo bench --bench memory`. `SIPTRIAGE_BENCH_DEVICES` (default 2,000) and
//! `SIPTRIAGE_BENCH_SECONDS` (default 600) set the size.

use std::sync::OnceLock;

use siptriage::analyze::analyze_bytes;
use siptriage::config::Config;
use siptriage_dev::cluster::{generate, Cluster};

#[cfg(feature = "jemalloc")]
#[global_allocator]
static ALLOC: divan::AllocProfiler<tikv_jemallocator::Jemalloc> =
    divan::AllocProfiler::new(tikv_jemallocator::Jemalloc);

#[cfg(not(feature = "jemalloc"))]
#[global_allocator]
static ALLOC: divan::AllocProfiler = divan::AllocProfiler::system();

fn main() {
    divan::main();
}

struct Capture {
    bytes: Vec<u8>,
    keylog: String,
    devices: u32,
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
        devices: spec.devices,
    }
}

fn clear() -> &'static Capture {
    static C: OnceLock<Capture> = OnceLock::new();
    C.get_or_init(|| make(false))
}

fn tls() -> &'static Capture {
    static C: OnceLock<Capture> = OnceLock::new();
    C.get_or_init(|| make(true))
}

fn judge(b: divan::Bencher, c: &Capture, keys: bool) {
    let mut cfg = Config::default();
    if keys {
        cfg.secrets.keylog.add_text("bench.keys", &c.keylog);
    }
    b.counter(divan::counter::ItemsCount::new(c.devices))
        .bench(|| {
            let (facts, findings) = analyze_bytes(&c.bytes, &cfg).expect("reads");
            (facts.sip_total, findings.len())
        });
}

#[divan::bench(sample_count = 3, sample_size = 1)]
fn sip_in_clear(b: divan::Bencher) {
    judge(b, clear(), false);
}

#[divan::bench(sample_count = 3, sample_size = 1)]
fn sip_in_tls_with_keys(b: divan::Bencher) {
    judge(b, tls(), true);
}
