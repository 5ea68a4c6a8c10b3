//! `registration-lost`: a registration ended without the device meaning it to. Either a later
//! REGISTER's `Reason: ... cisco-alarm:<n> ... Last=<why>` names why the previous registration
//! ended, or the device did not refresh within the Expires CUCM granted while the capture went on.

use crate::diagnose::util::register_of;
use crate::diagnose::util::{call_filter, register_steps, sip_evidence, sip_parties};
use crate::diagnose::{CaptureRule, Claimed, Confidence, Cx, Meta, Occurrence, Severity};

/// The rule.
pub struct RegistrationLost;

static META: Meta = Meta {
    id: "registration-lost",
    title: "A registration was lost",
    meaning: "The device's registration ended without the device asking for it: the connection to CUCM failed or was reset, or the refresh did not arrive in time.",
    severity: Severity::Warning,
    confidence: Confidence::Likely,
    signature: "a REGISTER whose Reason carries cisco-alarm 10, 12, 13, 14, 17, 22, 23 or 24 (the previous registration's end), or no refresh within the Expires granted by the 200 OK",
    fix: &[
        "By the reason: TCP timed out (10) or no refresh in time: firewall or NAT idle timers shorter than the SIP keepalive (CUCM grants 120 s to CSF devices); raise them or lower the SIP Station KeepAlive Interval.",
        "CUCM reset, aborted or closed the connection (12, 13, 14) or reset/restarted the device (22, 23): look at CUCM's SDL traces at that time; a CallManager restart or a device reset from the admin page does this.",
        "Registration timed out (17) or rejected (24): see the registration findings for the same device.",
    ],
    source: "Cisco Jabber/CUCM alarm definitions (cisco-alarm reason codes); RFC 3261 section 10.2.4",
};

/// What a cisco-alarm number says about how the previous registration ended.
pub fn alarm_meaning(n: u32) -> Option<&'static str> {
    Some(match n {
        10 => "the TCP connection timed out",
        12 => "CUCM reset the connection",
        13 => "CUCM aborted the connection",
        14 => "CUCM closed the connection",
        17 => "the registration timed out",
        22 => "CUCM reset the device",
        23 => "CUCM restarted the device",
        24 => "the registration was rejected",
        _ => return None,
    })
}

fn alarm(reason: &str) -> Option<(u32, Option<String>)> {
    let at = reason.find("cisco-alarm:")? + "cisco-alarm:".len();
    let n: u32 = reason[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .ok()?;
    let last = reason.find("Last=").map(|p| {
        reason[p + 5..]
            .chars()
            .take_while(|c| !c.is_whitespace() && *c != '"')
            .collect::<String>()
    });
    Some((n, last))
}

impl CaptureRule for RegistrationLost {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn check(&self, cx: &Cx<'_>, _claimed: &mut Claimed) -> Vec<Occurrence> {
        let f = cx.facts;
        let end = crate::diagnose::util::sip_end(cx);
        let mut out = Vec::new();
        for reg in &f.registrations {
            let steps = register_steps(cx, reg);
            // Alarms already told (Jabber repeats the Reason on every REGISTER of the new attempt).
            let mut told: Vec<(Option<String>, u32)> = Vec::new();
            for (i, (_, req, resp)) in steps.iter().enumerate() {
                let (client, server) = sip_parties(cx, req);
                let Some(ok) = resp.filter(|r| r.status == Some(200)) else {
                    continue;
                };
                let Some(granted) = ok.expires.filter(|e| *e > 0) else {
                    continue;
                };
                let next = steps[i + 1..].first().map(|(_, r, _)| *r);
                let late = match next {
                    Some(n) => n.time.secs_since(ok.time) > granted as f64,
                    // In a window judged while the capture is read, the refresh may come later.
                    None => {
                        f.sip_window.is_none()
                            && end.is_some_and(|e| e.secs_since(ok.time) > granted as f64 + 5.0)
                    }
                };
                if !late {
                    continue;
                }
                let why =
                    next.and_then(|n| n.reason_header.as_deref().and_then(alarm).map(|a| (n, a)));
                let mut because = String::new();
                if let Some((n, (num, last))) = &why {
                    if let Some(meaning) = alarm_meaning(*num) {
                        told.push((n.call_id.clone(), *num));
                        because = format!(
                            " That REGISTER's Reason says why the registration ended: cisco-alarm {num}, {meaning}{}.",
                            last.as_ref().map(|l| format!(" (Last={l})")).unwrap_or_default()
                        );
                    }
                }
                let mut evidence = vec![sip_evidence(
                    ok,
                    format!("200 OK granting Expires {granted}"),
                )];
                if let Some(n) = next {
                    evidence.push(sip_evidence(
                        n,
                        "the next REGISTER, after the registration had lapsed".into(),
                    ));
                }
                out.push(Occurrence {
                device: Some(reg.device.clone()),
trust: None,
                    explanation: format!(
                        "CUCM granted {} an Expires of {granted} s (200 OK, frame {}), but {}. The registration lapsed in between.{because}",
                        reg.device,
                        ok.frame,
                        match next {
                            Some(n) => format!("the next REGISTER came {:.0} s later (frame {})", n.time.secs_since(ok.time), n.frame),
                            None => format!("no refresh followed in the {:.0} s the capture went on", end.map_or(0.0, |e| e.secs_since(ok.time))),
                        }
                    ),
                    evidence,
                    filter: call_filter(req),
                    sip: None,
                    alert: None,
                    client,
                    server,
                });
            }
            // A live sensor told this device's lapse at its expiry: the Reason of the REGISTER
            // that followed is about that lapse.
            let lapse_told = f.lapse_told.contains(&reg.device);
            for (t, req, _) in &steps {
                if f.is_context(*t) || lapse_told {
                    continue;
                }
                let Some((n, last)) = req.reason_header.as_deref().and_then(alarm) else {
                    continue;
                };
                let Some(meaning) = alarm_meaning(n) else {
                    continue;
                };
                if told.contains(&(req.call_id.clone(), n)) {
                    continue;
                }
                told.push((req.call_id.clone(), n));
                let (client, server) = sip_parties(cx, req);
                out.push(Occurrence {
                device: Some(reg.device.clone()),
trust: None,
                    explanation: format!(
                        "{} (frame {}) reports why its previous registration ended: cisco-alarm {n}, {meaning}{}.",
                        register_of(&reg.device),
                        req.frame,
                        last.map(|l| format!(" (Last={l})")).unwrap_or_default()
                    ),
                    evidence: vec![sip_evidence(req, format!("Reason: cisco-alarm:{n} ({meaning})"))],
                    filter: call_filter(req),
                    sip: None,
                    alert: None,
                    client,
                    server,
                });
            }
        }
        out
    }
}
