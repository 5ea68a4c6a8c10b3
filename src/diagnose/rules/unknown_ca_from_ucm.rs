//! `unknown-ca-from-ucm`: on the MRA OAuth port, CUCM (the TLS server) answers Expressway-C's
//! client certificate with a fatal unknown_ca alert (TAC 215572).

use crate::config::{Config, PortKind};
use crate::diagnose::util::{describe_cert, leaf, stream};
use crate::diagnose::{
    AlertFound, Anchored, Claimed, Confidence, ConnCx, ConnectionRule, Evidence, Meta, Severity,
};
use crate::net::Side;
use crate::tls::AlertDescription as AD;

/// The rule.
pub struct UnknownCaFromUcm;

static META: Meta = Meta {
    id: "unknown-ca-from-ucm",
    title: "CUCM does not trust the CA of Expressway-C's certificate",
    meaning: "CUCM cannot validate Expressway-C's client certificate against tomcat-trust, so no \
              MRA client can register through that Expressway-C.",
    severity: Severity::Error,
    confidence: Confidence::Certain,
    signature: "mutual TLS on the MRA OAuth port: CUCM sends CertificateRequest, Expressway-C \
                sends its Certificate, then CUCM (TLS server) sends a fatal unknown_ca (48) alert",
    fix: &[
        "Upload the root and intermediate CAs of the Expressway-C certificate to CUCM as \
         tomcat-trust (Cisco Unified OS Administration > Security > Certificate Management > \
         Upload Certificate/Certificate chain) on the publisher.",
        "Per CSCvz45074, upload the same CAs as CallManager-trust too.",
        "Note: this is needed whenever the Expressway-C certificate and the CUCM Tomcat \
         certificate are not signed by the same CA.",
    ],
    source: "Cisco TAC 215572, Cisco Jabber and SIP OAuth Mode; CSCvz45074",
};

impl ConnectionRule for UnknownCaFromUcm {
    type Found<'a> = AlertFound<'a>;
    const META: &'static Meta = &META;

    fn check<'a>(&self, cx: &ConnCx<'a>, claimed: &mut Claimed) -> Vec<AlertFound<'a>> {
        let mra = [PortKind::SipMraOAuth];
        cx.claim_alerts(claimed, &mra, Side::Server, &[AD::UNKNOWN_CA])
    }

    fn explain(&self, f: &AlertFound<'_>, _cfg: &Config) -> String {
        let (c, a) = (f.conn, f.alert);
        let request = c.tls.as_ref().and_then(|t| t.certificate_request.as_ref());
        let mut detail = match leaf(c, Side::Client) {
            Some(l) => format!(
                " The certificate Expressway-C presented: {}.",
                describe_cert(l)
            ),
            None => " No client certificate was seen before the alert.".into(),
        };
        match (leaf(c, Side::Client), request) {
            (Some(l), Some(req)) if !req.ca_names.is_empty() => {
                if req.ca_names.contains(&l.issuer) {
                    detail.push_str(
                        " Its issuer is among the CA names CUCM listed in its CertificateRequest, \
                         so the chain above the issuer is what CUCM lacks.",
                    );
                } else {
                    detail.push_str(&format!(
                        " Its issuer \"{}\" is not among the {} CA name(s) CUCM listed in its \
                         CertificateRequest (frame {}).",
                        l.issuer,
                        req.ca_names.len(),
                        req.frame
                    ));
                }
            }
            _ => {}
        }
        format!(
            "Expressway-C {} presented its client certificate to CUCM {}:{} ({}) and \
             CUCM rejected it with a fatal unknown_ca alert ({}): CUCM's tomcat-trust has \
             no CA for it.{detail}",
            c.client.ip,
            c.server.ip,
            c.server.port,
            stream(c),
            a.at
        )
    }

    fn evidence(&self, f: &AlertFound<'_>) -> Vec<Evidence> {
        let c = f.conn;
        let mut evidence = f.on().evidence();
        if let Some(req) = c.tls.as_ref().and_then(|t| t.certificate_request.as_ref()) {
            evidence.push(Evidence::frame(
                req.frame,
                req.time,
                Some(c.tcp_stream),
                format!(
                    "CertificateRequest from CUCM listing {} CA name(s)",
                    req.ca_names.len()
                ),
            ));
        }
        evidence
    }
}
