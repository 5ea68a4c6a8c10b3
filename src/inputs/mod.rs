//! Inputs as people have them: files, folders searched recursively, zip archives and gzip, xz
//! or zstd files, all recognized by their content rather than their names; key logs told apart
//! from captures.
//!
//! [`expand`] turns what the user named into the captures to read ([`Input`]), the key logs
//! found beside them, and notices about what was skipped. [`Input::open`] gives the bytes of a
//! capture, decompressed, whatever it is wrapped in.

use crate::note::Note;
use std::collections::HashSet;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// Folders are searched this many levels deep at most.
pub const MAX_DEPTH: usize = 16;

/// Members of one zip archive looked at, at most.
pub const MAX_ZIP_MEMBERS: usize = 10_000;

pub mod tar;

/// Bytes looked at to tell what a file holds.
const SNIFF: usize = 16 * 1024;

/// Where the bytes of an input come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// Standard input.
    Stdin,
    /// A file.
    File(PathBuf),
    /// A member of a zip archive (stored or deflated).
    ZipMember {
        /// The archive.
        archive: PathBuf,
        /// The member's name inside it.
        name: String,
    },
    /// A member of a tar archive, plain or compressed (Expressway's diagnostic download).
    TarMember {
        /// The archive.
        archive: PathBuf,
        /// The member's name inside it.
        name: String,
    },
}

/// One capture to read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input {
    /// How reports name it: the path as given, `standard input`, or `archive.zip/member.pcap`.
    pub label: String,
    /// Where its bytes come from.
    pub source: Source,
    /// A log of this layout, not a capture.
    pub log: Option<crate::logs::LogKind>,
    /// A log kept in several files (rotated): the files, oldest first. Empty for one file.
    pub parts: Vec<Input>,
}

/// How standard input is named in reports and messages.
pub const STDIN_LABEL: &str = "standard input";

impl Input {
    /// The input a command-line word names (`-` is standard input).
    pub fn path(word: &str) -> Input {
        if word == "-" {
            Input {
                label: STDIN_LABEL.into(),
                source: Source::Stdin,
                log: None,
                parts: Vec::new(),
            }
        } else {
            Input {
                label: word.into(),
                source: Source::File(word.into()),
                log: None,
                parts: Vec::new(),
            }
        }
    }

    /// Bytes to read from disk, when known (for a progress display).
    pub fn size(&self) -> Option<u64> {
        match &self.source {
            Source::Stdin => None,
            Source::File(p) => std::fs::metadata(p).ok().map(|m| m.len()),
            Source::ZipMember { archive, name } => {
                let mut zip = zip::ZipArchive::new(File::open(archive).ok()?).ok()?;
                let m = zip.by_name(name).ok()?;
                Some(m.compressed_size())
            }
            Source::TarMember { .. } => None,
        }
    }

    /// The input's bytes as stored: a zip member is taken out of its archive (inflated), but a
    /// gzip, xz or zstd layer is left for [`decompress`].
    pub fn open(&self) -> std::io::Result<Box<dyn Read + Send>> {
        match &self.source {
            Source::Stdin => Ok(Box::new(std::io::stdin())),
            Source::File(p) => Ok(Box::new(File::open(p)?)),
            Source::ZipMember { archive, name } => open_member(archive, name),
            Source::TarMember { archive, name } => {
                let (r, _) = decompress(Box::new(File::open(archive)?))?;
                Ok(Box::new(tar::member(r, name)?))
            }
        }
    }
}

fn open_member(archive: &Path, name: &str) -> std::io::Result<Box<dyn Read + Send>> {
    let bad = |why: String| std::io::Error::new(std::io::ErrorKind::InvalidData, why);
    let mut zip = zip::ZipArchive::new(File::open(archive)?)
        .map_err(|e| bad(format!("not a readable zip archive ({e})")))?;
    let (start, size, method, encrypted) = {
        let index = zip
            .index_for_name(name)
            .ok_or_else(|| bad(format!("no member {name}")))?;
        let m = zip
            .by_index_raw(index)
            .map_err(|e| bad(format!("member {name} cannot be read ({e})")))?;
        (
            m.data_start()
                .ok_or_else(|| bad(format!("member {name} has no data offset")))?,
            m.compressed_size(),
            m.compression(),
            m.encrypted(),
        )
    };
    if encrypted {
        return Err(bad(format!(
            "{name} is encrypted in the archive; extract it with its password first"
        )));
    }
    let mut file = File::open(archive)?;
    file.seek(SeekFrom::Start(start))?;
    let raw = file.take(size);
    match method {
        zip::CompressionMethod::Stored => Ok(Box::new(raw)),
        zip::CompressionMethod::Deflated => Ok(Box::new(flate2::read::DeflateDecoder::new(raw))),
        other => Err(bad(format!(
            "{name} is compressed with {other} in the archive, which siptriage does not read; \
             extract it first"
        ))),
    }
}

/// A compression layer, recognized by its first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    /// gzip (`1f 8b`).
    Gzip,
    /// xz (`fd 37 7a 58 5a 00`).
    Xz,
    /// zstd (`28 b5 2f fd`).
    Zstd,
}

impl Compression {
    /// The compression whose magic number `head` starts with.
    pub fn of(head: &[u8]) -> Option<Compression> {
        if head.starts_with(&[0x1f, 0x8b]) {
            Some(Compression::Gzip)
        } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
            Some(Compression::Xz)
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Some(Compression::Zstd)
        } else {
            None
        }
    }

    /// As the capture format names it (`pcap+gzip`).
    pub fn name(self) -> &'static str {
        match self {
            Compression::Gzip => "gzip",
            Compression::Xz => "xz",
            Compression::Zstd => "zstd",
        }
    }
}

/// `input` with its compression layer (if any) removed, and which one that was.
pub fn decompress<'r>(
    input: Box<dyn Read + Send + 'r>,
) -> std::io::Result<(Box<dyn Read + Send + 'r>, Option<Compression>)> {
    let mut buf = BufReader::with_capacity(64 * 1024, input);
    let kind = Compression::of(buf.fill_buf()?);
    Ok(match kind {
        None => (Box::new(buf), None),
        Some(Compression::Gzip) => (Box::new(flate2::read::MultiGzDecoder::new(buf)), kind),
        // xz -9 needs 64 MiB of dictionary: a stream asking for more than 256 MiB is refused.
        Some(Compression::Xz) => (
            Box::new(lzma_rust2::XzReader::new_mem_limit(buf, true, 256 * 1024)),
            kind,
        ),
        Some(Compression::Zstd) => {
            let d = ruzstd::decoding::StreamingDecoder::new(buf).map_err(|e| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("damaged zstd header ({e})"),
                )
            })?;
            (Box::new(d), kind)
        }
    })
}

/// What a file holds, told by its first bytes (after any compression layer).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Content {
    /// A pcap or pcapng capture.
    Capture,
    /// An NSS key log (SSLKEYLOGFILE).
    KeyLog,
    /// A zip archive.
    Zip,
    /// A tar archive.
    Tar,
    /// A log whose layout is known (Jabber, CUCM SDL, Expressway).
    Log(crate::logs::LogKind),
    /// Nothing empty.
    Empty,
    /// Something else.
    Other,
}

/// Labels an NSS key log line starts with.
pub const KEYLOG_LABELS: &[&str] = &[
    "CLIENT_RANDOM",
    "CLIENT_EARLY_TRAFFIC_SECRET",
    "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
    "SERVER_HANDSHAKE_TRAFFIC_SECRET",
    "CLIENT_TRAFFIC_SECRET_0",
    "SERVER_TRAFFIC_SECRET_0",
    "EARLY_EXPORTER_SECRET",
    "EXPORTER_SECRET",
    "RSA",
];

/// What `head` (the first bytes of a decompressed file) holds.
pub fn content_of(head: &[u8]) -> Content {
    // Microsecond and nanosecond pcap in either byte order, the "modified" pcap of old
    // Red Hat tcpdump builds (a1b2cd34, little endian as pcap-parser reads it), and pcapng.
    const PCAP: [[u8; 4]; 6] = [
        [0xd4, 0xc3, 0xb2, 0xa1],
        [0xa1, 0xb2, 0xc3, 0xd4],
        [0x4d, 0x3c, 0xb2, 0xa1],
        [0xa1, 0xb2, 0x3c, 0x4d],
        [0x34, 0xcd, 0xb2, 0xa1],
        [0x0a, 0x0d, 0x0d, 0x0a],
    ];
    if head.is_empty() {
        return Content::Empty;
    }
    if PCAP.iter().any(|m| head.starts_with(m)) {
        return Content::Capture;
    }
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        return Content::Zip;
    }
    if tar::is_tar(head) {
        return Content::Tar;
    }
    if looks_like_keylog(head) {
        return Content::KeyLog;
    }
    if let Some(kind) = crate::logs::kind_of(head) {
        return Content::Log(kind);
    }
    Content::Other
}

/// The first line that is not blank or a comment starts with a key log label.
pub fn looks_like_keylog(head: &[u8]) -> bool {
    let text = String::from_utf8_lossy(head);
    let text = text.trim_start_matches('\u{feff}');
    text.lines()
        .map(|l| l.trim_matches(|c: char| c.is_whitespace() || c == '\0'))
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .and_then(|l| l.split_whitespace().next())
        .is_some_and(|w| KEYLOG_LABELS.contains(&w))
}

/// Reads the first bytes of `input` after decompression, for [`content_of`].
fn sniff(input: &Input) -> std::io::Result<(Content, Option<Compression>)> {
    let (inner, comp) = decompress(input.open()?)?;
    let mut head = Vec::with_capacity(SNIFF);
    // A damaged compressed stream is still something to report when it is read, not here.
    let _ = inner.take(SNIFF as u64).read_to_end(&mut head);
    Ok((content_of(&head), comp))
}

/// The first bytes of `input` after decompression.
fn head_of(input: &Input) -> Vec<u8> {
    let mut head = Vec::with_capacity(SNIFF);
    if let Ok((inner, _)) = input.open().and_then(decompress) {
        let _ = inner.take(SNIFF as u64).read_to_end(&mut head);
    }
    head
}

/// Logs of one layout in one folder (or one folder of an archive) are one log kept in several
/// files, rotated: one input whose parts are read oldest first, whatever their names.
fn group_logs(inputs: Vec<Input>) -> Vec<Input> {
    let container = |i: &Input| -> Option<(crate::logs::LogKind, String)> {
        let kind = i.log?;
        let c = match &i.source {
            Source::File(p) => p
                .parent()
                .map(|d| d.to_string_lossy().to_string())
                .unwrap_or_default(),
            Source::ZipMember { archive, name } | Source::TarMember { archive, name } => format!(
                "{}/{}",
                archive.display(),
                Path::new(name)
                    .parent()
                    .map(|d| d.to_string_lossy().to_string())
                    .unwrap_or_default()
            ),
            Source::Stdin => return None,
        };
        Some((kind, c))
    };
    let mut out: Vec<Input> = Vec::new();
    let mut groups: Vec<((crate::logs::LogKind, String), usize)> = Vec::new();
    for i in inputs {
        let Some(k) = container(&i) else {
            out.push(i);
            continue;
        };
        match groups.iter().find(|(g, _)| *g == k) {
            Some(&(_, at)) => {
                let g = &mut out[at];
                if g.parts.is_empty() {
                    let first = g.clone();
                    g.parts.push(first);
                }
                g.parts.push(i);
            }
            None => {
                groups.push((k, out.len()));
                out.push(i);
            }
        }
    }
    for g in out.iter_mut().filter(|g| !g.parts.is_empty()) {
        let kind = g.log;
        let mut parts: Vec<(Option<crate::time::Ts>, Input)> = std::mem::take(&mut g.parts)
            .into_iter()
            .map(|p| {
                let t = kind.and_then(|k| crate::logs::first_time(k, &head_of(&p)));
                (t, p)
            })
            .collect();
        // Oldest first; a file whose time cannot be read goes last, by name.
        parts.sort_by(|a, b| match (a.0, b.0) {
            (Some(x), Some(y)) => x.cmp(&y).then(a.1.label.cmp(&b.1.label)),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => a.1.label.cmp(&b.1.label),
        });
        let parts: Vec<Input> = parts.into_iter().map(|p| p.1).collect();
        if let Some(newest) = parts.last() {
            g.label = format!("{} and {} earlier file(s)", newest.label, parts.len() - 1);
            g.source = newest.source.clone();
        }
        g.parts = parts;
    }
    out
}

/// What the user named, sorted out.
#[derive(Debug, Default)]
pub struct Expanded {
    /// Captures to read, in order: as named, folders in name order.
    pub captures: Vec<Input>,
    /// Key logs found in the folders given (by content), for `--keylog auto` and hints.
    pub keylogs: Vec<PathBuf>,
    /// What was passed over, and hints (one line each).
    pub notices: Vec<crate::note::Note>,
    /// Inputs that cannot be read as captures: `(label, why)`.
    pub unusable: Vec<(String, String)>,
    /// Of those, the key logs named as inputs: they hold no capture or log to judge, so they
    /// leave nothing unjudged (what their keys would open is judged as undecrypted, or they
    /// are given with `--keylog` too).
    pub keylogs_named: Vec<String>,
}

/// Sorts out what the user named: files as given, folders searched recursively (at most
/// [`MAX_DEPTH`] levels, each folder once however links point), zip archives opened, everything
/// recognized by content.
pub fn expand(words: &[String]) -> Expanded {
    let mut out = Expanded::default();
    let mut skipped = Vec::new();
    for word in words {
        let input = Input::path(word);
        let path = Path::new(word);
        if input.source != Source::Stdin && path.is_dir() {
            let before = out.captures.len();
            let mut seen = HashSet::new();
            walk(path, 0, &mut seen, &mut out, &mut skipped);
            if out.captures.len() == before {
                out.unusable.push((
                    word.clone(),
                    "the folder holds no pcap or pcapng capture and no log siptriage reads (searched recursively, \
                     compressed files and zip archives included)"
                        .into(),
                ));
            }
            continue;
        }
        if input.source == Source::Stdin {
            out.captures.push(input);
            continue;
        }
        match sniff(&input) {
            Ok((Content::KeyLog, _)) => {
                out.keylogs_named.push(word.clone());
                out.unusable.push((
                    word.clone(),
                    "this is a TLS key log, not a capture".to_string(),
                ));
            }
            Ok((Content::Zip, None)) => {
                let before = out.captures.len();
                zip_members(path, &mut out, &mut skipped);
                if out.captures.len() == before {
                    out.unusable.push((
                        word.clone(),
                        "the zip archive holds no pcap or pcapng capture and no log siptriage reads".into(),
                    ));
                }
            }
            Ok((Content::Log(kind), _)) => out.captures.push(Input {
                log: Some(kind),
                ..input
            }),
            Ok((Content::Tar, _)) => {
                let before = out.captures.len();
                tar_members(path, &mut out, &mut skipped);
                if out.captures.len() == before {
                    out.unusable.push((
                        word.clone(),
                        "the tar archive holds no pcap or pcapng capture and no log siptriage reads"
                            .into(),
                    ));
                }
            }
            // Anything else is read as a capture, and the reader says what it found instead.
            _ => out.captures.push(input),
        }
    }
    out.captures = group_logs(std::mem::take(&mut out.captures));
    if !skipped.is_empty() {
        out.notices.push(Note::SkippedFiles {
            count: skipped.len(),
            names: skipped,
        });
    }
    out
}

fn walk(
    dir: &Path,
    depth: usize,
    seen: &mut HashSet<PathBuf>,
    out: &mut Expanded,
    skipped: &mut Vec<String>,
) {
    let Ok(canonical) = dir.canonicalize() else {
        return;
    };
    if !seen.insert(canonical) {
        return; // a link back to a folder already searched
    }
    if depth >= MAX_DEPTH {
        out.notices.push(Note::TooDeep {
            dir: dir.display().to_string(),
            max: MAX_DEPTH,
        });
        return;
    }
    let mut entries: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(rd) => rd.flatten().map(|e| e.path()).collect(),
        Err(e) => {
            out.notices.push(Note::FolderNotSearched {
                dir: dir.display().to_string(),
                error: e.to_string(),
            });
            return;
        }
    };
    entries.sort();
    for p in entries {
        let label = p.to_string_lossy().to_string();
        if p.is_dir() {
            walk(&p, depth + 1, seen, out, skipped);
            continue;
        }
        if !p.is_file() {
            continue;
        }
        let mut input = Input {
            label: label.clone(),
            source: Source::File(p.clone()),
            log: None,
            parts: Vec::new(),
        };
        match sniff(&input) {
            Ok((Content::Capture, _)) => out.captures.push(input),
            Ok((Content::Log(kind), _)) => {
                input.log = Some(kind);
                out.captures.push(input);
            }
            Ok((Content::KeyLog, _)) => out.keylogs.push(p),
            Ok((Content::Zip, None)) => zip_members(&p, out, skipped),
            Ok((Content::Tar, _)) => tar_members(&p, out, skipped),
            Ok(_) => skipped.push(label),
            Err(e) => out.notices.push(Note::NotRead {
                input: label,
                error: e.to_string(),
            }),
        }
    }
}

/// The captures and logs of a tar archive (plain or compressed), as members.
fn tar_members(archive: &Path, out: &mut Expanded, skipped: &mut Vec<String>) {
    let names = File::open(archive)
        .and_then(|f| decompress(Box::new(f)))
        .and_then(|(r, _)| tar::names(r))
        .map_err(|e| format!("not a readable tar archive ({e})"));
    archive_members(archive, names, out, skipped, |archive, name| {
        Source::TarMember { archive, name }
    });
}

/// The members of an archive named `names` (in name order, at most [`MAX_ZIP_MEMBERS`]), each
/// looked at for a capture or a log; an archive that cannot be listed is unusable.
fn archive_members(
    archive: &Path,
    names: Result<Vec<String>, String>,
    out: &mut Expanded,
    skipped: &mut Vec<String>,
    source: fn(PathBuf, String) -> Source,
) {
    let label = archive.to_string_lossy().to_string();
    let mut names = match names {
        Ok(n) => n,
        Err(e) => {
            out.unusable.push((label, e));
            return;
        }
    };
    names.retain(|n| !n.ends_with('/'));
    names.sort();
    if names.len() > MAX_ZIP_MEMBERS {
        out.notices.push(Note::ZipTruncated {
            input: label.clone(),
            max: MAX_ZIP_MEMBERS,
            members: names.len(),
        });
        names.truncate(MAX_ZIP_MEMBERS);
    }
    let members = names.into_iter().map(|name| Input {
        label: format!("{label}/{name}"),
        source: source(archive.to_path_buf(), name),
        log: None,
        parts: Vec::new(),
    });
    add_members(members, out, skipped);
}

/// The captures and logs among an archive's members (an archive inside is not opened).
fn add_members(
    members: impl Iterator<Item = Input>,
    out: &mut Expanded,
    skipped: &mut Vec<String>,
) {
    for mut input in members {
        match sniff(&input) {
            Ok((Content::Capture, _)) => out.captures.push(input),
            Ok((Content::Log(kind), _)) => {
                input.log = Some(kind);
                out.captures.push(input);
            }
            Ok((Content::Zip | Content::Tar, _)) => {
                out.notices.push(Note::NestedArchive { input: input.label })
            }
            Ok(_) => skipped.push(input.label),
            Err(e) => out.notices.push(Note::NotRead {
                input: input.label,
                error: e.to_string(),
            }),
        }
    }
}

fn zip_members(archive: &Path, out: &mut Expanded, skipped: &mut Vec<String>) {
    let names = File::open(archive)
        .map_err(|e| e.to_string())
        .and_then(|f| zip::ZipArchive::new(f).map_err(|e| e.to_string()))
        .map(|zip| zip.file_names().map(str::to_string).collect())
        .map_err(|e| format!("not a readable zip archive ({e})"));
    archive_members(archive, names, out, skipped, |archive, name| {
        Source::ZipMember { archive, name }
    });
}

/// The key log named like a capture file, if one sits beside it: `x.keys`, `x.keys.txt`,
/// `x.keylog` or `x.txt` for `x.pcap` (compression suffixes ignored), checked by content.
pub fn keylog_beside(capture: &Input) -> Option<PathBuf> {
    let Source::File(path) = &capture.source else {
        return None;
    };
    let name = path.file_name()?.to_str()?;
    let mut stem = name;
    for suffix in [".gz", ".xz", ".zst", ".pcapng", ".pcap", ".cap"] {
        if stem.len() > suffix.len() && stem.to_ascii_lowercase().ends_with(suffix) {
            stem = &stem[..stem.len() - suffix.len()];
        }
    }
    ["keys", "keys.txt", "keylog", "txt"]
        .iter()
        .map(|ext| path.with_file_name(format!("{stem}.{ext}")))
        .find(|p| {
            p.is_file()
                && sniff(&Input {
                    label: String::new(),
                    source: Source::File(p.clone()),
                    log: None,
                    parts: Vec::new(),
                })
                .is_ok_and(|(c, _)| c == Content::KeyLog)
        })
}

/// Why a key log cannot be used. Each message names the file and says what was found.
#[derive(Debug)]
pub enum KeyLogError {
    /// The file could not be read.
    Read {
        /// The path.
        path: String,
        /// What the system said.
        error: std::io::Error,
    },
    /// The file is not a key log.
    NotAKeyLog {
        /// The path.
        path: String,
        /// What it is instead.
        found: Content,
    },
    /// The folder holds no key log.
    EmptyFolder {
        /// The path.
        path: String,
    },
    /// Larger than any key log.
    TooLarge {
        /// The path.
        path: String,
    },
}

impl std::fmt::Display for KeyLogError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyLogError::Read { path, error } => {
                write!(f, "{path}: cannot read the key log: {error}")
            }
            KeyLogError::NotAKeyLog {
                path,
                found: Content::Capture,
            } => write!(f, "{path}: a capture, not a key log; give it as an input"),
            KeyLogError::NotAKeyLog {
                path,
                found: Content::Empty,
            } => write!(f, "{path}: empty"),
            KeyLogError::NotAKeyLog { path, .. } => write!(
                f,
                "{path}: not a TLS key log: no line starts with CLIENT_RANDOM or a TLS 1.3 \
                 secret label (the NSS key log format SSLKEYLOGFILE writes)"
            ),
            KeyLogError::EmptyFolder { path } => write!(
                f,
                "{path}: the folder holds no TLS key log (files whose lines start with \
                 CLIENT_RANDOM or a TLS 1.3 secret label)"
            ),
            KeyLogError::TooLarge { path } => write!(
                f,
                "{path}: over {} MiB, too large to be a TLS key log",
                MAX_KEYLOG >> 20
            ),
        }
    }
}

impl std::error::Error for KeyLogError {}

/// Key log files a `--keylog` word names: the file itself, or every key log (by content) in a
/// folder, searched recursively. Each comes with its text, decompressed.
pub fn keylog_files(word: &str) -> Result<Vec<(String, String)>, KeyLogError> {
    let path = Path::new(word);
    if path.is_dir() {
        let mut found = Expanded::default();
        walk(path, 0, &mut HashSet::new(), &mut found, &mut Vec::new());
        if found.keylogs.is_empty() {
            return Err(KeyLogError::EmptyFolder { path: word.into() });
        }
        return found
            .keylogs
            .iter()
            .map(|p| {
                let label = p.to_string_lossy().to_string();
                read_bytes(p).map(|b| (label, String::from_utf8_lossy(&b).to_string()))
            })
            .collect();
    }
    let bytes = read_bytes(path)?;
    let head = &bytes[..bytes.len().min(SNIFF)];
    if !looks_like_keylog(head) {
        return Err(KeyLogError::NotAKeyLog {
            path: word.into(),
            found: content_of(head),
        });
    }
    Ok(vec![(
        word.to_string(),
        String::from_utf8_lossy(&bytes).to_string(),
    )])
}

/// Key logs are small: a larger file is not one.
const MAX_KEYLOG: u64 = 256 << 20;

fn read_bytes(path: &Path) -> Result<Vec<u8>, KeyLogError> {
    let shown = path.display().to_string();
    let read = |error| KeyLogError::Read {
        path: shown.clone(),
        error,
    };
    let file = File::open(path).map_err(read)?;
    let (inner, _) = decompress(Box::new(file)).map_err(read)?;
    let mut bytes = Vec::new();
    inner
        .take(MAX_KEYLOG + 1)
        .read_to_end(&mut bytes)
        .map_err(read)?;
    if bytes.len() as u64 > MAX_KEYLOG {
        return Err(KeyLogError::TooLarge { path: shown });
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_is_told_by_magic_and_first_key_log_line() {
        assert_eq!(
            content_of(&[0xd4, 0xc3, 0xb2, 0xa1, 2, 0]),
            Content::Capture
        );
        assert_eq!(content_of(&[0x0a, 0x0d, 0x0d, 0x0a]), Content::Capture);
        assert_eq!(content_of(b"PK\x03\x04rest"), Content::Zip);
        assert_eq!(
            content_of("\u{feff}# SSL/TLS secrets log file\r\nCLIENT_RANDOM aa bb\r\n".as_bytes()),
            Content::KeyLog
        );
        assert_eq!(content_of(b"CLIENT_RANDOMX aa bb"), Content::Other);
        assert_eq!(content_of(b"hello"), Content::Other);
        assert_eq!(content_of(b""), Content::Empty);
        assert_eq!(
            Compression::of(&[0x28, 0xb5, 0x2f, 0xfd, 0]),
            Some(Compression::Zstd)
        );
        assert_eq!(
            Compression::of(&[0xfd, b'7', b'z', b'X', b'Z', 0]),
            Some(Compression::Xz)
        );
    }

    #[test]
    fn standard_input_has_a_name() {
        assert_eq!(Input::path("-").label, "standard input");
        assert_eq!(Input::path("-").source, Source::Stdin);
    }
}
