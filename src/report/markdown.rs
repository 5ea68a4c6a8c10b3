//! Markdown for tickets: the verdict first, then each finding with its evidence frames, the
//! Wireshark filter to paste, and the fix as a checklist.

use std::io::Write;

use super::Reporter;
use crate::diagnose::Finding;
use crate::report::Report;

/// The Markdown reporter.
pub struct Markdown;

/// Escapes text for a Markdown table cell or line.
fn md(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

impl Reporter for Markdown {
    fn render(&self, r: &Report, out: &mut dyn Write) -> std::io::Result<()> {
        head(r, out)?;
        if !r.findings.is_empty() {
            writeln!(out)?;
            writeln!(
                out,
                "| id | severity | devices | occurrences | nodes | first frame |"
            )?;
            writeln!(out, "|---|---|---|---|---|---|")?;
            for x in super::summary_rows(r) {
                writeln!(
                    out,
                    "| `{}` | {} | {} | {} | {} | {} |",
                    x.id,
                    x.severity.label(),
                    x.devices,
                    x.occurrences,
                    x.nodes,
                    x.first_place()
                )?;
            }
            writeln!(out)?;
            writeln!(out, "## Findings")?;
        }
        for (n, f) in r.findings.iter().enumerate() {
            match super::repeats(r, n) {
                Some(first) => repeat(r, n, f, first, out)?,
                None => finding(r, n, f, out)?,
            }
        }
        for (heading, notes) in super::note_sections(r) {
            // The Markdown heading keeps the wording tickets already carry.
            let heading = heading.replace(
                "What could not be seen or decoded, and limits",
                "What the capture could not show",
            );
            writeln!(out)?;
            writeln!(out, "## {heading}")?;
            writeln!(out)?;
            for n in notes {
                writeln!(out, "- {}", md(&n))?;
            }
        }
        Ok(())
    }
}

/// The title, the verdict, the counts and the captures read.
fn head(r: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out, "# Verdict: {} (siptriage report)", r.verdict.as_str())?;
    writeln!(out)?;
    writeln!(out, "**Verdict: {}**", md(&super::verdict_line(r)))?;
    writeln!(out)?;
    writeln!(
        out,
        "Findings: {}. Tool: {} {}.",
        super::findings_phrase(r),
        r.tool.name,
        r.tool.version
    )?;
    writeln!(out)?;
    writeln!(out, "| Capture | Format | Frames | From | To |")?;
    writeln!(out, "|---|---|---|---|---|")?;
    for c in &r.captures {
        writeln!(
            out,
            "| `{}` | {} | {} | {} | {} |",
            md(&c.path),
            c.format,
            c.frames,
            c.first_time.map(|t| t.rfc3339()).unwrap_or_default(),
            c.last_time.map(|t| t.rfc3339()).unwrap_or_default()
        )?;
        if let Some(s) = &c.stopped {
            writeln!(out, "| | | | **stopped:** {} | |", md(s))?;
        }
        if let Some(v) = super::capture_verdict(r, c) {
            writeln!(out, "| | | | **verdict of this input:** {} | |", md(&v))?;
        }
    }
    for i in 0..r.captures.len() {
        glance(r, i, out)?;
    }
    Ok(())
}

/// Failing devices named at most in a glance.
const GLANCE_DEVICES: usize = 10;

/// A capture's registrations at a glance: per node, devices, registered, failing by id; then
/// the failing devices.
fn glance(r: &Report, i: usize, out: &mut dyn Write) -> std::io::Result<()> {
    let g = super::glance(r, i);
    if g.devices == 0 {
        return Ok(());
    }
    writeln!(out)?;
    let (title, counts) = super::glance_heading(r, i, &g);
    writeln!(out, "**{title}:** {counts}.")?;
    // One device needs no table.
    if g.devices < 2 {
        return Ok(());
    }
    writeln!(out)?;
    writeln!(out, "| Node | Devices | Registered | Failing, by id |")?;
    writeln!(out, "|---|---|---|---|")?;
    for n in &g.nodes {
        writeln!(
            out,
            "| {} | {} | {} | {} |",
            n.node,
            n.devices,
            n.registered,
            md(&super::failing_phrase(&n.failing))
        )?;
    }
    if !g.failing_devices.is_empty() {
        let shown: Vec<String> = g
            .failing_devices
            .iter()
            .take(GLANCE_DEVICES)
            .map(|(d, ids)| format!("`{}` ({})", md(d), ids.join(", ")))
            .collect();
        let more = g.failing_devices.len().saturating_sub(GLANCE_DEVICES);
        let more = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        writeln!(out)?;
        writeln!(out, "Failing devices: {}{more}.", shown.join(", "))?;
    }
    Ok(())
}

/// Evidence rows a Markdown finding shows at most.
const MAX_EVIDENCE_ROWS: usize = 10;

/// Finding `n` repeating finding `first` on another node, in a few lines.
fn repeat(
    r: &Report,
    n: usize,
    f: &Finding,
    first: usize,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    writeln!(out)?;
    writeln!(
        out,
        "### {}. [{}] `{}` on another node: {} `{}`",
        n + 1,
        f.severity.label(),
        f.id,
        f.server.role,
        crate::net::Endpoint {
            ip: f.server.ip,
            port: f.server.port
        }
    )?;
    writeln!(out)?;
    if let Some(c) = super::capture_of(r, f) {
        writeln!(out, "- **Capture:** `{c}`")?;
    }
    writeln!(
        out,
        "- **Devices:** {}, **occurrences:** {}",
        f.devices, f.occurrences
    )?;
    let affected = super::some_affected(f, 10, md);
    writeln!(out, "- **Affected:** {affected}")?;
    writeln!(out, "- **Evidence:** {}", super::some_frames(f, 5))?;
    writeln!(
        out,
        "- What happened and the fix: as for finding {} above.",
        first + 1
    )?;
    Ok(())
}

/// Finding `n` (from 0): its heading, parties, what happened, evidence, filter and fix.
fn finding(r: &Report, n: usize, f: &Finding, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out)?;
    let conf = f.confidence.as_str();
    writeln!(
        out,
        "### {}. [{}] `{}`: {} ({conf})",
        n + 1,
        f.severity.label(),
        f.id,
        md(&f.title)
    )?;
    writeln!(out)?;
    if let Some(c) = super::capture_of(r, f) {
        writeln!(out, "- **Capture:** `{c}`")?;
    }
    writeln!(
        out,
        "- **Between:** {} `{}` -> {} `{}` (occurrences: {})",
        f.client.role,
        f.client.address(),
        f.server.role,
        f.server.address(),
        f.occurrences
    )?;
    if f.devices > 1 {
        let affected = super::some_affected(f, 10, md);
        writeln!(
            out,
            "- **Affected:** {} clients or devices: {affected}",
            f.devices
        )?;
    }
    if let Some(a) = &f.tls_alert {
        writeln!(out, "- **TLS alert:** {}", super::alert_line(a))?;
    }
    if let Some(s) = &f.sip {
        let warn = s
            .warning
            .as_deref()
            .map(|w| format!(", Warning: `{}`", md(w)))
            .unwrap_or_default();
        writeln!(out, "- **SIP:** {} {}{warn}", s.status, md(&s.reason))?;
    }
    if let Some(t) = &f.trust {
        writeln!(
            out,
            "- **Trust check:** {}",
            md(&super::trust_sentence(f, t))
        )?;
    }
    writeln!(out)?;
    writeln!(out, "{}", md(&f.explanation))?;
    writeln!(out)?;
    writeln!(out, "| Frame | Time | tcp.stream | What |")?;
    writeln!(out, "|---|---|---|---|")?;
    // A ticket needs the first frames; the JSON report lists them all.
    for e in f.evidence.iter().take(MAX_EVIDENCE_ROWS) {
        let (place, stream) = super::evidence_cells(e);
        writeln!(
            out,
            "| {} | {} | {} | {} |",
            md(&place),
            e.time.rfc3339(),
            stream,
            md(&e.note)
        )?;
    }
    if f.evidence.len() > MAX_EVIDENCE_ROWS {
        writeln!(
            out,
            "| | | | and {} more (all in the JSON report) |",
            f.evidence.len() - MAX_EVIDENCE_ROWS
        )?;
    }
    writeln!(out)?;
    if !f.wireshark_filter.is_empty() {
        writeln!(out, "Wireshark filter:")?;
        writeln!(out)?;
        writeln!(out, "```")?;
        writeln!(out, "{}", f.wireshark_filter)?;
        writeln!(out, "```")?;
        writeln!(out)?;
    }
    writeln!(out, "Fix:")?;
    writeln!(out)?;
    for step in &f.fix {
        match super::remark(step) {
            Some(note) => writeln!(out, "- *Note:* {}", md(note))?,
            None => writeln!(out, "- [ ] {}", md(step))?,
        }
    }
    writeln!(out)?;
    writeln!(out, "Source: {}", md(f.source))?;
    Ok(())
}
