//! X.509 certificates as they matter for triage (x509-parser), and the parts of Certificate
//! and CertificateRequest messages we parse ourselves (TLS 1.3 layouts included).

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

/// Parsed certificates shared by every connection that presents them (captures repeat the same
/// few chains thousands of times); at most [`CACHE_SIZE`] entries, then the cache starts over.
pub const CACHE_SIZE: usize = 4096;

/// A certificate as sent and as parsed, shared.
pub type Shared = (std::sync::Arc<[u8]>, std::sync::Arc<CertInfo>);

thread_local! {
    static CACHE: std::cell::RefCell<std::collections::HashMap<u64, Shared>> = Default::default();
}

fn der_hash(der: &[u8]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    der.hash(&mut h);
    h.finish()
}

/// The DER (shared) and its summary, parsed once per distinct certificate.
pub fn cached(der: &[u8]) -> Option<Shared> {
    let key = der_hash(der);
    if let Some(hit) = CACHE.with(|c| c.borrow().get(&key).filter(|(d, _)| **d == *der).cloned()) {
        return Some(hit);
    }
    let info = std::sync::Arc::new(cert_info(der)?);
    let entry = (std::sync::Arc::<[u8]>::from(der), info);
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() >= CACHE_SIZE {
            c.clear();
        }
        c.insert(key, entry.clone());
    });
    Some(entry)
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

fn u24(b: &[u8]) -> Option<usize> {
    Some(((*b.first()? as usize) << 16) | ((*b.get(1)? as usize) << 8) | *b.get(2)? as usize)
}

fn u16_at(b: &[u8], at: usize) -> Option<usize> {
    Some(((*b.get(at)? as usize) << 8) | *b.get(at + 1)? as usize)
}

/// The DER certificates of a Certificate message body (after the 4-byte handshake header).
/// TLS 1.3 has a request context and per-entry extensions, which tls-parser does not read.
pub fn certificate_chain(body: &[u8], tls13: bool) -> Option<Vec<&[u8]>> {
    let mut at = 0;
    if tls13 {
        at = 1 + *body.first()? as usize;
    }
    let total = u24(body.get(at..)?)?;
    at += 3;
    let end = at.checked_add(total)?;
    let list = body.get(at..end)?;
    let mut out = Vec::new();
    let mut i = 0;
    while i < list.len() {
        let n = u24(list.get(i..)?)?;
        i += 3;
        out.push(list.get(i..i + n)?);
        i += n;
        if tls13 {
            let e = u16_at(list, i)?;
            i += 2 + e;
        }
    }
    Some(out)
}

/// The CA distinguished names listed by a CertificateRequest body (RFC 5246 7.4.4; in TLS 1.3
/// the certificate_authorities extension), as strings.
pub fn certificate_request_cas(body: &[u8], version: u16) -> Option<Vec<String>> {
    let tls13 = version == 0x0304 || version >> 8 == 0x7f;
    let names: &[u8] = if tls13 {
        let ctx = *body.first()? as usize;
        let mut at = 1 + ctx;
        let exts_len = u16_at(body, at)?;
        at += 2;
        let exts = body.get(at..at + exts_len)?;
        let mut i = 0;
        let mut found: &[u8] = &[];
        while i + 4 <= exts.len() {
            let t = u16_at(exts, i)?;
            let l = u16_at(exts, i + 2)?;
            let d = exts.get(i + 4..i + 4 + l)?;
            if t == 47 {
                let n = u16_at(d, 0)?;
                found = d.get(2..2 + n)?;
            }
            i += 4 + l;
        }
        found
    } else {
        let types = *body.first()? as usize;
        let mut at = 1 + types;
        if version >= 0x0303 {
            at += 2 + u16_at(body, at)?;
        }
        let n = u16_at(body, at)?;
        body.get(at + 2..at + 2 + n)?
    };
    let mut out = Vec::new();
    let mut i = 0;
    while i + 2 <= names.len() {
        let n = u16_at(names, i)?;
        let der = names.get(i + 2..i + 2 + n)?;
        out.push(match X509Name::from_der(der) {
            Ok((_, name)) => name.to_string(),
            Err(_) => format!("<undecodable name, {} bytes>", der.len()),
        });
        i += 2 + n;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls13_certificate_entries_are_read() {
        // context len 0, list of one 3-byte "cert" with 0 extensions.
        let body = [0u8, 0, 0, 8, 0, 0, 3, 1, 2, 3, 0, 0];
        assert_eq!(certificate_chain(&body, true), Some(vec![&[1u8, 2, 3][..]]));
        let body12 = [0u8, 0, 6, 0, 0, 3, 1, 2, 3];
        assert_eq!(
            certificate_chain(&body12, false),
            Some(vec![&[1u8, 2, 3][..]])
        );
        assert_eq!(certificate_chain(&[0, 0, 9, 0], false), None);
    }

    #[test]
    fn certificate_request_without_cas() {
        // TLS 1.2: 1 cert type, 2 bytes of sig algs, empty CA list.
        let body = [1u8, 64, 0, 2, 4, 3, 0, 0];
        assert_eq!(certificate_request_cas(&body, 0x0303), Some(vec![]));
    }
}
