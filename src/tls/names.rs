//! Names of TLS wire values. Unknown values are data: they still get a printable name.

use std::borrow::Cow;

/// A TLS alert description (RFC 8446 section 6): a wire value with named constants, so that an
/// unknown value is still data (`unassigned_153`), never an error. JSON writes the number.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, schemars::JsonSchema,
)]
#[serde(transparent)]
pub struct AlertDescription(pub u8);

impl AlertDescription {
    /// close_notify (0).
    pub const CLOSE_NOTIFY: Self = Self(0);
    /// handshake_failure (40).
    pub const HANDSHAKE_FAILURE: Self = Self(40);
    /// bad_certificate (42).
    pub const BAD_CERTIFICATE: Self = Self(42);
    /// unsupported_certificate (43).
    pub const UNSUPPORTED_CERTIFICATE: Self = Self(43);
    /// certificate_revoked (44).
    pub const CERTIFICATE_REVOKED: Self = Self(44);
    /// certificate_expired (45).
    pub const CERTIFICATE_EXPIRED: Self = Self(45);
    /// certificate_unknown (46).
    pub const CERTIFICATE_UNKNOWN: Self = Self(46);
    /// unknown_ca (48).
    pub const UNKNOWN_CA: Self = Self(48);
    /// protocol_version (70).
    pub const PROTOCOL_VERSION: Self = Self(70);
    /// insufficient_security (71).
    pub const INSUFFICIENT_SECURITY: Self = Self(71);
    /// certificate_required (116).
    pub const CERTIFICATE_REQUIRED: Self = Self(116);

    /// The lowercase IANA name (`unknown_ca`), or `unassigned_<n>`.
    pub fn name(self) -> String {
        alert_description(self.0)
    }
}

impl std::fmt::Display for AlertDescription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Lowercase IANA name of an alert description; unknown codes become `unassigned_<n>`.
pub fn alert_description(code: u8) -> String {
    let name = match code {
        0 => "close_notify",
        10 => "unexpected_message",
        20 => "bad_record_mac",
        21 => "decryption_failed",
        22 => "record_overflow",
        30 => "decompression_failure",
        40 => "handshake_failure",
        41 => "no_certificate",
        42 => "bad_certificate",
        43 => "unsupported_certificate",
        44 => "certificate_revoked",
        45 => "certificate_expired",
        46 => "certificate_unknown",
        47 => "illegal_parameter",
        48 => "unknown_ca",
        49 => "access_denied",
        50 => "decode_error",
        51 => "decrypt_error",
        60 => "export_restriction",
        70 => "protocol_version",
        71 => "insufficient_security",
        80 => "internal_error",
        86 => "inappropriate_fallback",
        90 => "user_canceled",
        100 => "no_renegotiation",
        109 => "missing_extension",
        110 => "unsupported_extension",
        111 => "certificate_unobtainable",
        112 => "unrecognized_name",
        113 => "bad_certificate_status_response",
        114 => "bad_certificate_hash_value",
        115 => "unknown_psk_identity",
        116 => "certificate_required",
        120 => "no_application_protocol",
        121 => "ech_required",
        other => return format!("unassigned_{other}"),
    };
    name.to_string()
}

/// `warning`, `fatal`, or `level_<n>`.
pub fn alert_level(level: u8) -> String {
    match level {
        1 => "warning".into(),
        2 => "fatal".into(),
        n => format!("level_{n}"),
    }
}

/// `TLS1.2` and friends; unknown versions print in hex.
pub fn version(v: u16) -> Cow<'static, str> {
    Cow::Borrowed(match v {
        0x0002 => "SSLv2",
        0x0300 => "SSLv3",
        0x0301 => "TLS1.0",
        0x0302 => "TLS1.1",
        0x0303 => "TLS1.2",
        0x0304 => "TLS1.3",
        v if v >> 8 == 0x7f => return Cow::Owned(format!("TLS1.3-draft{}", v & 0xff)),
        v => return Cow::Owned(format!("0x{v:04x}")),
    })
}

/// IANA name of a cipher suite (tls-parser's table), or its hex code.
pub fn cipher_suite(id: u16) -> Cow<'static, str> {
    tls_parser::TlsCipherSuite::from_id(id)
        .map(|c| Cow::Borrowed(c.name))
        .unwrap_or_else(|| Cow::Owned(format!("0x{id:04x}")))
}

/// Name of a handshake message type.
/// A handshake message type (RFC 8446 section 4), with named constants; unknown values stay
/// printable (`Handshake(99)`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HandshakeType(pub u8);

impl HandshakeType {
    /// ClientHello (1).
    pub const CLIENT_HELLO: Self = Self(1);
    /// ServerHello (2).
    pub const SERVER_HELLO: Self = Self(2);
    /// Certificate (11).
    pub const CERTIFICATE: Self = Self(11);
    /// CertificateRequest (13).
    pub const CERTIFICATE_REQUEST: Self = Self(13);
    /// Finished (20).
    pub const FINISHED: Self = Self(20);
    /// KeyUpdate (24).
    pub const KEY_UPDATE: Self = Self(24);

    /// Its name as Wireshark shows it (`CertificateRequest`).
    pub fn name(self) -> String {
        handshake_type(self.0)
    }
}

/// A TLS record content type (RFC 8446 section 5.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ContentType(pub u8);

impl ContentType {
    /// change_cipher_spec (20).
    pub const CHANGE_CIPHER_SPEC: Self = Self(20);
    /// alert (21).
    pub const ALERT: Self = Self(21);
    /// handshake (22).
    pub const HANDSHAKE: Self = Self(22);
    /// application_data (23).
    pub const APPLICATION_DATA: Self = Self(23);
}

/// Name of a handshake message type, as Wireshark shows it.
pub fn handshake_type(t: u8) -> String {
    match t {
        0 => "HelloRequest",
        1 => "ClientHello",
        2 => "ServerHello",
        4 => "NewSessionTicket",
        5 => "EndOfEarlyData",
        8 => "EncryptedExtensions",
        11 => "Certificate",
        12 => "ServerKeyExchange",
        13 => "CertificateRequest",
        14 => "ServerHelloDone",
        15 => "CertificateVerify",
        16 => "ClientKeyExchange",
        20 => "Finished",
        22 => "CertificateStatus",
        24 => "KeyUpdate",
        other => return format!("Handshake({other})"),
    }
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_values_still_print() {
        assert_eq!(alert_description(48), "unknown_ca");
        assert_eq!(alert_description(0x99), "unassigned_153");
        assert_eq!(alert_level(7), "level_7");
        assert_eq!(version(0xfb1a), "0xfb1a");
        assert_eq!(
            cipher_suite(0xc02f),
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
        );
        assert_eq!(cipher_suite(0xeeee), "0xeeee");
    }
}
