//! `duplicate-registration`: CUCM answers 403 with Warning 399 "Registration is active for
//! another client": the device is already registered from somewhere else.

use crate::diagnose::util::{call_filter, sip_evidence, sip_parties, sip_ref, warning_text};
use crate::diagnose::{CaptureRule, Claimed, Confidence, Cx, Meta, Occurrence, Severity};

/// The rule.
pub struct DuplicateRegistration;

static META: Meta = Meta {
    id: "duplicate-registration",
    title: "The device is already registered from another client",
    meaning: "CUCM keeps one registration per device; a second client signing in with the same device (CSF, BOT, TCT) is refused while the first one holds it.",
    severity: Severity::Error,
    confidence: Confidence::Certain,
    signature: "403 answering a REGISTER with Warning: 399 <host> \"Registration is active for another client\"",
    fix: &[
        "Find the other client registered with this device name (Cisco Unified CM Administration > Device > Phone, the device's registration IP) and sign it out.",
        "If the other registration is stale (a client that vanished), reset the device from CUCM so the registration is released.",
    ],
    source: "seen in CUCM 12.5-15 deployments (Warning 399 text)",
};

impl CaptureRule for DuplicateRegistration {
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
            let dup = req.method == "REGISTER"
                && resp.status == Some(403)
                && resp.warnings.iter().any(|w| {
                    w.text
                        .to_ascii_lowercase()
                        .contains("active for another client")
                });
            if !dup || !claimed.transaction(t) {
                continue;
            }
            let (client, server) = sip_parties(cx, req);
            let device = req.device.as_deref().unwrap_or("the device");
            out.push(Occurrence {
                device: req.device.clone(),
trust: None,
                explanation: format!(
                    "{device} sent REGISTER (frame {}) to {}:{}; CUCM answered 403 with Warning {} (frame {}): another client already holds this device's registration.",
                    req.frame,
                    req.dst.ip,
                    req.dst.port,
                    warning_text(resp).unwrap_or_default(),
                    resp.frame
                ),
                evidence: vec![sip_evidence(resp, format!("403 Forbidden, Warning: {}", warning_text(resp).unwrap_or_default()))],
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
