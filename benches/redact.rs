//! What `--redact` costs: a cluster's capture (`benches/common`, SIP in TLS with its key log)
//! judged, its report built and rendered as JSON, plain and with every class redacted
//! (addresses with MACs, users, hosts, certificate names). The goal is at most 1.5 times the
//! plain run; divan prints both medians, and the ratio of `redacted_all` to `plain` is the
//! figure (docs/performance.md).
//!
//! Run: `cargo bench --bench redact`; the size as `benches/common` says
//! (`SIPTRIAGE_BENCH_DEVICES=24000 SIPTRIAGE_BENCH_SECONDS=1800` for the cluster of
//! docs/performance.md).

use std::sync::OnceLock;

use siptriage::analyze::{analyze, conclude, FailOn};
use siptriage::report::redact::{self, Redaction};

mod common;
use common::tls;

/// The binary's allocator, so that the figures are the binary's.
#[cfg(all(feature = "jemalloc", not(windows)))]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() {
    divan::main();
}

/// The capture and its key log, written once where `analyze` reads files.
fn files() -> &'static (String, String) {
    static F: OnceLock<(String, String)> = OnceLock::new();
    F.get_or_init(|| {
        let c = tls();
        let dir =
            std::env::temp_dir().join(format!("siptriage-bench-redact-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let cap = dir.join("cluster.pcap");
        let keys = dir.join("cluster.keys");
        std::fs::write(&cap, &c.bytes).expect("write");
        std::fs::write(&keys, &c.keylog).expect("write");
        (
            cap.to_string_lossy().to_string(),
            keys.to_string_lossy().to_string(),
        )
    })
}

fn run(what: Redaction) -> usize {
    let (cap, keys) = files();
    let mut cfg = tls().config(false);
    cfg.secrets.keylog.add_text(keys, &tls().keylog);
    let mut outcome = analyze(std::slice::from_ref(cap), &cfg);
    conclude(&mut outcome.report, &outcome.tally, FailOn::Error);
    let mut report = outcome.report;
    let redactor = redact::apply(&mut report, what);
    let json = serde_json::to_string(&report).expect("JSON");
    json.len() + redactor.map().len()
}

#[divan::bench(sample_count = 5)]
fn plain(b: divan::Bencher) {
    b.counter(divan::counter::BytesCount::new(tls().bytes.len()))
        .bench(|| run(Redaction::default()));
}

#[divan::bench(sample_count = 5)]
fn redacted_all(b: divan::Bencher) {
    b.counter(divan::counter::BytesCount::new(tls().bytes.len()))
        .bench(|| run(Redaction::ALL));
}
