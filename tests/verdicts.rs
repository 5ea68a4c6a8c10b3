//! Three verdicts, the same in every format: `failure`, `ok`, `inconclusive` with its reasons.
//! "No SIP OAuth failure found" is no longer said alike of a healthy registration, of TLS that
//! could not be read, of a capture with nothing toward CUCM and of an empty capture.

mod common;

use common::{fixture, run};
use serde_json::Value;

fn json(args: &[&str]) -> (Value, i32) {
    let mut all = vec!["analyze", "--format", "json"];
    all.extend_from_slice(args);
    let out = run(&all);
    let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{args:?}: not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (v, out.status.code().unwrap_or(-1))
}

fn reasons(doc: &Value) -> String {
    doc["verdict_reasons"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join("; ")
        })
        .unwrap_or_default()
}

/// A pcap that holds only the frames of `keep` (by TCP port) of a recorded fixture.
fn frames_with_port(name: &str, keep: u16) -> Vec<u8> {
    let bytes = std::fs::read(fixture(name)).expect("fixture");
    let mut out = bytes[..24].to_vec();
    let mut at = 24;
    while at + 16 <= bytes.len() {
        let len = u32::from_le_bytes([bytes[at + 8], bytes[at + 9], bytes[at + 10], bytes[at + 11]])
            as usize;
        let frame = &bytes[at + 16..at + 16 + len];
        if let Ok(p) = etherparse::SlicedPacket::from_ethernet(frame) {
            if let Some(etherparse::TransportSlice::Tcp(t)) = p.transport {
                if t.source_port() == keep || t.destination_port() == keep {
                    out.extend_from_slice(&bytes[at..at + 16 + len]);
                }
            }
        }
        at += 16 + len;
    }
    out
}

fn temp(name: &str, bytes: &[u8]) -> String {
    let p = std::env::temp_dir().join(format!("siptriage-verdict-{}-{name}", std::process::id()));
    std::fs::write(&p, bytes).expect("write");
    p.to_string_lossy().to_string()
}

#[test]
fn a_healthy_registration_read_with_its_keys_is_ok() {
    let (doc, code) = json(&[
        "--keylog",
        &fixture("healthy-registration-tls12.keys"),
        &fixture("healthy-registration-tls12.pcap"),
    ]);
    assert_eq!(doc["verdict"], "ok", "{}", reasons(&doc));
    assert_eq!(doc["verdict_reasons"], serde_json::json!([]));
    assert_eq!(doc["summary"]["verdict"], "ok");
    assert_eq!(doc["summary"]["exit_code"], 0);
    assert_eq!(code, 0);
}

#[test]
fn tls_on_the_oauth_port_without_keys_is_inconclusive_and_says_why() {
    let cap = fixture("healthy-registration-tls12.pcap");
    let (doc, code) = json(&[&cap]);
    assert_eq!(doc["verdict"], "inconclusive");
    assert!(
        reasons(&doc).contains("2 TLS connection(s) to SIP ports could not be decrypted"),
        "{}",
        reasons(&doc)
    );
    assert_eq!(code, 0, "inconclusive exits 0 by default");
    let (doc, code) = json(&["--fail-on", "inconclusive", &cap]);
    assert_eq!((doc["summary"]["exit_code"].as_u64(), code), (Some(1), 1));
}

#[test]
fn a_failure_is_a_failure_whatever_else_is_unjudged() {
    let (doc, code) = json(&[&fixture("mra-unknown-ca-from-ucm.pcap")]);
    assert_eq!(doc["verdict"], "failure");
    assert_eq!(doc["summary"]["errors"], 1);
    assert_eq!(code, 1);
}

#[test]
fn a_capture_with_nothing_toward_cucm_is_inconclusive() {
    // Only the configuration file download (TFTP/HTTP on 6970) of a recorded capture.
    let http = temp(
        "http-only.pcap",
        &frames_with_port("config-file-legacy-port.pcap", 6970),
    );
    let (doc, code) = json(&[&http]);
    assert!(doc["captures"][0]["frames"].as_u64().unwrap_or(0) > 0);
    assert_eq!(doc["verdict"], "inconclusive");
    assert!(
        reasons(&doc).contains("nothing toward CUCM or Expressway-C was seen"),
        "{}",
        reasons(&doc)
    );
    assert_eq!(code, 0);
}

#[test]
fn an_empty_capture_is_inconclusive_not_ok() {
    let bytes = std::fs::read(fixture("oauth-port-closed.pcap")).expect("fixture");
    let empty = temp("empty.pcap", &bytes[..24]);
    let (doc, code) = json(&[&empty]);
    assert_eq!(doc["captures"][0]["frames"], 0);
    assert_eq!(doc["verdict"], "inconclusive");
    assert_eq!(reasons(&doc), "the capture holds no frame");
    assert_eq!(code, 0);
    let out = run(&["analyze", "--fail-on", "inconclusive", &empty]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn every_format_opens_with_the_same_verdict() {
    let cap = fixture("healthy-registration-tls12.pcap");
    let text = String::from_utf8_lossy(&run(&["analyze", &cap]).stdout).to_string();
    assert!(
        text.starts_with("Verdict: inconclusive: 2 TLS connection(s)"),
        "{}",
        text.lines().next().unwrap_or("")
    );
    let md = String::from_utf8_lossy(&run(&["analyze", "--format", "markdown", &cap]).stdout)
        .to_string();
    assert!(md.starts_with("# Verdict: inconclusive (siptriage report)"));
    let html =
        String::from_utf8_lossy(&run(&["analyze", "--format", "html", &cap]).stdout).to_string();
    assert!(html.contains(r#"id="verdict">Verdict: inconclusive: 2 TLS connection(s)"#));
    let jsonl =
        String::from_utf8_lossy(&run(&["analyze", "--format", "jsonl", &cap]).stdout).to_string();
    let last: Value =
        serde_json::from_str(jsonl.lines().last().unwrap_or("{}")).expect("summary line");
    assert_eq!(last["type"], "summary");
    assert_eq!(last["data"]["verdict"], "inconclusive");
    let junit =
        String::from_utf8_lossy(&run(&["analyze", "--format", "junit", &cap]).stdout).to_string();
    assert!(junit.contains(r#"<property name="siptriage.verdict" value="inconclusive"/>"#));
    assert!(
        junit.contains("<skipped message="),
        "not judged is not passed"
    );
    let failing = String::from_utf8_lossy(
        &run(&[
            "analyze",
            "--format",
            "junit",
            "--fail-on",
            "inconclusive",
            &cap,
        ])
        .stdout,
    )
    .to_string();
    assert!(failing.contains(r#"failures="1""#), "{failing}");
}

/// Healthy devices only, SIP in clear, one node.
fn healthy_cluster(devices: u32) -> Vec<u8> {
    use siptriage_dev::cluster::{generate, Cluster};
    let spec = Cluster {
        devices,
        seconds: 120,
        expires: 60,
        nodes: 1,
        shares: Vec::new(),
        seed: 5,
        ..Cluster::default()
    };
    let mut bytes = Vec::new();
    generate(&spec, &mut bytes).expect("generates");
    bytes
}

#[test]
fn a_limit_of_the_analysis_makes_ok_inconclusive_and_a_limit_of_the_listing_does_not() {
    // Every device registers: ok, when nothing stopped the analysis.
    let small = temp("healthy-20.pcap", &healthy_cluster(20));
    let (doc, _) = json(&[&small]);
    assert_eq!(doc["verdict"], "ok", "{}", reasons(&doc));
    // Past the devices followed, a lapse between registrations may be missed: not ok.
    let (doc, _) = json(&["--max-devices", "2", &small]);
    assert_eq!(doc["verdict"], "inconclusive");
    assert!(
        reasons(&doc).contains("a limit was reached") && reasons(&doc).contains("2 devices"),
        "{}",
        reasons(&doc)
    );
    // More connections and SIP than the report lists: everything was judged, so still ok,
    // though the notes start with `limit:` too.
    let big = temp("healthy-1200.pcap", &healthy_cluster(1200));
    let (doc, _) = json(&[&big]);
    let notes = doc["notes"].to_string();
    assert!(
        notes.contains("not listed in connections[]") && notes.contains("the report lists"),
        "{notes}"
    );
    assert_eq!(doc["verdict"], "ok", "{}", reasons(&doc));
    for p in [small, big] {
        let _ = std::fs::remove_file(p);
    }
}
