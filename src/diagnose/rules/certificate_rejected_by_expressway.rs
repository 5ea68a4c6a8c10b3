//! `certificate-rejected-by-expressway`: Expressway-C rejects CUCM's certificate on the MRA
//! OAuth port with a certificate alert other than unknown_ca.

use crate::config::{Config, PortKind};
use crate::diagnose::cert_alerts::{explain, CERT_ALERTS};
use crate::diagnose::{AlertFound, Claimed, Confidence, ConnCx, ConnectionRule, Meta, Severity};
use crate::net::Side;

/// Expressway-C rejects CUCM's certificate with 42/43/44/46.
pub struct ByExpressway;
static BY_EXPRESSWAY: Meta = Meta {
    id: "certificate-rejected-by-expressway",
    title: "Expressway-C rejected CUCM's certificate",
    meaning: "Expressway-C refused CUCM's certificate for a reason its TLS stack names (other \
              stacks report an untrusted CA this way too).",
    severity: Severity::Error,
    confidence: Confidence::Certain,
    signature: "on the MRA OAuth port, Expressway-C (TLS client) sends a fatal bad_certificate \
                (42), unsupported_certificate (43), certificate_revoked (44) or \
                certificate_unknown (46) alert",
    fix: &[
        "Treat it as an untrusted CA first (other TLS stacks say bad_certificate or \
         certificate_unknown for it): on Expressway-C, Maintenance > Security > Trusted CA \
         certificate, append the CAs that signed every CUCM Tomcat certificate; then Refresh \
         servers under Configuration > Unified Communications > Unified CM servers.",
        "Then check what the alert itself says: the Tomcat certificate's signature algorithm \
         (SHA-256 or better), its key usage, revocation status, and that its SAN holds the name \
         Expressway-C uses for the node.",
    ],
    source: "Cisco TAC 215572; RFC 5246 section 7.2.2",
};

impl ConnectionRule for ByExpressway {
    type Found<'a> = AlertFound<'a>;
    const META: &'static Meta = &BY_EXPRESSWAY;

    fn check<'a>(&self, cx: &ConnCx<'a>, claimed: &mut Claimed) -> Vec<AlertFound<'a>> {
        cx.claim_alerts(
            claimed,
            &[PortKind::SipMraOAuth],
            Side::Client,
            &CERT_ALERTS,
        )
    }

    fn explain(&self, f: &AlertFound<'_>, _cfg: &Config) -> String {
        explain(f)
    }
}
