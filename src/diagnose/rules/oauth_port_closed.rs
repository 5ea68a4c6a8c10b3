//! `oauth-port-closed`: a SYN to an OAuth port answered by RST: CUCM does not listen there.

use crate::diagnose::util::conn_occurrence;
use crate::diagnose::{
    Claimed, Confidence, ConnCx, ConnectionRule, Evidence, Meta, Occurrence, Severity,
};

/// The rule.
pub struct OauthPortClosed;

static META: Meta = Meta {
    id: "oauth-port-closed",
    title: "The SIP OAuth port is closed on CUCM",
    meaning: "Nothing listens on the OAuth port of that CUCM node: the service did not open it (mode off, no restart after enabling, or another port configured).",
    severity: Severity::Error,
    confidence: Confidence::Certain,
    signature: "SYN to a SIP OAuth port answered by RST",
    fix: &[
        "On each CUCM node, `show open ports regexp 5090` (and 5091 for MRA) must list CallManager listening.",
        "Check that SIP OAuth mode is enabled for the cluster (`run sql select paramvalue from processconfig where paramname='ClusterSIPOAuthMode'` returns 1).",
        "Restart Cisco CallManager on the node: it opens the OAuth ports only after a restart once the mode is enabled or the ports are changed.",
        "Check the node's port numbers under System > Cisco Unified CM (SIP Phone OAuth Port, SIP MRA OAuth Port) against the port the client used.",
    ],
    source: "CUCM Security Guide, SIP OAuth (inferred from the documented cause)",
};

impl ConnectionRule for OauthPortClosed {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn check(&self, cx: &ConnCx<'_>, claimed: &mut Claimed) -> Vec<Occurrence> {
        let mut out = Vec::new();
        for c in std::iter::once(cx.conn) {
            if !c.is_oauth()
                || c.outcome != crate::flow::Outcome::Refused
                || !claimed.connection(c.tcp_stream)
            {
                continue;
            }
            let rst = c.rst.as_ref().map_or(c.last_frame, |r| r.frame);
            let syn = c.syn_frames.first().copied().unwrap_or(c.first_frame);
            out.push(conn_occurrence(
 c,
 format!(
                    "{} tried to connect to {}:{} ({}) and was refused: the SYN (frame {syn}) was answered by a RST (frame {rst}), tcp.stream {}. Nothing listens on that port on this node.",
                    crate::diagnose::util::who(&c.client),
                    c.server.ip,
                    c.server.port,
                    c.port_kind.label(),
                    c.tcp_stream
                ),
 vec![Evidence::frame(rst, c.last_time, Some(c.tcp_stream), format!("RST from {} answering the SYN of frame {syn}", c.server.ip))],
 format!("ip.addr == {} && tcp.port == {} && tcp.flags.reset == 1", c.server.ip, c.server.port),
 ));
        }
        out
    }
}
