//! Injects a capture onto an interface for the live sensor (as root), its addresses moved into
//! 127.0.0.0/8 and its TTL set to a mark: `cargo run --release -p siptriage-dev --bin inject
//! -- -i lo --rate 50000 --ttl 99 cluster.pcap`. `--rate 0` sends as fast as it can; `--max
//! N` stops after N frames. Prints what it sent and the rate it kept. With the sensor reading
//! `siptriage watch -i lo --filter 'ip[8] = 99'`, only these packets are judged, not what the
//! kernel answers to them.

use std::time::{Duration, Instant};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let get = |flag: &str| siptriage_dev::flag_value(&args, flag);
    let iface = get("-i").unwrap_or_else(|| "lo".into());
    let rate: u64 = get("--rate").and_then(|s| s.parse().ok()).unwrap_or(10_000);
    let ttl: u8 = get("--ttl").and_then(|s| s.parse().ok()).unwrap_or(99);
    let max: usize = get("--max")
        .and_then(|s| s.parse().ok())
        .unwrap_or(usize::MAX);
    let Some(path) = args
        .last()
        .filter(|a| !a.starts_with('-') && args.len() > 1)
    else {
        eprintln!("usage: inject -i IFACE [--rate PPS] [--ttl N] [--max N] CAPTURE");
        std::process::exit(2);
    };
    let frames: Vec<Vec<u8>> = match siptriage_dev::live::frames_of(path) {
        Ok(f) => f
            .into_iter()
            .filter_map(|(_, lt, f)| siptriage_dev::live::to_loopback(&f, lt, ttl))
            .take(max)
            .collect(),
        Err(e) => {
            eprintln!("{path}: {e}");
            std::process::exit(2);
        }
    };
    let mut cap = match siptriage::live::Live::open_for_sending(iface.as_str()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("cannot open {iface}: {e}");
            std::process::exit(2);
        }
    };
    let start = Instant::now();
    let mut sent = 0u64;
    let mut bytes = 0u64;
    for f in &frames {
        if rate > 0 {
            let due = start + Duration::from_secs_f64(sent as f64 / rate as f64);
            let now = Instant::now();
            if due > now {
                std::thread::sleep(due - now);
            }
        }
        if let Err(e) = cap.send(f.as_slice()) {
            eprintln!("send failed after {sent} frames: {e}");
            std::process::exit(1);
        }
        sent += 1;
        bytes += f.len() as u64;
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "sent {sent} frames ({bytes} bytes) on {iface} in {secs:.2} s: {:.0} frames/s",
        sent as f64 / secs
    );
}
