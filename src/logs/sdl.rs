//! CUCM CallManager SDL traces: `<8 digits>.<3 digits> |HH:MM:SS.mmm |Type |text`. The
//! `FileHead` record (first line of each file) gives the date and the UTC offset; lines carry
//! the time of day only, and the date rolls over when the time wraps past midnight. SIP follows
//! `Incoming/Outgoing SIP TCP|UDP message …` after a `[n,NET]` line. SIP over TLS is logged
//! as TCP. The node's own port is not printed.

use std::io::BufRead;

use super::{Direction, LogSip, LogStats, Record};
use crate::net::{Endpoint, Transport};
use crate::note::Note;
use crate::time::Ts;

/// The counter, time of day (ns since midnight), type and text of a record's first line.
pub fn record(line: &str) -> Option<(i64, &str, &str)> {
    let b = line.as_bytes();
    if b.len() < 26 || !b[..8].iter().all(u8::is_ascii_digit) || b[8] != b'.' {
        return None;
    }
    let rest = line[9..].trim_start_matches(|c: char| c.is_ascii_digit());
    let rest = rest.trim_start().strip_prefix('|')?;
    let (time, rest) = rest.split_once('|')?;
    let time = time.trim();
    let num = |r: std::ops::Range<usize>| -> Option<i64> { time.get(r)?.parse().ok() };
    let (h, m, s, ms) = (num(0..2)?, num(3..5)?, num(6..8)?, num(9..12)?);
    let tod = ((h * 60 + m) * 60 + s) * 1_000_000_000 + ms * 1_000_000;
    let (kind, text) = rest.split_once('|').unwrap_or((rest, ""));
    Some((tod, kind.trim(), text))
}

/// `UTC:-05:00,Date: 2024/08/12, …, HostIPAddress: 10.207.166.103, …`: (offset ns, day
/// number, the node's address).
pub(crate) fn file_head(text: &str) -> (Option<i64>, Option<i64>, Option<std::net::IpAddr>) {
    let value = |key: &str| {
        text.split(',')
            .find_map(|p| p.trim().strip_prefix(key).map(|v| v.trim().to_string()))
    };
    let offset = value("UTC:").and_then(|v| {
        let neg = v.starts_with('-');
        let v = v.trim_start_matches(['-', '+']);
        let (h, m) = v.split_once(':')?;
        let (h, m) = (h.parse::<i64>().ok()?, m.parse::<i64>().ok()?);
        // A zone is at most 14 hours from UTC: anything else is not an offset.
        if !(0..=14).contains(&h) || !(0..60).contains(&m) {
            return None;
        }
        let ns = (h * 60 + m) * 60_000_000_000;
        Some(if neg { -ns } else { ns })
    });
    let day = value("Date:").and_then(|d| {
        let mut p = d.split('/');
        let (y, m, dd): (i64, u32, u32) = (
            p.next()?.parse().ok()?,
            p.next()?.parse().ok()?,
            p.next()?.parse().ok()?,
        );
        // A calendar date, or none (a year of 20 digits would overflow the day count).
        let valid = (1..=9999).contains(&y) && (1..=12).contains(&m) && (1..=31).contains(&dd);
        valid.then(|| super::days_from_civil(y, m, dd))
    });
    let host = value("HostIPAddress:").and_then(|h| h.parse().ok());
    (offset, day, host)
}

/// What an AppInfo line says of a SIP message that follows: direction, peer, transport.
fn sip_line(text: &str) -> Option<(Direction, Endpoint, Transport)> {
    let udp = text.contains("SIP UDP message");
    let tcp = text.contains("SIP TCP message");
    if !udp && !tcp {
        return None;
    }
    let direction = if text.contains("Incoming SIP") {
        Direction::Received
    } else if text.contains("Outgoing SIP") {
        Direction::Sent
    } else {
        return None;
    };
    let after = |w: &str| text.split(w).nth(1).map(str::trim);
    let peer = if tcp {
        // "from 10.24.241.238 on port 53536 index 800" / "to 10.24.241.238 on port 53443"
        let who = after(if direction == Direction::Received {
            " from "
        } else {
            " to "
        })?;
        let ip = who.split_whitespace().next()?;
        let port = after(" on port ")?.split_whitespace().next()?;
        Endpoint {
            ip: ip.parse().ok()?,
            port: port.parse().ok()?,
        }
    } else {
        // "from 10.106.97.143:[49193]:" / "to 10.48.32.170:[5060]:"
        let who = after(if direction == Direction::Received {
            " from "
        } else {
            " to "
        })?;
        let who = who.trim_end_matches(':');
        let (ip, port) = who.split_once(":[")?;
        Endpoint {
            ip: ip.parse().ok()?,
            port: port.trim_end_matches(']').parse().ok()?,
        }
    };
    Some((
        direction,
        peer,
        if udp { Transport::Udp } else { Transport::Tcp },
    ))
}

/// Reads one SDL trace file.
pub fn read(
    input: &mut dyn BufRead,
    stats: &mut LogStats,
    out: &mut dyn super::LogSink,
) -> std::io::Result<()> {
    let mut offset: Option<i64> = None;
    let mut day: Option<i64> = None;
    let mut host: Option<std::net::IpAddr> = None;
    let mut last_tod: Option<i64> = None;
    let mut rollovers = 0i64;
    let mut each = |r: Record, stats: &mut LogStats| {
        let Some((tod, kind, text)) = record(&r.lines[0]) else {
            return;
        };
        if kind == "FileHead" {
            let (o, d, h) = file_head(text);
            offset = o.or(offset);
            day = d.or(day);
            host = h.or(host);
            rollovers = 0;
            last_tod = Some(tod);
            stats.clock = format!(
                "time of day of the node, with the date and UTC offset of its FileHead ({})",
                text.split(',').take(2).collect::<Vec<_>>().join(",").trim()
            );
            return;
        }
        // Midnight: the time of day went back by more than half a day.
        if last_tod.is_some_and(|l| l - tod > 43_200_000_000_000) {
            rollovers += 1;
        }
        last_tod = Some(tod);
        // CUCM states the certificate a TLS peer presented (Expressway-C's on 5091).
        if text.contains("SIPCertificateInd") {
            let after = |w: &str| {
                text.split(w).nth(1).map(|v| {
                    v.trim()
                        .split(" --")
                        .next()
                        .unwrap_or("")
                        .trim()
                        .to_string()
                })
            };
            if let (Some(ip), Some(port), Some(subject)) = (
                after("--remoteIP="),
                after("--remotePort ="),
                after("X509SubjectName"),
            ) {
                stats.event(
                    r.line,
                    format!(
                        "CUCM accepted the certificate {ip}:{port} presented: {subject}{}",
                        after("--SubjectAltname =")
                            .filter(|s| !s.is_empty())
                            .map_or(String::new(), |s| format!(" (SAN {s})"))
                    ),
                );
            }
            return;
        }
        let Some((direction, peer, transport)) = sip_line(text) else {
            stats.skipped += 1;
            return;
        };
        let mut lines: Vec<&str> = Vec::new();
        for l in &r.lines[1..] {
            if lines.is_empty()
                && (l.trim().is_empty() || (l.starts_with('[') && l.ends_with(",NET]")))
            {
                continue;
            }
            lines.push(l.as_str());
        }
        if lines.is_empty() {
            return;
        }
        if r.last && !super::looks_whole(&lines) {
            stats.notes.push(Note::LogLastRecordCut {
                line: r.line,
                what: "trace",
            });
            return;
        }
        let Some(d) = day else {
            stats.notes.push(Note::LogNoFileHead { line: r.line });
            return;
        };
        let Some(time) = d
            .checked_add(rollovers)
            .and_then(|day| Ts::checked_from(day, 0, tod))
            .and_then(|local| local.checked_sub_ns(offset.unwrap_or(0)))
        else {
            stats.notes.push(Note::LogOutOfRange { line: r.line });
            return;
        };
        stats.seen(time);
        out.sip(LogSip {
            line: r.line,
            time,
            direction,
            local: host.map(|ip| Endpoint { ip, port: 0 }),
            peer: Some(peer),
            transport: Some(transport),
            text: super::sip_text(&lines),
        });
    };
    super::records(input, &|l| record(l).is_some(), stats, &mut |r, s| {
        each(r, s);
        true
    })
}

/// The CUCM CallManager SDL trace's layout.
pub struct Sdl;

impl super::Layout for Sdl {
    fn name(&self) -> &'static str {
        "CUCM SDL trace"
    }
    fn recognizes(&self, line: &str) -> bool {
        record(line).is_some()
    }
    fn first_time(&self, text: &str) -> Option<Ts> {
        text.lines().find_map(|l| {
            let (tod, _, rest) = record(l).filter(|r| r.1 == "FileHead")?;
            let (_, day, _) = file_head(rest);
            Ts::checked_from(day?, 0, tod)
        })
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

    const SDL: &str = "28131994.000 |21:53:46.259 |FileHead |UTC:-05:00,Date: 2024/08/12, AppName: CCM, HostName: pub, HostIPAddress: 10.207.166.103, FileNumber: 1262, TraceVer: 3.0
00222499.002 |23:59:59.831 |AppInfo  |SIPTcp - wait_SdlReadRsp: Incoming SIP TCP message from 10.24.241.238 on port 53536 index 800 with 1456 bytes:
[9957,NET]
REGISTER sip:10.207.166.103 SIP/2.0
Via: SIP/2.0/TLS 10.24.241.238:53536;branch=z9hG4bK000023a3
CSeq: 101 REGISTER
Content-Length: 0

00222572.001 |00:00:00.836 |AppInfo |SIPTcp - wait_SdlSPISignal: Outgoing SIP TCP message to 10.24.241.238 on port 53536 index 795 
[9959,NET]
SIP/2.0 100 Trying
00802148.002 |00:00:01.297 |AppInfo  |//SIP/SIPUdp/wait_SdlDataInd: Incoming SIP UDP message size 539 from 10.106.97.143:[49193]:
";

    #[test]
    fn the_certificate_a_peer_presented_is_an_event() {
        let sdl = "28131994.000 |21:53:46.259 |FileHead |UTC:-05:00,Date: 2024/08/12, HostIPAddress: 10.207.166.103, TraceVer: 3.0
04530218.000 |19:59:21.323 |SdlSig   | SIPCertificateInd |wait |SIPHandler(1,100,72,1) |SIPTcp(1,100,64,1) |1,100,17,11.3^*^* |[T:N-H:0,N:1,L:0,V:0,Z:0,D:0] connIdx= 12 --remoteIP= 10.106.95.200 --remotePort = 5061 -- X509SubjectName /C=IN/ST=cisco/L=cisco/O=cisco/OU=cisco/CN=CUCM10 --Cipher AES128-SHA --SubjectAltname =
";
        let mut stats = LogStats::default();
        read(&mut sdl.as_bytes(), &mut stats, &mut ()).expect("read");
        assert_eq!(
            stats.events,
            [(
                0,
                2,
                "CUCM accepted the certificate 10.106.95.200:5061 presented: /C=IN/ST=cisco/L=cisco/O=cisco/OU=cisco/CN=CUCM10".to_string()
            )]
        );
    }

    #[test]
    fn records_times_across_midnight_and_both_directions() {
        let mut stats = LogStats::default();
        let mut got = Vec::new();
        read(&mut SDL.as_bytes(), &mut stats, &mut got).expect("read");
        assert_eq!(got.len(), 2, "the UDP record has no message: {got:?}");
        assert_eq!(got[0].time.rfc3339(), "2024-08-13T04:59:59.831000Z");
        assert_eq!(
            got[1].time.rfc3339(),
            "2024-08-13T05:00:00.836000Z",
            "rolled over midnight"
        );
        assert_eq!(got[0].direction, Direction::Received);
        assert_eq!(got[1].direction, Direction::Sent);
        assert_eq!(
            got[0].peer.map(|p| p.to_string()).as_deref(),
            Some("10.24.241.238:53536")
        );
        assert_eq!(
            got[0].local.map(|p| p.ip.to_string()).as_deref(),
            Some("10.207.166.103")
        );
        assert!(String::from_utf8_lossy(&got[1].text).starts_with("SIP/2.0 100 Trying\r\n"));
        assert_eq!(
            sip_line(
                "//SIP/SIPUdp/wait_SdlSPISignal: Outgoing SIP UDP message to 10.48.32.170:[5060]:"
            )
            .map(|s| s.1.to_string()),
            Some("10.48.32.170:5060".into())
        );
    }
}
