//! `oauth-registration-ok` (info): REGISTER, 407 Bearer challenge, REGISTER with the Bearer
//! token, 200 OK.

use crate::diagnose::util::sip_evidence;
use crate::diagnose::{
    Anchored, CaptureRule, Claimed, Confidence, Cx, Evidence, Meta, On, Severity, SipRef,
};
use crate::place::At;
use crate::session::Registration;
use crate::sip::SipMessage;

/// The rule.
pub struct OauthRegistrationOk;

static META: Meta = Meta {
    id: "oauth-registration-ok",
    title: "SIP OAuth registration succeeded",
    meaning: "The device registered with its OAuth token; this is the healthy flow.",
    severity: Severity::Info,
    confidence: Confidence::Certain,
    signature: "REGISTER -> 407 with Proxy-Authenticate: Bearer -> REGISTER with \
                Proxy-Authorization: Bearer -> 200 OK",
    fix: &["Note: nothing to fix."],
    source: "Cisco TAC 215572 (healthy flow)",
};

/// A REGISTER with a Bearer token answered 200 OK, after the Bearer challenge when one came.
pub struct Registered<'a> {
    reg: &'a Registration,
    req: &'a SipMessage,
    ok: &'a SipMessage,
    /// Where the Bearer challenge before it was seen, if one came.
    challenge: Option<At>,
}

impl Anchored for Registered<'_> {
    fn on(&self) -> On<'_> {
        On::Sip {
            req: self.req,
            resp: Some(self.ok),
        }
    }
}

impl CaptureRule for OauthRegistrationOk {
    type Found<'a> = Registered<'a>;
    const META: &'static Meta = &META;

    fn check<'a>(&self, cx: &Cx<'a>, _claimed: &mut Claimed) -> Vec<Registered<'a>> {
        let f = cx.facts;
        let mut out = Vec::new();
        for reg in &f.registrations {
            let mut challenge = None;
            for &t in &reg.transactions {
                if f.is_context(t) {
                    continue;
                }
                let tx = &f.transactions[t];
                let req = &f.sip[tx.request];
                let Some(resp) = tx.final_response(&f.sip) else {
                    continue;
                };
                if resp.status == Some(407) && resp.has_auth("Proxy-Authenticate", "Bearer") {
                    challenge = Some(resp.at.clone());
                }
                let bearer = req.has_auth("Proxy-Authorization", "Bearer")
                    || req.has_auth("Authorization", "Bearer");
                if resp.status == Some(200) && bearer {
                    out.push(Registered {
                        reg,
                        req,
                        ok: resp,
                        challenge: challenge.clone(),
                    });
                }
            }
        }
        out
    }

    fn explain(&self, f: &Registered<'_>, _cx: &Cx<'_>) -> String {
        let how = match &f.challenge {
            Some(at) => format!(" after the Bearer challenge (407, {at})"),
            None => " (a refresh carrying the Bearer token)".to_string(),
        };
        let granted =
            f.ok.expires
                .map(|e| format!(" CUCM granted Expires {e} s."))
                .unwrap_or_default();
        format!(
            "Device {} registered with its OAuth Bearer token{how}: REGISTER ({}) answered \
             200 OK ({}) by {}:{}.{granted}",
            f.reg.device, f.req.at, f.ok.at, f.req.dst.ip, f.req.dst.port
        )
    }

    fn evidence(&self, f: &Registered<'_>) -> Vec<Evidence> {
        vec![sip_evidence(
            f.ok,
            "200 OK to REGISTER with Bearer token".into(),
        )]
    }

    fn filter(&self, _f: &Registered<'_>) -> String {
        "sip.Method == \"REGISTER\" || sip.CSeq.method == \"REGISTER\"".into()
    }

    fn device(&self, f: &Registered<'_>) -> Option<String> {
        Some(f.reg.device.clone())
    }

    fn sip(&self, f: &Registered<'_>) -> Option<SipRef> {
        Some(SipRef {
            status: 200,
            reason: f.ok.reason.clone().unwrap_or_default(),
            warning: None,
        })
    }
}
