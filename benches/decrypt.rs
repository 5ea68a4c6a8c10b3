//! TLS decryption throughput: MB/s of TLS records through the decoder with and without keys.
//! The transcript is a real rustls session (4 MiB of application data each way) recorded in
//! memory at setup. Run: `cargo bench --bench decrypt`.

use std::io::Write;
use std::sync::{Arc, Mutex};

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use siptriage::flow::Dir;
use siptriage::time::Ts;
use siptriage::tls::{KeyLog, Keys, TlsStream};

fn main() {
    divan::main();
}

#[derive(Debug, Default)]
struct Log(Mutex<String>);

impl rustls::KeyLog for Log {
    fn log(&self, label: &str, random: &[u8], secret: &[u8]) {
        let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
        if let Ok(mut s) = self.0.lock() {
            s.push_str(&format!("{label} {} {}\n", hex(random), hex(secret)));
        }
    }
}

struct Transcript {
    chunks: Vec<(Dir, Vec<u8>)>,
    bytes: usize,
    keys: KeyLog,
}

fn transcript(
    version: &'static rustls::SupportedProtocolVersion,
    suite: rustls::SupportedCipherSuite,
) -> Transcript {
    let key = rcgen::KeyPair::generate().expect("key");
    let cert = rcgen::CertificateParams::new(vec!["cucm1.lab.example".to_string()])
        .expect("params")
        .self_signed(&key)
        .expect("cert");
    let der: CertificateDer<'static> = cert.der().clone();
    let mut provider = rustls::crypto::ring::default_provider();
    provider.cipher_suites = vec![suite];
    let provider = Arc::new(provider);
    let mut roots = rustls::RootCertStore::empty();
    roots.add(der.clone()).expect("root");
    let log = Arc::new(Log::default());
    let mut ccfg = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[version])
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    ccfg.key_log = log.clone();
    let scfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[version])
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(
            vec![der],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        )
        .expect("server");
    let name = rustls::pki_types::ServerName::try_from("cucm1.lab.example").expect("name");
    let mut c = rustls::ClientConnection::new(Arc::new(ccfg), name).expect("client");
    let mut s = rustls::ServerConnection::new(Arc::new(scfg)).expect("server");
    let mut chunks = Vec::new();
    let msg = vec![b'S'; 16 * 1024];
    let mut sent = 0;
    loop {
        if !c.is_handshaking() && sent < 4 << 20 {
            c.writer().write_all(&msg).expect("write");
            s.writer().write_all(&msg).expect("write");
            sent += msg.len();
        }
        let mut moved = false;
        for dir in [Dir::ToServer, Dir::ToClient] {
            let mut out = Vec::new();
            match dir {
                Dir::ToServer => while c.wants_write() && c.write_tls(&mut out).is_ok() {},
                Dir::ToClient => while s.wants_write() && s.write_tls(&mut out).is_ok() {},
            }
            if !out.is_empty() {
                moved = true;
                match dir {
                    Dir::ToServer => {
                        let mut rest = &out[..];
                        while !rest.is_empty() {
                            s.read_tls(&mut rest).expect("read");
                            s.process_new_packets().expect("ok");
                            let _ = std::io::Read::read_to_end(&mut s.reader(), &mut Vec::new());
                        }
                    }
                    Dir::ToClient => {
                        let mut rest = &out[..];
                        while !rest.is_empty() {
                            c.read_tls(&mut rest).expect("read");
                            c.process_new_packets().expect("ok");
                            let _ = std::io::Read::read_to_end(&mut c.reader(), &mut Vec::new());
                        }
                    }
                }
                chunks.push((dir, out));
            }
        }
        if !moved && sent >= 4 << 20 {
            break;
        }
    }
    let mut keys = KeyLog::default();
    keys.add_text(
        "bench",
        &log.0.lock().map(|s| s.clone()).unwrap_or_default(),
    );
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
        hold_budget: None,
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
        "TLS1.2 AES-128-GCM" => transcript(
            &rustls::version::TLS12,
            cs::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        ),
        "TLS1.3 AES-128-GCM" => transcript(&rustls::version::TLS13, cs::TLS13_AES_128_GCM_SHA256),
        _ => transcript(&rustls::version::TLS13, cs::TLS13_CHACHA20_POLY1305_SHA256),
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
