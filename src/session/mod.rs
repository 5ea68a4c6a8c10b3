//! Sessions: the pipeline from frames to per-connection TLS/SIP state and SIP messages.
//!
//! [`Analyzer`] is a [`CaptureSink`]: it decodes each frame, feeds the flow table, and routes
//! each connection's byte stream to the TLS or SIP decoder chosen by content (ports are only
//! hints). [`Analyzer::finish`] turns what it saw into [`CaptureFacts`] for the rules.

pub mod registration;

use serde::Serialize;

use crate::capture::{CaptureInfo, CaptureSink, Frame};
use crate::config::{Config, PortKind, PortMap};
use crate::decode::{DecodeStats, Decoder, Packet, Transport as Layer4};
use crate::flow::{ConnMeta, Event, Outcome, RoleHint, Table};
use crate::net::{Dir, Endpoint, Role, Side, Transport};
use crate::sip::framer::{find_start, Framer};
use crate::sip::{self, SipMessage};
use crate::time::Ts;
use crate::tls::{self, KeyLog, Keys, TlsStream, TlsSummary};
pub use registration::{Registration, Transaction};

/// What was recognized on a connection.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Proto {
    /// Nothing recognized yet (or no payload).
    #[default]
    Unknown,
    /// TLS.
    Tls,
    /// SIP in clear.
    Sip,
    /// HTTP.
    Http,
    /// Something else.
    Other,
}

/// Application state of one TCP connection.
#[derive(Default)]
pub struct ConnApp {
    proto: Proto,
    tls: Option<Box<TlsStream>>,
    sip: Option<Box<[Framer; 2]>>,
    /// What decrypted application data turned out to be.
    inner: Proto,
    http: Option<Box<crate::http::HttpStream>>,
    tries: u8,
    /// SIP messages per direction `[from client, from server]`.
    sip_messages: [u32; 2],
    gaps: u32,
}

/// Where SIP messages go, with the count of those past the limit.
struct SipStore<'a> {
    messages: &'a mut Vec<SipMessage>,
    dropped: &'a mut u64,
    show_secrets: bool,
    max: usize,
}

/// An endpoint with its role.
#[derive(Clone, Debug, Serialize, PartialEq, Eq, schemars::JsonSchema)]
pub struct Party {
    /// Address.
    pub ip: std::net::IpAddr,
    /// Port.
    pub port: u16,
    /// `cucm`, `expressway-c`, `jabber-or-webex`, `sip-client`, `sip-server`, `client`, `server`.
    pub role: Role,
}

/// A RST that ended a connection.
#[derive(Clone, Debug, Serialize, PartialEq, schemars::JsonSchema)]
pub struct Reset {
    /// Frame.
    pub frame: u64,
    /// `client` or `server`.
    pub sent_by: Side,
}

/// One TCP connection as the report and the rules see it.
#[derive(Clone, Debug, Serialize, PartialEq, schemars::JsonSchema)]
pub struct Connection {
    /// Wireshark's `tcp.stream`.
    pub tcp_stream: u64,
    /// The side that opened it.
    pub client: Party,
    /// The side that accepted it.
    pub server: Party,
    /// What the server port is: `sip-oauth`, `sip-mra-oauth`, `sip-tls`, `sip`, `other`.
    pub port_kind: PortKind,
    /// `tls`, `sip`, `http`, `other`, `unknown`.
    pub protocol: Proto,
    /// How it went.
    pub outcome: Outcome,
    /// `client` or `server`: who sent the first FIN or RST.
    pub ended_by: Option<Side>,
    /// Whether roles come from the SYN (`syn`) or were inferred (`inferred`).
    pub roles_from: &'static str,
    /// First frame.
    pub first_frame: u64,
    /// Time of the first frame.
    pub first_time: Ts,
    /// Last frame.
    pub last_frame: u64,
    /// Time of the last frame.
    pub last_time: Ts,
    /// Frames.
    pub packets: u64,
    /// Payload bytes client to server.
    pub bytes_to_server: u64,
    /// Payload bytes server to client.
    pub bytes_to_client: u64,
    /// Frames of the client's SYNs.
    pub syn_frames: Vec<u64>,
    /// Frame of the SYN/ACK.
    pub synack_frame: Option<u64>,
    /// Frame of the client's first FIN.
    pub client_fin_frame: Option<u64>,
    /// Frame of the server's first FIN.
    pub server_fin_frame: Option<u64>,
    /// The RST, if any.
    pub rst: Option<Reset>,
    /// Segments that only repeated bytes already seen.
    pub retransmissions: u64,
    /// Bytes missing from the capture (lost segments, snap length).
    pub lost_bytes: u64,
    /// TLS, when the connection carries it.
    pub tls: Option<TlsSummary>,
    /// SIP messages read on this connection (in clear or decrypted).
    pub sip_messages: u32,
    /// Of those, the ones the server sent.
    pub sip_from_server: u32,
}

impl Connection {
    /// Time of a frame within this connection, best effort (first or last frame time).
    pub fn is_oauth(&self) -> bool {
        matches!(self.port_kind, PortKind::SipOAuth | PortKind::SipMraOAuth)
    }
}

/// Everything one capture showed, ready for the rules.
#[derive(Debug, Default)]
pub struct CaptureFacts {
    /// The capture.
    pub info: Option<CaptureInfo>,
    /// TCP connections in `tcp.stream` order.
    pub connections: Vec<Connection>,
    /// SIP messages in frame order.
    pub sip: Vec<SipMessage>,
    /// SIP transactions (requests with their responses).
    pub transactions: Vec<Transaction>,
    /// Registrations per device.
    pub registrations: Vec<Registration>,
    /// What could not be decoded or seen, limits hit.
    pub notes: Vec<String>,
    /// Decoder counters.
    pub decode: DecodeStats,
    /// HTTP requests seen (device configuration files among them).
    pub http: Vec<HttpEntry>,
    /// The port map in force for this capture: the given ports plus those the device
    /// configuration files name.
    pub ports: PortMap,
    /// Connections missing bytes (for rules whose evidence may have been lost).
    pub lossy_streams: std::collections::BTreeSet<u64>,
    /// Addresses that opened connections to a SIP MRA OAuth port.
    pub mra_clients: std::collections::BTreeSet<std::net::IpAddr>,
    /// Per server address, the first connection that presented a certificate on an OAuth port
    /// and the first on Tomcat HTTPS (8443/443): what cross-connection rules compare.
    pub probes: Vec<Connection>,
    /// Connections settled but not kept in `connections` (past the report's limit).
    pub connections_not_listed: u64,
}

/// An HTTP exchange with the connection it travelled on.
#[derive(Clone, Debug, Serialize, PartialEq, schemars::JsonSchema)]
pub struct HttpEntry {
    /// Frame of the request.
    pub frame: u64,
    /// Time of the request.
    pub time: Ts,
    /// tcp.stream.
    pub tcp_stream: u64,
    /// Requester.
    pub client: Party,
    /// Server.
    pub server: Party,
    /// Method.
    pub method: String,
    /// Path.
    pub path: String,
    /// Status, if answered.
    pub status: Option<u16>,
    /// The device configuration file's content, when this was one.
    pub config: Option<crate::http::DeviceConfig>,
    /// Frame of the answer.
    pub response_frame: Option<u64>,
}

/// The report's view of one connection.
fn summarize(
    c: &crate::flow::Conn<ConnApp>,
    cfg: &Config,
    keys: &KeyLog,
    learned: (&[u16], &[u16]),
) -> Connection {
    let m = &c.meta;
    let port = m.server.port;
    let kind = if learned.1.contains(&port) {
        PortKind::SipMraOAuth
    } else if learned.0.contains(&port) {
        PortKind::SipOAuth
    } else {
        cfg.ports.port_kind(port)
    };
    let (client_role, server_role) = kind.roles();
    let (retransmissions, lost_bytes) = c.loss();
    let tls = c.app.tls.as_ref().map(|t| {
        let mut s = t.summary.clone();
        s.decryption = t.decryption_status(keys);
        if let Some(store) = &cfg.trust {
            for ch in &mut s.chains {
                let usage = if ch.presented_by == Side::Client {
                    crate::trust::Usage::Client
                } else {
                    crate::trust::Usage::Server
                };
                ch.trust = Some(store.check(&ch.der, usage, ch.time));
            }
        }
        s
    });
    Connection {
        tcp_stream: m.stream,
        client: Party {
            ip: m.client.ip,
            port: m.client.port,
            role: client_role,
        },
        server: Party {
            ip: m.server.ip,
            port: m.server.port,
            role: server_role,
        },
        port_kind: kind,
        protocol: c.app.proto,
        outcome: m.outcome(),
        ended_by: m.ended_by().map(Dir::sender),
        roles_from: if m.roles_from_syn { "syn" } else { "inferred" },
        first_frame: m.first.0,
        first_time: m.first.1,
        last_frame: m.last.0,
        last_time: m.last.1,
        packets: m.packets,
        bytes_to_server: m.bytes[0],
        bytes_to_client: m.bytes[1],
        syn_frames: m.syn_frames.clone(),
        synack_frame: m.synack,
        client_fin_frame: m.fin[0].map(|f| f.0),
        server_fin_frame: m.fin[1].map(|f| f.0),
        rst: m.rst.map(|(d, f, _)| Reset {
            frame: f,
            sent_by: d.sender(),
        }),
        retransmissions,
        lost_bytes,
        tls,
        sip_messages: c.app.sip_messages[0] + c.app.sip_messages[1],
        sip_from_server: c.app.sip_messages[1],
    }
}

struct Hints<'c>(&'c Config);

impl RoleHint for Hints<'_> {
    fn sender_is_client(&self, src: &Endpoint, dst: &Endpoint, payload: &[u8]) -> Option<bool> {
        if tls::looks_like_client_hello(payload) {
            return Some(true);
        }
        if payload.starts_with(b"SIP/2.0 ") || payload.starts_with(b"HTTP/1.") {
            return Some(false);
        }
        let (s, d) = (
            self.0.ports.port_kind(src.port),
            self.0.ports.port_kind(dst.port),
        );
        match (s != PortKind::Other, d != PortKind::Other) {
            (false, true) => Some(true),
            (true, false) => Some(false),
            _ => Some(dst.port <= src.port),
        }
    }
}

/// The streaming analysis of one capture.
pub struct Analyzer<'c> {
    cfg: &'c Config,
    decoder: Decoder,
    table: Table<ConnApp>,
    sip: Vec<SipMessage>,
    sip_dropped: u64,
    udp_sip: u64,
    keys: KeyLog,
    pcapng: bool,
    secrets_blocks: u32,
    hold_budget: std::cell::Cell<usize>,
    certs: std::cell::RefCell<crate::cert::CertCache>,
    hook: Option<SettleHook<'c>>,
    frames: u64,
    settled: Settled,
}

/// Called with each connection as it is settled (it ended, went idle, or the table was full),
/// before the capture is read to its end; returns whether to keep it in `facts.connections`.
pub type SettleHook<'c> = Box<dyn FnMut(&Connection) -> bool + 'c>;

/// Connections kept in `facts.connections` without a hook (a hook may keep more, up to twice this).
pub const MAX_KEPT: usize = 1000;

/// Notes kept at most per capture; past this they are counted.
pub const MAX_NOTES: usize = 200;

/// A bounded list of notes.
#[derive(Default)]
pub struct Notes {
    list: Vec<String>,
    more: u64,
}

impl Notes {
    /// Adds a note, or counts it when the list is full.
    pub fn push(&mut self, n: String) {
        if self.list.len() < MAX_NOTES {
            self.list.push(n);
        } else {
            self.more += 1;
        }
    }

    /// The notes, with a last line counting those left out.
    pub fn into_vec(self) -> Vec<String> {
        let mut v = self.list;
        if self.more > 0 {
            v.push(format!(
                "limit: {} more note(s) like the ones above are not listed",
                self.more
            ));
        }
        v
    }
}

/// Distinct values kept per set of connection facts (lossy streams, MRA clients).
const MAX_SET: usize = 100_000;

/// What settled connections leave behind.
#[derive(Default)]
struct Settled {
    kept: Vec<Connection>,
    not_listed: u64,
    notes: Notes,
    undecrypted: u64,
    hold_limit: u64,
    http: Vec<HttpEntry>,
    oauth: Vec<u16>,
    mra: Vec<u16>,
    lossy: std::collections::BTreeSet<u64>,
    mra_clients: std::collections::BTreeSet<std::net::IpAddr>,
    probes: Vec<Connection>,
}

impl<'c> Analyzer<'c> {
    /// A fresh analysis with `cfg`.
    pub fn new(cfg: &'c Config) -> Self {
        Analyzer {
            cfg,
            decoder: Decoder::with_fragment_limit(cfg.limits.max_fragments),
            table: Table::with_max_active(cfg.limits.max_connections),
            sip: Vec::new(),
            sip_dropped: 0,
            udp_sip: 0,
            keys: cfg.secrets.keylog.clone(),
            pcapng: false,
            secrets_blocks: 0,
            hold_budget: std::cell::Cell::new(cfg.limits.hold_back_bytes),
            certs: Default::default(),
            hook: None,
            frames: 0,
            settled: Settled::default(),
        }
    }

    /// Calls `hook` with each connection as soon as it is settled (it ended, went idle, or the
    /// table was full), before the capture is read to its end; the hook says whether to keep
    /// the connection in the final facts. Roles use the ports of the configuration files seen
    /// so far.
    pub fn on_settle(&mut self, hook: SettleHook<'c>) {
        self.hook = Some(hook);
    }

    fn settle_due(&mut self, now: crate::time::Ts) {
        for stream in self.table.due(now) {
            self.settle_stream(stream, self.pcapng);
        }
    }

    /// Takes one connection out of the table and settles it (one at a time keeps memory low).
    fn settle_stream(&mut self, stream: u64, may_hold: bool) {
        let mut store = SipStore {
            messages: &mut self.sip,
            dropped: &mut self.sip_dropped,
            show_secrets: self.cfg.secrets.show,
            max: self.cfg.limits.max_sip_messages,
        };
        let keys = Keys {
            log: &self.keys,
            certs: &self.certs,
            hold_budget: may_hold.then_some(&self.hold_budget),
        };
        let taken = self.table.take(stream, &mut |meta, app, ev| {
            app.event(meta, ev, &mut store, keys)
        });
        if let Some(c) = taken {
            settle_one(
                c,
                self.cfg,
                keys,
                &mut store,
                &mut self.hook,
                &mut self.settled,
            );
        }
    }
}

/// Releases what a connection held back, summarizes it, and records what the capture-level
/// rules and the report need of it.
fn settle_one(
    mut c: crate::flow::Conn<ConnApp>,
    cfg: &Config,
    keys: Keys<'_>,
    store: &mut SipStore<'_>,
    hook: &mut Option<SettleHook<'_>>,
    st: &mut Settled,
) {
    if c.app.tls.as_ref().is_some_and(|t| t.hold_limit_hit) {
        st.hold_limit += 1;
    }
    let meta = c.meta.clone();
    c.app.release(&meta, store, keys);
    if let Some(h) = c.app.http.as_mut() {
        h.unanswered();
        for ex in &h.exchanges {
            if let Some(conf) = &ex.config {
                for n in &conf.nodes {
                    st.oauth.extend(n.sip_oauth_port);
                    st.mra.extend(n.sip_mra_oauth_port);
                }
            }
            st.http.push(HttpEntry {
                frame: ex.frame,
                time: ex.time,
                tcp_stream: meta.stream,
                client: Party {
                    ip: meta.client.ip,
                    port: meta.client.port,
                    role: Role::Client,
                },
                server: Party {
                    ip: meta.server.ip,
                    port: meta.server.port,
                    role: Role::Tftp,
                },
                method: ex.method.clone(),
                path: ex.path.clone(),
                status: ex.status,
                config: ex.config.clone(),
                response_frame: ex.response_frame,
            });
            if let Some(e) = &ex.config_error {
                st.notes.push(format!(
                    "frame {}: the configuration file {} could not be read: {e}",
                    ex.frame, ex.path
                ));
            }
            if ex.path.contains(".cnf.xml") && ex.status == Some(404) {
                st.notes.push(format!(
                    "frame {}: the TFTP server answered 404 for {}: no such device is configured (or the name is wrong), so the client has no configuration to register with",
                    ex.frame, ex.path
                ));
            }
        }
    }
    let conn = summarize(&c, cfg, keys.log, (&st.oauth, &st.mra));
    let kind = conn.port_kind;
    if let Some(t) = &conn.tls {
        if t.application_records.iter().sum::<u64>() > 0 && t.decrypted_bytes == 0 && kind.is_sip()
        {
            st.undecrypted += 1;
        }
        if let Some(why) = &t.malformed {
            st.notes
                .push(format!("tcp.stream {}: TLS: {why}", conn.tcp_stream));
        }
    }
    let oversized: u32 = c
        .app
        .sip
        .as_ref()
        .map_or(0, |f| f[0].oversized + f[1].oversized);
    if oversized > 0 {
        st.notes.push(format!(
            "limit: tcp.stream {}: {oversized} SIP message(s) declared a body over {} KiB; their headers were read and the body skipped by its length",
            conn.tcp_stream,
            crate::sip::MAX_BODY / 1024
        ));
    }
    if c.app.gaps > 0 && kind != PortKind::Other {
        st.notes.push(format!(
            "tcp.stream {}: {} byte(s) missing from the capture; decoding resumed after each gap",
            conn.tcp_stream, conn.lost_bytes
        ));
    }
    if conn.lost_bytes > 0 && st.lossy.len() < MAX_SET {
        st.lossy.insert(conn.tcp_stream);
    }
    if kind == PortKind::SipMraOAuth && st.mra_clients.len() < MAX_SET {
        st.mra_clients.insert(conn.client.ip);
    }
    let tomcat = conn.server.port == 8443 || conn.server.port == 443;
    let has_chain = conn
        .tls
        .as_ref()
        .is_some_and(|t| t.chain_of(Side::Server).is_some());
    if has_chain && (conn.is_oauth() || tomcat) {
        let same =
            |p: &Connection| p.server.ip == conn.server.ip && p.is_oauth() == conn.is_oauth();
        if !st.probes.iter().any(same) && st.probes.len() < 2 * MAX_KEPT {
            st.probes.push(conn.clone());
        }
    }
    let keep = match hook.as_mut() {
        Some(h) => h(&conn),
        None => st.kept.len() < MAX_KEPT,
    };
    if keep && st.kept.len() < 2 * MAX_KEPT {
        st.kept.push(conn);
    } else {
        st.not_listed += 1;
    }
}

fn push_sip(store: &mut SipStore<'_>, m: SipMessage) {
    if store.messages.len() < store.max {
        store.messages.push(m);
    } else {
        *store.dropped += 1;
    }
}

#[allow(clippy::too_many_arguments)]
fn push_stream_sip(
    meta: &ConnMeta,
    framers: &mut Option<Box<[Framer; 2]>>,
    count: &mut [u32; 2],
    store: &mut SipStore<'_>,
    dir: Dir,
    bytes: &[u8],
    frame: u64,
    ts: Ts,
    transport: Transport,
) {
    let (src, dst) = match dir {
        Dir::ToServer => (meta.client, meta.server),
        Dir::ToClient => (meta.server, meta.client),
    };
    let ctx = sip::Context {
        frame,
        time: ts,
        transport,
        tcp_stream: Some(meta.stream),
        src,
        dst,
        show_secrets: store.show_secrets,
    };
    let f = framers.get_or_insert_with(Box::default);
    f[dir.idx()].push(bytes, &mut |m| {
        count[dir.idx()] += 1;
        push_sip(store, sip::build(m.start, m.headers, m.body_len, &ctx));
    });
}

/// Decrypted application data: SIP goes to the framers; anything else is only counted.
#[allow(clippy::too_many_arguments)]
fn inner_data(
    meta: &ConnMeta,
    framers: &mut Option<Box<[Framer; 2]>>,
    inner: &mut Proto,
    count: &mut [u32; 2],
    store: &mut SipStore<'_>,
    dir: Dir,
    plain: &[u8],
    frame: u64,
    ts: Ts,
) {
    if *inner == Proto::Unknown {
        let trimmed = &plain[plain
            .iter()
            .take_while(|c| matches!(c, b'\r' | b'\n'))
            .count()..];
        if trimmed.is_empty() {
            return;
        }
        *inner = if trimmed.starts_with(b"SIP/2.0") || find_start(trimmed) == Some(0) {
            Proto::Sip
        } else {
            Proto::Other
        };
    }
    if *inner == Proto::Sip {
        push_stream_sip(
            meta,
            framers,
            count,
            store,
            dir,
            plain,
            frame,
            ts,
            Transport::Tls,
        );
    }
}

impl ConnApp {
    fn event(&mut self, meta: &ConnMeta, ev: Event<'_>, store: &mut SipStore<'_>, keys: Keys<'_>) {
        match ev {
            Event::Data(dir, bytes, frame, ts) => {
                if self.proto == Proto::Unknown {
                    self.classify(bytes);
                }
                match self.proto {
                    Proto::Tls => {
                        let ConnApp {
                            tls,
                            sip,
                            inner,
                            sip_messages,
                            ..
                        } = self;
                        if let Some(t) = tls.as_mut() {
                            t.data(dir, bytes, frame, ts, keys, &mut |d, plain, f, t| {
                                inner_data(meta, sip, inner, sip_messages, store, d, plain, f, t)
                            });
                        }
                    }
                    Proto::Sip => self.sip_data(meta, dir, bytes, frame, ts, Transport::Tcp, store),
                    Proto::Http => self
                        .http
                        .get_or_insert_with(Box::default)
                        .data(dir, bytes, frame, ts),
                    _ => {}
                }
            }
            Event::Gap(dir, _, _, _) => {
                self.gaps += 1;
                if let Some(t) = self.tls.as_mut() {
                    t.gap(dir);
                }
                if let Some(f) = self.sip.as_mut() {
                    f[dir.idx()].gap();
                }
                if let Some(h) = self.http.as_mut() {
                    h.gap(dir);
                }
                if self.proto == Proto::Other {
                    // Content after a gap may be recognizable (capture started mid-stream).
                    self.proto = Proto::Unknown;
                    self.tries = 0;
                }
            }
            Event::Fin(dir, frame, _) | Event::Rst(dir, frame, _) => {
                if let Some(h) = self.http.as_mut() {
                    h.fin(dir, frame);
                }
                if let Some(t) = self.tls.as_mut() {
                    t.closed(dir);
                }
                if let Some(f) = self.sip.as_mut() {
                    f[dir.idx()].closed();
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn sip_data(
        &mut self,
        meta: &ConnMeta,
        dir: Dir,
        bytes: &[u8],
        frame: u64,
        ts: Ts,
        transport: Transport,
        store: &mut SipStore<'_>,
    ) {
        push_stream_sip(
            meta,
            &mut self.sip,
            &mut self.sip_messages,
            store,
            dir,
            bytes,
            frame,
            ts,
            transport,
        );
    }

    /// Processes records held back for keys (after a Decryption Secrets Block, or at the end).
    fn release(&mut self, meta: &ConnMeta, store: &mut SipStore<'_>, keys: Keys<'_>) {
        let ConnApp {
            tls,
            sip,
            inner,
            sip_messages,
            ..
        } = self;
        if let Some(t) = tls.as_mut() {
            t.release(keys, &mut |d, plain, f, ts| {
                inner_data(meta, sip, inner, sip_messages, store, d, plain, f, ts)
            });
        }
    }

    fn classify(&mut self, b: &[u8]) {
        if tls::looks_like_tls(b) {
            self.proto = Proto::Tls;
            self.tls = Some(Box::default());
        } else if b.starts_with(b"SIP/2.0") || find_start(b) == Some(0) {
            self.proto = Proto::Sip;
        } else if b.starts_with(b"HTTP/1.")
            || [&b"GET "[..], b"POST ", b"PUT ", b"HEAD "]
                .iter()
                .any(|m| b.starts_with(m))
        {
            self.proto = Proto::Http;
        } else {
            self.tries += 1;
            if self.tries >= 4 {
                self.proto = Proto::Other;
            }
        }
    }
}

impl CaptureSink for Analyzer<'_> {
    fn format(&mut self, pcapng: bool) {
        self.pcapng = pcapng;
    }

    fn frame(&mut self, frame: &Frame<'_>) {
        let cfg = self.cfg;
        let table = &mut self.table;
        let mut store = SipStore {
            messages: &mut self.sip,
            dropped: &mut self.sip_dropped,
            show_secrets: cfg.secrets.show,
            max: cfg.limits.max_sip_messages,
        };
        let udp_sip = &mut self.udp_sip;
        let keys = Keys {
            log: &self.keys,
            certs: &self.certs,
            hold_budget: self.pcapng.then_some(&self.hold_budget),
        };
        let mut touched = None;
        self.decoder
            .decode(frame, &mut |p: &Packet<'_>| match p.transport {
                Layer4::Tcp(seg) => {
                    let src = Endpoint {
                        ip: p.src,
                        port: seg.sport,
                    };
                    let dst = Endpoint {
                        ip: p.dst,
                        port: seg.dport,
                    };
                    touched = Some(table.segment(
                        src,
                        dst,
                        &seg,
                        p.missing,
                        p.frame,
                        p.ts,
                        &Hints(cfg),
                        &mut |meta, app, ev| app.event(meta, ev, &mut store, keys),
                    ));
                }
                Layer4::Udp {
                    sport,
                    dport,
                    payload,
                } => {
                    if payload.len() < 12 || payload.iter().take(4).any(|c| *c == 0) {
                        return;
                    }
                    let ctx = sip::Context {
                        frame: p.frame,
                        time: p.ts,
                        transport: Transport::Udp,
                        tcp_stream: None,
                        src: Endpoint {
                            ip: p.src,
                            port: sport,
                        },
                        dst: Endpoint {
                            ip: p.dst,
                            port: dport,
                        },
                        show_secrets: cfg.secrets.show,
                    };
                    if let Some(m) = sip::parse_datagram(payload, &ctx) {
                        *udp_sip += 1;
                        push_sip(&mut store, m);
                    }
                }
            });
        let _ = touched;
        self.frames += 1;
        if self.frames.is_multiple_of(4096) || self.table.active() > self.table.max_active {
            self.settle_due(frame.ts);
        }
    }

    fn secrets(&mut self, kind: u32, data: &[u8], after_frame: u64) {
        const TLS_KEY_LOG: u32 = 0x544c_534b;
        if kind != TLS_KEY_LOG {
            return;
        }
        self.secrets_blocks += 1;
        let source = format!("Decryption Secrets Block after frame {after_frame}");
        self.keys.add_text(&source, &String::from_utf8_lossy(data));
        let mut store = SipStore {
            messages: &mut self.sip,
            dropped: &mut self.sip_dropped,
            show_secrets: self.cfg.secrets.show,
            max: self.cfg.limits.max_sip_messages,
        };
        let keys = Keys {
            log: &self.keys,
            certs: &self.certs,
            hold_budget: Some(&self.hold_budget),
        };
        self.table.for_each(&mut |meta, app| {
            let ready = app.tls.as_ref().is_some_and(|t| {
                t.is_holding()
                    && t.client_random()
                        .is_some_and(|cr| keys.log.get(&cr).is_some())
            });
            if ready {
                app.release(meta, &mut store, keys);
            }
        });
    }
}

impl Analyzer<'_> {
    /// Ends the analysis: flushes reassembly and returns what the capture showed.
    pub fn finish(mut self, info: CaptureInfo) -> CaptureFacts {
        for stream in self.table.all() {
            self.settle_stream(stream, false);
        }
        let st = std::mem::take(&mut self.settled);
        let mut notes = Vec::new();
        if st.hold_limit > 0 {
            notes.push(format!(
                "limit: {} TLS connection(s) reached the hold-back limit ({} KiB per connection, {} KiB in all) while waiting for keys that might come later in the file; their records were analyzed without keys",
                st.hold_limit,
                tls::MAX_HELD_PER_CONN / 1024,
                self.cfg.limits.hold_back_bytes / 1024
            ));
        }
        for m in &self.keys.malformed {
            notes.push(format!("key log: {m} (line skipped)"));
        }
        if let Some(stop) = &info.stopped {
            notes.push(format!(
                "{stop}; findings cover the frames before that point"
            ));
        }
        notes.extend(st.notes.into_vec());
        if self.table.evicted_full > 0 {
            notes.push(format!(
                "limit: more than {} connections were open at once; the {} longest idle were settled early (their later packets start new tcp.streams)",
                self.table.max_active,
                self.table.evicted_full
            ));
        }
        if st.not_listed > 0 {
            notes.push(format!(
                "limit: {} connection(s) without findings are not listed in connections[] (the first {MAX_KEPT} and every one with a finding are); all were analyzed",
                st.not_listed
            ));
        }
        let mut http = st.http;
        http.sort_by_key(|h| h.frame);
        let ports = self.cfg.ports.clone().with_ports(&st.oauth, &st.mra);
        let connections = st.kept;
        let undecrypted_oauth = st.undecrypted;
        if undecrypted_oauth > 0 {
            notes.push(format!(
                "{undecrypted_oauth} TLS connection(s) on SIP ports carried encrypted application data: the SIP inside \
                 (REGISTER, 401/403/407 answers, Warning texts) cannot be read without the session keys. \
                 Capture a key log on a lab client (SSLKEYLOGFILE) and pass it with --keylog, or embed it in the capture with \
                 `editcap --inject-secrets tls,keys.txt`."
            ));
        }
        if self.sip_dropped > 0 {
            notes.push(format!(
                "limit: more than {} SIP messages (--max-sip-messages); {} later ones were counted but not analyzed",
                self.cfg.limits.max_sip_messages,
                self.sip_dropped
            ));
        }
        let d = &self.decoder.stats;
        if d.malformed > 0 {
            if let Some((f, why)) = &d.first_malformed {
                notes.push(format!(
                    "{} frame(s) could not be decoded (first: frame {f}, {why})",
                    d.malformed
                ));
            }
        }
        if d.truncated > 0 {
            notes.push(format!(
                "{} frame(s) were cut by the snap length; the missing bytes are treated as gaps",
                d.truncated
            ));
        }
        if d.fragments_dropped > 0 {
            notes.push(format!(
                "limit: {} fragmented datagram(s) were dropped incomplete (fragment pool limits or age)",
                d.fragments_dropped
            ));
        }
        let mut sip = self.sip;
        sip.sort_by_key(|m| m.frame);
        let (transactions, registrations) = registration::build(&sip);
        CaptureFacts {
            info: Some(info),
            connections,
            sip,
            transactions,
            registrations,
            notes,
            decode: self.decoder.stats.clone(),
            http,
            ports,
            lossy_streams: st.lossy,
            mra_clients: st.mra_clients,
            probes: st.probes,
            connections_not_listed: st.not_listed,
        }
    }
}
