//! `digest-with-oauth`: a Digest challenge where the Bearer challenge was expected (on an OAuth
//! port), or a request for an encrypted configuration file: both are set in the phone security
//! profile and not supported in OAuth mode.

use crate::diagnose::util::{register_of, sip_evidence};
use crate::diagnose::{
    Anchored, AnswerFound, CaptureRule, Claimed, Confidence, Cx, Evidence, Meta, On, Severity,
};
use crate::session::HttpEntry;

/// The rule.
pub struct DigestWithOauth;

static META: Meta = Meta {
    id: "digest-with-oauth",
    title: "Digest authentication or an encrypted config file is set for an OAuth device",
    meaning: "The device's phone security profile asks for digest authentication or a \
              TFTP-encrypted configuration, neither of which works in SIP OAuth mode.",
    severity: Severity::Error,
    confidence: Confidence::Likely,
    signature: "401/407 with a Digest challenge answering a REGISTER on an OAuth port, or an HTTP \
                request for <device>.cnf.xml.enc.sgn",
    fix: &[
        "In the device's Phone Security Profile (System > Security > Phone Security Profile), \
         clear \"Enable Digest Authentication\" and \"TFTP Encrypted Config\".",
        "Save, apply the config, and reset the device.",
    ],
    source: "CUCM Security Guide, SIP OAuth (documented limitation)",
};

/// Digest where OAuth belongs: a Digest challenge on an OAuth port, or a request for the
/// encrypted configuration file.
pub enum Digest<'a> {
    /// A REGISTER on an OAuth port answered with a Digest challenge.
    Challenge(AnswerFound<'a>),
    /// A request for the encrypted configuration file.
    EncryptedConfig(&'a HttpEntry),
}

impl Anchored for Digest<'_> {
    fn on(&self) -> On<'_> {
        match self {
            Digest::Challenge(f) => f.on(),
            Digest::EncryptedConfig(h) => On::Http(h),
        }
    }
}

impl CaptureRule for DigestWithOauth {
    type Found<'a> = Digest<'a>;
    const META: &'static Meta = &META;

    fn check<'a>(&self, cx: &Cx<'a>, claimed: &mut Claimed) -> Vec<Digest<'a>> {
        let mut out: Vec<Digest<'a>> = cx
            .register_answers()
            .filter(|&(t, req, resp)| {
                let digest = resp.has_auth("WWW-Authenticate", "Digest")
                    || resp.has_auth("Proxy-Authenticate", "Digest");
                digest && cx.port_kind(req.dst.port).is_oauth() && claimed.transaction(t)
            })
            .map(|(_, req, resp)| Digest::Challenge(AnswerFound { req, resp }))
            .collect();
        // Every window sees the HTTP requests read so far: each is told once ([`Self::once`]).
        out.extend(
            cx.facts
                .http
                .iter()
                .filter(|h| h.path.ends_with(".cnf.xml.enc.sgn"))
                .map(Digest::EncryptedConfig),
        );
        out
    }

    fn explain(&self, f: &Digest<'_>, _cx: &Cx<'_>) -> String {
        match *f {
            Digest::Challenge(AnswerFound { req, resp }) => format!(
                "On the OAuth port {}:{}, CUCM answered {} ({}) with a Digest challenge ({} \
                 {}, {}) instead of the Bearer challenge: the device's security profile has \
                 digest authentication on.",
                req.dst.ip,
                req.dst.port,
                register_of(req.device.as_deref().unwrap_or("the client")),
                req.at,
                resp.status.unwrap_or(0),
                resp.reason.as_deref().unwrap_or(""),
                resp.at
            ),
            Digest::EncryptedConfig(h) => format!(
                "{} asked {}:{} for the encrypted configuration file {} ({}): the device's \
                 security profile has TFTP Encrypted Config on, which SIP OAuth mode does not \
                 support.",
                h.client.ip, h.server.ip, h.server.port, h.path, h.at
            ),
        }
    }

    fn evidence(&self, f: &Digest<'_>) -> Vec<Evidence> {
        match *f {
            Digest::Challenge(AnswerFound { resp, .. }) => vec![sip_evidence(
                resp,
                "Digest challenge on an OAuth port".into(),
            )],
            Digest::EncryptedConfig(h) => vec![Evidence::at(
                h.at.clone(),
                h.time,
                Some(h.tcp_stream),
                format!("GET {}", h.path),
            )],
        }
    }

    /// A request for the encrypted configuration file is told once (every window sees the
    /// requests read so far); each Digest challenge counts.
    fn once(&self, f: &Digest<'_>) -> Option<String> {
        match f {
            Digest::Challenge(_) => None,
            Digest::EncryptedConfig(h) => Some(h.at.to_string()),
        }
    }
}
