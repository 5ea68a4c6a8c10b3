//! Where a sensor's events go: standard output, or a file rotated by size and age.
//!
//! Events are written a whole line at a time and a file is rotated only between lines, after
//! a flush, so a rotated file never ends in half an event.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Takes whole lines of events.
pub trait LineSink {
    /// Writes one line (`line` ends with `\n`) and flushes it.
    fn line(&mut self, line: &[u8]) -> std::io::Result<()>;
}

/// Standard output (or any writer), flushed after every line.
pub struct Plain<W: Write>(pub W);

impl<W: Write> LineSink for Plain<W> {
    fn line(&mut self, line: &[u8]) -> std::io::Result<()> {
        self.0.write_all(line)?;
        self.0.flush()
    }
}

/// When a file is rotated, and how many rotated files are kept.
#[derive(Clone, Debug)]
pub struct Rotation {
    /// Rotate before a line would take the file past this many bytes.
    pub max_bytes: Option<u64>,
    /// Rotate a file this old (wall-clock time since it was opened).
    pub max_age: Option<Duration>,
    /// Rotated files kept (`FILE.1` is the oldest kept); older ones are removed.
    pub keep: usize,
}

/// A file of events, appended to, renamed to `FILE.N` (N counting up) when it is rotated.
pub struct Rotating {
    path: PathBuf,
    rule: Rotation,
    file: std::io::BufWriter<std::fs::File>,
    written: u64,
    opened: Instant,
    /// The number the next rotated file gets.
    next: u64,
}

fn rotated(path: &Path, n: u64) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{n}"));
    PathBuf::from(name)
}

/// The highest N of the `FILE.N` beside `path`.
fn last_rotated(path: &Path) -> u64 {
    let Some(name) = path.file_name().map(|n| n.to_string_lossy().to_string()) else {
        return 0;
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let Ok(rd) = std::fs::read_dir(dir) else {
        return 0;
    };
    rd.flatten()
        .filter_map(|e| {
            let n = e.file_name().to_string_lossy().to_string();
            n.strip_prefix(&name)?
                .strip_prefix('.')?
                .parse::<u64>()
                .ok()
        })
        .max()
        .unwrap_or(0)
}

impl Rotating {
    /// Opens `path` for appending (a restarted sensor goes on in the same file).
    pub fn open(path: &Path, rule: Rotation) -> std::io::Result<Rotating> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        let written = file.metadata()?.len();
        Ok(Rotating {
            path: path.to_path_buf(),
            rule,
            file: std::io::BufWriter::new(file),
            written,
            opened: Instant::now(),
            next: last_rotated(path) + 1,
        })
    }

    fn due(&self, len: u64) -> bool {
        if self.written == 0 {
            return false;
        }
        self.rule.max_bytes.is_some_and(|m| self.written + len > m)
            || self
                .rule
                .max_age
                .is_some_and(|a| self.opened.elapsed() >= a)
    }

    fn rotate(&mut self) -> std::io::Result<()> {
        self.file.flush()?;
        std::fs::rename(&self.path, rotated(&self.path, self.next))?;
        if self.rule.keep > 0 && self.next > self.rule.keep as u64 {
            let _ = std::fs::remove_file(rotated(&self.path, self.next - self.rule.keep as u64));
        }
        self.next += 1;
        let file = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .open(&self.path)?;
        self.file = std::io::BufWriter::new(file);
        self.written = 0;
        self.opened = Instant::now();
        Ok(())
    }
}

impl LineSink for Rotating {
    fn line(&mut self, line: &[u8]) -> std::io::Result<()> {
        if self.due(line.len() as u64) {
            self.rotate()?;
        }
        self.file.write_all(line)?;
        self.file.flush()?;
        self.written += line.len() as u64;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_rotate_between_whole_lines_and_the_oldest_go() {
        let dir = std::env::temp_dir().join(format!("siptriage-rotate-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("events.jsonl");
        let rule = Rotation {
            max_bytes: Some(25),
            max_age: None,
            keep: 2,
        };
        let mut r = Rotating::open(&path, rule.clone()).expect("open");
        for i in 0..7 {
            r.line(format!("{{\"event\":{i:02}}}\n").as_bytes())
                .expect("line");
        }
        drop(r);
        let read = |p: PathBuf| std::fs::read_to_string(p).unwrap_or_default();
        // 14-byte lines, 25 bytes at most: one line per file; 6 rotations, 2 kept.
        assert_eq!(read(path.clone()), "{\"event\":06}\n");
        assert_eq!(read(rotated(&path, 6)), "{\"event\":05}\n");
        assert_eq!(read(rotated(&path, 5)), "{\"event\":04}\n");
        assert!(!rotated(&path, 4).exists());
        // A restarted sensor appends, and numbers on from the last rotated file.
        let mut r = Rotating::open(&path, rule).expect("reopen");
        r.line(b"{\"event\":07}\n").expect("line");
        drop(r);
        assert_eq!(read(rotated(&path, 7)), "{\"event\":06}\n");
        assert_eq!(read(path), "{\"event\":07}\n");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
