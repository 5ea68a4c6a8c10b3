//! Ladder diagrams: per TCP connection (and per UDP SIP conversation), the two endpoints with
//! their roles and every step between them in frame order: TCP open and close, TLS flights,
//! SIP messages. Steps that a finding cites are marked as failing.

use std::collections::BTreeSet;

use crate::net::Side;
use crate::report::Report;
use crate::time::Ts;

/// One arrow.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// Frame number.
    pub frame: u64,
    /// Capture time.
    pub time: Ts,
    /// From the left endpoint (the client) to the right one.
    pub to_right: bool,
    /// What travelled.
    pub label: String,
    /// A finding cites this frame.
    pub failing: bool,
    /// Where a log printed it (`jabber.log:25`), for a step a log gave: shown instead of the
    /// frame.
    pub place: Option<String>,
}

/// One diagram.
#[derive(Clone, Debug, PartialEq)]
pub struct Ladder {
    /// Capture index.
    pub capture: usize,
    /// `tcp.stream 3` or `UDP`.
    pub title: String,
    /// Left endpoint: role and address.
    pub left: (String, String),
    /// Right endpoint: role and address.
    pub right: (String, String),
    /// Arrows in frame order.
    pub rows: Vec<Row>,
}

/// Diagrams drawn per report at most.
pub const MAX_LADDERS: usize = 50;
/// Arrows per diagram at most.
pub const MAX_ROWS: usize = 80;

/// The log lines findings cite (`file:line`).
fn cited_lines(report: &Report) -> BTreeSet<String> {
    report
        .findings
        .iter()
        .flat_map(|f| f.evidence.iter())
        .filter(|e| e.place.is_line())
        .map(|e| e.place.to_string())
        .collect()
}

/// `jabber.log:25` for a message read from a log.
fn log_place(m: &crate::report::SipEntry) -> Option<String> {
    m.at.is_line().then(|| m.at.to_string())
}

/// What a SIP arrow says.
fn sip_label(m: &crate::report::SipEntry) -> String {
    match m.status {
        Some(code) => format!("SIP {code} {}", m.reason.as_deref().unwrap_or(""))
            .trim()
            .to_string(),
        None => format!("SIP {}", m.method),
    }
}

fn cited(report: &Report, capture: usize) -> BTreeSet<u64> {
    report
        .findings
        .iter()
        .filter(|f| f.capture == capture)
        .flat_map(|f| f.evidence.iter().filter_map(|e| e.place.frame()))
        .collect()
}

/// Builds the ladders worth drawing: connections that carried TLS or SIP or ran to a SIP port,
/// then UDP SIP conversations.
pub fn build(report: &Report) -> Vec<Ladder> {
    let mut out: Vec<Ladder> = report
        .connections
        .iter()
        .filter_map(|e| tcp_ladder(report, e))
        .collect();
    out.extend(udp_ladders(report));
    out.truncate(MAX_LADDERS);
    out
}

/// The ladder of one TCP connection that carries TLS or SIP (or uses a SIP port).
fn tcp_ladder(report: &Report, e: &crate::report::ConnectionEntry) -> Option<Ladder> {
    let c = &e.connection;
    let interesting = c.tls.is_some() || c.sip_messages > 0 || c.port_kind.is_sip();
    if !interesting {
        return None;
    }
    let bad = cited(report, e.capture);
    let mut rows = Vec::new();
    let push = |rows: &mut Vec<Row>, frame: u64, time: Ts, to_right: bool, label: String| {
        rows.push(Row {
            frame,
            time,
            to_right,
            label,
            failing: bad.contains(&frame),
            place: None,
        });
    };
    if let Some(&syn) = c.syn_frames.first() {
        let n = c.syn_frames.len();
        push(
            &mut rows,
            syn,
            c.first_time,
            true,
            if n > 1 {
                format!("SYN (x{n})")
            } else {
                "SYN".into()
            },
        );
    }
    if let Some(f) = c.synack_frame {
        push(&mut rows, f, c.first_time, false, "SYN/ACK".into());
    }
    if let Some(t) = &c.tls {
        let mut last: Option<(u64, Side)> = None;
        for s in &t.steps {
            let right = s.from == Side::Client;
            if last == Some((s.frame, s.from)) {
                if let Some(r) = rows.last_mut() {
                    r.label.push_str(", ");
                    r.label.push_str(&s.message.label());
                    continue;
                }
            }
            last = Some((s.frame, s.from));
            push(&mut rows, s.frame, s.time, right, s.message.label());
        }
    }
    for m in report
        .sip
        .iter()
        .filter(|m| m.capture == e.capture && m.tcp_stream == Some(c.tcp_stream))
    {
        let right = m.src.ip == c.client.ip && m.src.port == c.client.port;
        push(&mut rows, m.at.number(), m.time, right, sip_label(m));
    }
    // SIP a log printed for this connection (the capture holds it encrypted): in time order
    // with the frames, at its log line.
    let lines = cited_lines(report);
    let mut from_log = false;
    for m in report.sip.iter().filter(|m| on_connection(m, c)) {
        let place = log_place(m);
        rows.push(Row {
            frame: m.at.number(),
            time: m.time,
            to_right: m.src.ip == c.client.ip && m.src.port == c.client.port,
            label: format!("{} (log)", sip_label(m)),
            failing: place.as_ref().is_some_and(|p| lines.contains(p)),
            place,
        });
        from_log = true;
    }
    if let Some(f) = c.client_fin_frame {
        push(&mut rows, f, c.last_time, true, "FIN".into());
    }
    if let Some(f) = c.server_fin_frame {
        push(&mut rows, f, c.last_time, false, "FIN".into());
    }
    if let Some(r) = &c.rst {
        push(
            &mut rows,
            r.frame,
            c.last_time,
            r.sent_by == Side::Client,
            "RST".into(),
        );
    }
    if from_log {
        rows.sort_by_key(|r| r.time);
    } else {
        rows.sort_by_key(|r| r.frame);
    }
    rows.truncate(MAX_ROWS);
    Some(Ladder {
        capture: e.capture,
        title: format!("tcp.stream {}", c.tcp_stream),
        left: (
            c.client.role.to_string(),
            format!("{}:{}", c.client.ip, c.client.port),
        ),
        right: (
            c.server.role.to_string(),
            format!("{}:{}", c.server.ip, c.server.port),
        ),
        rows,
    })
}

/// Whether a log's message travelled on capture connection `c` (same two ends).
fn on_connection(m: &crate::report::SipEntry, c: &crate::session::Connection) -> bool {
    let (cl, sv) = ((c.client.ip, c.client.port), (c.server.ip, c.server.port));
    let (a, b) = ((m.src.ip, m.src.port), (m.dst.ip, m.dst.port));
    m.file.is_some() && ((a == cl && b == sv) || (a == sv && b == cl))
}

/// UDP SIP, and SIP a log printed on no connection of a capture: one diagram per pair of
/// endpoints.
fn udp_ladders(report: &Report) -> Vec<Ladder> {
    let mut out = Vec::new();
    let mut pairs: Vec<(usize, String, String)> = Vec::new();
    let lines = cited_lines(report);
    let attached = |m: &crate::report::SipEntry| {
        report
            .connections
            .iter()
            .any(|e| on_connection(m, &e.connection))
    };
    for m in report
        .sip
        .iter()
        .filter(|m| m.tcp_stream.is_none() && !attached(m))
    {
        let (a, b) = (m.src.to_string(), m.dst.to_string());
        if !pairs
            .iter()
            .any(|(c, x, y)| *c == m.capture && ((*x == a && *y == b) || (*x == b && *y == a)))
        {
            pairs.push((m.capture, a, b));
        }
    }
    for (capture, left, right) in pairs {
        let bad = cited(report, capture);
        let rows: Vec<Row> = report
            .sip
            .iter()
            .filter(|m| m.capture == capture && m.tcp_stream.is_none() && !attached(m))
            .filter(|m| {
                let (a, b) = (m.src.to_string(), m.dst.to_string());
                (a == left && b == right) || (a == right && b == left)
            })
            .take(MAX_ROWS)
            .map(|m| {
                let place = log_place(m);
                Row {
                    frame: m.at.number(),
                    time: m.time,
                    to_right: m.src.to_string() == left,
                    label: sip_label(m),
                    failing: match &place {
                        Some(p) => lines.contains(p),
                        None => m.at.frame().is_some_and(|f| bad.contains(&f)),
                    },
                    place,
                }
            })
            .collect();
        let title = match rows.first().and_then(|r| r.place.as_ref()) {
            Some(p) => format!("log {}", p.rsplit_once(':').map_or(p.as_str(), |x| x.0)),
            None => "UDP".into(),
        };
        out.push(Ladder {
            capture,
            title,
            left: ("sip-client".into(), left),
            right: ("sip-server".into(), right),
            rows,
        });
    }
    out
}

/// Splits a label into lines of at most `width` characters, at ", " or spaces where it can,
/// so that no step name is cut.
pub fn wrap(label: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in label.split_inclusive([' ']) {
        if !line.is_empty() && line.chars().count() + word.trim_end().chars().count() > width {
            lines.push(line.trim_end().to_string());
            line.clear();
        }
        let mut w = word;
        // A single word longer than a line is split where it must be.
        while w.trim_end().chars().count() > width {
            let cut: String = w.chars().take(width).collect();
            lines.push(cut.clone());
            w = &w[cut.len()..];
        }
        line.push_str(w);
    }
    if !line.trim().is_empty() || lines.is_empty() {
        lines.push(line.trim_end().to_string());
    }
    lines
}

/// The ladder in text, for a terminal (`--ladder`).
pub fn text(l: &Ladder, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    const W: usize = 46;
    writeln!(
        out,
        "{}  {} {}  <->  {} {}",
        l.title, l.left.0, l.left.1, l.right.0, l.right.1
    )?;
    let t0 = l.rows.first().map(|r| r.time).unwrap_or_default();
    for r in &l.rows {
        let lines = wrap(&r.label, W - 8);
        let label = format!(" {} ", lines.first().map_or("", String::as_str));
        let dashes = W.saturating_sub(label.chars().count() + 2);
        let (a, b) = (dashes / 2, dashes - dashes / 2);
        let arrow = if r.to_right {
            format!("|{}{}{}>|", "-".repeat(a), label, "-".repeat(b))
        } else {
            format!("|<{}{}{}|", "-".repeat(a), label, "-".repeat(b))
        };
        let mark = if r.failing { "  <== finding" } else { "" };
        let at = r
            .place
            .clone()
            .unwrap_or_else(|| format!("frame {}", r.frame));
        let head = format!("  {at:<14} +{:>9.6}s  ", r.time.secs_since(t0).max(0.0));
        writeln!(out, "{head}{arrow}{mark}")?;
        // The rest of a long label, whole, under its arrow.
        for more in lines.iter().skip(1) {
            let pad = W.saturating_sub(more.chars().count() + 1);
            writeln!(
                out,
                "{}|{}{more}{}|",
                " ".repeat(head.chars().count()),
                " ".repeat(pad / 2),
                " ".repeat(pad - pad / 2)
            )?;
        }
    }
    Ok(())
}
