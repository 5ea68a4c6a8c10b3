//! Link, IP and fragment decoding of one frame after another.
#![no_main]
use libfuzzer_sys::fuzz_target;
use siptriage::capture::Frame;
use siptriage::decode::Decoder;
use siptriage::time::Ts;

fuzz_target!(|data: &[u8]| {
    let mut d = Decoder::new();
    // Frames are split at 0xff 0x00 markers; the first byte of each picks the link type.
    for (i, chunk) in data.split(|&b| b == 0xfe).enumerate() {
        let Some((&lt, rest)) = chunk.split_first() else { continue };
        let linktype = [0, 1, 12, 101, 108, 113, 228, 229, 276][lt as usize % 9];
        let f = Frame { number: i as u64 + 1, ts: Ts(i as i64 * 1_000_000), linktype, data: rest, orig_len: rest.len() as u32 };
        d.decode(&f, &mut |p| {
            let _ = p.missing;
        });
    }
});
