//! Logs as evidence: the real Expressway log of the shared corpus, and every recorded capture's
//! SIP rendered into the Jabber, CUCM SDL and Expressway layouts (`siptriage_dev::logs`, the
//! `render-logs` command): the log alone gives the capture's SIP findings, citing `file:line`
//! lines that hold the messages, with the capture's times whatever the log's time zone.

mod common;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::Value;
use siptriage_dev::logs::{render, Clock};

/// Findings whose evidence is SIP alone: a log must give exactly what the capture gives.
const EXACT: &[&str] = &[
    "oauth-port-mismatch",
    "bearer-token-rejected",
    "duplicate-registration",
    "registration-rejected",
    "registration-unanswered",
    "registration-lost",
    "oauth-registration-ok",
];

/// Findings that rest on the TLS handshake (alerts, certificates): a log of SIP cannot give
/// them, and a capture without keys shows them as far as it can alone.
const HANDSHAKE: &[&str] = &[
    "tls13-handshake-aborted",
    "unknown-ca-from-expressway",
    "unknown-ca-from-ucm",
    "tls-alert",
    "certificate-expired",
    "certificate-name-mismatch",
    "certificate-rejected-by-client",
    "certificate-rejected-by-expressway",
    "certificate-rejected-by-ucm",
    "client-rejects-ucm-certificate",
    "expressway-cert-no-client-auth",
    "tls-version-or-cipher-mismatch",
    "tls-aborted-without-alert",
    "stale-tomcat-certificate",
];

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("siptriage-logs-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

fn analyze(paths: &[&str]) -> Value {
    common::json(paths).0
}

/// Occurrences per id, over every node.
fn by_id(doc: &Value) -> BTreeMap<String, u64> {
    let mut m = BTreeMap::new();
    for f in doc["findings"].as_array().expect("findings") {
        *m.entry(f["id"].as_str().unwrap_or("").to_string())
            .or_default() += f["occurrences"].as_u64().unwrap_or(0);
    }
    m
}

/// Every evidence line of a log's findings holds the start of a SIP message record (or the TLS
/// failure or device configuration it rests on).
fn evidence_lines_hold_messages(doc: &Value, file: &Path) {
    let text = std::fs::read_to_string(file).expect("log");
    let lines: Vec<&str> = text.lines().collect();
    for f in doc["findings"].as_array().expect("findings") {
        for e in f["evidence"].as_array().expect("evidence") {
            let line = e["line"]
                .as_u64()
                .unwrap_or_else(|| panic!("no line in {e}")) as usize;
            assert_eq!(
                e["file"].as_str(),
                Some(file.to_string_lossy().as_ref()),
                "{e}"
            );
            let at = lines[line - 1];
            let next = lines.get(line).copied().unwrap_or("");
            assert!(
                at.contains("sipio-")
                    || at.contains("SIP TCP message")
                    || at.contains("SIP UDP message")
                    || (at.contains("Module=\"network.sip\"") && next.trim() == "SIPMSG:")
                    || at.contains("TLS Negotiation Error")
                    || at.contains("Device Config:"),
                "{}:{line} does not start a SIP message, a TLS failure or a configuration: {at}",
                file.display()
            );
        }
    }
}

#[test]
fn every_recorded_scenario_rendered_into_each_log_layout_gives_its_sip_findings() {
    let dir = temp_dir("render");
    let mut checked = 0;
    for (name, path, keys) in common::fixture_captures() {
        let r = render(&path, keys.as_deref(), Clock::default()).expect("renders");
        if r.messages == 0 && r.tls_failures == 0 {
            continue;
        }
        let mut args = vec![path.as_str()];
        if let Some(k) = &keys {
            args.extend(["--keylog", k.as_str()]);
        }
        let with_keys = analyze(&args);
        let want = by_id(&with_keys);
        let verdict = with_keys["verdict"].clone();
        let here = dir.join(name.replace('.', "_"));
        std::fs::create_dir_all(&here).expect("dir");
        // One file per layout; SDL: one trace per node, judged together.
        let mut layouts: Vec<(&str, Vec<PathBuf>)> = Vec::new();
        if let Some(j) = &r.jabber {
            let p = here.join("jabber.log");
            std::fs::write(&p, j).expect("write");
            layouts.push(("jabber", vec![p]));
        }
        let mut sdl = Vec::new();
        for (i, (_, t)) in r.sdl.iter().enumerate() {
            let p = here.join(format!("SDL00{}_100_000001.txt", i + 1));
            std::fs::write(&p, t).expect("write");
            sdl.push(p);
        }
        layouts.push(("sdl", sdl));
        let p = here.join("expressway.txt");
        std::fs::write(&p, &r.expressway).expect("write");
        layouts.push(("expressway", vec![p]));
        for (layout, files) in layouts {
            let mut got: BTreeMap<String, u64> = BTreeMap::new();
            let mut sip = 0;
            for f in &files {
                let doc = analyze(&[&f.to_string_lossy()]);
                sip += doc["summary"]["sip_messages"].as_u64().unwrap_or(0);
                for (id, n) in by_id(&doc) {
                    *got.entry(id).or_default() += n;
                }
                evidence_lines_hold_messages(&doc, f);
            }
            assert_eq!(
                sip as usize, r.messages,
                "{name} as {layout}: every message read once"
            );
            // The device configuration is in the Jabber log; Expressway-C's failed handshakes
            // to CUCM are in its log.
            let also: &[&str] = match layout {
                "jabber" => &["legacy-port-instead-of-oauth"],
                "expressway" => &["unknown-ca-from-expressway", "unknown-ca-from-ucm"],
                _ => &[],
            };
            for id in also {
                assert_eq!(got.get(*id), want.get(*id), "{name} as {layout}: {id}");
            }
            // The capture without its keys and the log together give what the capture with its
            // keys gives: no finding twice, none lost.
            {
                let mut args = vec![path.clone()];
                args.extend(files.iter().map(|f| f.to_string_lossy().to_string()));
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                let doc = analyze(&args);
                // Every finding: the log's SIP stands in for the records no key opens, so
                // connection facts and SIP are judged together as with the keys. What only
                // the TLS handshake's encrypted part shows stays as the capture alone shows it
                // (an Expressway log gives Expressway's own failed handshakes).
                let alone = by_id(&analyze(&[&path]));
                let mut expected = BTreeMap::new();
                for id in want.keys().chain(alone.keys()) {
                    let from = if HANDSHAKE.contains(&id.as_str())
                        && !(layout == "expressway" && id.starts_with("unknown-ca"))
                    {
                        &alone
                    } else {
                        &want
                    };
                    if let Some(n) = from.get(id) {
                        expected.insert(id.clone(), *n);
                    }
                }
                assert_eq!(
                    by_id(&doc),
                    expected,
                    "{name} without keys, with its {layout} log"
                );
                if expected == want {
                    assert_eq!(
                        doc["verdict"], verdict,
                        "{name} without keys, with its {layout} log"
                    );
                }
            }
            for (id, n) in &got {
                let w = want.get(id).copied().unwrap_or(0);
                assert!(
                    *n <= w,
                    "{name} as {layout}: {id} {n} times, the capture {w}"
                );
            }
            for id in EXACT {
                assert_eq!(
                    got.get(*id),
                    want.get(*id),
                    "{name} as {layout}: {id}: {got:?} vs the capture's {want:?}"
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 60, "{checked} logs checked");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The times of a report's SIP listing.
fn sip_times(doc: &Value) -> Vec<String> {
    doc["sip"]
        .as_array()
        .expect("sip")
        .iter()
        .map(|m| m["time"].as_str().unwrap_or("").to_string())
        .collect()
}

#[test]
fn logs_in_another_zone_across_midnight_compressed_or_zipped_keep_the_capture_times() {
    let dir = temp_dir("clock");
    let path = common::fixture("oauth-port-mismatch-tls12.pcap");
    let keys = common::fixture("oauth-port-mismatch-tls12.keys");
    let capture = analyze(&[&path, "--keylog", &keys]);
    let times = sip_times(&capture);
    assert_eq!(times.len(), 4);
    // The capture is at 09:15:00 UTC; the client and CUCM at UTC-05:00 see 04:15. Moved back
    // by 4 h 15 min and 50 ms, the messages straddle local midnight.
    let shift_ns = -((4 * 3600 + 15 * 60) * 1_000_000_000 + 50_000_000);
    let r = render(
        &path,
        Some(&keys),
        Clock {
            zone_minutes: -300,
            shift_ns,
        },
    )
    .expect("renders");
    let shifted: Vec<String> = capture["sip"]
        .as_array()
        .expect("sip")
        .iter()
        .map(|m| {
            let t = m["time"].as_str().unwrap_or("");
            let secs: f64 = t[17..26].parse().unwrap_or(0.0);
            let mins: i64 = t[14..16].parse().unwrap_or(0);
            let hours: i64 = t[11..13].parse().unwrap_or(0);
            let ns = ((hours * 3600 + mins * 60) as f64 + secs) * 1e9;
            let ns = ns as i64 + shift_ns;
            format!(
                "{}{:02}:{:02}:{:09.6}Z",
                &t[..11],
                ns / 3_600_000_000_000,
                ns / 60_000_000_000 % 60,
                (ns % 60_000_000_000) as f64 / 1e9
            )
        })
        .collect();
    // SDL gzipped (RTMT collects .txt.gz), in a folder tree as RTMT writes it.
    let (_, sdl) = &r.sdl[0];
    let tree = dir.join("cucm1/cm/trace/ccm/sdl");
    std::fs::create_dir_all(&tree).expect("tree");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(sdl.as_bytes()).expect("gzip");
    std::fs::write(
        tree.join("SDL001_100_000001.txt.gz"),
        gz.finish().expect("gzip"),
    )
    .expect("write");
    assert!(
        sdl.lines().any(|l| l.contains("|23:59:59.")),
        "the SDL crosses midnight"
    );
    assert!(
        sdl.lines().any(|l| l.contains("|00:00:00.")),
        "the SDL crosses midnight"
    );
    // The Jabber log inside a problem report zip, with other files.
    let prt = dir.join("prt.zip");
    let mut z = zip::ZipWriter::new(std::fs::File::create(&prt).expect("zip"));
    let opts = zip::write::SimpleFileOptions::default();
    z.start_file("Jabber/Logs/jabber.log", opts)
        .expect("member");
    z.write_all(r.jabber.as_deref().expect("a client's log").as_bytes())
        .expect("write");
    z.start_file("Jabber/Logs/PRTInfo.txt", opts)
        .expect("member");
    z.write_all(b"Problem report\n").expect("write");
    z.finish().expect("zip");
    let xway = dir.join("diagnostic_log.txt");
    std::fs::write(&xway, &r.expressway).expect("write");
    for input in [dir.join("cucm1"), prt.clone(), xway.clone()] {
        let doc = analyze(&[&input.to_string_lossy()]);
        assert_eq!(
            by_id(&doc).get("oauth-port-mismatch"),
            Some(&1),
            "{}",
            input.display()
        );
        let got = sip_times(&doc);
        let want: Vec<String> = shifted.iter().map(|t| t[..23].to_string()).collect();
        let got: Vec<String> = got.iter().map(|t| t[..23].to_string()).collect();
        assert_eq!(got, want, "{}: times in UTC", input.display());
        let notes = doc["notes"].to_string();
        assert!(
            notes.contains(" record(s), 4 SIP message(s); times are "),
            "{notes}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_real_expressway_log_gives_its_six_messages_once_each() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpus/logs/expressway-e-mra-small.txt");
    if !path.exists() {
        eprintln!("skipped: {} is not here", path.display());
        return;
    }
    let doc = analyze(&[&path.to_string_lossy()]);
    assert_eq!(doc["summary"]["sip_messages"], 6, "{}", doc["notes"]);
    assert_eq!(doc["captures"][0]["format"], "Expressway diagnostic log");
    let notes = doc["notes"].to_string();
    assert!(
        notes.contains("6 SIP message(s) were logged twice"),
        "{notes}"
    );
    assert!(
        notes.contains("of other modules or products were skipped"),
        "{notes}"
    );
    assert!(doc["findings"].as_array().expect("findings").is_empty());
    // No registration: nothing can be said to succeed or fail.
    assert_eq!(doc["verdict"], "inconclusive");
    let text = std::fs::read_to_string(&path).expect("log");
    let lines: Vec<&str> = text.lines().collect();
    let mut starts = Vec::new();
    for m in doc["sip"].as_array().expect("sip") {
        let line = m["frame"].as_u64().expect("line") as usize;
        assert_eq!(m["file"].as_str(), Some(path.to_string_lossy().as_ref()));
        assert!(
            lines[line - 1].contains("Module=\"network.sip\" Level=\"DEBUG\""),
            "{}",
            lines[line - 1]
        );
        assert_eq!(lines[line].trim(), "SIPMSG:");
        starts.push(m["method"].as_str().unwrap_or("").to_string() + &m["status"].to_string());
    }
    starts.sort();
    assert_eq!(
        starts,
        [
            "INVITE100",
            "INVITE100",
            "INVITE100",
            "INVITEnull",
            "INVITEnull",
            "INVITEnull"
        ]
    );
}

#[test]
fn a_file_that_is_neither_capture_nor_log_says_so_and_junk_in_a_log_is_read_past() {
    let dir = temp_dir("junk");
    let other = dir.join("notes.txt");
    std::fs::write(&other, "just some text\nnothing to see\n").expect("write");
    let out = common::run(&["analyze", &other.to_string_lossy()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("notes.txt"), "{err}");
    // A log on standard input is named, and the way to give it said.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_siptriage"))
        .args(["analyze", "-"])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    let r = render(
        &common::fixture("oauth-port-mismatch-clear-tcp.pcap"),
        None,
        Clock::default(),
    )
    .expect("renders");
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(r.jabber.expect("log").as_bytes());
    }
    let out = child.wait_with_output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("it is a Jabber log") && err.contains("give its path"),
        "{err}"
    );
    // Binary junk and another product's lines inside a Jabber log, and a record cut at the end.
    let path = common::fixture("oauth-port-mismatch-tls12.pcap");
    let keys = common::fixture("oauth-port-mismatch-tls12.keys");
    let r = render(&path, Some(&keys), Clock::default()).expect("renders");
    let j = r.jabber.expect("log");
    let mut bytes = Vec::new();
    bytes.extend_from_slice(b"\x00\x01\xff\xfe garbage \x00\n");
    bytes.extend_from_slice(j.as_bytes());
    bytes.extend_from_slice(b"\xff\xfe\x00junk between records\n");
    let log = dir.join("jabber.log");
    std::fs::write(&log, &bytes).expect("write");
    let doc = analyze(&[&log.to_string_lossy()]);
    assert_eq!(
        by_id(&doc).get("oauth-port-mismatch"),
        Some(&1),
        "{}",
        doc["notes"]
    );
    assert!(
        doc["notes"].to_string().contains("not text"),
        "{}",
        doc["notes"]
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Renders `fixture`'s SIP (read with its key log) into `dir`.
fn rendered(fixture: &str, dir: &Path, clock: Clock) -> siptriage_dev::logs::Rendered {
    let path = common::fixture(&format!("{fixture}.pcap"));
    let keys = common::fixture(&format!("{fixture}.keys"));
    let r = render(&path, Some(&keys), clock).expect("renders");
    std::fs::write(
        dir.join("jabber.log"),
        r.jabber.as_deref().expect("a client's log"),
    )
    .expect("write");
    r
}

#[test]
fn a_capture_without_keys_and_the_jabber_log_diagnose_as_the_capture_with_keys() {
    let dir = temp_dir("timeline");
    let log = dir.join("jabber.log");
    let log = log.to_string_lossy().to_string();
    for (fixture, verdict, id) in [
        (
            "oauth-port-mismatch-tls12",
            "failure",
            "oauth-port-mismatch",
        ),
        ("healthy-registration-tls12", "ok", "oauth-registration-ok"),
    ] {
        rendered(fixture, &dir, Clock::default());
        let pcap = common::fixture(&format!("{fixture}.pcap"));
        let keys = common::fixture(&format!("{fixture}.keys"));
        let alone = analyze(&[&pcap]);
        assert_eq!(alone["verdict"], "inconclusive", "{fixture} without keys");
        let with_keys = analyze(&[&pcap, "--keylog", &keys]);
        let both = analyze(&[&pcap, &log]);
        assert_eq!(
            both["verdict"], verdict,
            "{fixture}: {}",
            both["verdict_reasons"]
        );
        assert_eq!(by_id(&both), by_id(&with_keys), "{fixture}");
        // The log's SIP stood for the records no key opened: the evidence cites the
        // capture's frames, as with the keys, and the log's lines.
        let cited = |doc: &Value| -> Vec<Value> {
            doc["findings"]
                .as_array()
                .expect("findings")
                .iter()
                .filter(|f| f["id"] == id)
                .flat_map(|f| f["evidence"].as_array().cloned().unwrap_or_default())
                .collect()
        };
        let ev = cited(&both);
        for e in cited(&with_keys) {
            assert!(
                ev.iter().any(|x| x["frame"] == e["frame"]),
                "{fixture}: {e} not in {ev:?}"
            );
        }
        assert!(
            ev.iter().any(|e| e["file"] == log.as_str()),
            "{fixture}: {ev:?}"
        );
        let status = both["connections"][0]["tls"]["decryption"]
            .as_str()
            .unwrap_or("");
        assert!(status.starts_with("read from a log"), "{status}");
        let notes = both["notes"].to_string();
        assert!(
            !notes.contains("cannot be read without the session keys"),
            "{notes}"
        );
        // The ladder draws the SIP at its frames.
        let out = common::run(&["analyze", &pcap, &log, "--ladder"]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("|--------------- SIP REGISTER --------------->|"),
            "{text}"
        );
        // A log whose clock is a minute off still stands for the records: the capture saw the
        // connection open, so its first client record is the first message the client logged
        // on it, and that pair sets the offset.
        rendered(
            fixture,
            &dir,
            Clock {
                shift_ns: 60_000_000_000,
                ..Clock::default()
            },
        );
        let both = analyze(&[&pcap, &log]);
        assert_eq!(by_id(&both), by_id(&with_keys), "{fixture}, a minute off");
        let status = both["connections"][0]["tls"]["decryption"]
            .as_str()
            .unwrap_or("");
        assert!(status.starts_with("read from a log"), "{fixture}: {status}");
        // A capture that starts after the handshake, with that log: the offset cannot be set,
        // the records are not stood for; the connection is still read through the log by
        // addresses and ports, its findings cite the connection's first frame, and the ladder
        // draws the log's SIP.
        let frames = siptriage_dev::live::frames_of(&pcap).expect("frames");
        let mid: Vec<(i64, Vec<u8>)> = frames
            .iter()
            .skip(11)
            .map(|(t, _, f)| (t / 1000, f.clone()))
            .collect();
        let mid_path = dir.join("mid.pcap");
        std::fs::write(&mid_path, siptriage_dev::framer::pcap(1, &mid)).expect("write");
        let mid_path = mid_path.to_string_lossy().to_string();
        let both = analyze(&[&mid_path, &log]);
        assert_eq!(
            both["verdict"], verdict,
            "{fixture}: {}",
            both["verdict_reasons"]
        );
        let ev = cited(&both);
        let first = both["connections"][0]["first_frame"].clone();
        assert!(ev.iter().any(|e| e["frame"] == first), "{fixture}: {ev:?}");
        assert!(
            ev.iter().any(|e| e["file"] == log.as_str()),
            "{fixture}: {ev:?}"
        );
        let notes = both["notes"].to_string();
        assert!(notes.contains("read through the logs"), "{notes}");
        let out = common::run(&["analyze", &mid_path, &log, "--ladder"]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("(log)") && text.contains("jabber.log:"),
            "{fixture}: {text}"
        );
        let html = dir.join("both.html");
        let out = common::run(&["analyze", &mid_path, &log, "-o", &html.to_string_lossy()]);
        assert!(out.status.code().is_some_and(|c| c < 2));
        let page = std::fs::read_to_string(&html).expect("html");
        assert!(
            page.contains(">jabber.log:"),
            "{fixture}: the ladder cites the log"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_message_in_the_capture_and_in_the_log_is_one_message_with_two_places_and_the_offset_is_told() {
    let dir = temp_dir("offset");
    let log = dir.join("jabber.log").to_string_lossy().to_string();
    // The client's clock runs 2.5 s fast, in UTC-05:00.
    rendered(
        "oauth-port-mismatch-tls12",
        &dir,
        Clock {
            zone_minutes: -300,
            shift_ns: 2_500_000_000,
        },
    );
    let pcap = common::fixture("oauth-port-mismatch-tls12.pcap");
    let keys = common::fixture("oauth-port-mismatch-tls12.keys");
    let alone = analyze(&[&pcap, "--keylog", &keys]);
    let both = analyze(&[&pcap, "--keylog", &keys, &log]);
    // Listed once, from the capture, each with its line in the log.
    let sip = both["sip"].as_array().expect("sip");
    assert_eq!(sip.len(), alone["sip"].as_array().expect("sip").len());
    for m in sip {
        let also = m["also"]
            .as_str()
            .unwrap_or_else(|| panic!("no log place: {m}"));
        assert!(also.starts_with(&format!("{log}:")), "{also}");
    }
    // One finding, both places.
    assert_eq!(by_id(&both), by_id(&alone));
    let ev = both["findings"][0]["evidence"]
        .as_array()
        .expect("evidence");
    assert!(ev.iter().any(|e| e["frame"].is_u64()));
    assert!(ev.iter().any(|e| e["file"] == log.as_str()));
    let notes = both["notes"].to_string();
    assert!(
        notes.contains("4 SIP message(s) are also in the capture")
            && (notes.contains("its clock is 2.50") || notes.contains("its clock is 2.49"))
            && notes.contains("ahead of the capture's"),
        "{notes}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn rotated_jabber_logs_out_of_order_are_one_log_read_oldest_first() {
    let dir = temp_dir("rotated");
    let r = rendered("oauth-port-mismatch-tls12", &dir, Clock::default());
    let whole = r.jabber.expect("log");
    std::fs::remove_file(dir.join("jabber.log")).expect("rm");
    // Cut at record starts into three files: the oldest is jabber.log.2, the newest jabber.log.
    let lines: Vec<&str> = whole.lines().collect();
    let starts: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].contains("sipio-"))
        .collect();
    let (a, b) = (starts[1], starts[3]);
    let parts = [
        ("jabber.log.2", &lines[..a]),
        ("jabber.log.1", &lines[a..b]),
        ("jabber.log", &lines[b..]),
    ];
    for (name, part) in &parts {
        std::fs::write(dir.join(name), part.join("\n") + "\n").expect("write");
    }
    let folder = dir.to_string_lossy().to_string();
    let named: Vec<String> = ["jabber.log", "jabber.log.2", "jabber.log.1"]
        .iter()
        .map(|n| dir.join(n).to_string_lossy().to_string())
        .collect();
    let named: Vec<&str> = named.iter().map(String::as_str).collect();
    for args in [vec![folder.as_str()], named] {
        let doc = analyze(&args);
        assert_eq!(
            doc["captures"].as_array().map(Vec::len),
            Some(1),
            "one log: {args:?}"
        );
        assert_eq!(by_id(&doc).get("oauth-port-mismatch"), Some(&1), "{args:?}");
        let notes = doc["notes"].to_string();
        assert!(notes.contains("3 files read oldest first"), "{notes}");
        // The 403 is the last message: in the newest file; the REGISTER it answers in the
        // middle one.
        let ev = doc["findings"][0]["evidence"].as_array().expect("evidence");
        let files: Vec<String> = ev
            .iter()
            .map(|e| {
                e["file"]
                    .as_str()
                    .unwrap_or("")
                    .rsplit('/')
                    .next()
                    .unwrap_or("")
                    .to_string()
            })
            .collect();
        assert_eq!(files, ["jabber.log.1", "jabber.log"], "{ev:?}");
        for e in ev {
            let text = std::fs::read_to_string(e["file"].as_str().expect("file")).expect("read");
            let line = text
                .lines()
                .nth(e["line"].as_u64().expect("line") as usize - 1);
            assert!(line.is_some_and(|l| l.contains("sipio-")), "{e}: {line:?}");
        }
        // Every message once, in time order across the three files.
        let times = sip_times(&doc);
        assert_eq!(times.len(), 4, "{times:?}");
        assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn ports_the_client_prints_name_roles_and_a_record_cut_by_rotation_is_not_judged() {
    let dir = temp_dir("ports");
    let r = rendered("oauth-port-mismatch-tls12", &dir, Clock::default());
    // The node's SIP Phone OAuth port is 15090: only the client's ccm properties line says so.
    let moved = r.jabber.expect("log").replace(":5090", ":15090").replace(
        "sip_oauth_port_0=5090 sip_oauth_port_1=5090 sip_oauth_port_2=5090",
        "sip_oauth_port_0=15090 sip_oauth_port_1=15090 sip_oauth_port_2=15090",
    );
    // The log rotated in the middle of a REGISTER: its last record has no Content-Length.
    let cut = "2026-03-02 11:15:01,000 DEBUG [0x00000e2c] [\\sipcc\\core\\sipstack\\ccsip_debug.c(1041)] [csf.sip-call-control] [platform_print_sip_msg] - sipio-sent---> REGISTER sip:10.10.10.11 SIP/2.0\nVia: SIP/2.0/TLS 10.10.20.51:52001;branch=z9hG4bKcut\nCSeq: 103 REGISTER\n";
    let log = dir.join("jabber.log");
    std::fs::write(&log, moved.clone() + cut).expect("write");
    let doc = analyze(&[&log.to_string_lossy()]);
    let f = &doc["findings"][0];
    assert_eq!(f["id"], "oauth-port-mismatch");
    let text = f["explanation"].as_str().unwrap_or("");
    assert!(
        text.contains("on port 15090 (SIP Phone OAuth port)"),
        "{text}"
    );
    assert_eq!(
        doc["summary"]["sip_messages"], 4,
        "the cut REGISTER is not judged"
    );
    assert!(
        doc["notes"]
            .to_string()
            .contains("is cut (the log rotated there)"),
        "{}",
        doc["notes"]
    );
    // Without the properties line the port is nobody's.
    let bare: String = moved
        .lines()
        .filter(|l| !l.contains("config_process_ccm_properties"))
        .map(|l| l.to_string() + "\n")
        .collect();
    std::fs::write(&log, bare).expect("write");
    let doc = analyze(&[&log.to_string_lossy()]);
    let text = doc["findings"][0]["explanation"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(!text.contains("(SIP Phone OAuth port)"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A tar archive of `(name, bytes)`, gzipped, as Expressway's diagnostic logging downloads.
fn tar_gz(members: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut tar = Vec::new();
    for (name, data) in members {
        let mut h = [0u8; 512];
        h[..name.len()].copy_from_slice(name.as_bytes());
        h[100..107].copy_from_slice(b"0000644");
        h[124..135].copy_from_slice(format!("{:011o}", data.len()).as_bytes());
        h[136..147].copy_from_slice(b"00000000000");
        h[156] = b'0';
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        h[148..156].copy_from_slice(b"        ");
        let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
        h[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
        tar.extend_from_slice(&h);
        tar.extend_from_slice(data);
        tar.resize(tar.len().div_ceil(512) * 512, 0);
    }
    tar.extend([0u8; 1024]);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&tar).expect("gzip");
    gz.finish().expect("gzip")
}

#[test]
fn an_expressway_diagnostic_download_is_opened_with_its_logs_and_captures() {
    let dir = temp_dir("tar");
    let r = render(
        &common::fixture("mra-unknown-ca-from-expressway.pcap"),
        None,
        Clock::default(),
    )
    .expect("renders");
    assert!(r.tls_failures > 0);
    let pcap = std::fs::read(common::fixture("oauth-port-mismatch-clear-tcp.pcap")).expect("pcap");
    let archive = dir.join("diagnostic_log_expc1_2026-03-02_09-15-00.tar.gz");
    std::fs::write(
        &archive,
        tar_gz(&[
            (
                "loggingsnapshot_expc1_2026-03-02_09-15-00.txt",
                r.expressway.into_bytes(),
            ),
            ("diagnostic_log_expc1_tcpdump.pcap", pcap),
            ("README.txt", b"Expressway diagnostic log\n".to_vec()),
        ]),
    )
    .expect("write");
    let doc = analyze(&[&archive.to_string_lossy()]);
    let formats = common::capture_formats(&doc);
    assert_eq!(
        formats,
        ["pcap", "Expressway diagnostic log"],
        "{}",
        doc["notes"]
    );
    let ids = by_id(&doc);
    assert_eq!(ids.get("oauth-port-mismatch"), Some(&1), "{ids:?}");
    assert!(ids.contains_key("unknown-ca-from-expressway"), "{ids:?}");
    let out = common::run(&["analyze", &archive.to_string_lossy()]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("README.txt"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn redaction_reaches_the_addresses_and_hosts_only_a_log_event_names() {
    let dir = temp_dir("redact");
    let sdl = dir.join("SDL001_100_000001.txt");
    std::fs::write(&sdl, "28131994.000 |21:53:46.259 |FileHead |UTC:-05:00,Date: 2024/08/12, HostIPAddress: 10.207.166.103, TraceVer: 3.0
04530218.000 |21:59:21.323 |SdlSig   | SIPCertificateInd |wait |SIPHandler(1,100,72,1) |SIPTcp(1,100,64,1) |1,100,17,11.3^*^* |[T:N-H:0,N:1,L:0,V:0,Z:0,D:0] connIdx= 12 --remoteIP= 10.106.95.200 --remotePort = 5061 -- X509SubjectName /C=IN/ST=cisco/L=cisco/O=cisco/OU=cisco/CN=expc1.example.com --Cipher AES128-SHA --SubjectAltname =
").expect("write");
    let r = rendered("oauth-port-mismatch-tls12", &dir, Clock::default());
    assert!(r.messages > 0);
    let jabber = dir.join("jabber.log").to_string_lossy().to_string();
    for fmt in ["text", "json", "jsonl", "markdown", "html", "junit"] {
        let out = common::run(&[
            "analyze",
            "--redact",
            "all",
            "--format",
            fmt,
            &sdl.to_string_lossy(),
            &jabber,
        ]);
        let text = String::from_utf8_lossy(&out.stdout);
        // (JUnit carries findings, not notes.)
        assert!(
            fmt == "junit" || text.contains("CUCM accepted the certificate"),
            "{fmt}: {text}"
        );
        for secret in [
            "10.106.95.200",
            "expc1.example.com",
            "10.10.20.51",
            "CSFrado",
            "10.10.10.11",
        ] {
            assert!(!text.contains(secret), "{fmt}: {secret} in {text}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Logs written on Windows (Jabber's problem reports) end their lines with CRLF: each layout
/// read with CRLF gives what it gives with LF, the same findings, devices and cited lines.
#[test]
fn crlf_logs_from_windows_read_as_lf_ones() {
    let dir = temp_dir("crlf");
    let path = common::fixture("oauth-port-mismatch-tls12.pcap");
    let keys = common::fixture("oauth-port-mismatch-tls12.keys");
    let r = render(&path, Some(&keys), Clock::default()).expect("renders");
    let (_, sdl) = r.sdl.first().expect("a CUCM node's trace");
    let layouts = [
        ("jabber.log", r.jabber.as_deref().expect("a client's log")),
        ("SDL001_100_10.10.10.11.txt", sdl.as_str()),
        ("expressway.txt", r.expressway.as_str()),
    ];
    for (name, text) in layouts {
        let lf = dir.join(format!("lf-{name}"));
        let crlf = dir.join(format!("crlf-{name}"));
        std::fs::write(&lf, text).expect("write");
        std::fs::write(&crlf, text.replace('\n', "\r\n")).expect("write");
        let a = analyze(&[&lf.to_string_lossy()]);
        let b = analyze(&[&crlf.to_string_lossy()]);
        assert!(!by_id(&a).is_empty(), "{name}: the LF log gives findings");
        assert_eq!(by_id(&a), by_id(&b), "{name}");
        assert_eq!(a["verdict"], b["verdict"], "{name}");
        let lines = |doc: &Value| -> String {
            doc["findings"]
                .to_string()
                .replace("crlf-", "")
                .replace("lf-", "")
        };
        assert_eq!(
            lines(&a),
            lines(&b),
            "{name}: the same findings, lines and words"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
