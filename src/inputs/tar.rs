//! Tar archives (what Expressway's diagnostic logging downloads, gzipped): the member names,
//! and one member as a stream, read in one pass through the archive without holding it.
//! POSIX ustar and GNU long names (`L` entries); other entry kinds are passed over.

use std::io::Read;

/// A tar header block.
const BLOCK: usize = 512;

/// Whether `head` (decompressed) starts with a tar header.
pub fn is_tar(head: &[u8]) -> bool {
    head.len() >= BLOCK && &head[257..262] == b"ustar"
}

fn octal(field: &[u8]) -> Option<u64> {
    let s: String = field
        .iter()
        .take_while(|&&b| b != 0)
        .map(|&b| b as char)
        .collect();
    let s = s.trim();
    if s.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(s, 8).ok()
}

fn text(field: &[u8]) -> String {
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    String::from_utf8_lossy(&field[..end]).into_owned()
}

/// The next entry's header: its name (long names resolved), size, kind and padded size;
/// `None` at the end of the archive.
fn next_entry(r: &mut impl Read) -> std::io::Result<Option<(String, u64, u8, u64)>> {
    let mut header = [0u8; BLOCK];
    let mut long_name: Option<String> = None;
    loop {
        if let Err(e) = r.read_exact(&mut header) {
            return if e.kind() == std::io::ErrorKind::UnexpectedEof {
                Ok(None)
            } else {
                Err(e)
            };
        }
        if header.iter().all(|&b| b == 0) {
            return Ok(None);
        }
        let size = octal(&header[124..136]).ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "a tar header with a bad size",
            )
        })?;
        let padded = size.div_ceil(BLOCK as u64) * BLOCK as u64;
        let kind = header[156];
        if kind == b'L' {
            let mut n = Vec::new();
            r.take(size).read_to_end(&mut n)?;
            long_name = Some(text(&n));
            std::io::copy(&mut r.take(padded - size), &mut std::io::sink())?;
            continue;
        }
        let mut name = text(&header[0..100]);
        if &header[257..262] == b"ustar" {
            let prefix = text(&header[345..500]);
            if !prefix.is_empty() {
                name = format!("{prefix}/{name}");
            }
        }
        return Ok(Some((long_name.take().unwrap_or(name), size, kind, padded)));
    }
}

/// Whether an entry kind is a regular file.
fn regular(kind: u8) -> bool {
    kind == b'0' || kind == 0
}

/// The names of the regular files of an archive.
pub fn names(mut r: impl Read) -> std::io::Result<Vec<String>> {
    let mut out = Vec::new();
    while let Some((name, _, kind, padded)) = next_entry(&mut r)? {
        if regular(kind) {
            out.push(name);
        }
        if out.len() >= 100_000 {
            break;
        }
        std::io::copy(&mut (&mut r).take(padded), &mut std::io::sink())?;
    }
    Ok(out)
}

/// One member's bytes, streamed: the archive is read up to it, then the member is read as it
/// is consumed.
pub struct Member<R> {
    inner: std::io::Take<R>,
}

impl<R: Read> Read for Member<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.inner.read(buf)
    }
}

/// Opens member `want` of the archive read from `r`.
pub fn member<R: Read>(mut r: R, want: &str) -> std::io::Result<Member<R>> {
    while let Some((name, size, kind, padded)) = next_entry(&mut r)? {
        if regular(kind) && name == want {
            return Ok(Member {
                inner: r.take(size),
            });
        }
        std::io::copy(&mut (&mut r).take(padded), &mut std::io::sink())?;
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::NotFound,
        format!("no member {want}"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, kind: u8, data: &[u8]) -> Vec<u8> {
        let mut h = [0u8; BLOCK];
        h[..name.len().min(100)].copy_from_slice(&name.as_bytes()[..name.len().min(100)]);
        h[124..135].copy_from_slice(format!("{:011o}", data.len()).as_bytes());
        h[156] = kind;
        h[257..263].copy_from_slice(b"ustar\0");
        let mut out = h.to_vec();
        out.extend_from_slice(data);
        out.resize(out.len().div_ceil(BLOCK) * BLOCK, 0);
        out
    }

    #[test]
    fn members_by_name_including_gnu_long_names() {
        let long = format!("{}/loggingsnapshot.txt", "d".repeat(120));
        let mut tar = entry("a.txt", b'0', b"first");
        tar.extend(entry("dir/", b'5', b""));
        tar.extend(entry("././@LongLink", b'L', long.as_bytes()));
        tar.extend(entry("ignored", b'0', b"the long one"));
        tar.extend([0u8; 1024]);
        assert!(is_tar(&tar));
        assert_eq!(
            names(&tar[..]).expect("names"),
            ["a.txt".to_string(), long.clone()]
        );
        let mut s = String::new();
        member(&tar[..], &long)
            .expect("member")
            .read_to_string(&mut s)
            .expect("read");
        assert_eq!(s, "the long one");
        assert!(member(&tar[..], "none").is_err());
    }
}
