//! Flow table: TCP connections numbered like Wireshark's `tcp.stream`, reassembled per
//! direction, with their outcome; UDP datagrams pass straight through.

pub mod reassembly;

use serde::Serialize;

use crate::decode::{flags, TcpSegment};
use crate::net::{Dir, Endpoint};
use crate::time::Ts;
use reassembly::{Chunk, Half};

/// Feeds stream bytes to a decoder that reads whole units (records, messages) and returns how
/// many leading bytes it used: `bytes` are read where they lie when nothing is `pending`, else
/// after it. Returns what must wait for more bytes; an emptied copy is freed, so that thousands
/// of idle connections hold no buffer.
pub fn read_in_place(
    mut pending: Vec<u8>,
    bytes: &[u8],
    read: impl FnOnce(&[u8]) -> usize,
) -> Vec<u8> {
    if pending.is_empty() {
        let used = read(bytes).min(bytes.len());
        return bytes[used..].to_vec();
    }
    pending.extend_from_slice(bytes);
    let used = read(&pending).min(pending.len());
    if used == pending.len() {
        return Vec::new();
    }
    pending.drain(..used);
    pending
}

/// What a connection delivers to the application layer.
#[derive(Debug)]
pub enum Event<'a> {
    /// In-order stream bytes.
    Data(Dir, &'a [u8], u64, Ts),
    /// Bytes missing from the capture.
    Gap(Dir, u32, u64, Ts),
    /// FIN from that direction's sender.
    Fin(Dir, u64, Ts),
    /// RST from that direction's sender.
    Rst(Dir, u64, Ts),
}

/// How a TCP connection went.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// SYN answered by SYN/ACK; still open when the capture ended.
    Established,
    /// SYN answered by RST.
    Refused,
    /// SYN never answered.
    UnansweredSyn,
    /// Ended by a RST.
    Reset,
    /// Ended by FIN.
    Closed,
    /// Picked up mid-connection and not ended in the capture.
    Open,
}

/// What the flow layer knows about a connection.
#[derive(Debug, Clone)]
pub struct ConnMeta {
    /// Wireshark's `tcp.stream`.
    pub stream: u64,
    /// The side that opened the connection (or, without a SYN, the best guess).
    pub client: Endpoint,
    /// The other side.
    pub server: Endpoint,
    /// Whether the roles come from the SYN (rather than ports or content).
    pub roles_from_syn: bool,
    /// First frame and time.
    pub first: (u64, Ts),
    /// Last frame and time.
    pub last: (u64, Ts),
    /// SYNs sent by the client (retransmissions included).
    pub syns: u32,
    /// Frames of the first SYNs (at most 8; one is the rule, so no spare room).
    pub syn_frames: Box<[u64]>,
    /// Frame of the SYN/ACK, plus one ([`ConnMeta::synack`]).
    synack: Option<std::num::NonZeroU64>,
    /// How it ended, once a FIN or RST came (boxed: tens of thousands of connections stay
    /// open for hours).
    pub ends: Option<Box<Ends>>,
    /// Payload bytes per direction.
    pub bytes: [u64; 2],
    /// Frames in this connection.
    pub packets: u64,
}

/// The FINs and RST of a connection.
#[derive(Debug, Clone, Default)]
pub struct Ends {
    /// First FIN per direction.
    pub fin: [Option<(u64, Ts)>; 2],
    /// First RST and its direction.
    pub rst: Option<(Dir, u64, Ts)>,
}

impl ConnMeta {
    /// Whether the connection holds only the client's SYNs, unanswered.
    pub fn syns_only(&self) -> bool {
        self.syns > 0 && u64::from(self.syns) == self.packets && self.synack.is_none()
    }

    /// Whether this is a connection of unanswered SYNs silent for [`SYN_GIVEN_UP_NS`] at `now`.
    pub fn syns_given_up(&self, now: Ts) -> bool {
        self.syns_only() && now.0.saturating_sub(self.last.1 .0) >= SYN_GIVEN_UP_NS
    }

    /// The frame of the SYN/ACK, when one was seen.
    pub fn synack(&self) -> Option<u64> {
        self.synack.map(crate::net::minus_one)
    }

    /// First FIN per direction.
    pub fn fin(&self) -> [Option<(u64, Ts)>; 2] {
        self.ends.as_ref().map_or([None, None], |e| e.fin)
    }

    /// First RST and its direction.
    pub fn rst(&self) -> Option<(Dir, u64, Ts)> {
        self.ends.as_ref().and_then(|e| e.rst)
    }

    /// The connection's outcome at the end of the capture.
    pub fn outcome(&self) -> Outcome {
        if self.syns > 0 && self.synack.is_none() && self.bytes[1] == 0 {
            return match self.rst() {
                Some((Dir::ToClient, _, _)) => Outcome::Refused,
                _ => Outcome::UnansweredSyn,
            };
        }
        if self.rst().is_some() {
            Outcome::Reset
        } else if self.fin().iter().any(Option::is_some) {
            Outcome::Closed
        } else if self.syns > 0 {
            Outcome::Established
        } else {
            Outcome::Open
        }
    }

    /// Who ended the connection (`client`/`server`), by the first FIN or RST.
    pub fn ended_by(&self) -> Option<Dir> {
        let mut ends: Vec<(u64, Dir)> = Vec::new();
        let fin = self.fin();
        if let Some((d, f, _)) = self.rst() {
            ends.push((f, d));
        }
        if let Some((f, _)) = fin[0] {
            ends.push((f, Dir::ToServer));
        }
        if let Some((f, _)) = fin[1] {
            ends.push((f, Dir::ToClient));
        }
        ends.into_iter().min_by_key(|e| e.0).map(|e| e.1)
    }

    fn dir_of(&self, src: &Endpoint) -> Dir {
        if *src == self.client {
            Dir::ToServer
        } else {
            Dir::ToClient
        }
    }

    /// Both FINs or a RST seen.
    pub fn ended(&self) -> bool {
        let fin = self.fin();
        self.rst().is_some() || (fin[0].is_some() && fin[1].is_some())
    }
}

/// A tracked connection.
pub struct Conn<A> {
    /// What the flow layer knows.
    pub meta: ConnMeta,
    halves: [Half; 2],
    /// The application layer's state for this connection.
    pub app: A,
}

impl<A> Conn<A> {
    /// Retransmitted segments and lost bytes, both directions.
    pub fn loss(&self) -> (u64, u64) {
        (
            self.halves[0].retransmissions + self.halves[1].retransmissions,
            self.halves[0].lost_bytes + self.halves[1].lost_bytes,
        )
    }
}

type Key = (Endpoint, Endpoint);

fn key(a: Endpoint, b: Endpoint) -> Key {
    if a <= b {
        (a, b)
    } else {
        (b, a)
    }
}

/// Which side of a connection first seen mid-stream is the client.
pub trait RoleHint {
    /// `Some(true)` when the sender of `payload` from `src` to `dst` is the client.
    fn sender_is_client(&self, src: &Endpoint, dst: &Endpoint, payload: &[u8]) -> Option<bool>;
}

/// Connections tracked at once at most; past this the longest idle ones are settled early.
pub const MAX_ACTIVE: usize = 20_000;
/// A connection that ended (both FINs, or a RST) leaves the table after this much capture time
/// (late retransmissions and ACKs still find it): 250 ms.
pub const LINGER_NS: i64 = 250_000_000;
/// A connection idle this long (capture time) leaves the table.
pub const IDLE_NS: i64 = 600_000_000_000;
/// A connection of the client's SYNs only, with no answer, is given up after this much
/// silence (capture time): it leaves the table (a filtered port is told within seconds of the
/// last SYN, not at the end), and a later SYN on its addresses opens a new `tcp.stream`. The
/// retransmission gaps clients use before they give up (1, 2, 4, 8 s on Linux) are shorter.
pub const SYN_GIVEN_UP_NS: i64 = 9_000_000_000;

/// The TCP connections of a capture being tracked.
pub struct Table<A> {
    /// Lookups only (never iterated): a fast seeded hash keeps the output deterministic.
    map: foldhash::HashMap<Key, u64>,
    /// Boxed: a B-tree node holds eleven entries, and connections are large.
    active: std::collections::BTreeMap<u64, Box<Conn<A>>>,
    next_stream: u64,
    /// Connections settled early because more than [`MAX_ACTIVE`] were open at once.
    pub evicted_full: u64,
    /// Connections settled because they were idle for [`IDLE_NS`].
    pub evicted_idle: u64,
    /// Connections tracked at once at most (default [`MAX_ACTIVE`]).
    pub max_active: usize,
    /// Streams that ended (both FINs or a RST) and may still be tracked, each once.
    ended: Vec<u64>,
    /// Streams opened by a SYN that may still hold nothing else ([`SYN_GIVEN_UP_NS`]).
    syn_only: Vec<u64>,
    /// Capture time before which no tracked connection can have been idle for [`IDLE_NS`]
    /// (the oldest activity at the last scan, plus [`IDLE_NS`]): [`Table::due`] looks at every
    /// connection only past it.
    idle_scan_at: i64,
}

impl<A> Default for Table<A> {
    fn default() -> Self {
        Table {
            map: foldhash::HashMap::default(),
            active: Default::default(),
            next_stream: 0,
            evicted_full: 0,
            evicted_idle: 0,
            max_active: MAX_ACTIVE,
            ended: Vec::new(),
            syn_only: Vec::new(),
            idle_scan_at: i64::MIN,
        }
    }
}

impl<A> Table<A> {
    /// A table tracking at most `max` connections at once (at least 10).
    pub fn with_max_active(max: usize) -> Self {
        Table {
            max_active: max.max(10),
            ..Table::default()
        }
    }
}

impl<A: Default> Table<A> {
    /// Feeds one TCP segment; `on` receives the application events of that connection.
    /// Returns the connection's `tcp.stream`.
    /// A new connection for the first segment seen of it: the client is the SYN's sender, the
    /// SYN/ACK's receiver, or (mid-stream) what `hint` says; the next tcp.stream number.
    #[allow(clippy::too_many_arguments)]
    fn open(
        &mut self,
        k: Key,
        src: Endpoint,
        dst: Endpoint,
        seg: &TcpSegment<'_>,
        frame: u64,
        ts: Ts,
        hint: &dyn RoleHint,
    ) -> u64 {
        let pure_syn = seg.flags & flags::SYN != 0 && seg.flags & flags::ACK == 0;
        let (client, server, from_syn) = if pure_syn {
            (src, dst, true)
        } else if seg.flags & flags::SYN != 0 {
            (dst, src, true)
        } else {
            match hint.sender_is_client(&src, &dst, seg.payload) {
                Some(false) => (dst, src, false),
                _ => (src, dst, false),
            }
        };
        let stream = self.next_stream;
        self.next_stream += 1;
        if pure_syn {
            self.syn_only.push(stream);
        }
        self.active.insert(
            stream,
            Box::new(Conn {
                meta: ConnMeta {
                    stream,
                    client,
                    server,
                    roles_from_syn: from_syn,
                    first: (frame, ts),
                    last: (frame, ts),
                    syns: 0,
                    syn_frames: Box::default(),
                    synack: None,
                    ends: None,
                    bytes: [0, 0],
                    packets: 0,
                },
                halves: [Half::default(), Half::default()],
                app: A::default(),
            }),
        );
        self.map.insert(k, stream);
        stream
    }

    #[allow(clippy::too_many_arguments)]
    pub fn segment(
        &mut self,
        src: Endpoint,
        dst: Endpoint,
        seg: &TcpSegment<'_>,
        missing: u32,
        frame: u64,
        ts: Ts,
        hint: &dyn RoleHint,
        on: &mut dyn FnMut(&ConnMeta, &mut A, Event<'_>),
    ) -> u64 {
        let k = key(src, dst);
        let pure_syn = seg.flags & flags::SYN != 0 && seg.flags & flags::ACK == 0;
        let existing = self
            .map
            .get(&k)
            .copied()
            .filter(|s| self.active.contains_key(s));
        let reuse = match existing {
            // A fresh SYN on a finished connection starts a new tcp.stream, as in Wireshark;
            // so does one on SYNs given up.
            Some(s) => {
                !(pure_syn
                    && self
                        .active
                        .get(&s)
                        .is_some_and(|c| c.meta.ended() || c.meta.syns_given_up(ts)))
            }
            None => false,
        };
        let stream = match (existing, reuse) {
            (Some(s), true) => s,
            _ => self.open(k, src, dst, seg, frame, ts, hint),
        };
        let Some(conn) = self.active.get_mut(&stream) else {
            return stream;
        };
        let Conn { meta, halves, app } = &mut **conn;
        let was_ended = meta.ended();
        meta.last = (frame, ts);
        // A timestamp earlier than the last scan's oldest (captures are not always in time
        // order) moves the next scan earlier.
        self.idle_scan_at = self.idle_scan_at.min(ts.0.saturating_add(IDLE_NS));
        meta.packets += 1;
        let dir = meta.dir_of(&src);
        if seg.flags & flags::SYN != 0 {
            if seg.flags & flags::ACK == 0 {
                meta.syns += 1;
                if meta.syn_frames.len() < 8 {
                    let mut f = std::mem::take(&mut meta.syn_frames).into_vec();
                    f.push(frame);
                    meta.syn_frames = f.into_boxed_slice();
                }
            } else if meta.synack.is_none() {
                meta.synack = crate::net::plus_one(frame);
            }
            halves[dir.idx()].syn(seg.seq);
        }
        meta.bytes[dir.idx()] += seg.payload.len() as u64 + missing as u64;
        let half = &mut halves[dir.idx()];
        let m: &ConnMeta = meta;
        half.segment(seg.seq, seg.payload, frame, &mut |c| match c {
            Chunk::Data(d, f) => on(m, app, Event::Data(dir, d, f, ts)),
            Chunk::Gap(n, f) => on(m, app, Event::Gap(dir, n, f, ts)),
        });
        if missing > 0 {
            half.missing(
                seg.seq,
                seg.payload.len(),
                missing,
                frame,
                &mut |c| match c {
                    Chunk::Data(d, f) => on(m, app, Event::Data(dir, d, f, ts)),
                    Chunk::Gap(n, f) => on(m, app, Event::Gap(dir, n, f, ts)),
                },
            );
        }
        if seg.flags & flags::FIN != 0 && meta.fin()[dir.idx()].is_none() {
            meta.ends.get_or_insert_default().fin[dir.idx()] = Some((frame, ts));
            on(meta, app, Event::Fin(dir, frame, ts));
        }
        if seg.flags & flags::RST != 0 && meta.rst().is_none() {
            meta.ends.get_or_insert_default().rst = Some((dir, frame, ts));
            on(meta, app, Event::Rst(dir, frame, ts));
        }
        if !was_ended && meta.ended() {
            self.ended.push(stream);
        }
        stream
    }

    /// Connections tracked now.
    pub fn active(&self) -> usize {
        self.active.len()
    }

    /// Visits every tracked connection whose server is at `server`, whole, in `tcp.stream`
    /// order.
    pub fn for_each_to(&self, server: std::net::IpAddr, f: &mut dyn FnMut(&Conn<A>)) {
        for c in self.active.values().filter(|c| c.meta.server.ip == server) {
            f(c);
        }
    }

    /// Visits every tracked connection's application state, in `tcp.stream` order.
    pub fn for_each(&mut self, f: &mut dyn FnMut(&ConnMeta, &mut A)) {
        for c in self.active.values_mut() {
            f(&c.meta, &mut c.app);
        }
    }

    /// Streams to settle by capture time `now`: those that ended (after [`LINGER_NS`]) or went
    /// idle (after [`IDLE_NS`]), and the longest idle ones past [`MAX_ACTIVE`]; in `tcp.stream`
    /// order. Hand each to [`Table::take`].
    pub fn due(&mut self, now: Ts) -> Vec<u64> {
        let idle_of = |c: &Conn<A>| now.0.saturating_sub(c.meta.last.1 .0);
        let mut due: Vec<u64> = Vec::new();
        let active = &self.active;
        self.ended.retain(|s| match active.get(s) {
            Some(c) if idle_of(c) >= LINGER_NS => {
                due.push(*s);
                false
            }
            Some(_) => true,
            None => false,
        });
        self.syn_only.retain(|s| match active.get(s) {
            Some(c) if c.meta.syns_given_up(now) => {
                if !due.contains(s) {
                    due.push(*s);
                }
                false
            }
            Some(c) => c.meta.syns_only(),
            None => false,
        });
        // Connections still open are looked at one by one only when one of them can have
        // been idle long enough: a cluster's capture has tens of thousands open at once.
        if now.0 >= self.idle_scan_at {
            let mut oldest = now.0;
            for (s, c) in &self.active {
                if c.meta.ended() {
                    continue;
                }
                if idle_of(c) >= IDLE_NS {
                    self.evicted_idle += 1;
                    due.push(*s);
                } else {
                    oldest = oldest.min(c.meta.last.1 .0);
                }
            }
            self.idle_scan_at = oldest.saturating_add(IDLE_NS);
        }
        due.sort_unstable();
        if self.active.len() - due.len() > self.max_active {
            let mut by_age: Vec<(Ts, u64)> = self
                .active
                .iter()
                .filter(|(s, _)| !due.contains(s))
                .map(|(s, c)| (c.meta.last.1, *s))
                .collect();
            by_age.sort();
            let excess = self.active.len() - due.len() - self.max_active * 9 / 10;
            for (_, s) in by_age.into_iter().take(excess) {
                self.evicted_full += 1;
                due.push(s);
            }
            due.sort_unstable();
        }
        due
    }

    /// Every tracked stream, in order (the end of the capture).
    pub fn all(&self) -> Vec<u64> {
        self.active.keys().copied().collect()
    }

    /// Removes a connection, flushing its holes as gaps through `on`.
    pub fn take(
        &mut self,
        stream: u64,
        on: &mut dyn FnMut(&ConnMeta, &mut A, Event<'_>),
    ) -> Option<Conn<A>> {
        let mut c = *self.active.remove(&stream)?;
        let k = key(c.meta.client, c.meta.server);
        if self.map.get(&k) == Some(&stream) {
            self.map.remove(&k);
        }
        let Conn { meta, halves, app } = &mut c;
        let ts = meta.last.1;
        for (i, half) in halves.iter_mut().enumerate() {
            let dir = if i == 0 { Dir::ToServer } else { Dir::ToClient };
            half.flush(&mut |ch| match ch {
                Chunk::Data(d, f) => on(meta, app, Event::Data(dir, d, f, ts)),
                Chunk::Gap(n, f) => on(meta, app, Event::Gap(dir, n, f, ts)),
            });
        }
        Some(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct NoHint;

    impl RoleHint for NoHint {
        fn sender_is_client(&self, _: &Endpoint, _: &Endpoint, _: &[u8]) -> Option<bool> {
            None
        }
    }

    /// A segment from client port `port` to 5090 (or back, with `back`) at second `at`.
    fn feed(t: &mut Table<()>, port: u16, back: bool, flags: u8, at: f64, frame: u64) {
        let c = Endpoint {
            ip: [10, 0, 0, 1].into(),
            port,
        };
        let s = Endpoint {
            ip: [10, 0, 0, 2].into(),
            port: 5090,
        };
        let (src, dst) = if back { (s, c) } else { (c, s) };
        let seg = TcpSegment {
            sport: src.port,
            dport: dst.port,
            seq: 1,
            ack: 1,
            flags,
            payload: &[],
        };
        let ts = Ts((at * 1e9) as i64);
        t.segment(src, dst, &seg, 0, frame, ts, &NoHint, &mut |_, _, _| {});
    }

    #[test]
    fn ended_connections_leave_after_the_linger_and_idle_ones_after_ten_minutes() {
        let mut t: Table<()> = Table::default();
        feed(&mut t, 1000, false, flags::SYN, 0.0, 1); // stream 0: stays busy
        feed(&mut t, 1001, false, flags::SYN, 0.0, 2); // stream 1: goes quiet
        feed(&mut t, 1002, false, flags::SYN, 0.0, 3); // stream 2: reset
        feed(&mut t, 1000, true, flags::SYN | flags::ACK, 0.0, 1);
        feed(&mut t, 1001, true, flags::SYN | flags::ACK, 0.0, 2);
        assert!(settle(&mut t, Ts(0)).is_empty());
        feed(&mut t, 1002, true, flags::RST, 1.0, 4);
        assert!(
            settle(&mut t, Ts(1_100_000_000)).is_empty(),
            "lingers 250 ms"
        );
        assert_eq!(settle(&mut t, Ts(1_300_000_000)), [2]);
        for minute in 1..=9u32 {
            feed(
                &mut t,
                1000,
                false,
                flags::ACK,
                f64::from(minute) * 60.0,
                4 + u64::from(minute),
            );
            assert!(settle(&mut t, Ts(i64::from(minute) * 60_000_000_000)).is_empty());
        }
        // Stream 1 was last heard at 0 s: due at 600 s, not before, though no look at every
        // connection happened in between.
        assert!(settle(&mut t, Ts(599_000_000_000)).is_empty());
        assert_eq!(settle(&mut t, Ts(600_000_000_000)), [1]);
        assert_eq!(t.evicted_idle, 1);
        // A frame stamped earlier than the oldest activity seen (captures are not always in
        // time order) makes its connection due that much earlier.
        feed(&mut t, 1003, false, flags::SYN, 100.0, 20);
        feed(&mut t, 1003, true, flags::SYN | flags::ACK, 100.0, 21);
        assert_eq!(settle(&mut t, Ts(700_000_000_000)), [3]);
        assert_eq!(t.all(), [0]);
        take_all(&mut t);
    }

    #[test]
    fn unanswered_syns_are_given_up_after_9_s_of_silence_and_a_later_syn_is_a_new_stream() {
        let mut t: Table<()> = Table::default();
        // Linux's retransmissions: 0, 1, 3, 7 s; then 15 s, 8 s after the last (kept), then
        // 31 s, 16 s after it (a new stream).
        for (i, at) in [0.0, 1.0, 3.0, 7.0, 15.0].into_iter().enumerate() {
            feed(&mut t, 1000, false, flags::SYN, at, i as u64 + 1);
            assert!(settle(&mut t, Ts((at * 1e9) as i64)).is_empty(), "{at}");
        }
        assert!(settle(&mut t, Ts(23_900_000_000)).is_empty());
        assert_eq!(
            settle(&mut t, Ts(24_000_000_000)),
            [0],
            "9 s after the last SYN"
        );
        feed(&mut t, 1000, false, flags::SYN, 31.0, 6);
        assert_eq!(t.all(), [1]);
        // An answered connection is never given up for its silence before 10 minutes.
        feed(&mut t, 1001, false, flags::SYN, 40.0, 7);
        feed(&mut t, 1001, true, flags::SYN | flags::ACK, 40.0, 8);
        assert_eq!(settle(&mut t, Ts(100_000_000_000)), [1]);
        assert_eq!(t.all(), [2]);
        take_all(&mut t);
    }

    /// What is due at `now`, taken out of the table as the analyzer does.
    fn settle(t: &mut Table<()>, now: Ts) -> Vec<u64> {
        let due = t.due(now);
        for &s in &due {
            assert!(t.take(s, &mut |_, _, _| {}).is_some());
        }
        due
    }

    fn take_all(t: &mut Table<()>) {
        for s in t.all() {
            assert!(t.take(s, &mut |_, _, _| {}).is_some());
        }
        assert_eq!(t.active(), 0);
    }

    /// Reads whole 4-byte units; returns the bytes used.
    fn units(seen: &mut Vec<Vec<u8>>) -> impl FnMut(&[u8]) -> usize + '_ {
        move |b: &[u8]| {
            let n = b.len() / 4 * 4;
            seen.extend(b[..n].chunks(4).map(<[u8]>::to_vec));
            n
        }
    }

    #[test]
    fn whole_units_are_read_where_they_lie_and_a_partial_one_waits() {
        let mut seen = Vec::new();
        let p = read_in_place(Vec::new(), b"abcdefgh", units(&mut seen));
        assert!(p.is_empty() && p.capacity() == 0, "nothing kept");
        let p = read_in_place(p, b"ijklmn", units(&mut seen));
        assert_eq!(p, b"mn");
        let p = read_in_place(p, b"op", units(&mut seen));
        assert!(
            p.is_empty() && p.capacity() == 0,
            "the copy is freed once used"
        );
        let p = read_in_place(p, b"q", units(&mut seen));
        assert_eq!(p, b"q");
        let want: Vec<&[u8]> = vec![b"abcd", b"efgh", b"ijkl", b"mnop"];
        assert_eq!(seen, want);
    }
}
