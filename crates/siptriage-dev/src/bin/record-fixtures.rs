//! Records the capture fixtures in `fixtures/`: rustls client and server talk through memory,
//! their bytes are framed into TCP/IP with etherparse and written as pcap or pcapng, with the
//! NSS key log beside each TLS capture. SIP messages are written as Jabber and CUCM send them.
//!
//! Run: `cargo run -p siptriage-dev --bin record-fixtures` (rewrites every file in `fixtures/`).

use std::io::Write;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{
    ClientConfig, ClientConnection, RootCertStore, ServerConfig, ServerConnection,
    SupportedProtocolVersion,
};
use siptriage_dev::framer;

type Res<T> = Result<T, Box<dyn std::error::Error>>;

// ---------------------------------------------------------------- certificates

struct Pki {
    cucm_ca: CertificateDer<'static>,
    expc_ca: CertificateDer<'static>,
    cucm: (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>),
    cucm_expired: (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>),
    expc: (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>),
    /// Expressway-C certificate issued for web server use only (no TLS client authentication).
    expc_server_only: (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>),
    /// The node's renewed Tomcat certificate, presented on 8443 while 5091 still has the old one.
    cucm_renewed: (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>),
    /// Another web service on the node's address (an intranet site on 8443): same CA, another
    /// name.
    intranet: (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>),
    /// A Tomcat certificate issued for client authentication only (no serverAuth).
    cucm_client_only: (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>),
    /// CRL of the CUCM CA revoking `cucm`; CRL of the Expressway CA revoking `expc`.
    crl_cucm: rustls::pki_types::CertificateRevocationListDer<'static>,
    crl_expc: rustls::pki_types::CertificateRevocationListDer<'static>,
}

fn ca(name: &str) -> Res<(CertificateParams, KeyPair, CertificateDer<'static>)> {
    let key = KeyPair::generate()?;
    let mut p = CertificateParams::new(Vec::<String>::new())?;
    p.distinguished_name.push(DnType::CommonName, name);
    p.distinguished_name
        .push(DnType::OrganizationName, "Lab Example");
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.not_before = rcgen::date_time_ymd(2025, 1, 1);
    p.not_after = rcgen::date_time_ymd(2035, 1, 1);
    let der = p.self_signed(&key)?.der().clone();
    Ok((p, key, der))
}

fn leaf(
    issuer: &Issuer<'_, &KeyPair>,
    ca_der: &CertificateDer<'static>,
    cn: &str,
    san: &[&str],
    eku: Vec<ExtendedKeyUsagePurpose>,
    valid: (i32, i32),
) -> Res<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)> {
    let key = KeyPair::generate()?;
    let mut p = CertificateParams::new(san.iter().map(|s| s.to_string()).collect::<Vec<_>>())?;
    p.distinguished_name.push(DnType::CommonName, cn);
    p.serial_number = Some(rcgen::SerialNumber::from(serial_of(cn, valid, eku.len())));
    p.extended_key_usages = eku;
    p.not_before = rcgen::date_time_ymd(valid.0, 1, 1);
    p.not_after = rcgen::date_time_ymd(valid.1, 1, 1);
    let cert = p.signed_by(&key, issuer)?;
    let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    Ok((vec![cert.der().clone(), ca_der.clone()], key_der))
}

/// A serial number that names the certificate's role, so a CRL can revoke exactly it.
fn serial_of(cn: &str, valid: (i32, i32), eku: usize) -> Vec<u8> {
    let mut s = vec![
        0x5a,
        (valid.0 - 2000) as u8,
        (valid.1 - 2000) as u8,
        eku as u8,
    ];
    s.extend_from_slice(&cn.as_bytes()[..4.min(cn.len())]);
    s
}

/// A CRL from `issuer` revoking the certificate with `serial`.
fn crl(
    issuer: &Issuer<'_, &KeyPair>,
    serial: Vec<u8>,
) -> Res<rustls::pki_types::CertificateRevocationListDer<'static>> {
    let params = rcgen::CertificateRevocationListParams {
        this_update: rcgen::date_time_ymd(2026, 1, 1),
        next_update: rcgen::date_time_ymd(2027, 1, 1),
        crl_number: rcgen::SerialNumber::from(vec![1]),
        issuing_distribution_point: None,
        revoked_certs: vec![rcgen::RevokedCertParams {
            serial_number: rcgen::SerialNumber::from(serial),
            revocation_time: rcgen::date_time_ymd(2026, 2, 1),
            reason_code: Some(rcgen::RevocationReason::KeyCompromise),
            invalidity_date: None,
        }],
        key_identifier_method: rcgen::KeyIdMethod::Sha256,
    };
    Ok(params.signed_by(issuer)?.der().clone())
}

fn pki() -> Res<Pki> {
    let (cucm_ca_p, cucm_ca_k, cucm_ca) = ca("Lab CUCM Root CA")?;
    let (expc_ca_p, expc_ca_k, expc_ca) = ca("Lab Expressway Root CA")?;
    let cucm_issuer = Issuer::from_params(&cucm_ca_p, &cucm_ca_k);
    let expc_issuer = Issuer::from_params(&expc_ca_p, &expc_ca_k);
    use ExtendedKeyUsagePurpose::{ClientAuth, ServerAuth};
    Ok(Pki {
        cucm: leaf(
            &cucm_issuer,
            &cucm_ca,
            "cucm1.lab.example",
            &["cucm1.lab.example"],
            vec![ServerAuth, ClientAuth],
            (2025, 2035),
        )?,
        cucm_expired: leaf(
            &cucm_issuer,
            &cucm_ca,
            "cucm1.lab.example",
            &["cucm1.lab.example"],
            vec![ServerAuth, ClientAuth],
            (2022, 2024),
        )?,
        expc: leaf(
            &expc_issuer,
            &expc_ca,
            "expc1.lab.example",
            &["expc1.lab.example"],
            vec![ServerAuth, ClientAuth],
            (2025, 2035),
        )?,
        expc_server_only: leaf(
            &expc_issuer,
            &expc_ca,
            "expc1.lab.example",
            &["expc1.lab.example"],
            vec![ServerAuth],
            (2025, 2035),
        )?,
        cucm_renewed: leaf(
            &cucm_issuer,
            &cucm_ca,
            "cucm1.lab.example",
            &["cucm1.lab.example"],
            vec![ServerAuth, ClientAuth],
            (2026, 2036),
        )?,
        intranet: leaf(
            &cucm_issuer,
            &cucm_ca,
            "intranet.lab.example",
            &["intranet.lab.example"],
            vec![ServerAuth],
            (2026, 2036),
        )?,
        cucm_client_only: leaf(
            &cucm_issuer,
            &cucm_ca,
            "cucm1.lab.example",
            &["cucm1.lab.example"],
            vec![ClientAuth],
            (2025, 2035),
        )?,
        crl_cucm: crl(
            &cucm_issuer,
            serial_of("cucm1.lab.example", (2025, 2035), 2),
        )?,
        crl_expc: crl(
            &expc_issuer,
            serial_of("expc1.lab.example", (2025, 2035), 2),
        )?,
        cucm_ca,
        expc_ca,
    })
}

// ---------------------------------------------------------------- key log

#[derive(Debug, Default)]
struct KeyLog(Mutex<Vec<String>>);

impl rustls::KeyLog for KeyLog {
    fn log(&self, label: &str, client_random: &[u8], secret: &[u8]) {
        let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
        if let Ok(mut l) = self.0.lock() {
            l.push(format!("{label} {} {}", hex(client_random), hex(secret)));
        }
    }
}

// ---------------------------------------------------------------- TCP/IP framing

#[derive(Clone, Copy, PartialEq)]
enum Link {
    Ethernet,
    Vlan(u16),
    Sll2,
}

struct Wire {
    link: Link,
    frames: Vec<(i64, Vec<u8>)>,
    t: i64,
}

struct Tcp {
    c: (IpAddr, u16),
    s: (IpAddr, u16),
    seq: [u32; 2],
}

const MSS: usize = 1200;

impl Wire {
    fn new(link: Link) -> Self {
        // 2026-03-02T09:15:00Z
        Wire {
            link,
            frames: Vec::new(),
            t: 1_772_442_900_000_000,
        }
    }

    fn tick(&mut self, us: i64) {
        self.t += us;
    }

    /// The framer's link layer for this capture.
    fn framing(&self) -> framer::Link {
        const SRC: [u8; 6] = [0x00, 0x50, 0x56, 0x00, 0x00, 0x01];
        const DST: [u8; 6] = [0x00, 0x50, 0x56, 0x00, 0x00, 0x02];
        match self.link {
            Link::Ethernet => framer::Link::Ethernet { src: SRC, dst: DST },
            Link::Vlan(id) => framer::Link::Vlan {
                src: SRC,
                dst: DST,
                id,
            },
            Link::Sll2 => framer::Link::Sll2,
        }
    }

    fn push(&mut self, frame: Option<Vec<u8>>) {
        let frame = frame.unwrap_or_else(|| unreachable!("mixed address families"));
        self.frames.push((self.t, frame));
        self.tick(150);
    }

    fn tcp_open(&mut self, c: (IpAddr, u16), s: (IpAddr, u16)) -> Tcp {
        let mut t = Tcp {
            c,
            s,
            seq: [0x1000_0000 ^ (c.1 as u32) << 8, 0x5000_0000 ^ s.1 as u32],
        };
        self.tcp(&mut t, 0, 0x02, b"");
        self.tcp(&mut t, 1, 0x12, b"");
        self.tcp(&mut t, 0, 0x10, b"");
        t
    }

    /// One segment in direction `d` (0 client->server) with `flags` (FIN 1, SYN 2, RST 4, PSH 8, ACK 16).
    fn tcp(&mut self, t: &mut Tcp, d: usize, flags: u8, payload: &[u8]) {
        let (src, dst) = if d == 0 { (t.c, t.s) } else { (t.s, t.c) };
        let frame = self
            .framing()
            .tcp(src, dst, t.seq[d], t.seq[1 - d], flags, payload);
        self.push(frame);
        t.seq[d] = t.seq[d].wrapping_add(framer::seq_advance(flags, payload));
    }

    /// Bytes sent in direction `d`, cut at MSS, then an ACK from the other side.
    fn send(&mut self, t: &mut Tcp, d: usize, bytes: &[u8]) {
        for chunk in bytes.chunks(MSS) {
            self.tcp(t, d, 0x18, chunk);
        }
        self.tcp(t, 1 - d, 0x10, b"");
    }

    /// Orderly close started by `d`.
    fn close(&mut self, t: &mut Tcp, d: usize) {
        self.tcp(t, d, 0x11, b"");
        self.tcp(t, 1 - d, 0x11, b"");
        self.tcp(t, d, 0x10, b"");
    }

    fn udp(&mut self, src: (IpAddr, u16), dst: (IpAddr, u16), payload: &[u8]) {
        let frame = self.framing().udp(src, dst, payload);
        self.push(frame);
    }

    fn pcap(&self) -> Vec<u8> {
        framer::pcap(self.framing().linktype(), &self.frames)
    }

    /// pcapng with nanosecond timestamps (if_tsresol 9).
    fn pcapng(&self) -> Vec<u8> {
        self.pcapng_with_keys(None)
    }

    /// pcapng with a Decryption Secrets Block holding `keys`, placed before the first packet
    /// (`Some((keys, false))`) or after the last (`Some((keys, true))`).
    fn pcapng_with_keys(&self, keys: Option<(&str, bool)>) -> Vec<u8> {
        framer::pcapng(self.framing().linktype(), &self.frames, keys)
    }
}

// ---------------------------------------------------------------- TLS through memory

struct Tls {
    client: ClientConnection,
    server: ServerConnection,
    client_failed: bool,
    server_failed: bool,
    /// 0 when the client failed first, 1 when the server did.
    first_failure: Option<usize>,
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

#[derive(Clone, Copy)]
struct TlsCase {
    client_versions: &'static [&'static SupportedProtocolVersion],
    server_versions: &'static [&'static SupportedProtocolVersion],
    mutual: bool,
    client_trusts_cucm: bool,
    server_trusts_expc: bool,
    expired_server: bool,
    key_update: bool,
    /// The name the client dials (SNI and certificate check).
    sni: &'static str,
    expc_server_only: bool,
    renewed_server: bool,
    /// The server is another web service on CUCM's address (its own name, the same CA).
    intranet_server: bool,
    /// The server presents the client-auth-only Tomcat certificate.
    client_only_server: bool,
    /// The client checks CUCM's certificate against a CRL that revokes it.
    client_checks_crl: bool,
    /// CUCM checks Expressway-C's certificate against a CRL that revokes it.
    server_checks_crl: bool,
    /// Mutual TLS is required but the client has no certificate to send.
    client_without_cert: bool,
}

const TLS12: &[&SupportedProtocolVersion] = &[&rustls::version::TLS12];
const TLS13: &[&SupportedProtocolVersion] = &[&rustls::version::TLS13];

impl TlsCase {
    fn ok(mutual: bool) -> Self {
        TlsCase {
            client_versions: TLS12,
            server_versions: TLS12,
            mutual,
            client_trusts_cucm: true,
            server_trusts_expc: true,
            expired_server: false,
            key_update: false,
            sni: "cucm1.lab.example",
            expc_server_only: false,
            renewed_server: false,
            intranet_server: false,
            client_only_server: false,
            client_checks_crl: false,
            server_checks_crl: false,
            client_without_cert: false,
        }
    }

    fn ok13(mutual: bool) -> Self {
        TlsCase {
            client_versions: TLS13,
            server_versions: TLS13,
            ..TlsCase::ok(mutual)
        }
    }
}

fn tls_pair(p: &Pki, case: TlsCase, log: &Arc<KeyLog>) -> Res<Tls> {
    let mut client_roots = RootCertStore::empty();
    client_roots.add(if case.client_trusts_cucm {
        p.cucm_ca.clone()
    } else {
        p.expc_ca.clone()
    })?;
    let client_builder = ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(case.client_versions)?;
    let builder = if case.client_checks_crl {
        let verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(
            Arc::new(client_roots),
            provider(),
        )
        .with_crls(vec![p.crl_cucm.clone()])
        .build()?;
        client_builder.with_webpki_verifier(verifier)
    } else {
        client_builder.with_root_certificates(client_roots)
    };
    let mut client_cfg = if case.mutual && !case.client_without_cert {
        let expc = if case.expc_server_only {
            &p.expc_server_only
        } else {
            &p.expc
        };
        builder.with_client_auth_cert(expc.0.clone(), expc.1.clone_key())?
    } else {
        builder.with_no_client_auth()
    };
    client_cfg.key_log = log.clone();
    let server_cert = if case.expired_server {
        &p.cucm_expired
    } else if case.renewed_server {
        &p.cucm_renewed
    } else if case.intranet_server {
        &p.intranet
    } else if case.client_only_server {
        &p.cucm_client_only
    } else {
        &p.cucm
    };
    let sb = ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(case.server_versions)?;
    let server_cfg = if case.mutual {
        let mut trust = RootCertStore::empty();
        trust.add(if case.server_trusts_expc {
            p.expc_ca.clone()
        } else {
            p.cucm_ca.clone()
        })?;
        let mut vb = WebPkiClientVerifier::builder_with_provider(Arc::new(trust), provider());
        if case.server_checks_crl {
            vb = vb.with_crls(vec![p.crl_expc.clone()]);
        }
        let verifier = vb.build()?;
        sb.with_client_cert_verifier(verifier)
            .with_single_cert(server_cert.0.clone(), server_cert.1.clone_key())?
    } else {
        sb.with_no_client_auth()
            .with_single_cert(server_cert.0.clone(), server_cert.1.clone_key())?
    };
    let name = rustls::pki_types::ServerName::try_from(case.sni)?.to_owned();
    Ok(Tls {
        client: ClientConnection::new(Arc::new(client_cfg), name)?,
        server: ServerConnection::new(Arc::new(server_cfg))?,
        client_failed: false,
        server_failed: false,
        first_failure: None,
    })
}

impl Tls {
    /// Moves TLS bytes both ways until neither side has anything to say; each flight is one
    /// `send` on the wire. Returns when quiet.
    fn pump(&mut self, w: &mut Wire, t: &mut Tcp) {
        loop {
            let mut moved = false;
            let mut out = Vec::new();
            while self.client.wants_write() {
                if self.client.write_tls(&mut out).is_err() {
                    break;
                }
            }
            if !out.is_empty() {
                moved = true;
                w.tick(800);
                w.send(t, 0, &out);
                if !self.server_failed {
                    let _ = self.server.read_tls(&mut &out[..]);
                    if self.server.process_new_packets().is_err() {
                        self.server_failed = true;
                        self.first_failure.get_or_insert(1);
                    }
                }
            }
            let mut back = Vec::new();
            while self.server.wants_write() {
                if self.server.write_tls(&mut back).is_err() {
                    break;
                }
            }
            if !back.is_empty() {
                moved = true;
                w.tick(1200);
                w.send(t, 1, &back);
                if !self.client_failed {
                    let _ = self.client.read_tls(&mut &back[..]);
                    if self.client.process_new_packets().is_err() {
                        self.client_failed = true;
                        self.first_failure.get_or_insert(0);
                    }
                }
            }
            if !moved {
                return;
            }
        }
    }

    fn client_says(&mut self, w: &mut Wire, t: &mut Tcp, msg: &[u8]) -> Res<()> {
        self.client.writer().write_all(msg)?;
        self.pump(w, t);
        Ok(())
    }

    fn server_says(&mut self, w: &mut Wire, t: &mut Tcp, msg: &[u8]) -> Res<()> {
        self.server.writer().write_all(msg)?;
        self.pump(w, t);
        Ok(())
    }
}

// ---------------------------------------------------------------- SIP as Jabber and CUCM send it

struct Sip {
    client: String,
    cport: u16,
    cucm: String,
    transport: &'static str,
    device: &'static str,
    call_id: String,
}

const TOKEN: &str = "eyJhbGciOiJSUzI1NiIsImtpZCI6IjE5ZjdiNGJhLWNmMmUtNGU0ZC1hYjAxLTg4ZjE3ODk1ZTQzNSJ9.eyJwcml2YXRlIjoiZXlKaGJHY2lPaUprYVhJaUxDSmxibU1pT2lKQk1USTRRMEpETFVoVE1qVTJJbjAuLi5GQUtFIn0.c2lnbmF0dXJlLW5vdC1yZWFs";

impl Sip {
    fn new(client: IpAddr, cport: u16, cucm: IpAddr, transport: &'static str) -> Self {
        Sip {
            client: client.to_string(),
            cport,
            cucm: cucm.to_string(),
            transport,
            device: "CSFrado",
            call_id: format!("00505600-00010002-1a2b3c4d-5e6f7081@{client}"),
        }
    }

    fn register(&self, cseq: u32, bearer: bool) -> Vec<u8> {
        self.register_with(
            cseq,
            bearer,
            "cisco-alarm:25 Name=CSFrado ActiveLoad=Jabber_for_Windows-15.0 Last=initialized",
            "",
        )
    }

    /// A REGISTER with the given Reason text and extra Via lines (a proxy's, above the client's).
    fn register_with(&self, cseq: u32, bearer: bool, reason: &str, via_above: &str) -> Vec<u8> {
        let body = "--uniqueBoundary\r\nContent-Type: application/x-cisco-remotecc-request+xml\r\n\r\n<x-cisco-remotecc-request><bulkregisterreq><contact all=\"true\"><register></register></contact></bulkregisterreq></x-cisco-remotecc-request>\r\n--uniqueBoundary--\r\n";
        let auth = if bearer {
            format!("Proxy-Authorization: Bearer token=\"{TOKEN}\"\r\n")
        } else {
            String::new()
        };
        let (c, p, u, t) = (&self.client, self.cport, &self.cucm, self.transport);
        format!(
            "REGISTER sip:{u} SIP/2.0\r\n{via_above}Via: SIP/2.0/{t} {c}:{p};branch=z9hG4bK{cseq:08x}\r\nFrom: <sip:1001@{u}>;tag=00505600000100024f1c2d3e-5a6b7c8d\r\nTo: <sip:1001@{u}>\r\nCall-ID: {}\r\nMax-Forwards: 70\r\nDate: Mon, 02 Mar 2026 09:15:00 GMT\r\nCSeq: {cseq} REGISTER\r\nUser-Agent: Cisco-CSF\r\nContact: <sip:7f3c1a2b-0001-4000-8000-005056000001@{c}:{p};transport={}>;+sip.instance=\"<urn:uuid:00000000-0000-0000-0000-005056000001>\";+u.sip!devicename.ccm.cisco.com=\"{}\";+u.sip!model.ccm.cisco.com=\"503\";video\r\n{auth}Supported: replaces,join,sdp-anat,norefersub,resource-priority,extended-refer,X-cisco-callinfo,X-cisco-serviceuri,X-cisco-escapecodes,X-cisco-service-control,X-cisco-srtp-fallback,X-cisco-monrec,X-cisco-config,X-cisco-sis-7.0.0,X-cisco-xsi-8.5.1\r\nReason: SIP;cause=200;text=\"{reason}\"\r\nExpires: 3600\r\nContent-Type: multipart/mixed; boundary=uniqueBoundary\r\nMime-Version: 1.0\r\nContent-Length: {}\r\n\r\n{body}",
            self.call_id,
            t.to_ascii_lowercase(),
            self.device,
            body.len()
        )
        .into_bytes()
    }

    fn response(&self, cseq: u32, status: &str, extra: &str) -> Vec<u8> {
        let (c, p, u, t) = (&self.client, self.cport, &self.cucm, self.transport);
        format!(
            "SIP/2.0 {status}\r\nVia: SIP/2.0/{t} {c}:{p};branch=z9hG4bK{cseq:08x}\r\nFrom: <sip:1001@{u}>;tag=00505600000100024f1c2d3e-5a6b7c8d\r\nTo: <sip:1001@{u}>;tag=171717~a1b2c3d4-e5f6-4a5b-8c9d-0e1f2a3b4c5d-27543271\r\nDate: Mon, 02 Mar 2026 09:15:00 GMT\r\nCall-ID: {}\r\nCSeq: {cseq} REGISTER\r\nServer: Cisco-CUCM15.0\r\n{extra}Content-Length: 0\r\n\r\n",
            self.call_id
        )
        .into_bytes()
    }

    fn challenge(&self, cseq: u32) -> Vec<u8> {
        self.response(
            cseq,
            "407 Proxy Authentication Required",
            "Proxy-Authenticate: Bearer realm=\"ccmsipline\"\r\n",
        )
    }

    fn ok(&self, cseq: u32) -> Vec<u8> {
        let c = &self.client;
        let p = self.cport;
        self.response(
            cseq,
            "200 OK",
            &format!("Contact: <sip:7f3c1a2b-0001-4000-8000-005056000001@{c}:{p};transport=tls>;+sip.instance=\"<urn:uuid:00000000-0000-0000-0000-005056000001>\";+u.sip!devicename.ccm.cisco.com=\"CSFrado\";x-cisco-newreg;expires=120\r\nExpires: 120\r\n"),
        )
    }

    fn mismatch(&self, cseq: u32) -> Vec<u8> {
        self.response(
            cseq,
            "403 Forbidden",
            "Retry-After: 35\r\nWarning: 399 UCM2-PUB \"SIP OAuth Registration port Mismatch\"\r\n",
        )
    }

    fn duplicate(&self, cseq: u32) -> Vec<u8> {
        self.response(
            cseq,
            "403 Forbidden",
            "Warning: 399 UCM2-PUB \"Registration is active for another client\"\r\n",
        )
    }

    fn token_rejected(&self, cseq: u32) -> Vec<u8> {
        self.response(
            cseq,
            "401 Unauthorized",
            "WWW-Authenticate: Bearer realm=\"ccmsipline\", error=\"invalid_token\"\r\n",
        )
    }

    fn digest(&self, cseq: u32) -> Vec<u8> {
        self.response(cseq, "401 Unauthorized", "WWW-Authenticate: Digest realm=\"ccmsipline\", nonce=\"5f1c2a9b0d3e4f60\", algorithm=MD5\r\n")
    }

    fn not_found(&self, cseq: u32) -> Vec<u8> {
        self.response(cseq, "404 Not Found", "")
    }

    /// The four messages of an OAuth registration ending in `last`.
    /// [`Sip::flow`] as the steps of a TLS script: the client's messages and the server's.
    fn steps(&self, last: fn(&Sip, u32) -> Vec<u8>) -> Vec<Step> {
        self.flow(last)
            .into_iter()
            .map(|(d, m)| if d == 0 { Step::C(m) } else { Step::S(m) })
            .collect()
    }

    fn flow(&self, last: fn(&Sip, u32) -> Vec<u8>) -> Vec<(usize, Vec<u8>)> {
        vec![
            (0, self.register(101, false)),
            (1, self.challenge(101)),
            (0, self.register(102, true)),
            (1, last(self, 102)),
        ]
    }
}

// ---------------------------------------------------------------- scenarios

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap_or(IpAddr::from([127, 0, 0, 1]))
}

const JABBER: &str = "10.10.20.51";
const EXPC: &str = "10.10.10.40";
const CUCM: &str = "10.10.10.11";

/// Only the fixtures whose names contain this are written (`--only NAME`): adding one fixture
/// leaves the others (recorded with other keys) as they are.
static ONLY: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();

fn write(dir: &str, name: &str, bytes: &[u8]) -> Res<()> {
    if let Some(Some(only)) = ONLY.get() {
        if !name.contains(only.as_str()) {
            return Ok(());
        }
    }
    std::fs::write(format!("{dir}/{name}"), bytes)?;
    println!("wrote {dir}/{name} ({} bytes)", bytes.len());
    Ok(())
}

fn pem(der: &CertificateDer<'_>) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der.as_ref());
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap_or(""))
        .collect();
    format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        lines.join("\n")
    )
}

fn keys_text(log: &KeyLog) -> String {
    log.0
        .lock()
        .map(|l| l.join("\n") + "\n")
        .unwrap_or_default()
}

fn keylog(dir: &str, name: &str, log: &KeyLog) -> Res<()> {
    let lines = log.0.lock().map(|l| l.join("\n")).unwrap_or_default();
    if lines.is_empty() {
        // The handshake never reached its secrets: nothing to log.
        if ONLY
            .get()
            .is_none_or(|o| o.as_ref().is_none_or(|o| name.contains(o.as_str())))
        {
            let _ = std::fs::remove_file(format!("{dir}/{name}"));
        }
        return Ok(());
    }
    write(dir, name, format!("{lines}\n").as_bytes())
}

/// A TLS connection from `client` to CUCM on `port`; SIP is exchanged when the handshake succeeds.
#[allow(clippy::too_many_arguments)]
fn tls_conn(
    w: &mut Wire,
    p: &Pki,
    case: TlsCase,
    client: &str,
    cport: u16,
    port: u16,
    sip: Option<fn(&Sip, u32) -> Vec<u8>>,
    log: &Arc<KeyLog>,
) -> Res<()> {
    let mut t = w.tcp_open((ip(client), cport), (ip(CUCM), port));
    let mut tls = tls_pair(p, case, log)?;
    tls.pump(w, &mut t);
    let ok = !tls.client_failed && !tls.server_failed && !tls.client.is_handshaking();
    if ok {
        if let Some(last) = sip {
            let s = Sip::new(ip(client), cport, ip(CUCM), "TLS");
            for (d, m) in s.flow(last) {
                w.tick(20_000);
                if d == 0 {
                    tls.client_says(w, &mut t, &m)?;
                } else {
                    tls.server_says(w, &mut t, &m)?;
                }
            }
            if case.client_versions == TLS13 && case.key_update {
                // A KeyUpdate from the client, then a registration refresh under the new keys.
                tls.client.refresh_traffic_keys()?;
                w.tick(60_000_000);
                tls.client_says(w, &mut t, &s.register(103, true))?;
                tls.server_says(w, &mut t, &last(&s, 103))?;
            }
        }
        w.tick(50_000);
        tls.client.send_close_notify();
        tls.pump(w, &mut t);
        w.close(&mut t, 0);
    } else {
        // The side that failed sent its alert during pump; it closes the connection.
        let by = tls.first_failure.unwrap_or(0);
        w.close(&mut t, by);
    }
    Ok(())
}

/// One step of a scripted exchange after the TLS handshake.
enum Step {
    /// The client sends these bytes (inside TLS, or in clear).
    C(Vec<u8>),
    /// The server sends these bytes.
    S(Vec<u8>),
    /// Capture time passes (microseconds).
    Wait(i64),
    /// The server closes without a word (FIN), and the client follows.
    ServerFin,
}

/// A TLS connection that runs `steps` after a successful handshake, then closes from the
/// client (unless a step closed it); a failed handshake is closed by the side that failed.
#[allow(clippy::too_many_arguments)]
fn tls_script(
    w: &mut Wire,
    p: &Pki,
    case: TlsCase,
    client: &str,
    cport: u16,
    server: &str,
    port: u16,
    steps: Vec<Step>,
    log: &Arc<KeyLog>,
) -> Res<()> {
    let mut t = w.tcp_open((ip(client), cport), (ip(server), port));
    let mut tls = tls_pair(p, case, log)?;
    tls.pump(w, &mut t);
    if tls.client_failed || tls.server_failed || tls.client.is_handshaking() {
        let by = tls.first_failure.unwrap_or(0);
        w.close(&mut t, by);
        return Ok(());
    }
    for step in steps {
        match step {
            Step::C(m) => {
                w.tick(20_000);
                tls.client_says(w, &mut t, &m)?;
            }
            Step::S(m) => {
                w.tick(20_000);
                tls.server_says(w, &mut t, &m)?;
            }
            Step::Wait(us) => w.tick(us),
            Step::ServerFin => {
                w.tick(30_000);
                w.close(&mut t, 1);
                return Ok(());
            }
        }
    }
    w.tick(50_000);
    tls.client.send_close_notify();
    tls.pump(w, &mut t);
    w.close(&mut t, 0);
    Ok(())
}

/// SIP in clear over TCP: the steps, then a close from the client.
fn clear_script(w: &mut Wire, client: &str, cport: u16, port: u16, steps: Vec<Step>) {
    let mut t = w.tcp_open((ip(client), cport), (ip(CUCM), port));
    for step in steps {
        match step {
            Step::C(m) => {
                w.tick(20_000);
                w.send(&mut t, 0, &m);
            }
            Step::S(m) => {
                w.tick(20_000);
                w.send(&mut t, 1, &m);
            }
            Step::Wait(us) => w.tick(us),
            Step::ServerFin => {
                w.close(&mut t, 1);
                return;
            }
        }
    }
    w.tick(50_000);
    w.close(&mut t, 0);
}

/// The device configuration file over HTTP on 6970, chunked, as CUCM's TFTP service sends it.
fn config_file(w: &mut Wire, device: &str, oauth_mode: u8, ports: (u16, u16, u16, u16)) {
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<device xsi:type=\"axl:XIPPhone\" ctiid=\"1\" uuid=\"{{00000000-0000-0000-0000-000000000001}}\">\n<fullConfig>true</fullConfig>\n<devicePool uuid=\"{{1b1b9eb6-7803-11d3-bdf0-00108302ead1}}\">\n<name>Default</name>\n<callManagerGroup>\n<name>Default</name>\n<members>\n<member priority=\"0\">\n<callManager>\n<name>{CUCM}</name>\n<description>ucm2-pub</description>\n<ports>\n<ethernetPhonePort>2000</ethernetPhonePort>\n<sipPort>{}</sipPort>\n<securedSipPort>{}</securedSipPort>\n<sipOAuthPort>{}</sipOAuthPort>\n<sipMRAOAuthPort>{}</sipMRAOAuthPort>\n</ports>\n<processNodeName>ucm2-pub.lab.example</processNodeName>\n</callManager>\n</member>\n</members>\n</callManagerGroup>\n</devicePool>\n<sipProfile><sipProxies><registerWithProxy>true</registerWithProxy></sipProxies></sipProfile>\n<sipOAuthMode>{oauth_mode}</sipOAuthMode>\n</device>\n",
        ports.0, ports.1, ports.2, ports.3
    );
    let mut t = w.tcp_open((ip(JABBER), 51700), (ip(CUCM), 6970));
    w.tick(10_000);
    w.send(
        &mut t,
        0,
        format!("GET /{device}.cnf.xml HTTP/1.1\r\nHost: {CUCM}:6970\r\nAccept: */*\r\n\r\n")
            .as_bytes(),
    );
    let mut resp =
        b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for c in xml.as_bytes().chunks(700) {
        resp.extend_from_slice(format!("{:x}\r\n", c.len()).as_bytes());
        resp.extend_from_slice(c);
        resp.extend_from_slice(b"\r\n");
    }
    resp.extend_from_slice(b"0\r\n\r\n");
    w.tick(10_000);
    w.send(&mut t, 1, &resp);
    w.close(&mut t, 0);
}

fn clear_sip_tcp(
    w: &mut Wire,
    client: &str,
    cport: u16,
    port: u16,
    last: fn(&Sip, u32) -> Vec<u8>,
) -> Tcp {
    let mut t = w.tcp_open((ip(client), cport), (ip(CUCM), port));
    let s = Sip::new(ip(client), cport, ip(CUCM), "TCP");
    for (d, m) in s.flow(last) {
        w.tick(20_000);
        w.send(&mut t, d, &m);
    }
    t
}

/// A client's TLS session to the node's 8443 (`tomcat`, from `client_port`), then Expressway-C
/// registering a device over mutual TLS on 5091 (from `expc_port`).
fn tomcat_and_mra(
    p: &Pki,
    tomcat: TlsCase,
    client_port: u16,
    expc_port: u16,
) -> Res<(Wire, Arc<KeyLog>)> {
    let log = Arc::new(KeyLog::default());
    let mut w = Wire::new(Link::Ethernet);
    tls_script(
        &mut w,
        p,
        tomcat,
        JABBER,
        client_port,
        CUCM,
        8443,
        vec![],
        &log,
    )?;
    let s = Sip::new(ip(EXPC), expc_port, ip(CUCM), "TLS");
    let steps = s.steps(Sip::ok);
    tls_script(
        &mut w,
        p,
        TlsCase::ok(true),
        EXPC,
        expc_port,
        CUCM,
        5091,
        steps,
        &log,
    )?;
    Ok((w, log))
}

fn main() -> Res<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let only = siptriage_dev::flag_value(&args, "--only");
    let _ = ONLY.set(only.clone());
    let dir = args
        .iter()
        .find(|a| !a.starts_with("--") && Some(*a) != only.as_ref())
        .cloned()
        .unwrap_or_else(|| "fixtures".into());
    std::fs::create_dir_all(&dir)?;
    let p = pki()?;

    // Documented scenario: CUCM does not trust Expressway-C's CA (mutual TLS on 5091).
    let log = Arc::new(KeyLog::default());
    let mut w = Wire::new(Link::Ethernet);
    tls_conn(
        &mut w,
        &p,
        TlsCase {
            server_trusts_expc: false,
            ..TlsCase::ok(true)
        },
        EXPC,
        41001,
        5091,
        None,
        &log,
    )?;
    write(&dir, "mra-unknown-ca-from-ucm.pcap", &w.pcap())?;
    write(&dir, "mra-unknown-ca-from-ucm.pcapng", &w.pcapng())?;
    keylog(&dir, "mra-unknown-ca-from-ucm.keys", &log)?;

    // Documented scenario: Expressway-C does not trust CUCM's Tomcat CA; Exp-C retries 3 times.
    let log = Arc::new(KeyLog::default());
    let mut w = Wire::new(Link::Ethernet);
    for i in 0..3 {
        tls_conn(
            &mut w,
            &p,
            TlsCase {
                client_trusts_cucm: false,
                ..TlsCase::ok(true)
            },
            EXPC,
            41010 + i,
            5091,
            None,
            &log,
        )?;
        w.tick(5_000_000);
    }
    write(&dir, "mra-unknown-ca-from-expressway.pcap", &w.pcap())?;
    keylog(&dir, "mra-unknown-ca-from-expressway.keys", &log)?;
    // The same file cut in the middle of the third connection: a truncated capture.
    let full = w.pcap();
    write(&dir, "truncated.pcap", &full[..full.len() * 5 / 6])?;

    // Documented scenario inside TLS 1.2 (visible with the key log): 403 port mismatch on 5090.
    let log = Arc::new(KeyLog::default());
    let mut w = Wire::new(Link::Ethernet);
    tls_conn(
        &mut w,
        &p,
        TlsCase::ok(false),
        JABBER,
        52001,
        5090,
        Some(Sip::mismatch),
        &log,
    )?;
    write(&dir, "oauth-port-mismatch-tls12.pcap", &w.pcap())?;
    keylog(&dir, "oauth-port-mismatch-tls12.keys", &log)?;

    // Healthy registration over TLS 1.2 on 5090 and over mutual TLS on 5091.
    let log = Arc::new(KeyLog::default());
    let mut w = Wire::new(Link::Ethernet);
    tls_conn(
        &mut w,
        &p,
        TlsCase::ok(false),
        JABBER,
        52010,
        5090,
        Some(Sip::ok),
        &log,
    )?;
    tls_conn(
        &mut w,
        &p,
        TlsCase::ok(true),
        EXPC,
        41020,
        5091,
        Some(Sip::ok),
        &log,
    )?;
    write(&dir, "healthy-registration-tls12.pcap", &w.pcap())?;
    keylog(&dir, "healthy-registration-tls12.keys", &log)?;

    // Port mismatch in clear SIP: TCP over IPv4, UDP over IPv6.
    let mut w = Wire::new(Link::Ethernet);
    let mut t = clear_sip_tcp(&mut w, JABBER, 52100, 5090, Sip::mismatch);
    w.close(&mut t, 0);
    write(&dir, "oauth-port-mismatch-clear-tcp.pcap", &w.pcap())?;
    let mut w = Wire::new(Link::Ethernet);
    let (c6, s6) = (ip("2001:db8:20::51"), ip("2001:db8:10::11"));
    let s = Sip::new(c6, 5090, s6, "UDP");
    for (d, m) in s.flow(Sip::mismatch) {
        w.tick(20_000);
        if d == 0 {
            w.udp((c6, 5090), (s6, 5090), &m);
        } else {
            w.udp((s6, 5090), (c6, 5090), &m);
        }
    }
    write(&dir, "oauth-port-mismatch-udp-ipv6.pcap", &w.pcap())?;

    // Healthy registration in clear over TCP, 802.1Q-tagged, with segments reordered and
    // retransmitted as a SPAN port often shows them.
    let mut w = Wire::new(Link::Vlan(120));
    let mut t = clear_sip_tcp(&mut w, JABBER, 52200, 5090, Sip::ok);
    w.close(&mut t, 0);
    // The first REGISTER is two segments (frames 4 and 5, 0-based): swap them; repeat the 407.
    w.frames.swap(3, 4);
    let retrans = w.frames[6].clone();
    w.frames.insert(7, (retrans.0 + 300_000, retrans.1));
    write(&dir, "healthy-registration-vlan-reordered.pcap", &w.pcap())?;

    // Healthy registration over UDP on Linux cooked capture v2.
    let mut w = Wire::new(Link::Sll2);
    let s = Sip::new(ip(JABBER), 5090, ip(CUCM), "UDP");
    for (d, m) in s.flow(Sip::ok) {
        w.tick(20_000);
        if d == 0 {
            w.udp((ip(JABBER), 5090), (ip(CUCM), 5090), &m);
        } else {
            w.udp((ip(CUCM), 5090), (ip(JABBER), 5090), &m);
        }
    }
    write(&dir, "healthy-registration-udp-sll2.pcap", &w.pcap())?;

    // A lost segment: the second REGISTER's first segment never made it into the capture.
    let mut w = Wire::new(Link::Ethernet);
    let mut t = clear_sip_tcp(&mut w, JABBER, 52300, 5090, Sip::mismatch);
    w.close(&mut t, 0);
    // frames: 0-2 handshake, 3-4 REGISTER, 5 ACK, 6 407, 7 ACK, 8-9 REGISTER(bearer) ...
    w.frames.remove(8);
    write(&dir, "lost-segment-sip-tcp.pcap", &w.pcap())?;

    // The OAuth port is closed: SYN answered by RST, three attempts.
    let mut w = Wire::new(Link::Ethernet);
    for i in 0..3 {
        let mut t = Tcp {
            c: (ip(JABBER), 52400 + i),
            s: (ip(CUCM), 5090),
            seq: [0x2000_0000 + i as u32, 0],
        };
        w.tcp(&mut t, 0, 0x02, b"");
        w.tcp(&mut t, 1, 0x14, b"");
        w.tick(2_000_000);
    }
    write(&dir, "oauth-port-closed.pcap", &w.pcap())?;

    // The MRA OAuth port is filtered: SYN retransmitted with no answer.
    let mut w = Wire::new(Link::Ethernet);
    let mut t = Tcp {
        c: (ip(EXPC), 41100),
        s: (ip(CUCM), 5091),
        seq: [0x3000_0000, 0],
    };
    for backoff in [1_000_000, 2_000_000, 4_000_000, 8_000_000] {
        let seq = t.seq[0];
        w.tcp(&mut t, 0, 0x02, b"");
        t.seq[0] = seq;
        w.tick(backoff);
    }
    write(&dir, "oauth-port-filtered.pcap", &w.pcap())?;

    // No common TLS version: client offers TLS 1.3 only, CUCM speaks TLS 1.2 only.
    let log = Arc::new(KeyLog::default());
    let mut w = Wire::new(Link::Ethernet);
    tls_conn(
        &mut w,
        &p,
        TlsCase {
            client_versions: TLS13,
            ..TlsCase::ok(false)
        },
        JABBER,
        52500,
        5090,
        None,
        &log,
    )?;
    write(&dir, "tls-version-mismatch.pcap", &w.pcap())?;

    // CUCM presents an expired Tomcat certificate on 5090: the client says certificate_expired.
    let log = Arc::new(KeyLog::default());
    let mut w = Wire::new(Link::Ethernet);
    tls_conn(
        &mut w,
        &p,
        TlsCase {
            expired_server: true,
            ..TlsCase::ok(false)
        },
        JABBER,
        52600,
        5090,
        None,
        &log,
    )?;
    write(&dir, "certificate-expired.pcap", &w.pcap())?;

    // TLS 1.3: the documented scenarios, whose alerts and SIP are encrypted.
    let log = Arc::new(KeyLog::default());
    let mut w = Wire::new(Link::Ethernet);
    tls_conn(
        &mut w,
        &p,
        TlsCase {
            server_trusts_expc: false,
            ..TlsCase::ok13(true)
        },
        EXPC,
        43001,
        5091,
        None,
        &log,
    )?;
    write(&dir, "tls13-mra-unknown-ca-from-ucm.pcap", &w.pcap())?;
    keylog(&dir, "tls13-mra-unknown-ca-from-ucm.keys", &log)?;

    let log = Arc::new(KeyLog::default());
    let mut w = Wire::new(Link::Ethernet);
    for i in 0..2 {
        tls_conn(
            &mut w,
            &p,
            TlsCase {
                client_trusts_cucm: false,
                ..TlsCase::ok13(true)
            },
            EXPC,
            43010 + i,
            5091,
            None,
            &log,
        )?;
        w.tick(5_000_000);
    }
    write(&dir, "tls13-mra-unknown-ca-from-expressway.pcap", &w.pcap())?;
    keylog(&dir, "tls13-mra-unknown-ca-from-expressway.keys", &log)?;

    let log = Arc::new(KeyLog::default());
    let mut w = Wire::new(Link::Ethernet);
    tls_conn(
        &mut w,
        &p,
        TlsCase::ok13(false),
        JABBER,
        53001,
        5090,
        Some(Sip::mismatch),
        &log,
    )?;
    write(&dir, "tls13-oauth-port-mismatch.pcap", &w.pcap())?;
    keylog(&dir, "tls13-oauth-port-mismatch.keys", &log)?;

    // Healthy TLS 1.3 on 5090 with a KeyUpdate, and mutual TLS 1.3 on 5091 carrying SIP.
    let log = Arc::new(KeyLog::default());
    let mut w = Wire::new(Link::Ethernet);
    tls_conn(
        &mut w,
        &p,
        TlsCase {
            key_update: true,
            ..TlsCase::ok13(false)
        },
        JABBER,
        53010,
        5090,
        Some(Sip::ok),
        &log,
    )?;
    tls_conn(
        &mut w,
        &p,
        TlsCase::ok13(true),
        EXPC,
        43020,
        5091,
        Some(Sip::ok),
        &log,
    )?;
    write(&dir, "tls13-healthy-registration.pcap", &w.pcap())?;
    keylog(&dir, "tls13-healthy-registration.keys", &log)?;
    // The same with the keys embedded in the pcapng, before the packets...
    write(
        &dir,
        "tls13-healthy-registration-dsb.pcapng",
        &w.pcapng_with_keys(Some((&keys_text(&log), false))),
    )?;

    // ...and a TLS 1.2 port mismatch whose keys come after the packets they unlock.
    let log = Arc::new(KeyLog::default());
    let mut w = Wire::new(Link::Ethernet);
    tls_conn(
        &mut w,
        &p,
        TlsCase::ok(false),
        JABBER,
        52700,
        5090,
        Some(Sip::mismatch),
        &log,
    )?;
    write(
        &dir,
        "oauth-port-mismatch-tls12-dsb-at-end.pcapng",
        &w.pcapng_with_keys(Some((&keys_text(&log), true))),
    )?;
    // tshark reads a capture once and cannot use keys that come after the packets: the tshark
    // differential test hands it this file instead (siptriage uses only the embedded block).
    keylog(&dir, "oauth-port-mismatch-tls12-dsb-at-end.keys", &log)?;

    // ---- The wider catalogue (issue "The whole SIP OAuth catalogue").
    let ok13 = TlsCase::ok13;
    // duplicate-registration, inside TLS 1.3 on 5090.
    let s = Sip::new(ip(JABBER), 53100, ip(CUCM), "TLS");
    let log = Arc::new(KeyLog::default());
    let mut w = Wire::new(Link::Ethernet);
    let steps = s.steps(Sip::duplicate);
    tls_script(
        &mut w,
        &p,
        ok13(false),
        JABBER,
        53100,
        CUCM,
        5090,
        steps,
        &log,
    )?;
    write(&dir, "duplicate-registration.pcap", &w.pcap())?;
    keylog(&dir, "duplicate-registration.keys", &log)?;

    // bearer-token-rejected, inside TLS 1.2 on 5090.
    let s = Sip::new(ip(JABBER), 53110, ip(CUCM), "TLS");
    let log = Arc::new(KeyLog::default());
    let mut w = Wire::new(Link::Ethernet);
    let steps = s.steps(Sip::token_rejected);
    tls_script(
        &mut w,
        &p,
        TlsCase::ok(false),
        JABBER,
        53110,
        CUCM,
        5090,
        steps,
        &log,
    )?;
    write(&dir, "bearer-token-rejected.pcap", &w.pcap())?;
    keylog(&dir, "bearer-token-rejected.keys", &log)?;

    // bearer-not-sent: the client answers the Bearer challenge without a token, twice.
    let s = Sip::new(ip(JABBER), 53120, ip(CUCM), "TLS");
    let log = Arc::new(KeyLog::default());
    let mut w = Wire::new(Link::Ethernet);
    let steps = vec![
        Step::C(s.register(101, false)),
        Step::S(s.challenge(101)),
        Step::C(s.register(102, false)),
        Step::S(s.challenge(102)),
        Step::Wait(10_000_000),
    ];
    tls_script(
        &mut w,
        &p,
        TlsCase::ok(false),
        JABBER,
        53120,
        CUCM,
        5090,
        steps,
        &log,
    )?;
    write(&dir, "bearer-not-sent.pcap", &w.pcap())?;
    keylog(&dir, "bearer-not-sent.keys", &log)?;

    // digest-with-oauth: a Digest challenge on the OAuth port, and an encrypted config request.
    let s = Sip::new(ip(JABBER), 53130, ip(CUCM), "TLS");
    let log = Arc::new(KeyLog::default());
    let mut w = Wire::new(Link::Ethernet);
    let mut t = w.tcp_open((ip("10.10.20.77"), 51800), (ip(CUCM), 6970));
    w.send(
        &mut t,
        0,
        format!("GET /SEP00505600AB77.cnf.xml.enc.sgn HTTP/1.1\r\nHost: {CUCM}:6970\r\n\r\n")
            .as_bytes(),
    );
    w.send(
        &mut t,
        1,
        b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
    );
    w.close(&mut t, 0);
    let steps = vec![
        Step::C(s.register(101, false)),
        Step::S(s.digest(101)),
        Step::Wait(10_000_000),
    ];
    tls_script(
        &mut w,
        &p,
        TlsCase::ok(false),
        JABBER,
        53130,
        CUCM,
        5090,
        steps,
        &log,
    )?;
    write(&dir, "digest-with-oauth.pcap", &w.pcap())?;
    keylog(&dir, "digest-with-oauth.keys", &log)?;

    // registration-rejected (404) and registration-unanswered (retransmitted) over UDP 5060.
    let mut w = Wire::new(Link::Ethernet);
    let s = Sip::new(ip("10.10.20.60"), 5060, ip(CUCM), "UDP");
    w.udp(
        (ip("10.10.20.60"), 5060),
        (ip(CUCM), 5060),
        &s.register(7, false),
    );
    w.tick(3_000);
    w.udp((ip(CUCM), 5060), (ip("10.10.20.60"), 5060), &s.not_found(7));
    w.tick(1_000_000);
    let u = Sip {
        device: "CSFnobody",
        call_id: "unanswered-1@10.10.20.61".into(),
        ..Sip::new(ip("10.10.20.61"), 5060, ip("10.10.10.12"), "UDP")
    };
    for backoff in [500_000, 1_000_000, 2_000_000, 4_000_000, 30_000_000] {
        w.udp(
            (ip("10.10.20.61"), 5060),
            (ip("10.10.10.12"), 5060),
            &u.register(1, false),
        );
        w.tick(backoff);
    }
    write(&dir, "registration-rejected-and-unanswered.pcap", &w.pcap())?;

    // A Cisco IOS gateway's ordinary digest registration on 5060 (not an OAuth client): its
    // first REGISTER carries an Authorization: Digest header with an empty nonce and response,
    // CUCM challenges it (401), the second REGISTER answers, 200 OK. Success, not a rejection.
    let mut w = Wire::new(Link::Ethernet);
    let (gw, node) = ((ip("10.10.30.5"), 5060), (ip(CUCM), 5060));
    let register = |cseq: u32, auth: &str| {
        format!(
            "REGISTER sip:{CUCM} SIP/2.0\r\nVia: SIP/2.0/UDP 10.10.30.5:5060;branch=z9hG4bK-gw{cseq}\r\nFrom: <sip:4085550100@{CUCM}>;tag=gw-1\r\nTo: <sip:4085550100@{CUCM}>\r\nCall-ID: gw-register-1@10.10.30.5\r\nCSeq: {cseq} REGISTER\r\nContact: <sip:4085550100@10.10.30.5:5060>\r\nExpires: 3600\r\n{auth}User-Agent: Cisco-SIPGateway/IOS-15.9.3M\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
        )
    };
    let answer = |cseq: u32, status: &str, extra: &str| {
        format!(
            "SIP/2.0 {status}\r\nVia: SIP/2.0/UDP 10.10.30.5:5060;branch=z9hG4bK-gw{cseq}\r\nFrom: <sip:4085550100@{CUCM}>;tag=gw-1\r\nTo: <sip:4085550100@{CUCM}>;tag=ucm-9\r\nCall-ID: gw-register-1@10.10.30.5\r\nCSeq: {cseq} REGISTER\r\n{extra}Server: Cisco-CUCM15.0\r\nContent-Length: 0\r\n\r\n"
        )
    };
    let steps = [
        (0, register(101, &format!("Authorization: Digest username=\"4085550100\",realm=\"\",uri=\"sip:{CUCM}\",response=\"\",nonce=\"\",algorithm=MD5\r\n"))),
        (1, answer(101, "401 Unauthorized", "WWW-Authenticate: Digest realm=\"ccmsipline\", nonce=\"Jv3hL0AAAABdv4nM8G6dHkG9k0a0s3bB\", algorithm=MD5\r\n")),
        (0, register(102, &format!("Authorization: Digest username=\"4085550100\",realm=\"ccmsipline\",uri=\"sip:{CUCM}\",response=\"7a3e95b7c3b1a8f2d0e4c6b5a9d8e7f1\",nonce=\"Jv3hL0AAAABdv4nM8G6dHkG9k0a0s3bB\",algorithm=MD5\r\n"))),
        (1, answer(102, "200 OK", "Contact: <sip:4085550100@10.10.30.5:5060>;expires=3600\r\nDate: Mon, 02 Mar 2026 09:15:00 GMT\r\n")),
    ];
    for (d, m) in steps {
        w.tick(20_000);
        let (src, dst) = if d == 0 { (gw, node) } else { (node, gw) };
        w.udp(src, dst, m.as_bytes());
    }
    write(&dir, "digest-registration-gateway.pcap", &w.pcap())?;

    // bearer-not-sent, said how it ended: clear SIP on 5090, the Bearer challenge, then the
    // client closes the connection (FIN) without answering, and the capture ends there: the
    // client closing, not the capture's end, is why no answer follows.
    let mut w = Wire::new(Link::Ethernet);
    let s = Sip::new(ip(JABBER), 52400, ip(CUCM), "TCP");
    clear_script(
        &mut w,
        JABBER,
        52400,
        5090,
        vec![Step::C(s.register(1, false)), Step::S(s.challenge(1))],
    );
    write(&dir, "bearer-challenge-then-close.pcap", &w.pcap())?;

    // registration-lost: 200 OK with Expires 120, no refresh for 200 s; the next REGISTER's
    // Reason says CUCM closed the connection (cisco-alarm 14).
    let log = Arc::new(KeyLog::default());
    let mut w = Wire::new(Link::Ethernet);
    let s = Sip::new(ip(JABBER), 53140, ip(CUCM), "TLS");
    let steps = s.steps(Sip::ok);
    tls_script(
        &mut w,
        &p,
        TlsCase::ok(false),
        JABBER,
        53140,
        CUCM,
        5090,
        steps,
        &log,
    )?;
    w.tick(200_000_000);
    let s2 = Sip::new(ip(JABBER), 53141, ip(CUCM), "TLS");
    let steps = vec![
        Step::C(s2.register_with(
            201,
            false,
            "cisco-alarm:14 Name=CSFrado ActiveLoad=Jabber_for_Windows-15.0 Last=CM-closed-TCP",
            "",
        )),
        Step::S(s2.challenge(201)),
        Step::C(s2.register_with(
            202,
            true,
            "cisco-alarm:14 Name=CSFrado ActiveLoad=Jabber_for_Windows-15.0 Last=CM-closed-TCP",
            "",
        )),
        Step::S(s2.ok(202)),
    ];
    tls_script(
        &mut w,
        &p,
        TlsCase::ok(false),
        JABBER,
        53141,
        CUCM,
        5090,
        steps,
        &log,
    )?;
    write(&dir, "registration-lost.pcap", &w.pcap())?;
    keylog(&dir, "registration-lost.keys", &log)?;

    // legacy-port-instead-of-oauth: the config file turns OAuth on (ports 5060/5061/15090/15091)
    // but the client registers on 5060; a TLS connection to 15090 shows the ports set roles.
    let log = Arc::new(KeyLog::default());
    let mut w = Wire::new(Link::Ethernet);
    config_file(&mut w, "CSFrado", 1, (5060, 5061, 15090, 15091));
    let s = Sip::new(ip(JABBER), 53150, ip(CUCM), "TCP");
    clear_script(
        &mut w,
        JABBER,
        53150,
        5060,
        vec![Step::C(s.register(101, false)), Step::S(s.ok(101))],
    );
    tls_script(
        &mut w,
        &p,
        TlsCase::ok(false),
        JABBER,
        53151,
        CUCM,
        15090,
        vec![],
        &log,
    )?;
    write(&dir, "config-file-legacy-port.pcap", &w.pcap())?;

    // mra-without-ceoauth: Expressway-C relays a REGISTER with a Bearer token to 5060.
    let mut w = Wire::new(Link::Ethernet);
    let s = Sip::new(ip(EXPC), 25060, ip(CUCM), "TCP");
    let via = "Via: SIP/2.0/TCP 10.10.10.40:25060;branch=z9hG4bK7f00e1;received=10.10.10.40\r\n";
    clear_script(
        &mut w,
        EXPC,
        25060,
        5060,
        vec![
            Step::C(s.register_with(
                102,
                true,
                "cisco-alarm:25 Name=CSFrado Last=initialized",
                via,
            )),
            Step::S(s.ok(102)),
        ],
    );
    write(&dir, "mra-without-ceoauth.pcap", &w.pcap())?;

    // certificate-name-mismatch: the client dials cucm2, the certificate names cucm1.
    let log = Arc::new(KeyLog::default());
    let mut w = Wire::new(Link::Ethernet);
    tls_script(
        &mut w,
        &p,
        TlsCase {
            sni: "cucm2.lab.example",
            ..TlsCase::ok(false)
        },
        JABBER,
        53160,
        CUCM,
        5090,
        vec![],
        &log,
    )?;
    write(&dir, "certificate-name-mismatch.pcap", &w.pcap())?;

    // expressway-cert-no-client-auth: Exp-C's certificate is for server authentication only.
    let log = Arc::new(KeyLog::default());
    let mut w = Wire::new(Link::Ethernet);
    tls_script(
        &mut w,
        &p,
        TlsCase {
            expc_server_only: true,
            ..TlsCase::ok(true)
        },
        EXPC,
        43170,
        CUCM,
        5091,
        vec![],
        &log,
    )?;
    write(&dir, "expressway-cert-no-client-auth.pcap", &w.pcap())?;

    // client-rejects-ucm-certificate: the Jabber client does not trust CUCM's Tomcat CA.
    let log = Arc::new(KeyLog::default());
    let mut w = Wire::new(Link::Ethernet);
    tls_script(
        &mut w,
        &p,
        TlsCase {
            client_trusts_cucm: false,
            ..TlsCase::ok(false)
        },
        JABBER,
        53180,
        CUCM,
        5090,
        vec![],
        &log,
    )?;
    write(&dir, "client-rejects-ucm-certificate.pcap", &w.pcap())?;

    // tls-aborted-without-alert: the client answers CUCM's flight, then a RST arrives in
    // CUCM's name before its Finished, with no alert from anyone (a middlebox cutting in).
    let log = Arc::new(KeyLog::default());
    let mut w = Wire::new(Link::Ethernet);
    let mut t = w.tcp_open((ip(JABBER), 53190), (ip(CUCM), 5090));
    let mut tls = tls_pair(&p, TlsCase::ok(false), &log)?;
    let mut hello = Vec::new();
    while tls.client.wants_write() && tls.client.write_tls(&mut hello).is_ok() {}
    w.send(&mut t, 0, &hello);
    tls.server.read_tls(&mut &hello[..])?;
    tls.server.process_new_packets()?;
    let mut flight = Vec::new();
    while tls.server.wants_write() && tls.server.write_tls(&mut flight).is_ok() {}
    w.tick(1_000);
    w.send(&mut t, 1, &flight);
    tls.client.read_tls(&mut &flight[..])?;
    tls.client.process_new_packets()?;
    let mut answer = Vec::new();
    while tls.client.wants_write() && tls.client.write_tls(&mut answer).is_ok() {}
    w.tick(1_000);
    w.tcp(&mut t, 0, 0x18, &answer);
    w.tick(2_000);
    w.tcp(&mut t, 1, 0x14, b"");
    write(&dir, "tls-aborted-without-alert.pcap", &w.pcap())?;

    // expressway-name-not-known: mutual TLS completes, the REGISTER gets no answer, CUCM closes.
    let log = Arc::new(KeyLog::default());
    let mut w = Wire::new(Link::Ethernet);
    let s = Sip::new(ip(EXPC), 43200, ip(CUCM), "TLS");
    tls_script(
        &mut w,
        &p,
        TlsCase::ok(true),
        EXPC,
        43200,
        CUCM,
        5091,
        vec![Step::C(s.register(101, false)), Step::ServerFin],
        &log,
    )?;
    write(&dir, "expressway-name-not-known.pcap", &w.pcap())?;
    keylog(&dir, "expressway-name-not-known.keys", &log)?;

    // stale-tomcat-certificate: the node presents its renewed certificate on 8443 and the old
    // one on 5091.
    let renewed = TlsCase {
        renewed_server: true,
        ..TlsCase::ok(false)
    };
    let (w, _) = tomcat_and_mra(&p, renewed, 53210, 43210)?;
    write(&dir, "stale-tomcat-certificate.pcap", &w.pcap())?;

    // web-server-beside-cucm: an intranet site on CUCM's address (8443, its own name, the same
    // CA) and a healthy MRA registration on 5091: two services, nothing stale.
    let intranet = TlsCase {
        intranet_server: true,
        sni: "intranet.lab.example",
        ..TlsCase::ok(false)
    };
    let (w, log) = tomcat_and_mra(&p, intranet, 53212, 43212)?;
    write(&dir, "web-server-beside-cucm.pcap", &w.pcap())?;
    keylog(&dir, "web-server-beside-cucm.keys", &log)?;

    // certificate-rejected-by-client: CUCM's Tomcat certificate lacks the serverAuth usage;
    // the client answers unsupported_certificate.
    let log = Arc::new(KeyLog::default());
    let mut w = Wire::new(Link::Ethernet);
    tls_script(
        &mut w,
        &p,
        TlsCase {
            client_only_server: true,
            ..TlsCase::ok(false)
        },
        JABBER,
        53220,
        CUCM,
        5090,
        vec![],
        &log,
    )?;
    write(&dir, "certificate-rejected-by-client.pcap", &w.pcap())?;

    // certificate-rejected-by-ucm: CUCM's CRL revokes Expressway-C's certificate.
    let log = Arc::new(KeyLog::default());
    let mut w = Wire::new(Link::Ethernet);
    tls_script(
        &mut w,
        &p,
        TlsCase {
            server_checks_crl: true,
            ..TlsCase::ok(true)
        },
        EXPC,
        43230,
        CUCM,
        5091,
        vec![],
        &log,
    )?;
    write(&dir, "certificate-rejected-by-ucm.pcap", &w.pcap())?;

    // certificate-rejected-by-expressway: Expressway-C's CRL revokes CUCM's certificate.
    let log = Arc::new(KeyLog::default());
    let mut w = Wire::new(Link::Ethernet);
    tls_script(
        &mut w,
        &p,
        TlsCase {
            client_checks_crl: true,
            ..TlsCase::ok(true)
        },
        EXPC,
        43240,
        CUCM,
        5091,
        vec![],
        &log,
    )?;
    write(&dir, "certificate-rejected-by-expressway.pcap", &w.pcap())?;

    // tls-alert: TLS 1.3 on 5091 without a client certificate; CUCM says certificate_required
    // (encrypted: with the key log it is read; without, tls13-handshake-aborted).
    let log = Arc::new(KeyLog::default());
    let mut w = Wire::new(Link::Ethernet);
    tls_script(
        &mut w,
        &p,
        TlsCase {
            client_without_cert: true,
            ..TlsCase::ok13(true)
        },
        EXPC,
        43250,
        CUCM,
        5091,
        vec![],
        &log,
    )?;
    write(&dir, "tls13-certificate-required.pcap", &w.pcap())?;
    keylog(&dir, "tls13-certificate-required.keys", &log)?;

    // A device refused by one node (503) that registers on the next node of its group.
    let mut w = Wire::new(Link::Ethernet);
    let sub = Sip {
        call_id: "failover-1@10.10.20.51".into(),
        ..Sip::new(ip(JABBER), 5090, ip("10.10.10.12"), "UDP")
    };
    w.udp(
        (ip(JABBER), 5090),
        (ip("10.10.10.12"), 5090),
        &sub.register(1, false),
    );
    w.tick(2_000);
    w.udp(
        (ip("10.10.10.12"), 5090),
        (ip(JABBER), 5090),
        &sub.response(1, "503 Service Unavailable", "Retry-After: 60\r\n"),
    );
    w.tick(500_000);
    let s = Sip::new(ip(JABBER), 5090, ip(CUCM), "UDP");
    for (d, m) in s.flow(Sip::ok) {
        w.tick(20_000);
        if d == 0 {
            w.udp((ip(JABBER), 5090), (ip(CUCM), 5090), &m);
        } else {
            w.udp((ip(CUCM), 5090), (ip(JABBER), 5090), &m);
        }
    }
    write(&dir, "failover-two-nodes.pcap", &w.pcap())?;

    // Trust bundles as a customer would export them: CUCM's tomcat-trust (CUCM's own root
    // only: Expressway-C's CA was never uploaded) and Expressway-C's trusted CA list (its own
    // root only: CUCM's CA was never appended).
    std::fs::create_dir_all(format!("{dir}/trust"))?;
    write(&dir, "trust/tomcat-trust.pem", pem(&p.cucm_ca).as_bytes())?;
    write(
        &dir,
        "trust/expressway-trusted-cas.pem",
        pem(&p.expc_ca).as_bytes(),
    )?;
    let mut both = pem(&p.cucm_ca);
    both.push_str(&pem(&p.expc_ca));
    write(&dir, "trust/both-cas.pem", both.as_bytes())?;
    Ok(())
}
