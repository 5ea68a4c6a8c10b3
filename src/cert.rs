//! X.509 certificates as they matter for triage (x509-parser): who they name, who signed them,
//! when they are valid, what they may be used for. Used by the TLS decoder and the offline
//! trust check alike.

use std::collections::HashMap;
use std::sync::Arc;

use serde::Serialize;
use sha2::{Digest, Sha256};
use x509_parser::prelude::*;

use crate::time::Ts;

/// What a certificate says.
#[derive(Clone, Debug, Serialize, PartialEq, schemars::JsonSchema)]
pub struct CertInfo {
    /// Subject DN.
    pub subject: String,
    /// Issuer DN.
    pub issuer: String,
    /// Subject alternative names (`DNS:`, `IP:`, `URI:`, `email:`).
    pub san: Vec<String>,
    /// Start of validity.
    pub not_before: Ts,
    /// End of validity.
    pub not_after: Ts,
    /// Serial number, hex.
    pub serial: String,
    /// SHA-256 of the DER, hex.
    pub sha256: String,
    /// Extended key usages present (`server_auth`, `client_auth`, ...); empty when the extension is absent.
    pub extended_key_usage: Vec<String>,
    /// Basic constraints CA flag.
    pub is_ca: bool,
    /// Subject equals issuer.
    pub self_signed: bool,
}

/// Summarizes one DER certificate; `None` when it does not parse.
pub fn cert_info(der: &[u8]) -> Option<CertInfo> {
    let (_, c) = X509Certificate::from_der(der).ok()?;
    let mut san = Vec::new();
    if let Ok(Some(ext)) = c.subject_alternative_name() {
        for n in &ext.value.general_names {
            san.push(match n {
                GeneralName::DNSName(d) => format!("DNS:{d}"),
                GeneralName::IPAddress(b) => match b.len() {
                    4 => format!("IP:{}", std::net::Ipv4Addr::new(b[0], b[1], b[2], b[3])),
                    16 => {
                        let mut a = [0u8; 16];
                        a.copy_from_slice(b);
                        format!("IP:{}", std::net::Ipv6Addr::from(a))
                    }
                    _ => "IP:?".into(),
                },
                GeneralName::URI(u) => format!("URI:{u}"),
                GeneralName::RFC822Name(e) => format!("email:{e}"),
                GeneralName::DirectoryName(n) => format!("DirName:{n}"),
                GeneralName::OtherName(oid, _) => format!("othername:{oid}"),
                GeneralName::RegisteredID(oid) => format!("RID:{oid}"),
                _ => "other name".into(),
            });
        }
    }
    let mut eku = Vec::new();
    if let Ok(Some(ext)) = c.extended_key_usage() {
        let v = &ext.value;
        for (on, name) in [
            (v.any, "any"),
            (v.server_auth, "server_auth"),
            (v.client_auth, "client_auth"),
            (v.code_signing, "code_signing"),
            (v.email_protection, "email_protection"),
            (v.time_stamping, "time_stamping"),
            (v.ocsp_signing, "ocsp_signing"),
        ] {
            if on {
                eku.push(name.to_string());
            }
        }
    }
    let is_ca = matches!(c.basic_constraints(), Ok(Some(bc)) if bc.value.ca);
    let subject = c.subject().to_string();
    let issuer = c.issuer().to_string();
    Some(CertInfo {
        self_signed: subject == issuer,
        subject,
        issuer,
        san,
        not_before: Ts(c
            .validity()
            .not_before
            .timestamp()
            .saturating_mul(1_000_000_000)),
        not_after: Ts(c
            .validity()
            .not_after
            .timestamp()
            .saturating_mul(1_000_000_000)),
        serial: c.raw_serial_as_string().replace(':', ""),
        sha256: hex(&Sha256::digest(der)),
        extended_key_usage: eku,
        is_ca,
    })
}

/// Lowercase hex.
pub fn hex(b: &[u8]) -> String {
    use std::fmt::Write;
    b.iter()
        .fold(String::with_capacity(b.len() * 2), |mut s, x| {
            let _ = write!(s, "{x:02x}");
            s
        })
}

/// A certificate as sent and as parsed, shared.
pub type Shared = (Arc<[u8]>, Arc<CertInfo>);

/// Parsed certificates shared by every connection of a capture that presents them (captures
/// repeat the same few chains thousands of times): at most [`CACHE_SIZE`] entries, then the
/// cache starts over. Owned by the capture's analysis, so it goes with it.
#[derive(Debug, Default)]
pub struct CertCache {
    map: HashMap<u64, Shared>,
}

/// Certificates a [`CertCache`] holds at most.
pub const CACHE_SIZE: usize = 4096;

fn der_hash(der: &[u8]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    der.hash(&mut h);
    h.finish()
}

impl CertCache {
    /// The DER (shared) and its summary, parsed once per distinct certificate; `None` when it
    /// does not parse.
    pub fn get(&mut self, der: &[u8]) -> Option<Shared> {
        let key = der_hash(der);
        if let Some(hit) = self.map.get(&key).filter(|(d, _)| **d == *der) {
            return Some(hit.clone());
        }
        let info = Arc::new(cert_info(der)?);
        let entry = (Arc::<[u8]>::from(der), info);
        if self.map.len() >= CACHE_SIZE {
            self.map.clear();
        }
        self.map.insert(key, entry.clone());
        Some(entry)
    }
}
