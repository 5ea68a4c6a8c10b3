//! `oauth-port-mismatch`: CUCM answers a REGISTER with 403 and the Warning
//! "SIP OAuth Registration port Mismatch" (TAC 215572).

use crate::diagnose::util::{sip_evidence, sip_parties, sip_ref, warning_text};
use crate::diagnose::{CaptureRule, Claimed, Confidence, Cx, Evidence, Meta, Occurrence, Severity};
use crate::sip::SipMessage;

/// The rule.
pub struct OauthPortMismatch;

static META: Meta = Meta {
    id: "oauth-port-mismatch",
    title: "CUCM rejected the REGISTER: SIP OAuth registration port mismatch",
    meaning: "CUCM refused a registration because the device is not set up for SIP OAuth on the port it used: the cluster's OAuth mode is off, the device's security profile lacks OAuth, or an on-prem client used the MRA port.",
    severity: Severity::Error,
    confidence: Confidence::Certain,
    signature: "SIP/2.0 403 answering a REGISTER with Warning 399 \"SIP OAuth Registration port Mismatch\"",
    fix: &[
        "Check that SIP OAuth is on for the cluster: `run sql select paramvalue from processconfig where paramname='ClusterSIPOAuthMode'` must return 1 (System > Enterprise Parameters shows it too). If it is 0, run `utils sipOAuth-mode enable` on the publisher and restart Cisco CallManager on every node (Cisco Unified Serviceability > Tools > Control Center - Feature Services).",
        "Open the device's Phone Security Profile (System > Security > Phone Security Profile): Device Security Mode Encrypted, Transport TLS, and Enable OAuth Authentication checked. Save, then reset the device.",
        "Note: on-prem clients must register on the SIP Phone OAuth Port over TLS; the SIP MRA OAuth Port is only for mutual TLS from Expressway-C.",
    ],
    source: "Cisco TAC 215572, Cisco Jabber and SIP OAuth Mode",
};

impl CaptureRule for OauthPortMismatch {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn check(&self, cx: &Cx<'_>, claimed: &mut Claimed) -> Vec<Occurrence> {
        let sip = &cx.facts.sip;
        let mut out = Vec::new();
        for (t, tx) in cx.facts.transactions.iter().enumerate() {
            let req = &sip[tx.request];
            if req.method != "REGISTER" {
                continue;
            }
            let Some(resp) = tx.final_response(sip) else {
                continue;
            };
            if !is_port_mismatch(resp) || !claimed.transaction(t) {
                continue;
            }
            let (client, server) = sip_parties(cx, req);
            let device = req
                .device
                .as_deref()
                .map(|d| format!("device {d} "))
                .unwrap_or_default();
            let retry = resp
                .retry_after
                .map(|r| format!(" It asked the client to retry after {r} s."))
                .unwrap_or_default();
            out.push(Occurrence {
                device: req.device.clone(),
trust: None,
                explanation: format!(
                    "{device}sent REGISTER (frame {}) to {} {}; CUCM answered 403 Forbidden with Warning {} (frame {}).{retry} CUCM does not accept this registration on this port: either SIP OAuth is off for the cluster or the device's security profile, or the client used the wrong OAuth port.",
                    req.frame,
                    req.dst.ip,
                    crate::diagnose::util::on_port(cx, req.dst.port),
                    warning_text(resp).unwrap_or_default(),
                    resp.frame
                ),
                evidence: vec![
                    answer_evidence(resp),
                    sip_evidence(req, "the REGISTER it answers".into()),
                ],
                filter: FILTER.into(),
                sip: Some(sip_ref(resp)),
                alert: None,
                client,
                server,
            });
        }
        out.extend(answers_without_request(cx));
        out
    }
}

const FILTER: &str = "sip.Status-Code == 403 && sip.Warning contains \"Mismatch\"";

/// A 403 carrying CUCM's "SIP OAuth Registration port Mismatch" Warning.
fn is_port_mismatch(resp: &SipMessage) -> bool {
    resp.status == Some(403)
        && resp
            .warnings
            .iter()
            .any(|w| w.text.to_ascii_lowercase().contains("port mismatch"))
}

/// The 403 as evidence, with its Warning.
fn answer_evidence(resp: &SipMessage) -> Evidence {
    sip_evidence(
        resp,
        format!(
            "403 Forbidden, Warning: {}",
            warning_text(resp).unwrap_or_default()
        ),
    )
}

/// A 403 with the port-mismatch Warning proves the finding on its own, when its REGISTER was
/// not seen (the client's direction could not be decrypted, or was lost).
fn answers_without_request(cx: &Cx<'_>) -> Vec<Occurrence> {
    let sip = &cx.facts.sip;
    let answered: std::collections::HashSet<usize> = cx
        .facts
        .transactions
        .iter()
        .flat_map(|t| t.responses.iter().copied())
        .collect();
    let mut out = Vec::new();
    for (i, resp) in sip.iter().enumerate() {
        if resp.method != "REGISTER" || !is_port_mismatch(resp) || answered.contains(&i) {
            continue;
        }
        // The answer travels from CUCM (its src) to the client.
        let kind = cx.port_kind(resp.src.port);
        let (cr, sr) = kind.roles();
        let client = crate::session::Party {
            ip: resp.dst.ip,
            port: resp.dst.port,
            role: cr,
        };
        let server = crate::session::Party {
            ip: resp.src.ip,
            port: resp.src.port,
            role: sr,
        };
        out.push(Occurrence {
            device: None,
trust: None,
            explanation: format!(
                "CUCM {}:{} ({}) answered a REGISTER from {}:{} with 403 Forbidden and Warning {} (frame {}). The REGISTER itself was not seen (its bytes were lost, or its direction could not be decrypted), but CUCM gives this answer only to a REGISTER: CUCM does not accept this registration on this port: either SIP OAuth is off for the cluster or the device's security profile, or the client used the wrong OAuth port.",
                resp.src.ip,
                resp.src.port,
                kind.label(),
                resp.dst.ip,
                resp.dst.port,
                warning_text(resp).unwrap_or_default(),
                resp.frame
            ),
            evidence: vec![answer_evidence(resp)],
            filter: FILTER.into(),
            sip: Some(sip_ref(resp)),
            alert: None,
            client,
            server,
        });
    }
    out
}
