//! `tls-version-or-cipher-mismatch`: protocol_version (70), handshake_failure (40) or
//! insufficient_security (71) before any certificate was exchanged: the two sides share no
//! TLS version or cipher suite.

use crate::config::Config;
use crate::diagnose::util::{party, stream, who};
use crate::diagnose::{AlertFound, Claimed, Confidence, ConnCx, ConnectionRule, Meta, Severity};
use crate::tls::AlertDescription as AD;
use crate::tls::{HandshakeType, StepKind};

/// The rule.
pub struct VersionOrCipherMismatch;

static META: Meta = Meta {
    id: "tls-version-or-cipher-mismatch",
    title: "No common TLS version or cipher suite",
    meaning: "The two sides share no TLS version or cipher suite, so the handshake stops after \
              the hellos.",
    severity: Severity::Error,
    confidence: Confidence::Certain,
    signature: "fatal protocol_version (70), handshake_failure (40) or insufficient_security (71) \
                right after the ClientHello or ServerHello, before any Certificate",
    fix: &[
        "Compare the versions and suites the client offered (see the explanation) with what the \
         server accepts: on CUCM `show tls min-version` and `set tls min-version <1.0|1.1|1.2>` \
         (all nodes, then restart as prompted).",
        "Note: TLS 1.3 on the SIP OAuth ports only exists from CUCM 15 SU2: a client or \
         Expressway-C limited to TLS 1.3 cannot register on older releases.",
        "Check cipher restrictions on both sides (CUCM Enterprise Parameters > TLS Ciphers; \
         Expressway Maintenance > Security > Ciphers).",
    ],
    source: "RFC 8446 section 6.2; CUCM Security Guide, TLS version and cipher settings",
};

impl ConnectionRule for VersionOrCipherMismatch {
    type Found<'a> = AlertFound<'a>;
    const META: &'static Meta = &META;

    fn check<'a>(&self, cx: &ConnCx<'a>, claimed: &mut Claimed) -> Vec<AlertFound<'a>> {
        let c = cx.conn;
        let Some(t) = &c.tls else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for a in cx.fatal_alerts() {
            let code = a.code.unwrap_or(AD(0));
            let failures = [
                AD::HANDSHAKE_FAILURE,
                AD::PROTOCOL_VERSION,
                AD::INSUFFICIENT_SECURITY,
            ];
            if !failures.contains(&code) {
                continue;
            }
            let early = !t.steps.iter().any(|s| {
                a.at.frame().is_some_and(|f| s.frame < f)
                    && (s.message == StepKind::Handshake(HandshakeType::CERTIFICATE)
                        || s.message.is_finished()
                        || s.message == StepKind::EncryptedHandshake)
            });
            if !early || !claimed.alert(c, a) {
                continue;
            }
            out.push(AlertFound {
                conn: c,
                alert: a,
                chain: None,
            });
        }
        out
    }

    fn explain(&self, f: &AlertFound<'_>, _cfg: &Config) -> String {
        let (c, a) = (f.conn, f.alert);
        let hello = c.tls.as_ref();
        let offered = hello
            .and_then(|t| t.client_hello.as_ref())
            .map(|ch| {
                format!(
                    " The client offered {} with {} cipher suite(s).",
                    ch.offered_versions.join(", "),
                    ch.cipher_suites_offered
                )
            })
            .unwrap_or_default();
        let chosen = hello
            .and_then(|t| t.server_hello.as_ref())
            .map(|sh| format!(" The server chose {} with {}.", sh.version, sh.cipher_suite))
            .unwrap_or_else(|| " No ServerHello was sent.".into());
        format!(
            "{} ended the handshake on port {} with a fatal {} alert ({}, {}) \
             before any certificate was exchanged.{offered}{chosen}",
            who(party(c, a.sent_by)),
            c.server.port,
            a.description,
            a.at,
            stream(c)
        )
    }
}
