//! The catalogue as output: `siptriage scenarios` and `siptriage explain <id>`.

use std::io::Write;

use crate::diagnose::{catalogue, Meta};

/// One line per id.
pub fn list_text(out: &mut dyn Write) -> std::io::Result<()> {
    let all = catalogue::all();
    let w = all.iter().map(|m| m.id.len()).max().unwrap_or(10);
    for m in all {
        writeln!(
            out,
            "{:<w$}  {:<7}  {:<7}  {}",
            m.id,
            m.severity.as_str(),
            m.confidence.as_str(),
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
        m.severity.as_str(),
        m.confidence.as_str()
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
