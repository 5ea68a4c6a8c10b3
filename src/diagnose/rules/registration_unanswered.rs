//! `registration-unanswered`: a REGISTER retransmitted (same branch) with no answer at all, or
//! over TCP/TLS left unanswered for longer than SIP's transaction timeout while the capture went on.

use crate::diagnose::util::{sip_end, sip_evidence};
use crate::diagnose::{
    Anchored, CaptureRule, Claimed, Confidence, Cx, Evidence, Meta, On, Severity,
};
use crate::sip::SipMessage;

/// SIP Timer F (64 x T1): a non-INVITE transaction times out after this long.
const TIMER_F_SECS: f64 = 32.0;

/// The rule.
pub struct RegistrationUnanswered;

static META: Meta = Meta {
    id: "registration-unanswered",
    title: "REGISTER got no answer at all",
    meaning: "The registrar never answered: the request is lost on the way, dropped by a firewall \
              or ALG, or the node's CallManager service is not processing SIP.",
    severity: Severity::Error,
    confidence: Confidence::Certain,
    signature: "REGISTER retransmitted with the same branch and never answered, or unanswered for \
                more than 32 s (Timer F) while the capture continues",
    fix: &[
        "Check the route to the registrar and firewalls between (SIP ALG/inspection off).",
        "On CUCM, check that Cisco CallManager is running on the node (Cisco Unified \
         Serviceability > Tools > Control Center - Feature Services) and that the device's CUCM \
         group lists this node.",
    ],
    source: "RFC 3261 section 17.1.2 (non-INVITE client transaction)",
};

/// A REGISTER with no answer: how often it was sent, and how long the capture waited.
pub struct Unanswered<'a> {
    req: &'a SipMessage,
    retransmissions: usize,
    waited: f64,
}

impl Anchored for Unanswered<'_> {
    fn on(&self) -> On<'_> {
        On::Sip {
            req: self.req,
            resp: None,
        }
    }
}

impl CaptureRule for RegistrationUnanswered {
    type Found<'a> = Unanswered<'a>;
    const META: &'static Meta = &META;

    fn check<'a>(&self, cx: &Cx<'a>, claimed: &mut Claimed) -> Vec<Unanswered<'a>> {
        let end = sip_end(cx);
        let mut out = Vec::new();
        for (t, tx, req) in cx.registers() {
            if !tx.responses.is_empty() {
                continue;
            }
            let waited = end.map_or(0.0, |e| e.secs_since(req.time));
            if tx.retransmissions.is_empty() && waited < TIMER_F_SECS || !claimed.transaction(t) {
                continue;
            }
            out.push(Unanswered {
                req,
                retransmissions: tx.retransmissions.len(),
                waited,
            });
        }
        out
    }

    fn explain(&self, f: &Unanswered<'_>, _cx: &Cx<'_>) -> String {
        let req = f.req;
        let again = match f.retransmissions {
            0 => String::new(),
            n => format!(", retransmitted {n} time(s)"),
        };
        let how_long = if f.waited >= TIMER_F_SECS {
            "within SIP's transaction timeout (Timer F, 32 s)".to_string()
        } else {
            format!("at all in the {:.0} s the capture went on", f.waited)
        };
        format!(
            "{} sent REGISTER to {}:{} over {} ({}){again} and got no answer {how_long}.",
            req.device.as_deref().unwrap_or("The client"),
            req.dst.ip,
            req.dst.port,
            req.transport.as_str().to_uppercase(),
            req.at,
        )
    }

    fn evidence(&self, f: &Unanswered<'_>) -> Vec<Evidence> {
        let note = format!(
            "REGISTER, {} retransmission(s), no answer",
            f.retransmissions
        );
        vec![sip_evidence(f.req, note)]
    }
}
