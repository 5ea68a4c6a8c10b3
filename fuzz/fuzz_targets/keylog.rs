//! NSS key log parsing.
#![no_main]
use libfuzzer_sys::fuzz_target;
use siptriage::tls::KeyLog;

fuzz_target!(|data: &[u8]| {
    let mut k = KeyLog::default();
    k.add_text("fuzz", &String::from_utf8_lossy(data));
    let _ = k.get(&[0u8; 32]);
});
