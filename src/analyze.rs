//! The library's one call: captures in, [`Report`] out.

use serde::Serialize;

use crate::capture::{read_capture, CaptureInfo};
use crate::config::Config;
use crate::diagnose::{diagnose, Finding};
use crate::session::{Analyzer, CaptureFacts, Connection};

/// Version of the JSON document. It may grow (new fields); it must not break.
pub const SCHEMA_VERSION: u32 = 1;

/// The tool that wrote the report.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Tool {
    /// `siptriage`.
    pub name: &'static str,
    /// Crate version.
    pub version: &'static str,
}

/// A connection tagged with the capture it came from.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ConnectionEntry {
    /// Index into `captures[]`.
    pub capture: usize,
    /// The connection.
    #[serde(flatten)]
    pub connection: Connection,
}

/// A registration summary per device.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct RegistrationEntry {
    /// Index into `captures[]`.
    pub capture: usize,
    /// Device name (or AOR).
    pub device: String,
    /// REGISTER transactions.
    pub attempts: usize,
    /// Final answers in order, e.g. `407`, `200`.
    pub answers: Vec<u16>,
    /// Frames of the REGISTER requests.
    pub frames: Vec<u64>,
}

/// Everything a run found: the JSON document, and what every reporter renders.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Report {
    /// Always 1 for this format.
    pub schema_version: u32,
    /// The tool.
    pub tool: Tool,
    /// The captures read.
    pub captures: Vec<CaptureInfo>,
    /// Findings: errors first, then warnings, then information.
    pub findings: Vec<Finding>,
    /// TCP connections.
    pub connections: Vec<ConnectionEntry>,
    /// SIP registrations per device.
    pub registrations: Vec<RegistrationEntry>,
    /// What could not be decoded or seen; limits hit.
    pub notes: Vec<String>,
}

impl Report {
    /// Whether any finding is an error.
    pub fn has_errors(&self) -> bool {
        self.findings
            .iter()
            .any(|f| f.severity == crate::diagnose::Severity::Error)
    }
}

/// The outcome of [`analyze`]: the report and the inputs that could not be read at all.
pub struct Outcome {
    /// The report over every capture that could be read.
    pub report: Report,
    /// Inputs that could not be read at all, with the reason.
    pub unreadable: Vec<String>,
}

/// Analyzes one capture file (or `-`) into its facts.
pub fn facts_of(path: &str, cfg: &Config) -> Result<CaptureFacts, crate::capture::CaptureError> {
    let mut analyzer = Analyzer::new(cfg);
    let info = read_capture(path, &mut analyzer)?;
    Ok(analyzer.finish(info))
}

/// Analyzes captures in order; one unreadable file does not stop the others.
pub fn analyze(paths: &[String], cfg: &Config) -> Outcome {
    let mut report = Report {
        schema_version: SCHEMA_VERSION,
        tool: Tool {
            name: env!("CARGO_PKG_NAME"),
            version: env!("CARGO_PKG_VERSION"),
        },
        captures: Vec::new(),
        findings: Vec::new(),
        connections: Vec::new(),
        registrations: Vec::new(),
        notes: Vec::new(),
    };
    let mut unreadable = Vec::new();
    for path in paths {
        let facts = match facts_of(path, cfg) {
            Ok(f) => f,
            Err(e) => {
                report.notes.push(e.to_string());
                unreadable.push(e.to_string());
                continue;
            }
        };
        let idx = report.captures.len();
        let mut undecided = Vec::new();
        report
            .findings
            .extend(diagnose(&facts, cfg, idx, &mut undecided));
        for c in &facts.connections {
            report.connections.push(ConnectionEntry {
                capture: idx,
                connection: c.clone(),
            });
        }
        for r in &facts.registrations {
            let txs: Vec<_> = r
                .transactions
                .iter()
                .map(|&t| &facts.transactions[t])
                .collect();
            report.registrations.push(RegistrationEntry {
                capture: idx,
                device: r.device.clone(),
                attempts: txs.len(),
                answers: txs
                    .iter()
                    .filter_map(|t| t.final_response(&facts.sip))
                    .filter_map(|m| m.status)
                    .collect(),
                frames: txs.iter().map(|t| facts.sip[t.request].frame).collect(),
            });
        }
        let prefix = if paths.len() > 1 {
            format!("{path}: ")
        } else {
            String::new()
        };
        report.notes.extend(
            facts
                .notes
                .iter()
                .chain(undecided.iter())
                .map(|n| format!("{prefix}{n}")),
        );
        if let Some(info) = facts.info {
            report.captures.push(info);
        }
    }
    report
        .findings
        .sort_by(|a, b| a.severity.cmp(&b.severity).then(a.capture.cmp(&b.capture)));
    Outcome { report, unreadable }
}
