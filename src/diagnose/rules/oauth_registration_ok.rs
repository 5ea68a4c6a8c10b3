//! `oauth-registration-ok` (info): REGISTER, 407 Bearer challenge, REGISTER with the Bearer
//! token, 200 OK.

use crate::diagnose::util::{sip_evidence, sip_parties};
use crate::diagnose::{CaptureRule, Claimed, Confidence, Cx, Meta, Occurrence, Severity, SipRef};

/// The rule.
pub struct OauthRegistrationOk;

static META: Meta = Meta {
    id: "oauth-registration-ok",
    title: "SIP OAuth registration succeeded",
    meaning: "The device registered with its OAuth token; this is the healthy flow.",
    severity: Severity::Info,
    confidence: Confidence::Certain,
    signature: "REGISTER -> 407 with Proxy-Authenticate: Bearer -> REGISTER with Proxy-Authorization: Bearer -> 200 OK",
    fix: &["Note: nothing to fix."],
    source: "Cisco TAC 215572 (healthy flow)",
};

impl CaptureRule for OauthRegistrationOk {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn check(&self, cx: &Cx<'_>, _claimed: &mut Claimed) -> Vec<Occurrence> {
        let f = cx.facts;
        let mut out = Vec::new();
        for reg in &f.registrations {
            let mut challenged = false;
            let mut challenge_frame = None;
            for &t in &reg.transactions {
                if f.is_context(t) {
                    continue;
                }
                let tx = &f.transactions[t];
                let req = &f.sip[tx.request];
                let Some(resp) = tx.final_response(&f.sip) else {
                    continue;
                };
                if resp.status == Some(407) && resp.has_auth("Proxy-Authenticate", "Bearer") {
                    challenged = true;
                    challenge_frame = Some(resp.frame);
                }
                let bearer = req.has_auth("Proxy-Authorization", "Bearer")
                    || req.has_auth("Authorization", "Bearer");
                if resp.status == Some(200) && bearer {
                    let (client, server) = sip_parties(cx, req);
                    let how = if challenged {
                        format!(
                            " after the Bearer challenge (407, frame {})",
                            challenge_frame.unwrap_or(0)
                        )
                    } else {
                        " (a refresh carrying the Bearer token)".to_string()
                    };
                    let granted = resp
                        .expires
                        .map(|e| format!(" CUCM granted Expires {e} s."))
                        .unwrap_or_default();
                    out.push(Occurrence {
                device: Some(reg.device.clone()),
trust: None,
                        explanation: format!(
                            "Device {} registered with its OAuth Bearer token{how}: REGISTER (frame {}) answered 200 OK (frame {}) by {}:{}.{granted}",
                            reg.device, req.frame, resp.frame, req.dst.ip, req.dst.port
                        ),
                        evidence: vec![sip_evidence(resp, "200 OK to REGISTER with Bearer token".into())],
                        filter: "sip.Method == \"REGISTER\" || sip.CSeq.method == \"REGISTER\"".into(),
                        alert: None,
                        sip: Some(SipRef { status: 200, reason: resp.reason.clone().unwrap_or_default(), warning: None }),
                        client,
                        server,
                    });
                }
            }
        }
        out
    }
}
