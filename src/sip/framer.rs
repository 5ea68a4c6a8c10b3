//! Frames SIP messages out of a TCP (or decrypted TLS) byte stream by Content-Length.
//!
//! Several messages in one segment, one message over many segments and CRLF keep-alives
//! between them are all handled. After a gap the framer drops its partial message and resyncs
//! on the next line that is a SIP start line.

use super::{parse, split_head, MAX_BODY, MAX_HEADER};

/// A whole message found in the stream: head bytes and body length.
pub struct Framed<'a> {
    /// Start line and headers (up to and excluding the empty line).
    pub start: parse::StartLine,
    /// Headers (values borrowed from the stream where they can be).
    pub headers: Vec<parse::Header<'a>>,
    /// Body length (Content-Length).
    pub body_len: usize,
    /// Raw head, for callers that need it.
    pub raw: &'a [u8],
}

/// Offset of the first line in `b` that is a SIP start line.
pub fn find_start(b: &[u8]) -> Option<usize> {
    let mut at = 0;
    loop {
        let rest = &b[at..];
        let nl = rest.iter().position(|&c| c == b'\n');
        let line = &rest[..nl.unwrap_or(rest.len())];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if parse::is_start_line(line) {
            return Some(at);
        }
        at += nl? + 1;
    }
}

/// Stream framer for one direction.
#[derive(Default)]
pub struct Framer {
    buf: Vec<u8>,
    skip: usize,
    resync: bool,
    /// Messages whose body was larger than [`MAX_BODY`].
    pub oversized: u32,
    /// Bytes dropped while looking for a start line.
    pub dropped: u64,
}

impl Framer {
    /// Adds stream bytes; calls `out` for each complete message. Whole messages are read from
    /// `data` where they lie; only a partial one is copied, and the copy is freed once used.
    pub fn push(&mut self, mut data: &[u8], out: &mut dyn FnMut(Framed<'_>)) {
        if self.skip > 0 {
            let n = self.skip.min(data.len());
            self.skip -= n;
            data = &data[n..];
        }
        let pending = std::mem::take(&mut self.buf);
        self.buf = crate::flow::read_in_place(pending, data, |all| self.frame(all, out));
    }

    /// Frames the messages at the start of `all`; returns how many bytes were used (the rest
    /// is a partial message, kept for the next bytes).
    fn frame(&mut self, all: &[u8], out: &mut dyn FnMut(Framed<'_>)) -> usize {
        let mut at = 0;
        loop {
            let b = &all[at..];
            let ws = b.iter().take_while(|c| matches!(c, b'\r' | b'\n')).count();
            at += ws;
            let b = &all[at..];
            if b.is_empty() {
                break;
            }
            if self.resync || !starts_plausibly(b) {
                match find_start(b) {
                    Some(p) => {
                        self.dropped += p as u64;
                        at += p;
                        self.resync = false;
                        continue;
                    }
                    None => {
                        // Keep a partial last line: it may become a start line.
                        let keep = b.iter().rposition(|&c| c == b'\n').map_or(0, |p| p + 1);
                        self.dropped += keep as u64;
                        at += keep;
                        if all.len() - at > MAX_HEADER {
                            self.dropped += (all.len() - at) as u64;
                            at = all.len();
                        }
                        self.resync = true;
                        break;
                    }
                }
            }
            let b = &all[at..];
            let Some((first, block, body_at)) = split_head(b) else {
                if b.len() > MAX_HEADER {
                    self.dropped += b.len() as u64;
                    at = all.len();
                    self.resync = true;
                }
                break;
            };
            let Some(start) = parse::start_line(first) else {
                self.resync = true;
                continue;
            };
            let headers = parse::headers(block);
            let len = super::content_length(&headers).unwrap_or(0);
            if len > MAX_BODY {
                self.oversized += 1;
                let have = b.len() - body_at;
                out(Framed {
                    start,
                    headers,
                    body_len: len,
                    raw: &b[..body_at],
                });
                at += b.len();
                self.skip = len - have.min(len);
                continue;
            }
            if b.len() < body_at + len {
                break;
            }
            out(Framed {
                start,
                headers,
                body_len: len,
                raw: &b[..body_at],
            });
            at += body_at + len;
        }
        at.min(all.len())
    }

    /// The sender closed: an empty buffer is freed.
    pub fn closed(&mut self) {
        if self.buf.is_empty() {
            self.buf = Vec::new();
        }
    }

    /// Bytes were lost: whatever is partial is dropped and the next start line is searched.
    pub fn gap(&mut self) {
        self.dropped += self.buf.len() as u64;
        self.buf.clear();
        self.skip = 0;
        self.resync = true;
    }
}

fn starts_plausibly(b: &[u8]) -> bool {
    b.starts_with(b"SIP/2.0") || b.first().is_some_and(|c| c.is_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame_all(chunks: &[&[u8]]) -> Vec<(String, usize)> {
        let mut f = Framer::default();
        let mut out = Vec::new();
        for c in chunks {
            f.push(c, &mut |m| {
                let name = match m.start {
                    parse::StartLine::Request { method, .. } => method,
                    parse::StartLine::Response { code, .. } => code.to_string(),
                };
                out.push((name, m.body_len));
            });
        }
        out
    }

    #[test]
    fn two_in_one_segment_one_over_many_and_keepalives() {
        let a = b"OPTIONS sip:x SIP/2.0\r\nContent-Length: 3\r\n\r\nabc\r\n\r\nSIP/2.0 200 OK\r\nl: 0\r\n\r\n";
        assert_eq!(
            frame_all(&[a]),
            vec![("OPTIONS".into(), 3), ("200".into(), 0)]
        );
        // Same bytes one at a time: same messages.
        let singles: Vec<&[u8]> = a.chunks(1).collect();
        assert_eq!(
            frame_all(&singles),
            vec![("OPTIONS".into(), 3), ("200".into(), 0)]
        );
    }

    #[test]
    fn resyncs_after_a_gap() {
        let mut f = Framer::default();
        let mut n = 0;
        f.push(b"REGISTER sip:x SIP/2.0\r\nContent-Le", &mut |_| n += 1);
        f.gap();
        f.push(b"ngth: 0\r\n\r\nSIP/2.0 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n", &mut |_| n += 1);
        assert_eq!(n, 1);
    }
}
