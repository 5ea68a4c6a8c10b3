//! Seeing inside TLS: key logs, keys embedded in pcapng, SIP on the OAuth ports, and honesty
//! without keys. Each case runs the binary on a recorded fixture.

mod common;

use common::{finding_ids, fixture, json, reverse_secrets, run};
use serde_json::Value;

fn keyed(name: &str) -> (Value, i32) {
    let keys = fixture(&format!("{name}.keys"));
    json(&["--keylog", &keys, &fixture(&format!("{name}.pcap"))])
}

fn pairs(v: &[(&str, u64)]) -> Vec<(String, u64)> {
    v.iter().map(|(a, b)| (a.to_string(), *b)).collect()
}

#[test]
fn port_mismatch_inside_tls12_and_tls13_with_the_key_log() {
    for name in [
        "oauth-port-mismatch-tls12",
        "tls13-oauth-port-mismatch",
        "openssl-cbc-etm-port-mismatch",
        "openssl-cbc-mte-port-mismatch",
    ] {
        let (doc, code) = keyed(name);
        assert_eq!(
            finding_ids(&doc),
            pairs(&[("oauth-port-mismatch", 1)]),
            "{name}"
        );
        assert_eq!(code, 1, "{name}");
        assert_eq!(
            doc["connections"][0]["tls"]["decryption"], "decrypted",
            "{name}"
        );
        let ev = doc["findings"][0]["evidence"].to_string();
        assert!(
            ev.contains("403 Forbidden, Warning: 399 UCM2-PUB"),
            "{name}: {ev}"
        );
    }
}

#[test]
fn cbc_suites_are_encrypt_then_mac_and_mac_then_encrypt() {
    let (etm, _) = keyed("openssl-cbc-etm-port-mismatch");
    let (mte, _) = keyed("openssl-cbc-mte-port-mismatch");
    for doc in [&etm, &mte] {
        let suite = doc["connections"][0]["tls"]["server_hello"]["cipher_suite"]
            .as_str()
            .unwrap_or("");
        assert!(suite.contains("CBC"), "{suite}");
    }
}

#[test]
fn tls13_documented_scenarios_are_exact_with_keys() {
    let (doc, _) = keyed("tls13-mra-unknown-ca-from-ucm");
    assert_eq!(finding_ids(&doc), pairs(&[("unknown-ca-from-ucm", 1)]));
    assert_eq!(doc["findings"][0]["tls_alert"]["sent_by"], "server");
    assert_eq!(doc["findings"][0]["confidence"], "certain");
    // The TLS 1.3 Certificate and CertificateRequest were decrypted and parsed.
    let tls = &doc["connections"][0]["tls"];
    assert_eq!(tls["chains"].as_array().map(Vec::len), Some(2));
    assert!(tls["certificate_request"].is_object());
    let (doc, _) = keyed("tls13-mra-unknown-ca-from-expressway");
    assert_eq!(
        finding_ids(&doc),
        pairs(&[("unknown-ca-from-expressway", 2)])
    );
    assert_eq!(doc["findings"][0]["tls_alert"]["sent_by"], "client");
}

#[test]
fn tls13_without_keys_names_who_aborted_as_likely() {
    let (doc, code) = json(&[&fixture("tls13-mra-unknown-ca-from-ucm.pcap")]);
    assert_eq!(finding_ids(&doc), pairs(&[("tls13-handshake-aborted", 1)]));
    assert_eq!(code, 1);
    let f = &doc["findings"][0];
    assert_eq!(f["confidence"], "likely");
    let e = f["explanation"].as_str().unwrap_or("");
    assert!(
        e.contains("CUCM") && e.contains("after the client's flight"),
        "{e}"
    );
    let (doc, _) = json(&[&fixture("tls13-mra-unknown-ca-from-expressway.pcap")]);
    assert_eq!(finding_ids(&doc), pairs(&[("tls13-handshake-aborted", 2)]));
    let e = doc["findings"][0]["explanation"].as_str().unwrap_or("");
    assert!(
        e.contains("Expressway-C") && e.contains("after the server's flight"),
        "{e}"
    );
    assert!(doc["connections"][0]["tls"]["decryption"]
        .as_str()
        .is_some_and(|d| d.starts_with("not decrypted")));
}

#[test]
fn healthy_tls_sessions_are_not_failures_with_or_without_keys() {
    for name in [
        "tls13-oauth-port-mismatch",
        "tls13-healthy-registration",
        "healthy-registration-tls12",
    ] {
        let (doc, _) = json(&[&fixture(&format!("{name}.pcap"))]);
        assert!(
            finding_ids(&doc)
                .iter()
                .all(|(id, _)| id != "tls13-handshake-aborted"),
            "{name}: {:?}",
            finding_ids(&doc)
        );
        assert!(
            doc["notes"].to_string().contains("SSLKEYLOGFILE"),
            "{name}: the note tells how to get keys"
        );
    }
    let (doc, code) = keyed("tls13-healthy-registration");
    assert_eq!(code, 0);
    // Two registrations on 5090 (the second after a KeyUpdate) and one over mutual TLS on 5091.
    let ok: u64 = doc["findings"].as_array().map_or(0, |a| {
        a.iter()
            .filter(|f| f["id"] == "oauth-registration-ok")
            .map(|f| f["occurrences"].as_u64().unwrap_or(0))
            .sum()
    });
    assert_eq!(ok, 3);
    assert_eq!(doc["connections"][1]["server"]["port"], 5091);
    assert!(doc["connections"][1]["sip_messages"]
        .as_u64()
        .is_some_and(|n| n >= 4));
}

#[test]
fn keys_embedded_in_pcapng_before_or_after_the_packets() {
    let (doc, _) = json(&[&fixture("tls13-healthy-registration-dsb.pcapng")]);
    assert!(finding_ids(&doc)
        .iter()
        .any(|(id, _)| id == "oauth-registration-ok"));
    let (doc, code) = json(&[&fixture("oauth-port-mismatch-tls12-dsb-at-end.pcapng")]);
    assert_eq!(finding_ids(&doc), pairs(&[("oauth-port-mismatch", 1)]));
    assert_eq!(code, 1);
}

#[test]
fn wrong_key_is_reported_never_decoded() {
    let dir = std::env::temp_dir().join(format!("siptriage-wrongkey-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp");
    let good = std::fs::read_to_string(fixture("oauth-port-mismatch-tls12.keys")).expect("keys");
    // Same client random, another master secret.
    let bad = reverse_secrets(&good);
    let bad_path = dir.join("bad.keys");
    std::fs::write(&bad_path, bad + "CLIENT_RANDOM nothex zz\nTOO FEW\n").expect("write");
    let (doc, code) = json(&[
        "--keylog",
        &bad_path.to_string_lossy(),
        &fixture("oauth-port-mismatch-tls12.pcap"),
    ]);
    assert_eq!(code, 0, "nothing decoded from garbage");
    assert!(finding_ids(&doc).is_empty());
    let status = doc["connections"][0]["tls"]["decryption"]
        .as_str()
        .unwrap_or("");
    assert!(status.contains("wrong key"), "{status}");
    let notes = doc["notes"].to_string();
    assert!(
        notes.contains("bad.keys:2:") && notes.contains("bad.keys:3:"),
        "{notes}"
    );

    // A key log none of whose lines can be used is not "no key log given".
    let junk_path = dir.join("junk.keys");
    std::fs::write(&junk_path, "CLIENT_RANDOM nothex zz\n").expect("write");
    let (doc, _) = json(&[
        "--keylog",
        &junk_path.to_string_lossy(),
        &fixture("oauth-port-mismatch-tls12.pcap"),
    ]);
    assert_eq!(
        doc["connections"][0]["tls"]["decryption"],
        "not decrypted: the key log holds no usable key"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn tokens_are_redacted_but_their_jwt_header_is_shown() {
    let keys = fixture("tls13-healthy-registration.keys");
    let cap = fixture("tls13-healthy-registration.pcap");
    for format in ["json", "text"] {
        let out = run(&["analyze", "--format", format, "--keylog", &keys, &cap]);
        let s = String::from_utf8_lossy(&out.stdout);
        assert!(
            !s.contains("eyJhbGci") && !s.contains("c2lnbmF0dXJl"),
            "{format} leaks the token"
        );
    }
    // The JSON keeps the decoded JWT header of the redacted token.
    let lib = siptriage_messages(&keys, &cap, false);
    assert!(
        lib.iter().any(|h| h.contains("JWT alg=RS256 kid=19f7b4ba")),
        "{lib:?}"
    );
    assert!(lib.iter().all(|h| !h.contains("eyJhbGci")));
    // --show-secrets opts out.
    let shown = siptriage_messages(&keys, &cap, true);
    assert!(shown.iter().any(|h| h.contains("eyJhbGci")));
}

fn siptriage_messages(keys: &str, cap: &str, show: bool) -> Vec<String> {
    let mut cfg = siptriage::config::Config::default();
    cfg.secrets.show = show;
    cfg.secrets
        .keylog
        .add_text(keys, &std::fs::read_to_string(keys).unwrap_or_default());
    let facts = siptriage::analyze::facts_of(cap, &cfg).expect("reads");
    facts
        .sip
        .iter()
        .filter_map(|m| m.header("Proxy-Authorization").map(str::to_string))
        .collect()
}

#[test]
fn unreadable_key_log_is_an_argument_error() {
    let out = run(&[
        "analyze",
        "--keylog",
        "fixtures/none.keys",
        &fixture("oauth-port-closed.pcap"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("fixtures/none.keys"));
}

#[test]
fn hold_back_while_waiting_for_late_keys_is_bounded_and_reported() {
    let cap = fixture("oauth-port-mismatch-tls12-dsb-at-end.pcapng");
    let mut cfg = siptriage::config::Config::default();
    cfg.limits.hold_back_bytes = 64;
    let facts = siptriage::analyze::facts_of(&cap, &cfg).expect("reads");
    // With almost no room to wait, the records were analyzed before the keys arrived.
    assert!(facts.sip.is_empty());
    assert!(
        facts
            .notes
            .iter()
            .any(|n| matches!(n, siptriage::note::Note::HoldBackLimit { .. })),
        "{:?}",
        facts.notes
    );
    let facts =
        siptriage::analyze::facts_of(&cap, &siptriage::config::Config::default()).expect("reads");
    assert_eq!(facts.sip.len(), 4);
}
