//! Scope: SIP OAuth findings are about SIP OAuth parties. The same recorded TLS failures moved
//! to a web port (a browser to a public site on 443, a server on 8400) are not errors with CUCM
//! fix text: one line counts them, and the verdict does not call them a failure.

mod common;

use common::{fixture, run};
use serde_json::Value;

fn moved(name: &str, from: u16, to: u16) -> String {
    common::with_port_moved(&fixture(name), from, to)
}

fn json(path: &str) -> (Value, i32) {
    let out = run(&["analyze", "--format", "json", path]);
    (
        serde_json::from_slice(&out.stdout).expect("JSON"),
        out.status.code().unwrap_or(-1),
    )
}

#[test]
fn tls_failures_between_other_hosts_are_counted_not_reported_as_cucm_errors() {
    for (name, port) in [
        ("certificate-expired.pcap", 443),
        ("tls-version-mismatch.pcap", 8400),
    ] {
        // On the OAuth port, the recorded failure is an error.
        let (doc, code) = json(&fixture(name));
        assert_eq!(doc["verdict"], "failure", "{name}");
        assert_eq!(code, 1);
        // The same bytes on a web port are no business of CUCM's.
        let (doc, code) = json(&moved(name, 5090, port));
        assert_eq!(doc["findings"], serde_json::json!([]), "{name} on {port}");
        assert_eq!(code, 0, "{name} on {port}");
        assert_ne!(doc["verdict"], "failure");
        let notes: Vec<&str> = doc["notes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .filter(|n| n.contains("outside SIP OAuth"))
            .collect();
        assert_eq!(notes.len(), 1, "{name}: {notes:?}");
        assert!(
            notes[0].starts_with("1 TLS connection(s) failed between hosts outside SIP OAuth")
                && notes[0].contains(&format!(":{port} (tcp.stream 0, ")),
            "{}",
            notes[0]
        );
        let text = String::from_utf8_lossy(&run(&["analyze", &moved(name, 5090, port)]).stdout)
            .to_string();
        assert!(!text.contains("Tomcat"), "no CUCM fix text: {text}");
    }
}

#[test]
fn cucm_tomcat_and_a_port_named_by_options_stay_in_scope() {
    // 8443 is CUCM's Tomcat: an expired certificate there is still CUCM's.
    let (doc, _) = json(&moved("certificate-expired.pcap", 5090, 8443));
    assert_eq!(doc["findings"][0]["id"], "certificate-expired");
    // A node configured with another OAuth port, given with --oauth-port.
    let other = moved("tls-version-mismatch.pcap", 5090, 5095);
    let out = run(&[
        "analyze",
        "--format",
        "json",
        "--oauth-port",
        "5095",
        &other,
    ]);
    let doc: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(doc["findings"][0]["id"], "tls-version-or-cipher-mismatch");
}
