//! `oauth-port-filtered`: SYNs to an OAuth port retransmitted with no answer at all.

use crate::diagnose::util::conn_occurrence;
use crate::diagnose::{
    Claimed, Confidence, ConnCx, ConnectionRule, Evidence, Meta, Occurrence, Severity,
};

/// The rule.
pub struct OauthPortFiltered;

static META: Meta = Meta {
    id: "oauth-port-filtered",
    title: "Connections to the SIP OAuth port get no answer (filtered)",
    meaning: "Connection attempts to the OAuth port vanish: a firewall or the path drops them.",
    severity: Severity::Error,
    confidence: Confidence::Likely,
    signature: "SYN to a SIP OAuth port retransmitted with no SYN/ACK or RST",
    fix: &[
        "Open TCP 5090 from the clients to every CUCM node and TCP 5091 from Expressway-C to every CUCM node (or the ports configured under System > Cisco Unified CM) on every firewall between them.",
        "Disable SIP or TLS inspection (ALG) for these ports on firewalls in the path.",
        "If the capture was taken on CUCM itself, the SYNs reached the node: check the node's own firewall rate limits (`show network ip_conntrack`, `utils firewall ipv4 list`).",
    ],
    source: "CUCM Security Guide, SIP OAuth port requirements (inferred)",
};

impl ConnectionRule for OauthPortFiltered {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn check(&self, cx: &ConnCx<'_>, claimed: &mut Claimed) -> Vec<Occurrence> {
        let mut out = Vec::new();
        for c in std::iter::once(cx.conn) {
            if !c.is_oauth()
                || c.outcome != crate::flow::Outcome::UnansweredSyn
                || c.syn_frames.len() < 2
            {
                continue;
            }
            if !claimed.connection(c.tcp_stream) {
                continue;
            }
            let syn = c.syn_frames[0];
            out.push(conn_occurrence(
 c,
 format!(
                    "{} sent {} SYNs to {}:{} ({}) over {:.1} s (tcp.stream {}) and got neither a SYN/ACK nor a RST: something between them drops the traffic.",
                    crate::diagnose::util::who(&c.client),
                    c.syn_frames.len(),
                    c.server.ip,
                    c.server.port,
                    c.port_kind.label(),
                    c.last_time.secs_since(c.first_time),
                    c.tcp_stream
                ),
 vec![Evidence::frame(syn, c.first_time, Some(c.tcp_stream), format!("first of {} unanswered SYNs", c.syn_frames.len()))],
 format!("ip.addr == {} && tcp.port == {} && tcp.flags.syn == 1", c.server.ip, c.server.port),
 ));
        }
        out
    }
}
