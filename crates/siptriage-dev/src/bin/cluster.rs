//! Writes a cluster capture: `cargo run --release -p siptriage-dev --bin cluster -- --devices
//! 3000 --seconds 60 --nodes 3 --seed 1 -o cluster.pcap` (10 % port mismatch, 5 % rejected
//! token, 5 % closed port unless `--shares M,T,C,A,F,U,X,L` says otherwise; A: challenged and never
//! sending the token; F: filtered port; U: REGISTER never answered; X: the client rejects
//! CUCM's certificate (with `--tls`); L: registers once, then falls silent). `--mra N` sends every device through Expressway-C, multiplexed on N
//! connections to CUCM's 5091. `--tls` puts the SIP in TLS
//! 1.2 and writes the key log beside the capture (`cluster.keys` for `cluster.pcap`, as
//! `--keylog auto` looks for it).

use siptriage_dev::cluster::{generate, Cluster, FAILING};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let get = |flag: &str| siptriage_dev::flag_value(&args, flag);
    let num = |flag: &str, default: u64| get(flag).and_then(|s| s.parse().ok()).unwrap_or(default);
    let d = Cluster::default();
    let shares = match get("--shares") {
        Some(list) => FAILING
            .into_iter()
            .zip(list.split(',').map(|x| x.parse().unwrap_or(0.0)))
            .collect(),
        None => d.shares,
    };
    let spec = Cluster {
        devices: num("--devices", d.devices.into()) as u32,
        seconds: num("--seconds", d.seconds.into()) as u32,
        expires: num("--expires", d.expires.into()) as u32,
        retry: num("--retry", d.retry.into()) as u32,
        nodes: num("--nodes", d.nodes.into()) as u8,
        shares,
        seed: num("--seed", d.seed),
        tls: args.iter().any(|a| a == "--tls"),
        mra: num("--mra", d.mra.into()) as u8,
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
