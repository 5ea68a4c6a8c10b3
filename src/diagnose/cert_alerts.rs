//! What the three `certificate-rejected-by-*` rules share: certificate alerts other than the
//! documented unknown_ca cases, named by the side that sent them. Other TLS stacks report an
//! untrusted CA with bad_certificate (GnuTLS) or certificate_unknown (Java), so the unknown-CA
//! fix comes first.

use crate::config::PortKind;
use crate::diagnose::util::{
    alert_evidence, alert_occurrence, chain_trust, describe_cert, fatal_alerts, who,
};
use crate::diagnose::{Claimed, ConnCx, Occurrence};
use crate::net::Side;
use crate::session::Connection;
use crate::tls::Alert;
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
        42 => "bad_certificate: the certificate is corrupt, has a bad signature, or (GnuTLS) is not trusted",
        43 => "unsupported_certificate: the certificate's type or key usage is not acceptable (for example no TLS client authentication usage)",
        44 => "certificate_revoked: the certificate was revoked by its issuer",
        46 => "certificate_unknown: the certificate could not be accepted (Java reports an untrusted CA this way)",
        48 => "unknown_ca: the issuing CA is not trusted",
        _ => "the certificate was not accepted",
    }
}

fn occurrence(c: &Connection, a: &Alert, rejected: Side) -> Occurrence {
    let code = a.code.unwrap_or(AD(0));
    let sender = if a.sent_by == Side::Client {
        &c.client
    } else {
        &c.server
    };
    let cert = c
        .tls
        .as_ref()
        .and_then(|t| t.chain_of(rejected))
        .and_then(|ch| ch.certificates.first())
        .map(|l| format!(" The rejected certificate: {}.", describe_cert(l)))
        .unwrap_or_default();
    let explanation = format!(
            "{} rejected the certificate of {} on port {} with a fatal {} alert (frame {}, tcp.stream {}). {}.{cert}",
            who(sender),
            who(if rejected == Side::Client { &c.client } else { &c.server }),
            c.server.port,
            a.description,
            a.frame,
            c.tcp_stream,
            meaning(code)
        );
    alert_occurrence(
        c,
        a,
        alert_evidence(c, a, Some(rejected)),
        chain_trust(c, rejected),
        explanation,
    )
}

/// Fatal alerts `sender` sent with one of `codes` on a port of `kinds`, not yet claimed.
pub fn check(
    cx: &ConnCx<'_>,
    claimed: &mut Claimed,
    kinds: &[PortKind],
    sender: Side,
    codes: &[AD],
) -> Vec<Occurrence> {
    let mut out = Vec::new();
    for (c, a) in fatal_alerts(cx) {
        let code = a.code.unwrap_or(AD(0));
        if !kinds.contains(&c.port_kind) || a.sent_by != sender || !codes.contains(&code) {
            continue;
        }
        if claimed.alert(c, a) {
            let rejected = sender.other();
            out.push(occurrence(c, a, rejected));
        }
    }
    out
}
