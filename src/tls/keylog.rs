//! NSS key log files (`SSLKEYLOGFILE`), from `--keylog` or from pcapng Decryption Secrets Blocks.

use std::collections::HashMap;

/// Secrets of one TLS session, by the ClientHello random.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SessionSecrets {
    /// TLS 1.2 master secret (`CLIENT_RANDOM`).
    pub master: Option<Vec<u8>>,
    /// `CLIENT_HANDSHAKE_TRAFFIC_SECRET`.
    pub client_hs: Option<Vec<u8>>,
    /// `SERVER_HANDSHAKE_TRAFFIC_SECRET`.
    pub server_hs: Option<Vec<u8>>,
    /// `CLIENT_TRAFFIC_SECRET_0`.
    pub client_app: Option<Vec<u8>>,
    /// `SERVER_TRAFFIC_SECRET_0`.
    pub server_app: Option<Vec<u8>>,
}

/// All secrets known so far.
#[derive(Clone, Debug, Default)]
pub struct KeyLog {
    sessions: HashMap<[u8; 32], SessionSecrets>,
    /// Lines that could not be used: `source:line: why`.
    pub malformed: Vec<String>,
    /// Key logs read (files and Decryption Secrets Blocks), usable or not.
    pub sources: usize,
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
            let s = self.sessions.entry(random).or_default();
            let slot = match parts[0] {
                "CLIENT_RANDOM" => &mut s.master,
                "CLIENT_HANDSHAKE_TRAFFIC_SECRET" => &mut s.client_hs,
                "SERVER_HANDSHAKE_TRAFFIC_SECRET" => &mut s.server_hs,
                "CLIENT_TRAFFIC_SECRET_0" => &mut s.client_app,
                "SERVER_TRAFFIC_SECRET_0" => &mut s.server_app,
                // Known labels we do not need (early data, exporters) are fine.
                "CLIENT_EARLY_TRAFFIC_SECRET" | "EARLY_EXPORTER_SECRET" | "EXPORTER_SECRET" => {
                    continue
                }
                other => {
                    self.malformed.push(bad(&format!("unknown label {other}")));
                    continue;
                }
            };
            *slot = Some(secret);
        }
    }

    /// Secrets for a ClientHello random.
    pub fn get(&self, client_random: &[u8; 32]) -> Option<&SessionSecrets> {
        self.sessions.get(client_random)
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
        assert_eq!(s.master.as_ref().map(Vec::len), Some(48));
        assert_eq!(s.client_hs.as_deref(), Some(&[1u8, 2][..]));
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
        assert_eq!(s.master.as_deref(), Some(&[0x22u8; 48][..]));
    }
}
