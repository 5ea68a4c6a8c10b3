//! `client-rejects-ucm-certificate`: on the SIP Phone OAuth port the Jabber/Webex client refuses
//! CUCM's Tomcat certificate: it alerts (unknown_ca, bad_certificate, certificate_unknown) or
//! closes right after the server's certificate, and no REGISTER follows.

use crate::diagnose::util::conn_occurrence;
use crate::config::PortKind;
use crate::diagnose::util::{
    alert_evidence, alert_occurrence, chain_trust, close_evidence, describe_cert, fatal_alerts,
    leaf,
};
use crate::diagnose::{
    Claimed, Confidence, ConnCx, ConnectionRule, Evidence, Meta, Occurrence, Severity,
};
use crate::net::Side;
use crate::tls::AlertDescription as AD;

/// The rule.
pub struct ClientRejectsUcmCertificate;

static META: Meta = Meta {
    id: "client-rejects-ucm-certificate",
    title: "The Jabber/Webex client does not accept CUCM's Tomcat certificate",
    meaning: "The client will not trust the certificate CUCM presents on the SIP Phone OAuth port, so it never sends its REGISTER.",
    severity: Severity::Error,
    confidence: Confidence::Likely,
    signature: "SIP Phone OAuth port: the client sends unknown_ca (48), bad_certificate (42) or certificate_unknown (46), or closes right after the server's Certificate; no REGISTER follows",
    fix: &[
        "Have the Tomcat certificate signed by a CA the client devices trust (or deploy that root to the clients' trust stores); self-signed Tomcat certificates make Jabber prompt or refuse.",
        "Use a SHA-256 (or better) signature and put each node's FQDN in the certificate's SAN.",
        "After replacing the certificate restart Cisco Tomcat and (before CUCM 14) Cisco CallManager on the node.",
    ],
    source: "CUCM Security Guide, SIP OAuth; Cisco Jabber deployment guide, certificate validation",
};

impl ConnectionRule for ClientRejectsUcmCertificate {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn check(&self, cx: &ConnCx<'_>, claimed: &mut Claimed) -> Vec<Occurrence> {
        let mut out = Vec::new();
        let cert_text = |c: &crate::session::Connection| {
            leaf(c, Side::Server)
                .map(|l| format!(" CUCM's certificate: {}.", describe_cert(l)))
                .unwrap_or_default()
        };
        for (c, a) in fatal_alerts(cx) {
            let code = a.code.unwrap_or(AD(0));
            if c.port_kind != PortKind::SipOAuth
                || a.sent_by != Side::Client
                || ![AD::BAD_CERTIFICATE, AD::CERTIFICATE_UNKNOWN, AD::UNKNOWN_CA].contains(&code)
                || !claimed.alert(c, a)
            {
                continue;
            }
            claimed.connection(c.tcp_stream);
            let explanation = format!(
                    "The client {} refused CUCM's certificate on {}:{} with a fatal {} alert (frame {}, tcp.stream {}).{}",
                    c.client.ip, c.server.ip, c.server.port, a.description, a.frame, c.tcp_stream, cert_text(c)
                );
            out.push(alert_occurrence(
                c,
                a,
                alert_evidence(c, a, Some(Side::Server)),
                chain_trust(c, Side::Server),
                explanation,
            ));
        }
        // No alert: the client closes right after the server's Certificate (TLS 1.2, where the
        // certificate is visible), before its own key exchange.
        for c in std::iter::once(cx.conn) {
            let Some(t) = &c.tls else { continue };
            if c.port_kind != PortKind::SipOAuth
                || c.ended_by != Some(Side::Client)
                || !t.alerts.is_empty()
                || c.lost_bytes > 0
            {
                continue;
            }
            let Some(chain) = t.chain_of(Side::Server) else {
                continue;
            };
            let answered = t
                .steps
                .iter()
                .any(|s| s.from == Side::Client && s.frame > chain.frame);
            if answered || !claimed.connection(c.tcp_stream) {
                continue;
            }
            let mut evidence = vec![Evidence::frame(
                chain.frame,
                chain.time,
                Some(c.tcp_stream),
                "Certificate from CUCM, the last handshake message".into(),
            )];
            evidence.extend(close_evidence(c));
            out.push(conn_occurrence(
 c,
 format!(
                    "The client {} closed the connection to {}:{} (tcp.stream {}) right after CUCM's Certificate (frame {}) without an alert and without answering the handshake: it did not accept the certificate.{}",
                    c.client.ip, c.server.ip, c.server.port, c.tcp_stream, chain.frame, cert_text(c)
                ),
 evidence,
 format!("tcp.stream == {}", c.tcp_stream),
 ));
        }
        out
    }
}
