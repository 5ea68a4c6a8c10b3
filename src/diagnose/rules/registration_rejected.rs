//! `registration-rejected`: a REGISTER's final answer is 4xx-6xx and no specific rule explains
//! it. A 401/407 challenge counts only when it was not met: the client never came back with
//! credentials, or the credentials it came back with were challenged again.

use crate::diagnose::util::{
    client_closing, has_credentials, register_of, register_steps, sip_evidence, stream_lossy,
    time_left, warning_text, Closing, CHALLENGE_GRACE_SECS,
};
use crate::diagnose::{
    Anchored, CaptureRule, Claimed, Confidence, Cx, Evidence, Meta, On, Severity,
};
use crate::note::Note;
use crate::session::Registration;
use crate::sip::SipMessage;

/// The rule.
pub struct RegistrationRejected;

static META: Meta = Meta {
    id: "registration-rejected",
    title: "A registration was rejected",
    meaning: "The registrar refused a REGISTER for a reason none of the specific rules covers; \
              the status, reason phrase and Warning text say why.",
    severity: Severity::Error,
    confidence: Confidence::Certain,
    signature: "a REGISTER's final answer is 4xx-6xx (not a 401/407 challenge that the client \
                then met)",
    fix: &[
        "Read the status, reason phrase and Warning text in the explanation: CUCM's Warning 399 \
         text usually names the cause.",
        "404: the directory number or device is not configured; 401/407 repeated after \
         credentials: the credentials are wrong; 503: the node is not accepting registrations \
         (check the Cisco CallManager service).",
    ],
    source: "RFC 3261 section 10.3 (registrar behaviour)",
};

/// A REGISTER refused, or challenged and the challenge not met.
pub struct Refused<'a> {
    reg: &'a Registration,
    req: &'a SipMessage,
    resp: &'a SipMessage,
    /// How the client ended its connection after a challenge, if it did.
    closed: Option<Closing>,
}

impl Anchored for Refused<'_> {
    fn on(&self) -> On<'_> {
        On::Sip {
            req: self.req,
            resp: Some(self.resp),
        }
    }
}

impl CaptureRule for RegistrationRejected {
    type Found<'a> = Refused<'a>;
    const META: &'static Meta = &META;

    fn check<'a>(&self, cx: &Cx<'a>, claimed: &mut Claimed) -> Vec<Refused<'a>> {
        let mut out = Vec::new();
        for reg in &cx.facts.registrations {
            let steps = register_steps(cx, reg);
            for (i, &(t, req, resp)) in steps.iter().enumerate() {
                let Some(resp) = resp else { continue };
                if claimed.has_transaction(t) {
                    continue;
                }
                let status = resp.status.unwrap_or(0);
                if !(400..700).contains(&status) {
                    continue;
                }
                let challenge = status == 401 || status == 407;
                let later = &steps[i + 1..];
                let met = later.iter().any(|(_, r, _)| has_credentials(r));
                if challenge && met && !has_credentials(req) {
                    continue;
                }
                // A challenge that the same registration then passed (a later REGISTER answered
                // 2xx) is the ordinary digest flow, whatever the first request carried: a
                // Cisco IOS gateway sends an empty Digest header before it is challenged.
                let passed = later.iter().any(|(_, _, r)| {
                    r.and_then(|r| r.status)
                        .is_some_and(|s| (200..300).contains(&s))
                });
                if challenge && passed {
                    continue;
                }
                let closed =
                    client_closing(cx, req, resp).filter(|_| !stream_lossy(cx, resp.tcp_stream));
                if challenge
                    && !has_credentials(req)
                    && closed.is_none()
                    && time_left(cx, resp.time) < CHALLENGE_GRACE_SECS
                {
                    claimed.undecided.push(Note::ChallengeCutShort {
                        at: resp.at.clone(),
                        device: reg.device.clone(),
                        status,
                        in_pieces: cx.facts.sip_window.is_some(),
                    });
                    continue;
                }
                if !claimed.transaction(t) {
                    continue;
                }
                out.push(Refused {
                    reg,
                    req,
                    resp,
                    closed,
                });
            }
        }
        out
    }

    fn explain(&self, f: &Refused<'_>, _cx: &Cx<'_>) -> String {
        let (req, resp) = (f.req, f.resp);
        let status = resp.status.unwrap_or(0);
        let challenge = status == 401 || status == 407;
        let why = if challenge && has_credentials(req) {
            " The REGISTER already carried credentials, so they were refused.".to_string()
        } else if challenge {
            match &f.closed {
                Some(how) => {
                    format!(" The challenge was not answered: {how} without sending credentials.")
                }
                None => " The client never came back with credentials.".to_string(),
            }
        } else {
            String::new()
        };
        let warn = warning_text(resp)
            .map(|w| format!(", Warning {w}"))
            .unwrap_or_default();
        format!(
            "{} ({}) to {}:{} was answered {} {}{warn} ({}).{why}",
            register_of(&f.reg.device),
            req.at,
            req.dst.ip,
            req.dst.port,
            status,
            resp.reason.as_deref().unwrap_or(""),
            resp.at
        )
    }

    fn evidence(&self, f: &Refused<'_>) -> Vec<Evidence> {
        let note = format!(
            "{} {} to REGISTER",
            f.resp.status.unwrap_or(0),
            f.resp.reason.as_deref().unwrap_or("")
        );
        vec![sip_evidence(f.resp, note)]
    }

    fn device(&self, f: &Refused<'_>) -> Option<String> {
        Some(f.reg.device.clone())
    }
}
