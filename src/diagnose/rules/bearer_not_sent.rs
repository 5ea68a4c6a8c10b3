//! `bearer-not-sent`: CUCM challenges with `Proxy-Authenticate: Bearer` and the client never
//! answers with a Bearer token.

use crate::diagnose::util::{client_closing, register_of};
use crate::diagnose::util::{
    call_filter, has_bearer, register_steps, sip_evidence, sip_parties, sip_ref, stream_lossy,
    time_left, CHALLENGE_GRACE_SECS,
};
use crate::diagnose::{CaptureRule, Claimed, Confidence, Cx, Meta, Occurrence, Severity};

/// The rule.
pub struct BearerNotSent;

static META: Meta = Meta {
    id: "bearer-not-sent",
    title: "The client did not answer the Bearer challenge with a token",
    meaning: "CUCM asked for an OAuth token but the client has none to give: OAuth with refresh login is off, or (MRA) Expressway does not authorize by OAuth token.",
    severity: Severity::Error,
    confidence: Confidence::Likely,
    signature: "407 with Proxy-Authenticate: Bearer not followed by a REGISTER with Proxy-Authorization: Bearer",
    fix: &[
        "Enable \"OAuth with Refresh Login Flow\" (System > Enterprise Parameters) and, for MRA, \"Authorize by OAuth token with refresh\" on Expressway-C (Configuration > Unified Communications > Configuration).",
        "Have the user sign out and in again so the client obtains a token.",
    ],
    source: "CUCM Security Guide, SIP OAuth; MRA deployment guide (X14)",
};

impl CaptureRule for BearerNotSent {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn check(&self, cx: &Cx<'_>, claimed: &mut Claimed) -> Vec<Occurrence> {
        let mut out = Vec::new();
        for reg in &cx.facts.registrations {
            let steps = register_steps(cx, reg);
            for (i, (t, req, resp)) in steps.iter().enumerate() {
                let Some(resp) = resp else { continue };
                if resp.status != Some(407) || !resp.has_auth("Proxy-Authenticate", "Bearer") {
                    continue;
                }
                let later = &steps[i + 1..];
                if later.iter().any(|(_, r, _)| has_bearer(r)) {
                    continue;
                }
                // A later answer in the same dialog means a REGISTER we did not see.
                let unseen_request = cx.facts.sip.iter().any(|m| {
                    m.status.is_some()
                        && m.call_id == resp.call_id
                        && m.cseq > resp.cseq
                        && m.frame > resp.frame
                });
                let closed = client_closing(cx, req, resp);
                // Lost bytes may have held the answer; the capture's end only hides one when the
                // connection was still open.
                if later.is_empty()
                    && (unseen_request
                        || stream_lossy(cx, resp.tcp_stream)
                        || (closed.is_none() && time_left(cx, resp.time) < CHALLENGE_GRACE_SECS))
                {
                    claimed.undecided.push(format!(
                        "frame {}: the Bearer challenge to {} is not followed by a REGISTER in the capture, but the capture {} cannot show whether one was sent",
                        resp.frame,
                        reg.device,
                        if unseen_request || stream_lossy(cx, resp.tcp_stream) { "lost bytes of that connection and" } else if cx.facts.sip_window.is_some() { "judged this attempt in pieces (it went past 16 REGISTER transactions) and" } else { "ends right after it and" }
                    ));
                    claimed.transaction(*t);
                    continue;
                }
                if !claimed.transaction(*t) {
                    continue;
                }
                let (client, server) = sip_parties(cx, req);
                let mut evidence = vec![sip_evidence(
                    resp,
                    "407 with Proxy-Authenticate: Bearer".into(),
                )];
                let next = later.first().map(|(_, r, _)| *r);
                if let Some(n) = next {
                    evidence.push(sip_evidence(
                        n,
                        "the next REGISTER, without a Bearer token".into(),
                    ));
                }
                out.push(Occurrence {
                device: Some(reg.device.clone()),
trust: None,
                    explanation: format!(
                        "CUCM {}:{} challenged {} (frame {}) with 407 Proxy-Authenticate: Bearer (frame {}) and {}.",
                        req.dst.ip,
                        req.dst.port,
                        register_of(&reg.device),
                        req.frame,
                        resp.frame,
                        match (next, &closed) {
                            (Some(n), _) => format!("the client's next REGISTER (frame {}) carried no Bearer token", n.frame),
                            (None, Some(how)) => format!("{how} without sending a REGISTER with a Bearer token"),
                            (None, None) => "no REGISTER with a Bearer token followed in the capture".to_string(),
                        }
                    ),
                    evidence,
                    filter: call_filter(req),
                    sip: Some(sip_ref(resp)),
                    alert: None,
                    client,
                    server,
                });
            }
        }
        out
    }
}
