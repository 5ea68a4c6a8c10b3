//! Real traffic for the live sensor's tests and measurements, never leaving the machine:
//! recorded captures injected onto the loopback interface with every address moved into
//! 127.0.0.0/8, and real TLS between rustls peers over loopback sockets.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::{ClientConfig, RootCertStore, ServerConfig};

type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// The frames of a capture: `(time in ns, link type, bytes)`.
pub fn frames_of(path: &str) -> Res<Vec<(i64, i32, Vec<u8>)>> {
    struct Collect(Vec<(i64, i32, Vec<u8>)>);
    impl siptriage::capture::CaptureSink for Collect {
        fn frame(&mut self, f: &siptriage::capture::Frame<'_>) {
            self.0.push((f.ts.0, f.linktype, f.data.to_vec()));
        }
    }
    let mut c = Collect(Vec::new());
    siptriage::capture::read_capture(path, &mut c)?;
    Ok(c.0)
}

/// An Ethernet frame of IPv4 TCP or UDP moved onto loopback: both addresses into 127.0.0.0/8
/// (the first byte becomes 127, the other three stay, so hosts stay apart), MAC addresses
/// zero as on `lo`, any VLAN tag removed, the TTL set to `ttl` (a mark a test's filter can
/// select, apart from what the kernel answers to these packets), checksums recomputed.
/// `None` for anything else (IPv6, fragments, other link types).
pub fn to_loopback(frame: &[u8], linktype: i32, ttl: u8) -> Option<Vec<u8>> {
    use etherparse::{NetSlice, SlicedPacket, TransportSlice};
    if linktype != 1 {
        return None;
    }
    let p = SlicedPacket::from_ethernet(frame).ok()?;
    let Some(NetSlice::Ipv4(ip)) = &p.net else {
        return None;
    };
    if ip.is_payload_fragmented() {
        return None;
    }
    let mut h = ip.header().to_header();
    let lo = |a: [u8; 4]| [127, a[1], a[2], a[3]];
    h.source = lo(h.source);
    h.destination = lo(h.destination);
    h.time_to_live = ttl;
    h.header_checksum = h.calc_header_checksum();
    let eth = etherparse::Ethernet2Header {
        source: [0; 6],
        destination: [0; 6],
        ether_type: etherparse::EtherType::IPV4,
    };
    let mut out = eth.to_bytes().to_vec();
    match &p.transport {
        Some(TransportSlice::Tcp(t)) => {
            let mut th = t.to_header();
            th.checksum = th.calc_checksum_ipv4(&h, t.payload()).ok()?;
            out.extend_from_slice(&h.to_bytes());
            out.extend_from_slice(&th.to_bytes());
            out.extend_from_slice(t.payload());
        }
        Some(TransportSlice::Udp(u)) => {
            let mut uh = u.to_header();
            uh.checksum = uh.calc_checksum_ipv4(&h, u.payload()).ok()?;
            out.extend_from_slice(&h.to_bytes());
            out.extend_from_slice(&uh.to_bytes());
            out.extend_from_slice(u.payload());
        }
        _ => return None,
    }
    Some(out)
}

/// Sends frames out of `interface` (as root), `gap` apart; returns how many were sent.
pub fn inject(interface: &str, frames: &[Vec<u8>], gap: Duration) -> Res<u64> {
    let mut cap = siptriage::live::Live::open_for_sending(interface)?;
    let mut sent = 0;
    for f in frames {
        cap.send(f.as_slice())?;
        sent += 1;
        if !gap.is_zero() {
            std::thread::sleep(gap);
        }
    }
    Ok(sent)
}

/// A key log file that a rustls client appends to as it goes (as SSLKEYLOGFILE does).
#[derive(Debug)]
struct FileKeyLog(Mutex<std::fs::File>);

impl rustls::KeyLog for FileKeyLog {
    fn log(&self, label: &str, client_random: &[u8], secret: &[u8]) {
        let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
        if let Ok(mut f) = self.0.lock() {
            let _ = writeln!(f, "{label} {} {}", hex(client_random), hex(secret));
            let _ = f.flush();
        }
    }
}

/// How a loopback TLS exchange ended, seen from the client.
#[derive(Debug)]
pub struct Exchange {
    /// The server's SIP answer, when the handshake succeeded.
    pub answer: Option<String>,
    /// The client's handshake error, when it refused the server.
    pub refused: Option<String>,
}

/// A device registering to CUCM over real TLS on loopback: a rustls server on `server`
/// (CUCM, its certificate under a lab CA) and a rustls client from `client_ip`. With
/// `trusted`, the client trusts the lab CA, appends its secrets to `keylog`, sends a
/// REGISTER with a Bearer token, and CUCM answers 403 with the port-mismatch Warning. Without
/// it, the client trusts another CA and refuses CUCM's certificate with an `unknown_ca`
/// alert.
pub fn register_over_tls(
    server: SocketAddr,
    trusted: bool,
    keylog: Option<&std::path::Path>,
) -> Res<Exchange> {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    let provider = || Arc::new(rustls::crypto::ring::default_provider());
    let ca = |name: &str| -> Res<(
        rustls::pki_types::CertificateDer<'static>,
        Issuer<'static, KeyPair>,
    )> {
        let key = KeyPair::generate()?;
        let mut p = CertificateParams::new(Vec::<String>::new())?;
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.distinguished_name.push(rcgen::DnType::CommonName, name);
        let der = p.self_signed(&key)?.der().clone();
        Ok((der, Issuer::new(p, key)))
    };
    let (lab_der, lab) = ca("Loopback Lab CA")?;
    let (other_der, _) = ca("Some Other CA")?;
    let key = KeyPair::generate()?;
    let mut leaf = CertificateParams::new(vec!["cucm1.lab.example".to_string()])?;
    leaf.distinguished_name
        .push(rcgen::DnType::CommonName, "cucm1.lab.example");
    let leaf_der = leaf.signed_by(&key, &lab)?.der().clone();
    let server_cfg = Arc::new(
        ServerConfig::builder_with_provider(provider())
            .with_protocol_versions(&[&rustls::version::TLS12])?
            .with_no_client_auth()
            .with_single_cert(
                vec![leaf_der],
                rustls::pki_types::PrivateKeyDer::try_from(key.serialize_der())?,
            )?,
    );
    let mut roots = RootCertStore::empty();
    roots.add(if trusted { lab_der } else { other_der })?;
    let mut client_cfg = ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS12])?
        .with_root_certificates(roots)
        .with_no_client_auth();
    if let Some(path) = keylog {
        let f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        client_cfg.key_log = Arc::new(FileKeyLog(Mutex::new(f)));
    }
    let listener = TcpListener::bind(server)?;
    let cucm = std::thread::spawn(move || -> Res<()> {
        let (sock, _) = listener.accept()?;
        sock.set_read_timeout(Some(Duration::from_secs(10)))?;
        let conn = rustls::ServerConnection::new(server_cfg)?;
        let mut tls = rustls::StreamOwned::new(conn, sock);
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        while !got.windows(4).any(|w| w == b"\r\n\r\n") {
            match tls.read(&mut buf) {
                Ok(0) | Err(_) => return Ok(()), // the client refused the handshake
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
        let req = String::from_utf8_lossy(&got).to_string();
        let header = |name: &str| {
            req.lines()
                .find(|l| l.to_ascii_lowercase().starts_with(&format!("{name}:")))
                .unwrap_or("")
                .to_string()
        };
        let answer = format!(
            "SIP/2.0 403 Forbidden\r\n{}\r\n{}\r\n{}\r\n{}\r\n{}\r\nWarning: 399 UCM-PUB \"SIP OAuth Registration port Mismatch\"\r\nContent-Length: 0\r\n\r\n",
            header("via"),
            header("from"),
            header("to"),
            header("call-id"),
            header("cseq")
        );
        tls.write_all(answer.as_bytes())?;
        tls.flush()?;
        tls.conn.send_close_notify();
        let _ = tls.flush();
        Ok(())
    });
    let sock = TcpStream::connect(server)?;
    sock.set_read_timeout(Some(Duration::from_secs(10)))?;
    let me = sock.local_addr()?;
    let name = rustls::pki_types::ServerName::try_from("cucm1.lab.example")?.to_owned();
    let conn = rustls::ClientConnection::new(Arc::new(client_cfg), name)?;
    let mut tls = rustls::StreamOwned::new(conn, sock);
    let device = "CSFloopback";
    let register = format!(
        "REGISTER sip:{ip} SIP/2.0\r\nVia: SIP/2.0/TLS {me};branch=z9hG4bKlive1\r\nFrom: <sip:{device}@{ip}>;tag=live\r\nTo: <sip:{device}@{ip}>\r\nCall-ID: live-{port}@{mip}\r\nCSeq: 2 REGISTER\r\nContact: <sip:{device}@{me};transport=tls>;+u.sip!devicename.ccm.cisco.com=\"{device}\"\r\nExpires: 3600\r\nProxy-Authorization: Bearer token=\"eyJhbGciOiJSUzI1NiIsImtpZCI6Imxpdm8ifQ.eyJwcml2YXRlIjoieCJ9.c2ln\"\r\nContent-Length: 0\r\n\r\n",
        ip = server.ip(),
        port = me.port(),
        mip = me.ip(),
    );
    let exchange = match tls.write_all(register.as_bytes()).and_then(|_| tls.flush()) {
        Err(e) => Exchange {
            answer: None,
            refused: Some(e.to_string()),
        },
        Ok(()) => {
            let mut got = Vec::new();
            let mut buf = [0u8; 4096];
            loop {
                match tls.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                    Err(e) if got.is_empty() => {
                        return Ok(Exchange {
                            answer: None,
                            refused: Some(e.to_string()),
                        })
                    }
                    Err(_) => break,
                }
            }
            tls.conn.send_close_notify();
            let _ = tls.flush();
            Exchange {
                answer: Some(String::from_utf8_lossy(&got).to_string()),
                refused: None,
            }
        }
    };
    drop(tls);
    cucm.join()
        .map_err(|_| "the CUCM thread panicked".to_string())??;
    Ok(exchange)
}
