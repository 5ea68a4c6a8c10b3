//! Validated analysis settings: which ports mean what.

use serde::Serialize;

use crate::net::Role;

/// Default SIP Phone OAuth Port.
pub const OAUTH_PORT: u16 = 5090;
/// Default SIP MRA OAuth Port.
pub const MRA_OAUTH_PORT: u16 = 5091;

/// What a server port is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub enum PortKind {
    /// SIP Phone OAuth Port (Jabber/Webex to CUCM, TLS).
    #[serde(rename = "sip-oauth")]
    SipOAuth,
    /// SIP MRA OAuth Port (Expressway-C to CUCM, mutual TLS).
    #[serde(rename = "sip-mra-oauth")]
    SipMraOAuth,
    /// Legacy secure SIP (5061).
    #[serde(rename = "sip-tls")]
    SipTls,
    /// Legacy SIP (5060).
    #[serde(rename = "sip")]
    Sip,
    /// Anything else.
    #[serde(rename = "other")]
    Other,
}

impl PortKind {
    /// `(client role, server role)` for connections to a port of this kind.
    pub fn roles(self) -> (Role, Role) {
        match self {
            PortKind::SipOAuth => (Role::JabberOrWebex, Role::Cucm),
            PortKind::SipMraOAuth => (Role::ExpresswayC, Role::Cucm),
            PortKind::SipTls | PortKind::Sip => (Role::SipClient, Role::SipServer),
            PortKind::Other => (Role::Client, Role::Server),
        }
    }

    /// One of the two OAuth ports.
    pub fn is_oauth(self) -> bool {
        matches!(self, PortKind::SipOAuth | PortKind::SipMraOAuth)
    }

    /// A SIP port of any kind.
    pub fn is_sip(self) -> bool {
        self != PortKind::Other
    }

    /// Human name.
    pub fn label(self) -> &'static str {
        match self {
            PortKind::SipOAuth => "SIP Phone OAuth port",
            PortKind::SipMraOAuth => "SIP MRA OAuth port",
            PortKind::SipTls => "SIP TLS port",
            PortKind::Sip => "SIP port",
            PortKind::Other => "other port",
        }
    }
}

/// Which server ports mean what: the given ones, extended per capture by the ports its device
/// configuration files name (the learned port map).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortMap {
    /// SIP Phone OAuth ports (5090 and any added).
    pub oauth: Vec<u16>,
    /// SIP MRA OAuth ports (5091 and any added).
    pub mra_oauth: Vec<u16>,
    /// Legacy SIP TLS ports.
    pub sip_tls: Vec<u16>,
    /// Legacy SIP ports.
    pub sip: Vec<u16>,
}

impl Default for PortMap {
    fn default() -> Self {
        PortMap {
            oauth: vec![OAUTH_PORT],
            mra_oauth: vec![MRA_OAUTH_PORT],
            sip_tls: vec![5061],
            sip: vec![5060],
        }
    }
}

impl PortMap {
    /// Adds ports for nodes configured away from the defaults.
    pub fn with_ports(mut self, oauth: &[u16], mra: &[u16]) -> Self {
        for p in oauth {
            if !self.oauth.contains(p) {
                self.oauth.push(*p);
            }
        }
        for p in mra {
            if !self.mra_oauth.contains(p) {
                self.mra_oauth.push(*p);
            }
        }
        self
    }

    /// The kind of a server port.
    pub fn port_kind(&self, port: u16) -> PortKind {
        if self.mra_oauth.contains(&port) {
            PortKind::SipMraOAuth
        } else if self.oauth.contains(&port) {
            PortKind::SipOAuth
        } else if self.sip_tls.contains(&port) {
            PortKind::SipTls
        } else if self.sip.contains(&port) {
            PortKind::Sip
        } else {
            PortKind::Other
        }
    }
}

/// Devices whose registrations are followed per capture; past this, the REGISTERs of new
/// devices are judged one window at a time (their earlier registrations are not remembered).
pub const MAX_DEVICES: usize = 200_000;

/// SIP messages judged together while a capture is read (`Limits::sip_window`).
pub const SIP_WINDOW: usize = 512;

/// Bounds on what one capture's analysis holds in memory. Each has a default and an option.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// TCP connections tracked at once (`--max-connections`); past it the longest idle are
    /// settled early.
    pub max_connections: usize,
    /// IP datagrams waiting for fragments at once (`--max-fragments`).
    pub max_fragments: usize,
    /// Devices whose registrations are followed per capture (`--max-devices`).
    pub max_devices: usize,
    /// SIP messages judged together while the capture is read (no option: the findings do not
    /// depend on it, which the tests check by judging in windows of a few messages).
    pub sip_window: usize,
    /// Encrypted bytes held back across connections while waiting for keys that a later
    /// Decryption Secrets Block may bring (`--max-held-bytes`).
    pub hold_back_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            hold_back_bytes: crate::tls::MAX_HELD_TOTAL,
            max_connections: crate::flow::MAX_ACTIVE,
            max_fragments: crate::decode::defrag::MAX_DATAGRAMS,
            max_devices: MAX_DEVICES,
            sip_window: SIP_WINDOW,
        }
    }
}

/// TLS secrets, and whether credentials may be printed.
#[derive(Clone, Debug, Default)]
pub struct Secrets {
    /// TLS secrets from `--keylog` files.
    pub keylog: crate::tls::KeyLog,
    /// Print bearer tokens whole (`--show-secrets`, lab use).
    pub show: bool,
}

/// What one run is asked to do: the port map, limits, secrets, trust bundle and the listing
/// settings. Built once by the command line (or a library caller) and read by every stage.
#[derive(Clone, Debug)]
pub struct Config {
    /// Which ports mean what.
    pub ports: PortMap,
    /// Bounds on memory.
    pub limits: Limits,
    /// TLS secrets and credential display.
    pub secrets: Secrets,
    /// Trust bundle for the offline check (`--trust`).
    pub trust: Option<std::sync::Arc<crate::trust::TrustStore>>,
    /// CN/SAN entries of CUCM's Device > Expressway-C table (`--expressway-names`).
    pub expressway_names: Vec<String>,
    /// Evidence frames listed per finding at most (`--max-evidence`).
    pub max_evidence: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            ports: PortMap::default(),
            limits: Limits::default(),
            secrets: Secrets::default(),
            trust: None,
            expressway_names: Vec::new(),
            max_evidence: 20,
        }
    }
}

impl Config {
    /// Adds ports for nodes configured away from the defaults.
    pub fn with_ports(mut self, oauth: &[u16], mra: &[u16]) -> Self {
        self.ports = self.ports.with_ports(oauth, mra);
        self
    }
}
