//! `stale-tomcat-certificate`: the same CUCM node presents one certificate on its SIP OAuth
//! ports and another on Tomcat HTTPS (8443/443): CallManager still uses the Tomcat certificate
//! it loaded before the last change.

use std::collections::BTreeMap;

use crate::diagnose::util::{describe_cert, leaf};
use crate::diagnose::{
    Anchored, CaptureRule, Claimed, Confidence, Cx, Evidence, Meta, On, Severity,
};
use crate::net::Side;
use crate::session::Connection;
use crate::tls::{CertInfo, Chain};

/// The rule.
pub struct StaleTomcatCertificate;

static META: Meta = Meta {
    id: "stale-tomcat-certificate",
    title: "CUCM presents an outdated Tomcat certificate on the SIP OAuth ports",
    meaning: "CallManager reads the Tomcat certificate when it starts; after the Tomcat \
              certificate is renewed it keeps presenting the old one on 5090/5091 until restarted \
              (CUCM 12.5).",
    severity: Severity::Error,
    confidence: Confidence::Likely,
    signature: "the same node's certificate on a SIP OAuth port differs from its certificate on \
                Tomcat HTTPS (8443 or 443) in the same capture, both naming the same host \
                (subject CN or SAN)",
    fix: &[
        "Restart Cisco CallManager on that node (Cisco Unified Serviceability > Tools > Control \
         Center - Feature Services) so it loads the current Tomcat certificate; from CUCM 14 this \
         is not needed.",
        "Then check that every client and Expressway-C trusts the new certificate's CA.",
    ],
    source: "CUCM 12.5 Security Guide, SIP OAuth (documented cause; signature inferred)",
};

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

/// A node whose OAuth port and Tomcat (HTTPS) port present different certificates for one
/// host: each connection with its chain and leaf.
pub struct Stale<'a> {
    oauth: (&'a Connection, &'a Chain, &'a CertInfo),
    tomcat: (&'a Connection, &'a Chain, &'a CertInfo),
}

impl Anchored for Stale<'_> {
    fn on(&self) -> On<'_> {
        On::Conn(self.oauth.0)
    }
}

impl CaptureRule for StaleTomcatCertificate {
    type Found<'a> = Stale<'a>;
    const META: &'static Meta = &META;

    fn check<'a>(&self, cx: &Cx<'a>, _claimed: &mut Claimed) -> Vec<Stale<'a>> {
        let mut by_node: BTreeMap<std::net::IpAddr, (Vec<&Connection>, Vec<&Connection>)> =
            BTreeMap::new();
        for c in cx.facts.connections.iter().chain(cx.facts.probes.iter()) {
            if leaf(c, Side::Server).is_none() {
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
            let Some(o) = oauth.first() else { continue };
            let Some(oc) = leaf(o, Side::Server) else {
                continue;
            };
            // Only a certificate for the same host is CUCM's Tomcat: another name on the same
            // address (an intranet site on 8443) is another service.
            let same: Vec<(&Connection, &CertInfo)> = tomcat
                .iter()
                .filter_map(|h| leaf(h, Side::Server).map(|hc| (*h, hc)))
                .filter(|(_, hc)| same_identity(oc, hc))
                .collect();
            if same.iter().any(|(_, hc)| hc.sha256 == oc.sha256) {
                continue;
            }
            let Some(&(h, hc)) = same.first() else {
                continue;
            };
            let chain = |c: &'a Connection| c.tls.as_ref().and_then(|t| t.chain_of(Side::Server));
            let (Some(och), Some(hch)) = (chain(o), chain(h)) else {
                continue;
            };
            out.push(Stale {
                oauth: (o, och, oc),
                tomcat: (h, hch, hc),
            });
        }
        out
    }

    fn explain(&self, f: &Stale<'_>, _cx: &Cx<'_>) -> String {
        let ((o, _, oc), (h, _, hc)) = (f.oauth, f.tomcat);
        let older = if oc.not_before < hc.not_before {
            " The one on the OAuth port is the older of the two."
        } else {
            ""
        };
        format!(
            "CUCM {} presents different certificates: on {} (tcp.stream {}) {}; on Tomcat HTTPS \
             port {} (tcp.stream {}) {}.{older}",
            o.server.ip,
            o.server.port,
            o.tcp_stream,
            describe_cert(oc),
            h.server.port,
            h.tcp_stream,
            describe_cert(hc)
        )
    }

    fn evidence(&self, f: &Stale<'_>) -> Vec<Evidence> {
        [f.oauth, f.tomcat]
            .into_iter()
            .map(|(c, chain, cert)| {
                Evidence::frame(
                    chain.frame,
                    chain.time,
                    Some(c.tcp_stream),
                    format!(
                        "certificate on port {}: sha256 {}",
                        c.server.port,
                        &cert.sha256[..16]
                    ),
                )
            })
            .collect()
    }

    fn filter(&self, f: &Stale<'_>) -> String {
        format!(
            "ip.addr == {} && tls.handshake.type == 11",
            f.oauth.0.server.ip
        )
    }

    /// One per node: told when both certificates are seen (a window while the capture is
    /// read, with the OAuth connection still open), not again at the end.
    fn once(&self, f: &Stale<'_>) -> Option<String> {
        Some(f.oauth.0.server.ip.to_string())
    }
}
