//! SIP as it streams: every message is analyzed, in memory that grows with devices and open
//! transactions, never with messages or time.
//!
//! REGISTER transactions are paired as messages arrive and kept per device only while the
//! device's registration *attempt* is open. An attempt ends when a REGISTER is answered 2xx
//! (the device registered) or with a refusal that nothing later can change (4xx–6xx other than
//! a 401/407 challenge, or a challenge to a REGISTER that carried a Bearer token). Its messages
//! then move to the *window*, which the SIP rules judge whole once it holds [`WINDOW`]
//! messages, and at the end of the capture. Other SIP (OPTIONS, INVITE, answers to requests not
//! seen) goes to the window as it comes.
//!
//! A device keeps, between attempts, only what the rules compare the next REGISTER with: the
//! last 200 OK and its REGISTER, in a compact form (about 150 bytes). It is given to the next
//! window as *context*, so that a lapse between two registrations judged in different windows
//! is still seen, and it is never judged twice. A device keeps the first
//! [`LISTED_PER_DEVICE`] REGISTER transactions for the report's `registrations[]` and counts
//! the rest.

use crate::place::{At, Files, Packed};
use std::collections::{BTreeSet, HashSet};

// Lookups only (never iterated), so a seeded hash keeps the output deterministic.
use foldhash::{HashMap, HashMapExt};

use crate::net::{key128, minus_one, plus_one, Endpoint, Transport};
use crate::sip::SipMessage;
use crate::time::Ts;

use super::registration::{self, Registration, Transaction};

/// SIP messages a window holds before the SIP rules judge it (bounded memory, whatever the
/// capture holds).
pub const WINDOW: usize = crate::config::SIP_WINDOW;

/// SIP's Timer F (64 x T1 = 32 s): a REGISTER transaction that has no final answer this long
/// after its request is over, on UDP as on TCP or TLS. An open attempt whose last REGISTER is
/// this old (unanswered, or challenged and never followed) is judged then ([`SipFlow::expire`]),
/// not when the device next speaks.
pub const TIMER_F_NS: i64 = 32_000_000_000;

/// REGISTER transactions kept per device for the report's `registrations[]`; all are analyzed
/// and counted.
pub const LISTED_PER_DEVICE: usize = 10;

/// REGISTER transactions an open attempt holds before its earlier ones are judged (a device
/// challenged over and over without ever registering).
pub const MAX_OPEN_STEPS: usize = 16;

/// Messages an open attempt holds at most: past it, retransmissions, provisional answers and
/// repeated challenges of its transactions are counted, not kept (a flood of copies cannot
/// grow memory).
pub const MAX_PENDING: usize = 64;

/// SIP messages listed in the report besides those cited as evidence.
pub const LISTED_FIRST: usize = 2000;

/// Messages cited as evidence kept for the listing, past the first ones.
pub const LISTED_CITED: usize = 2000;

/// A transaction as a digest: the table of open transactions keeps no copy of the strings,
/// and nothing is allocated per message ([`super::registration::key`] says what it holds).
type TxKey = super::registration::TxKey;
use super::registration::{key, COPY_WINDOW_NS};

/// Whether `m` belongs to transaction `k`.
fn is_of(m: &SipMessage, k: &TxKey) -> bool {
    key(m) == Some(*k)
}

/// A transaction key as one number, to recognize late copies of transactions already judged
/// (a collision only lets one late copy through, where it is judged as an answer not seen).
fn digest(k: &TxKey) -> u64 {
    k.0
}

/// Where a message was: frame, time, `tcp.stream` plus one (none: UDP), sender, receiver.
type Seen = (Packed, Ts, Option<std::num::NonZeroU64>, Endpoint, Endpoint);

/// A device's last 200 OK and its REGISTER, as much as the rules read of them when they
/// compare the next REGISTER with them.
struct LastOk {
    transport: Transport,
    req: Seen,
    ok: Seen,
    cseq: Option<u32>,
    status: u16,
    expires: Option<u32>,
    /// Call-ID, branch and reason phrase end to end, in one allocation ([`LastOk::text`]).
    text: Box<str>,
    /// Their lengths in `text` (`u32::MAX`: absent).
    lens: [u32; 3],
    /// The window it went to.
    window: u64,
}

impl LastOk {
    fn of(req: &SipMessage, ok: &SipMessage, window: u64, files: &mut Files) -> LastOk {
        let mut at = |m: &SipMessage| {
            (
                Packed::pack(&m.at, files),
                m.time,
                m.tcp_stream.and_then(plus_one),
                m.src,
                m.dst,
            )
        };
        LastOk {
            transport: req.transport,
            req: at(req),
            ok: at(ok),
            cseq: req.cseq,
            status: ok.status.unwrap_or(200),
            expires: ok.expires,
            text: [&req.call_id, &req.branch, &ok.reason]
                .iter()
                .filter_map(|t| t.as_deref())
                .collect::<String>()
                .into(),
            lens: [&req.call_id, &req.branch, &ok.reason].map(|t| {
                t.as_deref()
                    .map_or(u32::MAX, |t| u32::try_from(t.len()).unwrap_or(0))
            }),
            window,
        }
    }

    /// Call-ID (0), branch (1) or reason phrase (2).
    fn text(&self, which: usize) -> Option<String> {
        let mut at = 0;
        for (i, &len) in self.lens.iter().enumerate() {
            let len = (len != u32::MAX).then_some(len as usize);
            if i == which {
                return len.and_then(|len| self.text.get(at..at + len).map(String::from));
            }
            at += len.unwrap_or(0);
        }
        None
    }

    /// The two messages again, with what the rules read of them (no other header).
    fn messages(&self, device: &str, files: &Files) -> [SipMessage; 2] {
        let message = |at: Seen, request: bool| SipMessage {
            at: at.0.unpack(files),
            time: at.1,
            transport: self.transport,
            tcp_stream: at.2.map(minus_one),
            src: at.3,
            dst: at.4,
            method: "REGISTER".into(),
            status: (!request).then_some(self.status),
            reason: if request { None } else { self.text(2) },
            uri: None,
            headers: Vec::new(),
            body_len: 0,
            cseq: self.cseq,
            call_id: self.text(0),
            branch: self.text(1),
            device: request.then(|| device.to_string()),
            to: None,
            warnings: Vec::new(),
            auth: Vec::new(),
            expires: if request { None } else { self.expires },
            retry_after: None,
            reason_header: None,
            user_agent: None,
            server: None,
        };
        [message(self.req, true), message(self.ok, false)]
    }
}

/// One device's registration, as far as it must be remembered.
struct Device {
    name: Box<str>,
    /// Messages of the open attempt, with the key of each REGISTER transaction in order.
    pending: Vec<SipMessage>,
    pending_txs: Vec<TxKey>,
    last_ok: Option<Box<LastOk>>,
    /// Digests of the transactions last moved to a window (late copies are recognized).
    recent: Vec<u64>,
    /// The first REGISTER transactions: request frame, final status (0: none), packed in 10
    /// bytes each ([`Listed`]; 100 bytes a device instead of 160).
    listed: Vec<Listed>,
    attempts: u64,
    first_frame: Packed,
    /// Per node, the first frame of a 2xx and of a refusal.
    ok_at: Vec<(Endpoint, Packed)>,
    refused_at: Vec<(Endpoint, Packed)>,
    /// The open attempt went past [`MAX_OPEN_STEPS`] and its earlier part was judged.
    cut: bool,
    /// Time of its last REGISTER or answer (a live sensor releases devices idle past expiry).
    last_seen: Ts,
    /// A live sensor judged its registration lost at its expiry; its next REGISTER is noted.
    lapse_told: bool,
}

/// Items in blocks of [`CHUNK`]: a table of tens of thousands of devices grows without
/// moving them, and without the room a doubling vector leaves free (up to half of it).
struct Chunked<T> {
    chunks: Vec<Vec<T>>,
}

const CHUNK: usize = 1024;

impl<T> Default for Chunked<T> {
    fn default() -> Self {
        Chunked { chunks: Vec::new() }
    }
}

impl<T> Chunked<T> {
    fn len(&self) -> usize {
        self.chunks.iter().map(Vec::len).sum()
    }

    fn push(&mut self, item: T) {
        match self.chunks.last_mut() {
            Some(c) if c.len() < CHUNK => c.push(item),
            _ => {
                let mut c = Vec::with_capacity(CHUNK);
                c.push(item);
                self.chunks.push(c);
            }
        }
    }

    fn iter(&self) -> impl Iterator<Item = &T> {
        self.chunks.iter().flatten()
    }
}

impl<T> IntoIterator for Chunked<T> {
    type Item = T;
    type IntoIter = std::iter::Flatten<std::vec::IntoIter<Vec<T>>>;

    fn into_iter(self) -> Self::IntoIter {
        self.chunks.into_iter().flatten()
    }
}

impl<T> std::ops::Index<usize> for Chunked<T> {
    type Output = T;

    fn index(&self, i: usize) -> &T {
        &self.chunks[i / CHUNK][i % CHUNK]
    }
}

impl<T> std::ops::IndexMut<usize> for Chunked<T> {
    fn index_mut(&mut self, i: usize) -> &mut T {
        &mut self.chunks[i / CHUNK][i % CHUNK]
    }
}

/// A listed REGISTER transaction: its request's frame and its final status, packed.
#[derive(Clone, Copy)]
struct Listed([u8; 10]);

impl Listed {
    fn new(at: Packed) -> Listed {
        let mut b = [0u8; 10];
        b[..8].copy_from_slice(&at.to_bits().to_le_bytes());
        Listed(b)
    }

    fn at(self) -> Packed {
        let mut f = [0u8; 8];
        f.copy_from_slice(&self.0[..8]);
        Packed::from_bits(u64::from_le_bytes(f))
    }

    fn status(self) -> u16 {
        u16::from_le_bytes([self.0[8], self.0[9]])
    }

    fn set_status(&mut self, status: u16) {
        self.0[8..].copy_from_slice(&status.to_le_bytes());
    }
}

/// An open REGISTER transaction: its device and its place in the device's listing.
struct Open {
    device: u32,
    listed: Option<u8>,
    /// Its first final answer (a challenge) is kept: later copies may be dropped.
    answered: bool,
}

/// The SIP messages a report lists: the first [`LISTED_FIRST`] read and at most
/// [`LISTED_CITED`] more cited as evidence, each once.
#[derive(Debug, Default)]
pub struct SipListing {
    messages: Vec<SipMessage>,
    frames: HashSet<At>,
    cited: usize,
}

impl SipListing {
    /// Lists `m` if it is among the first read.
    fn first(&mut self, m: &SipMessage) {
        if self.messages.len() < LISTED_FIRST {
            self.frames.insert(m.at.clone());
            self.messages.push(m.clone());
        }
    }

    /// Lists the messages of `sip` (not its `context`) cited as evidence (`frames`).
    pub fn cite(&mut self, sip: &[SipMessage], context: &BTreeSet<usize>, frames: &[At]) {
        let frames: HashSet<&At> = frames.iter().collect();
        for (i, m) in sip.iter().enumerate() {
            if self.cited >= LISTED_CITED {
                return;
            }
            if context.contains(&i) || !frames.contains(&m.at) || !self.frames.insert(m.at.clone())
            {
                continue;
            }
            self.messages.push(m.clone());
            self.cited += 1;
        }
    }

    /// The messages listed, in frame order.
    pub fn into_sorted(self) -> Vec<SipMessage> {
        let mut l = self.messages;
        l.sort_by(|a, b| a.at.cmp(&b.at));
        l
    }
}

/// A window of SIP ready to judge.
pub struct Window {
    /// Messages in frame order.
    pub sip: Vec<SipMessage>,
    /// Transactions.
    pub transactions: Vec<Transaction>,
    /// Registrations per device.
    pub registrations: Vec<Registration>,
    /// Indices into `sip` of context messages (a device's 200 OK and its REGISTER, judged in
    /// an earlier window).
    pub context: BTreeSet<usize>,
    /// Devices whose registration a live sensor judged lost at its expiry
    /// ([`SipFlow::lapse_told`]) and whose next REGISTER is in this window: what that
    /// REGISTER's Reason says about the end of the last one was told with the lapse.
    pub lapse_told: Vec<String>,
}

/// A device's registrations, as `registrations[]` lists them.
#[derive(Clone, Debug, PartialEq, serde::Serialize, schemars::JsonSchema)]
pub struct DeviceRegistrations {
    /// Device name (or AOR).
    pub device: String,
    /// REGISTER transactions, all of them.
    pub attempts: u64,
    /// Final answers of the first ones listed (10 at most), in order, e.g. `407`, `200`.
    pub answers: Vec<u16>,
    /// The numbers of where the REGISTER requests of the first ones listed were seen, as JSON
    /// writes them: their frame numbers, or a log's line numbers (numbers, not places: a
    /// cluster lists hundreds of thousands).
    pub frames: Vec<u64>,
}

/// A message waiting in the window: whether it is context, and the device it was filed under.
struct Waiting {
    m: SipMessage,
    context: bool,
    device: Option<u32>,
}

/// The streaming SIP state of one capture.
pub struct SipFlow {
    devices: Chunked<Device>,
    /// Devices by name, and by the Call-IDs of their REGISTERs ([`key128`] of each: the
    /// names stay in the devices only).
    by_name: HashMap<(u64, u64), u32>,
    by_call: HashMap<(u64, u64), u32>,
    open: HashMap<TxKey, Open>,
    /// Devices of [`Window::lapse_told`] for the next window.
    lapse_followed: Vec<String>,
    /// When each open attempt's last REGISTER reaches Timer F, earliest first, by device (an
    /// entry whose attempt moved on since is skipped).
    deadlines: std::collections::BinaryHeap<std::cmp::Reverse<(i64, u32)>>,
    window: Vec<Waiting>,
    window_size: usize,
    windows: u64,
    /// The last window's buffers, emptied, for the next one: a window's messages take a few
    /// hundred kilobytes, and freeing and growing them again each time costs more than keeping
    /// them.
    spare: (Vec<Option<Waiting>>, Vec<SipMessage>),
    listing: SipListing,
    /// The log's files the places of [`Packed`] name.
    files: Files,
    /// Every SIP message read.
    pub total: u64,
    /// Every SIP message read, by transport (UDP, TCP, TLS).
    pub transports: [u64; 3],
    /// REGISTERs answered 2xx.
    pub registered: u64,
    /// Attempts judged in pieces (past [`MAX_OPEN_STEPS`]) that later carried credentials or
    /// registered: their earlier challenges were judged without knowing it. (An attempt that
    /// never does is judged in pieces exactly as it would be whole.)
    pub pieces: u64,
    /// Devices with more REGISTER transactions than listed.
    pub devices_not_listed: u64,
    /// Copies (retransmissions, provisional answers, repeated challenges) past
    /// [`MAX_PENDING`] in an open attempt: counted, not judged.
    pub over_pending: u64,
    /// Devices followed at most ([`crate::config::Limits::max_devices`]).
    pub max_devices: usize,
    /// REGISTER messages of devices past `max_devices`, judged one window at a time.
    pub past_device_limit: u64,
}

impl SipFlow {
    /// A flow that follows at most `max_devices` devices and fills windows of `window`
    /// messages.
    pub fn new(max_devices: usize, window: usize) -> SipFlow {
        SipFlow {
            transports: [0; 3],
            devices: Chunked::default(),
            by_name: HashMap::new(),
            by_call: HashMap::new(),
            open: HashMap::new(),
            lapse_followed: Vec::new(),
            deadlines: Default::default(),
            files: Files::default(),
            window: Vec::new(),
            window_size: window.max(1),
            windows: 0,
            spare: Default::default(),
            listing: SipListing::default(),
            total: 0,
            registered: 0,
            pieces: 0,
            devices_not_listed: 0,
            over_pending: 0,
            max_devices: max_devices.min(u32::MAX as usize),
            past_device_limit: 0,
        }
    }

    /// Takes one SIP message as it is read.
    pub fn push(&mut self, m: SipMessage) {
        self.total += 1;
        self.transports[m.transport as usize] += 1;
        self.listing.first(&m);
        let is_register = m.method == "REGISTER";
        match (is_register, key(&m)) {
            (true, Some(k)) if m.is_request() => self.request(m, k),
            (true, Some(k)) => self.response(m, k),
            _ => self.wait(m, false, None),
        }
    }

    fn wait(&mut self, m: SipMessage, context: bool, device: Option<u32>) {
        self.window.push(Waiting { m, context, device });
    }

    /// Whether the window is full and should be judged ([`SipFlow::take_window`]).
    pub fn window_full(&self) -> bool {
        self.window.len() >= self.window_size
    }

    /// The device a REGISTER is of, with when it was last seen before this message.
    fn device_of(&mut self, m: &SipMessage) -> Option<(u32, Ts)> {
        let call = m.call_id.as_deref().unwrap_or("");
        let call_key = key128(call);
        let by_call = self.by_call.get(&call_key).copied();
        let owned: String;
        let name: &str = match (&m.device, by_call) {
            (Some(d), _) => d,
            // A message without the device's name, in a call the device's REGISTER opened.
            (None, Some(d)) => {
                let dev = &mut self.devices[d as usize];
                let before = dev.last_seen;
                dev.last_seen = dev.last_seen.max(m.time);
                return Some((d, before));
            }
            (None, None) => {
                owned = m.to.clone().unwrap_or_else(|| format!("call-id {call}"));
                &owned
            }
        };
        let key = key128(name);
        let mut before = m.time;
        let d = match self.by_name.get(&key) {
            Some(&d) => {
                let dev = &mut self.devices[d as usize];
                before = dev.last_seen;
                dev.last_seen = dev.last_seen.max(m.time);
                d
            }
            None if self.devices.len() >= self.max_devices => return None,
            None => {
                self.devices.push(Device {
                    name: name.into(),
                    pending: Vec::new(),
                    pending_txs: Vec::new(),
                    last_ok: None,
                    recent: Vec::new(),
                    listed: Vec::new(),
                    attempts: 0,
                    first_frame: Packed::pack(&m.at, &mut self.files),
                    ok_at: Vec::new(),
                    refused_at: Vec::new(),
                    cut: false,
                    last_seen: m.time,
                    lapse_told: false,
                });
                let d = (self.devices.len() - 1) as u32;
                self.by_name.insert(key, d);
                d
            }
        };
        if by_call.is_none() && self.by_call.len() < 4 * self.max_devices {
            self.by_call.insert(call_key, d);
        }
        Some((d, before))
    }

    /// Keeps a copy in a device's open attempt, or counts it when the attempt is full.
    fn keep_copy(&mut self, d: u32, m: SipMessage) {
        let dev = &mut self.devices[d as usize];
        if dev.pending.len() < MAX_PENDING {
            dev.pending.push(m);
        } else {
            self.over_pending += 1;
        }
    }

    fn request(&mut self, m: SipMessage, k: TxKey) {
        if let Some(o) = self.open.get(&k) {
            let d = o.device;
            if m.time
                .0
                .saturating_sub(self.devices[d as usize].last_seen.0)
                <= COPY_WINDOW_NS
            {
                self.keep_copy(d, m);
                return;
            }
            // The same key long after: the old attempt is judged as it stands, and this
            // REGISTER opens a new one.
            self.flush(d, false);
        }
        let Some((d, before)) = self.device_of(&m) else {
            self.past_device_limit += 1;
            self.wait(m, false, None);
            return;
        };
        let dev = &mut self.devices[d as usize];
        if dev.recent.contains(&digest(&k)) && m.time.0.saturating_sub(before.0) <= COPY_WINDOW_NS {
            // A late copy of a transaction already judged (a retransmission after the answer).
            return;
        }
        dev.attempts += 1;
        if std::mem::take(&mut dev.lapse_told) {
            self.lapse_followed.push(dev.name.to_string());
        }
        let dev = &mut self.devices[d as usize];
        let listed = (dev.listed.len() < LISTED_PER_DEVICE).then(|| {
            if dev.listed.is_empty() {
                dev.listed.reserve_exact(LISTED_PER_DEVICE);
            }
            dev.listed
                .push(Listed::new(Packed::pack(&m.at, &mut self.files)));
            (dev.listed.len() - 1) as u8
        });
        if dev.attempts == LISTED_PER_DEVICE as u64 + 1 {
            self.devices_not_listed += 1;
        }
        if dev.cut && m.auth.iter().any(|a| a.header.ends_with("ization")) {
            // Credentials after the cut: the earlier challenges were judged without them.
            dev.cut = false;
            self.pieces += 1;
        }
        self.deadlines
            .push(std::cmp::Reverse((m.time.0.saturating_add(TIMER_F_NS), d)));
        dev.pending.push(m);
        dev.pending_txs.push(k);
        let steps = dev.pending_txs.len();
        self.open.insert(
            k,
            Open {
                device: d,
                listed,
                answered: false,
            },
        );
        if steps > MAX_OPEN_STEPS {
            self.devices[d as usize].cut = true;
            self.flush(d, true);
        }
    }

    fn response(&mut self, m: SipMessage, k: TxKey) {
        let Some(o) = self.open.get(&k) else {
            let late = m
                .call_id
                .as_deref()
                .and_then(|c| self.by_call.get(&key128(c)))
                .is_some_and(|&d| self.devices[d as usize].recent.contains(&digest(&k)));
            // An answer to a transaction already over (a late copy after its answer, or an
            // answer after Timer F ended it) is not judged again: the client's transaction
            // is over too (RFC 3261 17.1.2.2). However late it comes, the same is decided,
            // whether the attempt's window was judged before it or not.
            if !late {
                self.wait(m, false, None);
            }
            return;
        };
        let (d, listed, answered) = (o.device, o.listed, o.answered);
        let status = m.status.unwrap_or(0);
        let seen = &mut self.devices[d as usize].last_seen;
        *seen = (*seen).max(m.time);
        if status < 200 || answered {
            self.keep_copy(d, m);
            return;
        }
        if let Some(o) = self.open.get_mut(&k) {
            o.answered = true;
        }
        let dev = &mut self.devices[d as usize];
        if let Some(i) = listed {
            let l = &mut dev.listed[i as usize];
            if l.status() == 0 {
                l.set_status(status);
            }
        }
        let req = dev.pending.iter().find(|p| p.is_request() && is_of(p, &k));
        let node = req.map_or(m.src, |r| r.dst);
        // A challenge to a REGISTER that carried a Bearer token is a refusal of the token: what
        // follows cannot change how it is judged.
        let bearer = req.is_some_and(|r| {
            r.auth
                .iter()
                .any(|a| a.header.ends_with("ization") && a.scheme.eq_ignore_ascii_case("bearer"))
        });
        match status {
            200..=299 => {
                if std::mem::take(&mut dev.cut) {
                    self.pieces += 1;
                }
                if !dev.ok_at.iter().any(|(n, _)| *n == node) {
                    // One node is the rule: no room for four until a second one comes.
                    dev.ok_at.reserve_exact(1);
                    dev.ok_at.push((node, Packed::pack(&m.at, &mut self.files)));
                }
                let last = req.map(|r| Box::new(LastOk::of(r, &m, self.windows, &mut self.files)));
                dev.pending.push(m);
                self.flush(d, false);
                self.devices[d as usize].last_ok = last;
            }
            401 | 407 if !bearer => dev.pending.push(m),
            _ => {
                dev.cut = false;
                if status >= 400 && !dev.refused_at.iter().any(|(n, _)| *n == node) {
                    dev.refused_at.reserve_exact(1);
                    dev.refused_at
                        .push((node, Packed::pack(&m.at, &mut self.files)));
                }
                dev.pending.push(m);
                self.flush(d, false);
            }
        }
    }

    /// Gives the window a device's last 200 OK as context, when it went to an earlier window.
    fn context(&mut self, d: u32) {
        let dev = &mut self.devices[d as usize];
        let Some(last) = dev.last_ok.take() else {
            return;
        };
        if last.window < self.windows {
            let [req, ok] = last.messages(&dev.name, &self.files);
            self.wait(req, true, Some(d));
            self.wait(ok, true, None);
        }
    }

    /// Moves a device's open attempt to the window (all of it, or all but its last
    /// transaction), with the device's earlier 200 OK as context when that went to an earlier
    /// window.
    fn flush(&mut self, d: u32, keep_last: bool) {
        self.context(d);
        let dev = &mut self.devices[d as usize];
        let keep: Option<TxKey> = if keep_last {
            dev.pending_txs.last().cloned()
        } else {
            None
        };
        let pending = std::mem::take(&mut dev.pending);
        let txs = std::mem::take(&mut dev.pending_txs);
        dev.recent.clear();
        for k in txs {
            if Some(&k) == keep.as_ref() {
                dev.pending_txs.push(k);
            } else {
                if dev.recent.len() < MAX_OPEN_STEPS {
                    dev.recent.push(digest(&k));
                }
                self.open.remove(&k);
            }
        }
        for m in pending {
            if keep.as_ref().is_some_and(|k| is_of(&m, k)) {
                self.devices[d as usize].pending.push(m);
                continue;
            }
            let device = m.is_request().then_some(d);
            self.wait(m, false, device);
        }
    }

    /// At the end of the capture: device `d`'s open attempt goes to the window, or its last
    /// 200 OK judged in an earlier window comes as context (so that a registration not
    /// refreshed before the end is seen).
    pub fn end_device(&mut self, d: usize) {
        let d = d as u32;
        if self.devices[d as usize].pending.is_empty() {
            self.context(d);
        } else {
            self.flush(d, false);
        }
    }

    /// Capture time went on to `now`: each open attempt whose last REGISTER transaction
    /// began [`TIMER_F_NS`] or more before it goes to the window (its transactions are over: an
    /// answer after it is an answer to nothing open). Called with each packet's time before
    /// the packet is read, and on a sensor's ticks, so that the outcome depends on the
    /// packets' times only. Returns how many attempts went.
    pub fn expire(&mut self, now: Ts) -> usize {
        let mut gone = 0;
        while let Some(&std::cmp::Reverse((due, d))) = self.deadlines.peek() {
            if due > now.0 {
                break;
            }
            self.deadlines.pop();
            if d as usize >= self.devices.len() {
                continue;
            }
            let dev = &self.devices[d as usize];
            let Some(last) = dev.pending_txs.last() else {
                continue;
            };
            let began = dev
                .pending
                .iter()
                .find(|m| m.is_request() && is_of(m, last))
                .map(|m| m.time);
            if began.is_some_and(|t| now.0.saturating_sub(t.0) >= TIMER_F_NS) {
                self.flush(d, false);
                gone += 1;
            }
        }
        gone
    }

    /// Devices whose registration lapsed by `now`: their last 200 OK granted an Expires that
    /// ran out `grace_ns` ago or more, and no REGISTER followed. A live sensor judges them then
    /// ([`SipFlow::end_device`]), at the registration's expiry, not at its stop.
    pub fn lapsed(&self, now: Ts, grace_ns: i64) -> Vec<usize> {
        self.devices
            .iter()
            .enumerate()
            .filter(|(_, d)| {
                d.pending.is_empty()
                    && d.last_ok.as_ref().is_some_and(|l| {
                        let granted = i64::from(l.expires.unwrap_or(0)) * 1_000_000_000;
                        granted > 0
                            && now.0.saturating_sub(l.ok.1 .0) > granted.saturating_add(grace_ns)
                    })
            })
            .map(|(i, _)| i)
            .collect()
    }

    /// A live sensor judges device `d`'s lapsed registration now ([`SipFlow::lapsed`]): its
    /// last 200 OK goes to the window ([`SipFlow::end_device`]), and its next REGISTER is
    /// marked so that the lapse is not told twice.
    pub fn lapse_told(&mut self, d: usize) {
        self.end_device(d);
        self.devices[d].lapse_told = true;
    }

    /// The window to judge now, and empties it.
    pub fn take_window(&mut self) -> Window {
        self.windows += 1;
        // Sorted by frame through a permutation: the messages are large, moving them is not free.
        let (mut waiting, mut sip) = std::mem::take(&mut self.spare);
        waiting.extend(self.window.drain(..).map(Some));
        let files = &mut self.files;
        let mut order: Vec<(Packed, u32)> = waiting
            .iter()
            .enumerate()
            .map(|(i, w)| {
                let at = w.as_ref().map(|w| Packed::pack(&w.m.at, files));
                (at.unwrap_or_default(), i as u32)
            })
            .collect();
        order.sort_unstable();
        let mut context = BTreeSet::new();
        let mut names = Vec::with_capacity(waiting.len());
        sip.reserve(waiting.len());
        for (i, w) in order
            .into_iter()
            .filter_map(|(_, j)| waiting[j as usize].take())
            .enumerate()
        {
            if w.context {
                context.insert(i);
            }
            names.push(w.device);
            sip.push(w.m);
        }
        waiting.clear();
        self.spare.0 = waiting;
        let devices = &self.devices;
        let (transactions, registrations) = registration::build_named(&sip, &|i| {
            names
                .get(i)
                .copied()
                .flatten()
                .map(|d| &*devices[d as usize].name)
        });
        self.registered += transactions
            .iter()
            .filter(|t| !context.contains(&t.request) && sip[t.request].method == "REGISTER")
            .filter_map(|t| t.final_response(&sip))
            .filter(|m| m.status.is_some_and(|s| (200..300).contains(&s)))
            .count() as u64;
        Window {
            sip,
            transactions,
            registrations,
            context,
            lapse_told: std::mem::take(&mut self.lapse_followed),
        }
    }

    /// Takes back a judged window's messages: they are dropped, and their buffer serves the
    /// next window.
    pub fn recycle(&mut self, mut sip: Vec<SipMessage>) {
        sip.clear();
        if sip.capacity() <= 2 * self.window_size {
            self.spare.1 = sip;
        }
    }

    /// Keeps for the report's listing the messages of a judged window (`sip`, with its
    /// `context`) cited as evidence (`frames`).
    pub fn keep_cited(&mut self, sip: &[SipMessage], context: &BTreeSet<usize>, frames: &[At]) {
        self.listing.cite(sip, context, frames);
    }

    /// The SIP listed so far (the first messages and those cited).
    pub fn take_listing(&mut self) -> SipListing {
        std::mem::take(&mut self.listing)
    }

    /// Each device's REGISTER transactions, in the order devices first registered.
    pub fn registrations(&self) -> Vec<DeviceRegistrations> {
        let mut order: Vec<&Device> = self.devices.iter().filter(|d| d.attempts > 0).collect();
        order.sort_by_key(|d| d.first_frame);
        order
            .into_iter()
            .map(|d| {
                let mut listed: Vec<(Packed, u16)> =
                    d.listed.iter().map(|l| (l.at(), l.status())).collect();
                listed.sort_by_key(|l| l.0);
                DeviceRegistrations {
                    device: d.name.to_string(),
                    attempts: d.attempts,
                    answers: listed.iter().map(|l| l.1).filter(|s| *s != 0).collect(),
                    frames: listed
                        .iter()
                        .map(|l| l.0.unpack(&self.files).number())
                        .collect(),
                }
            })
            .collect()
    }

    /// Devices refused by one node and registered on another: the difference is per node.
    pub fn per_node_notes(&self) -> Vec<crate::note::Note> {
        let mut order: Vec<&Device> = self.devices.iter().collect();
        order.sort_by_key(|d| d.first_frame);
        let mut notes = Vec::new();
        for d in order {
            let sorted = |v: &[(Endpoint, Packed)]| {
                let mut v: Vec<(String, Packed)> =
                    v.iter().map(|(n, f)| (n.to_string(), *f)).collect();
                v.sort();
                v
            };
            let ok = sorted(&d.ok_at);
            for (node, frame) in sorted(&d.refused_at) {
                if let Some((good, gframe)) = ok.iter().find(|(n, _)| *n != node) {
                    notes.push(crate::note::Note::RefusedOnOneNode {
                        device: d.name.to_string(),
                        node,
                        at: frame.unpack(&self.files),
                        good: good.clone(),
                        good_at: gframe.unpack(&self.files),
                    });
                }
            }
        }
        notes
    }

    /// Devices seen.
    pub fn devices(&self) -> usize {
        self.devices.len()
    }

    /// Messages waiting in the window.
    pub fn waiting(&self) -> usize {
        self.window.len()
    }

    /// Devices a live sensor may let go at `now`: silent for `idle_ns` past the Expires their
    /// last 200 OK granted (or past their last message, when nothing was granted). Judging
    /// them as at the end of a capture ([`SipFlow::end_device`]) says whether the
    /// registration lapsed; then [`SipFlow::release`] forgets them.
    pub fn idle_devices(&self, now: Ts, idle_ns: i64) -> Vec<usize> {
        self.devices
            .iter()
            .enumerate()
            .filter(|(_, d)| {
                let granted = d.last_ok.as_ref().and_then(|l| l.expires).unwrap_or(0);
                let quiet = now.0.saturating_sub(d.last_seen.0);
                quiet > idle_ns.saturating_add(i64::from(granted) * 1_000_000_000)
            })
            .map(|(i, _)| i)
            .collect()
    }

    /// Forgets the devices `gone` (indices in increasing order, judged with
    /// [`SipFlow::end_device`] and their window taken): their names, calls and transactions.
    /// A device seen again later starts afresh.
    pub fn release(&mut self, gone: &[usize]) {
        if gone.is_empty() {
            return;
        }
        let mut new_index: Vec<Option<u32>> = Vec::with_capacity(self.devices.len());
        let mut kept = Chunked::default();
        let mut g = gone.iter().peekable();
        for (i, d) in std::mem::take(&mut self.devices).into_iter().enumerate() {
            if g.peek() == Some(&&i) {
                g.next();
                new_index.push(None);
            } else {
                new_index.push(Some(kept.len() as u32));
                kept.push(d);
            }
        }
        self.devices = kept;
        let map = |d: &mut u32| match new_index.get(*d as usize).copied().flatten() {
            Some(n) => {
                *d = n;
                true
            }
            None => false,
        };
        self.by_name.retain(|_, d| map(d));
        self.by_call.retain(|_, d| map(d));
        self.open.retain(|_, o| map(&mut o.device));
        self.deadlines = std::mem::take(&mut self.deadlines)
            .into_iter()
            .filter_map(|std::cmp::Reverse((t, mut d))| {
                map(&mut d).then_some(std::cmp::Reverse((t, d)))
            })
            .collect();
        for w in &mut self.window {
            if let Some(d) = &mut w.device {
                if !map(d) {
                    w.device = None;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(frame: u64, text: &str) -> SipMessage {
        crate::session::test_sip(frame, Ts(frame as i64 * 1_000_000), text)
    }

    fn register(frame: u64, cseq: u32) -> SipMessage {
        msg(
            frame,
            &format!(
                "REGISTER sip:cucm SIP/2.0\r\nVia: SIP/2.0/TCP 10.0.0.1:5090;branch=b{cseq}\r\n\
To: <sip:1001@cucm>\r\nCall-ID: c1\r\nCSeq: {cseq} REGISTER\r\n\
Contact: <sip:x@10.0.0.1>;+u.sip!devicename.ccm.cisco.com=\"CSFa\"\r\nContent-Length: 0\r\n\r\n"
            ),
        )
    }

    fn answer(frame: u64, cseq: u32, status: &str) -> SipMessage {
        msg(
            frame,
            &format!(
                "SIP/2.0 {status}\r\nVia: SIP/2.0/TCP 10.0.0.1:5090;branch=b{cseq}\r\n\
Call-ID: c1\r\nCSeq: {cseq} REGISTER\r\nExpires: 120\r\nContent-Length: 0\r\n\r\n"
            ),
        )
    }

    #[test]
    fn a_flood_of_copies_in_an_open_attempt_is_counted_not_kept() {
        let mut f = SipFlow::new(10, 1_000_000);
        f.push(register(1, 1));
        for i in 0..1000 {
            f.push(register(2 + i, 1)); // retransmissions
        }
        f.push(answer(2000, 1, "401 Unauthorized"));
        assert_eq!(f.total, 1002);
        assert_eq!(f.over_pending, 1000 - (MAX_PENDING as u64 - 1));
        // The challenge itself is kept: the attempt is judged with its answer.
        f.end_device(0);
        let w = f.take_window();
        assert_eq!(w.sip.len(), MAX_PENDING + 1);
        assert_eq!(w.transactions.len(), 1);
        assert_eq!(
            w.transactions[0]
                .final_response(&w.sip)
                .and_then(|m| m.status),
            Some(401)
        );
    }

    #[test]
    fn the_last_200_ok_comes_back_as_context_in_a_later_window_only() {
        let mut f = SipFlow::new(10, 1_000_000);
        f.push(register(1, 1));
        f.push(answer(2, 1, "200 OK"));
        // Judged in this window: no context needed.
        let first = f.take_window();
        assert_eq!(first.sip.len(), 2);
        assert!(first.context.is_empty());
        f.push(register(300, 2));
        f.push(answer(301, 2, "200 OK"));
        let second = f.take_window();
        // The earlier 200 OK and its REGISTER, as context, before the new transaction.
        assert_eq!(second.sip.len(), 4);
        assert_eq!(
            second.context.iter().copied().collect::<Vec<_>>(),
            vec![0, 1]
        );
        assert_eq!(second.registrations.len(), 1);
        assert_eq!(second.registrations[0].device, "CSFa");
        assert_eq!(second.registrations[0].transactions.len(), 2);
        assert_eq!(f.registered, 2, "context is not counted again");
        // At the end, the last 200 OK comes back once more, for the lapse check.
        f.end_device(0);
        let last = f.take_window();
        assert_eq!(last.context.len(), 2);
        assert_eq!(f.registered, 2);
    }

    #[test]
    fn an_attempt_ends_at_timer_f_by_packet_time_and_a_later_answer_is_to_nothing_open() {
        let mut f = SipFlow::new(10, 1_000_000);
        f.push(register(1, 1));
        f.push(answer(2, 1, "407 Proxy Authentication Required"));
        f.push(register(3, 2));
        // Its last REGISTER (3 ms) is 31.998 s old: the attempt is still open.
        assert_eq!(f.expire(Ts(32_000_000_000)), 0);
        assert_eq!(f.waiting(), 0);
        assert_eq!(
            f.expire(Ts(32_003_000_000)),
            1,
            "32 s after the last REGISTER"
        );
        assert_eq!(f.waiting(), 3);
        assert_eq!(f.expire(Ts(40_000_000_000)), 0, "each attempt once");
        // The answer that comes after Timer F is no answer to the attempt.
        f.push(answer(33_000, 2, "200 OK"));
        let w = f.take_window();
        assert_eq!(w.transactions.len(), 2);
        assert!(
            w.transactions[1].responses.is_empty(),
            "{:?}",
            w.transactions
        );
        assert_eq!(f.registered, 0);
    }

    #[test]
    fn a_registration_lapses_past_its_expiry_and_grace_and_is_told_once() {
        let mut f = SipFlow::new(10, 1_000_000);
        f.push(register(1, 1));
        f.push(answer(2, 1, "200 OK"));
        let _ = f.take_window();
        // Expires 120 s from the 200 OK at 2 ms, plus 6 s.
        assert!(f.lapsed(Ts(126_002_000_000), 6_000_000_000).is_empty());
        assert_eq!(f.lapsed(Ts(126_003_000_000), 6_000_000_000), [0]);
        f.lapse_told(0);
        assert_eq!(f.take_window().context.len(), 2);
        assert!(f.lapsed(Ts(200_000_000_000), 6_000_000_000).is_empty());
        // The next REGISTER is marked: its Reason was told with the lapse.
        f.push(register(300_000, 2));
        f.push(answer(300_001, 2, "200 OK"));
        assert_eq!(f.take_window().lapse_told, ["CSFa"]);
    }

    #[test]
    fn blocks_of_devices_index_iterate_and_give_back_in_order() {
        let mut c: Chunked<u32> = Chunked::default();
        for i in 0..(2 * CHUNK as u32 + 7) {
            c.push(i);
        }
        assert_eq!(c.len(), 2 * CHUNK + 7);
        assert_eq!(c.chunks.len(), 3);
        assert_eq!(
            (c[0], c[CHUNK - 1], c[CHUNK], c[2 * CHUNK + 6]),
            (0, 1023, 1024, 2054)
        );
        c[CHUNK] = 99;
        assert!(c
            .iter()
            .copied()
            .eq((0..2 * CHUNK as u32 + 7).map(|i| if i == 1024 { 99 } else { i })));
        assert_eq!(c.into_iter().filter(|&i| i == 99).count(), 2);
    }

    #[test]
    fn a_listed_transaction_keeps_a_log_line_and_its_answer() {
        let mut files = Files::default();
        let line = At::line(3, "jabber.log".into(), 123_456);
        let at = Packed::pack(&line, &mut files);
        let mut l = Listed::new(at);
        assert_eq!((l.at(), l.status()), (at, 0));
        l.set_status(407);
        assert_eq!((l.at().unpack(&files), l.status()), (line, 407));
    }

    #[cfg(target_pointer_width = "64")]
    #[test]
    fn a_device_record_stays_within_its_size_classes() {
        // Held per device for the whole run (docs/performance.md).
        assert!(std::mem::size_of::<LastOk>() <= 192, "last 200 OK");
        assert_eq!(std::mem::size_of::<Listed>(), 10);
    }
}
