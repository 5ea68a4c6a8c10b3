//! Diagnosis: one rule per catalogue id, each turning evidence into findings.
//!
//! Rules run in a fixed order; each event (an alert, a SIP transaction, a connection) is
//! claimed by the first rule that explains it, so the general rules (`tls-alert`) only see what
//! the specific ones left. Identical failures between the same endpoints become one finding
//! with a count.

pub mod catalogue;
mod cert_alerts;
pub mod rules;

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;

use crate::config::Config;
use crate::net::Side;
use crate::session::{CaptureFacts, Connection, Party};
use crate::sip::SipMessage;
use crate::time::Ts;
use crate::tls::{Alert, StepKind};
pub use catalogue::Meta;

/// How bad a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Something fails.
    Error,
    /// Something is off.
    Warning,
    /// For information (healthy behaviour).
    Info,
}

/// How sure the rule is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    /// The documented signature, seen directly.
    Certain,
    /// Inferred from a signature that other causes can also produce.
    Likely,
}

/// A TLS alert cited by a finding.
#[derive(Clone, Debug, Serialize, PartialEq, schemars::JsonSchema)]
pub struct AlertRef {
    /// Lowercase IANA name (`unknown_ca`).
    pub description: String,
    /// Description code.
    pub code: u8,
    /// `warning`, `fatal` or `level_<n>`.
    pub level: String,
    /// `client` or `server`.
    pub sent_by: Side,
}

/// The SIP answer cited by a finding.
#[derive(Clone, Debug, Serialize, PartialEq, schemars::JsonSchema)]
pub struct SipRef {
    /// Status code.
    pub status: u16,
    /// Reason phrase.
    pub reason: String,
    /// Warning text, if any (`399 UCM2-PUB "..."`).
    pub warning: Option<String>,
}

/// Where a piece of evidence was seen: a frame of a capture, or a line of a text file (a log).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Place {
    /// A capture frame, numbered as Wireshark numbers it.
    Frame {
        /// Wireshark frame number.
        number: u64,
        /// Wireshark tcp.stream, for TCP.
        tcp_stream: Option<u64>,
    },
    /// A line of a text file.
    Line {
        /// The file, as named in the report.
        file: String,
        /// Line number, from 1.
        line: u64,
    },
}

impl Place {
    /// The frame number, when the evidence is a frame.
    pub fn frame(&self) -> Option<u64> {
        match self {
            Place::Frame { number, .. } => Some(*number),
            Place::Line { .. } => None,
        }
    }

    /// The tcp.stream, when the evidence is a frame of a TCP connection.
    pub fn tcp_stream(&self) -> Option<u64> {
        match self {
            Place::Frame { tcp_stream, .. } => *tcp_stream,
            Place::Line { .. } => None,
        }
    }

    /// How a report cites it: `frame 17` or `jabber.log:1234`.
    pub fn cite(&self) -> String {
        match self {
            Place::Frame { number, .. } => format!("frame {number}"),
            Place::Line { file, line } => format!("{file}:{line}"),
        }
    }
}

/// Something seen that proves part of a finding, with where it was seen.
#[derive(Clone, Debug, PartialEq)]
pub struct Evidence {
    /// Where: a frame, or a file and line.
    pub place: Place,
    /// When (capture time, or the log's time converted to UTC).
    pub time: Ts,
    /// What it shows.
    pub note: String,
}

impl Evidence {
    /// Evidence in a capture frame.
    pub fn frame(number: u64, time: Ts, tcp_stream: Option<u64>, note: String) -> Evidence {
        Evidence {
            place: Place::Frame { number, tcp_stream },
            time,
            note,
        }
    }

    /// Evidence on a line of a text file.
    pub fn line(file: String, line: u64, time: Ts, note: String) -> Evidence {
        Evidence {
            place: Place::Line { file, line },
            time,
            note,
        }
    }
}

/// Evidence as JSON writes it: a frame with its tcp.stream, or a file with its line.
#[derive(Serialize, schemars::JsonSchema)]
#[serde(untagged)]
enum EvidenceJson<'a> {
    /// In a capture.
    Frame {
        /// Wireshark frame number.
        frame: u64,
        /// Capture time of the frame.
        time: Ts,
        /// Wireshark tcp.stream, for TCP.
        tcp_stream: Option<u64>,
        /// What the frame shows.
        note: &'a str,
    },
    /// In a text file (a log).
    Line {
        /// The file.
        file: &'a str,
        /// Line number, from 1.
        line: u64,
        /// Time of the line, in UTC.
        time: Ts,
        /// What the line shows.
        note: &'a str,
    },
}

impl Serialize for Evidence {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match &self.place {
            Place::Frame { number, tcp_stream } => EvidenceJson::Frame {
                frame: *number,
                time: self.time,
                tcp_stream: *tcp_stream,
                note: &self.note,
            },
            Place::Line { file, line } => EvidenceJson::Line {
                file,
                line: *line,
                time: self.time,
                note: &self.note,
            },
        }
        .serialize(s)
    }
}

impl schemars::JsonSchema for Evidence {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Evidence".into()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        EvidenceJson::json_schema(generator)
    }
}

/// One diagnosis, as in the JSON contract (schema_version 1).
#[derive(Clone, Debug, Serialize, PartialEq, schemars::JsonSchema)]
pub struct Finding {
    /// Stable catalogue id.
    pub id: &'static str,
    /// Severity.
    pub severity: Severity,
    /// Confidence.
    pub confidence: Confidence,
    /// One-line title.
    pub title: String,
    /// What happened in this capture.
    pub explanation: String,
    /// What to change, in order.
    pub fix: Vec<String>,
    /// Events counted once each (a rejected REGISTER, a refused connection attempt, an alert).
    pub occurrences: u64,
    /// The client side.
    pub client: Party,
    /// The server side.
    pub server: Party,
    /// The TLS alert, when the finding rests on one.
    pub tls_alert: Option<AlertRef>,
    /// The SIP answer, when the finding rests on one.
    pub sip: Option<SipRef>,
    /// Evidence frames (at most `max_evidence`, 20 by default).
    pub evidence: Vec<Evidence>,
    /// A display filter that shows the evidence in Wireshark.
    pub wireshark_filter: String,
    /// The offline trust check of the certificate chain this finding is about (`--trust`);
    /// null without a bundle or when the finding concerns no chain.
    pub trust: Option<crate::trust::TrustResult>,
    /// Index of the capture in `captures[]`.
    pub capture: usize,
    /// The catalogue's source for this id.
    pub source: &'static str,
}

/// One event a rule explains.
#[derive(Clone, Debug)]
pub struct Occurrence {
    /// Client.
    pub client: Party,
    /// Server.
    pub server: Party,
    /// Alert, if any.
    pub alert: Option<AlertRef>,
    /// SIP answer, if any.
    pub sip: Option<SipRef>,
    /// Frames.
    pub evidence: Vec<Evidence>,
    /// What happened (first occurrence's text is used).
    pub explanation: String,
    /// Wireshark filter.
    pub filter: String,
    /// Trust check of the chain concerned.
    pub trust: Option<crate::trust::TrustResult>,
}

/// What the rules can see.
pub struct Cx<'a> {
    /// Facts of the capture.
    pub facts: &'a CaptureFacts,
    /// Settings of the run.
    pub cfg: &'a Config,
}

impl Cx<'_> {
    /// The kind of a server port, by the capture's port map (the given ports plus those its
    /// device configuration files name).
    pub fn port_kind(&self, port: u16) -> crate::config::PortKind {
        self.facts.ports.port_kind(port)
    }
}

/// Events already explained by an earlier rule, and what the rules could not decide.
#[derive(Default)]
pub struct Claimed {
    /// Notes from rules that stayed silent because the capture lacks the deciding evidence.
    pub undecided: Vec<String>,
    alerts: HashSet<(u64, u64)>,
    transactions: HashSet<usize>,
    connections: HashSet<u64>,
}

impl Claimed {
    /// Claims an alert; false when an earlier rule already did.
    pub fn alert(&mut self, c: &Connection, a: &Alert) -> bool {
        self.alerts.insert((
            c.tcp_stream,
            a.frame * 64 + a.code.map_or(0, |c| c.0) as u64,
        ))
    }
    /// Whether an earlier rule explained this SIP transaction.
    pub fn has_transaction(&self, t: usize) -> bool {
        self.transactions.contains(&t)
    }
    /// Claims a SIP transaction.
    pub fn transaction(&mut self, t: usize) -> bool {
        self.transactions.insert(t)
    }
    /// Claims a connection.
    pub fn connection(&mut self, stream: u64) -> bool {
        self.connections.insert(stream)
    }
}

/// What a per-connection rule is given: one settled connection and the settings.
pub struct ConnCx<'a> {
    /// The connection to judge.
    pub conn: &'a Connection,
    /// Settings in force.
    pub cfg: &'a Config,
}

/// A rule that judges one connection at a time, as each connection is settled while the
/// capture is still being read.
pub trait ConnectionRule: Send + Sync {
    /// The catalogue entry.
    fn meta(&self) -> &'static Meta;
    /// Events of this connection that this rule explains.
    fn check(&self, cx: &ConnCx<'_>, claimed: &mut Claimed) -> Vec<Occurrence>;
}

/// A rule that judges the whole capture once it is read (SIP, HTTP, across connections).
pub trait CaptureRule: Send + Sync {
    /// The catalogue entry.
    fn meta(&self) -> &'static Meta;
    /// Events of the capture that this rule explains.
    fn check(&self, cx: &Cx<'_>, claimed: &mut Claimed) -> Vec<Occurrence>;
}

/// A catalogue rule, of one of the two kinds. `rules::all` lists them in claiming order.
pub enum Rule {
    /// Judges each connection.
    Connection(Box<dyn ConnectionRule>),
    /// Judges the capture.
    Capture(Box<dyn CaptureRule>),
}

impl Rule {
    /// The catalogue entry.
    pub fn meta(&self) -> &'static Meta {
        match self {
            Rule::Connection(r) => r.meta(),
            Rule::Capture(r) => r.meta(),
        }
    }
}

/// Groups with distinct client addresses kept per capture; past this, occurrences with a new
/// client are grouped by server only (the report says so in the explanation).
pub const MAX_GROUPS: usize = 2000;

struct Group {
    meta: &'static Meta,
    first: Occurrence,
    count: u64,
    evidence: Vec<Evidence>,
    last_frame: u64,
    /// 0: one client and server; 1: one server, many clients; 2: many of both.
    coarse: u8,
}

/// Occurrences grouped into findings across many calls (one per settled connection, then the
/// capture-level rules), in bounded memory.
#[derive(Default)]
pub struct Aggregator {
    groups: Vec<Group>,
    index: HashMap<String, usize>,
}

fn group_key(id: &str, o: &Occurrence, level: u8) -> String {
    format!(
        "{id}|{}|{}|{}|{:?}|{:?}",
        if level == 0 {
            o.client.ip.to_string()
        } else {
            "*".into()
        },
        if level < 2 {
            o.server.ip.to_string()
        } else {
            "*".into()
        },
        if level < 2 { o.server.port } else { 0 },
        o.alert.as_ref().map(|a| (a.code, a.sent_by)),
        o.sip.as_ref().map(|s| (s.status, &s.warning))
    )
}

impl Aggregator {
    /// Adds one occurrence of `meta`'s id.
    pub fn add(&mut self, meta: &'static Meta, o: Occurrence, max_evidence: usize) {
        // Past MAX_GROUPS groups, new ones stop telling clients apart; past twice that, servers.
        let fine = group_key(meta.id, &o, 0);
        let (key, coarse) = if self.index.contains_key(&fine) || self.groups.len() < MAX_GROUPS {
            (fine, 0)
        } else {
            let by_server = group_key(meta.id, &o, 1);
            if self.index.contains_key(&by_server) || self.groups.len() < 2 * MAX_GROUPS {
                (by_server, 1)
            } else {
                (group_key(meta.id, &o, 2), 2)
            }
        };
        let frame = o
            .evidence
            .first()
            .and_then(|e| e.place.frame())
            .unwrap_or(0);
        match self.index.get(&key) {
            Some(&i) => {
                let g = &mut self.groups[i];
                g.count += 1;
                g.last_frame = g.last_frame.max(frame);
                if let Some(e) = o.evidence.first() {
                    if g.evidence.len() < max_evidence
                        && !g.evidence.iter().any(|x| x.place == e.place)
                    {
                        g.evidence.push(e.clone());
                    }
                }
            }
            None => {
                let mut evidence: Vec<Evidence> = Vec::new();
                for e in &o.evidence {
                    if evidence.len() < max_evidence && !evidence.iter().any(|x| x.place == e.place)
                    {
                        evidence.push(e.clone());
                    }
                }
                self.index.insert(key, self.groups.len());
                self.groups.push(Group {
                    meta,
                    first: o,
                    count: 1,
                    evidence,
                    last_frame: frame,
                    coarse,
                });
            }
        }
    }

    /// Whether nothing was added.
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// The findings, errors first, then by first evidence frame.
    pub fn into_findings(self, capture: usize) -> Vec<Finding> {
        let mut findings: Vec<Finding> = self
            .groups
            .into_iter()
            .map(|g| finding(g, capture))
            .collect();
        findings.sort_by(|a, b| {
            a.severity
                .cmp(&b.severity)
                .then(first_frame(a).cmp(&first_frame(b)))
                .then(a.id.cmp(b.id))
        });
        findings
    }
}

fn rule_set() -> &'static [Rule] {
    static RULES: std::sync::OnceLock<Vec<Rule>> = std::sync::OnceLock::new();
    RULES.get_or_init(rules::all)
}

/// Runs the per-connection rules on one settled connection; returns whether any rule found
/// something in it.
pub fn connection_occurrences(
    c: &Connection,
    cfg: &Config,
    agg: &mut Aggregator,
    undecided: &mut Vec<String>,
) -> bool {
    let cx = ConnCx { conn: c, cfg };
    let mut claimed = Claimed::default();
    let mut any = false;
    for rule in rule_set() {
        let Rule::Connection(rule) = rule else {
            continue;
        };
        for o in rule.check(&cx, &mut claimed) {
            agg.add(rule.meta(), o, cfg.max_evidence);
            any = true;
        }
    }
    undecided.extend(claimed.undecided);
    undecided.extend(certificate_request_check(c));
    any
}

/// Runs the capture-level rules (SIP, HTTP, cross-connection) once the capture is read.
pub fn capture_occurrences(
    facts: &CaptureFacts,
    cfg: &Config,
    agg: &mut Aggregator,
    undecided: &mut Vec<String>,
) {
    let cx = Cx { facts, cfg };
    let mut claimed = Claimed::default();
    for rule in rule_set() {
        let Rule::Capture(rule) = rule else {
            continue;
        };
        for o in rule.check(&cx, &mut claimed) {
            agg.add(rule.meta(), o, cfg.max_evidence);
        }
    }
    undecided.extend(claimed.undecided);
    undecided.extend(cross_checks(facts));
}

/// The CertificateRequest's CA list against the issuer of the client certificate that followed.
fn certificate_request_check(c: &Connection) -> Option<String> {
    let t = c.tls.as_ref()?;
    let req = t.certificate_request.as_ref()?;
    let leaf = t
        .chain_of(Side::Client)
        .and_then(|ch| ch.certificates.first())?;
    (!req.ca_names.is_empty() && !req.ca_names.contains(&leaf.issuer)).then(|| {
        format!(
            "tcp.stream {}: the client certificate's issuer \"{}\" is not among the {} CA name(s) the server listed in its CertificateRequest (frame {})",
            c.tcp_stream,
            leaf.issuer,
            req.ca_names.len(),
            req.frame
        )
    })
}

/// Checks across connections that are worth a note rather than a finding of their own.
fn cross_checks(facts: &CaptureFacts) -> Vec<String> {
    let mut notes = Vec::new();
    // A device refused by one node and accepted by another: the difference is per node.
    for reg in &facts.registrations {
        let mut ok = BTreeMap::new();
        let mut refused = BTreeMap::new();
        for &t in &reg.transactions {
            let tx = &facts.transactions[t];
            let req = &facts.sip[tx.request];
            let Some(resp) = tx.final_response(&facts.sip) else {
                continue;
            };
            let node = req.dst.to_string();
            match resp.status.unwrap_or(0) {
                200..=299 => {
                    ok.entry(node).or_insert(resp.frame);
                }
                400..=699 if ![401, 407].contains(&resp.status.unwrap_or(0)) => {
                    refused.entry(node).or_insert(resp.frame);
                }
                _ => {}
            }
        }
        for (node, frame) in &refused {
            if let Some((good, gframe)) = ok.iter().find(|(n, _)| *n != node) {
                notes.push(format!(
                    "{} was refused by {node} (frame {frame}) but registered on {good} (frame {gframe}): the difference is per node (its OAuth ports, certificate, or CallManager service)",
                    reg.device
                ));
            }
        }
    }
    notes
}

/// Capitalizes a sentence, unless it starts with an address or URI (`sip:1154@...`).
fn capitalize(s: &str) -> String {
    let first_word = s.split_whitespace().next().unwrap_or("");
    if first_word.contains([':', '@']) {
        return s.to_string();
    }
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

fn first_frame(f: &Finding) -> u64 {
    f.evidence
        .first()
        .and_then(|e| e.place.frame())
        .unwrap_or(u64::MAX)
}

fn finding(g: Group, capture: usize) -> Finding {
    let Group {
        meta,
        first,
        count: n,
        mut evidence,
        last_frame,
        coarse,
    } = g;
    let mut explanation = capitalize(&first.explanation);
    if n > 1 {
        let with = match coarse {
            0 => "between these endpoints",
            1 => "with this server, from many clients",
            _ => "across many clients and servers (the report grouped them to stay bounded)",
        };
        explanation.push_str(&format!(
            " The same happened {n} times {with} (the last at frame {last_frame})."
        ));
    }
    evidence.sort_by(|a, b| a.place.cmp(&b.place));
    Finding {
        id: meta.id,
        severity: meta.severity,
        confidence: meta.confidence,
        title: meta.title.to_string(),
        explanation,
        fix: meta.fix.iter().map(|s| s.to_string()).collect(),
        occurrences: n,
        client: first.client,
        server: first.server,
        tls_alert: first.alert,
        sip: first.sip,
        evidence,
        wireshark_filter: first.filter,
        trust: first.trust,
        capture,
        source: meta.source,
    }
}

/// Helpers shared by the rules.
pub mod util {
    /// Via entries of a message (headers may hold several, comma-separated).
    pub fn via_count(m: &crate::sip::SipMessage) -> usize {
        m.headers
            .iter()
            .filter(|(n, _)| n == "Via")
            .map(|(_, v)| v.split(',').filter(|p| p.contains("SIP/2.0/")).count())
            .sum()
    }

    /// `CSFrado's REGISTER`, or `the REGISTER of sip:1154@cucm` when the device is known only by
    /// an address (a possessive on a URI reads badly, and must not be capitalized).
    pub fn register_of(device: &str) -> String {
        if device.contains([':', '@']) {
            format!("the REGISTER of {device}")
        } else {
            format!("{device}'s REGISTER")
        }
    }

    use super::*;
    pub use crate::tls::CertInfo;

    /// The alert as the contract shows it.
    pub fn alert_ref(a: &Alert) -> AlertRef {
        AlertRef {
            description: a.description.clone(),
            code: a.code.map_or(0, |c| c.0),
            level: a
                .level
                .map_or("encrypted".into(), crate::tls::names::alert_level),
            sent_by: a.sent_by,
        }
    }

    /// Fatal alerts read in clear (or decrypted) on the connection, with the connection.
    pub fn fatal_alerts<'a>(
        cx: &ConnCx<'a>,
    ) -> impl Iterator<Item = (&'a Connection, &'a Alert)> + 'a {
        let c = cx.conn;
        c.tls
            .iter()
            .flat_map(|t| t.alerts.iter())
            .filter(|a| a.is_fatal() && a.code.is_some())
            .map(move |a| (c, a))
    }

    /// Display name of a party: `Expressway-C 10.0.0.5`.
    pub fn who(p: &Party) -> String {
        use crate::net::Role;
        let role = match p.role {
            Role::Cucm => "CUCM",
            Role::ExpresswayC => "Expressway-C",
            Role::JabberOrWebex => "the Jabber/Webex client",
            Role::SipClient => "the SIP client",
            Role::SipServer => "the SIP server",
            Role::Client => "the client",
            Role::Server | Role::Tftp => "the server",
        };
        format!("{role} {}", p.ip)
    }

    /// `subject "CN=x", issued by "CN=y", valid until ...`.
    pub fn describe_cert(c: &CertInfo) -> String {
        format!(
            "subject \"{}\", issuer \"{}\", valid {} to {}",
            c.subject,
            c.issuer,
            c.not_before.rfc3339(),
            c.not_after.rfc3339()
        )
    }

    /// Evidence for an alert and the certificate it answered.
    pub fn alert_evidence(
        c: &Connection,
        a: &Alert,
        rejected_chain_of: Option<Side>,
    ) -> Vec<Evidence> {
        let mut ev = vec![Evidence::frame(
            a.frame,
            a.time,
            Some(c.tcp_stream),
            format!(
                "fatal TLS alert {} ({}) sent by the {}",
                a.description,
                a.code.map_or(0, |c| c.0),
                a.sent_by
            ),
        )];
        if let (Some(who), Some(t)) = (rejected_chain_of, &c.tls) {
            if let Some(ch) = t.chain_of(who) {
                let leaf = ch
                    .certificates
                    .first()
                    .map(|l| format!(": {}", l.subject))
                    .unwrap_or_default();
                ev.push(Evidence::frame(
                    ch.frame,
                    ch.time,
                    Some(c.tcp_stream),
                    format!("Certificate presented by the {who}{leaf}"),
                ));
            }
        }
        ev
    }

    /// Wireshark filter for an alert on a connection.
    pub fn alert_filter(c: &Connection, code: u8) -> String {
        format!(
            "ip.addr == {} && tcp.port == {} && tls.alert_message.desc == {code}",
            c.server.ip, c.server.port
        )
    }

    /// An occurrence proved by the fatal alert `a` on `c`: the alert, the Wireshark filter for
    /// it, and `evidence` (usually [`alert_evidence`]).
    pub fn alert_occurrence(
        c: &Connection,
        a: &Alert,
        evidence: Vec<Evidence>,
        trust: Option<crate::trust::TrustResult>,
        explanation: String,
    ) -> Occurrence {
        Occurrence {
            client: c.client.clone(),
            server: c.server.clone(),
            alert: Some(alert_ref(a)),
            sip: None,
            evidence,
            explanation,
            filter: alert_filter(c, a.code.map_or(0, |x| x.0)),
            trust,
        }
    }

    /// Client and server of a SIP request.
    pub fn sip_parties(cx: &Cx<'_>, req: &SipMessage) -> (Party, Party) {
        let kind = cx.port_kind(req.dst.port);
        let (cr, sr) = kind.roles();
        (
            Party {
                ip: req.src.ip,
                port: req.src.port,
                role: cr,
            },
            Party {
                ip: req.dst.ip,
                port: req.dst.port,
                role: sr,
            },
        )
    }

    /// Evidence for a SIP message; a request's credential is shown as the report may show it
    /// (redacted unless `--show-secrets`).
    pub fn sip_evidence(m: &SipMessage, note: String) -> Evidence {
        let cred = m
            .headers
            .iter()
            .find(|(n, _)| n == "Authorization" || n == "Proxy-Authorization")
            .map(|(n, v)| match v.split_once(' ') {
                Some((scheme, params)) if note.contains(n.as_str()) && note.contains(scheme) => {
                    params.to_string()
                }
                _ => format!("{n}: {v}"),
            });
        let note = match cred {
            Some(c) if m.status.is_none() => format!("{note} ({c})"),
            _ => note,
        };
        Evidence::frame(m.frame, m.time, m.tcp_stream, note)
    }

    /// `399 UCM2-PUB "text"`.
    pub fn warning_text(m: &SipMessage) -> Option<String> {
        m.warnings
            .first()
            .map(|w| format!("{} {} \"{}\"", w.code, w.agent, w.text))
    }

    /// A request carries credentials (Authorization or Proxy-Authorization).
    pub fn has_credentials(m: &SipMessage) -> bool {
        m.auth.iter().any(|a| a.header.ends_with("ization"))
    }

    /// A request carries a Bearer token.
    pub fn has_bearer(m: &SipMessage) -> bool {
        m.auth
            .iter()
            .any(|a| a.header.ends_with("ization") && a.scheme.eq_ignore_ascii_case("bearer"))
    }

    /// REGISTER transactions of one registration (device), each with its final answer.
    pub fn register_steps<'a>(
        cx: &'a Cx<'_>,
        reg: &crate::session::Registration,
    ) -> Vec<(usize, &'a SipMessage, Option<&'a SipMessage>)> {
        let f = cx.facts;
        reg.transactions
            .iter()
            .map(|&t| {
                let tx = &f.transactions[t];
                (t, &f.sip[tx.request], tx.final_response(&f.sip))
            })
            .collect()
    }

    /// A SIP answer as the contract shows it.
    pub fn sip_ref(m: &SipMessage) -> SipRef {
        SipRef {
            status: m.status.unwrap_or(0),
            reason: m.reason.clone().unwrap_or_default(),
            warning: warning_text(m),
        }
    }

    /// Wireshark filter for a SIP dialog by Call-ID.
    pub fn call_filter(m: &SipMessage) -> String {
        match &m.call_id {
            Some(c) => format!("sip.Call-ID == \"{c}\""),
            None => "sip.CSeq.method == \"REGISTER\"".into(),
        }
    }

    /// Seconds the capture went on after `t`.
    pub fn time_left(cx: &Cx<'_>, t: Ts) -> f64 {
        cx.facts
            .info
            .as_ref()
            .and_then(|i| i.last_time)
            .map_or(0.0, |e| e.secs_since(t))
    }

    /// Bytes of this TCP connection are missing from the capture (what was lost may decide).
    pub fn stream_lossy(cx: &Cx<'_>, stream: Option<u64>) -> bool {
        stream.is_some_and(|s| cx.facts.lossy_streams.contains(&s))
    }

    /// A client that was challenged answers within milliseconds; less than this much capture
    /// after a challenge cannot show that it never answered.
    pub const CHALLENGE_GRACE_SECS: f64 = 5.0;

    /// The leaf certificate presented by `who` (`client` or `server`).
    pub fn leaf(c: &Connection, who: Side) -> Option<&CertInfo> {
        c.tls
            .as_ref()?
            .chain_of(who)?
            .certificates
            .first()
            .map(|a| &**a)
    }

    /// Whether a certificate names `host` (SAN DNS entries, else CN), wildcards included.
    pub fn cert_names(cert: &CertInfo, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        let mut names: Vec<String> = cert
            .san
            .iter()
            .filter_map(|s| s.strip_prefix("DNS:"))
            .map(|s| s.to_ascii_lowercase())
            .collect();
        if names.is_empty() {
            if let Some(cn) = cert.subject.split(", ").find_map(|p| p.strip_prefix("CN=")) {
                names.push(cn.to_ascii_lowercase());
            }
        }
        names.iter().any(|n| match n.strip_prefix("*.") {
            Some(rest) => host.split_once('.').is_some_and(|(_, h)| h == rest),
            None => *n == host,
        })
    }

    /// The handshake finished (both sides' Finished, or application data both ways).
    pub fn handshake_done(c: &Connection) -> bool {
        c.tls.as_ref().is_some_and(|t| {
            t.handshake_complete()
                || t.steps
                    .iter()
                    .filter(|s| s.message.is_finished())
                    .map(|s| s.from)
                    .collect::<std::collections::BTreeSet<_>>()
                    .len()
                    == 2
                || (t
                    .steps
                    .iter()
                    .any(|s| s.from == Side::Client && s.message == StepKind::EncryptedHandshake)
                    && t.steps.iter().any(|s| {
                        s.from == Side::Server && s.message == StepKind::EncryptedHandshake
                    })
                    && t.application_records[1] > 0)
        })
    }

    /// Evidence for the frame where `who` ended the connection (FIN or RST).
    pub fn close_evidence(c: &Connection) -> Option<Evidence> {
        let (frame, what) = match (&c.rst, c.client_fin_frame, c.server_fin_frame, c.ended_by) {
            (Some(r), _, _, _) if Some(r.sent_by) == c.ended_by => {
                (r.frame, format!("RST from the {}", r.sent_by))
            }
            (_, Some(f), _, Some(Side::Client)) => (f, "FIN from the client".to_string()),
            (_, _, Some(f), Some(Side::Server)) => (f, "FIN from the server".to_string()),
            _ => return None,
        };
        Some(Evidence::frame(
            frame,
            c.last_time,
            Some(c.tcp_stream),
            what,
        ))
    }

    /// The trust check of the chain `who` presented on `c`, when `--trust` was given.
    pub fn chain_trust(c: &Connection, who: Side) -> Option<crate::trust::TrustResult> {
        c.tls.as_ref()?.chain_of(who)?.trust.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::util::register_of;
    use super::*;

    #[test]
    fn evidence_cites_a_frame_or_a_line_and_writes_either_as_json() {
        let f = Evidence::frame(17, Ts(0), Some(3), "403".into());
        let l = Evidence::line("jabber.log".into(), 1234, Ts(0), "403".into());
        assert_eq!(f.place.cite(), "frame 17");
        assert_eq!(l.place.cite(), "jabber.log:1234");
        assert_eq!(
            serde_json::to_string(&f).unwrap_or_default(),
            r#"{"frame":17,"time":"1970-01-01T00:00:00.000000Z","tcp_stream":3,"note":"403"}"#
        );
        assert_eq!(
            serde_json::to_string(&l).unwrap_or_default(),
            r#"{"file":"jabber.log","line":1234,"time":"1970-01-01T00:00:00.000000Z","note":"403"}"#
        );
        assert!(f.place < l.place, "frames sort before lines");
    }

    #[test]
    fn an_address_is_never_capitalized_nor_given_a_possessive() {
        assert_eq!(register_of("CSFrado"), "CSFrado's REGISTER");
        assert_eq!(
            register_of("sip:1154@cucm"),
            "the REGISTER of sip:1154@cucm"
        );
        assert_eq!(
            capitalize(&format!("{} was answered", register_of("sip:1154@cucm"))),
            "The REGISTER of sip:1154@cucm was answered"
        );
        assert_eq!(capitalize("sip:1154@cucm sent"), "sip:1154@cucm sent");
        assert_eq!(capitalize("expressway-c relayed"), "Expressway-c relayed");
    }
}
