//! A cluster's capture, as taken on CUCM: many devices registering for minutes, each refreshing
//! its registration when its Expires runs out, a chosen share of them failing in a chosen way.
//! Deterministic for a seed (in clear; with TLS the keys differ from run to run, the SIP does
//! not). SIP travels on the SIP Phone OAuth port, one long-lived TCP connection per device,
//! written in time order: in clear, or (`tls`) inside a real TLS 1.2 session between rustls
//! client and server, with the key log of every session.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, Mutex};

use rustls::{ClientConfig, ClientConnection, RootCertStore, ServerConfig, ServerConnection};

use crate::framer::{self, tcp_flags as f, Link};
use crate::workload::Rng;

/// How a device fares.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fate {
    /// REGISTER, 407 Bearer, REGISTER with the token, 200 OK; refreshed every Expires.
    Healthy,
    /// The same, answered 403 with the port-mismatch Warning (`oauth-port-mismatch`); the
    /// device tries again after its Retry-After.
    PortMismatch,
    /// The token is answered 401 (`bearer-token-rejected`); the device tries again.
    TokenRejected,
    /// Nothing listens: every SYN is answered by RST (`oauth-port-closed`). Direct devices
    /// only (through Expressway-C, a device is healthy instead).
    PortClosed,
    /// REGISTER, 407 Bearer, and the token never comes (`bearer-not-sent`): a direct device
    /// closes its connection; through Expressway-C nothing follows. It tries again later.
    Abandons,
    /// Nothing answers its SYNs: four SYNs over 7 s (Linux's retransmission times), then a new
    /// try a retry later (`oauth-port-filtered`). Direct devices only.
    Filtered,
    /// REGISTER, 407, REGISTER with the token, and CUCM never answers
    /// (`registration-unanswered`); the device tries again on the same connection a retry later.
    Unanswered,
    /// With TLS, the device does not trust CUCM's certificate: it ends the handshake with an
    /// unknown_ca alert and closes (`client-rejects-ucm-certificate`); in clear, healthy.
    /// Direct devices only.
    Untrusting,
    /// Registers once, then falls silent (its connection stays open): the registration lapses
    /// at its expiry (`registration-lost`).
    Lost,
}

/// What to generate.
#[derive(Clone, Debug)]
pub struct Cluster {
    /// Devices.
    pub devices: u32,
    /// Length of the capture, in seconds.
    pub seconds: u32,
    /// Expires CUCM grants (seconds): healthy devices refresh then.
    pub expires: u32,
    /// Seconds a failing device waits before it tries again.
    pub retry: u32,
    /// CUCM nodes the devices spread over.
    pub nodes: u8,
    /// Shares (0..1) of devices with each failing fate; the rest are healthy.
    pub shares: Vec<(Fate, f64)>,
    /// Seed.
    pub seed: u64,
    /// SIP inside TLS 1.2 (with its key log in [`ClusterStats::keylog`]), else in clear.
    pub tls: bool,
    /// Devices reach CUCM through Expressway-C (MRA), multiplexed on this many connections to
    /// the SIP MRA OAuth port 5091, each REGISTER with Expressway-C's Via above the device's;
    /// 0: each device has its own connection to 5090. Expressway-C closes its connections at
    /// the end.
    pub mra: u8,
}

impl Default for Cluster {
    /// 1,000 devices for five minutes over three nodes, Expires 120 s, a retry a minute after a
    /// failure; 10 % port mismatch, 5 % rejected token, 5 % closed port; SIP in clear, direct.
    fn default() -> Self {
        Cluster {
            devices: 1000,
            seconds: 300,
            expires: 120,
            retry: 60,
            nodes: 3,
            shares: vec![
                (Fate::PortMismatch, 0.10),
                (Fate::TokenRejected, 0.05),
                (Fate::PortClosed, 0.05),
            ],
            seed: 1,
            tls: false,
            mra: 0,
        }
    }
}

/// The failing fates, in the order stats list them (and `--shares` takes them).
pub const FAILING: [Fate; 8] = [
    Fate::PortMismatch,
    Fate::TokenRejected,
    Fate::PortClosed,
    Fate::Abandons,
    Fate::Filtered,
    Fate::Unanswered,
    Fate::Untrusting,
    Fate::Lost,
];

/// When a filtered device's SYNs are sent again after its first, in seconds (Linux's).
const SYN_RETRIES: [i64; 3] = [1, 3, 7];

/// What was generated: the exact counts a diagnosis must find.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClusterStats {
    /// Devices per fate (those that made at least one attempt).
    pub devices: Vec<(Fate, u32)>,
    /// Failed attempts per failing fate (each 403, each 401, each refused SYN).
    pub failures: Vec<(Fate, u64)>,
    /// Successful registrations (200 OK).
    pub registered: u64,
    /// SIP messages written.
    pub sip_messages: u64,
    /// Frames written.
    pub frames: u64,
    /// The key log of every TLS session (SSLKEYLOGFILE format), when `tls`.
    pub keylog: String,
    /// Each line of `keylog` with the capture time (microseconds) of its session's
    /// ClientHello: a test can write the key log as a client would, in pace with a replay.
    pub key_times: Vec<(i64, String)>,
}

impl ClusterStats {
    /// Devices of `fate` (those that made at least one attempt).
    pub fn devices_of(&self, fate: Fate) -> u64 {
        self.devices
            .iter()
            .find(|d| d.0 == fate)
            .map_or(0, |d| u64::from(d.1))
    }

    /// Failed attempts of `fate`.
    pub fn failures_of(&self, fate: Fate) -> u64 {
        self.failures
            .iter()
            .find(|d| d.0 == fate)
            .map_or(0, |d| d.1)
    }
}

/// A TLS session between a device and CUCM, both ends in memory.
struct Session {
    client: ClientConnection,
    server: ServerConnection,
}

/// The two ends' settings: a lab CA, CUCM's certificate under it, and a shared key log.
struct Pki {
    client: Arc<ClientConfig>,
    /// A client whose trust store holds another CA: it rejects CUCM's certificate.
    untrusting: Arc<ClientConfig>,
    server: Arc<ServerConfig>,
    log: Arc<KeyLog>,
}

#[derive(Debug, Default)]
struct KeyLog(Mutex<String>);

impl rustls::KeyLog for KeyLog {
    fn log(&self, label: &str, client_random: &[u8], secret: &[u8]) {
        use std::fmt::Write as _;
        if let Ok(mut l) = self.0.lock() {
            let _ = write!(l, "{label} ");
            client_random.iter().for_each(|b| {
                let _ = write!(l, "{b:02x}");
            });
            l.push(' ');
            secret.iter().for_each(|b| {
                let _ = write!(l, "{b:02x}");
            });
            l.push('\n');
        }
    }
}

type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

impl Pki {
    fn new() -> Res<Pki> {
        use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
        let provider = || Arc::new(rustls::crypto::ring::default_provider());
        let ca_key = KeyPair::generate()?;
        let mut ca = CertificateParams::new(Vec::<String>::new())?;
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(rcgen::DnType::CommonName, "Cluster Lab CA");
        let ca_der = ca.self_signed(&ca_key)?.der().clone();
        let issuer = Issuer::new(ca, ca_key);
        let key = KeyPair::generate()?;
        let mut leaf = CertificateParams::new(vec!["cucm1.lab.example".to_string()])?;
        leaf.distinguished_name
            .push(rcgen::DnType::CommonName, "cucm1.lab.example");
        let leaf_der = leaf.signed_by(&key, &issuer)?.der().clone();
        let mut roots = RootCertStore::empty();
        roots.add(ca_der)?;
        let other_key = KeyPair::generate()?;
        let mut other = CertificateParams::new(Vec::<String>::new())?;
        other.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        other
            .distinguished_name
            .push(rcgen::DnType::CommonName, "Another Lab CA");
        let mut other_roots = RootCertStore::empty();
        other_roots.add(other.self_signed(&other_key)?.der().clone())?;
        let log = Arc::new(KeyLog::default());
        let mut untrusting = ClientConfig::builder_with_provider(provider())
            .with_protocol_versions(&[&rustls::version::TLS12])?
            .with_root_certificates(other_roots)
            .with_no_client_auth();
        untrusting.key_log = log.clone();
        let mut client = ClientConfig::builder_with_provider(provider())
            .with_protocol_versions(&[&rustls::version::TLS12])?
            .with_root_certificates(roots)
            .with_no_client_auth();
        client.key_log = log.clone();
        // Every device makes a full handshake (CUCM's certificate on each connection).
        client.resumption = rustls::client::Resumption::disabled();
        let server = ServerConfig::builder_with_provider(provider())
            .with_protocol_versions(&[&rustls::version::TLS12])?
            .with_no_client_auth()
            .with_single_cert(
                vec![leaf_der],
                rustls::pki_types::PrivateKeyDer::try_from(key.serialize_der())?,
            )?;
        Ok(Pki {
            client: Arc::new(client),
            untrusting: Arc::new(untrusting),
            server: Arc::new(server),
            log,
        })
    }

    fn session(&self, trusting: bool) -> Res<Session> {
        let name = rustls::pki_types::ServerName::try_from("cucm1.lab.example")?.to_owned();
        let client = if trusting {
            &self.client
        } else {
            &self.untrusting
        };
        Ok(Session {
            client: ClientConnection::new(client.clone(), name)?,
            server: ServerConnection::new(self.server.clone())?,
        })
    }
}

struct Device {
    name: String,
    ip: IpAddr,
    port: u16,
    node: IpAddr,
    fate: Fate,
    cseq: u32,
    /// Its connection (its own, or Expressway-C's it shares).
    wire: usize,
    /// Expressway-C's address and port, when it comes through Expressway-C.
    via: Option<(IpAddr, u16)>,
    attempted: bool,
}

/// A TCP connection to CUCM: a device's own, or one of Expressway-C's.
struct Wire {
    client: (IpAddr, u16),
    server: (IpAddr, u16),
    seq: [u32; 2],
    open: bool,
    tls: Option<Box<Session>>,
}

/// The time 2026-03-02T09:15:00Z in microseconds.
const T0: i64 = 1_772_442_900_000_000;

const MACS: ([u8; 6], [u8; 6]) = ([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2]);

impl Device {
    fn msg(&self, first_line: &str, cseq: u32, extra: &str) -> Vec<u8> {
        let (c, p, u, n) = (self.ip, self.port, self.node, &self.name);
        let exp = self.via.map_or(String::new(), |(e, ep)| {
            format!("Via: SIP/2.0/TLS {e}:{ep};branch=z9hG4bKexp{n}-{cseq}\r\n")
        });
        format!(
            "{first_line}\r\n{exp}Via: SIP/2.0/TCP {c}:{p};branch=z9hG4bK{n}-{cseq}\r\nFrom: <sip:{n}@{u}>;tag={n}\r\nTo: <sip:{n}@{u}>\r\nCall-ID: {n}@{c}\r\nCSeq: {cseq} REGISTER\r\n{extra}Content-Length: 0\r\n\r\n"
        )
        .into_bytes()
    }

    fn register(&self, cseq: u32, token: bool) -> Vec<u8> {
        let (c, p, n) = (self.ip, self.port, &self.name);
        let auth = if token {
            "Proxy-Authorization: Bearer token=\"eyJhbGciOiJSUzI1NiIsImtpZCI6ImNsdXN0ZXIifQ.eyJwcml2YXRlIjoieCJ9.c2ln\"\r\n"
        } else {
            ""
        };
        self.msg(
            &format!("REGISTER sip:{} SIP/2.0", self.node),
            cseq,
            &format!(
                "Contact: <sip:{n}@{c}:{p};transport=tcp>;+u.sip!devicename.ccm.cisco.com=\"{n}\"\r\nExpires: 3600\r\n{auth}"
            ),
        )
    }
}

/// One link-layer frame at a time, with what it carried.
struct Out<'w> {
    out: &'w mut dyn Write,
    stats: ClusterStats,
    pki: Option<Pki>,
}

/// Largest TCP payload per frame (an Ethernet MSS).
const MSS: usize = 1460;

impl Out<'_> {
    /// Sends one SIP message from one end: in clear, or as TLS records (through the device's
    /// session, read by the other end).
    fn sip(
        &mut self,
        t: &mut i64,
        d: &mut Wire,
        from_client: bool,
        msg: &[u8],
    ) -> std::io::Result<()> {
        self.stats.sip_messages += 1;
        let ack_psh = f::ACK | f::PSH;
        let Some(s) = d.tls.as_mut() else {
            *t += 1_000;
            return self.tcp(*t, d, from_client, ack_psh, msg);
        };
        let bytes = if from_client {
            s.client.writer().write_all(msg)?;
            drain(&mut s.client, &mut s.server)?
        } else {
            s.server.writer().write_all(msg)?;
            drain(&mut s.server, &mut s.client)?
        };
        *t += 1_000;
        self.stream(*t, d, from_client, &bytes)
    }

    /// Bytes of one flight, cut into segments.
    fn stream(
        &mut self,
        t: i64,
        d: &mut Wire,
        from_client: bool,
        bytes: &[u8],
    ) -> std::io::Result<()> {
        for (i, seg) in bytes.chunks(MSS).enumerate() {
            self.tcp(t + i as i64, d, from_client, f::ACK | f::PSH, seg)?;
        }
        Ok(())
    }

    /// The TLS handshake of a new connection, flight by flight.
    fn handshake(&mut self, t: &mut i64, d: &mut Wire) -> std::io::Result<()> {
        let Some(pki) = &self.pki else {
            return Ok(());
        };
        let mut s = pki.session(true).map_err(std::io::Error::other)?;
        let log = pki.log.clone();
        let logged = log.0.lock().map_or(0, |l| l.len());
        let hello = *t + 800;
        loop {
            let up = drain(&mut s.client, &mut s.server)?;
            let down = drain(&mut s.server, &mut s.client)?;
            if up.is_empty() && down.is_empty() {
                break;
            }
            *t += 800;
            self.stream(*t, d, true, &up)?;
            *t += 1_200;
            self.stream(*t, d, false, &down)?;
        }
        d.tls = Some(Box::new(s));
        if let Ok(l) = log.0.lock() {
            for line in l.get(logged..).unwrap_or("").lines() {
                self.stats.key_times.push((hello, line.to_string()));
            }
        }
        Ok(())
    }

    /// A handshake the client ends: it rejects CUCM's certificate with an alert (unknown_ca,
    /// as rustls words an issuer it does not know).
    fn rejected_handshake(&mut self, t: &mut i64, d: &mut Wire) -> std::io::Result<()> {
        let Some(pki) = &self.pki else {
            return Ok(());
        };
        let mut s = pki.session(false).map_err(std::io::Error::other)?;
        for _ in 0..4 {
            let up = drain(&mut s.client, &mut s.server)?;
            *t += 800;
            self.stream(*t, d, true, &up)?;
            let mut down = Vec::new();
            while s.server.wants_write() {
                s.server.write_tls(&mut down)?;
            }
            *t += 1_200;
            self.stream(*t, d, false, &down)?;
            let mut rd = &down[..];
            let mut failed = false;
            while !rd.is_empty() && !failed {
                s.client.read_tls(&mut rd)?;
                failed = s.client.process_new_packets().is_err();
            }
            if failed {
                let mut alert = Vec::new();
                while s.client.wants_write() {
                    s.client.write_tls(&mut alert)?;
                }
                *t += 300;
                self.stream(*t, d, true, &alert)?;
                return Ok(());
            }
        }
        Ok(())
    }

    fn tcp(
        &mut self,
        t: i64,
        d: &mut Wire,
        from_client: bool,
        fl: u8,
        payload: &[u8],
    ) -> std::io::Result<()> {
        let link = Link::Ethernet {
            src: MACS.0,
            dst: MACS.1,
        };
        let (c, s) = (d.client, d.server);
        let (src, dst, i) = if from_client { (c, s, 0) } else { (s, c, 1) };
        let Some(frame) = link.tcp(src, dst, d.seq[i], d.seq[1 - i], fl, payload) else {
            return Ok(());
        };
        d.seq[i] = d.seq[i].wrapping_add(framer::seq_advance(fl, payload));
        framer::write_pcap_record(self.out, t, &frame)?;
        self.stats.frames += 1;
        Ok(())
    }

    /// The client side closes the connection (FIN, FIN, ACK); the next one comes from the next
    /// port.
    fn close(&mut self, t: &mut i64, d: &mut Wire) -> std::io::Result<()> {
        for (from_client, fl) in [
            (true, f::FIN | f::ACK),
            (false, f::FIN | f::ACK),
            (true, f::ACK),
        ] {
            *t += 1_000;
            self.tcp(*t, d, from_client, fl, b"")?;
        }
        d.open = false;
        d.tls = None;
        d.client.1 = d.client.1.wrapping_add(1).max(1024);
        Ok(())
    }
}

/// What `from` has to send, given to `to` (which reads and processes it; the plaintext it
/// yields is read and dropped). Returns the bytes for the wire.
fn drain(
    from: &mut impl std::ops::DerefMut<Target = rustls::ConnectionCommon<impl rustls::SideData>>,
    to: &mut impl std::ops::DerefMut<Target = rustls::ConnectionCommon<impl rustls::SideData>>,
) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    while from.wants_write() {
        from.write_tls(&mut out)?;
    }
    if !out.is_empty() {
        let mut rd = &out[..];
        while !rd.is_empty() {
            to.read_tls(&mut rd)?;
            to.process_new_packets().map_err(std::io::Error::other)?;
        }
        let mut sink = Vec::new();
        let _ = to.reader().read_to_end(&mut sink);
    }
    Ok(out)
}

/// Writes the cluster's capture (microsecond pcap, Ethernet) to `out`.
pub fn generate(spec: &Cluster, out: &mut dyn Write) -> std::io::Result<ClusterStats> {
    let mut rng = Rng::new(spec.seed);
    out.write_all(&framer::pcap_header(1))?;
    let nodes = u32::from(spec.nodes.max(1));
    let node = |k: u32| IpAddr::V4(Ipv4Addr::new(10, 10, 10, 11 + (k % nodes) as u8));
    let mra = u32::from(spec.mra);
    let mut wires: Vec<Wire> = Vec::new();
    for k in 0..mra {
        wires.push(Wire {
            client: (IpAddr::V4(Ipv4Addr::new(10, 10, 10, 40)), 30000 + k as u16),
            server: (node(k), 5091),
            seq: [rng.next_u64() as u32, rng.next_u64() as u32],
            open: false,
            tls: None,
        });
    }
    let mut devices: Vec<Device> = Vec::new();
    for i in 0..spec.devices {
        let roll = (rng.below(1_000_000) as f64) / 1_000_000.0;
        let mut acc = 0.0;
        let mut fate = Fate::Healthy;
        for &(kind, share) in &spec.shares {
            acc += share;
            if roll < acc {
                fate = kind;
                break;
            }
        }
        if mra > 0 && matches!(fate, Fate::PortClosed | Fate::Filtered | Fate::Untrusting) {
            fate = Fate::Healthy;
        }
        if !spec.tls && fate == Fate::Untrusting {
            fate = Fate::Healthy;
        }
        let ip = IpAddr::V4(Ipv4Addr::from(0x0a14_0000 + i + 1));
        let port = 20000 + (i % 40000) as u16;
        let seq = [rng.next_u64() as u32, rng.next_u64() as u32];
        let (wire, via) = if mra > 0 {
            (i % mra, Some(wires[(i % mra) as usize].client))
        } else {
            wires.push(Wire {
                client: (ip, port),
                server: (node(i), 5090),
                seq,
                open: false,
                tls: None,
            });
            (wires.len() as u32 - 1, None)
        };
        devices.push(Device {
            name: format!("CSF{i:05}"),
            ip,
            port,
            node: wires[wire as usize].server.0,
            fate,
            cseq: 1,
            wire: wire as usize,
            via,
            attempted: false,
        });
    }
    let mut stats = ClusterStats::default();
    for fate in std::iter::once(Fate::Healthy).chain(FAILING) {
        stats.devices.push((fate, 0));
        if fate != Fate::Healthy {
            stats.failures.push((fate, 0));
        }
    }
    let pki = if spec.tls {
        Some(Pki::new().map_err(std::io::Error::other)?)
    } else {
        None
    };
    let mut w = Out { out, stats, pki };
    // Each device's next attempt, earliest first (ties by device, so the output is stable).
    let end = T0 + i64::from(spec.seconds) * 1_000_000;
    // (time, device, step): step 0 is an attempt, 1.. a filtered device's SYN sent again.
    let mut queue: BinaryHeap<Reverse<(i64, usize, usize)>> = (0..devices.len())
        .map(|i| {
            Reverse((
                T0 + rng.below(u64::from(spec.retry.max(1)) * 1_000_000) as i64,
                i,
                0,
            ))
        })
        .collect();
    while let Some(Reverse((t, i, step))) = queue.pop() {
        let d = &mut devices[i];
        if step > 0 {
            // The same SYN again (its sequence number), after the first went unanswered.
            let wire = &mut wires[d.wire];
            wire.seq[0] = wire.seq[0].wrapping_sub(1);
            w.tcp(t, wire, true, f::SYN, b"")?;
            if step == SYN_RETRIES.len() {
                wire.client.1 = wire.client.1.wrapping_add(1).max(1024);
            }
            continue;
        }
        // No attempt starts in the last 10 s, nor in the last 60 s one whose failure takes
        // time to show (a filtered port, an unanswered REGISTER): how each one ends is in the
        // capture, its timer well before the capture's last packet (a replay that runs late
        // by a second at the end does not reach Timer F that the file does not).
        let slow = matches!(d.fate, Fate::Filtered | Fate::Unanswered);
        if t >= end - if slow { 60_000_000 } else { 10_000_000 } {
            continue;
        }
        if !std::mem::replace(&mut d.attempted, true) {
            if let Some(x) = w.stats.devices.iter_mut().find(|(k, _)| *k == d.fate) {
                x.1 += 1;
            }
        }
        let failed = attempt(&mut w, t, d, &mut wires[d.wire], spec.expires)?;
        if failed {
            if let Some(x) = w.stats.failures.iter_mut().find(|(k, _)| *k == d.fate) {
                x.1 += 1;
            }
        } else {
            w.stats.registered += 1;
        }
        if d.fate == Fate::Filtered {
            for (k, after) in SYN_RETRIES.iter().enumerate() {
                queue.push(Reverse((t + 1_000 + after * 1_000_000, i, k + 1)));
            }
        }
        if d.fate == Fate::Lost && !failed {
            // Silent from now on.
            continue;
        }
        // A healthy device refreshes at three quarters of its Expires, as clients do.
        let wait = if failed {
            i64::from(spec.retry.max(1)) * 1_000_000
        } else {
            i64::from(spec.expires.max(1)) * 750_000
        };
        queue.push(Reverse((t + wait, i, 0)));
    }
    // Expressway-C closes its connections (as when it restarts).
    let mut t = end;
    for wire in wires.iter_mut().take(mra as usize).filter(|x| x.open) {
        w.close(&mut t, wire)?;
    }
    if let Some(pki) = &w.pki {
        if let Ok(l) = pki.log.0.lock() {
            w.stats.keylog = l.clone();
        }
    }
    Ok(w.stats)
}

/// One registration attempt of `d` at `t` over `wire` (a few milliseconds long); whether it
/// failed.
fn attempt(
    w: &mut Out<'_>,
    t: i64,
    d: &mut Device,
    wire: &mut Wire,
    expires: u32,
) -> std::io::Result<bool> {
    let mut t = t;
    let step = |t: &mut i64| {
        *t += 1_000;
        *t
    };
    if !wire.open {
        w.tcp(step(&mut t), wire, true, f::SYN, b"")?;
        if d.fate == Fate::Filtered {
            // The SYN is sent again later ([`SYN_RETRIES`]), never answered.
            return Ok(true);
        }
        if d.fate == Fate::PortClosed {
            w.tcp(step(&mut t), wire, false, f::RST | f::ACK, b"")?;
            // The next attempt is a new connection from the next port.
            wire.client.1 = wire.client.1.wrapping_add(1).max(1024);
            return Ok(true);
        }
        w.tcp(step(&mut t), wire, false, f::SYN | f::ACK, b"")?;
        w.tcp(step(&mut t), wire, true, f::ACK, b"")?;
        wire.open = true;
        if d.fate == Fate::Untrusting {
            w.rejected_handshake(&mut t, wire)?;
            w.close(&mut t, wire)?;
            return Ok(true);
        }
        w.handshake(&mut t, wire)?;
    }
    let (c1, c2) = (d.cseq, d.cseq + 1);
    d.cseq += 2;
    let m = d.register(c1, false);
    w.sip(&mut t, wire, true, &m)?;
    let m = d.msg(
        "SIP/2.0 407 Proxy Authentication Required",
        c1,
        "Proxy-Authenticate: Bearer realm=\"ccmsipline\"\r\n",
    );
    w.sip(&mut t, wire, false, &m)?;
    if d.fate == Fate::Abandons {
        if d.via.is_none() {
            w.close(&mut t, wire)?;
        }
        return Ok(true);
    }
    let m = d.register(c2, true);
    w.sip(&mut t, wire, true, &m)?;
    if d.fate == Fate::Unanswered {
        w.tcp(step(&mut t), wire, false, f::ACK, b"")?;
        return Ok(true);
    }
    let (answer, failed) = match d.fate {
        Fate::Healthy | Fate::Lost | Fate::Untrusting => (
            d.msg("SIP/2.0 200 OK", c2, &format!("Expires: {expires}\r\n")),
            false,
        ),
        Fate::PortMismatch => (
            d.msg(
                "SIP/2.0 403 Forbidden",
                c2,
                "Warning: 399 UCM-PUB \"SIP OAuth Registration port Mismatch\"\r\n",
            ),
            true,
        ),
        _ => (d.msg("SIP/2.0 401 Unauthorized", c2, ""), true),
    };
    w.sip(&mut t, wire, false, &answer)?;
    w.tcp(step(&mut t), wire, true, f::ACK, b"")?;
    Ok(failed)
}
