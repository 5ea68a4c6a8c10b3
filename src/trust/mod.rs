//! Offline trust check: every certificate chain seen in the capture validated (rustls-webpki)
//! against what the customer exported (CUCM's tomcat-trust certificates or Expressway-C's
//! trusted CA list), naming the one CA the chain needs and the bundle lacks.

use std::path::Path;
use std::time::Duration;

use rustls_pki_types::{CertificateDer, UnixTime};
use serde::Serialize;

use crate::cert::cert_info;
use crate::time::Ts;

/// A loaded trust bundle.
#[derive(Clone, Debug)]
pub struct TrustStore {
    /// The path given.
    pub bundle: String,
    certs: Vec<CertificateDer<'static>>,
    subjects: Vec<String>,
}

/// The outcome of checking one chain, as the JSON contract shows it.
#[derive(Clone, Debug, Serialize, PartialEq, Eq, schemars::JsonSchema)]
pub struct TrustResult {
    /// The bundle checked against.
    pub bundle: String,
    /// The chain verifies for its usage at the capture time.
    pub verified: bool,
    /// Subject of the one CA the chain needs and the bundle lacks (null when it verifies, or
    /// when the failure is not a missing CA).
    pub missing_ca: Option<String>,
    /// Why it does not verify (`unknown issuer`, `expired`, `wrong usage`, ...).
    pub reason: Option<String>,
}

/// What a chain is used for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Usage {
    /// Presented by a TLS server.
    Server,
    /// Presented by a TLS client (Expressway-C on the MRA port).
    Client,
}

/// Why a trust bundle cannot be used. Each message names the file and the problem in words.
#[derive(Debug)]
pub enum TrustError {
    /// The file or folder could not be read.
    Read {
        /// The path.
        path: String,
        /// What the system said.
        error: std::io::Error,
    },
    /// The file holds something damaged: a cut PEM section, bad base64, a certificate that
    /// does not parse.
    Damaged {
        /// The path.
        path: String,
        /// The problem, with its place in the file.
        problem: String,
    },
    /// No certificate in the file or folder.
    NoCertificate {
        /// The path.
        path: String,
        /// The PEM sections found instead (a private key, a request, ...).
        found: Vec<String>,
        /// The path is a folder.
        folder: bool,
    },
}

impl std::fmt::Display for TrustError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TrustError::Read { path, error } => write!(f, "{path}: cannot read: {error}"),
            TrustError::Damaged { path, problem } => write!(f, "{path}: {problem}"),
            TrustError::NoCertificate {
                path, folder: true, ..
            } => write!(
                f,
                "{path}: no certificate found (the folder holds no .pem, .crt, .cer, .der, .p7b \
                 or .p7c file)"
            ),
            TrustError::NoCertificate { path, found, .. } if found.is_empty() => write!(
                f,
                "{path}: no certificate found: expected PEM (-----BEGIN CERTIFICATE-----), DER \
                 or PKCS#7 (.p7b)"
            ),
            TrustError::NoCertificate { path, found, .. } => write!(
                f,
                "{path}: no certificate found, only {} section(s): a trust bundle holds the CA \
                 certificates",
                found.join(", ")
            ),
        }
    }
}

impl std::error::Error for TrustError {}

/// One DER element: `(tag, content, rest)`.
fn tlv(b: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = b.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (first as usize, rest)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, &x| (acc << 8) | x as usize);
        (len, &rest[n..])
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

/// DER of the PKCS#7 / CMS content type signedData, 1.2.840.113549.1.7.2.
const SIGNED_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02];

/// The certificates of a PKCS#7 SignedData (`.p7b`, `.p7c`): `None` when `der` is not one.
fn pkcs7_certs(der: &[u8]) -> Option<Vec<Vec<u8>>> {
    let (0x30, content_info, _) = tlv(der)? else {
        return None;
    };
    let (0x06, oid, rest) = tlv(content_info)? else {
        return None;
    };
    if oid != SIGNED_DATA {
        return None;
    }
    let (0xa0, explicit, _) = tlv(rest)? else {
        return None;
    };
    let (0x30, mut signed, _) = tlv(explicit)? else {
        return None;
    };
    // version, digestAlgorithms, encapContentInfo, then [0] IMPLICIT certificates.
    let mut certs = Vec::new();
    while let Some((tag, content, rest)) = tlv(signed) {
        if tag == 0xa0 {
            let mut set = content;
            while let Some((t, _, after)) = tlv(set) {
                let whole = &set[..set.len() - after.len()];
                if t == 0x30 {
                    certs.push(whole.to_vec());
                }
                set = after;
            }
        }
        signed = rest;
    }
    Some(certs)
}

/// The PEM sections of a text: `(label, DER, line of the BEGIN)`.
fn pem_sections(text: &str) -> Result<Vec<(String, Vec<u8>, usize)>, String> {
    use base64::Engine;
    let mut out = Vec::new();
    let mut lines = text.lines().enumerate();
    while let Some((n, line)) = lines.next() {
        let Some(label) = line
            .trim()
            .strip_prefix("-----BEGIN ")
            .and_then(|l| l.strip_suffix("-----"))
        else {
            if line.trim_start().starts_with("-----BEGIN") {
                return Err(format!(
                    "line {}: a damaged \"-----BEGIN\" line (the file is cut short?)",
                    n + 1
                ));
            }
            continue;
        };
        let end = format!("-----END {label}-----");
        let mut body = String::new();
        let mut closed = false;
        for (_, l) in lines.by_ref() {
            if l.trim() == end {
                closed = true;
                break;
            }
            if !l.contains(':') {
                body.push_str(l.trim());
            }
        }
        if !closed {
            return Err(format!(
                "line {}: the {label} section has no \"{end}\" line (the file is cut short, or \
                 was pasted incompletely)",
                n + 1
            ));
        }
        let der = base64::engine::general_purpose::STANDARD
            .decode(body.as_bytes())
            .map_err(|_| {
                format!(
                    "line {}: the {label} section is not valid base64 (damaged or edited)",
                    n + 1
                )
            })?;
        out.push((label.to_string(), der, n + 1));
    }
    Ok(out)
}

/// An X.509 certificate that parses, or why not.
fn certificate(der: Vec<u8>, place: &str) -> Result<CertificateDer<'static>, String> {
    // OpenSSL's TRUSTED CERTIFICATE appends its trust settings after the certificate.
    let len = tlv(&der)
        .map(|(_, _, rest)| der.len() - rest.len())
        .unwrap_or(der.len());
    let der = der[..len].to_vec();
    if x509_parser::parse_x509_certificate(&der).is_err() {
        return Err(format!("{place} is not a valid X.509 certificate"));
    }
    Ok(CertificateDer::from(der))
}

/// Reads the certificates of one file: PEM (certificates and PKCS#7 sections), DER
/// certificate, or DER PKCS#7.
fn read_certs(path: &Path, out: &mut Vec<CertificateDer<'static>>) -> Result<(), TrustError> {
    let shown = path.display().to_string();
    let damaged = |problem: String| TrustError::Damaged {
        path: shown.clone(),
        problem,
    };
    let bytes = std::fs::read(path).map_err(|error| TrustError::Read {
        path: shown.clone(),
        error,
    })?;
    if bytes.first() == Some(&0x30) {
        if let Some(certs) = pkcs7_certs(&bytes) {
            if certs.is_empty() {
                return Err(damaged("a PKCS#7 bundle that holds no certificate".into()));
            }
            for (i, der) in certs.into_iter().enumerate() {
                let place = format!("certificate {} of the PKCS#7 bundle", i + 1);
                out.push(certificate(der, &place).map_err(damaged)?);
            }
            return Ok(());
        }
        let cert = certificate(bytes, "the DER data").map_err(|e| {
            damaged(format!(
                "{e} (nor a PKCS#7 bundle); export it again as PEM or DER"
            ))
        })?;
        out.push(cert);
        return Ok(());
    }
    let text = String::from_utf8_lossy(&bytes);
    let sections = pem_sections(&text).map_err(damaged)?;
    let before = out.len();
    let mut labels = Vec::new();
    for (label, der, line) in sections {
        let place = format!("the {label} section at line {line}");
        match label.as_str() {
            "CERTIFICATE" | "X509 CERTIFICATE" | "TRUSTED CERTIFICATE" => {
                out.push(certificate(der, &place).map_err(damaged)?)
            }
            "PKCS7" | "CMS" => {
                let certs = pkcs7_certs(&der)
                    .ok_or_else(|| damaged(format!("{place} is not a PKCS#7 SignedData")))?;
                for der in certs {
                    out.push(certificate(der, &place).map_err(damaged)?);
                }
            }
            _ => labels.push(label),
        }
    }
    if out.len() == before {
        return Err(TrustError::NoCertificate {
            path: shown,
            found: labels,
            folder: false,
        });
    }
    Ok(())
}

impl TrustStore {
    /// Loads a PEM, DER or PKCS#7 file, or every `.pem`, `.crt`, `.cer`, `.der`, `.p7b` and
    /// `.p7c` file of a folder.
    pub fn load(path: &str) -> Result<Self, TrustError> {
        let p = Path::new(path);
        let mut certs = Vec::new();
        if p.is_dir() {
            let mut files: Vec<_> = std::fs::read_dir(p)
                .map_err(|error| TrustError::Read {
                    path: path.to_string(),
                    error,
                })?
                .flatten()
                .map(|e| e.path())
                .filter(|f| {
                    f.extension().and_then(|x| x.to_str()).is_some_and(|x| {
                        ["pem", "crt", "cer", "der", "p7b", "p7c"]
                            .contains(&x.to_ascii_lowercase().as_str())
                    })
                })
                .collect();
            files.sort();
            for f in files {
                read_certs(&f, &mut certs)?;
            }
        } else {
            read_certs(p, &mut certs)?;
        }
        if certs.is_empty() {
            return Err(TrustError::NoCertificate {
                path: path.to_string(),
                found: Vec::new(),
                folder: p.is_dir(),
            });
        }
        let subjects = certs
            .iter()
            .filter_map(|c| cert_info(c).map(|i| i.subject))
            .collect();
        Ok(TrustStore {
            bundle: path.to_string(),
            certs,
            subjects,
        })
    }

    /// Certificates in the bundle.
    pub fn len(&self) -> usize {
        self.certs.len()
    }

    /// The bundle is empty (never, once loaded).
    pub fn is_empty(&self) -> bool {
        self.certs.is_empty()
    }

    /// Validates a presented chain (leaf first, as sent) for `usage` at capture time `at`.
    pub fn check<D: AsRef<[u8]>>(&self, chain: &[D], usage: Usage, at: Ts) -> TrustResult {
        let result =
            |verified: bool, missing_ca: Option<String>, reason: Option<String>| TrustResult {
                bundle: self.bundle.clone(),
                verified,
                missing_ca,
                reason,
            };
        let Some(leaf_der) = chain.first() else {
            return result(false, None, Some("no certificate was presented".into()));
        };
        let leaf_der = CertificateDer::from(leaf_der.as_ref());
        let Ok(leaf) = webpki::EndEntityCert::try_from(&leaf_der) else {
            return result(false, None, Some("the certificate does not parse".into()));
        };
        let anchors: Vec<_> = self
            .certs
            .iter()
            .filter_map(|c| webpki::anchor_from_trusted_cert(c).ok())
            .collect();
        let intermediates: Vec<CertificateDer<'_>> = chain[1..]
            .iter()
            .map(|d| CertificateDer::from(d.as_ref()))
            .collect();
        let secs = u64::try_from(at.0.max(0) / 1_000_000_000).unwrap_or(0);
        let time = UnixTime::since_unix_epoch(Duration::from_secs(secs));
        let eku = match usage {
            Usage::Server => webpki::KeyUsage::server_auth(),
            Usage::Client => webpki::KeyUsage::client_auth(),
        };
        match leaf.verify_for_usage(
            webpki::ALL_VERIFICATION_ALGS,
            &anchors,
            &intermediates,
            time,
            eku,
            None,
            None,
        ) {
            Ok(_) => result(true, None, None),
            Err(e) => {
                let (missing, reason) = self.explain(chain, &e);
                result(false, missing, Some(reason))
            }
        }
    }

    fn explain<D: AsRef<[u8]>>(&self, chain: &[D], e: &webpki::Error) -> (Option<String>, String) {
        use webpki::Error as E;
        match e {
            E::UnknownIssuer => {
                // Walk up the presented chain as far as issuer names lead.
                let infos: Vec<_> = chain.iter().filter_map(|d| cert_info(d.as_ref())).collect();
                let Some(mut top) = infos.first() else { return (None, "unknown issuer".into()) };
                for _ in 0..infos.len() {
                    match infos.iter().find(|c| c.subject == top.issuer && c.subject != top.subject) {
                        Some(next) => top = next,
                        None => break,
                    }
                }
                let missing = if top.self_signed { top.subject.clone() } else { top.issuer.clone() };
                if self.subjects.contains(&missing) {
                    (None, format!("the bundle holds a CA named \"{missing}\", but not the one that signed this chain (a different key: re-export the current CA)"))
                } else {
                    (Some(missing.clone()), format!("unknown issuer: the bundle lacks \"{missing}\""))
                }
            }
            E::CertExpired { .. } => (None, "expired at capture time".into()),
            E::CertNotValidYet { .. } => (None, "not yet valid at capture time".into()),
            E::RequiredEkuNotFoundContext(_) => (None, "wrong usage: the certificate lacks the extended key usage this side needs (TLS server or client authentication)".into()),
            E::UnsupportedSignatureAlgorithmContext(_) => (None, "unsupported signature algorithm (SHA-1 or an unusual key)".into()),
            E::InvalidSignatureForPublicKey => (None, "a signature in the chain does not verify".into()),
            E::CaUsedAsEndEntity => (None, "a CA certificate is used as the end entity".into()),
            _ => (None, "the chain does not verify against the bundle".into()),
        }
    }
}
