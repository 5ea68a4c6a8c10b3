//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod events;
pub mod netns;

use std::process::{Command, Output, Stdio};

/// Runs the siptriage binary with `args`.
pub fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_siptriage"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::null())
        .output()
        .expect("the binary runs")
}

/// Runs `analyze --format json` on `paths` and parses the document.
pub fn json(paths: &[&str]) -> (serde_json::Value, i32) {
    let mut args = vec!["analyze", "--format", "json"];
    args.extend_from_slice(paths);
    let out = run(&args);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{paths:?}: not JSON ({e}): {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (v, out.status.code().unwrap_or(-1))
}

/// The format of each input a report read (`pcap`, `pcapng`, `Jabber log`, ...), in order.
pub fn capture_formats(doc: &serde_json::Value) -> Vec<String> {
    doc["captures"]
        .as_array()
        .expect("captures")
        .iter()
        .map(|c| c["format"].as_str().unwrap_or("").to_string())
        .collect()
}

/// Fixture path.
pub fn fixture(name: &str) -> String {
    format!("fixtures/{name}")
}

/// The report's findings as (id, occurrences), in report order.
pub fn finding_ids(doc: &serde_json::Value) -> Vec<(String, u64)> {
    doc["findings"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|f| {
                    (
                        f["id"].as_str().unwrap_or("").to_string(),
                        f["occurrences"].as_u64().unwrap_or(0),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A key log with the same client randoms and every secret reversed: keys that look right and
/// are wrong.
pub fn reverse_secrets(keylog: &str) -> String {
    keylog
        .lines()
        .map(|l| {
            let mut p: Vec<String> = l.split(' ').map(str::to_string).collect();
            if let Some(s) = p.get_mut(2) {
                *s = s.chars().rev().collect();
            }
            p.join(" ") + "\n"
        })
        .collect()
}

/// A copy of the capture at `path` (a classic pcap of IPv4 over Ethernet) with every TCP port
/// `from` rewritten to `to`, in the system's temporary folder. siptriage does not check TCP
/// checksums (captures often hold offloaded ones), so the copy reads as the same traffic on
/// another port.
pub fn with_port_moved(path: &str, from: u16, to: u16) -> String {
    let mut bytes = std::fs::read(path).expect("capture");
    let mut at = 24;
    while at + 16 <= bytes.len() {
        let len = u32::from_le_bytes([bytes[at + 8], bytes[at + 9], bytes[at + 10], bytes[at + 11]])
            as usize;
        let f = at + 16;
        if f + 38 <= bytes.len()
            && bytes[f + 12..f + 14] == [8, 0]
            && bytes[f + 14] == 0x45
            && bytes[f + 23] == 6
        {
            for p in [f + 34, f + 36] {
                if bytes[p..p + 2] == from.to_be_bytes() {
                    bytes[p..p + 2].copy_from_slice(&to.to_be_bytes());
                }
            }
        }
        at = f + len;
    }
    let name = std::path::Path::new(path)
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let out = std::env::temp_dir().join(format!(
        "siptriage-moved-{}-{from}-{to}-{name}",
        std::process::id()
    ));
    std::fs::write(&out, bytes).expect("write");
    out.to_string_lossy().to_string()
}

/// Every capture in `fixtures/`, in name order: (file name, path, its key log if one sits
/// beside it).
pub fn fixture_captures() -> Vec<(String, String, Option<String>)> {
    let mut names: Vec<String> = std::fs::read_dir("fixtures")
        .expect("fixtures")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.ends_with(".pcap") || n.ends_with(".pcapng"))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|name| {
            let path = fixture(&name);
            let stem = path.rsplit_once('.').map_or(path.as_str(), |s| s.0);
            let keys = format!("{stem}.keys");
            let keys = std::path::Path::new(&keys).exists().then_some(keys);
            (name, path, keys)
        })
        .collect()
}

/// A zip archive of `members` (name, bytes, deflated or stored).
pub fn zip(members: &[(&str, &[u8], bool)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, bytes, deflate) in members {
        let method = if *deflate {
            zip::CompressionMethod::Deflated
        } else {
            zip::CompressionMethod::Stored
        };
        let opts = zip::write::SimpleFileOptions::default().compression_method(method);
        w.start_file(*name, opts).expect("member");
        std::io::Write::write_all(&mut w, bytes).expect("member bytes");
    }
    w.finish().expect("zip end").into_inner()
}

/// Every `.rs` file below `dir`.
pub fn rust_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}
