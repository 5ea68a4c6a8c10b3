//! Regression tests named after the bugs they pin; inputs in `tests/regressions/`.

use siptriage::capture::Frame;
use siptriage::decode::Decoder;
use siptriage::time::Ts;

/// Feeds input the way the `decode` fuzz target does: frames split at 0xfe, the first byte of
/// each choosing the link type.
fn decode_like_the_fuzzer(data: &[u8]) -> u64 {
    let mut d = Decoder::new();
    let mut packets = 0;
    for (i, chunk) in data.split(|&b| b == 0xfe).enumerate() {
        let Some((&lt, rest)) = chunk.split_first() else {
            continue;
        };
        let linktype = [0, 1, 12, 101, 108, 113, 228, 229, 276][lt as usize % 9];
        let f = Frame {
            number: i as u64 + 1,
            ts: Ts(i as i64),
            linktype,
            data: rest,
            orig_len: rest.len() as u32,
        };
        d.decode(&f, &mut |_| packets += 1);
    }
    packets
}

/// etherparse 0.21's IPv6 extension iterator read past the end of a cut fragment header
/// (AddressSanitizer: heap-buffer-overflow in `Ipv6FragmentHeaderSlice::next_header`). The
/// fragment header is now read by our own bounds-checked walk.
#[test]
fn etherparse_ipv6_fragment_overread() {
    let input = include_bytes!("regressions/etherparse_ipv6_fragment_overread.bin");
    decode_like_the_fuzzer(input);
    // The same shape, built by hand: IPv6 with a fragment extension cut after 3 bytes.
    let mut v6 = vec![0x60, 0, 0, 0, 0, 8, 44, 64];
    v6.extend_from_slice(&[0u8; 32]);
    v6.extend_from_slice(&[17, 0, 0]);
    let f = Frame {
        number: 1,
        ts: Ts(0),
        linktype: 101,
        data: &v6,
        orig_len: v6.len() as u32,
    };
    let mut d = Decoder::new();
    d.decode(&f, &mut |_| {});
}

/// pcap-parser 0.17 computes `block_len - 12` before checking it (pcapng/block.rs:162): a block
/// claiming 11 bytes panicked with "attempt to subtract with overflow" under overflow checks and
/// killed panic=abort builds (found by the `capture` fuzz target with debug assertions). pcapng
/// blocks are now framed and checked by siptriage before pcap-parser sees them.
#[test]
fn pcap_parser_block_len_underflow() {
    let input = include_bytes!("regressions/pcap_parser_block_len_underflow.bin");
    let (facts, _) =
        siptriage::analyze::analyze_bytes(input, &siptriage::config::Config::default())
            .expect("the section header reads");
    let stopped = facts.info.and_then(|i| i.stopped).unwrap_or_default();
    assert!(
        stopped.contains("a block claims 11 bytes (corrupt length)"),
        "{stopped}"
    );
}

/// A fragment whose offset lies past the end the last fragment declared made reassembly slice
/// out of range ("range start index 96 out of range for slice of length 46", found by the
/// `decode` fuzz target). Such fragments are now ignored when the datagram is assembled.
#[test]
fn defrag_fragment_past_declared_end() {
    let input = include_bytes!("regressions/defrag_fragment_past_declared_end.bin");
    decode_like_the_fuzzer(input);
}
