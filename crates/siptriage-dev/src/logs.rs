//! Renders the SIP of a recorded capture into the three log layouts engineers collect, as the
//! shared `docs/logs.md` describes them: the Jabber client log (the client's view), a CUCM
//! SDL trace per node (CUCM's view) and an Expressway diagnostic log (the client side's
//! view, each message as an INFO summary and a DEBUG copy, with records of other modules
//! between). The SIP comes out of siptriage's own reading of the capture (decrypted with its
//! key log), with the headers the rules read; credentials are kept whole, as clients print
//! them.

use std::fmt::Write as _;
use std::net::IpAddr;

use siptriage::net::{Endpoint, Transport};
use siptriage::sip::SipMessage;
use siptriage::time::Ts;

type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// The logs of one capture.
#[derive(Debug, Default)]
pub struct Rendered {
    /// The Jabber log, when the capture's SIP is a client's over TCP or TLS.
    pub jabber: Option<String>,
    /// One SDL trace per CUCM node: `(node address, text)`.
    pub sdl: Vec<(IpAddr, String)>,
    /// The Expressway diagnostic log.
    pub expressway: String,
    /// The SIP messages rendered, in capture order.
    pub messages: usize,
    /// Failed TLS handshakes to CUCM's MRA OAuth port written into the Expressway log.
    pub tls_failures: usize,
}

/// How the logs' clocks differ from the capture's.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    /// Local time zone of the client and of CUCM, in minutes east of UTC.
    pub zone_minutes: i64,
    /// Every time moved by this much (to put a capture across midnight, say).
    pub shift_ns: i64,
}

impl Default for Clock {
    fn default() -> Self {
        Clock {
            zone_minutes: 120,
            shift_ns: 0,
        }
    }
}

/// What a capture holds that logs print: its SIP, its connections, its device configurations.
type Held = (
    Vec<SipMessage>,
    Vec<siptriage::session::Connection>,
    Vec<siptriage::session::HttpEntry>,
);

/// The SIP of a capture, as siptriage reads it (`keys`: its key log), its connections and the
/// device configuration files it carried.
pub fn sip_of(capture: &str, keys: Option<&str>) -> Res<Held> {
    let mut cfg = siptriage::config::Config::default();
    cfg.secrets.show = true;
    if let Some(k) = keys {
        cfg.secrets.keylog.add_text(k, &std::fs::read_to_string(k)?);
    }
    let facts = siptriage::analyze::facts_of(capture, &cfg)?;
    Ok((
        facts.sip_listing.into_sorted(),
        facts.connections,
        facts.http,
    ))
}

/// Expressway's words for a fatal certificate alert on its connection to CUCM's MRA OAuth
/// port: what it decided itself (it is the TLS client) or what it received.
fn negotiation_detail(code: u8, by_client: bool) -> Option<&'static str> {
    Some(match (code, by_client) {
        (48, true) => " unable to get local issuer certificate ",
        (48, false) => " sslv3 alert unknown ca ",
        (42, false) => " sslv3 alert bad certificate ",
        (46, false) => " sslv3 alert certificate unknown ",
        _ => return None,
    })
}

/// The message as a client or CUCM prints it: start line, the headers siptriage kept and those
/// it read into fields, `Content-Length: 0`.
pub fn text_of(m: &SipMessage, date: Option<Ts>) -> Vec<String> {
    let mut l = Vec::new();
    match m.status {
        Some(s) => l.push(format!("SIP/2.0 {s} {}", m.reason.as_deref().unwrap_or(""))),
        None => l.push(format!(
            "{} {} SIP/2.0",
            m.method,
            m.uri.as_deref().unwrap_or("sip:unknown")
        )),
    }
    for (n, v) in m.headers.iter().filter(|(n, _)| n == "Via") {
        l.push(format!("{n}: {v}"));
    }
    let to = m.to.as_deref().unwrap_or("sip:unknown");
    l.push(format!("From: <{to}>;tag=log"));
    l.push(format!("To: <{to}>"));
    if let Some(c) = &m.call_id {
        l.push(format!("Call-ID: {c}"));
    }
    if let Some(c) = m.cseq {
        l.push(format!("CSeq: {c} {}", m.method));
    }
    if let Some(d) = date {
        l.push(format!("Date: {}", http_date(d)));
    }
    for (n, v) in m.headers.iter().filter(|(n, _)| n != "Via") {
        l.push(format!("{n}: {v}"));
    }
    if let Some(e) = m.expires {
        if !m.headers.iter().any(|(n, _)| n == "Expires") {
            l.push(format!("Expires: {e}"));
        }
    }
    if let Some(r) = m.retry_after {
        l.push(format!("Retry-After: {r}"));
    }
    if let Some(u) = &m.user_agent {
        l.push(format!("User-Agent: {u}"));
    }
    if let Some(s) = &m.server {
        l.push(format!("Server: {s}"));
    }
    l.push("Content-Length: 0".into());
    l
}

fn civil(t: Ts) -> (i64, u32, u32, i64, i64, i64, i64) {
    let secs = t.0.div_euclid(1_000_000_000);
    let ms = t.0.rem_euclid(1_000_000_000) / 1_000_000;
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    // Civil date from days (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d, sod / 3600, sod / 60 % 60, sod % 60, ms)
}

fn http_date(t: Ts) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let (y, m, d, h, mi, s, _) = civil(t);
    let wd = DAYS[t.0.div_euclid(86_400_000_000_000).rem_euclid(7) as usize];
    format!(
        "{wd}, {d:02} {} {y} {h:02}:{mi:02}:{s:02} GMT",
        MONTHS[(m - 1) as usize]
    )
}

/// The server of a message: the receiver of a request, the sender of an answer.
fn server(m: &SipMessage) -> Endpoint {
    if m.status.is_none() {
        m.dst
    } else {
        m.src
    }
}

fn client(m: &SipMessage) -> Endpoint {
    if m.status.is_none() {
        m.src
    } else {
        m.dst
    }
}

/// Renders the SIP of `capture` into the three layouts.
pub fn render(capture: &str, keys: Option<&str>, clock: Clock) -> Res<Rendered> {
    let (sip, connections, http) = sip_of(capture, keys)?;
    let zone = clock.zone_minutes * 60_000_000_000;
    let local = |t: Ts| Ts(t.0 + clock.shift_ns + zone);
    let utc = |t: Ts| Ts(t.0 + clock.shift_ns);
    let mut out = Rendered {
        messages: sip.len(),
        ..Rendered::default()
    };
    // Jabber: the client's view, over TCP or TLS (the configuration files it fetched first).
    if !sip.is_empty() && sip.iter().all(|m| m.transport != Transport::Udp) {
        let mut j = String::new();
        // The device configuration the client fetched, printed as Jabber prints it.
        for h in &http {
            let Some(conf) = &h.config else { continue };
            let (y, mo, d, hh, mi, s, ms) = civil(local(h.time));
            let _ = writeln!(j, "{y}-{mo:02}-{d:02} {hh:02}:{mi:02}:{s:02},{ms:03} DEBUG [0x00002968] [ig\\ServicesManager.cpp(512)] [csf.ecc] [csf::ecc::ServicesManager::fetchDeviceConfig] - Device Config:");
            let _ = writeln!(
                j,
                "<?xml version=\"1.0\"?><device><devicePool><callManagerGroup><members>"
            );
            for (i, n) in conf.nodes.iter().enumerate() {
                let port = |tag: &str, v: Option<u16>| {
                    v.map_or(String::new(), |p| format!("<{tag}>{p}</{tag}>"))
                };
                let _ = writeln!(
                    j,
                    "<member priority=\"{i}\"><callManager><name>{}</name><ports>{}{}{}{}</ports></callManager></member>",
                    n.name,
                    port("sipPort", n.sip_port),
                    port("securedSipPort", n.secured_sip_port),
                    port("sipOAuthPort", n.sip_oauth_port),
                    port("sipMRAOAuthPort", n.sip_mra_oauth_port)
                );
            }
            let _ = writeln!(j, "</members></callManagerGroup></devicePool>");
            if let Some(m) = conf.sip_oauth_mode {
                let _ = writeln!(j, "<sipOAuthMode>{m}</sipOAuthMode>");
            }
            let _ = writeln!(j, "</device>");
        }
        // The nodes and OAuth ports of the configuration, as the client prints them.
        if let Some(first) = sip.first() {
            let (y, mo, d, h, mi, s, ms) = civil(local(first.time));
            let stamp = format!("{y}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02},{ms:03}");
            let node = server(first).ip;
            let oauth = http
                .iter()
                .filter_map(|h| h.config.as_ref())
                .flat_map(|c| c.nodes.iter())
                .find_map(|n| n.sip_oauth_port)
                .unwrap_or(5090);
            let _ = writeln!(j, "{stamp} INFO  [0x00002484] [\\core\\ccapp\\config\\config_parser.c(1491)] [csf.sip-call-control] [config_process_ccm_properties] - ccm0={node} ccm1=  ccm2= sip_oauth_port_0={oauth} sip_oauth_port_1={oauth} sip_oauth_port_2={oauth} length=0");
            let _ = writeln!(j, "{stamp} INFO  [0x00002484] [\\core\\ccapp\\config\\config_parser.c(1494)] [csf.sip-call-control] [config_process_ccm_properties] - sip_mar_oauth_port_0=5091 sip_mar_oauth_port_1=5091 sip_mar_oauth_port_2=5091");
        }
        let mut conns: Vec<Option<u64>> = Vec::new();
        for m in &sip {
            let (y, mo, d, h, mi, s, ms) = civil(local(m.time));
            let stamp = format!("{y}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02},{ms:03}");
            if !conns.contains(&m.tcp_stream) {
                conns.push(m.tcp_stream);
                let kind = if m.transport == Transport::Tls {
                    "TLS"
                } else {
                    "TCP"
                };
                let _ = writeln!(j, "{stamp} DEBUG [0x00000e2c] [sipstack\\sip_transport_connection.c(431)] [csf.sip-call-control] [sip_create_transport_connection] - [SIP][CONN][{}] create {kind} connection {}-----{}.", conns.len() - 1, client(m), server(m));
            }
            let sent = m.src == client(m);
            let arrow = if sent {
                "sipio-sent---> "
            } else {
                "sipio-recv<--- "
            };
            let lines = text_of(m, m.status.is_none().then(|| utc(m.time)));
            let _ = writeln!(j, "{stamp} DEBUG [0x00000e2c] [\\sipcc\\core\\sipstack\\ccsip_debug.c(1041)] [csf.sip-call-control] [platform_print_sip_msg] - {arrow}{}", lines[0]);
            for l in &lines[1..] {
                let _ = writeln!(j, "{l}");
            }
        }
        out.jabber = Some(j);
    }
    // SDL: one trace per node, CUCM's view; SIP over TLS is logged as TCP.
    let mut nodes: Vec<IpAddr> = Vec::new();
    for m in &sip {
        let n = server(m).ip;
        if !nodes.contains(&n) {
            nodes.push(n);
        }
    }
    for node in nodes {
        let mine: Vec<&SipMessage> = sip.iter().filter(|m| server(m).ip == node).collect();
        let Some(first) = mine.first() else { continue };
        let (y, mo, d, h, mi, s, ms) = civil(local(first.time));
        let sign = if clock.zone_minutes < 0 { '-' } else { '+' };
        let z = clock.zone_minutes.abs();
        let mut t = format!(
            "00000001.000 |{h:02}:{mi:02}:{s:02}.{ms:03} |FileHead |UTC:{sign}{:02}:{:02},Date: {y}/{mo:02}/{d:02}, AppName: CCM, AppId: 100, AppNodeId: 1, AppVersion: CUCM Install=14.0.1.11900-132, HostName: cucm-{node}, HostIPAddress: {node}, AppStartTime: {y}/{mo:02}/{d:02} 00:00:00, FileNumber: 1, TraceVer: 3.0\n",
            z / 60,
            z % 60
        );
        for (i, m) in mine.iter().enumerate() {
            let (_, _, _, h, mi, s, ms) = civil(local(m.time));
            let peer = client(m);
            let incoming = m.dst.ip == node;
            let lines = text_of(m, None);
            let len: usize = lines.iter().map(|l| l.len() + 2).sum::<usize>() + 2;
            let what = match (m.transport == Transport::Udp, incoming) {
                (false, true) => format!("SIPTcp - wait_SdlReadRsp: Incoming SIP TCP message from {} on port {} index {i} with {len} bytes:", peer.ip, peer.port),
                (false, false) => format!("SIPTcp - wait_SdlSPISignal: Outgoing SIP TCP message to {} on port {} index {i} ", peer.ip, peer.port),
                (true, true) => format!("//SIP/SIPUdp/wait_SdlDataInd: Incoming SIP UDP message size {len} from {}:[{}]:", peer.ip, peer.port),
                (true, false) => format!("//SIP/SIPUdp/wait_SdlSPISignal: Outgoing SIP UDP message to {}:[{}]:", peer.ip, peer.port),
            };
            let _ = writeln!(
                t,
                "{:08}.002 |{h:02}:{mi:02}:{s:02}.{ms:03} |AppInfo  |{what}",
                1000 + i
            );
            let _ = writeln!(t, "[{},NET]", 9000 + i);
            for l in &lines {
                let _ = writeln!(t, "{l}");
            }
            let _ = writeln!(t);
            let _ = writeln!(t, "{:08}.003 |{h:02}:{mi:02}:{s:02}.{ms:03} |SdlSig   |SIPNotifyInd |wait |SIPHandler(1,100,72,1) |SIPTcp(1,100,64,1) |1,100,17,11.3^*^* |[T:N-H:0,N:1,L:0,V:0,Z:0,D:0]", 1000 + i);
        }
        out.sdl.push((node, t));
    }
    // Expressway: the client side's view, INFO summary then DEBUG copy, noise between.
    let mut e = String::new();
    for (i, m) in sip.iter().enumerate() {
        let (y, mo, d, h, mi, s, ms) = civil(local(m.time));
        let (uy, umo, ud, uh, umi, us, ums) = civil(utc(m.time));
        let sign = if clock.zone_minutes < 0 { '-' } else { '+' };
        let z = clock.zone_minutes.abs();
        let iso = format!(
            "{y}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{ms:03}{sign}{:02}:{:02}",
            z / 60,
            z % 60
        );
        let utct = format!("{uy}-{umo:02}-{ud:02} {uh:02}:{umi:02}:{us:02},{ums:03}");
        let me = client(m);
        let received = m.dst == me;
        let (action, other) = if received {
            (
                "Received",
                format!("Src-ip=\"{}\" Src-port=\"{}\"", m.src.ip, m.src.port),
            )
        } else {
            (
                "Sent",
                format!("Dst-ip=\"{}\" Dst-port=\"{}\"", m.dst.ip, m.dst.port),
            )
        };
        let hash = 14_340_233_468_942_773_735u64.wrapping_add(i as u64 * 7919);
        let _ = writeln!(e, "{iso} expc1 tvcs: UTCTime=\"{utct}\" Module=\"network.sip\" Level=\"INFO\":  Action=\"{action}\" Local-ip=\"{}\" Local-port=\"{}\" {other} Detail=\"{} Method={}, CSeq={}, Call-ID={}, Msg-Hash={hash}\"", me.ip, me.port, if received { "Receive" } else { "Sent" }, m.method, m.cseq.unwrap_or(0), m.call_id.as_deref().unwrap_or(""));
        let _ = writeln!(e, "{iso} expc1 tvcs: UTCTime=\"{utct}\" Module=\"developer.sip.leg\" Level=\"DEBUG\" CodeLocation=\"ppcmains/sip/sipproxy/SipProxyLeg.cpp(1160)\" Method=\"SipProxyLeg::processMessage\" Thread=\"0x7f2b4e7fc700\":  this=\"0x55d5\" Type=\"Request\"");
        let _ = writeln!(e, "{iso} expc1 tvcs: UTCTime=\"{utct}\" Module=\"network.sip\" Level=\"DEBUG\":  Action=\"{action}\" Local-ip=\"{}\" Local-port=\"{}\" {other} Msg-Hash=\"{hash}\"", me.ip, me.port);
        let _ = writeln!(e, " SIPMSG:");
        let lines = text_of(m, None);
        let _ = writeln!(e, " |{}", lines[0]);
        for l in &lines[1..] {
            let _ = writeln!(e, " {l}");
        }
        let _ = writeln!(e, " ");
        let _ = writeln!(e, " |");
        let _ = writeln!(e);
    }
    // Expressway-C's failed handshakes to CUCM's MRA OAuth port, as TLS Negotiation Errors.
    for c in &connections {
        if c.server.port != 5091 {
            continue;
        }
        let Some(t) = &c.tls else { continue };
        for a in t.alerts.iter().filter(|a| a.level == Some(2)) {
            let by_client = a.sent_by == siptriage::net::Side::Client;
            let Some(detail) = a
                .code
                .and_then(|code| negotiation_detail(code.0, by_client))
            else {
                continue;
            };
            let (y, mo, d, h, mi, s, ms) = civil(local(a.time));
            let (uy, umo, ud, uh, umi, us, ums) = civil(utc(a.time));
            let sign = if clock.zone_minutes < 0 { '-' } else { '+' };
            let z = clock.zone_minutes.abs();
            let _ = writeln!(e, "{y}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{ms:03}{sign}{:02}:{:02} expc1 tvcs: Event=\" Outbound TLS Negotiation Error \" Service=\"SIP\" Src-ip=\"{}\" Src-port=\"{}\" Dst-ip=\"{}\" Dst-port=\" {} \" Detail=\"{detail}\" Protocol=\"TLS\" Common-name=\"cucm\" Level=\"1\" UTCTime=\"{uy}-{umo:02}-{ud:02} {uh:02}:{umi:02}:{us:02},{ums:03}\"", z / 60, z % 60, c.client.ip, c.client.port, c.server.ip, c.server.port);
            out.tls_failures += 1;
        }
    }
    out.expressway = e;
    Ok(out)
}
