//! `--redact ips,users,hosts`: replaces addresses, user and device names, and host names with
//! pseudonyms, consistently within a report (the same value always gets the same pseudonym), so
//! a report can leave the customer. Addresses stay addresses (198.18.0.0/15 and 2001:db8::/32,
//! ranges reserved for tests and documentation); names become `device-N`, `user-N`, `host-N`.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::analyze::Report;

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

impl Redaction {
    /// Parses `ips,users,hosts` (any subset; `all` for everything).
    pub fn parse(list: &[String]) -> Result<Self, String> {
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
                other => {
                    return Err(format!(
                        "unknown --redact item {other:?} (ips, users, hosts, all)"
                    ))
                }
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
    order: Vec<(String, String)>,
    names: BTreeMap<String, String>,
    counts: BTreeMap<&'static str, usize>,
}

impl Map {
    fn ip(&mut self, ip: IpAddr) -> IpAddr {
        let n = self.ips.len() as u32 + 1;
        *self.ips.entry(ip).or_insert_with(|| match ip {
            IpAddr::V4(_) => {
                IpAddr::V4(Ipv4Addr::from(u32::from(Ipv4Addr::new(198, 18, 0, 0)) + n))
            }
            IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, n as u16)),
        })
    }

    fn name(&mut self, kind: &'static str, value: &str) {
        let v = value.trim();
        if v.len() < 2 || self.names.contains_key(v) {
            return;
        }
        let n = self.counts.entry(kind).or_insert(0);
        *n += 1;
        self.names.insert(v.to_string(), format!("{kind}-{n}"));
    }

    fn finish(&mut self) {
        let mut all: Vec<(String, String)> = self
            .ips
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        all.extend(self.names.iter().map(|(k, v)| (k.clone(), v.clone())));
        all.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.0.cmp(&b.0)));
        self.order = all;
    }

    fn text(&self, s: &str) -> String {
        let mut out = s.to_string();
        for (k, v) in &self.order {
            out = replace_bounded(&out, k, v);
        }
        out
    }
}

fn word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// Replaces whole-token occurrences of `key` (not part of a longer name or address).
fn replace_bounded(text: &str, key: &str, with: &str) -> String {
    if key.is_empty() || !text.contains(key) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(p) = rest.find(key) {
        let before = rest[..p].chars().next_back();
        let after = &rest[p + key.len()..];
        let mut a = after.chars();
        let next = a.next();
        let next2 = a.next();
        let glued_before = before.is_some_and(|c| {
            word(c) || (c == '.' && key.starts_with(|k: char| k.is_ascii_alphanumeric()))
        });
        let glued_after = next.is_some_and(word)
            || (next == Some('.') && next2.is_some_and(|c| c.is_ascii_alphanumeric()));
        out.push_str(&rest[..p]);
        if glued_before || glued_after {
            out.push_str(key);
        } else {
            out.push_str(with);
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

fn cn_and_dns(subject: &str) -> Vec<String> {
    subject
        .split(", ")
        .filter_map(|p| p.strip_prefix("CN="))
        .map(str::to_string)
        .collect()
}

/// Applies `what` to `report` in place.
pub fn apply(report: &mut Report, what: Redaction) {
    if what.is_empty() {
        return;
    }
    let mut m = Map::default();
    // Collect, in report order, so pseudonyms are stable for a given report.
    if what.users {
        for r in &report.registrations {
            m.name("device", &r.device);
        }
        for s in &report.sip {
            if let Some(d) = &s.device {
                m.name("device", d);
            }
        }
    }
    if what.hosts {
        for e in &report.connections {
            if let Some(t) = &e.connection.tls {
                if let Some(sni) = t.client_hello.as_ref().and_then(|h| h.sni.as_ref()) {
                    m.name("host", sni);
                }
                for ch in &t.chains {
                    for c in &ch.certificates {
                        for n in cn_and_dns(&c.subject).into_iter().chain(
                            c.san
                                .iter()
                                .filter_map(|s| s.strip_prefix("DNS:"))
                                .map(str::to_string),
                        ) {
                            m.name("host", &n);
                        }
                    }
                }
            }
        }
        for s in &report.sip {
            if let Some(w) = &s.warning {
                if let Some(agent) = w.split_whitespace().nth(1) {
                    m.name("host", agent);
                }
            }
        }
    }
    if what.ips {
        for f in &mut report.findings {
            f.client.ip = m.ip(f.client.ip);
            f.server.ip = m.ip(f.server.ip);
        }
        for e in &mut report.connections {
            e.connection.client.ip = m.ip(e.connection.client.ip);
            e.connection.server.ip = m.ip(e.connection.server.ip);
        }
        for s in &mut report.sip {
            s.src.ip = m.ip(s.src.ip);
            s.dst.ip = m.ip(s.dst.ip);
        }
    }
    // Text fields were rendered from the original values: map the originals inside them.
    m.finish();
    let t = |s: &mut String| *s = m.text(s);
    for f in &mut report.findings {
        t(&mut f.explanation);
        t(&mut f.wireshark_filter);
        for e in &mut f.evidence {
            t(&mut e.note);
        }
        if let Some(s) = &mut f.sip {
            if let Some(w) = &mut s.warning {
                t(w);
            }
        }
        if let Some(tr) = &mut f.trust {
            if let Some(x) = &mut tr.missing_ca {
                t(x);
            }
            if let Some(x) = &mut tr.reason {
                t(x);
            }
        }
    }
    for e in &mut report.connections {
        if let Some(tls) = &mut e.connection.tls {
            if let Some(h) = &mut tls.client_hello {
                if let Some(sni) = &mut h.sni {
                    t(sni);
                }
            }
            for ch in &mut tls.chains {
                for c in &mut ch.certificates {
                    let c = std::sync::Arc::make_mut(c);
                    t(&mut c.subject);
                    t(&mut c.issuer);
                    for s in &mut c.san {
                        t(s);
                    }
                }
                if let Some(tr) = &mut ch.trust {
                    if let Some(x) = &mut tr.missing_ca {
                        t(x);
                    }
                }
            }
            if let Some(req) = &mut tls.certificate_request {
                for n in &mut req.ca_names {
                    t(n);
                }
            }
            if let Some(x) = &mut tls.malformed {
                t(x);
            }
        }
    }
    for r in &mut report.registrations {
        t(&mut r.device);
    }
    for s in &mut report.sip {
        for x in [&mut s.device, &mut s.call_id, &mut s.warning]
            .into_iter()
            .flatten()
        {
            t(x);
        }
    }
    for n in &mut report.notes {
        t(n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_whole_tokens_only() {
        assert_eq!(
            replace_bounded("10.10.10.1 and 10.10.10.11:5090", "10.10.10.1", "X"),
            "X and 10.10.10.11:5090"
        );
        assert_eq!(
            replace_bounded("CSFrado's REGISTER, CSFradox", "CSFrado", "device-1"),
            "device-1's REGISTER, CSFradox"
        );
        assert_eq!(
            replace_bounded("cucm1.lab.example.", "cucm1.lab.example", "host-1"),
            "host-1."
        );
        assert_eq!(
            replace_bounded("a.cucm1.lab.example", "cucm1.lab.example", "host-1"),
            "a.cucm1.lab.example"
        );
    }
}
