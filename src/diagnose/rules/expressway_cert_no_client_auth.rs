//! `expressway-cert-no-client-auth`: Expressway-C's certificate lacks the TLS client
//! authentication usage, so CUCM refuses it on the MRA OAuth port (unsupported_certificate).

use crate::config::PortKind;
use crate::diagnose::util::{
    alert_evidence, alert_occurrence, chain_trust, describe_cert, fatal_alerts, leaf,
};
use crate::diagnose::{Claimed, Confidence, ConnCx, ConnectionRule, Meta, Occurrence, Severity};
use crate::net::Side;
use crate::tls::AlertDescription as AD;

/// The rule.
pub struct ExpresswayCertNoClientAuth;

static META: Meta = Meta {
    id: "expressway-cert-no-client-auth",
    title: "Expressway-C's certificate lacks the TLS client authentication usage",
    meaning: "On the MRA OAuth port Expressway-C is the TLS client and must present a certificate valid for client authentication; one issued for web server use only is refused by CUCM.",
    severity: Severity::Error,
    confidence: Confidence::Likely,
    signature: "MRA OAuth port: Expressway-C's leaf certificate has an extended key usage without clientAuth; CUCM answers with unsupported_certificate (43), bad_certificate (42) or certificate_unknown (46)",
    fix: &[
        "Reissue the Expressway-C server certificate with both TLS Web Server Authentication and TLS Web Client Authentication extended key usages (Maintenance > Security > Server certificate > Generate CSR; the CA template must keep both).",
        "Install it, then refresh Unified CM servers on Expressway-C (Configuration > Unified Communications > Unified CM servers).",
    ],
    source: "MRA deployment guide (X14), certificate requirements; RFC 5280 section 4.2.1.12",
};

impl ConnectionRule for ExpresswayCertNoClientAuth {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn check(&self, cx: &ConnCx<'_>, claimed: &mut Claimed) -> Vec<Occurrence> {
        let mut out = Vec::new();
        for (c, a) in fatal_alerts(cx) {
            let code = a.code.unwrap_or(AD(0));
            if c.port_kind != PortKind::SipMraOAuth
                || a.sent_by != Side::Server
                || ![
                    AD::BAD_CERTIFICATE,
                    AD::UNSUPPORTED_CERTIFICATE,
                    AD::CERTIFICATE_UNKNOWN,
                ]
                .contains(&code)
            {
                continue;
            }
            let Some(cert) = leaf(c, Side::Client) else {
                continue;
            };
            let eku = &cert.extended_key_usage;
            let lacks = !eku.is_empty() && !eku.iter().any(|u| u == "client_auth" || u == "any");
            if !lacks || !claimed.alert(c, a) {
                continue;
            }
            claimed.connection(c.tcp_stream);
            let explanation = format!(
                    "Expressway-C {} presented a certificate whose extended key usage is {} (no TLS client authentication) to CUCM {}:{} (tcp.stream {}); CUCM refused it with a fatal {} alert (frame {}). The certificate: {}.",
                    c.client.ip,
                    eku.join(", "),
                    c.server.ip,
                    c.server.port,
                    c.tcp_stream,
                    a.description,
                    a.frame,
                    describe_cert(cert)
                );
            out.push(alert_occurrence(
                c,
                a,
                alert_evidence(c, a, Some(Side::Client)),
                chain_trust(c, Side::Client),
                explanation,
            ));
        }
        out
    }
}
