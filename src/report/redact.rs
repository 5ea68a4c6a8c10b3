//! `--redact ips,users,hosts,orgs`: replaces every name of the chosen classes with a
//! pseudonym, consistently within a run (the same value always gets the same pseudonym, in
//! every format, event and metric), so a report can leave the customer:
//! - **addresses** (`ips`): IPv4 and IPv6 addresses stay addresses (198.18.0.0/15 and
//!   2001:db8::/32, ranges reserved for tests and documentation); MAC addresses become MACs of
//!   the documentation range 00:00:5e:00:53:00/40, in whatever form they were written (inside
//!   `SEP<MAC>` names and `+sip.instance` UUIDs too);
//! - **users**: device names (`device-N`), user IDs, SIP URIs' user parts, e-mail addresses'
//!   local parts and display names (`user-N`);
//! - **hosts**: host names, domains, SNI, SAN DNS names, URI hosts, realms (`host-N`);
//! - **orgs**: every value of a certificate subject or issuer but the country: organisations
//!   and units (`org-N`), localities and states (`place-N`), e-mail addresses (`email-N`), CA
//!   and other common names (`ca-N`, `name-N`; a common name that is a host name is `host-N`).
//!
//! A value any class covers is replaced wherever it stands as a whole token in any text, so
//! free text (explanations, notes, a log's words) never shows what a field hides. The
//! pseudonyms and their originals can be written apart ([`Redactor::map`]) for the customer.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::diagnose::Finding;
use crate::report::Report;
use crate::session::Connection;

/// What to redact.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Redaction {
    /// IP and MAC addresses.
    pub ips: bool,
    /// User and device names, user IDs, e-mail addresses, display names.
    pub users: bool,
    /// Host names and domains (certificate CN/SAN, SNI, URIs, realms, Warning agents).
    pub hosts: bool,
    /// Certificate subject and issuer names (O, OU, L, ST, emailAddress, CN, CA names).
    pub orgs: bool,
}

/// A `--redact` word that names no class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownClass(pub String);

impl std::fmt::Display for UnknownClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "unknown redaction class \"{}\": the classes are ips, users, hosts, orgs and all",
            self.0
        )
    }
}

impl std::error::Error for UnknownClass {}

impl Redaction {
    /// Every class.
    pub const ALL: Redaction = Redaction {
        ips: true,
        users: true,
        hosts: true,
        orgs: true,
    };

    /// Parses `ips,users,hosts,orgs` (any subset; `all` for everything).
    pub fn parse(list: &[String]) -> Result<Self, UnknownClass> {
        let mut r = Redaction::default();
        for item in list.iter().flat_map(|i| i.split(',')) {
            match item.trim() {
                "ips" | "ip" | "addresses" | "macs" => r.ips = true,
                "users" | "user" => r.users = true,
                "hosts" | "host" => r.hosts = true,
                "orgs" | "org" | "organisations" | "organizations" | "certificates" => {
                    r.orgs = true
                }
                "all" => r = Redaction::ALL,
                other => return Err(UnknownClass(other.to_string())),
            }
        }
        Ok(r)
    }

    /// Nothing to do.
    pub fn is_empty(&self) -> bool {
        !(self.ips || self.users || self.hosts || self.orgs)
    }
}

/// A name class, as the pseudonym map names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Class {
    /// IP and MAC addresses.
    Addresses,
    /// Users and devices.
    Users,
    /// Hosts and domains.
    Hosts,
    /// Certificate names.
    Orgs,
}

/// One pseudonym and what it stands for (`--redact-map`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct MapEntry {
    /// The class the value was redacted as.
    pub class: Class,
    /// What the report prints.
    pub pseudonym: String,
    /// The customer's value.
    pub original: String,
}

/// The kinds of names, each with its pseudonym's stem and class.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Device,
    User,
    Host,
    Org,
    Place,
    Email,
    Ca,
    Name,
}

impl Kind {
    fn stem(self) -> &'static str {
        match self {
            Kind::Device => "device",
            Kind::User => "user",
            Kind::Host => "host",
            Kind::Org => "org",
            Kind::Place => "place",
            Kind::Email => "email",
            Kind::Ca => "ca",
            Kind::Name => "name",
        }
    }

    fn class(self) -> Class {
        match self {
            Kind::Device | Kind::User => Class::Users,
            Kind::Host => Class::Hosts,
            Kind::Org | Kind::Place | Kind::Email | Kind::Ca | Kind::Name => Class::Orgs,
        }
    }
}

/// A value and its pseudonym; `listed` when the map shows it (not a derived spelling).
struct Named {
    pseudonym: String,
    class: Class,
    listed: bool,
}

/// Values waiting for their pseudonyms, in the order first seen, each once (a set beside the
/// list: a report's texts name the same thousands of devices over and over).
struct Pending<T> {
    order: Vec<T>,
    seen: std::collections::HashSet<String>,
}

impl<T> Default for Pending<T> {
    fn default() -> Self {
        Pending {
            order: Vec::new(),
            seen: Default::default(),
        }
    }
}

impl<T> Pending<T> {
    /// Queues `item` under `key` unless a value of that key waits already.
    fn push(&mut self, key: String, item: T) {
        if self.seen.insert(key) {
            self.order.push(item);
        }
    }

    /// What waits, in order; the queue is empty after.
    fn take(&mut self) -> Vec<T> {
        self.seen.clear();
        std::mem::take(&mut self.order)
    }
}

/// Words of the report's own vocabulary (roles), never taken for a customer's name.
pub const VOCABULARY: [&str; 9] = [
    "cucm",
    "expressway-c",
    "jabber-or-webex",
    "sip-client",
    "sip-server",
    "tftp",
    "client",
    "server",
    "device",
];

#[derive(Default)]
struct Map {
    ips: BTreeMap<IpAddr, IpAddr>,
    macs: BTreeMap<[u8; 6], [u8; 6]>,
    /// Every value with its pseudonym, and one automaton that finds them all in one pass.
    order: Vec<(String, String)>,
    finder: Option<aho_corasick::AhoCorasick>,
    names: BTreeMap<String, Named>,
    counts: BTreeMap<Kind, usize>,
    /// A value was added since `order` was built.
    stale: bool,
    /// Values only a free text showed, named after the structured ones (so that a text never
    /// changes the pseudonyms the rest got).
    pending_ips: Pending<IpAddr>,
    pending: Pending<(Kind, String)>,
    pending_macs: Pending<[u8; 6]>,
}

fn hex(b: &[u8], upper: bool, sep: &str) -> String {
    b.iter()
        .map(|x| {
            if upper {
                format!("{x:02X}")
            } else {
                format!("{x:02x}")
            }
        })
        .collect::<Vec<_>>()
        .join(sep)
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

    fn insert(&mut self, value: String, pseudonym: String, class: Class, listed: bool) {
        self.names.entry(value).or_insert(Named {
            pseudonym,
            class,
            listed,
        });
    }

    /// A MAC address, in every spelling it may take: colons or dashes, either case, bare
    /// (as in `SEP<MAC>` names and UUIDs), and Cisco's dotted form.
    fn mac(&mut self, mac: [u8; 6]) {
        if self.macs.contains_key(&mac) {
            return;
        }
        let n = self.macs.len() + 1;
        // The documentation range (RFC 7042) first, then locally administered addresses.
        let p = if n <= 0xff {
            [0, 0, 0x5e, 0, 0x53, n as u8]
        } else {
            [0x02, 0, 0x5e, (n >> 16) as u8, (n >> 8) as u8, n as u8]
        };
        self.macs.insert(mac, p);
        let c = Class::Addresses;
        for upper in [false, true] {
            for sep in [":", "-", ""] {
                let listed = !upper && sep == ":";
                self.insert(hex(&mac, upper, sep), hex(&p, upper, sep), c, listed);
            }
            for prefix in ["SEP", "ATA"] {
                let (v, q) = (hex(&mac, upper, ""), hex(&p, upper, ""));
                self.insert(format!("{prefix}{v}"), format!("{prefix}{q}"), c, upper);
                for ext in [".cnf.xml", ".cnf.xml.enc.sgn"] {
                    self.insert(
                        format!("{prefix}{v}{ext}"),
                        format!("{prefix}{q}{ext}"),
                        c,
                        false,
                    );
                }
            }
        }
        let dotted = |m: &[u8; 6]| {
            let h = hex(m, false, "");
            format!("{}.{}.{}", &h[..4], &h[4..8], &h[8..])
        };
        self.insert(dotted(&mac), dotted(&p), c, false);
        // A Cisco `+sip.instance`: the MAC at the end of an otherwise zero UUID.
        let zero = "00000000-0000-0000-0000-";
        self.insert(
            format!("{zero}{}", hex(&mac, false, "")),
            format!("{zero}{}", hex(&p, false, "")),
            c,
            false,
        );
        self.stale = true;
    }

    fn name(&mut self, kind: Kind, value: &str) {
        let v = value.trim();
        // The report's own words for roles name nobody (a log's `Common-name="cucm"`).
        if v.len() < 2 || self.names.contains_key(v) || VOCABULARY.contains(&v) {
            return;
        }
        let n = self.counts.entry(kind).or_insert(0);
        *n += 1;
        let pseudonym = format!("{}-{n}", kind.stem());
        if kind == Kind::Device {
            // Its configuration file names it too, glued to the extension.
            for ext in [".cnf.xml", ".cnf.xml.enc.sgn"] {
                self.insert(
                    format!("{v}{ext}"),
                    format!("{pseudonym}{ext}"),
                    kind.class(),
                    false,
                );
            }
        }
        self.insert(v.to_string(), pseudonym, kind.class(), true);
        self.stale = true;
    }

    fn finish(&mut self) {
        let mut all: Vec<(String, String)> = self
            .ips
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        all.extend(
            self.names
                .iter()
                .map(|(k, v)| (k.clone(), v.pseudonym.clone())),
        );
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
    if let Ok(IpAddr::V6(_)) = key.parse::<IpAddr>() {
        // An IPv6 address is glued only to what could continue it.
        let glue = |c: Option<char>| c.is_some_and(|c| c.is_ascii_hexdigit() || c == ':');
        return !(glue(s[..a].chars().next_back()) || glue(s[b..].chars().next()));
    }
    if key.bytes().all(|c| c.is_ascii_digit() || c == b'.') {
        // An IPv4 address is glued only to digits (`10.1.1.1` in `10.1.1.11`), not to a
        // word: `SDL_10.1.1.1.txt` names it.
        let before = s[..a].chars().next_back();
        let before2 = s[..a].chars().rev().nth(1);
        let mut after = s[b..].chars();
        let (next, next2) = (after.next(), after.next());
        let digit = |c: Option<char>| c.is_some_and(|c| c.is_ascii_digit());
        return !(digit(before)
            || (before == Some('.') && digit(before2))
            || digit(next)
            || (next == Some('.') && digit(next2)));
    }
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

/// A pseudonym's order in the map: `host-2` before `host-10`.
fn natural(p: &str) -> (String, u64, String) {
    match p.rsplit_once('-') {
        Some((stem, n)) if n.parse::<u64>().is_ok() => {
            (stem.to_string(), n.parse().unwrap_or(0), String::new())
        }
        _ => (String::new(), 0, p.to_string()),
    }
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

/// The attribute keys of a distinguished name this module reads (as x509 and OpenSSL print
/// them). `C`, the country, delimits the others and stays.
const DN_KEYS: [&str; 13] = [
    "emailAddress",
    "serialNumber",
    "CN",
    "OU",
    "ST",
    "DC",
    "GN",
    "SN",
    "UID",
    "O",
    "L",
    "E",
    "C",
];

fn dn_key_at(s: &str, at: usize) -> Option<&'static str> {
    let rest = &s[at..];
    let before = s[..at].chars().next_back();
    if before.is_some_and(|c| !matches!(c, ' ' | '"' | ',' | '/' | '(' | '\'' | '+' | '[')) {
        return None;
    }
    DN_KEYS
        .iter()
        .copied()
        .find(|k| rest.starts_with(k) && rest[k.len()..].starts_with('='))
}

/// The attribute values of the distinguished names written in a text: a whole DN
/// (`CN=Lab CA, O=Lab Example`), one quoted in a sentence, or OpenSSL's `/O=…/CN=…`. A value
/// ends at the next attribute, a quote, or the end of the text.
fn dn_parts(text: &str) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    let mut starts: Vec<(usize, &'static str)> = Vec::new();
    for (i, _) in text.char_indices() {
        if let Some(k) = dn_key_at(text, i) {
            starts.push((i, k));
        }
    }
    for (n, &(i, k)) in starts.iter().enumerate() {
        let from = i + k.len() + 1;
        let limit = starts.get(n + 1).map_or(text.len(), |x| x.0);
        let mut value = &text[from..limit.max(from)];
        if let Some(q) = value.find(['"', '\n', ']']) {
            value = &value[..q];
        }
        // In a sentence, a comma not followed by another attribute ends the name.
        let mut cut = value.len();
        for (c, _) in value.match_indices([',', ';']) {
            let after = from + c + 1;
            let next = text[after..].trim_start();
            let at = text.len() - next.len();
            if dn_key_at(text, at).is_none() && !next.starts_with("C=") {
                cut = c;
                break;
            }
        }
        value = &value[..cut];
        let value = value
            .trim_end_matches([',', '/', ' ', '+', ')', ';'])
            .trim_end_matches(", ")
            .trim();
        if !value.is_empty() && k != "C" {
            out.push((k, value.to_string()));
        }
    }
    out
}

fn hex_byte(s: &str) -> Option<u8> {
    u8::from_str_radix(s, 16).ok()
}

fn mac_of_12(h: &str) -> Option<[u8; 6]> {
    if h.len() != 12 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut m = [0u8; 6];
    for (i, x) in m.iter_mut().enumerate() {
        *x = hex_byte(&h[2 * i..2 * i + 2])?;
    }
    Some(m)
}

/// The MAC addresses written in a text: `00:50:56:ab:cd:ef`, `00-50-…`, `SEP0050560ABCDE`,
/// `ATA…`, and the MAC at the end of a Cisco `+sip.instance` UUID
/// (`00000000-0000-0000-0000-00505600abcd`).
fn macs_in(text: &str) -> Vec<[u8; 6]> {
    let mut out = Vec::new();
    for token in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == ':' || c == '-')) {
        let t = token.trim_matches([':', '-']);
        let groups: Vec<&str> = t.split([':', '-']).collect();
        let mac = if groups.len() == 6 && groups.iter().all(|g| g.len() == 2) {
            let mut m = [0u8; 6];
            let mut ok = true;
            for (x, g) in m.iter_mut().zip(&groups) {
                match hex_byte(g) {
                    Some(b) => *x = b,
                    None => ok = false,
                }
            }
            ok.then_some(m)
        } else if let Some(h) = t.strip_prefix("SEP").or_else(|| t.strip_prefix("ATA")) {
            mac_of_12(h)
        } else if groups.len() == 5
            && groups[..4].iter().all(|g| g.bytes().all(|b| b == b'0'))
            && [8, 4, 4, 4].iter().zip(&groups).all(|(n, g)| g.len() == *n)
        {
            mac_of_12(groups[4])
        } else {
            None
        };
        if let Some(m) = mac.filter(|m| *m != [0; 6] && !out.contains(m)) {
            out.push(m);
        }
    }
    out
}

fn host_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_'
}

/// Reads as a host name: letters, digits, dots and dashes, with a letter somewhere, and not
/// an address.
fn is_host(h: &str) -> bool {
    !h.is_empty()
        && h.chars().all(host_char)
        && h.chars().any(|c| c.is_ascii_alphabetic())
        && h.parse::<IpAddr>().is_err()
}

/// The value of `key="…"` (or `key=…` up to a comma or space) wherever it stands in a text.
fn params<'t>(text: &'t str, key: &str) -> Vec<&'t str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(p) = rest.find(key) {
        let glued = rest[..p].chars().next_back().is_some_and(word);
        let after = &rest[p + key.len()..];
        rest = after;
        if glued {
            continue;
        }
        let v = match after.strip_prefix('"') {
            Some(q) => q.split('"').next().unwrap_or(""),
            None => after.split([',', ' ', ';', '>']).next().unwrap_or(""),
        };
        let v = v.trim();
        if !v.is_empty() {
            out.push(v);
        }
    }
    out
}

/// The user parts and hosts of the SIP URIs and e-mail addresses in a text
/// (`sip:4085550100@cucm1.example.com`, `jdoe@example.com`).
fn users_and_hosts(text: &str) -> (Vec<String>, Vec<String>) {
    let (mut users, mut hosts) = (Vec::new(), Vec::new());
    for (i, _) in text.match_indices('@') {
        let user_start = text[..i]
            .rfind(|c: char| !(word(c) || matches!(c, '.' | '+' | '%' | '!' | '~')))
            .map_or(0, |x| x + 1);
        let user = &text[user_start..i];
        let host_end = text[i + 1..]
            .find(|c: char| !host_char(c))
            .map_or(text.len(), |x| x + i + 1);
        let host = text[i + 1..host_end].trim_end_matches(['.', '-']);
        let in_uri = text[..user_start].ends_with("sip:") || text[..user_start].ends_with("sips:");
        // A Call-ID (`hex@address`) is neither: only a URI's user or a mailbox at a host name.
        if in_uri || (is_host(host) && host.contains('.')) {
            let user = user.trim_matches('.');
            if !user.is_empty() && !users.iter().any(|u| u == user) {
                users.push(user.to_string());
            }
        }
        if is_host(host) && !hosts.iter().any(|h| h == host) {
            hosts.push(host.to_string());
        }
    }
    // A URI without a user part: `sip:cucm1.example.com`.
    for p in ["sip:", "sips:"] {
        for (i, _) in text.match_indices(p) {
            let rest = &text[i + p.len()..];
            let end = rest.find(|c: char| !host_char(c)).unwrap_or(rest.len());
            if rest[end..].starts_with('@') {
                continue;
            }
            let host = rest[..end].trim_end_matches(['.', '-']);
            if is_host(host) && !hosts.iter().any(|h| h == host) {
                hosts.push(host.to_string());
            }
        }
    }
    (users, hosts)
}

/// Display names before a SIP URI: `"Rado Jablonski" <sip:…`.
fn display_names(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (i, _) in text.match_indices("\" <sip") {
        if let Some(open) = text[..i].rfind('"') {
            let name = text[open + 1..i].trim();
            if !name.is_empty() && !out.iter().any(|n| n == name) {
                out.push(name.to_string());
            }
        }
    }
    out
}

/// File extensions that make a dotted word a file name, not a host.
const NOT_TLDS: [&str; 16] = [
    "log", "txt", "xml", "pcap", "pcapng", "gz", "zip", "keys", "json", "html", "md", "sgn", "enc",
    "tar", "xz", "zst",
];

/// The host names a free text that came from outside (a log's words, a Warning, a header)
/// holds without a marker: dotted words of three labels or more, or of two whose last is a
/// common top-level domain.
fn bare_hosts(text: &str) -> Vec<String> {
    const TLDS: [&str; 14] = [
        "com", "net", "org", "local", "lan", "corp", "internal", "example", "test", "int", "edu",
        "gov", "io", "de",
    ];
    let mut out = Vec::new();
    for token in text.split(|c: char| !host_char(c)) {
        let t = token.trim_matches(['.', '-', '_']);
        let labels: Vec<&str> = t.split('.').collect();
        let Some(last) = labels.last() else { continue };
        let alpha_tld = last.len() >= 2 && last.chars().all(|c| c.is_ascii_alphabetic());
        let enough = labels.len() >= 3 || (labels.len() == 2 && TLDS.contains(last));
        if alpha_tld
            && enough
            && !NOT_TLDS.contains(last)
            && labels.iter().all(|l| !l.is_empty())
            && is_host(t)
            && !out.iter().any(|h| h == t)
        {
            out.push(t.to_string());
        }
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

    /// A user or device name to replace wherever it appears; a `SEP<MAC>` name's MAC is an
    /// address.
    pub fn learn_device(&mut self, name: &str) {
        if self.what.users {
            self.m.name(Kind::Device, name);
        }
        if self.what.ips {
            for mac in macs_in(name) {
                self.m.mac(mac);
            }
        }
    }

    /// The names a note carries (a device, a certificate issuer), and its words: a note told
    /// before the report is whole (the sensor's, as it comes) is redacted as the report is.
    pub fn learn_note(&mut self, note: &crate::note::Note) {
        use crate::note::Note;
        match note.inner() {
            Note::ChallengeNotFollowed { device, .. } | Note::ChallengeCutShort { device, .. } => {
                self.learn_device(device)
            }
            Note::RefusedOnOneNode { device, .. } => self.learn_device(device),
            Note::IssuerNotRequested { issuer, .. } => self.learn_dn(issuer),
            _ => {}
        }
        self.learn_text(&note.to_string());
    }

    /// A user ID, a URI's user part or a display name.
    pub fn learn_user(&mut self, name: &str) {
        if self.what.users {
            self.m.name(Kind::User, name);
        }
    }

    /// A host name to replace wherever it appears.
    pub fn learn_host(&mut self, name: &str) {
        if self.what.hosts {
            self.m.name(Kind::Host, name);
        }
    }

    /// Every value of a certificate's subject or issuer (or a CA name a server listed).
    pub fn learn_dn(&mut self, dn: &str) {
        for (key, value) in dn_parts(dn) {
            self.dn_value(key, &value, false);
        }
    }

    fn dn_value(&mut self, key: &str, value: &str, later: bool) {
        let kind = match key {
            "CN" if is_host(value.trim_start_matches("*.")) && value.contains('.') => Kind::Host,
            "DC" => Kind::Host,
            "CN" if value
                .split_whitespace()
                .any(|w| w.eq_ignore_ascii_case("CA") || w.eq_ignore_ascii_case("root"))
                || value.ends_with("-CA") =>
            {
                Kind::Ca
            }
            "CN" | "GN" | "SN" | "UID" | "serialNumber" => Kind::Name,
            "L" | "ST" => Kind::Place,
            "emailAddress" | "E" => Kind::Email,
            _ => Kind::Org,
        };
        // A host name in a certificate is a host wherever it stands; a certificate's other
        // names are the organisation's.
        let on = self.what.orgs || (kind == Kind::Host && self.what.hosts);
        if !on {
            return;
        }
        if later {
            if !self.m.names.contains_key(value) {
                self.m
                    .pending
                    .push(value.to_string(), (kind, value.to_string()));
            }
        } else {
            self.m.name(kind, value);
        }
        // An e-mail address's parts stand alone elsewhere too.
        if kind == Kind::Email {
            let (users, hosts) = users_and_hosts(value);
            for u in users {
                self.queue(Kind::User, u, later);
            }
            for h in hosts {
                self.queue(Kind::Host, h, later);
            }
        }
    }

    fn queue(&mut self, kind: Kind, value: String, later: bool) {
        let on = match kind.class() {
            Class::Users => self.what.users,
            Class::Hosts => self.what.hosts,
            Class::Orgs => self.what.orgs,
            Class::Addresses => self.what.ips,
        };
        if !on || self.m.names.contains_key(&value) {
            return;
        }
        if later {
            self.m.pending.push(value.clone(), (kind, value));
        } else {
            self.m.name(kind, &value);
        }
    }

    /// Names inside a text that only the text shows: a device's configuration file name,
    /// addresses (IP and MAC), certificate names, URIs' users and hosts, e-mail addresses,
    /// display names, and the parameters that carry names (`username=`, `realm=`,
    /// `Common-name=`). They get their pseudonyms after every structured value.
    pub fn learn_text(&mut self, text: &str) {
        if self.what.is_empty() {
            return;
        }
        for d in config_file_devices(text) {
            self.learn_device(&d);
        }
        if self.what.ips {
            for ip in addresses_in(text) {
                if !self.m.ips.contains_key(&ip) {
                    self.m.pending_ips.push(ip.to_string(), ip);
                }
            }
            for mac in macs_in(text) {
                if !self.m.macs.contains_key(&mac) {
                    self.m.pending_macs.push(hex(&mac, false, ":"), mac);
                }
            }
        }
        for (key, value) in dn_parts(text) {
            self.dn_value(key, &value, true);
        }
        let (users, hosts) = users_and_hosts(text);
        for u in users {
            self.queue(Kind::User, u, true);
        }
        for h in hosts {
            self.queue(Kind::Host, h, true);
        }
        for n in display_names(text) {
            self.queue(Kind::User, n, true);
        }
        for u in params(text, "username=") {
            self.queue(Kind::User, u.to_string(), true);
        }
        // Names the report's own sentences quote or mark: `"cucm1.example.com" (SNI)`,
        // `DNS:cucm1.example.com`.
        for (i, q) in text.split('"').enumerate() {
            if i % 2 == 1 {
                for h in bare_hosts(q).into_iter().filter(|h| h == q) {
                    self.queue(Kind::Host, h, true);
                }
            }
        }
        for h in params(text, "DNS:") {
            let h = h.trim_end_matches(['.', ')']);
            if is_host(h.trim_start_matches("*.")) {
                self.queue(Kind::Host, h.to_string(), true);
            }
        }
        for key in ["realm=", "Common-name=", "Common-Name=", "commonName="] {
            for h in params(text, key) {
                if is_host(h) && (h.contains('.') || key != "realm=") {
                    self.queue(Kind::Host, h.to_string(), true);
                }
            }
        }
    }

    /// A text that came from outside (a log's words, a header, a Warning): what
    /// [`learn_text`](Self::learn_text) finds, and host names written without a marker.
    pub fn learn_external(&mut self, text: &str) {
        self.learn_text(text);
        if self.what.hosts {
            for h in bare_hosts(text) {
                self.queue(Kind::Host, h, true);
            }
        }
    }

    /// The host names a connection shows (SNI, certificate CN and DNS names) and, with
    /// `orgs`, every part of its certificates' names and of the CA names its server listed.
    pub fn learn_connection(&mut self, c: &Connection) {
        let Some(t) = &c.tls else { return };
        if let Some(sni) = t.client_hello.as_ref().and_then(|h| h.sni.as_ref()) {
            self.learn_host(sni);
        }
        for ch in &t.chains {
            for c in &ch.certificates {
                self.learn_dn(&c.subject);
                for n in c.san.iter().filter_map(|s| s.strip_prefix("DNS:")) {
                    self.learn_host(n);
                }
            }
        }
        for ch in &t.chains {
            for c in &ch.certificates {
                self.learn_dn(&c.issuer);
                for e in c.san.iter().filter_map(|s| s.strip_prefix("email:")) {
                    self.dn_value("emailAddress", e, false);
                }
            }
            if let Some(m) = ch.trust.as_ref().and_then(|t| t.missing_ca.as_ref()) {
                self.learn_dn(m);
            }
        }
        if let Some(req) = &t.certificate_request {
            for n in &req.ca_names {
                self.learn_dn(n);
            }
        }
    }

    /// The pseudonyms given so far and what they stand for, by class (`--redact-map`).
    pub fn map(&self) -> Vec<MapEntry> {
        let mut out: Vec<MapEntry> = self
            .m
            .ips
            .iter()
            .map(|(o, p)| MapEntry {
                class: Class::Addresses,
                pseudonym: p.to_string(),
                original: o.to_string(),
            })
            .collect();
        out.extend(
            self.m
                .names
                .iter()
                .filter(|(_, n)| n.listed)
                .map(|(o, n)| MapEntry {
                    class: n.class,
                    pseudonym: n.pseudonym.clone(),
                    original: o.clone(),
                }),
        );
        out.sort_by(|a, b| {
            a.class.cmp(&b.class).then_with(|| {
                match (a.pseudonym.parse::<IpAddr>(), b.pseudonym.parse::<IpAddr>()) {
                    (Ok(x), Ok(y)) => x.cmp(&y),
                    _ => natural(&a.pseudonym).cmp(&natural(&b.pseudonym)),
                }
            })
        });
        out
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
        for ip in self.m.pending_ips.take() {
            self.m.ip(ip);
        }
        for mac in self.m.pending_macs.take() {
            self.m.mac(mac);
        }
        for (kind, v) in self.m.pending.take() {
            self.m.name(kind, &v);
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
        self.learn_finding(f);
        for a in &f.affected {
            if let Some(d) = &a.device {
                self.learn_device(d);
            }
        }
        self.finding_ips(f);
        self.finding_texts(f);
    }

    /// The names a finding's texts show (before its addresses and texts are redacted).
    pub fn learn_finding(&mut self, f: &Finding) {
        if let Some(tr) = &f.trust {
            if let Some(m) = &tr.missing_ca {
                self.learn_dn(m);
            }
        }
        if let Some(w) = f.sip.as_ref().and_then(|s| s.warning.as_ref()) {
            self.learn_warning(w);
            self.learn_external(w);
        }
        self.learn_text(&f.explanation);
        for e in &f.evidence {
            self.learn_text(&e.note);
        }
        for x in &f.fix {
            self.learn_text(x);
        }
    }

    /// The addresses of a finding: its parties and every client it affects.
    pub fn finding_ips(&mut self, f: &mut Finding) {
        self.ip(&mut f.client.ip);
        self.ip(&mut f.server.ip);
        for a in &mut f.affected {
            self.ip(&mut a.address);
        }
    }

    /// A log's line names its file: the file's name is redacted as any text.
    pub fn place(&mut self, at: &mut crate::place::At) {
        if let crate::place::At::Line(l) = at {
            let mut file = l.name.to_string();
            self.text(&mut file);
            if *file != *l.name {
                *at = crate::place::At::line(l.file, file.into(), l.line);
            }
        }
    }

    /// The texts of a finding.
    pub fn finding_texts(&mut self, f: &mut Finding) {
        for a in &mut f.affected {
            self.opt(&mut a.device);
            self.opt(&mut a.file);
        }
        for e in &mut f.evidence {
            self.place(&mut e.place);
        }
        self.text(&mut f.title);
        self.text(&mut f.explanation);
        for x in &mut f.fix {
            self.text(x);
        }
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
            self.text(&mut tr.bundle);
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
                self.opt(&mut tr.reason);
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

/// Applies `what` to `report` in place; the redactor gives the pseudonyms' map.
pub fn apply(report: &mut Report, what: Redaction) -> Redactor {
    let mut r = Redactor::new(what);
    apply_with(report, &mut r);
    r
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
    for e in &report.connections {
        r.learn_connection(&e.connection);
    }
    for s in &report.sip {
        for w in &s.warnings {
            r.learn_host(&w.agent);
        }
    }
    for f in &report.findings {
        r.learn_finding(f);
    }
    for n in &report.notes {
        r.learn_note(n);
    }
    // What a capture or log printed: headers, Warning texts, Call-IDs.
    for s in &report.sip {
        for w in &s.warnings {
            r.learn_external(&w.text);
        }
        for c in &s.credentials {
            r.learn_external(c);
        }
        if let Some(c) = &s.call_id {
            r.learn_text(c);
        }
    }
    for u in &report.unreadable {
        r.learn_text(&u.error);
        r.learn_text(&u.input);
    }
    for c in &report.captures {
        r.learn_text(&c.path);
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
        let words = n.to_string();
        let mut text = words.clone();
        r.text(&mut text);
        if text != words {
            *n = n.worded(text);
        }
    }
    // A name inside a file's name (a log named after its node) is replaced too.
    for u in &mut report.unreadable {
        r.text(&mut u.error);
        r.text(&mut u.input);
    }
    for c in &mut report.captures {
        r.text(&mut c.path);
        if let Some(s) = &mut c.stopped {
            r.text(s);
        }
        for x in &mut c.verdict_reasons {
            r.text(x);
        }
    }
    for x in &mut report.verdict_reasons {
        r.text(x);
    }
    for s in &mut report.sip {
        for x in [&mut s.file, &mut s.also].into_iter().flatten() {
            r.text(x);
        }
        r.place(&mut s.message.at);
    }
    for c in &mut report.connections {
        if let Some(at) = &mut c.connection.line {
            r.place(at);
        }
        for a in c
            .connection
            .tls
            .iter_mut()
            .flat_map(|t| t.alerts.iter_mut())
        {
            r.place(&mut a.at);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_whole_tokens_only() {
        let mut m = Map::default();
        m.ip("10.10.10.1".parse().expect("ip"));
        m.name(Kind::Device, "CSFrado");
        m.name(Kind::Host, "cucm1.lab.example");
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
        m.name(Kind::Host, "cucm1.lab.example");
        m.name(Kind::Device, "host-1");
        m.finish();
        assert_eq!(
            m.text("cucm1.lab.example registered host-1"),
            "host-1 registered device-1"
        );
    }

    #[test]
    fn distinguished_names_are_read_whole_quoted_or_in_openssl_form() {
        let parts =
            dn_parts("CN=Lab CUCM Root CA, OU=Voice, O=Example Corp, L=Zürich, ST=ZH, C=CH");
        assert_eq!(
            parts,
            vec![
                ("CN", "Lab CUCM Root CA".to_string()),
                ("OU", "Voice".to_string()),
                ("O", "Example Corp".to_string()),
                ("L", "Zürich".to_string()),
                ("ST", "ZH".to_string()),
            ]
        );
        // Quoted in a sentence, the name ends at the quote; unquoted, at a comma that no
        // attribute follows.
        let text =
            "its issuer \"CN=Acme CA, O=Acme\" is not listed; subject CN=cucm1.acme.com, valid";
        assert_eq!(
            dn_parts(text),
            vec![
                ("CN", "Acme CA".to_string()),
                ("O", "Acme".to_string()),
                ("CN", "cucm1.acme.com".to_string()),
            ]
        );
        assert_eq!(
            dn_parts("/C=US/O=Acme Inc/emailAddress=pki@acme.com"),
            vec![
                ("O", "Acme Inc".to_string()),
                ("emailAddress", "pki@acme.com".to_string()),
            ]
        );
        // Words that only end like an attribute are not one.
        assert!(dn_parts("URL=x SCO=y").is_empty());
    }

    #[test]
    fn macs_are_found_in_every_spelling_and_replaced_in_the_same_one() {
        let text = "SEP00505600AB77 from 00:50:56:00:ab:77 (+sip.instance=\"<urn:uuid:00000000-0000-0000-0000-00505600ab77>\") and 00-50-56-00-AB-77";
        assert_eq!(macs_in(text), vec![[0x00, 0x50, 0x56, 0x00, 0xab, 0x77]]);
        let mut r = Redactor::new(Redaction {
            ips: true,
            ..Default::default()
        });
        r.learn_text(text);
        let mut t = text.to_string();
        r.text(&mut t);
        assert_eq!(
            t,
            "SEP00005E005301 from 00:00:5e:00:53:01 (+sip.instance=\"<urn:uuid:00000000-0000-0000-0000-00005e005301>\") and 00-00-5E-00-53-01"
        );
        // Times and IPv6 addresses are not MACs.
        assert!(macs_in("09:15:00 fe80::1:2:3:4 2001:db8::5").is_empty());
    }

    #[test]
    fn users_hosts_and_mailboxes_in_headers_are_learned_by_class() {
        let header = r#"Proxy-Authorization: Digest username="rweas", realm="vcse1.acme.com", uri="sip:cucm1.acme.com", From: "Rado Jablonski" <sip:1003@cucm1.acme.com>; mail jdoe@acme.com"#;
        let mut r = Redactor::new(Redaction::ALL);
        r.learn_external(header);
        let mut t = header.to_string();
        r.text(&mut t);
        for original in [
            "rweas",
            "vcse1.acme.com",
            "cucm1.acme.com",
            "Rado Jablonski",
            "1003",
            "jdoe",
            "acme.com",
        ] {
            assert!(!t.contains(original), "{original} in {t}");
        }
        assert!(t.contains("Digest username=\"user-"), "{t}");
        // A Call-ID's hex before an address is neither a user nor a host.
        let (users, hosts) = users_and_hosts("00505600-00010002@10.10.20.51");
        assert!(users.is_empty() && hosts.is_empty());
        // Only the classes asked for are learned.
        let mut hosts_only = Redactor::new(Redaction {
            hosts: true,
            ..Default::default()
        });
        hosts_only.learn_external(header);
        let mut t = header.to_string();
        hosts_only.text(&mut t);
        assert!(t.contains("rweas") && t.contains("1003@host-"), "{t}");
    }

    #[test]
    fn the_map_lists_each_pseudonym_once_with_its_class_and_original() {
        let mut r = Redactor::new(Redaction::ALL);
        r.learn_device("SEP00505600AB77");
        r.learn_dn("CN=Acme Root CA, O=Acme, L=Berlin");
        let mut ip: IpAddr = "10.1.1.1".parse().expect("ip");
        r.ip(&mut ip);
        let mut t = String::new();
        r.text(&mut t);
        let map: Vec<(Class, String, String)> = r
            .map()
            .into_iter()
            .map(|e| (e.class, e.pseudonym, e.original))
            .collect();
        assert!(map.contains(&(Class::Addresses, "198.18.0.1".into(), "10.1.1.1".into())));
        assert!(map.contains(&(
            Class::Addresses,
            "00:00:5e:00:53:01".into(),
            "00:50:56:00:ab:77".into()
        )));
        assert!(map.contains(&(Class::Users, "device-1".into(), "SEP00505600AB77".into())));
        assert!(map.contains(&(Class::Orgs, "ca-1".into(), "Acme Root CA".into())));
        assert!(map.contains(&(Class::Orgs, "org-1".into(), "Acme".into())));
        assert!(map.contains(&(Class::Orgs, "place-1".into(), "Berlin".into())));
        let pseudonyms: std::collections::BTreeSet<&String> = map.iter().map(|e| &e.1).collect();
        assert_eq!(pseudonyms.len(), map.len(), "each pseudonym once: {map:?}");
    }
}
