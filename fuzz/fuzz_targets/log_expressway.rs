//! An Expressway diagnostic log: tvcs records, UTCTime, SIPMSG blocks and TLS Negotiation Errors.
//! Times past what nanoseconds hold (a line dated after 2262) must be refused, not wrapped.
#![no_main]
use libfuzzer_sys::fuzz_target;
use siptriage::logs::LogStats;

fuzz_target!(|data: &[u8]| {
    let mut input = data;
    let mut stats = LogStats::default();
    let _ = siptriage::logs::expressway::read(&mut input, &mut stats, &mut ());
    let _ = siptriage::logs::first_time(siptriage::logs::LogKind::Expressway, data);
});
