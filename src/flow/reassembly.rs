//! One direction of a TCP connection: in-order delivery of the byte stream.
//!
//! Retransmissions and overlaps are trimmed, out-of-order segments wait (bounded), and a hole
//! that never fills becomes a [`Chunk::Gap`] so decoders can resync. This is the one place
//! where packet bytes are copied.

/// Out-of-order bytes held per direction before a hole is declared lost.
pub const MAX_PENDING_BYTES: usize = 1024 * 1024;
/// Out-of-order segments held per direction before a hole is declared lost.
pub const MAX_PENDING_SEGMENTS: usize = 512;

/// What a direction delivers.
#[derive(Debug, PartialEq, Eq)]
pub enum Chunk<'a> {
    /// Contiguous stream bytes, from the segment in `frame`.
    Data(&'a [u8], u64),
    /// Bytes the capture does not hold (lost or cut), before the data of `frame`.
    Gap(u32, u64),
}

/// Reassembly state of one direction.
#[derive(Debug, Default)]
pub struct Half {
    next: Option<u32>,
    pending: Vec<(u32, Vec<u8>, u64)>,
    pending_bytes: usize,
    /// Segments that carried only bytes already delivered.
    pub retransmissions: u64,
    /// Bytes declared lost.
    pub lost_bytes: u64,
    /// Bytes delivered in order.
    pub delivered: u64,
}

fn dist(a: u32, b: u32) -> i64 {
    a.wrapping_sub(b) as i32 as i64
}

impl Half {
    /// A SYN fixes the initial sequence number.
    pub fn syn(&mut self, seq: u32) {
        if self.next.is_none() || self.delivered == 0 {
            self.next = Some(seq.wrapping_add(1));
        }
    }

    /// Whether any byte or SYN has fixed the stream position.
    pub fn started(&self) -> bool {
        self.next.is_some()
    }

    /// Adds a segment and delivers whatever became contiguous.
    pub fn segment(
        &mut self,
        seq: u32,
        payload: &[u8],
        frame: u64,
        out: &mut dyn FnMut(Chunk<'_>),
    ) {
        if payload.is_empty() {
            return;
        }
        let next = *self.next.get_or_insert(seq);
        let d = dist(seq, next);
        if d <= 0 {
            let overlap = (-d) as usize;
            if overlap >= payload.len() {
                self.retransmissions += 1;
                return;
            }
            self.deliver(&payload[overlap..], frame, out);
            self.drain(out);
        } else {
            self.pending.push((seq, payload.to_vec(), frame));
            self.pending_bytes += payload.len();
            if self.pending_bytes > MAX_PENDING_BYTES || self.pending.len() > MAX_PENDING_SEGMENTS {
                self.skip_hole(out);
            }
        }
    }

    /// Bytes that are known to exist but are not in the capture (snap length, lost segment).
    pub fn missing(
        &mut self,
        seq: u32,
        present: usize,
        missing: u32,
        frame: u64,
        out: &mut dyn FnMut(Chunk<'_>),
    ) {
        let Some(next) = self.next else { return };
        let end = seq.wrapping_add(present as u32);
        if dist(end, next) == 0 && missing > 0 {
            out(Chunk::Gap(missing, frame));
            self.lost_bytes += missing as u64;
            self.next = Some(end.wrapping_add(missing));
            self.drain(out);
        }
    }

    fn deliver(&mut self, bytes: &[u8], frame: u64, out: &mut dyn FnMut(Chunk<'_>)) {
        out(Chunk::Data(bytes, frame));
        self.delivered += bytes.len() as u64;
        self.next = self.next.map(|n| n.wrapping_add(bytes.len() as u32));
    }

    fn drain(&mut self, out: &mut dyn FnMut(Chunk<'_>)) {
        loop {
            let Some(next) = self.next else { return };
            let Some(i) = self
                .pending
                .iter()
                .position(|(s, _, _)| dist(*s, next) <= 0)
            else {
                return;
            };
            let (seq, data, frame) = self.pending.swap_remove(i);
            self.pending_bytes -= data.len();
            let overlap = (-dist(seq, next)) as usize;
            if overlap < data.len() {
                self.deliver(&data[overlap..], frame, out);
            } else {
                self.retransmissions += 1;
            }
        }
    }

    fn skip_hole(&mut self, out: &mut dyn FnMut(Chunk<'_>)) {
        let Some(next) = self.next else { return };
        let Some(first) = self.pending.iter().min_by_key(|(s, _, _)| dist(*s, next)) else {
            return;
        };
        let hole = dist(first.0, next) as u32;
        let frame = first.2;
        out(Chunk::Gap(hole, frame));
        self.lost_bytes += hole as u64;
        self.next = Some(first.0);
        self.drain(out);
    }

    /// The connection ended (or the capture did): holes that never filled are declared lost.
    pub fn flush(&mut self, out: &mut dyn FnMut(Chunk<'_>)) {
        while !self.pending.is_empty() {
            self.skip_hole(out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(h: &mut Half, segs: &[(u32, &[u8])]) -> (Vec<u8>, Vec<u32>) {
        let mut data = Vec::new();
        let mut gaps = Vec::new();
        for (i, (s, p)) in segs.iter().enumerate() {
            h.segment(*s, p, i as u64 + 1, &mut |c| match c {
                Chunk::Data(d, _) => data.extend_from_slice(d),
                Chunk::Gap(n, _) => gaps.push(n),
            });
        }
        h.flush(&mut |c| match c {
            Chunk::Data(d, _) => data.extend_from_slice(d),
            Chunk::Gap(n, _) => gaps.push(n),
        });
        (data, gaps)
    }

    #[test]
    fn reorders_trims_and_counts_retransmissions() {
        let mut h = Half::default();
        h.syn(u32::MAX - 2); // wraps around zero
        let base = u32::MAX - 1;
        let (d, gaps) = collect(
            &mut h,
            &[
                (base.wrapping_add(4), b"EFGH"),
                (base, b"ABCD"),
                (base, b"ABCD"),
                (base.wrapping_add(2), b"CDEFGHIJ"),
            ],
        );
        assert_eq!(d, b"ABCDEFGHIJ");
        assert!(gaps.is_empty());
        assert_eq!(h.retransmissions, 1);
    }

    #[test]
    fn a_lost_segment_is_a_gap_then_delivery_resumes() {
        let mut h = Half::default();
        h.syn(99);
        let (d, gaps) = collect(&mut h, &[(100, b"AAAA"), (108, b"CCCC")]);
        assert_eq!(d, b"AAAACCCC");
        assert_eq!(gaps, vec![4]);
        assert_eq!(h.lost_bytes, 4);
    }

    #[test]
    fn midstream_start_takes_first_segment_as_origin() {
        let mut h = Half::default();
        let (d, _) = collect(&mut h, &[(5000, b"xy"), (5002, b"z")]);
        assert_eq!(d, b"xyz");
    }
}
