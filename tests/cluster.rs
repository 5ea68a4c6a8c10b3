//! A scaled-down cluster capture (devices registering for minutes, refreshing by Expires, a
//! share of them failing in three ways across three CUCM nodes): the diagnosis counts exactly
//! what was generated, per id, in devices and in occurrences, and the verdict is `failure`.

mod common;

use serde_json::Value;
use siptriage_dev::cluster::{generate, Cluster, Fate};

/// 3,000 clients over three nodes for a minute: 10 % port mismatch, 5 % rejected token, 5 %
/// closed port.
fn three_thousand_clients() -> Cluster {
    Cluster {
        devices: 3000,
        seconds: 60,
        ..Cluster::default()
    }
}

/// Per finding id: occurrences and devices, summed over its findings (one per node).
fn totals(doc: &Value) -> std::collections::BTreeMap<String, (u64, u64)> {
    let mut t = std::collections::BTreeMap::new();
    for f in doc["findings"].as_array().into_iter().flatten() {
        let e = t
            .entry(f["id"].as_str().unwrap_or("").to_string())
            .or_insert((0, 0));
        e.0 += f["occurrences"].as_u64().unwrap_or(0);
        e.1 += f["devices"].as_u64().unwrap_or(0);
    }
    t
}

/// The totals a diagnosis must find: each failing fate under its id, and the registrations of
/// the healthy devices.
fn expected(
    stats: &siptriage_dev::cluster::ClusterStats,
    ids: &[(&str, Fate)],
) -> std::collections::BTreeMap<String, (u64, u64)> {
    let mut want: std::collections::BTreeMap<String, (u64, u64)> = ids
        .iter()
        .map(|(id, fate)| (id.to_string(), generated(stats, *fate)))
        .collect();
    want.insert(
        "oauth-registration-ok".into(),
        (stats.registered, generated(stats, Fate::Healthy).1),
    );
    want
}

/// What the generator wrote for `fate`: failed attempts and devices.
fn generated(stats: &siptriage_dev::cluster::ClusterStats, fate: Fate) -> (u64, u64) {
    let devices = stats
        .devices
        .iter()
        .find(|d| d.0 == fate)
        .map_or(0, |d| u64::from(d.1));
    let failures = stats
        .failures
        .iter()
        .find(|d| d.0 == fate)
        .map_or(0, |d| d.1);
    (failures, devices)
}

#[test]
fn exact_counts_per_finding_on_a_cluster_capture() {
    let spec = Cluster {
        devices: 300,
        seconds: 900,
        seed: 42,
        ..three_thousand_clients()
    };
    let mut bytes = Vec::new();
    let stats = generate(&spec, &mut bytes).expect("generates");
    let path = std::env::temp_dir().join(format!("siptriage-cluster-{}.pcap", std::process::id()));
    std::fs::write(&path, &bytes).expect("write");
    let out = common::run(&["analyze", "--format", "json", &path.to_string_lossy()]);
    let doc: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let findings = doc["findings"].as_array().expect("findings");
    let total = |id: &str, field: &str| -> u64 {
        findings
            .iter()
            .filter(|f| f["id"] == id)
            .map(|f| f[field].as_u64().unwrap_or(0))
            .sum()
    };
    let devices = |fate: Fate| stats.devices_of(fate);
    let failures = |fate: Fate| stats.failures_of(fate);
    assert!(devices(Fate::PortMismatch) > 10 && devices(Fate::PortClosed) > 5);
    for (id, fate) in [
        ("oauth-port-mismatch", Fate::PortMismatch),
        ("bearer-token-rejected", Fate::TokenRejected),
        ("oauth-port-closed", Fate::PortClosed),
    ] {
        assert_eq!(total(id, "occurrences"), failures(fate), "{id} occurrences");
        assert_eq!(total(id, "devices"), devices(fate), "{id} devices");
        // One finding per node.
        let nodes = findings.iter().filter(|f| f["id"] == id).count();
        assert!(nodes <= 3, "{id}: {nodes} findings");
    }
    let errors: Vec<&str> = findings
        .iter()
        .filter(|f| f["severity"] == "error")
        .filter_map(|f| f["id"].as_str())
        .filter(|id| {
            ![
                "oauth-port-mismatch",
                "bearer-token-rejected",
                "oauth-port-closed",
            ]
            .contains(id)
        })
        .collect();
    assert!(errors.is_empty(), "unexpected errors: {errors:?}");
    assert_eq!(doc["verdict"], "failure");
    assert_eq!(out.status.code(), Some(1));
    // Every SIP message is analyzed (the summary counts them all): the capture spans many
    // windows of SIP.
    assert_eq!(doc["summary"]["sip_messages"], stats.sip_messages);
    assert!(
        stats.sip_messages > 2 * siptriage::session::sipflow::WINDOW as u64,
        "{} SIP messages",
        stats.sip_messages
    );
    assert!(
        doc["notes"]
            .to_string()
            .contains(&format!("of {} SIP messages", stats.sip_messages)),
        "{}",
        doc["notes"]
    );
    // Healthy devices registered, and none of them is reported.
    assert!(stats.registered > 0);
    let ok: u64 = total("oauth-registration-ok", "devices");
    assert_eq!(
        ok,
        devices(Fate::Healthy),
        "every healthy device is seen to register"
    );
}

/// 3,000 clients, three kinds of failure over three nodes: the Markdown for the ticket stays
/// under 20 KB, and the counts are exact.
#[test]
fn three_thousand_clients_fit_a_short_markdown_report() {
    let spec = three_thousand_clients();
    let mut bytes = Vec::new();
    let stats = generate(&spec, &mut bytes).expect("generates");
    let path = std::env::temp_dir().join(format!("siptriage-c3000-{}.pcap", std::process::id()));
    std::fs::write(&path, &bytes).expect("write");
    let p = path.to_string_lossy().to_string();
    let md = common::run(&["analyze", "--format", "markdown", &p]);
    let text = String::from_utf8_lossy(&md.stdout);
    assert!(text.len() < 20_000, "{} bytes of Markdown", text.len());
    assert!(text.starts_with("# Verdict: failure"));
    // The text report's first screen: verdict, totals, a few devices, then the findings table.
    // (Regression: every device's registrations came first, 2,000 lines before the table.)
    let out = common::run(&["analyze", &p]);
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    let table = lines
        .iter()
        .position(|l| l.starts_with("Findings:"))
        .expect("a findings line");
    assert!(
        table < 30,
        "the findings table starts at line {}",
        table + 1
    );
    assert!(lines[0].starts_with("Verdict: failure"));
    assert!(
        lines[..table]
            .iter()
            .any(|l| l.contains("more device(s) (all in the JSON and HTML reports)")),
        "{}",
        lines[..table].join("\n")
    );
    assert!(
        lines[..table]
            .iter()
            .any(|l| l.contains("TCP connections:") && l.contains("listed")),
        "{}",
        lines[..table].join("\n")
    );
    let out = common::run(&["analyze", "--format", "json", &p]);
    let doc: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let devices = |id: &str| -> u64 {
        doc["findings"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|f| f["id"] == id)
            .map(|f| f["devices"].as_u64().unwrap_or(0))
            .sum()
    };
    let want = |fate: Fate| {
        stats
            .devices
            .iter()
            .find(|d| d.0 == fate)
            .map_or(0, |d| u64::from(d.1))
    };
    assert_eq!(devices("oauth-port-mismatch"), want(Fate::PortMismatch));
    assert_eq!(devices("bearer-token-rejected"), want(Fate::TokenRejected));
    assert_eq!(devices("oauth-port-closed"), want(Fate::PortClosed));
    assert_eq!(devices("oauth-registration-ok"), want(Fate::Healthy));
}

/// Regression (#10): a healthy hour of 200 clients refreshing every 60 s (about 48,000 SIP
/// messages) was reported as `registration-unanswered` and 199 `registration-lost` once SIP
/// messages went past the old cap of 10,000. Every message is analyzed now: the verdict is
/// `ok`, every refresh is counted, nothing is lost.
#[test]
fn a_healthy_hour_of_refreshes_is_ok() {
    let spec = Cluster {
        devices: 200,
        seconds: 3600,
        expires: 60,
        shares: vec![
            (Fate::PortMismatch, 0.0),
            (Fate::TokenRejected, 0.0),
            (Fate::PortClosed, 0.0),
        ],
        seed: 7,
        ..three_thousand_clients()
    };
    let mut bytes = Vec::new();
    let stats = generate(&spec, &mut bytes).expect("generates");
    assert!(stats.sip_messages > 40_000, "{}", stats.sip_messages);
    let path = std::env::temp_dir().join(format!("siptriage-hour-{}.pcap", std::process::id()));
    std::fs::write(&path, &bytes).expect("write");
    let out = common::run(&["analyze", "--format", "json", &path.to_string_lossy()]);
    let doc: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let ids: Vec<(&str, u64, u64)> = doc["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            (
                f["id"].as_str().unwrap_or(""),
                f["occurrences"].as_u64().unwrap_or(0),
                f["devices"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert!(
        ids.iter().all(|(id, _, _)| *id == "oauth-registration-ok"),
        "{ids:?}"
    );
    let registered: u64 = ids.iter().map(|(_, n, _)| n).sum();
    let devices: u64 = ids.iter().map(|(_, _, d)| d).sum();
    assert_eq!(registered, stats.registered);
    assert_eq!(devices, 200);
    assert_eq!(doc["verdict"], "ok", "{}", doc["verdict_reasons"]);
    assert_eq!(out.status.code(), Some(0));
    // The listing stays bounded, and says so.
    let listed = doc["sip"].as_array().map_or(0, Vec::len);
    assert!(listed <= 4000, "{listed} SIP messages listed");
    assert!(doc["notes"].to_string().contains(&format!(
        "of {} SIP messages (the first 2000 and those cited as evidence); all were analyzed",
        stats.sip_messages
    )));
}

/// The same cluster with its SIP inside TLS 1.2 (real rustls sessions, one full handshake per
/// device connection): with the key log the counts are exactly those of the SIP in clear; without
/// it, what TLS hides is not judged and the report says so, while what TCP shows (the closed
/// port) is still counted exactly.
#[test]
fn exact_counts_in_tls_with_the_key_log_and_honest_without() {
    let spec = Cluster {
        devices: 200,
        seconds: 600,
        seed: 11,
        tls: true,
        ..three_thousand_clients()
    };
    let mut bytes = Vec::new();
    let stats = generate(&spec, &mut bytes).expect("generates");
    let closed = stats
        .devices
        .iter()
        .find(|d| d.0 == Fate::PortClosed)
        .map_or(0, |d| d.1);
    let attempted: u32 = stats.devices.iter().map(|d| d.1).sum();
    assert_eq!(
        stats.keylog.lines().count(),
        (attempted - closed) as usize,
        "one session per device that connects"
    );
    let dir = std::env::temp_dir().join(format!("siptriage-tls-cluster-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let (pcap, keys) = (dir.join("c.pcap"), dir.join("c.keys"));
    std::fs::write(&pcap, &bytes).expect("write");
    std::fs::write(&keys, &stats.keylog).expect("write");
    let (pcap, keys) = (pcap.to_string_lossy(), keys.to_string_lossy());
    let of = |fate: Fate| generated(&stats, fate);
    let out = common::run(&["analyze", "--format", "json", "--keylog", &keys, &pcap]);
    let doc: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let want = expected(
        &stats,
        &[
            ("oauth-port-mismatch", Fate::PortMismatch),
            ("bearer-token-rejected", Fate::TokenRejected),
            ("oauth-port-closed", Fate::PortClosed),
        ],
    );
    assert_eq!(totals(&doc), want);
    assert_eq!(doc["verdict"], "failure");
    assert_eq!(out.status.code(), Some(1));
    // Without the key log: only the closed port is seen, and the report says what is hidden.
    let out = common::run(&["analyze", "--format", "json", &pcap]);
    let doc: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let got = totals(&doc);
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        vec!["oauth-port-closed"],
        "{got:?}"
    );
    assert_eq!(got["oauth-port-closed"], of(Fate::PortClosed));
    assert!(
        doc["notes"]
            .to_string()
            .contains("cannot be read without the session keys"),
        "{}",
        doc["notes"]
    );
}

/// A device challenged for its Bearer token that never sends it (`bearer-not-sent`), once,
/// on its own connection and through Expressway-C: on its own connection the client's FIN is
/// how the attempt ended and is said so; through Expressway-C, the connection carries many
/// clients and Expressway-C's FIN (here at the end, as when it restarts) is not this client
/// giving up, so it is never cited as such.
#[test]
fn an_abandoned_challenge_is_told_apart_from_expressway_closing_its_connection() {
    let run = |mra: u8| -> (Value, u64) {
        let spec = Cluster {
            devices: 1,
            seconds: 120,
            retry: 100,
            shares: vec![(Fate::Abandons, 1.0)],
            seed: 3,
            mra,
            ..three_thousand_clients()
        };
        let mut bytes = Vec::new();
        let stats = generate(&spec, &mut bytes).expect("generates");
        let failures = stats
            .failures
            .iter()
            .find(|f| f.0 == Fate::Abandons)
            .map_or(0, |f| f.1);
        let path = std::env::temp_dir().join(format!(
            "siptriage-abandon-{mra}-{}.pcap",
            std::process::id()
        ));
        std::fs::write(&path, &bytes).expect("write");
        let out = common::run(&["analyze", "--format", "json", &path.to_string_lossy()]);
        (serde_json::from_slice(&out.stdout).expect("JSON"), failures)
    };
    for (mra, says) in [
        (0, "the client closed the connection"),
        (1, "no REGISTER with a Bearer token followed in the capture"),
    ] {
        let (doc, failures) = run(mra);
        assert_eq!(failures, 1, "one abandoned attempt (mra {mra})");
        let found: Vec<&Value> = doc["findings"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|f| f["id"] == "bearer-not-sent")
            .collect();
        assert_eq!(found.len(), 1, "mra {mra}: {}", doc["findings"]);
        let text = found[0]["explanation"].as_str().unwrap_or("");
        assert!(text.contains(says), "mra {mra}: {text}");
        if mra > 0 {
            assert!(!text.contains("closed the connection"), "{text}");
            assert_eq!(found[0]["client"]["role"], "expressway-c");
        }
        assert_eq!(doc["verdict"], "failure");
    }
}

/// Devices through Expressway-C, multiplexed on four TLS connections to CUCM's 5091 (each
/// REGISTER with Expressway-C's Via above the device's): the counts per id are exact, and the
/// devices are told apart although they share connections and Expressway-C's address.
#[test]
fn exact_counts_through_expressway_on_shared_connections() {
    let spec = Cluster {
        devices: 300,
        seconds: 600,
        seed: 5,
        tls: true,
        mra: 4,
        shares: vec![
            (Fate::PortMismatch, 0.10),
            (Fate::TokenRejected, 0.05),
            (Fate::Abandons, 0.05),
        ],
        ..three_thousand_clients()
    };
    let mut bytes = Vec::new();
    let stats = generate(&spec, &mut bytes).expect("generates");
    assert_eq!(stats.keylog.lines().count(), 4, "four TLS sessions in all");
    let dir = std::env::temp_dir().join(format!("siptriage-mra-cluster-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let (pcap, keys) = (dir.join("m.pcap"), dir.join("m.keys"));
    std::fs::write(&pcap, &bytes).expect("write");
    std::fs::write(&keys, &stats.keylog).expect("write");
    let out = common::run(&[
        "analyze",
        "--format",
        "json",
        "--keylog",
        &keys.to_string_lossy(),
        &pcap.to_string_lossy(),
    ]);
    let doc: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let of = |fate: Fate| generated(&stats, fate);
    for f in doc["findings"].as_array().into_iter().flatten() {
        assert_eq!(f["client"]["role"], "expressway-c", "{}", f["id"]);
        assert_eq!(f["server"]["port"], 5091);
    }
    let got = totals(&doc);
    let want = expected(
        &stats,
        &[
            ("oauth-port-mismatch", Fate::PortMismatch),
            ("bearer-token-rejected", Fate::TokenRejected),
            ("bearer-not-sent", Fate::Abandons),
        ],
    );
    assert!(of(Fate::Abandons).1 > 5 && of(Fate::PortMismatch).1 > 10);
    assert_eq!(got, want);
    assert_eq!(doc["verdict"], "failure");
}

/// `--max-sip-messages` is gone (every SIP message is analyzed); a script that still passes it
/// gets the same report, and a notice on standard error.
#[test]
fn the_gone_sip_message_cap_is_accepted_with_a_notice() {
    let capture = common::fixture("oauth-port-mismatch-clear-tcp.pcap");
    let plain = common::run(&["analyze", "--format", "json", &capture]);
    let old = common::run(&[
        "analyze",
        "--format",
        "json",
        "--max-sip-messages",
        "2",
        &capture,
    ]);
    assert_eq!(old.stdout, plain.stdout);
    assert_eq!(old.status.code(), plain.status.code());
    assert!(String::from_utf8_lossy(&old.stderr).contains("--max-sip-messages is ignored"));
}
