//! A bounded IPv4/IPv6 fragment pool.
//!
//! Limits hold by construction: at most [`MAX_DATAGRAMS`] datagrams pending, at most
//! [`MAX_BYTES`] buffered, and fragments older than [`MAX_AGE_NS`] of capture time dropped.
//! When a limit is hit the oldest pending datagram goes and [`DefragPool::dropped`] counts it.

use std::collections::HashMap;
use std::net::IpAddr;

use crate::time::Ts;

/// Pending datagrams at most.
pub const MAX_DATAGRAMS: usize = 1024;
/// Buffered fragment bytes at most.
pub const MAX_BYTES: usize = 8 * 1024 * 1024;
/// A datagram whose fragments span more capture time than this is dropped (30 s).
pub const MAX_AGE_NS: i64 = 30_000_000_000;

/// What identifies the fragments of one datagram.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FragKey {
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// IP identification.
    pub id: u32,
    /// Upper protocol.
    pub proto: u8,
}

/// One fragment, borrowed from its frame.
pub struct Fragment<'a> {
    /// Byte offset in the datagram.
    pub offset: u32,
    /// More fragments follow.
    pub more: bool,
    /// Fragment payload.
    pub data: &'a [u8],
}

struct Pending {
    first: Ts,
    parts: Vec<(u32, Vec<u8>)>,
    total: Option<u32>,
    bytes: usize,
}

/// The pool.
#[derive(Default)]
pub struct DefragPool {
    pending: HashMap<FragKey, Pending>,
    /// Keys in the order their first fragment arrived (stale entries are skipped): the oldest
    /// pending datagram is found without a scan.
    order: std::collections::VecDeque<(Ts, FragKey)>,
    bytes: usize,
    /// Datagrams abandoned because of a limit or their age.
    pub dropped: u64,
    /// Pending datagrams at most (0: [`MAX_DATAGRAMS`]).
    pub max_datagrams: usize,
}

impl DefragPool {
    /// Adds a fragment; returns the whole datagram payload when this fragment completes it.
    pub fn add(&mut self, key: FragKey, frag: Fragment<'_>, ts: Ts) -> Option<Vec<u8>> {
        let end = frag.offset.saturating_add(frag.data.len() as u32);
        if end > 65_535 + 8 {
            self.dropped += 1;
            return None;
        }
        self.expire(ts);
        if !self.pending.contains_key(&key) {
            let cap = if self.max_datagrams == 0 {
                MAX_DATAGRAMS
            } else {
                self.max_datagrams
            };
            while self.pending.len() >= cap {
                self.drop_oldest();
            }
        }
        while self.bytes + frag.data.len() > MAX_BYTES && !self.pending.is_empty() {
            self.drop_oldest();
        }
        if !self.pending.contains_key(&key) {
            self.order.push_back((ts, key.clone()));
        }
        let p = self.pending.entry(key.clone()).or_insert_with(|| Pending {
            first: ts,
            parts: Vec::new(),
            total: None,
            bytes: 0,
        });
        if !frag.more {
            p.total = Some(end);
        }
        p.parts.push((frag.offset, frag.data.to_vec()));
        p.bytes += frag.data.len();
        self.bytes += frag.data.len();
        let total = p.total?;
        p.parts.sort_by_key(|(o, _)| *o);
        let mut covered = 0u32;
        for (o, d) in &p.parts {
            if *o > covered {
                return None;
            }
            covered = covered.max(o + d.len() as u32);
        }
        if covered < total {
            return None;
        }
        let p = self.pending.remove(&key)?;
        self.bytes -= p.bytes;
        let mut out = vec![0u8; total as usize];
        for (o, d) in p.parts {
            // A fragment past the end the last fragment declared is inconsistent: ignore it.
            let o = o as usize;
            let Some(room) = out.len().checked_sub(o) else {
                continue;
            };
            let n = d.len().min(room);
            out[o..o + n].copy_from_slice(&d[..n]);
        }
        Some(out)
    }

    fn expire(&mut self, now: Ts) {
        while let Some((first, _)) = self.order.front() {
            if now.0.saturating_sub(first.0) <= MAX_AGE_NS {
                break;
            }
            let Some((first, k)) = self.order.pop_front() else {
                break;
            };
            if self.pending.get(&k).is_some_and(|p| p.first == first) {
                if let Some(p) = self.pending.remove(&k) {
                    self.bytes -= p.bytes;
                    self.dropped += 1;
                }
            }
        }
        // Completed datagrams leave stale entries behind: keep the queue near the pool's size.
        if self.order.len() > 4 * self.pending.len() + 1024 {
            let pending = &self.pending;
            self.order
                .retain(|(first, k)| pending.get(k).is_some_and(|p| p.first == *first));
        }
    }

    fn drop_oldest(&mut self) {
        while let Some((first, k)) = self.order.pop_front() {
            // Skip keys completed (or re-created) since they were queued.
            if self.pending.get(&k).is_some_and(|p| p.first == first) {
                if let Some(p) = self.pending.remove(&k) {
                    self.bytes -= p.bytes;
                    self.dropped += 1;
                }
                return;
            }
        }
    }

    /// Datagrams still waiting for fragments.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(id: u32) -> FragKey {
        FragKey {
            src: [10, 0, 0, 1].into(),
            dst: [10, 0, 0, 2].into(),
            id,
            proto: 17,
        }
    }

    #[test]
    fn reassembles_out_of_order_and_bounds_the_pool() {
        let mut pool = DefragPool::default();
        let a = [1u8; 16];
        let b = [2u8; 4];
        assert!(pool
            .add(
                key(1),
                Fragment {
                    offset: 16,
                    more: false,
                    data: &b
                },
                Ts(0)
            )
            .is_none());
        let whole = pool.add(
            key(1),
            Fragment {
                offset: 0,
                more: true,
                data: &a,
            },
            Ts(1),
        );
        let whole = whole.expect("complete");
        assert_eq!(whole.len(), 20);
        assert_eq!(&whole[16..], &b);
        for id in 0..(MAX_DATAGRAMS as u32 + 10) {
            pool.add(
                key(id),
                Fragment {
                    offset: 0,
                    more: true,
                    data: &a,
                },
                Ts(2),
            );
        }
        assert_eq!(pool.pending(), MAX_DATAGRAMS);
        assert_eq!(pool.dropped, 10);
        // A "last" fragment that ends before another fragment starts: no panic, no datagram
        // longer than declared (found by the decode fuzz target).
        let mut p2 = DefragPool::default();
        let (b100, b8, b6) = ([3u8; 100], [4u8; 8], [5u8; 6]);
        assert!(p2
            .add(
                key(7),
                Fragment {
                    offset: 0,
                    more: true,
                    data: &b100
                },
                Ts(0)
            )
            .is_none());
        assert!(p2
            .add(
                key(7),
                Fragment {
                    offset: 96,
                    more: true,
                    data: &b8
                },
                Ts(0)
            )
            .is_none());
        let whole = p2.add(
            key(7),
            Fragment {
                offset: 40,
                more: false,
                data: &b6,
            },
            Ts(0),
        );
        assert_eq!(whole.map(|w| w.len()), Some(46));
        // Capture time moves on: everything pending expires.
        pool.add(
            key(99_999),
            Fragment {
                offset: 0,
                more: true,
                data: &a,
            },
            Ts(MAX_AGE_NS + 10),
        );
        assert_eq!(pool.pending(), 1);
    }
}
