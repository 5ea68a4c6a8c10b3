//! `oauth-port-filtered`: SYNs to an OAuth port retransmitted with no answer at all.

use crate::config::Config;
use crate::diagnose::util::{port_filter, who};
use crate::diagnose::{
    Claimed, Confidence, ConnCx, ConnFound, ConnectionRule, Evidence, Meta, Severity,
};
use crate::flow::Outcome;
use crate::session::Connection;

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
        "Open TCP 5090 from the clients to every CUCM node and TCP 5091 from Expressway-C to \
         every CUCM node (or the ports configured under System > Cisco Unified CM) on every \
         firewall between them.",
        "Disable SIP or TLS inspection (ALG) for these ports on firewalls in the path.",
        "If the capture was taken on CUCM itself, the SYNs reached the node: check the node's own \
         firewall rate limits (`show network ip_conntrack`, `utils firewall ipv4 list`).",
    ],
    source: "CUCM Security Guide, SIP OAuth port requirements (inferred)",
};

impl ConnectionRule for OauthPortFiltered {
    type Found<'a> = ConnFound<'a>;
    const META: &'static Meta = &META;

    fn check<'a>(&self, cx: &ConnCx<'a>, claimed: &mut Claimed) -> Vec<ConnFound<'a>> {
        // One SYN unanswered may be the capture's end; its retransmission is not.
        let retried = |c: &Connection| c.syn_frames.len() >= 2;
        cx.claim_oauth(claimed, |c| {
            c.outcome == Outcome::UnansweredSyn && retried(c)
        })
    }

    fn explain(&self, f: &ConnFound<'_>, _cfg: &Config) -> String {
        let c = f.0;
        format!(
            "{} sent {} SYNs to {}:{} ({}) over {:.1} s (tcp.stream {}) and got neither a SYN/ACK \
             nor a RST: something between them drops the traffic.",
            who(&c.client),
            c.syn_frames.len(),
            c.server.ip,
            c.server.port,
            c.port_kind.label(),
            c.last_time.secs_since(c.first_time),
            c.tcp_stream
        )
    }

    fn evidence(&self, f: &ConnFound<'_>) -> Vec<Evidence> {
        let (c, first) = (f.0, f.0.syn_frames[0]);
        let note = format!("first of {} unanswered SYNs", c.syn_frames.len());
        vec![Evidence::frame(
            first,
            c.first_time,
            Some(c.tcp_stream),
            note,
        )]
    }

    fn filter(&self, f: &ConnFound<'_>) -> String {
        port_filter(f.0, "syn")
    }
}
