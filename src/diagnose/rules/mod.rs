//! One file per catalogue id. [`all`] gives them in the order they claim events: specific
//! rules first, the general `tls-alert` last.

mod cert_rejected;
mod certificate_expired;
mod oauth_port_closed;
mod oauth_port_filtered;
mod oauth_port_mismatch;
mod oauth_registration_ok;
mod tls13_handshake_aborted;
mod tls_alert;
mod tls_version_or_cipher_mismatch;
mod unknown_ca_from_expressway;
mod unknown_ca_from_ucm;

use super::Rule;

/// Every rule, in claiming order.
pub fn all() -> Vec<Box<dyn Rule>> {
    vec![
        Box::new(oauth_port_mismatch::OauthPortMismatch),
        Box::new(unknown_ca_from_expressway::UnknownCaFromExpressway),
        Box::new(unknown_ca_from_ucm::UnknownCaFromUcm),
        Box::new(certificate_expired::CertificateExpired),
        Box::new(cert_rejected::ByExpressway),
        Box::new(cert_rejected::ByUcm),
        Box::new(cert_rejected::ByClient),
        Box::new(tls_version_or_cipher_mismatch::VersionOrCipherMismatch),
        Box::new(oauth_port_closed::OauthPortClosed),
        Box::new(oauth_port_filtered::OauthPortFiltered),
        Box::new(tls_alert::TlsAlert),
        Box::new(tls13_handshake_aborted::Tls13HandshakeAborted),
        Box::new(oauth_registration_ok::OauthRegistrationOk),
    ]
}
