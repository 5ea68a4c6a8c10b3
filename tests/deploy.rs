//! What a NOC installs beside the sensor: the Prometheus alerting rules pass `promtool check
//! rules` and their unit tests (`promtool test rules`: series that must fire each alert and
//! series that must not), and every metric the rules and the Grafana dashboard name is one the
//! sensor serves (and every one it serves is on the dashboard).

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

const RULES: &str = "deploy/prometheus/siptriage-alerts.yml";
const RULE_TESTS: &str = "deploy/prometheus/siptriage-alerts.test.yml";
const DASHBOARD: &str = "deploy/grafana/siptriage-dashboard.json";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `promtool`, or `None` (said) where it is not installed; CI installs it (Debian's
/// prometheus package), so there its absence fails.
fn promtool() -> Option<&'static str> {
    let found = Command::new("promtool")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "promtool is missing: .ci/run installs Debian's prometheus package"
        );
        eprintln!("skipped: promtool is not installed (apt-get install prometheus)");
        return None;
    }
    Some("promtool")
}

#[test]
fn the_alerting_rules_pass_promtool_check_and_their_unit_tests() {
    let Some(promtool) = promtool() else { return };
    for args in [["check", "rules", RULES], ["test", "rules", RULE_TESTS]] {
        let out = Command::new(promtool)
            .args(args)
            .current_dir(root())
            .output()
            .expect("promtool runs");
        assert!(
            out.status.success(),
            "promtool {}: {}{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// The `siptriage_…` metric names in `text`.
fn names(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find("siptriage_") {
        let tail = &rest[at..];
        let end = tail
            .find(|c: char| !(c.is_ascii_lowercase() || c == '_'))
            .unwrap_or(tail.len());
        // Not a recording rule's name (`siptriage:…`) nor part of a longer word.
        let before = rest[..at].chars().last();
        if !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
            out.insert(tail[..end].to_string());
        }
        rest = &tail[end..];
    }
    out
}

/// The metric names the sensor serves (each announced by a HELP line, with or without
/// samples).
fn served() -> BTreeSet<String> {
    let m = siptriage::watch::metrics::Metrics::default();
    m.render(Some(1))
        .lines()
        .filter_map(|l| l.strip_prefix("# HELP "))
        .filter_map(|l| l.split(' ').next())
        .map(str::to_string)
        .collect()
}

#[test]
fn every_metric_the_rules_and_the_dashboard_name_is_one_the_sensor_serves() {
    let served = served();
    assert!(served.len() >= 15, "{served:?}");
    let rules = std::fs::read_to_string(root().join(RULES)).expect("rules");
    let dash_text = std::fs::read_to_string(root().join(DASHBOARD)).expect("dashboard");
    let dash: serde_json::Value = serde_json::from_str(&dash_text).expect("the dashboard is JSON");
    let mut exprs = String::new();
    for p in dash["panels"].as_array().expect("panels") {
        if p["type"] == "row" {
            continue;
        }
        let targets = p["targets"].as_array().expect("targets");
        assert!(!targets.is_empty(), "{} has no query", p["title"]);
        for t in targets {
            let e = t["expr"].as_str().expect("expr");
            exprs.push_str(e);
            exprs.push('\n');
        }
    }
    for (what, text) in [("the rules", &rules), ("the dashboard", &exprs)] {
        let named = names(text);
        assert!(!named.is_empty(), "{what} name no metric");
        let unknown: Vec<&String> = named.difference(&served).collect();
        assert!(
            unknown.is_empty(),
            "{what} name metrics the sensor does not serve: {unknown:?}"
        );
    }
    let on_panels = names(&exprs);
    let missing: Vec<&String> = served.difference(&on_panels).collect();
    assert!(missing.is_empty(), "served but on no panel: {missing:?}");
    // The alerts the README promises are there.
    for alert in [
        "SiptriageRegistrationSuccessLow",
        "SiptriageErrorFinding",
        "SiptriageRegisteredDevicesFalling",
        "SiptriageCaptureDrops",
        "SiptriageSensorDown",
    ] {
        assert!(rules.contains(&format!("alert: {alert}")), "{alert}");
    }
}

#[test]
fn a_misnamed_metric_is_caught() {
    // The check above can fail: a name the sensor does not serve is found.
    let named = names("sum(rate(siptriage_registrations_attempts_total[5m])) siptriage:x:5m");
    assert_eq!(
        named.into_iter().collect::<Vec<_>>(),
        ["siptriage_registrations_attempts_total"]
    );
    assert!(!served().contains("siptriage_registrations_attempts_total"));
}
