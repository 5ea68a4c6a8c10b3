//! A Jabber client log (jabber.log): its zone from a SIP Date header, then its records.
//! Times past what nanoseconds hold (a line dated after 2262) must be refused, not wrapped.
#![no_main]
use libfuzzer_sys::fuzz_target;
use siptriage::logs::LogStats;

fuzz_target!(|data: &[u8]| {
    let mut input = data;
    let offset = siptriage::logs::jabber::offset(&mut input).ok().flatten();
    let mut input = data;
    let mut stats = LogStats::default();
    let _ = siptriage::logs::jabber::read(&mut input, offset, &mut stats, &mut ());
    let _ = siptriage::logs::first_time(siptriage::logs::LogKind::Jabber, data);
});
