//! Writes a generated capture: `cargo run --release -p siptriage-dev --bin workload -- --size 1G --sip-share 5
//! --seed 7 -o big.pcap` (`--hostile connections` or `--hostile fragments` for the memory caps).

use siptriage_dev::workload::{generate, templates_from, Hostile, Spec};

fn size(s: &str) -> Option<u64> {
    let (num, mult) = match s.chars().last()? {
        'G' | 'g' => (&s[..s.len() - 1], 1u64 << 30),
        'M' | 'm' => (&s[..s.len() - 1], 1 << 20),
        'K' | 'k' => (&s[..s.len() - 1], 1 << 10),
        _ => (s, 1),
    };
    num.parse::<u64>().ok().map(|n| n * mult)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let get = |flag: &str| siptriage_dev::flag_value(&args, flag);
    let spec = Spec {
        bytes: get("--size").and_then(|s| size(&s)).unwrap_or(64 << 20),
        sip_share: get("--sip-share")
            .and_then(|s| s.parse().ok())
            .unwrap_or(5.0),
        seed: get("--seed").and_then(|s| s.parse().ok()).unwrap_or(1),
        hostile: match get("--hostile").as_deref() {
            Some("connections") => Some(Hostile::Connections),
            Some("fragments") => Some(Hostile::Fragments),
            _ => None,
        },
    };
    let out = get("-o").unwrap_or_else(|| "workload.pcap".into());
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures");
    let templates = templates_from(dir);
    let file = std::fs::File::create(&out).unwrap_or_else(|e| panic!("{out}: {e}"));
    let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
    match generate(&spec, &templates, &mut w) {
        Ok(stats) => println!(
            "wrote {out}: {} bytes, {} packets, {} SIP/TLS packets ({:.1}%), {} conversations from {} templates",
            stats.bytes,
            stats.packets,
            stats.sip_packets,
            100.0 * stats.sip_packets as f64 / stats.packets.max(1) as f64,
            stats.conversations,
            templates.len()
        ),
        Err(e) => {
            eprintln!("{out}: {e}");
            std::process::exit(2);
        }
    }
}
