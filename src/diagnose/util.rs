//! Helpers shared by the rules.

/// Via entries of a message (headers may hold several, comma-separated).
pub fn via_count(m: &crate::sip::SipMessage) -> usize {
    m.headers
        .iter()
        .filter(|(n, _)| n == "Via")
        .map(|(_, v)| v.split(',').filter(|p| p.contains("SIP/2.0/")).count())
        .sum()
}

/// `CSFrado's REGISTER`, or `the REGISTER of sip:1154@cucm` when the device is known only by
/// an address (a possessive on a URI reads badly, and must not be capitalized).
pub fn register_of(device: &str) -> String {
    if device.contains([':', '@']) {
        format!("the REGISTER of {device}")
    } else {
        format!("{device}'s REGISTER")
    }
}

use super::*;
pub use crate::tls::CertInfo;

/// The alert as the contract shows it.
pub fn alert_ref(a: &Alert) -> AlertRef {
    AlertRef {
        description: a.description.clone(),
        code: a.code.map_or(0, |c| c.0),
        level: a
            .level
            .map_or("encrypted".into(), crate::tls::names::alert_level),
        sent_by: a.sent_by,
    }
}

/// The party on `side` of the connection.
pub fn party(c: &Connection, side: Side) -> &Party {
    match side {
        Side::Client => &c.client,
        Side::Server => &c.server,
    }
}

/// How explanations name a connection: `tcp.stream 4`, or the log's line for a connection a
/// log told of.
pub fn stream(c: &Connection) -> String {
    match &c.line {
        Some(at) => at.to_string(),
        None => format!("tcp.stream {}", c.tcp_stream),
    }
}

/// Display name of a party: `Expressway-C 10.0.0.5`.
pub fn who(p: &Party) -> String {
    format!("{} {}", role_name(p.role), p.ip)
}

/// A role as sentences name it: `CUCM`, `Expressway-C`, `the Jabber/Webex client`.
pub fn role_name(role: crate::net::Role) -> &'static str {
    use crate::net::Role;
    match role {
        Role::Cucm => "CUCM",
        Role::ExpresswayC => "Expressway-C",
        Role::JabberOrWebex => "the Jabber/Webex client",
        Role::SipClient => "the SIP client",
        Role::SipServer => "the SIP server",
        Role::Client => "the client",
        Role::Server | Role::Tftp => "the server",
    }
}

/// `{lead}subject "CN=x", issuer "CN=y", valid ... to ....`, or nothing without a certificate.
pub fn cert_note(lead: &str, cert: Option<&CertInfo>) -> String {
    cert.map(|l| format!("{lead}{}.", describe_cert(l)))
        .unwrap_or_default()
}

/// The names a certificate is for: its SAN entries, else its subject.
pub fn named(cert: &CertInfo) -> String {
    if cert.san.is_empty() {
        cert.subject.clone()
    } else {
        cert.san.join(", ")
    }
}

/// `subject "CN=x", issued by "CN=y", valid until ...`.
pub fn describe_cert(c: &CertInfo) -> String {
    format!(
        "subject \"{}\", issuer \"{}\", valid {} to {}",
        c.subject,
        c.issuer,
        c.not_before.rfc3339(),
        c.not_after.rfc3339()
    )
}

/// Evidence for an alert and the certificate it answered.
pub fn alert_evidence(c: &Connection, a: &Alert, rejected_chain_of: Option<Side>) -> Vec<Evidence> {
    let mut ev = vec![Evidence::at(
        a.at.clone(),
        a.time,
        Some(c.tcp_stream),
        format!(
            "fatal TLS alert {} ({}) sent by the {}{}",
            a.description,
            a.code.map_or(0, |c| c.0),
            a.sent_by,
            a.logged
                .as_ref()
                .map(|w| format!(" (the log: {w})"))
                .unwrap_or_default()
        ),
    )];
    if let (Some(who), Some(t)) = (rejected_chain_of, &c.tls) {
        if let Some(ch) = t.chain_of(who) {
            let leaf = ch
                .certificates
                .first()
                .map(|l| format!(": {}", l.subject))
                .unwrap_or_default();
            ev.push(Evidence::frame(
                ch.frame,
                ch.time,
                Some(c.tcp_stream),
                format!("Certificate presented by the {who}{leaf}"),
            ));
        }
    }
    ev
}

/// Wireshark filter for an alert on a connection.
pub fn alert_filter(c: &Connection, code: u8) -> String {
    format!(
        "ip.addr == {} && tcp.port == {} && tls.alert_message.desc == {code}",
        c.server.ip, c.server.port
    )
}

/// `ip.addr == <server> && tcp.port == <port> && tcp.flags.<flag> == 1`: the connection
/// attempts to the server's port with that TCP flag.
pub fn port_filter(c: &Connection, flag: &str) -> String {
    format!(
        "ip.addr == {} && tcp.port == {} && tcp.flags.{flag} == 1",
        c.server.ip, c.server.port
    )
}

/// Client and server of a SIP request.
pub fn sip_parties(cx: &Cx<'_>, req: &SipMessage) -> (Party, Party) {
    let kind = cx.port_kind(req.dst.port);
    let (cr, mut sr) = kind.roles();
    // A log that does not give the server's port is the server's own (a CUCM SDL trace): the
    // registrar is CUCM. Its client stays a client: a device or an Expressway-C, the trace
    // does not say which.
    if req.dst.port == 0 && req.method == "REGISTER" {
        sr = crate::net::Role::Cucm;
    }
    (
        Party {
            ip: req.src.ip,
            port: req.src.port,
            role: cr,
        },
        Party {
            ip: req.dst.ip,
            port: req.dst.port,
            role: sr,
        },
    )
}

/// Evidence for a SIP message; a request's credential is shown as the report may show it
/// (redacted unless `--show-secrets`).
pub fn sip_evidence(m: &SipMessage, note: String) -> Evidence {
    let cred = m
        .headers
        .iter()
        .find(|(n, _)| n == "Authorization" || n == "Proxy-Authorization")
        .map(|(n, v)| match v.split_once(' ') {
            Some((scheme, params)) if note.contains(n.as_ref()) && note.contains(scheme) => {
                params.to_string()
            }
            _ => format!("{n}: {v}"),
        });
    let note = match cred {
        Some(c) if m.status.is_none() => format!("{note} ({c})"),
        _ => note,
    };
    Evidence::at(m.at.clone(), m.time, m.tcp_stream, note)
}

/// A 403's evidence, with its Warning: `403 Forbidden, Warning: 399 ucm "text"`.
pub fn warning_evidence(resp: &SipMessage) -> Evidence {
    let warning = warning_text(resp).unwrap_or_default();
    sip_evidence(resp, format!("403 Forbidden, Warning: {warning}"))
}

/// `399 UCM2-PUB "text"`.
pub fn warning_text(m: &SipMessage) -> Option<String> {
    m.warnings
        .first()
        .map(|w| format!("{} {} \"{}\"", w.code, w.agent, w.text))
}

/// A request carries credentials (Authorization or Proxy-Authorization).
pub fn has_credentials(m: &SipMessage) -> bool {
    m.auth.iter().any(|a| a.header.ends_with("ization"))
}

/// A request carries a Bearer token.
pub fn has_bearer(m: &SipMessage) -> bool {
    m.auth
        .iter()
        .any(|a| a.header.ends_with("ization") && a.scheme.eq_ignore_ascii_case("bearer"))
}

/// A REGISTER carrying a Bearer token to a SIP port that is not a SIP OAuth port: what
/// `legacy-port-instead-of-oauth` (sent directly) and `mra-without-ceoauth` (relayed by
/// Expressway-C) both start from.
pub fn bearer_to_legacy_port(cx: &Cx<'_>, m: &SipMessage) -> bool {
    let kind = cx.port_kind(m.dst.port);
    m.method == "REGISTER" && has_bearer(m) && kind.is_sip() && !kind.is_oauth()
}

/// REGISTER transactions of one registration (device), each with its final answer.
pub fn register_steps<'a>(
    cx: &Cx<'a>,
    reg: &crate::session::Registration,
) -> Vec<(usize, &'a SipMessage, Option<&'a SipMessage>)> {
    let f = cx.facts;
    reg.transactions
        .iter()
        .map(|&t| {
            let tx = &f.transactions[t];
            (t, &f.sip[tx.request], tx.final_response(&f.sip))
        })
        .collect()
}

/// A SIP answer as the contract shows it.
pub fn sip_ref(m: &SipMessage) -> SipRef {
    SipRef {
        status: m.status.unwrap_or(0),
        reason: m.reason.clone().unwrap_or_default(),
        warning: warning_text(m),
    }
}

/// Wireshark filter for a SIP dialog by Call-ID.
pub fn call_filter(m: &SipMessage) -> String {
    match &m.call_id {
        Some(c) => format!("sip.Call-ID == \"{c}\""),
        None => "sip.CSeq.method == \"REGISTER\"".into(),
    }
}

/// Seconds the capture went on after `t`.
pub fn time_left(cx: &Cx<'_>, t: Ts) -> f64 {
    sip_end(cx).map_or(0.0, |e| e.secs_since(t))
}

/// Where the SIP the rules see ends: the capture's last frame, or, for a window judged while
/// the capture is read, the time it is judged at (what comes later is not yet seen, so it must
/// not count as absent).
pub fn sip_end(cx: &Cx<'_>) -> Option<Ts> {
    cx.facts
        .sip_window
        .or_else(|| cx.facts.info.as_ref().and_then(|i| i.last_time))
}

/// How a connection was ended: by which side, with a FIN or a RST, at which frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Closing {
    /// Who ended it.
    pub side: Side,
    /// `FIN` or `RST`.
    pub how: &'static str,
    /// The frame.
    pub frame: u64,
}

impl std::fmt::Display for Closing {
    /// `the client closed the connection (FIN, frame 12)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the {} closed the connection ({}, frame {})",
            self.side, self.how, self.frame
        )
    }
}

/// How the client ended the connection after the answer `resp` to its request `req`, when
/// that end says something about this client: not when Expressway-C relayed the request (its
/// connection to CUCM carries many clients, and its end is not this client giving up).
pub fn client_closing(cx: &Cx<'_>, req: &SipMessage, resp: &SipMessage) -> Option<Closing> {
    let relayed =
        via_count(req) > 1 || cx.port_kind(req.dst.port) == crate::config::PortKind::SipMraOAuth;
    if relayed {
        return None;
    }
    closing(cx, resp.tcp_stream, resp.at.frame().unwrap_or(0))
}

/// The first FIN or RST that ended the TCP connection `stream` after `frame`, so the capture
/// did not merely end first.
fn closing(cx: &Cx<'_>, stream: Option<u64>, frame: u64) -> Option<Closing> {
    let c = cx
        .facts
        .connections
        .iter()
        .find(|c| Some(c.tcp_stream) == stream)?;
    [
        // RST first: a frame carrying both flags is reported as the reset it is.
        c.rst.as_ref().map(|r| (r.frame, r.sent_by, "RST")),
        c.client_fin_frame.map(|f| (f, Side::Client, "FIN")),
        c.server_fin_frame.map(|f| (f, Side::Server, "FIN")),
    ]
    .into_iter()
    .flatten()
    .filter(|(f, _, _)| *f > frame)
    .min_by_key(|&(f, side, _)| (f, side))
    .map(|(frame, side, how)| Closing { side, how, frame })
}

/// Bytes of this TCP connection are missing from the capture (what was lost may decide).
pub fn stream_lossy(cx: &Cx<'_>, stream: Option<u64>) -> bool {
    stream.is_some_and(|s| cx.facts.lossy_streams.contains(&s))
}

/// A client that was challenged answers within milliseconds; less than this much capture
/// after a challenge cannot show that it never answered.
pub const CHALLENGE_GRACE_SECS: f64 = 5.0;

/// The leaf certificate presented by `who` (`client` or `server`).
pub fn leaf(c: &Connection, who: Side) -> Option<&CertInfo> {
    c.tls
        .as_ref()?
        .chain_of(who)?
        .certificates
        .first()
        .map(|a| &**a)
}

/// Whether a certificate names `host` (SAN DNS entries, else CN), wildcards included.
pub fn cert_names(cert: &CertInfo, host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let mut names: Vec<String> = cert
        .san
        .iter()
        .filter_map(|s| s.strip_prefix("DNS:"))
        .map(|s| s.to_ascii_lowercase())
        .collect();
    if names.is_empty() {
        if let Some(cn) = cert.subject.split(", ").find_map(|p| p.strip_prefix("CN=")) {
            names.push(cn.to_ascii_lowercase());
        }
    }
    names.iter().any(|n| match n.strip_prefix("*.") {
        Some(rest) => host.split_once('.').is_some_and(|(_, h)| h == rest),
        None => *n == host,
    })
}

/// The handshake finished (both sides' Finished, or application data both ways).
pub fn handshake_done(c: &Connection) -> bool {
    c.tls.as_ref().is_some_and(|t| {
        t.handshake_complete()
            || t.steps
                .iter()
                .filter(|s| s.message.is_finished())
                .map(|s| s.from)
                .collect::<std::collections::BTreeSet<_>>()
                .len()
                == 2
            || (t
                .steps
                .iter()
                .any(|s| s.from == Side::Client && s.message == StepKind::EncryptedHandshake)
                && t.steps
                    .iter()
                    .any(|s| s.from == Side::Server && s.message == StepKind::EncryptedHandshake)
                && t.application_records[1] > 0)
    })
}

/// Evidence for the frame where `who` ended the connection (FIN or RST).
pub fn close_evidence(c: &Connection) -> Option<Evidence> {
    let (frame, what) = match (&c.rst, c.client_fin_frame, c.server_fin_frame, c.ended_by) {
        (Some(r), _, _, _) if Some(r.sent_by) == c.ended_by => {
            (r.frame, format!("RST from the {}", r.sent_by))
        }
        (_, Some(f), _, Some(Side::Client)) => (f, "FIN from the client".to_string()),
        (_, _, Some(f), Some(Side::Server)) => (f, "FIN from the server".to_string()),
        _ => return None,
    };
    Some(Evidence::frame(
        frame,
        c.last_time,
        Some(c.tcp_stream),
        what,
    ))
}

/// The trust check of the chain `who` presented on `c`, when `--trust` was given.
pub fn chain_trust(c: &Connection, who: Side) -> Option<crate::trust::TrustResult> {
    c.tls.as_ref()?.chain_of(who)?.trust.as_deref().cloned()
}

/// `on port 5090 (SIP Phone OAuth port)`, or `on a port the log does not give` (port 0).
pub fn on_port(cx: &Cx<'_>, port: u16) -> String {
    if port == 0 {
        "on a port the log does not give".to_string()
    } else {
        format!("on port {port} ({})", cx.port_kind(port).label())
    }
}
