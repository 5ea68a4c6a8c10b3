//! The command line: arguments -> validated config -> one call -> exit code.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};
use siptriage::analyze::{analyze_with, expand_inputs, Observer, Outcome};
use siptriage::config::Config;
use siptriage::diagnose::Severity;
use siptriage::report::jsonl::JsonLines;
use siptriage::report::redact::{self, Redaction};
use siptriage::report::{Html, Json, Junit, Markdown, Reporter, Text};

#[derive(Parser)]
#[command(
    name = "siptriage",
    version,
    about = "Explains why Cisco SIP OAuth registrations fail, from a packet capture"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// For an engineer at a terminal: what the capture holds, findings with evidence and fix.
    Text,
    /// One JSON document (schema_version 1, `siptriage schema`): for tickets and tools.
    Json,
    /// JSON Lines, one event per line as the analysis goes (`siptriage schema events`): for
    /// pipelines and captures too large to wait for.
    Jsonl,
    /// A ticket-ready summary: verdict first, evidence frames, Wireshark filters, fix checklist.
    Markdown,
    /// One self-contained HTML page with certificates and ladder diagrams (use with -o).
    Html,
    /// JUnit XML: one test suite per capture, one failing case per finding (see --fail-on): for CI.
    Junit,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FailOn {
    /// Exit 1 when a finding is an error.
    Error,
    /// Exit 1 when a finding is an error or a warning.
    Warning,
    /// Exit 0 whatever is found (2 still means nothing could be read).
    Never,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum SchemaKind {
    /// The `--format json` document.
    Report,
    /// One line of `--format jsonl`.
    Events,
}

// The arguments are parsed once per run: the size of the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Analyze captures: pcap or pcapng, gzip-compressed or not, folders of them, or `-` for stdin.
    ///
    /// Formats: `text` to read at a terminal; `markdown` to paste into a ticket; `html -o
    /// report.html` to attach (ladder diagrams, certificates); `json` for tools; `jsonl` for
    /// pipelines and very large captures (events as they happen); `junit` for CI dashboards.
    ///
    /// Exit code: 0 when no finding reaches --fail-on (error by default), 1 when one does, 2
    /// when no input could be read at all or the arguments are wrong.
    Analyze {
        /// Capture files or folders of them.
        #[arg(required = true)]
        captures: Vec<String>,
        /// Output format (see above).
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
        /// Write the report to this file instead of standard output.
        #[arg(short, long, value_name = "FILE")]
        output: Option<String>,
        /// What makes the exit code 1 (and a JUnit case fail).
        #[arg(long, value_enum, default_value = "error")]
        fail_on: FailOn,
        /// No progress bar, no notices on stderr, and no report on stdout (use -o or the exit code).
        #[arg(short, long)]
        quiet: bool,
        /// In the text report, draw a ladder diagram of every TLS/SIP connection.
        #[arg(long)]
        ladder: bool,
        /// Replace these with consistent pseudonyms in every output: ips, users, hosts, all.
        #[arg(long, value_name = "WHAT", value_delimiter = ',')]
        redact: Vec<String>,
        /// Another SIP Phone OAuth port (besides 5090), for nodes configured differently. Repeatable.
        #[arg(long = "oauth-port", value_name = "PORT", value_parser = clap::value_parser!(u16).range(1..))]
        oauth_ports: Vec<u16>,
        /// Another SIP MRA OAuth port (besides 5091). Repeatable.
        #[arg(long = "mra-oauth-port", value_name = "PORT", value_parser = clap::value_parser!(u16).range(1..))]
        mra_oauth_ports: Vec<u16>,
        /// NSS key log (SSLKEYLOGFILE format) to decrypt TLS with. Repeatable. Keys embedded in
        /// pcapng Decryption Secrets Blocks are used too, without this option.
        #[arg(long = "keylog", value_name = "FILE")]
        keylogs: Vec<String>,
        /// Trust bundle to validate every certificate chain against, offline: CUCM's exported
        /// tomcat-trust certificates or Expressway-C's trusted CA list (a PEM file, or a folder
        /// of .pem/.crt/.cer/.der files). Findings then name the CA the bundle lacks.
        #[arg(long, value_name = "PEM_OR_DIR")]
        trust: Option<String>,
        /// CN/SAN entries of CUCM's Device > Expressway-C table (comma-separated or repeated);
        /// each Expressway-C certificate seen on the MRA OAuth port is checked against them.
        #[arg(long = "expressway-names", value_name = "NAMES", value_delimiter = ',')]
        expressway_names: Vec<String>,
        /// Print bearer tokens whole instead of redacted (lab use only).
        #[arg(long)]
        show_secrets: bool,
        /// Evidence frames listed per finding at most.
        #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u16).range(1..=1000))]
        max_evidence: u16,
        /// TCP connections tracked at once; past it the longest idle are settled early.
        #[arg(long, default_value_t = siptriage::flow::MAX_ACTIVE, help_heading = "Limits")]
        max_connections: usize,
        /// IP datagrams waiting for missing fragments at once.
        #[arg(long, default_value_t = siptriage::decode::defrag::MAX_DATAGRAMS, help_heading = "Limits")]
        max_fragments: usize,
        /// SIP messages kept per capture for the SIP rules (later ones are counted).
        #[arg(long, default_value_t = siptriage::session::MAX_SIP_MESSAGES, help_heading = "Limits")]
        max_sip_messages: usize,
        /// Encrypted bytes held back in all, waiting for keys a later pcapng block may bring.
        #[arg(long, default_value_t = siptriage::tls::MAX_HELD_TOTAL, help_heading = "Limits")]
        max_held_bytes: usize,
    },
    /// List every finding id of the catalogue, one line each.
    Scenarios {
        /// Output format (text or json).
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Explain one finding id: what it means, the evidence it needs, the fix and the source.
    Explain {
        /// A finding id, as `siptriage scenarios` lists them.
        id: String,
    },
    /// Print the JSON Schema of `--format json` (report) or of one `--format jsonl` line (events).
    Schema {
        /// Which schema.
        #[arg(value_enum, default_value = "report")]
        kind: SchemaKind,
    },
    /// Print a shell completion script.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff).
    Man,
}

struct Settings {
    format: Format,
    output: Option<String>,
    fail_on: FailOn,
    quiet: bool,
    ladder: bool,
    redaction: Redaction,
}

fn exit_code(outcome: &Outcome, fail_on: FailOn) -> u8 {
    if outcome.report.captures.is_empty() {
        return 2;
    }
    let worst = outcome.report.findings.iter().map(|f| f.severity).min();
    match (fail_on, worst) {
        (FailOn::Never, _) | (_, None) => 0,
        (FailOn::Error, Some(Severity::Error)) => 1,
        (FailOn::Warning, Some(Severity::Error | Severity::Warning)) => 1,
        _ => 0,
    }
}

fn open_output(path: &Option<String>, quiet: bool) -> std::io::Result<Box<dyn Write>> {
    Ok(match path {
        Some(p) => Box::new(std::io::BufWriter::new(std::fs::File::create(p)?)),
        None if quiet => Box::new(std::io::sink()),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    })
}

/// A progress bar on stderr while large inputs are read (only on a terminal).
fn progress(
    paths: &[String],
    quiet: bool,
) -> Option<(Arc<AtomicU64>, Arc<AtomicBool>, std::thread::JoinHandle<()>)> {
    let total: u64 = expand_inputs(paths)
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    if quiet || !std::io::stderr().is_terminal() || total < 32 << 20 {
        return None;
    }
    let counter = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let (c, d) = (counter.clone(), done.clone());
    let bar = indicatif::ProgressBar::new(total);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} reading {bytes}/{total_bytes} [{bar:30}] {bytes_per_sec}, {eta} left",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let handle = std::thread::spawn(move || {
        while !d.load(Ordering::Relaxed) {
            bar.set_position(c.load(Ordering::Relaxed));
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        bar.finish_and_clear();
    });
    Some((counter, done, handle))
}

fn run_analyze(captures: Vec<String>, mut cfg: Config, s: Settings) -> ExitCode {
    let bar = progress(&captures, s.quiet);
    cfg.progress = bar.as_ref().map(|b| b.0.clone());
    let mut out = match open_output(&s.output, s.quiet) {
        Ok(o) => o,
        Err(e) => {
            eprintln!(
                "siptriage: cannot write {}: {e}",
                s.output.as_deref().unwrap_or("the report")
            );
            return ExitCode::from(2);
        }
    };
    struct Nothing;
    impl Observer for Nothing {}
    let (outcome, stream_error) = if s.format == Format::Jsonl {
        let mut lines = JsonLines::new(&mut *out);
        let outcome = analyze_with(&captures, &cfg, &mut lines);
        let mut report = outcome.report.clone();
        redact::apply(&mut report, s.redaction);
        let code = exit_code(&outcome, s.fail_on);
        lines.summary(&report, code);
        let err = lines.error.take();
        (outcome, err)
    } else {
        (analyze_with(&captures, &cfg, &mut Nothing), None)
    };
    if let Some((_, done, handle)) = bar {
        done.store(true, Ordering::Relaxed);
        let _ = handle.join();
    }
    let code = exit_code(&outcome, s.fail_on);
    if !s.quiet {
        for u in &outcome.unreadable {
            eprintln!("siptriage: {u}");
        }
        for c in &outcome.report.captures {
            if let Some(stop) = &c.stopped {
                eprintln!("siptriage: {stop}");
            }
        }
    } else if outcome.report.captures.is_empty() {
        for u in &outcome.unreadable {
            eprintln!("siptriage: {u}");
        }
    }
    if outcome.report.captures.is_empty() {
        return ExitCode::from(2);
    }
    let mut report = outcome.report;
    redact::apply(&mut report, s.redaction);
    let color = s.output.is_none()
        && std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none();
    let fail_at = match s.fail_on {
        FailOn::Error => Some(Severity::Error),
        FailOn::Warning => Some(Severity::Warning),
        FailOn::Never => None,
    };
    let result = match s.format {
        Format::Jsonl => stream_error.map_or(Ok(()), Err),
        Format::Text => Text {
            color,
            ladder: s.ladder,
        }
        .render(&report, &mut out),
        Format::Json => Json.render(&report, &mut out),
        Format::Markdown => Markdown.render(&report, &mut out),
        Format::Html => Html.render(&report, &mut out),
        Format::Junit => Junit { fail_at }.render(&report, &mut out),
    };
    if let Err(e) = result.and_then(|_| out.flush()) {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("siptriage: cannot write the report: {e}");
            return ExitCode::from(2);
        }
    }
    ExitCode::from(code)
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    match cli.command {
        Command::Scenarios { format } => {
            let mut out = std::io::stdout().lock();
            let r = match format {
                Format::Json => siptriage::report::catalogue::list_json(&mut out),
                _ => siptriage::report::catalogue::list_text(&mut out),
            };
            ExitCode::from(if r.is_ok() { 0 } else { 2 })
        }
        Command::Explain { id } => match siptriage::diagnose::catalogue::find(&id) {
            Some(m) => {
                let _ = siptriage::report::catalogue::explain(m, &mut std::io::stdout().lock());
                ExitCode::SUCCESS
            }
            None => {
                eprintln!("siptriage: unknown finding id {id:?}; `siptriage scenarios` lists them");
                ExitCode::from(2)
            }
        },
        Command::Schema { kind } => {
            match kind {
                SchemaKind::Report => print!("{}", siptriage::analyze::schema()),
                SchemaKind::Events => print!("{}", siptriage::report::jsonl::schema()),
            }
            ExitCode::SUCCESS
        }
        Command::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "siptriage",
                &mut std::io::stdout(),
            );
            ExitCode::SUCCESS
        }
        Command::Man => {
            match clap_mangen::Man::new(Cli::command()).render(&mut std::io::stdout()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(_) => ExitCode::from(2),
            }
        }
        Command::Analyze {
            captures,
            format,
            output,
            fail_on,
            quiet,
            ladder,
            redact,
            oauth_ports,
            mra_oauth_ports,
            keylogs,
            trust,
            expressway_names,
            show_secrets,
            max_evidence,
            max_connections,
            max_fragments,
            max_sip_messages,
            max_held_bytes,
        } => {
            let redaction = match Redaction::parse(&redact) {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("siptriage: {e}");
                    return ExitCode::from(2);
                }
            };
            let mut cfg = Config::default().with_ports(&oauth_ports, &mra_oauth_ports);
            cfg.max_evidence = max_evidence as usize;
            cfg.show_secrets = show_secrets;
            cfg.max_connections = max_connections;
            cfg.max_fragments = max_fragments;
            cfg.max_sip_messages = max_sip_messages;
            cfg.hold_back_bytes = max_held_bytes;
            cfg.expressway_names = expressway_names
                .into_iter()
                .map(|n| n.trim().to_string())
                .filter(|n| !n.is_empty())
                .collect();
            for path in &keylogs {
                match std::fs::read(path) {
                    Ok(bytes) => cfg.keylog.add_text(path, &String::from_utf8_lossy(&bytes)),
                    Err(e) => {
                        eprintln!("siptriage: {path}: cannot read the key log: {e}");
                        return ExitCode::from(2);
                    }
                }
            }
            if let Some(path) = trust {
                match siptriage::trust::TrustStore::load(&path) {
                    Ok(store) => cfg.trust = Some(Arc::new(store)),
                    Err(e) => {
                        eprintln!("siptriage: cannot use the trust bundle: {e}");
                        return ExitCode::from(2);
                    }
                }
            }
            run_analyze(
                captures,
                cfg,
                Settings {
                    format,
                    output,
                    fail_on,
                    quiet,
                    ladder,
                    redaction,
                },
            )
        }
    }
}
