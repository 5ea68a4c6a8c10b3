//! The first hour with siptriage: inputs as people have them, outputs that never destroy an
//! earlier report, errors in words, closed pipes, help that helps, secrets shown only on
//! request, and wording. Every input here is a recorded fixture, copied, compressed or archived
//! by the test itself.

mod common;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::{fixture, run};

/// A fresh folder under the system's temporary folder, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let p = std::env::temp_dir().join(format!("siptriage-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("scratch folder");
        Scratch(p)
    }
    fn path(&self, rel: &str) -> PathBuf {
        let p = self.0.join(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("folder");
        }
        p
    }
    fn s(&self, rel: &str) -> String {
        self.path(rel).to_string_lossy().to_string()
    }
    fn copy(&self, name: &str, rel: &str) -> String {
        std::fs::copy(fixture(name), self.path(rel)).expect("copy");
        self.s(rel)
    }
    fn write(&self, rel: &str, bytes: &[u8]) -> String {
        std::fs::write(self.path(rel), bytes).expect("write");
        self.s(rel)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(fixture(name)).expect("fixture")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}

fn json_of(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}{}", stdout(o), stderr(o)))
}

fn ids(doc: &serde_json::Value) -> Vec<String> {
    common::finding_ids(doc)
        .into_iter()
        .map(|(i, _)| i)
        .collect()
}

fn xz(bytes: &[u8]) -> Vec<u8> {
    let mut w = lzma_rust2::XzWriter::new(Vec::new(), lzma_rust2::XzOptions::with_preset(1))
        .expect("xz writer");
    w.write_all(bytes).expect("xz");
    w.finish().expect("xz end")
}

fn zstd(bytes: &[u8]) -> Vec<u8> {
    ruzstd::encoding::compress_to_vec(bytes, ruzstd::encoding::CompressionLevel::Fastest)
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut w = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    w.write_all(bytes).expect("gzip");
    w.finish().expect("gzip end")
}

/// Text that only Rust's debug formatting writes, never a message for people.
fn assert_words(what: &str, text: &str) {
    for tell in [
        "Some(",
        "None",
        "Incomplete(",
        "Os {",
        "kind:",
        "MissingSectionEnd",
        "end_marker",
        "[67, 69",
        "Error {",
        "panicked",
    ] {
        assert!(
            !text.contains(tell),
            "{what}: debug formatting {tell:?} reached the user: {text}"
        );
    }
}

// ---- 3. Inputs as people have them --------------------------------------------------------

#[test]
fn folders_are_searched_recursively_with_archives_and_compression_by_content() {
    let d = Scratch::new("tree");
    d.copy("oauth-port-closed.pcap", "case/a/b/c/plain.pcap");
    d.write(
        "case/a/mismatch.bin",
        &xz(&read("oauth-port-mismatch-clear-tcp.pcap")),
    );
    d.write(
        "case/zst-named-nothing",
        &zstd(&read("certificate-expired.pcap")),
    );
    d.write(
        "case/b/closed.pcap.gz",
        &gzip(&read("oauth-port-filtered.pcap")),
    );
    d.write(
        "case/prt.zip",
        &common::zip(&[
            ("logs/readme.txt", b"not a capture", true),
            ("capture/tls.pcap", &read("tls-version-mismatch.pcap"), true),
            (
                "capture/stored.pcapng",
                &read("mra-unknown-ca-from-ucm.pcapng"),
                false,
            ),
        ]),
    );
    d.write("case/notes.txt", b"ticket notes");
    // A link back up the tree must not loop.
    #[cfg(unix)]
    std::os::unix::fs::symlink(d.path("case"), d.path("case/a/b/loop")).expect("symlink");

    let out = run(&["analyze", "--format", "json", &d.s("case")]);
    let doc = json_of(&out);
    let paths: Vec<&str> = doc["captures"]
        .as_array()
        .expect("captures")
        .iter()
        .map(|c| c["path"].as_str().unwrap_or(""))
        .collect();
    let rel: Vec<String> = paths
        .iter()
        .map(|p| p.strip_prefix(&d.s("case/")).unwrap_or(p).to_string())
        .collect();
    assert_eq!(
        rel,
        [
            "a/b/c/plain.pcap",
            "a/mismatch.bin",
            "b/closed.pcap.gz",
            "prt.zip/capture/stored.pcapng",
            "prt.zip/capture/tls.pcap",
            "zst-named-nothing",
        ],
        "{}",
        stderr(&out)
    );
    let formats = common::capture_formats(&doc);
    assert_eq!(
        formats,
        [
            "pcap",
            "pcap+xz",
            "pcap+gzip",
            "pcapng",
            "pcap",
            "pcap+zstd"
        ]
    );
    let found = ids(&doc);
    for id in [
        "oauth-port-closed",
        "oauth-port-mismatch",
        "oauth-port-filtered",
        "unknown-ca-from-ucm",
        "tls-version-or-cipher-mismatch",
        "certificate-expired",
    ] {
        assert!(found.iter().any(|f| f == id), "{id} missing from {found:?}");
    }
    // What was passed over is said, not hidden.
    let err = stderr(&out);
    assert!(
        err.contains("skipped 2 file(s) that hold no capture")
            && err.contains("notes.txt")
            && err.contains("prt.zip/logs/readme.txt"),
        "{err}"
    );
}

#[test]
fn a_named_zip_or_compressed_file_is_read_by_content() {
    let d = Scratch::new("named");
    let z = d.write(
        "bundle.zip",
        &common::zip(&[(
            "x/oauth-port-closed.pcap",
            &read("oauth-port-closed.pcap"),
            true,
        )]),
    );
    let x = d.write("capture.xz", &xz(&read("oauth-port-filtered.pcap")));
    let out = run(&["analyze", "--format", "json", &z, &x]);
    assert_eq!(
        ids(&json_of(&out)),
        ["oauth-port-closed", "oauth-port-filtered"]
    );
}

#[test]
fn an_empty_folder_or_a_zip_without_capture_is_named_with_the_reason() {
    let d = Scratch::new("empty");
    std::fs::create_dir_all(d.path("nothing/here")).expect("folder");
    let z = d.write("docs.zip", &common::zip(&[("a.txt", b"text", true)]));
    let out = run(&["analyze", &d.s("nothing")]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("nothing: the folder holds no pcap or pcapng capture"),
        "{err}"
    );
    assert!(!err.contains("Is a directory"), "{err}");
    let out = run(&["analyze", &z]);
    assert!(
        stderr(&out).contains("docs.zip: the zip archive holds no pcap or pcapng capture"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_key_log_given_as_a_capture_says_to_use_keylog() {
    let out = run(&["analyze", &fixture("tls13-oauth-port-mismatch.keys")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out)
            .contains("tls13-oauth-port-mismatch.keys: this is a TLS key log, not a capture")
            && stderr(&out).contains("pass it with --keylog"),
        "{}",
        stderr(&out)
    );
    // Beside a capture, the capture is still analyzed.
    let out = run(&[
        "analyze",
        "--format",
        "json",
        &fixture("tls13-oauth-port-mismatch.keys"),
        &fixture("tls13-oauth-port-mismatch.pcap"),
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        json_of(&out)["unreadable"][0]["input"],
        fixture("tls13-oauth-port-mismatch.keys")
    );
}

#[test]
fn keylog_auto_uses_the_key_log_named_like_the_capture_and_is_hinted_otherwise() {
    let d = Scratch::new("auto");
    let cap = d.copy("tls13-oauth-port-mismatch.pcap", "t/port.pcap");
    // A key log with a BOM and CRLF line ends, named like the capture.
    let keys = std::fs::read_to_string(fixture("tls13-oauth-port-mismatch.keys")).expect("keys");
    let crlf = format!("\u{feff}{}", keys.replace('\n', "\r\n"));
    d.write("t/port.keys.txt", crlf.as_bytes());

    let plain = run(&["analyze", "--format", "json", &cap]);
    assert!(
        !ids(&json_of(&plain)).contains(&"oauth-port-mismatch".to_string()),
        "without keys the 403 is not visible"
    );
    assert!(
        stderr(&plain).contains("port.keys.txt looks like the key log of")
            && stderr(&plain).contains("--keylog auto"),
        "{}",
        stderr(&plain)
    );
    let auto = run(&["analyze", "--format", "json", "--keylog", "auto", &cap]);
    assert_eq!(ids(&json_of(&auto)), ["oauth-port-mismatch"]);
    assert!(
        stderr(&auto).contains("using the key log"),
        "{}",
        stderr(&auto)
    );
}

#[test]
fn keylog_takes_a_folder_and_refuses_a_capture_in_words() {
    let d = Scratch::new("keydir");
    d.write("keys/sub/one.log", &read("tls13-oauth-port-mismatch.keys"));
    d.write("keys/readme.md", b"how these keys were made");
    let out = run(&[
        "analyze",
        "--format",
        "json",
        "--keylog",
        &d.s("keys"),
        &fixture("tls13-oauth-port-mismatch.pcap"),
    ]);
    assert_eq!(ids(&json_of(&out)), ["oauth-port-mismatch"]);
    let out = run(&[
        "analyze",
        "--keylog",
        &fixture("oauth-port-closed.pcap"),
        &fixture("oauth-port-closed.pcap"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out)
            .contains("oauth-port-closed.pcap: a capture, not a key log; give it as an input"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn standard_input_is_named_standard_input() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_siptriage"))
        .args(["analyze", "--format", "junit", "-"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    let bytes = gzip(&read("oauth-port-closed.pcap"));
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&bytes)
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    assert!(
        stdout(&out).contains(r#"<testsuite name="standard input""#),
        "{}",
        stdout(&out)
    );
}

// ---- 2. Outputs are safe ------------------------------------------------------------------

#[test]
fn a_failed_run_keeps_the_earlier_report_and_leaves_no_partial_file() {
    let d = Scratch::new("keep");
    let bad = d.write("bad.pcap", b"0123456789");
    for ext in ["json", "xml", "txt", "html", "md", "jsonl"] {
        let report = d.write(&format!("out/prev.{ext}"), b"EARLIER REPORT");
        let out = run(&["analyze", "-o", &report, &bad]);
        assert_eq!(out.status.code(), Some(2), "{ext}");
        assert_eq!(
            std::fs::read(&report).expect("kept"),
            b"EARLIER REPORT",
            "{ext}: the earlier report was destroyed"
        );
        assert!(stderr(&out).contains("was not written"), "{}", stderr(&out));
    }
    let left: Vec<_> = std::fs::read_dir(d.path("out"))
        .expect("out")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.contains("partial"))
        .collect();
    assert!(left.is_empty(), "temporary files left: {left:?}");
}

#[test]
fn the_output_extension_chooses_the_format_and_a_conflict_is_an_error() {
    let d = Scratch::new("ext");
    let cap = fixture("mra-unknown-ca-from-ucm.pcap");
    let cases = [
        ("r.html", "<!DOCTYPE html>"),
        ("r.json", "{\n  \"schema_version\""),
        ("r.jsonl", "{\"type\":\"capture\""),
        ("r.md", "# Verdict: failure (siptriage report)"),
        ("r.xml", "<?xml version=\"1.0\""),
        ("r.txt", "Verdict: failure: "),
    ];
    for (name, start) in cases {
        let path = d.s(name);
        let out = run(&["analyze", "-o", &path, &cap]);
        assert_eq!(out.status.code(), Some(1), "{name}: {}", stderr(&out));
        let text = std::fs::read_to_string(&path).expect("report");
        assert!(
            text.starts_with(start),
            "{name}: {}",
            &text[..text.len().min(80)]
        );
    }
    let path = d.s("report.html");
    let out = run(&["analyze", "--format", "json", "-o", &path, &cap]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--format json conflicts with the output file")
            && stderr(&out).contains("means html"),
        "{}",
        stderr(&out)
    );
    assert!(!Path::new(&path).exists());
    // An explicit format that agrees, or an extension that means nothing, is fine.
    let out = run(&["analyze", "--format", "html", "-o", &path, &cap]);
    assert_eq!(out.status.code(), Some(1));
    let other = d.s("report.out");
    run(&["analyze", "--format", "markdown", "-o", &other, &cap]);
    assert!(std::fs::read_to_string(&other)
        .expect("report")
        .starts_with("# Verdict: failure (siptriage report)"));
}

#[test]
fn junit_reports_an_unreadable_capture_as_an_error_case() {
    let d = Scratch::new("junit");
    let bad = d.write("cut.pcap", &read("oauth-port-closed.pcap")[..10]);
    let out = run(&[
        "analyze",
        "--format",
        "junit",
        &bad,
        &fixture("oauth-port-closed.pcap"),
    ]);
    let xml = stdout(&out);
    assert!(
        xml.contains(r#"errors="1">"#) && xml.contains("<error type=\"unreadable\""),
        "{xml}"
    );
    assert!(
        xml.contains("cut.pcap: not a pcap or pcapng capture: the file ends inside the 24-byte pcap file header"),
        "{xml}"
    );
    assert!(xml.contains("oauth-port-closed"), "{xml}");
}

// ---- 4 and 6. Trust bundles and errors in words -------------------------------------------

#[test]
fn trust_bundles_in_pem_der_pkcs7_and_folders() {
    let cap = fixture("mra-unknown-ca-from-ucm.pcap");
    let d = Scratch::new("trust");
    // DER: the first certificate of the PEM bundle.
    let pem = std::fs::read_to_string(fixture("trust/tomcat-trust.pem")).expect("pem");
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    use base64::Engine;
    let der = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .expect("base64");
    let der_path = d.write("tomcat.cer", &der);
    for (bundle, verifies) in [
        (fixture("trust/both-cas.p7b"), true),
        (fixture("trust/both-cas.p7c"), true),
        (fixture("trust/both-cas.pem"), true),
        (fixture("trust"), true),
        (der_path, false),
    ] {
        let out = run(&["analyze", "--format", "json", "--trust", &bundle, &cap]);
        let doc = json_of(&out);
        let f = &doc["findings"][0];
        assert_eq!(f["id"], "unknown-ca-from-ucm", "{bundle}");
        assert_eq!(f["trust"]["bundle"], bundle.as_str());
        assert_eq!(f["trust"]["verified"], verifies, "{bundle}");
        if !verifies {
            assert_eq!(
                f["trust"]["missing_ca"],
                "CN=Lab Expressway Root CA, O=Lab Example"
            );
        }
    }
}

#[test]
fn damaged_trust_bundles_are_named_with_the_problem_in_words() {
    let d = Scratch::new("badtrust");
    let pem = std::fs::read_to_string(fixture("trust/both-cas.pem")).expect("pem");
    let cut = d.write("cut.pem", &pem.as_bytes()[..pem.len() * 3 / 4]);
    let cut_marker = d.write(
        "cut-marker.pem",
        &pem.as_bytes()[..pem.find("-----END").expect("end") + 5],
    );
    let garbled = d.write("garbled.pem", pem.replacen("MII", "M!!", 1).as_bytes());
    let key = d.write(
        "key.pem",
        b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
    );
    let junk = d.write("junk.der", &[0x30, 0x03, 0x02, 0x01, 0x05]);
    let cap = fixture("mra-unknown-ca-from-ucm.pcap");
    for (path, words) in [
        (
            &cut,
            "the CERTIFICATE section has no \"-----END CERTIFICATE-----\" line",
        ),
        (
            &cut_marker,
            "the CERTIFICATE section has no \"-----END CERTIFICATE-----\" line",
        ),
        (&garbled, "is not valid base64"),
        (&key, "no certificate found, only PRIVATE KEY section(s)"),
        (
            &junk,
            "is not a valid X.509 certificate (nor a PKCS#7 bundle)",
        ),
    ] {
        let out = run(&["analyze", "--trust", path, &cap]);
        assert_eq!(out.status.code(), Some(2), "{path}");
        let err = stderr(&out);
        assert!(
            err.contains(path.as_str()) && err.contains(words),
            "{path}: {err}"
        );
        assert_words(path, &err);
    }
}

#[test]
fn every_reachable_error_names_the_file_and_what_was_found() {
    let d = Scratch::new("errors");
    let ten = d.write("ten.pcap", &read("oauth-port-closed.pcap")[..10]);
    let empty = d.write("empty.pcap", b"");
    let text = d.write("notes.pcap", b"Hello from the customer\n");
    let elf = d.write("tool.pcap", b"\x7fELF\x02\x01\x01\x00rest");
    let zip_bad = d.write("bad.zip", b"PK\x03\x04 not really");
    let missing = d.s("missing.pcap");
    let no_dir = format!("{}/no/such/dir/r.json", d.s(""));
    let cases: Vec<(Vec<String>, String, &str)> = vec![
        (
            vec![ten.clone()],
            ten.clone(),
            "the file ends inside the 24-byte pcap file header",
        ),
        (vec![empty.clone()], empty.clone(), "the file is empty"),
        (
            vec![text.clone()],
            text.clone(),
            "it is text, starting with \"Hello from the customer\"",
        ),
        (
            vec![elf.clone()],
            elf.clone(),
            "it starts with bytes 7f 45 4c 46",
        ),
        (
            vec![zip_bad.clone()],
            zip_bad.clone(),
            "not a readable zip archive",
        ),
        (vec![missing.clone()], missing.clone(), "cannot read"),
        (
            vec![
                "--keylog".into(),
                missing.clone(),
                fixture("oauth-port-closed.pcap"),
            ],
            missing.clone(),
            "cannot read the key log",
        ),
        (
            vec![
                "--keylog".into(),
                text.clone(),
                fixture("oauth-port-closed.pcap"),
            ],
            text.clone(),
            "not a TLS key log",
        ),
        (
            vec![
                "--keylog".into(),
                d.s(""),
                fixture("oauth-port-closed.pcap"),
            ],
            d.s(""),
            "the folder holds no TLS key log",
        ),
        (
            vec![
                "-o".into(),
                no_dir.clone(),
                fixture("oauth-port-closed.pcap"),
            ],
            no_dir.clone(),
            "cannot write",
        ),
        (
            vec![
                "--redact".into(),
                "passwords".into(),
                fixture("oauth-port-closed.pcap"),
            ],
            "passwords".into(),
            "",
        ),
    ];
    for (args, names, words) in cases {
        let mut all = vec!["analyze".to_string()];
        all.extend(args);
        let argv: Vec<&str> = all.iter().map(String::as_str).collect();
        let out = run(&argv);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{argv:?}: {err}");
        assert!(
            err.contains(names.as_str()) && err.contains(words),
            "{argv:?}: {err}"
        );
        assert_words(&names, &err);
    }
}

// ---- 5. No panic on a closed pipe -----------------------------------------------------------

#[test]
fn every_subcommand_ends_quietly_when_the_reader_goes_away() {
    let folder = fixture("");
    let commands: Vec<Vec<&str>> = vec![
        vec!["completions", "bash"],
        vec!["scenarios"],
        vec!["scenarios", "--format", "json"],
        vec!["schema"],
        vec!["man"],
        vec!["explain", "unknown-ca-from-ucm"],
        vec!["analyze", "--ladder", &folder],
        vec!["analyze", "--format", "jsonl", &folder],
        vec!["analyze", "--format", "html", &folder],
    ];
    for args in commands {
        let mut child = Command::new(env!("CARGO_BIN_EXE_siptriage"))
            .args(&args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("RUST_BACKTRACE", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        // Read one byte, then hang up, as `| head -c1` does.
        let mut first = [0u8; 1];
        let mut out = child.stdout.take().expect("stdout");
        out.read_exact(&mut first).expect("some output");
        drop(out);
        let done = child.wait_with_output().expect("wait");
        let err = stderr(&done);
        assert!(
            !err.contains("panicked") && !err.contains("Broken pipe"),
            "{args:?}: {err}"
        );
        assert!(
            matches!(done.status.code(), Some(0 | 1)),
            "{args:?}: exit {:?}: {err}",
            done.status.code()
        );
    }
}

// ---- 7. Secrets ---------------------------------------------------------------------------

#[test]
fn tokens_are_summarized_in_every_format_and_whole_only_with_show_secrets() {
    let keys = fixture("bearer-token-rejected.keys");
    let cap = fixture("bearer-token-rejected.pcap");
    // The recorded token's signature part: never printed unless asked for.
    let secret = "c2lnbmF0dXJlLW5vdC1yZWFs";
    for format in ["text", "json", "jsonl", "markdown", "html", "junit"] {
        let out = run(&["analyze", "--format", format, "--keylog", &keys, &cap]);
        let s = stdout(&out);
        assert!(!s.contains(secret), "{format}: the token leaked");
        assert!(
            s.contains("redacted 197 chars")
                && s.contains("alg=RS256")
                && s.contains("kid=19f7b4ba-cf2e-4e4d-ab01-88f17895e435")
                && s.contains("expiry encrypted in the private claim"),
            "{format}: no token summary"
        );
        let shown = run(&[
            "analyze",
            "--format",
            format,
            "--show-secrets",
            "--keylog",
            &keys,
            &cap,
        ]);
        assert!(
            stdout(&shown).contains(secret),
            "{format}: --show-secrets did not show the token"
        );
    }
}

// ---- 8. Help that helps -------------------------------------------------------------------

#[test]
fn scenarios_takes_text_and_json_only() {
    let out = run(&["scenarios", "--format", "html"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("[possible values: text, json]"),
        "{}",
        stderr(&out)
    );
    let out = run(&["scenarios", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(v.as_array().is_some_and(|a| a.len() > 20));
}

#[test]
fn man_writes_a_page_per_command_with_options_and_exit_codes() {
    let d = Scratch::new("man");
    let out = run(&["man", "--out", &d.s("pages")]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let mut names: Vec<String> = std::fs::read_dir(d.path("pages"))
        .expect("pages")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "siptriage-analyze.1",
            "siptriage-completions.1",
            "siptriage-explain.1",
            "siptriage-man.1",
            "siptriage-scenarios.1",
            "siptriage-schema.1",
            "siptriage-watch.1",
            "siptriage.1"
        ]
    );
    let analyze = std::fs::read_to_string(d.path("pages/siptriage-analyze.1")).expect("page");
    for want in [
        ".TH siptriage-analyze 1",
        "siptriage analyze",
        "\\-\\-keylog",
        "\\-\\-fail\\-on",
        ".SH \"EXIT STATUS\"",
    ] {
        assert!(analyze.contains(want), "{want} missing");
    }
    let top = std::fs::read_to_string(d.path("pages/siptriage.1")).expect("page");
    assert!(top.contains("siptriage\\-analyze(1)"));
    // One command's page on standard output.
    assert!(stdout(&run(&["man", "explain"])).contains(".TH siptriage-explain 1"));
}

#[test]
fn explain_suggests_the_nearest_ids() {
    let out = run(&["explain", "unknown-ca"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("did you mean unknown-ca-from-expressway or unknown-ca-from-ucm?"),
        "{}",
        stderr(&out)
    );
    let out = run(&["explain", "oauth-port-mismach"]);
    assert!(
        stderr(&out).contains("did you mean oauth-port-mismatch?"),
        "{}",
        stderr(&out)
    );
}

// ---- 9. Wording ---------------------------------------------------------------------------

#[test]
fn observations_apart_from_what_could_not_be_seen_and_repeats_merged() {
    let out = run(&["analyze", &fixture("")]);
    let text = stdout(&out);
    let observed = text
        .find("Also observed (not findings):")
        .expect("observed section");
    let unseen = text
        .find("What could not be seen or decoded, and limits:")
        .expect("unseen section");
    let tftp = text.find("the TFTP server answered 404").expect("404 note");
    assert!(
        observed < tftp && tftp < unseen,
        "the 404 is an observation"
    );
    // The undecrypted-TLS note appears once per distinct text, with its count and captures.
    let key_notes = text.matches("carried encrypted application data").count();
    assert!(key_notes <= 3, "{key_notes} copies of the same note");
    assert!(text.contains(" times; in "), "no merged note");
    assert!(!text.contains("Notes (what could not be seen or decoded)"));
}

#[test]
fn ladder_labels_are_whole_and_only_actions_are_checkboxes() {
    let cap = fixture("mra-unknown-ca-from-ucm.pcap");
    let text = stdout(&run(&["analyze", "--ladder", &cap]));
    for step in [
        "ServerKeyExchange",
        "CertificateRequest",
        "CertificateVerify",
    ] {
        assert!(text.contains(step), "text ladder hides {step}");
    }
    assert!(!text.contains("ServerKeyExc ") && !text.contains("Certif -"));
    let html = stdout(&run(&["analyze", "--format", "html", &cap]));
    assert!(
        html.contains(">CertificateRequest, ServerHelloDone</tspan>"),
        "HTML ladder cuts labels"
    );
    assert!(!html.contains('\u{2026}'));
    let md = stdout(&run(&["analyze", "--format", "markdown", &cap]));
    assert!(md.contains("- *Note:* this is needed whenever"), "{md}");
    assert!(!md.contains("- [ ] This is needed"));
    let ok = stdout(&run(&[
        "analyze",
        "--format",
        "markdown",
        "--keylog",
        &fixture("healthy-registration-tls12.keys"),
        &fixture("healthy-registration-tls12.pcap"),
    ]));
    assert!(
        !ok.contains("- [ ]"),
        "nothing to do is not a checkbox: {ok}"
    );
}

// ---- 1. README for users first --------------------------------------------------------------

#[test]
fn readme_is_for_users_first_with_install_steps() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README");
    assert!(readme.starts_with(
        "# siptriage\n\n```sh\ncargo run --release -- analyze fixtures/mra-unknown-ca-from-ucm.pcap\ncargo test --locked --workspace\n```"
    ));
    let install = readme.find("## Install").expect("an install section");
    assert!(readme[install..].contains("cargo install --locked --path ."));
    // The user part (everything before the links for contributors) stays short: captures and
    // logs analyzed, an interface watched, each told on a few screens.
    let user_part = readme.find("## More").expect("links to docs/");
    assert!(user_part < 19_500, "the user part is {user_part} bytes");
    for doc in [
        "docs/guide.md",
        "docs/json.md",
        "docs/development.md",
        "docs/fixtures.md",
        "docs/performance.md",
        "docs/fuzzing.md",
    ] {
        assert!(readme.contains(&format!("]({doc})")), "no link to {doc}");
        assert!(
            Path::new(env!("CARGO_MANIFEST_DIR")).join(doc).is_file(),
            "{doc} missing"
        );
    }
}
