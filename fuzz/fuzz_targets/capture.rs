//! Capture reading (pcap, pcapng, gzip) on arbitrary bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;
use siptriage::capture::{read_capture_bytes, CaptureSink, Frame};

struct Count(u64);
impl CaptureSink for Count {
    fn frame(&mut self, f: &Frame<'_>) {
        self.0 += f.data.len() as u64;
    }
}

fuzz_target!(|data: &[u8]| {
    let _ = read_capture_bytes("fuzz", data, &mut Count(0));
});
