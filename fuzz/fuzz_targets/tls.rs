//! TLS records and handshakes in both directions, cut into arbitrary pieces, with and without a
//! key log, with gaps.
#![no_main]
use libfuzzer_sys::fuzz_target;
use siptriage::net::Dir;
use siptriage::time::Ts;
use siptriage::tls::{KeyLog, Keys, TlsStream};

fuzz_target!(|data: &[u8]| {
    let mut log = KeyLog::default();
    // A key for the all-zero client random, so decryption paths run too.
    log.add_text("fuzz", &format!("CLIENT_RANDOM {} {}\nCLIENT_HANDSHAKE_TRAFFIC_SECRET {} {}\n", "00".repeat(32), "11".repeat(48), "00".repeat(32), "22".repeat(32)));
    let keys = Keys { log: &log, certs: &Default::default(), hold_budget: None, inject: None };
    let mut t = TlsStream::default();
    let mut sink = |_: Dir, _: &[u8], _: u64, _: Ts| {};
    for (i, chunk) in data.split(|&b| b == 0xf0).enumerate() {
        let dir = if i % 2 == 0 { Dir::ToServer } else { Dir::ToClient };
        if chunk.first() == Some(&0xf1) {
            t.gap(dir);
            continue;
        }
        t.data(dir, chunk, i as u64, Ts(i as i64), keys, &mut sink);
    }
    let _ = t.decryption_status(&log);
});
