//! The catalogue as output: `siptriage scenarios` and `siptriage explain <id>`.

use std::io::Write;

use crate::diagnose::{catalogue, Confidence, Meta, Severity};

fn sev(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "info",
    }
}

fn conf(c: Confidence) -> &'static str {
    match c {
        Confidence::Certain => "certain",
        Confidence::Likely => "likely",
    }
}

/// One line per id.
pub fn list_text(out: &mut dyn Write) -> std::io::Result<()> {
    let all = catalogue::all();
    let w = all.iter().map(|m| m.id.len()).max().unwrap_or(10);
    for m in all {
        writeln!(
            out,
            "{:<w$}  {:<7}  {:<7}  {}",
            m.id,
            sev(m.severity),
            conf(m.confidence),
            m.title
        )?;
    }
    Ok(())
}

/// Every entry as a JSON array.
pub fn list_json(out: &mut dyn Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &catalogue::all())?;
    writeln!(out)
}

/// The whole entry for one id.
pub fn explain(m: &Meta, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out, "{}: {}", m.id, m.title)?;
    writeln!(
        out,
        "severity {}, confidence {}",
        sev(m.severity),
        conf(m.confidence)
    )?;
    writeln!(out)?;
    writeln!(out, "What it means:\n  {}", m.meaning)?;
    writeln!(
        out,
        "\nEvidence it needs in the capture:\n  {}",
        m.signature
    )?;
    writeln!(out, "\nFix:")?;
    let mut n = 0;
    for f in m.fix {
        match super::remark(f) {
            Some(note) => writeln!(out, "  Note: {note}")?,
            None => {
                n += 1;
                writeln!(out, "  {n}. {f}")?
            }
        }
    }
    writeln!(out, "\nSource: {}", m.source)
}
