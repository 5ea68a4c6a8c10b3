//! `legacy-port-instead-of-oauth`: the device's configuration file turns SIP OAuth on but the
//! client registers on the legacy SIP ports, or the file turns OAuth off; without a config file,
//! a client sending its Bearer token straight to a legacy port.

use crate::diagnose::util::{bearer_to_legacy_port, call_filter, sip_evidence, sip_parties, via_count};
use crate::diagnose::{CaptureRule, Claimed, Confidence, Cx, Evidence, Meta, Occurrence, Severity};
use crate::session::Party;

/// The rule.
pub struct LegacyPortInsteadOfOauth;

static META: Meta = Meta {
    id: "legacy-port-instead-of-oauth",
    title: "The device registers on the legacy SIP port instead of the OAuth port",
    meaning: "The device's configuration and the port it registers on disagree about SIP OAuth: either OAuth is on but the client uses 5060/5061, or the configuration file turns OAuth off for the device.",
    severity: Severity::Error,
    confidence: Confidence::Likely,
    signature: "the device config file has sipOAuthMode 1 but the client's REGISTER goes to the node's sipPort/securedSipPort, or the file has sipOAuthMode 0; without a config file, a Bearer token sent directly to 5060/5061",
    fix: &[
        "As for oauth-port-mismatch: the cluster-wide SIP OAuth mode must be on (`utils sipOAuth-mode enable`, then restart Cisco CallManager on every node) and the device's Phone Security Profile must have Enable OAuth Authentication checked.",
        "Reset the device so its configuration file is rebuilt, and check that the client downloads the new file (`GET /<device>.cnf.xml`).",
    ],
    source: "CUCM Security Guide, SIP OAuth (device configuration); Cisco TAC 215572",
};

impl CaptureRule for LegacyPortInsteadOfOauth {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn check(&self, cx: &Cx<'_>, claimed: &mut Claimed) -> Vec<Occurrence> {
        let mut out = Vec::new();
        against_config_file(cx, &mut out);
        bearer_on_legacy_port(cx, claimed, &mut out);
        out
    }
}

/// The device configuration file against where the client registered.
fn against_config_file(cx: &Cx<'_>, out: &mut Vec<Occurrence>) {
    let f = cx.facts;
    for h in &f.http {
        let Some(conf) = &h.config else { continue };
        let registers: Vec<_> = f
            .sip
            .iter()
            .enumerate()
            .filter(|(i, _)| !f.sip_context.contains(i))
            .map(|(_, m)| m)
            .filter(|m| {
                m.is_request()
                    && m.method == "REGISTER"
                    && m.device.as_deref() == Some(&conf.device)
            })
            .collect();
        let ev = Evidence::frame(
            h.response_frame.unwrap_or(h.frame),
            h.time,
            Some(h.tcp_stream),
            format!(
                "{}.cnf.xml: sipOAuthMode {}",
                conf.device,
                conf.sip_oauth_mode
                    .map_or("absent".into(), |m| m.to_string())
            ),
        );
        match conf.sip_oauth_mode {
            // Said once, with the last window (windows judged while reading repeat the file).
            Some(0) if !f.sip_more => {
                let (client, server) = registers
                    .first()
                    .map_or((h.client.clone(), h.server.clone()), |r| sip_parties(cx, r));
                out.push(Occurrence {
            device: None,
trust: None,
                    explanation: format!(
                        "The configuration file of {} (frame {}) has sipOAuthMode 0: SIP OAuth is off for this device, so it registers the legacy way (certificate or digest) and never on the OAuth port.",
                        conf.device,
                        ev.place.frame().unwrap_or(0)
                    ),
                    evidence: vec![ev],
                    filter: format!("http.request.uri contains \"{}.cnf.xml\"", conf.device),
                    alert: None,
                    sip: None,
                    client,
                    server,
                });
            }
            Some(1) => {
                let legacy: Vec<u16> = conf
                    .nodes
                    .iter()
                    .flat_map(|n| [n.sip_port, n.secured_sip_port])
                    .flatten()
                    .collect();
                for r in registers.iter().filter(|r| legacy.contains(&r.dst.port)) {
                    let (client, server) = sip_parties(cx, r);
                    out.push(Occurrence {
            device: r.device.clone(),
trust: None,
                        explanation: format!(
                            "The configuration file of {} (frame {}) turns SIP OAuth on, yet the client registered on {}:{}, the node's legacy SIP port (REGISTER, frame {}), instead of its SIP OAuth port{}.",
                            conf.device,
                            ev.place.frame().unwrap_or(0),
                            r.dst.ip,
                            r.dst.port,
                            r.frame,
                            conf.nodes.first().and_then(|n| n.sip_oauth_port).map(|p| format!(" {p}")).unwrap_or_default()
                        ),
                        evidence: vec![ev.clone(), sip_evidence(r, "REGISTER on the legacy port".into())],
                        filter: call_filter(r),
                        alert: None,
                        sip: None,
                        client,
                        server,
                    });
                }
            }
            _ => {}
        }
    }
}

/// Without a config file: a Bearer token sent directly (one Via) to a legacy SIP port.
fn bearer_on_legacy_port(cx: &Cx<'_>, claimed: &mut Claimed, out: &mut Vec<Occurrence>) {
    let f = cx.facts;
    for (t, tx) in f.transactions.iter().enumerate() {
        let r = &f.sip[tx.request];
        if !bearer_to_legacy_port(cx, r) || via_count(r) > 1 {
            continue;
        }
        if f.http.iter().any(|h| h.config.is_some()) || !claimed.transaction(t) {
            continue;
        }
        let (client, server): (Party, Party) = sip_parties(cx, r);
        out.push(Occurrence {
            device: r.device.clone(),
trust: None,
            explanation: format!(
                "{} sent its OAuth Bearer token in a REGISTER (frame {}) to {}:{}, a legacy SIP port: OAuth registrations belong on the SIP Phone OAuth port.",
                r.device.as_deref().unwrap_or("The client"),
                r.frame,
                r.dst.ip,
                r.dst.port
            ),
            evidence: vec![sip_evidence(r, "REGISTER with a Bearer token on a legacy SIP port".into())],
            filter: call_filter(r),
            alert: None,
            sip: None,
            client,
            server,
        });
    }
}
