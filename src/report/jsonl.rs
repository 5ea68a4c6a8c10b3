//! JSON Lines: one event per line, `{"type": ..., "data": ...}`, written as the analysis goes:
//! `capture` when a capture is opened, `connection` as each connection ends, then per capture
//! its `finding`s, `note`s and `capture_done`, and one `summary` at the very end. Every line
//! validates against the `Event` schema (`siptriage schema events`).

use std::io::Write;

use super::redact::{Redaction, Redactor};

use serde::Serialize;

use crate::capture::CaptureInfo;
use crate::diagnose::Finding;
use crate::report::{ConnectionEntry, Observer, Report, Tool, Verdict, SCHEMA_VERSION};

/// One line of the stream.
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[serde(tag = "type", content = "data", rename_all = "snake_case")]
pub enum Event<'a> {
    /// A capture is about to be read.
    Capture {
        /// Index it will have in `captures[]`.
        index: usize,
        /// Path as given.
        path: &'a str,
    },
    /// A connection ended (or the capture ended with it open).
    Connection(&'a ConnectionEntry),
    /// A finding of the capture just read (`siptriage watch`: a finding as soon as it is
    /// certain, with its first occurrence).
    Finding(&'a Finding),
    /// `siptriage watch`: a finding already told happened again; where it stands now.
    FindingUpdate(&'a crate::diagnose::Standing),
    /// Something the capture could not show, or a limit hit.
    Note {
        /// Capture index.
        capture: usize,
        /// The note (`siptriage watch`: the latest of its kind).
        text: &'a str,
        /// `siptriage watch`: notes of this kind so far (the same thing said of other
        /// connections, devices, files or counts); told when the first comes, then at most
        /// once per `--update-interval` while more come.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        count: Option<u64>,
        /// `siptriage watch`: the first few notes of this kind (three at most).
        #[serde(default, skip_serializing_if = "<[_]>::is_empty")]
        examples: &'a [String],
    },
    /// A capture was read to its end (or to where it is damaged).
    CaptureDone {
        /// Capture index.
        index: usize,
        /// What was read.
        capture: &'a CaptureInfo,
    },
    /// An input could not be read at all.
    Unreadable {
        /// Path as given.
        path: &'a str,
        /// Why.
        reason: &'a str,
    },
    /// The last line.
    Summary(Summary),
}

/// One line as written: the event, and for `siptriage watch` the capture time it concerns
/// and the wall-clock time it was written (both absent from `analyze`, whose output depends
/// on the capture only).
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Line<'a> {
    /// The event.
    #[serde(flatten)]
    pub event: Event<'a>,
    /// Capture time (the time of the last packet read when the event was written).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capture_time: Option<crate::time::Ts>,
    /// Wall-clock time the event was written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wall_time: Option<crate::time::Ts>,
}

/// Totals across every capture.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Summary {
    /// Version of the document and event formats.
    pub schema_version: u32,
    /// The tool.
    pub tool: Tool,
    /// Captures read.
    pub captures: usize,
    /// Findings by severity.
    pub errors: usize,
    /// Warnings.
    pub warnings: usize,
    /// Information.
    pub info: usize,
    /// `failure`, `ok` or `inconclusive`.
    pub verdict: Verdict,
    /// Why it is `inconclusive`.
    pub verdict_reasons: Vec<String>,
    /// The process exit code that follows.
    pub exit_code: u8,
    /// TCP connections analyzed.
    pub connections: u64,
    /// SIP messages analyzed.
    pub sip_messages: u64,
}

impl Summary {
    /// The report's summary (set by `analyze::conclude`), with the reasons of its verdict.
    pub fn of(report: &Report) -> Summary {
        let s = &report.summary;
        Summary {
            schema_version: SCHEMA_VERSION,
            tool: report.tool.clone(),
            captures: s.captures,
            errors: s.errors,
            warnings: s.warnings,
            info: s.info,
            verdict: s.verdict,
            verdict_reasons: report.verdict_reasons.clone(),
            exit_code: s.exit_code,
            connections: s.connections,
            sip_messages: s.sip_messages,
        }
    }
}

/// Writes events to `out` as they happen, redacted as they are written: each finding as soon as
/// the analysis holds it (the sensor's way), and at the end of its capture an update for each
/// finding that happened again since.
pub struct JsonLines<'w> {
    out: &'w mut dyn Write,
    redactor: Redactor,
    /// The findings of the capture being read told so far: how each stood when told, and
    /// how it stands now.
    told: Vec<(crate::diagnose::Standing, crate::diagnose::Standing)>,
    /// The aggregator's count of occurrences when last looked at.
    added: u64,
    /// The first write error, if any (the analysis goes on; the caller reports it).
    pub error: Option<std::io::Error>,
}

impl<'w> JsonLines<'w> {
    /// A stream into `out`.
    pub fn new(out: &'w mut dyn Write) -> Self {
        JsonLines {
            out,
            redactor: Redactor::default(),
            told: Vec::new(),
            added: 0,
            error: None,
        }
    }

    /// The same stream, with `what` redacted in every event.
    pub fn redacting(mut self, what: Redaction) -> Self {
        self.redactor = Redactor::new(what);
        self
    }

    fn emit(&mut self, e: &Event<'_>) {
        if self.error.is_some() {
            return;
        }
        let r = serde_json::to_writer(&mut *self.out, e)
            .map_err(std::io::Error::from)
            .and_then(|_| self.out.write_all(b"\n"))
            .and_then(|_| self.out.flush());
        if let Err(e) = r {
            self.error = Some(e);
        }
    }

    /// The redactor the events were redacted with (its pseudonyms, for the report and the
    /// map).
    pub fn redactor(&mut self) -> &mut Redactor {
        &mut self.redactor
    }

    /// A note of the run's own (unredacted: it must name no customer value).
    pub fn note(&mut self, note: &crate::note::Note) {
        self.emit(&Event::Note {
            capture: 0,
            text: &note.to_string(),
            count: None,
            examples: &[],
        });
    }

    /// The closing `summary` line: the report's summary (set by `analyze::conclude`), with the
    /// reasons of its verdict.
    pub fn summary(&mut self, report: &Report) {
        self.emit(&Event::Summary(Summary::of(report)));
    }
}

impl Observer for JsonLines<'_> {
    fn wants_connections(&self) -> bool {
        true
    }

    fn judged(&mut self, index: usize, agg: &crate::diagnose::Aggregator, _now: crate::time::Ts) {
        if agg.added() == self.added && agg.len() == self.told.len() {
            return;
        }
        self.added = agg.added();
        for i in 0..agg.len() {
            let Some(now) = agg.standing(i) else {
                continue;
            };
            match self.told.get_mut(i) {
                Some(t) => t.1 = now,
                None => {
                    if let Some(mut f) = agg.finding_at(i, index) {
                        if !self.redactor.is_empty() {
                            self.redactor.finding(&mut f);
                        }
                        self.emit(&Event::Finding(&f));
                    }
                    self.told.push((now.clone(), now));
                }
            }
        }
    }

    fn capture_started(&mut self, index: usize, path: &str) {
        self.told.clear();
        self.added = 0;
        if self.redactor.is_empty() {
            self.emit(&Event::Capture { index, path });
        } else {
            let mut path = path.to_string();
            self.redactor.learn_text(&path);
            self.redactor.text(&mut path);
            self.emit(&Event::Capture { index, path: &path });
        }
    }

    fn connection(&mut self, entry: &ConnectionEntry) {
        if self.redactor.is_empty() {
            self.emit(&Event::Connection(entry));
        } else {
            let mut entry = entry.clone();
            self.redactor.connection(&mut entry.connection);
            self.emit(&Event::Connection(&entry));
        }
    }

    fn names_seen(&mut self, devices: &[&str], warnings: &[&str]) {
        for d in devices {
            self.redactor.learn_device(d);
        }
        for w in warnings {
            self.redactor.learn_warning(w);
        }
    }

    fn capture_finished(
        &mut self,
        index: usize,
        info: &CaptureInfo,
        findings: &[Finding],
        notes: &[crate::note::Note],
    ) {
        for n in notes {
            self.redactor.learn_note(n);
        }
        // What happened again since it was told, once per finding.
        let told = std::mem::take(&mut self.told);
        for (then, now) in &told {
            if then != now {
                let mut now = now.clone();
                self.redactor.ip(&mut now.server.ip);
                self.emit(&Event::FindingUpdate(&now));
            }
        }
        // A finding the stream has not told (none, as every one passes through the analysis).
        for f in findings {
            let known = told.iter().any(|(t, _)| {
                t.id == f.id && t.server.ip == f.server.ip && t.server.port == f.server.port
            });
            if known {
                continue;
            }
            if self.redactor.is_empty() {
                self.emit(&Event::Finding(f));
            } else {
                let mut f = f.clone();
                self.redactor.finding(&mut f);
                self.emit(&Event::Finding(&f));
            }
        }
        for n in notes {
            let mut text = n.to_string();
            self.redactor.text(&mut text);
            self.emit(&Event::Note {
                capture: index,
                text: &text,
                count: None,
                examples: &[],
            });
        }
        if self.redactor.is_empty() {
            self.emit(&Event::CaptureDone {
                index,
                capture: info,
            });
        } else {
            let mut info = info.clone();
            self.redactor.text(&mut info.path);
            if let Some(s) = &mut info.stopped {
                self.redactor.text(s);
            }
            self.emit(&Event::CaptureDone {
                index,
                capture: &info,
            });
        }
    }

    fn unreadable(&mut self, path: &str, why: &str) {
        if self.redactor.is_empty() {
            self.emit(&Event::Unreadable { path, reason: why });
        } else {
            let (mut path, mut why) = (path.to_string(), why.to_string());
            for t in [&path, &why] {
                self.redactor.learn_text(t);
            }
            self.redactor.text(&mut path);
            self.redactor.text(&mut why);
            self.emit(&Event::Unreadable {
                path: &path,
                reason: &why,
            });
        }
    }
}

/// The JSON Schema of one line (draft 2020-12).
pub fn schema() -> String {
    let schema = schemars::schema_for!(Line<'static>);
    serde_json::to_string_pretty(&schema).unwrap_or_default() + "\n"
}
