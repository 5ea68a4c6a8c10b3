//! The Expressway (and VCS) diagnostic log: `<ISO time> <host> tvcs: Key="value" …`. A
//! `network.sip` DEBUG record carries the message after ` SIPMSG:`, between ` |start line`
//! and ` |`, every line with one leading space. The INFO summary of the same message (same
//! `Msg-Hash`) is counted once. `UTCTime` is the clock.

use std::collections::VecDeque;
use std::io::BufRead;

use super::{Direction, LogSip, LogStats, Record};
use crate::net::Endpoint;
use crate::note::Note;
use crate::time::Ts;

/// Whether `line` starts a record: an ISO 8601 time, a host, `tvcs:`.
pub fn is_record(line: &str) -> bool {
    let b = line.as_bytes();
    b.len() > 20
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[10] == b'T'
        && line.contains(" tvcs: ")
}

/// The value of `key="…"` in a record's first line, trimmed (values carry stray spaces).
pub fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let mut from = 0;
    while let Some(at) = line[from..].find(key) {
        let start = from + at;
        let before_ok = start == 0 || matches!(line.as_bytes()[start - 1], b' ' | b':');
        let rest = &line[start + key.len()..];
        if before_ok {
            if let Some(v) = rest.strip_prefix("=\"") {
                let end = v.find('"')?;
                return Some(v[..end].trim());
            }
        }
        from = start + key.len();
    }
    None
}

fn endpoint(line: &str, ip: &str, port: &str) -> Option<Endpoint> {
    Some(Endpoint {
        ip: field(line, ip)?.parse().ok()?,
        port: field(line, port)?.parse().ok()?,
    })
}

/// Msg-Hash values remembered to count a message's second copy once.
const RECENT_HASHES: usize = 4096;

/// A `TLS Negotiation Error` record as a failure, when it names a certificate problem.
fn tls_failure(r: &Record) -> Option<super::TlsFailure> {
    let head = &r.lines[0];
    let event = field(head, "Event")?;
    if !event.contains("TLS Negotiation Error") {
        return None;
    }
    let outbound = event.starts_with("Outbound");
    let detail = field(head, "Detail").unwrap_or("").to_string();
    let (code, name, remote) = super::alert_of_detail(&detail)?;
    let src = endpoint(head, "Src-ip", "Src-port")?;
    let dst = endpoint(head, "Dst-ip", "Dst-port")?;
    // Outbound: Expressway (Src) is the client. A remote alert came from the other side; a
    // verification error was Expressway's own refusal.
    let (client, server, by_client) = if outbound {
        (src, dst, !remote)
    } else {
        (src, dst, remote)
    };
    Some(super::TlsFailure {
        line: r.line,
        time: field(head, "UTCTime").and_then(super::parse_datetime)?,
        client,
        server,
        alert_by_client: by_client,
        alert: Some((code, name)),
        detail,
        common_name: field(head, "Common-name")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_string),
    })
}

/// Reads an Expressway diagnostic log: its SIP and its TLS failures, into `out`.
pub fn read(
    input: &mut dyn BufRead,
    stats: &mut LogStats,
    out: &mut dyn super::LogSink,
) -> std::io::Result<()> {
    stats.clock = "UTCTime of each record".into();
    let mut seen: VecDeque<String> = VecDeque::new();
    let mut each = |r: Record, stats: &mut LogStats| {
        let head = &r.lines[0];
        if let Some(t) = tls_failure(&r) {
            stats.tls_failures += 1;
            out.tls_failure(t);
            return;
        }
        if field(head, "Module") == Some("network.tcp") {
            if let (Some(d), Some(reason)) = (field(head, "Detail"), field(head, "Reason")) {
                stats.event(
                    r.line,
                    format!(
                        "{d}: {}:{} -> {}:{}, reason: {reason}",
                        field(head, "Src-ip").unwrap_or("?"),
                        field(head, "Src-port").unwrap_or("?"),
                        field(head, "Dst-ip").unwrap_or("?"),
                        field(head, "Dst-port").unwrap_or("?")
                    ),
                );
                return;
            }
        }
        if field(head, "Module") != Some("network.sip") {
            stats.skipped += 1;
            return;
        }
        // The copy has `Msg-Hash="…"`; the summary has it inside its Detail (`Msg-Hash=…,`).
        let hash = field(head, "Msg-Hash").map(str::to_string).or_else(|| {
            let at = head.find("Msg-Hash=")? + 9;
            let digits: String = head[at..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            (!digits.is_empty()).then_some(digits)
        });
        // The INFO summary and the DEBUG copy of one message share its hash: the second seen
        // is a duplicate.
        if let Some(h) = hash {
            if seen.contains(&h) {
                stats.duplicates += 1;
            } else {
                remember(&mut seen, h);
            }
        }
        // Only the copy carries the message.
        if r.lines.get(1).is_none_or(|l| l.trim() != "SIPMSG:") {
            return;
        }
        let Some(time) = field(head, "UTCTime").and_then(super::parse_datetime) else {
            stats.notes.push(Note::LogNoUtcTime { line: r.line });
            return;
        };
        let mut lines: Vec<&str> = Vec::new();
        let mut closed = false;
        for l in &r.lines[2..] {
            let l = l.strip_prefix(' ').unwrap_or(l);
            if lines.is_empty() {
                match l.strip_prefix('|') {
                    Some(start) => lines.push(start),
                    None => continue,
                }
                continue;
            }
            if l.trim_end() == "|" {
                closed = true;
                break;
            }
            lines.push(l);
        }
        if lines.is_empty() {
            return;
        }
        if !closed {
            stats.notes.push(Note::LogMessageUnclosed { line: r.line });
        }
        let action = field(head, "Action");
        let received = match action {
            Some(a) => a.eq_ignore_ascii_case("received"),
            None => field(head, "Src-ip").is_some(),
        };
        let local = endpoint(head, "Local-ip", "Local-port");
        let (direction, peer) = if received {
            (Direction::Received, endpoint(head, "Src-ip", "Src-port"))
        } else {
            (Direction::Sent, endpoint(head, "Dst-ip", "Dst-port"))
        };
        let text = super::sip_text(&lines);
        stats.seen(time);
        out.sip(LogSip {
            line: r.line,
            time,
            direction,
            local,
            peer,
            transport: super::via_transport(&text),
            text,
        });
    };
    super::records(input, &|l| is_record(l), stats, &mut |r, s| {
        each(r, s);
        true
    })
}

fn remember(seen: &mut VecDeque<String>, h: String) {
    if seen.len() >= RECENT_HASHES {
        seen.pop_front();
    }
    seen.push_back(h);
}

/// The Expressway (or VCS) diagnostic log's layout.
pub struct Expressway;

impl super::Layout for Expressway {
    fn name(&self) -> &'static str {
        "Expressway diagnostic log"
    }
    fn recognizes(&self, line: &str) -> bool {
        is_record(line)
    }
    fn first_time(&self, text: &str) -> Option<Ts> {
        text.lines()
            .filter(|l| is_record(l))
            .find_map(|l| field(l, "UTCTime").and_then(super::parse_datetime))
    }
    fn read(
        &self,
        input: &mut dyn BufRead,
        _clock: Option<i64>,
        stats: &mut LogStats,
        out: &mut dyn super::LogSink,
    ) -> std::io::Result<()> {
        read(input, stats, out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tcp_close_with_its_reason_is_an_event() {
        let log = r#"2015-05-07T07:34:01-04:00 XXXXXXXX tvcs: UTCTime="2015-05-07 11:34:01,081" Module="network.tcp" Level="DEBUG": Src-ip="10.50.47.16" Src-port="45215" Dst-ip="10.50.47.51" Dst-port="5061" Detail="TCP Connection Closed" Reason="no certificate returned"
"#;
        let mut stats = LogStats::default();
        read(&mut log.as_bytes(), &mut stats, &mut ()).expect("read");
        assert_eq!(
            stats.events,
            [(
                0,
                1,
                "TCP Connection Closed: 10.50.47.16:45215 -> 10.50.47.51:5061, reason: no certificate returned".to_string()
            )]
        );
    }

    #[test]
    fn fields_are_read_trimmed_and_only_whole_keys_match() {
        let l = r#"2017-06-13T13:31:38.760-05:00 vcse tvcs: Event=" Outbound TLS Negotiation Error " Src-ip="172.17.31.10" Dst-port=" 5062 " UTCTime="2017-06-13 18:31:38,758""#;
        assert!(is_record(l));
        assert_eq!(field(l, "Dst-port"), Some("5062"));
        assert_eq!(field(l, "Event"), Some("Outbound TLS Negotiation Error"));
        assert_eq!(field(l, "ip"), None);
        assert_eq!(field(l, "Src-ip"), Some("172.17.31.10"));
    }
}
