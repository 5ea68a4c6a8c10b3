//! `tls-aborted-without-alert`: a TLS handshake on a SIP port torn down by RST or FIN with no
//! alert at all, often by a middlebox.

use crate::config::Config;
use crate::diagnose::util::{close_evidence, handshake_done, party, who};
use crate::diagnose::{
    Anchored, Claimed, Confidence, ConnCx, ConnectionRule, Evidence, Meta, On, Severity,
};
use crate::net::Side;
use crate::session::Connection;

/// The rule.
pub struct TlsAbortedWithoutAlert;

static META: Meta = Meta {
    id: "tls-aborted-without-alert",
    title: "A TLS handshake was torn down without any alert",
    meaning: "TLS stacks announce a refusal with an alert; a handshake cut by a bare RST or FIN \
              usually means something in the path (TLS inspection, an idle timer, a load \
              balancer) ended it.",
    severity: Severity::Error,
    confidence: Confidence::Likely,
    signature: "ClientHello seen, handshake not finished, no alert (clear or encrypted), the \
                connection ended by RST or FIN",
    fix: &[
        "Look for TLS/SIP inspection, ALGs or proxies between the two sides and exempt the SIP \
         OAuth ports from them.",
        "Compare a capture taken on the other side: if the peer never saw the RST/FIN, a \
         middlebox sent it.",
        "Check idle timeouts on firewalls and load balancers in the path.",
    ],
    source: "RFC 8446 section 6 (alerts on failure); field experience with inspection devices",
};

/// A TLS handshake on a SIP port ended by `by` with a FIN or RST and no alert.
pub struct Stopped<'a> {
    conn: &'a Connection,
    by: Side,
}

impl Anchored for Stopped<'_> {
    fn on(&self) -> On<'_> {
        On::Conn(self.conn)
    }
}

impl ConnectionRule for TlsAbortedWithoutAlert {
    type Found<'a> = Stopped<'a>;
    const META: &'static Meta = &META;

    fn check<'a>(&self, cx: &ConnCx<'a>, claimed: &mut Claimed) -> Vec<Stopped<'a>> {
        let c = cx.conn;
        let Some(t) = &c.tls else {
            return Vec::new();
        };
        let cut = c.port_kind.is_sip()
            && t.client_hello.is_some()
            && t.alerts.is_empty()
            && c.lost_bytes == 0
            && !handshake_done(c);
        let Some(by) = c.ended_by.filter(|_| cut) else {
            return Vec::new();
        };
        if t.encrypted_records.iter().any(|r| r.0 == by) || !claimed.connection(c.tcp_stream) {
            return Vec::new();
        }
        vec![Stopped { conn: c, by }]
    }

    fn explain(&self, f: &Stopped<'_>, _cfg: &Config) -> String {
        let c = f.conn;
        let (how, bare) = if c.rst.is_some() {
            ("a RST", "RST")
        } else {
            ("a FIN", "FIN")
        };
        let last = c
            .tls
            .as_ref()
            .and_then(|t| t.steps.last())
            .map(|s| format!("{} from the {} (frame {})", s.message, s.from, s.frame))
            .unwrap_or_default();
        format!(
            "The TLS handshake on {}:{} (tcp.stream {}) stopped after {last}: the connection was \
             ended by {how} from {} with no TLS alert at all. A TLS stack that refuses says why; \
             a bare {bare} points at something in the path.",
            c.server.ip,
            c.server.port,
            c.tcp_stream,
            who(party(c, f.by))
        )
    }

    fn evidence(&self, f: &Stopped<'_>) -> Vec<Evidence> {
        close_evidence(f.conn).into_iter().collect()
    }
}
