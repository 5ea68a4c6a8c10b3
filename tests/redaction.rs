//! `--redact` holds in every format, streaming included: every fixture (decrypted with its key
//! log when it has one) in every format with every redaction class, and no original address,
//! device or user name, host name or token survives in what siptriage prints.

mod common;

use std::collections::BTreeSet;

use common::run;
use serde_json::Value;

const FORMATS: [&str; 6] = ["text", "json", "jsonl", "markdown", "html", "junit"];

/// The recorded token's signature and header, which must never be printed.
const TOKEN_PARTS: [&str; 2] = ["c2lnbmF0dXJlLW5vdC1yZWFs", "eyJhbGciOiJSUzI1NiIs"];

#[derive(Default)]
struct Originals {
    ips: BTreeSet<String>,
    users: BTreeSet<String>,
    hosts: BTreeSet<String>,
}

fn strings<'a>(v: &'a Value, path: &[&str]) -> Vec<&'a str> {
    let mut here = vec![v];
    for key in path {
        here = here
            .into_iter()
            .flat_map(|x| match (x, *key) {
                (Value::Array(a), "*") => a.iter().collect::<Vec<_>>(),
                (x, k) => x.get(k).into_iter().collect(),
            })
            .collect();
    }
    here.into_iter().filter_map(Value::as_str).collect()
}

/// What the unredacted report holds, by class.
fn originals(doc: &Value) -> Originals {
    let mut o = Originals::default();
    for path in [
        &["connections", "*", "client", "ip"][..],
        &["connections", "*", "server", "ip"],
        &["sip", "*", "src", "ip"],
        &["sip", "*", "dst", "ip"],
        &["findings", "*", "client", "ip"],
        &["findings", "*", "server", "ip"],
    ] {
        o.ips
            .extend(strings(doc, path).into_iter().map(str::to_string));
    }
    for path in [
        &["registrations", "*", "device"][..],
        &["sip", "*", "device"],
    ] {
        o.users
            .extend(strings(doc, path).into_iter().map(str::to_string));
    }
    // Device names only a configuration file name shows.
    let text = doc.to_string();
    for piece in text
        .split(".cnf.xml")
        .collect::<Vec<_>>()
        .iter()
        .rev()
        .skip(1)
    {
        let name: String = piece
            .chars()
            .rev()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        if name.len() > 2 && name != "device" {
            o.users.insert(name);
        }
    }
    let tls = &["connections", "*", "tls"][..];
    let sni: Vec<&str> = [tls, &["client_hello", "sni"]].concat();
    o.hosts
        .extend(strings(doc, &sni).into_iter().map(str::to_string));
    let subjects: Vec<&str> = [tls, &["chains", "*", "certificates", "*", "subject"]].concat();
    for s in strings(doc, &subjects) {
        o.hosts.extend(
            s.split(", ")
                .filter_map(|p| p.strip_prefix("CN="))
                .map(str::to_string),
        );
    }
    let sans: Vec<&str> = [tls, &["chains", "*", "certificates", "*", "san", "*"]].concat();
    o.hosts.extend(
        strings(doc, &sans)
            .into_iter()
            .filter_map(|s| s.strip_prefix("DNS:"))
            .map(str::to_string),
    );
    for w in strings(doc, &["sip", "*", "warning"]) {
        o.hosts
            .extend(w.split_whitespace().nth(1).map(str::to_string));
    }
    o.users.retain(|u| u.len() > 2);
    o.hosts.retain(|h| h.len() > 2);
    o
}

fn check(cap: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let out = run(&["analyze", "--format", "json", "--keylog", "auto", cap]);
    let doc: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let o = originals(&doc);
    for (class, values) in [
        ("ips", &o.ips),
        ("users", &o.users),
        ("hosts", &o.hosts),
        ("all", &o.ips),
        ("all", &o.users),
        ("all", &o.hosts),
    ] {
        for format in FORMATS {
            let out = run(&[
                "analyze", "--format", format, "--redact", class, "--keylog", "auto", cap,
            ]);
            let text = String::from_utf8_lossy(&out.stdout);
            for v in values.iter().map(String::as_str).chain(TOKEN_PARTS) {
                if text.contains(v) {
                    problems.push(format!("{cap} --format {format} --redact {class}: {v}"));
                }
            }
        }
    }
    problems
}

#[test]
fn no_original_value_survives_any_format_or_redaction_class() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures");
    let mut caps: Vec<String> = std::fs::read_dir(dir)
        .expect("fixtures")
        .flatten()
        .map(|e| e.path().to_string_lossy().to_string())
        .filter(|p| p.ends_with(".pcap") || p.ends_with(".pcapng"))
        .collect();
    caps.sort();
    assert!(caps.len() >= 40);
    // The originals must be found at all, or the test proves nothing.
    let sample = run(&[
        "analyze",
        "--format",
        "json",
        &format!("{dir}/config-file-legacy-port.pcap"),
    ]);
    let o = originals(&serde_json::from_slice(&sample.stdout).expect("JSON"));
    assert!(o.ips.contains("10.10.20.51"), "{:?}", o.ips);
    assert!(o.users.contains("CSFrado"), "{:?}", o.users);
    let hosts = run(&[
        "analyze",
        "--format",
        "json",
        &format!("{dir}/mra-unknown-ca-from-ucm.pcap"),
    ]);
    let o = originals(&serde_json::from_slice(&hosts.stdout).expect("JSON"));
    assert!(o.hosts.contains("expc1.lab.example"), "{:?}", o.hosts);

    let problems: Vec<String> = std::thread::scope(|s| {
        let chunks: Vec<Vec<String>> = (0..4)
            .map(|i| caps.iter().skip(i).step_by(4).cloned().collect())
            .collect();
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| s.spawn(move || chunk.iter().flat_map(|c| check(c)).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("thread"))
            .collect()
    });
    assert!(
        problems.is_empty(),
        "{} leak(s), first ones:\n{}",
        problems.len(),
        problems
            .iter()
            .take(30)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
