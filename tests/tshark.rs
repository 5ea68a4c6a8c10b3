//! Differential test: for every fixture with a key log (and the pcapng files that embed their
//! keys), the SIP requests, SIP responses and TLS alerts that tshark decrypts equal ours.
//! tshark is installed by `.ci/run`; without it the test says that it skipped.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use siptriage::analyze::facts_of;
use siptriage::config::Config;

type Seen = (
    BTreeSet<(u64, u16)>,
    BTreeSet<(u64, String)>,
    BTreeSet<(u64, u8)>,
);

fn tshark(capture: &str, keys: Option<&str>) -> Option<Seen> {
    let mut cmd = Command::new("tshark");
    cmd.args(["-n", "-r", capture]);
    if let Some(k) = keys {
        cmd.args(["-o", &format!("tls.keylog_file:{k}")]);
    }
    for p in ["5090", "5091"] {
        cmd.args([
            "-d",
            &format!("tcp.port=={p},tls"),
            "-d",
            &format!("tls.port=={p},sip"),
        ]);
    }
    cmd.args([
        "-Y",
        "sip || tls.alert_message",
        "-T",
        "fields",
        "-E",
        "separator=\t",
    ]);
    cmd.args([
        "-e",
        "frame.number",
        "-e",
        "sip.Status-Code",
        "-e",
        "sip.Method",
        "-e",
        "tls.alert_message.desc",
    ]);
    let out = cmd.output().ok()?;
    if !out.status.success() {
        return None;
    }
    let mut seen: Seen = Default::default();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let f: Vec<&str> = line.split('\t').collect();
        let frame: u64 = f.first().and_then(|x| x.parse().ok()).unwrap_or(0);
        for s in f.get(1).unwrap_or(&"").split(',').filter(|s| !s.is_empty()) {
            seen.0.insert((frame, s.parse().unwrap_or(0)));
        }
        for m in f.get(2).unwrap_or(&"").split(',').filter(|s| !s.is_empty()) {
            seen.1.insert((frame, m.to_string()));
        }
        for a in f.get(3).unwrap_or(&"").split(',').filter(|s| !s.is_empty()) {
            seen.2.insert((frame, a.parse().unwrap_or(0)));
        }
    }
    Some(seen)
}

fn ours(capture: &str, keys: Option<&str>) -> Seen {
    let mut cfg = Config::default();
    if let Some(k) = keys {
        cfg.secrets
            .keylog
            .add_text(k, &std::fs::read_to_string(k).unwrap_or_default());
    }
    let facts = facts_of(capture, &cfg).expect("fixture reads");
    let mut seen: Seen = Default::default();
    for m in &facts.sip {
        match m.status {
            Some(s) => seen.0.insert((m.at.number(), s)),
            None => seen.1.insert((m.at.number(), m.method.clone())),
        };
    }
    for c in &facts.connections {
        for a in c.tls.iter().flat_map(|t| t.alerts.iter()) {
            if let Some(code) = a.code {
                seen.2.insert((a.at.number(), code.0));
            }
        }
    }
    seen
}

#[test]
fn decrypted_sip_and_alerts_agree_with_tshark() {
    if Command::new("tshark").arg("--version").output().is_err() {
        eprintln!("SKIPPED: tshark is not installed (apt-get install tshark); the differential test did not run");
        return;
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    // (capture, key log for tshark, key log for siptriage)
    let mut cases: Vec<(String, Option<String>, Option<String>)> = Vec::new();
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("fixtures")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    for n in &names {
        let path = dir.join(n).to_string_lossy().to_string();
        let Some(stem) = n.strip_suffix(".keys") else {
            if n.contains("-dsb")
                && !names.contains(&format!("{}.keys", n.trim_end_matches(".pcapng")))
            {
                cases.push((path, None, None));
            }
            continue;
        };
        let pcap = dir.join(format!("{stem}.pcap"));
        let pcapng = dir.join(format!("{stem}.pcapng"));
        if pcap.exists() {
            cases.push((
                pcap.to_string_lossy().to_string(),
                Some(path.clone()),
                Some(path),
            ));
        } else if pcapng.exists() {
            // Keys embedded after the packets: siptriage uses the block, tshark the file.
            cases.push((pcapng.to_string_lossy().to_string(), Some(path), None));
        }
    }
    assert!(cases.len() >= 10, "only {} keyed fixtures", cases.len());
    let mut decrypted_sip = 0;
    for (capture, their_keys, our_keys) in &cases {
        let theirs = tshark(capture, their_keys.as_deref())
            .unwrap_or_else(|| panic!("tshark failed on {capture}"));
        let mine = ours(capture, our_keys.as_deref());
        assert_eq!(
            mine.0, theirs.0,
            "{capture}: SIP responses (ours, tshark's)"
        );
        assert_eq!(mine.1, theirs.1, "{capture}: SIP requests (ours, tshark's)");
        assert_eq!(mine.2, theirs.2, "{capture}: TLS alerts (ours, tshark's)");
        decrypted_sip += mine.0.len() + mine.1.len();
    }
    assert!(
        decrypted_sip >= 30,
        "only {decrypted_sip} SIP messages compared"
    );
}
