//! Every cipher suite rustls can negotiate, decrypted by siptriage from a real session recorded
//! in memory with its key log: TLS 1.2 AES-128/256-GCM and ChaCha20-Poly1305 (both key types),
//! TLS 1.3 AES-128/256-GCM and ChaCha20-Poly1305. The plaintext must come back byte for byte.

mod common;
#[path = "common/memory_tls.rs"]
mod memory_tls;

use std::io::Write;

use common::reverse_secrets;
use siptriage::net::Dir;
use siptriage::time::Ts;
use siptriage::tls::{KeyLog, Keys, TlsStream};

/// Both directions on the wire, the key log, and the plaintext the client sent.
type Session = (Vec<(Dir, Vec<u8>)>, String, Vec<u8>);

fn session(suite: rustls::SupportedCipherSuite) -> Session {
    let mut pair = memory_tls::pair(suite);
    let message = b"REGISTER sip:cucm1.lab.example SIP/2.0\r\nContent-Length: 0\r\n\r\n".repeat(50);
    let mut wire = Vec::new();
    let mut sent = false;
    for _ in 0..20 {
        if !pair.client.is_handshaking() && !sent {
            pair.client.writer().write_all(&message).expect("write");
            sent = true;
        }
        pair.pump(&mut wire);
    }
    (wire, pair.log.text(), message)
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
            certs: &Default::default(),
            hold_budget: None,
            inject: None,
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
        let flipped = reverse_secrets(&keylog);
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
                    certs: &Default::default(),
                    hold_budget: None,
                    inject: None,
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
