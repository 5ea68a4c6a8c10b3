//! `stale-tomcat-certificate`: the same CUCM node presents one certificate on its SIP OAuth
//! ports and another on Tomcat HTTPS (8443/443): CallManager still uses the Tomcat certificate
//! it loaded before the last change.

use crate::net::Side;
use std::collections::BTreeMap;

use crate::diagnose::util::describe_cert;
use crate::diagnose::{CaptureRule, Claimed, Confidence, Cx, Evidence, Meta, Occurrence, Severity};
use crate::session::Connection;
use crate::tls::CertInfo;

/// The rule.
pub struct StaleTomcatCertificate;

static META: Meta = Meta {
    id: "stale-tomcat-certificate",
    title: "CUCM presents an outdated Tomcat certificate on the SIP OAuth ports",
    meaning: "CallManager reads the Tomcat certificate when it starts; after the Tomcat certificate is renewed it keeps presenting the old one on 5090/5091 until restarted (CUCM 12.5).",
    severity: Severity::Error,
    confidence: Confidence::Likely,
    signature: "the same node's certificate on a SIP OAuth port differs from its certificate on Tomcat HTTPS (8443 or 443) in the same capture, both naming the same host (subject CN or SAN)",
    fix: &[
        "Restart Cisco CallManager on that node (Cisco Unified Serviceability > Tools > Control Center - Feature Services) so it loads the current Tomcat certificate; from CUCM 14 this is not needed.",
        "Then check that every client and Expressway-C trusts the new certificate's CA.",
    ],
    source: "CUCM 12.5 Security Guide, SIP OAuth (documented cause; signature inferred)",
};

fn leaf_of(c: &Connection) -> Option<&CertInfo> {
    c.tls
        .as_ref()?
        .chain_of(Side::Server)?
        .certificates
        .first()
        .map(|a| &**a)
}

/// The host names a certificate is for: its subject's CN and its SAN DNS names, lower case.
fn names(c: &CertInfo) -> Vec<String> {
    c.subject
        .split(", ")
        .filter_map(|p| p.strip_prefix("CN="))
        .chain(c.san.iter().filter_map(|s| s.strip_prefix("DNS:")))
        .map(str::to_ascii_lowercase)
        .collect()
}

/// Two certificates name the same host (a CN or SAN of one is a CN or SAN of the other).
fn same_identity(a: &CertInfo, b: &CertInfo) -> bool {
    let theirs = names(b);
    names(a).iter().any(|n| theirs.contains(n))
}

impl CaptureRule for StaleTomcatCertificate {
    fn meta(&self) -> &'static Meta {
        &META
    }

    /// One per node: told when both certificates are seen (a window while the capture is
    /// read, with the OAuth connection still open), not again at the end.
    fn once(&self, o: &Occurrence) -> Option<String> {
        Some(o.server.ip.to_string())
    }

    fn check(&self, cx: &Cx<'_>, _claimed: &mut Claimed) -> Vec<Occurrence> {
        let mut by_node: BTreeMap<std::net::IpAddr, (Vec<&Connection>, Vec<&Connection>)> =
            BTreeMap::new();
        for c in cx.facts.connections.iter().chain(cx.facts.probes.iter()) {
            if leaf_of(c).is_none() {
                continue;
            }
            let e = by_node.entry(c.server.ip).or_default();
            if c.is_oauth() {
                e.0.push(c);
            } else if c.server.port == 8443 || c.server.port == 443 {
                e.1.push(c);
            }
        }
        let mut out = Vec::new();
        for (_, (oauth, tomcat)) in by_node {
            let Some(o) = oauth.first() else {
                continue;
            };
            let Some(oc) = leaf_of(o) else {
                continue;
            };
            // Only a certificate for the same host is CUCM's Tomcat: another name on the same
            // address (an intranet site on 8443) is another service.
            let same: Vec<(&Connection, &CertInfo)> = tomcat
                .iter()
                .filter_map(|h| leaf_of(h).map(|hc| (*h, hc)))
                .filter(|(_, hc)| same_identity(oc, hc))
                .collect();
            if same.iter().any(|(_, hc)| hc.sha256 == oc.sha256) {
                continue;
            }
            let Some(&(h, hc)) = same.first() else {
                continue;
            };
            let older = if oc.not_before < hc.not_before {
                " The one on the OAuth port is the older of the two."
            } else {
                ""
            };
            let (Some(och), Some(hch)) = (
                o.tls.as_ref().and_then(|t| t.chain_of(Side::Server)),
                h.tls.as_ref().and_then(|t| t.chain_of(Side::Server)),
            ) else {
                continue;
            };
            out.push(Occurrence {
                device: None,
trust: None,
                explanation: format!(
                    "CUCM {} presents different certificates: on {} (tcp.stream {}) {}; on Tomcat HTTPS port {} (tcp.stream {}) {}.{older}",
                    o.server.ip,
                    o.server.port,
                    o.tcp_stream,
                    describe_cert(oc),
                    h.server.port,
                    h.tcp_stream,
                    describe_cert(hc)
                ),
                evidence: vec![
                    Evidence::frame(och.frame, och.time, Some(o.tcp_stream), format!("certificate on port {}: sha256 {}", o.server.port, &oc.sha256[..16])),
                    Evidence::frame(hch.frame, hch.time, Some(h.tcp_stream), format!("certificate on port {}: sha256 {}", h.server.port, &hc.sha256[..16])),
                ],
                filter: format!("ip.addr == {} && tls.handshake.type == 11", o.server.ip),
                alert: None,
                sip: None,
                client: o.client.clone(),
                server: o.server.clone(),
            });
        }
        out
    }
}
