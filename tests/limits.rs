//! Memory caps on generated hostile captures: each cap holds, and the report says which was hit
//! and how often. (Peak memory itself is measured outside the tests; see README.)

use siptriage::analyze::analyze_bytes;
use siptriage::config::Config;
use siptriage::note::Note;
use siptriage_dev::workload::{generate, templates_from, Hostile, Spec};

fn capture(hostile: Option<Hostile>, mb: u64, share: f64) -> Vec<u8> {
    let templates = templates_from(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures"));
    let mut out = Vec::new();
    generate(
        &Spec {
            bytes: mb << 20,
            sip_share: share,
            seed: 9,
            hostile,
        },
        &templates,
        &mut out,
    )
    .expect("generated");
    out
}

#[test]
fn connection_flood_is_capped_and_reported() {
    let bytes = capture(Some(Hostile::Connections), 4, 0.0);
    let mut cfg = Config::default();
    cfg.limits.max_connections = 200;
    let (facts, _) = analyze_bytes(&bytes, &cfg).expect("reads");
    let notes = &facts.notes;
    assert!(
        notes
            .iter()
            .any(|n| matches!(n, Note::TooManyOpen { max: 200, .. })),
        "{notes:?}"
    );
    let words: Vec<String> = notes.iter().map(Note::to_string).collect();
    assert!(
        words
            .iter()
            .any(|n| n.starts_with("limit: more than 200 connections were open at once")),
        "{words:?}"
    );
    assert!(
        notes
            .iter()
            .any(|n| matches!(n, Note::ConnectionsNotListed { .. })),
        "{notes:?}"
    );
    assert!(facts.connections.len() <= 2 * siptriage::session::MAX_KEPT);
    assert!(facts.info.is_some_and(|i| i.frames > 40_000));
}

#[test]
fn fragment_flood_is_capped_and_reported() {
    let bytes = capture(Some(Hostile::Fragments), 2, 0.0);
    let mut cfg = Config::default();
    cfg.limits.max_fragments = 16;
    let (facts, _) = analyze_bytes(&bytes, &cfg).expect("reads");
    assert!(facts.decode.fragments_dropped > 1000, "{:?}", facts.decode);
    assert!(facts.notes.iter().any(|n| n
        .to_string()
        .contains("fragmented datagram(s) were dropped")));
}

#[test]
fn devices_past_the_limit_are_still_analyzed_and_the_limit_is_reported() {
    use siptriage_dev::cluster::{generate, Cluster};
    let mut bytes = Vec::new();
    let spec = Cluster {
        devices: 20,
        seconds: 120,
        expires: 60,
        nodes: 1,
        shares: Vec::new(),
        seed: 5,
        ..Cluster::default()
    };
    generate(&spec, &mut bytes).expect("generates");
    let (all, _) = analyze_bytes(&bytes, &Config::default()).expect("reads");
    assert_eq!(all.device_registrations.len(), 20);
    assert!(!all
        .notes
        .iter()
        .any(|n| matches!(n, Note::DeviceLimit { .. })));
    let mut cfg = Config::default();
    cfg.limits.max_devices = 2;
    let (facts, _) = analyze_bytes(&bytes, &cfg).expect("reads");
    // Every SIP message is still read and judged; only the devices past the limit lose the
    // memory of their earlier registrations.
    assert_eq!(facts.sip_total, all.sip_total);
    assert_eq!(facts.registered, all.registered);
    assert_eq!(facts.device_registrations.len(), 2);
    assert!(
        facts.notes.iter().any(|n| n
            .to_string()
            .starts_with("limit: more than 2 devices registered (the limit of devices followed)")),
        "{:?}",
        facts.notes
    );
}

#[test]
fn findings_stay_bounded_on_many_failing_clients() {
    use siptriage::diagnose::{Aggregator, Evidence, Occurrence};
    use siptriage::session::Party;
    let meta = siptriage::diagnose::catalogue::find("oauth-port-closed").expect("id");
    let mut agg = Aggregator::default();
    for i in 0..50_000u32 {
        let client = Party {
            ip: std::net::Ipv4Addr::from(0x0a00_0000 + i).into(),
            port: 40000,
            role: siptriage::net::Role::Client,
        };
        let server = Party {
            ip: std::net::Ipv4Addr::new(10, 10, (i % 3000 / 250) as u8, (i % 250) as u8).into(),
            port: 5090,
            role: siptriage::net::Role::Cucm,
        };
        agg.add(
            meta,
            Occurrence {
                device: None,
                client,
                server,
                alert: None,
                sip: None,
                evidence: vec![Evidence::frame(
                    u64::from(i) + 1,
                    siptriage::time::Ts(0),
                    Some(u64::from(i)),
                    "RST".into(),
                )],
                explanation: "refused".into(),
                filter: String::new(),
                trust: None,
            },
            20,
        );
    }
    let findings = agg.into_findings(0);
    let total: u64 = findings.iter().map(|f| f.occurrences).sum();
    assert_eq!(total, 50_000, "every occurrence is counted");
    let devices: u64 = findings.iter().map(|f| f.devices).sum();
    assert_eq!(devices, 50_000, "every client is listed or counted");
    assert!(
        findings.len() <= 2 * siptriage::diagnose::MAX_GROUPS + 1,
        "{} findings",
        findings.len()
    );
    assert!(findings.iter().all(|f| f.evidence.len() <= 20));
    assert!(findings
        .iter()
        .any(|f| f.explanation.contains("from many clients")));
}
