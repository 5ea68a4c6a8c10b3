//! The report model: everything a run found, as every view renders it and as the JSON
//! document (`schema_version` 1) writes it.

use serde::Serialize;

use crate::capture::CaptureInfo;
use crate::diagnose::Finding;
use crate::session::Connection;

/// Version of the JSON document. It may grow (new fields); it must not break.
pub const SCHEMA_VERSION: u32 = 1;

/// The tool that wrote the report.
#[derive(Clone, Debug, Serialize, PartialEq, schemars::JsonSchema)]
pub struct Tool {
    /// `siptriage`.
    pub name: &'static str,
    /// Crate version.
    pub version: &'static str,
}

/// A connection tagged with the capture it came from.
#[derive(Clone, Debug, Serialize, PartialEq, schemars::JsonSchema)]
pub struct ConnectionEntry {
    /// Index into `captures[]`.
    pub capture: usize,
    /// The connection.
    #[serde(flatten)]
    pub connection: Connection,
}

/// A registration summary per device, with its capture.
#[derive(Clone, Debug, Serialize, PartialEq, schemars::JsonSchema)]
pub struct RegistrationEntry {
    /// Index into `captures[]`.
    pub capture: usize,
    /// The device's registrations.
    #[serde(flatten)]
    pub registration: crate::session::sipflow::DeviceRegistrations,
}

impl std::ops::Deref for RegistrationEntry {
    type Target = crate::session::sipflow::DeviceRegistrations;
    fn deref(&self) -> &Self::Target {
        &self.registration
    }
}

impl std::ops::DerefMut for RegistrationEntry {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.registration
    }
}

/// One SIP message as reports list it: the message (`SipMessage` serializes what reports show)
/// with its capture, and its credentials as the run may show them.
#[derive(Clone, Debug, Serialize, PartialEq, schemars::JsonSchema)]
pub struct SipEntry {
    /// Index into `captures[]`.
    pub capture: usize,
    /// The message.
    #[serde(flatten)]
    pub message: crate::sip::SipMessage,
    /// Credentials the message carried, as `Header: value`: redacted to what helps without the
    /// secret (length, JWT header, issued/expiry times when readable), or whole with
    /// `--show-secrets`. Absent when there are none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub credentials: Vec<String>,
    /// The log file the message was read from, when it comes from a log (Jabber, CUCM SDL,
    /// Expressway): `frame` is then its line in that file. Absent for captures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// The same message in a log given with the capture (`jabber.log:1234`): one message,
    /// two places. Absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub also: Option<String>,
}

impl std::ops::Deref for SipEntry {
    type Target = crate::sip::SipMessage;
    fn deref(&self) -> &crate::sip::SipMessage {
        &self.message
    }
}

impl std::ops::DerefMut for SipEntry {
    fn deref_mut(&mut self) -> &mut crate::sip::SipMessage {
        &mut self.message
    }
}

/// Everything a run found: the JSON document, and what every reporter renders.
#[derive(Clone, Debug, Serialize, PartialEq, schemars::JsonSchema)]
pub struct Report {
    /// Always 1 for this format.
    pub schema_version: u32,
    /// The tool.
    pub tool: Tool,
    /// `failure`, `ok` or `inconclusive`: the same in every format.
    pub verdict: Verdict,
    /// Why the verdict is `inconclusive` (what could not be judged); empty otherwise.
    pub verdict_reasons: Vec<String>,
    /// The captures read.
    pub captures: Vec<CaptureInfo>,
    /// Findings: errors first, then warnings, then information.
    pub findings: Vec<Finding>,
    /// TCP connections.
    pub connections: Vec<ConnectionEntry>,
    /// SIP registrations per device.
    pub registrations: Vec<RegistrationEntry>,
    /// SIP messages listed: the first 2,000 per capture and those cited as evidence (every
    /// SIP message is analyzed; `summary.sip_messages` counts them).
    pub sip: Vec<SipEntry>,
    /// What could not be decoded or seen; limits hit.
    pub notes: Vec<crate::note::Note>,
    /// Inputs that could not be read at all (absent when every input was read).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unreadable: Vec<Unreadable>,
    /// Totals, the verdict and the exit code, as the JSON Lines `summary` gives them.
    pub summary: Summary,
    /// Per capture (by index): the TCP connections analyzed, listed or not (the text report
    /// prints the total beside what it lists).
    #[serde(skip)]
    #[schemars(skip)]
    pub connections_analyzed: Vec<u64>,
    /// Per capture (by index): what it showed that its own verdict needs.
    #[serde(skip)]
    #[schemars(skip)]
    pub tallies: Vec<Tally>,
    /// Per capture (by index): connections by role and TLS version and SIP messages by
    /// transport, over everything read, listed or not.
    #[serde(skip)]
    #[schemars(skip)]
    pub counts: Vec<crate::session::Counts>,
}

pub use crate::verdict::Verdict;

/// Totals of a run, its verdict and the exit code that follows.
#[derive(Clone, Debug, Default, Serialize, PartialEq, schemars::JsonSchema)]
pub struct Summary {
    /// Captures read.
    pub captures: usize,
    /// Findings of severity error.
    pub errors: usize,
    /// Warnings.
    pub warnings: usize,
    /// Information.
    pub info: usize,
    /// The verdict.
    pub verdict: Verdict,
    /// The process exit code (0, 1 or 2) under the `--fail-on` policy in force (`error` when
    /// the library is called directly).
    pub exit_code: u8,
    /// TCP connections analyzed, listed in `connections[]` or not.
    pub connections: u64,
    /// SIP messages analyzed, listed in `sip[]` or not.
    pub sip_messages: u64,
}

/// What the captures showed that a verdict needs, added up over the captures of a run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Frames read.
    pub frames: u64,
    /// TCP connections analyzed.
    pub connections: u64,
    /// Connections to a SIP or SIP OAuth port.
    pub sip_port_connections: u64,
    /// SIP messages read (in clear or decrypted).
    pub sip_messages: u64,
    /// TLS connections to those ports whose SIP could not be decrypted.
    pub undecrypted: u64,
    /// TLS connections to those ports decrypted only in part.
    pub partly_decrypted: u64,
    /// REGISTER transactions answered 2xx.
    pub registered: u64,
    /// Notes that say a limit was reached.
    pub limits: Vec<String>,
}

impl Tally {
    /// Adds another capture's tally.
    pub fn add(&mut self, o: &Tally) {
        self.frames += o.frames;
        self.connections += o.connections;
        self.sip_port_connections += o.sip_port_connections;
        self.sip_messages += o.sip_messages;
        self.undecrypted += o.undecrypted;
        self.partly_decrypted += o.partly_decrypted;
        self.registered += o.registered;
        for l in &o.limits {
            if self.limits.len() < 3 && !self.limits.contains(l) {
                self.limits.push(l.clone());
            }
        }
    }

    /// The verdict, with its reasons when it is `inconclusive`: `failure` when a finding is an
    /// error; `ok` when a registration was seen to succeed and nothing was left unjudged.
    pub fn verdict(&self, errors: usize) -> (Verdict, Vec<String>) {
        if errors > 0 {
            // A failure is certain; what a limit left unjudged is still said.
            let limits = self
                .limits
                .iter()
                .map(|l| format!("a limit was reached, so not everything was judged: {l}"))
                .collect();
            return (Verdict::Failure, limits);
        }
        let mut reasons = Vec::new();
        if self.frames == 0 {
            reasons.push("the capture holds no frame".to_string());
        } else if self.sip_port_connections == 0 && self.sip_messages == 0 {
            reasons.push(
                "nothing toward CUCM or Expressway-C was seen: no SIP message and no connection \
                 to a SIP or SIP OAuth port"
                    .to_string(),
            );
        }
        if self.undecrypted > 0 {
            reasons.push(format!(
                "{} TLS connection(s) to SIP ports could not be decrypted (no usable key), so \
                 the SIP inside was not judged",
                self.undecrypted
            ));
        }
        if self.partly_decrypted > 0 {
            reasons.push(format!(
                "{} TLS connection(s) to SIP ports were decrypted in part only (the key log lacks \
                 a secret, named in the connection's decryption), so part of their SIP was not \
                 judged",
                self.partly_decrypted
            ));
        }
        for l in &self.limits {
            reasons.push(format!(
                "a limit was reached, so not everything was judged: {l}"
            ));
        }
        if reasons.is_empty() && self.registered == 0 {
            reasons.push("no registration was seen to succeed".to_string());
        }
        if reasons.is_empty() {
            (Verdict::Ok, reasons)
        } else {
            (Verdict::Inconclusive, reasons)
        }
    }
}

/// An input that could not be read at all.
#[derive(Clone, Debug, Serialize, PartialEq, schemars::JsonSchema)]
pub struct Unreadable {
    /// The input as named (a path, `standard input`, or `archive.zip/member`).
    pub input: String,
    /// Why, in words (names the input).
    pub error: String,
    /// It could have held evidence (a capture or a log): not read, it leaves the run
    /// unjudged. A key log named as an input holds none.
    #[serde(skip)]
    #[schemars(skip)]
    pub holds_evidence: bool,
}

impl Report {
    /// Whether any finding is an error.
    pub fn has_errors(&self) -> bool {
        self.findings
            .iter()
            .any(|f| f.severity == crate::diagnose::Severity::Error)
    }
}

/// The JSON Schema of [`Report`] (draft 2020-12), as `siptriage schema` prints it.
pub fn schema() -> String {
    let schema = schemars::schema_for!(Report);
    serde_json::to_string_pretty(&schema).unwrap_or_default() + "\n"
}
