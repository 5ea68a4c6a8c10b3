//! Diagnosis: one rule per catalogue id, each turning evidence into findings.
//!
//! Rules run in a fixed order; each event (an alert, a SIP transaction, a connection) is
//! claimed by the first rule that explains it, so the general rules (`tls-alert`) only see what
//! the specific ones left. Identical failures between the same endpoints become one finding
//! with a count.

pub mod catalogue;
mod cert_alerts;
pub mod rule;
pub mod rules;

use std::collections::{BTreeMap, HashSet};

use serde::Serialize;

use crate::config::Config;
use crate::net::Side;
use crate::note::Note;
use crate::place::{At, Files, Packed};
use crate::session::{CaptureFacts, Connection, Party};
use crate::sip::SipMessage;
use crate::time::Ts;
use crate::tls::{Alert, StepKind};
pub use catalogue::Meta;
pub use rule::{
    AlertFound, Anchored, AnswerFound, CaptureRule, ConnFound, ConnectionRule, JudgesCaptures,
    JudgesConnections, On, RequestFound,
};

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

impl Severity {
    /// `error`, `warning` or `info`, as JSON writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }

    /// `ERROR`, `WARNING` or `INFO`: the tag reports put before a finding.
    pub fn label(self) -> &'static str {
        match self {
            Severity::Error => "ERROR",
            Severity::Warning => "WARNING",
            Severity::Info => "INFO",
        }
    }
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

impl Confidence {
    /// `certain` or `likely`, as JSON writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Certain => "certain",
            Confidence::Likely => "likely",
        }
    }
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

pub use crate::place::At as Place;

/// Something seen that proves part of a finding, with where it was seen.
#[derive(Clone, Debug, PartialEq)]
pub struct Evidence {
    /// Where: a frame, or a log's line.
    pub place: At,
    /// The frame's tcp.stream, for TCP (a log's line has none).
    pub tcp_stream: Option<u64>,
    /// When (capture time, or the log's time converted to UTC).
    pub time: Ts,
    /// What it shows.
    pub note: String,
}

impl Evidence {
    /// Evidence in a capture frame.
    pub fn frame(number: u64, time: Ts, tcp_stream: Option<u64>, note: String) -> Evidence {
        Evidence::at(At::Frame(number), time, tcp_stream, note)
    }

    /// Evidence where a fact was seen: a frame (with its tcp.stream), or a log's line.
    pub fn at(place: At, time: Ts, tcp_stream: Option<u64>, note: String) -> Evidence {
        let tcp_stream = tcp_stream.filter(|_| !place.is_line());
        Evidence {
            place,
            tcp_stream,
            time,
            note,
        }
    }

    /// Evidence on a line of a text file.
    pub fn line(file: String, line: u64, time: Ts, note: String) -> Evidence {
        let place = At::line(0, file.into(), line);
        Evidence::at(place, time, None, note)
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
            At::Frame(number) => EvidenceJson::Frame {
                frame: *number,
                time: self.time,
                tcp_stream: self.tcp_stream,
                note: &self.note,
            },
            At::Line(l) => EvidenceJson::Line {
                file: &l.name,
                line: l.line,
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
    /// Distinct clients or devices affected (the fleet view: one finding per id and node).
    pub devices: u64,
    /// Each client or device affected: its name when the evidence gives one, its address, how
    /// often, and its first and last frame (complete; bounded only by the number of devices).
    pub affected: Vec<Affected>,
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
    /// The device or user it concerns, when the evidence names one (SIP).
    pub device: Option<String>,
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
    pub undecided: Vec<Note>,
    alerts: HashSet<(u64, At, u8)>,
    transactions: HashSet<usize>,
    connections: HashSet<u64>,
}

impl Claimed {
    /// Claims an alert; false when an earlier rule already did.
    pub fn alert(&mut self, c: &Connection, a: &Alert) -> bool {
        self.alerts
            .insert((c.tcp_stream, a.at.clone(), a.code.map_or(0, |c| c.0)))
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

/// A catalogue rule, of one of the two kinds. `rules::all` lists them in claiming order.
pub enum Rule {
    /// Judges each connection.
    Connection(Box<dyn JudgesConnections>),
    /// Judges the capture.
    Capture(Box<dyn JudgesCaptures>),
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

/// A client or device affected by a finding.
#[derive(Clone, Debug, Serialize, PartialEq, Eq, schemars::JsonSchema)]
pub struct Affected {
    /// Device or user name, when the evidence names one.
    pub device: Option<String>,
    /// The client's address.
    pub address: std::net::IpAddr,
    /// Events of this finding for it.
    pub occurrences: u64,
    /// Its first frame.
    pub first_frame: u64,
    /// Its last frame.
    pub last_frame: u64,
    /// The log file, when the finding comes from a log: `first_frame` and `last_frame` are
    /// then its lines. Absent for captures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
}

/// Clients or devices listed per finding at most; past it they are counted.
pub const MAX_AFFECTED: usize = 100_000;

#[derive(Clone)]
struct Group {
    meta: &'static Meta,
    first: Occurrence,
    count: u64,
    evidence: Vec<Evidence>,
    /// Where its latest evidence was seen.
    last: Packed,
    /// 0: one node; 1: many nodes (the report grouped them to stay bounded).
    coarse: u8,
    /// `(address, device) -> (occurrences, first place, last place)`.
    affected: BTreeMap<(std::net::IpAddr, Option<String>), (u64, Packed, Packed)>,
    /// Affected clients past [`MAX_AFFECTED`].
    more: u64,
}

impl Group {
    fn affect(&mut self, o: &Occurrence, frame: Packed) {
        let key = (o.client.ip, o.device.clone());
        let room = self.affected.len() < MAX_AFFECTED;
        match self.affected.get_mut(&key) {
            Some(a) => {
                a.0 += 1;
                a.1 = a.1.min(frame);
                a.2 = a.2.max(frame);
            }
            None if room => {
                self.affected.insert(key, (1, frame, frame));
            }
            None => self.more += 1,
        }
    }
}

/// Occurrences grouped into findings across many calls (one per settled connection, then the
/// capture-level rules), in bounded memory.
#[derive(Default)]
pub struct Aggregator {
    groups: Vec<Group>,
    index: foldhash::HashMap<String, usize>,
    added: u64,
    /// The log's files the places of [`Packed`] name.
    files: Files,
    /// Occurrences told once ([`CaptureRule::once`]), by rule id and key.
    once: std::collections::HashSet<(&'static str, String)>,
}

/// Where a finding stands while the capture is still read (a live sensor's update).
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Standing {
    /// Which finding: 0 for the first one told (`finding` event), 1 for the second, and so on.
    pub finding: usize,
    /// Stable catalogue id.
    pub id: &'static str,
    /// Severity.
    pub severity: Severity,
    /// The server side (CUCM or Expressway-C node) the finding is grouped by.
    pub server: Party,
    /// Events so far.
    pub occurrences: u64,
    /// Distinct clients or devices so far.
    pub devices: u64,
    /// The frame of its latest evidence.
    pub last_frame: u64,
}

/// Findings are grouped by id and node (the server: CUCM or Expressway-C), so that one finding
/// lists every client it affects; past [`MAX_GROUPS`] nodes, by id only.
fn group_key(id: &str, o: &Occurrence, level: u8) -> String {
    format!(
        "{id}|{}|{}|{:?}|{:?}",
        if level == 0 {
            o.server.ip.to_string()
        } else {
            "*".into()
        },
        if level == 0 { o.server.port } else { 0 },
        o.alert.as_ref().map(|a| (a.code, a.sent_by)),
        o.sip.as_ref().map(|s| (s.status, &s.warning))
    )
}

impl Aggregator {
    /// Adds one occurrence of `meta`'s id.
    ///
    /// Returns where the evidence it kept was seen (the report lists the SIP messages there).
    pub fn add(&mut self, meta: &'static Meta, o: Occurrence, max_evidence: usize) -> Vec<At> {
        self.added += 1;
        // Past MAX_GROUPS groups, new ones stop telling nodes apart.
        let fine = group_key(meta.id, &o, 0);
        let (key, coarse) = if self.index.contains_key(&fine) || self.groups.len() < MAX_GROUPS {
            (fine, 0)
        } else {
            (group_key(meta.id, &o, 1), 1)
        };
        let frame = o
            .evidence
            .first()
            .map(|e| Packed::pack(&e.place, &mut self.files))
            .unwrap_or_default();
        match self.index.get(&key) {
            Some(&i) => {
                let g = &mut self.groups[i];
                g.count += 1;
                g.last = g.last.max(frame);
                g.affect(&o, frame);
                if let Some(e) = o.evidence.first() {
                    if g.evidence.len() < max_evidence
                        && !g.evidence.iter().any(|x| x.place == e.place)
                    {
                        g.evidence.push(e.clone());
                        return vec![e.place.clone()];
                    }
                }
                Vec::new()
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
                let mut g = Group {
                    meta,
                    first: o.clone(),
                    count: 1,
                    evidence,
                    last: frame,
                    coarse,
                    affected: BTreeMap::new(),
                    more: 0,
                };
                g.affect(&o, frame);
                let kept = g.evidence.iter().map(|e| e.place.clone()).collect();
                self.groups.push(g);
                kept
            }
        }
    }

    /// Whether the occurrence of `id` known by `key` comes for the first time (and notes that
    /// it came).
    pub fn first_time(&mut self, id: &'static str, key: String) -> bool {
        self.once.insert((id, key))
    }

    /// Whether nothing was added.
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// Occurrences added so far, in all findings (grows with each one).
    pub fn added(&self) -> u64 {
        self.added
    }

    /// Findings so far (each id and node once).
    pub fn len(&self) -> usize {
        self.groups.len()
    }

    /// Where finding `i` (in the order findings first appeared) stands.
    pub fn standing(&self, i: usize) -> Option<Standing> {
        let g = self.groups.get(i)?;
        Some(Standing {
            finding: i,
            id: g.meta.id,
            severity: g.meta.severity,
            server: g.first.server.clone(),
            occurrences: g.count,
            devices: g.affected.len() as u64 + g.more,
            last_frame: g.last.unpack(&self.files).number(),
        })
    }

    /// The clients finding `i` names so far: each address with the device name, when the
    /// evidence gave one.
    pub fn affected(&self, i: usize) -> impl Iterator<Item = (std::net::IpAddr, Option<&str>)> {
        self.groups
            .get(i)
            .into_iter()
            .flat_map(|g| g.affected.keys().map(|(ip, d)| (*ip, d.as_deref())))
    }

    /// Finding `i` as it stands (in the order findings first appeared), for `capture`.
    pub fn finding_at(&self, i: usize, capture: usize) -> Option<Finding> {
        self.groups
            .get(i)
            .map(|g| finding(g.clone(), capture, &self.files))
    }

    /// The findings, errors first, then by first evidence frame.
    pub fn into_findings(self, capture: usize) -> Vec<Finding> {
        let files = self.files;
        let mut findings: Vec<Finding> = self
            .groups
            .into_iter()
            .map(|g| finding(g, capture, &files))
            .collect();
        findings.sort_by(|a, b| {
            a.severity
                .cmp(&b.severity)
                .then(first_place(a).cmp(&first_place(b)))
                .then(a.id.cmp(b.id))
        });
        findings
    }
}

fn rule_set() -> &'static [Rule] {
    static RULES: std::sync::OnceLock<Vec<Rule>> = std::sync::OnceLock::new();
    RULES.get_or_init(rules::all)
}

/// Whether a connection is about SIP OAuth, so that the rules judge it: a SIP or SIP OAuth port
/// (given, default, or named by a device configuration file), SIP seen in it, CUCM's Tomcat
/// (8443) or its TFTP over HTTP (6970). TLS between other hosts (a browser to a web site on
/// 443, a backup server on 8400) is not CUCM's business.
pub fn in_scope(c: &Connection) -> bool {
    c.port_kind != crate::config::PortKind::Other
        || c.sip_messages > 0
        || matches!(c.server.port, 8443 | 6970)
}

/// Failed TLS on connections out of scope: counted, with the first one as an example, and
/// said in one line.
#[derive(Debug, Default)]
pub struct OutOfScope {
    failed: u64,
    example: Option<String>,
}

impl OutOfScope {
    /// Counts `c` when its TLS failed (a fatal alert, or a handshake that ended unfinished).
    pub fn add(&mut self, c: &Connection) {
        let Some(t) = &c.tls else { return };
        let alert = t.alerts.iter().find(|a| a.is_fatal());
        let aborted = !t.handshake_complete() && c.ended_by.is_some();
        if alert.is_none() && !aborted {
            return;
        }
        self.failed += 1;
        self.example.get_or_insert_with(|| {
            let what = alert.map_or("an unfinished handshake".to_string(), |a| {
                format!("a fatal {} alert from the {}", a.description, a.sent_by)
            });
            format!(
                "{}:{} -> {}:{} (tcp.stream {}, {what})",
                c.client.ip, c.client.port, c.server.ip, c.server.port, c.tcp_stream
            )
        });
    }

    /// The one line that says what was left out, if anything was.
    pub fn note(&self) -> Option<Note> {
        let example = self.example.as_ref()?;
        Some(Note::OutsideScope {
            failed: self.failed,
            example: example.clone(),
        })
    }
}

/// Runs the per-connection rules on one settled connection; returns whether any rule found
/// something in it.
pub fn connection_occurrences(
    c: &Connection,
    cfg: &Config,
    agg: &mut Aggregator,
    undecided: &mut Vec<Note>,
) -> bool {
    let cx = ConnCx { conn: c, cfg };
    let mut claimed = Claimed::default();
    let mut any = false;
    for rule in rule_set() {
        let Rule::Connection(rule) = rule else {
            continue;
        };
        for o in rule.judge(&cx, &mut claimed) {
            agg.add(rule.meta(), o, cfg.max_evidence);
            any = true;
        }
    }
    undecided.extend(claimed.undecided);
    undecided.extend(certificate_request_check(c));
    any
}

/// Runs the capture-level rules (SIP, HTTP, cross-connection) on a window of SIP judged while
/// the capture is read (`facts.sip_window`), or on the last one once the capture is read;
/// returns the frames cited as evidence (the report lists their SIP messages).
pub fn capture_occurrences(
    facts: &CaptureFacts,
    cfg: &Config,
    agg: &mut Aggregator,
    undecided: &mut Vec<Note>,
) -> Vec<At> {
    let cx = Cx { facts, cfg };
    let mut claimed = Claimed::default();
    // Context (a 200 OK judged in an earlier window) is there to compare with, not to judge.
    for t in 0..facts.transactions.len() {
        if facts.is_context(t) {
            claimed.transaction(t);
        }
    }
    let mut cited = Vec::new();
    for rule in rule_set() {
        let Rule::Capture(rule) = rule else {
            continue;
        };
        for (once, o) in rule.judge(&cx, &mut claimed) {
            if let Some(key) = once {
                if !agg.first_time(rule.meta().id, key) {
                    continue;
                }
            }
            cited.extend(agg.add(rule.meta(), o, cfg.max_evidence));
        }
    }
    undecided.extend(claimed.undecided);
    if !facts.sip_more {
        undecided.extend(facts.per_node_notes.iter().cloned());
    }
    cited
}

/// The CertificateRequest's CA list against the issuer of the client certificate that followed.
fn certificate_request_check(c: &Connection) -> Option<Note> {
    let t = c.tls.as_ref()?;
    let req = t.certificate_request.as_ref()?;
    let leaf = t
        .chain_of(Side::Client)
        .and_then(|ch| ch.certificates.first())?;
    (!req.ca_names.is_empty() && !req.ca_names.contains(&leaf.issuer)).then(|| {
        Note::IssuerNotRequested {
            stream: c.tcp_stream,
            issuer: leaf.issuer.clone(),
            names: req.ca_names.len(),
            frame: req.frame,
        }
    })
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

/// Where a finding's first evidence was seen (a finding without evidence last).
fn first_place(f: &Finding) -> (bool, Option<&At>) {
    let first = f.evidence.first().map(|e| &e.place);
    (first.is_none(), first)
}

fn finding(g: Group, capture: usize, files: &Files) -> Finding {
    let Group {
        meta,
        first,
        count: n,
        mut evidence,
        last,
        coarse,
        affected,
        more,
    } = g;
    let devices = affected.len() as u64 + more;
    let mut explanation = capitalize(&first.explanation);
    if n > 1 {
        let with = match (coarse, devices) {
            (0, 1) => "between these endpoints".to_string(),
            (0, d) => format!("with this server, from many clients ({d} clients or devices)"),
            _ => format!(
                "across many clients ({devices}) and servers (the report grouped them to stay bounded)"
            ),
        };
        explanation.push_str(&format!(
            " The same happened {n} times {with} (the last at {}).",
            last.unpack(files)
        ));
    }
    let mut affected: Vec<(Packed, Affected)> = affected
        .into_iter()
        .map(|((address, device), (occurrences, first, last))| {
            let (first_at, last_at) = (first.unpack(files), last.unpack(files));
            let affected = Affected {
                device,
                address,
                occurrences,
                first_frame: first_at.number(),
                last_frame: last_at.number(),
                file: first_at.file().map(str::to_string),
            };
            (first, affected)
        })
        .collect();
    affected.sort_by(|(fa, a), (fb, b)| {
        fa.cmp(fb)
            .then(a.address.cmp(&b.address))
            .then(a.device.cmp(&b.device))
    });
    let affected = affected.into_iter().map(|(_, a)| a).collect();
    evidence.sort_by(|a, b| a.place.cmp(&b.place));
    Finding {
        id: meta.id,
        severity: meta.severity,
        confidence: meta.confidence,
        title: meta.title.to_string(),
        explanation,
        fix: meta.fix.iter().map(|s| s.to_string()).collect(),
        occurrences: n,
        devices,
        affected,
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

pub mod util;

#[cfg(test)]
mod tests {
    use super::util::register_of;
    use super::*;

    #[test]
    fn evidence_cites_a_frame_or_a_line_and_writes_either_as_json() {
        let f = Evidence::frame(17, Ts(0), Some(3), "403".into());
        let l = Evidence::line("jabber.log".into(), 1234, Ts(0), "403".into());
        assert_eq!(f.place.to_string(), "frame 17");
        assert_eq!(l.place.to_string(), "jabber.log:1234");
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
