//! JUnit XML for CI systems: one test suite per capture, one failing test case per finding at
//! or above the `--fail-on` level, passing cases for the rest, and one passing case when a
//! capture has no finding at all; an input that could not be read is a test case with an
//! `<error>`.

use std::io::Write;

use super::Reporter;
use crate::diagnose::Severity;
use crate::report::Report;

/// The JUnit reporter.
pub struct Junit {
    /// Findings at or above this severity fail (`None`: nothing fails).
    pub fail_at: Option<Severity>,
    /// An inconclusive verdict fails (`--fail-on inconclusive`); otherwise it is skipped.
    pub fail_inconclusive: bool,
}

/// Escapes text for XML content and attributes.
pub fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\r' | '\t') => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A suite's verdict as test suite properties: the capture's own (`siptriage.verdict`, and
/// its reasons) and the run's over every input (`siptriage.run_verdict`).
fn properties(
    r: &Report,
    c: &crate::capture::CaptureInfo,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    writeln!(out, "    <properties>")?;
    let (verdict, reasons) = match c.verdict {
        Some(v) => (v, &c.verdict_reasons),
        None => (r.verdict, &r.verdict_reasons),
    };
    writeln!(
        out,
        r#"      <property name="siptriage.verdict" value="{}"/>"#,
        verdict.as_str()
    )?;
    if !reasons.is_empty() {
        writeln!(
            out,
            r#"      <property name="siptriage.verdict_reasons" value="{}"/>"#,
            xml(&reasons.join("; "))
        )?;
    }
    writeln!(
        out,
        r#"      <property name="siptriage.run_verdict" value="{}"/>"#,
        r.verdict.as_str()
    )?;
    writeln!(out, "    </properties>")
}

/// An input's own verdict, or the run's when the input has none.
fn verdict_of(r: &Report, i: usize) -> (crate::report::Verdict, Vec<String>) {
    match r.captures.get(i).and_then(|c| c.verdict) {
        Some(v) => (v, r.captures[i].verdict_reasons.clone()),
        None => (r.verdict, r.verdict_reasons.clone()),
    }
}

impl Reporter for Junit {
    fn render(&self, r: &Report, out: &mut dyn Write) -> std::io::Result<()> {
        let fails = |s: Severity| self.fail_at.is_some_and(|at| s <= at);
        let inconclusive = |i: usize| verdict_of(r, i).0 == crate::report::Verdict::Inconclusive;
        // A suite has a case per finding, one for an inconclusive verdict, and one passing
        // case when it has neither.
        let cases = |i: usize| {
            (r.findings.iter().filter(|f| f.capture == i).count() + usize::from(inconclusive(i)))
                .max(1)
        };
        let total_cases: usize =
            (0..r.captures.len()).map(cases).sum::<usize>() + r.unreadable.len();
        let errors = r.unreadable.len();
        // An inconclusive capture fails under --fail-on inconclusive.
        let inconclusive_fails = |i: usize| self.fail_inconclusive && inconclusive(i);
        let total_fail = r.findings.iter().filter(|f| fails(f.severity)).count()
            + (0..r.captures.len())
                .filter(|&i| inconclusive_fails(i))
                .count();
        writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
        writeln!(
            out,
            r#"<testsuites name="siptriage" tests="{total_cases}" failures="{total_fail}" errors="{errors}">"#
        )?;
        // An input that could not be read is an error case of its own, so that CI shows it.
        for u in &r.unreadable {
            writeln!(
                out,
                r#"  <testsuite name="{}" tests="1" failures="0" errors="1">"#,
                xml(&u.input)
            )?;
            writeln!(
                out,
                r#"    <testcase classname="siptriage" name="read the input">"#
            )?;
            writeln!(
                out,
                r#"      <error type="unreadable" message="{}"/>"#,
                xml(&u.error)
            )?;
            writeln!(out, "    </testcase>\n  </testsuite>")?;
        }
        for (i, c) in r.captures.iter().enumerate() {
            let findings: Vec<_> = r.findings.iter().filter(|f| f.capture == i).collect();
            let failures = findings.iter().filter(|f| fails(f.severity)).count()
                + usize::from(inconclusive_fails(i));
            let stamp = c.first_time.map(|t| t.rfc3339()).unwrap_or_default();
            writeln!(
                out,
                r#"  <testsuite name="{}" tests="{}" failures="{failures}" errors="0" timestamp="{}">"#,
                xml(&c.path),
                cases(i),
                xml(&stamp)
            )?;
            properties(r, c, out)?;
            if inconclusive(i) {
                // Not judged is not passed: skipped, or failed under --fail-on inconclusive.
                let why = xml(&verdict_of(r, i).1.join("; "));
                let tag = if self.fail_inconclusive {
                    "failure type=\"inconclusive\""
                } else {
                    "skipped"
                };
                writeln!(
                    out,
                    r#"    <testcase classname="siptriage" name="verdict inconclusive"><{tag} message="{why}"/></testcase>"#
                )?;
            } else if findings.is_empty() {
                writeln!(
                    out,
                    r#"    <testcase classname="siptriage" name="no SIP OAuth failure"/>"#
                )?;
            }
            for f in findings {
                let name = format!(
                    "{} {}:{} -> {}:{}",
                    f.id, f.client.ip, f.client.port, f.server.ip, f.server.port
                );
                writeln!(
                    out,
                    r#"    <testcase classname="siptriage.{}" name="{}">"#,
                    xml(f.id),
                    xml(&name)
                )?;
                let mut body = format!("{}\n\nEvidence:\n", f.explanation);
                for e in &f.evidence {
                    body.push_str(&format!("  {} {} {}\n", e.place, e.time.rfc3339(), e.note));
                }
                body.push_str(&format!("Wireshark filter: {}\nFix:\n", f.wireshark_filter));
                for (n, s) in f.fix.iter().enumerate() {
                    body.push_str(&format!("  {}. {s}\n", n + 1));
                }
                if fails(f.severity) {
                    writeln!(
                        out,
                        r#"      <failure type="{}" message="{}">{}</failure>"#,
                        xml(f.id),
                        xml(&f.title),
                        xml(&body)
                    )?;
                } else {
                    writeln!(out, "      <system-out>{}</system-out>", xml(&body))?;
                }
                writeln!(out, "    </testcase>")?;
            }
            if let Some(s) = &c.stopped {
                writeln!(out, "    <system-err>{}</system-err>", xml(s))?;
            }
            writeln!(out, "  </testsuite>")?;
        }
        writeln!(out, "</testsuites>")
    }
}
