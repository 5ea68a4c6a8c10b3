//! Partial keys are visible and used: a TLS 1.3 key log that lacks one secret says which one
//! (label and client random) per connection, the verdict says part was not judged, and what
//! could be read still proves what it proves (a 403 port mismatch without its REGISTER).

mod common;

use common::{fixture, run};
use serde_json::Value;

fn without(label: &str) -> String {
    let keys = std::fs::read_to_string(fixture("tls13-oauth-port-mismatch.keys")).expect("keys");
    let kept: String = keys
        .lines()
        .filter(|l| !l.starts_with(&format!("{label} ")))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_ne!(kept.len(), keys.len(), "{label} is in the key log");
    let p = std::env::temp_dir().join(format!(
        "siptriage-partial-{}-{label}.keys",
        std::process::id()
    ));
    std::fs::write(&p, kept).expect("write");
    p.to_string_lossy().to_string()
}

fn analyze(keys: &str) -> (Value, i32) {
    let out = run(&[
        "analyze",
        "--format",
        "json",
        "--keylog",
        keys,
        &fixture("tls13-oauth-port-mismatch.pcap"),
    ]);
    (
        serde_json::from_slice(&out.stdout).expect("JSON"),
        out.status.code().unwrap_or(-1),
    )
}

#[test]
fn the_missing_secret_is_named_and_the_403_alone_proves_the_mismatch() {
    for (label, state) in [
        ("CLIENT_TRAFFIC_SECRET_0", "partly decrypted"),
        (
            "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
            "decrypted from the server only",
        ),
    ] {
        let (doc, code) = analyze(&without(label));
        assert_eq!(
            doc["connections"][0]["tls"]["decryption"],
            format!("{state}: the key log lacks {label} for client random e4f3dfa3b5c14cac…"),
            "{label}"
        );
        assert_eq!(doc["findings"][0]["id"], "oauth-port-mismatch", "{label}");
        assert_eq!(doc["findings"][0]["evidence"][0]["frame"], 20);
        assert_eq!(doc["verdict"], "failure");
        assert_eq!(code, 1);
    }
}

#[test]
fn a_missing_server_secret_leaves_the_run_inconclusive_and_says_why() {
    let (doc, code) = analyze(&without("SERVER_TRAFFIC_SECRET_0"));
    assert_eq!(
        doc["connections"][0]["tls"]["decryption"],
        "partly decrypted: the key log lacks SERVER_TRAFFIC_SECRET_0 for client random e4f3dfa3b5c14cac…"
    );
    assert_eq!(doc["verdict"], "inconclusive");
    let reasons = doc["verdict_reasons"].to_string();
    assert!(
        reasons.contains("1 TLS connection(s) to SIP ports were decrypted in part only"),
        "{reasons}"
    );
    assert_eq!(code, 0);
}

#[test]
fn the_whole_key_log_still_decrypts_everything() {
    let (doc, _) = analyze(&fixture("tls13-oauth-port-mismatch.keys"));
    assert_eq!(doc["connections"][0]["tls"]["decryption"], "decrypted");
    assert_eq!(doc["findings"][0]["id"], "oauth-port-mismatch");
    // With its REGISTER seen, the evidence cites both.
    assert_eq!(
        doc["findings"][0]["evidence"].as_array().map(Vec::len),
        Some(2)
    );
}
