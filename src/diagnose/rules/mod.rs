//! One file per catalogue id. The registry below lists them in the order they claim events:
//! specific rules first, the general ones (`tls-alert`, `registration-rejected`) after them.
//! Adding a rule is its file plus one line here (docs/architecture.md).

use super::Rule;

/// Declares each rule's module and lists the rules, in claiming order, each as the kind it is
/// (`Connection`: judges one settled connection; `Capture`: judges the whole capture).
macro_rules! registry {
    ($($kind:ident $module:ident::$rule:ident,)*) => {
        $(mod $module;)*

        /// Every rule, in claiming order.
        pub fn all() -> Vec<Rule> {
            vec![$(Rule::$kind(Box::new($module::$rule)),)*]
        }
    };
}

registry! {
    // SIP answers with a documented meaning.
    Capture oauth_port_mismatch::OauthPortMismatch,
    Capture duplicate_registration::DuplicateRegistration,
    Capture digest_with_oauth::DigestWithOauth,
    Capture bearer_token_rejected::BearerTokenRejected,
    Capture bearer_not_sent::BearerNotSent,
    Capture legacy_port_instead_of_oauth::LegacyPortInsteadOfOauth,
    Capture mra_without_ceoauth::MraWithoutCeoauth,
    // TLS alerts, most specific first.
    Connection unknown_ca_from_expressway::UnknownCaFromExpressway,
    Connection unknown_ca_from_ucm::UnknownCaFromUcm,
    Connection certificate_expired::CertificateExpired,
    Connection certificate_name_mismatch::CertificateNameMismatch,
    Connection expressway_cert_no_client_auth::ExpresswayCertNoClientAuth,
    Connection client_rejects_ucm_certificate::ClientRejectsUcmCertificate,
    Connection certificate_rejected_by_expressway::ByExpressway,
    Connection certificate_rejected_by_ucm::ByUcm,
    Connection certificate_rejected_by_client::ByClient,
    Connection tls_version_or_cipher_mismatch::VersionOrCipherMismatch,
    // Connections.
    Connection oauth_port_closed::OauthPortClosed,
    Connection oauth_port_filtered::OauthPortFiltered,
    Connection tls_alert::TlsAlert,
    Connection tls13_handshake_aborted::Tls13HandshakeAborted,
    Connection expressway_name_not_known::ExpresswayNameNotKnown,
    Connection tls_aborted_without_alert::TlsAbortedWithoutAlert,
    Capture stale_tomcat_certificate::StaleTomcatCertificate,
    // Registrations in general.
    Capture registration_rejected::RegistrationRejected,
    Capture registration_unanswered::RegistrationUnanswered,
    Capture registration_lost::RegistrationLost,
    Capture oauth_registration_ok::OauthRegistrationOk,
}
