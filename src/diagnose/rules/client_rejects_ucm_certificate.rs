//! `client-rejects-ucm-certificate`: on the SIP Phone OAuth port the Jabber/Webex client refuses
//! CUCM's Tomcat certificate: it alerts (unknown_ca, bad_certificate, certificate_unknown) or
//! closes right after the server's certificate, and no REGISTER follows.

use crate::config::{Config, PortKind};
use crate::diagnose::util::{cert_note, close_evidence, leaf, stream};
use crate::diagnose::{
    AlertFound, Anchored, Claimed, Confidence, ConnCx, ConnectionRule, Evidence, Meta, On, Severity,
};
use crate::net::Side;
use crate::session::Connection;
use crate::tls::{AlertDescription as AD, Chain};

/// The rule.
pub struct ClientRejectsUcmCertificate;

static META: Meta = Meta {
    id: "client-rejects-ucm-certificate",
    title: "The Jabber/Webex client does not accept CUCM's Tomcat certificate",
    meaning: "The client will not trust the certificate CUCM presents on the SIP Phone OAuth \
              port, so it never sends its REGISTER.",
    severity: Severity::Error,
    confidence: Confidence::Likely,
    signature: "SIP Phone OAuth port: the client sends unknown_ca (48), bad_certificate (42) or \
                certificate_unknown (46), or closes right after the server's Certificate; no \
                REGISTER follows",
    fix: &[
        "Have the Tomcat certificate signed by a CA the client devices trust (or deploy that root \
         to the clients' trust stores); self-signed Tomcat certificates make Jabber prompt or \
         refuse.",
        "Use a SHA-256 (or better) signature and put each node's FQDN in the certificate's SAN.",
        "After replacing the certificate restart Cisco Tomcat and (before CUCM 14) Cisco \
         CallManager on the node.",
    ],
    source: "CUCM Security Guide, SIP OAuth; Cisco Jabber deployment guide, certificate validation",
};

/// CUCM's certificate refused by the client: with an alert, or by closing the connection.
pub enum Refused<'a> {
    /// A fatal certificate alert from the client.
    Alert(AlertFound<'a>),
    /// The client closed right after CUCM's certificate, without an alert.
    Closed {
        /// The connection.
        conn: &'a Connection,
        /// CUCM's chain.
        chain: &'a Chain,
    },
}

impl Anchored for Refused<'_> {
    fn on(&self) -> On<'_> {
        match self {
            Refused::Alert(a) => a.on(),
            Refused::Closed { conn, .. } => On::Conn(conn),
        }
    }
}

impl ConnectionRule for ClientRejectsUcmCertificate {
    type Found<'a> = Refused<'a>;
    const META: &'static Meta = &META;

    fn check<'a>(&self, cx: &ConnCx<'a>, claimed: &mut Claimed) -> Vec<Refused<'a>> {
        let c = cx.conn;
        let mut out = Vec::new();
        for a in cx.fatal_alerts() {
            let code = a.code.unwrap_or(AD(0));
            if c.port_kind != PortKind::SipOAuth
                || a.sent_by != Side::Client
                || ![AD::BAD_CERTIFICATE, AD::CERTIFICATE_UNKNOWN, AD::UNKNOWN_CA].contains(&code)
            {
                continue;
            }
            let claim = AlertFound::claim(claimed, c, a, Some(Side::Server));
            out.extend(claim.map(Refused::Alert));
        }
        out.extend(closed_after_certificate(c, claimed));
        out
    }

    fn explain(&self, f: &Refused<'_>, _cfg: &Config) -> String {
        match *f {
            Refused::Alert(AlertFound {
                conn: c, alert: a, ..
            }) => format!(
                "The client {} refused CUCM's certificate on {}:{} with a fatal {} alert ({}, \
                 {}).{}",
                c.client.ip,
                c.server.ip,
                c.server.port,
                a.description,
                a.at,
                stream(c),
                cert_of_cucm(c)
            ),
            Refused::Closed { conn: c, chain } => format!(
                "The client {} closed the connection to {}:{} (tcp.stream {}) right after CUCM's \
                 Certificate (frame {}) without an alert and without answering the handshake: it \
                 did not accept the certificate.{}",
                c.client.ip,
                c.server.ip,
                c.server.port,
                c.tcp_stream,
                chain.frame,
                cert_of_cucm(c)
            ),
        }
    }

    fn evidence(&self, f: &Refused<'_>) -> Vec<Evidence> {
        match *f {
            Refused::Alert(a) => a.on().evidence(),
            Refused::Closed { conn: c, chain } => {
                let mut evidence = vec![Evidence::frame(
                    chain.frame,
                    chain.time,
                    Some(c.tcp_stream),
                    "Certificate from CUCM, the last handshake message".into(),
                )];
                evidence.extend(close_evidence(c));
                evidence
            }
        }
    }
}

/// No alert: the client closes right after the server's Certificate (TLS 1.2, where the
/// certificate is visible), before its own key exchange.
fn closed_after_certificate<'a>(c: &'a Connection, claimed: &mut Claimed) -> Option<Refused<'a>> {
    let t = c.tls.as_ref()?;
    if c.port_kind != PortKind::SipOAuth
        || c.ended_by != Some(Side::Client)
        || !t.alerts.is_empty()
        || c.lost_bytes > 0
    {
        return None;
    }
    let chain = t.chain_of(Side::Server)?;
    let answered = t
        .steps
        .iter()
        .any(|s| s.from == Side::Client && s.frame > chain.frame);
    if answered || !claimed.connection(c.tcp_stream) {
        return None;
    }
    Some(Refused::Closed { conn: c, chain })
}

fn cert_of_cucm(c: &Connection) -> String {
    cert_note(" CUCM's certificate: ", leaf(c, Side::Server))
}
