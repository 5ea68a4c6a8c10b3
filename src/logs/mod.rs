//! Logs as evidence: the Jabber client log (`jabber.log`), CUCM CallManager SDL traces and the
//! Expressway diagnostic log, read as streams of the SIP messages they print, each with its
//! direction, the addresses the log gives, a UTC time (and how it was derived) and its place
//! (`file:line`). The layouts are those of `docs/logs.md` in the shared material: real lines
//! from Cisco's documents and one real Expressway log.
//!
//! Each layout is a [`Layout`] in a file of its own, listed once in `layouts!`. A log's
//! message carries its line as its place (`crate::place::At::Line`): the source
//! (`crate::source::log`) gives it with the file's name, and every report cites it as
//! `file:line`.

pub mod expressway;
pub mod jabber;
pub mod sdl;

use std::io::BufRead;

use crate::net::{Endpoint, Transport};
use crate::time::Ts;

/// What a log's records print, as a layout reads them: each SIP message, each TLS handshake
/// the log says failed, each device configuration it printed.
pub trait LogSink {
    /// A SIP message the log printed.
    fn sip(&mut self, m: LogSip);
    /// A TLS handshake the log says failed.
    fn tls_failure(&mut self, _t: TlsFailure) {}
    /// A device configuration the log printed.
    fn config(&mut self, _c: LogConfig) {}
}

/// Reads and forgets (the fuzz targets, and the checks of a layout alone).
impl LogSink for () {
    fn sip(&mut self, _m: LogSip) {}
}

/// Keeps the SIP messages, in order (the checks of a layout alone).
impl LogSink for Vec<LogSip> {
    fn sip(&mut self, m: LogSip) {
        self.push(m);
    }
}

/// A log layout: how its records are recognized, dated and read. Each layout is a file of
/// this module implementing it, listed once in the `layouts!` invocation below.
pub trait Layout: Sync {
    /// How reports name the layout.
    fn name(&self) -> &'static str;
    /// Whether `line` is a record of this layout (the first lines of a file decide).
    fn recognizes(&self, line: &str) -> bool;
    /// The time of the first record in `text`, a file's first bytes (local for a log kept in
    /// local time): rotated files are read in this order whatever their names.
    fn first_time(&self, text: &str) -> Option<Ts>;
    /// Whether the log's clock offset to UTC is found only by looking through its files
    /// ([`Layout::clock`]) before they are read.
    fn dates_by_content(&self) -> bool {
        false
    }
    /// The offset of the log's clock to UTC, when only a look through a file tells it (looked
    /// for in each file, oldest first, before any is read).
    fn clock(&self, _input: &mut dyn BufRead) -> std::io::Result<Option<i64>> {
        Ok(None)
    }
    /// Reads one file of the log, its records in order, into `out`.
    fn read(
        &self,
        input: &mut dyn BufRead,
        clock: Option<i64>,
        stats: &mut LogStats,
        out: &mut dyn LogSink,
    ) -> std::io::Result<()>;
}

/// Declares [`LogKind`], one variant per layout, in the order that recognizes them.
macro_rules! layouts {
    ($($(#[$doc:meta])* $kind:ident => $layout:expr,)*) => {
        /// The log layouts recognized.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum LogKind {
            $($(#[$doc])* $kind,)*
        }

        impl LogKind {
            /// Every layout, in the order their records are looked for.
            pub const ALL: &'static [LogKind] = &[$(LogKind::$kind,)*];

            /// How the layout is read.
            pub fn layout(self) -> &'static dyn Layout {
                match self {
                    $(LogKind::$kind => &$layout,)*
                }
            }
        }
    };
}

layouts! {
    /// Jabber / Webex client log (`jabber.log`, rotated `jabber.log.1` …).
    Jabber => jabber::Jabber,
    /// CUCM CallManager SDL trace (`SDL001_100_000123.txt[.gz]`).
    Sdl => sdl::Sdl,
    /// Expressway (or VCS) diagnostic log.
    Expressway => expressway::Expressway,
}

impl LogKind {
    /// How reports name the layout.
    pub fn name(self) -> &'static str {
        self.layout().name()
    }
}

/// The layout of a text whose first bytes are `head`, if it is one of the logs known.
pub fn kind_of(head: &[u8]) -> Option<LogKind> {
    let text = String::from_utf8_lossy(head);
    let text = text.trim_start_matches('\u{feff}');
    // The first lines that are not blank decide (a log cut by rotation may start inside a
    // record: several lines are looked at).
    for line in text.lines().filter(|l| !l.trim().is_empty()).take(40) {
        if let Some(k) = LogKind::ALL.iter().find(|k| k.layout().recognizes(line)) {
            return Some(*k);
        }
    }
    None
}

/// When a log starts (its first record's time, local for a Jabber log), from its first
/// bytes: rotated files are read in this order whatever their names.
pub fn first_time(kind: LogKind, head: &[u8]) -> Option<Ts> {
    let text = String::from_utf8_lossy(head);
    kind.layout()
        .first_time(text.trim_start_matches('\u{feff}'))
}

/// Who sent a message the log printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// The logging party sent it.
    Sent,
    /// The logging party received it.
    Received,
}

/// One SIP message a log printed.
#[derive(Clone, Debug)]
pub struct LogSip {
    /// Line of the record (from 1).
    pub line: u64,
    /// UTC time.
    pub time: Ts,
    /// Sent or received by the party that logged it.
    pub direction: Direction,
    /// The logging party's address, when the log gives it.
    pub local: Option<Endpoint>,
    /// The other party's address, when the log gives it.
    pub peer: Option<Endpoint>,
    /// Transport, when the log gives it (else from the top Via).
    pub transport: Option<Transport>,
    /// The message: start line, headers and body, lines ending in CRLF.
    pub text: Vec<u8>,
}

/// A device configuration a log printed (Jabber's `Device Config:` XML, the same document as
/// the device configuration file).
#[derive(Clone, Debug)]
pub struct LogConfig {
    /// Line of the record.
    pub line: u64,
    /// UTC time.
    pub time: Ts,
    /// The device it configures, when the log names it (the next REGISTER's device name).
    pub device: Option<String>,
    /// The client's address, when known.
    pub client: Option<std::net::IpAddr>,
    /// The XML.
    pub xml: String,
}

/// A TLS handshake a log says failed (Expressway's `TLS Negotiation Error`).
#[derive(Clone, Debug)]
pub struct TlsFailure {
    /// Line of the record.
    pub line: u64,
    /// UTC time.
    pub time: Ts,
    /// The TLS client (for an outbound error, the logging Expressway).
    pub client: Endpoint,
    /// The TLS server.
    pub server: Endpoint,
    /// Who sent the alert that ended it: the client when the logging party rejected the
    /// other's certificate (outbound: Expressway rejected CUCM's), the server when the log
    /// says the remote alerted.
    pub alert_by_client: bool,
    /// The alert: `unknown_ca`, `bad_certificate`, `certificate_unknown`, …, when the
    /// detail names one.
    pub alert: Option<(u8, &'static str)>,
    /// The log's detail, as written.
    pub detail: String,
    /// The certificate name the log gives (`Common-name=`), as written.
    pub common_name: Option<String>,
}

/// The TLS alert a failure detail (OpenSSL's words) stands for, and whether it was received
/// from the peer (`… alert unknown ca`) rather than decided locally.
pub fn alert_of_detail(detail: &str) -> Option<(u8, &'static str, bool)> {
    let d = detail.to_ascii_lowercase();
    let remote = d.contains("alert ");
    let table: [(&str, u8, &'static str); 8] = [
        ("unknown ca", 48, "unknown_ca"),
        ("unable to get local issuer certificate", 48, "unknown_ca"),
        ("unable to get issuer certificate", 48, "unknown_ca"),
        ("self signed certificate", 48, "unknown_ca"),
        ("self-signed certificate", 48, "unknown_ca"),
        ("certificate unknown", 46, "certificate_unknown"),
        ("bad certificate", 42, "bad_certificate"),
        ("certificate has expired", 45, "certificate_expired"),
    ];
    table
        .iter()
        .find(|(w, _, _)| d.contains(w))
        .map(|(_, code, name)| (*code, *name, remote))
}

/// What reading a log showed besides its SIP.
#[derive(Clone, Debug, Default)]
pub struct LogStats {
    /// Records read (a record is a line of the layout with its continuation lines).
    pub records: u64,
    /// Lines of other products or modules, skipped.
    pub skipped: u64,
    /// SIP messages read.
    pub sip: u64,
    /// The same message logged twice (Expressway's summary and copy), counted once.
    pub duplicates: u64,
    /// TLS handshakes the log says failed on a certificate.
    pub tls_failures: u64,
    /// The file being read (its index in the log's files, oldest first).
    pub file: usize,
    /// Connection and TLS events the log states that no rule judges (a socket error, a close
    /// with its reason, a peer's certificate): (file, line, what), the first [`MAX_EVENTS`].
    pub events: Vec<(usize, u64, String)>,
    /// Events past [`MAX_EVENTS`].
    pub more_events: u64,
    /// How the times were made UTC.
    pub clock: String,
    /// Notes: a record cut at the end, binary junk, a time zone guessed.
    pub notes: Vec<crate::note::Note>,
    /// First and last time.
    pub first: Option<Ts>,
    /// Last time.
    pub last: Option<Ts>,
}

/// Connection events listed per log at most.
pub const MAX_EVENTS: usize = 50;

impl LogStats {
    /// An event the log states at `line` of the current file.
    pub fn event(&mut self, line: u64, what: String) {
        if self.events.len() < MAX_EVENTS {
            self.events.push((self.file, line, what));
        } else {
            self.more_events += 1;
        }
    }

    /// A SIP message at `time` was read.
    pub fn seen(&mut self, time: Ts) {
        self.sip += 1;
        self.first.get_or_insert(time);
        self.last = Some(time);
    }
}

/// A record of a log: its first line's number and its lines, at most [`MAX_RECORD`] bytes.
pub(crate) struct Record {
    pub line: u64,
    pub lines: Vec<String>,
    pub bytes: usize,
    pub cut: bool,
    /// The file's last record (rotation may have cut it).
    pub last: bool,
}

/// A record's bytes at most (a SIP message with a large body fits; past it, lines are dropped
/// and the record is marked cut).
pub const MAX_RECORD: usize = 256 * 1024;

/// Reads `input` line by line into records: a line for which `starts` is true begins one,
/// every other line continues the record above. Lines are decoded leniently (binary junk
/// becomes U+FFFD and never stops the reading). Memory is one record at a time. `on` returns
/// whether to go on.
pub(crate) fn records(
    input: &mut dyn BufRead,
    starts: &dyn Fn(&str) -> bool,
    stats: &mut LogStats,
    on: &mut dyn FnMut(Record, &mut LogStats) -> bool,
) -> std::io::Result<()> {
    let mut buf = Vec::new();
    let mut n = 0u64;
    let mut current: Option<Record> = None;
    let mut junk = 0u64;
    loop {
        buf.clear();
        // Lines are read whole but kept only up to the record limit.
        if input.read_until(b'\n', &mut buf)? == 0 {
            break;
        }
        n += 1;
        let mut line = String::from_utf8_lossy(&buf).into_owned();
        if line.contains('\u{fffd}') || line.contains('\0') {
            junk += 1;
            line = line.replace('\0', "");
        }
        while line.ends_with('\n') || line.ends_with('\r') {
            line.pop();
        }
        if n == 1 {
            line = line.trim_start_matches('\u{feff}').to_string();
        }
        if starts(&line) {
            if let Some(r) = current.take() {
                stats.records += 1;
                if !on(r, stats) {
                    return Ok(());
                }
            }
            current = Some(Record {
                line: n,
                bytes: line.len(),
                lines: vec![line],
                cut: false,
                last: false,
            });
        } else if let Some(r) = current.as_mut() {
            if r.bytes + line.len() <= MAX_RECORD {
                r.bytes += line.len();
                r.lines.push(line);
            } else {
                r.cut = true;
            }
        } else if !line.trim().is_empty() {
            // Lines before the first record (a file cut by rotation).
            stats.skipped += 1;
        }
    }
    if let Some(mut r) = current.take() {
        stats.records += 1;
        r.last = true;
        on(r, stats);
    }
    if junk > 0 {
        stats
            .notes
            .push(crate::note::Note::LogNotText { lines: junk });
    }
    Ok(())
}

/// Whether a SIP message a record printed is whole: it has its Content-Length header (every
/// message the clients and CUCM print ends its headers with one). The last record of a file
/// without it was cut by rotation.
pub(crate) fn looks_whole(lines: &[&str]) -> bool {
    lines.iter().any(|l| {
        l.split_once(':').is_some_and(|(n, _)| {
            let n = n.trim();
            n.eq_ignore_ascii_case("content-length") || n == "l"
        })
    })
}

/// The transport of a message from its top Via (`SIP/2.0/TLS host`).
pub fn via_transport(text: &[u8]) -> Option<Transport> {
    let t = String::from_utf8_lossy(text);
    let via = t.lines().find_map(|l| {
        let (n, v) = l.split_once(':')?;
        let n = n.trim();
        (n.eq_ignore_ascii_case("via") || n == "v").then_some(v.trim())
    })?;
    let proto = via.split_whitespace().next()?.rsplit('/').next()?;
    Some(match proto.to_ascii_uppercase().as_str() {
        "UDP" => Transport::Udp,
        "TCP" => Transport::Tcp,
        "TLS" => Transport::Tls,
        _ => return None,
    })
}

/// Message lines joined with CRLF; headers end with an empty line, the body follows.
pub(crate) fn sip_text(lines: &[&str]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut in_body = false;
    for l in lines {
        if !in_body && l.trim().is_empty() {
            in_body = true;
            out.extend_from_slice(b"\r\n");
            continue;
        }
        out.extend_from_slice(l.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if !in_body {
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
pub(crate) fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `YYYY-MM-DD HH:MM:SS[,.]mmm` (or with `T`, or `/` in the date) as a time, taken as UTC.
pub(crate) fn parse_datetime(s: &str) -> Option<Ts> {
    let s = s.trim();
    let b = s.as_bytes();
    if b.len() < 19 {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> { s.get(r)?.parse().ok() };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, se) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let frac = match b.get(19) {
        Some(b',' | b'.') => {
            let digits: String = s[20..].chars().take_while(char::is_ascii_digit).collect();
            let n: i64 = digits.get(..9.min(digits.len()))?.parse().unwrap_or(0);
            n * 10i64.pow(9 - digits.len().min(9) as u32)
        }
        _ => 0,
    };
    let days = days_from_civil(y, mo as u32, d as u32);
    Ts::checked_from(days, h * 3600 + mi * 60 + se, frac)
}

/// `10.1.1.1:5090` (or `[v6]:port`) as an endpoint.
pub(crate) fn endpoint(s: &str) -> Option<Endpoint> {
    let s = s.trim().trim_end_matches('.');
    let (ip, port) = s.rsplit_once(':')?;
    let ip = ip.trim_start_matches('[').trim_end_matches(']');
    Some(Endpoint {
        ip: ip.parse().ok()?,
        port: port.trim().parse().ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_times_read_as_utc() {
        assert_eq!(
            parse_datetime("2020-03-30 11:03:19,310").map(|t| t.rfc3339()),
            Some("2020-03-30T11:03:19.310000Z".into())
        );
        assert_eq!(
            parse_datetime("2018-01-01 17:56:48,965").map(|t| t.rfc3339()),
            Some("2018-01-01T17:56:48.965000Z".into())
        );
        assert_eq!(parse_datetime("2018-13-01 17:56:48"), None);
    }
}
