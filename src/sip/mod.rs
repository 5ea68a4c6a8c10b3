//! SIP in clear: messages framed by Content-Length on streams or one per UDP datagram, with
//! the fields triage needs. Credentials are redacted as the message is parsed, so no later
//! stage can print them.

pub mod framer;
pub mod parse;

use crate::place::At;
use serde::Serialize;

use crate::net::{Endpoint, Transport};
use crate::time::Ts;
pub use parse::StartLine;

/// Headers kept on a stored message; every other header is only read into the message's fields.
pub const KEPT_HEADERS: &[&str] = &[
    "Via",
    "Contact",
    "Authorization",
    "Proxy-Authorization",
    "WWW-Authenticate",
    "Proxy-Authenticate",
    "Warning",
    "Reason",
];

/// Largest header block accepted.
pub const MAX_HEADER: usize = 64 * 1024;
/// Largest body kept; a larger one is skipped (its length is still known).
pub const MAX_BODY: usize = 1024 * 1024;

/// A SIP Warning header.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Warning {
    /// Warn-code (399 for CUCM's own texts).
    pub code: u16,
    /// Warn-agent (usually the CUCM host name).
    pub agent: String,
    /// The quoted text.
    pub text: String,
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} \"{}\"", self.code, self.agent, self.text)
    }
}

/// As reports write a message's warnings: the first, `399 agent "text"`.
fn first_warning<S: serde::Serializer>(w: &[Warning], s: S) -> Result<S::Ok, S::Error> {
    match w.first() {
        Some(w) => s.serialize_some(&w.to_string()),
        None => s.serialize_none(),
    }
}

/// As reports write a message's auth headers: `Proxy-Authenticate: Bearer`.
fn auth_schemes<S: serde::Serializer>(a: &[Auth], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(a.iter().map(|a| format!("{}: {}", a.header, a.scheme)))
}

/// What an auth header says, never the credential itself.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Auth {
    /// Header name (`Proxy-Authenticate`, `Authorization`, ...).
    pub header: String,
    /// `Bearer`, `Digest`, ...
    pub scheme: String,
    /// The realm, if given.
    pub realm: Option<String>,
    /// A credential (token, digest response) was present (and is redacted).
    pub has_credentials: bool,
}

/// One SIP message. Reports list it as it serializes here (credentials never included; the
/// fields marked `skip` are for the rules only).
#[derive(Clone, Debug, Serialize, PartialEq, schemars::JsonSchema)]
pub struct SipMessage {
    /// Where the message completed: a capture's frame, or the log's line that printed it
    /// (JSON writes its number as `frame`; a log's file is beside it, in the listing).
    #[serde(rename = "frame", serialize_with = "crate::place::number")]
    #[schemars(rename = "frame", with = "u64")]
    pub at: At,
    /// Capture time.
    pub time: Ts,
    /// `udp`, `tcp` or `tls`.
    pub transport: Transport,
    /// Wireshark `tcp.stream`, for TCP.
    pub tcp_stream: Option<u64>,
    /// Sender.
    pub src: Endpoint,
    /// Receiver.
    pub dst: Endpoint,
    /// Method (requests) or the CSeq method (responses).
    pub method: String,
    /// Status code (responses).
    pub status: Option<u16>,
    /// Reason phrase (responses).
    pub reason: Option<String>,
    /// Request-URI (requests).
    #[serde(skip)]
    pub uri: Option<String>,
    /// The headers rules and reports consult ([`KEPT_HEADERS`]), in order, repeats kept
    /// (credentials redacted); the rest are read into the fields below and not stored.
    #[serde(skip)]
    #[schemars(skip)]
    pub headers: Vec<(std::borrow::Cow<'static, str>, String)>,
    /// Body length.
    #[serde(skip)]
    pub body_len: usize,
    /// CSeq number.
    pub cseq: Option<u32>,
    /// Call-ID.
    pub call_id: Option<String>,
    /// Branch of the top Via.
    #[serde(skip)]
    pub branch: Option<String>,
    /// Device name from Contact (`+u.sip!devicename.ccm.cisco.com`).
    pub device: Option<String>,
    /// To URI.
    #[serde(skip)]
    pub to: Option<String>,
    /// Warning headers (reports write the first, `399 agent "text"`).
    #[serde(rename = "warning", serialize_with = "first_warning")]
    #[schemars(rename = "warning", with = "Option<String>")]
    pub warnings: Vec<Warning>,
    /// Auth schemes present (`Proxy-Authenticate: Bearer`, `Proxy-Authorization: Bearer`, ...).
    #[serde(serialize_with = "auth_schemes")]
    #[schemars(with = "Vec<String>")]
    pub auth: Vec<Auth>,
    /// Expires header, or the Contact's expires parameter.
    #[serde(skip)]
    pub expires: Option<u32>,
    /// Retry-After seconds.
    #[serde(skip)]
    pub retry_after: Option<u32>,
    /// Reason header.
    #[serde(skip)]
    pub reason_header: Option<String>,
    /// User-Agent.
    #[serde(skip)]
    pub user_agent: Option<String>,
    /// Server.
    #[serde(skip)]
    pub server: Option<String>,
}

impl SipMessage {
    /// Whether this is a request.
    pub fn is_request(&self) -> bool {
        self.status.is_none()
    }

    /// First value of a header.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether an auth header of `header` with `scheme` is present.
    pub fn has_auth(&self, header: &str, scheme: &str) -> bool {
        self.auth
            .iter()
            .any(|a| a.header.eq_ignore_ascii_case(header) && a.scheme.eq_ignore_ascii_case(scheme))
    }

    /// `SIP/2.0 403 Forbidden` or `REGISTER sip:...`: one line for reports.
    pub fn summary_line(&self) -> String {
        match (self.status, &self.reason, &self.uri) {
            (Some(c), r, _) => format!("{c} {} ({})", r.as_deref().unwrap_or(""), self.method),
            (None, _, Some(u)) => format!("{} {u}", self.method),
            _ => self.method.clone(),
        }
    }
}

/// Where a message travelled.
#[derive(Clone, Debug)]
pub struct Context {
    /// Where it completed.
    pub at: At,
    /// Time.
    pub time: Ts,
    /// `udp`, `tcp` or `tls`.
    pub transport: Transport,
    /// tcp.stream.
    pub tcp_stream: Option<u64>,
    /// Sender.
    pub src: Endpoint,
    /// Receiver.
    pub dst: Endpoint,
    /// Keep credentials whole (`--show-secrets`).
    pub show_secrets: bool,
}

impl SipMessage {
    /// The credentials it carries, as `Header: value` (redacted at parse time unless
    /// `--show-secrets` was given).
    pub fn credentials(&self) -> impl Iterator<Item = String> + '_ {
        self.headers
            .iter()
            .filter(|(n, _)| n == "Authorization" || n == "Proxy-Authorization")
            .map(|(n, v)| format!("{n}: {v}"))
    }
}

/// Splits `bytes` at the first empty line: `(start line, header block, offset of the body)`.
pub fn split_head(bytes: &[u8]) -> Option<(&[u8], &[u8], usize)> {
    let end = find_head_end(bytes)?;
    let head = &bytes[..end.0];
    let nl = head.iter().position(|&c| c == b'\n').unwrap_or(head.len());
    let first = head[..nl].strip_suffix(b"\r").unwrap_or(&head[..nl]);
    Some((first, head.get(nl + 1..).unwrap_or(&[]), end.1))
}

/// `(end of headers, start of body)` for CRLFCRLF or LFLF.
pub fn find_head_end(b: &[u8]) -> Option<(usize, usize)> {
    memchr::memchr_iter(b'\n', b).find_map(|i| match (b.get(i + 1), b.get(i + 2)) {
        (Some(b'\n'), _) => Some((i, i + 2)),
        (Some(b'\r'), Some(b'\n')) => Some((i, i + 3)),
        _ => None,
    })
}

/// The Content-Length header of a header block, if present and numeric.
pub fn content_length(headers: &[parse::Header<'_>]) -> Option<usize> {
    headers
        .iter()
        .find(|(n, _)| n == "Content-Length")
        .and_then(|(_, v)| v.trim().parse().ok())
}

fn param<'a>(v: &'a str, name: &str) -> Option<&'a str> {
    // `name=`, matched without regard to ASCII case (and without allocating).
    let (b, n) = (v.as_bytes(), name.as_bytes());
    let found = |from: usize| {
        (from..b.len().saturating_sub(n.len()))
            .find(|&i| b[i..i + n.len()].eq_ignore_ascii_case(n) && b[i + n.len()] == b'=')
    };
    let mut from = 0;
    while let Some(at) = found(from) {
        let before = at.checked_sub(1).map(|i| b[i]);
        if matches!(before, Some(b';') | Some(b' ') | Some(b',') | None) {
            let val = &v[at + n.len() + 1..];
            if let Some(q) = val.strip_prefix('"') {
                return q.find('"').map(|e| &q[..e]);
            }
            let end = val.find([';', ',', '>', ' ']).unwrap_or(val.len());
            return Some(&val[..end]);
        }
        from = at + n.len() + 1;
    }
    None
}

fn warning(v: &str) -> Option<Warning> {
    let v = v.trim();
    let (code, rest) = v.split_once(' ')?;
    let (agent, text) = rest.trim_start().split_once(' ').unwrap_or((rest, ""));
    Some(Warning {
        code: code.parse().ok()?,
        agent: agent.to_string(),
        text: text.trim().trim_matches('"').to_string(),
    })
}

/// What a JWT shows without its secret: the header (`alg=RS256 kid=...`: the kid names the
/// signing key and starts with the cluster id) and, when the payload has them in clear, the
/// issued and expiry times. CUCM's access tokens keep the expiry inside their encrypted
/// `private` claim; that is said instead. Nothing else of the payload is shown.
pub fn jwt_header(token: &str) -> Option<String> {
    use base64::Engine;
    // Only the fields shown are read, whatever their type (no document tree: this runs on
    // every REGISTER).
    #[derive(serde::Deserialize)]
    struct Head {
        alg: Option<serde_json::Value>,
        kid: Option<serde_json::Value>,
        typ: Option<serde_json::Value>,
    }
    #[derive(serde::Deserialize)]
    struct Claims {
        iat: Option<serde_json::Value>,
        exp: Option<serde_json::Value>,
        private: Option<serde::de::IgnoredAny>,
    }
    let decode = |part: &str| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part.trim_end_matches('='))
            .ok()
    };
    let mut parts = token.split('.');
    let head: Head = serde_json::from_slice(&decode(parts.next()?)?).ok()?;
    let payload: Option<Claims> = parts
        .next()
        .and_then(decode)
        .and_then(|b| serde_json::from_slice(&b).ok());
    let header: Vec<String> = [("alg", &head.alg), ("kid", &head.kid), ("typ", &head.typ)]
        .iter()
        .filter_map(|(k, v)| {
            v.as_ref()
                .and_then(|x| x.as_str())
                .map(|x| format!("{k}={}", x.chars().take(80).collect::<String>()))
        })
        .collect();
    if header.is_empty() {
        return None;
    }
    let mut shown = vec![header.join(" ")];
    let time = |n: Option<&serde_json::Value>| {
        n.and_then(serde_json::Value::as_i64)
            .filter(|&t| (0..=253_402_300_799).contains(&t))
            .map(|t| Ts(t * 1_000_000_000).rfc3339())
    };
    let (iat, exp) = payload.as_ref().map_or((None, None), |p| {
        (time(p.iat.as_ref()), time(p.exp.as_ref()))
    });
    match (iat, exp) {
        (None, None) => {
            if payload.as_ref().is_some_and(|p| p.private.is_some()) {
                shown.push("expiry encrypted in the private claim".into());
            }
        }
        (iat, exp) => {
            if let Some(t) = iat {
                shown.push(format!("issued {t}"));
            }
            if let Some(t) = exp {
                shown.push(format!("expires {t}"));
            }
        }
    }
    Some(shown.join("; "))
}

/// Auth headers already read, by a digest of name and value ([`crate::net::key128`]): a
/// device sends the same token in every REGISTER until it is refreshed, and CUCM the same
/// challenge, so a token is decoded once, not per message. Per thread, emptied past
/// [`AUTH_SEEN`] entries.
type AuthSeen = foldhash::HashMap<(u64, u64), (Auth, String)>;

const AUTH_SEEN: usize = 4096;

thread_local! {
    static SEEN: std::cell::RefCell<AuthSeen> = std::cell::RefCell::default();
}

fn auth(header: &str, v: &str) -> (Auth, String) {
    let key = crate::net::key128(&(header, v));
    if let Some(seen) = SEEN.with_borrow(|m| m.get(&key).cloned()) {
        return seen;
    }
    let read = read_auth(header, v);
    SEEN.with_borrow_mut(|m| {
        if m.len() >= AUTH_SEEN {
            m.clear();
        }
        m.insert(key, read.clone());
    });
    read
}

fn read_auth(header: &str, v: &str) -> (Auth, String) {
    let v = v.trim();
    let (scheme, rest) = v.split_once([' ', '\t']).unwrap_or((v, ""));
    let params = parse::auth_params(rest);
    let realm = params
        .iter()
        .find(|(n, _)| n == "realm")
        .map(|(_, v)| v.clone());
    let secret_names = ["token", "response", "cnonce", ""];
    let has_credentials = params
        .iter()
        .any(|(n, _)| secret_names.contains(&n.as_str()));
    let redacted: Vec<String> = params
        .iter()
        .map(|(n, val)| {
            if secret_names.contains(&n.as_str()) {
                let label = if n.is_empty() { "credentials" } else { n };
                let jwt = jwt_header(val)
                    .map(|h| format!("; JWT {h}"))
                    .unwrap_or_default();
                format!("{label}=<redacted {} chars{jwt}>", val.len())
            } else {
                format!("{n}=\"{val}\"")
            }
        })
        .collect();
    (
        Auth {
            header: header.to_string(),
            scheme: scheme.to_string(),
            realm,
            has_credentials,
        },
        format!("{scheme} {}", redacted.join(", ")),
    )
}

/// Builds a message from its start line, header block and body length. Credentials in
/// Authorization and Proxy-Authorization are redacted here.
pub fn build(
    start: StartLine,
    mut headers: Vec<parse::Header<'_>>,
    body_len: usize,
    ctx: &Context,
) -> SipMessage {
    let mut msg_auth = Vec::new();
    let mut warnings = Vec::new();
    for (name, value) in headers.iter_mut() {
        match name.as_ref() {
            "Authorization" | "Proxy-Authorization" | "WWW-Authenticate" | "Proxy-Authenticate" => {
                let (a, shown) = auth(name, value);
                if name.ends_with("ization") && !ctx.show_secrets {
                    *value = shown.into();
                }
                msg_auth.push(a);
            }
            "Warning" => warnings.extend(warning(value)),
            _ => {}
        }
    }
    let first = |n: &str| {
        headers
            .iter()
            .find(|(h, _)| h == n)
            .map(|(_, v)| v.as_ref())
    };
    let owned = |n: &str| first(n).map(str::to_string);
    let mut cseq = first("CSeq").map(str::split_whitespace);
    let (cseq_num, cseq_method) = match cseq.as_mut().map(|p| (p.next(), p.next())) {
        Some((Some(n), Some(m))) => (n.parse().ok(), Some(m.to_string())),
        _ => (None, None),
    };
    let contact = first("Contact");
    let device = contact
        .and_then(|c| param(c, "+u.sip!devicename.ccm.cisco.com"))
        .map(str::to_string);
    let expires = first("Expires")
        .and_then(|e| e.trim().parse().ok())
        .or_else(|| {
            contact
                .and_then(|c| param(c, "expires"))
                .and_then(|e| e.parse().ok())
        });
    let to = first("To").map(|t| match (t.find('<'), t.find('>')) {
        (Some(a), Some(b)) if b > a => t[a + 1..b].to_string(),
        _ => t.split(';').next().unwrap_or(t).trim().to_string(),
    });
    let (method, status, reason, uri) = match start {
        StartLine::Request { method, uri } => (method, None, None, Some(uri)),
        StartLine::Response { code, reason } => (
            cseq_method.unwrap_or_default(),
            Some(code),
            Some(reason),
            None,
        ),
    };
    SipMessage {
        at: ctx.at.clone(),
        time: ctx.time,
        transport: ctx.transport,
        tcp_stream: ctx.tcp_stream,
        src: ctx.src,
        dst: ctx.dst,
        method,
        status,
        reason,
        uri,
        call_id: owned("Call-ID"),
        cseq: cseq_num,
        branch: first("Via")
            .and_then(|v| param(v, "branch"))
            .map(str::to_string),
        device,
        to,
        warnings,
        auth: msg_auth,
        expires,
        retry_after: first("Retry-After").and_then(|r| {
            r.split([';', ' ', '('])
                .next()
                .and_then(|n| n.trim().parse().ok())
        }),
        reason_header: owned("Reason"),
        user_agent: owned("User-Agent"),
        server: owned("Server"),
        body_len,
        headers: headers
            .into_iter()
            .filter(|(n, _)| KEPT_HEADERS.contains(&n.as_ref()))
            .map(|(n, v)| (n, v.into_owned()))
            .collect(),
    }
}

/// Parses one UDP datagram (junk before the start line is skipped; the body is the rest).
pub fn parse_datagram(payload: &[u8], ctx: &Context) -> Option<SipMessage> {
    let start = framer::find_start(payload)?;
    let bytes = &payload[start..];
    let (first, block, body_at) = match split_head(bytes) {
        Some(x) => x,
        None => {
            // No empty line: headers run to the end of the datagram.
            let nl = bytes
                .iter()
                .position(|&c| c == b'\n')
                .unwrap_or(bytes.len());
            let first = bytes[..nl].strip_suffix(b"\r").unwrap_or(&bytes[..nl]);
            (first, bytes.get(nl + 1..).unwrap_or(&[]), bytes.len())
        }
    };
    let sl = parse::start_line(first)?;
    let hs = parse::headers(block);
    Some(build(sl, hs, bytes.len() - body_at, ctx))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> Context {
        let e = Endpoint {
            ip: [10, 0, 0, 1].into(),
            port: 5060,
        };
        Context {
            at: At::Frame(1),
            time: Ts(0),
            transport: Transport::Udp,
            tcp_stream: None,
            src: e,
            dst: e,
            show_secrets: false,
        }
    }

    fn b64(json: &str) -> String {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
    }

    #[test]
    fn a_token_read_again_gives_its_own_summary_not_another_ones() {
        let token = |exp: i64| {
            format!(
                "{}.{}.c2ln",
                b64(r#"{"alg":"RS256","typ":"JWT"}"#),
                b64(&format!(r#"{{"exp":{exp}}}"#))
            )
        };
        let (a, b) = (token(1_777_626_000), token(1_777_629_600));
        let read = |t: &str| auth("Authorization", &format!("Bearer token=\"{t}\""));
        let first = read(&a);
        assert!(
            first.1.contains("expires 2026-05-01T09:00:00.000000Z"),
            "{}",
            first.1
        );
        let other = read(&b);
        assert!(
            other.1.contains("expires 2026-05-01T10:00:00.000000Z"),
            "{}",
            other.1
        );
        assert_eq!(read(&a), first, "the same token, the same summary");
        // A full table is emptied, not grown.
        for i in 0..AUTH_SEEN + 10 {
            read(&token(i as i64));
        }
        assert!(SEEN.with_borrow(|m| m.len()) <= AUTH_SEEN);
        assert_eq!(read(&b), other);
    }

    #[test]
    fn jwt_summary_shows_header_and_readable_times_never_the_rest() {
        // A refresh token: exp and iat in clear.
        let refresh = format!(
            "{}.{}.c2ln",
            b64(r#"{"alg":"RS256","kid":"abc","typ":"JWT"}"#),
            b64(r#"{"iat":1772442000,"exp":1777626000,"sub":"rado"}"#)
        );
        assert_eq!(
            jwt_header(&refresh).as_deref(),
            Some(
                "alg=RS256 kid=abc typ=JWT; issued 2026-03-02T09:00:00.000000Z; expires 2026-05-01T09:00:00.000000Z"
            )
        );
        // An access token: the expiry is inside the encrypted private claim.
        let access = format!(
            "{}.{}.c2ln",
            b64(r#"{"alg":"RS256","kid":"k1"}"#),
            b64(r#"{"private":"eyJ..."}"#)
        );
        assert_eq!(
            jwt_header(&access).as_deref(),
            Some("alg=RS256 kid=k1; expiry encrypted in the private claim")
        );
        assert_eq!(jwt_header("not-a-jwt"), None);
        let (_, shown) = auth(
            "Proxy-Authorization",
            &format!("Bearer token=\"{refresh}\""),
        );
        assert!(shown.starts_with("Bearer token=<redacted "), "{shown}");
        assert!(
            !shown.contains("rado") && !shown.contains("c2ln"),
            "{shown}"
        );
    }

    #[test]
    fn cisco_register_fields_and_redaction() {
        let m = b"REGISTER sip:cucm.example.com SIP/2.0\r\n\
Via: SIP/2.0/TLS 10.0.0.5:51234;branch=z9hG4bK00aa\r\n\
To: <sip:1001@cucm.example.com>\r\nCall-ID: c1@10.0.0.5\r\nCSeq: 102 REGISTER\r\n\
Contact: <sip:x@10.0.0.5:51234;transport=tls>;+sip.instance=\"<urn:uuid:1>\";+u.sip!devicename.ccm.cisco.com=\"CSFrado\";+u.sip!model.ccm.cisco.com=\"503\"\r\n\
Proxy-Authorization: Bearer token=\"eyJhbGciOiJSUzI1NiJ9.c2VjcmV0.c2ln\"\r\nExpires: 3600\r\nContent-Length: 0\r\n\r\n";
        let msg = parse_datagram(m, &ctx()).expect("parses");
        assert_eq!(msg.device.as_deref(), Some("CSFrado"));
        assert_eq!(msg.cseq, Some(102));
        assert_eq!(msg.branch.as_deref(), Some("z9hG4bK00aa"));
        assert_eq!(msg.expires, Some(3600));
        assert!(msg.has_auth("Proxy-Authorization", "bearer"));
        let shown = msg.header("Proxy-Authorization").unwrap_or_default();
        assert!(!shown.contains("eyJ"), "token leaked: {shown}");
        assert!(shown.contains("redacted"));
        assert!(shown.contains("JWT alg=RS256"), "{shown}");
        let json = serde_json::to_string(&msg).unwrap_or_default();
        assert!(!json.contains("c2VjcmV0"));
    }

    #[test]
    fn warning_and_retry_after() {
        let m = b"SIP/2.0 403 Forbidden\nCSeq: 2 REGISTER\nWarning: 399 UCM2-PUB \"SIP OAuth Registration port Mismatch\"\nRetry-After: 35\n\n";
        let msg = parse_datagram(m, &ctx()).expect("parses");
        assert_eq!(msg.status, Some(403));
        assert_eq!(msg.method, "REGISTER");
        assert_eq!(msg.retry_after, Some(35));
        assert_eq!(
            msg.warnings,
            vec![Warning {
                code: 399,
                agent: "UCM2-PUB".into(),
                text: "SIP OAuth Registration port Mismatch".into()
            }]
        );
    }
}
