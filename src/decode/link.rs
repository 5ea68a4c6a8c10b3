//! Link layers: Ethernet (802.1Q, QinQ, LLC/SNAP), Linux cooked SLL and SLL2, BSD loopback, raw IP.

/// The network layer found under the link header.
#[derive(Debug, PartialEq, Eq)]
pub enum Network<'a> {
    /// IPv4 or IPv6 bytes (the version nibble decides).
    Ip(&'a [u8]),
    /// A protocol we do not decode (ARP, LLDP, ...): the EtherType.
    Other(u16),
    /// The link header was cut short or is not understood.
    Malformed(&'static str),
}

const ETH_IPV4: u16 = 0x0800;
const ETH_IPV6: u16 = 0x86dd;

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

fn by_ethertype(ethertype: u16, rest: &[u8]) -> Network<'_> {
    match ethertype {
        ETH_IPV4 | ETH_IPV6 => Network::Ip(rest),
        other => Network::Other(other),
    }
}

/// Strips the link layer of `linktype` from `data`.
pub fn strip(linktype: i32, data: &[u8]) -> Network<'_> {
    match linktype {
        1 => ethernet(data),
        113 => match (be16(data, 14), data.get(16..)) {
            (Some(proto), Some(rest)) => by_ethertype(proto, rest),
            _ => Network::Malformed("short Linux cooked (SLL) header"),
        },
        276 => match (be16(data, 0), data.get(20..)) {
            (Some(proto), Some(rest)) => by_ethertype(proto, rest),
            _ => Network::Malformed("short Linux cooked v2 (SLL2) header"),
        },
        0 | 108 => {
            let Some(fam) = data.get(..4) else {
                return Network::Malformed("short loopback header");
            };
            let le = u32::from_le_bytes([fam[0], fam[1], fam[2], fam[3]]);
            let be = u32::from_be_bytes([fam[0], fam[1], fam[2], fam[3]]);
            let family = if linktype == 108 { be } else { le.min(be) };
            match family {
                2 | 24 | 28 | 30 => Network::Ip(&data[4..]),
                other => Network::Other(other as u16),
            }
        }
        12 | 14 | 101 | 228 | 229 => Network::Ip(data),
        _ => Network::Malformed("unsupported link type"),
    }
}

fn ethernet(data: &[u8]) -> Network<'_> {
    let mut at = 12;
    let mut ethertype = match be16(data, at) {
        Some(t) => t,
        None => return Network::Malformed("short Ethernet header"),
    };
    at += 2;
    // 802.1Q, 802.1ad (QinQ) and the old 0x9100 tag, any depth.
    while matches!(ethertype, 0x8100 | 0x88a8 | 0x9100) {
        ethertype = match be16(data, at + 2) {
            Some(t) => t,
            None => return Network::Malformed("short VLAN tag"),
        };
        at += 4;
    }
    if ethertype <= 1500 {
        // 802.3 length field: LLC/SNAP carries an EtherType after the OUI.
        return match data.get(at..at + 8) {
            Some(llc) if llc[..3] == [0xaa, 0xaa, 0x03] => {
                by_ethertype(u16::from_be_bytes([llc[6], llc[7]]), &data[at + 8..])
            }
            _ => Network::Other(0),
        };
    }
    match data.get(at..) {
        Some(rest) => by_ethertype(ethertype, rest),
        None => Network::Malformed("short Ethernet header"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ethernet_with_qinq() {
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&[0x88, 0xa8, 0, 10, 0x81, 0x00, 0, 20, 0x08, 0x00, 0x45]);
        assert_eq!(strip(1, &f), Network::Ip(&[0x45]));
    }

    #[test]
    fn llc_snap_and_sll2_and_loopback() {
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&[0x00, 0x30, 0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00, 0x45]);
        assert_eq!(strip(1, &f), Network::Ip(&[0x45]));
        let mut s = vec![0x86, 0xdd];
        s.extend_from_slice(&[0u8; 18]);
        s.push(0x60);
        assert_eq!(strip(276, &s), Network::Ip(&[0x60]));
        assert_eq!(strip(0, &[30, 0, 0, 0, 0x60]), Network::Ip(&[0x60]));
        assert_eq!(strip(108, &[0, 0, 0, 2, 0x45]), Network::Ip(&[0x45]));
        assert_eq!(
            strip(1, &[0; 5]),
            Network::Malformed("short Ethernet header")
        );
        assert_eq!(
            strip(12345, &[0; 5]),
            Network::Malformed("unsupported link type")
        );
    }
}
