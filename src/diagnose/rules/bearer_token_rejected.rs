//! `bearer-token-rejected`: a REGISTER carrying a Bearer token is answered 401, 403 or 407
//! (other than the port mismatch and the duplicate registration, which have their own ids).

use crate::diagnose::util::{
    call_filter, has_bearer, sip_evidence, sip_parties, sip_ref, warning_text,
};
use crate::diagnose::{CaptureRule, Claimed, Confidence, Cx, Meta, Occurrence, Severity};

/// The rule.
pub struct BearerTokenRejected;

static META: Meta = Meta {
    id: "bearer-token-rejected",
    title: "CUCM rejected the OAuth access token",
    meaning: "The client presented its Bearer token but CUCM did not accept it: the token was signed or encrypted with keys this node does not have, it expired, or clocks disagree.",
    severity: Severity::Error,
    confidence: Confidence::Likely,
    signature: "REGISTER with Proxy-Authorization: Bearer answered by 401, 403 or 407 (not the port-mismatch or duplicate-registration texts)",
    fix: &[
        "Compare the OAuth keys on every node: `show key authz signing` and `show key authz encryption` must match across the cluster (regenerate and sync them on the publisher if not).",
        "For MRA, refresh Unified CM servers on Expressway-C (Configuration > Unified Communications > Unified CM servers) so it has the current keys.",
        "Check NTP on CUCM, Expressway and clients: tokens are time-limited.",
        "Sign the user out and in again to get a fresh token.",
    ],
    source: "Cisco TAC 212794 (OAuth tokens); CUCM Security Guide, SIP OAuth",
};

impl CaptureRule for BearerTokenRejected {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn check(&self, cx: &Cx<'_>, claimed: &mut Claimed) -> Vec<Occurrence> {
        let sip = &cx.facts.sip;
        let mut out = Vec::new();
        for (t, tx) in cx.facts.transactions.iter().enumerate() {
            let req = &sip[tx.request];
            let Some(resp) = tx.final_response(sip) else {
                continue;
            };
            let status = resp.status.unwrap_or(0);
            if req.method != "REGISTER"
                || !has_bearer(req)
                || ![401, 403, 407].contains(&status)
                || !claimed.transaction(t)
            {
                continue;
            }
            let (client, server) = sip_parties(cx, req);
            let warn = warning_text(resp)
                .map(|w| format!(" with Warning {w}"))
                .unwrap_or_default();
            out.push(Occurrence {
                device: req.device.clone(),
trust: None,
                explanation: format!(
                    "{} sent REGISTER with its Bearer token (frame {}) to {}:{} and CUCM answered {} {}{warn} (frame {}): the token was not accepted.",
                    req.device.as_deref().unwrap_or("The client"),
                    req.frame,
                    req.dst.ip,
                    req.dst.port,
                    status,
                    resp.reason.as_deref().unwrap_or(""),
                    resp.frame
                ),
                evidence: vec![
                    sip_evidence(resp, format!("{status} to a REGISTER carrying a Bearer token")),
                    sip_evidence(req, "REGISTER with Proxy-Authorization: Bearer".into()),
                ],
                filter: call_filter(req),
                sip: Some(sip_ref(resp)),
                alert: None,
                client,
                server,
            });
        }
        out
    }
}
