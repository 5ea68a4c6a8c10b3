//! The library's one call: captures in, [`Report`] out.

use std::collections::BTreeMap;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use crate::capture::{read_capture, read_input, CaptureInfo};
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
    if let Some(kind) = input.log {
        return run_log(input, kind, cfg, hooks);
    }
    let judged = judge_with(
        cfg,
        |a| {
            if let Some(l) = logged {
                a.inject(Arc::clone(l));
            }
            read_input(input, a, progress.cloned())
        },
        hooks,
    )?;
    Ok(piece_of(&input.label, judged))
}

/// The SIP the logs among `inputs` printed, by connection (client, server), for captures
/// given with them: none when there are only captures or only logs.
fn logged_sip(inputs: &[Input], cfg: &Config) -> Option<Arc<crate::tls::Injection>> {
    let logs: Vec<&Input> = inputs.iter().filter(|i| i.log.is_some()).collect();
    if logs.is_empty() || logs.len() == inputs.len() {
        return None;
    }
    let mut injection = crate::tls::Injection::default();
    for input in logs {
        let Some(kind) = input.log else { continue };
        let files: Vec<&Input> = if input.parts.is_empty() {
            vec![input]
        } else {
            input.parts.iter().collect()
        };
        let mut stats = crate::logs::LogStats::default();
        let mut on_sip = |_, m: crate::sip::SipMessage, text: &[u8]| {
            let unknown = |e: crate::net::Endpoint| e.ip.is_unspecified();
            if unknown(m.src) || unknown(m.dst) || m.transport == crate::net::Transport::Udp {
                return;
            }
            let (client, server, to_server) = if m.is_request() {
                (m.src, m.dst, true)
            } else {
                (m.dst, m.src, false)
            };
            injection.add(client, server, to_server, m.time, text.to_vec());
        };
        // A log that cannot be read is said when it is analyzed for itself.
        let _ = each_log_record(
            &files,
            kind,
            cfg,
            &mut stats,
            &mut on_sip,
            &mut |_, _| {},
            &mut |_, _| {},
        );
    }
    Some(Arc::new(injection))
}

/// Reads a log's SIP into the same flow as a capture's and diagnoses it: the same rules, with
/// `file:line` where a capture has frames.
fn run_log(
    input: &Input,
    kind: crate::logs::LogKind,
    cfg: &Config,
    hooks: &mut dyn Hooks,
) -> Result<Piece, crate::capture::CaptureError> {
    let mut stats = crate::logs::LogStats::default();
    let files: Vec<&Input> = if input.parts.is_empty() {
        vec![input]
    } else {
        input.parts.iter().collect()
    };
    let judged = judge_with(
        cfg,
        |a| read_log(input, &files, kind, cfg, a, &mut stats),
        hooks,
    )?;
    let mut piece = piece_of(&input.label, judged);
    let names = crate::logs::LogFiles {
        names: files.iter().map(|f| f.label.clone()).collect(),
    };
    place_log_lines(&mut piece, &names);
    let mut notes = vec![format!(
        "{} ({}{}): {} record(s), {} SIP message(s); times are {}",
        input.label,
        kind.name(),
        if files.len() > 1 {
            format!(
                ", {} files read oldest first: {}",
                files.len(),
                names.names.join(", ")
            )
        } else {
            String::new()
        },
        stats.records,
        stats.sip,
        stats.clock
    )];
    if stats.tls_failures > 0 {
        notes.push(format!(
            "{} TLS handshake(s) failed on a certificate, as the log says (judged as connections)",
            stats.tls_failures
        ));
    }
    if stats.duplicates > 0 {
        notes.push(format!(
            "{} SIP message(s) were logged twice (summary and copy) and counted once",
            stats.duplicates
        ));
    }
    if stats.skipped > 0 {
        notes.push(format!(
            "{} record(s) of other modules or products were skipped",
            stats.skipped
        ));
    }
    notes.extend(stats.notes);
    for (f, line, what) in &stats.events {
        let file = names
            .names
            .get(*f)
            .map_or(input.label.as_str(), String::as_str);
        notes.push(format!("{file}:{line}: {what}"));
    }
    if stats.more_events > 0 {
        notes.push(format!(
            "{} more connection event(s) of the log are not listed",
            stats.more_events
        ));
    }
    piece.notes.splice(0..0, notes);
    Ok(piece)
}

/// Feeds the SIP messages of a log (its files oldest first) to the analyzer, then its TLS
/// failures and the configurations it printed.
fn read_log(
    input: &Input,
    files: &[&Input],
    kind: crate::logs::LogKind,
    cfg: &Config,
    a: &mut Analyzer<'_>,
    stats: &mut crate::logs::LogStats,
) -> Result<CaptureInfo, crate::capture::CaptureError> {
    let mut failures = Vec::new();
    let mut configs = Vec::new();
    each_log_record(
        files,
        kind,
        cfg,
        stats,
        &mut |_, m, _| a.log_sip(m),
        &mut |i, t| {
            if failures.len() < MAX_LOG_TLS_FAILURES {
                failures.push((i, t));
            }
        },
        &mut |i, c| {
            if configs.len() < MAX_LOG_TLS_FAILURES {
                configs.push((i, c));
            }
        },
    )?;
    for (i, t) in failures {
        a.log_connection(failure_connection(&t, i, cfg));
    }
    for (i, c) in configs {
        let device = c.device.clone().unwrap_or_default();
        match crate::http::parse_config(&device, c.xml.as_bytes()) {
            Ok(conf) => a.log_config(config_entry(&c, i, conf)),
            Err(e) => stats.notes.push(format!(
                "line {}: the device configuration the log prints could not be read: {e}",
                c.line
            )),
        }
    }
    Ok(CaptureInfo {
        path: input.label.clone(),
        format: kind.name().into(),
        link_types: Vec::new(),
        frames: stats.records,
        first_time: stats.first,
        last_time: stats.last,
        stopped: None,
        verdict: None,
        verdict_reasons: Vec::new(),
    })
}

/// SIP messages of a file remembered to recognize the next file's repeats of them.
const MAX_OVERLAP: usize = 4096;

/// Reads a log's files oldest first: each SIP message parsed (with the text the log printed,
/// and the index of its file), each TLS failure, each configuration printed.
fn each_log_record(
    files: &[&Input],
    kind: crate::logs::LogKind,
    cfg: &Config,
    stats: &mut crate::logs::LogStats,
    on_sip: &mut dyn FnMut(usize, crate::sip::SipMessage, &[u8]),
    on_tls: &mut dyn FnMut(usize, crate::logs::TlsFailure),
    on_config: &mut dyn FnMut(usize, crate::logs::LogConfig),
) -> Result<(), crate::capture::CaptureError> {
    use crate::logs::{self, Direction, LogKind};
    use crate::net::{Endpoint, Transport};
    let open =
        |f: &Input| -> Result<Box<dyn std::io::BufRead + Send>, crate::capture::CaptureError> {
            let (r, _) = f
                .open()
                .and_then(crate::inputs::decompress)
                .map_err(|e| crate::capture::CaptureError::Io(f.label.clone(), e))?;
            Ok(Box::new(std::io::BufReader::with_capacity(256 * 1024, r)))
        };
    let nowhere = Endpoint {
        ip: std::net::Ipv4Addr::UNSPECIFIED.into(),
        port: 0,
    };
    // A Jabber log's zone comes from the first Date header in any of its files.
    let mut offset = None;
    if kind == LogKind::Jabber {
        for f in files {
            offset = logs::jabber::offset(&mut *open(f)?)
                .map_err(|e| crate::capture::CaptureError::Io(f.label.clone(), e))?;
            if offset.is_some() {
                break;
            }
        }
    }
    // Rotated files that overlap (the newer repeats the older's last records): a message the
    // file before printed, at the same time with the same text, is read once.
    let mut before: std::collections::HashSet<(i64, (u64, u64))> = Default::default();
    let mut before_last = crate::time::Ts(i64::MIN);
    let mut current: std::collections::VecDeque<(i64, (u64, u64))> = Default::default();
    let mut current_last = crate::time::Ts(i64::MIN);
    let mut repeated = 0u64;
    for (i, f) in files.iter().enumerate() {
        stats.file = i;
        if i > 0 {
            before = current.drain(..).collect();
            before_last = current_last;
        }
        let mut push = |m: logs::LogSip| {
            let key = (m.time.0, crate::net::key128(&m.text[..]));
            if m.time <= before_last && before.contains(&key) {
                repeated += 1;
                return;
            }
            if current.len() >= MAX_OVERLAP {
                current.pop_front();
            }
            current.push_back(key);
            current_last = current_last.max(m.time);
            let local = m.local.unwrap_or(nowhere);
            let peer = m.peer.unwrap_or(nowhere);
            let (src, dst) = match m.direction {
                Direction::Sent => (local, peer),
                Direction::Received => (peer, local),
            };
            let ctx = crate::sip::Context {
                frame: logs::log_frame(i, m.line),
                time: m.time,
                transport: m
                    .transport
                    .or_else(|| logs::via_transport(&m.text))
                    .unwrap_or(Transport::Tcp),
                tcp_stream: None,
                src,
                dst,
                show_secrets: cfg.secrets.show,
            };
            if let Some(msg) = crate::sip::parse_datagram(&m.text, &ctx) {
                on_sip(i, msg, &m.text);
            }
        };
        let mut tls = |t: logs::TlsFailure| on_tls(i, t);
        let mut config = |c: logs::LogConfig| on_config(i, c);
        let mut r = open(f)?;
        match kind {
            LogKind::Jabber => logs::jabber::read(&mut *r, offset, stats, &mut push, &mut config),
            LogKind::Sdl => logs::sdl::read(&mut *r, stats, &mut push),
            LogKind::Expressway => logs::expressway::read(&mut *r, stats, &mut push, &mut tls),
        }
        .map_err(|e| crate::capture::CaptureError::Io(f.label.clone(), e))?;
    }
    if repeated > 0 {
        stats.sip = stats.sip.saturating_sub(repeated);
        stats.notes.push(format!(
            "{repeated} SIP message(s) that a rotated file repeated from the file before (the files overlap) were read once"
        ));
    }
    Ok(())
}

/// TLS failures of one log file judged at most (past it they are counted in the log's note).
const MAX_LOG_TLS_FAILURES: usize = 10_000;

/// A device configuration a log printed, as the HTTP exchange of a configuration file is kept.
fn config_entry(
    c: &crate::logs::LogConfig,
    file: usize,
    conf: crate::http::DeviceConfig,
) -> crate::session::HttpEntry {
    use crate::net::Role;
    use crate::session::Party;
    let at = crate::logs::log_frame(file, c.line);
    let unknown: std::net::IpAddr = std::net::Ipv4Addr::UNSPECIFIED.into();
    crate::session::HttpEntry {
        frame: at,
        time: c.time,
        tcp_stream: at,
        client: Party {
            ip: c.client.unwrap_or(unknown),
            port: 0,
            role: Role::JabberOrWebex,
        },
        server: Party {
            ip: unknown,
            port: 0,
            role: Role::Tftp,
        },
        method: "GET".into(),
        path: format!("{}.cnf.xml (printed in the log)", conf.device),
        status: Some(200),
        config: Some(conf),
        response_frame: None,
    }
}

/// The connection a log's TLS failure stands for: a handshake between the two ends that ended
/// with the alert the log's words name, at the log's line.
fn failure_connection(t: &crate::logs::TlsFailure, file: usize, cfg: &Config) -> Connection {
    use crate::net::{Dir, Side};
    use crate::session::Party;
    let at = crate::logs::log_frame(file, t.line);
    let port_kind = cfg.ports.port_kind(t.server.port);
    let (client_role, server_role) = port_kind.roles();
    let sent_by = if t.alert_by_client {
        Side::Client
    } else {
        Side::Server
    };
    let alerts = t
        .alert
        .map(|(code, name)| crate::tls::Alert {
            frame: at,
            time: t.time,
            sent_by,
            dir: if t.alert_by_client {
                Dir::ToServer
            } else {
                Dir::ToClient
            },
            level: Some(2),
            code: Some(crate::tls::AlertDescription(code)),
            description: name.to_string(),
            encrypted: false,
            decrypted: false,
            after_steps: 0,
            logged: Some(format!(
                "Detail=\"{}\"{}",
                t.detail.trim(),
                t.common_name
                    .as_ref()
                    .map(|c| format!(" Common-name=\"{c}\""))
                    .unwrap_or_default()
            )),
        })
        .into_iter()
        .collect();
    Connection {
        tcp_stream: at,
        client: Party {
            ip: t.client.ip,
            port: t.client.port,
            role: client_role,
        },
        server: Party {
            ip: t.server.ip,
            port: t.server.port,
            role: server_role,
        },
        port_kind,
        protocol: crate::session::Proto::Tls,
        outcome: crate::flow::Outcome::Closed,
        ended_by: Some(sent_by),
        roles_from: "the log",
        first_frame: at,
        first_time: t.time,
        last_frame: at,
        last_time: t.time,
        packets: 0,
        bytes_to_server: 0,
        bytes_to_client: 0,
        syn_frames: Vec::new(),
        synack_frame: None,
        client_fin_frame: None,
        server_fin_frame: None,
        rst: None,
        retransmissions: 0,
        lost_bytes: 0,
        tls: Some(crate::tls::TlsSummary {
            alerts,
            ..crate::tls::TlsSummary::default()
        }),
        sip_messages: 0,
        sip_from_server: 0,
    }
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
    let logged = logged_sip(paths, cfg);
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
