//! Reporters: every output format renders the same [`Report`], behind one trait.

pub mod catalogue;
mod json;
mod text;

pub use json::Json;
pub use text::Text;

use crate::analyze::Report;

/// Renders a report.
pub trait Reporter {
    /// Writes the report.
    fn render(&self, report: &Report, out: &mut dyn std::io::Write) -> std::io::Result<()>;
}
