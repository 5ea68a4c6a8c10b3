//! Key logs that grow while the sensor runs (a client appending to its SSLKEYLOGFILE).

use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;

/// Follows one key log file: each poll gives the whole lines added since the last one.
pub struct KeyFollower {
    path: PathBuf,
    offset: u64,
    partial: Vec<u8>,
}

impl KeyFollower {
    /// Follows `path` from its beginning (the first poll gives all it holds).
    pub fn new(path: impl Into<PathBuf>) -> KeyFollower {
        KeyFollower {
            path: path.into(),
            offset: 0,
            partial: Vec::new(),
        }
    }

    /// The file's name, as key log sources are named in notes.
    pub fn label(&self) -> String {
        self.path.display().to_string()
    }

    /// The complete lines added since the last poll, if any. A file that shrank (truncated or
    /// replaced) is read again from its beginning; a line still being written waits.
    pub fn poll(&mut self) -> Option<String> {
        let mut f = std::fs::File::open(&self.path).ok()?;
        let len = f.metadata().ok()?.len();
        if len < self.offset {
            self.offset = 0;
            self.partial.clear();
        }
        if len == self.offset {
            return None;
        }
        f.seek(SeekFrom::Start(self.offset)).ok()?;
        // At most 64 MiB a poll: a key log is a few hundred bytes per connection.
        let mut buf = Vec::new();
        let got = f
            .take((64 << 20).min(len - self.offset))
            .read_to_end(&mut buf)
            .ok()?;
        self.offset += got as u64;
        self.partial.extend_from_slice(&buf);
        let end = self.partial.iter().rposition(|b| *b == b'\n')? + 1;
        let lines: Vec<u8> = self.partial.drain(..end).collect();
        Some(String::from_utf8_lossy(&lines).into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn a_growing_key_log_gives_each_whole_line_once() {
        let path = std::env::temp_dir().join(format!("siptriage-keys-{}.txt", std::process::id()));
        let mut f = std::fs::File::create(&path).expect("create");
        let mut k = KeyFollower::new(&path);
        assert_eq!(k.poll(), None);
        f.write_all(b"CLIENT_RANDOM aa bb\nCLIENT_RA")
            .expect("write");
        assert_eq!(k.poll().as_deref(), Some("CLIENT_RANDOM aa bb\n"));
        assert_eq!(k.poll(), None, "half a line waits");
        f.write_all(b"NDOM cc dd\n").expect("write");
        assert_eq!(k.poll().as_deref(), Some("CLIENT_RANDOM cc dd\n"));
        // Replaced by a shorter file: read again from the start.
        std::fs::write(&path, b"CLIENT_RANDOM ee ff\n").expect("rewrite");
        assert_eq!(k.poll().as_deref(), Some("CLIENT_RANDOM ee ff\n"));
        let _ = std::fs::remove_file(&path);
    }
}
