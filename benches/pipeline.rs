//! Throughput over generated captures (`siptriage_dev::workload`): the whole pipeline on a capture
//! where 5% of packets are SIP/TLS on OAuth ports and on one where all are, and each stage
//! alone: capture reading, link/IP decode, TCP reassembly, TLS records, SIP framing.
//! Reports bytes/s and packets/s. Run: `cargo bench --bench pipeline`.
//! `SIPTRIAGE_BENCH_MB` sets the generated size (default 64 MiB per capture).

use std::sync::OnceLock;

use siptriage::capture::{read_capture_bytes, CaptureSink, Frame};
use siptriage::config::Config;
use siptriage::decode::{Decoder, Transport};
use siptriage::flow::reassembly::Half;
use siptriage::net::Dir;
use siptriage::time::Ts;
use siptriage::tls::{KeyLog, Keys, TlsStream};
use siptriage_dev::workload::{generate, templates_from, Spec};

fn main() {
    divan::main();
}

struct Capture {
    bytes: Vec<u8>,
    packets: u64,
}

fn make(share: f64) -> Capture {
    let mb: u64 = std::env::var("SIPTRIAGE_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    let templates = templates_from(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures"));
    let mut bytes = Vec::with_capacity((mb << 20) as usize + 4096);
    let stats = generate(
        &Spec {
            bytes: mb << 20,
            sip_share: share,
            seed: 42,
            hostile: None,
        },
        &templates,
        &mut bytes,
    )
    .expect("generated");
    Capture {
        bytes,
        packets: stats.packets,
    }
}

fn mixed() -> &'static Capture {
    static C: OnceLock<Capture> = OnceLock::new();
    C.get_or_init(|| make(5.0))
}

fn all_sip() -> &'static Capture {
    static C: OnceLock<Capture> = OnceLock::new();
    C.get_or_init(|| make(100.0))
}

struct Nothing;
impl CaptureSink for Nothing {
    fn frame(&mut self, f: &Frame<'_>) {
        divan::black_box(f.data.len());
    }
}

struct DecodeOnly(Decoder, u64);
impl CaptureSink for DecodeOnly {
    fn frame(&mut self, f: &Frame<'_>) {
        let n = &mut self.1;
        self.0.decode(f, &mut |p| *n += p.frame);
    }
}

/// The whole analysis of `c`, as `siptriage analyze` runs it on one capture (the rules
/// included).
fn whole_pipeline(b: divan::Bencher, c: &Capture) {
    let cfg = Config::default();
    b.counter(divan::counter::BytesCount::new(c.bytes.len()))
        .counter(divan::counter::ItemsCount::new(c.packets as usize))
        .bench(|| {
            let (facts, findings) =
                siptriage::analyze::analyze_bytes(&c.bytes, &cfg).expect("reads");
            (facts.connections.len(), findings.len())
        });
}

#[divan::bench(sample_count = 10)]
fn whole_pipeline_5_percent_sip(b: divan::Bencher) {
    whole_pipeline(b, mixed());
}

#[divan::bench(sample_count = 10)]
fn whole_pipeline_all_sip_tls(b: divan::Bencher) {
    whole_pipeline(b, all_sip());
}

#[divan::bench(sample_count = 10)]
fn stage_capture_reading(b: divan::Bencher) {
    let c = mixed();
    b.counter(divan::counter::BytesCount::new(c.bytes.len()))
        .counter(divan::counter::ItemsCount::new(c.packets as usize))
        .bench(|| read_capture_bytes("bench", &c.bytes, &mut Nothing).map(|i| i.frames));
}

#[divan::bench(sample_count = 10)]
fn stage_decode(b: divan::Bencher) {
    let c = mixed();
    b.counter(divan::counter::BytesCount::new(c.bytes.len()))
        .counter(divan::counter::ItemsCount::new(c.packets as usize))
        .bench(|| {
            let mut d = DecodeOnly(Decoder::new(), 0);
            let _ = read_capture_bytes("bench", &c.bytes, &mut d);
            d.1
        });
}

/// TCP payload segments of the all-SIP/TLS capture, per flow, for the stage benchmarks.
struct Segments {
    /// (flow index, from client, seq, payload)
    segs: Vec<(usize, bool, u32, Vec<u8>)>,
    bytes: usize,
}

fn segments() -> &'static Segments {
    static S: OnceLock<Segments> = OnceLock::new();
    S.get_or_init(|| {
        struct Collect(
            Decoder,
            Vec<(std::net::IpAddr, u16, std::net::IpAddr, u16)>,
            Vec<(usize, bool, u32, Vec<u8>)>,
        );
        impl CaptureSink for Collect {
            fn frame(&mut self, f: &Frame<'_>) {
                let (flows, segs) = (&mut self.1, &mut self.2);
                self.0.decode(f, &mut |p| {
                    let Transport::Tcp(t) = p.transport else {
                        return;
                    };
                    if t.payload.is_empty() {
                        return;
                    }
                    let k = (p.src, t.sport, p.dst, t.dport);
                    let r = (p.dst, t.dport, p.src, t.sport);
                    let (i, client) = match flows.iter().rposition(|x| *x == k || *x == r) {
                        Some(i) => (i, flows[i] == k),
                        None => {
                            flows.push(k);
                            (flows.len() - 1, true)
                        }
                    };
                    segs.push((i, client, t.seq, t.payload.to_vec()));
                });
            }
        }
        let c = all_sip();
        let take = c.bytes.len().min(16 << 20);
        let mut col = Collect(Decoder::new(), Vec::new(), Vec::new());
        let _ = read_capture_bytes("bench", &c.bytes[..take], &mut col);
        let bytes = col.2.iter().map(|s| s.3.len()).sum();
        Segments { segs: col.2, bytes }
    })
}

#[divan::bench(sample_count = 10)]
fn stage_reassembly(b: divan::Bencher) {
    let s = segments();
    b.counter(divan::counter::BytesCount::new(s.bytes))
        .counter(divan::counter::ItemsCount::new(s.segs.len()))
        .bench(|| {
            let mut halves: std::collections::HashMap<(usize, bool), Half> = Default::default();
            let mut n = 0usize;
            for (i, (flow, client, seq, p)) in s.segs.iter().enumerate() {
                halves
                    .entry((*flow, *client))
                    .or_default()
                    .segment(*seq, p, i as u64, &mut |c| {
                        if let siptriage::flow::reassembly::Chunk::Data(d, _) = c {
                            n += d.len();
                        }
                    });
            }
            n
        });
}

#[divan::bench(sample_count = 10)]
fn stage_tls_records(b: divan::Bencher) {
    let s = segments();
    let log = KeyLog::default();
    b.counter(divan::counter::BytesCount::new(s.bytes))
        .counter(divan::counter::ItemsCount::new(s.segs.len()))
        .bench(|| {
            let mut streams: std::collections::HashMap<usize, TlsStream> = Default::default();
            let keys = Keys {
                log: &log,
                certs: &Default::default(),
                hold_budget: None,
                inject: None,
            };
            for (i, (flow, client, _, p)) in s.segs.iter().enumerate() {
                if p.first().is_some_and(|b| (20..=23).contains(b)) || streams.contains_key(flow) {
                    let dir = if *client {
                        Dir::ToServer
                    } else {
                        Dir::ToClient
                    };
                    streams.entry(*flow).or_default().data(
                        dir,
                        p,
                        i as u64,
                        Ts(0),
                        keys,
                        &mut |_, _, _, _| {},
                    );
                }
            }
            streams.len()
        });
}

#[divan::bench(sample_count = 10)]
fn stage_sip_framing(b: divan::Bencher) {
    // Clear SIP streams: every fixture's SIP messages concatenated, cut at 1448 bytes.
    static SIP: OnceLock<Vec<u8>> = OnceLock::new();
    let stream = SIP.get_or_init(|| {
        let mut out = Vec::new();
        for s in segments()
            .segs
            .iter()
            .filter(|s| s.3.starts_with(b"REGISTER") || s.3.starts_with(b"SIP/2.0"))
        {
            out.extend_from_slice(&s.3);
        }
        out
    });
    b.counter(divan::counter::BytesCount::new(stream.len()))
        .bench(|| {
            let mut f = siptriage::sip::framer::Framer::default();
            let mut n = 0usize;
            for chunk in stream.chunks(1448) {
                f.push(chunk, &mut |m| n += m.body_len + 1);
            }
            n
        });
}
