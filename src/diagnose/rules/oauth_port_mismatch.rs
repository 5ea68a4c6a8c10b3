//! `oauth-port-mismatch`: CUCM answers a REGISTER with 403 and the Warning
//! "SIP OAuth Registration port Mismatch" (TAC 215572).

use crate::diagnose::util::{on_port, sip_evidence, warning_evidence, warning_text};
use crate::diagnose::{
    Anchored, AnswerFound, CaptureRule, Claimed, Confidence, Cx, Evidence, Meta, On, Severity,
};
use crate::sip::SipMessage;

/// The rule.
pub struct OauthPortMismatch;

static META: Meta = Meta {
    id: "oauth-port-mismatch",
    title: "CUCM rejected the REGISTER: SIP OAuth registration port mismatch",
    meaning: "CUCM refused a registration because the device is not set up for SIP OAuth on the \
              port it used: the cluster's OAuth mode is off, the device's security profile lacks \
              OAuth, or an on-prem client used the MRA port.",
    severity: Severity::Error,
    confidence: Confidence::Certain,
    signature: "SIP/2.0 403 answering a REGISTER with Warning 399 \"SIP OAuth Registration port \
                Mismatch\"",
    fix: &[
        "Check that SIP OAuth is on for the cluster: `run sql select paramvalue from \
         processconfig where paramname='ClusterSIPOAuthMode'` must return 1 (System > Enterprise \
         Parameters shows it too). If it is 0, run `utils sipOAuth-mode enable` on the publisher \
         and restart Cisco CallManager on every node (Cisco Unified Serviceability > Tools > \
         Control Center - Feature Services).",
        "Open the device's Phone Security Profile (System > Security > Phone Security Profile): \
         Device Security Mode Encrypted, Transport TLS, and Enable OAuth Authentication checked. \
         Save, then reset the device.",
        "Note: on-prem clients must register on the SIP Phone OAuth Port over TLS; the SIP MRA \
         OAuth Port is only for mutual TLS from Expressway-C.",
    ],
    source: "Cisco TAC 215572, Cisco Jabber and SIP OAuth Mode",
};

/// CUCM's port-mismatch 403: to a REGISTER seen, or alone (its REGISTER was not seen).
pub enum Mismatch<'a> {
    /// The REGISTER and its 403.
    Answered(AnswerFound<'a>),
    /// A 403 whose REGISTER was not seen.
    Unmatched(&'a SipMessage),
}

impl Anchored for Mismatch<'_> {
    fn on(&self) -> On<'_> {
        match self {
            Mismatch::Answered(f) => f.on(),
            Mismatch::Unmatched(resp) => On::Answer(resp),
        }
    }
}

/// What the answer means, the same whether its REGISTER was seen or not.
const MEANING: &str = "CUCM does not accept this registration on this port: either SIP OAuth is \
                       off for the cluster or the device's security profile, or the client used \
                       the wrong OAuth port.";

impl CaptureRule for OauthPortMismatch {
    type Found<'a> = Mismatch<'a>;
    const META: &'static Meta = &META;

    fn check<'a>(&self, cx: &Cx<'a>, claimed: &mut Claimed) -> Vec<Mismatch<'a>> {
        let mut out: Vec<Mismatch<'a>> = cx
            .claim_answers(claimed, |_, resp| is_port_mismatch(resp))
            .into_iter()
            .map(Mismatch::Answered)
            .collect();
        // The answer proves the finding on its own when its REGISTER was not seen (the
        // client's direction could not be decrypted, or was lost).
        let answered: std::collections::HashSet<usize> = cx
            .facts
            .transactions
            .iter()
            .flat_map(|t| t.responses.iter().copied())
            .collect();
        out.extend(
            cx.facts
                .sip
                .iter()
                .enumerate()
                .filter(|(i, m)| {
                    m.method == "REGISTER" && is_port_mismatch(m) && !answered.contains(i)
                })
                .map(|(_, m)| Mismatch::Unmatched(m)),
        );
        out
    }

    fn explain(&self, f: &Mismatch<'_>, cx: &Cx<'_>) -> String {
        match *f {
            Mismatch::Answered(AnswerFound { req, resp }) => {
                let device = req
                    .device
                    .as_deref()
                    .map(|d| format!("device {d} "))
                    .unwrap_or_default();
                let retry = resp
                    .retry_after
                    .map(|r| format!(" It asked the client to retry after {r} s."))
                    .unwrap_or_default();
                format!(
                    "{device}sent REGISTER ({}) to {} {}; CUCM answered 403 Forbidden with \
                     Warning {} ({}).{retry} {MEANING}",
                    req.at,
                    req.dst.ip,
                    on_port(cx, req.dst.port),
                    warning_text(resp).unwrap_or_default(),
                    resp.at
                )
            }
            Mismatch::Unmatched(resp) => format!(
                "CUCM {}:{} ({}) answered a REGISTER from {}:{} with 403 Forbidden and Warning {} \
                 ({}). The REGISTER itself was not seen (its bytes were lost, or its \
                 direction could not be decrypted), but CUCM gives this answer only to a \
                 REGISTER: {MEANING}",
                resp.src.ip,
                resp.src.port,
                cx.port_kind(resp.src.port).label(),
                resp.dst.ip,
                resp.dst.port,
                warning_text(resp).unwrap_or_default(),
                resp.at
            ),
        }
    }

    fn evidence(&self, f: &Mismatch<'_>) -> Vec<Evidence> {
        match *f {
            Mismatch::Answered(AnswerFound { req, resp }) => vec![
                warning_evidence(resp),
                sip_evidence(req, "the REGISTER it answers".into()),
            ],
            Mismatch::Unmatched(resp) => vec![warning_evidence(resp)],
        }
    }

    fn filter(&self, _f: &Mismatch<'_>) -> String {
        "sip.Status-Code == 403 && sip.Warning contains \"Mismatch\"".into()
    }
}

/// A 403 carrying CUCM's "SIP OAuth Registration port Mismatch" Warning.
fn is_port_mismatch(resp: &SipMessage) -> bool {
    resp.status == Some(403)
        && resp
            .warnings
            .iter()
            .any(|w| w.text.to_ascii_lowercase().contains("port mismatch"))
}
