//! `digest-with-oauth`: a Digest challenge where the Bearer challenge was expected (on an OAuth
//! port), or a request for an encrypted configuration file: both are set in the phone security
//! profile and not supported in OAuth mode.

use crate::diagnose::util::register_of;
use crate::diagnose::util::{call_filter, sip_evidence, sip_parties, sip_ref};
use crate::diagnose::{CaptureRule, Claimed, Confidence, Cx, Evidence, Meta, Occurrence, Severity};

/// The rule.
pub struct DigestWithOauth;

static META: Meta = Meta {
    id: "digest-with-oauth",
    title: "Digest authentication or an encrypted config file is set for an OAuth device",
    meaning: "The device's phone security profile asks for digest authentication or a TFTP-encrypted configuration, neither of which works in SIP OAuth mode.",
    severity: Severity::Error,
    confidence: Confidence::Likely,
    signature: "401/407 with a Digest challenge answering a REGISTER on an OAuth port, or an HTTP request for <device>.cnf.xml.enc.sgn",
    fix: &[
        "In the device's Phone Security Profile (System > Security > Phone Security Profile), clear \"Enable Digest Authentication\" and \"TFTP Encrypted Config\".",
        "Save, apply the config, and reset the device.",
    ],
    source: "CUCM Security Guide, SIP OAuth (documented limitation)",
};

impl CaptureRule for DigestWithOauth {
    /// A request for the encrypted configuration file is told once (every window sees the
    /// requests read so far); each Digest challenge counts.
    fn once(&self, o: &Occurrence) -> Option<String> {
        o.sip
            .is_none()
            .then(|| o.evidence.first().map(|e| e.place.cite()).unwrap_or_default())
    }

    fn meta(&self) -> &'static Meta {
        &META
    }

    fn check(&self, cx: &Cx<'_>, claimed: &mut Claimed) -> Vec<Occurrence> {
        let f = cx.facts;
        let mut out = Vec::new();
        for (t, tx) in f.transactions.iter().enumerate() {
            let req = &f.sip[tx.request];
            let Some(resp) = tx.final_response(&f.sip) else {
                continue;
            };
            let digest = resp.has_auth("WWW-Authenticate", "Digest")
                || resp.has_auth("Proxy-Authenticate", "Digest");
            let oauth_port = cx.port_kind(req.dst.port).is_oauth();
            if req.method != "REGISTER" || !digest || !oauth_port || !claimed.transaction(t) {
                continue;
            }
            let (client, server) = sip_parties(cx, req);
            out.push(Occurrence {
                device: req.device.clone(),
trust: None,
                explanation: format!(
                    "On the OAuth port {}:{}, CUCM answered {} (frame {}) with a Digest challenge ({} {}, frame {}) instead of the Bearer challenge: the device's security profile has digest authentication on.",
                    req.dst.ip,
                    req.dst.port,
                    register_of(req.device.as_deref().unwrap_or("the client")),
                    req.frame,
                    resp.status.unwrap_or(0),
                    resp.reason.as_deref().unwrap_or(""),
                    resp.frame
                ),
                evidence: vec![sip_evidence(resp, "Digest challenge on an OAuth port".into())],
                filter: call_filter(req),
                sip: Some(sip_ref(resp)),
                alert: None,
                client,
                server,
            });
        }
        // Every window sees the HTTP requests read so far: each is told once ([`Self::once`]).
        for h in &f.http {
            if !h.path.ends_with(".cnf.xml.enc.sgn") {
                continue;
            }
            out.push(Occurrence {
                device: None,
trust: None,
                explanation: format!(
                    "{} asked {}:{} for the encrypted configuration file {} (frame {}): the device's security profile has TFTP Encrypted Config on, which SIP OAuth mode does not support.",
                    h.client.ip, h.server.ip, h.server.port, h.path, h.frame
                ),
                evidence: vec![Evidence::frame(h.frame, h.time, Some(h.tcp_stream), format!("GET {}", h.path))],
                filter: format!("http.request.uri contains \"{}\"", h.path.rsplit('/').next().unwrap_or("")),
                sip: None,
                alert: None,
                client: h.client.clone(),
                server: h.server.clone(),
            });
        }
        out
    }
}
