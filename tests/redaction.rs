//! `--redact` holds in every format, streaming and the sensor included. The originals are
//! derived from the unredacted JSON of every fixture (decrypted with its key log when it has
//! one), of the logs rendered from every fixture, and of the real Expressway log when
//! `../shared/corpus` is present: addresses (IP and MAC), users (devices, user IDs, URI users,
//! display names), hosts (certificate names, SNI, SANs, URI hosts, realms, Warning agents) and
//! every part of every certificate name but the country. None may survive in any format with
//! its class redacted, nor with `all`; and `--redact-map` resolves every pseudonym printed.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use common::run;
use serde_json::Value;
use siptriage_dev::logs::{render, Clock};

const FORMATS: [&str; 6] = ["text", "json", "jsonl", "markdown", "html", "junit"];
const CLASSES: [&str; 4] = ["ips", "users", "hosts", "orgs"];

/// The recorded token's signature and header, which must never be printed.
const TOKEN_PARTS: [&str; 2] = ["c2lnbmF0dXJlLW5vdC1yZWFs", "eyJhbGciOiJSUzI1NiIs"];

type Originals = BTreeMap<&'static str, BTreeSet<String>>;

/// Every string in a JSON document, with the key it stands under.
fn strings<'a>(v: &'a Value, key: &'a str, out: &mut Vec<(&'a str, &'a str)>) {
    match v {
        Value::String(s) => out.push((key, s)),
        Value::Array(a) => a.iter().for_each(|x| strings(x, key, out)),
        Value::Object(o) => o.iter().for_each(|(k, x)| strings(x, k, out)),
        _ => {}
    }
}

/// The values of a distinguished name but the country (`CN=Lab CA, O=Lab Example, C=US`).
fn dn_values(dn: &str) -> Vec<(String, String)> {
    dn.split(", ")
        .filter_map(|p| p.split_once('='))
        .filter(|(k, _)| *k != "C")
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn is_host(h: &str) -> bool {
    h.contains('.')
        && h.chars().any(|c| c.is_ascii_alphabetic())
        && h.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '*'))
}

/// `key="value"` or `key=value` in a header text.
fn param<'t>(text: &'t str, key: &str) -> Vec<&'t str> {
    text.match_indices(key)
        .filter_map(|(i, _)| {
            let rest = &text[i + key.len()..];
            let v = match rest.strip_prefix('"') {
                Some(q) => q.split('"').next(),
                None => rest.split([',', ' ', ';', '>']).next(),
            }?;
            (!v.is_empty()).then_some(v)
        })
        .collect()
}

/// What the unredacted report holds, by class.
fn originals(doc: &Value) -> Originals {
    let mut o = Originals::new();
    let mut all = Vec::new();
    strings(doc, "", &mut all);
    // The report's own words for roles are not a customer's (a log's `Common-name="cucm"`).
    use siptriage::report::redact::VOCABULARY;
    let mut add = |class: &'static str, v: &str| {
        let v = v.trim();
        if v.len() > 2 && !VOCABULARY.contains(&v) {
            o.entry(class).or_default().insert(v.to_string());
        }
    };
    for (key, s) in &all {
        match *key {
            "ip" => add("ips", s),
            "device" => {
                add("users", s);
                // A SEP<MAC> name holds an address.
                if let Some(mac) = s.strip_prefix("SEP") {
                    add("ips", mac);
                }
            }
            "sni" => add("hosts", s),
            "subject" | "issuer" | "ca_names" | "missing_ca" => {
                for (k, v) in dn_values(s) {
                    add("orgs", &v);
                    if k == "CN" && is_host(&v) {
                        add("hosts", &v);
                    }
                }
            }
            "san" => {
                if let Some(d) = s.strip_prefix("DNS:") {
                    add("hosts", d);
                }
            }
            "agent" => add("hosts", s),
            "logged" => {
                for h in param(s, "Common-name=") {
                    add("hosts", h);
                }
            }
            "credentials" | "warning" | "text" => {
                for u in param(s, "username=") {
                    add("users", u);
                }
                for h in param(s, "realm=").into_iter().filter(|h| is_host(h)) {
                    add("hosts", h);
                }
                for uri in param(s, "uri=") {
                    let host = uri
                        .trim_start_matches("sip:")
                        .rsplit('@')
                        .next()
                        .unwrap_or("");
                    if is_host(host) {
                        add("hosts", host);
                    }
                }
            }
            _ => {}
        }
        // Device names that only a configuration file name shows.
        for piece in s.split(".cnf.xml").collect::<Vec<_>>().iter().rev().skip(1) {
            let name: String = piece
                .chars()
                .rev()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            if name != "device" {
                add("users", &name);
            }
        }
        // SIP URIs' user parts and hosts wherever they are written.
        for (i, _) in s.match_indices("sip:") {
            let rest = &s[i + 4..];
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '@')))
                .unwrap_or(rest.len());
            let uri = &rest[..end];
            if let Some((user, host)) = uri.split_once('@') {
                add("users", user);
                if is_host(host) {
                    add("hosts", host);
                }
            } else if is_host(uri) {
                add("hosts", uri);
            }
        }
    }
    o
}

/// The reports one input gives, unredacted, as JSON.
fn unredacted(args: &[String]) -> Value {
    let mut a = vec!["analyze".to_string(), "--format".into(), "json".into()];
    a.extend(args.iter().cloned());
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    let out = run(&a);
    serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
}

/// Every input of the test: each fixture with its key log, each fixture's rendered logs as a
/// set, and the real Expressway log.
fn inputs(dir: &Path) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for (name, path, keys) in common::fixture_captures() {
        let mut args = vec![path.clone()];
        if let Some(k) = &keys {
            args.extend(["--keylog".to_string(), k.clone()]);
        }
        out.push(args);
        let logs = dir.join(&name);
        std::fs::create_dir_all(&logs).expect("dir");
        if let Ok(r) = render(&path, keys.as_deref(), Clock::default()) {
            let mut any = false;
            if let Some(j) = &r.jabber {
                std::fs::write(logs.join("jabber.log"), j).expect("write");
                any = true;
            }
            for (node, text) in &r.sdl {
                std::fs::write(logs.join(format!("SDL001_100_{node}.txt")), text).expect("write");
                any = true;
            }
            if r.messages > 0 || r.tls_failures > 0 {
                std::fs::write(logs.join("expressway.txt"), &r.expressway).expect("write");
                any = true;
            }
            if any {
                out.push(vec![logs.to_string_lossy().to_string()]);
            }
        }
    }
    let real = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpus/logs/expressway-e-mra-small.txt");
    if real.is_file() {
        out.push(vec![real.to_string_lossy().to_string()]);
    }
    out
}

fn check(args: &[String]) -> Vec<String> {
    let doc = unredacted(args);
    let o = originals(&doc);
    let mut problems = Vec::new();
    let label = args.join(" ");
    let runs = CLASSES
        .iter()
        .map(|c| (*c, vec![*c]))
        .chain([("all", CLASSES.to_vec())]);
    for (class, covered) in runs {
        for format in FORMATS {
            let mut a: Vec<&str> = vec!["analyze", "--format", format, "--redact", class];
            a.extend(args.iter().map(String::as_str));
            let out = run(&a);
            let text = String::from_utf8_lossy(&out.stdout);
            for c in &covered {
                for v in o.get(c).into_iter().flatten() {
                    if text.contains(v.as_str()) {
                        problems.push(format!(
                            "{label} --format {format} --redact {class}: {c} {v}"
                        ));
                    }
                }
            }
            for t in TOKEN_PARTS {
                if text.contains(t) {
                    problems.push(format!("{label} --format {format}: the token"));
                }
            }
        }
    }
    // The sensor's events and closing report.
    if !args[0].ends_with(".txt") && Path::new(&args[0]).is_file() {
        let mut a = vec![
            "watch",
            "--replay",
            &args[0],
            "--speed",
            "0",
            "--no-wall-time",
            "--redact",
            "all",
        ];
        if let Some(k) = args.get(2) {
            a.extend(["--keylog", k]);
        }
        let out = run(&a);
        let text = String::from_utf8_lossy(&out.stdout);
        for (c, values) in &o {
            for v in values {
                if text.contains(v.as_str()) {
                    problems.push(format!("{label} watch events --redact all: {c} {v}"));
                }
            }
        }
    }
    problems
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("siptriage-redaction-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("dir");
    d
}

#[test]
fn no_original_value_survives_any_format_or_redaction_class() {
    let dir = temp_dir("all");
    let inputs = inputs(&dir);
    assert!(inputs.len() >= 70, "{} inputs", inputs.len());
    // The originals must be found at all, or the test proves nothing: each class, including
    // every part of a CA's name.
    let sample = originals(&unredacted(&[common::fixture(
        "config-file-legacy-port.pcap",
    )]));
    assert!(sample["ips"].contains("10.10.20.51"), "{sample:?}");
    assert!(sample["users"].contains("CSFrado"), "{sample:?}");
    let mra = originals(&unredacted(&[common::fixture(
        "mra-unknown-ca-from-ucm.pcap",
    )]));
    assert!(mra["hosts"].contains("expc1.lab.example"), "{mra:?}");
    for part in ["Lab Expressway Root CA", "Lab Example", "Lab CUCM Root CA"] {
        assert!(mra["orgs"].contains(part), "{part}: {mra:?}");
    }
    let gateway = originals(&unredacted(&[common::fixture(
        "digest-registration-gateway.pcap",
    )]));
    assert!(gateway["users"].contains("4085550100"), "{gateway:?}");
    let counts: BTreeMap<&str, usize> =
        inputs
            .iter()
            .map(|a| originals(&unredacted(a)))
            .fold(BTreeMap::new(), |mut m, o| {
                for (c, v) in o {
                    *m.entry(c).or_default() += v.len();
                }
                m
            });
    for class in CLASSES {
        assert!(counts.get(class).copied().unwrap_or(0) > 10, "{counts:?}");
    }

    let problems: Vec<String> = std::thread::scope(|s| {
        let chunks: Vec<Vec<Vec<String>>> = (0..4)
            .map(|i| inputs.iter().skip(i).step_by(4).cloned().collect())
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
    let _ = std::fs::remove_dir_all(&dir);
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

/// Pseudonym-shaped words in a text: `host-3`, `198.18.0.7`, `00:00:5e:00:53:01`, …
fn pseudonyms_in(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for token in text.split(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | ':')))
    {
        let t = token.trim_matches(['.', ':', '-']);
        let named = t.rsplit_once('-').is_some_and(|(stem, n)| {
            [
                "device", "user", "host", "org", "place", "email", "ca", "name",
            ]
            .contains(&stem)
                && !n.is_empty()
                && n.chars().all(|c| c.is_ascii_digit())
        });
        let address =
            t.starts_with("198.18.") || t.starts_with("198.19.") || t.starts_with("2001:db8:");
        if named || address || t.starts_with("00:00:5e:00:53:") {
            out.insert(
                t.split(':')
                    .take(if address && t.contains('.') { 1 } else { 8 })
                    .collect::<Vec<_>>()
                    .join(":"),
            );
        }
    }
    out
}

#[test]
fn the_redaction_map_resolves_every_pseudonym_a_report_prints() {
    let dir = temp_dir("map");
    for (name, keys) in [
        ("mra-unknown-ca-from-ucm.pcap", None),
        (
            "oauth-port-mismatch-tls12.pcap",
            Some("oauth-port-mismatch-tls12.keys"),
        ),
        ("digest-registration-gateway.pcap", None),
        ("config-file-legacy-port.pcap", None),
    ] {
        let cap = common::fixture(name);
        let keys = keys.map(common::fixture);
        let map_path = dir.join(format!("{name}.map.json"));
        let map_arg = map_path.to_string_lossy().to_string();
        for format in ["json", "text", "jsonl"] {
            let mut a = vec![
                "analyze",
                "--format",
                format,
                "--redact",
                "all",
                "--redact-map",
                &map_arg,
                &cap,
            ];
            if let Some(k) = &keys {
                a.extend(["--keylog", k]);
            }
            let out = run(&a);
            assert_ne!(
                out.status.code(),
                Some(2),
                "{name}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let report = String::from_utf8_lossy(&out.stdout).to_string();
            let map: Vec<Value> =
                serde_json::from_str(&std::fs::read_to_string(&map_path).expect("map"))
                    .expect("the map is JSON");
            let by_pseudonym: BTreeMap<&str, (&str, &str)> = map
                .iter()
                .map(|e| {
                    (
                        e["pseudonym"].as_str().expect("pseudonym"),
                        (
                            e["class"].as_str().expect("class"),
                            e["original"].as_str().expect("original"),
                        ),
                    )
                })
                .collect();
            assert_eq!(
                by_pseudonym.len(),
                map.len(),
                "{name}: a pseudonym twice in the map"
            );
            let printed = pseudonyms_in(&report);
            // (A stream without findings or connections, a UDP gateway's, names nobody.)
            assert!(
                !printed.is_empty() || format == "jsonl",
                "{name} {format}: no pseudonym printed"
            );
            for p in &printed {
                assert!(
                    by_pseudonym.contains_key(p.as_str()),
                    "{name} {format}: {p} is not in the map {map:?}"
                );
            }
            // Each original is a value of the unredacted report, and the report says a map was
            // written without naming where.
            let mut plain_args = vec![cap.clone()];
            if let Some(k) = &keys {
                plain_args.extend(["--keylog".to_string(), k.clone()]);
            }
            let plain = unredacted(&plain_args).to_string();
            for (p, (class, original)) in &by_pseudonym {
                assert!(
                    plain.contains(original) || *class == "addresses",
                    "{name}: {p} stands for {original}, which the report does not hold"
                );
                assert!(
                    !report.contains(&format!("\"{original}\"")),
                    "{name} {format}: {original} printed"
                );
            }
            assert!(
                report.contains("the map from each pseudonym"),
                "{name} {format}: no word of the map"
            );
            assert!(
                !report.contains(&map_arg),
                "{name} {format}: the map's path is printed"
            );
        }
    }
    // Without --redact a map means nothing: refused.
    let out = run(&[
        "analyze",
        "--redact-map",
        "x.json",
        &common::fixture("mra-unknown-ca-from-ucm.pcap"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--redact-map needs --redact"));
    let _ = std::fs::remove_dir_all(&dir);
}
