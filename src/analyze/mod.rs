//! The library's one call: captures in, [`Report`] out.

use std::collections::BTreeMap;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use crate::capture::{read_capture, CaptureInfo};
use crate::config::Config;
use crate::diagnose::{capture_occurrences, connection_occurrences, Aggregator, Finding};
use crate::inputs::{expand, Expanded, Input};
use crate::report::{
    ConnectionEntry, Observer, RegistrationEntry, Report, SipEntry, Summary, Tally, Tool,
    Unreadable, Verdict, SCHEMA_VERSION,
};
use crate::session::{Analyzer, CaptureFacts, Connection};

mod timeline;

/// SIP messages listed per capture in a report.
pub const MAX_SIP_IN_REPORT: usize = 2_000;

/// The outcome of [`analyze`]: the report and the inputs that could not be read at all.
pub struct Outcome {
    /// The report over every capture that could be read.
    pub report: Report,
    /// Inputs that could not be read at all, with the reason.
    pub unreadable: Vec<String>,
    /// What the captures showed that the verdict rests on.
    pub tally: Tally,
}

/// What makes the exit code 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailOn {
    /// A finding of severity error (the verdict is `failure`).
    Error,
    /// A finding of severity error or warning.
    Warning,
    /// A verdict other than `ok`: `failure` or `inconclusive`.
    Inconclusive,
    /// Nothing (2 still means nothing could be read).
    Never,
}

/// The exit code of a report under a policy: 2 when no capture could be read at all, 1 when the
/// policy says so, else 0.
pub fn exit_code(report: &Report, fail_on: FailOn) -> u8 {
    if report.captures.is_empty() {
        return 2;
    }
    let worst = report.findings.iter().map(|f| f.severity).min();
    use crate::diagnose::Severity;
    let fails = match fail_on {
        FailOn::Never => false,
        FailOn::Error => worst == Some(Severity::Error),
        FailOn::Warning => matches!(worst, Some(Severity::Error | Severity::Warning)),
        FailOn::Inconclusive => report.verdict != crate::report::Verdict::Ok,
    };
    u8::from(fails)
}

/// Sets the verdict, its reasons and the summary (with the exit code under `fail_on`).
pub fn conclude(report: &mut Report, tally: &Tally, fail_on: FailOn) {
    let (e, w, i) = crate::report::counts(report);
    let (mut verdict, mut reasons) = tally.verdict(e);
    // What was not read was not judged: "ok" needs every input read to its end. A failure
    // stays a failure, and says what it could not see.
    let unread: Vec<String> = report
        .unreadable
        .iter()
        .filter(|u| u.holds_evidence)
        .map(|u| {
            format!(
                "an input could not be read, so what it holds was not judged: {}",
                u.error
            )
        })
        .chain(report.captures.iter().filter_map(cut_short))
        .collect();
    not_read_through(&mut verdict, &mut reasons, unread);
    report.verdict = verdict;
    report.verdict_reasons = reasons;
    // Each input's own verdict, from what it showed and what was found in it.
    for i in 0..report.captures.len() {
        let Some(t) = report.tallies.get(i) else {
            continue;
        };
        let errors = report
            .findings
            .iter()
            .filter(|f| f.capture == i && f.severity == crate::diagnose::Severity::Error)
            .count();
        let (mut v, mut why) = t.verdict(errors);
        let cut = cut_short(&report.captures[i]).into_iter().collect();
        not_read_through(&mut v, &mut why, cut);
        report.captures[i].verdict = Some(v);
        report.captures[i].verdict_reasons = why;
    }
    report.summary = Summary {
        captures: report.captures.len(),
        errors: e,
        warnings: w,
        info: i,
        verdict,
        exit_code: 0,
        connections: tally.connections,
        sip_messages: tally.sip_messages,
    };
    report.summary.exit_code = exit_code(report, fail_on);
}

/// Why an input read only in part leaves its end unjudged (a capture cut short, damaged).
fn cut_short(c: &CaptureInfo) -> Option<String> {
    c.stopped.as_ref().map(|why| {
        format!(
            "reading stopped before the end of an input, so what followed was not judged: {why}"
        )
    })
}

/// An "ok" becomes inconclusive when something was not read through; the reasons say what,
/// first.
fn not_read_through(
    verdict: &mut crate::report::Verdict,
    reasons: &mut Vec<String>,
    unread: Vec<String>,
) {
    if unread.is_empty() {
        return;
    }
    if *verdict == crate::report::Verdict::Ok {
        *verdict = crate::report::Verdict::Inconclusive;
    }
    reasons.splice(0..0, unread);
}

/// Analyzes one capture file (or `-`) into its facts, by the same path as [`analyze`].
pub fn facts_of(path: &str, cfg: &Config) -> Result<CaptureFacts, crate::capture::CaptureError> {
    Ok(judge(cfg, |a| read_capture(path, a), &mut |_| {})?.facts)
}

struct Quiet;
impl Observer for Quiet {}

/// Analyzes captures in order; one unreadable file does not stop the others.
pub fn analyze(paths: &[String], cfg: &Config) -> Outcome {
    analyze_with(paths, cfg, &mut Quiet)
}

/// What one capture contributes to a report (capture indices are set when it is merged).
struct Piece {
    info: CaptureInfo,
    counts: crate::session::Counts,
    findings: Vec<Finding>,
    connections: Vec<Connection>,
    registrations: Vec<RegistrationEntry>,
    sip: Vec<SipEntry>,
    sip_total: usize,
    notes: Vec<String>,
    tally: Tally,
}

/// One capture read and judged: what it showed, what the rules found, and the notes (what
/// could not be seen or decided, limits).
pub struct Judged {
    /// The facts the capture showed.
    pub facts: CaptureFacts,
    /// The findings, in report order.
    pub findings: Vec<Finding>,
    /// The capture's notes followed by what the rules could not decide (bounded).
    pub notes: Vec<String>,
}

/// What a caller sees while a capture is judged, besides the report at the end (a live
/// sensor's events and metrics).
pub trait Hooks {
    /// A connection was settled (it ended, went idle, or the table was full).
    fn connection(&mut self, _c: &Connection) {}
    /// A window of SIP was judged: its messages, transactions and registrations (`sip_context`
    /// marks messages judged in an earlier window).
    fn window(&mut self, _facts: &CaptureFacts) {}
    /// The findings may have changed (a connection or a window was judged, or time went on),
    /// at capture time `now`.
    fn judged(&mut self, _findings: &Aggregator, _now: crate::time::Ts) {}
    /// Something the rules could not decide about a connection or a window just judged (the
    /// report lists it among its notes at the end).
    fn note(&mut self, _text: &str) {}
}

/// [`Hooks`] that only watch connections.
struct OnConn<'f>(&'f mut dyn FnMut(&Connection));

impl Hooks for OnConn<'_> {
    fn connection(&mut self, c: &Connection) {
        (self.0)(c);
    }
}

/// The one diagnosis path: the capture reader `read` feeds the facts builder; per-connection
/// rules judge each connection as it is settled (`on_conn` sees it too), capture rules judge
/// the whole once it is read. The command line, the library calls, the tests, the fuzz targets
/// and the benchmarks all come through here.
pub fn judge(
    cfg: &Config,
    read: impl FnOnce(&mut Analyzer<'_>) -> Result<CaptureInfo, crate::capture::CaptureError>,
    on_conn: &mut dyn FnMut(&Connection),
) -> Result<Judged, crate::capture::CaptureError> {
    judge_with(cfg, read, &mut OnConn(on_conn))
}

/// [`judge`], telling `hooks` what is judged as it is (the live sensor comes through here).
pub fn judge_with(
    cfg: &Config,
    read: impl FnOnce(&mut Analyzer<'_>) -> Result<CaptureInfo, crate::capture::CaptureError>,
    hooks: &mut dyn Hooks,
) -> Result<Judged, crate::capture::CaptureError> {
    let mut agg = Aggregator::default();
    let mut undecided = crate::session::Notes::default();
    let mut outside = crate::diagnose::OutOfScope::default();
    let mut facts = {
        let mut analyzer = Analyzer::new(cfg);
        analyzer.with_judge(Box::new(Judging {
            cfg,
            agg: &mut agg,
            undecided: &mut undecided,
            outside: &mut outside,
            hooks: &mut *hooks,
            listed: 0,
        }));
        let info = read(&mut analyzer)?;
        analyzer.finish(info)
    };
    let mut capture_notes = Vec::new();
    let cited = capture_occurrences(&facts, cfg, &mut agg, &mut capture_notes);
    hooks.window(&facts);
    let end = facts
        .info
        .as_ref()
        .and_then(|i| i.last_time)
        .unwrap_or_default();
    hooks.judged(&agg, end);
    facts.keep_cited(&cited);
    capture_notes.extend(outside.note());
    for n in capture_notes {
        undecided.push(n);
    }
    let mut notes: Vec<String> = facts
        .notes
        .iter()
        .cloned()
        .chain(undecided.into_vec())
        .collect();
    if notes.len() > crate::session::MAX_NOTES {
        let more = notes.len() - crate::session::MAX_NOTES;
        notes.truncate(crate::session::MAX_NOTES);
        notes.push(format!(
            "limit: {more} more note(s) like the ones above are not listed"
        ));
    }
    Ok(Judged {
        findings: agg.into_findings(0),
        facts,
        notes,
    })
}

/// What judges a capture while it is read: each connection as it settles, each window of SIP.
struct Judging<'a, 'o> {
    cfg: &'a Config,
    agg: &'a mut Aggregator,
    undecided: &'a mut crate::session::Notes,
    outside: &'a mut crate::diagnose::OutOfScope,
    hooks: &'a mut (dyn Hooks + 'o),
    listed: usize,
}

impl crate::session::Judge for Judging<'_, '_> {
    fn settled(&mut self, c: &Connection) -> bool {
        self.hooks.connection(c);
        self.listed += 1;
        // TLS between hosts that have nothing to do with SIP OAuth is counted, not judged.
        if !crate::diagnose::in_scope(c) {
            self.outside.add(c);
            return self.listed <= crate::session::MAX_KEPT;
        }
        let mut here = Vec::new();
        let found = connection_occurrences(c, self.cfg, self.agg, &mut here);
        for n in here {
            self.hooks.note(&n);
            self.undecided.push(n);
        }
        if found {
            self.hooks.judged(self.agg, c.last_time);
        }
        found || self.listed <= crate::session::MAX_KEPT
    }

    fn sip_window(&mut self, facts: &CaptureFacts) -> Vec<u64> {
        let mut here = Vec::new();
        let cited = capture_occurrences(facts, self.cfg, self.agg, &mut here);
        for n in here {
            self.hooks.note(&n);
            self.undecided.push(n);
        }
        self.hooks.window(facts);
        let now = facts
            .sip_window
            .or_else(|| facts.info.as_ref().and_then(|i| i.last_time))
            .unwrap_or_default();
        self.hooks.judged(self.agg, now);
        cited
    }

    fn tick(&mut self, now: crate::time::Ts) {
        self.hooks.judged(self.agg, now);
    }

    fn note(&mut self, text: &str) {
        self.hooks.note(text);
    }
}

/// Reads and diagnoses one capture (or log) into its part of the report; `logged`: the SIP
/// the logs given with it printed, standing in for records no key opens.
fn run_capture(
    input: &Input,
    cfg: &Config,
    progress: Option<&Arc<AtomicU64>>,
    hooks: &mut dyn Hooks,
    logged: Option<&Arc<crate::tls::Injection>>,
) -> Result<Piece, crate::capture::CaptureError> {
    let mut source = crate::source::open(input, cfg, progress, logged);
    let judged = judge_with(cfg, |a| source.read(a), hooks)?;
    let mut piece = piece_of(&input.label, judged);
    if let Some(files) = source.files() {
        place_log_lines(&mut piece, files);
    }
    piece.notes.splice(0..0, source.notes());
    Ok(piece)
}

/// A log's findings, listing and registrations point at `file:line`, not at frame numbers.
fn place_log_lines(piece: &mut Piece, files: &crate::logs::LogFiles) {
    use crate::diagnose::Place;
    let line_of = |frame: u64| crate::logs::log_line(frame).map_or(frame, |(_, l)| l);
    for f in &mut piece.findings {
        f.explanation = files.rewrite(&f.explanation);
        for e in &mut f.evidence {
            if let Place::Frame { number, .. } = e.place {
                if let Some((file, line)) = files.place(number) {
                    e.place = Place::Line { file, line };
                }
            }
            e.note = files.rewrite(&e.note);
        }
        for a in &mut f.affected {
            a.file = files.place(a.first_frame).map(|p| p.0);
            a.first_frame = line_of(a.first_frame);
            a.last_frame = line_of(a.last_frame);
        }
        // No Wireshark filter finds a log line.
        f.wireshark_filter.clear();
    }
    for m in &mut piece.sip {
        if let Some((file, line)) = files.place(m.message.frame) {
            m.message.frame = line;
            m.file = Some(file);
        }
    }
    for r in &mut piece.registrations {
        for f in &mut r.registration.frames {
            *f = line_of(*f);
        }
    }
    for c in &mut piece.connections {
        c.tcp_stream = line_of(c.tcp_stream);
        c.first_frame = line_of(c.first_frame);
        c.last_frame = line_of(c.last_frame);
        if let Some(t) = c.tls.as_mut() {
            for a in &mut t.alerts {
                a.frame = line_of(a.frame);
            }
        }
    }
    for n in &mut piece.notes {
        *n = files.rewrite(n);
    }
}

/// What a judged capture contributes to the report.
fn piece_of(label: &str, judged: Judged) -> Piece {
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
            message: m,
            file: None,
            also: None,
        })
        .collect();
    let tally = tally_of(&facts, &notes);
    Piece {
        tally,
        counts: std::mem::take(&mut facts.counts),
        info: facts.info.clone().unwrap_or_else(|| CaptureInfo {
            path: label.to_string(),
            format: "unknown".into(),
            link_types: Vec::new(),
            frames: 0,
            first_time: None,
            last_time: None,
            stopped: None,
            verdict: None,
            verdict_reasons: Vec::new(),
        }),
        findings,
        connections: facts.connections,
        registrations,
        sip,
        sip_total: facts.sip_total as usize,
        notes,
    }
}

/// Judges one source that `read` feeds (a live interface, a capture replayed at its pace)
/// into a report, exactly as a capture file is judged: the same rules, notes, verdict and
/// summary; `hooks` sees what is judged as it is, `obs` the report's pieces at the end.
pub fn analyze_source(
    label: &str,
    cfg: &Config,
    read: impl FnOnce(&mut Analyzer<'_>) -> Result<CaptureInfo, crate::capture::CaptureError>,
    hooks: &mut dyn Hooks,
    obs: &mut dyn Observer,
    fail_on: FailOn,
) -> Outcome {
    let result = judge_with(cfg, read, hooks).map(|j| piece_of(label, j));
    let mut merger = Merger {
        report: empty_report(Vec::new()),
        unreadable: Vec::new(),
        tally: Tally::default(),
        multi: false,
        obs,
    };
    merger.add(label, result);
    merger.finish(fail_on)
}

/// A report with nothing in it yet but `notes`.
fn empty_report(notes: Vec<String>) -> Report {
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
fn tally_of(facts: &CaptureFacts, notes: &[String]) -> Tally {
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
        limits: notes
            .iter()
            .filter_map(|n| n.strip_prefix("limit: "))
            .filter(|n| !n.contains("not listed"))
            .take(3)
            .map(str::to_string)
            .collect(),
    }
}

/// Adds one capture's piece to the report, telling `obs`.
fn merge(
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
            report.notes.push(e.to_string());
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
    let prefix = if multi {
        format!("{path}: ")
    } else {
        String::new()
    };
    let listed = report.sip.len() - first_sip;
    if piece.sip_total > listed {
        report.notes.push(format!(
            "{prefix}the report lists {listed} of {} SIP messages (the first {} and those cited as evidence); all were analyzed",
            piece.sip_total,
            crate::session::sipflow::LISTED_FIRST
        ));
    }
    report.notes.extend(piece.notes.iter().map(|n| {
        if n.starts_with(path) {
            n.clone()
        } else {
            format!("{prefix}{n}")
        }
    }));
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

/// [`analyze`], telling `obs` what it finds as it goes.
pub fn analyze_with(inputs: &[String], cfg: &Config, obs: &mut dyn Observer) -> Outcome {
    analyze_expanded(&expand(inputs), cfg, obs, None)
}

/// [`analyze_with`] over inputs already sorted out by [`expand`] (the command line looks at
/// them first, for key logs beside the captures and the progress display).
///
/// `progress`, when given, counts the bytes read from disk as the captures are read (for a
/// progress display).
pub fn analyze_expanded(
    inputs: &Expanded,
    cfg: &Config,
    obs: &mut dyn Observer,
    progress: Option<&Arc<AtomicU64>>,
) -> Outcome {
    let paths = &inputs.captures;
    let mut report = empty_report(inputs.notices.clone());
    let mut unreadable = Vec::new();
    for (label, why) in &inputs.unusable {
        let e = format!("{label}: {why}");
        obs.unreadable(label, &e);
        report.notes.push(e.clone());
        report.unreadable.push(Unreadable {
            input: label.clone(),
            error: e.clone(),
            holds_evidence: !inputs.keylogs_named.contains(label),
        });
        unreadable.push(e);
    }
    let threads = if paths.len() > 1 && !obs.wants_connections() {
        std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(paths.len())
    } else {
        1
    };
    let mut merger = Merger {
        report,
        unreadable,
        tally: Tally::default(),
        multi: paths.len() > 1,
        obs,
    };
    // SIP the logs printed, for the connections the captures hold encrypted.
    let logged = crate::source::logged_sip(paths, cfg);
    let logged = logged.as_ref();
    if threads <= 1 {
        read_in_order(paths, cfg, progress, &mut merger, logged);
    } else {
        read_in_parallel(paths, threads, cfg, progress, &mut merger, logged);
    }
    merger.finish(FailOn::Error)
}

/// Adds each capture's piece to the report in input order, telling the observer.
struct Merger<'o> {
    report: Report,
    unreadable: Vec<String>,
    tally: Tally,
    multi: bool,
    obs: &'o mut dyn Observer,
}

impl Merger<'_> {
    /// The report in order, with its verdict and summary under `fail_on`.
    fn finish(self, fail_on: FailOn) -> Outcome {
        let Merger {
            mut report,
            unreadable,
            mut tally,
            ..
        } = self;
        timeline::merge(&mut report, &mut tally);
        crate::report::order_by_impact(&mut report.findings);
        conclude(&mut report, &tally, fail_on);
        Outcome {
            report,
            unreadable,
            tally,
        }
    }

    fn add(&mut self, path: &str, result: Result<Piece, crate::capture::CaptureError>) {
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

/// One capture after another, each connection told to the observer as it settles.
fn read_in_order(
    paths: &[Input],
    cfg: &Config,
    progress: Option<&Arc<AtomicU64>>,
    merger: &mut Merger<'_>,
    logged: Option<&Arc<crate::tls::Injection>>,
) {
    for path in paths {
        let idx = merger.report.captures.len();
        merger.obs.capture_started(idx, &path.label);
        let mut hooks = Told {
            obs: &mut *merger.obs,
            index: idx,
        };
        let result = run_capture(path, cfg, progress, &mut hooks, logged);
        merger.add(&path.label, result);
    }
}

/// [`Hooks`] that tell the observer each connection and what is judged, for capture `index`.
struct Told<'o, 'p> {
    obs: &'o mut (dyn Observer + 'p),
    index: usize,
}

impl Hooks for Told<'_, '_> {
    fn connection(&mut self, c: &Connection) {
        self.obs.connection(&ConnectionEntry {
            capture: self.index,
            connection: c.clone(),
        });
    }

    fn judged(&mut self, findings: &Aggregator, now: crate::time::Ts) {
        self.obs.judged(self.index, findings, now);
    }
}

/// Several captures, each on its own thread, merged in input order.
fn read_in_parallel(
    paths: &[Input],
    threads: usize,
    cfg: &Config,
    progress: Option<&Arc<AtomicU64>>,
    merger: &mut Merger<'_>,
    logged: Option<&Arc<crate::tls::Injection>>,
) {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            let tx = tx.clone();
            let next = &next;
            scope.spawn(move || loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(path) = paths.get(i) else { break };
                let result = run_capture(path, cfg, progress, &mut OnConn(&mut |_| {}), logged);
                if tx.send((i, result)).is_err() {
                    break;
                }
            });
        }
        drop(tx);
        let mut done = BTreeMap::new();
        let mut want = 0;
        for (i, result) in rx {
            done.insert(i, result);
            while let Some(result) = done.remove(&want) {
                let idx = merger.report.captures.len();
                merger.obs.capture_started(idx, &paths[want].label);
                merger.add(&paths[want].label, result);
                want += 1;
            }
        }
    });
}

/// Analyzes a capture held in memory and diagnoses it, by the same path as files (for fuzzing
/// and embedding).
pub fn analyze_bytes(
    bytes: &[u8],
    cfg: &Config,
) -> Result<(CaptureFacts, Vec<Finding>), crate::capture::CaptureError> {
    let j = judge(
        cfg,
        |a| crate::capture::read_capture_bytes("<memory>", bytes, a),
        &mut |_| {},
    )?;
    Ok((j.facts, j.findings))
}
