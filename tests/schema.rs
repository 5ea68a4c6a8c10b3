//! The published JSON Schema: committed in `schema/report.schema.json`, equal to what the types
//! generate (so changing the output without changing the schema fails here), and every fixture's
//! output validates against it.

mod common;

use common::run;
use serde_json::Value;

const SCHEMA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/schema/report.schema.json");

#[test]
fn committed_schema_is_what_the_types_generate() {
    let committed = std::fs::read_to_string(SCHEMA).expect("schema/report.schema.json");
    let generated = String::from_utf8(run(&["schema"]).stdout).expect("UTF-8");
    assert!(
        committed == generated,
        "schema/report.schema.json is stale: run `cargo run -- schema > schema/report.schema.json` and review the change"
    );
}

/// Every `.pcap`/`.pcapng` fixture, with its key log when it has one.
pub fn all_fixtures() -> Vec<(String, Option<String>)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures");
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("fixtures")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    names
        .iter()
        .filter(|n| n.ends_with(".pcap") || n.ends_with(".pcapng"))
        .map(|n| {
            let keys = format!(
                "{dir}/{}",
                n.rsplit_once('.').map_or(n.as_str(), |x| x.0).to_string() + ".keys"
            );
            (
                format!("{dir}/{n}"),
                std::path::Path::new(&keys).exists().then_some(keys),
            )
        })
        .collect()
}

#[test]
fn every_fixture_output_validates() {
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(SCHEMA).expect("schema")).expect("JSON");
    let validator = jsonschema::validator_for(&schema).expect("a valid schema");
    let fixtures = all_fixtures();
    assert!(fixtures.len() >= 40);
    for (cap, keys) in fixtures {
        let mut args = vec![
            "analyze",
            "--format",
            "json",
            "--trust",
            "fixtures/trust/both-cas.pem",
        ];
        if let Some(k) = &keys {
            args.extend(["--keylog", k.as_str()]);
        }
        args.push(&cap);
        let out = run(&args);
        let doc: Value =
            serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{cap}: {e}"));
        let errors: Vec<String> = validator
            .iter_errors(&doc)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{cap}: {errors:#?}");
    }
    // The schema rejects what it should: a finding without an id.
    let mut bad: Value = serde_json::from_slice(
        &run(&[
            "analyze",
            "--format",
            "json",
            "fixtures/oauth-port-closed.pcap",
        ])
        .stdout,
    )
    .expect("JSON");
    if let Some(f) = bad["findings"][0].as_object_mut() {
        f.remove("id");
    }
    assert!(!validator.is_valid(&bad));
}
