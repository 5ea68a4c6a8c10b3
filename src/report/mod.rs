//! Reporters: every output format renders the same [`Report`], behind one trait.

pub mod catalogue;
mod html;
mod json;
pub mod jsonl;
mod junit;
pub mod ladder;
mod markdown;
pub mod redact;
mod text;

pub use html::Html;
pub use json::Json;
pub use junit::{xml as xml_escape, Junit};
pub use markdown::Markdown;
pub use text::Text;

use crate::analyze::Report;

/// Renders a report.
pub trait Reporter {
    /// Writes the report.
    fn render(&self, report: &Report, out: &mut dyn std::io::Write) -> std::io::Result<()>;
}

/// Findings per severity: (errors, warnings, info).
pub fn counts(r: &Report) -> (usize, usize, usize) {
    use crate::diagnose::Severity;
    let n = |s: Severity| r.findings.iter().filter(|f| f.severity == s).count();
    (n(Severity::Error), n(Severity::Warning), n(Severity::Info))
}

/// `unknown_ca (48), fatal, sent by the server`.
pub fn alert_line(a: &crate::diagnose::AlertRef) -> String {
    format!(
        "{} ({}), {}, sent by the {}",
        a.description, a.code, a.level, a.sent_by
    )
}

/// What the offline trust check says, in a phrase.
pub fn trust_line(t: &crate::trust::TrustResult) -> String {
    if t.verified {
        "the chain verifies".to_string()
    } else if let Some(ca) = &t.missing_ca {
        format!("the chain does not verify; missing CA: {ca}")
    } else {
        format!(
            "the chain does not verify: {}",
            t.reason.as_deref().unwrap_or("unknown reason")
        )
    }
}
