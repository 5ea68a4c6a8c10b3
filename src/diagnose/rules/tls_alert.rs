//! `tls-alert`: any other fatal alert, named, with who sent it.

use crate::config::Config;
use crate::diagnose::util::{party, stream, who};
use crate::diagnose::{AlertFound, Claimed, Confidence, ConnCx, ConnectionRule, Meta, Severity};

/// The rule.
pub struct TlsAlert;

static META: Meta = Meta {
    id: "tls-alert",
    title: "A TLS connection ended with a fatal alert",
    meaning: "A TLS connection ended with a fatal alert that none of the specific rules explains; \
              the alert's name says what the sender objected to.",
    severity: Severity::Error,
    confidence: Confidence::Certain,
    signature: "any fatal TLS alert that no more specific rule explains",
    fix: &[
        "The alert's name says what the sender objected to (see the explanation); look at the \
         sender's logs for the same time.",
        "For certificate alerts, check the trust stores on the side that sent it; for decode or \
         record errors, look for TLS inspection devices in the path.",
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
    type Found<'a> = AlertFound<'a>;
    const META: &'static Meta = &META;

    fn check<'a>(&self, cx: &ConnCx<'a>, claimed: &mut Claimed) -> Vec<AlertFound<'a>> {
        let c = cx.conn;
        cx.fatal_alerts()
            .filter(|a| claimed.alert(c, a))
            .map(|alert| AlertFound {
                conn: c,
                alert,
                chain: Some(alert.sent_by.other()),
            })
            .collect()
    }

    fn explain(&self, f: &AlertFound<'_>, _cfg: &Config) -> String {
        let (c, a) = (f.conn, f.alert);
        format!(
            "{} sent a fatal {} alert ({}) on port {} ({}, {}): {}.",
            who(party(c, a.sent_by)),
            a.description,
            a.code.map_or(0, |c| c.0),
            c.server.port,
            a.at,
            stream(c),
            meaning(&a.description)
        )
    }
}
