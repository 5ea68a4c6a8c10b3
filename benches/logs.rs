//! Logs read through the whole analysis (`analyze::analyze` on a file: recognition, records,
//! SIP parsing, the flow and the rules), one benchmark per layout. Each log is a recorded
//! fixture's SIP rendered into the layout (`siptriage_dev::logs`) and repeated up to
//! `SIPTRIAGE_BENCH_LOG_MB` (default 64) megabytes, with records of other modules between.
//! Reports bytes/s. Run: `cargo bench --bench logs`.

use std::path::PathBuf;
use std::sync::OnceLock;

use siptriage::config::Config;
use siptriage_dev::logs::{render, Clock};

fn main() {
    divan::main();
    if let Some(files) = FILES.get() {
        for (p, _) in files {
            let _ = std::fs::remove_file(p);
        }
    }
}

static FILES: OnceLock<Vec<(PathBuf, usize)>> = OnceLock::new();

/// The three logs on disk: Jabber, SDL, Expressway.
fn files() -> &'static [(PathBuf, usize)] {
    FILES.get_or_init(|| {
        let mb: usize = std::env::var("SIPTRIAGE_BENCH_LOG_MB")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(64);
        let dir = env!("CARGO_MANIFEST_DIR");
        let r = render(
            &format!("{dir}/fixtures/oauth-port-mismatch-tls12.pcap"),
            Some(&format!("{dir}/fixtures/oauth-port-mismatch-tls12.keys")),
            Clock::default(),
        )
        .expect("renders");
        let (head, sdl) = r.sdl[0].1.split_once('\n').expect("FileHead");
        let layouts = [
            (
                "jabber.log",
                String::new(),
                r.jabber.expect("a client's log"),
            ),
            (
                "SDL001_100_000001.txt",
                format!("{head}\n"),
                sdl.to_string(),
            ),
            ("expressway.txt", String::new(), r.expressway),
        ];
        layouts
            .into_iter()
            .map(|(name, first, body)| {
                let mut text = first;
                while text.len() < mb << 20 {
                    text.push_str(&body);
                }
                let p = std::env::temp_dir()
                    .join(format!("siptriage-bench-{}-{name}", std::process::id()));
                std::fs::write(&p, &text).expect("writes");
                (p, text.len())
            })
            .collect()
    })
}

fn read(b: divan::Bencher, i: usize) {
    let (path, size) = &files()[i];
    let cfg = Config::default();
    let paths = vec![path.to_string_lossy().to_string()];
    b.counter(divan::counter::BytesCount::new(*size)).bench(|| {
        let out = siptriage::analyze::analyze(&paths, &cfg);
        out.report.summary.sip_messages
    });
}

#[divan::bench(sample_count = 3)]
fn jabber_log(b: divan::Bencher) {
    read(b, 0);
}

#[divan::bench(sample_count = 3)]
fn cucm_sdl_trace(b: divan::Bencher) {
    read(b, 1);
}

#[divan::bench(sample_count = 3)]
fn expressway_log(b: divan::Bencher) {
    read(b, 2);
}
