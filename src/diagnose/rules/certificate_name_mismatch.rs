//! `certificate-name-mismatch`: the name the client asked for (SNI) is not in the server
//! certificate, and the client refused the certificate (bad_certificate, or a close without alert).

use crate::config::Config;
use crate::diagnose::util::{cert_names, describe_cert, leaf, named, stream};
use crate::diagnose::{
    AlertFound, Anchored, Claimed, Confidence, ConnCx, ConnectionRule, Meta, On, Severity,
};
use crate::net::Side;
use crate::tls::{AlertDescription as AD, CertInfo};

/// The rule.
pub struct CertificateNameMismatch;

static META: Meta = Meta {
    id: "certificate-name-mismatch",
    title: "The server certificate does not carry the name the client dialled",
    meaning: "The client connected to a name (its SNI) that CUCM's certificate does not list in \
              its SAN or CN, so the client refused the certificate even though it may trust its \
              CA.",
    severity: Severity::Error,
    confidence: Confidence::Likely,
    signature: "ClientHello SNI not matched by the server certificate's SAN/CN; the client sends \
                bad_certificate (42) or certificate_unknown (46)",
    fix: &[
        "Define CUCM servers by FQDN (System > Server) so clients and Expressway-C dial names, \
         not addresses.",
        "Reissue the Tomcat certificate with every node's FQDN in the SAN (a multi-server \
         certificate covers the cluster), upload it, and restart Cisco Tomcat (and, before CUCM \
         14, Cisco CallManager).",
    ],
    source: "CUCM Security Guide, certificate management; RFC 6125",
};

/// A refused certificate that does not name what the client asked for.
pub struct Mismatch<'a> {
    alert: AlertFound<'a>,
    /// The name asked for (SNI).
    sni: &'a str,
    /// The certificate presented.
    cert: &'a CertInfo,
}

impl Anchored for Mismatch<'_> {
    fn on(&self) -> On<'_> {
        self.alert.on()
    }
}

impl ConnectionRule for CertificateNameMismatch {
    type Found<'a> = Mismatch<'a>;
    const META: &'static Meta = &META;

    fn check<'a>(&self, cx: &ConnCx<'a>, claimed: &mut Claimed) -> Vec<Mismatch<'a>> {
        let c = cx.conn;
        let mut out = Vec::new();
        for a in cx.fatal_alerts() {
            let code = a.code.unwrap_or(AD(0));
            if a.sent_by != Side::Client
                || ![AD::BAD_CERTIFICATE, AD::CERTIFICATE_UNKNOWN].contains(&code)
            {
                continue;
            }
            let sni = c
                .tls
                .as_ref()
                .and_then(|t| t.client_hello.as_ref())
                .and_then(|h| h.sni.as_deref());
            let (Some(sni), Some(cert)) = (sni, leaf(c, Side::Server)) else {
                continue;
            };
            if cert_names(cert, sni) {
                continue;
            }
            if let Some(alert) = AlertFound::claim(claimed, c, a, Some(Side::Server)) {
                out.push(Mismatch { alert, sni, cert });
            }
        }
        out
    }

    fn explain(&self, f: &Mismatch<'_>, _cfg: &Config) -> String {
        let (c, a) = (f.alert.conn, f.alert.alert);
        format!(
            "The client {} asked for \"{}\" (SNI) on {}:{} ({}), but the certificate \
             presented names only {}; the client refused it with a fatal {} alert ({}). The \
             certificate: {}.",
            c.client.ip,
            f.sni,
            c.server.ip,
            c.server.port,
            stream(c),
            named(f.cert),
            a.description,
            a.at,
            describe_cert(f.cert)
        )
    }
}
