//! The live sensor's path (`watch::run` over a replayed capture, as fast as it goes): every
//! packet through the analysis, ticks every 200 ms of capture time (settling connections,
//! judging SIP, letting idle devices go), findings and updates written as JSON Lines, metrics
//! counted. The capture is a cluster's (`siptriage_dev::cluster`: devices registering and
//! refreshing over three CUCM nodes, 20 % failing). Reports packets/s and bytes/s; CPU per
//! 1,000 packets is the inverse. Run: `cargo bench --bench watch`.
//! `SIPTRIAGE_BENCH_DEVICES` (default 2,000) and `SIPTRIAGE_BENCH_SECONDS` (default 600) set
//! the size. The same capture through `analyze` is `cargo bench --bench cluster`.

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, OnceLock};

use siptriage::config::Config;
use siptriage::report::redact::Redaction;
use siptriage::watch::{self, metrics::Metrics, rotate, Options};

mod common;

fn main() {
    divan::main();
    if let Some((path, _, _)) = CAPTURE.get() {
        let _ = std::fs::remove_file(path);
    }
}

static CAPTURE: OnceLock<(std::path::PathBuf, usize, u64)> = OnceLock::new();

/// The capture on disk (the replay reads a file, as the command does), its size and frames.
fn capture() -> &'static (std::path::PathBuf, usize, u64) {
    CAPTURE.get_or_init(|| {
        let c = common::clear();
        let path =
            std::env::temp_dir().join(format!("siptriage-bench-watch-{}.pcap", std::process::id()));
        std::fs::write(&path, &c.bytes).expect("writes the capture");
        (path, c.bytes.len(), c.frames)
    })
}

#[divan::bench(sample_count = 5)]
fn replay_through_the_live_path(b: divan::Bencher) {
    let (path, size, frames) = capture();
    let cfg = Config::default();
    let opts = Options {
        wall_time: true,
        ..Options::replay(&path.to_string_lossy())
    };
    b.counter(divan::counter::ItemsCount::new(*frames as usize))
        .counter(divan::counter::BytesCount::new(*size))
        .bench(|| {
            let stop = AtomicBool::new(false);
            let metrics = Arc::new(Metrics::default());
            let w = watch::run(
                &opts,
                &cfg,
                Redaction::default(),
                Box::new(rotate::Plain(std::io::sink())),
                Some(metrics),
                &stop,
                &mut |_| {},
            )
            .expect("replays");
            w.outcome.report.findings.len()
        });
}
