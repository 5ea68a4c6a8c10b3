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
