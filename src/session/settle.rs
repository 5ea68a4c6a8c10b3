//! Settling a connection: when it ends, goes idle or the table is full, what it held back is
//! released, it is summarized for the rules and the report, and what the capture-level rules
//! need of it is kept; its decoder state is freed.

use crate::config::{Config, PortKind};
use crate::net::{Dir, Role, Side};
use crate::note::Note;
use crate::tls::{KeyLog, Keys};

use super::conn::{ConnApp, SipStore};
use super::{Connection, HttpEntry, Judge, Notes, Party, Reset, MAX_KEPT};

/// An HTTP exchange with the connection it travelled on.
pub(super) fn http_entry(meta: &crate::flow::ConnMeta, ex: &crate::http::Exchange) -> HttpEntry {
    HttpEntry {
        at: crate::place::At::Frame(ex.frame),
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
    }
}

/// The report's view of one connection.
pub(super) fn summarize(
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
        let mut s = t.summary(keys);
        if let Some(store) = &cfg.trust {
            for ch in &mut s.chains {
                let usage = if ch.presented_by == Side::Client {
                    crate::trust::Usage::Client
                } else {
                    crate::trust::Usage::Server
                };
                ch.trust = Some(Box::new(store.check(&ch.der, usage, ch.time)));
            }
        }
        s
    });
    Connection {
        tcp_stream: m.stream,
        line: None,
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
        syn_frames: m.syn_frames.to_vec(),
        synack_frame: m.synack(),
        client_fin_frame: m.fin()[0].map(|f| f.0),
        server_fin_frame: m.fin()[1].map(|f| f.0),
        rst: m.rst().map(|(d, f, _)| Reset {
            frame: f,
            sent_by: d.sender(),
        }),
        retransmissions,
        lost_bytes,
        tls,
        sip_messages: c.app.sip.messages[0] + c.app.sip.messages[1],
        sip_from_server: c.app.sip.messages[1],
    }
}

/// Distinct values kept per set of connection facts (lossy streams, MRA clients).
const MAX_SET: usize = 100_000;

/// What settled connections leave behind.
#[derive(Default)]
pub(super) struct Settled {
    pub(super) kept: Vec<Connection>,
    pub(super) not_listed: u64,
    pub(super) notes: Notes,
    pub(super) undecrypted: u64,
    pub(super) sip_port: u64,
    pub(super) partly: u64,
    pub(super) hold_limit: u64,
    pub(super) http: Vec<HttpEntry>,
    pub(super) oauth: Vec<u16>,
    pub(super) mra: Vec<u16>,
    pub(super) lossy: std::collections::BTreeSet<u64>,
    pub(super) mra_clients: std::collections::BTreeSet<std::net::IpAddr>,
    pub(super) probes: Vec<Connection>,
    /// A probe came since the last window was judged.
    pub(super) probes_added: bool,
    /// Notes of the connection being settled, for the judge to hear at once.
    fresh: Vec<Note>,
    pub(super) counts: super::facts::Counts,
}

/// Releases what a connection held back, summarizes it, and records what the capture-level
/// rules and the report need of it.
pub(super) fn settle_one(
    mut c: crate::flow::Conn<ConnApp>,
    cfg: &Config,
    keys: Keys<'_>,
    store: &mut SipStore<'_>,
    judge: &mut Option<Box<dyn Judge + '_>>,
    st: &mut Settled,
) {
    if c.app.tls.as_ref().is_some_and(|t| t.hold_limit_hit) {
        st.hold_limit += 1;
    }
    let meta = c.meta.clone();
    c.app.release(&meta, store, keys);
    if let Some(h) = c.app.http.as_mut() {
        h.unanswered();
        st.http_exchanges(&meta, h);
    }
    let conn = summarize(&c, cfg, keys.log, (&st.oauth, &st.mra));
    st.connection_facts(&conn, &c.app);
    for n in std::mem::take(&mut st.fresh) {
        if let Some(j) = judge.as_mut() {
            j.note(&n);
        }
    }
    st.judge_and_keep(conn, judge);
}

impl Settled {
    /// A note of the connection being settled: kept for the report, and heard by the judge.
    fn note(&mut self, n: Note) {
        self.fresh.push(n.clone());
        self.notes.push(n);
    }

    /// Gives a settled connection to `judge`, and lists it when the judge (or, without one,
    /// the listing limit) says so.
    pub(super) fn judge_and_keep(
        &mut self,
        conn: Connection,
        judge: &mut Option<Box<dyn Judge + '_>>,
    ) {
        let keep = match judge.as_mut() {
            Some(j) => j.settled(&conn),
            None => self.kept.len() < MAX_KEPT,
        };
        if keep && self.kept.len() < 2 * MAX_KEPT {
            self.kept.push(conn);
        } else {
            self.not_listed += 1;
        }
    }

    /// The HTTP exchanges of a connection: device configuration files (and the OAuth ports
    /// they name), their 404s and read errors.
    fn http_exchanges(&mut self, meta: &crate::flow::ConnMeta, h: &crate::http::HttpStream) {
        for ex in &h.exchanges {
            if let Some(conf) = &ex.config {
                for n in &conf.nodes {
                    self.oauth.extend(n.sip_oauth_port);
                    self.mra.extend(n.sip_mra_oauth_port);
                }
            }
            self.http.push(http_entry(meta, ex));
            if let Some(e) = &ex.config_error {
                self.note(Note::ConfigUnreadable {
                    at: crate::place::At::Frame(ex.frame),
                    path: ex.path.clone(),
                    error: e.to_string(),
                });
            }
            if ex.path.contains(".cnf.xml") && ex.status == Some(404) {
                self.note(Note::ConfigNotFound {
                    at: crate::place::At::Frame(ex.frame),
                    path: ex.path.clone(),
                });
            }
        }
    }

    /// What the capture-level rules and the notes need of a settled connection.
    fn connection_facts(&mut self, conn: &Connection, app: &ConnApp) {
        self.counts.connection(conn);
        let kind = conn.port_kind;
        if kind.is_sip() {
            self.sip_port += 1;
        }
        if let Some(t) = &conn.tls {
            if t.application_records.iter().sum::<u64>() > 0
                && t.decrypted_bytes == 0
                && kind.is_sip()
            {
                self.undecrypted += 1;
            }
            if t.partly_decrypted && kind.is_sip() {
                self.partly += 1;
            }
            if let Some(why) = &t.malformed {
                self.note(Note::TlsUnreadable {
                    stream: conn.tcp_stream,
                    why: why.to_string(),
                });
            }
        }
        let oversized = app.sip.oversized();
        if oversized > 0 {
            self.note(Note::BodyOversized {
                stream: conn.tcp_stream,
                messages: oversized.into(),
                max_kib: crate::sip::MAX_BODY / 1024,
            });
        }
        if app.gaps > 0 && kind != PortKind::Other {
            self.note(Note::BytesMissing {
                stream: conn.tcp_stream,
                bytes: conn.lost_bytes,
            });
        }
        if conn.lost_bytes > 0 && self.lossy.len() < MAX_SET {
            self.lossy.insert(conn.tcp_stream);
        }
        if kind == PortKind::SipMraOAuth && self.mra_clients.len() < MAX_SET {
            self.mra_clients.insert(conn.client.ip);
        }
        let tomcat = conn.server.port == 8443 || conn.server.port == 443;
        let has_chain = conn
            .tls
            .as_ref()
            .is_some_and(|t| t.chain_of(Side::Server).is_some());
        if has_chain && (conn.is_oauth() || tomcat) {
            let same =
                |p: &Connection| p.server.ip == conn.server.ip && p.is_oauth() == conn.is_oauth();
            if !self.probes.iter().any(same) && self.probes.len() < 2 * MAX_KEPT {
                self.probes.push(conn.clone());
                self.probes_added = true;
            }
        }
    }
}
