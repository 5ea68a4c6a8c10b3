//! `tls13-handshake-aborted`: TLS 1.3 without keys. The side that rejects the handshake sends
//! one short encrypted record (an alert) and closes. A lone short record is also what a
//! close_notify looks like, so this only fires when that record ends the handshake.

use crate::config::Config;
use crate::diagnose::util::{party, who};
use crate::diagnose::{
    Anchored, Claimed, Confidence, ConnCx, ConnectionRule, Evidence, Meta, On, Severity,
};
use crate::flow::Outcome;
use crate::net::Side;
use crate::session::Connection;
use crate::tls::SHORT_RECORD;

/// The rule.
pub struct Tls13HandshakeAborted;

static META: Meta = Meta {
    id: "tls13-handshake-aborted",
    title: "A TLS 1.3 handshake was aborted (alert encrypted)",
    meaning: "A TLS 1.3 handshake was ended by one side with an encrypted alert; without keys the \
              alert cannot be read, but who ended it and when is visible.",
    severity: Severity::Error,
    confidence: Confidence::Likely,
    signature: "TLS 1.3 without keys: right after the other side's flight, one side sends a \
                single short encrypted record (an alert) and the connection closes",
    fix: &[
        "Supply the session keys to read the alert: a key log from a lab client (SSLKEYLOGFILE) \
         given as the key log, or embedded with `editcap --inject-secrets tls,keys.txt`.",
        "Meanwhile treat it by who aborted: on the MRA OAuth port, Expressway-C aborting after \
         CUCM's flight is the unknown-CA-from-Expressway case (add CUCM's Tomcat CAs to \
         Expressway-C's trusted CA list); CUCM aborting after Expressway-C's flight is the \
         unknown-CA-from-UCM case (upload Expressway-C's CAs to tomcat-trust).",
        "On the SIP Phone OAuth port, a client aborting after CUCM's flight does not accept \
         CUCM's Tomcat certificate.",
    ],
    source: "RFC 8446 sections 4 and 6; Cisco TAC 215572 for the per-side fixes",
};

/// A TLS 1.3 handshake one side ended with a short encrypted record (an alert no key opens).
pub struct Aborted<'a> {
    conn: &'a Connection,
    /// Who sent the short record.
    aborter: Side,
    /// What it answered.
    after: &'static str,
    /// The record: sender, frame, length.
    record: (Side, u64, usize),
}

impl Anchored for Aborted<'_> {
    fn on(&self) -> On<'_> {
        On::Conn(self.conn)
    }
}

impl ConnectionRule for Tls13HandshakeAborted {
    type Found<'a> = Aborted<'a>;
    const META: &'static Meta = &META;

    fn check<'a>(&self, cx: &ConnCx<'a>, claimed: &mut Claimed) -> Vec<Aborted<'a>> {
        aborted(cx.conn)
            .filter(|_| claimed.connection(cx.conn.tcp_stream))
            .into_iter()
            .collect()
    }

    fn explain(&self, f: &Aborted<'_>, _cfg: &Config) -> String {
        let c = f.conn;
        let who = who(party(c, f.aborter));
        format!(
            "TLS 1.3 to {}:{} (tcp.stream {}): {who} sent one short encrypted record ({} bytes, \
             frame {}) right after {}, and the connection was closed by the {}. That is an \
             encrypted alert ending the handshake: {who} rejected the handshake. Without the \
             session keys the alert itself cannot be read.",
            c.server.ip,
            c.server.port,
            c.tcp_stream,
            f.record.2,
            f.record.1,
            f.after,
            c.ended_by.map_or("capture end", Side::as_str),
        )
    }

    fn evidence(&self, f: &Aborted<'_>) -> Vec<Evidence> {
        vec![Evidence::frame(
            f.record.1,
            f.conn.last_time,
            Some(f.conn.tcp_stream),
            format!(
                "short encrypted record from the {}: most likely a fatal alert",
                f.aborter
            ),
        )]
    }

    fn filter(&self, f: &Aborted<'_>) -> String {
        format!("tcp.stream == {} && tls", f.conn.tcp_stream)
    }
}

/// The short record that ended an undecrypted TLS 1.3 handshake, and who sent it.
fn aborted(c: &Connection) -> Option<Aborted<'_>> {
    let t = c.tls.as_ref()?;
    if t.version() != Some("TLS1.3")
        || t.decrypted_bytes > 0
        || t.alerts.iter().any(|a| a.decrypted)
        || !matches!(c.outcome, Outcome::Closed | Outcome::Reset)
    {
        return None;
    }
    let recs = &t.encrypted_records;
    let first_client = recs.iter().position(|r| r.0 == Side::Client)?;
    if recs[first_client].2 < SHORT_RECORD
        && !recs[first_client + 1..].iter().any(|r| r.0 == Side::Server)
    {
        // The client's first encrypted record is too short to be its Finished.
        return Some(Aborted {
            conn: c,
            aborter: Side::Client,
            after: "the server's flight (its Certificate)",
            record: recs[first_client],
        });
    }
    let server_after: Vec<_> = recs[first_client..]
        .iter()
        .filter(|r| r.0 == Side::Server)
        .collect();
    match server_after.as_slice() {
        [one] if one.2 < SHORT_RECORD && t.application_records[1] <= 1 => Some(Aborted {
            conn: c,
            aborter: Side::Server,
            after: "the client's flight (its Certificate and Finished)",
            record: **one,
        }),
        _ => None,
    }
}
