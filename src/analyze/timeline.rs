//! One timeline for captures and logs given together. A SIP message seen in a capture and in
//! a log (same Call-ID, CSeq, method, status and direction) is one message with two places;
//! each log's clock offset to the capture is estimated from such pairs (the median) and
//! reported. SIP a log saw on a connection the capture holds encrypted is attached to that
//! connection (its addresses and ports): the log's findings cite the capture's TLS handshake
//! frame too, the same finding from both is told once with both places, and the connection no
//! longer counts as SIP the run could not read.

use crate::note::Note;
use std::collections::HashMap;

use crate::diagnose::Evidence;
use crate::net::Endpoint;
use crate::report::{is_log, Report, Tally};

/// What identifies a message across sources (not the addresses: a log may not give them).
/// The status tells the direction too: a request (0) is the client's, an answer the server's.
type Key = (String, u32, String, u16);

fn key(m: &crate::sip::SipMessage) -> Option<Key> {
    Some((
        m.call_id.clone()?,
        m.cseq?,
        m.method.clone(),
        m.status.unwrap_or(0),
    ))
}

/// The unordered pair of endpoints of a message or connection.
fn ends(a: Endpoint, b: Endpoint) -> (Endpoint, Endpoint) {
    if (a.ip, a.port) <= (b.ip, b.port) {
        (a, b)
    } else {
        (b, a)
    }
}

/// Puts the captures and logs of `report` on one timeline (nothing to do unless both were
/// given). `tally` loses the encrypted connections whose SIP a log gave.
pub fn merge(report: &mut Report, tally: &mut Tally) {
    let logs: Vec<usize> = (0..report.captures.len())
        .filter(|&i| is_log(&report.captures[i]))
        .collect();
    let captures: Vec<usize> = (0..report.captures.len())
        .filter(|&i| !is_log(&report.captures[i]))
        .collect();
    if logs.is_empty() || captures.is_empty() {
        return;
    }
    // The capture's messages by key: (index in sip[], time).
    let mut in_capture: HashMap<Key, (usize, crate::time::Ts)> = HashMap::new();
    for (i, m) in report.sip.iter().enumerate() {
        if captures.contains(&m.capture) {
            if let Some(k) = key(m) {
                in_capture.entry(k).or_insert((i, m.time));
            }
        }
    }
    let mut notes = Vec::new();
    let mut drop_sip = Vec::new();
    let mut covered: Vec<(Endpoint, Endpoint)> = Vec::new();
    for &l in &logs {
        let name = report.captures[l].path.clone();
        let mut offsets = Vec::new();
        let mut places = Vec::new();
        for (i, m) in report.sip.iter().enumerate() {
            if m.capture != l {
                continue;
            }
            let unknown = m.src.port == 0 || m.dst.port == 0;
            if !unknown {
                let e = ends(m.src, m.dst);
                if !covered.contains(&e) {
                    covered.push(e);
                }
            }
            let Some(k) = key(m) else {
                continue;
            };
            if let Some(&(ci, t)) = in_capture.get(&k) {
                offsets.push(t.0 - m.time.0);
                // A log's message: its place is its line (`jabber.log:25`).
                places.push((ci, m.at.to_string()));
                drop_sip.push(i);
            }
        }
        for (ci, place) in places {
            report.sip[ci].also.get_or_insert(place);
        }
        if offsets.is_empty() {
            continue;
        }
        offsets.sort_unstable();
        let median = offsets[offsets.len() / 2];
        notes.push(Note::AlsoInCapture {
            log: name,
            messages: offsets.len(),
            seconds: (median as f64 / 1e9).abs(),
            behind: median >= 0,
        });
    }
    // One message, two places: the log's copy goes, the capture's names it.
    drop_sip.sort_unstable();
    for i in drop_sip.into_iter().rev() {
        report.sip.remove(i);
    }
    // Encrypted connections whose SIP a log gave.
    let mut read_through = Vec::new();
    for e in &report.connections {
        let c = &e.connection;
        let Some(t) = &c.tls else { continue };
        let opaque = t.decrypted_bytes == 0 && t.application_records.iter().sum::<u64>() > 0;
        let pair = ends(
            Endpoint {
                ip: c.client.ip,
                port: c.client.port,
            },
            Endpoint {
                ip: c.server.ip,
                port: c.server.port,
            },
        );
        if opaque && covered.contains(&pair) {
            read_through.push((
                e.capture,
                c.tcp_stream,
                pair,
                t.client_hello.as_ref().map_or(c.first_frame, |h| h.frame),
                c.first_time,
            ));
        }
    }
    if !read_through.is_empty() {
        tally.undecrypted = tally.undecrypted.saturating_sub(read_through.len() as u64);
        // A capture's "SIP encrypted, no key" note goes when the logs read all its connections.
        for &c in &captures {
            let path = report.captures[c].path.clone();
            let read = read_through.iter().filter(|r| r.0 == c).count();
            if let Some(t) = report.tallies.get_mut(c) {
                t.undecrypted = t.undecrypted.saturating_sub(read as u64);
            }
            report.notes.retain(|n| {
                let of_this = n.input().is_none_or(|i| i == path);
                let gone = matches!(n.inner(), Note::Undecrypted { connections } if *connections as usize <= read);
                !(of_this && gone)
            });
        }
        notes.push(Note::ReadThroughLogs {
            streams: read_through.iter().map(|r| r.1).collect(),
        });
    }
    // Findings: the same from a capture and a log is told once, with both places; a log's
    // finding on a connection the capture holds encrypted cites its handshake.
    let mut gone = Vec::new();
    for li in 0..report.findings.len() {
        if !logs.contains(&report.findings[li].capture) {
            continue;
        }
        let (id, server) = (report.findings[li].id, report.findings[li].server.clone());
        let twin = (0..report.findings.len()).find(|&ci| {
            let c = &report.findings[ci];
            captures.contains(&c.capture)
                && c.id == id
                && c.server.ip == server.ip
                && (c.server.port == server.port || server.port == 0)
        });
        match twin {
            Some(ci) => {
                let extra: Vec<Evidence> = report.findings[li].evidence.clone();
                let c = &mut report.findings[ci];
                for e in extra {
                    if !c.evidence.iter().any(|x| x.place == e.place) {
                        c.evidence.push(e);
                    }
                }
                gone.push(li);
            }
            None => {
                let f = &mut report.findings[li];
                let pair = ends(
                    Endpoint {
                        ip: f.client.ip,
                        port: f.client.port,
                    },
                    Endpoint {
                        ip: f.server.ip,
                        port: f.server.port,
                    },
                );
                if let Some(r) = read_through.iter().find(|r| r.2 == pair) {
                    f.evidence.insert(
                        0,
                        Evidence::frame(
                            r.3,
                            r.4,
                            Some(r.1),
                            format!(
                                "the TLS connection that carried this exchange, encrypted in {} (tcp.stream {})",
                                report.captures[r.0].path, r.1
                            ),
                        ),
                    );
                }
            }
        }
    }
    for i in gone.into_iter().rev() {
        report.findings.remove(i);
    }
    report.notes.extend(notes);
}
