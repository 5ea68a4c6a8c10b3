//! `legacy-port-instead-of-oauth`: the device's configuration file turns SIP OAuth on but the
//! client registers on the legacy SIP ports, or the file turns OAuth off; without a config file,
//! a client sending its Bearer token straight to a legacy port.

use crate::diagnose::util::{
    bearer_to_legacy_port, call_filter, sip_evidence, sip_parties, via_count,
};
use crate::diagnose::{
    Anchored, CaptureRule, Claimed, Confidence, Cx, Evidence, Meta, On, Severity,
};
use crate::http::DeviceConfig;
use crate::place::At;
use crate::session::{HttpEntry, Party};
use crate::sip::SipMessage;

/// The rule.
pub struct LegacyPortInsteadOfOauth;

static META: Meta = Meta {
    id: "legacy-port-instead-of-oauth",
    title: "The device registers on the legacy SIP port instead of the OAuth port",
    meaning: "The device's configuration and the port it registers on disagree about SIP OAuth: \
              either OAuth is on but the client uses 5060/5061, or the configuration file turns \
              OAuth off for the device.",
    severity: Severity::Error,
    confidence: Confidence::Likely,
    signature: "the device config file has sipOAuthMode 1 but the client's REGISTER goes to the \
                node's sipPort/securedSipPort, or the file has sipOAuthMode 0; without a config \
                file, a Bearer token sent directly to 5060/5061",
    fix: &[
        "As for oauth-port-mismatch: the cluster-wide SIP OAuth mode must be on (`utils \
         sipOAuth-mode enable`, then restart Cisco CallManager on every node) and the device's \
         Phone Security Profile must have Enable OAuth Authentication checked.",
        "Reset the device so its configuration file is rebuilt, and check that the client \
         downloads the new file (`GET /<device>.cnf.xml`).",
    ],
    source: "CUCM Security Guide, SIP OAuth (device configuration); Cisco TAC 215572",
};

/// A client that registers the legacy way where OAuth was meant, and what shows it.
pub enum Legacy<'a> {
    /// The device's configuration file turns SIP OAuth off.
    Off {
        /// The configuration file's exchange.
        http: &'a HttpEntry,
        /// Its content.
        conf: &'a DeviceConfig,
        /// The device's first REGISTER, if any (its parties are the finding's).
        register: Option<&'a SipMessage>,
    },
    /// The configuration file turns SIP OAuth on, yet the device registered on a legacy port.
    OnYetLegacyPort {
        /// The configuration file's exchange.
        http: &'a HttpEntry,
        /// Its content.
        conf: &'a DeviceConfig,
        /// The REGISTER on the legacy port.
        register: &'a SipMessage,
    },
    /// Without a configuration file: a Bearer token sent directly to a legacy SIP port.
    Bearer(&'a SipMessage),
}

impl Anchored for Legacy<'_> {
    fn on(&self) -> On<'_> {
        match *self {
            Legacy::Off { http, .. } => On::Http(http),
            Legacy::OnYetLegacyPort { register: req, .. } | Legacy::Bearer(req) => {
                On::Sip { req, resp: None }
            }
        }
    }
}

impl CaptureRule for LegacyPortInsteadOfOauth {
    type Found<'a> = Legacy<'a>;
    const META: &'static Meta = &META;

    fn check<'a>(&self, cx: &Cx<'a>, claimed: &mut Claimed) -> Vec<Legacy<'a>> {
        let mut out = against_config_file(cx);
        let f = cx.facts;
        // Without a config file: a Bearer token sent directly (one Via) to a legacy SIP port.
        let with_config = f.http.iter().any(|h| h.config.is_some());
        for (t, _, r) in cx.registers() {
            if !bearer_to_legacy_port(cx, r) || via_count(r) > 1 {
                continue;
            }
            if with_config || !claimed.transaction(t) {
                continue;
            }
            out.push(Legacy::Bearer(r));
        }
        out
    }

    fn explain(&self, f: &Legacy<'_>, _cx: &Cx<'_>) -> String {
        match *f {
            Legacy::Off { http, conf, .. } => format!(
                "The configuration file of {} ({}) has sipOAuthMode 0: SIP OAuth is off for \
                 this device, so it registers the legacy way (certificate or digest) and never on \
                 the OAuth port.",
                conf.device,
                answer_frame(http)
            ),
            Legacy::OnYetLegacyPort {
                http,
                conf,
                register: r,
            } => format!(
                "The configuration file of {} ({}) turns SIP OAuth on, yet the client \
                 registered on {}:{}, the node's legacy SIP port (REGISTER, {}), instead of \
                 its SIP OAuth port{}.",
                conf.device,
                answer_frame(http),
                r.dst.ip,
                r.dst.port,
                r.at,
                conf.nodes
                    .first()
                    .and_then(|n| n.sip_oauth_port)
                    .map(|p| format!(" {p}"))
                    .unwrap_or_default()
            ),
            Legacy::Bearer(r) => format!(
                "{} sent its OAuth Bearer token in a REGISTER ({}) to {}:{}, a legacy SIP \
                 port: OAuth registrations belong on the SIP Phone OAuth port.",
                r.device.as_deref().unwrap_or("The client"),
                r.at,
                r.dst.ip,
                r.dst.port
            ),
        }
    }

    fn evidence(&self, f: &Legacy<'_>) -> Vec<Evidence> {
        match *f {
            Legacy::Off { http, conf, .. } => vec![config_evidence(http, conf)],
            Legacy::OnYetLegacyPort {
                http,
                conf,
                register,
            } => vec![
                config_evidence(http, conf),
                sip_evidence(register, "REGISTER on the legacy port".into()),
            ],
            Legacy::Bearer(r) => vec![sip_evidence(
                r,
                "REGISTER with a Bearer token on a legacy SIP port".into(),
            )],
        }
    }

    fn filter(&self, f: &Legacy<'_>) -> String {
        match *f {
            Legacy::Off { conf, .. } => {
                format!("http.request.uri contains \"{}.cnf.xml\"", conf.device)
            }
            Legacy::OnYetLegacyPort { register: r, .. } | Legacy::Bearer(r) => call_filter(r),
        }
    }

    fn parties(&self, f: &Legacy<'_>, cx: &Cx<'_>) -> (Party, Party) {
        match *f {
            Legacy::Off {
                http,
                register: None,
                ..
            } => (http.client.clone(), http.server.clone()),
            Legacy::Off {
                register: Some(r), ..
            }
            | Legacy::OnYetLegacyPort { register: r, .. }
            | Legacy::Bearer(r) => sip_parties(cx, r),
        }
    }
}

/// The device configuration file against where the client registered.
fn against_config_file<'a>(cx: &Cx<'a>) -> Vec<Legacy<'a>> {
    let f = cx.facts;
    let mut out = Vec::new();
    for http in &f.http {
        let Some(conf) = &http.config else { continue };
        let registers: Vec<&SipMessage> = f
            .sip
            .iter()
            .enumerate()
            .filter(|(i, _)| !f.sip_context.contains(i))
            .map(|(_, m)| m)
            .filter(|m| {
                m.is_request()
                    && m.method == "REGISTER"
                    && m.device.as_deref() == Some(&conf.device)
            })
            .collect();
        match conf.sip_oauth_mode {
            // Said once, with the last window (windows judged while reading repeat the file).
            Some(0) if !f.sip_more => out.push(Legacy::Off {
                http,
                conf,
                register: registers.first().copied(),
            }),
            Some(1) => {
                let legacy: Vec<u16> = conf
                    .nodes
                    .iter()
                    .flat_map(|n| [n.sip_port, n.secured_sip_port])
                    .flatten()
                    .collect();
                out.extend(
                    registers
                        .iter()
                        .filter(|r| legacy.contains(&r.dst.port))
                        .map(|register| Legacy::OnYetLegacyPort {
                            http,
                            conf,
                            register,
                        }),
                );
            }
            _ => {}
        }
    }
    out
}

/// The frame of the configuration file's answer (of its request, when unanswered).
fn answer_frame(h: &HttpEntry) -> At {
    h.response_frame.map_or_else(|| h.at.clone(), At::Frame)
}

/// The configuration file as evidence, with the mode it sets.
fn config_evidence(h: &HttpEntry, conf: &DeviceConfig) -> Evidence {
    Evidence::at(
        answer_frame(h),
        h.time,
        Some(h.tcp_stream),
        format!(
            "{}.cnf.xml: sipOAuthMode {}",
            conf.device,
            conf.sip_oauth_mode
                .map_or("absent".into(), |m| m.to_string())
        ),
    )
}
