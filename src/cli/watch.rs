//! `siptriage watch`: the sensor until it is stopped, then the run's report.

use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
#[cfg(windows)]
use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::options::{seconds, Analysis, FailOn, Format};
use super::output::{choose_format, render, Output};

/// The options of `siptriage watch`.
#[derive(clap::Args)]
pub struct WatchArgs {
    /// Interface to capture on (`any` for all of them). Needs root, or the CAP_NET_RAW and
    /// CAP_NET_ADMIN capabilities.
    #[arg(
        short = 'i',
        long,
        value_name = "IFACE",
        required_unless_present = "replay",
        conflicts_with = "replay"
    )]
    interface: Option<String>,
    /// Feed this capture through the live path instead (demonstrations, tests).
    #[arg(long, value_name = "FILE")]
    replay: Option<String>,
    /// Replay pace: 1 as recorded, 10 ten times faster, 0 as fast as possible.
    #[arg(long, default_value_t = 1.0, requires = "replay")]
    speed: f64,
    /// BPF filter instead of the default: TCP on the SIP (5060, 5061), SIP OAuth (5090, 5091
    /// and those added), Tomcat (8443) and configuration (6970, 6972) ports, UDP SIP, and IP
    /// fragments, VLAN-tagged or not.
    #[arg(long, value_name = "BPF")]
    filter: Option<String>,
    /// Put the interface in promiscuous mode (a mirror port usually needs it).
    #[arg(long)]
    promiscuous: bool,
    /// Bytes kept per packet (the default keeps whole jumbo frames: no certificate is cut).
    #[arg(long, default_value_t = siptriage::watch::SNAPLEN, value_parser = clap::value_parser!(i32).range(256..))]
    snaplen: i32,
    /// Kernel buffer for packets not yet read, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 64, value_parser = clap::value_parser!(i32).range(1..=2047))]
    buffer: i32,
    /// Key log (SSLKEYLOGFILE format) to decrypt TLS with, re-read as it grows. Repeatable.
    #[arg(long = "keylog", value_name = "FILE")]
    keylogs: Vec<std::path::PathBuf>,
    /// Save the packets read into this pcap file (at most --save-limit), so that the evidence
    /// frames of the events can be opened in Wireshark or analyzed again.
    #[arg(long, value_name = "FILE", conflicts_with = "replay")]
    save: Option<std::path::PathBuf>,
    /// Size of --save at most, in MiB; past it, packets are still analyzed, not saved.
    #[arg(long, value_name = "MIB", default_value_t = 1024, value_parser = clap::value_parser!(u64).range(1..))]
    save_limit: u64,
    /// Append events to FILE instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    output: Option<std::path::PathBuf>,
    /// Rotate -o FILE (to FILE.1, FILE.2, ...) before it passes this many MiB.
    #[arg(long, value_name = "MIB", requires = "output", value_parser = clap::value_parser!(u64).range(1..))]
    rotate_size: Option<u64>,
    /// Rotate -o FILE when it is this many seconds old.
    #[arg(long, value_name = "SECS", requires = "output", value_parser = clap::value_parser!(u64).range(1..))]
    rotate_every: Option<u64>,
    /// Rotated files kept (the oldest are removed).
    #[arg(long, value_name = "N", default_value_t = 10)]
    rotate_keep: usize,
    /// Serve Prometheus metrics at http://ADDR/metrics, such as 127.0.0.1:9464 (port 0 picks a
    /// free one; the address is printed on stderr).
    #[arg(long, value_name = "ADDR")]
    metrics: Option<std::net::SocketAddr>,
    /// A finding that keeps happening is updated at most this often, in seconds of capture time.
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    update_interval: f64,
    /// When stopped, write the run's report to FILE; the extension chooses the format as for
    /// analyze -o (.json, .jsonl, .md, .html, .xml, else text).
    #[arg(long, value_name = "FILE")]
    summary: Option<String>,
    /// Format of --summary, when its extension does not say.
    #[arg(long, value_enum, requires = "summary")]
    summary_format: Option<Format>,
    /// Stop after this many seconds.
    #[arg(long, value_name = "SECS")]
    duration: Option<f64>,
    /// Stop after this many packets.
    #[arg(long, value_name = "N")]
    count: Option<u64>,
    /// Events without their wall-clock time (a replay then writes the same lines every time).
    #[arg(long)]
    no_wall_time: bool,
    /// What makes the exit code 1, from the verdict of the whole run.
    #[arg(long, value_enum, default_value = "error")]
    fail_on: FailOn,
    /// No notices on stderr.
    #[arg(short, long)]
    quiet: bool,
    #[command(flatten)]
    analysis: Analysis,
}

/// `siptriage watch`: the sensor until it is stopped, then the run's report.
pub fn watch(args: WatchArgs) -> ExitCode {
    use siptriage::watch::{self, rotate, Options, Source};
    let fail = |e: &dyn std::fmt::Display| {
        eprintln!("siptriage: {e}");
        ExitCode::from(2)
    };
    let (cfg, redacting) = match args.analysis.config() {
        Ok(c) => c,
        Err(e) => return fail(&e),
    };
    let summary_format = match &args.summary {
        Some(path) => match choose_format(args.summary_format, Some(path)) {
            Ok(f) => Some(f),
            Err(e) => return fail(&e),
        },
        None => None,
    };
    let durations = (|| -> Result<_, String> {
        Ok((
            seconds("--update-interval", args.update_interval)?,
            args.duration
                .map(|d| seconds("--duration", d))
                .transpose()?,
        ))
    })();
    let (update_every, duration) = match durations {
        Ok(d) => d,
        Err(e) => return fail(&e),
    };
    if !(args.speed >= 0.0 && args.speed.is_finite()) {
        return fail(&"--speed must be 0 (as fast as possible) or more");
    }
    for k in &args.keylogs {
        if !k.is_file() {
            return fail(&format!("{}: no such key log file", k.display()));
        }
    }
    let source = match (args.interface, args.replay) {
        (Some(interface), _) => Source::Live {
            interface,
            filter: args.filter,
            promiscuous: args.promiscuous,
            snaplen: args.snaplen,
            buffer: args.buffer << 20,
        },
        (None, Some(path)) => Source::Replay {
            path,
            speed: (args.speed > 0.0).then_some(args.speed),
        },
        (None, None) => {
            return fail(&"give an interface (-i IFACE) or a capture to replay (--replay FILE)")
        }
    };
    let opts = Options {
        source,
        keylogs: args.keylogs,
        update_every,
        duration,
        max_packets: args.count,
        fail_on: args.fail_on.policy(),
        wall_time: !args.no_wall_time,
        save: args.save.map(|p| (p, args.save_limit << 20)),
        tell: args.output.is_some() && !args.quiet,
        closing_note: redacting
            .map
            .as_ref()
            .map(|_| siptriage::note::Note::PseudonymMap),
    };
    let stop = Arc::new(AtomicBool::new(false));
    if let Err(e) = stop_on_signals(&stop) {
        return fail(&e);
    }
    let out: Box<dyn rotate::LineSink> = match &args.output {
        None => Box::new(rotate::Plain(std::io::stdout())),
        Some(path) => {
            let rule = rotate::Rotation {
                max_bytes: args.rotate_size.map(|m| m << 20),
                max_age: args.rotate_every.map(std::time::Duration::from_secs),
                keep: args.rotate_keep,
            };
            match rotate::Rotating::open(path, rule) {
                Ok(r) => Box::new(r),
                Err(e) => return fail(&format!("cannot write {}: {e}", path.display())),
            }
        }
    };
    let metrics = match args.metrics {
        Some(addr) => {
            let m = Arc::new(watch::metrics::Metrics::default());
            match m.serve(addr) {
                Ok(bound) => {
                    if !args.quiet {
                        eprintln!("siptriage: metrics at http://{bound}/metrics");
                    }
                    Some(m)
                }
                Err(e) => return fail(&format!("cannot serve metrics on {addr}: {e}")),
            }
        }
        None => None,
    };
    let quiet = args.quiet;
    let mut on_ready = |label: &str| {
        if !quiet {
            eprintln!(
                "siptriage: watching {label}; stop with {}",
                if cfg!(windows) {
                    "Ctrl-C"
                } else {
                    "Ctrl-C (SIGINT) or SIGTERM"
                }
            );
        }
    };
    let watched = match watch::run(
        &opts,
        &cfg,
        redacting.what,
        out,
        metrics,
        &stop,
        &mut on_ready,
    ) {
        Ok(w) => w,
        Err(e) => return fail(&e),
    };
    if let Err(e) = redacting.write_map(&watched.redact_map, args.quiet) {
        return fail(&e);
    }
    let report = watched.outcome.report;
    if !quiet {
        eprintln!(
            "siptriage: stopped; {}",
            siptriage::report::verdict_line(&report)
        );
    }
    if let Some(e) = watched.write_error {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("siptriage: cannot write the events: {e}");
            return ExitCode::from(2);
        }
    }
    let code = report.summary.exit_code;
    if let (Some(path), Some(format)) = (&args.summary, summary_format) {
        let written = Output::open(&Some(path.clone()), true).and_then(|mut out| {
            match render(
                format,
                &report,
                &mut *out.writer,
                args.fail_on,
                false,
                false,
            ) {
                Ok(()) => out.commit(),
                Err(e) => {
                    out.discard();
                    Err(e)
                }
            }
        });
        if let Err(e) = written {
            eprintln!("siptriage: cannot write {path}: {e}");
            return ExitCode::from(2);
        }
    }
    ExitCode::from(code)
}

/// Sets `stop` on SIGINT or SIGTERM (Ctrl-C or Ctrl-Break, or the console closing, on
/// Windows); a second signal while the first is being handled ends the process at once.
#[cfg(unix)]
pub fn stop_on_signals(stop: &Arc<AtomicBool>) -> Result<(), String> {
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        let registered = signal_hook::flag::register_conditional_shutdown(sig, 1, stop.clone())
            .and_then(|_| signal_hook::flag::register(sig, stop.clone()));
        if let Err(e) = registered {
            return Err(format!("cannot handle signal {sig}: {e}"));
        }
    }
    Ok(())
}

/// Windows has no SIGTERM; the console's control handler hears Ctrl-C (the C runtime's
/// `signal` emulation is not used: under Wine it crashed on the first Ctrl-C).
#[cfg(windows)]
pub fn stop_on_signals(stop: &Arc<AtomicBool>) -> Result<(), String> {
    let stop = stop.clone();
    ctrlc::set_handler(move || {
        if stop.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
    })
    .map_err(|e| format!("cannot handle Ctrl-C: {e}"))
}
