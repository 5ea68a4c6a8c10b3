//! `certificate-rejected-by-client`: the Jabber/Webex client rejects CUCM's certificate on the
//! Phone OAuth port with an alert no more specific rule explains.

use crate::config::{Config, PortKind};
use crate::diagnose::cert_alerts::explain;
use crate::diagnose::{AlertFound, Claimed, Confidence, ConnCx, ConnectionRule, Meta, Severity};
use crate::net::Side;
use crate::tls::AlertDescription as AD;

/// The Jabber/Webex client rejects CUCM's certificate on the Phone OAuth port.
pub struct ByClient;
static BY_CLIENT: Meta = Meta {
    id: "certificate-rejected-by-client",
    title: "The Jabber/Webex client rejected CUCM's certificate",
    meaning: "The Jabber/Webex client refused CUCM's certificate with a certificate alert that no \
              more specific rule explains.",
    severity: Severity::Error,
    confidence: Confidence::Certain,
    signature: "on the SIP Phone OAuth port, the client sends a fatal unsupported_certificate \
                (43) or certificate_revoked (44) alert (the trust and name cases have their own \
                ids)",
    fix: &[
        "The client must trust CUCM's Tomcat certificate: have it signed by a CA the client \
         devices trust, or deploy the root to the clients.",
        "Use a SHA-256 (or better) signature and put the node's FQDN in the Tomcat certificate's \
         SAN; define CUCM servers by FQDN so the name the client dials matches.",
    ],
    source: "CUCM Security Guide, SIP OAuth; Cisco Jabber certificate validation",
};

impl ConnectionRule for ByClient {
    type Found<'a> = AlertFound<'a>;
    const META: &'static Meta = &BY_CLIENT;

    fn check<'a>(&self, cx: &ConnCx<'a>, claimed: &mut Claimed) -> Vec<AlertFound<'a>> {
        let codes = [
            AD::BAD_CERTIFICATE,
            AD::UNSUPPORTED_CERTIFICATE,
            AD::CERTIFICATE_REVOKED,
            AD::CERTIFICATE_UNKNOWN,
            AD::UNKNOWN_CA,
        ];
        cx.claim_alerts(claimed, &[PortKind::SipOAuth], Side::Client, &codes)
    }

    fn explain(&self, f: &AlertFound<'_>, _cfg: &Config) -> String {
        explain(f)
    }
}
