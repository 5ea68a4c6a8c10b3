//! The catalogue entry each rule carries: title, severity, confidence, fix and source.

use super::{Confidence, Severity};

/// A catalogue entry.
#[derive(Debug, serde::Serialize)]
pub struct Meta {
    /// Stable id.
    pub id: &'static str,
    /// One-line title.
    pub title: &'static str,
    /// What it means, in a sentence or two.
    pub meaning: &'static str,
    /// Severity of its findings.
    pub severity: Severity,
    /// Confidence of its findings.
    pub confidence: Confidence,
    /// The signature on the wire the rule looks for.
    pub signature: &'static str,
    /// Fix steps.
    pub fix: &'static [&'static str],
    /// Where the signature and fix come from.
    pub source: &'static str,
}

/// Every catalogue entry, in the order the rules claim events.
pub fn all() -> Vec<&'static Meta> {
    super::rules::all().iter().map(|r| r.meta()).collect()
}

/// The entry with this id.
pub fn find(id: &str) -> Option<&'static Meta> {
    all().into_iter().find(|m| m.id == id)
}
