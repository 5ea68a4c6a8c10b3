//! A cluster's capture, judged whole (`analyze::analyze_bytes`: reading, decryption, SIP flow,
//! rules): devices registering and refreshing for minutes over three CUCM nodes, 20 % failing
//! in three ways (`siptriage_dev::cluster`). Three captures: SIP in clear, SIP in TLS 1.2 with
//! its key log, and the same TLS without keys. Reports bytes/s and SIP messages/s.
//! Run: `cargo bench --bench cluster`; the size as `benches/common` says.

use siptriage::analyze::analyze_bytes;

mod common;
use common::{clear, tls, Capture};

/// The binary's allocator, so that the figures are the binary's.
#[cfg(all(feature = "jemalloc", not(windows)))]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() {
    divan::main();
}

fn judge(b: divan::Bencher, c: &Capture, keys: bool) {
    let cfg = c.config(keys);
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
