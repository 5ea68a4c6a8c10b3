//! `oauth-port-closed`: a SYN to an OAuth port answered by RST: CUCM does not listen there.

use crate::config::Config;
use crate::diagnose::util::{port_filter, who};
use crate::diagnose::{
    Claimed, Confidence, ConnCx, ConnFound, ConnectionRule, Evidence, Meta, Severity,
};
use crate::flow::Outcome;

/// The rule.
pub struct OauthPortClosed;

static META: Meta = Meta {
    id: "oauth-port-closed",
    title: "The SIP OAuth port is closed on CUCM",
    meaning: "Nothing listens on the OAuth port of that CUCM node: the service did not open it \
              (mode off, no restart after enabling, or another port configured).",
    severity: Severity::Error,
    confidence: Confidence::Certain,
    signature: "SYN to a SIP OAuth port answered by RST",
    fix: &[
        "On each CUCM node, `show open ports regexp 5090` (and 5091 for MRA) must list \
         CallManager listening.",
        "Check that SIP OAuth mode is enabled for the cluster (`run sql select paramvalue from \
         processconfig where paramname='ClusterSIPOAuthMode'` returns 1).",
        "Restart Cisco CallManager on the node: it opens the OAuth ports only after a restart \
         once the mode is enabled or the ports are changed.",
        "Check the node's port numbers under System > Cisco Unified CM (SIP Phone OAuth Port, SIP \
         MRA OAuth Port) against the port the client used.",
    ],
    source: "CUCM Security Guide, SIP OAuth (inferred from the documented cause)",
};

impl ConnectionRule for OauthPortClosed {
    type Found<'a> = ConnFound<'a>;
    const META: &'static Meta = &META;

    fn check<'a>(&self, cx: &ConnCx<'a>, claimed: &mut Claimed) -> Vec<ConnFound<'a>> {
        cx.claim_oauth(claimed, |c| c.outcome == Outcome::Refused)
    }

    fn explain(&self, f: &ConnFound<'_>, _cfg: &Config) -> String {
        let c = f.0;
        format!(
            "{} tried to connect to {}:{} ({}) and was refused: the SYN (frame {}) was answered \
             by a RST (frame {}), tcp.stream {}. Nothing listens on that port on this node.",
            who(&c.client),
            c.server.ip,
            c.server.port,
            c.port_kind.label(),
            first_syn(f),
            rst(f),
            c.tcp_stream
        )
    }

    fn evidence(&self, f: &ConnFound<'_>) -> Vec<Evidence> {
        let c = f.0;
        vec![Evidence::frame(
            rst(f),
            c.last_time,
            Some(c.tcp_stream),
            format!(
                "RST from {} answering the SYN of frame {}",
                c.server.ip,
                first_syn(f)
            ),
        )]
    }

    fn filter(&self, f: &ConnFound<'_>) -> String {
        port_filter(f.0, "reset")
    }
}

fn rst(f: &ConnFound<'_>) -> u64 {
    f.0.rst.as_ref().map_or(f.0.last_frame, |r| r.frame)
}

fn first_syn(f: &ConnFound<'_>) -> u64 {
    f.0.syn_frames.first().copied().unwrap_or(f.0.first_frame)
}
