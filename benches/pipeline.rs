//! Whole-pipeline throughput over the recorded fixtures (MB/s of capture analyzed).
//! Run: `cargo bench --bench pipeline`.

use siptriage::analyze::facts_of;
use siptriage::config::Config;

fn main() {
    divan::main();
}

const FIXTURES: &[&str] = &[
    "fixtures/healthy-registration-tls12.pcap",
    "fixtures/mra-unknown-ca-from-expressway.pcap",
    "fixtures/healthy-registration-vlan-reordered.pcap",
];

#[divan::bench(args = FIXTURES)]
fn analyze_fixture(bencher: divan::Bencher, path: &str) {
    let path = format!("{}/{path}", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let cfg = Config::default();
    bencher
        .counter(divan::counter::BytesCount::new(bytes))
        .bench(|| facts_of(divan::black_box(&path), &cfg).map(|f| f.connections.len()));
}
