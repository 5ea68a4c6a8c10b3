//! A scaled-down cluster capture (devices registering for minutes, refreshing by Expires, a
//! share of them failing in three ways across three CUCM nodes): the diagnosis counts exactly
//! what was generated, per id, in devices and in occurrences, and the verdict is `failure`.

mod common;

use serde_json::Value;
use siptriage_dev::cluster::{generate, Cluster, Fate};

#[test]
fn exact_counts_per_finding_on_a_cluster_capture() {
    let spec = Cluster {
        devices: 300,
        seconds: 300,
        expires: 120,
        retry: 60,
        nodes: 3,
        shares: [
            (Fate::PortMismatch, 0.10),
            (Fate::TokenRejected, 0.05),
            (Fate::PortClosed, 0.05),
        ],
        seed: 42,
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
    let devices = |fate: Fate| {
        stats
            .devices
            .iter()
            .find(|d| d.0 == fate)
            .map_or(0, |d| u64::from(d.1))
    };
    let failures = |fate: Fate| {
        stats
            .failures
            .iter()
            .find(|d| d.0 == fate)
            .map_or(0, |d| d.1)
    };
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
    assert!(
        stats.sip_messages < 10_000,
        "stays under the SIP message cap"
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
