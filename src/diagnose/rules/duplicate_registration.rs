//! `duplicate-registration`: CUCM answers 403 with Warning 399 "Registration is active for
//! another client": the device is already registered from somewhere else.

use crate::diagnose::util::{warning_evidence, warning_text};
use crate::diagnose::{
    AnswerFound, CaptureRule, Claimed, Confidence, Cx, Evidence, Meta, Severity,
};

/// The rule.
pub struct DuplicateRegistration;

static META: Meta = Meta {
    id: "duplicate-registration",
    title: "The device is already registered from another client",
    meaning: "CUCM keeps one registration per device; a second client signing in with the same \
              device (CSF, BOT, TCT) is refused while the first one holds it.",
    severity: Severity::Error,
    confidence: Confidence::Certain,
    signature: "403 answering a REGISTER with Warning: 399 <host> \"Registration is active for \
                another client\"",
    fix: &[
        "Find the other client registered with this device name (Cisco Unified CM Administration \
         > Device > Phone, the device's registration IP) and sign it out.",
        "If the other registration is stale (a client that vanished), reset the device from CUCM \
         so the registration is released.",
    ],
    source: "seen in CUCM 12.5-15 deployments (Warning 399 text)",
};

impl CaptureRule for DuplicateRegistration {
    type Found<'a> = AnswerFound<'a>;
    const META: &'static Meta = &META;

    fn check<'a>(&self, cx: &Cx<'a>, claimed: &mut Claimed) -> Vec<AnswerFound<'a>> {
        let another = |w: &crate::sip::Warning| {
            w.text
                .to_ascii_lowercase()
                .contains("active for another client")
        };
        cx.claim_answers(claimed, |_, resp| {
            resp.status == Some(403) && resp.warnings.iter().any(another)
        })
    }

    fn explain(&self, f: &AnswerFound<'_>, _cx: &Cx<'_>) -> String {
        let AnswerFound { req, resp } = *f;
        format!(
            "{} sent REGISTER ({}) to {}:{}; CUCM answered 403 with Warning {} ({}): \
             another client already holds this device's registration.",
            req.device.as_deref().unwrap_or("the device"),
            req.at,
            req.dst.ip,
            req.dst.port,
            warning_text(resp).unwrap_or_default(),
            resp.at
        )
    }

    fn evidence(&self, f: &AnswerFound<'_>) -> Vec<Evidence> {
        vec![warning_evidence(f.resp)]
    }
}
