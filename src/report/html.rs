//! One self-contained HTML file: verdict and summary, findings, the certificates seen, and a
//! ladder diagram per connection drawn as inline SVG (the failing step highlighted). No
//! external scripts, fonts or images.

use crate::net::Side;
use std::io::Write;

use super::junit::xml as esc;
use super::ladder::{self, Ladder};
use super::Reporter;
use crate::diagnose::Finding;
use crate::report::Report;

/// The HTML reporter.
pub struct Html;

const CSS: &str = "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:24px;color:#1d2330;max-width:1100px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #dde1e8;padding-bottom:4px}
.verdict{padding:10px 14px;border-radius:6px;margin:12px 0;font-weight:600}.v-error{background:#fdecea;color:#8a1c1c}.v-ok{background:#e8f5e9;color:#1b5e20}.v-warning{background:#fff8e1;color:#7a5a00}
table{border-collapse:collapse;width:100%;margin:6px 0}td,th{border:1px solid #dde1e8;padding:4px 8px;text-align:left;vertical-align:top;font-size:13px}th{background:#f4f6f9}
.finding{border:1px solid #dde1e8;border-left:6px solid #9aa3b2;border-radius:6px;padding:10px 14px;margin:12px 0}.finding.error{border-left-color:#c62828}.finding.warning{border-left-color:#f9a825}.finding.info{border-left-color:#2e7d32}
.tag{display:inline-block;border-radius:4px;padding:0 6px;font-size:12px;font-weight:700;margin-right:6px}.tag.error{background:#c62828;color:#fff}.tag.warning{background:#f9a825;color:#222}.tag.info{background:#2e7d32;color:#fff}
code,pre{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12.5px}pre{background:#f4f6f9;padding:6px 8px;border-radius:4px;overflow-x:auto}
ul.fix{list-style:none;padding-left:4px}ul.fix li:before{content:'\\2610  '}ul.fix li.note:before{content:''}.muted{color:#5b6474}.ladder-box{margin:14px 0}
svg.ladder text{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:11.5px}svg.ladder .failing text.label{fill:#c62828;font-weight:700}svg.ladder .failing line{stroke:#c62828;stroke-width:2.2}";

fn svg(l: &Ladder, out: &mut dyn Write) -> std::io::Result<()> {
    let (lx, rx, top, step, line_h) = (200.0_f64, 640.0_f64, 70.0_f64, 28.0_f64, 14.0_f64);
    // Labels are wrapped, never cut: a row is as tall as its label needs.
    let labels: Vec<Vec<String>> = l.rows.iter().map(|r| ladder::wrap(&r.label, 60)).collect();
    let extra = |n: usize| line_h * n.saturating_sub(1) as f64;
    let height = top + labels.iter().map(|w| step + extra(w.len())).sum::<f64>() + 24.0;
    let t0 = l.rows.first().map(|r| r.time).unwrap_or_default();
    writeln!(
        out,
        r##"<svg class="ladder" xmlns="http://www.w3.org/2000/svg" width="780" height="{height}" viewBox="0 0 780 {height}" role="img" aria-label="{}">"##,
        esc(&l.title)
    )?;
    writeln!(
        out,
        r##"<defs><marker id="a" markerWidth="10" markerHeight="8" refX="9" refY="4" orient="auto"><path d="M0,0 L10,4 L0,8 z" fill="context-stroke"/></marker></defs>"##
    )?;
    for (x, (role, addr)) in [(lx, &l.left), (rx, &l.right)] {
        writeln!(
            out,
            r##"<rect x="{}" y="6" width="200" height="40" rx="5" fill="#eef2f8" stroke="#9aa3b2"/>"##,
            x - 100.0
        )?;
        writeln!(
            out,
            r##"<text x="{x}" y="22" text-anchor="middle" font-weight="700">{}</text>"##,
            esc(role)
        )?;
        writeln!(
            out,
            r##"<text x="{x}" y="38" text-anchor="middle">{}</text>"##,
            esc(addr)
        )?;
        writeln!(
            out,
            r##"<line x1="{x}" y1="46" x2="{x}" y2="{}" stroke="#9aa3b2" stroke-dasharray="4 3"/>"##,
            height - 8.0
        )?;
    }
    let mut y = top - step;
    for (r, lines) in l.rows.iter().zip(&labels) {
        y += step + extra(lines.len());
        let (x1, x2) = if r.to_right {
            (lx, rx - 2.0)
        } else {
            (rx, lx + 2.0)
        };
        let class = if r.failing { "step failing" } else { "step" };
        writeln!(out, r##"<g class="{class}" data-frame="{}">"##, r.frame)?;
        if r.failing {
            writeln!(
                out,
                r##"<rect x="4" y="{}" width="772" height="{}" fill="#fdecea"/>"##,
                y - 18.0 - extra(lines.len()),
                step + extra(lines.len())
            )?;
        }
        let at = r.place.clone().unwrap_or_else(|| format!("#{}", r.frame));
        writeln!(
            out,
            r##"<text x="8" y="{y}" class="muted">{}</text>"##,
            esc(at.rsplit('/').next().unwrap_or(&at))
        )?;
        writeln!(
            out,
            r##"<text x="60" y="{y}" fill="#5b6474">+{:.3}s</text>"##,
            r.time.secs_since(t0).max(0.0)
        )?;
        writeln!(
            out,
            r##"<line x1="{x1}" y1="{y}" x2="{x2}" y2="{y}" stroke="#3b4a66" stroke-width="1.4" marker-end="url(#a)"/>"##
        )?;
        let x = (lx + rx) / 2.0;
        let spans: String = lines
            .iter()
            .enumerate()
            .map(|(k, t)| {
                format!(
                    r##"<tspan x="{x}" y="{}">{}</tspan>"##,
                    y - 5.0 - extra(lines.len() - k),
                    esc(t)
                )
            })
            .collect();
        writeln!(
            out,
            r##"<text class="label" x="{x}" y="{}" text-anchor="middle"><title>{}</title>{spans}</text>"##,
            y - 5.0,
            esc(&r.label)
        )?;
        writeln!(out, "</g>")?;
    }
    writeln!(out, "</svg>")
}

impl Reporter for Html {
    fn render(&self, r: &Report, out: &mut dyn Write) -> std::io::Result<()> {
        head(r, out)?;
        summary_table(r, out)?;
        writeln!(out, "<h2>Findings</h2>")?;
        if r.findings.is_empty() {
            writeln!(out, "<p>None.</p>")?;
        }
        for f in &r.findings {
            finding(f, out)?;
        }
        certificates(r, out)?;
        ladders(r, out)?;
        for (heading, notes) in super::note_sections(r) {
            let heading = heading.replace(
                "What could not be seen or decoded, and limits",
                "What the capture could not show",
            );
            writeln!(out, "<h2>{heading}</h2><ul>")?;
            for n in notes {
                writeln!(out, "<li>{}</li>", esc(&n))?;
            }
            writeln!(out, "</ul>")?;
        }
        // Marks the page as fully rendered (a browser test reads this from the DOM).
        writeln!(
            out,
            "<script>document.body.dataset.ladders=String(document.querySelectorAll('svg.ladder').length);document.body.dataset.failing=String(document.querySelectorAll('svg.ladder g.failing').length);document.body.dataset.rendered='yes';</script>"
        )?;
        writeln!(out, "</body></html>")
    }
}

/// The page head, the verdict, the counts and the captures read.
fn head(r: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>siptriage report</title>")?;
    writeln!(out, "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><style>{CSS}</style></head><body>")?;
    writeln!(
        out,
        "<h1>siptriage report</h1><div class=\"muted\">{} {}</div>",
        esc(r.tool.name),
        esc(r.tool.version)
    )?;
    let class = match r.verdict {
        crate::report::Verdict::Failure => "v-error",
        crate::report::Verdict::Ok => "v-ok",
        crate::report::Verdict::Inconclusive => "v-warning",
    };
    let verdict = format!("Verdict: {}", super::verdict_line(r));
    writeln!(
        out,
        "<div class=\"verdict {class}\" id=\"verdict\">{}</div>",
        esc(&verdict)
    )?;
    writeln!(out, "<p>Findings: {}.</p>", esc(&super::findings_phrase(r)))?;
    writeln!(out, "<table><tr><th>Capture</th><th>Format</th><th>Link types</th><th>Frames</th><th>From</th><th>To</th></tr>")?;
    for c in &r.captures {
        let stopped = c
            .stopped
            .as_ref()
            .map(|s| format!("<br><b>stopped:</b> {}", esc(s)))
            .unwrap_or_default();
        let verdict = super::capture_verdict(r, c)
            .map(|v| format!("<br><b>verdict of this input:</b> {}", esc(&v)))
            .unwrap_or_default();
        writeln!(
            out,
            "<tr><td><code>{}</code>{stopped}{verdict}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&c.path),
            esc(&c.format),
            esc(&c.link_types.join(", ")),
            c.frames,
            c.first_time.map(|t| t.rfc3339()).unwrap_or_default(),
            c.last_time.map(|t| t.rfc3339()).unwrap_or_default()
        )?;
    }
    writeln!(out, "</table>")?;
    for i in 0..r.captures.len() {
        glance(r, i, out)?;
    }
    Ok(())
}

/// A capture's registrations at a glance: per node, devices, registered, failing by id; then
/// every failing device with its ids.
fn glance(r: &Report, i: usize, out: &mut dyn Write) -> std::io::Result<()> {
    let g = super::glance(r, i);
    if g.devices == 0 {
        return Ok(());
    }
    let (title, counts) = super::glance_heading(r, i, &g);
    writeln!(out, "<h3>{title}</h3><p>{counts}.</p>")?;
    if g.devices < 2 {
        return Ok(());
    }
    writeln!(
        out,
        "<table><tr><th>Node</th><th>Devices</th><th>Registered</th><th>Failing, by id</th></tr>"
    )?;
    for n in &g.nodes {
        writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            n.node,
            n.devices,
            n.registered,
            esc(&super::failing_phrase(&n.failing))
        )?;
    }
    writeln!(out, "</table>")?;
    if !g.failing_devices.is_empty() {
        writeln!(
            out,
            "<details><summary>{} failing device(s)</summary><p>",
            g.failing_devices.len()
        )?;
        let all: Vec<String> = g
            .failing_devices
            .iter()
            .map(|(d, ids)| format!("<code>{}</code> ({})", esc(d), esc(&ids.join(", "))))
            .collect();
        writeln!(out, "{}</p></details>", all.join(", "))?;
    }
    Ok(())
}

/// One finding, as a card.
fn finding(f: &Finding, out: &mut dyn Write) -> std::io::Result<()> {
    let (sev, conf) = (f.severity.as_str(), f.confidence.as_str());
    writeln!(
        out,
        "<div class=\"finding {sev}\" data-id=\"{}\">",
        esc(f.id)
    )?;
    writeln!(out, "<div><span class=\"tag {sev}\">{}</span><code>{}</code> <b>{}</b> <span class=\"muted\">({conf}, occurrences: {})</span></div>", f.severity.label(), esc(f.id), esc(&f.title), f.occurrences)?;
    if f.devices > 1 {
        writeln!(
            out,
            "<details><summary>Affected: {} clients or devices</summary><ul>",
            f.devices
        )?;
        for a in &f.affected {
            writeln!(out, "<li>{}</li>", esc(&super::affected_line(a)))?;
        }
        if f.devices > f.affected.len() as u64 {
            writeln!(
                out,
                "<li>and {} more, past the listing limit</li>",
                f.devices - f.affected.len() as u64
            )?;
        }
        writeln!(out, "</ul></details>")?;
    }
    writeln!(
        out,
        "<p class=\"muted\">{} {} &rarr; {} {}</p>",
        esc(f.client.role.as_str()),
        esc(&f.client.address()),
        esc(f.server.role.as_str()),
        esc(&f.server.address())
    )?;
    if let Some(a) = &f.tls_alert {
        writeln!(
            out,
            "<p>TLS alert <b>{}</b> ({}), {}, sent by the {}</p>",
            esc(&a.description),
            a.code,
            esc(&a.level),
            a.sent_by
        )?;
    }
    if let Some(s) = &f.sip {
        writeln!(
            out,
            "<p>SIP <b>{} {}</b>{}</p>",
            s.status,
            esc(&s.reason),
            s.warning
                .as_ref()
                .map(|w| format!(", Warning: <code>{}</code>", esc(w)))
                .unwrap_or_default()
        )?;
    }
    if let Some(t) = &f.trust {
        writeln!(
            out,
            "<p>Trust check: {}</p>",
            esc(&super::trust_sentence(f, t))
        )?;
    }
    writeln!(out, "<p>{}</p>", esc(&f.explanation))?;
    writeln!(
        out,
        "<table><tr><th>Frame</th><th>Time</th><th>tcp.stream</th><th>What</th></tr>"
    )?;
    for ev in &f.evidence {
        let (place, stream) = super::evidence_cells(ev);
        writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&place),
            ev.time.rfc3339(),
            stream,
            esc(&ev.note)
        )?;
    }
    writeln!(out, "</table>")?;
    if !f.wireshark_filter.is_empty() {
        writeln!(
            out,
            "<div>Wireshark filter:</div><pre>{}</pre>",
            esc(&f.wireshark_filter)
        )?;
    }
    writeln!(out, "<div>Fix:</div><ul class=\"fix\">")?;
    for s in &f.fix {
        match super::remark(s) {
            Some(note) => writeln!(out, "<li class=\"note\"><i>Note:</i> {}</li>", esc(note))?,
            None => writeln!(out, "<li>{}</li>", esc(s))?,
        }
    }
    writeln!(
        out,
        "</ul><div class=\"muted\">Source: {}</div></div>",
        esc(f.source)
    )?;
    Ok(())
}

/// The summary table: one row per finding id.
fn summary_table(r: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    let rows = super::summary_rows(r);
    if rows.is_empty() {
        return Ok(());
    }
    writeln!(out, "<table id=\"summary\"><tr><th>Id</th><th>Severity</th><th>Devices</th><th>Occurrences</th><th>Nodes</th><th>First frame</th></tr>")?;
    for x in rows {
        writeln!(
            out,
            "<tr><td><code>{}</code></td><td>{:?}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(x.id),
            x.severity,
            x.devices,
            x.occurrences,
            x.nodes,
            x.first_place()
        )?;
    }
    writeln!(out, "</table>")
}

/// Every certificate seen, with the trust check when a bundle was given.
fn certificates(r: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out, "<h2>Certificates seen</h2>")?;
    writeln!(out, "<table><tr><th>Presented by</th><th>Connection</th><th>Subject</th><th>Issuer</th><th>Valid</th><th>Trust check</th></tr>")?;
    let mut any = false;
    for en in &r.connections {
        let c = &en.connection;
        for ch in c.tls.iter().flat_map(|t| t.chains.iter()) {
            let who = if ch.presented_by == Side::Client {
                &c.client
            } else {
                &c.server
            };
            for (n, cert) in ch.certificates.iter().enumerate() {
                any = true;
                let trust = match (&ch.trust, n) {
                    (Some(t), 0) if t.verified => "verifies".to_string(),
                    (Some(t), 0) => esc(t
                        .missing_ca
                        .as_deref()
                        .map(|m| format!("missing CA: {m}"))
                        .as_deref()
                        .unwrap_or(t.reason.as_deref().unwrap_or(""))),
                    _ => String::new(),
                };
                writeln!(
                    out,
                    "<tr><td>{} {}:{}</td><td>tcp.stream {} frame {}</td><td>{}</td><td>{}</td><td>{} to {}</td><td>{trust}</td></tr>",
                    esc(who.role.as_str()),
                    who.ip,
                    who.port,
                    c.tcp_stream,
                    ch.frame,
                    esc(&cert.subject),
                    esc(&cert.issuer),
                    cert.not_before.rfc3339(),
                    cert.not_after.rfc3339()
                )?;
            }
        }
    }
    if !any {
        writeln!(out, "<tr><td colspan=\"6\">No certificate was visible (TLS 1.3 without keys shows none).</td></tr>")?;
    }
    writeln!(out, "</table>")?;
    Ok(())
}

/// A ladder per TLS/SIP connection, as inline SVG.
fn ladders(r: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out, "<h2>Ladders</h2>")?;
    let ladders = ladder::build(r);
    if ladders.is_empty() {
        writeln!(out, "<p>No TLS or SIP connection to draw.</p>")?;
    }
    for l in &ladders {
        let cap = r.captures.get(l.capture).map_or("", |c| c.path.as_str());
        writeln!(
            out,
            "<div class=\"ladder-box\"><div><b>{}</b> <span class=\"muted\">{}</span></div>",
            esc(&l.title),
            esc(cap)
        )?;
        svg(l, out)?;
        writeln!(out, "</div>")?;
    }
    Ok(())
}
