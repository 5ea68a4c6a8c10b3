//! One file per catalogue id. [`all`] gives them in the order they claim events: specific
//! rules first, the general ones (`tls-alert`, `registration-rejected`) after them.

mod bearer_not_sent;
mod bearer_token_rejected;
mod cert_rejected;
mod certificate_expired;
mod certificate_name_mismatch;
mod client_rejects_ucm_certificate;
mod digest_with_oauth;
mod duplicate_registration;
mod expressway_cert_no_client_auth;
mod expressway_name_not_known;
mod legacy_port_instead_of_oauth;
mod mra_without_ceoauth;
mod oauth_port_closed;
mod oauth_port_filtered;
mod oauth_port_mismatch;
mod oauth_registration_ok;
mod registration_lost;
mod registration_rejected;
mod registration_unanswered;
mod stale_tomcat_certificate;
mod tls13_handshake_aborted;
mod tls_aborted_without_alert;
mod tls_alert;
mod tls_version_or_cipher_mismatch;
mod unknown_ca_from_expressway;
mod unknown_ca_from_ucm;

pub use registration_lost::alarm_meaning;

use super::Rule;
use Rule::{Capture, Connection};

/// Every rule, in claiming order.
pub fn all() -> Vec<Rule> {
    vec![
        // SIP answers with a documented meaning.
        Capture(Box::new(oauth_port_mismatch::OauthPortMismatch)),
        Capture(Box::new(duplicate_registration::DuplicateRegistration)),
        Capture(Box::new(digest_with_oauth::DigestWithOauth)),
        Capture(Box::new(bearer_token_rejected::BearerTokenRejected)),
        Capture(Box::new(bearer_not_sent::BearerNotSent)),
        Capture(Box::new(
            legacy_port_instead_of_oauth::LegacyPortInsteadOfOauth,
        )),
        Capture(Box::new(mra_without_ceoauth::MraWithoutCeoauth)),
        // TLS alerts, most specific first.
        Connection(Box::new(
            unknown_ca_from_expressway::UnknownCaFromExpressway,
        )),
        Connection(Box::new(unknown_ca_from_ucm::UnknownCaFromUcm)),
        Connection(Box::new(certificate_expired::CertificateExpired)),
        Connection(Box::new(certificate_name_mismatch::CertificateNameMismatch)),
        Connection(Box::new(
            expressway_cert_no_client_auth::ExpresswayCertNoClientAuth,
        )),
        Connection(Box::new(
            client_rejects_ucm_certificate::ClientRejectsUcmCertificate,
        )),
        Connection(Box::new(cert_rejected::ByExpressway)),
        Connection(Box::new(cert_rejected::ByUcm)),
        Connection(Box::new(cert_rejected::ByClient)),
        Connection(Box::new(
            tls_version_or_cipher_mismatch::VersionOrCipherMismatch,
        )),
        // Connections.
        Connection(Box::new(oauth_port_closed::OauthPortClosed)),
        Connection(Box::new(oauth_port_filtered::OauthPortFiltered)),
        Connection(Box::new(tls_alert::TlsAlert)),
        Connection(Box::new(tls13_handshake_aborted::Tls13HandshakeAborted)),
        Connection(Box::new(expressway_name_not_known::ExpresswayNameNotKnown)),
        Connection(Box::new(tls_aborted_without_alert::TlsAbortedWithoutAlert)),
        Capture(Box::new(stale_tomcat_certificate::StaleTomcatCertificate)),
        // Registrations in general.
        Capture(Box::new(registration_rejected::RegistrationRejected)),
        Capture(Box::new(registration_unanswered::RegistrationUnanswered)),
        Capture(Box::new(registration_lost::RegistrationLost)),
        Capture(Box::new(oauth_registration_ok::OauthRegistrationOk)),
    ]
}
