//! The sensor a NOC alerts on: over a capture of many clients with every kind of failure, each
//! finding is told within its timer by packet time (never at the stop), the sensor gives what
//! `analyze` gives on the same file even while its CPU is taken away and its key log grows as
//! the clients write it, and its metrics count registration attempts as a dashboard needs.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::events::{
    analyzed, assert_same_findings, bound, final_standing, finding_times, lines, mix_capture,
};
use siptriage::config::Config;
use siptriage::report::redact::Redaction;
use siptriage::watch::{self, metrics::Metrics, rotate, Options};

fn temp_dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("siptriage-sensor-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

/// Every failure the mix capture holds, as findings.
const KINDS: [&str; 8] = [
    "oauth-port-mismatch",
    "bearer-token-rejected",
    "oauth-port-closed",
    "bearer-not-sent",
    "oauth-port-filtered",
    "registration-unanswered",
    "client-rejects-ucm-certificate",
    "registration-lost",
];

/// Checks that each finding event came within its bound of its first evidence, by capture
/// time; returns the longest wait per id.
fn within_bounds(events: &[serde_json::Value]) -> Vec<(String, f64)> {
    let mut worst: Vec<(String, f64)> = Vec::new();
    for (id, told, first) in finding_times(events) {
        let lag = told - first;
        assert!(
            lag <= bound(&id) && lag >= -0.001,
            "{id} told {lag:.1} s after its first evidence (bound {} s)",
            bound(&id)
        );
        match worst.iter_mut().find(|w| w.0 == id) {
            Some(w) => w.1 = w.1.max(lag),
            None => worst.push((id, lag)),
        }
    }
    worst
}

#[test]
fn every_finding_is_told_within_its_timer_by_packet_time_and_the_metrics_count_attempts() {
    let dir = temp_dir("timers");
    let (path, keys, stats) = mix_capture(&dir);
    let mut cfg = Config::default();
    cfg.secrets
        .keylog
        .add_text(&keys, &std::fs::read_to_string(&keys).expect("keys"));
    let out = dir.join("events.jsonl");
    let metrics = Arc::new(Metrics::default());
    let opts = Options::replay(&path);
    let sink = rotate::Plain(std::fs::File::create(&out).expect("events"));
    let stop = AtomicBool::new(false);
    let watched = watch::run(
        &opts,
        &cfg,
        Redaction::default(),
        Box::new(sink),
        Some(metrics.clone()),
        &stop,
        &mut |_| {},
    )
    .expect("the replay starts");
    let events = lines(&std::fs::read_to_string(&out).expect("events"));
    let worst = within_bounds(&events);
    for id in KINDS {
        assert!(
            worst.iter().any(|w| w.0 == id),
            "{id} never told: {worst:?}"
        );
    }
    // What analyze finds in the same file, the sensor found.
    let (doc, want) = analyzed(&path, Some(&keys));
    assert_same_findings(&final_standing(&events), &want, "replayed");
    assert_eq!(
        serde_json::to_value(watched.outcome.report.verdict).expect("verdict"),
        doc["verdict"]
    );
    // Notes: none about the report's own listing; each kind told when it first came, then
    // at most once per update interval.
    let notes: Vec<&serde_json::Value> = events.iter().filter(|e| e["type"] == "note").collect();
    for n in &notes {
        let text = n["data"]["text"].as_str().unwrap_or("");
        assert!(
            !text.contains("the report lists") && !text.contains("[]"),
            "{text}"
        );
    }
    // Metrics: an attempt is a device's try to its final answer, so the challenges of the
    // healthy devices are no failures; every 200 OK the generator wrote is a success.
    let text = metrics.render(None);
    let sum = |name: &str| -> f64 {
        text.lines()
            .filter(|l| l.starts_with(name) && l[name.len()..].starts_with('{'))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    };
    let attempted = sum("siptriage_registrations_attempted_total");
    let succeeded = sum("siptriage_registrations_succeeded_total");
    let failed = sum("siptriage_registrations_failed_total");
    assert_eq!(succeeded as u64, stats.registered, "{text}");
    assert_eq!(attempted, succeeded + failed);
    let rejected: u64 = stats
        .failures
        .iter()
        .filter(|(f, _)| {
            use siptriage_dev::cluster::Fate;
            matches!(
                f,
                Fate::PortMismatch | Fate::TokenRejected | Fate::Abandons | Fate::Unanswered
            )
        })
        .map(|(_, n)| n)
        .sum();
    assert_eq!(failed as u64, rejected, "{text}");
    assert!(succeeded / attempted > 0.8, "{succeeded} of {attempted}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Sends `sig` to process `pid`.
fn kill(pid: u32, sig: &str) -> bool {
    Command::new("kill")
        .args([&format!("-{sig}"), &pid.to_string()])
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn starved_of_cpu_with_a_key_log_that_grows_the_sensor_gives_what_analyze_gives() {
    let dir = temp_dir("starved");
    let (path, keys, stats) = mix_capture(&dir);
    let growing = dir.join("growing.keys");
    std::fs::write(&growing, "").expect("key log");
    let events = dir.join("events.jsonl");
    let speed = 10.0;
    let mut child = Command::new(env!("CARGO_BIN_EXE_siptriage"))
        .args(["watch", "--replay", &path, "--speed", &speed.to_string()])
        .args(["--keylog", &growing.to_string_lossy()])
        .args(["--fail-on", "never", "-o", &events.to_string_lossy()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the sensor starts");
    let started = Instant::now();
    // The clients write their keys as their handshakes begin, in pace with the replay (a
    // thread of their own: the clients are not stopped with the sensor).
    let first = stats.key_times.first().map_or(0, |k| k.0);
    let key_times = stats.key_times.clone();
    let path_keys = growing.clone();
    let writer = std::thread::spawn(move || {
        let mut out = std::fs::OpenOptions::new()
            .append(true)
            .open(&path_keys)
            .expect("key log");
        for (t, line) in key_times {
            let due = Duration::from_secs_f64((t - first) as f64 / 1e6 / speed);
            if let Some(wait) = due.checked_sub(started.elapsed()) {
                std::thread::sleep(wait);
            }
            writeln!(out, "{line}").expect("write a key");
            out.flush().expect("flush");
        }
    });
    // Every 1.5 s the sensor is stopped for 1 s: 10 s of capture time, twice the time it
    // holds records back for their keys.
    let pid = child.id();
    let mut pulses = 0;
    loop {
        std::thread::sleep(Duration::from_millis(1500));
        if child.try_wait().expect("wait").is_some() || !kill(pid, "STOP") {
            break;
        }
        std::thread::sleep(Duration::from_secs(1));
        kill(pid, "CONT");
        pulses += 1;
        assert!(
            started.elapsed() < Duration::from_secs(180),
            "the replay never ended"
        );
    }
    child.wait().expect("the sensor ends");
    writer.join().expect("the key writer");
    assert!(pulses >= 5, "only {pulses} pulses");
    let ev = lines(&std::fs::read_to_string(&events).expect("events"));
    let (_, want) = analyzed(&path, Some(&keys));
    assert_eq!(
        final_standing(&ev),
        want,
        "under load, with {pulses} pulses"
    );
    within_bounds(&ev);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn on_a_veth_pair_the_mix_replayed_at_its_pace_gives_analyzes_findings_within_their_timers() {
    if !common::netns::can_replay_onto_veth() {
        return;
    }
    let dir = temp_dir("veth");
    let (path, keys, _) = mix_capture(&dir);
    let veth = common::netns::Veth::new("mix").expect("a veth pair in a namespace");
    let events = dir.join("events.jsonl");
    let mut sensor = veth
        .command(env!("CARGO_BIN_EXE_siptriage"))
        .args(["watch", "-i", &veth.inner, "--promiscuous"])
        .args(["--keylog", &keys, "--fail-on", "never"])
        .args(["-o", &events.to_string_lossy(), "--duration", "400"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the sensor starts");
    let err = sensor.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for l in std::io::BufReader::new(err).lines().map_while(Result::ok) {
            let _ = tx.send(l);
        }
    });
    let ready = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the sensor says it watches");
    assert!(ready.contains("watching"), "{ready}");
    // At the capture's own pace: 150 s.
    let sent = Command::new("tcpreplay")
        .args(["-q", "-i", &veth.outer, &path])
        .output()
        .expect("tcpreplay runs");
    assert!(
        sent.status.success(),
        "{}",
        String::from_utf8_lossy(&sent.stderr)
    );
    // The last packets are read (the kernel hands them over within 100 ms), and the sensor
    // is stopped before its clock-driven time passes the capture's last packet: time the
    // file does not hold would judge what the file cannot (a REGISTER 31.8 s old at the
    // capture's end reaching Timer F).
    std::thread::sleep(Duration::from_millis(400));
    assert!(kill(sensor.id(), "INT"));
    let status = sensor.wait().expect("the sensor stops");
    assert!(status.success(), "{status:?}");
    let ev = lines(&std::fs::read_to_string(&events).expect("events"));
    let (_, want) = analyzed(&path, Some(&keys));
    assert_same_findings(&final_standing(&ev), &want, "live on a veth pair");
    let worst = within_bounds(&ev);
    for id in KINDS {
        assert!(worst.iter().any(|w| w.0 == id), "{id}: {worst:?}");
    }
    // Nothing was dropped, and the summary's verdict is the file's.
    let summary = ev.last().expect("events");
    assert_eq!(summary["type"], "summary");
    drop(veth);
    let _ = std::fs::remove_dir_all(&dir);
}
