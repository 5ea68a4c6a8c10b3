//! A cluster's capture, as taken on CUCM: many devices registering for minutes, each refreshing
//! its registration when its Expires runs out, a chosen share of them failing in a chosen way.
//! Deterministic for a seed. SIP travels in clear on the SIP Phone OAuth port (a stand-in for
//! decrypted TLS), one long-lived TCP connection per device, written in time order.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr};

use crate::framer::{self, tcp_flags as f, Link};
use crate::workload::Rng;

/// How a device fares.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fate {
    /// REGISTER, 407 Bearer, REGISTER with the token, 200 OK; refreshed every Expires.
    Healthy,
    /// The same, answered 403 with the port-mismatch Warning (`oauth-port-mismatch`); the
    /// device tries again after its Retry-After.
    PortMismatch,
    /// The token is answered 401 (`bearer-token-rejected`); the device tries again.
    TokenRejected,
    /// Nothing listens: every SYN is answered by RST (`oauth-port-closed`).
    PortClosed,
}

/// What to generate.
#[derive(Clone, Debug)]
pub struct Cluster {
    /// Devices.
    pub devices: u32,
    /// Length of the capture, in seconds.
    pub seconds: u32,
    /// Expires CUCM grants (seconds): healthy devices refresh then.
    pub expires: u32,
    /// Seconds a failing device waits before it tries again.
    pub retry: u32,
    /// CUCM nodes the devices spread over.
    pub nodes: u8,
    /// Shares (0..1) of devices with each failing fate; the rest are healthy.
    pub shares: [(Fate, f64); 3],
    /// Seed.
    pub seed: u64,
}

/// What was generated: the exact counts a diagnosis must find.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClusterStats {
    /// Devices per fate.
    pub devices: Vec<(Fate, u32)>,
    /// Failed attempts per failing fate (each 403, each 401, each refused SYN).
    pub failures: Vec<(Fate, u64)>,
    /// Successful registrations (200 OK).
    pub registered: u64,
    /// SIP messages written.
    pub sip_messages: u64,
    /// Frames written.
    pub frames: u64,
}

struct Device {
    name: String,
    ip: IpAddr,
    port: u16,
    node: IpAddr,
    fate: Fate,
    seq: [u32; 2],
    cseq: u32,
    open: bool,
}

/// The time 2026-03-02T09:15:00Z in microseconds.
const T0: i64 = 1_772_442_900_000_000;

const MACS: ([u8; 6], [u8; 6]) = ([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2]);

impl Device {
    fn msg(&self, first_line: &str, cseq: u32, extra: &str) -> Vec<u8> {
        let (c, p, u, n) = (self.ip, self.port, self.node, &self.name);
        format!(
            "{first_line}\r\nVia: SIP/2.0/TCP {c}:{p};branch=z9hG4bK{n}-{cseq}\r\nFrom: <sip:{n}@{u}>;tag={n}\r\nTo: <sip:{n}@{u}>\r\nCall-ID: {n}@{c}\r\nCSeq: {cseq} REGISTER\r\n{extra}Content-Length: 0\r\n\r\n"
        )
        .into_bytes()
    }

    fn register(&self, cseq: u32, token: bool) -> Vec<u8> {
        let (c, p, n) = (self.ip, self.port, &self.name);
        let auth = if token {
            "Proxy-Authorization: Bearer token=\"eyJhbGciOiJSUzI1NiIsImtpZCI6ImNsdXN0ZXIifQ.eyJwcml2YXRlIjoieCJ9.c2ln\"\r\n"
        } else {
            ""
        };
        self.msg(
            &format!("REGISTER sip:{} SIP/2.0", self.node),
            cseq,
            &format!(
                "Contact: <sip:{n}@{c}:{p};transport=tcp>;+u.sip!devicename.ccm.cisco.com=\"{n}\"\r\nExpires: 3600\r\n{auth}"
            ),
        )
    }
}

/// One link-layer frame at a time, with what it carried.
struct Out<'w> {
    out: &'w mut dyn Write,
    stats: ClusterStats,
}

impl Out<'_> {
    fn tcp(
        &mut self,
        t: i64,
        d: &mut Device,
        from_client: bool,
        fl: u8,
        payload: &[u8],
    ) -> std::io::Result<()> {
        let link = Link::Ethernet {
            src: MACS.0,
            dst: MACS.1,
        };
        let (c, s) = ((d.ip, d.port), (d.node, 5090));
        let (src, dst, i) = if from_client { (c, s, 0) } else { (s, c, 1) };
        let Some(frame) = link.tcp(src, dst, d.seq[i], d.seq[1 - i], fl, payload) else {
            return Ok(());
        };
        d.seq[i] = d.seq[i].wrapping_add(framer::seq_advance(fl, payload));
        framer::write_pcap_record(self.out, t, &frame)?;
        self.stats.frames += 1;
        if !payload.is_empty() {
            self.stats.sip_messages += 1;
        }
        Ok(())
    }
}

/// Writes the cluster's capture (microsecond pcap, Ethernet) to `out`.
pub fn generate(spec: &Cluster, out: &mut dyn Write) -> std::io::Result<ClusterStats> {
    let mut rng = Rng::new(spec.seed);
    out.write_all(&framer::pcap_header(1))?;
    let mut devices: Vec<Device> = (0..spec.devices)
        .map(|i| {
            let roll = (rng.below(1_000_000) as f64) / 1_000_000.0;
            let mut acc = 0.0;
            let mut fate = Fate::Healthy;
            for (kind, share) in spec.shares {
                acc += share;
                if roll < acc {
                    fate = kind;
                    break;
                }
            }
            Device {
                name: format!("CSF{i:05}"),
                ip: IpAddr::V4(Ipv4Addr::from(0x0a14_0000 + i + 1)),
                port: 20000 + (i % 40000) as u16,
                node: IpAddr::V4(Ipv4Addr::new(
                    10,
                    10,
                    10,
                    11 + (i % u32::from(spec.nodes.max(1))) as u8,
                )),
                fate,
                seq: [rng.next_u64() as u32, rng.next_u64() as u32],
                cseq: 1,
                open: false,
            }
        })
        .collect();
    let mut stats = ClusterStats::default();
    for fate in [
        Fate::Healthy,
        Fate::PortMismatch,
        Fate::TokenRejected,
        Fate::PortClosed,
    ] {
        let n = devices.iter().filter(|d| d.fate == fate).count() as u32;
        stats.devices.push((fate, n));
        if fate != Fate::Healthy {
            stats.failures.push((fate, 0));
        }
    }
    let mut w = Out { out, stats };
    // Each device's next attempt, earliest first (ties by device, so the output is stable).
    let end = T0 + i64::from(spec.seconds) * 1_000_000;
    let mut queue: BinaryHeap<Reverse<(i64, usize)>> = (0..devices.len())
        .map(|i| {
            Reverse((
                T0 + rng.below(u64::from(spec.retry.max(1)) * 1_000_000) as i64,
                i,
            ))
        })
        .collect();
    while let Some(Reverse((t, i))) = queue.pop() {
        if t >= end {
            continue;
        }
        let d = &mut devices[i];
        let failed = attempt(&mut w, t, d, spec.expires)?;
        if failed {
            if let Some(x) = w.stats.failures.iter_mut().find(|(k, _)| *k == d.fate) {
                x.1 += 1;
            }
        } else {
            w.stats.registered += 1;
        }
        // A healthy device refreshes at three quarters of its Expires, as clients do.
        let wait = if failed {
            i64::from(spec.retry.max(1)) * 1_000_000
        } else {
            i64::from(spec.expires.max(1)) * 750_000
        };
        queue.push(Reverse((t + wait, i)));
    }
    Ok(w.stats)
}

/// One registration attempt of `d` at `t` (a few milliseconds long); whether it failed.
fn attempt(w: &mut Out<'_>, t: i64, d: &mut Device, expires: u32) -> std::io::Result<bool> {
    let mut t = t;
    let step = |t: &mut i64| {
        *t += 1_000;
        *t
    };
    if !d.open {
        w.tcp(step(&mut t), d, true, f::SYN, b"")?;
        if d.fate == Fate::PortClosed {
            w.tcp(step(&mut t), d, false, f::RST | f::ACK, b"")?;
            // The next attempt is a new connection from the next port.
            d.port = d.port.wrapping_add(1).max(1024);
            return Ok(true);
        }
        w.tcp(step(&mut t), d, false, f::SYN | f::ACK, b"")?;
        w.tcp(step(&mut t), d, true, f::ACK, b"")?;
        d.open = true;
    }
    let (c1, c2) = (d.cseq, d.cseq + 1);
    d.cseq += 2;
    let ack_psh = f::ACK | f::PSH;
    let m = d.register(c1, false);
    w.tcp(step(&mut t), d, true, ack_psh, &m)?;
    let m = d.msg(
        "SIP/2.0 407 Proxy Authentication Required",
        c1,
        "Proxy-Authenticate: Bearer realm=\"ccmsipline\"\r\n",
    );
    w.tcp(step(&mut t), d, false, ack_psh, &m)?;
    let m = d.register(c2, true);
    w.tcp(step(&mut t), d, true, ack_psh, &m)?;
    let (answer, failed) = match d.fate {
        Fate::Healthy => (
            d.msg("SIP/2.0 200 OK", c2, &format!("Expires: {expires}\r\n")),
            false,
        ),
        Fate::PortMismatch => (
            d.msg(
                "SIP/2.0 403 Forbidden",
                c2,
                "Warning: 399 UCM-PUB \"SIP OAuth Registration port Mismatch\"\r\n",
            ),
            true,
        ),
        _ => (d.msg("SIP/2.0 401 Unauthorized", c2, ""), true),
    };
    w.tcp(step(&mut t), d, false, ack_psh, &answer)?;
    w.tcp(step(&mut t), d, true, f::ACK, b"")?;
    Ok(failed)
}
