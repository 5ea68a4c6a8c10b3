//! Traps: the inputs a careful reviewer builds to break a verdict, each a recorded case that
//! failed before its fix (issue "Verdicts an engineer can stake a ticket on"). A false "ok"
//! and a false headline are the worst defects there are.

mod common;

use std::path::PathBuf;

use common::{fixture, json, run};
use serde_json::Value;

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("siptriage-traps-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("dir");
    d
}

fn reasons(doc: &Value) -> String {
    doc["verdict_reasons"].to_string()
}

fn ids(doc: &Value) -> Vec<String> {
    common::finding_ids(doc)
        .into_iter()
        .map(|(id, _)| id)
        .collect()
}

/// A capture cut inside its last packet (the registration complete before the cut), a file
/// that is not there, and a text file: nothing failed, but not everything was read, so the
/// verdict is not "ok" and its reasons name each input and where reading stopped.
#[test]
fn inputs_left_unread_make_the_verdict_inconclusive_not_ok() {
    let dir = temp_dir("unread");
    let whole = std::fs::read(fixture("healthy-registration-tls12.pcap")).expect("fixture");
    let cut = dir.join("cut.pcap");
    std::fs::write(&cut, &whole[..whole.len() - 90]).expect("write");
    let notes = dir.join("notes.txt");
    std::fs::write(&notes, "call the customer back on Monday\n").expect("write");
    let missing = dir.join("missing.pcap");
    let keys = fixture("healthy-registration-tls12.keys");
    let (cut, notes, missing) = (
        cut.to_string_lossy().to_string(),
        notes.to_string_lossy().to_string(),
        missing.to_string_lossy().to_string(),
    );

    // The cut capture alone: its registration succeeded, yet its end was not read.
    let (alone, code) = json(&["--keylog", &keys, &cut]);
    assert_eq!(alone["verdict"], "inconclusive", "{}", reasons(&alone));
    assert!(
        ids(&alone).contains(&"oauth-registration-ok".to_string()),
        "the registration before the cut is still told"
    );
    assert!(
        reasons(&alone).contains("reading stopped"),
        "{}",
        reasons(&alone)
    );
    assert!(
        reasons(&alone).contains("after frame"),
        "where: {}",
        reasons(&alone)
    );
    assert_eq!(
        code, 0,
        "inconclusive fails only with --fail-on inconclusive"
    );

    let (all, _) = json(&["--keylog", &keys, &cut, &missing, &notes]);
    assert_eq!(all["verdict"], "inconclusive", "{}", reasons(&all));
    for input in [&cut, &missing, &notes] {
        assert!(
            reasons(&all).contains(input.as_str()),
            "{input}: {}",
            reasons(&all)
        );
    }
    let text = String::from_utf8_lossy(
        &run(&["analyze", "--keylog", &keys, &cut, &missing, &notes]).stdout,
    )
    .to_string();
    assert!(
        text.starts_with("Verdict: inconclusive: an input could not be read"),
        "{text}"
    );
    let strict = run(&[
        "analyze",
        "--fail-on",
        "inconclusive",
        "--keylog",
        &keys,
        &cut,
        &missing,
    ]);
    assert_eq!(strict.status.code(), Some(1));

    // A failure stays a failure, and says what it could not read.
    let (failed, _) = json(&[&fixture("oauth-port-closed.pcap"), &missing]);
    assert_eq!(failed["verdict"], "failure");
    assert!(
        reasons(&failed).contains("missing.pcap"),
        "{}",
        reasons(&failed)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Regression of the fix above: `analyze --keylog auto case/*` names the key log as an input
/// too. It holds no capture to judge, so it leaves nothing unjudged: the verdict stays ok.
/// Named without `--keylog`, the capture's TLS is what stays unjudged, and says so.
#[test]
fn a_key_log_named_as_an_input_leaves_nothing_unjudged() {
    let dir = temp_dir("keys-named");
    for ext in ["pcap", "keys"] {
        std::fs::copy(
            fixture(&format!("healthy-registration-tls12.{ext}")),
            dir.join(format!("case.{ext}")),
        )
        .expect("copy");
    }
    let cap = dir.join("case.pcap").to_string_lossy().to_string();
    let keys = dir.join("case.keys").to_string_lossy().to_string();
    let (doc, code) = json(&["--keylog", "auto", &cap, &keys]);
    assert_eq!(doc["verdict"], "ok", "{}", reasons(&doc));
    assert_eq!(code, 0);
    assert_eq!(doc["unreadable"][0]["input"], keys.as_str(), "still said");
    let (bare, _) = json(&[&cap, &keys]);
    assert_eq!(bare["verdict"], "inconclusive");
    assert!(
        reasons(&bare).contains("could not be decrypted"),
        "{}",
        reasons(&bare)
    );
    assert!(
        !reasons(&bare).contains("could not be read"),
        "{}",
        reasons(&bare)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A cluster where a few devices hit a closed port early and many more are refused with the
/// port mismatch later: the headline is the widest failure, not the earliest frame, and the
/// summary table, the findings and the headline agree.
#[test]
fn the_headline_is_the_failure_with_the_most_devices_not_the_earliest() {
    use siptriage_dev::cluster::{generate, Cluster, Fate};
    let dir = temp_dir("headline");
    let path = dir.join("cluster.pcap");
    let first_frame = |f: &Value| {
        f["evidence"]
            .as_array()
            .and_then(|e| e.iter().filter_map(|x| x["frame"].as_u64()).min())
            .unwrap_or(u64::MAX)
    };
    // The first seed whose capture holds the trap: the earliest error is a closed port, and
    // the port mismatch has more than twice its devices.
    let mut found = None;
    for seed in 1..60 {
        let spec = Cluster {
            devices: 400,
            seconds: 120,
            shares: vec![(Fate::PortMismatch, 0.3), (Fate::PortClosed, 0.03)],
            seed,
            ..Cluster::default()
        };
        let mut bytes = Vec::new();
        generate(&spec, &mut bytes).expect("generate");
        std::fs::write(&path, bytes).expect("write");
        let (doc, _) = json(&[&path.to_string_lossy()]);
        let errors: Vec<Value> = doc["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter(|f| f["severity"] == "error")
            .cloned()
            .collect();
        let devices_of = |id: &str| -> u64 {
            errors
                .iter()
                .filter(|f| f["id"] == id)
                .map(|f| f["devices"].as_u64().unwrap_or(0))
                .sum()
        };
        let earliest = errors.iter().min_by_key(|f| first_frame(f)).cloned();
        if earliest.is_some_and(|e| e["id"] == "oauth-port-closed")
            && devices_of("oauth-port-mismatch") > 2 * devices_of("oauth-port-closed")
        {
            found = Some((doc, errors));
            break;
        }
    }
    let (doc, errors) = found.expect("a seed that holds the trap");
    // The headline, the first finding and the first row of the table are the widest.
    let text =
        String::from_utf8_lossy(&run(&["analyze", &path.to_string_lossy()]).stdout).to_string();
    let verdict = text.lines().next().unwrap_or("");
    assert!(verdict.ends_with("(oauth-port-mismatch)"), "{verdict}");
    assert_eq!(errors[0]["id"], "oauth-port-mismatch");
    let table: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("id "))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    let mut order: Vec<String> = Vec::new();
    for id in ids(&doc) {
        if !order.contains(&id) {
            order.push(id);
        }
    }
    assert_eq!(table, order, "the table and the findings agree:\n{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// An intranet site on CUCM's address, with its own name but the same issuer, is another
/// service: no stale Tomcat certificate. The same name with another certificate still is one.
#[test]
fn a_web_server_beside_cucm_is_not_a_stale_tomcat_certificate() {
    let (beside, code) = json(&[
        "--keylog",
        &fixture("web-server-beside-cucm.keys"),
        &fixture("web-server-beside-cucm.pcap"),
    ]);
    assert!(
        !ids(&beside).contains(&"stale-tomcat-certificate".to_string()),
        "{:?}",
        ids(&beside)
    );
    assert_eq!(beside["verdict"], "ok", "{}", reasons(&beside));
    assert_eq!(code, 0);
    let (stale, _) = json(&[&fixture("stale-tomcat-certificate.pcap")]);
    assert_eq!(ids(&stale), vec!["stale-tomcat-certificate".to_string()]);
}

/// The same failure in two captures (one Expressway-C, the same node): two findings of one
/// kind, one device; the words say so.
#[test]
fn counts_say_findings_and_kinds_and_devices_are_counted_once() {
    let a = fixture("mra-unknown-ca-from-ucm.pcap");
    let b = fixture("mra-unknown-ca-from-ucm.pcapng");
    let text = String::from_utf8_lossy(&run(&["analyze", &a, &b]).stdout).to_string();
    assert!(
        text.starts_with("Verdict: failure: 2 error findings of 1 kind; first:"),
        "{text}"
    );
    assert!(
        text.contains("Findings: 2 error findings of 1 kind, 0 warnings, 0 info"),
        "{text}"
    );
    let row = text
        .lines()
        .find(|l| l.trim_start().starts_with("unknown-ca-from-ucm "))
        .expect("a row");
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(
        cells[2], "1",
        "one Expressway-C, however many captures: {row}"
    );
    assert_eq!(cells[3], "2", "two occurrences: {row}");
}

/// Three captures, three verdicts: each input's own verdict in JSON and in its JUnit suite,
/// and the run's over all of them; the healthy capture's suite is not marked a failure.
#[test]
fn each_capture_has_its_own_verdict_and_the_run_one_over_all() {
    let dir = temp_dir("per-capture");
    let whole = std::fs::read(fixture("healthy-registration-udp-sll2.pcap")).expect("fixture");
    let cut = dir.join("cut.pcap");
    std::fs::write(&cut, &whole[..whole.len() - 20]).expect("write");
    let cut = cut.to_string_lossy().to_string();
    let closed = fixture("oauth-port-closed.pcap");
    let healthy = fixture("healthy-registration-udp-sll2.pcap");
    let (doc, _) = json(&[&closed, &healthy, &cut]);
    assert_eq!(doc["verdict"], "failure");
    let verdicts: Vec<&str> = doc["captures"]
        .as_array()
        .expect("captures")
        .iter()
        .map(|c| c["verdict"].as_str().unwrap_or("none"))
        .collect();
    assert_eq!(verdicts, ["failure", "ok", "inconclusive"]);
    assert!(
        doc["captures"][2]["verdict_reasons"]
            .to_string()
            .contains("reading stopped"),
        "{}",
        doc["captures"][2]
    );
    assert!(doc["captures"][1].get("verdict_reasons").is_none());
    let junit = String::from_utf8_lossy(
        &run(&["analyze", "--format", "junit", &closed, &healthy, &cut]).stdout,
    )
    .to_string();
    let suite = |path: &str| -> String {
        let start = junit
            .find(&format!("<testsuite name=\"{path}\""))
            .expect("suite");
        let end = junit[start..].find("</testsuite>").expect("end") + start;
        junit[start..end].to_string()
    };
    assert!(suite(&healthy).contains(r#"name="siptriage.verdict" value="ok""#));
    assert!(suite(&healthy).contains(r#"name="siptriage.run_verdict" value="failure""#));
    assert!(suite(&closed).contains(r#"name="siptriage.verdict" value="failure""#));
    assert!(
        suite(&cut).contains("verdict inconclusive"),
        "{}",
        suite(&cut)
    );
    let text = String::from_utf8_lossy(&run(&["analyze", &closed, &healthy]).stdout).to_string();
    assert!(text.contains("Verdict of this input: ok"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Regression: a Jabber log line dated after 2262 overflowed the nanosecond clock (found by
/// fuzzing; debug builds panicked, release builds wrapped to a wrong time). Such lines are
/// refused, and the log's other records are read.
#[test]
fn a_log_dated_past_2262_is_refused_not_wrapped() {
    let dir = temp_dir("y2262");
    let mut r = siptriage_dev::logs::render(
        &fixture("oauth-port-mismatch-tls12.pcap"),
        Some(&fixture("oauth-port-mismatch-tls12.keys")),
        siptriage_dev::logs::Clock::default(),
    )
    .expect("renders");
    let log = r.jabber.take().expect("a client's log");
    let far = format!(
        "9999-12-31 23:59:59,999 DEBUG [0x1] [x] [y] [z] - a line from the far future\n{log}"
    );
    let path = dir.join("jabber.log");
    std::fs::write(&path, far).expect("write");
    let out = run(&["analyze", "--format", "json", &path.to_string_lossy()]);
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("panicked"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert!(
        ids(&doc).contains(&"oauth-port-mismatch".to_string()),
        "{doc}"
    );
    for t in doc["sip"].as_array().expect("sip") {
        assert!(t["time"].as_str().unwrap_or("").starts_with("2026-"), "{t}");
    }
    // An SDL trace whose FileHead is dated past the range: its messages are skipped, said.
    let sdl = "00000001.000 |09:15:00.000 |SdlSig    |FileHead |\n00000001.000 |09:15:00.000 |AppInfo  |FileHead UTC:+00:00,Date: 99999999999/12/31, HostIPAddress: 10.10.10.11\n";
    let path = dir.join("SDL001_100_000001.txt");
    std::fs::write(&path, sdl).expect("write");
    let out = run(&["analyze", "--format", "json", &path.to_string_lossy()]);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Renders a fixture's Jabber log, its times moved by `shift_s` seconds, with CRLF line ends as
/// Jabber writes them on Windows.
fn jabber_log(fixture_name: &str, shift_s: i64) -> String {
    let r = siptriage_dev::logs::render(
        &fixture(&format!("{fixture_name}.pcap")),
        Some(&fixture(&format!("{fixture_name}.keys"))),
        siptriage_dev::logs::Clock {
            shift_ns: shift_s * 1_000_000_000,
            ..siptriage_dev::logs::Clock::default()
        },
    )
    .expect("renders");
    r.jabber.expect("a client's log").replace('\n', "\r\n")
}

/// A zipped problem report whose older file holds a healthy registration and whose newer
/// file, `hours` later, a 403 port mismatch, both with the same Call-ID, From tag, CSeq numbers
/// and Via branches (a client that keeps its Call-ID and restarts its branch counter).
fn problem_report(dir: &std::path::Path, hours: i64) -> String {
    let old = jabber_log("healthy-registration-tls12", 0);
    let new = jabber_log("oauth-port-mismatch-tls12", hours * 3600);
    let path = dir.join(format!("PRT-{hours}h.zip"));
    let bytes = common::zip(&[
        ("jabber.log", new.as_bytes(), true),
        ("jabber.log.1", old.as_bytes(), true),
    ]);
    std::fs::write(&path, bytes).expect("write");
    path.to_string_lossy().to_string()
}

/// The false "ok": a rotated problem report reusing its Call-ID, CSeq numbers and branches two
/// hours (and two days) apart. The newer 403 is a new transaction, not a copy of the older 200:
/// the verdict is failure, the registration list holds every answer once, and the lapse
/// between the files is told as such.
#[test]
fn a_rotated_problem_report_reusing_call_id_and_branches_is_not_ok() {
    let dir = temp_dir("reuse");
    for hours in [2, 48] {
        let zip = problem_report(&dir, hours);
        let (doc, code) = json(&[&zip]);
        assert_eq!(doc["verdict"], "failure", "{hours} h: {}", reasons(&doc));
        assert_eq!(code, 1);
        assert!(
            ids(&doc).contains(&"oauth-port-mismatch".to_string()),
            "{:?}",
            ids(&doc)
        );
        let answers = doc["registrations"][0]["answers"].to_string();
        assert_eq!(answers, "[407,200,407,200,407,403]", "{hours} h");
        let lost = doc["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .find(|f| f["id"] == "registration-lost")
            .map(|f| f["explanation"].to_string())
            .unwrap_or_default();
        assert!(!lost.contains("no refresh followed"), "{lost}");
        assert!(lost.contains("the next REGISTER came"), "{lost}");
        // The newer file alone gives the same refusal.
        let text = String::from_utf8_lossy(&run(&["analyze", &zip]).stdout).to_string();
        assert!(
            text.starts_with("Verdict: failure: 1 error; first: CUCM rejected the REGISTER"),
            "{text}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Rotated files that overlap (the newer repeats the older's last records): the registration
/// and the findings are those of the whole log, each transaction once.
#[test]
fn rotated_logs_that_overlap_judge_each_transaction_once() {
    let dir = temp_dir("overlap");
    let whole = jabber_log("healthy-registration-tls12", 0);
    let lines: Vec<&str> = whole.split_inclusive('\n').collect();
    let (cut_old, cut_new) = (lines.len() * 2 / 3, lines.len() / 3);
    let split = dir.join("split");
    std::fs::create_dir_all(&split).expect("dir");
    std::fs::write(split.join("jabber.log.1"), lines[..cut_old].concat()).expect("write");
    std::fs::write(split.join("jabber.log"), lines[cut_new..].concat()).expect("write");
    let one = dir.join("jabber.log");
    std::fs::write(&one, &whole).expect("write");
    let (a, _) = json(&[&one.to_string_lossy()]);
    let (b, _) = json(&[&split.to_string_lossy()]);
    assert_eq!(a["verdict"], "ok");
    assert_eq!(b["verdict"], a["verdict"], "{}", reasons(&b));
    assert_eq!(common::finding_ids(&a), common::finding_ids(&b));
    let answers = |doc: &Value| {
        doc["registrations"]
            .as_array()
            .expect("registrations")
            .iter()
            .map(|r| {
                (
                    r["device"].to_string(),
                    r["attempts"].clone(),
                    r["answers"].to_string(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(answers(&a), answers(&b));
    // The repeated records are read once, and said.
    assert_eq!(a["summary"]["sip_messages"], b["summary"]["sip_messages"]);
    assert!(
        b["notes"]
            .to_string()
            .contains("repeated from the file before"),
        "{}",
        b["notes"]
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// One message seen in a capture and in two logs (the client's and CUCM's): each transaction
/// is judged once, with the capture's findings.
#[test]
fn one_message_in_a_capture_and_two_logs_is_judged_once() {
    let dir = temp_dir("three-places");
    let r = siptriage_dev::logs::render(
        &fixture("oauth-port-mismatch-tls12.pcap"),
        Some(&fixture("oauth-port-mismatch-tls12.keys")),
        siptriage_dev::logs::Clock::default(),
    )
    .expect("renders");
    std::fs::write(
        dir.join("jabber.log"),
        r.jabber.as_deref().expect("client log"),
    )
    .expect("write");
    let (_, sdl) = r.sdl.first().expect("a node's trace");
    std::fs::write(dir.join("SDL001_100_000001.txt"), sdl).expect("write");
    let cap = fixture("oauth-port-mismatch-tls12.pcap");
    let keys = fixture("oauth-port-mismatch-tls12.keys");
    let (alone, _) = json(&["--keylog", &keys, &cap]);
    let (all, _) = json(&["--keylog", &keys, &cap, &dir.to_string_lossy()]);
    assert_eq!(all["verdict"], "failure");
    let count = |doc: &Value, id: &str| -> u64 {
        common::finding_ids(doc)
            .into_iter()
            .filter(|(i, _)| i == id)
            .map(|(_, n)| n)
            .sum()
    };
    assert_eq!(count(&alone, "oauth-port-mismatch"), 1);
    assert_eq!(
        count(&all, "oauth-port-mismatch"),
        count(&alone, "oauth-port-mismatch"),
        "one refusal, however many places show it: {:?}",
        common::finding_ids(&all)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A cluster past the report's listing (1,000 connections and those with a finding): the
/// roles and TLS versions are counted over every connection, the total said apart from what
/// is listed; the registrations are at a glance per node, failing devices first.
#[test]
fn counts_are_over_every_connection_and_registrations_are_at_a_glance() {
    use siptriage_dev::cluster::{generate, Cluster, Fate};
    let dir = temp_dir("glance");
    let spec = Cluster {
        devices: 900,
        seconds: 300,
        shares: vec![(Fate::PortMismatch, 0.1), (Fate::PortClosed, 0.05)],
        seed: 3,
        tls: true,
        ..Cluster::default()
    };
    let path = dir.join("cluster.pcap");
    let mut bytes = Vec::new();
    let stats = generate(&spec, &mut bytes).expect("generate");
    std::fs::write(&path, bytes).expect("write");
    std::fs::write(dir.join("cluster.keys"), &stats.keylog).expect("keys");
    let p = path.to_string_lossy().to_string();
    let text =
        String::from_utf8_lossy(&run(&["analyze", "--keylog", "auto", &p]).stdout).to_string();
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("TCP connections:"))
        .expect("connections line");
    let total: u64 = line
        .split_whitespace()
        .nth(2)
        .and_then(|n| n.parse().ok())
        .expect("a total");
    assert!(line.contains("listed"), "the trap's premise: {line}");
    let roles: u64 = text
        .lines()
        .take_while(|l| !l.trim_start().starts_with("TLS versions"))
        .filter_map(|l| l.trim_start().split_once(" x "))
        .filter_map(|(n, _)| n.trim().parse::<u64>().ok())
        .sum();
    assert_eq!(roles, total, "role lines add up to the total:\n{text}");
    let versions: u64 = text
        .lines()
        .find_map(|l| l.trim_start().strip_prefix("TLS versions: "))
        .expect("versions")
        .split(", ")
        .filter_map(|v| v.rsplit_once(" x").and_then(|(_, n)| n.parse::<u64>().ok()))
        .sum();
    // Every connection that was not refused is TLS: the versions count them all, listed or
    // not.
    let (doc, _) = json(&["--keylog", "auto", &p]);
    let refused: u64 = common::finding_ids(&doc)
        .into_iter()
        .filter(|(id, _)| id == "oauth-port-closed")
        .map(|(_, n)| n)
        .sum();
    assert_eq!(
        versions,
        total - refused,
        "TLS versions over every connection:\n{text}"
    );
    let glance = text
        .lines()
        .find(|l| l.trim_start().starts_with("Registrations: "))
        .expect("a glance");
    assert!(glance.contains("900 device(s)"), "{glance}");
    assert!(glance.contains("failing (oauth-port-mismatch"), "{glance}");
    assert!(text.contains("    node 10.10.10.11:"), "per node:\n{text}");
    // The first device listed is a failing one, with its ids.
    let first = text
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("Registrations: "))
        .find(|l| l.contains(" REGISTER, answers"))
        .expect("a device");
    assert!(
        first.ends_with("oauth-port-mismatch") || first.contains("): "),
        "{first}"
    );
    let md = String::from_utf8_lossy(
        &run(&["analyze", "--format", "markdown", "--keylog", "auto", &p]).stdout,
    )
    .to_string();
    assert!(
        md.contains("| Node | Devices | Registered | Failing, by id |"),
        "{md}"
    );
    assert!(md.contains("Failing devices: "), "{md}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Logs say what they hold and no more: a CUCM SDL trace gives no port for CUCM itself (never
/// "port 0"), and is CUCM's own, so the registrar is CUCM; an Expressway log's evidence quotes
/// the line's own words beside the reading; a trust check says whose trust it judges, and why
/// "the chain verifies" and "CUCM has no CA for it" both hold.
#[test]
fn logs_say_what_they_hold_and_trust_checks_whose_trust() {
    let dir = temp_dir("log-words");
    let r = siptriage_dev::logs::render(
        &fixture("oauth-port-mismatch-tls12.pcap"),
        Some(&fixture("oauth-port-mismatch-tls12.keys")),
        siptriage_dev::logs::Clock::default(),
    )
    .expect("renders");
    let (_, sdl) = r.sdl.first().expect("a node's trace");
    let path = dir.join("SDL001_100_000001.txt");
    std::fs::write(&path, sdl).expect("write");
    let text =
        String::from_utf8_lossy(&run(&["analyze", &path.to_string_lossy()]).stdout).to_string();
    assert!(!text.contains(":0 ") && !text.contains("port 0"), "{text}");
    assert!(
        text.contains("-> cucm 10.10.10.11 (port not in the log)"),
        "{text}"
    );
    assert!(text.contains("on a port the log does not give"), "{text}");

    let r = siptriage_dev::logs::render(
        &fixture("mra-unknown-ca-from-ucm.pcap"),
        None,
        siptriage_dev::logs::Clock::default(),
    )
    .expect("renders");
    let path = dir.join("expressway.txt");
    std::fs::write(&path, &r.expressway).expect("write");
    let text =
        String::from_utf8_lossy(&run(&["analyze", &path.to_string_lossy()]).stdout).to_string();
    assert!(text.contains("(the log: Detail=\""), "{text}");
    assert!(text.contains("Common-name=\""), "{text}");

    let text = String::from_utf8_lossy(
        &run(&[
            "analyze",
            "--trust",
            &fixture("trust/both-cas.pem"),
            &fixture("mra-unknown-ca-from-ucm.pcap"),
        ])
        .stdout,
    )
    .to_string();
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("Trust check:"))
        .expect("a trust check");
    assert!(
        line.contains("Expressway-C's certificate checked against the bundle given"),
        "{line}"
    );
    assert!(line.contains("Both hold"), "{line}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Replaces every `from` with `to` (same length) in `bytes`.
fn replace_all(bytes: &mut [u8], from: &[u8], to: &[u8]) {
    let mut i = 0;
    while i + from.len() <= bytes.len() {
        if &bytes[i..i + from.len()] == from {
            bytes[i..i + from.len()].copy_from_slice(to);
            i += from.len();
        } else {
            i += 1;
        }
    }
}

/// A device that registers, then a minute later (within its expiry) registers again from a
/// new address (a laptop that moved to another network): one device, registered twice, no
/// failure and no duplicate.
#[test]
fn a_device_re_registering_from_a_new_address_is_one_healthy_device() {
    let dir = temp_dir("moved");
    let pcap = std::fs::read(fixture("healthy-registration-udp-sll2.pcap")).expect("fixture");
    let (head, records) = pcap.split_at(24);
    let mut moved = records.to_vec();
    replace_all(&mut moved, &[10, 10, 20, 51], &[10, 10, 20, 99]);
    replace_all(&mut moved, b"10.10.20.51", b"10.10.20.99");
    // The same records a minute later, within the registration's expiry.
    let mut at = 0;
    while at + 16 <= moved.len() {
        let secs = u32::from_le_bytes(moved[at..at + 4].try_into().expect("4 bytes")) + 60;
        moved[at..at + 4].copy_from_slice(&secs.to_le_bytes());
        let len = u32::from_le_bytes(moved[at + 8..at + 12].try_into().expect("4 bytes")) as usize;
        at += 16 + len;
    }
    let mut both = head.to_vec();
    both.extend_from_slice(records);
    both.extend_from_slice(&moved);
    let path = dir.join("moved.pcap");
    std::fs::write(&path, &both).expect("write");
    let (doc, code) = json(&[&path.to_string_lossy()]);
    assert_eq!(doc["verdict"], "ok", "{}", reasons(&doc));
    assert_eq!(code, 0);
    let regs = doc["registrations"].as_array().expect("registrations");
    assert_eq!(regs.len(), 1, "one device: {regs:?}");
    assert_eq!(regs[0]["answers"].to_string(), "[407,200,407,200]");
    let errors = doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["severity"] != "info")
        .count();
    assert_eq!(errors, 0, "{:?}", ids(&doc));
    let text =
        String::from_utf8_lossy(&run(&["analyze", &path.to_string_lossy()]).stdout).to_string();
    assert!(
        text.contains("Registrations: 1 device(s), 1 registered"),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `-o report.pdf` silently wrote text: an extension that names no format is an error unless
/// `--format` says which; without `-q`, stderr says where the report went.
#[test]
fn an_output_name_that_names_no_format_is_refused_and_a_written_report_is_said() {
    let dir = temp_dir("output");
    let pdf = dir.join("report.pdf").to_string_lossy().to_string();
    let cap = fixture("oauth-port-closed.pcap");
    let out = run(&["analyze", "-o", &pdf, &cap]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot tell the report's format from the extension .pdf"),
        "{err}"
    );
    assert!(!std::path::Path::new(&pdf).exists(), "nothing written");
    let out = run(&["analyze", "--format", "markdown", "-o", &pdf, &cap]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("markdown report written to {pdf}")),
        "{err}"
    );
    let quiet = run(&["analyze", "-q", "--format", "markdown", "-o", &pdf, &cap]);
    assert!(
        quiet.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&quiet.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
