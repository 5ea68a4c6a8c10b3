//! SIP framing on a stream cut anywhere, and header parsing of one datagram.
#![no_main]
use libfuzzer_sys::fuzz_target;
use siptriage::net::{Endpoint, Transport};
use siptriage::sip::framer::Framer;
use siptriage::sip::{build, parse_datagram, Context};
use siptriage::time::Ts;

fuzz_target!(|data: &[u8]| {
    let e = Endpoint { ip: [10, 0, 0, 1].into(), port: 5060 };
    let ctx = Context { at: siptriage::place::At::Frame(1), time: Ts(0), transport: Transport::Udp, tcp_stream: None, src: e, dst: e, show_secrets: false };
    let _ = parse_datagram(data, &ctx);
    let mut f = Framer::default();
    let cut = data.first().map_or(1, |b| (*b as usize % 64) + 1);
    for (i, chunk) in data.chunks(cut).enumerate() {
        if i % 17 == 16 {
            f.gap();
        }
        f.push(chunk, &mut |m| {
            let _ = build(m.start, m.headers, m.body_len, &ctx);
        });
    }
});
