//! TLS without keys: records across segments, handshake messages joined across records,
//! hellos, certificates, certificate requests and alerts with who sent them.
//!
//! Each direction is an incremental decoder: it keeps what it could not use yet, and a gap in
//! the stream makes it resync on the next plausible record header.

pub mod cert;
pub mod decrypt;
pub mod keylog;
mod ladder;
pub mod names;
mod summary;

use crate::place::At;
use std::cell::Cell;
use std::num::NonZeroU64;

use tls_parser::{TlsMessage, TlsMessageHandshake};

pub use crate::cert::CertInfo;
use crate::net::{minus_one, plus_one, Dir, Endpoint};
use crate::time::Ts;
pub use keylog::KeyLog;
pub use names::{AlertDescription, ContentType, HandshakeType};
pub use summary::{
    Alert, CertRequest, Chain, ClientHello, ServerHello, Step, StepKind, TlsSummary, SHORT_RECORD,
};

/// Largest record accepted (2^14 plus expansion); a larger length means we lost sync.
const MAX_RECORD: usize = 16384 + 2048;
/// Largest handshake message joined across records.
pub const MAX_HANDSHAKE: usize = 256 * 1024;
/// Handshake steps remembered per connection.
const MAX_STEPS: usize = 64;
/// Alerts remembered per connection.
const MAX_ALERTS: usize = 32;

const HRR_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

/// Whether `b` starts like a TLS record (handshake, alert, CCS or application data).
pub fn looks_like_tls(b: &[u8]) -> bool {
    b.len() >= 3 && (20..=23).contains(&b[0]) && b[1] == 3 && b[2] <= 4
}

/// Whether `b` starts with a TLS ClientHello record.
pub fn looks_like_client_hello(b: &[u8]) -> bool {
    b.len() >= 6 && b[0] == 22 && b[1] == 3 && b[5] == 1
}

/// Extension server_name (RFC 6066).
const EXT_SERVER_NAME: u16 = 0;
/// Extension encrypt_then_mac (RFC 7366).
const EXT_ENCRYPT_THEN_MAC: u16 = 22;
/// Extension supported_versions (RFC 8446).
const EXT_SUPPORTED_VERSIONS: u16 = 43;

#[derive(Default)]
struct DirState {
    buf: Vec<u8>,
    hs: Vec<u8>,
    /// Records of this direction are encrypted from now on.
    encrypted: bool,
    resync: bool,
    dead: bool,
}

/// What a TLS stream borrows from the capture's analysis: the secrets known so far, the budget
/// for holding records back, and the shared certificate cache.
#[derive(Clone, Copy)]
pub struct Keys<'a> {
    /// Secrets known so far.
    pub log: &'a KeyLog,
    /// Certificates parsed once per capture and shared by the connections that present them.
    pub certs: &'a std::cell::RefCell<crate::cert::CertCache>,
    /// More secrets may still arrive (a pcapng Decryption Secrets Block later in the file):
    /// records that need them are held back, within [`MAX_HELD_PER_CONN`] per connection and
    /// this many bytes across all connections (the cell counts what is left). `None`: never hold.
    pub hold_budget: Option<&'a Cell<usize>>,
    /// SIP a log printed for connections the capture holds encrypted ([`Injection`]): what
    /// stands in for the plaintext of records no key opens.
    pub inject: Option<&'a Injection>,
}

/// How far apart a log's time and a record's time may be for the log's message to stand for
/// the record's plaintext (the two clocks are not the same).
pub const INJECT_SLACK_NS: i64 = 10_000_000_000;

/// The SIP messages a log printed on one connection, per direction (to the server first), in
/// order, with the log's time.
#[derive(Clone, Debug, Default)]
pub struct Injected {
    /// `[client to server, server to client]`.
    pub texts: [std::collections::VecDeque<(Ts, Vec<u8>)>; 2],
    /// Records read this way, per direction (`[client's, server's]`).
    pub used: [u64; 2],
    /// The log's clock offset on this connection (capture minus log), once set.
    pub shift: Option<i64>,
}

impl Injected {
    /// The message that stands for a record at `ts` in direction `i`, if the log has one then
    /// (messages more than [`INJECT_SLACK_NS`] older are before the capture: dropped). When the
    /// capture saw the connection start (`opened`), its first client record is the first
    /// message the client logged on it: that pair sets the log's clock offset for the rest.
    fn take(&mut self, i: usize, ts: Ts, opened: bool) -> Option<Vec<u8>> {
        // The server answers what the client sent: its records before the client's first
        // message are something else (TLS 1.3 session tickets).
        if i == 1 && self.used[0] == 0 {
            return None;
        }
        if i == 0 && self.used[0] == 0 && opened && self.shift.is_none() {
            self.shift = self.texts[0].front().map(|(t, _)| ts.0 - t.0);
        }
        let shift = self.shift.unwrap_or(0);
        let q = &mut self.texts[i];
        while q
            .front()
            .is_some_and(|(t, _)| t.0 + shift < ts.0.saturating_sub(INJECT_SLACK_NS))
        {
            q.pop_front();
        }
        if q.front()
            .is_some_and(|(t, _)| t.0 + shift <= ts.0.saturating_add(INJECT_SLACK_NS))
        {
            self.used[i] += 1;
            return q.pop_front().map(|m| m.1);
        }
        None
    }
}

/// SIP messages logs printed, by the two ends of their connection (client, server); a log
/// that does not give the server's port (an SDL trace) files them under port 0.
#[derive(Debug, Default)]
pub struct Injection {
    by_ends: std::collections::HashMap<(Endpoint, Endpoint), Injected>,
    /// Bytes held.
    pub bytes: usize,
    /// Messages not held: past [`MAX_INJECTED`].
    pub dropped: u64,
}

/// Bytes of logged SIP held at most to stand for encrypted records.
pub const MAX_INJECTED: usize = 64 << 20;

impl Injection {
    /// A message the client (`to_server`) or the server sent on the connection between
    /// `client` and `server`.
    pub fn add(
        &mut self,
        client: Endpoint,
        server: Endpoint,
        to_server: bool,
        ts: Ts,
        text: Vec<u8>,
    ) {
        if self.bytes + text.len() > MAX_INJECTED {
            self.dropped += 1;
            return;
        }
        self.bytes += text.len();
        let e = self.by_ends.entry((client, server)).or_default();
        e.texts[usize::from(!to_server)].push_back((ts, text));
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.by_ends.is_empty()
    }

    /// What is held for the connection between `client` and `server` (each capture reading
    /// the logs takes its own copy of a connection's messages).
    pub fn take(&self, client: Endpoint, server: Endpoint) -> Option<Injected> {
        let wildcard = Endpoint {
            ip: server.ip,
            port: 0,
        };
        self.by_ends
            .get(&(client, server))
            .or_else(|| self.by_ends.get(&(client, wildcard)))
            .cloned()
    }
}

/// Encrypted bytes held back per connection while waiting for keys.
pub const MAX_HELD_PER_CONN: usize = 256 * 1024;
/// Encrypted bytes held back across all connections of a capture.
pub const MAX_HELD_TOTAL: usize = 32 * 1024 * 1024;

struct Held {
    dir: Dir,
    ctype: u8,
    version: u16,
    body: Vec<u8>,
    frame: u64,
    ts: Ts,
}

/// Where decrypted application data goes: `(direction, plaintext, frame, time)`.
pub type AppSink<'s> = dyn FnMut(Dir, &[u8], u64, Ts) + 's;

/// The TLS decoder of one connection.
#[derive(Default)]
pub struct TlsStream {
    dirs: [DirState; 2],
    version: u16,
    tls13: bool,
    client_flight_seen: bool,
    client_flight_open: bool,
    client_random: Option<[u8; 32]>,
    server_random: Option<[u8; 32]>,
    suite: Option<u16>,
    etm: bool,
    resumed: bool,
    cipher: [Option<decrypt::DirCipher>; 2],
    /// TLS 1.3 key phase per direction: 0 handshake, 1 application, more after each
    /// KeyUpdate (counted up to 255; only 0 or not matters).
    phase13: [u8; 2],
    /// Per direction, the frame (plus one) of a record that failed authentication.
    failed: [Option<NonZeroU64>; 2],
    /// Records decrypted per direction `[from client, from server]`.
    decrypted_dir: [u64; 2],
    /// Per direction, the label of a secret the key log lacks that records needed.
    missing: [Option<keylog::Label>; 2],
    encrypted_records: u64,
    held: Vec<Held>,
    held_bytes: usize,
    holding: bool,
    /// Held records had to be processed without keys because the hold-back limit was reached.
    pub hold_limit_hit: bool,
    /// SIP a log printed for this connection, standing in for records no key opens.
    pub injected: Option<Box<Injected>>,
    /// What was seen (the steps are in `ladder`; [`TlsStream::summary`] gives them back).
    summary: Seen,
    /// The handshake ladder, packed.
    ladder: ladder::Ladder,
}

impl TlsStream {
    /// Whether the server's certificate chain was seen.
    pub fn has_server_chain(&self) -> bool {
        self.summary
            .chains
            .iter()
            .any(|c| c.presented_by == crate::net::Side::Server)
    }

    /// What was seen so far, with the handshake ladder whole and the decryption status as
    /// `log` stands.
    pub fn summary(&self, log: &KeyLog) -> TlsSummary {
        let s = &self.summary;
        TlsSummary {
            client_hello: s.client_hello.as_ref().map(|c| ClientHello {
                frame: c.frame,
                sni: c.sni.as_deref().map(String::from),
                offered_versions: c.offered.iter().map(|&v| names::version(v)).collect(),
                cipher_suites_offered: c.suites as usize,
            }),
            server_hello: s.server_hello.as_ref().map(|h| ServerHello {
                frame: h.frame,
                version: names::version(h.version),
                cipher_suite: h
                    .suite
                    .map_or_else(|| "unknown".into(), names::cipher_suite),
                hello_retry_request: h.hrr,
            }),
            chains: s.chains.clone(),
            certificate_request: s.certificate_request.clone(),
            alerts: s.alerts.clone(),
            steps: self.ladder.steps(),
            application_records: s.application_records,
            application_bytes: s.application_bytes,
            first_application_frame: s.first_application_frame.map(|f| f.map(minus_one)),
            resyncs: s.resyncs,
            malformed: s.malformed.as_deref().map(String::from),
            decryption: self.decryption_status(log),
            decrypted_bytes: s.decrypted_bytes,
            partly_decrypted: self.partly_decrypted(),
            encrypted_records: s.encrypted_records.clone(),
        }
    }

    /// Stream bytes in direction `dir`, from `frame`. Decrypted application data goes to `app`.
    pub fn data(
        &mut self,
        dir: Dir,
        bytes: &[u8],
        frame: u64,
        ts: Ts,
        keys: Keys<'_>,
        app: &mut AppSink<'_>,
    ) {
        let i = dir.idx();
        if self.dirs[i].dead {
            return;
        }
        let pending = std::mem::take(&mut self.dirs[i].buf);
        self.dirs[i].buf = crate::flow::read_in_place(pending, bytes, |all| {
            self.records(dir, all, frame, ts, keys, app)
        });
    }

    /// Reads the whole records at the start of `all`; returns how many bytes were used.
    fn records(
        &mut self,
        dir: Dir,
        all: &[u8],
        frame: u64,
        ts: Ts,
        keys: Keys<'_>,
        app: &mut AppSink<'_>,
    ) -> usize {
        let i = dir.idx();
        let mut at = 0;
        loop {
            let buf = &all[at..];
            if self.dirs[i].resync {
                match (0..buf.len().saturating_sub(4)).find(|&p| plausible_header(&buf[p..])) {
                    Some(p) => {
                        at += p;
                        self.dirs[i].resync = false;
                        continue;
                    }
                    None => {
                        at += buf.len().saturating_sub(4);
                        break;
                    }
                }
            }
            if buf.len() < 5 {
                break;
            }
            if !plausible_header(buf) {
                if buf[0] & 0x80 != 0 && self.ladder.is_empty() {
                    self.summary.malformed = Some("SSLv2 record format (not decoded)".into());
                    self.dirs[i].dead = true;
                    at = all.len();
                    break;
                }
                self.note_malformed(frame, "record header out of sync");
                self.dirs[i].resync = true;
                at += 1;
                continue;
            }
            let len = u16::from_be_bytes([buf[3], buf[4]]) as usize;
            if buf.len() < 5 + len {
                break;
            }
            let ctype = buf[0];
            let version = u16::from_be_bytes([buf[1], buf[2]]);
            let record = buf[5..5 + len].to_vec();
            at += 5 + len;
            self.on_record(dir, ctype, version, record, frame, ts, keys, app);
        }
        at.min(all.len())
    }

    /// Bytes missing in direction `dir`: drop partial state and resync.
    pub fn gap(&mut self, dir: Dir) {
        let d = &mut self.dirs[dir.idx()];
        d.buf.clear();
        d.hs.clear();
        d.resync = true;
        self.summary.resyncs += 1;
        // Sequence numbers are lost with the records: decryption of this direction cannot go on.
        if self.cipher[dir.idx()].take().is_some() {
            self.note_malformed(
                0,
                "records lost in a gap: decryption of that direction stopped",
            );
        }
    }

    /// The sender of `dir` closed: what it had buffered will not complete; free it.
    pub fn closed(&mut self, dir: Dir) {
        let d = &mut self.dirs[dir.idx()];
        if d.buf.is_empty() {
            d.buf = Vec::new();
        }
        if d.hs.is_empty() {
            d.hs = Vec::new();
        }
    }

    /// The ClientHello random, once seen.
    pub fn client_random(&self) -> Option<[u8; 32]> {
        self.client_random
    }

    /// Whether records are being held back for keys.
    pub fn is_holding(&self) -> bool {
        self.holding
    }

    /// The capture time of the first record held back, while records are.
    pub fn held_since(&self) -> Option<Ts> {
        self.held.first().map(|h| h.ts)
    }

    /// Processes what was held back, with whatever keys are known now.
    pub fn release(&mut self, keys: Keys<'_>, app: &mut AppSink<'_>) {
        if let Some(b) = keys.hold_budget {
            b.set(b.get() + self.held_bytes);
        }
        self.holding = false;
        self.held_bytes = 0;
        let held = std::mem::take(&mut self.held);
        let keys = Keys {
            hold_budget: None,
            ..keys
        };
        for h in held {
            self.record(h.dir, h.ctype, h.version, &h.body, h.frame, h.ts, keys, app);
        }
    }

    /// The first frame where a record failed authentication.
    fn failed_at(&self) -> Option<u64> {
        self.failed.iter().flatten().copied().map(minus_one).min()
    }

    /// Records decrypted (or read from a log), both directions.
    fn decrypted_records(&self) -> u64 {
        self.decrypted_dir[0] + self.decrypted_dir[1]
    }

    /// Decryption status: `decrypted`, or why not; `None` when nothing was encrypted.
    pub fn decryption_status(&self, log: &KeyLog) -> Option<String> {
        let from_log = self.injected.as_ref().map_or(0, |i| i.used[0] + i.used[1]);
        if from_log > 0 && from_log == self.decrypted_records() {
            return Some(format!(
                "read from a log: {from_log} record(s) stood for by the SIP a log printed on this connection (no key)"
            ));
        }
        if self.decrypted_records() > 0 {
            let missing = self.missing_secrets();
            if !missing.is_empty() {
                let only = match self.decrypted_dir {
                    [0, _] => "decrypted from the server only",
                    [_, 0] => "decrypted from the client only",
                    _ => "partly decrypted",
                };
                return Some(format!(
                    "{only}: the key log lacks {}",
                    missing.join(" and ")
                ));
            }
            return Some(match self.failed_at() {
                Some(f) => format!("decrypted, until a record failed authentication at frame {f}"),
                None => "decrypted".into(),
            });
        }
        if let Some(f) = self.failed_at() {
            return Some(format!(
                "not decrypted: wrong key (the record at frame {f} failed authentication)"
            ));
        }
        if self.encrypted_records == 0 {
            return None;
        }
        let why = match (self.client_random, self.server_random, self.suite) {
            (None, _, _) | (_, None, _) => "handshake not in the capture".to_string(),
            (_, _, Some(s)) if decrypt::suite(s).is_none() => {
                format!("unsupported cipher suite {}", names::cipher_suite(s))
            }
            _ if !self.tls13 && self.version < 0x0303 => format!(
                "{} is not decrypted (TLS 1.2 and 1.3 only)",
                names::version(self.version)
            ),
            _ if log.is_empty() && log.sources == 0 => "no key log given".to_string(),
            _ if log.is_empty() => "the key log holds no usable key".to_string(),
            (Some(cr), _, _) if log.get(&cr).is_none() => {
                if self.resumed {
                    "no key for this session (a resumed session)".to_string()
                } else {
                    "no key for this session".to_string()
                }
            }
            _ => "the key log lacks the secrets this session needs".to_string(),
        };
        Some(format!("not decrypted: {why}"))
    }

    fn note_malformed(&mut self, frame: u64, what: &str) {
        if self.summary.malformed.is_none() {
            self.summary.malformed = Some(if frame > 0 {
                format!("frame {frame}: {what}").into()
            } else {
                what.into()
            });
        }
    }

    fn step(&mut self, dir: Dir, frame: u64, ts: Ts, message: StepKind) {
        let step = Step {
            frame,
            time: ts,
            from: dir.sender(),
            message,
        };
        self.ladder.push(&step, MAX_STEPS);
    }

    fn needs_keys(&self, dir: Dir, ctype: u8, len: usize) -> bool {
        if ctype == 21 && len == 2 {
            return false;
        }
        if self.tls13 {
            ctype == 23 && self.dirs[dir.idx()].encrypted
        } else {
            self.dirs[dir.idx()].encrypted && (21..=23).contains(&ctype)
        }
    }

    /// The secret `dir` needs now: `None` when the key log does not hold the session at all,
    /// `Some(None)` when it holds the session but not this secret.
    fn secret_for(&self, dir: Dir, log: &KeyLog) -> Option<Option<Vec<u8>>> {
        let s = log.get(&self.client_random?)?;
        Some(s.secret(self.secret_label(dir)).map(<[u8]>::to_vec))
    }

    /// Some records were decrypted and some could not be, for lack of a secret.
    pub fn partly_decrypted(&self) -> bool {
        self.decrypted_records() > 0 && self.missing.iter().any(Option::is_some)
    }

    /// The NSS key log label of the secret `dir` needs now.
    fn secret_label(&self, dir: Dir) -> keylog::Label {
        use keylog::Label;
        if !self.tls13 {
            return Label::Master;
        }
        match (dir, self.phase13[dir.idx()]) {
            (Dir::ToServer, 0) => Label::ClientHs,
            (Dir::ToClient, 0) => Label::ServerHs,
            (Dir::ToServer, _) => Label::ClientApp,
            (Dir::ToClient, _) => Label::ServerApp,
        }
    }

    /// What the key log lacks for a session it holds only part of: `LABEL for client random
    /// 0123abcd…` per direction that could not be read.
    fn missing_secrets(&self) -> Vec<String> {
        let random = self
            .client_random
            .map(|r| cert_hex(&r[..8]))
            .unwrap_or_default();
        self.missing
            .iter()
            .flatten()
            .map(|label| format!("{} for client random {random}…", label.name()))
            .collect()
    }

    /// Sets up `dir`'s cipher when its secret is known; returns whether the key log holds the
    /// session but no cipher could be set up for this direction (secret absent, or unusable).
    fn ensure_cipher(&mut self, dir: Dir, log: &KeyLog) -> bool {
        let i = dir.idx();
        if self.cipher[i].is_some() || self.failed[i].is_some() {
            return false;
        }
        let secret = match self.secret_for(dir, log) {
            None => return false,
            Some(None) => return true,
            Some(Some(s)) => s,
        };
        let Some(suite) = self.suite.and_then(decrypt::suite) else {
            return true;
        };
        self.cipher[i] = if self.tls13 {
            decrypt::DirCipher::tls13(suite, &secret)
        } else if self.version == 0x0303 {
            match (self.client_random, self.server_random) {
                (Some(cr), Some(sr)) => Some(decrypt::DirCipher::tls12(
                    suite,
                    &secret,
                    &cr,
                    &sr,
                    dir == Dir::ToServer,
                    self.etm,
                )),
                _ => None,
            }
        } else {
            None
        };
        self.cipher[i].is_none()
    }

    #[allow(clippy::too_many_arguments)]
    fn on_record(
        &mut self,
        dir: Dir,
        ctype: u8,
        version: u16,
        body: Vec<u8>,
        frame: u64,
        ts: Ts,
        keys: Keys<'_>,
        app: &mut AppSink<'_>,
    ) {
        let start_holding = !self.holding
            && keys.hold_budget.is_some()
            && self.needs_keys(dir, ctype, body.len())
            && self.cipher[dir.idx()].is_none()
            && self.failed[dir.idx()].is_none()
            && self.client_random.is_some()
            && self.secret_for(dir, keys.log).is_none();
        if self.holding || start_holding {
            let budget = keys.hold_budget.map_or(0, Cell::get);
            if self.held_bytes + body.len() <= MAX_HELD_PER_CONN && body.len() <= budget {
                if let Some(b) = keys.hold_budget {
                    b.set(budget - body.len());
                }
                self.holding = true;
                self.held_bytes += body.len();
                self.held.push(Held {
                    dir,
                    ctype,
                    version,
                    body,
                    frame,
                    ts,
                });
                return;
            }
            self.hold_limit_hit = true;
            self.release(keys, app);
        }
        self.record(dir, ctype, version, &body, frame, ts, keys, app);
    }

    #[allow(clippy::too_many_arguments)]
    fn record(
        &mut self,
        dir: Dir,
        ctype: u8,
        version: u16,
        body: &[u8],
        frame: u64,
        ts: Ts,
        keys: Keys<'_>,
        app: &mut AppSink<'_>,
    ) {
        let i = dir.idx();
        if self.needs_keys(dir, ctype, body.len()) {
            self.encrypted_records += 1;
            if self.ensure_cipher(dir, keys.log) {
                // The session is in the key log, but not this direction's secret.
                let label = self.secret_label(dir);
                self.missing[i].get_or_insert(label);
            }
            if let Some(c) = self.cipher[i].as_mut() {
                match c.open(ctype, version, body) {
                    Ok((real, plain)) => {
                        self.decrypted_dir[i] += 1;
                        self.plain(dir, real, &plain, frame, ts, keys, app);
                        return;
                    }
                    Err(_) => {
                        self.cipher[i] = None;
                        self.failed[i] = plus_one(frame);
                    }
                }
            }
        }
        match ContentType(ctype) {
            ContentType::CHANGE_CIPHER_SPEC => {
                // TLS 1.3 sends a compatibility CCS; it changes nothing.
                if !self.tls13 {
                    self.dirs[i].encrypted = true;
                }
                self.step(dir, frame, ts, StepKind::ChangeCipherSpec);
            }
            ContentType::ALERT => {
                if body.len() == 2 {
                    self.alert(dir, Some(body[0]), Some(body[1]), frame, ts, false);
                } else if body.len().is_multiple_of(2) && !self.dirs[i].encrypted {
                    for pair in body.chunks_exact(2) {
                        self.alert(dir, Some(pair[0]), Some(pair[1]), frame, ts, false);
                    }
                } else {
                    self.alert(dir, None, None, frame, ts, false);
                }
            }
            ContentType::HANDSHAKE => {
                if self.dirs[i].encrypted {
                    self.step(dir, frame, ts, StepKind::EncryptedFinished);
                    return;
                }
                self.feed_handshake(dir, body, frame, ts, keys);
            }
            ContentType::APPLICATION_DATA => {
                if self.tls13 && self.summary.encrypted_records.len() < 16 {
                    self.summary
                        .encrypted_records
                        .push((dir.sender(), frame, body.len()));
                }
                if self.tls13 {
                    // Without keys, the first encrypted records of each side are its handshake
                    // flight: the server's until the client answers, the client's until the
                    // server speaks again.
                    let in_flight = match dir {
                        Dir::ToClient => {
                            let open = !self.client_flight_seen;
                            self.client_flight_open = false;
                            open
                        }
                        Dir::ToServer => {
                            if !self.client_flight_seen {
                                self.client_flight_seen = true;
                                self.client_flight_open = true;
                            }
                            self.client_flight_open
                        }
                    };
                    if in_flight {
                        self.step(dir, frame, ts, StepKind::EncryptedHandshake);
                        return;
                    }
                }
                // A log printed this record's SIP: read it from there.
                let opened = self.client_random.is_some();
                if let Some(text) = self
                    .injected
                    .as_mut()
                    .and_then(|inj| inj.take(i, ts, opened))
                {
                    self.decrypted_dir[i] += 1;
                    self.plain(
                        dir,
                        ContentType::APPLICATION_DATA.0,
                        &text,
                        frame,
                        ts,
                        keys,
                        app,
                    );
                    return;
                }
                let s = &mut self.summary;
                s.application_records[i] += 1;
                s.application_bytes[i] += body.len() as u64;
                first_application(s, &mut self.ladder, i, frame);
            }
            _ => {}
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn plain(
        &mut self,
        dir: Dir,
        ctype: u8,
        plain: &[u8],
        frame: u64,
        ts: Ts,
        keys: Keys<'_>,
        app: &mut AppSink<'_>,
    ) {
        let i = dir.idx();
        match ContentType(ctype) {
            ContentType::ALERT => {
                for pair in plain.chunks_exact(2) {
                    self.alert(dir, Some(pair[0]), Some(pair[1]), frame, ts, true);
                }
            }
            ContentType::HANDSHAKE => {
                for t in self.feed_handshake(dir, plain, frame, ts, keys) {
                    if self.tls13
                        && (t == HandshakeType::FINISHED.0 || t == HandshakeType::KEY_UPDATE.0)
                    {
                        // Finished: this side now writes with its application secret;
                        // KeyUpdate: with the next one.
                        let next = if t == HandshakeType::FINISHED.0 {
                            self.phase13[i] = 1;
                            self.cipher[i] = None;
                            self.ensure_cipher(dir, keys.log);
                            continue;
                        } else {
                            self.cipher[i].as_ref().and_then(|c| c.key_update())
                        };
                        self.phase13[i] = self.phase13[i].saturating_add(1);
                        self.cipher[i] = next;
                    }
                }
            }
            ContentType::APPLICATION_DATA => {
                let s = &mut self.summary;
                s.application_records[i] += 1;
                s.application_bytes[i] += plain.len() as u64;
                first_application(s, &mut self.ladder, i, frame);
                s.decrypted_bytes += plain.len() as u64;
                app(dir, plain, frame, ts);
            }
            _ => {}
        }
    }

    /// Joins handshake messages across records; returns the types completed.
    fn feed_handshake(
        &mut self,
        dir: Dir,
        body: &[u8],
        frame: u64,
        ts: Ts,
        keys: Keys<'_>,
    ) -> Vec<u8> {
        let i = dir.idx();
        let mut done = Vec::new();
        let d = &mut self.dirs[i];
        d.hs.extend_from_slice(body);
        if d.hs.len() > MAX_HANDSHAKE {
            d.hs.clear();
            self.note_malformed(frame, "handshake message over the size limit");
            return done;
        }
        let mut at = 0;
        loop {
            let hs = &self.dirs[i].hs[at..];
            if hs.len() < 4 {
                break;
            }
            let n = ((hs[1] as usize) << 16) | ((hs[2] as usize) << 8) | hs[3] as usize;
            if n > MAX_HANDSHAKE {
                self.note_malformed(frame, "handshake length beyond the limit");
                at = self.dirs[i].hs.len();
                break;
            }
            if hs.len() < 4 + n {
                break;
            }
            let msg = hs[..4 + n].to_vec();
            at += 4 + n;
            done.push(msg[0]);
            self.handshake(dir, &msg, frame, ts, keys);
        }
        let d = &mut self.dirs[i];
        d.hs.drain(..at.min(d.hs.len()));
        if d.hs.is_empty() {
            // Handshakes are rare once a connection is up: hold no buffer meanwhile.
            d.hs = Vec::new();
        }
        done
    }

    fn alert(
        &mut self,
        dir: Dir,
        level: Option<u8>,
        code: Option<u8>,
        frame: u64,
        ts: Ts,
        decrypted: bool,
    ) {
        let code = code.map(AlertDescription);
        let description = match code {
            Some(c) => c.name(),
            None => "encrypted".into(),
        };
        self.step(dir, frame, ts, StepKind::Alert(code));
        if self.summary.alerts.len() < MAX_ALERTS {
            let after_steps = self.ladder.len().saturating_sub(1);
            self.summary.alerts.push(Alert {
                at: At::Frame(frame),
                time: ts,
                sent_by: dir.sender(),
                dir,
                level,
                code,
                description,
                encrypted: code.is_none(),
                decrypted,
                after_steps,
                logged: None,
            });
        }
    }

    fn handshake(&mut self, dir: Dir, msg: &[u8], frame: u64, ts: Ts, keys: Keys<'_>) {
        let t = msg[0];
        let body = &msg[4..];
        self.step(dir, frame, ts, StepKind::Handshake(HandshakeType(t)));
        match HandshakeType(t) {
            HandshakeType::CLIENT_HELLO => self.client_hello(msg, frame),
            HandshakeType::SERVER_HELLO => self.server_hello(msg, frame),
            HandshakeType::CERTIFICATE => self.certificate(dir, body, frame, ts, keys),
            HandshakeType::CERTIFICATE_REQUEST => {
                let ca_names =
                    cert::certificate_request_cas(body, self.version).unwrap_or_default();
                self.summary.certificate_request = Some(Box::new(CertRequest {
                    frame,
                    time: ts,
                    ca_names,
                }));
            }
            _ => {}
        }
    }

    /// The first ClientHello: SNI, offered versions, the client random.
    fn client_hello(&mut self, msg: &[u8], frame: u64) {
        match tls_parser::parse_tls_message_handshake(msg) {
            Ok((_, TlsMessage::Handshake(TlsMessageHandshake::ClientHello(ch)))) => {
                let mut sni = None;
                let mut offered = Vec::new();
                for (et, data) in extensions(ch.ext.unwrap_or(&[])) {
                    match et {
                        EXT_SERVER_NAME => sni = parse_sni(data),
                        EXT_SUPPORTED_VERSIONS => {
                            if let Some((&n, rest)) = data.split_first() {
                                for v in rest[..(n as usize).min(rest.len())].chunks_exact(2) {
                                    let v = u16::from_be_bytes([v[0], v[1]]);
                                    if v & 0x0f0f != 0x0a0a {
                                        offered.push(v);
                                    }
                                }
                            }
                        }
                        _ => {}
                    }
                }
                if offered.is_empty() {
                    offered.push(ch.version.0);
                }
                if self.client_random.is_none() {
                    self.client_random = <[u8; 32]>::try_from(ch.random).ok();
                    self.resumed = ch.session_id.is_some_and(|s| !s.is_empty());
                }
                if self.summary.client_hello.is_none() {
                    self.summary.client_hello = Some(SeenClientHello {
                        frame,
                        sni: sni.map(String::into_boxed_str),
                        offered: offered.into_boxed_slice(),
                        suites: u32::try_from(ch.ciphers.len()).unwrap_or(u32::MAX),
                    });
                }
            }
            _ => self.note_malformed(frame, "ClientHello does not parse"),
        }
    }

    /// The ServerHello: the version chosen (supported_versions), encrypt-then-MAC, the suite.
    fn server_hello(&mut self, msg: &[u8], frame: u64) {
        let body = &msg[4..];
        match tls_parser::parse_tls_message_handshake(msg) {
            Ok((_, TlsMessage::Handshake(TlsMessageHandshake::ServerHello(sh)))) => {
                let mut version = sh.version.0;
                for (et, data) in extensions(sh.ext.unwrap_or(&[])) {
                    if et == EXT_SUPPORTED_VERSIONS && data.len() == 2 {
                        version = u16::from_be_bytes([data[0], data[1]]);
                    }
                    if et == EXT_ENCRYPT_THEN_MAC {
                        self.etm = true;
                    }
                }
                let hrr = sh.random == HRR_RANDOM;
                self.version = version;
                self.tls13 = version == 0x0304 || version >> 8 == 0x7f;
                self.suite = Some(sh.cipher.0);
                self.server_random = <[u8; 32]>::try_from(sh.random).ok();
                // A TLS 1.2 server that echoes a non-empty session id resumes the session.
                self.resumed =
                    self.resumed && !self.tls13 && sh.session_id.is_some_and(|s| !s.is_empty());
                if self.tls13 && !hrr {
                    self.dirs[Dir::ToClient.idx()].encrypted = true;
                    self.dirs[Dir::ToServer.idx()].encrypted = true;
                }
                self.summary.server_hello = Some(SeenServerHello {
                    frame,
                    version,
                    suite: Some(sh.cipher.0),
                    hrr,
                });
            }
            _ => {
                // Unknown versions (e.g. 0xfb1a) may not parse: still record what we can.
                if body.len() >= 2 {
                    let v = u16::from_be_bytes([body[0], body[1]]);
                    self.version = v;
                    self.summary.server_hello = Some(SeenServerHello {
                        frame,
                        version: v,
                        suite: None,
                        hrr: false,
                    });
                }
            }
        }
    }

    /// A Certificate message: the chain, each certificate parsed once per capture.
    fn certificate(&mut self, dir: Dir, body: &[u8], frame: u64, ts: Ts, keys: Keys<'_>) {
        match cert::certificate_chain(body, self.tls13) {
            Some(ders) => {
                let parsed: Vec<_> = ders
                    .iter()
                    .filter_map(|d| keys.certs.borrow_mut().get(d))
                    .collect();
                if parsed.len() < ders.len() {
                    self.note_malformed(frame, "a certificate does not parse");
                }
                let (mut der, mut certificates): (Vec<_>, Vec<_>) = parsed.into_iter().unzip();
                // Kept as long as the connection: no spare room.
                der.shrink_to_fit();
                certificates.shrink_to_fit();
                // Most connections see one chain: no room for more until a second comes.
                self.summary.chains.reserve_exact(1);
                self.summary.chains.push(Chain {
                    frame,
                    time: ts,
                    presented_by: dir.sender(),
                    certificates,
                    trust: None,
                    der,
                });
            }
            None => self.note_malformed(frame, "Certificate message does not parse"),
        }
    }
}

/// What a stream has seen so far: the fields of [`TlsSummary`] that are filled as records
/// are read (its steps are packed in a [`ladder::Ladder`]; the decryption status is told when
/// the connection is settled). Tens of thousands of connections stay open at once.
#[derive(Debug, Default)]
struct Seen {
    client_hello: Option<SeenClientHello>,
    server_hello: Option<SeenServerHello>,
    chains: Vec<Chain>,
    certificate_request: Option<Box<CertRequest>>,
    alerts: Vec<Alert>,
    application_records: [u64; 2],
    application_bytes: [u64; 2],
    /// Frame plus one.
    first_application_frame: [Option<NonZeroU64>; 2],
    resyncs: u32,
    malformed: Option<Box<str>>,
    decrypted_bytes: u64,
    encrypted_records: Vec<(crate::net::Side, u64, usize)>,
}

/// A ClientHello as [`ClientHello`] tells it, in numbers (names are looked up when the
/// summary is made).
#[derive(Debug)]
struct SeenClientHello {
    frame: u64,
    sni: Option<Box<str>>,
    offered: Box<[u16]>,
    suites: u32,
}

/// A ServerHello as [`ServerHello`] tells it, in numbers (`suite` is `None` when the message
/// did not parse past its version).
#[derive(Debug)]
struct SeenServerHello {
    frame: u64,
    version: u16,
    suite: Option<u16>,
    hrr: bool,
}

/// Notes the first application data in direction `i`; the handshake is over by then, so its
/// steps take no more room than they need (thousands of connections stay open for hours).
fn first_application(s: &mut Seen, ladder: &mut ladder::Ladder, i: usize, frame: u64) {
    if s.first_application_frame[i].is_none() {
        s.first_application_frame[i] = plus_one(frame);
        ladder.shrink_to_fit();
    }
}

fn cert_hex(b: &[u8]) -> String {
    crate::cert::hex(b)
}

fn plausible_header(b: &[u8]) -> bool {
    b.len() >= 5
        && (20..=24).contains(&b[0])
        && b[1] == 3
        && b[2] <= 4
        && (u16::from_be_bytes([b[3], b[4]]) as usize) <= MAX_RECORD
}

/// Walks a TLS extensions block: `(type, data)` pairs; stops at the first malformed entry.
fn extensions(mut b: &[u8]) -> Vec<(u16, &[u8])> {
    let mut out = Vec::new();
    while b.len() >= 4 {
        let t = u16::from_be_bytes([b[0], b[1]]);
        let l = u16::from_be_bytes([b[2], b[3]]) as usize;
        let Some(d) = b.get(4..4 + l) else { break };
        out.push((t, d));
        b = &b[4 + l..];
    }
    out
}

fn parse_sni(d: &[u8]) -> Option<String> {
    // list length (2), then entries: type (1), length (2), name.
    let list = d.get(2..)?;
    if *list.first()? != 0 {
        return None;
    }
    let n = u16::from_be_bytes([*list.get(1)?, *list.get(2)?]) as usize;
    let name = list.get(3..3 + n)?;
    Some(String::from_utf8_lossy(name).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::Side;

    fn no_keys() -> KeyLog {
        KeyLog::default()
    }

    #[test]
    fn alert_split_across_segments_and_after_a_gap() {
        let mut t = TlsStream::default();
        let log = no_keys();
        let k = Keys {
            log: &log,
            certs: &Default::default(),
            hold_budget: None,
            inject: None,
        };
        let mut app = |_: Dir, _: &[u8], _: u64, _: Ts| {};
        t.data(Dir::ToClient, &[21, 3, 3, 0], 1, Ts(0), k, &mut app);
        t.data(Dir::ToClient, &[2, 2, 48], 2, Ts(1), k, &mut app);
        assert_eq!(t.summary.alerts.len(), 1);
        let a = &t.summary.alerts[0];
        assert_eq!(
            (a.at.number(), a.sent_by, a.code, a.is_fatal()),
            (2, Side::Server, Some(AlertDescription::UNKNOWN_CA), true)
        );
        assert_eq!(a.description, "unknown_ca");
        // A gap, then garbage, then a record: the decoder finds it again.
        t.gap(Dir::ToServer);
        t.data(
            Dir::ToServer,
            &[0x99, 0x98, 21, 3, 3, 0, 2, 1, 0x99],
            3,
            Ts(2),
            k,
            &mut app,
        );
        assert_eq!(t.summary.alerts[1].description, "unassigned_153");
        assert_eq!(t.summary.alerts[1].sent_by, Side::Client);
    }

    #[test]
    fn handshake_message_split_across_records() {
        let mut t = TlsStream::default();
        let log = no_keys();
        let k = Keys {
            log: &log,
            certs: &Default::default(),
            hold_budget: None,
            inject: None,
        };
        let mut app = |_: Dir, _: &[u8], _: u64, _: Ts| {};
        // ServerHelloDone (type 14, empty) split into two records of 2 bytes each.
        t.data(
            Dir::ToClient,
            &[22, 3, 3, 0, 2, 14, 0],
            5,
            Ts(0),
            k,
            &mut app,
        );
        assert!(t.summary(&log).steps.is_empty());
        t.data(
            Dir::ToClient,
            &[22, 3, 3, 0, 2, 0, 0],
            6,
            Ts(0),
            k,
            &mut app,
        );
        assert_eq!(t.summary(&log).steps[0].message.label(), "ServerHelloDone");
        assert_eq!(t.summary(&log).steps[0].frame, 6);
    }
}
