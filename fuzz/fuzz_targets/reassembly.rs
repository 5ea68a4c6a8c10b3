//! TCP reassembly of one direction: arbitrary segments (seq, length, payload) in any order.
#![no_main]
use libfuzzer_sys::fuzz_target;
use siptriage::flow::reassembly::{Chunk, Half};

fuzz_target!(|data: &[u8]| {
    let mut h = Half::default();
    let mut delivered = 0usize;
    let mut at = 0;
    let mut frame = 0;
    while at + 6 <= data.len() {
        let seq = u32::from_le_bytes([data[at], data[at + 1], data[at + 2], data[at + 3]]);
        let len = data[at + 4] as usize;
        let syn = data[at + 5] & 1 == 1;
        at += 6;
        let payload = &data[at..(at + len).min(data.len())];
        at += payload.len();
        frame += 1;
        if syn {
            h.syn(seq);
        }
        h.segment(seq, payload, frame, &mut |c| {
            if let Chunk::Data(d, _) = c {
                delivered += d.len();
            }
        });
    }
    h.flush(&mut |c| {
        if let Chunk::Data(d, _) = c {
            delivered += d.len();
        }
    });
    assert!(delivered as u64 == h.delivered);
});
