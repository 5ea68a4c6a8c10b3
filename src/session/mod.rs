//! Sessions: the pipeline from frames to per-connection TLS/SIP state and SIP messages.
//!
//! [`Analyzer`] is a [`CaptureSink`]: it decodes each frame, feeds the flow table, and routes
//! each connection's byte stream to the TLS or SIP decoder chosen by content (ports are only
//! hints). [`Analyzer::finish`] turns what it saw into [`CaptureFacts`] for the rules.

mod conn;
mod facts;
pub mod registration;
mod settle;
pub mod sipflow;

use crate::capture::{CaptureInfo, CaptureSink, Frame};
use crate::config::{Config, PortKind};
use crate::decode::{Decoder, Packet, Transport as Layer4};
use crate::flow::{RoleHint, Table};
use crate::net::{Endpoint, Transport};
use crate::note::Note;
use crate::sip;
use crate::tls::{self, KeyLog, Keys};
use conn::{push_sip, ConnApp, SipStore};
pub use facts::{
    CaptureFacts, Connection, Counts, HttpEntry, Notes, Party, Proto, Reset, MAX_KEPT, MAX_NOTES,
};
pub use registration::{Registration, Transaction};
use settle::{settle_one, Settled};
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
    flow: sipflow::SipFlow,
    udp_sip: u64,
    tls: TlsInputs<'c>,
    pcapng: bool,
    secrets_blocks: u32,
    judge: Option<Box<dyn Judge + 'c>>,
    frames: u64,
    /// A connection has carried HTTP (device configuration files may be on open ones).
    http_seen: bool,
    now: crate::time::Ts,
    settled: Settled,
    /// Devices a live sensor let go ([`Analyzer::tick`]).
    released_devices: u64,
    /// When the devices were last looked over for those to let go.
    devices_looked: crate::time::Ts,
    /// Capture time of the last look for lapsed registrations (a live sensor's ticks).
    lapses_looked: crate::time::Ts,
    /// Capture time of the last look at open connections for a node's OAuth certificate.
    probed_at: crate::time::Ts,
    /// Keys come from a key log that grows ([`Analyzer::hold_for_keys`]).
    follow_keys: bool,
}

/// What TLS streams read besides their bytes.
struct TlsInputs<'c> {
    /// The key log given, copied only when the capture brings secrets of its own.
    log: std::borrow::Cow<'c, KeyLog>,
    /// Certificates parsed once per capture.
    certs: std::cell::RefCell<crate::cert::CertCache>,
    /// Bytes that records waiting for their keys may still take, across all connections.
    hold_budget: std::cell::Cell<usize>,
    /// SIP logs printed for connections this capture may hold encrypted.
    inject: Option<std::sync::Arc<crate::tls::Injection>>,
}

impl TlsInputs<'_> {
    /// The view a TLS stream reads; records wait for their keys only when `may_hold`.
    fn keys(&self, may_hold: bool) -> Keys<'_> {
        Keys {
            log: &self.log,
            certs: &self.certs,
            hold_budget: may_hold.then_some(&self.hold_budget),
            inject: self.inject.as_deref(),
        }
    }
}

/// What judges the facts while the capture is still being read, so that memory does not grow
/// with the capture: each connection as it is settled, and each window of SIP.
pub trait Judge {
    /// A connection was settled (it ended, went idle, or the table was full); returns whether
    /// to keep it in `facts.connections`.
    fn settled(&mut self, c: &Connection) -> bool;
    /// A window of SIP is full (`facts.sip_window` is the time it was judged at; the other
    /// facts are those known so far); returns the frames cited as evidence, which the report
    /// keeps in its SIP listing.
    fn sip_window(&mut self, facts: &CaptureFacts) -> Vec<crate::place::At>;
    /// Time went on to `now` (a live sensor's tick, [`Analyzer::tick`]), whatever was judged.
    fn tick(&mut self, _now: crate::time::Ts) {}
    /// A note about a connection just settled (the report lists it at the end).
    fn note(&mut self, _note: &Note) {}
}

/// How long a live sensor holds TLS records back waiting for their keys in a key log that
/// grows ([`Analyzer::hold_for_keys`]).
pub const HOLD_NS: i64 = 5_000_000_000;

/// How long past the Expires it was granted a live sensor waits for a device's refresh before
/// it judges the registration lost (the rule's own margin is 5 s).
pub const LAPSE_GRACE_NS: i64 = 6_000_000_000;

/// How long a live sensor keeps a device silent past the Expires it was granted (or past
/// its last message) before judging it as at the end of a capture and forgetting it.
pub const DEVICE_IDLE_NS: i64 = 600_000_000_000;

impl<'c> Analyzer<'c> {
    /// A fresh analysis with `cfg`.
    pub fn new(cfg: &'c Config) -> Self {
        Analyzer {
            cfg,
            decoder: Decoder::with_fragment_limit(cfg.limits.max_fragments),
            table: Table::with_max_active(cfg.limits.max_connections),
            flow: sipflow::SipFlow::new(cfg.limits.max_devices, cfg.limits.sip_window),
            udp_sip: 0,
            tls: TlsInputs {
                log: std::borrow::Cow::Borrowed(&cfg.secrets.keylog),
                certs: Default::default(),
                hold_budget: std::cell::Cell::new(cfg.limits.hold_back_bytes),
                inject: None,
            },
            pcapng: false,
            secrets_blocks: 0,
            judge: None,
            frames: 0,
            http_seen: false,
            now: crate::time::Ts::default(),
            settled: Settled::default(),
            released_devices: 0,
            devices_looked: crate::time::Ts::default(),
            lapses_looked: crate::time::Ts::default(),
            probed_at: crate::time::Ts(i64::MIN),
            follow_keys: false,
        }
    }

    /// Gives each connection to `judge` as soon as it is settled (it ended, went idle, or the
    /// table was full), and each full window of SIP, before the capture is read to its end.
    /// Roles use the ports of the configuration files seen so far. Without a judge, windows
    /// of SIP judged by nobody are dropped (only the last is in the final facts).
    pub fn with_judge(&mut self, judge: Box<dyn Judge + 'c>) {
        self.judge = Some(judge);
    }

    /// Judges the SIP window now, with what the capture has shown so far: while it is read
    /// (`now`), or once it is read (`info`), when more windows follow.
    fn judge_window(&mut self, now: Option<crate::time::Ts>, info: Option<&CaptureInfo>) {
        let w = self.flow.take_window();
        if self.judge.is_none() {
            return;
        }
        let st = &mut self.settled;
        // Device configuration files read on connections still open count already.
        let mut http = std::mem::take(&mut st.http);
        let settled_http = http.len();
        let (mut oauth, mut mra) = (st.oauth.clone(), st.mra.clone());
        // (Only once a connection has carried HTTP: most cluster captures hold none.)
        if self.http_seen {
            self.table.for_each(&mut |meta, app| {
                for ex in app.http.iter().flat_map(|h| &h.exchanges) {
                    if let Some(conf) = &ex.config {
                        for n in &conf.nodes {
                            oauth.extend(n.sip_oauth_port);
                            mra.extend(n.sip_mra_oauth_port);
                        }
                        http.push(settle::http_entry(meta, ex));
                    }
                }
            });
        }
        self.probe_open_certificates();
        let st = &mut self.settled;
        let facts = CaptureFacts {
            probes: std::mem::take(&mut st.probes),
            sip: w.sip,
            transactions: w.transactions,
            registrations: w.registrations,
            sip_context: w.context,
            lapse_told: w.lapse_told,
            sip_window: now,
            sip_more: true,
            info: info.cloned(),
            ports: self.cfg.ports.clone().with_ports(&oauth, &mra),
            http,
            mra_clients: std::mem::take(&mut st.mra_clients),
            lossy_streams: std::mem::take(&mut st.lossy),
            connections: std::mem::take(&mut st.kept),
            ..CaptureFacts::default()
        };
        let cited = match self.judge.as_mut() {
            Some(judge) => judge.sip_window(&facts),
            None => Vec::new(),
        };
        self.flow.keep_cited(&facts.sip, &facts.sip_context, &cited);
        let st = &mut self.settled;
        st.probes = facts.probes;
        st.http = facts.http;
        st.http.truncate(settled_http);
        st.mra_clients = facts.mra_clients;
        st.lossy = facts.lossy_streams;
        st.kept = facts.connections;
        self.flow.recycle(facts.sip);
    }

    /// A node whose Tomcat certificate was seen (on a settled connection, 8443 or 443) while
    /// its certificate on the SIP OAuth ports was not: the connections still open to it are
    /// looked at for that one, so that the two are compared when both are seen, not when the
    /// long-lived OAuth connection ends.
    fn probe_open_certificates(&mut self) {
        let wanted = self.unmatched_tomcat();
        // Looked for at most once a second of capture time.
        if wanted.is_empty() || self.now.0.saturating_sub(self.probed_at.0) < 1_000_000_000 {
            return;
        }
        self.probed_at = self.now;
        let st = &self.settled;
        let keys = self.tls.keys(false);
        let mut found = Vec::new();
        for ip in wanted {
            let mut first = None;
            self.table.for_each_to(ip, &mut |c| {
                let chain = c.app.tls.as_ref().is_some_and(|t| t.has_server_chain());
                if first.is_none() && chain {
                    let conn = settle::summarize(c, self.cfg, keys.log, (&st.oauth, &st.mra));
                    if conn.is_oauth() {
                        first = Some(conn);
                    }
                }
            });
            found.extend(first);
        }
        self.settled.probes.extend(found);
    }

    /// Nodes whose Tomcat certificate was seen and whose SIP OAuth one was not.
    fn unmatched_tomcat(&self) -> Vec<std::net::IpAddr> {
        let probes = &self.settled.probes;
        probes
            .iter()
            .filter(|p| !p.is_oauth())
            .map(|p| p.server.ip)
            .filter(|ip| !probes.iter().any(|q| q.is_oauth() && q.server.ip == *ip))
            .collect()
    }

    /// Time goes on to `now` without a frame (a live sensor between packets): connections
    /// that ended or went idle are settled, the SIP read so far is judged, and devices silent
    /// past their expiry ([`DEVICE_IDLE_NS`]) are judged as at the end of a capture and
    /// forgotten, so that a sensor running for days holds only what is active.
    pub fn tick(&mut self, now: crate::time::Ts) {
        self.now = self.now.max(now);
        let now = self.now;
        if self.follow_keys {
            self.release_stale_holds(now);
        }
        self.flow.expire(now);
        self.settle_due(now);
        // A window is judged when SIP waits, when a certificate to compare came, or (once a
        // second) when a node's Tomcat certificate waits for its OAuth one.
        let probe_due = now.0.saturating_sub(self.probed_at.0) >= 1_000_000_000
            && !self.unmatched_tomcat().is_empty();
        if self.flow.waiting() > 0 || std::mem::take(&mut self.settled.probes_added) || probe_due {
            self.judge_window(Some(now), None);
        }
        // Registrations that lapsed are judged at their expiry (looked for every second).
        if now.0.saturating_sub(self.lapses_looked.0) >= 1_000_000_000 {
            self.lapses_looked = now;
            let lapsed = self.flow.lapsed(now, LAPSE_GRACE_NS);
            if !lapsed.is_empty() {
                for &d in &lapsed {
                    self.flow.lapse_told(d);
                }
                let info = self.end_info(now);
                self.judge_window(None, Some(&info));
            }
        }
        // Devices are looked over every 10 s of capture time (a sensor's lapse is told within
        // seconds of the 10 minutes it waits).
        let idle = if now.0.saturating_sub(self.devices_looked.0) >= 10_000_000_000 {
            self.devices_looked = now;
            self.flow.idle_devices(now, DEVICE_IDLE_NS)
        } else {
            Vec::new()
        };
        if !idle.is_empty() {
            for &d in &idle {
                self.flow.end_device(d);
            }
            // Judged as the end of the capture is for those devices (a lapse is seen).
            let info = self.end_info(now);
            self.judge_window(None, Some(&info));
            self.flow.release(&idle);
            self.released_devices += idle.len() as u64;
        }
        if let Some(j) = self.judge.as_mut() {
            j.tick(now);
        }
    }

    /// What judging a window as at the end of the capture is told, at `now`.
    fn end_info(&self, now: crate::time::Ts) -> CaptureInfo {
        CaptureInfo {
            frames: self.frames,
            last_time: Some(now),
            ..CaptureInfo::named("", "")
        }
    }

    /// Holds TLS records back (within the hold-back budget) until their keys come, as for a
    /// pcapng whose Decryption Secrets Blocks may come later: a live sensor whose key log
    /// grows as clients write it.
    pub fn hold_for_keys(&mut self) {
        self.pcapng = true;
        self.follow_keys = true;
    }

    /// TLS keys learned while the capture is read (a key log that grew, `source` naming it):
    /// connections waiting for them are decrypted from where they are held.
    pub fn add_keys(&mut self, source: &str, text: &str) {
        self.tls.log.to_mut().add_text(source, text);
        self.release_held();
    }

    /// A SIP message read from a log, not from a packet: it joins the same flow, in the order
    /// the log gives (its place is its line: [`crate::place::At::Line`]).
    pub fn log_sip(&mut self, m: crate::sip::SipMessage) {
        let time = m.time;
        let mut store = SipStore {
            flow: &mut self.flow,
            show_secrets: self.cfg.secrets.show,
        };
        push_sip(&mut store, m);
        self.now = self.now.max(time);
        if self.flow.window_full() {
            self.judge_window(Some(self.now), None);
        }
    }

    /// A connection a log describes (a TLS handshake it says failed): judged and listed as a
    /// connection of the capture is.
    pub fn log_connection(&mut self, conn: Connection) {
        self.settled.judge_and_keep(conn, &mut self.judge);
    }

    /// A device configuration a log printed (Jabber's `Device Config:`), as a configuration
    /// file read over HTTP counts: its OAuth ports name roles, the rules compare it with the
    /// REGISTERs.
    pub fn log_config(&mut self, entry: HttpEntry) {
        if let Some(conf) = &entry.config {
            for n in &conf.nodes {
                self.settled.oauth.extend(n.sip_oauth_port);
                self.settled.mra.extend(n.sip_mra_oauth_port);
            }
        }
        if self.settled.http.len() < MAX_KEPT {
            self.settled.http.push(entry);
        }
    }

    /// SIP that logs printed, by connection: where no key opens a record of such a
    /// connection, the log's message in its place is read as its plaintext.
    pub fn inject(&mut self, injection: std::sync::Arc<crate::tls::Injection>) {
        if !injection.is_empty() {
            self.tls.inject = Some(injection);
        }
    }

    /// Connections in the table, and devices followed (a sensor's gauges).
    pub fn tracked(&self) -> (usize, usize) {
        (self.table.active(), self.flow.devices())
    }

    /// A live sensor's key log is written by the client during the handshake: records that
    /// waited [`HOLD_NS`] for their keys are read without them, so that connections whose
    /// client writes no key log are judged as they go (not held until a budget runs out).
    fn release_stale_holds(&mut self, now: crate::time::Ts) {
        self.release_where(&|t, _| {
            t.held_since()
                .is_some_and(|since| now.0.saturating_sub(since.0) >= HOLD_NS)
        });
    }

    /// Releases held TLS connections whose keys are now known.
    fn release_held(&mut self) {
        self.release_where(&|t, log| {
            t.is_holding() && t.client_random().is_some_and(|cr| log.get(&cr).is_some())
        });
    }

    /// Processes what the TLS connections for which `release` is true held back for keys.
    fn release_where(&mut self, release: &dyn Fn(&crate::tls::TlsStream, &KeyLog) -> bool) {
        let mut store = SipStore {
            flow: &mut self.flow,
            show_secrets: self.cfg.secrets.show,
        };
        let keys = self.tls.keys(true);
        self.table.for_each(&mut |meta, app| {
            if app.tls.as_ref().is_some_and(|t| release(t, keys.log)) {
                app.release(meta, &mut store, keys);
            }
        });
    }

    fn settle_due(&mut self, now: crate::time::Ts) {
        for stream in self.table.due(now) {
            self.settle_stream(stream, self.pcapng);
        }
    }

    /// Takes one connection out of the table and settles it (one at a time keeps memory low).
    fn settle_stream(&mut self, stream: u64, may_hold: bool) {
        let mut store = SipStore {
            flow: &mut self.flow,
            show_secrets: self.cfg.secrets.show,
        };
        let keys = self.tls.keys(may_hold);
        let taken = self.table.take(stream, &mut |meta, app, ev| {
            app.event(meta, ev, &mut store, keys)
        });
        if let Some(c) = taken {
            settle_one(
                c,
                self.cfg,
                keys,
                &mut store,
                &mut self.judge,
                &mut self.settled,
            );
        }
        if self.flow.window_full() {
            self.judge_window(Some(self.now), None);
        }
    }
}

impl CaptureSink for Analyzer<'_> {
    fn format(&mut self, pcapng: bool) {
        self.pcapng = pcapng;
    }

    fn frame(&mut self, frame: &Frame<'_>) {
        // Attempts past Timer F end before this packet is read (an answer in it comes late).
        self.flow.expire(frame.ts);
        let cfg = self.cfg;
        let table = &mut self.table;
        let mut store = SipStore {
            flow: &mut self.flow,
            show_secrets: cfg.secrets.show,
        };
        let udp_sip = &mut self.udp_sip;
        let keys = self.tls.keys(self.pcapng);
        let http_seen = &mut self.http_seen;
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
                    table.segment(
                        src,
                        dst,
                        &seg,
                        p.missing,
                        p.frame,
                        p.ts,
                        &Hints(cfg),
                        &mut |meta, app, ev| {
                            app.event(meta, ev, &mut store, keys);
                            *http_seen |= app.http.is_some();
                        },
                    );
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
                        at: crate::place::At::Frame(p.frame),
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
        self.frames += 1;
        self.now = frame.ts;
        if self.flow.window_full() {
            self.judge_window(Some(frame.ts), None);
        }
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
        self.add_keys(&source, &String::from_utf8_lossy(data));
    }
}

impl Analyzer<'_> {
    /// Ends the analysis: flushes reassembly and returns what the capture showed.
    pub fn finish(mut self, info: CaptureInfo) -> CaptureFacts {
        for stream in self.table.all() {
            self.settle_stream(stream, false);
        }
        // Every device's open attempt and last 200 OK, judged with the capture's end, a window
        // at a time (the last one is judged by the caller with the whole capture's facts).
        for d in 0..self.flow.devices() {
            self.flow.end_device(d);
            if self.flow.window_full() {
                self.judge_window(None, Some(&info));
            }
        }
        let st = std::mem::take(&mut self.settled);
        let mut notes = Vec::new();
        if self.released_devices > 0 {
            notes.push(Note::DevicesReleased {
                devices: self.released_devices,
                idle_min: DEVICE_IDLE_NS / 60_000_000_000,
            });
        }
        if st.hold_limit > 0 {
            notes.push(Note::HoldBackLimit {
                connections: st.hold_limit,
                per_connection_kib: tls::MAX_HELD_PER_CONN / 1024,
                total_kib: self.cfg.limits.hold_back_bytes / 1024,
            });
        }
        for m in &self.tls.log.malformed {
            notes.push(Note::KeyLogLineSkipped { what: m.clone() });
        }
        if let Some(stop) = &info.stopped {
            notes.push(Note::CutShort { why: stop.clone() });
        }
        notes.extend(st.notes.into_vec());
        if self.table.evicted_full > 0 {
            notes.push(Note::TooManyOpen {
                max: self.table.max_active,
                evicted: self.table.evicted_full,
            });
        }
        if st.not_listed > 0 {
            notes.push(Note::ConnectionsNotListed {
                count: st.not_listed,
                kept: MAX_KEPT,
            });
        }
        let mut http = st.http;
        http.sort_by(|a, b| a.at.cmp(&b.at));
        let ports = self.cfg.ports.clone().with_ports(&st.oauth, &st.mra);
        let connections = st.kept;
        let undecrypted_oauth = st.undecrypted;
        if undecrypted_oauth > 0 {
            notes.push(Note::Undecrypted {
                connections: undecrypted_oauth,
            });
        }
        let flow = &mut self.flow;
        if flow.pieces > 0 {
            notes.push(Note::AttemptsInPieces {
                attempts: flow.pieces,
                steps: sipflow::MAX_OPEN_STEPS,
            });
        }
        if flow.over_pending > 0 {
            notes.push(Note::CopiesCounted {
                copies: flow.over_pending,
                per_attempt: sipflow::MAX_PENDING,
            });
        }
        if flow.past_device_limit > 0 {
            notes.push(Note::DeviceLimit {
                max_devices: flow.max_devices,
                messages: flow.past_device_limit,
            });
        }
        if flow.devices_not_listed > 0 {
            notes.push(Note::TransactionsNotListed {
                devices: flow.devices_not_listed,
                per_device: sipflow::LISTED_PER_DEVICE,
            });
        }
        let d = &self.decoder.stats;
        if d.malformed > 0 {
            if let Some((f, why)) = &d.first_malformed {
                notes.push(Note::Undecodable {
                    frames: d.malformed,
                    first: *f,
                    why: why.to_string(),
                });
            }
        }
        if d.truncated > 0 {
            notes.push(Note::Truncated {
                frames: d.truncated,
            });
        }
        if d.fragments_dropped > 0 {
            notes.push(Note::FragmentsDropped {
                datagrams: d.fragments_dropped,
            });
        }
        let w = flow.take_window();
        CaptureFacts {
            info: Some(info),
            connections,
            sip: w.sip,
            transactions: w.transactions,
            registrations: w.registrations,
            sip_context: w.context,
            lapse_told: w.lapse_told,
            sip_window: None,
            sip_more: false,
            sip_listing: flow.take_listing(),
            sip_total: flow.total,
            registered: flow.registered,
            device_registrations: flow.registrations(),
            per_node_notes: flow.per_node_notes(),
            notes,
            decode: self.decoder.stats.clone(),
            http,
            ports,
            lossy_streams: st.lossy,
            mra_clients: st.mra_clients,
            probes: st.probes,
            connections_not_listed: st.not_listed,
            sip_port_connections: st.sip_port,
            undecrypted_sip_connections: undecrypted_oauth,
            partly_decrypted_sip_connections: st.partly,
            counts: facts::Counts {
                sip_transports: [Transport::Udp, Transport::Tcp, Transport::Tls]
                    .into_iter()
                    .map(|t| (t.as_str(), flow.transports[t as usize]))
                    .filter(|(_, n)| *n > 0)
                    .collect(),
                ..st.counts.clone()
            },
        }
    }
}

/// A SIP message parsed from `text` as sent on tcp.stream 0 between 10.0.0.1:5090 and itself
/// (for the tests of this module's parts).
#[cfg(test)]
pub(crate) fn test_sip(frame: u64, time: crate::time::Ts, text: &str) -> sip::SipMessage {
    let e = Endpoint {
        ip: [10, 0, 0, 1].into(),
        port: 5090,
    };
    let ctx = sip::Context {
        at: crate::place::At::Frame(frame),
        time,
        transport: Transport::Tcp,
        tcp_stream: Some(0),
        src: e,
        dst: e,
        show_secrets: false,
    };
    sip::parse_datagram(text.as_bytes(), &ctx).expect("parses")
}

/// What an open connection costs, held to the allocator size classes it was cut to
/// (docs/performance.md): a field added to one of these records should be weighed against
/// tens of thousands of them open at once.
#[cfg(all(test, target_pointer_width = "64"))]
mod sizes {
    #[test]
    fn an_open_connection_stays_within_its_size_classes() {
        use std::mem::size_of;
        assert!(size_of::<crate::tls::TlsStream>() <= 640, "TLS stream");
        assert!(
            size_of::<crate::flow::Conn<super::conn::ConnApp>>() <= 320,
            "TCP connection"
        );
    }
}
