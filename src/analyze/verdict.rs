//! The verdict of a run: ok, failure or inconclusive, with its reasons, and the exit code a
//! policy gives it.

use crate::capture::CaptureInfo;
use crate::report::{Report, Summary, Tally};

/// The outcome of [`super::analyze`]: the report and the inputs that could not be read at all.
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
