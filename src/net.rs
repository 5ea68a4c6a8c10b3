//! The vocabulary every layer shares: endpoints, directions, the two sides of a connection,
//! transports and roles. Strings appear only where JSON or text is written (through serde).

use std::net::IpAddr;

use serde::Serialize;

/// An address and port.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, schemars::JsonSchema,
)]
pub struct Endpoint {
    /// IP address.
    pub ip: IpAddr,
    /// Port.
    pub port: u16,
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.ip {
            IpAddr::V4(a) => write!(f, "{a}:{}", self.port),
            IpAddr::V6(a) => write!(f, "[{a}]:{}", self.port),
        }
    }
}

/// Direction within a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Dir {
    /// From the client (the side that sent the SYN) to the server.
    ToServer,
    /// From the server to the client.
    ToClient,
}

impl Dir {
    /// 0 for client-to-server, 1 for server-to-client.
    pub fn idx(self) -> usize {
        match self {
            Dir::ToServer => 0,
            Dir::ToClient => 1,
        }
    }
    /// Who sends in this direction.
    pub fn sender(self) -> Side {
        match self {
            Dir::ToServer => Side::Client,
            Dir::ToClient => Side::Server,
        }
    }
}

/// One side of a connection: the client opened it (sent the SYN, or the ClientHello), the
/// server accepted it.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// The side that opened the connection.
    Client,
    /// The side that accepted it.
    Server,
}

impl Side {
    /// `client` or `server`.
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Client => "client",
            Side::Server => "server",
        }
    }

    /// The other side.
    pub fn other(self) -> Side {
        match self {
            Side::Client => Side::Server,
            Side::Server => Side::Client,
        }
    }
}

impl std::fmt::Display for Side {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a SIP message travelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Transport {
    /// UDP.
    Udp,
    /// TCP in clear.
    Tcp,
    /// TLS (read decrypted).
    Tls,
}

impl Transport {
    /// `udp`, `tcp` or `tls`.
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
            Transport::Tls => "tls",
        }
    }
}

impl std::fmt::Display for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The part a party plays, as far as the capture shows it.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, schemars::JsonSchema,
)]
pub enum Role {
    /// Cisco Unified CM (the server of a SIP OAuth port).
    #[serde(rename = "cucm")]
    Cucm,
    /// Expressway-C (the client of the SIP MRA OAuth port).
    #[serde(rename = "expressway-c")]
    ExpresswayC,
    /// A Jabber or Webex App client (the client of the SIP Phone OAuth port).
    #[serde(rename = "jabber-or-webex")]
    JabberOrWebex,
    /// A SIP client on a legacy SIP port.
    #[serde(rename = "sip-client")]
    SipClient,
    /// A SIP server on a legacy SIP port.
    #[serde(rename = "sip-server")]
    SipServer,
    /// The TFTP/HTTP server a device configuration file came from.
    #[serde(rename = "tftp")]
    Tftp,
    /// Any other client.
    #[serde(rename = "client")]
    Client,
    /// Any other server.
    #[serde(rename = "server")]
    Server,
}

impl Role {
    /// As JSON and text write it (`cucm`, `expressway-c`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Cucm => "cucm",
            Role::ExpresswayC => "expressway-c",
            Role::JabberOrWebex => "jabber-or-webex",
            Role::SipClient => "sip-client",
            Role::SipServer => "sip-server",
            Role::Tftp => "tftp",
            Role::Client => "client",
            Role::Server => "server",
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A 128-bit digest of a value (two hashes with fixed seeds), for tables keyed by long names
/// that should not keep a copy of each name. Two different names share a digest by chance
/// once in 2^128 pairs; the hash is fast, not cryptographic, so input crafted to collide
/// could merge two devices' or transactions' records, nothing more.
pub fn key128<T: std::hash::Hash + ?Sized>(value: &T) -> (u64, u64) {
    use std::hash::BuildHasher;
    let hash = |seed: u64| foldhash::quality::FixedState::with_seed(seed).hash_one(value);
    (hash(0x5157_7269_6167_6531), hash(0x0a07_4f41_7574_6821))
}

/// A number that is never `u64::MAX` (a frame, a `tcp.stream`) kept plus one, so that "none"
/// takes no room: `Option<NonZeroU64>` is 8 bytes where `Option<u64>` is 16, and records kept
/// per connection or device add up.
pub fn plus_one(n: u64) -> Option<std::num::NonZeroU64> {
    std::num::NonZeroU64::new(n.wrapping_add(1))
}

/// The number [`plus_one`] kept.
pub fn minus_one(n: std::num::NonZeroU64) -> u64 {
    n.get() - 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_kept_plus_one_come_back_and_digests_tell_names_apart() {
        // Log lines are numbered from 2^56 up.
        for n in [0, 1, 4_096, (1 << 56) + 7, u64::MAX - 1] {
            assert_eq!(plus_one(n).map(minus_one), Some(n));
        }
        assert_eq!(
            std::mem::size_of::<Option<std::num::NonZeroU64>>(),
            std::mem::size_of::<u64>()
        );
        assert_eq!(key128("CSF00001"), key128("CSF00001"));
        assert_ne!(key128("CSF00001"), key128("CSF00002"));
        // Parts are told apart, not run together.
        assert_ne!(key128(&("ab", 1u32, "c")), key128(&("a", 1u32, "bc")));
    }
}
