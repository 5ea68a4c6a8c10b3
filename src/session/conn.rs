//! One TCP connection's application layer: what it carries is recognized by content, then its
//! bytes go to the TLS, SIP or HTTP decoder; decrypted SIP goes to the SIP framers too.

use crate::flow::{ConnMeta, Event};
use crate::net::{Dir, Transport};
use crate::sip::framer::{find_start, Framer};
use crate::sip::{self, SipMessage};
use crate::time::Ts;
use crate::tls::{self, Keys, TlsStream};

use super::Proto;

/// Application state of one TCP connection.
#[derive(Default)]
pub struct ConnApp {
    pub(super) proto: Proto,
    pub(super) tls: Option<Box<TlsStream>>,
    pub(super) sip: SipFraming,
    pub(super) http: Option<Box<crate::http::HttpStream>>,
    pub(super) tries: u8,
    pub(super) gaps: u32,
}

/// The SIP side of a connection: a framer per direction (made when SIP first appears), the
/// messages read per direction, and what decrypted application data turned out to be.
#[derive(Default)]
pub(super) struct SipFraming {
    framers: Option<Box<[Framer; 2]>>,
    /// SIP messages per direction `[from client, from server]`.
    pub(super) messages: [u32; 2],
    /// What decrypted application data turned out to be.
    inner: Proto,
}

/// Stream bytes of one direction, with the frame that completed them.
#[derive(Clone, Copy)]
struct Chunk<'a> {
    dir: Dir,
    bytes: &'a [u8],
    frame: u64,
    ts: Ts,
}

/// Where SIP messages go: the capture's streaming SIP state.
pub(super) struct SipStore<'a> {
    pub(super) flow: &'a mut super::sipflow::SipFlow,
    pub(super) show_secrets: bool,
}

pub(super) fn push_sip(store: &mut SipStore<'_>, m: SipMessage) {
    store.flow.push(m);
}

impl SipFraming {
    /// Messages that declared a body over the size limit (headers read, body skipped).
    pub(super) fn oversized(&self) -> u32 {
        self.framers
            .as_ref()
            .map_or(0, |f| f[0].oversized + f[1].oversized)
    }

    fn push(
        &mut self,
        meta: &ConnMeta,
        store: &mut SipStore<'_>,
        c: Chunk<'_>,
        transport: Transport,
    ) {
        let (src, dst) = match c.dir {
            Dir::ToServer => (meta.client, meta.server),
            Dir::ToClient => (meta.server, meta.client),
        };
        let ctx = sip::Context {
            at: crate::place::At::Frame(c.frame),
            time: c.ts,
            transport,
            tcp_stream: Some(meta.stream),
            src,
            dst,
            show_secrets: store.show_secrets,
        };
        let count = &mut self.messages[c.dir.idx()];
        let f = self.framers.get_or_insert_with(Box::default);
        f[c.dir.idx()].push(c.bytes, &mut |m| {
            *count += 1;
            push_sip(store, sip::build(m.start, m.headers, m.body_len, &ctx));
        });
    }

    /// Decrypted application data: SIP goes to the framers; anything else is only counted.
    /// Where a TLS stream's decrypted application data goes: to this connection's SIP.
    fn sink<'a, 's: 'a>(
        &'a mut self,
        meta: &'a ConnMeta,
        store: &'a mut SipStore<'s>,
    ) -> impl FnMut(Dir, &[u8], u64, Ts) + use<'a, 's> {
        move |dir, bytes, frame, ts| {
            self.decrypted(
                meta,
                store,
                Chunk {
                    dir,
                    bytes,
                    frame,
                    ts,
                },
            )
        }
    }

    fn decrypted(&mut self, meta: &ConnMeta, store: &mut SipStore<'_>, c: Chunk<'_>) {
        if self.inner == Proto::Unknown {
            let plain = c.bytes;
            let trimmed = &plain[plain
                .iter()
                .take_while(|c| matches!(c, b'\r' | b'\n'))
                .count()..];
            if trimmed.is_empty() {
                return;
            }
            self.inner = if trimmed.starts_with(b"SIP/2.0") || find_start(trimmed) == Some(0) {
                Proto::Sip
            } else {
                Proto::Other
            };
        }
        if self.inner == Proto::Sip {
            self.push(meta, store, c, Transport::Tls);
        }
    }

    fn gap(&mut self, dir: Dir) {
        if let Some(f) = self.framers.as_mut() {
            f[dir.idx()].gap();
        }
    }

    fn closed(&mut self, dir: Dir) {
        if let Some(f) = self.framers.as_mut() {
            f[dir.idx()].closed();
        }
    }
}

impl ConnApp {
    pub(super) fn event(
        &mut self,
        meta: &ConnMeta,
        ev: Event<'_>,
        store: &mut SipStore<'_>,
        keys: Keys<'_>,
    ) {
        match ev {
            Event::Data(dir, bytes, frame, ts) => {
                if self.proto == Proto::Unknown {
                    self.classify(bytes);
                    // SIP a log printed for this connection stands in for what no key opens.
                    if let (Some(t), Some(inj)) = (self.tls.as_mut(), keys.inject) {
                        t.injected = inj.take(meta.client, meta.server).map(Box::new);
                    }
                }
                let chunk = Chunk {
                    dir,
                    bytes,
                    frame,
                    ts,
                };
                match self.proto {
                    Proto::Tls => {
                        let ConnApp { tls, sip, .. } = self;
                        if let Some(t) = tls.as_mut() {
                            t.data(dir, bytes, frame, ts, keys, &mut sip.sink(meta, store));
                        }
                    }
                    Proto::Sip => self.sip.push(meta, store, chunk, Transport::Tcp),
                    Proto::Http => self
                        .http
                        .get_or_insert_with(Box::default)
                        .data(dir, bytes, frame, ts),
                    _ => {}
                }
            }
            Event::Gap(dir, _, _, _) => {
                self.gaps += 1;
                if let Some(t) = self.tls.as_mut() {
                    t.gap(dir);
                }
                self.sip.gap(dir);
                if let Some(h) = self.http.as_mut() {
                    h.gap(dir);
                }
                if self.proto == Proto::Other {
                    // Content after a gap may be recognizable (capture started mid-stream).
                    self.proto = Proto::Unknown;
                    self.tries = 0;
                }
            }
            Event::Fin(dir, frame, _) | Event::Rst(dir, frame, _) => {
                if let Some(h) = self.http.as_mut() {
                    h.fin(dir, frame);
                }
                if let Some(t) = self.tls.as_mut() {
                    t.closed(dir);
                }
                self.sip.closed(dir);
            }
        }
    }

    /// Processes records held back for keys (after a Decryption Secrets Block, or at the end).
    pub(super) fn release(&mut self, meta: &ConnMeta, store: &mut SipStore<'_>, keys: Keys<'_>) {
        let ConnApp { tls, sip, .. } = self;
        if let Some(t) = tls.as_mut() {
            t.release(keys, &mut sip.sink(meta, store));
        }
    }

    fn classify(&mut self, b: &[u8]) {
        if tls::looks_like_tls(b) {
            self.proto = Proto::Tls;
            self.tls = Some(Box::default());
        } else if b.starts_with(b"SIP/2.0") || find_start(b) == Some(0) {
            self.proto = Proto::Sip;
        } else if b.starts_with(b"HTTP/1.")
            || [&b"GET "[..], b"POST ", b"PUT ", b"HEAD "]
                .iter()
                .any(|m| b.starts_with(m))
        {
            self.proto = Proto::Http;
        } else {
            self.tries += 1;
            if self.tries >= 4 {
                self.proto = Proto::Other;
            }
        }
    }
}
