//! The library's one call: captures and logs in, [`crate::report::Report`] out. It opens a
//! source per input ([`crate::source`]), judges what it gives ([`judge`]), merges the pieces
//! into one report and concludes its verdict.

use std::collections::BTreeMap;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use crate::capture::{read_capture, CaptureInfo};
use crate::config::Config;
use crate::diagnose::{Aggregator, Finding};
use crate::inputs::{expand, Expanded, Input};
use crate::report::{ConnectionEntry, Observer, Tally, Unreadable};
use crate::session::{Analyzer, CaptureFacts, Connection};

mod judge;
mod merge;
mod timeline;
mod verdict;

use judge::OnConn;
pub use judge::{judge, judge_with, Hooks, Judged};
use merge::{as_log, empty_report, piece_of, Merger, Piece};
pub use verdict::{conclude, exit_code, FailOn, Outcome};

/// SIP messages listed per capture in a report.
pub const MAX_SIP_IN_REPORT: usize = 2_000;

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
    if input.log.is_some() {
        as_log(&mut piece);
    }
    piece.notes.splice(0..0, source.notes());
    Ok(piece)
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
        report.notes.push(crate::note::Note::Unusable {
            input: label.clone(),
            why: why.clone(),
        });
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
