//! `expressway-name-not-known`: the mutual TLS handshake on the MRA OAuth port completes (the
//! chain is trusted) but CUCM then drops the connection without answering SIP, which is what it
//! does when the Expressway-C certificate's names are not in Device > Expressway-C.

use crate::config::{Config, PortKind};
use crate::diagnose::util::{cert_names, close_evidence, handshake_done, leaf, named};
use crate::diagnose::{
    Anchored, Claimed, Confidence, ConnCx, ConnectionRule, Evidence, Meta, On, Severity,
};
use crate::net::Side;
use crate::session::Connection;
use crate::tls::CertInfo;

/// The rule.
pub struct ExpresswayNameNotKnown;

static META: Meta = Meta {
    id: "expressway-name-not-known",
    title: "CUCM does not know this Expressway-C by its certificate name",
    meaning: "CUCM accepts MRA OAuth connections only from the Expressway-C servers listed (by \
              certificate CN/SAN) under Device > Expressway-C; a trusted certificate with an \
              unlisted name is dropped after the handshake.",
    severity: Severity::Error,
    confidence: Confidence::Likely,
    signature: "MRA OAuth port: the mutual TLS handshake completes without an alert, then CUCM \
                closes or resets the connection without sending any SIP answer",
    fix: &[
        "On CUCM, Device > Expressway-C must list the CN or a SAN of every Expressway-C \
         certificate (`run sql select * from expresswaycconfiguration`).",
        "On Expressway-C, Configuration > Unified Communications > Unified CM servers: Refresh \
         servers, so CUCM's list is pushed again.",
    ],
    source: "MRA deployment guide (X14), SIP OAuth; CUCM Security Guide",
};

/// An Expressway-C CUCM does not know: CUCM closed the trusted connection without a word, or
/// its certificate is not in the Device > Expressway-C list given.
pub enum Unknown<'a> {
    /// The mutual TLS handshake completed, then CUCM closed without a SIP answer.
    Closed(&'a Connection),
    /// The certificate names none of the Expressway-C names given.
    NotListed {
        /// The connection.
        conn: &'a Connection,
        /// Expressway-C's certificate.
        cert: &'a CertInfo,
    },
}

impl Anchored for Unknown<'_> {
    fn on(&self) -> On<'_> {
        match self {
            Unknown::Closed(c) | Unknown::NotListed { conn: c, .. } => On::Conn(c),
        }
    }
}

impl ConnectionRule for ExpresswayNameNotKnown {
    type Found<'a> = Unknown<'a>;
    const META: &'static Meta = &META;

    fn check<'a>(&self, cx: &ConnCx<'a>, claimed: &mut Claimed) -> Vec<Unknown<'a>> {
        let c = cx.conn;
        let mut out = Vec::new();
        if closed_after_handshake(c) && claimed.connection(c.tcp_stream) {
            out.push(Unknown::Closed(c));
        }
        // With the Device > Expressway-C table given, every Expressway-C certificate is checked.
        let names = &cx.cfg.expressway_names;
        if let Some(cert) = leaf(c, Side::Client).filter(|_| !names.is_empty()) {
            if c.port_kind == PortKind::SipMraOAuth
                && !names.iter().any(|n| cert_names(cert, n))
                && claimed.connection(c.tcp_stream)
            {
                out.push(Unknown::NotListed { conn: c, cert });
            }
        }
        out
    }

    fn explain(&self, f: &Unknown<'_>, cfg: &Config) -> String {
        let given = cfg.expressway_names.join(", ");
        match *f {
            Unknown::Closed(c) => {
                let cert = leaf(c, Side::Client);
                let names = cert.map_or("(not visible)".into(), |l| {
                    let mut n: Vec<String> = l.san.clone();
                    if let Some(cn) = l.subject.split(", ").find_map(|p| p.strip_prefix("CN=")) {
                        n.insert(0, format!("CN={cn}"));
                    }
                    n.join(", ")
                });
                let known =
                    cert.is_some_and(|l| cfg.expressway_names.iter().any(|n| cert_names(l, n)));
                let listed = if cfg.expressway_names.is_empty() {
                    String::new()
                } else if known {
                    " The certificate's names ARE among the Expressway-C names given, so look \
                     elsewhere (CUCM logs)."
                        .to_string()
                } else {
                    format!(" None of them is among the Expressway-C names given ({given}).")
                };
                format!(
                    "Expressway-C {} completed mutual TLS with CUCM {}:{} (tcp.stream {}) and \
                     sent its traffic, but CUCM closed the connection without any SIP answer. The \
                     chain was trusted (no alert), so CUCM most likely does not list this \
                     Expressway-C: its certificate names are {names}.{listed}",
                    c.client.ip, c.server.ip, c.server.port, c.tcp_stream
                )
            }
            Unknown::NotListed { conn: c, cert } => format!(
                "Expressway-C {} presented a certificate for {} on {}:{} (tcp.stream {}), and \
                 none of its names is in the Device > Expressway-C list given ({given}). CUCM \
                 will not accept SIP OAuth traffic from it.",
                c.client.ip,
                named(cert),
                c.server.ip,
                c.server.port,
                c.tcp_stream
            ),
        }
    }

    fn evidence(&self, f: &Unknown<'_>) -> Vec<Evidence> {
        match *f {
            Unknown::Closed(c) => close_evidence(c).into_iter().collect(),
            Unknown::NotListed { conn: c, cert } => c
                .tls
                .as_ref()
                .and_then(|t| t.chain_of(Side::Client))
                .map(|ch| {
                    Evidence::frame(
                        ch.frame,
                        ch.time,
                        Some(c.tcp_stream),
                        format!("Expressway-C certificate: {}", cert.subject),
                    )
                })
                .into_iter()
                .collect(),
        }
    }
}

/// The mutual TLS handshake completed, then CUCM closed or reset without a SIP answer.
fn closed_after_handshake(c: &Connection) -> bool {
    let Some(t) = &c.tls else { return false };
    if c.port_kind != PortKind::SipMraOAuth
        || c.ended_by != Some(Side::Server)
        || !handshake_done(c)
        || c.lost_bytes > 0
        || t.alerts.iter().any(|a| a.is_fatal())
    {
        return false;
    }
    // Decrypted: CUCM sent no SIP at all. Not decrypted: CUCM sent (almost) nothing after
    // the handshake (a close_notify at most).
    let decrypted = t.decrypted_bytes > 0 || t.decryption.as_deref() == Some("decrypted");
    let quiet = if decrypted {
        c.sip_from_server == 0
    } else {
        t.application_records[1] <= 1 && t.application_bytes[1] < 64
    };
    quiet && (t.application_records[0] > 0 || decrypted)
}
