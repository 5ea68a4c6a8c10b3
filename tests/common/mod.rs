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
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)));
    (v, out.status.code().unwrap_or(-1))
}

/// Fixture path.
pub fn fixture(name: &str) -> String {
    format!("fixtures/{name}")
}
