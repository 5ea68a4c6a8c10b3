//! Every output format for every fixture: JSON Lines validated line by line against its schema,
//! JUnit parsed as XML, Markdown compared with its committed snapshot, HTML rendered in headless
//! Chromium. Plus exit codes, --fail-on, -o, --quiet, many inputs, --redact, completions.

mod common;

use std::path::Path;
use std::process::Command;

use common::run;
use serde_json::Value;

const DIR: &str = env!("CARGO_MANIFEST_DIR");

/// Every fixture with its key log, as command-line arguments (relative paths, so outputs that
/// name the file are stable).
fn fixtures() -> Vec<Vec<String>> {
    common::fixture_captures()
        .into_iter()
        .map(|(name, path, keys)| {
            let mut args = Vec::new();
            // A pcapng that carries its keys is analyzed with them alone.
            if let Some(k) = keys.filter(|_| !name.contains("-dsb")) {
                args.push("--keylog".to_string());
                args.push(k);
            }
            args.push(path);
            args
        })
        .collect()
}

fn analyze(format: &str, extra: &[String]) -> std::process::Output {
    let mut args: Vec<&str> = vec!["analyze", "--format", format];
    args.extend(extra.iter().map(String::as_str));
    run(&args)
}

#[test]
fn events_schema_is_committed_and_every_jsonl_line_validates() {
    let committed = std::fs::read_to_string(format!("{DIR}/schema/events.schema.json"))
        .expect("schema/events.schema.json");
    assert!(
        committed == String::from_utf8_lossy(&run(&["schema", "events"]).stdout),
        "schema/events.schema.json is stale"
    );
    let schema: Value = serde_json::from_str(&committed).expect("JSON");
    let validator = jsonschema::validator_for(&schema).expect("schema");
    for args in fixtures() {
        let out = analyze("jsonl", &args);
        let text = String::from_utf8_lossy(&out.stdout);
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{args:?}: {e}: {l}")))
            .collect();
        for l in &lines {
            let errors: Vec<String> = validator.iter_errors(l).map(|e| e.to_string()).collect();
            assert!(errors.is_empty(), "{args:?}: {errors:?} in {l}");
        }
        assert_eq!(
            lines.first().map(|l| l["type"].clone()),
            Some(Value::from("capture")),
            "{args:?}"
        );
        let last = lines.last().expect("lines");
        assert_eq!(last["type"], "summary");
        assert_eq!(
            last["data"]["exit_code"].as_i64(),
            out.status.code().map(i64::from),
            "{args:?}"
        );
        // A finding is written as soon as the analysis holds it, within its capture: after
        // the connection it judged, before the capture is done; an update only follows it.
        let done = lines
            .iter()
            .position(|l| l["type"] == "capture_done")
            .unwrap_or(usize::MAX);
        for (i, l) in lines.iter().enumerate() {
            if l["type"] == "finding" {
                assert!(i < done, "{args:?}: a finding after capture_done");
                let stream = l["data"]["evidence"][0]["tcp_stream"].as_u64();
                let conn = lines.iter().position(|c| {
                    c["type"] == "connection" && c["data"]["tcp_stream"].as_u64() == stream
                });
                if let (Some(_), Some(c)) = (stream, conn) {
                    assert!(c < i, "{args:?}: a finding before the connection it judged");
                }
            }
            if l["type"] == "finding_update" {
                assert!(
                    lines[..i].iter().any(|f| f["type"] == "finding"),
                    "{args:?}: an update of a finding never told"
                );
            }
        }
    }
}

/// `analyze --format jsonl` tells each finding as soon as it is certain, not at the end: on a
/// capture of three refused connections the first finding comes before the last connection.
#[test]
fn jsonl_tells_a_finding_as_soon_as_it_is_certain() {
    let out = analyze(
        "jsonl",
        &[format!(
            "{DIR}/fixtures/mra-unknown-ca-from-expressway.pcap"
        )],
    );
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    let first_finding = lines
        .iter()
        .position(|l| l["type"] == "finding")
        .expect("a finding");
    let last_conn = lines
        .iter()
        .rposition(|l| l["type"] == "connection")
        .expect("connections");
    assert!(first_finding < last_conn, "streamed: {lines:?}");
    let update = lines
        .iter()
        .find(|l| l["type"] == "finding_update")
        .expect("the retries are an update");
    assert_eq!(update["data"]["occurrences"], 3, "{update}");
}

#[test]
fn junit_is_well_formed_with_one_failure_per_error_finding() {
    for args in fixtures() {
        let json: Value = serde_json::from_slice(&analyze("json", &args).stdout).expect("JSON");
        let errors = json["findings"]
            .as_array()
            .map_or(0, |a| a.iter().filter(|f| f["severity"] == "error").count());
        let all = json["findings"].as_array().map_or(0, Vec::len);
        let out = analyze("junit", &args);
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let doc =
            roxmltree::Document::parse(&text).unwrap_or_else(|e| panic!("{args:?}: not XML: {e}"));
        let failures = doc
            .descendants()
            .filter(|n| n.has_tag_name("failure"))
            .count();
        let cases = doc
            .descendants()
            .filter(|n| n.has_tag_name("testcase"))
            .count();
        assert_eq!(failures, errors, "{args:?}");
        assert_eq!(cases, all.max(1), "{args:?}");
        assert_eq!(
            doc.root_element().attribute("failures"),
            Some(errors.to_string().as_str())
        );
    }
    // --fail-on never: nothing fails; --fail-on warning: warnings fail too.
    let args = vec!["fixtures/mra-unknown-ca-from-ucm.pcap".to_string()];
    let mut never = args.clone();
    never.insert(0, "never".into());
    never.insert(0, "--fail-on".into());
    let text = String::from_utf8_lossy(&analyze("junit", &never).stdout).to_string();
    assert!(!text.contains("<failure"));
    let lost = vec![
        "--fail-on".into(),
        "warning".into(),
        "--keylog".into(),
        "fixtures/registration-lost.keys".into(),
        "fixtures/registration-lost.pcap".into(),
    ];
    let text = String::from_utf8_lossy(&analyze("junit", &lost).stdout).to_string();
    assert_eq!(text.matches("<failure").count(), 1, "{text}");
}

#[test]
fn markdown_matches_its_snapshot_for_every_fixture() {
    let update = std::env::var_os("UPDATE_SNAPSHOTS").is_some();
    let dir = format!("{DIR}/tests/snapshots");
    let mut stale = Vec::new();
    for args in fixtures() {
        let name = Path::new(args.last().expect("path"))
            .file_name()
            .expect("name")
            .to_string_lossy()
            .to_string();
        let out = String::from_utf8_lossy(&analyze("markdown", &args).stdout).to_string();
        assert!(
            out.starts_with("# Verdict: ") && out.contains("(siptriage report)\n\n**Verdict: "),
            "{name}: verdict first"
        );
        let path = format!("{dir}/{name}.md");
        if update {
            std::fs::create_dir_all(&dir).expect("snapshot dir");
            std::fs::write(&path, &out).expect("write snapshot");
            continue;
        }
        match std::fs::read_to_string(&path) {
            Ok(snap) if snap == out => {}
            _ => stale.push(name),
        }
    }
    assert!(
        stale.is_empty(),
        "Markdown differs from tests/snapshots for {stale:?}; review and run `UPDATE_SNAPSHOTS=1 cargo test --test reports markdown`"
    );
}

fn chromium() -> Option<String> {
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find(|c| {
            Command::new(c)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .map(|c| c.to_string())
}

fn headless(browser: &str, profile: &Path, extra: &[&str], url: &str) -> String {
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
        ])
        .args([
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(url)
        .output()
        .expect("chromium runs");
    String::from_utf8_lossy(&out.stdout).to_string()
}

#[test]
fn html_renders_in_headless_chromium_for_every_fixture() {
    let Some(browser) = chromium() else {
        eprintln!("SKIPPED: no chromium on this machine (apt-get install chromium); the HTML browser test did not run");
        return;
    };
    let tmp = std::env::temp_dir().join(format!("siptriage-html-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).expect("tmp");
    let cases = fixtures();
    let chunks: Vec<Vec<Vec<String>>> = cases
        .chunks(cases.len().div_ceil(2))
        .map(|c| c.to_vec())
        .collect();
    std::thread::scope(|s| {
        for (t, chunk) in chunks.iter().enumerate() {
            let (tmp, browser) = (tmp.clone(), browser.clone());
            s.spawn(move || {
                let profile = tmp.join(format!("profile-{t}"));
                for args in chunk {
                    let name = Path::new(args.last().expect("path"))
                        .file_name()
                        .expect("name")
                        .to_string_lossy()
                        .to_string();
                    let file = tmp.join(format!("{name}.html"));
                    let mut a = args.clone();
                    a.insert(0, file.to_string_lossy().to_string());
                    a.insert(0, "-o".into());
                    let out = analyze("html", &a);
                    assert!(out.status.code().is_some_and(|c| c < 2), "{name}");
                    let html = std::fs::read_to_string(&file).expect("html written");
                    // Self-contained: nothing to fetch.
                    for bad in ["<link", "<img", " src=", "@import", "url(http"] {
                        assert!(!html.contains(bad), "{name}: external reference {bad}");
                    }
                    let dom = headless(
                        &browser,
                        &profile,
                        &["--dump-dom"],
                        &format!("file://{}", file.display()),
                    );
                    assert!(
                        dom.contains("data-rendered=\"yes\""),
                        "{name}: the page did not finish rendering:\n{}",
                        &dom[..dom.len().min(400)]
                    );
                    let json: Value =
                        serde_json::from_slice(&analyze("json", args).stdout).expect("JSON");
                    let ladders: usize = dom
                        .split("data-ladders=\"")
                        .nth(1)
                        .and_then(|r| r.split('"').next())
                        .and_then(|n| n.parse().ok())
                        .unwrap_or(0);
                    let expect_ladder = json["connections"]
                        .as_array()
                        .is_some_and(|c| !c.is_empty())
                        || json["sip"].as_array().is_some_and(|c| !c.is_empty());
                    assert_eq!(
                        ladders > 0,
                        expect_ladder,
                        "{name}: ladders drawn: {ladders}"
                    );
                    let errors = json["findings"].as_array().is_some_and(|a| {
                        a.iter().any(|f| {
                            f["severity"] == "error" && f["evidence"][0]["tcp_stream"].is_u64()
                        })
                    });
                    if errors {
                        assert!(
                            !dom.contains("data-failing=\"0\""),
                            "{name}: the failing step is not highlighted"
                        );
                    }
                }
            });
        }
    });
    // One screenshot, to prove pixels come out.
    let file = tmp.join("mra-unknown-ca-from-ucm.pcap.html");
    let png = tmp.join("shot.png");
    headless(
        &browser,
        &tmp.join("profile-shot"),
        &[
            &format!("--screenshot={}", png.display()),
            "--window-size=1000,1400",
        ],
        &format!("file://{}", file.display()),
    );
    let size = std::fs::metadata(&png).map(|m| m.len()).unwrap_or(0);
    assert!(size > 20_000, "screenshot of {} bytes", size);
    let _ = std::fs::remove_dir_all(&tmp);
}

#[test]
fn fail_on_output_file_and_quiet() {
    let cap = "fixtures/registration-lost.pcap";
    let k = "fixtures/registration-lost.keys";
    // registration-lost is a warning: exit 0 by default, 1 with --fail-on warning.
    assert_eq!(run(&["analyze", "--keylog", k, cap]).status.code(), Some(0));
    assert_eq!(
        run(&["analyze", "--fail-on", "warning", "--keylog", k, cap])
            .status
            .code(),
        Some(1)
    );
    assert_eq!(
        run(&[
            "analyze",
            "--fail-on",
            "never",
            "fixtures/oauth-port-closed.pcap"
        ])
        .status
        .code(),
        Some(0)
    );
    let tmp = std::env::temp_dir().join(format!("siptriage-o-{}.md", std::process::id()));
    let out = run(&[
        "analyze",
        "--quiet",
        "--format",
        "markdown",
        "-o",
        &tmp.to_string_lossy(),
        "fixtures/oauth-port-closed.pcap",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty() && out.stderr.is_empty());
    assert!(std::fs::read_to_string(&tmp)
        .unwrap_or_default()
        .contains("oauth-port-closed"));
    let _ = std::fs::remove_file(tmp);
    let out = run(&["analyze", "--quiet", "fixtures/truncated.pcap"]);
    assert!(
        out.stdout.is_empty() && out.stderr.is_empty(),
        "--quiet prints nothing"
    );
    // Piped text has no color codes.
    assert!(!run(&["analyze", "fixtures/oauth-port-closed.pcap"])
        .stdout
        .contains(&0x1b));
}

#[test]
fn many_captures_and_folders() {
    let tmp = std::env::temp_dir().join(format!("siptriage-dir-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).expect("tmp");
    for f in [
        "oauth-port-closed.pcap",
        "certificate-expired.pcap",
        "healthy-registration-udp-sll2.pcap",
    ] {
        std::fs::copy(format!("{DIR}/fixtures/{f}"), tmp.join(f)).expect("copy");
    }
    std::fs::write(tmp.join("broken.pcap"), b"not a capture at all").expect("write");
    std::fs::write(tmp.join("readme.txt"), b"ignored").expect("write");
    let out = run(&["analyze", "--format", "json", &tmp.to_string_lossy()]);
    assert_eq!(out.status.code(), Some(1));
    let doc: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(
        doc["captures"].as_array().map(Vec::len),
        Some(3),
        "three readable captures, sorted"
    );
    assert!(doc["notes"].to_string().contains("broken.pcap"));
    let caps: Vec<String> = doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["capture"].to_string())
        .collect();
    assert!(
        caps.contains(&"0".to_string()) && caps.contains(&"2".to_string()),
        "{caps:?}"
    );
    // Exit 2 only when nothing at all could be read.
    assert_eq!(
        run(&["analyze", &tmp.join("broken.pcap").to_string_lossy()])
            .status
            .code(),
        Some(2)
    );
    let _ = std::fs::remove_dir_all(tmp);
}

#[test]
fn redaction_is_consistent_and_complete() {
    let args = [
        "analyze",
        "--format",
        "json",
        "--redact",
        "ips,users,hosts",
        "--keylog",
        "fixtures/tls13-healthy-registration.keys",
        "fixtures/tls13-healthy-registration.pcap",
    ];
    let out = run(&args);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    for secret in [
        "10.10.20.51",
        "10.10.10.11",
        "10.10.10.40",
        "CSFrado",
        "cucm1.lab.example",
        "expc1.lab.example",
        "UCM2-PUB",
    ] {
        assert!(!text.contains(secret), "{secret} survived redaction");
    }
    let doc: Value = serde_json::from_str(&text).expect("JSON");
    // The same input gives the same pseudonym everywhere in the report.
    let server = doc["findings"][0]["server"]["ip"].clone();
    assert_eq!(doc["connections"][0]["server"]["ip"], server);
    assert!(server.as_str().is_some_and(|s| s.starts_with("198.18.")));
    assert!(doc["findings"][0]["explanation"]
        .as_str()
        .is_some_and(|e| e.contains(server.as_str().unwrap_or("?")) && e.contains("device-1")));
    assert_eq!(run(&args).stdout, out.stdout, "deterministic");
    assert_eq!(
        run(&[
            "analyze",
            "--redact",
            "passwords",
            "fixtures/oauth-port-closed.pcap"
        ])
        .status
        .code(),
        Some(2)
    );
}

#[test]
fn text_ladder_completions_and_man_page() {
    let out = String::from_utf8_lossy(
        &run(&[
            "analyze",
            "--ladder",
            "fixtures/mra-unknown-ca-from-ucm.pcap",
        ])
        .stdout,
    )
    .to_string();
    assert!(
        out.contains("tcp.stream 0  expressway-c 10.10.10.40:41001  <->  cucm 10.10.10.11:5091"),
        "{out}"
    );
    assert!(out.contains("Alert(unknown_ca)") && out.contains("<== finding"));
    for shell in ["bash", "zsh", "fish"] {
        let c = run(&["completions", shell]);
        assert_eq!(c.status.code(), Some(0));
        assert!(
            String::from_utf8_lossy(&c.stdout).contains("analyze"),
            "{shell}"
        );
    }
    let man = String::from_utf8_lossy(&run(&["man"]).stdout).to_string();
    assert!(man.starts_with(".ie") || man.contains(".TH"), "roff");
    let help = String::from_utf8_lossy(&run(&["analyze", "--help"]).stdout).to_string();
    for f in ["markdown", "html", "jsonl", "junit", "ticket", "pipelines"] {
        assert!(help.contains(f), "analyze --help should explain {f}");
    }
}

#[test]
fn several_captures_in_parallel_equal_each_alone() {
    let files = [
        "fixtures/mra-unknown-ca-from-ucm.pcap",
        "fixtures/oauth-port-closed.pcap",
        "fixtures/certificate-expired.pcap",
        "fixtures/healthy-registration-udp-sll2.pcap",
        "fixtures/tls-version-mismatch.pcap",
    ];
    let mut args = vec!["analyze", "--format", "json"];
    args.extend(files);
    let together = run(&args);
    assert_eq!(
        run(&args).stdout,
        together.stdout,
        "deterministic across runs"
    );
    let doc: Value = serde_json::from_slice(&together.stdout).expect("JSON");
    for (i, f) in files.iter().enumerate() {
        let alone: Value =
            serde_json::from_slice(&run(&["analyze", "--format", "json", f]).stdout).expect("JSON");
        let mine: Vec<Value> = doc["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter(|x| x["capture"] == i)
            .map(|x| {
                let mut x = x.clone();
                x["capture"] = 0.into();
                x
            })
            .collect();
        assert_eq!(Value::from(mine), alone["findings"], "{f}");
        assert_eq!(doc["captures"][i]["path"], *f);
    }
}
