//! `tls-aborted-without-alert`: a TLS handshake on a SIP port torn down by RST or FIN with no
//! alert at all, often by a middlebox.

use crate::diagnose::util::conn_occurrence;
use crate::diagnose::util::{close_evidence, handshake_done, who};
use crate::diagnose::{Claimed, Confidence, ConnCx, ConnectionRule, Meta, Occurrence, Severity};
use crate::net::Side;

/// The rule.
pub struct TlsAbortedWithoutAlert;

static META: Meta = Meta {
    id: "tls-aborted-without-alert",
    title: "A TLS handshake was torn down without any alert",
    meaning: "TLS stacks announce a refusal with an alert; a handshake cut by a bare RST or FIN usually means something in the path (TLS inspection, an idle timer, a load balancer) ended it.",
    severity: Severity::Error,
    confidence: Confidence::Likely,
    signature: "ClientHello seen, handshake not finished, no alert (clear or encrypted), the connection ended by RST or FIN",
    fix: &[
        "Look for TLS/SIP inspection, ALGs or proxies between the two sides and exempt the SIP OAuth ports from them.",
        "Compare a capture taken on the other side: if the peer never saw the RST/FIN, a middlebox sent it.",
        "Check idle timeouts on firewalls and load balancers in the path.",
    ],
    source: "RFC 8446 section 6 (alerts on failure); field experience with inspection devices",
};

impl ConnectionRule for TlsAbortedWithoutAlert {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn check(&self, cx: &ConnCx<'_>, claimed: &mut Claimed) -> Vec<Occurrence> {
        let mut out = Vec::new();
        for c in std::iter::once(cx.conn) {
            let Some(t) = &c.tls else { continue };
            if !c.port_kind.is_sip()
                || t.client_hello.is_none()
                || !t.alerts.is_empty()
                || c.lost_bytes > 0
                || handshake_done(c)
            {
                continue;
            }
            let Some(by) = c.ended_by else { continue };
            if t.encrypted_records.iter().any(|r| r.0 == by) || !claimed.connection(c.tcp_stream) {
                continue;
            }
            let (how, bare) = if c.rst.is_some() {
                ("a RST", "RST")
            } else {
                ("a FIN", "FIN")
            };
            let last = t
                .steps
                .last()
                .map(|s| format!("{} from the {} (frame {})", s.message, s.from, s.frame))
                .unwrap_or_default();
            let party = if by == Side::Client {
                &c.client
            } else {
                &c.server
            };
            out.push(conn_occurrence(
 c,
 format!(
                    "The TLS handshake on {}:{} (tcp.stream {}) stopped after {last}: {} was ended by {how} from {} with no TLS alert at all. A TLS stack that refuses says why; a bare {bare} points at something in the path.",
                    c.server.ip, c.server.port, c.tcp_stream, "the connection", who(party)
                ),
 close_evidence(c).into_iter().collect(),
 format!("tcp.stream == {}", c.tcp_stream),
 ));
        }
        out
    }
}
