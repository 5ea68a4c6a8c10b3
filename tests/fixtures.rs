//! Every recorded fixture with the findings it must produce, run through the binary.

mod common;

use common::{fixture, json, run};
use serde_json::Value;

/// One expected finding: id, occurrences, (alert description, sent_by), SIP status.
type Expect = (
    &'static str,
    u64,
    Option<(&'static str, &'static str)>,
    Option<u64>,
);

fn check(name: &str, exit: i32, expected: &[Expect]) -> Value {
    let (doc, code) = json(&[&fixture(name)]);
    let findings = doc["findings"].as_array().cloned().unwrap_or_default();
    let got: Vec<Expect> = findings
        .iter()
        .map(|f| {
            let id: &'static str =
                Box::leak(f["id"].as_str().unwrap_or("").to_string().into_boxed_str());
            let alert = f["tls_alert"].as_object().map(|a| {
                let d: &'static str = Box::leak(
                    a["description"]
                        .as_str()
                        .unwrap_or("")
                        .to_string()
                        .into_boxed_str(),
                );
                let s: &'static str = Box::leak(
                    a["sent_by"]
                        .as_str()
                        .unwrap_or("")
                        .to_string()
                        .into_boxed_str(),
                );
                (d, s)
            });
            (
                id,
                f["occurrences"].as_u64().unwrap_or(0),
                alert,
                f["sip"]["status"].as_u64(),
            )
        })
        .collect();
    assert_eq!(got, expected, "{name}: findings differ");
    assert_eq!(code, exit, "{name}: exit code");
    for f in &findings {
        assert!(
            f["evidence"].as_array().is_some_and(|e| !e.is_empty()),
            "{name}: {} has no evidence",
            f["id"]
        );
        assert!(
            f["fix"].as_array().is_some_and(|e| !e.is_empty()),
            "{name}: {} has no fix",
            f["id"]
        );
        assert!(f["wireshark_filter"]
            .as_str()
            .is_some_and(|s| !s.is_empty()));
    }
    doc
}

#[test]
fn unknown_ca_from_ucm() {
    let doc = check(
        "mra-unknown-ca-from-ucm.pcap",
        1,
        &[(
            "unknown-ca-from-ucm",
            1,
            Some(("unknown_ca", "server")),
            None,
        )],
    );
    let f = &doc["findings"][0];
    assert_eq!(f["client"]["role"], "expressway-c");
    assert_eq!(f["server"]["role"], "cucm");
    assert_eq!(f["server"]["port"], 5091);
    assert_eq!(f["tls_alert"]["code"], 48);
    assert_eq!(f["tls_alert"]["level"], "fatal");
    assert_eq!(f["confidence"], "certain");
    // The alert frame is cited, with the capture's own time and the tcp.stream.
    let alert_ev = f["evidence"]
        .as_array()
        .and_then(|e| {
            e.iter()
                .find(|e| e["note"].as_str().is_some_and(|n| n.contains("unknown_ca")))
        })
        .cloned();
    let alert_ev = alert_ev.expect("alert evidence");
    assert_eq!(alert_ev["frame"], 10);
    assert_eq!(alert_ev["tcp_stream"], 0);
    assert!(alert_ev["time"]
        .as_str()
        .is_some_and(|t| t.starts_with("2026-03-02T09:15:00.")));
    assert!(f["explanation"]
        .as_str()
        .is_some_and(|e| e.contains("is not among the 1 CA name(s)")));
}

#[test]
fn unknown_ca_from_ucm_pcapng_with_nanoseconds_gives_the_same_findings() {
    let doc = check(
        "mra-unknown-ca-from-ucm.pcapng",
        1,
        &[(
            "unknown-ca-from-ucm",
            1,
            Some(("unknown_ca", "server")),
            None,
        )],
    );
    assert_eq!(doc["captures"][0]["format"], "pcapng");
    assert!(
        doc["captures"][0]["first_time"]
            .as_str()
            .is_some_and(|t| t.ends_with("000123Z")),
        "nanoseconds kept"
    );
}

#[test]
fn unknown_ca_from_expressway_repeated_is_one_finding_with_a_count() {
    let doc = check(
        "mra-unknown-ca-from-expressway.pcap",
        1,
        &[(
            "unknown-ca-from-expressway",
            3,
            Some(("unknown_ca", "client")),
            None,
        )],
    );
    assert_eq!(doc["connections"].as_array().map(Vec::len), Some(3));
    assert_eq!(doc["connections"][2]["tcp_stream"], 2);
}

#[test]
fn port_mismatch_in_clear_sip_over_tcp() {
    let doc = check(
        "oauth-port-mismatch-clear-tcp.pcap",
        1,
        &[("oauth-port-mismatch", 1, None, Some(403))],
    );
    let f = &doc["findings"][0];
    assert_eq!(
        f["sip"]["warning"],
        "399 UCM2-PUB \"SIP OAuth Registration port Mismatch\""
    );
    assert!(f["explanation"]
        .as_str()
        .is_some_and(|e| e.contains("CSFrado") && e.contains("35 s")));
}

#[test]
fn port_mismatch_in_clear_sip_over_udp_ipv6() {
    let doc = check(
        "oauth-port-mismatch-udp-ipv6.pcap",
        1,
        &[("oauth-port-mismatch", 1, None, Some(403))],
    );
    assert_eq!(doc["findings"][0]["client"]["ip"], "2001:db8:20::51");
    assert_eq!(doc["findings"][0]["evidence"][0]["tcp_stream"], Value::Null);
}

#[test]
fn port_mismatch_inside_tls_without_keys_is_not_a_failure_and_says_why() {
    let doc = check("oauth-port-mismatch-tls12.pcap", 0, &[]);
    let notes = doc["notes"].to_string();
    assert!(
        notes.contains("cannot be read without the session keys"),
        "{notes}"
    );
    assert_eq!(
        doc["connections"][0]["tls"]["server_hello"]["version"],
        "TLS1.2"
    );
}

#[test]
fn healthy_registrations() {
    check("healthy-registration-tls12.pcap", 0, &[]);
    let doc = check(
        "healthy-registration-vlan-reordered.pcap",
        0,
        &[("oauth-registration-ok", 1, None, Some(200))],
    );
    assert!(doc["connections"][0]["retransmissions"]
        .as_u64()
        .is_some_and(|r| r >= 1));
    assert_eq!(
        doc["registrations"][0]["answers"],
        serde_json::json!([407, 200])
    );
    let doc = check(
        "healthy-registration-udp-sll2.pcap",
        0,
        &[("oauth-registration-ok", 1, None, Some(200))],
    );
    assert_eq!(
        doc["captures"][0]["link_types"],
        serde_json::json!(["LINUX_SLL2"])
    );
}

#[test]
fn port_closed_and_filtered() {
    let doc = check(
        "oauth-port-closed.pcap",
        1,
        &[("oauth-port-closed", 3, None, None)],
    );
    assert_eq!(doc["connections"][0]["outcome"], "refused");
    let doc = check(
        "oauth-port-filtered.pcap",
        1,
        &[("oauth-port-filtered", 1, None, None)],
    );
    assert_eq!(doc["findings"][0]["confidence"], "likely");
    assert_eq!(doc["connections"][0]["outcome"], "unanswered_syn");
}

#[test]
fn version_mismatch_and_expired_certificate() {
    check(
        "tls-version-mismatch.pcap",
        1,
        &[(
            "tls-version-or-cipher-mismatch",
            1,
            Some(("protocol_version", "server")),
            None,
        )],
    );
    let doc = check(
        "certificate-expired.pcap",
        1,
        &[(
            "certificate-expired",
            1,
            Some(("certificate_expired", "client")),
            None,
        )],
    );
    assert!(doc["findings"][0]["explanation"]
        .as_str()
        .is_some_and(|e| e.contains("had indeed expired")));
}

#[test]
fn lost_segment_is_a_gap_and_decoding_resumes() {
    let (doc, code) = json(&[&fixture("lost-segment-sip-tcp.pcap")]);
    // REGISTER, 407 and the 403 after the gap are read; the REGISTER cut by the gap is not.
    assert_eq!(doc["connections"][0]["sip_messages"], 3);
    // The 403 with the port-mismatch Warning proves the finding without its REGISTER.
    assert_eq!(doc["findings"][0]["id"], "oauth-port-mismatch");
    assert_eq!(code, 1);
    assert!(doc["connections"][0]["lost_bytes"]
        .as_u64()
        .is_some_and(|b| b > 0));
    assert!(doc["notes"]
        .to_string()
        .contains("missing from the capture"));
}

#[test]
fn truncated_capture_keeps_findings_and_names_where_it_stopped() {
    let (doc, code) = json(&[&fixture("truncated.pcap")]);
    assert_eq!(code, 1);
    let stopped = doc["captures"][0]["stopped"].as_str().unwrap_or("");
    assert!(
        stopped.contains("fixtures/truncated.pcap") && stopped.contains("after frame 29"),
        "{stopped}"
    );
    assert_eq!(doc["findings"][0]["id"], "unknown-ca-from-expressway");
    assert_eq!(doc["findings"][0]["occurrences"], 2);
}

#[test]
fn same_capture_same_bytes() {
    for name in [
        "mra-unknown-ca-from-expressway.pcap",
        "healthy-registration-vlan-reordered.pcap",
    ] {
        let a = run(&["analyze", "--format", "json", &fixture(name)]).stdout;
        let b = run(&["analyze", "--format", "json", &fixture(name)]).stdout;
        assert!(!a.is_empty());
        assert_eq!(a, b, "{name}");
    }
}

#[test]
fn bearer_tokens_never_appear_in_any_output() {
    for format in ["json", "text"] {
        let out = run(&[
            "analyze",
            "--format",
            format,
            &fixture("healthy-registration-vlan-reordered.pcap"),
        ]);
        let s = String::from_utf8_lossy(&out.stdout);
        assert!(!s.contains("eyJhbGci"), "{format} output leaks the token");
    }
    // The token is in the capture, so the test can fail.
    let raw =
        std::fs::read(fixture("healthy-registration-vlan-reordered.pcap")).unwrap_or_default();
    assert!(raw.windows(8).any(|w| w == b"eyJhbGci"));
}

#[test]
fn text_report_names_scenario_sender_frame_and_fix() {
    let out = run(&["analyze", &fixture("mra-unknown-ca-from-ucm.pcap")]);
    let s = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1));
    for needle in [
        "[ERROR] unknown-ca-from-ucm",
        "sent by the server",
        "frame 10",
        "tomcat-trust",
        "expressway-c -> cucm (SIP MRA OAuth port 5091)",
    ] {
        assert!(s.contains(needle), "missing {needle:?} in:\n{s}");
    }
}

#[test]
fn custom_oauth_port_sets_roles() {
    let cap = fixture("registration-rejected-and-unanswered.pcap");
    let (doc, _) = json(&[&cap]);
    assert_eq!(doc["findings"][0]["server"]["role"], "sip-server");
    let out = run(&["analyze", "--format", "json", "--oauth-port", "5060", &cap]);
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    assert_eq!(doc["findings"][0]["server"]["role"], "cucm");
    assert_eq!(doc["findings"][0]["client"]["role"], "jabber-or-webex");
    let out = run(&[
        "analyze",
        "--format",
        "json",
        "--mra-oauth-port",
        "5060",
        &cap,
    ]);
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    assert_eq!(doc["findings"][0]["client"]["role"], "expressway-c");
}

#[test]
fn exit_codes_for_unreadable_inputs() {
    let out = run(&["analyze", "fixtures/does-not-exist.pcap"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("does-not-exist.pcap"));
    let out = run(&["analyze", "Cargo.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a pcap or pcapng"));
    // One unreadable file does not stop the others.
    let (doc, code) = json(&[
        "fixtures/does-not-exist.pcap",
        &fixture("oauth-port-closed.pcap"),
    ]);
    assert_eq!(code, 1);
    assert_eq!(doc["captures"].as_array().map(Vec::len), Some(1));
    assert!(doc["notes"].to_string().contains("does-not-exist.pcap"));
    let out = run(&[
        "analyze",
        "--format",
        "xml",
        &fixture("oauth-port-closed.pcap"),
    ]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn standard_input() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let bytes = std::fs::read(fixture("oauth-port-closed.pcap")).unwrap_or_default();
    let mut child = Command::new(env!("CARGO_BIN_EXE_siptriage"))
        .args(["analyze", "--format", "json", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(&bytes).expect("write");
    }
    let out = child.wait_with_output().expect("wait");
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    assert_eq!(doc["findings"][0]["id"], "oauth-port-closed");
    assert_eq!(doc["captures"][0]["path"], "standard input");
}

#[test]
fn json_contract_top_level_and_finding_fields() {
    let (doc, _) = json(&[&fixture("mra-unknown-ca-from-ucm.pcap")]);
    // Field order is part of the byte-for-byte contract: check it on the raw text.
    let raw = String::from_utf8_lossy(
        &run(&[
            "analyze",
            "--format",
            "json",
            &fixture("mra-unknown-ca-from-ucm.pcap"),
        ])
        .stdout,
    )
    .to_string();
    let top = [
        "schema_version",
        "tool",
        "captures",
        "findings",
        "connections",
        "registrations",
        "notes",
    ];
    let at: Vec<usize> = top
        .iter()
        .map(|k| raw.find(&format!("\n  \"{k}\"")).unwrap_or(usize::MAX))
        .collect();
    assert!(
        at.windows(2).all(|w| w[0] < w[1]) && at[6] != usize::MAX,
        "top-level order: {at:?}"
    );
    assert_eq!(doc["schema_version"], 1);
    assert_eq!(doc["tool"]["name"], "siptriage");
    for key in [
        "path",
        "format",
        "link_types",
        "frames",
        "first_time",
        "last_time",
    ] {
        assert!(doc["captures"][0].get(key).is_some(), "captures[].{key}");
    }
    for key in [
        "id",
        "severity",
        "confidence",
        "title",
        "explanation",
        "fix",
        "occurrences",
        "client",
        "server",
        "tls_alert",
        "sip",
        "evidence",
        "wireshark_filter",
    ] {
        assert!(doc["findings"][0].get(key).is_some(), "findings[].{key}");
    }
}
