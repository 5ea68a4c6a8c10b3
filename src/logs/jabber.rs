//! The Jabber / Webex client log: `YYYY-MM-DD HH:MM:SS,mmm LEVEL [thread] [source(line)]
//! [category] [function] - message`, local time without a zone. SIP messages follow
//! `sipio-sent---> ` or `sipio-recv<--- `, their headers on continuation lines; the peer is
//! the remote end of the last `create TLS connection local-----remote.` line. The offset to
//! UTC comes from the SIP `Date:` header (GMT) of the first message that has one.

use std::io::BufRead;

use super::{Direction, LogSip, LogStats, Record};
use crate::net::{Endpoint, Transport};
use crate::note::Note;
use crate::time::Ts;

/// The time (local, read as if UTC), function and message of a record's first line.
pub fn prefix(line: &str) -> Option<(Ts, &str, &str)> {
    let time = super::parse_datetime(line.get(..23)?)?;
    let rest = line.get(23..)?;
    if !rest.starts_with(' ') {
        return None;
    }
    let rest = rest.trim_start();
    let level_end = rest.find(|c: char| !c.is_ascii_alphabetic())?;
    if level_end == 0 {
        return None;
    }
    let mut rest = rest[level_end..].trim_start();
    let mut function = "";
    for _ in 0..4 {
        rest = rest.strip_prefix('[')?;
        let close = rest.find("] ").or_else(|| rest.find(']'))?;
        function = &rest[..close];
        rest = rest[close + 1..].trim_start();
    }
    let message = rest.strip_prefix("- ").or_else(|| rest.strip_prefix('-'))?;
    Some((time, function, message))
}

const SENT: &str = "sipio-sent---> ";
const RECV: &str = "sipio-recv<--- ";

/// `Date: Mon, 30 Mar 2020 11:03:19 GMT` as a time.
fn http_date(v: &str) -> Option<Ts> {
    let parts: Vec<&str> = v.split_whitespace().collect();
    let (d, m, y, t) = match parts.as_slice() {
        [_, d, m, y, t, ..] => (*d, *m, *y, *t),
        _ => return None,
    };
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let m = MONTHS
        .iter()
        .position(|x| m.to_ascii_lowercase().starts_with(x))?
        + 1;
    super::parse_datetime(&format!("{y}-{m:02}-{:02} {t}", d.parse::<u32>().ok()?))
}

/// The offset of the log's clock to UTC, from the first SIP message with a `Date:` header,
/// rounded to a quarter hour (time zones are).
pub fn offset(input: &mut dyn BufRead) -> std::io::Result<Option<i64>> {
    let mut stats = LogStats::default();
    let mut found = None;
    super::records(input, &|l| prefix(l).is_some(), &mut stats, &mut |r, _| {
        let Some((local, _, msg)) = prefix(&r.lines[0]) else {
            return true;
        };
        if !(msg.starts_with(SENT) || msg.starts_with(RECV)) {
            return true;
        }
        let date = r.lines[1..].iter().find_map(|l| {
            let (n, v) = l.trim_start().split_once(':')?;
            n.trim().eq_ignore_ascii_case("date").then_some(v.trim())
        });
        if let Some(utc) = date.and_then(http_date) {
            const QUARTER: i64 = 900_000_000_000;
            const FOURTEEN_HOURS: i64 = 14 * 3_600_000_000_000;
            // A zone is at most 14 hours from UTC; a Date header further off is no zone.
            if let Some(off) = local
                .0
                .checked_sub(utc.0)
                .filter(|o| o.abs() <= FOURTEEN_HOURS)
            {
                found = Some(((off as f64 / QUARTER as f64).round() as i64) * QUARTER);
                return false;
            }
        }
        true
    })?;
    Ok(found)
}

/// Reads a Jabber log into `out`; `offset_ns` (local minus UTC) from [`offset`], when one was
/// found. The device configurations it prints go to `out` too, each with the device named by
/// the next REGISTER the client sends.
pub fn read(
    input: &mut dyn BufRead,
    offset_ns: Option<i64>,
    stats: &mut LogStats,
    out: &mut dyn super::LogSink,
) -> std::io::Result<()> {
    let mut pending: Option<super::LogConfig> = None;
    let mut props: std::collections::BTreeMap<String, String> = Default::default();
    let mut mode: Option<u8> = None;
    let off = offset_ns.unwrap_or(0);
    stats.clock = match offset_ns {
        Some(o) => format!(
            "local time of the client, UTC{}{:02}:{:02} (from the SIP Date header)",
            if o >= 0 { '+' } else { '-' },
            o.unsigned_abs() / 3_600_000_000_000,
            o.unsigned_abs() / 60_000_000_000 % 60
        ),
        None => {
            stats.notes.push(Note::LogNoDate);
            "local time of the client, taken as UTC (no Date header to tell the zone)".into()
        }
    };
    // The connection the client made last: (local, remote, transport).
    let mut conn: Option<(Endpoint, Endpoint, Transport)> = None;
    let mut each = |r: Record, stats: &mut LogStats| {
        let Some((local, _function, msg)) = prefix(&r.lines[0]) else {
            return;
        };
        // `config_process_ccm_properties`: the nodes and their OAuth ports (note the spelling
        // `sip_mar_oauth_port_N`), and `setSipOauthMode`: the mode.
        if let Some(m) = msg.strip_prefix("sip OAuth Mode=") {
            mode = m.trim().parse().ok();
            return;
        }
        if msg.contains("sip_oauth_port_")
            || msg.contains("sip_mar_oauth_port_")
            || msg.starts_with("ccm0=")
        {
            for (k, v) in msg.split_whitespace().filter_map(|w| w.split_once('=')) {
                if !v.is_empty() && props.len() < 64 {
                    props.insert(k.to_string(), v.to_string());
                }
            }
            if msg.contains("sip_mar_oauth_port_") {
                let xml = properties_xml(&props, mode);
                out.config(super::LogConfig {
                    line: r.line,
                    time: local.checked_sub_ns(off).unwrap_or(local),
                    device: None,
                    client: conn.map(|c| c.0.ip),
                    xml,
                });
            }
            return;
        }
        if let Some(at) = msg.find("Device Config:") {
            let mut xml = msg[at + 14..].trim().to_string();
            for l in &r.lines[1..] {
                xml.push('\n');
                xml.push_str(l.trim());
            }
            if let Some(p) = pending.take() {
                out.config(p);
            }
            pending = Some(super::LogConfig {
                line: r.line,
                time: Ts(local.0 - off),
                device: None,
                client: conn.map(|c| c.0.ip),
                xml: xml.trim().to_string(),
            });
            return;
        }
        if msg.contains("socket(") && msg.contains("error") {
            stats.event(
                r.line,
                format!(
                    "the client's SIP connection{} had a socket error ({})",
                    conn.map_or(String::new(), |c| format!(" to {}", c.1)),
                    msg.trim()
                ),
            );
            return;
        }
        if let Some(reason) = msg.split("setting unreg reason to=").nth(1) {
            stats.event(
                r.line,
                format!(
                    "the client recorded why it unregistered: reason {} (Jabber's unregistration code)",
                    reason.trim()
                ),
            );
            return;
        }
        if let Some(at) = msg
            .find("create TLS connection ")
            .or_else(|| msg.find("create TCP connection "))
        {
            let tls = msg[at..].starts_with("create TLS");
            let rest = &msg[at + 22..];
            if let Some((l, rem)) = rest.split_once("-----") {
                if let (Some(l), Some(rem)) = (
                    super::endpoint(l),
                    super::endpoint(rem.trim_end_matches('.')),
                ) {
                    conn = Some((l, rem, if tls { Transport::Tls } else { Transport::Tcp }));
                }
            }
            return;
        }
        let (direction, start) = if let Some(s) = msg.strip_prefix(SENT) {
            (Direction::Sent, s)
        } else if let Some(s) = msg.strip_prefix(RECV) {
            (Direction::Received, s)
        } else {
            return;
        };
        if r.cut {
            stats.notes.push(Note::LogMessageCut { line: r.line });
        }
        let mut lines: Vec<&str> = vec![start.trim()];
        let mut body = false;
        for l in &r.lines[1..] {
            let t = l.trim_start();
            if t.is_empty() {
                continue;
            }
            // Headers are `Name: value`; the first line that is not one starts the body.
            if !body && !looks_like_header(t) {
                body = true;
                lines.push("");
            }
            lines.push(if body { l.as_str() } else { t });
        }
        if r.last && !super::looks_whole(&lines) {
            stats.notes.push(Note::LogLastRecordCut {
                line: r.line,
                what: "log",
            });
            return;
        }
        let Some(time) = local.checked_sub_ns(off) else {
            return;
        };
        stats.seen(time);
        // The configuration printed before names the device of the first REGISTER after it.
        if direction == Direction::Sent && start.starts_with("REGISTER ") {
            if let Some(mut p) = pending.take() {
                p.device = lines.iter().find_map(|l| {
                    let at = l.find("+u.sip!devicename.ccm.cisco.com=\"")? + 33;
                    let rest = &l[at..];
                    Some(rest[..rest.find('"')?].to_string())
                });
                p.client = p.client.or(conn.map(|c| c.0.ip));
                out.config(p);
            }
        }
        out.sip(LogSip {
            line: r.line,
            time,
            direction,
            local: conn.map(|c| c.0),
            peer: conn.map(|c| c.1),
            transport: conn.map(|c| c.2),
            text: super::sip_text(&lines),
        });
    };
    super::records(input, &|l| prefix(l).is_some(), stats, &mut |r, s| {
        each(r, s);
        true
    })?;
    if let Some(p) = pending.take() {
        out.config(p);
    }
    Ok(())
}

/// The nodes and OAuth ports `config_process_ccm_properties` printed, as the configuration
/// file would say them.
fn properties_xml(props: &std::collections::BTreeMap<String, String>, mode: Option<u8>) -> String {
    let mut xml = String::from("<device><devicePool><callManagerGroup><members>");
    for i in 0..8 {
        let Some(name) = props.get(&format!("ccm{i}")) else {
            continue;
        };
        let port = |tag: &str, key: String| {
            props
                .get(&key)
                .map_or(String::new(), |p| format!("<{tag}>{p}</{tag}>"))
        };
        xml.push_str(&format!(
            "<member priority=\"{i}\"><callManager><name>{name}</name><ports>{}{}</ports></callManager></member>",
            port("sipOAuthPort", format!("sip_oauth_port_{i}")),
            port("sipMRAOAuthPort", format!("sip_mar_oauth_port_{i}"))
        ));
    }
    xml.push_str("</members></callManagerGroup></devicePool>");
    if let Some(m) = mode {
        xml.push_str(&format!("<sipOAuthMode>{m}</sipOAuthMode>"));
    }
    xml.push_str("</device>");
    xml
}

fn looks_like_header(l: &str) -> bool {
    match l.split_once(':') {
        Some((name, _)) => {
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
        }
        None => false,
    }
}

/// The Jabber / Webex client log's layout.
pub struct Jabber;

impl super::Layout for Jabber {
    fn name(&self) -> &'static str {
        "Jabber log"
    }
    fn recognizes(&self, line: &str) -> bool {
        prefix(line).is_some()
    }
    fn first_time(&self, text: &str) -> Option<Ts> {
        text.lines().find_map(|l| prefix(l).map(|p| p.0))
    }
    fn dates_by_content(&self) -> bool {
        true
    }
    fn clock(&self, input: &mut dyn BufRead) -> std::io::Result<Option<i64>> {
        offset(input)
    }
    fn read(
        &self,
        input: &mut dyn BufRead,
        clock: Option<i64>,
        stats: &mut LogStats,
        out: &mut dyn super::LogSink,
    ) -> std::io::Result<()> {
        read(input, clock, stats, out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = "2020-03-30 13:03:18,528 DEBUG [0x00000e2c] [sipstack\\sip_transport_connection.c(431)] [csf.sip-call-control] [sip_create_transport_connection] - [SIP][CONN][0] create TLS connection 10.10.10.10:5061-----10.10.10.1:5090.
2020-03-30 13:03:19,310 DEBUG [0x00000e2c] [\\sipcc\\core\\sipstack\\ccsip_debug.c(1041)] [csf.sip-call-control] [platform_print_sip_msg] - sipio-sent---> REGISTER sip:10.10.10.1 SIP/2.0
Via: SIP/2.0/TLS 10.10.10.10:62162;branch=z9hG4bK00004a82
From: <sip:1010@10.10.10.1>;tag=8823
CSeq: 2271 REGISTER
Date: Mon, 30 Mar 2020 11:03:19 GMT
Content-Length: 0
2020-03-30 13:03:19,013 INFO  [0x00002484] [\\core\\ccapp\\config\\config_parser.c(1491)] [csf.sip-call-control] [config_process_ccm_properties] - ccm0=10.10.10.1
";

    #[test]
    fn a_socket_error_is_an_event_naming_the_connection() {
        let log = format!(
            "{}2020-03-30 13:05:00,000 ERROR [0x00000e2c] [sipstack\\sip_transport_connection.c(900)] [csf.sip-call-control] [sip_transport_connection_on_socket_error] - [SIP][CONN][] socket(3912) error:-1\n",
            LOG.lines().next().map(|l| l.to_string() + "\n").unwrap_or_default()
        );
        let mut stats = LogStats::default();
        read(&mut log.as_bytes(), None, &mut stats, &mut ()).expect("read");
        assert_eq!(stats.events.len(), 1);
        assert_eq!(stats.events[0].1, 2);
        assert!(
            stats.events[0]
                .2
                .starts_with("the client's SIP connection to 10.10.10.1:5090 had a socket error"),
            "{:?}",
            stats.events
        );
    }

    #[test]
    fn the_prefix_and_a_sent_register_with_its_connection_and_zone() {
        let (t, f, m) = prefix("2020-03-30 13:03:19,013 INFO  [0x00002484] [\\core\\ccapp\\config\\config_parser.c(1491)] [csf.sip-call-control] [config_process_ccm_properties] - ccm0=10.10.10.1").expect("prefix");
        assert_eq!(t.rfc3339(), "2020-03-30T13:03:19.013000Z");
        assert_eq!(f, "config_process_ccm_properties");
        assert_eq!(m, "ccm0=10.10.10.1");
        assert!(prefix("Via: SIP/2.0/TLS 10.10.10.10:62162").is_none());
        let off = offset(&mut LOG.as_bytes()).expect("read");
        assert_eq!(off, Some(2 * 3_600_000_000_000));
        let mut stats = LogStats::default();
        let mut got = Vec::new();
        read(&mut LOG.as_bytes(), off, &mut stats, &mut got).expect("read");
        assert_eq!(got.len(), 1);
        let m = &got[0];
        assert_eq!(m.line, 2);
        assert_eq!(m.direction, Direction::Sent);
        assert_eq!(m.time.rfc3339(), "2020-03-30T11:03:19.310000Z");
        assert_eq!(
            m.peer.map(|p| p.to_string()).as_deref(),
            Some("10.10.10.1:5090")
        );
        assert_eq!(m.transport, Some(Transport::Tls));
        let text = String::from_utf8_lossy(&m.text);
        assert!(
            text.starts_with("REGISTER sip:10.10.10.1 SIP/2.0\r\nVia: SIP/2.0/TLS"),
            "{text}"
        );
        assert!(text.ends_with("Content-Length: 0\r\n\r\n"), "{text}");
        assert_eq!(stats.records, 3);
    }
}
