//! The one TCP/IP framer of the development tools: IP packets (etherparse) framed on a link
//! layer, TCP segments with their flags and sequence numbers, UDP datagrams, and the pcap and
//! pcapng files that hold them. The fixture recorder and the workload generator both frame
//! through here.

use std::io::Write;
use std::net::IpAddr;

use etherparse::{IpHeaders, PacketBuilder, PacketBuilderStep};

/// TCP flag bits as they are on the wire.
pub mod tcp_flags {
    /// FIN.
    pub const FIN: u8 = 0x01;
    /// SYN.
    pub const SYN: u8 = 0x02;
    /// RST.
    pub const RST: u8 = 0x04;
    /// PSH.
    pub const PSH: u8 = 0x08;
    /// ACK.
    pub const ACK: u8 = 0x10;
}

/// The link layer frames are written with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Link {
    /// Ethernet II between two MAC addresses (the same two for both directions, as a capture
    /// on one side of a router shows them).
    Ethernet {
        /// Source MAC.
        src: [u8; 6],
        /// Destination MAC.
        dst: [u8; 6],
    },
    /// Ethernet II with one 802.1Q tag.
    Vlan {
        /// Source MAC.
        src: [u8; 6],
        /// Destination MAC.
        dst: [u8; 6],
        /// VLAN id.
        id: u16,
    },
    /// Linux cooked capture v2 (`-i any`).
    Sll2,
}

impl Link {
    /// The pcap link type.
    pub fn linktype(self) -> u32 {
        match self {
            Link::Sll2 => 276,
            _ => 1,
        }
    }

    /// One frame: this link's header, then the IP packet `build` writes from the IP layer on.
    /// `None` when the two addresses are of different families.
    pub fn frame(
        self,
        src: IpAddr,
        dst: IpAddr,
        build: impl FnOnce(PacketBuilderStep<IpHeaders>, &mut Vec<u8>),
    ) -> Option<Vec<u8>> {
        let (eth_type, ip) = match (src, dst) {
            (IpAddr::V4(a), IpAddr::V4(b)) => {
                (0x0800u16, PacketBuilder::ipv4(a.octets(), b.octets(), 64))
            }
            (IpAddr::V6(a), IpAddr::V6(b)) => {
                (0x86dd, PacketBuilder::ipv6(a.octets(), b.octets(), 64))
            }
            _ => return None,
        };
        let mut frame = Vec::with_capacity(1600);
        match self {
            Link::Ethernet { src, dst } | Link::Vlan { src, dst, .. } => {
                frame.extend_from_slice(&dst);
                frame.extend_from_slice(&src);
                if let Link::Vlan { id, .. } = self {
                    frame.extend_from_slice(&[0x81, 0x00]);
                    frame.extend_from_slice(&id.to_be_bytes());
                }
                frame.extend_from_slice(&eth_type.to_be_bytes());
            }
            Link::Sll2 => {
                frame.extend_from_slice(&eth_type.to_be_bytes());
                frame.extend_from_slice(&[0, 0, 0, 0, 0, 2, 0, 1, 0, 6]);
                frame.extend_from_slice(&[0x00, 0x50, 0x56, 0x00, 0x00, 0x01, 0, 0]);
            }
        }
        build(ip, &mut frame);
        Some(frame)
    }

    /// A TCP segment from `src` to `dst` with sequence number `seq`, the `ack` number (used
    /// when `flags` has ACK), `flags` (see [`tcp_flags`]) and `payload`.
    pub fn tcp(
        self,
        src: (IpAddr, u16),
        dst: (IpAddr, u16),
        seq: u32,
        ack: u32,
        flags: u8,
        payload: &[u8],
    ) -> Option<Vec<u8>> {
        self.frame(src.0, dst.0, |ip, out| {
            let mut b = ip.tcp(src.1, dst.1, seq, 64240);
            if flags & tcp_flags::ACK != 0 {
                b = b.ack(ack);
            }
            if flags & tcp_flags::SYN != 0 {
                b = b.syn();
            }
            if flags & tcp_flags::FIN != 0 {
                b = b.fin();
            }
            if flags & tcp_flags::RST != 0 {
                b = b.rst();
            }
            if flags & tcp_flags::PSH != 0 {
                b = b.psh();
            }
            let _ = b.write(out, payload);
        })
    }

    /// A UDP datagram.
    pub fn udp(self, src: (IpAddr, u16), dst: (IpAddr, u16), payload: &[u8]) -> Option<Vec<u8>> {
        self.frame(src.0, dst.0, |ip, out| {
            let _ = ip.udp(src.1, dst.1).write(out, payload);
        })
    }
}

/// How far a segment moves its sender's sequence number: its payload, plus one for SYN or FIN.
///
/// ```
/// use siptriage_dev::framer::{seq_advance, tcp_flags};
/// assert_eq!(seq_advance(tcp_flags::SYN, b""), 1);
/// assert_eq!(seq_advance(tcp_flags::ACK | tcp_flags::PSH, b"REGISTER"), 8);
/// assert_eq!(seq_advance(tcp_flags::FIN | tcp_flags::ACK, b"x"), 2);
/// ```
pub fn seq_advance(flags: u8, payload: &[u8]) -> u32 {
    payload.len() as u32 + u32::from(flags & (tcp_flags::SYN | tcp_flags::FIN) != 0)
}

/// The 24-byte header of a microsecond pcap file.
pub fn pcap_header(linktype: u32) -> [u8; 24] {
    let mut h = [0u8; 24];
    h[0..4].copy_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    h[4..6].copy_from_slice(&2u16.to_le_bytes());
    h[6..8].copy_from_slice(&4u16.to_le_bytes());
    h[16..20].copy_from_slice(&65535u32.to_le_bytes());
    h[20..24].copy_from_slice(&linktype.to_le_bytes());
    h
}

/// Writes one pcap record: the frame at `micros` (microseconds since the epoch), whole.
pub fn write_pcap_record(out: &mut dyn Write, micros: i64, frame: &[u8]) -> std::io::Result<()> {
    let mut h = [0u8; 16];
    h[0..4].copy_from_slice(&((micros / 1_000_000) as u32).to_le_bytes());
    h[4..8].copy_from_slice(&((micros % 1_000_000) as u32).to_le_bytes());
    h[8..12].copy_from_slice(&(frame.len() as u32).to_le_bytes());
    h[12..16].copy_from_slice(&(frame.len() as u32).to_le_bytes());
    out.write_all(&h)?;
    out.write_all(frame)
}

/// A whole pcap file of `(microseconds, frame)`.
pub fn pcap(linktype: u32, frames: &[(i64, Vec<u8>)]) -> Vec<u8> {
    let mut f = pcap_header(linktype).to_vec();
    for (t, d) in frames {
        let _ = write_pcap_record(&mut f, *t, d);
    }
    f
}

fn pcapng_block(out: &mut Vec<u8>, kind: u32, body: &[u8]) {
    let pad = (4 - body.len() % 4) % 4;
    let len = (12 + body.len() + pad) as u32;
    out.extend_from_slice(&kind.to_le_bytes());
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(body);
    out.extend(std::iter::repeat_n(0, pad));
    out.extend_from_slice(&len.to_le_bytes());
}

fn decryption_secrets(out: &mut Vec<u8>, keys: &str) {
    let mut body = Vec::new();
    body.extend_from_slice(&0x544c_534bu32.to_le_bytes());
    body.extend_from_slice(&(keys.len() as u32).to_le_bytes());
    body.extend_from_slice(keys.as_bytes());
    body.extend(std::iter::repeat_n(0, (4 - keys.len() % 4) % 4));
    pcapng_block(out, 0x0a, &body);
}

/// A pcapng file with nanosecond timestamps (if_tsresol 9) of `(microseconds, frame)` (each
/// time gets 123 ns more, so that the nanoseconds show), with a Decryption Secrets Block of
/// `keys` before the first packet (`Some((keys, false))`) or after the last (`Some((keys,
/// true))`).
pub fn pcapng(linktype: u32, frames: &[(i64, Vec<u8>)], keys: Option<(&str, bool)>) -> Vec<u8> {
    let mut f = Vec::new();
    let mut shb = Vec::new();
    shb.extend_from_slice(&0x1a2b3c4du32.to_le_bytes());
    shb.extend_from_slice(&1u16.to_le_bytes());
    shb.extend_from_slice(&0u16.to_le_bytes());
    shb.extend_from_slice(&(-1i64).to_le_bytes());
    pcapng_block(&mut f, 0x0a0d0d0a, &shb);
    let mut idb = Vec::new();
    idb.extend_from_slice(&(linktype as u16).to_le_bytes());
    idb.extend_from_slice(&0u16.to_le_bytes());
    idb.extend_from_slice(&65535u32.to_le_bytes());
    idb.extend_from_slice(&[9, 0, 1, 0, 9, 0, 0, 0, 0, 0, 0, 0]); // if_tsresol=9, end of options
    pcapng_block(&mut f, 1, &idb);
    if let Some((text, false)) = keys {
        decryption_secrets(&mut f, text);
    }
    for (t, d) in frames {
        let ns = (*t as u64) * 1000 + 123;
        let mut epb = Vec::new();
        epb.extend_from_slice(&0u32.to_le_bytes());
        epb.extend_from_slice(&((ns >> 32) as u32).to_le_bytes());
        epb.extend_from_slice(&(ns as u32).to_le_bytes());
        epb.extend_from_slice(&(d.len() as u32).to_le_bytes());
        epb.extend_from_slice(&(d.len() as u32).to_le_bytes());
        epb.extend_from_slice(d);
        epb.extend(std::iter::repeat_n(0, (4 - d.len() % 4) % 4));
        pcapng_block(&mut f, 6, &epb);
    }
    if let Some((text, true)) = keys {
        decryption_secrets(&mut f, text);
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_read_back_as_what_was_framed() {
        let link = Link::Vlan {
            src: [2, 0, 0, 0, 0, 1],
            dst: [2, 0, 0, 0, 0, 2],
            id: 20,
        };
        let c = (
            "10.0.0.1".parse().unwrap_or(IpAddr::from([0, 0, 0, 0])),
            40000,
        );
        let s = (
            "10.0.0.2".parse().unwrap_or(IpAddr::from([0, 0, 0, 0])),
            5090,
        );
        let f = link
            .tcp(c, s, 7, 9, tcp_flags::ACK | tcp_flags::PSH, b"REGISTER")
            .unwrap_or_default();
        let p = etherparse::SlicedPacket::from_ethernet(&f).expect("parses");
        let Some(etherparse::TransportSlice::Tcp(t)) = p.transport else {
            panic!("no TCP")
        };
        assert!(t.ack() && t.psh() && !t.syn());
        assert_eq!((t.sequence_number(), t.acknowledgment_number()), (7, 9));
        assert_eq!(t.payload(), b"REGISTER");
        assert_eq!(seq_advance(tcp_flags::SYN, b""), 1);
        let v6: IpAddr = "2001:db8::1".parse().unwrap_or(IpAddr::from([0, 0, 0, 0]));
        assert!(link.udp((v6, 1), s, b"x").is_none(), "mixed families");
        let file = pcap(link.linktype(), &[(1_000_001, f.clone())]);
        assert_eq!(file.len(), 24 + 16 + f.len());
        assert_eq!(&file[24..28], &1u32.to_le_bytes());
        assert_eq!(&file[28..32], &1u32.to_le_bytes());
    }
}
