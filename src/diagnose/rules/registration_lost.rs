//! `registration-lost`: a registration ended without the device meaning it to. Either a later
//! REGISTER's `Reason: ... cisco-alarm:<n> ... Last=<why>` names why the previous registration
//! ended, or the device did not refresh within the Expires CUCM granted while the capture went on.

use crate::diagnose::util::{register_of, register_steps, sip_end, sip_evidence};
use crate::diagnose::{
    Anchored, CaptureRule, Claimed, Confidence, Cx, Evidence, Meta, On, Severity,
};
use crate::session::Registration;
use crate::sip::SipMessage;

/// The rule.
pub struct RegistrationLost;

static META: Meta = Meta {
    id: "registration-lost",
    title: "A registration was lost",
    meaning: "The device's registration ended without the device asking for it: the connection to \
              CUCM failed or was reset, or the refresh did not arrive in time.",
    severity: Severity::Warning,
    confidence: Confidence::Likely,
    signature: "a REGISTER whose Reason carries cisco-alarm 10, 12, 13, 14, 17, 22, 23 or 24 (the \
                previous registration's end), or no refresh within the Expires granted by the 200 \
                OK",
    fix: &[
        "By the reason: TCP timed out (10) or no refresh in time: firewall or NAT idle timers \
         shorter than the SIP keepalive (CUCM grants 120 s to CSF devices); raise them or lower \
         the SIP Station KeepAlive Interval.",
        "CUCM reset, aborted or closed the connection (12, 13, 14) or reset/restarted the device \
         (22, 23): look at CUCM's SDL traces at that time; a CallManager restart or a device \
         reset from the admin page does this.",
        "Registration timed out (17) or rejected (24): see the registration findings for the same \
         device.",
    ],
    source: "Cisco Jabber/CUCM alarm definitions (cisco-alarm reason codes); RFC 3261 section \
             10.2.4",
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

/// A registration that ended without the device asking: it lapsed, or a REGISTER's Reason
/// says how the one before ended.
pub enum Lost<'a> {
    /// No refresh within the Expires granted.
    Lapsed {
        /// The device.
        reg: &'a Registration,
        /// The REGISTER the 200 OK answered.
        req: &'a SipMessage,
        /// The 200 OK.
        ok: &'a SipMessage,
        /// The Expires it granted.
        granted: u32,
        /// The next REGISTER, when it came (late).
        next: Option<&'a SipMessage>,
    },
    /// A REGISTER whose Reason carries a cisco-alarm.
    Alarm {
        /// The device.
        reg: &'a Registration,
        /// The REGISTER.
        req: &'a SipMessage,
        /// The alarm's number.
        alarm: u32,
        /// Its `Last=` value.
        last: Option<String>,
    },
}

impl Anchored for Lost<'_> {
    fn on(&self) -> On<'_> {
        match *self {
            Lost::Lapsed { req, .. } | Lost::Alarm { req, .. } => On::Sip { req, resp: None },
        }
    }
}

impl CaptureRule for RegistrationLost {
    type Found<'a> = Lost<'a>;
    const META: &'static Meta = &META;

    fn check<'a>(&self, cx: &Cx<'a>, _claimed: &mut Claimed) -> Vec<Lost<'a>> {
        let f = cx.facts;
        let end = sip_end(cx);
        let mut out = Vec::new();
        for reg in &f.registrations {
            let steps = register_steps(cx, reg);
            // Alarms already told (Jabber repeats the Reason on every REGISTER of the new attempt).
            let mut told: Vec<(Option<String>, u32)> = Vec::new();
            for (i, &(_, req, resp)) in steps.iter().enumerate() {
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
                if let Some((n, num)) = next.and_then(|n| Some((n, alarm_of(n)?.0))) {
                    told.push((n.call_id.clone(), num));
                }
                out.push(Lost::Lapsed {
                    reg,
                    req,
                    ok,
                    granted,
                    next,
                });
            }
            // A live sensor told this device's lapse at its expiry: the Reason of the REGISTER
            // that followed is about that lapse.
            if f.lapse_told.contains(&reg.device) {
                continue;
            }
            for &(t, req, _) in &steps {
                let Some((n, last)) = alarm_of(req).filter(|_| !f.is_context(t)) else {
                    continue;
                };
                if told.contains(&(req.call_id.clone(), n)) {
                    continue;
                }
                told.push((req.call_id.clone(), n));
                out.push(Lost::Alarm {
                    reg,
                    req,
                    alarm: n,
                    last,
                });
            }
        }
        out
    }

    fn explain(&self, f: &Lost<'_>, cx: &Cx<'_>) -> String {
        match f {
            Lost::Lapsed {
                reg,
                ok,
                granted,
                next,
                ..
            } => {
                let then = match next {
                    Some(n) => format!(
                        "the next REGISTER came {:.0} s later ({})",
                        n.time.secs_since(ok.time),
                        n.at
                    ),
                    None => format!(
                        "no refresh followed in the {:.0} s the capture went on",
                        sip_end(cx).map_or(0.0, |e| e.secs_since(ok.time))
                    ),
                };
                let because = next
                    .and_then(alarm_of)
                    .map(|(num, last)| {
                        format!(
                            " That REGISTER's Reason says why the registration ended: cisco-alarm \
                             {num}, {}{}.",
                            alarm_meaning(num).unwrap_or_default(),
                            last_of(&last)
                        )
                    })
                    .unwrap_or_default();
                format!(
                    "CUCM granted {} an Expires of {granted} s (200 OK, {}), but {then}. \
                     The registration lapsed in between.{because}",
                    reg.device, ok.at,
                )
            }
            Lost::Alarm {
                reg,
                req,
                alarm,
                last,
            } => format!(
                "{} ({}) reports why its previous registration ended: cisco-alarm {alarm}, \
                 {}{}.",
                register_of(&reg.device),
                req.at,
                alarm_meaning(*alarm).unwrap_or_default(),
                last_of(last)
            ),
        }
    }

    fn evidence(&self, f: &Lost<'_>) -> Vec<Evidence> {
        match *f {
            Lost::Lapsed {
                ok, granted, next, ..
            } => {
                let ok = sip_evidence(ok, format!("200 OK granting Expires {granted}"));
                let next = next.map(|n| {
                    sip_evidence(
                        n,
                        "the next REGISTER, after the registration had lapsed".into(),
                    )
                });
                [ok].into_iter().chain(next).collect()
            }
            Lost::Alarm { req, alarm, .. } => vec![sip_evidence(
                req,
                format!(
                    "Reason: cisco-alarm:{alarm} ({})",
                    alarm_meaning(alarm).unwrap_or_default()
                ),
            )],
        }
    }

    fn device(&self, f: &Lost<'_>) -> Option<String> {
        match f {
            Lost::Lapsed { reg, .. } | Lost::Alarm { reg, .. } => Some(reg.device.clone()),
        }
    }
}

/// The cisco-alarm a REGISTER's Reason carries, when it is one that says a registration was
/// lost, with its `Last=` value.
fn alarm_of(m: &SipMessage) -> Option<(u32, Option<String>)> {
    let (n, last) = m.reason_header.as_deref().and_then(alarm)?;
    alarm_meaning(n).map(|_| (n, last))
}

/// ` (Last=x)`, or nothing.
fn last_of(last: &Option<String>) -> String {
    last.as_ref()
        .map(|l| format!(" (Last={l})"))
        .unwrap_or_default()
}
