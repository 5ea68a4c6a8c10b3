//! What each input contributes to the report (its piece), and the report they are merged
//! into, in input order.

use crate::capture::CaptureInfo;
use crate::diagnose::Finding;
use crate::note::Note;
use crate::report::{
    ConnectionEntry, Observer, RegistrationEntry, Report, SipEntry, Summary, Tally, Tool,
    Unreadable, Verdict, SCHEMA_VERSION,
};
use crate::session::{CaptureFacts, Connection};

use super::judge::Judged;
use super::{FailOn, Outcome};

/// What one capture contributes to a report (capture indices are set when it is merged).
pub(super) struct Piece {
    pub(super) info: CaptureInfo,
    pub(super) counts: crate::session::Counts,
    pub(super) findings: Vec<Finding>,
    pub(super) connections: Vec<Connection>,
    pub(super) registrations: Vec<RegistrationEntry>,
    pub(super) sip: Vec<SipEntry>,
    pub(super) sip_total: usize,
    pub(super) notes: Vec<Note>,
    pub(super) tally: Tally,
}

/// A log's piece as the report writes it: no Wireshark filter finds a log line, and the
/// connections a log told of are numbered by their lines (the JSON contract's `tcp_stream`,
/// `first_frame` and `last_frame`, with `file` beside the places that have one).
pub(super) fn as_log(piece: &mut Piece) {
    for f in &mut piece.findings {
        f.wireshark_filter.clear();
    }
    for c in &mut piece.connections {
        if let Some(at) = &c.line {
            let line = at.number();
            (c.tcp_stream, c.first_frame, c.last_frame) = (line, line, line);
        }
    }
}

/// What a judged capture contributes to the report.
pub(super) fn piece_of(label: &str, judged: Judged) -> Piece {
    let Judged {
        mut facts,
        findings,
        notes,
    } = judged;
    let registrations = std::mem::take(&mut facts.device_registrations)
        .into_iter()
        .map(|registration| RegistrationEntry {
            capture: 0,
            registration,
        })
        .collect();
    let sip = std::mem::take(&mut facts.sip_listing)
        .into_sorted()
        .into_iter()
        .map(|m| SipEntry {
            capture: 0,
            credentials: m.credentials().collect(),
            file: m.at.file().map(str::to_string),
            message: m,
            also: None,
        })
        .collect();
    let tally = tally_of(&facts, &notes);
    Piece {
        tally,
        counts: std::mem::take(&mut facts.counts),
        info: (facts.info.clone()).unwrap_or_else(|| CaptureInfo::named(label, "unknown")),
        findings,
        connections: facts.connections,
        registrations,
        sip,
        sip_total: facts.sip_total as usize,
        notes,
    }
}

/// A report with nothing in it yet but `notes`.
pub(super) fn empty_report(notes: Vec<Note>) -> Report {
    Report {
        schema_version: SCHEMA_VERSION,
        tool: Tool {
            name: env!("CARGO_PKG_NAME"),
            version: env!("CARGO_PKG_VERSION"),
        },
        captures: Vec::new(),
        findings: Vec::new(),
        connections: Vec::new(),
        registrations: Vec::new(),
        sip: Vec::new(),
        notes,
        unreadable: Vec::new(),
        verdict: Verdict::Inconclusive,
        verdict_reasons: Vec::new(),
        summary: Summary::default(),
        connections_analyzed: Vec::new(),
        tallies: Vec::new(),
        counts: Vec::new(),
    }
}

/// What one capture contributes to the verdict.
pub(super) fn tally_of(facts: &CaptureFacts, notes: &[Note]) -> Tally {
    let registered = facts.registered;
    Tally {
        frames: facts.info.as_ref().map_or(0, |i| i.frames),
        connections: facts.connections.len() as u64 + facts.connections_not_listed,
        sip_port_connections: facts.sip_port_connections,
        sip_messages: facts.sip_total,
        undecrypted: facts.undecrypted_sip_connections,
        partly_decrypted: facts.partly_decrypted_sip_connections,
        registered,
        // Limits of the analysis, not of the listing (a listing limit changes no verdict).
        limits: notes.iter().filter_map(Note::limit).take(3).collect(),
    }
}

/// Adds one capture's piece to the report, telling `obs`.
pub(super) fn merge(
    report: &mut Report,
    unreadable: &mut Vec<String>,
    tally: &mut Tally,
    path: &str,
    result: Result<Piece, crate::capture::CaptureError>,
    multi: bool,
    obs: &mut dyn Observer,
) {
    let piece = match result {
        Ok(p) => p,
        Err(e) => {
            obs.unreadable(path, &e.to_string());
            report.notes.push(Note::Unreadable {
                error: e.to_string(),
            });
            report.unreadable.push(Unreadable {
                input: path.to_string(),
                error: e.to_string(),
                holds_evidence: true,
            });
            unreadable.push(e.to_string());
            return;
        }
    };
    tally.add(&piece.tally);
    report.connections_analyzed.push(piece.tally.connections);
    report.tallies.push(piece.tally.clone());
    report.counts.push(piece.counts);
    let idx = report.captures.len();
    let first = report.findings.len();
    let (first_registration, first_sip) = (report.registrations.len(), report.sip.len());
    report
        .findings
        .extend(piece.findings.into_iter().map(|mut f| {
            f.capture = idx;
            f
        }));
    report
        .connections
        .extend(piece.connections.into_iter().map(|c| ConnectionEntry {
            capture: idx,
            connection: c,
        }));
    report
        .registrations
        .extend(piece.registrations.into_iter().map(|mut r| {
            r.capture = idx;
            r
        }));
    report.sip.extend(piece.sip.into_iter().map(|mut m| {
        m.capture = idx;
        m
    }));
    // Among several inputs, each note says which it is of.
    let of = |n: Note| if multi { n.of(path) } else { n };
    let listed = report.sip.len() - first_sip;
    if piece.sip_total > listed {
        report.notes.push(of(Note::SipListed {
            listed,
            total: piece.sip_total,
            first: crate::session::sipflow::LISTED_FIRST,
        }));
    }
    report
        .notes
        .extend(piece.notes.iter().map(|n| of(n.clone())));
    let devices: Vec<&str> = report.registrations[first_registration..]
        .iter()
        .map(|r| r.device.as_str())
        .chain(
            report.sip[first_sip..]
                .iter()
                .filter_map(|m| m.device.as_deref()),
        )
        .collect();
    let warnings: Vec<String> = report.sip[first_sip..]
        .iter()
        .filter_map(|m| m.warnings.first().map(|w| w.to_string()))
        .collect();
    let warnings: Vec<&str> = warnings.iter().map(String::as_str).collect();
    obs.names_seen(&devices, &warnings);
    obs.capture_finished(idx, &piece.info, &report.findings[first..], &piece.notes);
    report.captures.push(piece.info);
}

/// Adds each capture's piece to the report in input order, telling the observer.
pub(super) struct Merger<'o> {
    pub(super) report: Report,
    pub(super) unreadable: Vec<String>,
    pub(super) tally: Tally,
    pub(super) multi: bool,
    pub(super) obs: &'o mut dyn Observer,
}

impl Merger<'_> {
    /// The report in order, with its verdict and summary under `fail_on`.
    pub(super) fn finish(self, fail_on: FailOn) -> Outcome {
        let Merger {
            mut report,
            unreadable,
            mut tally,
            ..
        } = self;
        super::timeline::merge(&mut report, &mut tally);
        crate::report::order_by_impact(&mut report.findings);
        super::conclude(&mut report, &tally, fail_on);
        Outcome {
            report,
            unreadable,
            tally,
        }
    }

    pub(super) fn add(&mut self, path: &str, result: Result<Piece, crate::capture::CaptureError>) {
        merge(
            &mut self.report,
            &mut self.unreadable,
            &mut self.tally,
            path,
            result,
            self.multi,
            self.obs,
        );
    }
}
