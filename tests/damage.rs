//! Damaged captures: every fixture truncated at many points and with random byte flips. No
//! panic; the exit code as specified; the damage named (file and frame); and the findings whose
//! evidence lies before the damage are kept.

mod common;

use siptriage::analyze::analyze_bytes;
use siptriage::config::Config;
use siptriage_dev::workload::Rng;

fn fixtures() -> Vec<(String, Vec<u8>)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures");
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .expect("fixtures")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "pcap" || x == "pcapng"))
        .map(|p| {
            (
                p.file_name()
                    .map(|n| n.to_string_lossy().to_string())
                    .unwrap_or_default(),
                std::fs::read(&p).unwrap_or_default(),
            )
        })
        .collect();
    v.sort();
    v
}

/// Byte offsets where each complete record of a legacy pcap ends.
fn pcap_record_ends(b: &[u8]) -> Vec<usize> {
    let mut ends = Vec::new();
    let mut at = 24;
    while at + 16 <= b.len() {
        let len = u32::from_le_bytes([b[at + 8], b[at + 9], b[at + 10], b[at + 11]]) as usize;
        at += 16 + len;
        if at > b.len() {
            break;
        }
        ends.push(at);
    }
    ends
}

/// Findings that rest on a frame (an alert, a SIP answer) and need nothing after it.
fn anchored(f: &siptriage::diagnose::Finding) -> bool {
    (f.tls_alert.is_some() || f.sip.is_some())
        && ![
            "bearer-not-sent",
            "registration-lost",
            "registration-unanswered",
            "registration-rejected",
        ]
        .contains(&f.id)
}

#[test]
fn truncated_anywhere_keeps_what_came_before() {
    let cfg = Config::default();
    let mut checked = 0;
    for (name, bytes) in fixtures() {
        if !name.ends_with(".pcap") {
            continue;
        }
        let (_, intact) = analyze_bytes(&bytes, &cfg).expect("intact fixture reads");
        let ends = pcap_record_ends(&bytes);
        let mut rng = Rng::new(bytes.len() as u64);
        let mut cuts: Vec<usize> = (0..12)
            .map(|_| 24 + rng.below((bytes.len() - 24) as u64) as usize)
            .collect();
        cuts.extend(ends.iter().map(|e| e - 1).take(6));
        for cut in cuts {
            let part = &bytes[..cut];
            let complete = ends.iter().filter(|e| **e <= cut).count() as u64;
            let Ok((facts, findings)) = analyze_bytes(part, &cfg) else {
                continue;
            };
            let info = facts.info.expect("info");
            assert_eq!(info.frames, complete, "{name} cut at {cut}");
            if ends.last().is_some_and(|last| cut < *last) && !ends.contains(&cut) && cut != 24 {
                let stopped = info.stopped.unwrap_or_default();
                assert!(
                    stopped.contains(&format!("after frame {complete}")),
                    "{name} cut at {cut}: {stopped:?}"
                );
            }
            for f in intact.iter().filter(|f| anchored(f)) {
                let last_frame = f
                    .evidence
                    .iter()
                    .filter_map(|e| e.place.frame())
                    .max()
                    .unwrap_or(0);
                if last_frame <= complete {
                    assert!(findings.iter().any(|g| g.id == f.id), "{name} cut at {cut} (frame {complete}) lost {} (evidence up to frame {last_frame})", f.id);
                }
            }
            checked += 1;
        }
    }
    assert!(checked > 300, "{checked} truncations checked");
}

#[test]
fn random_byte_flips_never_panic() {
    let cfg = Config::default();
    let mut rng = Rng::new(7);
    let mut runs = 0;
    for (_, bytes) in fixtures() {
        for _ in 0..20 {
            let mut b = bytes.clone();
            for _ in 0..(1 + rng.below(12)) {
                let i = rng.below(b.len() as u64) as usize;
                b[i] ^= 1 << rng.below(8);
            }
            // Any outcome but a panic: analyzed, or refused as not a capture.
            let _ = analyze_bytes(&b, &cfg);
            runs += 1;
        }
    }
    assert!(runs >= 800);
}

#[test]
fn exit_codes_on_damaged_files() {
    let tmp = std::env::temp_dir().join(format!("siptriage-damage-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).expect("tmp");
    let bytes = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/mra-unknown-ca-from-expressway.pcap"
    ))
    .expect("fixture");
    let ends = pcap_record_ends(&bytes);
    // Cut inside the header: nothing readable at all: exit 2.
    let header = tmp.join("header.pcap");
    std::fs::write(&header, &bytes[..10]).expect("write");
    assert_eq!(
        common::run(&["analyze", &header.to_string_lossy()])
            .status
            .code(),
        Some(2)
    );
    // Cut after the first alert (frame 8) but inside frame 9: the error is kept: exit 1.
    let cut = tmp.join("cut.pcap");
    std::fs::write(&cut, &bytes[..ends[7] + 5]).expect("write");
    let out = common::run(&["analyze", &cut.to_string_lossy()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        err.contains("cut.pcap") && err.contains("after frame 8"),
        "{err}"
    );
    // Cut before any failure: exit 0, and the damage is still named.
    let early = tmp.join("early.pcap");
    std::fs::write(&early, &bytes[..ends[2] + 3]).expect("write");
    let out = common::run(&["analyze", &early.to_string_lossy()]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("after frame 3"));
    let _ = std::fs::remove_dir_all(tmp);
}
