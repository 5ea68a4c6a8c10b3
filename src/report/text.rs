//! The report for people: what the capture holds, then findings by severity with evidence and
//! fix, then what could not be seen.

use std::io::Write;

use super::Reporter;
use crate::diagnose::{Finding, Severity};
use crate::report::Report;

/// The text reporter.
pub struct Text {
    /// Color the severity tags (a terminal, and `NO_COLOR` unset).
    pub color: bool,
    /// Draw the ladder of every TLS/SIP connection after the findings (`--ladder`).
    pub ladder: bool,
}

fn wrap(out: &mut dyn Write, first_indent: &str, text: &str, width: usize) -> std::io::Result<()> {
    let rest_indent = " ".repeat(first_indent.len());
    let mut indent = first_indent;
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            writeln!(out, "{indent}{line}")?;
            indent = &rest_indent;
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        writeln!(out, "{indent}{line}")?;
    }
    Ok(())
}

/// Devices whose registrations the text report lists per capture; the JSON and HTML list all.
const REGISTRATIONS_SHOWN: usize = 10;

impl Reporter for Text {
    fn render(&self, r: &Report, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(out, "Verdict: {}", super::verdict_line(r))?;
        writeln!(out, "{} {}", r.tool.name, r.tool.version)?;
        for (i, c) in r.captures.iter().enumerate() {
            self.capture(r, i, c, out)?;
        }
        writeln!(out)?;
        writeln!(out, "Findings: {}", super::findings_phrase(r))?;
        summary_table(r, out)?;
        for (i, f) in r.findings.iter().enumerate() {
            match super::repeats(r, i) {
                Some(first) => repeat(r, f, first, out)?,
                None => self.finding(r, f, out)?,
            }
        }
        if self.ladder {
            for l in super::ladder::build(r) {
                writeln!(out)?;
                super::ladder::text(&l, out)?;
            }
        }
        for (heading, notes) in super::note_sections(r) {
            writeln!(out)?;
            writeln!(out, "{heading}:")?;
            for n in notes {
                wrap(out, "  - ", &n, 100)?;
            }
        }
        Ok(())
    }
}

/// A finding that repeats an earlier one on another node, in a few lines.
fn repeat(r: &Report, f: &Finding, first: usize, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out)?;
    writeln!(
        out,
        "[{}] {} on another node: {} {}  (devices: {}, occurrences: {})",
        f.severity.label(),
        f.id,
        f.server.role,
        crate::net::Endpoint {
            ip: f.server.ip,
            port: f.server.port
        },
        f.devices,
        f.occurrences
    )?;
    if let Some(c) = super::capture_of(r, f) {
        writeln!(out, "  Capture: {c}")?;
    }
    let affected = super::some_affected(f, 5, |s: &str| s.to_string());
    wrap(out, "  Affected: ", &affected, 96)?;
    wrap(
        out,
        "  Evidence: ",
        &format!(
            "{}; what happened and the fix are as for the {} finding above",
            super::some_frames(f, 5),
            r.findings.get(first).map_or(f.id, |g| g.id)
        ),
        96,
    )?;
    Ok(())
}

/// The table that fits one screen: per finding id, severity, devices, occurrences, nodes and
/// first frame.
fn summary_table(r: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    let rows = super::summary_rows(r);
    if rows.is_empty() {
        return Ok(());
    }
    let w = rows.iter().map(|x| x.id.len()).max().unwrap_or(2).max(2);
    writeln!(
        out,
        "  {:<w$}  {:<8} {:>8} {:>11} {:>5}  first frame",
        "id", "severity", "devices", "occurrences", "nodes"
    )?;
    for x in &rows {
        writeln!(
            out,
            "  {:<w$}  {:<8} {:>8} {:>11} {:>5}  {}",
            x.id,
            x.severity.as_str(),
            x.devices,
            x.occurrences,
            x.nodes,
            x.first_place()
        )?;
    }
    Ok(())
}

impl Text {
    /// One capture's summary: what it is, its connections by role, TLS versions, registrations.
    fn capture(
        &self,
        r: &Report,
        i: usize,
        c: &crate::capture::CaptureInfo,
        out: &mut dyn Write,
    ) -> std::io::Result<()> {
        writeln!(out)?;
        let span = match (c.first_time, c.last_time) {
            (Some(a), Some(b)) => format!(", {} to {}", a.rfc3339(), b.rfc3339()),
            _ => String::new(),
        };
        let log = super::is_log(c);
        if log {
            writeln!(
                out,
                "Log {}: {} ({}), {} records{span}",
                i + 1,
                c.path,
                c.format,
                c.frames
            )?;
        } else {
            writeln!(
                out,
                "Capture {}: {} ({}, {}), {} frames{span}",
                i + 1,
                c.path,
                c.format,
                c.link_types.join("+"),
                c.frames
            )?;
        }
        if let Some(s) = &c.stopped {
            writeln!(out, "  ! {s}")?;
        }
        if let Some(v) = super::capture_verdict(r, c) {
            writeln!(out, "  Verdict of this input: {v}")?;
        }
        let conns: Vec<_> = r
            .connections
            .iter()
            .filter(|e| e.capture == i)
            .map(|e| &e.connection)
            .collect();
        // Roles and versions over every connection judged, not only the listed ones.
        // A report made without the analysis's counts (a library caller's) counts what it lists.
        let listed;
        let counts = match r.counts.get(i) {
            Some(c) => c,
            None => {
                let mut c = crate::session::Counts::default();
                for conn in &conns {
                    c.connection(conn);
                }
                listed = c;
                &listed
            }
        };
        let all: u64 = counts.roles.values().sum();
        let all = r
            .connections_analyzed
            .get(i)
            .copied()
            .unwrap_or(all)
            .max(conns.len() as u64);
        if !(log && conns.is_empty()) {
            if all > conns.len() as u64 {
                writeln!(
                    out,
                    "  TCP connections: {all} ({} listed: the first ones and every one with a finding; the counts below are over all {all})",
                    conns.len()
                )?;
            } else {
                writeln!(out, "  TCP connections: {all}")?;
            }
        }
        // In the order of the lines' words, as a reader scans them.
        let lines: std::collections::BTreeMap<String, u64> = counts
            .roles
            .iter()
            .map(|(k, n)| (crate::session::Counts::line(k), *n))
            .collect();
        for (k, n) in &lines {
            writeln!(out, "    {n:>4} x {k}")?;
        }
        if !counts.tls_versions.is_empty() {
            let v: Vec<String> = counts
                .tls_versions
                .iter()
                .map(|(k, n)| format!("{k} x{n}"))
                .collect();
            writeln!(out, "  TLS versions: {}", v.join(", "))?;
        }
        if counts.sip_transports.len() > 1 {
            let t: Vec<String> = counts
                .sip_transports
                .iter()
                .map(|(k, n)| format!("{k} x{n}"))
                .collect();
            writeln!(out, "  SIP messages by transport: {}", t.join(", "))?;
        }
        let regs: Vec<_> = r.registrations.iter().filter(|e| e.capture == i).collect();
        let g = super::glance(r, i);
        if !regs.is_empty() || g.devices > 0 {
            let failing = if g.failing > 0 {
                format!(
                    ", {} failing ({})",
                    g.failing,
                    super::failing_phrase(&g.by_id)
                )
            } else {
                String::new()
            };
            writeln!(
                out,
                "  Registrations: {} device(s), {} registered{failing}",
                g.devices, g.registered
            )?;
            if g.nodes.len() > 1 {
                for n in &g.nodes {
                    let failing = if n.failing.is_empty() {
                        String::new()
                    } else {
                        format!("; failing: {}", super::failing_phrase(&n.failing))
                    };
                    writeln!(
                        out,
                        "    node {}: {} device(s), {} registered{failing}",
                        n.node, n.devices, n.registered
                    )?;
                }
            }
            // Failing devices first, then the others, each with its REGISTERs.
            let failing: std::collections::HashMap<&str, &Vec<&'static str>> = g
                .failing_devices
                .iter()
                .map(|(d, ids)| (d.as_str(), ids))
                .collect();
            let mut order: Vec<&&super::RegistrationEntry> = regs.iter().collect();
            order.sort_by_key(|e| !failing.contains_key(e.device.as_str()));
            for reg in order.iter().take(REGISTRATIONS_SHOWN) {
                let answers: Vec<String> = reg.answers.iter().map(|a| a.to_string()).collect();
                let ids = failing
                    .get(reg.device.as_str())
                    .map(|ids| format!(": {}", ids.join(", ")))
                    .unwrap_or_default();
                writeln!(
                    out,
                    "    {}: {} REGISTER, answers [{}] (first {} {}){ids}",
                    reg.device,
                    reg.attempts,
                    answers.join(" "),
                    if log { "line" } else { "frame" },
                    reg.frames.first().copied().unwrap_or(0)
                )?;
            }
            let more = regs.len().saturating_sub(REGISTRATIONS_SHOWN);
            if more > 0 {
                writeln!(
                    out,
                    "    and {more} more device(s) (all in the JSON and HTML reports)"
                )?;
            }
        }
        Ok(())
    }

    /// One finding: tag, parties, what happened, evidence, filter, fix.
    fn finding(&self, r: &Report, f: &Finding, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(out)?;
        let (sev, conf) = (f.severity.label(), f.confidence.as_str());
        let tag = if self.color {
            let code = match f.severity {
                Severity::Error => "1;31",
                Severity::Warning => "1;33",
                Severity::Info => "1;32",
            };
            format!("\x1b[{code}m[{sev}]\x1b[0m")
        } else {
            format!("[{sev}]")
        };
        writeln!(out, "{tag} {}: {} ({conf})", f.id, f.title)?;
        if let Some(c) = super::capture_of(r, f) {
            writeln!(out, "  Capture: {c}")?;
        }
        writeln!(
            out,
            "  Between: {} {} -> {} {}  (occurrences: {})",
            f.client.role,
            f.client.address(),
            f.server.role,
            f.server.address(),
            f.occurrences
        )?;
        if f.devices > 1 {
            let affected = super::some_affected(f, 5, |s: &str| s.to_string());
            wrap(
                out,
                "  Affected: ",
                &format!("{} clients or devices: {affected}", f.devices),
                96,
            )?;
        }
        if let Some(a) = &f.tls_alert {
            writeln!(out, "  TLS alert: {}", super::alert_line(a))?;
        }
        if let Some(s) = &f.sip {
            let w = s
                .warning
                .as_deref()
                .map(|w| format!(", Warning: {w}"))
                .unwrap_or_default();
            writeln!(out, "  SIP: {} {}{w}", s.status, s.reason)?;
        }
        if let Some(t) = &f.trust {
            writeln!(out, "  Trust check: {}", super::trust_sentence(f, t))?;
        }
        writeln!(out, "  What happened:")?;
        wrap(out, "    ", &f.explanation, 96)?;
        writeln!(out, "  Evidence:")?;
        for e in &f.evidence {
            let (place, stream) = match &e.place {
                crate::place::At::Frame(number) => (
                    format!("frame {number:<6}"),
                    e.tcp_stream
                        .map_or_else(|| "udp".into(), |s| format!("tcp.stream {s}")),
                ),
                p => (p.to_string(), "log".into()),
            };
            writeln!(
                out,
                "    {place} {}  {stream}  {}",
                e.time.rfc3339(),
                e.note
            )?;
        }
        if !f.wireshark_filter.is_empty() {
            writeln!(out, "  Wireshark filter: {}", f.wireshark_filter)?;
        }
        writeln!(out, "  Fix:")?;
        let mut n = 0;
        for step in &f.fix {
            match super::remark(step) {
                Some(note) => wrap(out, "    Note: ", note, 92)?,
                None => {
                    n += 1;
                    wrap(out, &format!("    {n}. "), step, 92)?
                }
            }
        }
        writeln!(out, "  Source: {}", f.source)?;
        Ok(())
    }
}
