//! Every cipher suite rustls can negotiate, decrypted by siptriage from a real session recorded
//! in memory with its key log: TLS 1.2 AES-128/256-GCM and ChaCha20-Poly1305 (both key types),
//! TLS 1.3 AES-128/256-GCM and ChaCha20-Poly1305. The plaintext must come back byte for byte.

use std::io::Write;
use std::sync::{Arc, Mutex};

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use siptriage::flow::Dir;
use siptriage::time::Ts;
use siptriage::tls::{KeyLog, Keys, TlsStream};

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

/// Both directions on the wire, the key log, and the plaintext the client sent.
type Session = (Vec<(Dir, Vec<u8>)>, String, Vec<u8>);

fn session(suite: rustls::SupportedCipherSuite) -> Session {
    let key = rcgen::KeyPair::generate().expect("key");
    let cert = rcgen::CertificateParams::new(vec!["cucm1.lab.example".to_string()])
        .expect("params")
        .self_signed(&key)
        .expect("cert");
    let der: CertificateDer<'static> = cert.der().clone();
    let mut provider = rustls::crypto::ring::default_provider();
    provider.cipher_suites = vec![suite];
    let provider = Arc::new(provider);
    let version = suite.version();
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
    let message = b"REGISTER sip:cucm1.lab.example SIP/2.0\r\nContent-Length: 0\r\n\r\n".repeat(50);
    let mut wire = Vec::new();
    let mut sent = false;
    for _ in 0..20 {
        if !c.is_handshaking() && !sent {
            c.writer().write_all(&message).expect("write");
            sent = true;
        }
        let mut out = Vec::new();
        while c.wants_write() && c.write_tls(&mut out).is_ok() {}
        if !out.is_empty() {
            let mut rest = &out[..];
            while !rest.is_empty() {
                s.read_tls(&mut rest).expect("read");
                s.process_new_packets().expect("server ok");
            }
            wire.push((Dir::ToServer, out));
        }
        let mut back = Vec::new();
        while s.wants_write() && s.write_tls(&mut back).is_ok() {}
        if !back.is_empty() {
            let mut rest = &back[..];
            while !rest.is_empty() {
                c.read_tls(&mut rest).expect("read");
                c.process_new_packets().expect("client ok");
            }
            wire.push((Dir::ToClient, back));
        }
    }
    let keys = log.0.lock().map(|s| s.clone()).unwrap_or_default();
    (wire, keys, message)
}

#[test]
fn every_rustls_suite_decrypts() {
    let suites = rustls::crypto::ring::ALL_CIPHER_SUITES;
    assert!(suites.len() >= 9, "{} suites", suites.len());
    let mut tested = 0;
    for &suite in suites {
        // ECDSA certificates only (rcgen with ring): skip the RSA-authenticated TLS 1.2 suites.
        let name = format!("{:?}", suite.suite());
        if name.contains("_RSA_") {
            continue;
        }
        let (wire, keylog, message) = session(suite);
        let mut log = KeyLog::default();
        log.add_text("test", &keylog);
        let keys = Keys {
            log: &log,
            hold_budget: None,
        };
        let mut t = TlsStream::default();
        let mut plain = Vec::new();
        for (i, (dir, bytes)) in wire.iter().enumerate() {
            t.data(*dir, bytes, i as u64 + 1, Ts(0), keys, &mut |d, p, _, _| {
                if d == Dir::ToServer {
                    plain.extend_from_slice(p);
                }
            });
        }
        assert_eq!(
            t.decryption_status(&log).as_deref(),
            Some("decrypted"),
            "{name}"
        );
        assert!(
            plain == message,
            "{name}: {} of {} bytes back",
            plain.len(),
            message.len()
        );
        // And a wrong key never yields plaintext.
        let mut wrong = KeyLog::default();
        // Same client randoms, other secrets: the record tags must fail.
        let flipped: String = keylog
            .lines()
            .map(|l| {
                let mut p: Vec<String> = l.split(' ').map(str::to_string).collect();
                if let Some(sec) = p.get_mut(2) {
                    *sec = sec.chars().rev().collect();
                }
                p.join(" ") + "\n"
            })
            .collect();
        wrong.add_text("wrong", &flipped);
        let mut t = TlsStream::default();
        let mut leaked = 0;
        for (i, (dir, bytes)) in wire.iter().enumerate() {
            t.data(
                *dir,
                bytes,
                i as u64 + 1,
                Ts(0),
                Keys {
                    log: &wrong,
                    hold_budget: None,
                },
                &mut |_, p, _, _| leaked += p.len(),
            );
        }
        assert_eq!(leaked, 0, "{name}: garbage decoded with a wrong key");
        assert!(
            t.decryption_status(&wrong)
                .is_some_and(|s| s.contains("wrong key")),
            "{name}"
        );
        tested += 1;
    }
    assert_eq!(tested, 6, "TLS 1.3 x3 and TLS 1.2 ECDSA x3");
}
