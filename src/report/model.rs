//! The report model: everything a run found, as every view renders it and as the JSON
//! document (`schema_version` 1) writes it.

use serde::Serialize;

use crate::capture::CaptureInfo;
use crate::diagnose::Finding;
use crate::net::Endpoint;
use crate::session::Connection;
use crate::time::Ts;

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

/// A registration summary per device.
#[derive(Clone, Debug, Serialize, PartialEq, schemars::JsonSchema)]
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

/// One SIP message, as reports show it (credentials never included).
#[derive(Clone, Debug, Serialize, PartialEq, schemars::JsonSchema)]
pub struct SipEntry {
    /// Index into `captures[]`.
    pub capture: usize,
    /// Frame where the message completed.
    pub frame: u64,
    /// Capture time.
    pub time: Ts,
    /// `udp`, `tcp` or `tls` (decrypted).
    pub transport: crate::net::Transport,
    /// Wireshark tcp.stream, for TCP and TLS.
    pub tcp_stream: Option<u64>,
    /// Sender.
    pub src: Endpoint,
    /// Receiver.
    pub dst: Endpoint,
    /// Method (of the request, or of the CSeq for responses).
    pub method: String,
    /// Status code (responses).
    pub status: Option<u16>,
    /// Reason phrase (responses).
    pub reason: Option<String>,
    /// CSeq number.
    pub cseq: Option<u32>,
    /// Call-ID.
    pub call_id: Option<String>,
    /// Device name from Contact.
    pub device: Option<String>,
    /// First Warning header, `399 agent "text"`.
    pub warning: Option<String>,
    /// Auth schemes present (`Proxy-Authenticate: Bearer`, `Proxy-Authorization: Bearer`, ...).
    pub auth: Vec<String>,
    /// Credentials the message carried, as `Header: value`: redacted to what helps without the
    /// secret (length, JWT header, issued/expiry times when readable), or whole with
    /// `--show-secrets`. Absent when there are none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub credentials: Vec<String>,
}

/// Everything a run found: the JSON document, and what every reporter renders.
#[derive(Clone, Debug, Serialize, PartialEq, schemars::JsonSchema)]
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
    /// SIP messages (the first 2,000 per capture; the rules see every one that was kept).
    pub sip: Vec<SipEntry>,
    /// What could not be decoded or seen; limits hit.
    pub notes: Vec<String>,
    /// Inputs that could not be read at all (absent when every input was read).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unreadable: Vec<Unreadable>,
}

/// An input that could not be read at all.
#[derive(Clone, Debug, Serialize, PartialEq, schemars::JsonSchema)]
pub struct Unreadable {
    /// The input as named (a path, `standard input`, or `archive.zip/member`).
    pub input: String,
    /// Why, in words (names the input).
    pub error: String,
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
