//! `tls13-handshake-aborted`: TLS 1.3 without keys. The side that rejects the handshake sends
//! one short encrypted record (an alert) and closes. A lone short record is also what a
//! close_notify looks like, so this only fires when that record ends the handshake.

use crate::diagnose::util::conn_occurrence;
use crate::diagnose::util::who;
use crate::diagnose::{
    Claimed, Confidence, ConnCx, ConnectionRule, Evidence, Meta, Occurrence, Severity,
};
use crate::flow::Outcome;
use crate::net::Side;
use crate::tls::SHORT_RECORD;

/// The rule.
pub struct Tls13HandshakeAborted;

static META: Meta = Meta {
    id: "tls13-handshake-aborted",
    title: "A TLS 1.3 handshake was aborted (alert encrypted)",
    meaning: "A TLS 1.3 handshake was ended by one side with an encrypted alert; without keys the alert cannot be read, but who ended it and when is visible.",
    severity: Severity::Error,
    confidence: Confidence::Likely,
    signature: "TLS 1.3 without keys: right after the other side's flight, one side sends a single short encrypted record (an alert) and the connection closes",
    fix: &[
        "Supply the session keys to read the alert: a key log from a lab client (SSLKEYLOGFILE) given as the key log, or embedded with `editcap --inject-secrets tls,keys.txt`.",
        "Meanwhile treat it by who aborted: on the MRA OAuth port, Expressway-C aborting after CUCM's flight is the unknown-CA-from-Expressway case (add CUCM's Tomcat CAs to Expressway-C's trusted CA list); CUCM aborting after Expressway-C's flight is the unknown-CA-from-UCM case (upload Expressway-C's CAs to tomcat-trust).",
        "On the SIP Phone OAuth port, a client aborting after CUCM's flight does not accept CUCM's Tomcat certificate.",
    ],
    source: "RFC 8446 sections 4 and 6; Cisco TAC 215572 for the per-side fixes",
};

impl ConnectionRule for Tls13HandshakeAborted {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn check(&self, cx: &ConnCx<'_>, claimed: &mut Claimed) -> Vec<Occurrence> {
        let mut out = Vec::new();
        for c in std::iter::once(cx.conn) {
            let Some(t) = &c.tls else { continue };
            if t.version() != Some("TLS1.3")
                || t.decrypted_bytes > 0
                || t.alerts.iter().any(|a| a.decrypted)
            {
                continue;
            }
            if !matches!(c.outcome, Outcome::Closed | Outcome::Reset) {
                continue;
            }
            let recs = &t.encrypted_records;
            let Some(first_client) = recs.iter().position(|r| r.0 == Side::Client) else {
                continue;
            };
            let (aborter, after, rec) = if recs[first_client].2 < SHORT_RECORD
                && !recs[first_client + 1..].iter().any(|r| r.0 == Side::Server)
            {
                // The client's first encrypted record is too short to be its Finished.
                (
                    Side::Client,
                    "the server's flight (its Certificate)",
                    recs[first_client],
                )
            } else {
                let server_after: Vec<_> = recs[first_client..]
                    .iter()
                    .filter(|r| r.0 == Side::Server)
                    .collect();
                match server_after.as_slice() {
                    [one] if one.2 < SHORT_RECORD && t.application_records[1] <= 1 => (
                        Side::Server,
                        "the client's flight (its Certificate and Finished)",
                        **one,
                    ),
                    _ => continue,
                }
            };
            if !claimed.connection(c.tcp_stream) {
                continue;
            }
            let party = if aborter == Side::Client {
                &c.client
            } else {
                &c.server
            };
            out.push(conn_occurrence(
 c,
 format!(
                    "TLS 1.3 to {}:{} (tcp.stream {}): {} sent one short encrypted record ({} bytes, frame {}) right after {}, and the connection was closed by the {}. That is an encrypted alert ending the handshake: {} rejected the handshake. Without the session keys the alert itself cannot be read.",
                    c.server.ip,
                    c.server.port,
                    c.tcp_stream,
                    who(party),
                    rec.2,
                    rec.1,
                    after,
                    c.ended_by.map_or("capture end", Side::as_str),
                    who(party)
                ),
 vec![Evidence::frame(rec.1, c.last_time, Some(c.tcp_stream), format!("short encrypted record from the {aborter}: most likely a fatal alert"))],
 format!("tcp.stream == {} && tls", c.tcp_stream),
 ));
        }
        out
    }
}
