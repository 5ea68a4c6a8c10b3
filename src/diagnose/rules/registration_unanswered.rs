//! `registration-unanswered`: a REGISTER retransmitted (same branch) with no answer at all, or
//! over TCP/TLS left unanswered for longer than SIP's transaction timeout while the capture went on.

use crate::diagnose::util::{call_filter, sip_evidence, sip_parties};
use crate::diagnose::{CaptureRule, Claimed, Confidence, Cx, Meta, Occurrence, Severity};

/// SIP Timer F (64 x T1): a non-INVITE transaction times out after this long.
const TIMER_F_SECS: f64 = 32.0;

/// The rule.
pub struct RegistrationUnanswered;

static META: Meta = Meta {
    id: "registration-unanswered",
    title: "REGISTER got no answer at all",
    meaning: "The registrar never answered: the request is lost on the way, dropped by a firewall or ALG, or the node's CallManager service is not processing SIP.",
    severity: Severity::Error,
    confidence: Confidence::Certain,
    signature: "REGISTER retransmitted with the same branch and never answered, or unanswered for more than 32 s (Timer F) while the capture continues",
    fix: &[
        "Check the route to the registrar and firewalls between (SIP ALG/inspection off).",
        "On CUCM, check that Cisco CallManager is running on the node (Cisco Unified Serviceability > Tools > Control Center - Feature Services) and that the device's CUCM group lists this node.",
    ],
    source: "RFC 3261 section 17.1.2 (non-INVITE client transaction)",
};

impl CaptureRule for RegistrationUnanswered {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn check(&self, cx: &Cx<'_>, claimed: &mut Claimed) -> Vec<Occurrence> {
        let f = cx.facts;
        let end = crate::diagnose::util::sip_end(cx);
        let mut out = Vec::new();
        for (t, tx) in f.transactions.iter().enumerate() {
            let req = &f.sip[tx.request];
            if req.method != "REGISTER" || !tx.responses.is_empty() {
                continue;
            }
            let waited = end.map_or(0.0, |e| e.secs_since(req.time));
            if tx.retransmissions.is_empty() && waited < TIMER_F_SECS {
                continue;
            }
            if !claimed.transaction(t) {
                continue;
            }
            let (client, server) = sip_parties(cx, req);
            out.push(Occurrence {
                device: req.device.clone(),
trust: None,
                explanation: format!(
                    "{} sent REGISTER to {}:{} over {} (frame {}){} and got no answer {}.",
                    req.device.as_deref().unwrap_or("The client"),
                    req.dst.ip,
                    req.dst.port,
                    req.transport.as_str().to_uppercase(),
                    req.frame,
                    if tx.retransmissions.is_empty() { String::new() } else { format!(", retransmitted {} time(s)", tx.retransmissions.len()) },
                    if waited >= TIMER_F_SECS { "within SIP's transaction timeout (Timer F, 32 s)".to_string() } else { format!("at all in the {waited:.0} s the capture went on") }
                ),
                evidence: vec![sip_evidence(req, format!("REGISTER, {} retransmission(s), no answer", tx.retransmissions.len()))],
                filter: call_filter(req),
                sip: None,
                alert: None,
                client,
                server,
            });
        }
        out
    }
}
