//! The fact model of one capture: connections with their parties and outcome, TLS, SIP
//! messages, transactions and registrations, HTTP exchanges, and the notes on what could not be
//! seen. Built by the [`super::Analyzer`], judged by the rules, listed by the reports.

use crate::note::Note;
use crate::place::At;
use serde::Serialize;

use crate::capture::CaptureInfo;
use crate::config::{PortKind, PortMap};
use crate::decode::DecodeStats;
use crate::flow::Outcome;
use crate::net::{Role, Side};
use crate::sip::SipMessage;
use crate::time::Ts;
use crate::tls::TlsSummary;

use super::{Registration, Transaction};

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

impl Party {
    /// `10.1.1.1:5090`, or `10.1.1.1 (port not in the log)` when a log gave no port (port 0;
    /// a CUCM SDL trace does not print CUCM's own).
    pub fn address(&self) -> String {
        if self.port == 0 {
            format!("{} (port not in the log)", self.ip)
        } else {
            crate::net::Endpoint {
                ip: self.ip,
                port: self.port,
            }
            .to_string()
        }
    }
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
    /// For a connection a log told of (a TLS failure), the log's line: it stands where a
    /// capture's connection has frames.
    #[serde(skip)]
    #[schemars(skip)]
    pub line: Option<At>,
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

impl CaptureFacts {
    /// Whether transaction `t` is context: judged in an earlier window, given again only to be
    /// compared with.
    pub fn is_context(&self, t: usize) -> bool {
        self.transactions
            .get(t)
            .is_some_and(|tx| self.sip_context.contains(&tx.request))
    }

    /// Adds the messages of `sip` cited as evidence (`frames`) to the listing.
    pub fn keep_cited(&mut self, frames: &[At]) {
        self.sip_listing.cite(&self.sip, &self.sip_context, frames);
    }
}

impl Connection {
    /// The server port is a SIP Phone OAuth or SIP MRA OAuth port.
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
    /// The SIP the rules judge now, in frame order: the last window of the capture (all of its
    /// SIP when it holds fewer than [`super::sipflow::WINDOW`] messages), or a window judged
    /// while the capture is read (`sip_window`).
    pub sip: Vec<SipMessage>,
    /// SIP transactions of `sip` (requests with their responses).
    pub transactions: Vec<Transaction>,
    /// Registrations per device in `sip`.
    pub registrations: Vec<Registration>,
    /// Indices into `sip` of context: a device's 200 OK and its REGISTER judged in an earlier
    /// window, given again only so that the next REGISTER can be compared with it.
    pub sip_context: std::collections::BTreeSet<usize>,
    /// Devices whose lapsed registration a live sensor told at its expiry, with their next
    /// REGISTER in this window: its Reason is not told again.
    pub lapse_told: Vec<String>,
    /// `Some(time)` when `sip` is a window judged while the capture is read: SIP goes on
    /// after `time`, so what is not in the window is not absent. `None` for the last window.
    pub sip_window: Option<Ts>,
    /// More windows of SIP follow this one: what is said once per capture (a configuration
    /// file, a stale certificate, a device refused by one node) waits for the last.
    pub sip_more: bool,
    /// The SIP the report lists: the first messages and those cited as evidence.
    pub sip_listing: super::sipflow::SipListing,
    /// SIP messages read (all analyzed).
    pub sip_total: u64,
    /// REGISTERs answered 2xx.
    pub registered: u64,
    /// Each device's REGISTER transactions (counted all, listed the first ones).
    pub device_registrations: Vec<super::sipflow::DeviceRegistrations>,
    /// Devices refused by one node and registered on another.
    pub per_node_notes: Vec<Note>,
    /// What could not be decoded or seen, limits hit.
    pub notes: Vec<Note>,
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
    /// Connections to a SIP or SIP OAuth port (all of them, listed or not).
    pub sip_port_connections: u64,
    /// Of those, TLS connections whose application data could not be decrypted.
    pub undecrypted_sip_connections: u64,
    /// Of those, TLS connections decrypted only in part (a secret missing from the key log).
    pub partly_decrypted_sip_connections: u64,
    /// Every connection judged and every SIP message read, counted by kind, listed or not.
    pub counts: Counts,
}

/// What a capture held, counted over everything read (the report lists only some of it).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Connections by client role, server role, port kind and server port.
    pub roles: std::collections::BTreeMap<RoleKey, u64>,
    /// TLS connections by negotiated version.
    pub tls_versions: std::collections::BTreeMap<String, u64>,
    /// SIP messages by transport (`udp`, `tcp`, `tls`).
    pub sip_transports: std::collections::BTreeMap<&'static str, u64>,
}

/// A kind of connection: client role, server role, port kind (its label) and server port.
pub type RoleKey = (Role, Role, &'static str, u16);

/// Distinct kinds of connection counted at most: past it, further kinds are counted apart
/// ([`Counts::OTHER`]).
const MAX_KINDS: usize = 256;

impl Counts {
    /// The kind of a connection.
    pub fn kind_of(c: &Connection) -> RoleKey {
        (
            c.client.role,
            c.server.role,
            c.port_kind.label(),
            c.server.port,
        )
    }

    /// A kind of connection as the reports print it: `client -> cucm (SIP Phone OAuth port
    /// 5090)`.
    pub fn line(k: &RoleKey) -> String {
        if *k == Self::OTHER {
            return "other kinds".to_string();
        }
        format!("{} -> {} ({} {})", k.0, k.1, k.2, k.3)
    }

    /// Counts one settled connection (no allocation once its kind and version were seen).
    pub fn connection(&mut self, c: &Connection) {
        let kind = Self::kind_of(c);
        let key = if self.roles.len() < MAX_KINDS || self.roles.contains_key(&kind) {
            kind
        } else {
            Self::OTHER
        };
        *self.roles.entry(key).or_default() += 1;
        if let Some(v) = c.tls.as_ref().and_then(|t| t.version()) {
            match self.tls_versions.get_mut(v) {
                Some(n) => *n += 1,
                None => {
                    self.tls_versions.insert(v.to_string(), 1);
                }
            }
        }
    }

    /// Where kinds past the first 256 are counted.
    pub const OTHER: RoleKey = (Role::Client, Role::Server, "other kinds", 0);
}

/// An HTTP exchange with the connection it travelled on.
#[derive(Clone, Debug, Serialize, PartialEq, schemars::JsonSchema)]
pub struct HttpEntry {
    /// Where the request was seen: its frame, or the log's line that printed the
    /// configuration.
    #[serde(rename = "frame", serialize_with = "crate::place::number")]
    #[schemars(rename = "frame", with = "u64")]
    pub at: At,
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

/// Connections kept in `facts.connections` without a hook (a hook may keep more, up to twice this).
pub const MAX_KEPT: usize = 1000;

/// Notes kept at most per capture; past this they are counted.
pub const MAX_NOTES: usize = 200;

/// A bounded list of notes.
#[derive(Default)]
pub struct Notes {
    list: Vec<Note>,
    more: u64,
}

impl Notes {
    /// Adds a note, or counts it when the list is full.
    pub fn push(&mut self, n: Note) {
        if self.list.len() < MAX_NOTES {
            self.list.push(n);
        } else {
            self.more += 1;
        }
    }

    /// The notes, with a last line counting those left out.
    pub fn into_vec(self) -> Vec<Note> {
        let mut v = self.list;
        if self.more > 0 {
            v.push(Note::NotesNotListed { more: self.more });
        }
        v
    }
}
