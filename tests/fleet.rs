//! The fleet view: on a generated capture of many clients (recorded conversations replayed from
//! many addresses toward a few CUCM nodes), one finding per id and node lists every affected
//! client, the counts add up, and text and Markdown stay short with "and N more".

mod common;

use serde_json::Value;
use siptriage_dev::workload::{generate, templates_from, Spec};

fn capture() -> String {
    let templates = templates_from(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures"));
    let spec = Spec {
        bytes: 3 << 20,
        sip_share: 100.0,
        seed: 11,
        hostile: None,
    };
    let mut bytes = Vec::new();
    generate(&spec, &templates, &mut bytes).expect("generates");
    let p = std::env::temp_dir().join(format!("siptriage-fleet-{}.pcap", std::process::id()));
    std::fs::write(&p, bytes).expect("write");
    p.to_string_lossy().to_string()
}

#[test]
fn one_finding_per_id_and_node_lists_every_client_and_the_counts_add_up() {
    let cap = capture();
    let out = common::run(&["analyze", "--format", "json", &cap]);
    let doc: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let findings = doc["findings"].as_array().expect("findings");
    assert!(
        findings.len() > 5,
        "a generated fleet has several kinds of failure"
    );
    let mut keys = std::collections::BTreeSet::new();
    let mut many = 0;
    for f in findings {
        let key = (
            f["id"].as_str().unwrap_or("").to_string(),
            f["server"]["ip"].as_str().unwrap_or("").to_string(),
            f["server"]["port"].as_u64(),
            f["tls_alert"]["code"].as_u64(),
        );
        assert!(keys.insert(key.clone()), "{key:?} is one finding");
        let affected = f["affected"].as_array().expect("affected");
        assert_eq!(f["devices"].as_u64(), Some(affected.len() as u64));
        let sum: u64 = affected
            .iter()
            .map(|a| a["occurrences"].as_u64().unwrap_or(0))
            .sum();
        assert_eq!(f["occurrences"].as_u64(), Some(sum), "{key:?}");
        if affected.len() > 5 {
            many += 1;
        }
    }
    assert!(many > 0, "some finding affects many clients");
    // Text: the table by id first, long lists cut with "and N more".
    let text = String::from_utf8_lossy(&common::run(&["analyze", &cap]).stdout).to_string();
    let table = text.find("  id ").expect("summary table");
    let first_block = text.find("\n[ERROR]").expect("a finding");
    assert!(table < first_block);
    assert!(
        text.contains(" more\n") || text.contains(" more "),
        "and N more"
    );
    let md =
        String::from_utf8_lossy(&common::run(&["analyze", "--format", "markdown", &cap]).stdout)
            .to_string();
    assert!(md.contains("| id | severity | devices | occurrences | nodes | first frame |"));
    // The same failure on another node is a few lines: what happened and the fix are given once.
    assert!(
        md.contains("` on another node: "),
        "no repeat on another node"
    );
    assert!(md.contains("- What happened and the fix: as for finding "));
    assert!(text.contains(" on another node: "));
    let fixes = md.matches("\nFix:\n").count();
    let ids = doc["findings"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|f| {
                    (
                        f["id"].to_string(),
                        f["server"]["port"].to_string(),
                        f["tls_alert"]["code"].to_string(),
                        f["sip"]["status"].to_string(),
                    )
                })
                .collect::<std::collections::BTreeSet<_>>()
                .len()
        })
        .unwrap_or(0);
    assert!(
        fixes <= ids,
        "the fix is printed once per kind ({fixes} > {ids})"
    );
    let html = String::from_utf8_lossy(&common::run(&["analyze", "--format", "html", &cap]).stdout)
        .to_string();
    let listed: usize = html
        .split("<summary>Affected: ")
        .skip(1)
        .map(|block| {
            let list = block.split("</ul></details>").next().unwrap_or("");
            list.matches("<li>").count()
        })
        .sum();
    let total: u64 = findings
        .iter()
        .filter(|f| f["devices"].as_u64().unwrap_or(0) > 1)
        .map(|f| f["devices"].as_u64().unwrap_or(0))
        .sum();
    assert!(
        listed as u64 >= total,
        "HTML lists every affected client ({listed} < {total})"
    );
}
