//! Reporters: every output format renders the same [`Report`], behind one trait.

pub mod catalogue;
mod html;
mod json;
pub mod jsonl;
mod junit;
pub mod ladder;
mod markdown;
pub mod model;
pub mod notes;
pub mod redact;
mod text;

pub use html::Html;
pub use json::Json;
pub use junit::{xml as xml_escape, Junit};
pub use markdown::Markdown;
pub use text::Text;

pub use model::{
    schema, ConnectionEntry, RegistrationEntry, Report, SipEntry, Summary, Tally, Tool, Unreadable,
    Verdict, SCHEMA_VERSION,
};

use crate::capture::CaptureInfo;
use crate::diagnose::Finding;

/// Renders a report.
pub trait Reporter {
    /// Writes the report.
    fn render(&self, report: &Report, out: &mut dyn std::io::Write) -> std::io::Result<()>;
}

/// Follows an analysis as it goes (for reports written while reading, such as JSON Lines).
pub trait Observer {
    /// A capture is about to be read.
    fn capture_started(&mut self, _index: usize, _path: &str) {}
    /// A connection ended (while reading), or the capture ended with it still open.
    fn connection(&mut self, _entry: &ConnectionEntry) {}
    /// A capture was read and diagnosed.
    fn capture_finished(
        &mut self,
        _index: usize,
        _info: &CaptureInfo,
        _findings: &[Finding],
        _notes: &[crate::note::Note],
    ) {
    }
    /// The device names and SIP Warning texts a capture showed, told just before
    /// [`Observer::capture_finished`] (a redacting stream learns them here).
    fn names_seen(&mut self, _devices: &[&str], _warnings: &[&str]) {}
    /// An input could not be read at all.
    fn unreadable(&mut self, _path: &str, _why: &str) {}
    /// The findings of capture `index` as they stand at capture time `now`, each time the
    /// analysis judged more (a stream tells each one as soon as it is certain).
    fn judged(
        &mut self,
        _index: usize,
        _findings: &crate::diagnose::Aggregator,
        _now: crate::time::Ts,
    ) {
    }
    /// Whether it needs each connection as it ends (then several captures are read one after
    /// another, so that events stay in order; otherwise each gets a thread).
    fn wants_connections(&self) -> bool {
        false
    }
}

/// The cells a table of evidence shows for where it was seen: the frame number (or
/// `file:line`) and the tcp.stream (`udp` for a frame outside TCP, `log` for a line).
pub fn evidence_cells(e: &crate::diagnose::Evidence) -> (String, String) {
    match &e.place {
        crate::place::At::Frame(number) => (
            number.to_string(),
            e.tcp_stream.map_or("udp".into(), |s| s.to_string()),
        ),
        line => (line.to_string(), "log".into()),
    }
}

/// The verdict in one line, as every format opens with it: `failure: 1 error(s), first:
/// unknown-ca-from-ucm (…)`, `ok: …` or `inconclusive: <reasons>`.
pub fn verdict_line(r: &Report) -> String {
    let (_, w, _) = counts(r);
    match r.verdict {
        Verdict::Failure => {
            let first = r
                .findings
                .iter()
                .find(|f| f.severity == crate::diagnose::Severity::Error)
                .map(|f| format!("; first: {} ({})", f.title, f.id))
                .unwrap_or_default();
            let incomplete = if r.verdict_reasons.is_empty() {
                String::new()
            } else {
                format!(" ({})", r.verdict_reasons.join("; "))
            };
            let errors = count_phrase(r, crate::diagnose::Severity::Error, "error");
            format!("failure: {errors}{first}{incomplete}")
        }
        Verdict::Ok => {
            let warn = if w > 0 {
                format!(
                    ", {}",
                    count_phrase(r, crate::diagnose::Severity::Warning, "warning")
                )
            } else {
                String::new()
            };
            format!("ok: registrations were seen to succeed and nothing failed{warn}")
        }
        Verdict::Inconclusive => format!("inconclusive: {}", r.verdict_reasons.join("; ")),
    }
}

/// One row of the summary table every report opens with: a finding id across its nodes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SummaryRow {
    /// Finding id.
    pub id: &'static str,
    /// Its severity.
    pub severity: crate::diagnose::Severity,
    /// Clients or devices affected, each once over its nodes and captures.
    pub devices: u64,
    /// Events.
    pub occurrences: u64,
    /// Distinct nodes (servers) it concerns.
    pub nodes: usize,
    /// Its first evidence frame, if any.
    pub first_frame: Option<u64>,
    /// Its first `file:line`, when it comes from a log.
    pub first_line: Option<String>,
}

impl SummaryRow {
    /// Where it was first seen: a frame number or `file:line`, or `-`.
    pub fn first_place(&self) -> String {
        match (self.first_frame, &self.first_line) {
            (Some(f), _) => f.to_string(),
            (None, Some(l)) => l.clone(),
            (None, None) => "-".into(),
        }
    }
}

/// Whether a capture entry is a log read as one (Jabber, CUCM SDL, Expressway).
pub fn is_log(c: &crate::capture::CaptureInfo) -> bool {
    use crate::logs::LogKind;
    LogKind::ALL.iter().any(|k| k.name() == c.format)
}

/// The summary table: one row per finding id, in report order.
pub fn summary_rows(r: &Report) -> Vec<SummaryRow> {
    let mut rows: Vec<SummaryRow> = Vec::new();
    let mut nodes: Vec<Vec<(std::net::IpAddr, usize)>> = Vec::new();
    for f in &r.findings {
        let first = f.evidence.iter().filter_map(|e| e.place.frame()).min();
        let first_line = f
            .evidence
            .iter()
            .find(|e| e.place.is_line())
            .map(|e| e.place.to_string());
        let node = (f.server.ip, f.capture);
        match rows.iter().position(|x| x.id == f.id) {
            Some(i) => {
                let row = &mut rows[i];
                row.devices += f.devices;
                row.occurrences += f.occurrences;
                row.first_frame = match (row.first_frame, first) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                if !nodes[i].contains(&node) {
                    nodes[i].push(node);
                }
                row.nodes = nodes[i].len();
            }
            None => {
                rows.push(SummaryRow {
                    id: f.id,
                    severity: f.severity,
                    devices: f.devices,
                    occurrences: f.occurrences,
                    nodes: 1,
                    first_frame: first,
                    first_line,
                });
                nodes.push(vec![node]);
            }
        }
    }
    for row in &mut rows {
        row.devices = distinct_devices(r.findings.iter().filter(|f| f.id == row.id));
    }
    rows
}

/// The earlier finding that finding `i` repeats on another node: the same capture, id, server
/// port, alert and SIP answer. Text and Markdown then show the repeat in a few lines (what
/// happened and the fix are as for the first); JSON and HTML keep every finding whole.
pub fn repeats(r: &Report, i: usize) -> Option<usize> {
    let f = r.findings.get(i)?;
    let kind = |g: &crate::diagnose::Finding| {
        (
            g.capture,
            g.id,
            g.server.port,
            g.tls_alert.as_ref().map(|a| a.code),
            g.sip.as_ref().map(|s| s.status),
        )
    };
    r.findings[..i].iter().position(|g| kind(g) == kind(f))
}

/// The capture a finding came from, when the report covers more than one.
pub fn capture_of<'a>(r: &'a Report, f: &crate::diagnose::Finding) -> Option<&'a str> {
    (r.captures.len() > 1).then(|| r.captures.get(f.capture).map_or("?", |c| c.path.as_str()))
}

/// The first `n` evidence frames of a finding, and how many more there are.
pub fn some_frames(f: &crate::diagnose::Finding, n: usize) -> String {
    let cites: Vec<String> = f.evidence.iter().map(|e| e.place.to_string()).collect();
    crate::words::some_of(&cites, n)
}

/// The first `n` affected clients or devices of a finding, and how many more there are:
/// `CSFa (10.0.0.1, frame 12), 10.0.0.2 (frame 40) and 17 more`; `escape` is applied to each.
pub fn some_affected(
    f: &crate::diagnose::Finding,
    n: usize,
    escape: impl Fn(&str) -> String,
) -> String {
    let shown: Vec<String> = f
        .affected
        .iter()
        .take(n)
        .map(|a| escape(&affected_line(a)))
        .collect();
    let more = f.devices.saturating_sub(shown.len() as u64);
    if more > 0 {
        format!("{} and {more} more", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

/// `CSFrado (10.10.20.51, 3 times, frames 12-40)`: one affected client or device.
pub fn affected_line(a: &crate::diagnose::Affected) -> String {
    let who = match &a.device {
        Some(d) => format!("{d} ({}", a.address),
        None => format!("{} (", a.address),
    };
    let sep = if a.device.is_some() { ", " } else { "" };
    let frames = match (&a.file, a.first_frame == a.last_frame) {
        (Some(file), true) => format!("{file}:{}", a.first_frame),
        (Some(file), false) => format!("{file}:{}-{}", a.first_frame, a.last_frame),
        (None, true) => format!("frame {}", a.first_frame),
        (None, false) => format!("frames {}-{}", a.first_frame, a.last_frame),
    };
    let times = if a.occurrences == 1 {
        String::new()
    } else {
        format!("{} times, ", a.occurrences)
    };
    format!("{who}{sep}{times}{frames})")
}

/// Findings per severity: (errors, warnings, info).
pub fn counts(r: &Report) -> (usize, usize, usize) {
    use crate::diagnose::Severity;
    let n = |s: Severity| r.findings.iter().filter(|f| f.severity == s).count();
    (n(Severity::Error), n(Severity::Warning), n(Severity::Info))
}

/// An input's own verdict in a phrase, when the run read more than one input:
/// `ok`, `failure`, `inconclusive: <reasons>`.
pub fn capture_verdict(r: &Report, c: &crate::capture::CaptureInfo) -> Option<String> {
    if r.captures.len() < 2 {
        return None;
    }
    let v = c.verdict?;
    Some(
        if c.verdict_reasons.is_empty() || v != Verdict::Inconclusive {
            v.as_str().to_string()
        } else {
            format!("{}: {}", v.as_str(), c.verdict_reasons.join("; "))
        },
    )
}

/// `9 error findings of 4 kinds, 0 warnings, 3 info`: each severity's findings, with their
/// kinds when kinds repeat over nodes or captures.
pub fn findings_phrase(r: &Report) -> String {
    use crate::diagnose::Severity;
    format!(
        "{}, {}, {}",
        count_phrase(r, Severity::Error, "error"),
        count_phrase(r, Severity::Warning, "warning"),
        count_phrase(r, Severity::Info, "info")
    )
}

/// Findings of one severity, and how many kinds (ids) they are: a finding is one id on one
/// node of one capture, so a kind seen by three nodes is three findings.
pub fn kinds(r: &Report, severity: crate::diagnose::Severity) -> (usize, usize) {
    let of: Vec<&crate::diagnose::Finding> = r
        .findings
        .iter()
        .filter(|f| f.severity == severity)
        .collect();
    let mut ids: Vec<&str> = of.iter().map(|f| f.id).collect();
    ids.sort_unstable();
    ids.dedup();
    (of.len(), ids.len())
}

/// `3 errors`, or `9 error findings of 4 kinds` when kinds repeat over nodes or captures.
pub fn count_phrase(r: &Report, severity: crate::diagnose::Severity, word: &str) -> String {
    let (n, k) = kinds(r, severity);
    let plural = |n: usize, w: &str| {
        if n == 1 || w.ends_with("info") {
            format!("{n} {w}")
        } else {
            format!("{n} {w}s")
        }
    };
    if n == k {
        plural(n, word)
    } else {
        format!(
            "{} of {}",
            plural(n, &format!("{word} finding")),
            plural(k, "kind")
        )
    }
}

/// The clients or devices a set of findings affects, each counted once (a device two nodes
/// saw is one device): by name when the finding names it, else by address. Findings that
/// list nobody count what they say.
pub fn distinct_devices<'a>(findings: impl Iterator<Item = &'a crate::diagnose::Finding>) -> u64 {
    let mut seen: std::collections::HashSet<String> = std::collections::HashSet::new();
    let mut unlisted = 0;
    for f in findings {
        if f.affected.is_empty() {
            unlisted += f.devices;
            continue;
        }
        for a in &f.affected {
            seen.insert(match &a.device {
                Some(d) => format!("d:{d}"),
                None => format!("a:{}", a.address),
            });
        }
    }
    seen.len() as u64 + unlisted
}

/// Orders findings by impact, the order of the summary table and of the verdict's headline:
/// by kind (id), errors before warnings before information, certain before likely, then the
/// kind's devices (each once), then its occurrences, then where it was first seen; within a
/// kind, the finding with the most devices and occurrences first.
pub fn order_by_impact(findings: &mut [crate::diagnose::Finding]) {
    use crate::diagnose::Confidence;
    use std::cmp::Reverse;
    let mut ids: Vec<&'static str> = findings.iter().map(|f| f.id).collect();
    ids.sort_unstable();
    ids.dedup();
    let first = |f: &crate::diagnose::Finding| {
        (
            f.capture,
            f.evidence
                .iter()
                .filter_map(|e| e.place.frame())
                .min()
                .unwrap_or(u64::MAX),
        )
    };
    let rank: std::collections::HashMap<&'static str, _> = ids
        .into_iter()
        .map(|id| {
            let of = || findings.iter().filter(move |f| f.id == id);
            let severity = of().map(|f| f.severity).min();
            let certain = of().any(|f| f.confidence == Confidence::Certain);
            let devices = distinct_devices(of());
            let occurrences: u64 = of().map(|f| f.occurrences).sum();
            let place = of().map(first).min();
            (
                id,
                (
                    severity,
                    !certain,
                    Reverse(devices),
                    Reverse(occurrences),
                    place,
                    id,
                ),
            )
        })
        .collect();
    findings.sort_by(|a, b| {
        rank[a.id]
            .cmp(&rank[b.id])
            .then(Reverse(a.devices).cmp(&Reverse(b.devices)))
            .then(Reverse(a.occurrences).cmp(&Reverse(b.occurrences)))
            .then(first(a).cmp(&first(b)))
    });
}

/// `unknown_ca (48), fatal, sent by the server`.
pub fn alert_line(a: &crate::diagnose::AlertRef) -> String {
    format!(
        "{} ({}), {}, sent by the {}",
        a.description, a.code, a.level, a.sent_by
    )
}

/// What the offline trust check says, in a phrase.
pub fn trust_line(t: &crate::trust::TrustResult) -> String {
    if t.verified {
        "the chain verifies".to_string()
    } else if let Some(ca) = &t.missing_ca {
        format!("the chain does not verify; missing CA: {ca}")
    } else {
        format!(
            "the chain does not verify: {}",
            t.reason.as_deref().unwrap_or("unknown reason")
        )
    }
}

/// What a finding's trust check judges, in a sentence: whose certificate was checked, against
/// the bundle given (the trust of whoever exported it, not necessarily of the party that
/// refused), and, when the two disagree, why both hold.
pub fn trust_sentence(f: &crate::diagnose::Finding, t: &crate::trust::TrustResult) -> String {
    use crate::diagnose::util::role_name;
    use crate::net::Side;
    let refused_by = f.tls_alert.as_ref().map(|a| match a.sent_by {
        Side::Client => (role_name(f.client.role), role_name(f.server.role)),
        Side::Server => (role_name(f.server.role), role_name(f.client.role)),
    });
    let whose = refused_by.as_ref().map_or_else(
        || "the certificate".to_string(),
        |(_, other)| format!("{other}'s certificate"),
    );
    let mut s = format!(
        "{whose} checked against the bundle given ({}, the trust of whoever exported it): {}",
        t.bundle,
        trust_line(t)
    );
    let unknown_ca = f
        .tls_alert
        .as_ref()
        .is_some_and(|a| a.description == "unknown_ca");
    if let (true, true, Some((refuser, _))) = (t.verified, unknown_ca, refused_by) {
        s.push_str(&format!(
            ". Both hold: the bundle has the CA, but {refuser} does not trust it, so {refuser}'s \
             own trust store is not this bundle (or lacks the CA it has)"
        ));
    }
    s
}

/// A fix step that is a remark, not an action (`Note: ...`): shown without a number or a
/// checkbox. Returns the remark's text.
pub fn remark(step: &str) -> Option<&str> {
    step.strip_prefix("Note: ")
}

/// Notes of a report, merged and sorted for people: each distinct note once, with where it
/// was seen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteGroup {
    /// The note (for a repeated one: its text with the place left out, and where it was seen).
    pub text: String,
    /// Something observed in the capture (not a finding) rather than something that could not
    /// be seen or decoded, or a limit.
    pub observed: bool,
}

/// The notes of `r` in the sections every report shows, each with its heading: what was also
/// observed, then what could not be seen or decoded (and limits). Empty sections are left out.
pub fn note_sections(r: &Report) -> Vec<(&'static str, Vec<String>)> {
    let groups = note_groups(&r.notes);
    [
        (true, "Also observed (not findings)"),
        (false, "What could not be seen or decoded, and limits"),
    ]
    .into_iter()
    .map(|(observed, heading)| {
        let these: Vec<String> = groups
            .iter()
            .filter(|g| g.observed == observed)
            .map(|g| g.text.clone())
            .collect();
        (heading, these)
    })
    .filter(|(_, these)| !these.is_empty())
    .collect()
}

/// Distinct notes of one kind shown one by one at most; past it the kind is one line.
pub const KIND_SHOWN: usize = 3;

/// The notes of `r`, each distinct text once: a note repeated per capture or per tcp.stream is
/// merged into one line that names where it was seen, and a kind said in more than
/// [`KIND_SHOWN`] ways into one line with its first note and the count (the JSON keeps every
/// note as it is).
pub fn note_groups(notes: &[crate::note::Note]) -> Vec<NoteGroup> {
    struct Seen {
        body: String,
        original: String,
        kind: &'static str,
        observed: bool,
        captures: Vec<String>,
        streams: Vec<String>,
        count: usize,
    }
    let mut groups: Vec<Seen> = Vec::new();
    for note in notes {
        let text = note.inner().to_string();
        let capture = note.named_input().map(str::to_string);
        let stream = note.stream();
        let body = stream
            .and_then(|s| text.strip_prefix(&format!("tcp.stream {s}: ")))
            .unwrap_or(&text);
        let stream = stream.map(|s| s.to_string());
        let observed = note.class() == crate::note::Class::Observed;
        match groups.iter_mut().find(|g| g.body == body) {
            Some(g) => {
                g.count += 1;
                g.captures
                    .extend(capture.filter(|c| !g.captures.contains(c)));
                g.streams.extend(stream.filter(|s| !g.streams.contains(s)));
            }
            None => groups.push(Seen {
                body: body.to_string(),
                original: note.to_string(),
                kind: note.kind(),
                observed,
                captures: capture.into_iter().collect(),
                streams: stream.into_iter().collect(),
                count: 1,
            }),
        }
    }
    let list = |what: &str, items: &[String]| format!("{what} {}", crate::words::some_of(items, 4));
    // A kind said more than a few ways (bytes missing on each of many connections) is one
    // line: its first note, and how many more there are and where.
    let mut by_kind: Vec<(&'static str, usize)> = Vec::new();
    for g in &groups {
        match by_kind.iter_mut().find(|k| k.0 == g.kind) {
            Some(k) => k.1 += 1,
            None => by_kind.push((g.kind, 1)),
        }
    }
    let many = |kind: &str| by_kind.iter().any(|k| k.0 == kind && k.1 > KIND_SHOWN);
    let mut merged: Vec<Seen> = Vec::new();
    for g in groups {
        match merged.iter_mut().find(|m| m.kind == g.kind && many(g.kind)) {
            Some(m) => {
                m.count += g.count;
                for c in g.captures {
                    if !m.captures.contains(&c) {
                        m.captures.push(c);
                    }
                }
                for s in g.streams {
                    if !m.streams.contains(&s) {
                        m.streams.push(s);
                    }
                }
            }
            None => merged.push(g),
        }
    }
    merged
        .into_iter()
        .map(|g| {
            if many(g.kind) && g.count > 1 {
                let mut places = Vec::new();
                if g.streams.len() > 1 {
                    places.push(list("tcp.streams", &g.streams[1..]));
                }
                if g.captures.len() > 1 {
                    places.push(list("captures", &g.captures[1..]));
                }
                let places = if places.is_empty() {
                    String::new()
                } else {
                    format!(", in {}", places.join("; "))
                };
                return NoteGroup {
                    observed: g.observed,
                    text: format!("{} (and {} more like it{places})", g.original, g.count - 1),
                };
            }
            let text = if g.count == 1 {
                g.original
            } else {
                let mut places = Vec::new();
                if g.streams.len() > 1 {
                    places.push(list("tcp.streams", &g.streams));
                }
                if g.captures.len() > 1 {
                    places.push(list(
                        &format!("{} captures:", g.captures.len()),
                        &g.captures,
                    ));
                }
                let places = if places.is_empty() {
                    String::new()
                } else {
                    format!("; in {}", places.join("; "))
                };
                format!("{} ({} times{places})", g.body, g.count)
            };
            NoteGroup {
                observed: g.observed,
                text,
            }
        })
        .collect()
}

/// One node's registrations at a glance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeGlance {
    /// The node (CUCM, or Expressway-C toward it).
    pub node: std::net::IpAddr,
    /// Devices (or clients, by address) its findings name.
    pub devices: u64,
    /// Of those, devices seen registered there.
    pub registered: u64,
    /// Failing devices by finding id (errors and warnings), the widest first.
    pub failing: Vec<(&'static str, u64)>,
}

/// A capture's registrations at a glance: how many devices, how many registered, how many
/// failing and why, per node; the failing devices first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Glance {
    /// Devices seen (registrations and the clients findings name, each once).
    pub devices: u64,
    /// Devices seen registered.
    pub registered: u64,
    /// Devices with a failing finding (error or warning).
    pub failing: u64,
    /// Failing devices by finding id, the widest first.
    pub by_id: Vec<(&'static str, u64)>,
    /// Per node.
    pub nodes: Vec<NodeGlance>,
    /// Each failing device with its finding ids, in report order.
    pub failing_devices: Vec<(String, Vec<&'static str>)>,
}

/// Registrations at a glance for capture `i` (from its findings' affected devices and its
/// registrations; JSON holds every device whole).
pub fn glance(r: &Report, i: usize) -> Glance {
    use crate::diagnose::Severity;
    use std::collections::{BTreeMap, BTreeSet};
    let name = |a: &crate::diagnose::Affected| match &a.device {
        Some(d) => d.clone(),
        None => a.address.to_string(),
    };
    let mut seen: BTreeSet<String> = r
        .registrations
        .iter()
        .filter(|e| e.capture == i)
        .map(|e| e.device.clone())
        .collect();
    let mut registered: BTreeSet<String> = BTreeSet::new();
    let mut failing: Vec<(String, Vec<&'static str>)> = Vec::new();
    let mut failing_at: BTreeMap<String, usize> = BTreeMap::new();
    type PerNode = (
        BTreeSet<String>,
        BTreeSet<String>,
        BTreeMap<&'static str, BTreeSet<String>>,
    );
    let mut nodes: BTreeMap<std::net::IpAddr, PerNode> = BTreeMap::new();
    let mut by_id: BTreeMap<&'static str, BTreeSet<String>> = BTreeMap::new();
    for f in r.findings.iter().filter(|f| f.capture == i) {
        let node = nodes.entry(f.server.ip).or_default();
        for a in &f.affected {
            let d = name(a);
            seen.insert(d.clone());
            node.0.insert(d.clone());
            if f.id == "oauth-registration-ok" {
                registered.insert(d.clone());
                node.1.insert(d);
            } else if f.severity != Severity::Info {
                node.2.entry(f.id).or_default().insert(d.clone());
                by_id.entry(f.id).or_default().insert(d.clone());
                match failing_at.get(&d) {
                    Some(&k) => {
                        if !failing[k].1.contains(&f.id) {
                            failing[k].1.push(f.id);
                        }
                    }
                    None => {
                        failing_at.insert(d.clone(), failing.len());
                        failing.push((d, vec![f.id]));
                    }
                }
            }
        }
    }
    let widest = |m: BTreeMap<&'static str, BTreeSet<String>>| {
        let mut v: Vec<(&'static str, u64)> =
            m.into_iter().map(|(k, s)| (k, s.len() as u64)).collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        v
    };
    Glance {
        devices: seen.len() as u64,
        registered: registered.len() as u64,
        failing: failing.len() as u64,
        by_id: widest(by_id),
        nodes: nodes
            .into_iter()
            .filter(|(_, n)| !n.0.is_empty())
            .map(|(node, (devices, registered, failing))| NodeGlance {
                node,
                devices: devices.len() as u64,
                registered: registered.len() as u64,
                failing: widest(failing),
            })
            .collect(),
        failing_devices: failing,
    }
}

/// The glance's heading and counts: `Registrations (input 2)` (the input named only when a
/// run read several) and `3000 device(s), 2401 registered, 599 failing`.
pub fn glance_heading(r: &Report, i: usize, g: &Glance) -> (String, String) {
    let of = if r.captures.len() > 1 {
        format!(" (input {})", i + 1)
    } else {
        String::new()
    };
    (
        format!("Registrations{of}"),
        format!(
            "{} device(s), {} registered, {} failing",
            g.devices, g.registered, g.failing
        ),
    )
}

/// `oauth-port-mismatch 306, oauth-port-closed 150`.
pub fn failing_phrase(by_id: &[(&'static str, u64)]) -> String {
    by_id
        .iter()
        .map(|(id, n)| format!("{id} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}
