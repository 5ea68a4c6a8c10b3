//! `siptriage watch`: a sensor for NOC staff. It reads a live interface through libpcap (or
//! replays a capture at its recorded pace), feeds every packet through the same analysis as
//! `analyze`, writes each finding as a JSON Lines event as soon as it is certain (then
//! updates, not repeats), serves Prometheus metrics, and writes the run's report when it is
//! stopped.
//!
//! Time on the analysis path is the packets' time. The clock is read only to pace a replay,
//! to stamp events with their wall-clock time, and to wake the analysis between packets of
//! a quiet interface (then the capture time goes on with the clock, as libpcap stamps
//! packets with it).

pub mod emit;
pub mod keys;
pub mod metrics;
pub mod rotate;

use crate::note::Note;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::analyze::{analyze_source, FailOn, Hooks, Outcome};
use crate::capture::{CaptureError, CaptureInfo, CaptureSink, Frame};
use crate::config::{Config, PortMap};
use crate::diagnose::Aggregator;
use crate::live::Live;
use crate::report::jsonl::{Event, Summary};
use crate::report::{Observer, Report};
use crate::session::{Analyzer, CaptureFacts, Connection};
use crate::time::Ts;

use emit::Emitter;
use metrics::{Drops, Metrics};

/// Bytes captured per packet by default: the largest IP packet (65,535 bytes, as an offloaded
/// segment may be) with its link header, so that no segment of a certificate chain is cut.
pub const SNAPLEN: i32 = 65_600;

/// How often (capture time) the analysis settles ended connections and judges the SIP read,
/// and how often (wall time) a quiet interface wakes it.
pub const TICK: Duration = Duration::from_millis(200);

/// How far behind the clock a quiet interface's capture time is kept: packets the kernel has
/// not handed over yet (it hands them over in blocks at least every 100 ms) are never judged by
/// a time later than theirs.
const QUIET_LAG_NS: i64 = 1_000_000_000;

/// How long a sensor waits when no packet is ready (it reads without blocking).
const IDLE_SLEEP: Duration = Duration::from_millis(2);

/// Where packets come from.
#[derive(Clone, Debug)]
pub enum Source {
    /// A live interface (`any` for all of them).
    Live {
        /// Interface name.
        interface: String,
        /// BPF filter; `None` is [`default_filter`].
        filter: Option<String>,
        /// Promiscuous mode (a mirror port needs it unless the port delivers everything).
        promiscuous: bool,
        /// Bytes kept per packet.
        snaplen: i32,
        /// Kernel buffer for packets not yet read, in bytes.
        buffer: i32,
    },
    /// A capture file fed through the live path.
    Replay {
        /// The capture.
        path: String,
        /// Pace: 1.0 as recorded, 10.0 ten times faster; `None` as fast as possible.
        speed: Option<f64>,
    },
}

impl Source {
    /// The name the report gives the source: `live:IFACE` or the file.
    pub fn label(&self) -> String {
        match self {
            Source::Live { interface, .. } => format!("live:{interface}"),
            Source::Replay { path, .. } => path.clone(),
        }
    }
}

/// How the sensor runs.
pub struct Options {
    /// Where packets come from.
    pub source: Source,
    /// Key log files, re-read as they grow.
    pub keylogs: Vec<std::path::PathBuf>,
    /// A finding that keeps happening is updated at most this often (capture time).
    pub update_every: Duration,
    /// Stop after this long (wall-clock time); `None` runs until stopped.
    pub duration: Option<Duration>,
    /// Stop after this many packets.
    pub max_packets: Option<u64>,
    /// What makes the summary's exit code 1.
    pub fail_on: FailOn,
    /// Stamp events with the wall-clock time.
    pub wall_time: bool,
    /// Also say each new finding in one line on stderr (when the events go to a file).
    pub tell: bool,
    /// Save the packets read into this pcap file (live sources), at most `.1` bytes: the
    /// frame numbers of the events are its frame numbers.
    pub save: Option<(std::path::PathBuf, u64)>,
    /// A note the report and the events carry at the stop, unredacted (the CLI's word that
    /// the pseudonyms' map was written).
    pub closing_note: Option<Note>,
}

impl Options {
    /// A replay of `path` as fast as it goes, findings updated every 10 s of capture time,
    /// events without wall-clock times (the same lines every time), exit code 1 on an error
    /// finding: what a test or a benchmark starts from.
    pub fn replay(path: &str) -> Options {
        Options {
            source: Source::Replay {
                path: path.to_string(),
                speed: None,
            },
            keylogs: Vec::new(),
            update_every: Duration::from_secs(10),
            duration: None,
            max_packets: None,
            fail_on: FailOn::Error,
            wall_time: false,
            save: None,
            tell: false,
            closing_note: None,
        }
    }
}

/// The packets a live sensor read, written as a pcap file so that the evidence frames of its
/// events can be opened (in Wireshark, or with `siptriage analyze`).
struct Saver {
    path: std::path::PathBuf,
    out: std::io::BufWriter<std::fs::File>,
    written: u64,
    limit: u64,
    /// Why saving stopped, once it did.
    stopped: Option<Note>,
}

impl Saver {
    fn create(
        path: &std::path::Path,
        limit: u64,
        linktype: i32,
        snaplen: i32,
    ) -> std::io::Result<Saver> {
        use std::io::Write;
        let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
        let mut h = Vec::with_capacity(24);
        h.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
        h.extend_from_slice(&2u16.to_le_bytes());
        h.extend_from_slice(&4u16.to_le_bytes());
        h.extend_from_slice(&[0; 8]);
        h.extend_from_slice(&(snaplen.max(0) as u32).to_le_bytes());
        h.extend_from_slice(&(linktype as u32).to_le_bytes());
        out.write_all(&h)?;
        Ok(Saver {
            path: path.to_path_buf(),
            out,
            written: 24,
            limit,
            stopped: None,
        })
    }

    /// Saves one frame; returns why saving stopped when it stops now.
    fn frame(&mut self, f: &Frame<'_>) -> Option<Note> {
        use std::io::Write;
        if self.stopped.is_some() {
            return None;
        }
        let len = 16 + f.data.len() as u64;
        let result = if self.written + len > self.limit {
            Err(Note::SaveLimit {
                path: self.path.display().to_string(),
                mib: self.limit >> 20,
                frame: f.number,
            })
        } else {
            let secs = f.ts.0.div_euclid(1_000_000_000);
            let micros = f.ts.0.rem_euclid(1_000_000_000) / 1_000;
            let mut h = [0u8; 16];
            h[0..4].copy_from_slice(&(secs as u32).to_le_bytes());
            h[4..8].copy_from_slice(&(micros as u32).to_le_bytes());
            h[8..12].copy_from_slice(&(f.data.len() as u32).to_le_bytes());
            h[12..16].copy_from_slice(&f.orig_len.to_le_bytes());
            self.out
                .write_all(&h)
                .and_then(|_| self.out.write_all(f.data))
                .map_err(|e| Note::SaveStopped {
                    path: self.path.display().to_string(),
                    error: e.to_string(),
                })
        };
        match result {
            Ok(()) => {
                self.written += len;
                None
            }
            Err(why) => {
                let _ = self.out.flush();
                self.stopped = Some(why.clone());
                Some(why)
            }
        }
    }
}

/// What a run produced: the report over everything it read and the capture library's counts.
pub struct Watched {
    /// The report, as `analyze` would give for a capture of the same packets (redacted as
    /// asked, with the pseudonyms the events gave).
    pub outcome: Outcome,
    /// Packets dropped before the sensor read them.
    pub drops: Drops,
    /// The event stream's first write error.
    pub write_error: Option<std::io::Error>,
    /// The pseudonyms the events and the report used, with their originals.
    pub redact_map: Vec<crate::report::redact::MapEntry>,
}

/// Why a sensor could not start.
#[derive(Debug)]
pub struct StartError(pub String);

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StartError {}

/// The BPF filter a sensor uses unless told otherwise: TCP to or from the SIP, SIP OAuth
/// (5090, 5091 and any added), Tomcat (8443) and TFTP-over-HTTP configuration (6970, 6972)
/// ports; UDP SIP; and IPv4 fragments past the first (they carry no port), on plain and
/// VLAN-tagged frames.
pub fn default_filter(ports: &PortMap) -> String {
    let mut tcp: Vec<u16> = ports
        .oauth
        .iter()
        .chain(&ports.mra_oauth)
        .chain(&ports.sip_tls)
        .chain(&ports.sip)
        .copied()
        .chain([8443, 6970, 6972])
        .collect();
    tcp.sort_unstable();
    tcp.dedup();
    let mut udp = ports.sip.clone();
    udp.sort_unstable();
    udp.dedup();
    let list = |v: &[u16]| {
        v.iter()
            .map(u16::to_string)
            .collect::<Vec<_>>()
            .join(" or ")
    };
    let one = format!(
        "(tcp port ({})) or (udp port ({})) or (ip[6:2] & 0x1fff != 0)",
        list(&tcp),
        list(&udp)
    );
    format!("{one} or (vlan and ({one}))")
}

/// What the analysis tells the sensor as it judges: connections and windows for the
/// metrics, findings for the events.
struct Sensor {
    emitter: Rc<RefCell<Emitter>>,
    metrics: Option<Arc<Metrics>>,
    /// Devices of each finding when the failing devices were last looked at.
    seen: Vec<u64>,
}

impl Hooks for Sensor {
    fn connection(&mut self, c: &Connection) {
        if let Some(m) = &self.metrics {
            m.connection(c);
        }
        // Its names get their pseudonyms before a finding's text can show them.
        let mut e = self.emitter.borrow_mut();
        if !e.redactor().is_empty() {
            e.redactor().learn_connection(c);
        }
    }

    fn window(&mut self, facts: &CaptureFacts) {
        if let Some(m) = &self.metrics {
            let mut e = self.emitter.borrow_mut();
            m.window(facts, &mut |ip| e.address(ip));
        }
    }

    fn judged(&mut self, findings: &Aggregator, now: Ts) {
        let mut e = self.emitter.borrow_mut();
        e.judged(findings, now);
        // The devices of each warning or error finding that grew, for the failing gauge.
        let Some(m) = &self.metrics else { return };
        for i in 0..findings.len() {
            let Some(s) = findings.standing(i) else {
                continue;
            };
            // Only when the finding names more devices than last time (a device failing
            // again is named already).
            let seen = self.seen.get(i).copied().unwrap_or(0);
            if s.devices == seen {
                continue;
            }
            if i >= self.seen.len() {
                self.seen.resize(i + 1, 0);
            }
            self.seen[i] = s.devices;
            if s.severity == crate::diagnose::Severity::Info {
                continue;
            }
            let node = (e.address(s.server.ip), s.server.port);
            m.failing(
                s.id,
                node,
                findings.affected(i).map(|(ip, d)| match d {
                    Some(d) => metrics::Who::Device(d.to_string()),
                    None => metrics::Who::Address(ip),
                }),
            );
        }
    }

    fn note(&mut self, note: &Note) {
        self.emitter.borrow_mut().note(note);
    }
}

/// The pieces of the report are not told again at the end: the events told them as they came.
struct Silent;
impl Observer for Silent {}

/// What reads packets into the analysis, with what it needs between them.
struct Feeder<'s> {
    opts: &'s Options,
    stop: &'s AtomicBool,
    started: Instant,
    keys: Vec<keys::KeyFollower>,
    emitter: Rc<RefCell<Emitter>>,
    metrics: Option<Arc<Metrics>>,
    frames: u64,
    last_tick: Ts,
    last_wake: Instant,
    drops: Drops,
    first: Option<Ts>,
    last: Option<Ts>,
    saver: Option<Saver>,
}

impl Feeder<'_> {
    fn should_stop(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
            // Nobody reads the events any more (a closed pipe, a full disk).
            || self.emitter.borrow().error.is_some()
            || self
                .opts
                .duration
                .is_some_and(|d| self.started.elapsed() >= d)
            || self.opts.max_packets.is_some_and(|m| self.frames >= m)
    }

    /// Reads the key logs' new lines into the analysis.
    fn poll_keys(&mut self, a: &mut Analyzer<'_>) {
        for k in &mut self.keys {
            if let Some(text) = k.poll() {
                a.add_keys(&k.label(), &text);
            }
        }
    }

    fn frame(&mut self, a: &mut Analyzer<'_>, f: &Frame<'_>) {
        self.frames += 1;
        self.first.get_or_insert(f.ts);
        self.last = Some(self.last.map_or(f.ts, |l| l.max(f.ts)));
        if let Some(m) = &self.metrics {
            m.packet(f.data.len(), f.ts);
        }
        if let Some(why) = self.saver.as_mut().and_then(|s| s.frame(f)) {
            self.emitter.borrow_mut().note(&why);
        }
        a.frame(f);
        if f.ts.0.saturating_sub(self.last_tick.0) >= TICK.as_nanos() as i64 {
            self.tick(a, f.ts);
        }
    }

    /// Time went on to `now`: settle, judge, tell; and look at the key logs.
    fn tick(&mut self, a: &mut Analyzer<'_>, now: Ts) {
        self.last_tick = now;
        self.emitter.borrow_mut().advance(now);
        // The key logs are looked at on every tick of capture time, before held records are
        // released for want of keys: a sensor that fell behind reads keys written long ago,
        // never releases records whose keys were there to read.
        self.poll_keys(a);
        if self.last_wake.elapsed() >= TICK {
            self.last_wake = Instant::now();
            if let Some(s) = &mut self.saver {
                use std::io::Write;
                let _ = s.out.flush();
            }
        }
        a.tick(now);
        if let Some(m) = &self.metrics {
            let (c, d) = a.tracked();
            m.tracked(c, d);
        }
    }

    /// New drops since the last look are said at once (a verdict over them is incomplete).
    fn drops(&mut self, d: Drops) {
        let (old, new) = (
            self.drops.dropped + self.drops.if_dropped,
            d.dropped + d.if_dropped,
        );
        self.drops = d;
        if let Some(m) = &self.metrics {
            m.drops(d);
        }
        if new > old {
            self.emitter.borrow_mut().note(&Note::Dropping {
                new: new - old,
                buffer: d.dropped,
                interface: d.if_dropped,
            });
        }
    }

    fn info(
        &self,
        label: String,
        format: &str,
        linktype: i32,
        stopped: Option<String>,
    ) -> CaptureInfo {
        CaptureInfo {
            link_types: vec![crate::capture::linktype_name(linktype)],
            frames: self.frames,
            first_time: self.first,
            last_time: self.last,
            stopped,
            ..CaptureInfo::named(&label, format)
        }
    }
}

/// A capture replayed at its pace through the live path.
struct Paced<'f, 's, 'a, 'c> {
    feeder: &'f mut Feeder<'s>,
    a: &'a mut Analyzer<'c>,
    speed: Option<f64>,
    anchor: Option<(Ts, Instant)>,
    linktype: i32,
    stopped: bool,
}

impl CaptureSink for Paced<'_, '_, '_, '_> {
    fn format(&mut self, pcapng: bool) {
        self.a.format(pcapng);
        // Keys may come later from the key logs, as on a live interface.
        if !self.feeder.keys.is_empty() {
            self.a.hold_for_keys();
        }
    }

    fn frame(&mut self, frame: &Frame<'_>) {
        if self.stopped || self.feeder.should_stop() {
            self.stopped = true;
            return;
        }
        self.linktype = frame.linktype;
        if let Some(speed) = self.speed.filter(|s| *s > 0.0) {
            let (t0, w0) = *self.anchor.get_or_insert((frame.ts, Instant::now()));
            let due = frame.ts.0.saturating_sub(t0.0).max(0) as f64 / speed;
            let due = w0 + Duration::from_nanos(due as u64);
            // Sleep in short steps, so that a stop is heard and the analysis ticks.
            loop {
                let now = Instant::now();
                if now >= due || self.feeder.should_stop() {
                    break;
                }
                std::thread::sleep((due - now).min(TICK));
                if self.feeder.last_wake.elapsed() >= TICK {
                    let t = self.feeder.last_tick;
                    self.feeder.tick(self.a, t);
                }
            }
        }
        self.feeder.frame(self.a, frame);
    }

    fn secrets(&mut self, kind: u32, data: &[u8], after_frame: u64) {
        self.a.secrets(kind, data, after_frame);
    }

    fn done(&self) -> bool {
        self.stopped
    }
}

/// Runs the sensor until `stop` is set, the duration or packet count is reached, or (for a
/// replay) the capture ends; events go to `out`, metrics to `metrics`. `on_ready` is called
/// once packets are being read (the interface is open and filtered).
pub fn run(
    opts: &Options,
    cfg: &Config,
    redaction: crate::report::redact::Redaction,
    out: Box<dyn rotate::LineSink>,
    metrics: Option<Arc<Metrics>>,
    stop: &AtomicBool,
    on_ready: &mut dyn FnMut(&str),
) -> Result<Watched, StartError> {
    let every = i64::try_from(opts.update_every.as_nanos()).unwrap_or(i64::MAX);
    let emitter = Rc::new(RefCell::new(Emitter::new(
        out,
        redaction,
        every,
        opts.wall_time,
        metrics.clone(),
    )));
    emitter.borrow_mut().tell = opts.tell;
    let label = opts.source.label();
    let mut live = match &opts.source {
        Source::Live {
            interface,
            filter,
            promiscuous,
            snaplen,
            buffer,
        } => Some(open_live(
            cfg,
            interface,
            filter.as_deref(),
            *promiscuous,
            *snaplen,
            *buffer,
        )?),
        Source::Replay { path, .. } => {
            if !std::path::Path::new(path).is_file() && path != "-" {
                return Err(StartError(format!("{path}: no such capture file")));
            }
            None
        }
    };
    let mut feeder = Feeder {
        opts,
        stop,
        started: Instant::now(),
        keys: opts.keylogs.iter().map(keys::KeyFollower::new).collect(),
        emitter: emitter.clone(),
        metrics: metrics.clone(),
        frames: 0,
        last_tick: Ts::default(),
        last_wake: Instant::now(),
        drops: Drops::default(),
        first: None,
        last: None,
        saver: None,
    };
    {
        // A name in the file's name is a name too.
        let mut e = emitter.borrow_mut();
        let mut shown = label.clone();
        if !e.redactor().is_empty() {
            e.redactor().learn_text(&shown);
            e.redactor().text(&mut shown);
        }
        e.emit(Event::Capture {
            index: 0,
            path: &shown,
        });
    }
    let mut hooks = Sensor {
        emitter: emitter.clone(),
        metrics,
        seen: Vec::new(),
    };
    let read = |a: &mut Analyzer<'_>| -> Result<CaptureInfo, CaptureError> {
        feeder.poll_keys(a);
        match (&opts.source, live.as_mut()) {
            (Source::Live { snaplen, .. }, Some(cap)) => {
                if !feeder.keys.is_empty() {
                    a.hold_for_keys();
                }
                if let Some((path, limit)) = &opts.save {
                    let linktype = cap.datalink();
                    let saver = Saver::create(path, *limit, linktype, *snaplen)
                        .map_err(|e| CaptureError::Io(path.display().to_string(), e))?;
                    feeder.emitter.borrow_mut().note(&Note::SavedTo {
                        path: path.display().to_string(),
                        report: false,
                    });
                    feeder.saver = Some(saver);
                }
                on_ready(&label);
                Ok(read_live(&mut feeder, a, cap, &label))
            }
            (Source::Replay { path, speed }, _) => {
                on_ready(&label);
                let mut paced = Paced {
                    feeder: &mut feeder,
                    a,
                    speed: *speed,
                    anchor: None,
                    linktype: 1,
                    stopped: false,
                };
                let mut info = crate::capture::read_capture(path, &mut paced)?;
                if let Some(end) = paced.feeder.last {
                    paced.feeder.tick(paced.a, end);
                }
                if paced.stopped {
                    // The frame that found the stop was read, not fed.
                    info.frames = paced.feeder.frames;
                    info.last_time = paced.feeder.last;
                }
                Ok(info)
            }
            (Source::Live { .. }, None) => Err(CaptureError::Io(
                label.clone(),
                std::io::Error::other("the interface is not open"),
            )),
        }
    };
    let mut outcome = analyze_source(&label, cfg, read, &mut hooks, &mut Silent, opts.fail_on);
    drop(hooks);
    let drops = feeder.drops;
    if let Some(saver) = &feeder.saver {
        outcome.report.notes.push(match &saver.stopped {
            Some(why) => why.clone(),
            None => Note::SavedTo {
                path: saver.path.display().to_string(),
                report: true,
            },
        });
    }
    drop(feeder);
    let lost = drops.dropped + drops.if_dropped;
    if lost > 0 {
        // The verdict says that it rests on an incomplete view.
        let note = Note::Dropped {
            buffer: drops.dropped,
            interface: drops.if_dropped,
            received: drops.received,
        };
        outcome.tally.limits.extend(note.limit());
        outcome.report.notes.push(note);
        crate::analyze::conclude(&mut outcome.report, &outcome.tally, opts.fail_on);
    }
    let mut e = emitter.borrow_mut();
    e.updates(true);
    // The report takes the pseudonyms the events gave, and any new ones after them.
    crate::report::redact::apply_with(&mut outcome.report, e.redactor());
    if let Some(n) = &opts.closing_note {
        outcome.report.notes.push(n.clone());
    }
    close(&mut e, &outcome.report);
    let write_error = e.error.take();
    let redact_map = e.redactor().map();
    drop(e);
    Ok(Watched {
        outcome,
        drops,
        write_error,
        redact_map,
    })
}

/// The closing events: the notes, the source read, the summary.
fn close(e: &mut Emitter, report: &Report) {
    if let Some(last) = report.captures.first().and_then(|c| c.last_time) {
        e.advance(last);
    }
    // The notes told as they came carry their counts; the kinds only the stop knows are told
    // now, every note of them counted.
    let known: Vec<bool> = report.notes.iter().map(|n| e.note_known(n)).collect();
    for (n, _) in report.notes.iter().zip(known).filter(|(_, known)| !known) {
        e.note(n);
    }
    e.updates(true);
    if let Some(info) = report.captures.first() {
        e.emit(Event::CaptureDone {
            index: 0,
            capture: info,
        });
    }
    for u in &report.unreadable {
        e.emit(Event::Unreadable {
            path: &u.input,
            reason: &u.error,
        });
    }
    e.emit(Event::Summary(Summary::of(report)));
}

/// Opens a live interface with the filter, or says why not.
fn open_live(
    cfg: &Config,
    interface: &str,
    filter: Option<&str>,
    promiscuous: bool,
    snaplen: i32,
    buffer: i32,
) -> Result<Live, StartError> {
    let fail = |e: crate::live::Error| match e {
        crate::live::Error::Load(_) => StartError(e.to_string()),
        _ => StartError(format!(
            "cannot capture on {interface}: {e}{}",
            if e.is_permission() {
                " (capturing needs root or the CAP_NET_RAW and CAP_NET_ADMIN capabilities)"
            } else {
                ""
            }
        )),
    };
    let settings = crate::live::Settings {
        snaplen,
        promiscuous,
        buffer,
        // Packets are handed over in blocks at least every 100 ms (TPACKET_V3 on Linux): a
        // block holds many packets, so the buffer absorbs bursts that per-packet slots would
        // not.
        timeout_ms: 100,
        immediate: false,
        // Non-blocking: a quiet interface must not keep the sensor from ticking or hearing a
        // stop.
        nonblocking: true,
    };
    let mut cap = Live::open(interface, &settings).map_err(fail)?;
    let wanted = filter.map(str::to_string);
    let program = wanted.clone().unwrap_or_else(|| default_filter(&cfg.ports));
    if let Err(e) = cap.set_filter(&program) {
        match wanted {
            Some(_) => return Err(fail(e)),
            // Some link types (the `any` interface's cooked headers) know no VLAN tags.
            None => {
                let plain = program
                    .split(" or (vlan and")
                    .next()
                    .unwrap_or(&program)
                    .to_string();
                cap.set_filter(&plain).map_err(fail)?;
            }
        }
    }
    Ok(cap)
}

/// libpcap's counters, told to the feeder (drops become a note at once).
fn read_drops(feeder: &mut Feeder<'_>, cap: &mut Live) {
    if let Ok(s) = cap.stats() {
        feeder.drops(Drops {
            received: u64::from(s.received),
            dropped: u64::from(s.dropped),
            if_dropped: u64::from(s.if_dropped),
        });
    }
}

fn read_live(
    feeder: &mut Feeder<'_>,
    a: &mut Analyzer<'_>,
    cap: &mut Live,
    label: &str,
) -> CaptureInfo {
    let linktype = cap.datalink();
    let mut stopped = None;
    let mut last_stats = Instant::now();
    while !feeder.should_stop() {
        match cap.next_packet() {
            Ok(Some(p)) => {
                let ts = Ts(p
                    .ts_sec
                    .saturating_mul(1_000_000_000)
                    .saturating_add(p.ts_usec.saturating_mul(1_000)));
                let frame = Frame {
                    number: feeder.frames + 1,
                    ts,
                    linktype,
                    data: p.data,
                    orig_len: p.len,
                };
                feeder.frame(a, &frame);
            }
            Ok(None) => {
                if feeder.last_wake.elapsed() >= TICK {
                    // A quiet interface, every packet read: capture time goes on with the
                    // clock libpcap stamps with, less what the kernel may still be handing
                    // over. (Never while packets wait: a sensor that fell behind would judge
                    // them by a time later than theirs.)
                    let now = Ts(emit::wall_now().0.saturating_sub(QUIET_LAG_NS));
                    if now > feeder.last_tick {
                        feeder.tick(a, now);
                    } else {
                        feeder.last_wake = Instant::now();
                    }
                }
                std::thread::sleep(IDLE_SLEEP);
            }
            Err(e) => {
                stopped = Some(format!(
                    "{label}: the live capture stopped after frame {}: {e}",
                    feeder.frames
                ));
                break;
            }
        }
        if last_stats.elapsed() >= Duration::from_secs(1) {
            last_stats = Instant::now();
            read_drops(feeder, cap);
        }
    }
    read_drops(feeder, cap);
    if let Some(s) = &mut feeder.saver {
        use std::io::Write;
        if let Err(e) = s.out.flush() {
            s.stopped = Some(Note::SaveUnfinished {
                path: s.path.display().to_string(),
                error: e.to_string(),
            });
        }
    }
    feeder.info(label.to_string(), "live (libpcap)", linktype, stopped)
}
