//! `tls-alert`: any other fatal alert, named, with who sent it.

use crate::diagnose::util::{alert_evidence, alert_occurrence, chain_trust, fatal_alerts, who};
use crate::diagnose::{Claimed, Confidence, ConnCx, ConnectionRule, Meta, Occurrence, Severity};
use crate::net::Side;

/// The rule.
pub struct TlsAlert;

static META: Meta = Meta {
    id: "tls-alert",
    title: "A TLS connection ended with a fatal alert",
    meaning: "A TLS connection ended with a fatal alert that none of the specific rules explains; the alert's name says what the sender objected to.",
    severity: Severity::Error,
    confidence: Confidence::Certain,
    signature: "any fatal TLS alert that no more specific rule explains",
    fix: &[
        "The alert's name says what the sender objected to (see the explanation); look at the sender's logs for the same time.",
        "For certificate alerts, check the trust stores on the side that sent it; for decode or record errors, look for TLS inspection devices in the path.",
    ],
    source: "RFC 5246 section 7.2, RFC 8446 section 6",
};

fn meaning(desc: &str) -> &'static str {
    match desc {
        "unexpected_message" => "a message arrived out of order",
        "bad_record_mac" | "decryption_failed" => {
            "a record failed its integrity check (corruption or a middlebox rewriting traffic)"
        }
        "decode_error" | "illegal_parameter" => {
            "a message could not be parsed or had an invalid field"
        }
        "decrypt_error" => "a signature or Finished check failed",
        "access_denied" => "the peer's identity was valid but not allowed",
        "internal_error" => "the sender hit an internal error",
        "unrecognized_name" => "the server does not know the name in the SNI",
        "certificate_required" => "the server required a client certificate and got none",
        "unknown_ca" => "the sender does not trust the CA of the certificate it received",
        "bad_certificate"
        | "unsupported_certificate"
        | "certificate_unknown"
        | "certificate_revoked" => "the sender did not accept the certificate it received",
        _ => "see the alert's definition in RFC 8446 section 6",
    }
}

impl ConnectionRule for TlsAlert {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn check(&self, cx: &ConnCx<'_>, claimed: &mut Claimed) -> Vec<Occurrence> {
        let mut out = Vec::new();
        for (c, a) in fatal_alerts(cx) {
            if !claimed.alert(c, a) {
                continue;
            }
            let sender = if a.sent_by == Side::Client {
                &c.client
            } else {
                &c.server
            };
            let rejected = a.sent_by.other();
            out.push(alert_occurrence(
                c,
                a,
                alert_evidence(c, a, Some(rejected)),
                chain_trust(c, rejected),
                format!(
                    "{} sent a fatal {} alert ({}) on port {} (frame {}, tcp.stream {}): {}.",
                    who(sender),
                    a.description,
                    a.code.map_or(0, |c| c.0),
                    c.server.port,
                    a.frame,
                    c.tcp_stream,
                    meaning(&a.description)
                ),
            ));
        }
        out
    }
}
