//! `certificate-name-mismatch`: the name the client asked for (SNI) is not in the server
//! certificate, and the client refused the certificate (bad_certificate, or a close without alert).

use crate::diagnose::util::{
    alert_evidence, alert_occurrence, cert_names, chain_trust, describe_cert, fatal_alerts, leaf,
};
use crate::diagnose::{Claimed, Confidence, ConnCx, ConnectionRule, Meta, Occurrence, Severity};
use crate::net::Side;
use crate::tls::AlertDescription as AD;

/// The rule.
pub struct CertificateNameMismatch;

static META: Meta = Meta {
    id: "certificate-name-mismatch",
    title: "The server certificate does not carry the name the client dialled",
    meaning: "The client connected to a name (its SNI) that CUCM's certificate does not list in its SAN or CN, so the client refused the certificate even though it may trust its CA.",
    severity: Severity::Error,
    confidence: Confidence::Likely,
    signature: "ClientHello SNI not matched by the server certificate's SAN/CN; the client sends bad_certificate (42) or certificate_unknown (46)",
    fix: &[
        "Define CUCM servers by FQDN (System > Server) so clients and Expressway-C dial names, not addresses.",
        "Reissue the Tomcat certificate with every node's FQDN in the SAN (a multi-server certificate covers the cluster), upload it, and restart Cisco Tomcat (and, before CUCM 14, Cisco CallManager).",
    ],
    source: "CUCM Security Guide, certificate management; RFC 6125",
};

impl ConnectionRule for CertificateNameMismatch {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn check(&self, cx: &ConnCx<'_>, claimed: &mut Claimed) -> Vec<Occurrence> {
        let mut out = Vec::new();
        for (c, a) in fatal_alerts(cx) {
            let code = a.code.unwrap_or(AD(0));
            if a.sent_by != Side::Client
                || ![AD::BAD_CERTIFICATE, AD::CERTIFICATE_UNKNOWN].contains(&code)
            {
                continue;
            }
            let Some(sni) = c
                .tls
                .as_ref()
                .and_then(|t| t.client_hello.as_ref())
                .and_then(|h| h.sni.clone())
            else {
                continue;
            };
            let Some(cert) = leaf(c, Side::Server) else {
                continue;
            };
            if cert_names(cert, &sni) || !claimed.alert(c, a) {
                continue;
            }
            claimed.connection(c.tcp_stream);
            let explanation = format!(
                    "The client {} asked for \"{sni}\" (SNI) on {}:{} (tcp.stream {}), but the certificate presented names only {}; the client refused it with a fatal {} alert (frame {}). The certificate: {}.",
                    c.client.ip,
                    c.server.ip,
                    c.server.port,
                    c.tcp_stream,
                    if cert.san.is_empty() { cert.subject.clone() } else { cert.san.join(", ") },
                    a.description,
                    a.frame,
                    describe_cert(cert)
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
