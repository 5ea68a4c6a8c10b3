//! The shape of a rule. A rule *matches*: its `check` returns typed occurrences (its
//! `Found`: the facts its wording needs, with the event it rests on, [`On`]). Its *wording* (the
//! explanation, and the evidence notes or filter when they differ from the event's own) is
//! declared beside the check, over those facts; its catalogue entry ([`Meta`]: title, meaning,
//! fix) beside both. One builder ([`occurrence`]) turns what a rule found into the
//! [`Occurrence`] the [`super::Aggregator`] groups: parties, device, TLS alert or SIP answer,
//! evidence, filter and trust check, the same way for every rule.
//!
//! The shared walks the rules match over are here too: [`Cx::registers`] and
//! [`Cx::register_answers`] (each REGISTER transaction, with its final answer),
//! [`Cx::claim_answers`], [`ConnCx::oauth`] and [`ConnCx::claim_oauth`] (the connection when
//! it is to an OAuth port), [`ConnCx::fatal_alerts`], [`ConnCx::claim_alerts`] and
//! [`AlertFound::claim`].

use super::util::{alert_evidence, alert_filter, alert_ref, call_filter, sip_parties, sip_ref};
use super::{Claimed, ConnCx, Cx, Evidence, Meta, Occurrence, SipRef};
use crate::config::{Config, PortKind};
use crate::net::Side;
use crate::session::{Connection, HttpEntry, Party, Transaction};
use crate::sip::SipMessage;
use crate::tls::{Alert, AlertDescription};
use crate::trust::TrustResult;

/// What an occurrence rests on: the event the builder takes the parties, the TLS alert or SIP
/// answer, the default evidence, filter and trust check from.
#[derive(Clone, Copy)]
pub enum On<'a> {
    /// A fatal TLS alert on a connection; `chain`: the side whose certificate chain it
    /// answered (cited as evidence, its trust check reported), if any.
    Alert {
        /// The connection.
        conn: &'a Connection,
        /// The alert.
        alert: &'a Alert,
        /// Whose chain it answered.
        chain: Option<Side>,
    },
    /// A connection (a refused or unanswered SYN, a handshake cut short or closed).
    Conn(&'a Connection),
    /// A SIP request, with the answer that decides it when the finding rests on one.
    Sip {
        /// The request.
        req: &'a SipMessage,
        /// The answer cited as the finding's SIP answer.
        resp: Option<&'a SipMessage>,
    },
    /// A SIP answer whose request was not seen.
    Answer(&'a SipMessage),
    /// An HTTP exchange (a device configuration file).
    Http(&'a HttpEntry),
}

impl<'a> On<'a> {
    /// The client and the server.
    pub fn parties(&self, cx: &Cx<'_>) -> (Party, Party) {
        match *self {
            On::Alert { conn, .. } | On::Conn(conn) => (conn.client.clone(), conn.server.clone()),
            On::Sip { req, .. } => sip_parties(cx, req),
            On::Answer(resp) => {
                // The answer travels from the server (its src) to the client.
                let (cr, sr) = cx.port_kind(resp.src.port).roles();
                (
                    Party {
                        ip: resp.dst.ip,
                        port: resp.dst.port,
                        role: cr,
                    },
                    Party {
                        ip: resp.src.ip,
                        port: resp.src.port,
                        role: sr,
                    },
                )
            }
            On::Http(h) => (h.client.clone(), h.server.clone()),
        }
    }

    /// The device a SIP request names.
    pub fn device(&self) -> Option<String> {
        match self {
            On::Sip { req, .. } => req.device.clone(),
            _ => None,
        }
    }

    /// The SIP answer the finding rests on.
    pub fn sip(&self) -> Option<SipRef> {
        match self {
            On::Sip { resp: Some(r), .. } | On::Answer(r) => Some(sip_ref(r)),
            _ => None,
        }
    }

    /// The evidence the event itself gives: an alert with the chain it answered.
    pub fn evidence(&self) -> Vec<Evidence> {
        match *self {
            On::Alert { conn, alert, chain } => alert_evidence(conn, alert, chain),
            _ => Vec::new(),
        }
    }

    /// The Wireshark filter that shows the event.
    pub fn filter(&self) -> String {
        match *self {
            On::Alert { conn, alert, .. } => alert_filter(conn, alert.code.map_or(0, |x| x.0)),
            On::Conn(c) => format!("tcp.stream == {}", c.tcp_stream),
            On::Sip { req, .. } => call_filter(req),
            On::Answer(resp) => call_filter(resp),
            On::Http(h) => format!(
                "http.request.uri contains \"{}\"",
                h.path.rsplit('/').next().unwrap_or("")
            ),
        }
    }

    /// The offline trust check of the chain an alert answered.
    pub fn trust(&self) -> Option<TrustResult> {
        match *self {
            On::Alert {
                conn,
                chain: Some(side),
                ..
            } => super::util::chain_trust(conn, side),
            _ => None,
        }
    }

    /// The alert, as the contract shows it.
    fn alert(&self) -> Option<super::AlertRef> {
        match self {
            On::Alert { alert, .. } => Some(alert_ref(alert)),
            _ => None,
        }
    }
}

/// A typed occurrence: what one rule found once, with the event it rests on. A rule declares
/// its own when its wording needs more than the event ([`AlertFound`], [`ConnFound`],
/// [`AnswerFound`] and [`RequestFound`] serve the rest).
pub trait Anchored {
    /// The event it rests on.
    fn on(&self) -> On<'_>;
}

/// A fatal alert on a connection, answering `chain`'s certificate (when it answered one).
#[derive(Clone, Copy)]
pub struct AlertFound<'a> {
    /// The connection.
    pub conn: &'a Connection,
    /// The alert.
    pub alert: &'a Alert,
    /// Whose chain it answered.
    pub chain: Option<Side>,
}

impl Anchored for AlertFound<'_> {
    fn on(&self) -> On<'_> {
        On::Alert {
            conn: self.conn,
            alert: self.alert,
            chain: self.chain,
        }
    }
}

/// A connection.
#[derive(Clone, Copy)]
pub struct ConnFound<'a>(pub &'a Connection);

impl Anchored for ConnFound<'_> {
    fn on(&self) -> On<'_> {
        On::Conn(self.0)
    }
}

/// A SIP request and the answer the finding rests on.
#[derive(Clone, Copy)]
pub struct AnswerFound<'a> {
    /// The request.
    pub req: &'a SipMessage,
    /// The answer.
    pub resp: &'a SipMessage,
}

impl Anchored for AnswerFound<'_> {
    fn on(&self) -> On<'_> {
        On::Sip {
            req: self.req,
            resp: Some(self.resp),
        }
    }
}

/// A SIP request the finding rests on alone (no answer cited).
#[derive(Clone, Copy)]
pub struct RequestFound<'a>(pub &'a SipMessage);

impl Anchored for RequestFound<'_> {
    fn on(&self) -> On<'_> {
        On::Sip {
            req: self.0,
            resp: None,
        }
    }
}

/// A rule that judges one connection at a time, as each connection is settled while the
/// capture is still being read.
pub trait ConnectionRule: Send + Sync {
    /// One occurrence, typed.
    type Found<'a>: Anchored;
    /// The catalogue entry.
    const META: &'static Meta;
    /// Matching: the events of this connection this rule explains.
    fn check<'a>(&self, cx: &ConnCx<'a>, claimed: &mut Claimed) -> Vec<Self::Found<'a>>;
    /// Wording: what one of them shows, in a sentence or a few.
    fn explain(&self, f: &Self::Found<'_>, cfg: &Config) -> String;
    /// Wording: the evidence, with what each place shows.
    fn evidence(&self, f: &Self::Found<'_>) -> Vec<Evidence> {
        f.on().evidence()
    }
    /// The Wireshark filter.
    fn filter(&self, f: &Self::Found<'_>) -> String {
        f.on().filter()
    }
    /// The trust check of the chain concerned.
    fn trust(&self, f: &Self::Found<'_>) -> Option<TrustResult> {
        f.on().trust()
    }
}

/// A rule that judges the SIP, HTTP and connections of a capture together: each window of SIP
/// while the capture is read, and the last one with the whole capture's facts.
pub trait CaptureRule: Send + Sync {
    /// One occurrence, typed.
    type Found<'a>: Anchored;
    /// The catalogue entry.
    const META: &'static Meta;
    /// Matching: the events of the capture this rule explains.
    fn check<'a>(&self, cx: &Cx<'a>, claimed: &mut Claimed) -> Vec<Self::Found<'a>>;
    /// Wording: what one of them shows.
    fn explain(&self, f: &Self::Found<'_>, cx: &Cx<'_>) -> String;
    /// Wording: the evidence, with what each place shows.
    fn evidence(&self, f: &Self::Found<'_>) -> Vec<Evidence> {
        f.on().evidence()
    }
    /// The Wireshark filter.
    fn filter(&self, f: &Self::Found<'_>) -> String {
        f.on().filter()
    }
    /// The device or user it concerns.
    fn device(&self, f: &Self::Found<'_>) -> Option<String> {
        f.on().device()
    }
    /// The client and the server.
    fn parties(&self, f: &Self::Found<'_>, cx: &Cx<'_>) -> (Party, Party) {
        f.on().parties(cx)
    }
    /// The SIP answer cited.
    fn sip(&self, f: &Self::Found<'_>) -> Option<SipRef> {
        f.on().sip()
    }
    /// For a rule over facts every window sees again (settled connections, HTTP requests):
    /// what makes an occurrence the same one, so that it is told once however often it is
    /// found (`None`: each occurrence counts).
    fn once(&self, _f: &Self::Found<'_>) -> Option<String> {
        None
    }
}

/// The one builder: an occurrence from the event, the parties and the rule's wording.
#[allow(clippy::too_many_arguments)]
pub fn occurrence(
    on: &On<'_>,
    device: Option<String>,
    (client, server): (Party, Party),
    sip: Option<SipRef>,
    explanation: String,
    evidence: Vec<Evidence>,
    filter: String,
    trust: Option<TrustResult>,
) -> Occurrence {
    Occurrence {
        device,
        client,
        server,
        alert: on.alert(),
        sip,
        evidence,
        explanation,
        filter,
        trust,
    }
}

/// A connection rule behind one interface, whatever its facts (the registry holds these).
pub trait JudgesConnections: Send + Sync {
    /// The catalogue entry.
    fn meta(&self) -> &'static Meta;
    /// What the rule found on `cx.conn`, built.
    fn judge(&self, cx: &ConnCx<'_>, claimed: &mut Claimed) -> Vec<Occurrence>;
}

impl<R: ConnectionRule> JudgesConnections for R {
    fn meta(&self) -> &'static Meta {
        R::META
    }

    fn judge(&self, cx: &ConnCx<'_>, claimed: &mut Claimed) -> Vec<Occurrence> {
        self.check(cx, claimed)
            .iter()
            .map(|f| {
                let on = f.on();
                // A connection rule's events are all on the one connection it judges.
                let parties = (cx.conn.client.clone(), cx.conn.server.clone());
                occurrence(
                    &on,
                    None,
                    parties,
                    on.sip(),
                    self.explain(f, cx.cfg),
                    self.evidence(f),
                    self.filter(f),
                    self.trust(f),
                )
            })
            .collect()
    }
}

/// A capture rule behind one interface, whatever its facts.
pub trait JudgesCaptures: Send + Sync {
    /// The catalogue entry.
    fn meta(&self) -> &'static Meta;
    /// What the rule found in the window, built, each with its once-key
    /// ([`CaptureRule::once`]).
    fn judge(&self, cx: &Cx<'_>, claimed: &mut Claimed) -> Vec<(Option<String>, Occurrence)>;
}

impl<R: CaptureRule> JudgesCaptures for R {
    fn meta(&self) -> &'static Meta {
        R::META
    }

    fn judge(&self, cx: &Cx<'_>, claimed: &mut Claimed) -> Vec<(Option<String>, Occurrence)> {
        self.check(cx, claimed)
            .iter()
            .map(|f| {
                let o = occurrence(
                    &f.on(),
                    self.device(f),
                    self.parties(f, cx),
                    self.sip(f),
                    self.explain(f, cx),
                    self.evidence(f),
                    self.filter(f),
                    None,
                );
                (self.once(f), o)
            })
            .collect()
    }
}

impl<'a> Cx<'a> {
    /// Each REGISTER transaction with its index (for claiming) and its request.
    pub fn registers(&self) -> impl Iterator<Item = (usize, &'a Transaction, &'a SipMessage)> + 'a {
        let sip = &self.facts.sip;
        self.facts
            .transactions
            .iter()
            .enumerate()
            .map(move |(t, tx)| (t, tx, &sip[tx.request]))
            .filter(|(_, _, req)| req.method == "REGISTER")
    }

    /// Each REGISTER transaction with its final answer, with its index (for claiming).
    pub fn register_answers(
        &self,
    ) -> impl Iterator<Item = (usize, &'a SipMessage, &'a SipMessage)> + 'a {
        let sip = &self.facts.sip;
        self.registers()
            .filter_map(move |(t, tx, req)| Some((t, req, tx.final_response(sip)?)))
    }

    /// The REGISTER transactions whose final answer `matches`, claimed (none an earlier rule
    /// explained).
    pub fn claim_answers(
        &self,
        claimed: &mut Claimed,
        matches: impl Fn(&SipMessage, &SipMessage) -> bool,
    ) -> Vec<AnswerFound<'a>> {
        self.register_answers()
            .filter(|&(t, req, resp)| matches(req, resp) && claimed.transaction(t))
            .map(|(_, req, resp)| AnswerFound { req, resp })
            .collect()
    }
}

impl<'a> ConnCx<'a> {
    /// The connection, when it is to a SIP OAuth port.
    pub fn oauth(&self) -> Option<&'a Connection> {
        Some(self.conn).filter(|c| c.is_oauth())
    }

    /// The connection, when it is to a SIP OAuth port, `matches`, and no earlier rule claimed
    /// it (this rule claims it).
    pub fn claim_oauth(
        &self,
        claimed: &mut Claimed,
        matches: impl Fn(&Connection) -> bool,
    ) -> Vec<ConnFound<'a>> {
        self.oauth()
            .filter(|c| matches(c) && claimed.connection(c.tcp_stream))
            .map(ConnFound)
            .into_iter()
            .collect()
    }

    /// Fatal alerts read in clear (or decrypted) on the connection.
    pub fn fatal_alerts(&self) -> impl Iterator<Item = &'a Alert> + 'a {
        self.conn
            .tls
            .iter()
            .flat_map(|t| t.alerts.iter())
            .filter(|a| a.is_fatal() && a.code.is_some())
    }

    /// Fatal alerts `sender` sent with one of `codes` on a port of `kinds` that no earlier
    /// rule claimed (this rule claims them), each answering the other side's chain.
    pub fn claim_alerts(
        &self,
        claimed: &mut Claimed,
        kinds: &[PortKind],
        sender: Side,
        codes: &[AlertDescription],
    ) -> Vec<AlertFound<'a>> {
        let c = self.conn;
        self.fatal_alerts()
            .filter(|a| {
                kinds.contains(&c.port_kind)
                    && a.sent_by == sender
                    && codes.contains(&a.code.unwrap_or(AlertDescription(0)))
                    && claimed.alert(c, a)
            })
            .map(|alert| AlertFound {
                conn: c,
                alert,
                chain: Some(sender.other()),
            })
            .collect()
    }
}

impl<'a> AlertFound<'a> {
    /// `alert` on `conn`, answering `chain`'s certificate, claimed with its connection; `None`
    /// when an earlier rule explained the alert.
    pub fn claim(
        claimed: &mut Claimed,
        conn: &'a Connection,
        alert: &'a Alert,
        chain: Option<Side>,
    ) -> Option<AlertFound<'a>> {
        if !claimed.alert(conn, alert) {
            return None;
        }
        claimed.connection(conn.tcp_stream);
        Some(AlertFound { conn, alert, chain })
    }
}
