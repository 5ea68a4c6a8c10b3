//! Where a report goes and in which format: the format an extension asks for, the file written
//! whole or not at all, and the renderers.

use std::io::Write;

use siptriage::diagnose::Severity;
use siptriage::report::jsonl::JsonLines;
use siptriage::report::Observer;
use siptriage::report::{Html, Json, Junit, Markdown, Reporter, Text};

use super::options::{FailOn, Format};

/// The format a report file's extension asks for.
pub fn format_of_extension(path: &str) -> Option<Format> {
    let ext = std::path::Path::new(path)
        .extension()?
        .to_str()?
        .to_ascii_lowercase();
    Some(match ext.as_str() {
        "json" => Format::Json,
        "jsonl" | "ndjson" => Format::Jsonl,
        "md" | "markdown" => Format::Markdown,
        "html" | "htm" => Format::Html,
        "xml" => Format::Junit,
        "txt" | "text" => Format::Text,
        _ => return None,
    })
}

pub fn format_name(f: Format) -> &'static str {
    match f {
        Format::Text => "text",
        Format::Json => "json",
        Format::Jsonl => "jsonl",
        Format::Markdown => "markdown",
        Format::Html => "html",
        Format::Junit => "junit",
    }
}

/// `--format`, or the one the -o extension implies; a conflict between them is an error.
pub fn choose_format(explicit: Option<Format>, output: Option<&str>) -> Result<Format, String> {
    let implied = output.and_then(format_of_extension);
    match (explicit, implied) {
        (Some(f), Some(i)) if f != i => Err(format!(
            "--format {} conflicts with the output file {}, whose extension means {}: drop one \
             or rename the file",
            format_name(f),
            output.unwrap_or_default(),
            format_name(i)
        )),
        (Some(f), _) | (None, Some(f)) => Ok(f),
        (None, None) => match output
            .and_then(|p| std::path::Path::new(p).extension())
            .map(|e| e.to_string_lossy())
        {
            // `-o report.pdf` would silently be text: say so instead.
            Some(ext) => Err(format!(
                "cannot tell the report's format from the extension .{ext} of {}: give --format \
                 (text, json, jsonl, markdown, html, junit) or name the file .txt, .json, .jsonl, \
                 .md, .html or .xml",
                output.unwrap_or_default()
            )),
            None => Ok(Format::Text),
        },
    }
}

/// Where the report goes: standard output, nowhere (quiet), or a file written through a
/// temporary one that is renamed over it only when the report is complete.
pub struct Output {
    pub writer: Box<dyn Write>,
    pub file: Option<(std::path::PathBuf, std::path::PathBuf)>,
}

impl Output {
    pub fn open(path: &Option<String>, quiet: bool) -> std::io::Result<Output> {
        let Some(p) = path else {
            let writer: Box<dyn Write> = if quiet {
                Box::new(std::io::sink())
            } else {
                Box::new(std::io::BufWriter::new(std::io::stdout().lock()))
            };
            return Ok(Output { writer, file: None });
        };
        let target = std::path::PathBuf::from(p);
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_else(|| "report".into());
        let tmp = target.with_file_name(format!(".{name}.{}.partial", std::process::id()));
        let file = std::fs::File::create(&tmp)?;
        Ok(Output {
            writer: Box::new(std::io::BufWriter::new(file)),
            file: Some((tmp, target)),
        })
    }

    /// The report is complete: put it in place.
    pub fn commit(mut self) -> std::io::Result<()> {
        self.writer.flush()?;
        drop(self.writer);
        if let Some((tmp, target)) = self.file.take() {
            if let Err(e) = std::fs::rename(&tmp, &target) {
                let _ = std::fs::remove_file(&tmp);
                return Err(e);
            }
        }
        Ok(())
    }

    /// The run failed: leave whatever was there before.
    pub fn discard(self) {
        drop(self.writer);
        if let Some((tmp, _)) = self.file {
            let _ = std::fs::remove_file(tmp);
        }
    }
}

/// Writes a whole report in `format` (JSON Lines: its findings, notes and summary as events).
pub fn render(
    format: Format,
    report: &siptriage::report::Report,
    w: &mut dyn Write,
    fail_on: FailOn,
    ladder: bool,
    color: bool,
) -> std::io::Result<()> {
    let fail_at = match fail_on {
        FailOn::Error | FailOn::Inconclusive => Some(Severity::Error),
        FailOn::Warning => Some(Severity::Warning),
        FailOn::Never => None,
    };
    match format {
        Format::Jsonl => {
            let mut lines = JsonLines::new(w);
            for (i, c) in report.captures.iter().enumerate() {
                let findings: Vec<_> = report
                    .findings
                    .iter()
                    .filter(|f| f.capture == i)
                    .cloned()
                    .collect();
                lines.capture_finished(i, c, &findings, &report.notes);
            }
            lines.summary(report);
            lines.error.map_or(Ok(()), Err)
        }
        Format::Text => Text { color, ladder }.render(report, w),
        Format::Json => Json.render(report, w),
        Format::Markdown => Markdown.render(report, w),
        Format::Html => Html.render(report, w),
        Format::Junit => Junit {
            fail_at,
            fail_inconclusive: fail_on == FailOn::Inconclusive,
        }
        .render(report, w),
    }
}

/// Whether a terminal shows the severity tags' colours: never with `NO_COLOR`; on Windows only
/// once the console's virtual terminal mode is on (a legacy console would print the escape
/// codes).
pub fn terminal_colours() -> bool {
    if std::env::var_os("NO_COLOR").is_some() {
        return false;
    }
    if cfg!(windows) {
        return anstyle_query::windows::enable_ansi_colors() == Some(true);
    }
    true
}
