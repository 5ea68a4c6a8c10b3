//! What one TLS connection showed: hellos, certificate chains, the CertificateRequest, alerts
//! with who sent them, the handshake steps, and whether it could be decrypted.

use crate::place::At;
use serde::Serialize;

use super::{AlertDescription, HandshakeType};
use crate::cert::CertInfo;
use crate::net::{Dir, Side};
use crate::time::Ts;

/// The ClientHello as seen.
#[derive(Clone, Debug, Serialize, PartialEq, schemars::JsonSchema)]
pub struct ClientHello {
    /// Frame.
    pub frame: u64,
    /// Server name indication.
    pub sni: Option<String>,
    /// Versions offered (supported_versions, or the legacy version).
    pub offered_versions: Vec<std::borrow::Cow<'static, str>>,
    /// Number of cipher suites offered.
    pub cipher_suites_offered: usize,
}

/// The ServerHello as seen.
#[derive(Clone, Debug, Serialize, PartialEq, schemars::JsonSchema)]
pub struct ServerHello {
    /// Frame.
    pub frame: u64,
    /// Negotiated version (supported_versions for TLS 1.3).
    pub version: std::borrow::Cow<'static, str>,
    /// Negotiated cipher suite.
    pub cipher_suite: std::borrow::Cow<'static, str>,
    /// This was a HelloRetryRequest.
    pub hello_retry_request: bool,
}

/// A presented certificate chain.
#[derive(Clone, Debug, Serialize, PartialEq, schemars::JsonSchema)]
pub struct Chain {
    /// Frame where the Certificate message completed.
    pub frame: u64,
    /// Its capture time.
    pub time: Ts,
    /// `client` or `server`.
    pub presented_by: Side,
    /// Leaf first.
    pub certificates: Vec<std::sync::Arc<CertInfo>>,
    /// The offline trust check of this chain (`--trust`), when a bundle was given.
    pub trust: Option<Box<crate::trust::TrustResult>>,
    /// The certificates as sent (DER), for the trust check.
    #[serde(skip)]
    #[schemars(skip)]
    pub der: Vec<std::sync::Arc<[u8]>>,
}

/// A CertificateRequest.
#[derive(Clone, Debug, Serialize, PartialEq, schemars::JsonSchema)]
pub struct CertRequest {
    /// Frame.
    pub frame: u64,
    /// Its capture time.
    pub time: Ts,
    /// The CA names the server accepts (empty: any).
    pub ca_names: Vec<String>,
}

/// A TLS alert.
#[derive(Clone, Debug, Serialize, PartialEq, schemars::JsonSchema)]
pub struct Alert {
    /// Where it was seen: its frame, or the log's line that told of it.
    #[serde(rename = "frame", serialize_with = "crate::place::number")]
    #[schemars(rename = "frame", with = "u64")]
    pub at: At,
    /// Capture time.
    pub time: Ts,
    /// `client` or `server`.
    pub sent_by: Side,
    /// Direction it travelled.
    #[serde(skip)]
    pub dir: Dir,
    /// Level code (1 warning, 2 fatal); `None` when encrypted.
    pub level: Option<u8>,
    /// Description code; `None` when encrypted.
    pub code: Option<AlertDescription>,
    /// Lowercase IANA name, or `encrypted`.
    pub description: String,
    /// The alert was inside an encrypted record and could not be read (no keys).
    pub encrypted: bool,
    /// The alert was read by decrypting its record.
    pub decrypted: bool,
    /// Handshake steps that preceded it in the connection.
    #[serde(skip)]
    pub after_steps: usize,
    /// For an alert a log told (Expressway's `TLS Negotiation Error`), the log's own words:
    /// `Detail="…" Common-name="…"`. Absent for a captured alert.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logged: Option<String>,
}

impl Alert {
    /// A fatal alert, as far as its level could be read: an encrypted alert (level unknown)
    /// is not counted as fatal.
    pub fn is_fatal(&self) -> bool {
        self.level == Some(2)
    }
}

/// What a handshake step was. JSON and the ladder write its name (`ClientHello`,
/// `ChangeCipherSpec`, `Finished (encrypted)`, `EncryptedHandshake`, `Alert(unknown_ca)`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StepKind {
    /// A handshake message read in clear or decrypted.
    Handshake(HandshakeType),
    /// ChangeCipherSpec.
    ChangeCipherSpec,
    /// TLS 1.2: the encrypted handshake record after ChangeCipherSpec (the Finished).
    EncryptedFinished,
    /// TLS 1.3 without keys: an encrypted handshake flight.
    EncryptedHandshake,
    /// An alert, with its description when it could be read.
    Alert(Option<AlertDescription>),
}

impl StepKind {
    /// The step's name.
    pub fn label(&self) -> String {
        match self {
            StepKind::Handshake(t) => t.name(),
            StepKind::ChangeCipherSpec => "ChangeCipherSpec".into(),
            StepKind::EncryptedFinished => "Finished (encrypted)".into(),
            StepKind::EncryptedHandshake => "EncryptedHandshake".into(),
            StepKind::Alert(d) => format!(
                "Alert({})",
                d.map_or_else(|| "encrypted".to_string(), |d| d.name())
            ),
        }
    }

    /// A Finished, read or encrypted.
    pub fn is_finished(&self) -> bool {
        matches!(
            self,
            StepKind::Handshake(HandshakeType::FINISHED) | StepKind::EncryptedFinished
        )
    }
}

impl std::fmt::Display for StepKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.label())
    }
}

impl Serialize for StepKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.label())
    }
}

impl schemars::JsonSchema for StepKind {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "StepKind".into()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        String::json_schema(generator)
    }
}

/// A step of the handshake, for the ladder and for "how far did it get".
#[derive(Clone, Debug, Serialize, PartialEq, schemars::JsonSchema)]
pub struct Step {
    /// Frame.
    pub frame: u64,
    /// Capture time.
    pub time: Ts,
    /// `client` or `server`.
    pub from: Side,
    /// Message name (`ClientHello`, `Certificate`, `ChangeCipherSpec`, `EncryptedHandshake`, ...).
    pub message: StepKind,
}

/// Everything seen of one TLS connection.
#[derive(Clone, Debug, Default, Serialize, PartialEq, schemars::JsonSchema)]
pub struct TlsSummary {
    /// First ClientHello.
    pub client_hello: Option<ClientHello>,
    /// Last ServerHello.
    pub server_hello: Option<ServerHello>,
    /// Certificate chains presented (server's and, in mutual TLS, client's).
    pub chains: Vec<Chain>,
    /// CertificateRequest from the server.
    pub certificate_request: Option<Box<CertRequest>>,
    /// Alerts in order.
    pub alerts: Vec<Alert>,
    /// Handshake steps in order (at most 64).
    pub steps: Vec<Step>,
    /// Application data records per direction `[client, server]`.
    pub application_records: [u64; 2],
    /// Application data bytes per direction.
    pub application_bytes: [u64; 2],
    /// Frame of the first application record per direction.
    pub first_application_frame: [Option<u64>; 2],
    /// Gaps the decoder had to resync after.
    pub resyncs: u32,
    /// Something that could not be parsed (first one).
    pub malformed: Option<String>,
    /// `decrypted`, or why not (`not decrypted: no key for this session`, ...); absent when
    /// nothing was encrypted.
    pub decryption: Option<String>,
    /// Plaintext bytes of application data recovered by decryption.
    pub decrypted_bytes: u64,
    /// Decrypted only in part: the key log lacks one direction's (or one phase's) secret.
    #[serde(skip)]
    pub partly_decrypted: bool,
    /// TLS 1.3 without keys: the first encrypted records after the ServerHello, in order
    /// (`(sender, frame, length)`, at most 16), for telling a rejection from a handshake.
    #[serde(skip)]
    pub encrypted_records: Vec<(Side, u64, usize)>,
}

/// An encrypted record shorter than this cannot be a TLS 1.3 Finished (32-byte verify data
/// plus tag); it is an alert (2 bytes plus type plus tag).
pub const SHORT_RECORD: usize = 40;

impl TlsSummary {
    /// Negotiated version code, if a ServerHello was seen.
    pub fn version(&self) -> Option<&str> {
        self.server_hello.as_ref().map(|s| &*s.version)
    }

    /// Whether the handshake finished (both sides moved on to encrypted traffic or app data).
    pub fn handshake_complete(&self) -> bool {
        self.application_records[0] > 0 && self.application_records[1] > 0
            || self
                .steps
                .iter()
                .filter(|s| s.message == StepKind::EncryptedFinished)
                .count()
                >= 2
    }

    /// Chain presented by `client` or `server`.
    pub fn chain_of(&self, who: Side) -> Option<&Chain> {
        self.chains.iter().find(|c| c.presented_by == who)
    }

    /// Whether a step with this message from `who` happened before `frame`.
    pub fn saw_before(&self, who: Side, message: &StepKind, frame: u64) -> bool {
        self.steps
            .iter()
            .any(|s| s.from == who && s.message == *message && s.frame <= frame)
    }
}
