//! The public captures in `../shared/corpus`: read without a panic, with TLS alerts (and who
//! sent them) and SIP status codes agreeing with tshark's ground truth in `expected/`.
//! Skips (and says so) when the folder is absent.

use std::collections::BTreeSet;
use std::path::Path;

use siptriage::analyze::facts_of;
use siptriage::config::Config;

const CORPUS: &str = "../shared/corpus";

/// Files whose SIP travels in a way we do not decode yet, with the reason.
const SIP_NOT_DECODED: &[(&str, &str)] = &[(
    "heplify-sip_tcp_websocket.pcap",
    "SIP over WebSocket is not decoded",
)];

fn rows(tsv: &str, kind: &str) -> Vec<Vec<String>> {
    tsv.lines()
        .filter(|l| l.starts_with(kind) && l.split('\t').next() == Some(kind))
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect()
}

#[test]
fn public_corpus_agrees_with_tshark() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(CORPUS);
    let Ok(entries) = std::fs::read_dir(dir.join("expected")) else {
        eprintln!("SKIPPED: {CORPUS} not present");
        return;
    };
    let cfg = Config::default();
    let mut checked = 0;
    let (mut alerts_compared, mut sip_compared) = (0, 0);
    let mut failures = Vec::new();
    let mut names: Vec<_> = entries
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    for name in names {
        let Some(capture) = name.strip_suffix(".tshark.tsv") else {
            continue;
        };
        let path = dir.join(capture);
        if !path.exists() {
            continue;
        }
        let tsv = std::fs::read_to_string(dir.join("expected").join(&name)).unwrap_or_default();
        // The illustrated-tls captures come with their key logs: use them, as tshark did.
        let mut cfg = cfg.clone();
        let keylog = dir.join(capture.replace(".pcap", ".keylog"));
        if let Ok(text) = std::fs::read_to_string(&keylog) {
            cfg.secrets
                .keylog
                .add_text(&keylog.to_string_lossy(), &text);
        }
        let facts = match facts_of(&path.to_string_lossy(), &cfg) {
            Ok(f) => f,
            Err(e) => {
                // Unreadable inputs must be ones tshark could not read either.
                if tsv
                    .lines()
                    .any(|l| l.starts_with("tls_") || l.starts_with("sip_"))
                {
                    failures.push(format!("{capture}: unreadable ({e}) but tshark read it"));
                }
                continue;
            }
        };
        checked += 1;
        // TLS alerts (clear, or decrypted with the capture's key log): frame, code and sender role.
        let want: BTreeSet<(u64, u8, String)> = rows(&tsv, "tls_alert")
            .iter()
            .map(|r| {
                (
                    r[1].parse().unwrap_or(0),
                    r[11].parse().unwrap_or(0),
                    r[9].clone(),
                )
            })
            .collect();
        let got: BTreeSet<(u64, u8, String)> = facts
            .connections
            .iter()
            .flat_map(|c| c.tls.iter().flat_map(|t| t.alerts.iter()))
            .filter(|a| !a.encrypted)
            .map(|a| {
                (
                    a.at.number(),
                    a.code.map_or(0, |c| c.0),
                    a.sent_by.to_string(),
                )
            })
            .collect();
        alerts_compared += want.len();
        if want != got {
            failures.push(format!(
                "{capture}: TLS alerts: tshark {want:?}, siptriage {got:?}"
            ));
        }
        if SIP_NOT_DECODED.iter().any(|(f, _)| *f == capture) {
            continue;
        }
        let want: BTreeSet<(u64, u16)> = rows(&tsv, "sip_response")
            .iter()
            .map(|r| (r[1].parse().unwrap_or(0), r[10].parse().unwrap_or(0)))
            .collect();
        let got: BTreeSet<(u64, u16)> = facts
            .sip
            .iter()
            .filter_map(|m| m.status.map(|s| (m.at.number(), s)))
            .collect();
        sip_compared += want.len();
        if want != got {
            failures.push(format!(
                "{capture}: SIP responses: tshark {want:?}, siptriage {got:?}"
            ));
        }
        let want: BTreeSet<(u64, String)> = rows(&tsv, "sip_request")
            .iter()
            .map(|r| (r[1].parse().unwrap_or(0), r[10].clone()))
            .collect();
        let got: BTreeSet<(u64, String)> = facts
            .sip
            .iter()
            .filter(|m| m.is_request())
            .map(|m| (m.at.number(), m.method.clone()))
            .collect();
        if want != got {
            failures.push(format!(
                "{capture}: SIP requests: tshark {want:?}, siptriage {got:?}"
            ));
        }
    }
    assert!(checked > 20, "only {checked} corpus captures were read");
    assert!(
        alerts_compared >= 5 && sip_compared >= 80,
        "too little compared: {alerts_compared} alerts, {sip_compared} responses"
    );
    assert!(
        failures.is_empty(),
        "{} disagreement(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}
