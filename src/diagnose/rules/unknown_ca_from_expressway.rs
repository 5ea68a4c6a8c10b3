//! `unknown-ca-from-expressway`: on the MRA OAuth port, Expressway-C (the TLS client) answers
//! CUCM's certificate with a fatal unknown_ca alert (TAC 215572).

use crate::config::{Config, PortKind};
use crate::diagnose::util::{cert_note, leaf, stream};
use crate::diagnose::{AlertFound, Claimed, Confidence, ConnCx, ConnectionRule, Meta, Severity};
use crate::net::Side;
use crate::tls::AlertDescription as AD;

/// The rule.
pub struct UnknownCaFromExpressway;

static META: Meta = Meta {
    id: "unknown-ca-from-expressway",
    title: "Expressway-C does not trust the CA of CUCM's Tomcat certificate",
    meaning: "Expressway-C cannot validate CUCM's Tomcat certificate, so no MRA client can \
              register through that node.",
    severity: Severity::Error,
    confidence: Confidence::Certain,
    signature: "mutual TLS on the MRA OAuth port: CUCM sends Certificate and CertificateRequest, \
                then Expressway-C (TLS client) sends a fatal unknown_ca (48) alert",
    fix: &[
        "On Expressway-C, Maintenance > Security > Trusted CA certificate: append the root and \
         intermediate CAs that signed every CUCM node's Tomcat certificate (or the self-signed \
         Tomcat certificate itself).",
        "Configuration > Unified Communications > Unified CM servers: Refresh servers.",
        "Configuration > Zones > Zones: every `CEOAuth <node>` zone must be Active.",
    ],
    source: "Cisco TAC 215572, Cisco Jabber and SIP OAuth Mode",
};

impl ConnectionRule for UnknownCaFromExpressway {
    type Found<'a> = AlertFound<'a>;
    const META: &'static Meta = &META;

    fn check<'a>(&self, cx: &ConnCx<'a>, claimed: &mut Claimed) -> Vec<AlertFound<'a>> {
        let mra = [PortKind::SipMraOAuth];
        cx.claim_alerts(claimed, &mra, Side::Client, &[AD::UNKNOWN_CA])
    }

    fn explain(&self, f: &AlertFound<'_>, _cfg: &Config) -> String {
        let (c, a) = (f.conn, f.alert);
        let cert = cert_note(" The certificate CUCM presented: ", leaf(c, Side::Server));
        let (client, cucm, on) = (c.client.ip, c.server.ip, stream(c));
        format!(
            "Expressway-C {client} opened mutual TLS to CUCM {cucm}:{} ({on}) and rejected \
             CUCM's certificate with a fatal unknown_ca alert ({}): Expressway-C has no \
             trusted CA for it.{cert}",
            c.server.port, a.at
        )
    }
}
