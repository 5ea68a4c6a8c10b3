//! A handshake ladder packed as it is read. A cluster's capture holds tens of thousands of
//! TLS connections open at once, each with a dozen steps: at 24 bytes a step, their ladders
//! alone took more room than their SIP. Packed, a step takes about 6 bytes (the frame and
//! time as varint differences from the step before, then who sent it and what it was); the
//! steps come back whole when the connection is settled.

use super::names::{AlertDescription, HandshakeType};
use super::summary::{Step, StepKind};
use crate::net::Side;
use crate::time::Ts;

/// Steps in the order they were read: the bytes only (the count and the last step are read
/// back when needed, during the handshake only).
#[derive(Clone, Debug, Default)]
pub(super) struct Ladder {
    bytes: Vec<u8>,
}

fn put(out: &mut Vec<u8>, v: i64) {
    // Zigzag: small differences either way take one or a few bytes.
    let mut z = ((v << 1) ^ (v >> 63)) as u64;
    while z >= 0x80 {
        out.push(z as u8 | 0x80);
        z >>= 7;
    }
    out.push(z as u8);
}

fn get(b: &[u8], at: &mut usize) -> i64 {
    let mut z = 0u64;
    for shift in (0..64).step_by(7) {
        let Some(&byte) = b.get(*at) else { break };
        *at += 1;
        z |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            break;
        }
    }
    (z >> 1) as i64 ^ -((z & 1) as i64)
}

impl Ladder {
    /// Steps so far, and the frame and time of the last one.
    fn walk(&self) -> (usize, u64, i64) {
        let (mut n, mut at, mut frame, mut time) = (0, 0, 0u64, 0i64);
        let b = &self.bytes;
        while at < b.len() {
            frame = frame.wrapping_add(get(b, &mut at) as u64);
            time = time.wrapping_add(get(b, &mut at));
            let head = b.get(at).copied().unwrap_or(0);
            at += 1 + usize::from(matches!(head >> 1, 0 | 5..));
            n += 1;
        }
        (n, frame, time)
    }

    /// Steps so far.
    pub(super) fn len(&self) -> usize {
        self.walk().0
    }

    /// Whether no step was read.
    pub(super) fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Adds a step, unless the ladder holds `max` already.
    pub(super) fn push(&mut self, s: &Step, max: usize) {
        let (n, frame, time) = self.walk();
        if n >= max {
            return;
        }
        put(&mut self.bytes, s.frame.wrapping_sub(frame) as i64);
        put(&mut self.bytes, s.time.0.wrapping_sub(time));
        let from = u8::from(s.from == Side::Server);
        let (kind, arg) = match s.message {
            StepKind::Handshake(t) => (0, Some(t.0)),
            StepKind::ChangeCipherSpec => (1, None),
            StepKind::EncryptedFinished => (2, None),
            StepKind::EncryptedHandshake => (3, None),
            StepKind::Alert(None) => (4, None),
            StepKind::Alert(Some(d)) => (5, Some(d.0)),
        };
        self.bytes.push(from | kind << 1);
        self.bytes.extend(arg);
    }

    /// The handshake is over: the ladder keeps no room for more.
    pub(super) fn shrink_to_fit(&mut self) {
        self.bytes.shrink_to_fit();
    }

    /// The steps, whole.
    pub(super) fn steps(&self) -> Vec<Step> {
        let mut out = Vec::with_capacity(self.len());
        let (mut at, mut frame, mut time) = (0, 0u64, 0i64);
        let b = &self.bytes;
        while at < b.len() {
            frame = frame.wrapping_add(get(b, &mut at) as u64);
            time = time.wrapping_add(get(b, &mut at));
            let head = b.get(at).copied().unwrap_or(0);
            at += 1;
            let mut arg = || {
                let a = b.get(at).copied().unwrap_or(0);
                at += 1;
                a
            };
            let message = match head >> 1 {
                0 => StepKind::Handshake(HandshakeType(arg())),
                1 => StepKind::ChangeCipherSpec,
                2 => StepKind::EncryptedFinished,
                3 => StepKind::EncryptedHandshake,
                4 => StepKind::Alert(None),
                _ => StepKind::Alert(Some(AlertDescription(arg()))),
            };
            out.push(Step {
                frame,
                time: Ts(time),
                from: if head & 1 == 1 {
                    Side::Server
                } else {
                    Side::Client
                },
                message,
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_come_back_as_they_went_in_whatever_their_order_in_time() {
        let kinds = [
            StepKind::Handshake(HandshakeType(1)),
            StepKind::Handshake(HandshakeType(255)),
            StepKind::ChangeCipherSpec,
            StepKind::EncryptedFinished,
            StepKind::EncryptedHandshake,
            StepKind::Alert(None),
            StepKind::Alert(Some(AlertDescription(0x99))),
        ];
        // Frames and times far apart, backwards, at the extremes.
        let at = [
            (1, 0),
            (2, 1_000),
            (1_000_000, -5),
            (7, i64::MAX),
            (u64::MAX, i64::MIN),
            (0, 0),
            (42, 1_772_442_000_123_456_789),
        ];
        let want: Vec<Step> = kinds
            .iter()
            .zip(at)
            .enumerate()
            .map(|(i, (message, (frame, time)))| Step {
                frame,
                time: Ts(time),
                from: if i % 2 == 0 {
                    Side::Client
                } else {
                    Side::Server
                },
                message: message.clone(),
            })
            .collect();
        let mut l = Ladder::default();
        for s in &want {
            l.push(s, usize::MAX);
        }
        assert_eq!(l.len(), want.len());
        assert_eq!(l.steps(), want);
        // Full: a step past the cap is not kept.
        l.push(&want[0], want.len());
        assert_eq!(l.steps(), want);
    }

    #[test]
    fn a_step_of_a_handshake_in_progress_takes_a_few_bytes() {
        let mut l = Ladder::default();
        for i in 0..12u64 {
            l.push(
                &Step {
                    frame: 1_000_000 + i,
                    time: Ts(1_772_442_000_000_000_000 + i as i64 * 250_000),
                    from: Side::Client,
                    message: StepKind::Handshake(HandshakeType(11)),
                },
                usize::MAX,
            );
        }
        // The first step carries the whole frame and time; the next ones their differences.
        assert!(l.bytes.len() <= 16 + 11 * 6, "{} bytes", l.bytes.len());
    }
}
