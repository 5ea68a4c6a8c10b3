//! TLS decryption throughput: MB/s of TLS records through the decoder with and without keys.
//! The transcript is a real rustls session (4 MiB of application data each way) recorded in
//! memory at setup. Run: `cargo bench --bench decrypt`.

#[path = "../tests/common/memory_tls.rs"]
mod memory_tls;

use std::io::Write;

use siptriage::net::Dir;
use siptriage::time::Ts;
use siptriage::tls::{KeyLog, Keys, TlsStream};

fn main() {
    divan::main();
}

struct Transcript {
    chunks: Vec<(Dir, Vec<u8>)>,
    bytes: usize,
    keys: KeyLog,
}

fn transcript(suite: rustls::SupportedCipherSuite) -> Transcript {
    let mut pair = memory_tls::pair(suite);
    let mut chunks = Vec::new();
    let msg = vec![b'S'; 16 * 1024];
    let mut sent = 0;
    loop {
        if !pair.client.is_handshaking() && sent < 4 << 20 {
            pair.client.writer().write_all(&msg).expect("write");
            pair.server.writer().write_all(&msg).expect("write");
            sent += msg.len();
        }
        if !pair.pump(&mut chunks) && sent >= 4 << 20 {
            break;
        }
    }
    let mut keys = KeyLog::default();
    keys.add_text("bench", &pair.log.text());
    let bytes = chunks.iter().map(|(_, b)| b.len()).sum();
    Transcript {
        chunks,
        bytes,
        keys,
    }
}

fn run(t: &Transcript, with_keys: bool) -> u64 {
    let empty = KeyLog::default();
    let keys = Keys {
        log: if with_keys { &t.keys } else { &empty },
        certs: &Default::default(),
        hold_budget: None,
        inject: None,
    };
    let mut stream = TlsStream::default();
    let mut plain = 0u64;
    for (i, (dir, bytes)) in t.chunks.iter().enumerate() {
        stream.data(*dir, bytes, i as u64, Ts(0), keys, &mut |_, p, _, _| {
            plain += p.len() as u64
        });
    }
    assert!(!with_keys || plain > 0, "nothing decrypted");
    plain
}

const CASES: &[&str] = &[
    "TLS1.2 AES-128-GCM",
    "TLS1.3 AES-128-GCM",
    "TLS1.3 ChaCha20-Poly1305",
];

fn make(case: &str) -> Transcript {
    use rustls::crypto::ring::cipher_suite as cs;
    match case {
        "TLS1.2 AES-128-GCM" => transcript(cs::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256),
        "TLS1.3 AES-128-GCM" => transcript(cs::TLS13_AES_128_GCM_SHA256),
        _ => transcript(cs::TLS13_CHACHA20_POLY1305_SHA256),
    }
}

#[divan::bench(args = CASES, sample_count = 10)]
fn with_keys(bencher: divan::Bencher, case: &str) {
    let t = make(case);
    bencher
        .counter(divan::counter::BytesCount::new(t.bytes))
        .bench(|| run(&t, true));
}

#[divan::bench(args = CASES, sample_count = 10)]
fn without_keys(bencher: divan::Bencher, case: &str) {
    let t = make(case);
    bencher
        .counter(divan::counter::BytesCount::new(t.bytes))
        .bench(|| run(&t, false));
}
