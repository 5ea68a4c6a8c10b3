//! Offline trust check: every certificate chain seen in the capture validated (rustls-webpki)
//! against what the customer exported (CUCM's tomcat-trust certificates or Expressway-C's
//! trusted CA list), naming the one CA the chain needs and the bundle lacks.

use std::path::Path;
use std::time::Duration;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, UnixTime};
use serde::Serialize;

use crate::time::Ts;
use crate::tls::cert::cert_info;

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

fn read_certs(path: &Path, out: &mut Vec<CertificateDer<'static>>) -> Result<(), String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let before = out.len();
    for c in CertificateDer::pem_slice_iter(&bytes) {
        out.push(c.map_err(|e| format!("{}: {e:?}", path.display()))?);
    }
    if out.len() == before && bytes.first() == Some(&0x30) {
        // A DER certificate (.cer / .der).
        out.push(CertificateDer::from(bytes));
    }
    Ok(())
}

impl TrustStore {
    /// Loads a PEM (or DER) file, or every `.pem`, `.crt`, `.cer` and `.der` file of a folder.
    pub fn load(path: &str) -> Result<Self, String> {
        let p = Path::new(path);
        let mut certs = Vec::new();
        if p.is_dir() {
            let mut files: Vec<_> = std::fs::read_dir(p)
                .map_err(|e| format!("{path}: {e}"))?
                .flatten()
                .map(|e| e.path())
                .filter(|f| {
                    f.extension().and_then(|x| x.to_str()).is_some_and(|x| {
                        ["pem", "crt", "cer", "der"].contains(&x.to_ascii_lowercase().as_str())
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
            return Err(format!("{path}: no certificate found"));
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
            other => (None, format!("{other:?}")),
        }
    }
}
