//! Capture input: pcap and pcapng read as a stream (pcap-parser), gzip-compressed or not.
//!
//! Frames are numbered as Wireshark numbers them (1-based, file order) and carry the capture's
//! own timestamps. A damaged or truncated file is read up to the damage; where reading stopped
//! is returned as data so the findings before it are kept.

use std::io::{BufRead, BufReader, Read};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use pcap_parser::pcapng::Block;
use pcap_parser::traits::{PcapNGPacketBlock, PcapReaderIterator};
use pcap_parser::{create_reader, PcapBlockOwned, PcapError};
use serde::Serialize;

use crate::inputs::{content_of, decompress, Compression, Content, Input};
use crate::time::Ts;

/// Initial read buffer; grown on demand for large blocks up to [`MAX_BLOCK`].
const BUFFER: usize = 256 * 1024;
/// The largest capture block accepted. A corrupt length asking for more stops the reading.
pub const MAX_BLOCK: usize = 16 * 1024 * 1024;

/// One captured frame, borrowed from the reader's buffer.
#[derive(Debug)]
pub struct Frame<'a> {
    /// Wireshark's frame number: 1-based, in file order.
    pub number: u64,
    /// Capture timestamp.
    pub ts: Ts,
    /// Link-layer type (LINKTYPE_* value).
    pub linktype: i32,
    /// Captured bytes.
    pub data: &'a [u8],
    /// Length of the packet on the wire (may exceed `data.len()` when cut by the snap length).
    pub orig_len: u32,
}

/// Receives what a capture holds, in file order.
pub trait CaptureSink {
    /// The file's format, once its header is read (`true` for pcapng).
    fn format(&mut self, _pcapng: bool) {}
    /// A packet.
    fn frame(&mut self, frame: &Frame<'_>);
    /// A pcapng Decryption Secrets Block (`kind` is the secrets type, 0x544c534b for TLS key logs).
    fn secrets(&mut self, _kind: u32, _data: &[u8], _after_frame: u64) {}
    /// Whether it wants no more (a sensor stopped while it replays a file): reading ends
    /// there, as at the end of the file.
    fn done(&self) -> bool {
        false
    }
}

/// What was read from one capture file.
#[derive(Clone, Debug, Serialize, PartialEq, schemars::JsonSchema)]
pub struct CaptureInfo {
    /// Path as given on the command line (`-` for standard input).
    pub path: String,
    /// `pcap`, `pcap (nanosecond)`, `pcapng`, with `+gzip` when compressed.
    pub format: String,
    /// Link types seen, by name, in order of first appearance.
    pub link_types: Vec<String>,
    /// Frames read.
    pub frames: u64,
    /// Timestamp of the first frame.
    pub first_time: Option<Ts>,
    /// Timestamp of the last frame.
    pub last_time: Option<Ts>,
    /// Where and why reading stopped early, if it did.
    pub stopped: Option<String>,
    /// The verdict on this input alone (a capture, or a log with its rotated files), set when
    /// the run concludes; the run's verdict is over all of them. Absent in the events written
    /// while reading.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict: Option<crate::verdict::Verdict>,
    /// Why this input's verdict is `inconclusive` (or what a failure could not judge).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub verdict_reasons: Vec<String>,
}

impl CaptureInfo {
    /// What an input named `path` in `format` holds before anything is read.
    pub fn named(path: &str, format: &str) -> CaptureInfo {
        CaptureInfo {
            path: path.to_string(),
            format: format.to_string(),
            link_types: Vec::new(),
            frames: 0,
            first_time: None,
            last_time: None,
            stopped: None,
            verdict: None,
            verdict_reasons: Vec::new(),
        }
    }
}

/// Why a capture could not be read at all.
#[derive(Debug)]
pub enum CaptureError {
    /// The file could not be opened or read.
    Io(String, std::io::Error),
    /// The file is not a pcap or pcapng capture.
    NotACapture(String, String),
}

impl std::fmt::Display for CaptureError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CaptureError::Io(p, e) => write!(f, "{p}: cannot read: {e}"),
            CaptureError::NotACapture(p, why) => {
                write!(f, "{p}: not a pcap or pcapng capture: {why}")
            }
        }
    }
}

impl std::error::Error for CaptureError {}

/// Name of a link type as libpcap spells it.
pub fn linktype_name(lt: i32) -> String {
    known_linktype(lt).map_or_else(|| format!("LINKTYPE_{lt}"), str::to_string)
}

fn known_linktype(lt: i32) -> Option<&'static str> {
    Some(match lt {
        0 => "NULL",
        1 => "EN10MB",
        12 | 14 | 101 => "RAW",
        108 => "LOOP",
        113 => "LINUX_SLL",
        228 => "IPV4",
        229 => "IPV6",
        276 => "LINUX_SLL2",
        _ => return None,
    })
}

/// Counts the bytes read from the file (before decompression), for a progress display.
struct Counting<R> {
    inner: R,
    counter: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.counter.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

fn open(
    input: &Input,
    counter: Option<Arc<AtomicU64>>,
) -> Result<(Box<dyn Read + Send>, Option<Compression>), CaptureError> {
    let io = |e| CaptureError::Io(input.label.clone(), e);
    let mut raw = input.open().map_err(io)?;
    if let Some(counter) = counter {
        raw = Box::new(Counting {
            inner: raw,
            counter,
        });
    }
    decompress(raw).map_err(io)
}

struct Interface {
    linktype: i32,
    /// Units per second.
    resolution: u64,
    offset_secs: i64,
}

/// Reads one capture and pushes its frames into `sink`.
///
/// Returns `Err` only when nothing could be read at all; damage later in the file ends the
/// reading with [`CaptureInfo::stopped`] set.
pub fn read_capture(path: &str, sink: &mut dyn CaptureSink) -> Result<CaptureInfo, CaptureError> {
    read_input(&Input::path(path), sink, None)
}

/// Reads a capture held in memory (`label` names it in messages).
pub fn read_capture_bytes(
    label: &str,
    bytes: &[u8],
    sink: &mut dyn CaptureSink,
) -> Result<CaptureInfo, CaptureError> {
    let (input, comp) =
        decompress(Box::new(bytes)).map_err(|e| CaptureError::Io(label.to_string(), e))?;
    read_stream(label, input, comp, sink)
}

/// Reads one input (a file, standard input or a zip member, compressed or not), adding the
/// bytes read from disk to `counter` as it goes.
pub fn read_input(
    input: &Input,
    sink: &mut dyn CaptureSink,
    counter: Option<Arc<AtomicU64>>,
) -> Result<CaptureInfo, CaptureError> {
    let (reader, comp) = open(input, counter)?;
    read_stream(&input.label, reader, comp, sink)
}

fn read_stream<'r>(
    path: &str,
    input: Box<dyn Read + Send + 'r>,
    comp: Option<Compression>,
    sink: &mut dyn CaptureSink,
) -> Result<CaptureInfo, CaptureError> {
    let mut input = BufReader::with_capacity(64 * 1024, input);
    let head = input
        .fill_buf()
        .map_err(|e| CaptureError::Io(path.to_string(), e))?;
    if head.starts_with(&SHB_TYPE.to_le_bytes()) {
        let mut info = read_pcapng(path, &mut input, sink)?;
        if let Some(c) = comp {
            info.format = format!("{}+{}", info.format, c.name());
        }
        return Ok(info);
    }
    if content_of(head) != Content::Capture {
        return Err(CaptureError::NotACapture(path.into(), describe(head)));
    }
    let short = head.len() < 24;
    let input: Box<dyn Read + Send + 'r> = Box::new(input);
    let mut reader = match create_reader(BUFFER, input) {
        Ok(r) => r,
        Err(PcapError::Eof | PcapError::Incomplete(_) | PcapError::UnexpectedEof) if short => {
            return Err(CaptureError::NotACapture(
                path.into(),
                "the file ends inside the 24-byte pcap file header (cut short)".into(),
            ))
        }
        Err(e) => {
            return Err(CaptureError::NotACapture(
                path.into(),
                format!("its pcap file header is damaged ({})", short_error(&e)),
            ))
        }
    };
    let mut info = CaptureInfo::named(path, "");
    read_legacy(path, reader.as_mut(), sink, &mut info);
    if let Some(c) = comp {
        info.format = format!("{}+{}", info.format, c.name());
    }
    if info.format.is_empty() {
        info.format = "unknown".into();
    }
    Ok(info)
}

/// The records of a legacy pcap file, until its end or the first damage (named in
/// `info.stopped`).
fn read_legacy(
    path: &str,
    reader: &mut (dyn PcapReaderIterator + Send),
    sink: &mut dyn CaptureSink,
    info: &mut CaptureInfo,
) {
    let mut legacy = (1i32, false); // (linktype, nanosecond)
    let mut buffer_size = BUFFER;
    let mut empty_refills = 0;
    loop {
        if sink.done() {
            break;
        }
        let next = match guarded_next(&mut *reader) {
            Ok(n) => n,
            Err(_) => {
                info.stopped = Some(format!(
                    "{path}: reading stopped after frame {}: the capture parser failed on a malformed block",
                    info.frames
                ));
                break;
            }
        };
        match next {
            Ok((offset, block)) => {
                empty_refills = 0;
                match block {
                    PcapBlockOwned::LegacyHeader(h) => {
                        legacy = (h.network.0, h.is_nanosecond_precision());
                        sink.format(false);
                        info.format = if legacy.1 {
                            "pcap (nanosecond)"
                        } else {
                            "pcap"
                        }
                        .into();
                    }
                    PcapBlockOwned::Legacy(b) => {
                        let sub = if legacy.1 {
                            b.ts_usec as i64
                        } else {
                            b.ts_usec as i64 * 1000
                        };
                        let ts = Ts(b.ts_sec as i64 * 1_000_000_000 + sub);
                        let data = &b.data[..b.data.len().min(b.caplen as usize)];
                        emit(info, sink, legacy.0, ts, data, b.origlen);
                    }
                    // pcapng never reaches this reader: read_pcapng frames it.
                    PcapBlockOwned::NG(_) => {}
                }
                reader.consume(offset);
            }
            Err(PcapError::Eof) => break,
            Err(PcapError::Incomplete(_)) => {
                empty_refills += 1;
                if empty_refills > 3 || reader.refill().is_err() {
                    info.stopped = Some(format!(
                        "{path}: the file ends inside the block after frame {} (truncated capture)",
                        info.frames
                    ));
                    break;
                }
            }
            Err(PcapError::UnexpectedEof) => {
                info.stopped = Some(format!(
                    "{path}: the file ends inside the block after frame {} (truncated capture)",
                    info.frames
                ));
                break;
            }
            Err(PcapError::BufferTooSmall) => {
                if buffer_size >= MAX_BLOCK || !reader.grow(buffer_size * 2) {
                    info.stopped = Some(format!(
                        "{path}: reading stopped after frame {}: a block claims more than {} MiB (corrupt length)",
                        info.frames,
                        MAX_BLOCK >> 20
                    ));
                    break;
                }
                buffer_size *= 2;
            }
            Err(e) => {
                info.stopped = Some(format!(
                    "{path}: reading stopped after frame {}: corrupt block ({})",
                    info.frames,
                    short_error(&e)
                ));
                break;
            }
        }
    }
}

const SHB_TYPE: u32 = 0x0a0d_0d0a;

/// What one parsed pcapng block contributes: interfaces, packets, secrets.
fn use_block(
    block: Block<'_>,
    interfaces: &mut Vec<Interface>,
    info: &mut CaptureInfo,
    sink: &mut dyn CaptureSink,
) {
    match block {
        Block::SectionHeader(_) => {
            interfaces.clear();
            sink.format(true);
        }
        Block::InterfaceDescription(idb) => interfaces.push(Interface {
            linktype: idb.linktype.0,
            resolution: idb.ts_resolution().unwrap_or(1_000_000).max(1),
            offset_secs: idb.ts_offset(),
        }),
        Block::EnhancedPacket(epb) => {
            let (lt, ts) = match interfaces.get(epb.if_id as usize) {
                Some(i) => {
                    let units = ((epb.ts_high as u64) << 32) | epb.ts_low as u64;
                    let ns = (units as u128 * 1_000_000_000u128 / i.resolution as u128) as i64;
                    (
                        i.linktype,
                        Ts(ns.saturating_add(i.offset_secs.saturating_mul(1_000_000_000))),
                    )
                }
                None => (-1, Ts(0)),
            };
            emit(info, sink, lt, ts, epb.packet_data(), epb.origlen);
        }
        Block::SimplePacket(spb) => {
            let lt = interfaces.first().map_or(-1, |i| i.linktype);
            let ts = info.last_time.unwrap_or_default();
            emit(info, sink, lt, ts, spb.packet_data(), spb.origlen);
        }
        Block::DecryptionSecrets(dsb) => {
            // pcap-parser includes the padding to 4 bytes; the secrets end at their length.
            let data = &dsb.data[..dsb.data.len().min(dsb.secrets_len as usize)];
            sink.secrets(dsb.secrets_type.0, data, info.frames)
        }
        _ => {}
    }
}

/// What a file that is not a capture holds instead, in words.
fn describe(head: &[u8]) -> String {
    match content_of(head) {
        Content::Empty => "the file is empty".into(),
        Content::KeyLog => "it is a TLS key log, not a capture".into(),
        Content::Log(kind) => format!(
            "it is a {}, which siptriage reads from a file or an archive, not from standard input: give its path",
            kind.name()
        ),
        Content::Zip => {
            "it is a zip archive, which is opened when named as a file or found in a folder, \
             not on standard input"
                .into()
        }
        _ => {
            let start = &head[..head.len().min(40)];
            let text = std::str::from_utf8(start).ok().filter(|t| {
                t.chars()
                    .all(|c| !c.is_control() || c == '\n' || c == '\r' || c == '\t')
            });
            match text {
                Some(t) => format!(
                    "it is text, starting with \"{}\", in none of the log layouts read (Jabber client log, CUCM SDL trace, Expressway diagnostic log)",
                    t.lines().next().unwrap_or("").trim()
                ),
                None => format!(
                    "unknown file header: it starts with bytes {}, where a pcap starts with \
                     d4 c3 b2 a1 or a pcapng with 0a 0d 0d 0a",
                    start
                        .iter()
                        .take(8)
                        .map(|b| format!("{b:02x}"))
                        .collect::<Vec<_>>()
                        .join(" ")
                ),
            }
        }
    }
}

/// One frame to the sink, with the bookkeeping every format shares.
fn emit(
    info: &mut CaptureInfo,
    sink: &mut dyn CaptureSink,
    lt: i32,
    ts: Ts,
    data: &[u8],
    orig: u32,
) {
    info.frames += 1;
    // (Every frame comes here: no string is made for a link type already listed.)
    let seen = match known_linktype(lt) {
        Some(n) => info.link_types.iter().any(|t| t == n),
        None => false,
    };
    if !seen {
        let name = linktype_name(lt);
        if !info.link_types.contains(&name) {
            info.link_types.push(name);
        }
    }
    info.first_time.get_or_insert(ts);
    info.last_time = Some(ts);
    sink.frame(&Frame {
        number: info.frames,
        ts,
        linktype: lt,
        data,
        orig_len: orig,
    });
}

/// Reads until `buf` holds `want` bytes; false at the end of the input.
fn fill(input: &mut dyn Read, buf: &mut Vec<u8>, want: usize) -> std::io::Result<bool> {
    let mut chunk = [0u8; 64 * 1024];
    while buf.len() < want {
        let room = (want - buf.len()).min(chunk.len());
        let n = input.read(&mut chunk[..room])?;
        if n == 0 {
            return Ok(false);
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Ok(true)
}

/// pcapng, framed here: every block's length is checked (at least 12, a multiple of 4, at most
/// [`MAX_BLOCK`], equal to its trailing copy) before pcap-parser parses the block, so no
/// malformed length reaches its arithmetic (pcap-parser 0.17 subtracts without checking and
/// panics on a crafted block). A block that parses badly is skipped; the framing goes on.
fn read_pcapng(
    path: &str,
    input: &mut dyn Read,
    sink: &mut dyn CaptureSink,
) -> Result<CaptureInfo, CaptureError> {
    let mut info = CaptureInfo::named(path, "pcapng");
    let mut interfaces: Vec<Interface> = Vec::new();
    let mut big_endian = false;
    let mut buf: Vec<u8> = Vec::with_capacity(BUFFER);
    let mut first = true;
    loop {
        if sink.done() {
            break;
        }
        buf.clear();
        match fill(input, &mut buf, 12) {
            Ok(true) => {}
            Ok(false) if buf.is_empty() => break,
            Ok(false) => {
                info.stopped = Some(format!(
                    "{path}: the file ends inside the block after frame {} (truncated capture)",
                    info.frames
                ));
                break;
            }
            Err(e) => {
                info.stopped = Some(format!(
                    "{path}: reading stopped after frame {}: {e}",
                    info.frames
                ));
                break;
            }
        }
        let btype = u32::from_le_bytes([buf[0], buf[1], buf[2], buf[3]]);
        if btype == SHB_TYPE {
            big_endian = match &buf[8..12] {
                [0x1a, 0x2b, 0x3c, 0x4d] => true,
                [0x4d, 0x3c, 0x2b, 0x1a] => false,
                _ => {
                    if first {
                        return Err(CaptureError::NotACapture(
                            path.into(),
                            "pcapng section header with an unknown byte order".into(),
                        ));
                    }
                    info.stopped = Some(format!("{path}: reading stopped after frame {}: a section header with an unknown byte order", info.frames));
                    break;
                }
            };
        }
        first = false;
        let u32_at = |b: &[u8], at: usize| {
            let x = [b[at], b[at + 1], b[at + 2], b[at + 3]];
            if big_endian {
                u32::from_be_bytes(x)
            } else {
                u32::from_le_bytes(x)
            }
        };
        let len = u32_at(&buf, 4) as usize;
        if len < 12 || !len.is_multiple_of(4) || len > MAX_BLOCK {
            info.stopped = Some(format!("{path}: reading stopped after frame {}: a block claims {len} bytes (corrupt length)", info.frames));
            break;
        }
        match fill(input, &mut buf, len) {
            Ok(true) => {}
            _ => {
                info.stopped = Some(format!(
                    "{path}: the file ends inside the block after frame {} (truncated capture)",
                    info.frames
                ));
                break;
            }
        }
        if u32_at(&buf, len - 4) as usize != len {
            info.stopped = Some(format!("{path}: reading stopped after frame {}: a block's two lengths differ (corrupt block)", info.frames));
            break;
        }
        let block = &buf[..len];
        let parsed = catch_unwind(AssertUnwindSafe(|| {
            if big_endian {
                pcap_parser::pcapng::parse_block_be(block)
            } else {
                pcap_parser::pcapng::parse_block_le(block)
            }
        }));
        // A block whose content does not parse is passed over; the framing is sound.
        let Ok(Ok((_, block))) = parsed else { continue };
        use_block(block, &mut interfaces, &mut info, sink);
    }
    Ok(info)
}

type Next<'a> = Result<(usize, PcapBlockOwned<'a>), PcapError<&'a [u8]>>;

/// pcap-parser can panic on crafted blocks (an overflow in builds with overflow checks): the
/// panic is caught and reported as damage instead of ending the program.
fn guarded_next<'a>(r: &'a mut (dyn PcapReaderIterator + Send)) -> std::thread::Result<Next<'a>> {
    let mut slot = Some(r);
    catch_unwind(AssertUnwindSafe(move || match slot.take() {
        Some(r) => r.next(),
        None => Err(PcapError::ReadError),
    }))
}

fn short_error(e: &PcapError<&[u8]>) -> String {
    match e {
        PcapError::HeaderNotRecognized => "header not recognized".into(),
        PcapError::NomError(..) | PcapError::OwnedNomError(..) => {
            "a block does not have the layout its type requires".into()
        }
        PcapError::ReadError => "read error".into(),
        PcapError::Eof | PcapError::UnexpectedEof | PcapError::Incomplete(_) => {
            "the data ends too early".into()
        }
        PcapError::BufferTooSmall => "a block is larger than the reading buffer".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Collect {
        frames: Vec<(u64, i64, i32, Vec<u8>, u32)>,
        secrets: Vec<(u32, Vec<u8>, u64)>,
        pcapng: Option<bool>,
    }

    impl CaptureSink for Collect {
        fn format(&mut self, pcapng: bool) {
            self.pcapng = Some(pcapng);
        }
        fn frame(&mut self, f: &Frame<'_>) {
            self.frames
                .push((f.number, f.ts.0, f.linktype, f.data.to_vec(), f.orig_len));
        }
        fn secrets(&mut self, kind: u32, data: &[u8], after: u64) {
            self.secrets.push((kind, data.to_vec(), after));
        }
    }

    /// A pcapng block: type, total length, body padded to 4, total length again.
    fn block(be: bool, kind: u32, body: &[u8]) -> Vec<u8> {
        let mut body = body.to_vec();
        while !body.len().is_multiple_of(4) {
            body.push(0);
        }
        let len = (body.len() + 12) as u32;
        let w = |x: u32| if be { x.to_be_bytes() } else { x.to_le_bytes() };
        let mut out = w(kind).to_vec();
        out.extend_from_slice(&w(len));
        out.extend_from_slice(&body);
        out.extend_from_slice(&w(len));
        out
    }

    /// Section header, one Ethernet interface with nanosecond resolution, two packets, and a
    /// Decryption Secrets Block between them.
    fn pcapng(be: bool) -> Vec<u8> {
        let w32 = |x: u32| if be { x.to_be_bytes() } else { x.to_le_bytes() };
        let w16 = |x: u16| if be { x.to_be_bytes() } else { x.to_le_bytes() };
        let mut shb = w32(0x1a2b_3c4d).to_vec();
        shb.extend_from_slice(&w16(1));
        shb.extend_from_slice(&w16(0));
        shb.extend_from_slice(&[0xff; 8]);
        let mut idb = w16(1).to_vec();
        idb.extend_from_slice(&w16(0));
        idb.extend_from_slice(&w32(0));
        // if_tsresol = 10^-9, then the end of options.
        idb.extend_from_slice(&w16(9));
        idb.extend_from_slice(&w16(1));
        idb.extend_from_slice(&[9, 0, 0, 0]);
        idb.extend_from_slice(&[0; 4]);
        let epb = |ts: u64, data: &[u8], orig: u32| {
            let mut b = w32(0).to_vec();
            b.extend_from_slice(&w32((ts >> 32) as u32));
            b.extend_from_slice(&w32(ts as u32));
            b.extend_from_slice(&w32(data.len() as u32));
            b.extend_from_slice(&w32(orig));
            b.extend_from_slice(data);
            block(be, 6, &b)
        };
        let mut dsb = w32(0x544c_534b).to_vec();
        dsb.extend_from_slice(&w32(5));
        dsb.extend_from_slice(b"CLNT_");
        let mut out = block(be, SHB_TYPE, &shb);
        out.extend(block(be, 1, &idb));
        out.extend(epb(1_700_000_000_123_456_789, b"abc", 3));
        out.extend(block(be, 10, &dsb));
        out.extend(epb(1_700_000_001_000_000_000, b"defgh", 60));
        out
    }

    fn read(bytes: &[u8]) -> (CaptureInfo, Collect) {
        let mut c = Collect::default();
        let info = read_capture_bytes("t.pcapng", bytes, &mut c).expect("readable");
        (info, c)
    }

    #[test]
    fn pcapng_both_byte_orders_with_secrets_between_packets() {
        for be in [false, true] {
            let (info, c) = read(&pcapng(be));
            assert_eq!(info.format, "pcapng");
            assert_eq!(info.stopped, None, "big endian: {be}");
            assert_eq!(c.pcapng, Some(true));
            assert_eq!(c.frames.len(), 2);
            assert_eq!(
                c.frames[0],
                (1, 1_700_000_000_123_456_789, 1, b"abc".to_vec(), 3)
            );
            assert_eq!(c.frames[1].3, b"defgh".to_vec());
            assert_eq!(c.frames[1].4, 60);
            assert_eq!(c.secrets, vec![(0x544c_534b, b"CLNT_".to_vec(), 1)]);
            assert_eq!(info.link_types, vec!["EN10MB".to_string()]);
        }
    }

    #[test]
    fn pcapng_block_claiming_eleven_bytes_stops_reading_and_keeps_frames() {
        let mut bytes = pcapng(false);
        // A block header whose length is below the 12-byte minimum.
        bytes.extend_from_slice(&6u32.to_le_bytes());
        bytes.extend_from_slice(&11u32.to_le_bytes());
        bytes.extend_from_slice(&[0; 8]);
        let (info, c) = read(&bytes);
        assert_eq!(c.frames.len(), 2);
        let why = info.stopped.expect("damage is reported");
        assert!(
            why.contains("t.pcapng") && why.contains("after frame 2"),
            "{why}"
        );
        assert!(why.contains("claims 11 bytes"), "{why}");
    }

    #[test]
    fn pcapng_trailing_length_mismatch_and_truncation_are_named() {
        let good = pcapng(false);
        let mut bad = good.clone();
        let n = bad.len();
        bad[n - 4] ^= 0x40; // the last block's trailing length
        let (info, c) = read(&bad);
        assert_eq!(c.frames.len(), 1);
        assert!(info.stopped.expect("damage").contains("two lengths differ"));

        let (info, c) = read(&good[..good.len() - 3]);
        assert_eq!(c.frames.len(), 1);
        assert!(info.stopped.expect("damage").contains("truncated capture"));
    }

    fn pcap(magic: u32, be: bool, records: &[(u32, u32, &[u8])]) -> Vec<u8> {
        let w32 = |x: u32| if be { x.to_be_bytes() } else { x.to_le_bytes() };
        let w16 = |x: u16| if be { x.to_be_bytes() } else { x.to_le_bytes() };
        let mut out = w32(magic).to_vec();
        out.extend_from_slice(&w16(2));
        out.extend_from_slice(&w16(4));
        out.extend_from_slice(&w32(0));
        out.extend_from_slice(&w32(0));
        out.extend_from_slice(&w32(65535));
        out.extend_from_slice(&w32(101));
        for (sec, sub, data) in records {
            out.extend_from_slice(&w32(*sec));
            out.extend_from_slice(&w32(*sub));
            out.extend_from_slice(&w32(data.len() as u32));
            out.extend_from_slice(&w32(data.len() as u32 + 10));
            out.extend_from_slice(data);
        }
        out
    }

    #[test]
    fn pcap_micro_and_nanosecond_in_both_byte_orders() {
        for be in [false, true] {
            let micro = pcap(0xa1b2_c3d4, be, &[(10, 5, b"x"), (11, 999_999, b"yz")]);
            let (info, c) = read(&micro);
            assert_eq!(info.format, "pcap");
            assert_eq!(c.pcapng, Some(false));
            assert_eq!(c.frames[0].1, 10_000_005_000);
            assert_eq!(c.frames[1].1, 11_999_999_000);
            assert_eq!(c.frames[1].4, 12);
            assert_eq!(info.link_types, vec!["RAW".to_string()]);

            let nano = pcap(0xa1b2_3c4d, be, &[(10, 5, b"x")]);
            let (info, c) = read(&nano);
            assert_eq!(info.format, "pcap (nanosecond)");
            assert_eq!(c.frames[0].1, 10_000_000_005);
        }
    }

    /// Regression: the "modified" pcap of old Red Hat tcpdump builds (magic a1b2cd34, 8 more
    /// bytes per record header: interface index, protocol, packet type) was refused as "not a
    /// pcap" once the content sniffer stopped knowing its magic; pcap-parser reads it.
    #[test]
    fn the_modified_pcap_format_is_read() {
        // Little endian, as those builds wrote it on x86 (pcap-parser knows no other).
        let mut bytes = pcap(0xa1b2_cd34, false, &[]);
        for (sec, usec, data) in [(10u32, 5u32, &b"abc"[..]), (11, 7, b"de")] {
            bytes.extend_from_slice(&sec.to_le_bytes());
            bytes.extend_from_slice(&usec.to_le_bytes());
            bytes.extend_from_slice(&(data.len() as u32).to_le_bytes());
            bytes.extend_from_slice(&(data.len() as u32).to_le_bytes());
            bytes.extend_from_slice(&2u32.to_le_bytes()); // interface index
            bytes.extend_from_slice(&[0x08, 0x00, 0, 0]); // protocol, packet type, padding
            bytes.extend_from_slice(data);
        }
        let (info, c) = read(&bytes);
        assert_eq!(info.format, "pcap");
        assert_eq!(c.frames.len(), 2);
        assert_eq!(c.frames[0].1, 10_000_005_000);
        assert_eq!(c.frames[1].1, 11_000_007_000);
        assert!(info.stopped.is_none(), "{:?}", info.stopped);
    }

    #[test]
    fn not_a_capture_is_an_error_naming_the_file() {
        let mut c = Collect::default();
        let e = read_capture_bytes("notes.txt", b"hello, this is text\n", &mut c)
            .expect_err("not a capture");
        assert!(
            e.to_string().starts_with("notes.txt: not a pcap or pcapng"),
            "{e}"
        );
        let e = read_capture_bytes("empty.pcap", b"", &mut c).expect_err("not a capture");
        assert!(e.to_string().contains("empty.pcap"), "{e}");
    }
}
