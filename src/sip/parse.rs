//! SIP start lines and headers on nom: what Cisco clients and CUCM send, leniently.
//!
//! Headers stay in order with repeats; compact forms are expanded; folded lines are joined;
//! CRLF and bare LF line ends are both accepted.

use std::borrow::Cow;

use nom::branch::alt;
use nom::bytes::complete::{tag, take_till, take_while1, take_while_m_n};
use nom::character::complete::{space0, space1};
use nom::combinator::{map, map_res, rest};
use nom::sequence::terminated;
use nom::{IResult, Parser};

/// The first line of a SIP message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StartLine {
    /// `METHOD uri SIP/2.0`
    Request {
        /// Method.
        method: String,
        /// Request-URI.
        uri: String,
    },
    /// `SIP/2.0 code reason`
    Response {
        /// Status code.
        code: u16,
        /// Reason phrase.
        reason: String,
    },
}

fn is_token(c: u8) -> bool {
    const TOKEN: [bool; 256] = {
        let mut t = [false; 256];
        let mut c = 0;
        while c < 256 {
            let b = c as u8;
            t[c] = b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'-' | b'.' | b'!' | b'%' | b'*' | b'_' | b'+' | b'`' | b'\'' | b'~'
                );
            c += 1;
        }
        t
    };
    TOKEN[c as usize]
}

fn status_line(i: &[u8]) -> IResult<&[u8], StartLine> {
    map(
        (
            tag(&b"SIP/2.0"[..]),
            space1,
            map_res(
                take_while_m_n(3, 3, |c: u8| c.is_ascii_digit()),
                |d: &[u8]| std::str::from_utf8(d).unwrap_or("x").parse::<u16>(),
            ),
            space0,
            rest,
        ),
        |(_, _, code, _, reason): (_, _, u16, _, &[u8])| StartLine::Response {
            code,
            reason: text(reason).trim().to_string(),
        },
    )
    .parse(i)
}

fn request_line(i: &[u8]) -> IResult<&[u8], StartLine> {
    let (i, method) = terminated(take_while1(|c: u8| c.is_ascii_uppercase()), space1).parse(i)?;
    let (i, uri) = terminated(take_till(|c| c == b' '), space1).parse(i)?;
    let (i, _) = terminated(tag(&b"SIP/2.0"[..]), space0).parse(i)?;
    if !i.is_empty() || uri.is_empty() {
        return Err(nom::Err::Error(nom::error::Error::new(
            i,
            nom::error::ErrorKind::Verify,
        )));
    }
    Ok((
        i,
        StartLine::Request {
            method: text(method).into_owned(),
            uri: text(uri).into_owned(),
        },
    ))
}

/// Parses a start line (without its line end).
pub fn start_line(line: &[u8]) -> Option<StartLine> {
    alt((status_line, request_line))
        .parse(line)
        .ok()
        .map(|(_, s)| s)
}

/// Whether `line` (without line end) is a SIP start line.
pub fn is_start_line(line: &[u8]) -> bool {
    start_line(line).is_some()
}

/// A header as read: its canonical name and its value, borrowed from the bytes read unless
/// it had to be changed (folded lines, bytes that are not UTF-8, redacted credentials).
pub type Header<'a> = (Cow<'static, str>, Cow<'a, str>);

/// Names spelled out in full in canonical case, by their compact and lowercase forms.
const NAMES: &[(&str, &str, &str)] = &[
    ("i", "call-id", "Call-ID"),
    ("m", "contact", "Contact"),
    ("e", "content-encoding", "Content-Encoding"),
    ("l", "content-length", "Content-Length"),
    ("c", "content-type", "Content-Type"),
    ("f", "from", "From"),
    ("t", "to", "To"),
    ("v", "via", "Via"),
    ("k", "supported", "Supported"),
    ("s", "subject", "Subject"),
    ("o", "event", "Event"),
    ("r", "refer-to", "Refer-To"),
    ("u", "allow-events", "Allow-Events"),
    ("x", "session-expires", "Session-Expires"),
    ("", "cseq", "CSeq"),
    ("", "www-authenticate", "WWW-Authenticate"),
    ("", "proxy-authenticate", "Proxy-Authenticate"),
    ("", "proxy-authorization", "Proxy-Authorization"),
    ("", "authorization", "Authorization"),
    ("", "warning", "Warning"),
    ("", "expires", "Expires"),
    ("", "retry-after", "Retry-After"),
    ("", "reason", "Reason"),
    ("", "user-agent", "User-Agent"),
    ("", "server", "Server"),
];

/// The canonical name of a header rules read (compact forms expanded, any case), or `None`
/// for the others, which nothing reads.
pub fn canonical_name(raw: &[u8]) -> Option<&'static str> {
    // Candidates by length (a header block has a dozen lines, a cluster's capture millions).
    static BY_LEN: std::sync::OnceLock<Vec<Vec<(&'static str, &'static str)>>> =
        std::sync::OnceLock::new();
    let by_len = BY_LEN.get_or_init(|| {
        let mut t: Vec<Vec<(&str, &str)>> = Vec::new();
        for &(short, long, full) in NAMES {
            for n in [short, long].into_iter().filter(|n| !n.is_empty()) {
                if t.len() <= n.len() {
                    t.resize(n.len() + 1, Vec::new());
                }
                t[n.len()].push((n, full));
            }
        }
        t
    });
    by_len
        .get(raw.len())?
        .iter()
        .find(|(n, _)| n.as_bytes().eq_ignore_ascii_case(raw))
        .map(|(_, full)| *full)
}

/// Bytes as text: borrowed when they are UTF-8 (nearly always), with replacement characters
/// otherwise.
fn text(b: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(b) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(b),
    }
}

/// Splits a header block (start line excluded) into `(name, value)` pairs of the headers that
/// are read ([`canonical_name`]), joining folded lines.
pub fn headers(block: &[u8]) -> Vec<Header<'_>> {
    let mut out: Vec<Header<'_>> = Vec::with_capacity(16);
    // Whether the last header line was kept (a folded line continues it).
    let mut kept = false;
    for line in block.split(|&c| c == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        if line[0] == b' ' || line[0] == b'\t' {
            if let Some(last) = out.last_mut().filter(|_| kept) {
                let v = last.1.to_mut();
                v.push(' ');
                v.push_str(text(line).trim());
            }
            continue;
        }
        kept = false;
        // `name: value`, the name a token, maybe spaces before the colon.
        let Some(colon) = memchr::memchr(b':', line) else {
            continue;
        };
        let name = &line[..colon];
        let name = &name[..name.len()
            - name
                .iter()
                .rev()
                .take_while(|&&c| c == b' ' || c == b'\t')
                .count()];
        if name.is_empty() || !name.iter().all(|&c| is_token(c)) {
            continue;
        }
        let Some(name) = canonical_name(name) else {
            continue;
        };
        let value = match text(&line[colon + 1..]) {
            Cow::Borrowed(v) => Cow::Borrowed(v.trim()),
            Cow::Owned(v) => Cow::Owned(v.trim().to_string()),
        };
        out.push((Cow::Borrowed(name), value));
        kept = true;
    }
    out
}

/// Parameters of an auth header value after its scheme: `name=value` or `name="value"`,
/// separated by commas.
pub fn auth_params(v: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = v.trim();
    while !rest.is_empty() {
        rest = rest.trim_start_matches([',', ' ', '\t']);
        let Some(eq) = rest.find('=') else {
            if !rest.is_empty() {
                out.push((String::new(), rest.to_string()));
            }
            break;
        };
        let name = rest[..eq].trim().to_ascii_lowercase();
        let after = rest[eq + 1..].trim_start();
        let (value, next) = if let Some(q) = after.strip_prefix('"') {
            match q.find('"') {
                Some(end) => (q[..end].to_string(), &q[end + 1..]),
                None => (q.to_string(), ""),
            }
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (after[..end].trim().to_string(), &after[end..])
        };
        out.push((name, value));
        rest = next;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_lines() {
        assert_eq!(
            start_line(b"SIP/2.0 403 Forbidden"),
            Some(StartLine::Response {
                code: 403,
                reason: "Forbidden".into()
            })
        );
        assert_eq!(
            start_line(b"REGISTER sip:cucm.example.com SIP/2.0"),
            Some(StartLine::Request {
                method: "REGISTER".into(),
                uri: "sip:cucm.example.com".into()
            })
        );
        assert_eq!(start_line(b"GET / HTTP/1.1"), None);
        assert_eq!(start_line(b"HTTP/1.1 200 OK"), None);
    }

    #[test]
    fn headers_keep_order_repeats_compact_forms_and_folding() {
        let h = headers(b"v: SIP/2.0/TCP a;branch=z9hG4bK1\nVia: SIP/2.0/TCP b\r\ni: abc\r\nX-Unread: a\r\n  b\r\nSubject: one\r\n  two\r\nl:0\r\n");
        let names: Vec<&str> = h.iter().map(|(n, _)| n.as_ref()).collect();
        assert_eq!(
            names,
            ["Via", "Via", "Call-ID", "Subject", "Content-Length"]
        );
        assert_eq!(h[3].1, "one two");
        assert_eq!(h[4].1, "0");
    }

    #[test]
    fn a_header_line_is_a_token_a_colon_and_a_value() {
        let h = headers(
            b"Via \t: SIP/2.0/TLS a\r\nCall ID: x\r\nTo\r\n: y\r\nCSEQ:1 REGISTER\r\nwarning:399 a \"b\"\r\nL : 0\r\n",
        );
        let got: Vec<(&str, &str)> = h.iter().map(|(n, v)| (n.as_ref(), v.as_ref())).collect();
        assert_eq!(
            got,
            [
                ("Via", "SIP/2.0/TLS a"),
                ("CSeq", "1 REGISTER"),
                ("Warning", "399 a \"b\""),
                ("Content-Length", "0"),
            ]
        );
        assert_eq!(
            canonical_name(b"PROXY-AUTHORIZATION"),
            Some("Proxy-Authorization")
        );
        assert_eq!(canonical_name(b"x"), Some("Session-Expires"));
        assert_eq!(canonical_name(b"q"), None);
        assert_eq!(canonical_name(b""), None);
    }

    #[test]
    fn bearer_and_digest_params() {
        assert_eq!(
            auth_params(r#"realm="ccmsipline""#),
            vec![("realm".to_string(), "ccmsipline".to_string())]
        );
        let p = auth_params(r#"username="bob", realm="x, y",nonce=abc"#);
        assert_eq!(p[1], ("realm".into(), "x, y".into()));
        assert_eq!(p[2], ("nonce".into(), "abc".into()));
    }
}
