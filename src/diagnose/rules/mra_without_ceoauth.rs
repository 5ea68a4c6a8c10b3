//! `mra-without-ceoauth`: Expressway-C proxies MRA REGISTERs to CUCM's legacy SIP ports and
//! never opens the MRA OAuth port: its CEOAuth zones are missing or inactive.

use crate::diagnose::util::{
    bearer_to_legacy_port, call_filter, register_of, sip_evidence, sip_parties, via_count,
};
use crate::diagnose::{CaptureRule, Claimed, Confidence, Cx, Meta, Occurrence, Severity};
use crate::net::Role;

/// The rule.
pub struct MraWithoutCeoauth;

static META: Meta = Meta {
    id: "mra-without-ceoauth",
    title: "Expressway-C relays MRA registrations without the CEOAuth zones",
    meaning: "With SIP OAuth, Expressway-C must reach CUCM on the SIP MRA OAuth port through one CEOAuth zone per node; relaying to 5060/5061 means those zones were not built (Unified CM servers not refreshed after enabling OAuth).",
    severity: Severity::Error,
    confidence: Confidence::Likely,
    signature: "proxied REGISTERs (two or more Via entries) carrying a Bearer token arrive on CUCM's 5060/5061, and the proxy never connects to any SIP MRA OAuth port",
    fix: &[
        "On Expressway-C, Configuration > Unified Communications > Unified CM servers: Refresh servers (needed after enabling SIP OAuth on CUCM).",
        "Configuration > Zones > Zones: a `CEOAuth <node>` zone must exist for every CUCM node and be Active.",
    ],
    source: "MRA deployment guide (X14), SIP OAuth",
};

impl CaptureRule for MraWithoutCeoauth {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn check(&self, cx: &Cx<'_>, claimed: &mut Claimed) -> Vec<Occurrence> {
        let f = cx.facts;
        let mut out = Vec::new();
        for (t, tx) in f.transactions.iter().enumerate() {
            let r = &f.sip[tx.request];
            if !bearer_to_legacy_port(cx, r) || via_count(r) < 2 {
                continue;
            }
            let used_mra = f.mra_clients.contains(&r.src.ip);
            if used_mra || !claimed.transaction(t) {
                continue;
            }
            let (mut client, server) = sip_parties(cx, r);
            client.role = Role::ExpresswayC;
            out.push(Occurrence {
                device: r.device.clone(),
trust: None,
                explanation: format!(
                    "{} relayed {} with its Bearer token (frame {}, {} Via entries) to {}:{}, a legacy SIP port, and never connected to a SIP MRA OAuth port in this capture.",
                    r.src.ip,
                    register_of(r.device.as_deref().unwrap_or("a client")),
                    r.frame,
                    via_count(r),
                    r.dst.ip,
                    r.dst.port
                ),
                evidence: vec![sip_evidence(r, "proxied REGISTER with a Bearer token on a legacy SIP port".into())],
                filter: call_filter(r),
                alert: None,
                sip: None,
                client,
                server,
            });
        }
        out
    }
}
