//! Helpers shared by the integration tests.
#![allow(dead_code)]

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
