//! `certificate-rejected-by-ucm`: CUCM rejects the certificate its peer presented on an OAuth
//! port.

use crate::config::{Config, PortKind};
use crate::diagnose::cert_alerts::{explain, CERT_ALERTS};
use crate::diagnose::{AlertFound, Claimed, Confidence, ConnCx, ConnectionRule, Meta, Severity};
use crate::net::Side;
use crate::tls::AlertDescription as AD;

/// CUCM rejects the client's certificate on an OAuth port.
pub struct ByUcm;
static BY_UCM: Meta = Meta {
    id: "certificate-rejected-by-ucm",
    title: "CUCM rejected the peer's certificate",
    meaning: "CUCM refused the certificate its peer presented on an OAuth port.",
    severity: Severity::Error,
    confidence: Confidence::Certain,
    signature: "on an OAuth port, CUCM (TLS server) sends a fatal bad_certificate (42), \
                unsupported_certificate (43), certificate_revoked (44) or certificate_unknown \
                (46) alert, or unknown_ca on the Phone OAuth port",
    fix: &[
        "Treat it as an untrusted CA first: upload the root and intermediates of the peer's \
         certificate to CUCM as tomcat-trust (and CallManager-trust, CSCvz45074) on the \
         publisher.",
        "For unsupported_certificate, reissue the Expressway-C certificate with both TLS server \
         and TLS client authentication extended key usages, then Refresh servers on Expressway-C.",
    ],
    source: "Cisco TAC 215572; CUCM Security Guide, SIP OAuth; RFC 5246 section 7.2.2",
};

impl ConnectionRule for ByUcm {
    type Found<'a> = AlertFound<'a>;
    const META: &'static Meta = &BY_UCM;

    fn check<'a>(&self, cx: &ConnCx<'a>, claimed: &mut Claimed) -> Vec<AlertFound<'a>> {
        let both = [PortKind::SipMraOAuth, PortKind::SipOAuth];
        let mut out = cx.claim_alerts(claimed, &both, Side::Server, &CERT_ALERTS);
        out.extend(cx.claim_alerts(
            claimed,
            &[PortKind::SipOAuth],
            Side::Server,
            &[AD::UNKNOWN_CA],
        ));
        out
    }

    fn explain(&self, f: &AlertFound<'_>, _cfg: &Config) -> String {
        explain(f)
    }
}
