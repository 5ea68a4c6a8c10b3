//! `mra-without-ceoauth`: Expressway-C proxies MRA REGISTERs to CUCM's legacy SIP ports and
//! never opens the MRA OAuth port: its CEOAuth zones are missing or inactive.

use crate::diagnose::util::{bearer_to_legacy_port, register_of, sip_evidence, via_count};
use crate::diagnose::{
    CaptureRule, Claimed, Confidence, Cx, Evidence, Meta, RequestFound, Severity,
};
use crate::net::Role;
use crate::session::Party;

/// The rule.
pub struct MraWithoutCeoauth;

static META: Meta = Meta {
    id: "mra-without-ceoauth",
    title: "Expressway-C relays MRA registrations without the CEOAuth zones",
    meaning: "With SIP OAuth, Expressway-C must reach CUCM on the SIP MRA OAuth port through one \
              CEOAuth zone per node; relaying to 5060/5061 means those zones were not built \
              (Unified CM servers not refreshed after enabling OAuth).",
    severity: Severity::Error,
    confidence: Confidence::Likely,
    signature: "proxied REGISTERs (two or more Via entries) carrying a Bearer token arrive on \
                CUCM's 5060/5061, and the proxy never connects to any SIP MRA OAuth port",
    fix: &[
        "On Expressway-C, Configuration > Unified Communications > Unified CM servers: Refresh \
         servers (needed after enabling SIP OAuth on CUCM).",
        "Configuration > Zones > Zones: a `CEOAuth <node>` zone must exist for every CUCM node \
         and be Active.",
    ],
    source: "MRA deployment guide (X14), SIP OAuth",
};

impl CaptureRule for MraWithoutCeoauth {
    type Found<'a> = RequestFound<'a>;
    const META: &'static Meta = &META;

    fn check<'a>(&self, cx: &Cx<'a>, claimed: &mut Claimed) -> Vec<RequestFound<'a>> {
        cx.registers()
            .filter(|&(t, _, r)| {
                bearer_to_legacy_port(cx, r)
                    && via_count(r) >= 2
                    && !cx.facts.mra_clients.contains(&r.src.ip)
                    && claimed.transaction(t)
            })
            .map(|(_, _, r)| RequestFound(r))
            .collect()
    }

    fn explain(&self, f: &RequestFound<'_>, _cx: &Cx<'_>) -> String {
        let r = f.0;
        format!(
            "{} relayed {} with its Bearer token ({}, {} Via entries) to {}:{}, a legacy \
             SIP port, and never connected to a SIP MRA OAuth port in this capture.",
            r.src.ip,
            register_of(r.device.as_deref().unwrap_or("a client")),
            r.at,
            via_count(r),
            r.dst.ip,
            r.dst.port
        )
    }

    fn evidence(&self, f: &RequestFound<'_>) -> Vec<Evidence> {
        let note = "proxied REGISTER with a Bearer token on a legacy SIP port";
        vec![sip_evidence(f.0, note.into())]
    }

    /// The client of the legacy port is the Expressway-C that relayed the REGISTER.
    fn parties(&self, f: &RequestFound<'_>, cx: &Cx<'_>) -> (Party, Party) {
        let (mut client, server) = crate::diagnose::util::sip_parties(cx, f.0);
        client.role = Role::ExpresswayC;
        (client, server)
    }
}
