//! Reading a sensor's events, comparing them with `analyze`, and the capture of many clients
//! with every kind of failure that the sensor's tests replay.

use std::io::Write;

use serde_json::Value;

/// One JSON value per line.
pub fn lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// Per finding told (in order): id, server, and where it stood last (occurrences, devices),
/// sorted.
pub fn final_standing(events: &[Value]) -> Vec<(String, String, u64, u64)> {
    let mut told: Vec<(String, String, u64, u64)> = Vec::new();
    for e in events {
        let d = &e["data"];
        match e["type"].as_str() {
            Some("finding") => told.push((
                d["id"].as_str().unwrap_or("").into(),
                format!("{}:{}", d["server"]["ip"], d["server"]["port"]),
                d["occurrences"].as_u64().unwrap_or(0),
                d["devices"].as_u64().unwrap_or(0),
            )),
            Some("finding_update") => {
                let i = d["finding"].as_u64().expect("finding index") as usize;
                let t = told.get_mut(i).expect("an update of a finding told before");
                assert_eq!(t.0, d["id"].as_str().unwrap_or(""), "{e}");
                t.2 = d["occurrences"].as_u64().unwrap_or(0);
                t.3 = d["devices"].as_u64().unwrap_or(0);
            }
            _ => {}
        }
    }
    told.sort();
    told
}

/// `analyze --format json` of `path` (with `keys`): the document and its findings as
/// [`final_standing`] gives them.
pub fn analyzed(path: &str, keys: Option<&str>) -> (Value, Vec<(String, String, u64, u64)>) {
    let mut args = vec!["analyze", "--format", "json", "--fail-on", "never", path];
    if let Some(k) = keys {
        args.extend(["--keylog", k]);
    }
    let out = super::run(&args);
    let doc: Value = serde_json::from_slice(&out.stdout).expect("analyze gives JSON");
    let mut f: Vec<(String, String, u64, u64)> = doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|d| {
            (
                d["id"].as_str().unwrap_or("").into(),
                format!("{}:{}", d["server"]["ip"], d["server"]["port"]),
                d["occurrences"].as_u64().unwrap_or(0),
                d["devices"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    f.sort();
    (doc, f)
}

/// A capture of many clients with every kind of failure the cluster generator makes, in TLS
/// 1.2 with its key log: 600 devices over three nodes for 150 s, Expires 60 s, a failing
/// device trying again 45 s later; 4 % each of port mismatch, rejected token, closed port,
/// token never sent, filtered port, REGISTER never answered, CUCM's certificate not trusted,
/// and a registration that lapses. Returns the capture, its key log and what was generated.
pub fn mix_capture(
    dir: &std::path::Path,
) -> (String, String, siptriage_dev::cluster::ClusterStats) {
    use siptriage_dev::cluster::{generate, Cluster, FAILING};
    let spec = Cluster {
        devices: 600,
        seconds: 150,
        expires: 60,
        retry: 45,
        nodes: 3,
        shares: FAILING.into_iter().map(|f| (f, 0.04)).collect(),
        seed: 7,
        tls: true,
        mra: 0,
    };
    let path = dir.join("mix.pcap");
    let keys = dir.join("mix.keys");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).expect("create"));
    let stats = generate(&spec, &mut f).expect("generate");
    f.flush().expect("flush");
    std::fs::write(&keys, &stats.keylog).expect("keys");
    (
        path.to_string_lossy().to_string(),
        keys.to_string_lossy().to_string(),
        stats,
    )
}

/// Seconds since the Unix epoch of an RFC 3339 time as the reports write it
/// (`2026-03-02T09:15:00.000450Z`).
pub fn seconds(t: &str) -> f64 {
    let t = t.trim_end_matches('Z');
    let (date, time) = t.split_once('T').expect("a date and a time");
    let d: Vec<i64> = date.split('-').map(|x| x.parse().expect("date")).collect();
    let (y, m, day) = (d[0], d[1], d[2]);
    // Days from the civil date (Howard Hinnant's algorithm).
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let mut parts = time.split(':');
    let h: f64 = parts.next().expect("hour").parse().expect("hour");
    let mi: f64 = parts.next().expect("minute").parse().expect("minute");
    let s: f64 = parts.next().expect("second").parse().expect("second");
    days as f64 * 86_400.0 + h * 3600.0 + mi * 60.0 + s
}

/// Each `finding` event: its id, the capture time it was told at, and the time its timer
/// starts from: its first evidence (for a filtered port, its last SYN, which the explanation
/// gives as the first plus "over N s").
pub fn finding_times(events: &[Value]) -> Vec<(String, f64, f64)> {
    events
        .iter()
        .filter(|e| e["type"] == "finding")
        .map(|e| {
            let d = &e["data"];
            let id = d["id"].as_str().unwrap_or("").to_string();
            let mut from = seconds(d["evidence"][0]["time"].as_str().expect("evidence time"));
            if id == "oauth-port-filtered" {
                let text = d["explanation"].as_str().unwrap_or("");
                let span = text
                    .split(" over ")
                    .nth(1)
                    .and_then(|t| t.split(" s ").next())
                    .and_then(|n| n.parse::<f64>().ok())
                    .unwrap_or_else(|| panic!("no SYN span in {text}"));
                from += span;
            }
            (
                id,
                seconds(e["capture_time"].as_str().expect("capture_time")),
                from,
            )
        })
        .collect()
}

/// The longest a finding of `id` may wait after its timer starts ([`finding_times`]): a
/// filtered port 10 s after the last of the SYNs, an unanswered REGISTER Timer F (32 s), a
/// lost registration its Expires (60 s, from the 200 OK) and the 5 s the rule allows, all else
/// 40 s; plus the sensor's tick (0.2 s) and the capture's own steps.
pub fn bound(id: &str) -> f64 {
    match id {
        "oauth-port-filtered" => 10.0,
        "registration-unanswered" => 32.0 + 1.0,
        "registration-lost" => 60.0 + 6.0 + 2.0,
        _ => 40.0,
    }
}

/// Asserts that the sensor's findings (`got`, from [`final_standing`]) are `analyze`'s
/// (`want`), naming only those that differ.
pub fn assert_same_findings(
    got: &[(String, String, u64, u64)],
    want: &[(String, String, u64, u64)],
    what: &str,
) {
    let only_got: Vec<_> = got.iter().filter(|g| !want.contains(g)).collect();
    let only_want: Vec<_> = want.iter().filter(|w| !got.contains(w)).collect();
    assert!(
        only_got.is_empty() && only_want.is_empty(),
        "{what}: the sensor found {only_got:?} where analyze found {only_want:?}"
    );
}
