//! Logs as a source: the SIP messages a log printed (its files oldest first, the records two
//! rotated files both hold read once), the TLS handshakes it says failed and the device
//! configurations it printed, fed to the facts builder as a capture's frames are. The layouts
//! themselves (how a Jabber log, an SDL trace or an Expressway log is read) are
//! [`crate::logs::Layout`]s.

use std::sync::Arc;

use crate::capture::{CaptureError, CaptureInfo};
use crate::config::Config;
use crate::inputs::Input;
use crate::logs::{LogConfig, LogKind, LogSink, LogSip, LogStats, TlsFailure};
use crate::note::Note;
use crate::place::At;
use crate::session::{Analyzer, Connection};

/// One log (a file, or rotated files read as one) as a source.
pub struct LogSource<'i> {
    input: &'i Input,
    files: Vec<&'i Input>,
    names: Vec<Arc<str>>,
    kind: LogKind,
    cfg: &'i Config,
    stats: LogStats,
}

impl<'i> LogSource<'i> {
    /// The log `input` (its parts, when rotated files were grouped), read as `kind`.
    pub fn new(input: &'i Input, kind: LogKind, cfg: &'i Config) -> LogSource<'i> {
        let files: Vec<&Input> = if input.parts.is_empty() {
            vec![input]
        } else {
            input.parts.iter().collect()
        };
        let names = files.iter().map(|f| Arc::from(f.label.as_str())).collect();
        LogSource {
            input,
            files,
            names,
            kind,
            cfg,
            stats: LogStats::default(),
        }
    }
}

impl super::Source for LogSource<'_> {
    /// Feeds the SIP messages of the log (its files oldest first) to the analyzer, then its
    /// TLS failures and the configurations it printed.
    fn read(&mut self, a: &mut Analyzer<'_>) -> Result<CaptureInfo, CaptureError> {
        let mut failures = Vec::new();
        let mut configs = Vec::new();
        each_log_record(
            &self.files,
            self.kind,
            self.cfg,
            &mut self.stats,
            &mut |_, m, _| a.log_sip(m),
            &mut |i, t| {
                if failures.len() < MAX_LOG_TLS_FAILURES {
                    failures.push((i, t));
                }
            },
            &mut |i, c| {
                if configs.len() < MAX_LOG_TLS_FAILURES {
                    configs.push((i, c));
                }
            },
        )?;
        for (n, (i, t)) in failures.into_iter().enumerate() {
            let at = line_at(&self.names, i, t.line);
            a.log_connection(failure_connection(&t, at, n as u64, self.cfg));
        }
        for (i, c) in configs {
            let device = c.device.clone().unwrap_or_default();
            match crate::http::parse_config(&device, c.xml.as_bytes()) {
                Ok(conf) => a.log_config(config_entry(&c, line_at(&self.names, i, c.line), conf)),
                Err(e) => self.stats.notes.push(Note::LogConfigUnreadable {
                    line: c.line,
                    error: e.to_string(),
                }),
            }
        }
        Ok(CaptureInfo {
            frames: self.stats.records,
            first_time: self.stats.first,
            last_time: self.stats.last,
            ..CaptureInfo::named(&self.input.label, self.kind.name())
        })
    }

    /// What the log held: its records, SIP messages and clock, what it repeated or skipped,
    /// and the connection events no rule judges.
    fn notes(&mut self) -> Vec<Note> {
        let st = &mut self.stats;
        let mut notes = vec![Note::LogRead {
            input: self.input.label.clone(),
            layout: self.kind.name(),
            files: if self.files.len() > 1 {
                self.names.iter().map(|n| n.to_string()).collect()
            } else {
                Vec::new()
            },
            records: st.records,
            sip: st.sip,
            clock: st.clock.clone(),
        }];
        if st.tls_failures > 0 {
            notes.push(Note::LogTlsFailures {
                count: st.tls_failures,
            });
        }
        if st.duplicates > 0 {
            notes.push(Note::LogDuplicates {
                count: st.duplicates,
            });
        }
        if st.skipped > 0 {
            notes.push(Note::LogSkipped {
                records: st.skipped,
            });
        }
        notes.append(&mut st.notes);
        for (f, line, what) in &st.events {
            let file = self.names.get(*f).map(|n| n.to_string());
            notes.push(Note::LogEvent {
                file: file.unwrap_or_else(|| self.input.label.clone()),
                line: *line,
                what: what.clone(),
            });
        }
        if st.more_events > 0 {
            notes.push(Note::LogEventsNotListed {
                count: st.more_events,
            });
        }
        notes
    }
}

/// The three kinds of record, each told with the index of its file.
struct Each<'a> {
    sip: &'a mut dyn FnMut(LogSip),
    tls: &'a mut dyn FnMut(TlsFailure),
    config: &'a mut dyn FnMut(LogConfig),
}

impl LogSink for Each<'_> {
    fn sip(&mut self, m: LogSip) {
        (self.sip)(m)
    }
    fn tls_failure(&mut self, t: TlsFailure) {
        (self.tls)(t)
    }
    fn config(&mut self, c: LogConfig) {
        (self.config)(c)
    }
}

/// SIP messages of a file remembered to recognize the next file's repeats of them.
const MAX_OVERLAP: usize = 4096;

/// Reads a log's files oldest first: each SIP message parsed (with the text the log printed,
/// and the index of its file), each TLS failure, each configuration printed.
pub(super) fn each_log_record(
    files: &[&Input],
    kind: crate::logs::LogKind,
    cfg: &Config,
    stats: &mut crate::logs::LogStats,
    on_sip: &mut dyn FnMut(usize, crate::sip::SipMessage, &[u8]),
    on_tls: &mut dyn FnMut(usize, crate::logs::TlsFailure),
    on_config: &mut dyn FnMut(usize, crate::logs::LogConfig),
) -> Result<(), crate::capture::CaptureError> {
    use crate::logs::{self, Direction};
    use crate::net::{Endpoint, Transport};
    let open =
        |f: &Input| -> Result<Box<dyn std::io::BufRead + Send>, crate::capture::CaptureError> {
            let (r, _) = f
                .open()
                .and_then(crate::inputs::decompress)
                .map_err(|e| crate::capture::CaptureError::Io(f.label.clone(), e))?;
            Ok(Box::new(std::io::BufReader::with_capacity(256 * 1024, r)))
        };
    let names: Vec<Arc<str>> = files.iter().map(|f| Arc::from(f.label.as_str())).collect();
    let names = &names;
    let nowhere = Endpoint {
        ip: std::net::Ipv4Addr::UNSPECIFIED.into(),
        port: 0,
    };
    // A clock known only from the messages (a Jabber log's Date headers): from the first
    // file that tells it.
    let layout = kind.layout();
    let mut offset = None;
    if layout.dates_by_content() {
        for f in files {
            offset = layout
                .clock(&mut *open(f)?)
                .map_err(|e| crate::capture::CaptureError::Io(f.label.clone(), e))?;
            if offset.is_some() {
                break;
            }
        }
    }
    // Rotated files that overlap (the newer repeats the older's last records): a message the
    // file before printed, at the same time with the same text, is read once.
    let mut before: std::collections::HashSet<(i64, (u64, u64))> = Default::default();
    let mut before_last = crate::time::Ts(i64::MIN);
    let mut current: std::collections::VecDeque<(i64, (u64, u64))> = Default::default();
    let mut current_last = crate::time::Ts(i64::MIN);
    let mut repeated = 0u64;
    for (i, f) in files.iter().enumerate() {
        stats.file = i;
        if i > 0 {
            before = current.drain(..).collect();
            before_last = current_last;
        }
        let mut push = |m: logs::LogSip| {
            let key = (m.time.0, crate::net::key128(&m.text[..]));
            if m.time <= before_last && before.contains(&key) {
                repeated += 1;
                return;
            }
            if current.len() >= MAX_OVERLAP {
                current.pop_front();
            }
            current.push_back(key);
            current_last = current_last.max(m.time);
            let local = m.local.unwrap_or(nowhere);
            let peer = m.peer.unwrap_or(nowhere);
            let (src, dst) = match m.direction {
                Direction::Sent => (local, peer),
                Direction::Received => (peer, local),
            };
            let ctx = crate::sip::Context {
                at: line_at(names, i, m.line),
                time: m.time,
                transport: m
                    .transport
                    .or_else(|| logs::via_transport(&m.text))
                    .unwrap_or(Transport::Tcp),
                tcp_stream: None,
                src,
                dst,
                show_secrets: cfg.secrets.show,
            };
            if let Some(msg) = crate::sip::parse_datagram(&m.text, &ctx) {
                on_sip(i, msg, &m.text);
            }
        };
        let mut tls = |t: logs::TlsFailure| on_tls(i, t);
        let mut config = |c: logs::LogConfig| on_config(i, c);
        let mut r = open(f)?;
        let mut sink = Each {
            sip: &mut push,
            tls: &mut tls,
            config: &mut config,
        };
        layout
            .read(&mut *r, offset, stats, &mut sink)
            .map_err(|e| crate::capture::CaptureError::Io(f.label.clone(), e))?;
    }
    if repeated > 0 {
        stats.sip = stats.sip.saturating_sub(repeated);
        stats.notes.push(Note::LogRepeats { messages: repeated });
    }
    Ok(())
}

/// TLS failures of one log file judged at most (past it they are counted in the log's note).
const MAX_LOG_TLS_FAILURES: usize = 10_000;

/// A device configuration a log printed, as the HTTP exchange of a configuration file is kept.
/// Line `line` of the `file`-th of the log's files.
fn line_at(names: &[Arc<str>], file: usize, line: u64) -> At {
    let name = names.get(file).cloned().unwrap_or_else(|| Arc::from(""));
    At::line(file as u32, name, line)
}

fn config_entry(
    c: &crate::logs::LogConfig,
    at: At,
    conf: crate::http::DeviceConfig,
) -> crate::session::HttpEntry {
    use crate::net::Role;
    use crate::session::Party;
    let unknown: std::net::IpAddr = std::net::Ipv4Addr::UNSPECIFIED.into();
    crate::session::HttpEntry {
        at,
        time: c.time,
        tcp_stream: 0,
        client: Party {
            ip: c.client.unwrap_or(unknown),
            port: 0,
            role: Role::JabberOrWebex,
        },
        server: Party {
            ip: unknown,
            port: 0,
            role: Role::Tftp,
        },
        method: "GET".into(),
        path: format!("{}.cnf.xml (printed in the log)", conf.device),
        status: Some(200),
        config: Some(conf),
        response_frame: None,
    }
}

/// The connection a log's TLS failure stands for: a handshake between the two ends that ended
/// with the alert the log's words name, at the log's line.
/// `stream` numbers the log's connections, in the order the log told of them.
fn failure_connection(
    t: &crate::logs::TlsFailure,
    at: At,
    stream: u64,
    cfg: &Config,
) -> Connection {
    use crate::net::{Dir, Side};
    use crate::session::Party;
    let port_kind = cfg.ports.port_kind(t.server.port);
    let (client_role, server_role) = port_kind.roles();
    let sent_by = if t.alert_by_client {
        Side::Client
    } else {
        Side::Server
    };
    let alerts = t
        .alert
        .map(|(code, name)| crate::tls::Alert {
            at: at.clone(),
            time: t.time,
            sent_by,
            dir: if t.alert_by_client {
                Dir::ToServer
            } else {
                Dir::ToClient
            },
            level: Some(2),
            code: Some(crate::tls::AlertDescription(code)),
            description: name.to_string(),
            encrypted: false,
            decrypted: false,
            after_steps: 0,
            logged: Some(format!(
                "Detail=\"{}\"{}",
                t.detail.trim(),
                t.common_name
                    .as_ref()
                    .map(|c| format!(" Common-name=\"{c}\""))
                    .unwrap_or_default()
            )),
        })
        .into_iter()
        .collect();
    Connection {
        tcp_stream: stream,
        line: Some(at),
        client: Party {
            ip: t.client.ip,
            port: t.client.port,
            role: client_role,
        },
        server: Party {
            ip: t.server.ip,
            port: t.server.port,
            role: server_role,
        },
        port_kind,
        protocol: crate::session::Proto::Tls,
        outcome: crate::flow::Outcome::Closed,
        ended_by: Some(sent_by),
        roles_from: "the log",
        first_frame: 0,
        first_time: t.time,
        last_frame: 0,
        last_time: t.time,
        packets: 0,
        bytes_to_server: 0,
        bytes_to_client: 0,
        syn_frames: Vec::new(),
        synack_frame: None,
        client_fin_frame: None,
        server_fin_frame: None,
        rst: None,
        retransmissions: 0,
        lost_bytes: 0,
        tls: Some(crate::tls::TlsSummary {
            alerts,
            ..crate::tls::TlsSummary::default()
        }),
        sip_messages: 0,
        sip_from_server: 0,
    }
}

/// The SIP the logs among `inputs` printed, by connection (client, server), for captures
/// given with them: none when there are only captures or only logs.
pub fn logged_sip(inputs: &[Input], cfg: &Config) -> Option<Arc<crate::tls::Injection>> {
    let logs: Vec<&Input> = inputs.iter().filter(|i| i.log.is_some()).collect();
    if logs.is_empty() || logs.len() == inputs.len() {
        return None;
    }
    let mut injection = crate::tls::Injection::default();
    for input in logs {
        let Some(kind) = input.log else { continue };
        let files: Vec<&Input> = if input.parts.is_empty() {
            vec![input]
        } else {
            input.parts.iter().collect()
        };
        let mut stats = crate::logs::LogStats::default();
        let mut on_sip = |_, m: crate::sip::SipMessage, text: &[u8]| {
            let unknown = |e: crate::net::Endpoint| e.ip.is_unspecified();
            if unknown(m.src) || unknown(m.dst) || m.transport == crate::net::Transport::Udp {
                return;
            }
            let (client, server, to_server) = if m.is_request() {
                (m.src, m.dst, true)
            } else {
                (m.dst, m.src, false)
            };
            injection.add(client, server, to_server, m.time, text.to_vec());
        };
        // A log that cannot be read is said when it is analyzed for itself.
        let _ = each_log_record(
            &files,
            kind,
            cfg,
            &mut stats,
            &mut on_sip,
            &mut |_, _| {},
            &mut |_, _| {},
        );
    }
    Some(Arc::new(injection))
}
