//! `unknown-ca-from-ucm`: on the MRA OAuth port, CUCM (the TLS server) answers Expressway-C's
//! client certificate with a fatal unknown_ca alert (TAC 215572).

use crate::config::PortKind;
use crate::diagnose::util::{
    alert_evidence, alert_occurrence, chain_trust, describe_cert, fatal_alerts,
};
use crate::diagnose::{Claimed, Confidence, ConnCx, ConnectionRule, Meta, Occurrence, Severity};
use crate::net::Side;
use crate::tls::AlertDescription as AD;

/// The rule.
pub struct UnknownCaFromUcm;

static META: Meta = Meta {
    id: "unknown-ca-from-ucm",
    title: "CUCM does not trust the CA of Expressway-C's certificate",
    meaning: "CUCM cannot validate Expressway-C's client certificate against tomcat-trust, so no MRA client can register through that Expressway-C.",
    severity: Severity::Error,
    confidence: Confidence::Certain,
    signature: "mutual TLS on the MRA OAuth port: CUCM sends CertificateRequest, Expressway-C sends its Certificate, then CUCM (TLS server) sends a fatal unknown_ca (48) alert",
    fix: &[
        "Upload the root and intermediate CAs of the Expressway-C certificate to CUCM as tomcat-trust (Cisco Unified OS Administration > Security > Certificate Management > Upload Certificate/Certificate chain) on the publisher.",
        "Per CSCvz45074, upload the same CAs as CallManager-trust too.",
        "Note: this is needed whenever the Expressway-C certificate and the CUCM Tomcat certificate are not signed by the same CA.",
    ],
    source: "Cisco TAC 215572, Cisco Jabber and SIP OAuth Mode; CSCvz45074",
};

impl ConnectionRule for UnknownCaFromUcm {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn check(&self, cx: &ConnCx<'_>, claimed: &mut Claimed) -> Vec<Occurrence> {
        let mut out = Vec::new();
        for (c, a) in fatal_alerts(cx) {
            if c.port_kind != PortKind::SipMraOAuth
                || a.code != Some(AD::UNKNOWN_CA)
                || a.sent_by != Side::Server
            {
                continue;
            }
            if !claimed.alert(c, a) {
                continue;
            }
            let tls = c.tls.as_ref();
            let leaf = tls
                .and_then(|t| t.chain_of(Side::Client))
                .and_then(|ch| ch.certificates.first());
            let mut detail = leaf
                .map(|l| {
                    format!(
                        " The certificate Expressway-C presented: {}.",
                        describe_cert(l)
                    )
                })
                .unwrap_or_else(|| " No client certificate was seen before the alert.".into());
            if let (Some(l), Some(req)) = (leaf, tls.and_then(|t| t.certificate_request.as_ref())) {
                if !req.ca_names.is_empty() {
                    if req.ca_names.contains(&l.issuer) {
                        detail.push_str(" Its issuer is among the CA names CUCM listed in its CertificateRequest, so the chain above the issuer is what CUCM lacks.");
                    } else {
                        detail.push_str(&format!(
                            " Its issuer \"{}\" is not among the {} CA name(s) CUCM listed in its CertificateRequest (frame {}).",
                            l.issuer,
                            req.ca_names.len(),
                            req.frame
                        ));
                    }
                }
            }
            let mut evidence = alert_evidence(c, a, Some(Side::Client));
            if let Some(req) = tls.and_then(|t| t.certificate_request.as_ref()) {
                evidence.push(crate::diagnose::Evidence::frame(
                    req.frame,
                    req.time,
                    Some(c.tcp_stream),
                    format!(
                        "CertificateRequest from CUCM listing {} CA name(s)",
                        req.ca_names.len()
                    ),
                ));
            }
            let explanation = format!(
                    "Expressway-C {} presented its client certificate to CUCM {}:{} (tcp.stream {}) and CUCM rejected it with a fatal unknown_ca alert (frame {}): CUCM's tomcat-trust has no CA for it.{detail}",
                    c.client.ip, c.server.ip, c.server.port, c.tcp_stream, a.frame
                );
            out.push(alert_occurrence(
                c,
                a,
                evidence,
                chain_trust(c, Side::Client),
                explanation,
            ));
        }
        out
    }
}
