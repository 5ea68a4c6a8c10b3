//! A cluster's capture, judged whole (`analyze::analyze_bytes`: reading, decryption, SIP flow,
//! rules): devices registering and refreshing for minutes over three CUCM nodes, 20 % failing
//! in three ways (`siptriage_dev::cluster`). Three captures: SIP in clear, SIP in TLS 1.2 with
//! its key log, and the same TLS without keys. Reports bytes/s and SIP messages/s.
//! Run: `cargo bench --bench cluster`. `SIPTRIAGE_BENCH_DEVICES` (default 2,000) and
//! `SIPTRIAGE_BENCH_SECONDS` (default 600) set the size.

use std::sync::OnceLock;

use siptriage::analyze::analyze_bytes;
use siptriage::config::Config;
use siptriage_dev::cluster::{generate, Cluster};

/// The binary's allocator, so that the figures are the binary's.
#[cfg(feature = "jemalloc")]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() {
    divan::main();
}

struct Capture {
    bytes: Vec<u8>,
    keylog: String,
    sip_messages: u64,
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
    b.counter(divan::counter::BytesCount::new(c.bytes.len()))
        .counter(divan::counter::ItemsCount::new(c.sip_messages as usize))
        .bench(|| {
            let (facts, findings) = analyze_bytes(&c.bytes, &cfg).expect("reads");
            (facts.sip_total, findings.len())
        });
}

#[divan::bench(sample_count = 5)]
fn sip_in_clear(b: divan::Bencher) {
    judge(b, clear(), false);
}

#[divan::bench(sample_count = 5)]
fn sip_in_tls_with_keys(b: divan::Bencher) {
    judge(b, tls(), true);
}

#[divan::bench(sample_count = 5)]
fn sip_in_tls_without_keys(b: divan::Bencher) {
    judge(b, tls(), false);
}
