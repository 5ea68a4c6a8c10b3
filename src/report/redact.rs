//! `--redact ips,users,hosts`: replaces addresses, user and device names, and host names with
//! pseudonyms, consistently within a report (the same value always gets the same pseudonym), so
//! a report can leave the customer. Addresses stay addresses (198.18.0.0/15 and 2001:db8::/32,
//! ranges reserved for tests and documentation); names become `device-N`, `user-N`, `host-N`.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::diagnose::Finding;
use crate::report::Report;
use crate::session::Connection;

/// What to redact.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Redaction {
    /// IP addresses.
    pub ips: bool,
    /// User and device names.
    pub users: bool,
    /// Host names (certificate names, SNI, Warning agents).
    pub hosts: bool,
}

/// A `--redact` word that names no class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownClass(pub String);

impl std::fmt::Display for UnknownClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "unknown --redact item \"{}\": the classes are ips, users, hosts and all",
            self.0
        )
    }
}

impl std::error::Error for UnknownClass {}

impl Redaction {
    /// Parses `ips,users,hosts` (any subset; `all` for everything).
    pub fn parse(list: &[String]) -> Result<Self, UnknownClass> {
        let mut r = Redaction::default();
        for item in list {
            match item.trim() {
                "ips" | "ip" => r.ips = true,
                "users" | "user" => r.users = true,
                "hosts" | "host" => r.hosts = true,
                "all" => {
                    r = Redaction {
                        ips: true,
                        users: true,
                        hosts: true,
                    }
                }
                other => return Err(UnknownClass(other.to_string())),
            }
        }
        Ok(r)
    }

    /// Nothing to do.
    pub fn is_empty(&self) -> bool {
        !(self.ips || self.users || self.hosts)
    }
}

#[derive(Default)]
struct Map {
    ips: BTreeMap<IpAddr, IpAddr>,
    /// Every value with its pseudonym, and one automaton that finds them all in one pass.
    order: Vec<(String, String)>,
    finder: Option<aho_corasick::AhoCorasick>,
    names: BTreeMap<String, String>,
    counts: BTreeMap<&'static str, usize>,
    /// A value was added since `order` was built.
    stale: bool,
    /// Addresses and host names only a free text showed, named after the structured ones
    /// (so that a text never changes the pseudonyms the rest got).
    pending_ips: Vec<IpAddr>,
    pending_hosts: Vec<String>,
}

impl Map {
    fn ip(&mut self, ip: IpAddr) -> IpAddr {
        if let Some(p) = self.ips.get(&ip) {
            return *p;
        }
        let n = self.ips.len() as u32 + 1;
        let p = match ip {
            IpAddr::V4(_) => {
                IpAddr::V4(Ipv4Addr::from(u32::from(Ipv4Addr::new(198, 18, 0, 0)) + n))
            }
            IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, n as u16)),
        };
        self.ips.insert(ip, p);
        self.stale = true;
        p
    }

    fn name(&mut self, kind: &'static str, value: &str) {
        let v = value.trim();
        if v.len() < 2 || self.names.contains_key(v) {
            return;
        }
        let n = self.counts.entry(kind).or_insert(0);
        *n += 1;
        let pseudonym = format!("{kind}-{n}");
        if kind == "device" {
            // Its configuration file names it too, glued to the extension.
            for ext in [".cnf.xml", ".cnf.xml.enc.sgn"] {
                self.names
                    .insert(format!("{v}{ext}"), format!("{pseudonym}{ext}"));
            }
        }
        self.names.insert(v.to_string(), pseudonym);
        self.stale = true;
    }

    fn finish(&mut self) {
        let mut all: Vec<(String, String)> = self
            .ips
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        all.extend(self.names.iter().map(|(k, v)| (k.clone(), v.clone())));
        all.retain(|(k, _)| !k.is_empty());
        all.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.0.cmp(&b.0)));
        self.finder = aho_corasick::AhoCorasick::new(all.iter().map(|(k, _)| k)).ok();
        self.order = all;
        self.stale = false;
    }

    /// `s` with every value replaced by its pseudonym where it stands as a whole token, in one
    /// pass: at each place the longest value that stands alone wins, and a pseudonym written
    /// is never searched again.
    fn text(&self, s: &str) -> String {
        let Some(finder) = &self.finder else {
            return s.to_string();
        };
        let mut found: Vec<(usize, usize, usize)> = finder
            .find_overlapping_iter(s)
            .map(|m| (m.start(), m.end(), m.pattern().as_usize()))
            .filter(|&(a, b, _)| standalone(s, a, b))
            .collect();
        if found.is_empty() {
            return s.to_string();
        }
        // Leftmost first, and at one place the longest.
        found.sort_by(|x, y| x.0.cmp(&y.0).then(y.1.cmp(&x.1)));
        let mut out = String::with_capacity(s.len());
        let mut at = 0;
        for (a, b, p) in found {
            if a < at {
                continue;
            }
            out.push_str(&s[at..a]);
            out.push_str(&self.order[p].1);
            at = b;
        }
        out.push_str(&s[at..]);
        out
    }
}

/// Whether `s[a..b]` stands as a whole token: not part of a longer name or address.
fn standalone(s: &str, a: usize, b: usize) -> bool {
    let key = &s[a..b];
    let before = s[..a].chars().next_back();
    let mut after = s[b..].chars();
    let (next, next2) = (after.next(), after.next());
    let glued_before = before.is_some_and(|c| {
        word(c) || (c == '.' && key.starts_with(|k: char| k.is_ascii_alphanumeric()))
    });
    let glued_after = next.is_some_and(word)
        || (next == Some('.') && next2.is_some_and(|c| c.is_ascii_alphanumeric()));
    !glued_before && !glued_after
}

fn word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// The IP addresses written in a text (`10.1.1.1`, `10.1.1.1:5061`, `[2001:db8::1]:5061`).
fn addresses_in(text: &str) -> Vec<IpAddr> {
    let mut out = Vec::new();
    for token in
        text.split(|c: char| !(c.is_ascii_hexdigit() || matches!(c, '.' | ':' | '[' | ']')))
    {
        let t = token.trim_matches(|c| c == '.' || c == ':');
        let bare = t.strip_prefix('[').and_then(|x| x.split(']').next());
        let candidates = [
            Some(t),
            bare,
            t.rsplit_once(':').map(|x| x.0).filter(|h| h.contains('.')),
        ];
        if let Some(ip) = candidates
            .into_iter()
            .flatten()
            .find_map(|c| c.parse::<IpAddr>().ok())
        {
            if !out.contains(&ip) {
                out.push(ip);
            }
        }
    }
    out
}

fn cn_and_dns(subject: &str) -> Vec<String> {
    subject
        .split(", ")
        .filter_map(|p| p.strip_prefix("CN="))
        .map(str::to_string)
        .collect()
}

/// Device names that only a file name shows: `CSFrado.cnf.xml`, `SEP00505600AB77.cnf.xml.enc.sgn`.
fn config_file_devices(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(p) = rest.find(".cnf.xml") {
        let start = rest[..p]
            .rfind(|c: char| !(word(c) || c == '.'))
            .map_or(0, |i| i + 1);
        let name = &rest[start..p];
        if !name.is_empty() {
            out.push(name.to_string());
        }
        rest = &rest[p + ".cnf.xml".len()..];
    }
    out
}

/// Redacts item by item, learning the values to replace as it goes, so that a stream (JSON
/// Lines) is redacted as it is written, with the same pseudonym for the same value throughout.
/// [`apply`] uses it on a whole report.
#[derive(Default)]
pub struct Redactor {
    what: Redaction,
    m: Map,
}

impl Redactor {
    /// A redactor for `what`.
    pub fn new(what: Redaction) -> Self {
        Redactor {
            what,
            ..Default::default()
        }
    }

    /// Nothing is redacted.
    pub fn is_empty(&self) -> bool {
        self.what.is_empty()
    }

    /// A user or device name to replace wherever it appears.
    pub fn learn_device(&mut self, name: &str) {
        if self.what.users {
            self.m.name("device", name);
        }
    }

    /// A host name to replace wherever it appears.
    pub fn learn_host(&mut self, name: &str) {
        if self.what.hosts {
            self.m.name("host", name);
        }
    }

    /// Names inside a text that only the text shows: a device's configuration file name, and
    /// the addresses and certificate host names (`CN=…`) a log's event names.
    pub fn learn_text(&mut self, text: &str) {
        for d in config_file_devices(text) {
            self.learn_device(&d);
        }
        if self.what.ips {
            for ip in addresses_in(text) {
                if !self.m.ips.contains_key(&ip) && !self.m.pending_ips.contains(&ip) {
                    self.m.pending_ips.push(ip);
                }
            }
        }
        if self.what.hosts {
            for h in text.split("CN=").skip(1) {
                let h = h
                    .split([',', '/', ' ', ')', '"', ';'])
                    .next()
                    .unwrap_or("")
                    .trim_end_matches('.');
                // Only what reads as a host name (dotted, no spaces): not a CA's words.
                let host = h.contains('.')
                    && h.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_');
                if host && !self.m.pending_hosts.iter().any(|x| x == h) {
                    self.m.pending_hosts.push(h.to_string());
                }
            }
        }
    }

    /// The host names a connection shows: SNI, certificate CN and DNS names.
    pub fn learn_connection(&mut self, c: &Connection) {
        let Some(t) = &c.tls else { return };
        if let Some(sni) = t.client_hello.as_ref().and_then(|h| h.sni.as_ref()) {
            self.learn_host(sni);
        }
        for ch in &t.chains {
            for c in &ch.certificates {
                for n in cn_and_dns(&c.subject).into_iter().chain(
                    c.san
                        .iter()
                        .filter_map(|s| s.strip_prefix("DNS:"))
                        .map(str::to_string),
                ) {
                    self.learn_host(&n);
                }
            }
        }
    }

    /// The Warning agent of a SIP Warning text (`399 agent "text"`).
    pub fn learn_warning(&mut self, warning: &str) {
        if let Some(agent) = warning.split_whitespace().nth(1) {
            self.learn_host(agent);
        }
    }

    /// An address, when addresses are redacted (the same pseudonym every time).
    pub fn ip(&mut self, ip: &mut IpAddr) {
        if self.what.ips {
            *ip = self.m.ip(*ip);
        }
    }

    /// Replaces every learned value inside a text.
    pub fn text(&mut self, s: &mut String) {
        if self.what.is_empty() {
            return;
        }
        // What only texts showed is named now, after everything else.
        for ip in std::mem::take(&mut self.m.pending_ips) {
            self.m.ip(ip);
        }
        for h in std::mem::take(&mut self.m.pending_hosts) {
            self.m.name("host", &h);
        }
        // The replacement order is rebuilt only when a new value was learned.
        if self.m.stale {
            self.m.finish();
        }
        *s = self.m.text(s);
    }

    fn opt(&mut self, s: &mut Option<String>) {
        if let Some(x) = s {
            self.text(x);
        }
    }

    /// A whole finding: its endpoints and every text in it, learning the names only its texts
    /// show first (for streams).
    pub fn finding(&mut self, f: &mut Finding) {
        self.learn_text(&f.explanation);
        for e in &f.evidence {
            self.learn_text(&e.note);
        }
        for a in &f.affected {
            if let Some(d) = &a.device {
                self.learn_device(d);
            }
        }
        self.finding_ips(f);
        self.finding_texts(f);
    }

    /// The addresses of a finding: its parties and every client it affects.
    pub fn finding_ips(&mut self, f: &mut Finding) {
        self.ip(&mut f.client.ip);
        self.ip(&mut f.server.ip);
        for a in &mut f.affected {
            self.ip(&mut a.address);
        }
    }

    /// The texts of a finding.
    pub fn finding_texts(&mut self, f: &mut Finding) {
        for a in &mut f.affected {
            self.opt(&mut a.device);
        }
        self.text(&mut f.explanation);
        self.text(&mut f.wireshark_filter);
        for e in &mut f.evidence {
            self.text(&mut e.note);
        }
        if let Some(s) = &mut f.sip {
            self.opt(&mut s.warning);
        }
        if let Some(tr) = &mut f.trust {
            self.opt(&mut tr.missing_ca);
            self.opt(&mut tr.reason);
        }
    }

    /// The addresses of a connection (learned in the order they are redacted).
    pub fn connection_ips(&mut self, c: &mut Connection) {
        self.ip(&mut c.client.ip);
        self.ip(&mut c.server.ip);
    }

    /// The texts of a connection: SNI, certificates, CA names.
    pub fn connection_texts(&mut self, c: &mut Connection) {
        let Some(tls) = &mut c.tls else { return };
        if let Some(h) = &mut tls.client_hello {
            self.opt(&mut h.sni);
        }
        for ch in &mut tls.chains {
            for c in &mut ch.certificates {
                let c = std::sync::Arc::make_mut(c);
                self.text(&mut c.subject);
                self.text(&mut c.issuer);
                for s in &mut c.san {
                    self.text(s);
                }
            }
            if let Some(tr) = &mut ch.trust {
                self.opt(&mut tr.missing_ca);
            }
        }
        if let Some(req) = &mut tls.certificate_request {
            for n in &mut req.ca_names {
                self.text(n);
            }
        }
        self.opt(&mut tls.malformed);
    }

    /// A whole connection, learning its names first (for streams).
    pub fn connection(&mut self, c: &mut Connection) {
        self.learn_connection(c);
        self.connection_ips(c);
        self.connection_texts(c);
    }
}

/// Applies `what` to `report` in place.
pub fn apply(report: &mut Report, what: Redaction) {
    apply_with(report, &mut Redactor::new(what));
}

/// Applies `r` to `report` in place, with the pseudonyms `r` already gave (a sensor's report
/// after its events) kept.
pub fn apply_with(report: &mut Report, r: &mut Redactor) {
    if r.is_empty() {
        return;
    }
    let what = r.what;
    // Collect, in report order, so pseudonyms are stable for a given report.
    for reg in &report.registrations {
        r.learn_device(&reg.device);
    }
    for s in &report.sip {
        if let Some(d) = &s.device {
            r.learn_device(d);
        }
    }
    for f in &report.findings {
        r.learn_text(&f.explanation);
        for e in &f.evidence {
            r.learn_text(&e.note);
        }
    }
    for n in &report.notes {
        r.learn_text(n);
    }
    for e in &report.connections {
        r.learn_connection(&e.connection);
    }
    for s in &report.sip {
        if let Some(w) = s.warnings.first() {
            r.learn_host(&w.agent);
        }
    }
    for f in &report.findings {
        for a in &f.affected {
            if let Some(d) = &a.device {
                r.learn_device(d);
            }
        }
    }
    if what.ips {
        for f in &mut report.findings {
            r.finding_ips(f);
        }
        for e in &mut report.connections {
            r.connection_ips(&mut e.connection);
        }
        for s in &mut report.sip {
            r.ip(&mut s.src.ip);
            r.ip(&mut s.dst.ip);
        }
    }
    // Text fields were rendered from the original values: map the originals inside them.
    for f in &mut report.findings {
        r.finding_texts(f);
    }
    for e in &mut report.connections {
        r.connection_texts(&mut e.connection);
    }
    for reg in &mut report.registrations {
        r.text(&mut reg.device);
    }
    for s in &mut report.sip {
        for x in [&mut s.message.device, &mut s.message.call_id]
            .into_iter()
            .flatten()
        {
            r.text(x);
        }
        for w in &mut s.message.warnings {
            r.text(&mut w.agent);
            r.text(&mut w.text);
        }
        for c in &mut s.credentials {
            r.text(c);
        }
    }
    for n in &mut report.notes {
        r.text(n);
    }
    for u in &mut report.unreadable {
        r.text(&mut u.error);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_whole_tokens_only() {
        let mut m = Map::default();
        m.ip("10.10.10.1".parse().expect("ip"));
        m.name("device", "CSFrado");
        m.name("host", "cucm1.lab.example");
        m.finish();
        assert_eq!(
            m.text("10.10.10.1 and 10.10.10.11:5090"),
            "198.18.0.1 and 10.10.10.11:5090"
        );
        assert_eq!(
            m.text("CSFrado's REGISTER, CSFradox"),
            "device-1's REGISTER, CSFradox"
        );
        assert_eq!(m.text("cucm1.lab.example."), "host-1.");
        assert_eq!(m.text("a.cucm1.lab.example"), "a.cucm1.lab.example");
        assert_eq!(m.text("CSFrado.cnf.xml"), "device-1.cnf.xml");
    }

    /// Regression: values were replaced one after another, so a value spelled like a pseudonym
    /// already written (a device named `host-1`) replaced that pseudonym again.
    #[test]
    fn a_pseudonym_written_is_never_replaced_again() {
        let mut m = Map::default();
        m.name("host", "cucm1.lab.example");
        m.name("device", "host-1");
        m.finish();
        assert_eq!(
            m.text("cucm1.lab.example registered host-1"),
            "host-1 registered device-1"
        );
    }
}
