//! `certificate-expired`: a side rejects the other's certificate with certificate_expired (45).

use crate::diagnose::util::conn_occurrence;
use crate::diagnose::util::{
    alert_evidence, alert_occurrence, chain_trust, describe_cert, fatal_alerts, who,
};
use crate::diagnose::{Claimed, Confidence, ConnCx, ConnectionRule, Meta, Occurrence, Severity};
use crate::net::Side;
use crate::tls::AlertDescription as AD;

/// The rule.
pub struct CertificateExpired;

static META: Meta = Meta {
    id: "certificate-expired",
    title: "A certificate is expired (or not yet valid)",
    meaning: "A certificate in the path is outside its validity period, either as reported by the peer's alert or as read from the certificate at capture time.",
    severity: Severity::Error,
    confidence: Confidence::Certain,
    signature: "fatal certificate_expired (45) alert, or any presented certificate outside its validity at the time the capture shows it",
    fix: &[
        "Renew the certificate named in the evidence: the Tomcat certificate on CUCM (Cisco Unified OS Administration > Security > Certificate Management), or the server certificate on Expressway-C.",
        "After renewing CUCM's Tomcat certificate, restart Cisco Tomcat and (before CUCM 14) Cisco CallManager on that node.",
        "Check NTP on both sides: a wrong clock makes a valid certificate look expired.",
    ],
    source: "RFC 5246 / RFC 8446 alert semantics; CUCM Security Guide, certificate management",
};

impl ConnectionRule for CertificateExpired {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn check(&self, cx: &ConnCx<'_>, claimed: &mut Claimed) -> Vec<Occurrence> {
        let mut out = Vec::new();
        for (c, a) in fatal_alerts(cx) {
            if a.code != Some(AD::CERTIFICATE_EXPIRED) || !claimed.alert(c, a) {
                continue;
            }
            claimed.connection(c.tcp_stream);
            let (sender, other) = if a.sent_by == Side::Client {
                (&c.client, Side::Server)
            } else {
                (&c.server, Side::Client)
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
            let explanation = format!(
                    "{} rejected the {other}'s certificate with a fatal certificate_expired alert (frame {}, tcp.stream {}).{cert}",
                    who(sender), a.frame, c.tcp_stream
                );
            out.push(alert_occurrence(
                c,
                a,
                alert_evidence(c, a, Some(other)),
                chain_trust(c, other),
                explanation,
            ));
        }
        // Validity read from the certificates themselves, alert or not.
        for c in std::iter::once(cx.conn) {
            let Some(t) = &c.tls else { continue };
            for chain in &t.chains {
                let Some((pos, cert)) =
                    chain.certificates.iter().enumerate().find(|(_, cert)| {
                        chain.time > cert.not_after || chain.time < cert.not_before
                    })
                else {
                    continue;
                };
                if !claimed.connection(c.tcp_stream)
                    && t.alerts
                        .iter()
                        .any(|a| a.code == Some(AD::CERTIFICATE_EXPIRED))
                {
                    continue;
                }
                let owner = if chain.presented_by == Side::Client {
                    &c.client
                } else {
                    &c.server
                };
                let state = if chain.time > cert.not_after {
                    "expired"
                } else {
                    "not yet valid"
                };
                let which = if pos == 0 {
                    "its certificate".to_string()
                } else {
                    format!("certificate {} of its chain", pos + 1)
                };
                let explanation = format!(
                    "{} presented {which} on port {} (frame {}, tcp.stream {}), and at that time ({}) it was {state}: {}.",
                    who(owner),
                    c.server.port,
                    chain.frame,
                    c.tcp_stream,
                    chain.time.rfc3339(),
                    describe_cert(cert)
                );
                let evidence = crate::diagnose::Evidence::frame(
                    chain.frame,
                    chain.time,
                    Some(c.tcp_stream),
                    format!(
                        "Certificate from the {}: {state} ({})",
                        chain.presented_by, cert.subject
                    ),
                );
                out.push(Occurrence {
                    trust: chain.trust.as_deref().cloned(),
                    ..conn_occurrence(
                        c,
                        explanation,
                        vec![evidence],
                        format!("tcp.stream == {} && tls.handshake.type == 11", c.tcp_stream),
                    )
                });
            }
        }
        out
    }
}
