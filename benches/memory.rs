//! Memory of a cluster's capture judged whole, from divan's allocation profiler wrapped around
//! the binary's allocator: `max alloc` is the most heap alive at once during a run (the
//! capture's own bytes, read before, are not in it), `alloc` how many allocations a run makes
//! (divide by the SIP messages for allocations per message). Devices registering and
//! refreshing over three CUCM nodes, 20 % failing (`siptriage_dev::cluster`), SIP in clear and
//! in TLS 1.2 with its key log. Peak heap over devices is the per-device cost the memory model
//! in docs/performance.md states; the whole process adds the program and the allocator's
//! own pages (measured there with the binary).
//!
//! Run: `cargo bench --bench memory`; the size as `benches/common` says
//! (`SIPTRIAGE_BENCH_DEVICES`, `SIPTRIAGE_BENCH_SECONDS`).

use siptriage::analyze::analyze_bytes;

mod common;
use common::{clear, tls, Capture};

#[cfg(all(feature = "jemalloc", not(windows)))]
#[global_allocator]
static ALLOC: divan::AllocProfiler<tikv_jemallocator::Jemalloc> =
    divan::AllocProfiler::new(tikv_jemallocator::Jemalloc);

#[cfg(not(all(feature = "jemalloc", not(windows))))]
#[global_allocator]
static ALLOC: divan::AllocProfiler = divan::AllocProfiler::system();

fn main() {
    divan::main();
}

fn judge(b: divan::Bencher, c: &Capture, keys: bool) {
    let cfg = c.config(keys);
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
