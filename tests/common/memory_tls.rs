//! A rustls client and server talking through memory with one cipher suite, for the tests and
//! benchmarks that need a real TLS session and its key log. Included by path from
//! `tests/suites.rs` and `benches/decrypt.rs`.

use std::sync::{Arc, Mutex};

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use siptriage::net::Dir;

/// Collects the session secrets in SSLKEYLOGFILE format.
#[derive(Debug, Default)]
pub struct Log(Mutex<String>);

impl Log {
    /// The key log so far.
    pub fn text(&self) -> String {
        self.0.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

impl rustls::KeyLog for Log {
    fn log(&self, label: &str, random: &[u8], secret: &[u8]) {
        let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
        if let Ok(mut s) = self.0.lock() {
            s.push_str(&format!("{label} {} {}\n", hex(random), hex(secret)));
        }
    }
}

/// Both ends of one session, with the client's key log.
pub struct Pair {
    pub client: rustls::ClientConnection,
    pub server: rustls::ServerConnection,
    pub log: Arc<Log>,
}

/// A session for `suite` (at its protocol version) with a self-signed ECDSA certificate for
/// cucm1.lab.example; nothing has been exchanged yet.
pub fn pair(suite: rustls::SupportedCipherSuite) -> Pair {
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
    Pair {
        client: rustls::ClientConnection::new(Arc::new(ccfg), name).expect("client"),
        server: rustls::ServerConnection::new(Arc::new(scfg)).expect("server"),
        log,
    }
}

impl Pair {
    /// Moves what the client has to send to the server, then what the server has to send to the
    /// client, appending those wire bytes to `wire`; false when neither had anything to send.
    /// Received plaintext is read and dropped.
    pub fn pump(&mut self, wire: &mut Vec<(Dir, Vec<u8>)>) -> bool {
        let mut moved = false;
        let mut out = Vec::new();
        while self.client.wants_write() && self.client.write_tls(&mut out).is_ok() {}
        if !out.is_empty() {
            let mut rest = &out[..];
            while !rest.is_empty() {
                self.server.read_tls(&mut rest).expect("read");
                self.server.process_new_packets().expect("server ok");
                let _ = std::io::Read::read_to_end(&mut self.server.reader(), &mut Vec::new());
            }
            wire.push((Dir::ToServer, out));
            moved = true;
        }
        let mut back = Vec::new();
        while self.server.wants_write() && self.server.write_tls(&mut back).is_ok() {}
        if !back.is_empty() {
            let mut rest = &back[..];
            while !rest.is_empty() {
                self.client.read_tls(&mut rest).expect("read");
                self.client.process_new_packets().expect("client ok");
                let _ = std::io::Read::read_to_end(&mut self.client.reader(), &mut Vec::new());
            }
            wire.push((Dir::ToClient, back));
            moved = true;
        }
        moved
    }
}
