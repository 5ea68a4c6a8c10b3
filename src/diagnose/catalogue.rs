//! The catalogue entry each rule carries: title, severity, confidence, fix and source.

use super::{Confidence, Severity};

/// A catalogue entry.
#[derive(Debug)]
pub struct Meta {
    /// Stable id.
    pub id: &'static str,
    /// One-line title.
    pub title: &'static str,
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
