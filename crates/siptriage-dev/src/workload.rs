//! A deterministic, seeded workload generator: a pcap of any size in which a chosen share of the
//! packets are SIP/TLS conversations on the OAuth ports (replayed from the recorded fixtures,
//! with their real certificate chains and failures), among unrelated traffic: bulk TLS on 443
//! (a recorded handshake with its certificate chain, then megabytes of application data), bulk
//! TCP and UDP, with VLAN-tagged and IPv6 frames. Hostile modes flood the flow table or the fragment pool.
//!
//! `cargo run --release -p siptriage-dev --bin workload -- --size 1G --sip-share 5 -o big.pcap`

use std::io::Write;
use std::net::IpAddr;

use crate::framer::{self, Link};

use siptriage::capture::{read_capture, CaptureSink, Frame};
use siptriage::decode::{flags, Decoder, Transport};

/// What to generate.
#[derive(Clone, Debug)]
pub struct Spec {
    /// Approximate file size in bytes.
    pub bytes: u64,
    /// Percent of packets that belong to SIP/TLS conversations (0-100).
    pub sip_share: f64,
    /// PRNG seed.
    pub seed: u64,
    /// A hostile mode instead of the normal mix.
    pub hostile: Option<Hostile>,
}

/// Hostile inputs for the memory caps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hostile {
    /// Short connections that never close, as many as the size allows.
    Connections,
    /// First IPv4 fragments whose datagrams never complete.
    Fragments,
}

/// A recorded conversation to replay: the server port, and payloads in order with direction.
#[derive(Clone, Debug)]
pub struct Template {
    /// Server port.
    pub port: u16,
    /// `(from client, payload)` in order.
    pub messages: Vec<(bool, Vec<u8>)>,
    /// The server refuses the connection (RST to the SYN).
    pub refused: bool,
}

/// What was written.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Packets.
    pub packets: u64,
    /// Packets of SIP/TLS conversations.
    pub sip_packets: u64,
    /// Bytes of the file.
    pub bytes: u64,
    /// Conversations replayed from templates.
    pub conversations: u64,
}

/// splitmix64: small, fast, and the same everywhere.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// Seeded.
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x9e37_79b9_7f4a_7c15)
    }
    /// Next value.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform below `n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

type FlowKey = (IpAddr, u16, IpAddr, u16);

struct Collect {
    decoder: Decoder,
    /// Flows seen: their key, what they carried, and whether they ended.
    flows: Vec<(FlowKey, Template, bool)>,
}

impl CaptureSink for Collect {
    fn frame(&mut self, frame: &Frame<'_>) {
        let flows = &mut self.flows;
        self.decoder.decode(frame, &mut |p| {
            let Transport::Tcp(seg) = p.transport else {
                return;
            };
            let key = (p.src, seg.sport, p.dst, seg.dport);
            let rev = (p.dst, seg.dport, p.src, seg.sport);
            let pos = flows
                .iter()
                .position(|(k, _, closed)| !closed && (*k == key || *k == rev));
            let i = match pos {
                Some(i) => i,
                None if seg.flags & flags::SYN != 0 && seg.flags & flags::ACK == 0 => {
                    flows.push((
                        key,
                        Template {
                            port: seg.dport,
                            messages: Vec::new(),
                            refused: false,
                        },
                        false,
                    ));
                    flows.len() - 1
                }
                None => return,
            };
            let from_client = flows[i].0 == key;
            if seg.flags & flags::RST != 0 && !from_client && flows[i].1.messages.is_empty() {
                flows[i].1.refused = true;
            }
            if seg.flags & (flags::FIN | flags::RST) != 0 {
                flows[i].2 = true;
            }
            if !seg.payload.is_empty() {
                flows[i]
                    .1
                    .messages
                    .push((from_client, seg.payload.to_vec()));
            }
        });
    }
}

/// Conversations of the recorded fixtures on SIP ports (TLS and clear SIP), as templates.
pub fn templates_from(dir: &str) -> Vec<Template> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path().to_string_lossy().to_string())
                .collect()
        })
        .unwrap_or_default();
    names.retain(|n| {
        n.ends_with(".pcap")
            && !n.contains("truncated")
            && !n.contains("reordered")
            && !n.contains("lost-segment")
    });
    names.sort();
    let mut out = Vec::new();
    for n in names {
        let mut c = Collect {
            decoder: Decoder::new(),
            flows: Vec::new(),
        };
        if read_capture(&n, &mut c).is_err() {
            continue;
        }
        for (_, t, _) in c.flows {
            if [5060, 5061, 5090, 5091].contains(&t.port) && (t.refused || !t.messages.is_empty()) {
                out.push(t);
            }
        }
    }
    out
}

const MSS: usize = 1448;

/// One flow being written: its addresses and the packets it still has to send.
struct Flow {
    c: (IpAddr, u16),
    s: (IpAddr, u16),
    vlan: Option<u16>,
    seq: [u32; 2],
    /// `(from client, flags, payload range or literal)`
    steps: std::collections::VecDeque<(bool, u8, Payload)>,
    sip: bool,
}

impl Flow {
    /// A TCP connection between two hosts that have nothing to do with SIP, opened (the
    /// three-way handshake); `port` picks the server's port.
    fn unrelated(rng: &mut Rng, port: impl FnOnce(&mut Rng) -> u16) -> Flow {
        let v6 = rng.below(10) == 0;
        let c = (addr(rng, v6, 30), 20000 + rng.below(40000) as u16);
        let s_ip = addr(rng, v6, 40);
        let mut f = Flow {
            c,
            s: (s_ip, port(rng)),
            vlan: (rng.below(5) == 0).then(|| 200 + rng.below(100) as u16),
            seq: [rng.next_u64() as u32, rng.next_u64() as u32],
            steps: Default::default(),
            sip: false,
        };
        f.steps.push_back((true, flags::SYN, Payload::None));
        f.steps
            .push_back((false, flags::SYN | flags::ACK, Payload::None));
        f.steps.push_back((true, flags::ACK, Payload::None));
        f
    }

    /// `data` sent by one side, cut into segments of at most [`MSS`] bytes (PSH on each).
    fn send(&mut self, from_client: bool, data: Vec<u8>) {
        let data = std::rc::Rc::new(data);
        let mut at = 0;
        while at < data.len() {
            let n = MSS.min(data.len() - at);
            self.steps.push_back((
                from_client,
                flags::ACK | 0x08,
                Payload::Bytes(data.clone(), at, n),
            ));
            at += n;
        }
    }
}

enum Payload {
    None,
    Bulk(usize, usize),
    Bytes(std::rc::Rc<Vec<u8>>, usize, usize),
}

struct Writer<'w> {
    out: &'w mut dyn Write,
    t: i64,
    stats: Stats,
    bulk: Vec<u8>,
    buf: Vec<u8>,
}

/// The two MAC addresses every generated frame carries.
const MACS: ([u8; 6], [u8; 6]) = ([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2]);

impl Writer<'_> {
    fn record(&mut self, frame: &[u8]) -> std::io::Result<()> {
        framer::write_pcap_record(self.out, self.t, frame)?;
        self.stats.packets += 1;
        self.stats.bytes += 16 + frame.len() as u64;
        self.t += 7;
        Ok(())
    }

    fn packet(
        &mut self,
        f: &mut Flow,
        from_client: bool,
        fl: u8,
        payload: &[u8],
    ) -> std::io::Result<()> {
        let (src, dst) = if from_client { (f.c, f.s) } else { (f.s, f.c) };
        let d = usize::from(!from_client);
        let link = match f.vlan {
            None => Link::Ethernet {
                src: MACS.0,
                dst: MACS.1,
            },
            Some(id) => Link::Vlan {
                src: MACS.0,
                dst: MACS.1,
                id,
            },
        };
        let Some(frame) = link.tcp(src, dst, f.seq[d], f.seq[1 - d], fl, payload) else {
            return Ok(());
        };
        f.seq[d] = f.seq[d].wrapping_add(framer::seq_advance(fl, payload));
        if f.sip {
            self.stats.sip_packets += 1;
        }
        self.record(&frame)
    }
}

fn addr(rng: &mut Rng, v6: bool, net: u8) -> IpAddr {
    if v6 {
        IpAddr::V6(std::net::Ipv6Addr::new(
            0x2001,
            0xdb8,
            net as u16,
            0,
            0,
            0,
            rng.below(4096) as u16,
            1 + rng.below(60000) as u16,
        ))
    } else {
        IpAddr::V4(std::net::Ipv4Addr::new(
            10,
            net,
            rng.below(256) as u8,
            1 + rng.below(254) as u8,
        ))
    }
}

/// One of four CUCM nodes: clients are many, nodes are few.
fn cucm_node(rng: &mut Rng, v6: bool) -> IpAddr {
    let n = 11 + rng.below(4) as u8;
    if v6 {
        IpAddr::V6(std::net::Ipv6Addr::new(
            0x2001, 0xdb8, 10, 0, 0, 0, 0, n as u16,
        ))
    } else {
        IpAddr::V4(std::net::Ipv4Addr::new(10, 10, 10, n))
    }
}

fn conversation(rng: &mut Rng, t: &Template) -> Flow {
    let v6 = rng.below(10) == 0;
    let vlan = (rng.below(5) == 0).then(|| 100 + rng.below(100) as u16);
    let mut f = Flow {
        c: (addr(rng, v6, 20), 20000 + rng.below(40000) as u16),
        s: (cucm_node(rng, v6), t.port),
        vlan,
        seq: [rng.next_u64() as u32, rng.next_u64() as u32],
        steps: Default::default(),
        sip: true,
    };
    f.steps.push_back((true, flags::SYN, Payload::None));
    if t.refused {
        f.steps
            .push_back((false, flags::RST | flags::ACK, Payload::None));
        return f;
    }
    f.steps
        .push_back((false, flags::SYN | flags::ACK, Payload::None));
    f.steps.push_back((true, flags::ACK, Payload::None));
    for (from_client, m) in &t.messages {
        f.send(*from_client, m.clone());
        f.steps
            .push_back((!*from_client, flags::ACK, Payload::None));
    }
    f.steps
        .push_back((true, flags::FIN | flags::ACK, Payload::None));
    f.steps
        .push_back((false, flags::FIN | flags::ACK, Payload::None));
    f.steps.push_back((true, flags::ACK, Payload::None));
    f
}

/// TLS between unrelated hosts on 443: the handshake of a recorded TLS conversation (its
/// certificate chain included), then application data records from the server.
fn bulk_tls(rng: &mut Rng, templates: &[Template], bulk: &[u8]) -> Option<Flow> {
    let tls: Vec<&Template> = templates
        .iter()
        .filter(|t| {
            t.messages
                .first()
                .is_some_and(|(_, m)| m.starts_with(&[0x16, 3]))
        })
        .collect();
    let t = tls.get(rng.below(tls.len().max(1) as u64) as usize)?;
    let mut f = Flow::unrelated(rng, |_| 443);
    // The handshake, up to the first record that is neither handshake nor ChangeCipherSpec.
    for (from_client, m) in t
        .messages
        .iter()
        .take_while(|(_, m)| matches!(m.first(), Some(0x14 | 0x16)))
    {
        f.send(*from_client, m.clone());
    }
    let total = 16 * 1024 + rng.below(2 * 1024 * 1024) as usize;
    let mut records = Vec::with_capacity(total + total / 16384 * 5 + 5);
    while records.len() < total {
        let n = 16384.min(bulk.len());
        let off = rng.below((bulk.len() - n + 1) as u64) as usize;
        records.extend_from_slice(&[0x17, 3, 3, (n >> 8) as u8, n as u8]);
        records.extend_from_slice(&bulk[off..off + n]);
    }
    f.send(false, records);
    f.steps
        .push_back((false, flags::FIN | flags::ACK, Payload::None));
    f.steps
        .push_back((true, flags::FIN | flags::ACK, Payload::None));
    Some(f)
}

fn bulk_tcp(rng: &mut Rng, bulk_len: usize) -> Flow {
    let ports = [443u16, 445, 8080, 3306, 22, 6970, 8443];
    let mut f = Flow::unrelated(rng, |rng| ports[rng.below(ports.len() as u64) as usize]);
    let total = 16 * 1024 + rng.below(2 * 1024 * 1024) as usize;
    let mut sent = 0;
    let mut i = 0;
    while sent < total {
        let n = MSS.min(total - sent);
        let off = rng.below((bulk_len - MSS) as u64) as usize;
        f.steps
            .push_back((false, flags::ACK, Payload::Bulk(off, n)));
        i += 1;
        if i % 2 == 0 {
            f.steps.push_back((true, flags::ACK, Payload::None));
        }
        sent += n;
    }
    f.steps
        .push_back((false, flags::FIN | flags::ACK, Payload::None));
    f.steps
        .push_back((true, flags::FIN | flags::ACK, Payload::None));
    f
}

/// Writes the workload as a pcap (Ethernet, microseconds) into `out`.
pub fn generate(
    spec: &Spec,
    templates: &[Template],
    out: &mut dyn Write,
) -> std::io::Result<Stats> {
    let mut rng = Rng::new(spec.seed);
    let mut bulk = vec![0u8; 256 * 1024];
    for chunk in bulk.chunks_mut(8) {
        let v = rng.next_u64().to_le_bytes();
        chunk.copy_from_slice(&v[..chunk.len()]);
    }
    out.write_all(&framer::pcap_header(1))?;
    let mut w = Writer {
        out,
        t: 1_772_442_900_000_000,
        stats: Stats {
            bytes: 24,
            ..Stats::default()
        },
        bulk,
        buf: Vec::with_capacity(2048),
    };
    match spec.hostile {
        Some(Hostile::Connections) => return hostile_connections(&mut w, &mut rng, spec.bytes),
        Some(Hostile::Fragments) => return hostile_fragments(&mut w, &mut rng, spec.bytes),
        None => {}
    }
    let mut active: Vec<Flow> = Vec::new();
    const ACTIVE: usize = 32;
    while w.stats.bytes < spec.bytes {
        while active.len() < ACTIVE {
            let want_sip = !templates.is_empty()
                && (w.stats.sip_packets as f64)
                    < spec.sip_share / 100.0 * (w.stats.packets.max(1) as f64) + 1.0;
            let f = if want_sip {
                w.stats.conversations += 1;
                let pick = rng.below(templates.len() as u64) as usize;
                conversation(&mut rng, &templates[pick])
            } else if rng.below(3) == 0 {
                udp_flow(&mut rng)
            } else if rng.below(2) == 0 {
                bulk_tls(&mut rng, templates, &w.bulk)
                    .unwrap_or_else(|| bulk_tcp(&mut rng, w.bulk.len()))
            } else {
                bulk_tcp(&mut rng, w.bulk.len())
            };
            active.push(f);
        }
        let i = rng.below(active.len() as u64) as usize;
        let Some((from_client, fl, payload)) = active[i].steps.pop_front() else {
            active.swap_remove(i);
            continue;
        };
        let bulk = std::mem::take(&mut w.bulk);
        let data: &[u8] = match &payload {
            Payload::None => &[],
            Payload::Bulk(off, n) => &bulk[*off..off + n],
            Payload::Bytes(b, off, n) => &b[*off..off + n],
        };
        let f = &mut active[i];
        if fl == 0xff {
            udp_packet(&mut w, f, from_client, data)?;
        } else {
            w.packet(f, from_client, fl, data)?;
        }
        w.bulk = bulk;
    }
    Ok(w.stats)
}

fn udp_flow(rng: &mut Rng) -> Flow {
    let mut f = Flow {
        c: (addr(rng, false, 50), 16384 + 2 * rng.below(8000) as u16),
        s: (addr(rng, false, 60), 16384 + 2 * rng.below(8000) as u16),
        vlan: None,
        seq: [0, 0],
        steps: Default::default(),
        sip: false,
    };
    for _ in 0..(50 + rng.below(500)) {
        f.steps.push_back((
            rng.below(2) == 0,
            0xff,
            Payload::Bulk(rng.below(1024) as usize, 172),
        ));
    }
    f
}

fn udp_packet(
    w: &mut Writer<'_>,
    f: &Flow,
    from_client: bool,
    payload: &[u8],
) -> std::io::Result<()> {
    let (src, dst) = if from_client { (f.c, f.s) } else { (f.s, f.c) };
    let link = Link::Ethernet {
        src: MACS.0,
        dst: MACS.1,
    };
    match link.udp(src, dst, payload) {
        Some(frame) => w.record(&frame),
        None => Ok(()),
    }
}

fn hostile_connections(w: &mut Writer<'_>, rng: &mut Rng, bytes: u64) -> std::io::Result<Stats> {
    let mut n: u32 = 0;
    while w.stats.bytes < bytes {
        n = n.wrapping_add(1);
        let c = IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 | (n >> 4)));
        let mut f = Flow {
            c: (c, 1024 + (n & 0xf) as u16 * 4000 + rng.below(4000) as u16),
            s: (IpAddr::V4(std::net::Ipv4Addr::new(10, 10, 10, 11)), 5090),
            vlan: None,
            seq: [rng.next_u64() as u32, rng.next_u64() as u32],
            steps: Default::default(),
            sip: false,
        };
        w.packet(&mut f, true, flags::SYN, &[])?;
        w.packet(&mut f, false, flags::SYN | flags::ACK, &[])?;
        w.packet(
            &mut f,
            true,
            flags::ACK | 0x08,
            &[0x16, 3, 1, 0, 4, 1, 0, 0, 0],
        )?;
    }
    Ok(w.stats.clone())
}

fn hostile_fragments(w: &mut Writer<'_>, rng: &mut Rng, bytes: u64) -> std::io::Result<Stats> {
    let mut id: u16 = 0;
    let payload = [0x42u8; 1200];
    while w.stats.bytes < bytes {
        id = id.wrapping_add(1);
        let src = std::net::Ipv4Addr::from(0x0a00_0000 | rng.below(1 << 20) as u32);
        let mut ip = etherparse::Ipv4Header::new(
            payload.len() as u16,
            64,
            etherparse::IpNumber::UDP,
            src.octets(),
            [10, 10, 10, 11],
        )
        .unwrap_or_default();
        ip.identification = id;
        ip.more_fragments = true;
        w.buf.clear();
        w.buf.extend_from_slice(&MACS.1);
        w.buf.extend_from_slice(&MACS.0);
        w.buf.extend_from_slice(&[8, 0]);
        let _ = ip.write(&mut w.buf);
        w.buf.extend_from_slice(&payload);
        let frame = std::mem::take(&mut w.buf);
        w.record(&frame)?;
        w.buf = frame;
    }
    Ok(w.stats.clone())
}
