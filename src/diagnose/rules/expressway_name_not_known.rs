//! `expressway-name-not-known`: the mutual TLS handshake on the MRA OAuth port completes (the
//! chain is trusted) but CUCM then drops the connection without answering SIP, which is what it
//! does when the Expressway-C certificate's names are not in Device > Expressway-C.

use crate::diagnose::util::conn_occurrence;
use crate::config::PortKind;
use crate::diagnose::util::{close_evidence, handshake_done, leaf};
use crate::diagnose::{Claimed, Confidence, ConnCx, ConnectionRule, Meta, Occurrence, Severity};
use crate::net::Side;

/// The rule.
pub struct ExpresswayNameNotKnown;

static META: Meta = Meta {
    id: "expressway-name-not-known",
    title: "CUCM does not know this Expressway-C by its certificate name",
    meaning: "CUCM accepts MRA OAuth connections only from the Expressway-C servers listed (by certificate CN/SAN) under Device > Expressway-C; a trusted certificate with an unlisted name is dropped after the handshake.",
    severity: Severity::Error,
    confidence: Confidence::Likely,
    signature: "MRA OAuth port: the mutual TLS handshake completes without an alert, then CUCM closes or resets the connection without sending any SIP answer",
    fix: &[
        "On CUCM, Device > Expressway-C must list the CN or a SAN of every Expressway-C certificate (`run sql select * from expresswaycconfiguration`).",
        "On Expressway-C, Configuration > Unified Communications > Unified CM servers: Refresh servers, so CUCM's list is pushed again.",
    ],
    source: "MRA deployment guide (X14), SIP OAuth; CUCM Security Guide",
};

impl ConnectionRule for ExpresswayNameNotKnown {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn check(&self, cx: &ConnCx<'_>, claimed: &mut Claimed) -> Vec<Occurrence> {
        let mut out = Vec::new();
        closed_after_handshake(cx, claimed, &mut out);
        names_not_in_table(cx, claimed, &mut out);
        out
    }
}

/// The mutual TLS handshake completes, then CUCM closes or resets without a SIP answer.
fn closed_after_handshake(cx: &ConnCx<'_>, claimed: &mut Claimed, out: &mut Vec<Occurrence>) {
    for c in std::iter::once(cx.conn) {
        let Some(t) = &c.tls else { continue };
        if c.port_kind != PortKind::SipMraOAuth
            || c.ended_by != Some(Side::Server)
            || !handshake_done(c)
            || c.lost_bytes > 0
        {
            continue;
        }
        if t.alerts.iter().any(|a| a.is_fatal()) {
            continue;
        }
        // Decrypted: CUCM sent no SIP at all. Not decrypted: CUCM sent (almost) nothing after
        // the handshake (a close_notify at most).
        let decrypted = t.decrypted_bytes > 0 || t.decryption.as_deref() == Some("decrypted");
        let server_sip = c.sip_from_server > 0;
        let quiet = if decrypted {
            !server_sip
        } else {
            t.application_records[1] <= 1 && t.application_bytes[1] < 64
        };
        if !quiet || t.application_records[0] == 0 && !decrypted {
            continue;
        }
        if !claimed.connection(c.tcp_stream) {
            continue;
        }
        let names = leaf(c, Side::Client)
            .map(|l| {
                let mut n: Vec<String> = l.san.clone();
                if let Some(cn) = l.subject.split(", ").find_map(|p| p.strip_prefix("CN=")) {
                    n.insert(0, format!("CN={cn}"));
                }
                n.join(", ")
            })
            .unwrap_or_else(|| "(not visible)".into());
        let listed = if cx.cfg.expressway_names.is_empty() {
            String::new()
        } else {
            let known = leaf(c, Side::Client).is_some_and(|l| {
                cx.cfg
                    .expressway_names
                    .iter()
                    .any(|n| crate::diagnose::util::cert_names(l, n))
            });
            if known {
                " The certificate's names ARE among the Expressway-C names given, so look elsewhere (CUCM logs).".to_string()
            } else {
                format!(
                    " None of them is among the Expressway-C names given ({}).",
                    cx.cfg.expressway_names.join(", ")
                )
            }
        };
        out.push(conn_occurrence(
 c,
 format!(
                "Expressway-C {} completed mutual TLS with CUCM {}:{} (tcp.stream {}) and sent its traffic, but CUCM closed the connection without any SIP answer. The chain was trusted (no alert), so CUCM most likely does not list this Expressway-C: its certificate names are {names}.{listed}",
                c.client.ip, c.server.ip, c.server.port, c.tcp_stream
            ),
 close_evidence(c).into_iter().collect(),
 format!("tcp.stream == {}", c.tcp_stream),
 ));
    }
}

/// With the Device > Expressway-C table given, each Expressway-C certificate checked against it.
fn names_not_in_table(cx: &ConnCx<'_>, claimed: &mut Claimed, out: &mut Vec<Occurrence>) {
    // With the Device > Expressway-C table given, every Expressway-C certificate is checked.
    if !cx.cfg.expressway_names.is_empty() {
        for c in std::iter::once(cx.conn) {
            if c.port_kind != PortKind::SipMraOAuth {
                continue;
            }
            let Some(cert) = leaf(c, Side::Client) else {
                continue;
            };
            if cx
                .cfg
                .expressway_names
                .iter()
                .any(|n| crate::diagnose::util::cert_names(cert, n))
                || !claimed.connection(c.tcp_stream)
            {
                continue;
            }
            let chain = c.tls.as_ref().and_then(|t| t.chain_of(Side::Client));
            out.push(conn_occurrence(
 c,
 format!(
                    "Expressway-C {} presented a certificate for {} on {}:{} (tcp.stream {}), and none of its names is in the Device > Expressway-C list given ({}). CUCM will not accept SIP OAuth traffic from it.",
                    c.client.ip,
                    if cert.san.is_empty() { cert.subject.clone() } else { cert.san.join(", ") },
                    c.server.ip,
                    c.server.port,
                    c.tcp_stream,
                    cx.cfg.expressway_names.join(", ")
                ),
 chain
                    .map(|ch| crate::diagnose::Evidence::frame(ch.frame, ch.time, Some(c.tcp_stream), format!("Expressway-C certificate: {}", cert.subject)))
                    .into_iter()
                    .collect(),
 format!("tcp.stream == {}", c.tcp_stream),
 ));
        }
    }
}
