//! `certificate-expired`: a side rejects the other's certificate with certificate_expired (45).

use crate::config::Config;
use crate::diagnose::util::{describe_cert, leaf, stream, who};
use crate::diagnose::{
    AlertFound, Anchored, Claimed, Confidence, ConnCx, ConnectionRule, Evidence, Meta, On, Severity,
};
use crate::net::Side;
use crate::session::Connection;
use crate::tls::{AlertDescription as AD, CertInfo, Chain};

/// The rule.
pub struct CertificateExpired;

static META: Meta = Meta {
    id: "certificate-expired",
    title: "A certificate is expired (or not yet valid)",
    meaning: "A certificate in the path is outside its validity period, either as reported by the \
              peer's alert or as read from the certificate at capture time.",
    severity: Severity::Error,
    confidence: Confidence::Certain,
    signature: "fatal certificate_expired (45) alert, or any presented certificate outside its \
                validity at the time the capture shows it",
    fix: &[
        "Renew the certificate named in the evidence: the Tomcat certificate on CUCM (Cisco \
         Unified OS Administration > Security > Certificate Management), or the server \
         certificate on Expressway-C.",
        "After renewing CUCM's Tomcat certificate, restart Cisco Tomcat and (before CUCM 14) \
         Cisco CallManager on that node.",
        "Check NTP on both sides: a wrong clock makes a valid certificate look expired.",
    ],
    source: "RFC 5246 / RFC 8446 alert semantics; CUCM Security Guide, certificate management",
};

/// An expired (or not yet valid) certificate: refused with the alert that says so, or read
/// from the handshake itself.
pub enum Expired<'a> {
    /// A fatal certificate_expired alert.
    Alert(AlertFound<'a>),
    /// A certificate of `chain` out of its validity when it was presented.
    Certificate {
        /// The connection.
        conn: &'a Connection,
        /// The chain presented.
        chain: &'a Chain,
        /// The certificate's place in it (0: the leaf).
        pos: usize,
        /// The certificate.
        cert: &'a CertInfo,
    },
}

impl Anchored for Expired<'_> {
    fn on(&self) -> On<'_> {
        match self {
            Expired::Alert(a) => a.on(),
            Expired::Certificate { conn, .. } => On::Conn(conn),
        }
    }
}

impl ConnectionRule for CertificateExpired {
    type Found<'a> = Expired<'a>;
    const META: &'static Meta = &META;

    fn check<'a>(&self, cx: &ConnCx<'a>, claimed: &mut Claimed) -> Vec<Expired<'a>> {
        let c = cx.conn;
        let mut out = Vec::new();
        for a in cx.fatal_alerts() {
            if a.code == Some(AD::CERTIFICATE_EXPIRED) {
                let rejected = Some(a.sent_by.other());
                out.extend(AlertFound::claim(claimed, c, a, rejected).map(Expired::Alert));
            }
        }
        // Validity read from the certificates themselves, alert or not.
        let Some(t) = &c.tls else { return out };
        let alerted = t
            .alerts
            .iter()
            .any(|a| a.code == Some(AD::CERTIFICATE_EXPIRED));
        for chain in &t.chains {
            let invalid = chain
                .certificates
                .iter()
                .enumerate()
                .find(|(_, cert)| chain.time > cert.not_after || chain.time < cert.not_before);
            let Some((pos, cert)) = invalid else { continue };
            if !claimed.connection(c.tcp_stream) && alerted {
                continue;
            }
            out.push(Expired::Certificate {
                conn: c,
                chain,
                pos,
                cert,
            });
        }
        out
    }

    fn explain(&self, f: &Expired<'_>, _cfg: &Config) -> String {
        match *f {
            Expired::Alert(AlertFound {
                conn: c, alert: a, ..
            }) => {
                let (sender, other) = if a.sent_by == Side::Client {
                    (&c.client, Side::Server)
                } else {
                    (&c.server, Side::Client)
                };
                let cert = leaf(c, other)
                    .map(|l| {
                        let when = if a.time > l.not_after {
                            " It had indeed expired at capture time."
                        } else {
                            " By the capture's clock it was still valid: check the rejecting \
                             side's clock (NTP)."
                        };
                        format!(" The {other}'s certificate: {}.{when}", describe_cert(l))
                    })
                    .unwrap_or_default();
                format!(
                    "{} rejected the {other}'s certificate with a fatal certificate_expired alert \
                     ({}, {}).{cert}",
                    who(sender),
                    a.at,
                    stream(c)
                )
            }
            Expired::Certificate {
                conn: c,
                chain,
                pos,
                cert,
            } => {
                let owner = if chain.presented_by == Side::Client {
                    &c.client
                } else {
                    &c.server
                };
                let which = if pos == 0 {
                    "its certificate".to_string()
                } else {
                    format!("certificate {} of its chain", pos + 1)
                };
                format!(
                    "{} presented {which} on port {} (frame {}, tcp.stream {}), and at that time \
                     ({}) it was {}: {}.",
                    who(owner),
                    c.server.port,
                    chain.frame,
                    c.tcp_stream,
                    chain.time.rfc3339(),
                    state(chain, cert),
                    describe_cert(cert)
                )
            }
        }
    }

    fn evidence(&self, f: &Expired<'_>) -> Vec<Evidence> {
        match *f {
            Expired::Alert(a) => a.on().evidence(),
            Expired::Certificate {
                conn: c,
                chain,
                cert,
                ..
            } => vec![Evidence::frame(
                chain.frame,
                chain.time,
                Some(c.tcp_stream),
                format!(
                    "Certificate from the {}: {} ({})",
                    chain.presented_by,
                    state(chain, cert),
                    cert.subject
                ),
            )],
        }
    }

    fn filter(&self, f: &Expired<'_>) -> String {
        match f {
            Expired::Alert(a) => a.on().filter(),
            Expired::Certificate { conn, .. } => {
                format!(
                    "tcp.stream == {} && tls.handshake.type == 11",
                    conn.tcp_stream
                )
            }
        }
    }

    fn trust(&self, f: &Expired<'_>) -> Option<crate::trust::TrustResult> {
        match f {
            Expired::Alert(a) => a.on().trust(),
            Expired::Certificate { chain, .. } => chain.trust.as_deref().cloned(),
        }
    }
}

/// `expired` or `not yet valid`, when the chain was presented.
fn state(chain: &Chain, cert: &CertInfo) -> &'static str {
    if chain.time > cert.not_after {
        "expired"
    } else {
        "not yet valid"
    }
}
