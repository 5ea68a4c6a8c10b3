//! Regression tests named after the bugs they pin; inputs in `tests/regressions/`.

mod common;

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

/// A pcapng Decryption Secrets Block pads its key log to 4 bytes with NULs. pcap-parser hands
/// out the padded bytes, and siptriage read the padding as part of the key log: the last line
/// became `<secret>\0…`, "not hex", so that session's keys were lost and a malformed-line note
/// appeared. Every Wireshark/editcap capture whose key log length is not a multiple of 4 hit it;
/// the recorded fixtures happened to be multiples of 4. The key log is now cut at its declared
/// length.
#[test]
fn dsb_padding_read_as_key_log() {
    let original = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/oauth-port-mismatch-tls12-dsb-at-end.pcapng"
    ))
    .expect("fixture");
    // Rebuild the Decryption Secrets Block without the key log's final newline, so that one NUL
    // of padding follows the last secret.
    let mut out = Vec::new();
    let mut at = 0;
    let mut rebuilt = false;
    while at + 12 <= original.len() {
        let u32_at = |i: usize| u32::from_le_bytes(original[i..i + 4].try_into().expect("4 bytes"));
        let (kind, len) = (u32_at(at), u32_at(at + 4) as usize);
        if kind == 0x0a {
            let secrets_len = u32_at(at + 12) as usize;
            let mut text = original[at + 16..at + 16 + secrets_len].to_vec();
            assert_eq!(text.pop(), Some(b'\n'));
            let mut body = 0x544c_534bu32.to_le_bytes().to_vec();
            body.extend_from_slice(&(text.len() as u32).to_le_bytes());
            body.extend_from_slice(&text);
            while !body.len().is_multiple_of(4) {
                body.push(0);
            }
            let total = (body.len() + 12) as u32;
            out.extend_from_slice(&0x0au32.to_le_bytes());
            out.extend_from_slice(&total.to_le_bytes());
            out.extend_from_slice(&body);
            out.extend_from_slice(&total.to_le_bytes());
            rebuilt = true;
        } else {
            out.extend_from_slice(&original[at..at + len]);
        }
        at += len;
    }
    assert!(rebuilt, "the fixture holds a Decryption Secrets Block");
    let dir = std::env::temp_dir().join(format!("siptriage-dsb-pad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("padded.pcapng");
    std::fs::write(&path, &out).expect("write");
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_siptriage"))
        .args(["analyze", "--format", "json"])
        .arg(&path)
        .output()
        .expect("run siptriage");
    std::fs::remove_dir_all(&dir).ok();
    let doc: serde_json::Value = serde_json::from_slice(&run.stdout).expect("JSON report");
    assert_eq!(doc["connections"][0]["tls"]["decryption"], "decrypted");
    assert_eq!(doc["findings"][0]["id"], "oauth-port-mismatch");
    assert!(
        !doc.to_string().contains("Decryption Secrets Block after"),
        "no malformed key-log line is reported"
    );
}

/// A Cisco IOS gateway's ordinary digest registration (its first REGISTER carries an empty
/// `Authorization: Digest` header, CUCM challenges with 401, the answer gets 200 OK) was
/// reported as ERROR registration-rejected, "the REGISTER already carried credentials".
#[test]
fn digest_registration_of_a_gateway_is_success_not_a_rejection() {
    let out = common::run(&[
        "analyze",
        "--format",
        "json",
        &common::fixture("digest-registration-gateway.pcap"),
    ]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(doc["findings"], serde_json::json!([]));
    assert_eq!(
        doc["registrations"][0]["answers"],
        serde_json::json!([401, 200])
    );
    assert_eq!(doc["verdict"], "ok");
    assert_eq!(out.status.code(), Some(0));
}

/// A Bearer challenge after which the client closed the connection, at the end of the capture,
/// was left undecided with "the capture ends right after it": the client closing, not the
/// capture, is why no answer followed, and that is said.
#[test]
fn challenge_then_client_close_is_not_blamed_on_the_capture_end() {
    let out = common::run(&[
        "analyze",
        "--format",
        "json",
        &common::fixture("bearer-challenge-then-close.pcap"),
    ]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(doc["findings"][0]["id"], "bearer-not-sent");
    let e = doc["findings"][0]["explanation"].as_str().unwrap_or("");
    assert!(
        e.contains("the client closed the connection (FIN, frame 9) without sending a REGISTER"),
        "{e}"
    );
    assert!(!doc["notes"]
        .to_string()
        .contains("capture ends right after"));
    assert_eq!(out.status.code(), Some(1));
}
