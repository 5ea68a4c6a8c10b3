//! JSON (schema_version 1): one document, field order fixed by the types, so the same capture
//! gives the same bytes every run. The contract is documented in README.md.

use super::Reporter;
use crate::report::Report;

/// The JSON reporter.
pub struct Json;

impl Reporter for Json {
    fn render(&self, report: &Report, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        serde_json::to_writer_pretty(&mut *out, report)?;
        writeln!(out)
    }
}
