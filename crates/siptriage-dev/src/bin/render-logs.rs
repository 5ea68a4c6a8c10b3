//! Renders the SIP of a recorded capture into the log layouts engineers collect: `cargo run -p
//! siptriage-dev --bin render-logs -- fixtures/oauth-port-mismatch-tls12.pcap [--keylog
//! fixtures/oauth-port-mismatch-tls12.keys] [--zone MINUTES] [--shift SECONDS] -o DIR` writes
//! `DIR/jabber.log` (when the SIP is a client's over TCP or TLS), `DIR/SDL001_100_<node>.txt`
//! per CUCM node and `DIR/expressway.txt`.

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let get = |f: &str| siptriage_dev::flag_value(&args, f);
    let Some(capture) = args.get(1).filter(|a| !a.starts_with('-')) else {
        eprintln!(
            "usage: render-logs CAPTURE [--keylog KEYS] [--zone MINUTES] [--shift SECONDS] -o DIR"
        );
        std::process::exit(2);
    };
    let dir = std::path::PathBuf::from(get("-o").unwrap_or_else(|| ".".into()));
    let clock = siptriage_dev::logs::Clock {
        zone_minutes: get("--zone").and_then(|z| z.parse().ok()).unwrap_or(120),
        shift_ns: get("--shift")
            .and_then(|s| s.parse::<i64>().ok())
            .unwrap_or(0)
            * 1_000_000_000,
    };
    let r = match siptriage_dev::logs::render(capture, get("--keylog").as_deref(), clock) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{capture}: {e}");
            std::process::exit(2);
        }
    };
    let write = |name: String, text: &str| {
        let p = dir.join(name);
        if let Err(e) = std::fs::write(&p, text) {
            eprintln!("{}: {e}", p.display());
            std::process::exit(2);
        }
        println!("wrote {}", p.display());
    };
    if let Some(j) = &r.jabber {
        write("jabber.log".into(), j);
    }
    for (node, t) in &r.sdl {
        write(format!("SDL001_100_{node}.txt"), t);
    }
    write("expressway.txt".into(), &r.expressway);
}
