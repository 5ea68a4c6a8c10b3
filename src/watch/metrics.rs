//! The sensor's metrics for dashboards, in the Prometheus text exposition format (0.0.4),
//! served over HTTP at `/metrics`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::session::{CaptureFacts, Connection};
use crate::time::Ts;

/// Label sets kept per metric at most; past it they are added to one labelled `other`.
pub const MAX_SERIES: usize = 1000;

/// Packet counts from the capture library (`pcap_stats`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Drops {
    /// Packets the kernel handed to the capture.
    pub received: u64,
    /// Dropped because the capture buffer was full (the sensor fell behind).
    pub dropped: u64,
    /// Dropped by the interface or its driver.
    pub if_dropped: u64,
}

#[derive(Default)]
struct Inner {
    drops: Drops,
    /// `(node, port) -> [attempted, succeeded, failed]`.
    registrations: BTreeMap<(String, u16), [u64; 3]>,
    /// `(id, severity) -> occurrences`.
    findings: BTreeMap<(&'static str, &'static str), u64>,
    /// `(description, sender) -> alerts`.
    alerts: BTreeMap<(String, &'static str), u64>,
    /// `decrypted`, `partly_decrypted`, `opaque` -> TLS connections.
    tls: BTreeMap<&'static str, u64>,
    connections_tracked: u64,
    devices_tracked: u64,
    /// Device -> (node, port, client address, capture time its registration expires, ns).
    registered: std::collections::HashMap<String, ((String, u16), std::net::IpAddr, i64)>,
    /// Client address -> when its latest registration expires (findings without a device name
    /// name the address).
    registered_at: std::collections::HashMap<std::net::IpAddr, i64>,
    /// Capture time registrations that ran out were last forgotten.
    pruned: i64,
    /// `(node, port, finding id)` -> the devices (or, without a name, addresses) it names.
    failing: BTreeMap<(String, u16, &'static str), std::collections::BTreeSet<Who>>,
}

/// A device as findings name it: by its name, or by its address when they give none.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Who {
    /// The device's name.
    Device(String),
    /// The client's address.
    Address(std::net::IpAddr),
}

impl Inner {
    /// Whether `who` is registered at capture time `now` (on any node).
    fn is_registered(&self, who: &Who, now: i64) -> bool {
        match who {
            Who::Device(d) => self.registered.get(d).is_some_and(|r| r.2 > now),
            Who::Address(ip) => self.registered_at.get(ip).is_some_and(|&until| until > now),
        }
    }
}

/// What the sensor counted so far; shared between the capture thread and the HTTP server.
/// The per-packet counters are atomics (no lock on the hot path); the rest changes when a
/// connection or a window is judged.
#[derive(Default)]
pub struct Metrics {
    packets: AtomicU64,
    bytes: AtomicU64,
    /// Capture time of the last packet, ns (0: none yet).
    last_packet: AtomicI64,
    inner: Mutex<Inner>,
}

/// The series of `key` (or, past [`MAX_SERIES`] label sets, of `other`).
fn series<K: Ord, V: Default>(map: &mut BTreeMap<K, V>, key: K, other: K) -> &mut V {
    let key = if map.len() < MAX_SERIES || map.contains_key(&key) {
        key
    } else {
        other
    };
    map.entry(key).or_default()
}

/// A label value, escaped as the exposition format wants.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

impl Metrics {
    fn with<T>(&self, f: impl FnOnce(&mut Inner) -> T) -> T {
        let mut g = match self.inner.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        f(&mut g)
    }

    /// A packet of `len` bytes read at `ts`.
    pub fn packet(&self, len: usize, ts: Ts) {
        self.packets.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(len as u64, Ordering::Relaxed);
        self.last_packet.store(ts.0, Ordering::Relaxed);
    }

    /// The capture library's counters, as they stand.
    pub fn drops(&self, d: Drops) {
        self.with(|m| m.drops = d);
    }

    /// Connections and devices followed now.
    pub fn tracked(&self, connections: usize, devices: usize) {
        self.with(|m| {
            m.connections_tracked = connections as u64;
            m.devices_tracked = devices as u64;
        });
    }

    /// A settled connection: its TLS alerts and whether its TLS could be read. `node` is the
    /// server's address as reports show it (redacted when asked).
    pub fn connection(&self, c: &Connection) {
        let Some(t) = &c.tls else { return };
        if !crate::diagnose::in_scope(c) {
            return;
        }
        let state = if t.partly_decrypted {
            "partly_decrypted"
        } else if t.decrypted_bytes > 0 {
            "decrypted"
        } else if t.application_records.iter().sum::<u64>() > 0 {
            "opaque"
        } else {
            "no_application_data"
        };
        self.with(|m| {
            *series(&mut m.tls, state, "other") += 1;
            for a in &t.alerts {
                let sender = match a.sent_by {
                    crate::net::Side::Client => "client",
                    crate::net::Side::Server => "server",
                };
                *series(
                    &mut m.alerts,
                    (a.description.clone(), sender),
                    ("other".into(), sender),
                ) += 1;
            }
        });
    }

    /// The registration attempts of a judged window (not its context), per node and port. An
    /// attempt is a device's try from its first REGISTER to the final answer after any
    /// challenge: it succeeded when that answer is a 2xx; it failed when it is a refusal (a
    /// final answer of 300 or more that is not a challenge to a REGISTER without a token),
    /// or when no such answer came (unanswered past Timer F, a challenge never followed). A
    /// de-registration (Expires 0) is no attempt: it ends the device's registration. Each 2xx
    /// registers the device until its Expires runs out. `node` gives the node's address as
    /// reports show it.
    pub fn window(&self, facts: &CaptureFacts, node: &mut dyn FnMut(std::net::IpAddr) -> String) {
        type Key = (String, u16);
        let mut ended: Vec<(Key, bool)> = Vec::new();
        let mut granted: Vec<(String, Key, std::net::IpAddr, i64)> = Vec::new();
        for reg in &facts.registrations {
            let mut open: Option<Key> = None;
            for &t in &reg.transactions {
                if facts.is_context(t) {
                    continue;
                }
                let Some(tx) = facts.transactions.get(t) else {
                    continue;
                };
                let Some(req) = facts.sip.get(tx.request) else {
                    continue;
                };
                if req.method != "REGISTER" {
                    continue;
                }
                let answer = tx.final_response(&facts.sip);
                let key = (node(req.dst.ip), req.dst.port);
                let device = req.device.clone().unwrap_or_else(|| reg.device.clone());
                if req.expires == Some(0) || answer.is_some_and(|a| a.expires == Some(0)) {
                    // A de-registration: the device is no longer registered.
                    if answer.is_some_and(|a| a.status.is_some_and(|s| (200..300).contains(&s))) {
                        granted.push((device, key, req.src.ip, i64::MIN));
                    }
                    continue;
                }
                let bearer = req.auth.iter().any(|a| {
                    a.header.ends_with("ization") && a.scheme.eq_ignore_ascii_case("bearer")
                });
                match answer.and_then(|a| a.status.map(|s| (a, s))) {
                    Some((a, 200..=299)) => {
                        let secs = a.expires.or(req.expires).unwrap_or(3600);
                        let until = a.time.0.saturating_add(i64::from(secs) * 1_000_000_000);
                        granted.push((device, key.clone(), req.src.ip, until));
                        ended.push((key, true));
                        open = None;
                    }
                    Some((_, 401 | 407)) if !bearer => open = Some(key),
                    Some((_, s)) if s >= 300 => {
                        ended.push((key, false));
                        open = None;
                    }
                    _ => open = Some(key),
                }
            }
            if let Some(key) = open {
                // The attempt ended without a final answer that settles it.
                ended.push((key, false));
            }
        }
        let now = facts.sip_window.map_or(i64::MIN, |t| t.0);
        self.with(|m| {
            for (k, ok) in ended {
                let e = series(&mut m.registrations, k, ("other".into(), 0));
                e[0] += 1;
                e[if ok { 1 } else { 2 }] += 1;
            }
            for (device, key, ip, until) in granted {
                if until == i64::MIN {
                    m.registered.remove(&device);
                    m.registered_at.remove(&ip);
                } else {
                    m.registered.insert(device, (key, ip, until));
                    m.registered_at.insert(ip, until);
                }
            }
            // Registrations that ran out are forgotten (memory grows with devices only), looked
            // for once a minute of capture time.
            if now != i64::MIN && now.saturating_sub(m.pruned) >= 60_000_000_000 {
                m.pruned = now;
                m.registered.retain(|_, r| r.2 > now);
                m.registered_at.retain(|_, until| *until > now);
            }
        });
    }

    /// The devices each finding names so far, by node and port (`node`: the node's address as
    /// reports show it): failing devices are those among them not registered now.
    pub fn failing(&self, id: &'static str, node: (String, u16), who: impl Iterator<Item = Who>) {
        self.with(|m| {
            let set = series(
                &mut m.failing,
                (node.0, node.1, id),
                ("other".into(), 0, id),
            );
            for w in who {
                if !set.contains(&w) {
                    set.insert(w);
                }
            }
        });
    }

    /// The occurrences of each finding id so far (a total, replacing the last one told).
    pub fn findings(&self, totals: &BTreeMap<(&'static str, &'static str), u64>) {
        self.with(|m| m.findings = totals.clone());
    }

    /// The metrics in the text exposition format; `rss` is the process's resident memory.
    pub fn render(&self, rss: Option<u64>) -> String {
        self.with(|m| {
            let mut o = String::new();
            let head = |o: &mut String, name: &str, kind: &str, help: &str| {
                let _ = writeln!(o, "# HELP {name} {help}\n# TYPE {name} {kind}");
            };
            head(&mut o, "siptriage_packets_total", "counter", "Packets read by the sensor.");
            let _ = writeln!(o, "siptriage_packets_total {}", self.packets.load(Ordering::Relaxed));
            head(&mut o, "siptriage_bytes_total", "counter", "Bytes of the packets read (as captured).");
            let _ = writeln!(o, "siptriage_bytes_total {}", self.bytes.load(Ordering::Relaxed));
            head(&mut o, "siptriage_capture_received_packets_total", "counter", "Packets the kernel handed to the capture (pcap_stats ps_recv).");
            let _ = writeln!(o, "siptriage_capture_received_packets_total {}", m.drops.received);
            head(&mut o, "siptriage_capture_dropped_packets_total", "counter", "Packets dropped before the sensor read them: where=buffer (the sensor fell behind, ps_drop) or interface (ps_ifdrop).");
            let _ = writeln!(o, "siptriage_capture_dropped_packets_total{{where=\"buffer\"}} {}", m.drops.dropped);
            let _ = writeln!(o, "siptriage_capture_dropped_packets_total{{where=\"interface\"}} {}", m.drops.if_dropped);
            head(&mut o, "siptriage_last_packet_timestamp_seconds", "gauge", "Capture time of the last packet read (Unix seconds).");
            let _ = writeln!(
                o,
                "siptriage_last_packet_timestamp_seconds {}",
                self.last_packet.load(Ordering::Relaxed) as f64 / 1e9
            );
            for (i, (name, help)) in [
                ("siptriage_registrations_attempted_total", "Registration attempts to a node and port that ended: a device's try from its first REGISTER to the final answer after any challenge."),
                ("siptriage_registrations_succeeded_total", "Registration attempts that ended registered (2xx)."),
                ("siptriage_registrations_failed_total", "Registration attempts that ended without registering: refused, unanswered past Timer F, or a challenge never followed."),
            ]
            .into_iter()
            .enumerate()
            {
                head(&mut o, name, "counter", help);
                for ((node, port), c) in &m.registrations {
                    let _ = writeln!(o, "{name}{{node=\"{}\",port=\"{port}\"}} {}", label(node), c[i]);
                }
            }
            let now = self.last_packet.load(Ordering::Relaxed);
            head(&mut o, "siptriage_devices_registered", "gauge", "Devices registered now, by node and port: from each 200 OK until its Expires runs out or the device de-registers (capture time).");
            let mut per_node: BTreeMap<&(String, u16), u64> = BTreeMap::new();
            for (key, _, until) in m.registered.values() {
                if *until > now {
                    *per_node.entry(key).or_default() += 1;
                }
            }
            for ((node, port), n) in &per_node {
                let _ = writeln!(o, "siptriage_devices_registered{{node=\"{}\",port=\"{port}\"}} {n}", label(node));
            }
            head(&mut o, "siptriage_devices_failing", "gauge", "Devices (or clients, by address) a warning or error finding names, by node, port and finding id, that are not registered now.");
            for ((node, port, id), who) in &m.failing {
                let n = who.iter().filter(|w| !m.is_registered(w, now)).count();
                let _ = writeln!(o, "siptriage_devices_failing{{node=\"{}\",port=\"{port}\",id=\"{id}\"}} {n}", label(node));
            }
            head(&mut o, "siptriage_findings_total", "counter", "Occurrences of each finding id (siptriage scenarios lists them).");
            for ((id, sev), n) in &m.findings {
                let _ = writeln!(o, "siptriage_findings_total{{id=\"{id}\",severity=\"{sev}\"}} {n}");
            }
            head(&mut o, "siptriage_tls_alerts_total", "counter", "TLS alerts on SIP OAuth connections, by description and by the side that sent them.");
            for ((d, s), n) in &m.alerts {
                let _ = writeln!(o, "siptriage_tls_alerts_total{{description=\"{}\",sender=\"{s}\"}} {n}", label(d));
            }
            head(&mut o, "siptriage_tls_connections_total", "counter", "TLS connections of SIP OAuth parties that ended, by whether their application data could be read with the key logs given.");
            for (s, n) in &m.tls {
                let _ = writeln!(o, "siptriage_tls_connections_total{{decryption=\"{s}\"}} {n}");
            }
            head(&mut o, "siptriage_connections_tracked", "gauge", "TCP connections followed now.");
            let _ = writeln!(o, "siptriage_connections_tracked {}", m.connections_tracked);
            head(&mut o, "siptriage_devices_tracked", "gauge", "Devices whose registrations are followed now.");
            let _ = writeln!(o, "siptriage_devices_tracked {}", m.devices_tracked);
            if let Some(rss) = rss {
                head(&mut o, "siptriage_resident_memory_bytes", "gauge", "Resident memory of the sensor process.");
                let _ = writeln!(o, "siptriage_resident_memory_bytes {rss}");
            }
            o
        })
    }

    /// Serves `/metrics` on `addr` from a thread of its own; returns the address bound (port
    /// 0 picks a free one).
    pub fn serve(self: &Arc<Self>, addr: SocketAddr) -> std::io::Result<SocketAddr> {
        let listener = TcpListener::bind(addr)?;
        let bound = listener.local_addr()?;
        let me = Arc::clone(self);
        std::thread::Builder::new()
            .name("metrics".into())
            .spawn(move || {
                for stream in listener.incoming().flatten() {
                    let _ = answer(&me, stream);
                }
            })?;
        Ok(bound)
    }
}

/// The resident memory of this process, in bytes (Linux).
pub fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

/// One HTTP exchange: `GET /metrics` gets the metrics, anything else 404 or 405.
fn answer(m: &Metrics, mut s: TcpStream) -> std::io::Result<()> {
    s.set_read_timeout(Some(std::time::Duration::from_secs(5)))?;
    let mut req = Vec::new();
    let mut buf = [0u8; 1024];
    while !req.windows(4).any(|w| w == b"\r\n\r\n") && req.len() < 8192 {
        let n = s.read(&mut buf)?;
        if n == 0 {
            break;
        }
        req.extend_from_slice(&buf[..n]);
    }
    let line = String::from_utf8_lossy(&req);
    let mut words = line.split_whitespace();
    let (method, path) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let path = path.split('?').next().unwrap_or("");
    let (status, kind, body) = match (method, path) {
        ("GET" | "HEAD", "/metrics") => (
            "200 OK",
            "text/plain; version=0.0.4; charset=utf-8",
            m.render(resident_bytes()),
        ),
        ("GET" | "HEAD", _) => (
            "404 Not Found",
            "text/plain; charset=utf-8",
            "siptriage serves /metrics\n".to_string(),
        ),
        _ => (
            "405 Method Not Allowed",
            "text/plain; charset=utf-8",
            "GET /metrics\n".to_string(),
        ),
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes())?;
    if method != "HEAD" {
        s.write_all(body.as_bytes())?;
    }
    s.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_endpoint_serves_the_exposition_format() {
        let m = Arc::new(Metrics::default());
        m.packet(100, Ts(1_500_000_000));
        m.drops(Drops {
            received: 5,
            dropped: 2,
            if_dropped: 0,
        });
        let mut totals = BTreeMap::new();
        totals.insert(("oauth-port-mismatch", "error"), 3u64);
        m.findings(&totals);
        let addr = m
            .serve("127.0.0.1:0".parse().expect("addr"))
            .expect("serve");
        let mut s = TcpStream::connect(addr).expect("connect");
        s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
            .expect("ask");
        let mut got = String::new();
        s.read_to_string(&mut got).expect("read");
        assert!(got.starts_with("HTTP/1.1 200 OK\r\n"), "{got}");
        assert!(
            got.contains("\r\nContent-Type: text/plain; version=0.0.4"),
            "{got}"
        );
        assert!(got.contains("\nsiptriage_packets_total 1\n"), "{got}");
        assert!(got.contains("\nsiptriage_bytes_total 100\n"), "{got}");
        assert!(got.contains("\nsiptriage_capture_dropped_packets_total{where=\"buffer\"} 2\n"));
        assert!(got.contains(
            "\nsiptriage_findings_total{id=\"oauth-port-mismatch\",severity=\"error\"} 3\n"
        ));
        assert!(
            got.contains("\nsiptriage_last_packet_timestamp_seconds 1.5\n"),
            "{got}"
        );
        // Every sample line belongs to a metric announced with HELP and TYPE.
        let mut typed = std::collections::HashSet::new();
        for l in got.split("\r\n\r\n").nth(1).unwrap_or("").lines() {
            if let Some(rest) = l.strip_prefix("# TYPE ") {
                typed.insert(rest.split(' ').next().unwrap_or("").to_string());
            } else if !l.starts_with('#') {
                let name = l.split(['{', ' ']).next().unwrap_or("");
                assert!(typed.contains(name), "{name} has no TYPE line");
            }
        }
        let mut s = TcpStream::connect(addr).expect("connect");
        s.write_all(b"GET / HTTP/1.1\r\n\r\n").expect("ask");
        let mut got = String::new();
        s.read_to_string(&mut got).expect("read");
        assert!(got.starts_with("HTTP/1.1 404"), "{got}");
    }
}
