//! Every SIP message is analyzed, in windows judged while the capture is read (issue #10): the
//! findings never depend on where the windows fall. Each recorded fixture is judged whole and in
//! windows of a few messages (so that every registration attempt, every 200 OK kept as context
//! and every lapse between windows is exercised), and the findings must agree.

use siptriage::analyze::analyze;
use siptriage::config::Config;
use siptriage::report::Report;

mod common;

fn config(capture: &str, window: usize) -> Config {
    let mut cfg = Config::default();
    cfg.limits.sip_window = window;
    let keys = capture
        .trim_end_matches(".pcapng")
        .trim_end_matches(".pcap")
        .to_string()
        + ".keys";
    if let Ok(text) = std::fs::read_to_string(&keys) {
        cfg.secrets.keylog.add_text(&keys, &text);
    }
    cfg
}

/// What must not depend on the windows: per finding its id, severity, counts, affected devices
/// and its SIP answer; the verdict; the registrations listed.
fn judged(r: &Report) -> Vec<String> {
    let mut out: Vec<String> = r
        .findings
        .iter()
        .map(|f| {
            let mut affected: Vec<String> = f
                .affected
                .iter()
                .map(|a| format!("{:?}@{} x{}", a.device, a.address, a.occurrences))
                .collect();
            affected.sort();
            format!(
                "{} {:?} occurrences={} devices={} sip={:?} affected={affected:?}",
                f.id,
                f.severity,
                f.occurrences,
                f.devices,
                f.sip.as_ref().map(|s| s.status)
            )
        })
        .collect();
    out.sort();
    out.push(format!("verdict {:?}", r.verdict));
    for reg in &r.registrations {
        out.push(format!(
            "{} attempts={} answers={:?} frames={:?}",
            reg.device, reg.attempts, reg.answers, reg.frames
        ));
    }
    out
}

#[test]
fn findings_do_not_depend_on_the_sip_windows() {
    let mut captures: Vec<String> = std::fs::read_dir(common::fixture(""))
        .expect("fixtures")
        .filter_map(|e| e.ok())
        .map(|e| e.path().to_string_lossy().to_string())
        .filter(|p| p.ends_with(".pcap") || p.ends_with(".pcapng"))
        .collect();
    captures.sort();
    assert!(captures.len() > 30, "{} fixtures", captures.len());
    let mut windowed = 0;
    for capture in &captures {
        let whole = analyze(std::slice::from_ref(capture), &config(capture, usize::MAX));
        let sip = whole.tally.sip_messages;
        for window in [1, 2, 3, 5] {
            let part = analyze(std::slice::from_ref(capture), &config(capture, window));
            assert_eq!(
                judged(&part.report),
                judged(&whole.report),
                "{capture} judged in windows of {window} SIP message(s)"
            );
            assert_eq!(part.tally.sip_messages, sip);
            if sip as usize > window {
                windowed += 1;
            }
        }
    }
    assert!(
        windowed > 40,
        "only {windowed} runs had more than one window"
    );
}
