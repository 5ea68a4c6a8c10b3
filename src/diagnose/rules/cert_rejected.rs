//! `certificate-rejected-by-expressway`, `certificate-rejected-by-ucm`,
//! `certificate-rejected-by-client`: certificate alerts other than the documented unknown_ca
//! cases, named by the side that sent them. Other TLS stacks report an untrusted CA with
//! bad_certificate (GnuTLS) or certificate_unknown (Java), so the unknown-CA fix comes first.

use crate::config::PortKind;
use crate::diagnose::util::{
    alert_evidence, alert_occurrence, chain_trust, describe_cert, fatal_alerts, who,
};
use crate::diagnose::{Claimed, Confidence, ConnCx, Meta, Occurrence, Severity};
use crate::net::Side;
use crate::session::Connection;
use crate::tls::Alert;
use crate::tls::AlertDescription as AD;

const CERT_ALERTS: [AD; 4] = [
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

fn check(
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

/// Expressway-C rejects CUCM's certificate with 42/43/44/46.
pub struct ByExpressway;
static BY_EXPRESSWAY: Meta = Meta {
    id: "certificate-rejected-by-expressway",
    title: "Expressway-C rejected CUCM's certificate",
    meaning: "Expressway-C refused CUCM's certificate for a reason its TLS stack names (other stacks report an untrusted CA this way too).",
    severity: Severity::Error,
    confidence: Confidence::Certain,
    signature: "on the MRA OAuth port, Expressway-C (TLS client) sends a fatal bad_certificate (42), unsupported_certificate (43), certificate_revoked (44) or certificate_unknown (46) alert",
    fix: &[
        "Treat it as an untrusted CA first (other TLS stacks say bad_certificate or certificate_unknown for it): on Expressway-C, Maintenance > Security > Trusted CA certificate, append the CAs that signed every CUCM Tomcat certificate; then Refresh servers under Configuration > Unified Communications > Unified CM servers.",
        "Then check what the alert itself says: the Tomcat certificate's signature algorithm (SHA-256 or better), its key usage, revocation status, and that its SAN holds the name Expressway-C uses for the node.",
    ],
    source: "Cisco TAC 215572; RFC 5246 section 7.2.2",
};
impl crate::diagnose::ConnectionRule for ByExpressway {
    fn meta(&self) -> &'static Meta {
        &BY_EXPRESSWAY
    }
    fn check(&self, cx: &ConnCx<'_>, claimed: &mut Claimed) -> Vec<Occurrence> {
        check(
            cx,
            claimed,
            &[PortKind::SipMraOAuth],
            Side::Client,
            &CERT_ALERTS,
        )
    }
}

/// CUCM rejects the client's certificate on an OAuth port.
pub struct ByUcm;
static BY_UCM: Meta = Meta {
    id: "certificate-rejected-by-ucm",
    title: "CUCM rejected the peer's certificate",
    meaning: "CUCM refused the certificate its peer presented on an OAuth port.",
    severity: Severity::Error,
    confidence: Confidence::Certain,
    signature: "on an OAuth port, CUCM (TLS server) sends a fatal bad_certificate (42), unsupported_certificate (43), certificate_revoked (44) or certificate_unknown (46) alert, or unknown_ca on the Phone OAuth port",
    fix: &[
        "Treat it as an untrusted CA first: upload the root and intermediates of the peer's certificate to CUCM as tomcat-trust (and CallManager-trust, CSCvz45074) on the publisher.",
        "For unsupported_certificate, reissue the Expressway-C certificate with both TLS server and TLS client authentication extended key usages, then Refresh servers on Expressway-C.",
    ],
    source: "Cisco TAC 215572; CUCM Security Guide, SIP OAuth; RFC 5246 section 7.2.2",
};
impl crate::diagnose::ConnectionRule for ByUcm {
    fn meta(&self) -> &'static Meta {
        &BY_UCM
    }
    fn check(&self, cx: &ConnCx<'_>, claimed: &mut Claimed) -> Vec<Occurrence> {
        let mut out = check(
            cx,
            claimed,
            &[PortKind::SipMraOAuth, PortKind::SipOAuth],
            Side::Server,
            &CERT_ALERTS,
        );
        out.extend(check(
            cx,
            claimed,
            &[PortKind::SipOAuth],
            Side::Server,
            &[AD::UNKNOWN_CA],
        ));
        out
    }
}

/// The Jabber/Webex client rejects CUCM's certificate on the Phone OAuth port.
pub struct ByClient;
static BY_CLIENT: Meta = Meta {
    id: "certificate-rejected-by-client",
    title: "The Jabber/Webex client rejected CUCM's certificate",
    meaning: "The Jabber/Webex client refused CUCM's certificate with a certificate alert that no more specific rule explains.",
    severity: Severity::Error,
    confidence: Confidence::Certain,
    signature: "on the SIP Phone OAuth port, the client sends a fatal unsupported_certificate (43) or certificate_revoked (44) alert (the trust and name cases have their own ids)",
    fix: &[
        "The client must trust CUCM's Tomcat certificate: have it signed by a CA the client devices trust, or deploy the root to the clients.",
        "Use a SHA-256 (or better) signature and put the node's FQDN in the Tomcat certificate's SAN; define CUCM servers by FQDN so the name the client dials matches.",
    ],
    source: "CUCM Security Guide, SIP OAuth; Cisco Jabber certificate validation",
};
impl crate::diagnose::ConnectionRule for ByClient {
    fn meta(&self) -> &'static Meta {
        &BY_CLIENT
    }
    fn check(&self, cx: &ConnCx<'_>, claimed: &mut Claimed) -> Vec<Occurrence> {
        check(
            cx,
            claimed,
            &[PortKind::SipOAuth],
            Side::Client,
            &[
                AD::BAD_CERTIFICATE,
                AD::UNSUPPORTED_CERTIFICATE,
                AD::CERTIFICATE_REVOKED,
                AD::CERTIFICATE_UNKNOWN,
                AD::UNKNOWN_CA,
            ],
        )
    }
}
