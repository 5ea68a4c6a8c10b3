//! `expressway-cert-no-client-auth`: Expressway-C's certificate lacks the TLS client
//! authentication usage, so CUCM refuses it on the MRA OAuth port (unsupported_certificate).

use crate::config::{Config, PortKind};
use crate::diagnose::util::{describe_cert, leaf, stream};
use crate::diagnose::{
    AlertFound, Anchored, Claimed, Confidence, ConnCx, ConnectionRule, Meta, On, Severity,
};
use crate::net::Side;
use crate::tls::{AlertDescription as AD, CertInfo};

/// The rule.
pub struct ExpresswayCertNoClientAuth;

static META: Meta = Meta {
    id: "expressway-cert-no-client-auth",
    title: "Expressway-C's certificate lacks the TLS client authentication usage",
    meaning: "On the MRA OAuth port Expressway-C is the TLS client and must present a certificate \
              valid for client authentication; one issued for web server use only is refused by \
              CUCM.",
    severity: Severity::Error,
    confidence: Confidence::Likely,
    signature: "MRA OAuth port: Expressway-C's leaf certificate has an extended key usage without \
                clientAuth; CUCM answers with unsupported_certificate (43), bad_certificate (42) \
                or certificate_unknown (46)",
    fix: &[
        "Reissue the Expressway-C server certificate with both TLS Web Server Authentication and \
         TLS Web Client Authentication extended key usages (Maintenance > Security > Server \
         certificate > Generate CSR; the CA template must keep both).",
        "Install it, then refresh Unified CM servers on Expressway-C (Configuration > Unified \
         Communications > Unified CM servers).",
    ],
    source: "MRA deployment guide (X14), certificate requirements; RFC 5280 section 4.2.1.12",
};

/// A refused client certificate without the TLS client authentication usage.
pub struct NoClientAuth<'a> {
    alert: AlertFound<'a>,
    /// Expressway-C's certificate.
    cert: &'a CertInfo,
}

impl Anchored for NoClientAuth<'_> {
    fn on(&self) -> On<'_> {
        self.alert.on()
    }
}

impl ConnectionRule for ExpresswayCertNoClientAuth {
    type Found<'a> = NoClientAuth<'a>;
    const META: &'static Meta = &META;

    fn check<'a>(&self, cx: &ConnCx<'a>, claimed: &mut Claimed) -> Vec<NoClientAuth<'a>> {
        let c = cx.conn;
        let mut out = Vec::new();
        for a in cx.fatal_alerts() {
            let code = a.code.unwrap_or(AD(0));
            let refused = [
                AD::BAD_CERTIFICATE,
                AD::UNSUPPORTED_CERTIFICATE,
                AD::CERTIFICATE_UNKNOWN,
            ];
            if c.port_kind != PortKind::SipMraOAuth
                || a.sent_by != Side::Server
                || !refused.contains(&code)
            {
                continue;
            }
            let Some(cert) = leaf(c, Side::Client) else {
                continue;
            };
            let eku = &cert.extended_key_usage;
            let lacks = !eku.is_empty() && !eku.iter().any(|u| u == "client_auth" || u == "any");
            let claim = || AlertFound::claim(claimed, c, a, Some(Side::Client));
            if let Some(alert) = lacks.then(claim).flatten() {
                out.push(NoClientAuth { alert, cert });
            }
        }
        out
    }

    fn explain(&self, f: &NoClientAuth<'_>, _cfg: &Config) -> String {
        let (c, a) = (f.alert.conn, f.alert.alert);
        format!(
            "Expressway-C {} presented a certificate whose extended key usage is {} (no TLS \
             client authentication) to CUCM {}:{} ({}); CUCM refused it with a fatal \
             {} alert ({}). The certificate: {}.",
            c.client.ip,
            f.cert.extended_key_usage.join(", "),
            c.server.ip,
            c.server.port,
            stream(c),
            a.description,
            a.at,
            describe_cert(f.cert)
        )
    }
}
