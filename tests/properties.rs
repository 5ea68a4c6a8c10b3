//! Property tests (seeded, many random cases): TCP reassembly of a stream split, reordered,
//! duplicated and overlapped anywhere gives back the stream; the SIP framer and the TLS record
//! layer give the same result for any segmentation.

use siptriage::flow::reassembly::{Chunk, Half};
use siptriage::net::Dir;
use siptriage::time::Ts;
use siptriage::tls::{KeyLog, Keys, TlsStream};
use siptriage_dev::workload::Rng;

#[test]
fn reassembly_of_any_split_and_order_is_the_stream() {
    let mut rng = Rng::new(11);
    for case in 0..500 {
        let len = 1 + rng.below(6000) as usize;
        let stream: Vec<u8> = (0..len).map(|_| rng.below(256) as u8).collect();
        let isn = rng.next_u64() as u32;
        // Segments covering the stream, some overlapping, then shuffled locally and duplicated.
        let mut segs: Vec<(u32, Vec<u8>)> = Vec::new();
        let mut at = 0;
        while at < len {
            let n = (1 + rng.below(1500) as usize).min(len - at);
            let back = if at > 0 && rng.below(4) == 0 {
                rng.below(at.min(40) as u64) as usize
            } else {
                0
            };
            segs.push((
                isn.wrapping_add(1).wrapping_add((at - back) as u32),
                stream[at - back..at + n].to_vec(),
            ));
            at += n;
        }
        for i in 0..segs.len() {
            let j = (i + rng.below(4) as usize).min(segs.len() - 1);
            segs.swap(i, j);
        }
        for _ in 0..rng.below(4) {
            let d = segs[rng.below(segs.len() as u64) as usize].clone();
            segs.push(d);
        }
        let mut h = Half::default();
        h.syn(isn);
        let mut out = Vec::new();
        let mut gaps = 0;
        for (i, (seq, p)) in segs.iter().enumerate() {
            h.segment(*seq, p, i as u64, &mut |c| match c {
                Chunk::Data(d, _) => out.extend_from_slice(d),
                Chunk::Gap(..) => gaps += 1,
            });
        }
        h.flush(&mut |c| match c {
            Chunk::Data(d, _) => out.extend_from_slice(d),
            Chunk::Gap(..) => gaps += 1,
        });
        assert_eq!(gaps, 0, "case {case}");
        assert!(
            out == stream,
            "case {case}: {} bytes back of {len}",
            out.len()
        );
    }
}

fn sip_stream() -> Vec<u8> {
    let mut s = Vec::new();
    for i in 0..20 {
        let body = "x".repeat(i * 37);
        s.extend_from_slice(format!("REGISTER sip:cucm SIP/2.0\r\nVia: SIP/2.0/TLS 10.0.0.5:5000;branch=z9hG4bK{i}\r\nCSeq: {i} REGISTER\r\nContent-Length: {}\r\n\r\n{body}", body.len()).as_bytes());
        if i % 3 == 0 {
            s.extend_from_slice(b"\r\n\r\n");
        }
        s.extend_from_slice(
            format!("SIP/2.0 407 Proxy Authentication Required\nCSeq: {i} REGISTER\nl: 0\n\n")
                .as_bytes(),
        );
    }
    s
}

fn frame_sip(stream: &[u8], cuts: &[usize]) -> Vec<String> {
    let mut f = siptriage::sip::framer::Framer::default();
    let mut out = Vec::new();
    let mut at = 0;
    for &c in cuts.iter().chain(std::iter::once(&stream.len())) {
        let c = c.clamp(at, stream.len());
        f.push(&stream[at..c], &mut |m| {
            out.push(format!("{:?}/{}/{}", m.start, m.headers.len(), m.body_len))
        });
        at = c;
    }
    out
}

#[test]
fn sip_framing_is_the_same_for_any_segmentation() {
    let stream = sip_stream();
    let whole = frame_sip(&stream, &[]);
    assert_eq!(whole.len(), 40);
    let mut rng = Rng::new(5);
    for case in 0..300 {
        let mut cuts: Vec<usize> = (0..rng.below(60))
            .map(|_| rng.below(stream.len() as u64) as usize)
            .collect();
        cuts.sort_unstable();
        assert_eq!(
            frame_sip(&stream, &cuts),
            whole,
            "case {case}: cuts {cuts:?}"
        );
    }
}

/// Both directions of a recorded TLS connection, as (from client, bytes) in order.
fn tls_conversation() -> Vec<(bool, Vec<u8>)> {
    let t =
        siptriage_dev::workload::templates_from(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures"));
    t.into_iter()
        .find(|t| t.port == 5091 && t.messages.len() >= 3 && t.messages[0].1.first() == Some(&22))
        .map(|t| t.messages)
        .expect("a mutual-TLS conversation among the fixtures")
}

fn run_tls(conv: &[(bool, Vec<u8>)], rng: Option<&mut Rng>) -> String {
    let log = KeyLog::default();
    let keys = Keys {
        log: &log,
        certs: &Default::default(),
        hold_budget: None,
        inject: None,
    };
    let mut t = TlsStream::default();
    let mut rng = rng;
    for (i, (client, bytes)) in conv.iter().enumerate() {
        let dir = if *client {
            Dir::ToServer
        } else {
            Dir::ToClient
        };
        let mut at = 0;
        while at < bytes.len() {
            let n = match rng.as_deref_mut() {
                Some(r) => 1 + r.below(300) as usize,
                None => bytes.len(),
            };
            let end = (at + n).min(bytes.len());
            t.data(
                dir,
                &bytes[at..end],
                i as u64,
                Ts(i as i64),
                keys,
                &mut |_, _, _, _| {},
            );
            at = end;
        }
    }
    let s = &t.summary(&log);
    format!(
        "{:?}|{:?}|{:?}|{:?}",
        s.steps
            .iter()
            .map(|x| (x.message.label(), x.from, x.frame))
            .collect::<Vec<_>>(),
        s.alerts,
        s.chains
            .iter()
            .map(|c| c.certificates.len())
            .collect::<Vec<_>>(),
        s.server_hello
    )
}

#[test]
fn tls_records_are_the_same_for_any_segmentation() {
    let conv = tls_conversation();
    let whole = run_tls(&conv, None);
    assert!(
        whole.contains("Certificate") && whole.contains("ServerHello"),
        "{whole}"
    );
    let mut rng = Rng::new(3);
    for case in 0..200 {
        assert_eq!(run_tls(&conv, Some(&mut rng)), whole, "case {case}");
    }
}
