//! What the three `certificate-rejected-by-*` rules share: certificate alerts other than the
//! documented unknown_ca cases, named by the side that sent them. Other TLS stacks report an
//! untrusted CA with bad_certificate (GnuTLS) or certificate_unknown (Java), so the unknown-CA
//! fix comes first.

use crate::diagnose::util::{cert_note, leaf, stream, who};
use crate::diagnose::AlertFound;
use crate::net::Side;
use crate::tls::AlertDescription as AD;

/// The certificate alerts these rules name (unknown_ca has rules of its own).
pub const CERT_ALERTS: [AD; 4] = [
    AD::BAD_CERTIFICATE,
    AD::UNSUPPORTED_CERTIFICATE,
    AD::CERTIFICATE_REVOKED,
    AD::CERTIFICATE_UNKNOWN,
];

fn meaning(code: AD) -> &'static str {
    match code.0 {
        42 => {
            "bad_certificate: the certificate is corrupt, has a bad signature, or (GnuTLS) is not \
             trusted"
        }
        43 => {
            "unsupported_certificate: the certificate's type or key usage is not acceptable (for \
             example no TLS client authentication usage)"
        }
        44 => "certificate_revoked: the certificate was revoked by its issuer",
        46 => {
            "certificate_unknown: the certificate could not be accepted (Java reports an \
             untrusted CA this way)"
        }
        48 => "unknown_ca: the issuing CA is not trusted",
        _ => "the certificate was not accepted",
    }
}

/// How the certificate-rejected rules word an alert: who rejected whose certificate, what the
/// alert means, and the certificate.
pub fn explain(f: &AlertFound<'_>) -> String {
    let (c, a) = (f.conn, f.alert);
    let rejected = a.sent_by.other();
    let (sender, owner) = if a.sent_by == Side::Client {
        (&c.client, &c.server)
    } else {
        (&c.server, &c.client)
    };
    let cert = cert_note(" The rejected certificate: ", leaf(c, rejected));
    format!(
        "{} rejected the certificate of {} on port {} with a fatal {} alert ({}, {}). \
         {}.{cert}",
        who(sender),
        who(owner),
        c.server.port,
        a.description,
        a.at,
        stream(c),
        meaning(a.code.unwrap_or(AD(0)))
    )
}
