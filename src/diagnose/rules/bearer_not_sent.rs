//! `bearer-not-sent`: CUCM challenges with `Proxy-Authenticate: Bearer` and the client never
//! answers with a Bearer token.

use crate::diagnose::util::{
    client_closing, has_bearer, register_of, register_steps, sip_evidence, stream_lossy, time_left,
    Closing, CHALLENGE_GRACE_SECS,
};
use crate::diagnose::{
    Anchored, CaptureRule, Claimed, Confidence, Cx, Evidence, Meta, On, Severity,
};
use crate::note::{Hidden, Note};
use crate::session::Registration;
use crate::sip::SipMessage;

/// The rule.
pub struct BearerNotSent;

static META: Meta = Meta {
    id: "bearer-not-sent",
    title: "The client did not answer the Bearer challenge with a token",
    meaning: "CUCM asked for an OAuth token but the client has none to give: OAuth with refresh \
              login is off, or (MRA) Expressway does not authorize by OAuth token.",
    severity: Severity::Error,
    confidence: Confidence::Likely,
    signature: "407 with Proxy-Authenticate: Bearer not followed by a REGISTER with \
                Proxy-Authorization: Bearer",
    fix: &[
        "Enable \"OAuth with Refresh Login Flow\" (System > Enterprise Parameters) and, for MRA, \
         \"Authorize by OAuth token with refresh\" on Expressway-C (Configuration > Unified \
         Communications > Configuration).",
        "Have the user sign out and in again so the client obtains a token.",
    ],
    source: "CUCM Security Guide, SIP OAuth; MRA deployment guide (X14)",
};

/// A Bearer challenge the client did not answer with a token.
pub struct Unmet<'a> {
    reg: &'a Registration,
    req: &'a SipMessage,
    /// The 407 with `Proxy-Authenticate: Bearer`.
    challenge: &'a SipMessage,
    /// The client's next REGISTER (without a token), if any.
    next: Option<&'a SipMessage>,
    /// How the client ended its connection instead, if it did.
    closed: Option<Closing>,
}

impl Anchored for Unmet<'_> {
    fn on(&self) -> On<'_> {
        On::Sip {
            req: self.req,
            resp: Some(self.challenge),
        }
    }
}

impl CaptureRule for BearerNotSent {
    type Found<'a> = Unmet<'a>;
    const META: &'static Meta = &META;

    fn check<'a>(&self, cx: &Cx<'a>, claimed: &mut Claimed) -> Vec<Unmet<'a>> {
        let mut out = Vec::new();
        for reg in &cx.facts.registrations {
            let steps = register_steps(cx, reg);
            for (i, &(t, req, resp)) in steps.iter().enumerate() {
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
                        && m.at > resp.at
                });
                let closed = client_closing(cx, req, resp);
                let lossy = unseen_request || stream_lossy(cx, resp.tcp_stream);
                // Lost bytes may have held the answer; the capture's end only hides one when the
                // connection was still open.
                let cut = closed.is_none() && time_left(cx, resp.time) < CHALLENGE_GRACE_SECS;
                if later.is_empty() && (lossy || cut) {
                    let hidden = if lossy {
                        Hidden::Lost
                    } else if cx.facts.sip_window.is_some() {
                        Hidden::InPieces
                    } else {
                        Hidden::Ends
                    };
                    claimed.undecided.push(Note::ChallengeNotFollowed {
                        at: resp.at.clone(),
                        device: reg.device.clone(),
                        hidden,
                    });
                    claimed.transaction(t);
                    continue;
                }
                if !claimed.transaction(t) {
                    continue;
                }
                out.push(Unmet {
                    reg,
                    req,
                    challenge: resp,
                    next: later.first().map(|(_, r, _)| *r),
                    closed,
                });
            }
        }
        out
    }

    fn explain(&self, f: &Unmet<'_>, _cx: &Cx<'_>) -> String {
        let then = match (f.next, &f.closed) {
            (Some(n), _) => format!(
                "the client's next REGISTER ({}) carried no Bearer token",
                n.at
            ),
            (None, Some(how)) => {
                format!("{how} without sending a REGISTER with a Bearer token")
            }
            (None, None) => "no REGISTER with a Bearer token followed in the capture".to_string(),
        };
        format!(
            "CUCM {}:{} challenged {} ({}) with 407 Proxy-Authenticate: Bearer ({}) \
             and {then}.",
            f.req.dst.ip,
            f.req.dst.port,
            register_of(&f.reg.device),
            f.req.at,
            f.challenge.at,
        )
    }

    fn evidence(&self, f: &Unmet<'_>) -> Vec<Evidence> {
        let challenge = sip_evidence(f.challenge, "407 with Proxy-Authenticate: Bearer".into());
        let next = f
            .next
            .map(|n| sip_evidence(n, "the next REGISTER, without a Bearer token".into()));
        [challenge].into_iter().chain(next).collect()
    }

    fn device(&self, f: &Unmet<'_>) -> Option<String> {
        Some(f.reg.device.clone())
    }
}
