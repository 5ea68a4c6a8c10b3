//! `certificate-expired`: a side rejects the other's certificate with certificate_expired (45).

use crate::diagnose::util::{
    alert_evidence, alert_filter, alert_ref, describe_cert, fatal_alerts, who,
};
use crate::diagnose::{Claimed, Confidence, Cx, Meta, Occurrence, Rule, Severity};

/// The rule.
pub struct CertificateExpired;

static META: Meta = Meta {
    id: "certificate-expired",
    title: "A certificate was rejected as expired",
    severity: Severity::Error,
    confidence: Confidence::Certain,
    signature: "fatal certificate_expired (45) alert",
    fix: &[
        "Renew the certificate named in the evidence: the Tomcat certificate on CUCM (Cisco Unified OS Administration > Security > Certificate Management), or the server certificate on Expressway-C.",
        "After renewing CUCM's Tomcat certificate, restart Cisco Tomcat and (before CUCM 14) Cisco CallManager on that node.",
        "Check NTP on both sides: a wrong clock makes a valid certificate look expired.",
    ],
    source: "RFC 5246 / RFC 8446 alert semantics; CUCM Security Guide, certificate management",
};

impl Rule for CertificateExpired {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn check(&self, cx: &Cx<'_>, claimed: &mut Claimed) -> Vec<Occurrence> {
        let mut out = Vec::new();
        for (c, a) in fatal_alerts(cx) {
            if a.code != Some(45) || !claimed.alert(c, a) {
                continue;
            }
            let (sender, other) = if a.sent_by == "client" {
                (&c.client, "server")
            } else {
                (&c.server, "client")
            };
            let leaf = c
                .tls
                .as_ref()
                .and_then(|t| t.chain_of(other))
                .and_then(|ch| ch.certificates.first());
            let cert = leaf
                .map(|l| {
                    let when = if a.time > l.not_after { " It had indeed expired at capture time." } else { " By the capture's clock it was still valid: check the rejecting side's clock (NTP)." };
                    format!(" The {other}'s certificate: {}.{when}", describe_cert(l))
                })
                .unwrap_or_default();
            out.push(Occurrence {
                explanation: format!(
                    "{} rejected the {other}'s certificate with a fatal certificate_expired alert (frame {}, tcp.stream {}).{cert}",
                    who(sender), a.frame, c.tcp_stream
                ),
                evidence: alert_evidence(c, a, Some(other)),
                filter: alert_filter(c, 45),
                alert: Some(alert_ref(a)),
                sip: None,
                client: c.client.clone(),
                server: c.server.clone(),
            });
        }
        out
    }
}
