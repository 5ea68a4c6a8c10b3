//! `unknown-ca-from-expressway`: on the MRA OAuth port, Expressway-C (the TLS client) answers
//! CUCM's certificate with a fatal unknown_ca alert (TAC 215572).

use crate::config::PortKind;
use crate::diagnose::util::{
    alert_evidence, alert_occurrence, chain_trust, describe_cert, fatal_alerts,
};
use crate::diagnose::{Claimed, Confidence, ConnCx, ConnectionRule, Meta, Occurrence, Severity};
use crate::net::Side;
use crate::tls::AlertDescription as AD;

/// The rule.
pub struct UnknownCaFromExpressway;

static META: Meta = Meta {
    id: "unknown-ca-from-expressway",
    title: "Expressway-C does not trust the CA of CUCM's Tomcat certificate",
    meaning: "Expressway-C cannot validate CUCM's Tomcat certificate, so no MRA client can register through that node.",
    severity: Severity::Error,
    confidence: Confidence::Certain,
    signature: "mutual TLS on the MRA OAuth port: CUCM sends Certificate and CertificateRequest, then Expressway-C (TLS client) sends a fatal unknown_ca (48) alert",
    fix: &[
        "On Expressway-C, Maintenance > Security > Trusted CA certificate: append the root and intermediate CAs that signed every CUCM node's Tomcat certificate (or the self-signed Tomcat certificate itself).",
        "Configuration > Unified Communications > Unified CM servers: Refresh servers.",
        "Configuration > Zones > Zones: every `CEOAuth <node>` zone must be Active.",
    ],
    source: "Cisco TAC 215572, Cisco Jabber and SIP OAuth Mode",
};

impl ConnectionRule for UnknownCaFromExpressway {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn check(&self, cx: &ConnCx<'_>, claimed: &mut Claimed) -> Vec<Occurrence> {
        let mut out = Vec::new();
        for (c, a) in fatal_alerts(cx) {
            if c.port_kind != PortKind::SipMraOAuth
                || a.code != Some(AD::UNKNOWN_CA)
                || a.sent_by != Side::Client
            {
                continue;
            }
            if !claimed.alert(c, a) {
                continue;
            }
            let cert = c
                .tls
                .as_ref()
                .and_then(|t| t.chain_of(Side::Server))
                .and_then(|ch| ch.certificates.first())
                .map(|l| format!(" The certificate CUCM presented: {}.", describe_cert(l)))
                .unwrap_or_default();
            let explanation = format!(
                    "Expressway-C {} opened mutual TLS to CUCM {}:{} (tcp.stream {}) and rejected CUCM's certificate with a fatal unknown_ca alert (frame {}): Expressway-C has no trusted CA for it.{cert}",
                    c.client.ip, c.server.ip, c.server.port, c.tcp_stream, a.frame
                );
            out.push(alert_occurrence(
                c,
                a,
                alert_evidence(c, a, Some(Side::Server)),
                chain_trust(c, Side::Server),
                explanation,
            ));
        }
        out
    }
}
