//! HTTP/1.x in clear, enough for the device configuration file: `GET /<device>.cnf.xml` on the
//! TFTP HTTP port (6970, recognized by content on any port) and its answer, chunked or not. The
//! XML is read with roxmltree: `sipOAuthMode` and every CUCM node's SIP ports.

use std::collections::VecDeque;

use serde::Serialize;

use crate::net::Dir;
use crate::time::Ts;

/// Largest header block accepted.
const MAX_HEAD: usize = 64 * 1024;
/// Largest body kept (a configuration file is a few KiB).
const MAX_BODY: usize = 1024 * 1024;
/// Exchanges kept per connection.
const MAX_EXCHANGES: usize = 64;

/// One CUCM node of the device's CUCM group, as the config file lists it.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq, schemars::JsonSchema)]
pub struct NodePorts {
    /// Address, host name or FQDN (`<callManager><name>`).
    pub name: String,
    /// `<description>`.
    pub description: Option<String>,
    /// `<sipPort>`.
    pub sip_port: Option<u16>,
    /// `<securedSipPort>`.
    pub secured_sip_port: Option<u16>,
    /// `<sipOAuthPort>`.
    pub sip_oauth_port: Option<u16>,
    /// `<sipMRAOAuthPort>`.
    pub sip_mra_oauth_port: Option<u16>,
}

/// What a device configuration file says.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq, schemars::JsonSchema)]
pub struct DeviceConfig {
    /// Device name from the file name.
    pub device: String,
    /// `<sipOAuthMode>`: 1 on, 0 off.
    pub sip_oauth_mode: Option<u8>,
    /// CUCM nodes in priority order.
    pub nodes: Vec<NodePorts>,
}

/// A request and its answer.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Exchange {
    /// Frame of the request.
    pub frame: u64,
    /// Time of the request.
    pub time: Ts,
    /// Method.
    pub method: String,
    /// Request path.
    pub path: String,
    /// Status code of the answer, if seen.
    pub status: Option<u16>,
    /// Frame where the answer completed.
    pub response_frame: Option<u64>,
    /// The parsed configuration file, for a `.cnf.xml` answered 200.
    pub config: Option<DeviceConfig>,
    /// Why a `.cnf.xml` body could not be read, if it could not.
    pub config_error: Option<String>,
}

struct Pending {
    frame: u64,
    time: Ts,
    method: String,
    path: String,
}

/// The HTTP decoder of one connection.
#[derive(Default)]
pub struct HttpStream {
    bufs: [Vec<u8>; 2],
    pending: VecDeque<Pending>,
    dead: [bool; 2],
    /// Exchanges in order.
    pub exchanges: Vec<Exchange>,
}

fn header<'a>(headers: &'a [httparse::Header<'a>], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case(name))
        .and_then(|h| std::str::from_utf8(h.value).ok())
        .map(str::trim)
}

/// Decodes a complete chunked body; `None` while incomplete. Returns (body, bytes consumed).
fn dechunk(b: &[u8]) -> Option<Result<(Vec<u8>, usize), ()>> {
    let mut out = Vec::new();
    let mut at = 0;
    loop {
        let line_end = b[at..].windows(2).position(|w| w == b"\r\n")? + at;
        let size_txt = std::str::from_utf8(&b[at..line_end]).ok()?;
        let size_txt = size_txt.split(';').next().unwrap_or("").trim();
        let Ok(size) = usize::from_str_radix(size_txt, 16) else {
            return Some(Err(()));
        };
        at = line_end + 2;
        if size == 0 {
            // Trailers end with an empty line.
            let end = b[at..].windows(2).position(|w| w == b"\r\n")? + at + 2;
            return Some(Ok((out, end)));
        }
        if out.len() + size > MAX_BODY {
            return Some(Err(()));
        }
        if b.len() < at + size + 2 {
            return None;
        }
        out.extend_from_slice(&b[at..at + size]);
        at += size + 2;
    }
}

impl HttpStream {
    /// Stream bytes in direction `dir`.
    pub fn data(&mut self, dir: Dir, bytes: &[u8], frame: u64, ts: Ts) {
        let i = dir.idx();
        if self.dead[i] {
            return;
        }
        self.bufs[i].extend_from_slice(bytes);
        loop {
            let done = match dir {
                Dir::ToServer => self.request(frame, ts),
                Dir::ToClient => self.response(frame, false),
            };
            if !done {
                break;
            }
        }
        if self.bufs[i].len() > MAX_HEAD + MAX_BODY {
            self.bufs[i].clear();
            self.dead[i] = true;
        }
    }

    /// The sender closed: a response without length ends here.
    pub fn fin(&mut self, dir: Dir, frame: u64) {
        if dir == Dir::ToClient && !self.bufs[1].is_empty() {
            self.response(frame, true);
        }
    }

    /// Bytes were lost: this direction's partial message is dropped and decoding stops.
    pub fn gap(&mut self, dir: Dir) {
        self.bufs[dir.idx()].clear();
        self.dead[dir.idx()] = true;
    }

    fn request(&mut self, frame: u64, ts: Ts) -> bool {
        let mut hs = [httparse::EMPTY_HEADER; 64];
        let mut req = httparse::Request::new(&mut hs);
        let n = match req.parse(&self.bufs[0]) {
            Ok(httparse::Status::Complete(n)) => n,
            Ok(httparse::Status::Partial) => return false,
            Err(_) => {
                self.dead[0] = true;
                return false;
            }
        };
        let body = header(req.headers, "Content-Length")
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or(0);
        if self.bufs[0].len() < n + body {
            return false;
        }
        self.pending.push_back(Pending {
            frame,
            time: ts,
            method: req.method.unwrap_or("").to_string(),
            path: req.path.unwrap_or("").to_string(),
        });
        self.bufs[0].drain(..n + body);
        true
    }

    fn response(&mut self, frame: u64, closed: bool) -> bool {
        let mut hs = [httparse::EMPTY_HEADER; 64];
        let mut resp = httparse::Response::new(&mut hs);
        let n = match resp.parse(&self.bufs[1]) {
            Ok(httparse::Status::Complete(n)) => n,
            Ok(httparse::Status::Partial) => return false,
            Err(_) => {
                self.dead[1] = true;
                return false;
            }
        };
        let status = resp.code;
        let chunked = header(resp.headers, "Transfer-Encoding")
            .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
        let length = header(resp.headers, "Content-Length").and_then(|v| v.parse::<usize>().ok());
        let rest = &self.bufs[1][n..];
        let (body, used) = if chunked {
            match dechunk(rest) {
                None => return false,
                Some(Err(())) => {
                    self.dead[1] = true;
                    return false;
                }
                Some(Ok((b, used))) => (b, used),
            }
        } else if let Some(len) = length {
            if rest.len() < len {
                return false;
            }
            (rest[..len].to_vec(), len)
        } else if closed || status.is_some_and(|s| s == 204 || s == 304 || s < 200) {
            (rest.to_vec(), rest.len())
        } else {
            return false;
        };
        self.bufs[1].drain(..n + used);
        let Some(req) = self.pending.pop_front() else {
            return true;
        };
        let mut ex = Exchange {
            frame: req.frame,
            time: req.time,
            method: req.method,
            path: req.path,
            status,
            response_frame: Some(frame),
            config: None,
            config_error: None,
        };
        if status == Some(200) && ex.path.ends_with(".cnf.xml") {
            match parse_config(&device_of(&ex.path), &body) {
                Ok(c) => ex.config = Some(c),
                Err(e) => ex.config_error = Some(e),
            }
        }
        if self.exchanges.len() < MAX_EXCHANGES {
            self.exchanges.push(ex);
        }
        true
    }

    /// Requests that never got an answer, as exchanges without status.
    pub fn unanswered(&mut self) {
        while let Some(req) = self.pending.pop_front() {
            if self.exchanges.len() < MAX_EXCHANGES {
                self.exchanges.push(Exchange {
                    frame: req.frame,
                    time: req.time,
                    method: req.method,
                    path: req.path,
                    status: None,
                    response_frame: None,
                    config: None,
                    config_error: None,
                });
            }
        }
    }
}

/// `CSFrado` from `/CSFrado.cnf.xml` (or `.cnf.xml.enc.sgn`).
pub fn device_of(path: &str) -> String {
    let file = path
        .split('?')
        .next()
        .unwrap_or(path)
        .rsplit('/')
        .next()
        .unwrap_or(path);
    file.split(".cnf.xml").next().unwrap_or(file).to_string()
}

/// Adds declarations for the namespace prefixes CUCM uses without declaring (`xsi`, `axl`) to
/// the root element.
fn declare_prefixes(text: &str) -> String {
    let mut start = 0;
    while let Some(p) = text[start..].find('<') {
        let at = start + p;
        let next = text[at + 1..].chars().next();
        if matches!(next, Some('?') | Some('!')) {
            start = at + 1;
            continue;
        }
        let name_end = text[at + 1..]
            .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
            .map_or(text.len(), |e| at + 1 + e);
        let mut out = String::with_capacity(text.len() + 128);
        out.push_str(&text[..name_end]);
        for prefix in ["xsi", "axl"] {
            if !text.contains(&format!("xmlns:{prefix}=")) {
                out.push_str(&format!(
                    " xmlns:{prefix}=\"urn:siptriage:undeclared:{prefix}\""
                ));
            }
        }
        out.push_str(&text[name_end..]);
        return out;
    }
    text.to_string()
}

/// Reads a device configuration file.
pub fn parse_config(device: &str, body: &[u8]) -> Result<DeviceConfig, String> {
    let text = std::str::from_utf8(body).map_err(|_| "not UTF-8".to_string())?;
    // CUCM writes `xsi:type="axl:XIPPhone"` without declaring the prefixes: declare them.
    let patched;
    let doc = match roxmltree::Document::parse(text) {
        Ok(d) => d,
        Err(roxmltree::Error::UnknownNamespace(..)) => {
            patched = declare_prefixes(text);
            roxmltree::Document::parse(&patched).map_err(|e| format!("XML error: {e}"))?
        }
        Err(e) => return Err(format!("XML error: {e}")),
    };
    let text_of = |n: roxmltree::Node<'_, '_>, tag: &str| {
        n.children()
            .find(|c| c.has_tag_name(tag))
            .and_then(|c| c.text())
            .map(|t| t.trim().to_string())
    };
    let port =
        |n: roxmltree::Node<'_, '_>, tag: &str| text_of(n, tag).and_then(|t| t.parse::<u16>().ok());
    let mode = doc
        .descendants()
        .find(|n| n.has_tag_name("sipOAuthMode"))
        .and_then(|n| n.text())
        .and_then(|t| t.trim().parse().ok());
    let mut nodes = Vec::new();
    for cm in doc.descendants().filter(|n| n.has_tag_name("callManager")) {
        let ports = cm.children().find(|c| c.has_tag_name("ports"));
        nodes.push(NodePorts {
            name: text_of(cm, "name").unwrap_or_default(),
            description: text_of(cm, "description"),
            sip_port: ports.and_then(|p| port(p, "sipPort")),
            secured_sip_port: ports.and_then(|p| port(p, "securedSipPort")),
            sip_oauth_port: ports.and_then(|p| port(p, "sipOAuthPort")),
            sip_mra_oauth_port: ports.and_then(|p| port(p, "sipMRAOAuthPort")),
        });
    }
    Ok(DeviceConfig {
        device: device.to_string(),
        sip_oauth_mode: mode,
        nodes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const XML: &str = r#"<?xml version="1.0"?><device xsi:type="axl:XIPPhone" ctiid="7"><devicePool><callManagerGroup><members>
<member priority="0"><callManager><name>10.10.10.11</name><description>ccm15pub</description>
<ports><sipPort>5060</sipPort><securedSipPort>5061</securedSipPort><sipOAuthPort>15090</sipOAuthPort><sipMRAOAuthPort>15091</sipMRAOAuthPort></ports>
</callManager></member></members></callManagerGroup></devicePool><sipOAuthMode>1</sipOAuthMode></device>"#;

    #[test]
    fn chunked_config_split_anywhere() {
        let body = XML.as_bytes();
        let mut wire = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
        for c in body.chunks(100) {
            wire.extend_from_slice(format!("{:x}\r\n", c.len()).as_bytes());
            wire.extend_from_slice(c);
            wire.extend_from_slice(b"\r\n");
        }
        wire.extend_from_slice(b"0\r\n\r\n");
        for split in [1, 7, 64, 333] {
            let mut h = HttpStream::default();
            h.data(
                Dir::ToServer,
                b"GET /CSFrado.cnf.xml HTTP/1.1\r\nHost: tftp\r\n\r\n",
                1,
                Ts(0),
            );
            for (i, c) in wire.chunks(split).enumerate() {
                h.data(Dir::ToClient, c, 2 + i as u64, Ts(0));
            }
            let c = h.exchanges[0].config.clone().expect("config parsed");
            assert_eq!(c.device, "CSFrado");
            assert_eq!(c.sip_oauth_mode, Some(1));
            assert_eq!(c.nodes[0].sip_oauth_port, Some(15090));
            assert_eq!(c.nodes[0].sip_mra_oauth_port, Some(15091));
            assert_eq!(c.nodes[0].description.as_deref(), Some("ccm15pub"));
        }
    }

    #[test]
    fn not_found_and_device_names() {
        let mut h = HttpStream::default();
        h.data(
            Dir::ToServer,
            b"GET /SEP001122334455.cnf.xml.enc.sgn HTTP/1.1\r\n\r\n",
            1,
            Ts(0),
        );
        h.data(
            Dir::ToClient,
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
            2,
            Ts(0),
        );
        assert_eq!(h.exchanges[0].status, Some(404));
        assert_eq!(device_of(&h.exchanges[0].path), "SEP001122334455");
    }
}
