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
        LogSource {
            input,
            files,
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
            &mut |record| match record {
                Logged::Sip(m, _) => a.log_sip(m),
                Logged::TlsFailure(at, t) if failures.len() < MAX_LOG_TLS_FAILURES => {
                    failures.push((at, t))
                }
                Logged::Config(at, c) if configs.len() < MAX_LOG_TLS_FAILURES => {
                    configs.push((at, c))
                }
                _ => {}
            },
        )?;
        for (n, (at, t)) in failures.into_iter().enumerate() {
            a.log_connection(failure_connection(&t, at, n as u64, self.cfg));
        }
        for (at, c) in configs {
            let device = c.device.clone().unwrap_or_default();
            match crate::http::parse_config(&device, c.xml.as_bytes()) {
                Ok(conf) => a.log_config(config_entry(&c, at, conf)),
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
                self.files.iter().map(|f| f.label.clone()).collect()
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
            let file = self.files.get(*f).unwrap_or(&self.input);
            notes.push(Note::LogEvent {
                file: file.label.clone(),
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

/// What a log's records give its source, each with its line.
// Each is handed over once, as it is read: the size of the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
pub(super) enum Logged<'t> {
    /// A SIP message, parsed, with the text the log printed.
    Sip(crate::sip::SipMessage, &'t [u8]),
    /// A TLS handshake the log says failed.
    TlsFailure(At, TlsFailure),
    /// A device configuration the log printed.
    Config(At, LogConfig),
}

/// SIP messages of a file remembered to recognize the next file's repeats of them.
const MAX_OVERLAP: usize = 4096;

/// Rotated files that overlap (the newer repeats the older's last records): a message the
/// file before printed, at the same time with the same text, is read once.
#[derive(Default)]
struct Overlap {
    before: std::collections::HashSet<(i64, (u64, u64))>,
    before_last: Option<crate::time::Ts>,
    current: std::collections::VecDeque<(i64, (u64, u64))>,
    current_last: Option<crate::time::Ts>,
    repeated: u64,
}

impl Overlap {
    /// The next file starts: what the last one printed is what it may repeat.
    fn next_file(&mut self) {
        self.before = self.current.drain(..).collect();
        self.before_last = self.current_last;
    }

    /// Whether the file before printed `m` (it is counted, and read no more), else notes it.
    fn repeats(&mut self, m: &LogSip) -> bool {
        let key = (m.time.0, crate::net::key128(&m.text[..]));
        if self.before_last.is_some_and(|t| m.time <= t) && self.before.contains(&key) {
            self.repeated += 1;
            return true;
        }
        if self.current.len() >= MAX_OVERLAP {
            self.current.pop_front();
        }
        self.current.push_back(key);
        self.current_last = self.current_last.max(Some(m.time));
        false
    }
}

/// One file of a log being read: its records, each at its line, to `on`.
struct FileSink<'a> {
    file: usize,
    name: &'a Arc<str>,
    cfg: &'a Config,
    overlap: &'a mut Overlap,
    on: &'a mut dyn FnMut(Logged<'_>),
}

impl FileSink<'_> {
    fn at(&self, line: u64) -> At {
        At::line(self.file as u32, Arc::clone(self.name), line)
    }
}

impl LogSink for FileSink<'_> {
    fn sip(&mut self, m: LogSip) {
        use crate::logs::Direction;
        use crate::net::{Endpoint, Transport};
        if self.overlap.repeats(&m) {
            return;
        }
        let nowhere = Endpoint {
            ip: std::net::Ipv4Addr::UNSPECIFIED.into(),
            port: 0,
        };
        let (local, peer) = (m.local.unwrap_or(nowhere), m.peer.unwrap_or(nowhere));
        let (src, dst) = match m.direction {
            Direction::Sent => (local, peer),
            Direction::Received => (peer, local),
        };
        let ctx = crate::sip::Context {
            at: self.at(m.line),
            time: m.time,
            transport: m
                .transport
                .or_else(|| crate::logs::via_transport(&m.text))
                .unwrap_or(Transport::Tcp),
            tcp_stream: None,
            src,
            dst,
            show_secrets: self.cfg.secrets.show,
        };
        if let Some(msg) = crate::sip::parse_datagram(&m.text, &ctx) {
            (self.on)(Logged::Sip(msg, &m.text));
        }
    }

    fn tls_failure(&mut self, t: TlsFailure) {
        let at = self.at(t.line);
        (self.on)(Logged::TlsFailure(at, t));
    }

    fn config(&mut self, c: LogConfig) {
        let at = self.at(c.line);
        (self.on)(Logged::Config(at, c));
    }
}

/// Reads a log's files oldest first into `on`: each SIP message parsed (with the text the log
/// printed), each TLS failure, each configuration printed, each at its line.
pub(super) fn each_log_record(
    files: &[&Input],
    kind: LogKind,
    cfg: &Config,
    stats: &mut LogStats,
    on: &mut dyn FnMut(Logged<'_>),
) -> Result<(), CaptureError> {
    let open = |f: &Input| -> Result<Box<dyn std::io::BufRead + Send>, CaptureError> {
        let (r, _) = f
            .open()
            .and_then(crate::inputs::decompress)
            .map_err(|e| CaptureError::Io(f.label.clone(), e))?;
        Ok(Box::new(std::io::BufReader::with_capacity(256 * 1024, r)))
    };
    // A clock known only from the messages (a Jabber log's Date headers): from the first
    // file that tells it.
    let layout = kind.layout();
    let mut offset = None;
    if layout.dates_by_content() {
        for f in files {
            offset = layout
                .clock(&mut *open(f)?)
                .map_err(|e| CaptureError::Io(f.label.clone(), e))?;
            if offset.is_some() {
                break;
            }
        }
    }
    let mut overlap = Overlap::default();
    for (i, f) in files.iter().enumerate() {
        stats.file = i;
        if i > 0 {
            overlap.next_file();
        }
        let name: Arc<str> = Arc::from(f.label.as_str());
        let mut sink = FileSink {
            file: i,
            name: &name,
            cfg,
            overlap: &mut overlap,
            on: &mut *on,
        };
        layout
            .read(&mut *open(f)?, offset, stats, &mut sink)
            .map_err(|e| CaptureError::Io(f.label.clone(), e))?;
    }
    if overlap.repeated > 0 {
        stats.sip = stats.sip.saturating_sub(overlap.repeated);
        stats.notes.push(Note::LogRepeats {
            messages: overlap.repeated,
        });
    }
    Ok(())
}

/// TLS failures of one log file judged at most (past it they are counted in the log's note).
const MAX_LOG_TLS_FAILURES: usize = 10_000;

/// A device configuration a log printed, as the HTTP exchange of a configuration file is kept.
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
        let mut on_sip = |record: Logged<'_>| {
            let Logged::Sip(m, text) = record else {
                return;
            };
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
        let _ = each_log_record(&files, kind, cfg, &mut stats, &mut on_sip);
    }
    Some(Arc::new(injection))
}
