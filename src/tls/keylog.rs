//! NSS key log files (`SSLKEYLOGFILE`), from `--keylog` or from pcapng Decryption Secrets Blocks.

use std::collections::HashMap;

/// The secrets a key log line can give, by their NSS labels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Label {
    /// TLS 1.2 master secret (`CLIENT_RANDOM`).
    Master,
    /// `CLIENT_HANDSHAKE_TRAFFIC_SECRET`.
    ClientHs,
    /// `SERVER_HANDSHAKE_TRAFFIC_SECRET`.
    ServerHs,
    /// `CLIENT_TRAFFIC_SECRET_0`.
    ClientApp,
    /// `SERVER_TRAFFIC_SECRET_0`.
    ServerApp,
}

/// Each label's name in a key log.
const NAMES: [(Label, &str); 5] = [
    (Label::Master, "CLIENT_RANDOM"),
    (Label::ClientHs, "CLIENT_HANDSHAKE_TRAFFIC_SECRET"),
    (Label::ServerHs, "SERVER_HANDSHAKE_TRAFFIC_SECRET"),
    (Label::ClientApp, "CLIENT_TRAFFIC_SECRET_0"),
    (Label::ServerApp, "SERVER_TRAFFIC_SECRET_0"),
];

impl Label {
    fn of(name: &str) -> Option<Label> {
        NAMES.iter().find(|(_, n)| *n == name).map(|(l, _)| *l)
    }

    /// Its name in a key log (`CLIENT_RANDOM`, ...).
    pub fn name(self) -> &'static str {
        NAMES[self as usize].1
    }
}

/// Where one session's secrets lie in [`KeyLog`]'s bytes: offset and length per [`Label`]
/// (length 0: not known).
type Spans = [(u32, u8); 5];

/// All secrets known so far. A cluster's key log holds tens of thousands of sessions, so they
/// are kept packed: one table from client random to a session, the secrets' bytes end to end
/// (about 120 bytes per TLS 1.2 session, instead of 330 with a map of optional vectors).
#[derive(Clone, Debug, Default)]
pub struct KeyLog {
    sessions: HashMap<[u8; 32], u32>,
    spans: Vec<Spans>,
    bytes: Vec<u8>,
    /// Lines that could not be used: `source:line: why`.
    pub malformed: Vec<String>,
    /// Key logs read (files and Decryption Secrets Blocks), usable or not.
    pub sources: usize,
}

/// The secrets of one TLS session, by its ClientHello random.
#[derive(Clone, Copy, Debug)]
pub struct Session<'a> {
    log: &'a KeyLog,
    spans: &'a Spans,
}

impl<'a> Session<'a> {
    /// One secret, if the key log gave it.
    pub fn secret(&self, label: Label) -> Option<&'a [u8]> {
        let (at, len) = self.spans[label as usize];
        let at = at as usize;
        (len > 0).then(|| &self.log.bytes[at..at + len as usize])
    }
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

impl KeyLog {
    /// Adds the lines of a key log; `source` names it in messages about malformed lines.
    pub fn add_text(&mut self, source: &str, text: &str) {
        self.sources += 1;
        for (n, line) in text.lines().enumerate() {
            // NULs are padding (a pcapng block, or a log a crashed writer left), not content.
            let line =
                line.trim_matches(|c: char| c.is_whitespace() || c == '\0' || c == '\u{feff}');
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let parts: Vec<&str> = line.split_whitespace().collect();
            let bad = |why: &str| format!("{source}:{}: {why}", n + 1);
            if parts.len() != 3 {
                self.malformed
                    .push(bad("expected `LABEL <client_random> <secret>`"));
                continue;
            }
            let Some(random) = unhex(parts[1]).and_then(|r| <[u8; 32]>::try_from(r).ok()) else {
                self.malformed
                    .push(bad("client random is not 32 hex bytes"));
                continue;
            };
            let Some(secret) = unhex(parts[2]).filter(|s| !s.is_empty()) else {
                self.malformed.push(bad("secret is not hex"));
                continue;
            };
            let label = match Label::of(parts[0]) {
                Some(l) => l,
                // Known labels we do not need (early data, exporters) are fine.
                None if matches!(
                    parts[0],
                    "CLIENT_EARLY_TRAFFIC_SECRET" | "EARLY_EXPORTER_SECRET" | "EXPORTER_SECRET"
                ) =>
                {
                    continue
                }
                None => {
                    self.malformed
                        .push(bad(&format!("unknown label {}", parts[0])));
                    continue;
                }
            };
            let (Ok(len), Ok(at)) = (u8::try_from(secret.len()), u32::try_from(self.bytes.len()))
            else {
                self.malformed.push(bad("secret longer than 255 bytes"));
                continue;
            };
            let next = self.spans.len() as u32;
            let i = *self.sessions.entry(random).or_insert(next) as usize;
            if i == self.spans.len() {
                self.spans.push(Spans::default());
            }
            let known = Session {
                log: self,
                spans: &self.spans[i],
            }
            .secret(label);
            // The same line again (a followed key log read anew) takes no more room.
            if known != Some(&secret[..]) {
                self.bytes.extend_from_slice(&secret);
                self.spans[i][label as usize] = (at, len);
            }
        }
        // Kept for the whole run: no spare room (the table's own growth is by powers of two).
        self.spans.shrink_to_fit();
        self.bytes.shrink_to_fit();
    }

    /// Secrets for a ClientHello random.
    pub fn get(&self, client_random: &[u8; 32]) -> Option<Session<'_>> {
        let &i = self.sessions.get(client_random)?;
        Some(Session {
            log: self,
            spans: &self.spans[i as usize],
        })
    }

    /// Sessions known.
    pub fn len(&self) -> usize {
        self.sessions.len()
    }

    /// No session known.
    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_tls12_and_tls13_lines_and_reports_bad_ones_by_line() {
        let r = "ab".repeat(32);
        let text = format!(
            "# comment\nCLIENT_RANDOM {r} {m}\nCLIENT_HANDSHAKE_TRAFFIC_SECRET {r} 0102\nbogus line\nCLIENT_RANDOM 12 34\nWHAT {r} 00\n",
            m = "11".repeat(48)
        );
        let mut k = KeyLog::default();
        k.add_text("keys.txt", &text);
        let s = k.get(&[0xab; 32]).expect("session");
        assert_eq!(s.secret(Label::Master).map(<[u8]>::len), Some(48));
        assert_eq!(s.secret(Label::ClientHs), Some(&[1u8, 2][..]));
        assert_eq!(s.secret(Label::ServerHs), None);
        for (label, _) in NAMES {
            assert_eq!(Label::of(label.name()), Some(label));
        }
        assert_eq!(k.malformed.len(), 3);
        assert!(k.malformed[0].starts_with("keys.txt:4:"));
        assert!(k.malformed[1].starts_with("keys.txt:5:"));
        assert!(k.malformed[2].contains("unknown label WHAT"));
    }

    #[test]
    fn nul_padding_is_not_a_line_or_part_of_a_secret() {
        let r = "cd".repeat(32);
        let text = format!("CLIENT_RANDOM {r} {m}\0\0\0\n\0\0", m = "22".repeat(48));
        let mut k = KeyLog::default();
        k.add_text("dsb", &text);
        assert!(k.malformed.is_empty(), "{:?}", k.malformed);
        let s = k.get(&[0xcd; 32]).expect("session");
        assert_eq!(s.secret(Label::Master), Some(&[0x22u8; 48][..]));
    }

    #[test]
    fn a_key_log_read_again_takes_no_more_room_and_a_new_secret_replaces_the_old() {
        let r = "ef".repeat(32);
        let text = format!("CLIENT_RANDOM {r} {m}\n", m = "33".repeat(48));
        let mut k = KeyLog::default();
        k.add_text("a", &text);
        k.add_text("a", &text);
        assert_eq!((k.len(), k.bytes.len()), (1, 48));
        k.add_text(
            "b",
            &format!("CLIENT_RANDOM {r} {m}\n", m = "44".repeat(48)),
        );
        let s = k.get(&[0xef; 32]).expect("session");
        assert_eq!(s.secret(Label::Master), Some(&[0x44u8; 48][..]));
    }
}
