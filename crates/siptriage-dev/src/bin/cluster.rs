//! Writes a cluster capture: `cargo run --release -p siptriage-dev --bin cluster -- --devices
//! 3000 --seconds 60 --nodes 3 --seed 1 -o cluster.pcap` (10 % port mismatch, 5 % rejected
//! token, 5 % closed port unless `--shares M,T,C,A` says otherwise; A: challenged and never
//! sending the token). `--mra N` sends every device through Expressway-C, multiplexed on N
//! connections to CUCM's 5091. `--tls` puts the SIP in TLS
//! 1.2 and writes the key log beside the capture (`cluster.keys` for `cluster.pcap`, as
//! `--keylog auto` looks for it).

use siptriage_dev::cluster::{generate, Cluster, Fate};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let get = |flag: &str| siptriage_dev::flag_value(&args, flag);
    let num = |flag: &str, default: u64| get(flag).and_then(|s| s.parse().ok()).unwrap_or(default);
    let shares: Vec<f64> = get("--shares")
        .map(|s| s.split(',').filter_map(|x| x.parse().ok()).collect())
        .unwrap_or_else(|| vec![0.10, 0.05, 0.05]);
    let share = |i: usize| shares.get(i).copied().unwrap_or(0.0);
    let spec = Cluster {
        devices: num("--devices", 1000) as u32,
        seconds: num("--seconds", 300) as u32,
        expires: num("--expires", 120) as u32,
        retry: num("--retry", 60) as u32,
        nodes: num("--nodes", 3) as u8,
        shares: vec![
            (Fate::PortMismatch, share(0)),
            (Fate::TokenRejected, share(1)),
            (Fate::PortClosed, share(2)),
            (Fate::Abandons, share(3)),
        ],
        seed: num("--seed", 1),
        tls: args.iter().any(|a| a == "--tls"),
        mra: num("--mra", 0) as u8,
    };
    let path = get("-o").unwrap_or_else(|| "cluster.pcap".into());
    let file = std::fs::File::create(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
    match generate(&spec, &mut w) {
        Ok(s) if spec.tls => {
            let keys = format!("{}.keys", path.trim_end_matches(".pcap"));
            if let Err(e) = std::fs::write(&keys, &s.keylog) {
                eprintln!("{keys}: {e}");
                std::process::exit(2);
            }
            println!(
                "wrote {path} and {keys}: {} frames, {} SIP messages in TLS; devices {:?}; failures {:?}; {} registrations",
                s.frames, s.sip_messages, s.devices, s.failures, s.registered
            );
        }
        Ok(s) => println!(
            "wrote {path}: {} frames, {} SIP messages; devices {:?}; failures {:?}; {} registrations",
            s.frames, s.sip_messages, s.devices, s.failures, s.registered
        ),
        Err(e) => {
            eprintln!("{path}: {e}");
            std::process::exit(2);
        }
    }
}
