//! The live sensor (`siptriage watch`): recorded captures replayed through the live path give
//! the findings `analyze` gives, told once and then updated; a stop by signal leaves whole
//! files; and, as root, the sensor on the loopback interface while real traffic crosses it
//! (recorded fixtures injected onto `lo` with their addresses moved into 127.0.0.0/8, and real
//! TLS between rustls peers), its events and its metrics scraped over HTTP.

mod common;

use common::events::{analyzed, final_standing, lines};

use std::collections::BTreeMap;
use std::io::{BufRead, Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use siptriage::config::Config;
use siptriage::report::redact::Redaction;
use siptriage::watch::{self, rotate, Options};

/// A writer the test can read back.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Replays `path` through the live path as fast as it goes; returns the events and the
/// report.
fn replay(path: &str, keys: Option<&str>, every: Duration) -> (Vec<Value>, watch::Watched) {
    replay_with(
        path,
        Setup {
            keys,
            every,
            ..Setup::default()
        },
    )
}

/// How a replay runs.
#[derive(Default)]
struct Setup<'a> {
    /// A key log given whole, as `analyze --keylog` takes it.
    keys: Option<&'a str>,
    every: Duration,
    redaction: Redaction,
    metrics: Option<Arc<watch::metrics::Metrics>>,
    /// Key logs followed as they grow.
    follow: Vec<std::path::PathBuf>,
    /// `--max-held-bytes`.
    held: Option<usize>,
}

fn replay_with(path: &str, setup: Setup<'_>) -> (Vec<Value>, watch::Watched) {
    let Setup {
        keys,
        every,
        redaction,
        metrics,
        follow,
        held,
    } = setup;
    let mut cfg = Config::default();
    if let Some(k) = keys {
        cfg.secrets
            .keylog
            .add_text(k, &std::fs::read_to_string(k).expect("keys"));
    }
    if let Some(h) = held {
        cfg.limits.hold_back_bytes = h;
    }
    let buf = Shared::default();
    let opts = Options {
        keylogs: follow,
        update_every: every,
        ..Options::replay(path)
    };
    let stop = AtomicBool::new(false);
    let w = watch::run(
        &opts,
        &cfg,
        redaction,
        Box::new(rotate::Plain(buf.clone())),
        metrics,
        &stop,
        &mut |_| {},
    )
    .expect("the replay starts");
    let text = String::from_utf8(buf.0.lock().expect("lock").clone()).expect("UTF-8");
    (lines(&text), w)
}

#[test]
fn every_fixture_replayed_through_the_live_path_gives_what_analyze_gives() {
    let all = common::fixture_captures();
    assert!(all.len() > 30, "{all:?}");
    for (name, path, keys) in all {
        let keys = keys.as_deref();
        let (events, watched) = replay(&path, keys, Duration::from_secs(10));
        let (doc, want) = analyzed(&path, keys);
        assert_eq!(final_standing(&events), want, "{name}: findings");
        let summary = events.last().expect("events");
        assert_eq!(summary["type"], "summary", "{name}");
        assert_eq!(
            summary["data"]["verdict"], doc["verdict"],
            "{name}: verdict"
        );
        assert_eq!(
            summary["data"]["sip_messages"], doc["summary"]["sip_messages"],
            "{name}"
        );
        assert_eq!(
            serde_json::to_value(watched.outcome.report.verdict).expect("verdict"),
            doc["verdict"]
        );
        // Each finding is told whole once; the events validate against the schema.
        let told = events.iter().filter(|e| e["type"] == "finding").count();
        assert_eq!(told, want.len(), "{name}");
        assert_eq!(events[0]["type"], "capture", "{name}");
    }
}

#[test]
fn redaction_holds_in_events_metrics_and_the_report_with_the_same_pseudonyms() {
    let path = common::fixture("oauth-port-mismatch-tls12.pcap");
    let keys = common::fixture("oauth-port-mismatch-tls12.keys");
    let (_, plain) = analyzed(&path, Some(&keys));
    let node = plain[0]
        .1
        .split(':')
        .next()
        .unwrap_or("")
        .trim_matches('"')
        .to_string();
    let metrics = Arc::new(watch::metrics::Metrics::default());
    let what = Redaction::parse(&["all".to_string()]).expect("all");
    let (events, watched) = replay_with(
        &path,
        Setup {
            keys: Some(&keys),
            redaction: what,
            metrics: Some(metrics.clone()),
            ..Setup::default()
        },
    );
    let text: String = events.iter().map(|e| e.to_string() + "\n").collect();
    let report = serde_json::to_string(&watched.outcome.report).expect("report");
    let exposition = metrics.render(None);
    for (what, out) in [
        ("events", &text),
        ("report", &report),
        ("metrics", &exposition),
    ] {
        assert!(!out.contains(&node), "{node} in the {what}: {out}");
        assert!(!out.contains("CSFrado"), "the device name in the {what}");
    }
    let finding = events
        .iter()
        .find(|e| e["type"] == "finding")
        .expect("finding");
    let pseudonym = finding["data"]["server"]["ip"]
        .as_str()
        .expect("ip")
        .to_string();
    assert_eq!(
        watched.outcome.report.findings[0].server.ip.to_string(),
        pseudonym,
        "the report keeps the events' pseudonym"
    );
    assert!(
        exposition.contains(&format!("node=\"{pseudonym}\"")),
        "{pseudonym} in {exposition}"
    );
}

#[test]
fn a_followed_key_log_decrypts_and_records_without_keys_are_not_held_past_5_s() {
    use siptriage_dev::cluster::{generate, Cluster, Fate};
    let dir = temp_dir("follow");
    let spec = Cluster {
        devices: 30,
        seconds: 180,
        shares: vec![(Fate::PortMismatch, 0.3)],
        seed: 5,
        tls: true,
        ..Cluster::default()
    };
    let path = dir.join("tls.pcap");
    let mut bytes = Vec::new();
    let stats = generate(&spec, &mut bytes).expect("generate");
    std::fs::write(&path, bytes).expect("write");
    let keys = dir.join("tls.keys");
    std::fs::write(&keys, &stats.keylog).expect("keys");
    let empty = dir.join("empty.keys");
    std::fs::write(&empty, "").expect("keys");
    let p = path.to_string_lossy().to_string();
    let k = keys.to_string_lossy().to_string();
    // Followed from the start, the key log decrypts as --keylog does for analyze.
    let (events, _) = replay_with(
        &p,
        Setup {
            follow: vec![keys.clone()],
            ..Setup::default()
        },
    );
    let (_, with_keys) = analyzed(&p, Some(&k));
    assert!(
        with_keys.iter().any(|f| f.0 == "oauth-port-mismatch"),
        "{with_keys:?}"
    );
    assert_eq!(final_standing(&events), with_keys);
    // A key log that never gets these keys: records wait 5 s, then are judged without keys,
    // and their room is free again: a budget of 16 KiB (a few connections' worth) is never
    // exhausted, so no hold-back limit makes the verdict incomplete.
    let (events, watched) = replay_with(
        &p,
        Setup {
            follow: vec![empty],
            held: Some(16 << 10),
            ..Setup::default()
        },
    );
    let (doc, without) = analyzed(&p, None);
    assert_eq!(final_standing(&events), without);
    let notes = &watched.outcome.report.notes;
    assert!(
        !notes
            .iter()
            .any(|n| matches!(n, siptriage::note::Note::HoldBackLimit { .. })),
        "{notes:?}"
    );
    assert_eq!(
        serde_json::to_value(watched.outcome.report.verdict).expect("v"),
        doc["verdict"]
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A small cluster in clear: 60 devices for ten minutes, a third of them refused with the
/// port mismatch and retrying every minute.
fn cluster_capture(
    dir: &std::path::Path,
    seconds: u32,
) -> (String, siptriage_dev::cluster::ClusterStats) {
    use siptriage_dev::cluster::{generate, Cluster, Fate};
    let spec = Cluster {
        devices: 60,
        seconds,
        expires: 120,
        retry: 60,
        nodes: 2,
        shares: vec![(Fate::PortMismatch, 0.34)],
        seed: 11,
        ..Cluster::default()
    };
    let path = dir.join(format!("cluster-{seconds}.pcap"));
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).expect("create"));
    let stats = generate(&spec, &mut f).expect("generate");
    f.flush().expect("flush");
    (path.to_string_lossy().to_string(), stats)
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("siptriage-watch-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

#[test]
fn a_finding_that_keeps_happening_is_updated_not_repeated() {
    let dir = temp_dir("updates");
    let (path, stats) = cluster_capture(&dir, 600);
    let refused = stats
        .failures
        .iter()
        .find(|f| f.0 == siptriage_dev::cluster::Fate::PortMismatch)
        .map_or(0, |f| f.1);
    assert!(refused > 40, "{refused} port-mismatch 403s");
    let (events, _) = replay(&path, None, Duration::from_secs(60));
    let (_, want) = analyzed(&path, None);
    assert_eq!(final_standing(&events), want);
    let mismatch: u64 = want
        .iter()
        .filter(|f| f.0 == "oauth-port-mismatch")
        .map(|f| f.2)
        .sum();
    assert_eq!(mismatch, refused, "every 403 counted");
    // One `finding` per id and node; its updates at least 60 s of capture time apart.
    let mut last: BTreeMap<u64, String> = BTreeMap::new();
    let mut updates = 0;
    let end = events
        .iter()
        .find(|e| e["type"] == "capture_done")
        .and_then(|e| e["data"]["capture"]["last_time"].as_str())
        .expect("capture_done")
        .to_string();
    for e in &events {
        let t = e["capture_time"].as_str().unwrap_or("").to_string();
        match e["type"].as_str() {
            Some("finding") => {
                let n = last.len() as u64;
                last.insert(n, t);
            }
            Some("finding_update") => {
                updates += 1;
                let i = e["data"]["finding"].as_u64().expect("index");
                let before = last.get(&i).expect("told before").clone();
                let secs = |s: &str| -> f64 {
                    // 2026-03-02T09:15:00.142550Z: seconds of the day are enough here.
                    let hms = &s[11..s.len() - 1];
                    let p: Vec<f64> = hms.split(':').map(|x| x.parse().unwrap_or(0.0)).collect();
                    p[0] * 3600.0 + p[1] * 60.0 + p[2]
                };
                let gap = secs(&t) - secs(&before);
                // The last updates come when the capture ends, whatever the interval.
                assert!(
                    gap >= 60.0 || t == end,
                    "update of finding {i} {gap} s after the last"
                );
                last.insert(i, t);
            }
            _ => {}
        }
    }
    assert!(updates >= 9, "{updates} updates over ten minutes");
    let findings = events.iter().filter(|e| e["type"] == "finding").count();
    assert!(findings <= 4, "{findings} finding events for 2 nodes");
    let _ = std::fs::remove_dir_all(&dir);
}

/// SIP over UDP between devices and CUCM 10.1.1.1: `(seconds, from device, text)`.
fn udp_sip_capture(path: &std::path::Path, messages: &[(i64, &str, String)]) {
    use siptriage_dev::framer::{pcap, Link};
    let link = Link::Ethernet {
        src: [2, 0, 0, 0, 0, 1],
        dst: [2, 0, 0, 0, 0, 2],
    };
    let cucm: std::net::IpAddr = "10.1.1.1".parse().expect("ip");
    let frames: Vec<(i64, Vec<u8>)> = messages
        .iter()
        .map(|(t, device, text)| {
            let ip: std::net::IpAddr = if device.ends_with('A') {
                "10.2.0.1"
            } else {
                "10.2.0.2"
            }
            .parse()
            .expect("ip");
            let to_cucm = text.starts_with("REGISTER");
            let (src, dst) = if to_cucm {
                ((ip, 5060), (cucm, 5060))
            } else {
                ((cucm, 5060), (ip, 5060))
            };
            let f = link.udp(src, dst, text.as_bytes()).expect("frame");
            (1_780_000_000_000_000 + t * 1_000_000, f)
        })
        .collect();
    std::fs::write(path, pcap(link.linktype(), &frames)).expect("write");
}

fn register_pair(device: &str, cseq: u32, expires: u32) -> [String; 2] {
    let ip = if device.ends_with('A') {
        "10.2.0.1"
    } else {
        "10.2.0.2"
    };
    let common = format!(
        "Via: SIP/2.0/UDP {ip}:5060;branch=z9hG4bK{device}{cseq}\r\nFrom: <sip:{device}@10.1.1.1>;tag={device}\r\nTo: <sip:{device}@10.1.1.1>\r\nCall-ID: {device}@{ip}\r\nCSeq: {cseq} REGISTER\r\n"
    );
    [
        format!("REGISTER sip:10.1.1.1 SIP/2.0\r\n{common}Contact: <sip:{device}@{ip}:5060>;+u.sip!devicename.ccm.cisco.com=\"{device}\"\r\nExpires: {expires}\r\nContent-Length: 0\r\n\r\n"),
        format!("SIP/2.0 200 OK\r\n{common}Contact: <sip:{device}@{ip}:5060>;expires={expires}\r\nExpires: {expires}\r\nContent-Length: 0\r\n\r\n"),
    ]
}

#[test]
fn devices_silent_past_their_expiry_are_judged_and_released() {
    // SEPA registers once for 60 s and falls silent; SEPB refreshes every 50 s for 20 minutes.
    let dir = temp_dir("release");
    let path = dir.join("release.pcap");
    let mut msgs = Vec::new();
    for (i, m) in register_pair("SEPA", 1, 60).into_iter().enumerate() {
        msgs.push((i as i64, "SEPA", m));
    }
    for n in 0..24u32 {
        for (i, m) in register_pair("SEPB", n + 1, 60).into_iter().enumerate() {
            msgs.push((i64::from(n) * 50 + 2 + i as i64, "SEPB", m));
        }
    }
    udp_sip_capture(&path, &msgs);
    let path = path.to_string_lossy().to_string();
    let (events, watched) = replay(&path, None, Duration::from_secs(600));
    let (doc, want) = analyzed(&path, None);
    assert_eq!(
        want.iter().map(|f| f.0.as_str()).collect::<Vec<_>>(),
        ["registration-lost"],
        "{doc}"
    );
    assert_eq!(final_standing(&events), want);
    // SEPA was let go while the capture went on (its lapse told then), SEPB kept.
    let lost = events
        .iter()
        .find(|e| e["type"] == "finding")
        .expect("the lapse is told");
    let told_at = lost["capture_time"].as_str().unwrap_or("").to_string();
    let end = doc["captures"][0]["last_time"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(told_at < end, "told at {told_at}, before the end {end}");
    assert!(lost["data"]["explanation"]
        .as_str()
        .unwrap_or("")
        .contains("SEPA"));
    let notes = &watched.outcome.report.notes;
    assert!(
        notes
            .iter()
            .any(|n| n.to_string().starts_with("1 device(s) silent")),
        "{notes:?}"
    );
    let listed: Vec<&str> = watched
        .outcome
        .report
        .registrations
        .iter()
        .map(|r| r.device.as_str())
        .collect();
    assert_eq!(listed, ["SEPB"]);
    assert_eq!(
        serde_json::to_value(watched.outcome.report.verdict).expect("v"),
        doc["verdict"]
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Reads the child's stderr lines into a channel.
fn stderr_lines(child: &mut Child) -> std::sync::mpsc::Receiver<String> {
    let (tx, rx) = std::sync::mpsc::channel();
    let err = child.stderr.take().expect("stderr");
    std::thread::spawn(move || {
        for l in std::io::BufReader::new(err).lines().map_while(Result::ok) {
            if tx.send(l).is_err() {
                break;
            }
        }
    });
    rx
}

/// Waits for a stderr line containing `what`; returns it.
fn wait_line(rx: &std::sync::mpsc::Receiver<String>, what: &str, seen: &mut Vec<String>) -> String {
    let until = Instant::now() + Duration::from_secs(30);
    while Instant::now() < until {
        if let Ok(l) = rx.recv_timeout(Duration::from_millis(100)) {
            seen.push(l.clone());
            if l.contains(what) {
                return l;
            }
        }
    }
    panic!("no line with {what:?} on stderr: {seen:?}");
}

fn signal(child: &Child, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(ok.success());
}

/// Waits for the child to end by itself (it was told to stop); kills it after 30 s.
fn wait_end(child: &mut Child) -> i32 {
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(s) = child.try_wait().expect("wait") {
            return s.code().unwrap_or(-1);
        }
        if Instant::now() > until {
            let _ = child.kill();
            panic!("the sensor did not stop");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn sigterm_stops_a_replay_cleanly_with_its_summary_and_report() {
    let dir = temp_dir("sigterm");
    let (path, stats) = cluster_capture(&dir, 600);
    let events = dir.join("events.jsonl");
    let report = dir.join("run.json");
    let (mut child, rx, mut seen) = start_sensor(
        &[
            "--replay",
            &path,
            "--speed",
            "100",
            "-o",
            &events.to_string_lossy(),
            "--summary",
            &report.to_string_lossy(),
            "--rotate-size",
            "1",
        ],
        &dir,
        "watching",
    );
    std::thread::sleep(Duration::from_millis(1500));
    signal(&child, "-TERM");
    let code = wait_end(&mut child);
    let line = wait_line(&rx, "stopped;", &mut seen);
    assert!(line.contains("failure"), "{line}");
    assert_eq!(code, 1, "the port mismatch is an error: {seen:?}");
    let ev = lines(&std::fs::read_to_string(&events).expect("events"));
    let last = ev.last().expect("events");
    assert_eq!(last["type"], "summary");
    assert_eq!(last["data"]["exit_code"], 1);
    assert!(
        ev.iter().all(|e| e["wall_time"].is_string()),
        "wall time on every event"
    );
    let done = ev
        .iter()
        .find(|e| e["type"] == "capture_done")
        .expect("capture_done");
    let frames = done["data"]["capture"]["frames"].as_u64().expect("frames");
    assert!(
        frames > 0 && frames < stats.frames,
        "{frames} of {} read before the stop",
        stats.frames
    );
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(&report).expect("report")).expect("JSON");
    assert_eq!(doc["verdict"], "failure");
    assert_eq!(doc["captures"][0]["frames"], frames);
    let _ = std::fs::remove_dir_all(&dir);
}

// ---- Live, on the loopback interface (root) ----------------------------------------------

/// Live tests share the loopback interface: one at a time.
static LOOPBACK: Mutex<()> = Mutex::new(());

fn can_capture() -> bool {
    if !common::netns::is_root() {
        eprintln!("skipped: capturing on lo needs root (CI runs as root)");
        return false;
    }
    // libpcap is loaded at run time: without it the live tests cannot run (the message test
    // below covers that case).
    if let Err(e) = siptriage::live::library() {
        eprintln!("skipped: {e}");
        return false;
    }
    true
}

/// Without libpcap, `watch -i` exits 2 saying what to install, and a replay needs no library.
#[test]
fn live_capture_without_libpcap_says_what_to_install() {
    let out = Command::new(env!("CARGO_BIN_EXE_siptriage"))
        .args(["watch", "-i", "lo", "--duration", "1"])
        .env(siptriage::live::LIBRARY_VAR, "/nonexistent/libpcap.so.1")
        .output()
        .expect("runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("live capture needs libpcap"), "{err}");
    assert!(err.contains(siptriage::live::install_hint()), "{err}");
    assert!(err.contains("tried /nonexistent/libpcap.so.1"), "{err}");
    assert!(out.stdout.is_empty(), "no events without a capture");

    let replay = Command::new(env!("CARGO_BIN_EXE_siptriage"))
        .args([
            "watch",
            "--replay",
            "fixtures/oauth-port-mismatch-clear-tcp.pcap",
        ])
        .env(siptriage::live::LIBRARY_VAR, "/nonexistent/libpcap.so.1")
        .output()
        .expect("runs");
    let events = String::from_utf8_lossy(&replay.stdout);
    assert!(
        events.contains("\"id\":\"oauth-port-mismatch\""),
        "a replay reads without libpcap: {events}"
    );
}

/// The address the sensor said it serves its metrics on (`--metrics 127.0.0.1:0`).
fn metrics_address(seen: &[String]) -> String {
    seen.iter()
        .find_map(|l| l.split("http://").nth(1))
        .map(|a| a.trim_end_matches("/metrics").to_string())
        .expect("the metrics address is printed")
}

fn scrape(addr: &str) -> String {
    let mut s = std::net::TcpStream::connect(addr).expect("metrics endpoint");
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n")
        .expect("ask");
    let mut got = String::new();
    s.read_to_string(&mut got).expect("read");
    assert!(got.starts_with("HTTP/1.1 200 OK"), "{got}");
    got
}

/// The value of one sample of the exposition text.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

/// Waits until the events file holds a finding with `id`.
fn wait_finding(path: &std::path::Path, id: &str) -> Vec<Value> {
    let until = Instant::now() + Duration::from_secs(20);
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let ev = lines(&text);
        if ev
            .iter()
            .any(|e| e["type"] == "finding" && e["data"]["id"] == id)
        {
            return ev;
        }
        assert!(Instant::now() < until, "no {id} finding in {text}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn start_sensor(
    args: &[&str],
    dir: &std::path::Path,
    ready: &str,
) -> (Child, std::sync::mpsc::Receiver<String>, Vec<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_siptriage"))
        .arg("watch")
        .args(args)
        // Whatever happens to the test, the sensor stops by itself.
        .args(["--duration", "90"])
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let rx = stderr_lines(&mut child);
    let mut seen = Vec::new();
    wait_line(&rx, ready, &mut seen);
    (child, rx, seen)
}

#[test]
fn live_tls_on_loopback_unknown_ca_then_a_403_decrypted_with_a_key_log_that_grows() {
    let _one = LOOPBACK.lock().unwrap_or_else(|p| p.into_inner());
    if !can_capture() {
        return;
    }
    let dir = temp_dir("live-tls");
    let keys = dir.join("keys.txt");
    std::fs::write(&keys, "").expect("empty key log");
    let (mut child, rx, mut seen) = start_sensor(
        &[
            "-i",
            "lo",
            "--metrics",
            "127.0.0.1:0",
            "-o",
            "events.jsonl",
            "--keylog",
            "keys.txt",
            "--summary",
            "run.md",
            "--update-interval",
            "0",
        ],
        &dir,
        "watching live:lo",
    );
    let metrics = metrics_address(&seen);
    // Expressway-C (the client, on the MRA OAuth port) refuses CUCM's certificate.
    let ex = siptriage_dev::live::register_over_tls(
        "127.0.0.1:5091".parse().expect("addr"),
        false,
        None,
    )
    .expect("TLS over loopback");
    assert!(ex.refused.is_some(), "{ex:?}");
    let ev = wait_finding(&dir.join("events.jsonl"), "unknown-ca-from-expressway");
    let f = ev
        .iter()
        .find(|e| e["data"]["id"] == "unknown-ca-from-expressway")
        .expect("finding");
    assert_eq!(f["data"]["tls_alert"]["description"], "unknown_ca", "{f}");
    assert_eq!(f["data"]["tls_alert"]["sent_by"], "client", "{f}");
    assert!(
        f["capture_time"].is_string() && f["wall_time"].is_string(),
        "{f}"
    );
    // A device on the SIP OAuth port: the handshake succeeds, the 403 travels encrypted, and
    // its keys reach the sensor only as the client appends them to the key log.
    let ex = siptriage_dev::live::register_over_tls(
        "127.0.0.1:5090".parse().expect("addr"),
        true,
        Some(&keys),
    )
    .expect("TLS over loopback");
    assert!(
        ex.answer
            .as_deref()
            .is_some_and(|a| a.starts_with("SIP/2.0 403")),
        "{ex:?}"
    );
    let ev = wait_finding(&dir.join("events.jsonl"), "oauth-port-mismatch");
    let f = ev
        .iter()
        .find(|e| e["data"]["id"] == "oauth-port-mismatch")
        .expect("finding");
    assert_eq!(f["data"]["devices"], 1);
    assert!(
        !f.to_string().contains("eyJwcml2YXRlIjoieCJ9"),
        "the token is redacted: {f}"
    );
    // The metrics say the same (once the connections have ended and settled).
    let until = Instant::now() + Duration::from_secs(20);
    let mut m = scrape(&metrics);
    while sample(&m, "siptriage_connections_tracked") != Some(0.0) && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(100));
        m = scrape(&metrics);
    }
    for (series, at_least) in [
        (
            "siptriage_tls_alerts_total{description=\"unknown_ca\",sender=\"client\"}",
            1.0,
        ),
        (
            "siptriage_findings_total{id=\"unknown-ca-from-expressway\",severity=\"error\"}",
            1.0,
        ),
        (
            "siptriage_findings_total{id=\"oauth-port-mismatch\",severity=\"error\"}",
            1.0,
        ),
        (
            "siptriage_registrations_attempted_total{node=\"127.0.0.1\",port=\"5090\"}",
            1.0,
        ),
        (
            "siptriage_registrations_failed_total{node=\"127.0.0.1\",port=\"5090\"}",
            1.0,
        ),
        (
            "siptriage_tls_connections_total{decryption=\"decrypted\"}",
            1.0,
        ),
        ("siptriage_packets_total", 10.0),
    ] {
        let v = sample(&m, series).unwrap_or_else(|| panic!("no {series} in {m}"));
        assert!(v >= at_least, "{series} = {v}");
    }
    assert_eq!(
        sample(
            &m,
            "siptriage_registrations_succeeded_total{node=\"127.0.0.1\",port=\"5090\"}"
        ),
        Some(0.0)
    );
    assert_eq!(
        sample(
            &m,
            "siptriage_capture_dropped_packets_total{where=\"buffer\"}"
        ),
        Some(0.0)
    );
    signal(&child, "-INT");
    let code = wait_end(&mut child);
    wait_line(&rx, "stopped;", &mut seen);
    assert_eq!(code, 1, "{seen:?}");
    let ev = lines(&std::fs::read_to_string(dir.join("events.jsonl")).expect("events"));
    assert_eq!(ev.last().expect("events")["type"], "summary");
    assert_eq!(ev.last().expect("events")["data"]["verdict"], "failure");
    let md = std::fs::read_to_string(dir.join("run.md")).expect("the run's report");
    assert!(md.starts_with("# Verdict: failure"), "{md}");
    assert!(md.contains("oauth-port-mismatch") && md.contains("unknown-ca-from-expressway"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn recorded_fixtures_injected_onto_loopback_give_their_findings_live() {
    let _one = LOOPBACK.lock().unwrap_or_else(|p| p.into_inner());
    if !can_capture() {
        return;
    }
    let dir = temp_dir("live-inject");
    // Injected frames carry TTL 99; what the kernel answers to them (RSTs) does not.
    let (mut child, rx, mut seen) = start_sensor(
        &[
            "-i",
            "lo",
            "--filter",
            "ip[8] = 99",
            "-o",
            "events.jsonl",
            "--no-wall-time",
            "--save",
            "saved.pcap",
        ],
        &dir,
        "watching live:lo",
    );
    let mut want: Vec<String> = Vec::new();
    let mut frames = Vec::new();
    for name in [
        "oauth-port-mismatch-clear-tcp.pcap",
        "mra-unknown-ca-from-expressway.pcap",
        "oauth-port-closed.pcap",
    ] {
        let path = common::fixture(name);
        let (_, ids) = analyzed(&path, None);
        assert!(!ids.is_empty(), "{name}");
        want.extend(ids.into_iter().map(|f| f.0));
        for (_, lt, f) in siptriage_dev::live::frames_of(&path).expect("frames") {
            frames.push(siptriage_dev::live::to_loopback(&f, lt, 99).expect("IPv4 over Ethernet"));
        }
    }
    want.sort();
    want.dedup();
    let sent =
        siptriage_dev::live::inject("lo", &frames, Duration::from_millis(2)).expect("inject");
    assert_eq!(sent as usize, frames.len());
    // Let the last connections settle, then stop.
    for id in &want {
        wait_finding(&dir.join("events.jsonl"), id);
    }
    signal(&child, "-INT");
    let code = wait_end(&mut child);
    wait_line(&rx, "stopped;", &mut seen);
    assert_eq!(code, 1);
    let ev = lines(&std::fs::read_to_string(dir.join("events.jsonl")).expect("events"));
    let mut got: Vec<String> = ev
        .iter()
        .filter(|e| e["type"] == "finding")
        .map(|e| e["data"]["id"].as_str().unwrap_or("").to_string())
        .collect();
    got.sort();
    got.dedup();
    assert_eq!(got, want);
    let done = ev
        .iter()
        .find(|e| e["type"] == "capture_done")
        .expect("capture_done");
    assert_eq!(
        done["data"]["capture"]["frames"],
        frames.len(),
        "every injected frame, nothing else"
    );
    // Every address the sensor saw is on the machine.
    for e in &ev {
        let text = e.to_string();
        assert!(
            !text.contains("\"10.10."),
            "an address outside 127.0.0.0/8: {text}"
        );
    }
    // Each new finding was said on stderr too, as the events went to a file.
    for id in &want {
        assert!(
            seen.iter()
                .any(|l| l.contains(&format!("ERROR {id} at 127."))),
            "{id}: {seen:?}"
        );
    }
    // The saved packets are a capture whose frame numbers are the events' evidence frames.
    let saved = dir.join("saved.pcap");
    let (doc, _) = analyzed(&saved.to_string_lossy(), None);
    assert_eq!(doc["captures"][0]["frames"], frames.len());
    let evidence = |f: &Value| -> Vec<(String, u64)> {
        let id = f["id"].as_str().unwrap_or("").to_string();
        f["evidence"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|e| (id.clone(), e["frame"].as_u64().unwrap_or(0)))
                    .collect()
            })
            .unwrap_or_default()
    };
    let live: Vec<(String, u64)> = ev
        .iter()
        .filter(|e| e["type"] == "finding")
        .flat_map(|e| evidence(&e["data"]))
        .collect();
    let again: Vec<(String, u64)> = doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .flat_map(evidence)
        .collect();
    assert!(!live.is_empty());
    assert!(
        live.iter().all(|x| again.contains(x)),
        "{live:?} not in {again:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_readme_names_only_metrics_and_options_that_exist() {
    let readme = std::fs::read_to_string("README.md").expect("README");
    let start = readme
        .find("## Live sensor")
        .expect("a live sensor section");
    let section = &readme[start..start + readme[start..].find("\n## Example").expect("next")];
    let m = watch::metrics::Metrics::default();
    let exposition = m.render(Some(1));
    let mut named = 0;
    for word in section.split(['`', ' ', ',', '|']) {
        if let Some(suffix) = word.strip_prefix('…').filter(|s| s.starts_with('_')) {
            assert!(
                exposition.contains(&format!("siptriage_registrations{suffix} ")),
                "{word}"
            );
            named += 1;
        } else if word.starts_with("siptriage_") {
            assert!(
                exposition.contains(&format!("# TYPE {word} ")),
                "{word} is not served"
            );
            named += 1;
        }
    }
    assert!(named >= 13, "{named} metrics named");
    let help = common::run(&["watch", "--help"]);
    let help = String::from_utf8_lossy(&help.stdout);
    for flag in section
        .split(|c: char| c.is_whitespace() || c == '`' || c == '(' || c == ')' || c == ',')
        .filter(|w| w.starts_with("--") && w.len() > 2)
    {
        let flag = flag.split('=').next().unwrap_or(flag);
        assert!(help.contains(flag), "{flag} is not an option of watch");
    }
}

#[test]
fn count_stops_after_that_many_packets_and_a_closed_pipe_stops_the_sensor() {
    let out = common::run(&[
        "watch",
        "--replay",
        "fixtures/oauth-port-mismatch-clear-tcp.pcap",
        "--speed",
        "0",
        "--count",
        "5",
    ]);
    let ev = lines(&String::from_utf8_lossy(&out.stdout));
    let done = ev
        .iter()
        .find(|e| e["type"] == "capture_done")
        .expect("capture_done");
    assert_eq!(done["data"]["capture"]["frames"], 5, "{done}");
    // A reader that goes away ends a sensor that would otherwise run for a minute.
    let dir = temp_dir("pipe");
    let (path, _) = cluster_capture(&dir, 600);
    let mut child = Command::new(env!("CARGO_BIN_EXE_siptriage"))
        .args([
            "watch",
            "--replay",
            &path,
            "--speed",
            "10",
            "--update-interval",
            "0",
        ])
        .args(["--duration", "90", "-q"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut first)
        .expect("a first event");
    assert!(first.contains("\"capture\""), "{first}");
    // stdout is dropped here: the next event cannot be written.
    let started = Instant::now();
    wait_end(&mut child);
    assert!(started.elapsed() < Duration::from_secs(30));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_sensor_that_cannot_start_says_why_and_exits_2() {
    for (args, says) in [
        (&["watch"][..], "--interface"),
        (&["watch", "-i", "nosuchif0", "-q"], "nosuchif0"),
        (
            &["watch", "--replay", "fixtures/none.pcap"],
            "fixtures/none.pcap",
        ),
        (
            &[
                "watch",
                "--replay",
                "fixtures/oauth-port-closed.pcap",
                "--speed=-1",
            ],
            "--speed",
        ),
        (
            &[
                "watch",
                "--replay",
                "fixtures/oauth-port-closed.pcap",
                "--keylog",
                "nokeys.txt",
            ],
            "nokeys.txt",
        ),
    ] {
        let out = common::run(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
}

#[test]
fn dropped_packets_are_said_when_they_happen_and_make_the_verdict_incomplete() {
    let _one = LOOPBACK.lock().unwrap_or_else(|p| p.into_inner());
    if !can_capture() {
        return;
    }
    let dir = temp_dir("drops");
    // A burst of about 50,000 frames (15 MB).
    let capture = dir.join("burst.pcap");
    let spec = siptriage_dev::cluster::Cluster {
        devices: 1000,
        seconds: 240,
        ..siptriage_dev::cluster::Cluster::default()
    };
    let mut bytes = Vec::new();
    siptriage_dev::cluster::generate(&spec, &mut bytes).expect("generate");
    std::fs::write(&capture, bytes).expect("write");
    let capture = capture.to_string_lossy().to_string();
    // A 1 MiB buffer, and a sensor that is stopped (SIGSTOP) while a burst crosses lo: the
    // kernel must drop what does not fit.
    let (mut child, rx, mut seen) = start_sensor(
        &[
            "-i",
            "lo",
            "--filter",
            "ip[8] = 99",
            "--buffer",
            "1",
            "-o",
            "events.jsonl",
            "--fail-on",
            "inconclusive",
            "--metrics",
            "127.0.0.1:0",
        ],
        &dir,
        "watching live:lo",
    );
    let metrics = metrics_address(&seen);
    signal(&child, "-STOP");
    let frames: Vec<Vec<u8>> = siptriage_dev::live::frames_of(&capture)
        .expect("frames")
        .into_iter()
        .filter_map(|(_, lt, f)| siptriage_dev::live::to_loopback(&f, lt, 99))
        .collect();
    let sent = siptriage_dev::live::inject("lo", &frames, Duration::ZERO);
    signal(&child, "-CONT");
    let sent = sent.expect("inject");
    // The drop is said as a note while the sensor runs, and counted in the metrics.
    let until = Instant::now() + Duration::from_secs(20);
    let note = loop {
        let text = std::fs::read_to_string(dir.join("events.jsonl")).unwrap_or_default();
        if let Some(n) = lines(&text).into_iter().find(|e| {
            e["type"] == "note" && e["data"]["text"].as_str().unwrap_or("").contains("dropped")
        }) {
            break n;
        }
        assert!(Instant::now() < until, "no note of drops in {text}");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        note["data"]["text"]
            .as_str()
            .unwrap_or("")
            .starts_with("limit: "),
        "{note}"
    );
    let m = scrape(&metrics);
    let dropped = sample(
        &m,
        "siptriage_capture_dropped_packets_total{where=\"buffer\"}",
    )
    .unwrap_or(0.0);
    let read = sample(&m, "siptriage_packets_total").unwrap_or(0.0);
    assert!(
        dropped > 0.0 && read < sent as f64,
        "{dropped} dropped, {read} read of {sent}"
    );
    signal(&child, "-INT");
    let code = wait_end(&mut child);
    wait_line(&rx, "stopped;", &mut seen);
    let ev = lines(&std::fs::read_to_string(dir.join("events.jsonl")).expect("events"));
    let summary = &ev.last().expect("events")["data"];
    // Nothing of the burst may pass for a clean run: the verdict says the view was incomplete
    // (or failure, from what was read), never ok.
    assert_ne!(summary["verdict"], "ok", "{summary}");
    if summary["verdict"] == "inconclusive" {
        let reasons = summary["verdict_reasons"].to_string();
        assert!(reasons.contains("dropped"), "{reasons}");
    }
    assert_eq!(code, 1, "--fail-on inconclusive: {seen:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
