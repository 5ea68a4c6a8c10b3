//! `bearer-token-rejected`: a REGISTER carrying a Bearer token is answered 401, 403 or 407
//! (other than the port mismatch and the duplicate registration, which have their own ids).

use crate::diagnose::util::{has_bearer, sip_evidence, warning_text};
use crate::diagnose::{
    AnswerFound, CaptureRule, Claimed, Confidence, Cx, Evidence, Meta, Severity,
};

/// The rule.
pub struct BearerTokenRejected;

static META: Meta = Meta {
    id: "bearer-token-rejected",
    title: "CUCM rejected the OAuth access token",
    meaning: "The client presented its Bearer token but CUCM did not accept it: the token was \
              signed or encrypted with keys this node does not have, it expired, or clocks \
              disagree.",
    severity: Severity::Error,
    confidence: Confidence::Likely,
    signature: "REGISTER with Proxy-Authorization: Bearer answered by 401, 403 or 407 (not the \
                port-mismatch or duplicate-registration texts)",
    fix: &[
        "Compare the OAuth keys on every node: `show key authz signing` and `show key authz \
         encryption` must match across the cluster (regenerate and sync them on the publisher if \
         not).",
        "For MRA, refresh Unified CM servers on Expressway-C (Configuration > Unified \
         Communications > Unified CM servers) so it has the current keys.",
        "Check NTP on CUCM, Expressway and clients: tokens are time-limited.",
        "Sign the user out and in again to get a fresh token.",
    ],
    source: "Cisco TAC 212794 (OAuth tokens); CUCM Security Guide, SIP OAuth",
};

impl CaptureRule for BearerTokenRejected {
    type Found<'a> = AnswerFound<'a>;
    const META: &'static Meta = &META;

    fn check<'a>(&self, cx: &Cx<'a>, claimed: &mut Claimed) -> Vec<AnswerFound<'a>> {
        let refused = |status: Option<u16>| matches!(status, Some(401 | 403 | 407));
        cx.claim_answers(claimed, |req, resp| has_bearer(req) && refused(resp.status))
    }

    fn explain(&self, f: &AnswerFound<'_>, _cx: &Cx<'_>) -> String {
        let (req, resp) = (f.req, f.resp);
        let warn = warning_text(resp)
            .map(|w| format!(" with Warning {w}"))
            .unwrap_or_default();
        format!(
            "{} sent REGISTER with its Bearer token ({}) to {}:{} and CUCM answered {} \
             {}{warn} ({}): the token was not accepted.",
            req.device.as_deref().unwrap_or("The client"),
            req.at,
            req.dst.ip,
            req.dst.port,
            resp.status.unwrap_or(0),
            resp.reason.as_deref().unwrap_or(""),
            resp.at
        )
    }

    fn evidence(&self, f: &AnswerFound<'_>) -> Vec<Evidence> {
        let status = f.resp.status.unwrap_or(0);
        vec![
            sip_evidence(
                f.resp,
                format!("{status} to a REGISTER carrying a Bearer token"),
            ),
            sip_evidence(f.req, "REGISTER with Proxy-Authorization: Bearer".into()),
        ]
    }
}
