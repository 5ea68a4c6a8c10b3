//! SIP as it streams: every message is analyzed, in memory that grows with devices and open
//! transactions, never with messages or time.
//!
//! REGISTER transactions are paired as messages arrive and kept per device only while the
//! device's registration *attempt* is open. An attempt ends when a REGISTER is answered 2xx
//! (the device registered) or with a refusal that nothing later can change (4xx–6xx other than
//! a 401/407 challenge, or a challenge to a REGISTER that carried a Bearer token); its messages then move to the *window*, which the SIP rules
//! judge whole once it holds [`WINDOW`] messages, and at the end of the capture. Other SIP
//! (OPTIONS, INVITE, answers to requests not seen) goes to the window as it comes.
//!
//! A device keeps, between attempts, only the last 200 OK with its REGISTER (stripped of the
//! headers the rules do not read): it is given to the next window as *context*, so that a
//! lapse between two registrations judged in different windows is still seen, and it is never
//! judged twice. A device keeps the first [`LISTED_PER_DEVICE`] REGISTER transactions for the
//! report's `registrations[]` and counts the rest.

use std::collections::{BTreeMap, HashMap};

use crate::sip::SipMessage;

use super::registration::{self, Registration, Transaction};

/// SIP messages a window holds before the SIP rules judge it (bounded memory, whatever the
/// capture holds).
pub const WINDOW: usize = crate::config::SIP_WINDOW;

/// REGISTER transactions kept per device for the report's `registrations[]`; all are analyzed.
pub const LISTED_PER_DEVICE: usize = 50;

/// REGISTER transactions an open attempt holds before its earlier ones are judged (a device
/// challenged over and over without ever registering).
pub const MAX_OPEN_STEPS: usize = 16;

/// SIP messages listed in the report besides those cited as evidence.
pub const LISTED_FIRST: usize = 2000;

/// Messages cited as evidence kept for the listing, past the first ones.
pub const LISTED_CITED: usize = 2000;

type TxKey = (String, u32, String);

fn key(m: &SipMessage) -> Option<TxKey> {
    Some((
        m.call_id.clone()?,
        m.cseq?,
        m.branch.clone().unwrap_or_default(),
    ))
}

/// One device's registration, as far as it must be remembered.
struct Device {
    name: String,
    /// Messages of the open attempt, with the key of each REGISTER transaction in order.
    pending: Vec<SipMessage>,
    pending_txs: Vec<TxKey>,
    /// The last 200 OK with its REGISTER (stripped), and the window it went to.
    last_ok: Option<(SipMessage, SipMessage, u64)>,
    /// Keys of the transactions last moved to a window (late retransmissions are recognized).
    recent: Vec<TxKey>,
    /// The first REGISTER transactions: request frame, final status.
    listed: Vec<(u64, Option<u16>)>,
    attempts: u64,
    first_frame: u64,
    /// Per node (`ip:port`), the first frame of a 2xx and of a refusal.
    ok_at: BTreeMap<String, u64>,
    refused_at: BTreeMap<String, u64>,
}

/// An open REGISTER transaction: its device and its place in the device's listing.
struct Open {
    device: usize,
    listed: Option<usize>,
}

/// A window of SIP ready to judge: the messages in frame order, which of them are context (a
/// device's earlier 200 OK and its REGISTER, judged before), and the device of each REGISTER.
pub struct Window {
    /// Messages in frame order.
    pub sip: Vec<SipMessage>,
    /// Transactions.
    pub transactions: Vec<Transaction>,
    /// Registrations per device.
    pub registrations: Vec<Registration>,
    /// Indices into `sip` of context messages.
    pub context: std::collections::BTreeSet<usize>,
}

/// A device's registrations for the report.
#[derive(Clone, Debug, PartialEq)]
pub struct DeviceRegistrations {
    /// Device name.
    pub device: String,
    /// REGISTER transactions (all).
    pub attempts: u64,
    /// Final statuses of the listed ones, in order.
    pub answers: Vec<u16>,
    /// Request frames of the listed ones.
    pub frames: Vec<u64>,
}

/// The streaming SIP state of one capture.
pub struct SipFlow {
    devices: Vec<Device>,
    by_name: HashMap<String, usize>,
    by_call: HashMap<String, usize>,
    open: HashMap<TxKey, Open>,
    /// The window being filled: messages with whether each is context, and the device of each
    /// REGISTER request (by its position).
    window: Vec<(SipMessage, bool)>,
    window_devices: HashMap<usize, usize>,
    windows: u64,
    listing: Vec<SipMessage>,
    listed_frames: std::collections::HashSet<u64>,
    cited: usize,
    /// Every SIP message read.
    pub total: u64,
    /// REGISTERs answered 2xx.
    pub registered: u64,
    /// Open attempts judged in pieces (past [`MAX_OPEN_STEPS`]).
    pub pieces: u64,
    /// Copies of transactions already judged (retransmissions after the answer).
    pub late: u64,
    /// Devices with more REGISTER transactions than listed.
    pub devices_not_listed: u64,
    window_size: usize,
    /// Devices followed at most ([`crate::config::Limits::max_devices`]).
    pub max_devices: usize,
    /// REGISTER messages of devices past `max_devices`, judged one window at a time.
    pub past_device_limit: u64,
}

fn strip(m: &SipMessage) -> SipMessage {
    let mut s = m.clone();
    s.headers.clear();
    s.warnings.clear();
    s.auth.retain(|a| a.header.ends_with("ization"));
    s.uri = None;
    s.user_agent = None;
    s.server = None;
    s
}

impl SipFlow {
    /// A flow that follows at most `max_devices` devices and fills windows of `window`
    /// messages.
    pub fn new(max_devices: usize, window: usize) -> SipFlow {
        SipFlow {
            window_size: window.max(1),
            devices: Vec::new(),
            by_name: HashMap::new(),
            by_call: HashMap::new(),
            open: HashMap::new(),
            window: Vec::new(),
            window_devices: HashMap::new(),
            windows: 0,
            listing: Vec::new(),
            listed_frames: Default::default(),
            cited: 0,
            total: 0,
            registered: 0,
            pieces: 0,
            late: 0,
            devices_not_listed: 0,
            max_devices,
            past_device_limit: 0,
        }
    }

    /// Takes one SIP message as it is read; returns true when the window is full and should be
    /// judged ([`SipFlow::take_window`]).
    pub fn push(&mut self, m: SipMessage) -> bool {
        self.total += 1;
        if self.listing.len() < LISTED_FIRST {
            self.listed_frames.insert(m.frame);
            self.listing.push(m.clone());
        }
        let is_register = m.method == "REGISTER";
        match (is_register, key(&m)) {
            (true, Some(k)) if m.is_request() => self.request(m, k),
            (true, Some(k)) => self.response(m, k),
            _ => self.window.push((m, false)),
        }
        self.window_full()
    }

    /// Whether the window is full and should be judged.
    pub fn window_full(&self) -> bool {
        self.window.len() >= self.window_size
    }

    fn device_of(&mut self, m: &SipMessage) -> Option<usize> {
        let call = m.call_id.clone().unwrap_or_default();
        let name = m
            .device
            .clone()
            .or_else(|| {
                self.by_call
                    .get(&call)
                    .map(|&d| self.devices[d].name.clone())
            })
            .or_else(|| m.to.clone())
            .unwrap_or_else(|| format!("call-id {call}"));
        let d = match self.by_name.get(&name) {
            Some(&d) => d,
            None if self.devices.len() >= self.max_devices => return None,
            None => {
                self.devices.push(Device {
                    name: name.clone(),
                    pending: Vec::new(),
                    pending_txs: Vec::new(),
                    last_ok: None,
                    recent: Vec::new(),
                    listed: Vec::new(),
                    attempts: 0,
                    first_frame: m.frame,
                    ok_at: BTreeMap::new(),
                    refused_at: BTreeMap::new(),
                });
                self.by_name.insert(name, self.devices.len() - 1);
                self.devices.len() - 1
            }
        };
        if self.by_call.len() < 4 * self.max_devices {
            self.by_call.entry(call).or_insert(d);
        }
        Some(d)
    }

    fn request(&mut self, m: SipMessage, k: TxKey) {
        if let Some(o) = self.open.get(&k) {
            self.devices[o.device].pending.push(m);
            return;
        }
        let Some(d) = self.device_of(&m) else {
            self.past_device_limit += 1;
            self.window.push((m, false));
            return;
        };
        let dev = &mut self.devices[d];
        if dev.recent.contains(&k) {
            self.late += 1;
            return;
        }
        dev.attempts += 1;
        let listed = (dev.listed.len() < LISTED_PER_DEVICE).then(|| {
            dev.listed.push((m.frame, None));
            dev.listed.len() - 1
        });
        if dev.attempts == LISTED_PER_DEVICE as u64 + 1 {
            self.devices_not_listed += 1;
        }
        dev.pending.push(m);
        dev.pending_txs.push(k.clone());
        self.open.insert(k, Open { device: d, listed });
        if dev.pending_txs.len() > MAX_OPEN_STEPS {
            self.pieces += 1;
            self.flush(d, None, true);
        }
    }

    fn response(&mut self, m: SipMessage, k: TxKey) {
        let Some(o) = self.open.get(&k) else {
            let late = m
                .call_id
                .as_ref()
                .and_then(|c| self.by_call.get(c))
                .is_some_and(|&d| self.devices[d].recent.contains(&k));
            if late {
                self.late += 1;
            } else {
                self.window.push((m, false));
            }
            return;
        };
        let (d, listed) = (o.device, o.listed);
        let status = m.status.unwrap_or(0);
        let dev = &mut self.devices[d];
        if status < 200 {
            dev.pending.push(m);
            return;
        }
        if let Some(i) = listed {
            if dev.listed[i].1.is_none() {
                dev.listed[i].1 = Some(status);
            }
        }
        let req = dev
            .pending
            .iter()
            .find(|p| p.is_request() && key(p).as_ref() == Some(&k));
        let node = req.map_or(m.src, |r| r.dst).to_string();
        // A challenge to a REGISTER that carried a Bearer token is a refusal of the token: what
        // follows cannot change how it is judged.
        let bearer = req.is_some_and(|r| {
            r.auth
                .iter()
                .any(|a| a.header.ends_with("ization") && a.scheme.eq_ignore_ascii_case("bearer"))
        });
        let req = req.map(strip);
        match status {
            200..=299 => {
                dev.ok_at.entry(node).or_insert(m.frame);
                let ok = strip(&m);
                dev.pending.push(m);
                self.flush(d, req.map(|r| (r, ok)), false);
            }
            401 | 407 if !bearer => dev.pending.push(m),
            _ => {
                if status >= 400 {
                    dev.refused_at.entry(node).or_insert(m.frame);
                }
                dev.pending.push(m);
                self.flush(d, None, false);
            }
        }
    }

    /// Moves a device's open attempt to the window (all of it, or all but its last
    /// transaction), with the device's earlier 200 OK as context when that went to an earlier
    /// window.
    fn flush(&mut self, d: usize, ok: Option<(SipMessage, SipMessage)>, keep_last: bool) {
        let windows = self.windows;
        let dev = &mut self.devices[d];
        if let Some((req, resp, w)) = dev.last_ok.take() {
            if w < windows {
                self.window.push((req, true));
                self.window.push((resp, true));
            }
        }
        let keep: Option<TxKey> = if keep_last {
            dev.pending_txs.last().cloned()
        } else {
            None
        };
        let (moved, kept): (Vec<SipMessage>, Vec<SipMessage>) = std::mem::take(&mut dev.pending)
            .into_iter()
            .partition(|m| keep.is_none() || key(m) != keep);
        dev.pending = kept;
        let txs = std::mem::take(&mut dev.pending_txs);
        dev.recent.clear();
        for k in txs {
            if Some(&k) == keep.as_ref() {
                dev.pending_txs.push(k);
            } else {
                self.open.remove(&k);
                if dev.recent.len() < MAX_OPEN_STEPS {
                    dev.recent.push(k);
                }
            }
        }
        for m in moved {
            if m.is_request() {
                self.window_devices.insert(self.window.len(), d);
            }
            self.window.push((m, false));
        }
        if let Some((req, resp)) = ok {
            dev.last_ok = Some((req, resp, windows));
        }
    }

    /// The window to judge now, and empties it. At the end of the capture (`last`), every open
    /// attempt joins it, and each device's last 200 OK judged in an earlier window comes as
    /// context (so that a registration not refreshed before the end is seen).
    pub fn take_window(&mut self, last: bool) -> Window {
        if last {
            let windows = self.windows;
            for d in 0..self.devices.len() {
                let dev = &mut self.devices[d];
                if dev.pending.is_empty() {
                    if let Some((req, resp, w)) = dev.last_ok.take() {
                        if w < windows {
                            self.window.push((req, true));
                            self.window.push((resp, true));
                        }
                    }
                    continue;
                }
                self.flush(d, None, false);
            }
        }
        self.windows += 1;
        let mut items = std::mem::take(&mut self.window);
        let devices = std::mem::take(&mut self.window_devices);
        // Names for REGISTER requests: the device this flow filed them under.
        let mut named: Vec<(SipMessage, bool, Option<usize>)> = items
            .drain(..)
            .enumerate()
            .map(|(i, (m, c))| (m, c, devices.get(&i).copied()))
            .collect();
        named.sort_by_key(|(m, _, _)| m.frame);
        let mut context = std::collections::BTreeSet::new();
        let mut names = Vec::with_capacity(named.len());
        let mut sip = Vec::with_capacity(named.len());
        for (i, (m, c, d)) in named.into_iter().enumerate() {
            if c {
                context.insert(i);
            }
            names.push(d.map(|d| self.devices[d].name.clone()));
            sip.push(m);
        }
        let (transactions, registrations) =
            registration::build_named(&sip, &|i| names.get(i).cloned().flatten());
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
        }
    }

    /// Keeps for the report's listing the messages of a judged window (`sip`, with its
    /// `context`) cited as evidence (`frames`).
    pub fn keep_cited(
        &mut self,
        sip: &[SipMessage],
        context: &std::collections::BTreeSet<usize>,
        frames: &[u64],
    ) {
        let frames: std::collections::HashSet<u64> = frames.iter().copied().collect();
        for (i, m) in sip.iter().enumerate() {
            if self.cited >= LISTED_CITED {
                return;
            }
            if context.contains(&i)
                || !frames.contains(&m.frame)
                || !self.listed_frames.insert(m.frame)
            {
                continue;
            }
            self.listing.push(m.clone());
            self.cited += 1;
        }
    }

    /// The SIP listed in the report (the first messages and those cited), in frame order.
    pub fn take_listing(&mut self) -> Vec<SipMessage> {
        let mut l = std::mem::take(&mut self.listing);
        l.sort_by_key(|m| m.frame);
        l
    }

    /// Each device's REGISTER transactions, in the order devices first registered.
    pub fn registrations(&self) -> Vec<DeviceRegistrations> {
        let mut order: Vec<&Device> = self.devices.iter().filter(|d| d.attempts > 0).collect();
        order.sort_by_key(|d| d.first_frame);
        order
            .into_iter()
            .map(|d| {
                let mut listed = d.listed.clone();
                listed.sort_by_key(|l| l.0);
                DeviceRegistrations {
                    device: d.name.clone(),
                    attempts: d.attempts,
                    answers: listed.iter().filter_map(|l| l.1).collect(),
                    frames: listed.iter().map(|l| l.0).collect(),
                }
            })
            .collect()
    }

    /// Devices refused by one node and registered on another: the difference is per node.
    pub fn per_node_notes(&self) -> Vec<String> {
        let mut order: Vec<&Device> = self.devices.iter().collect();
        order.sort_by_key(|d| d.first_frame);
        let mut notes = Vec::new();
        for d in order {
            for (node, frame) in &d.refused_at {
                if let Some((good, gframe)) = d.ok_at.iter().find(|(n, _)| *n != node) {
                    notes.push(format!(
                        "{} was refused by {node} (frame {frame}) but registered on {good} (frame {gframe}): the difference is per node (its OAuth ports, certificate, or CallManager service)",
                        d.name
                    ));
                }
            }
        }
        notes
    }

    /// Devices seen.
    pub fn devices(&self) -> usize {
        self.devices.len()
    }
}
