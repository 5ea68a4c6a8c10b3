//! The command line: arguments -> validated config -> one call -> exit code.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};
use siptriage::analyze::{analyze_expanded, Outcome};
use siptriage::config::Config;
use siptriage::diagnose::Severity;
use siptriage::inputs::{self, Expanded};
use siptriage::report::jsonl::JsonLines;
use siptriage::report::redact::{self, Redaction};
use siptriage::report::Observer;
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
    /// Exit 1 when a finding is an error (the verdict is failure).
    Error,
    /// Exit 1 when a finding is an error or a warning.
    Warning,
    /// Exit 1 unless the verdict is ok: on failure, and when the run was inconclusive.
    Inconclusive,
    /// Exit 0 whatever is found (2 still means nothing could be read).
    Never,
}

impl FailOn {
    fn policy(self) -> siptriage::analyze::FailOn {
        use siptriage::analyze::FailOn as P;
        match self {
            FailOn::Error => P::Error,
            FailOn::Warning => P::Warning,
            FailOn::Inconclusive => P::Inconclusive,
            FailOn::Never => P::Never,
        }
    }
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
    /// Analyze captures (pcap or pcapng; gzip, xz or zstd too) and logs (Jabber, CUCM SDL,
    /// Expressway), zip and tar archives and folders of them.
    ///
    /// Formats: `text` to read at a terminal; `markdown` to paste into a ticket; `html -o
    /// report.html` to attach (ladder diagrams, certificates); `json` for tools; `jsonl` for
    /// pipelines and very large captures (events as they happen); `junit` for CI dashboards.
    ///
    /// Every report opens with a verdict: failure, ok, or inconclusive (with why).
    ///
    /// Exit code: 0 when nothing reaches --fail-on (error by default), 1 when something does
    /// (--fail-on inconclusive: any verdict but ok), 2 when no input could be read at all or
    /// the arguments are wrong.
    Analyze(AnalyzeArgs),
    /// Watch a live interface (or replay a capture): findings as JSON Lines events as they
    /// happen, Prometheus metrics, and the run's report when stopped.
    ///
    /// Events (`siptriage schema events`) go to standard output or -o FILE: `capture` when
    /// reading starts, each `finding` as soon as it is certain, `finding_update` when it
    /// happens again (at most every --update-interval), `note`s, then `capture_done` and
    /// `summary` when the sensor stops (SIGINT, SIGTERM, --duration, --count, or the end of a
    /// replay). Every event carries `capture_time` and `wall_time`.
    ///
    /// Exit code: as for analyze, from the run's verdict (0, or 1 when something reaches
    /// --fail-on); 2 when the interface cannot be opened or the arguments are wrong.
    Watch(WatchArgs),
    /// List every finding id of the catalogue, one line each.
    Scenarios {
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        format: ListFormat,
    },
    /// Explain one finding id: what it means, the evidence it needs, the fix and the source.
    ///
    /// Exit code: 0, or 2 when the id is unknown (the nearest ids are suggested).
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
    /// Print a man page (roff), or write one page per command into a folder.
    Man {
        /// Write siptriage.1 and one siptriage-COMMAND.1 per command into this folder.
        #[arg(long, value_name = "DIR")]
        out: Option<std::path::PathBuf>,
        /// Print this command's page (analyze, scenarios, ...) instead of the top page.
        command: Option<String>,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ListFormat {
    /// One line per id: id, severity, confidence, title.
    Text,
    /// A JSON array of the catalogue entries.
    Json,
}

/// The options of `siptriage analyze`.
#[derive(clap::Args)]
struct AnalyzeArgs {
    /// Captures and logs (Jabber client logs, CUCM SDL traces, Expressway diagnostic logs),
    /// folders (searched recursively), zip and tar archives of them; gzip, xz and zstd files
    /// are recognized by content. Given together, captures and logs are one timeline. `-`
    /// reads a capture on standard input.
    #[arg(required = true)]
    captures: Vec<String>,
    /// Output format (see above). Without it, the extension of -o chooses (.json, .jsonl,
    /// .md, .html, .xml for JUnit), else text.
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Write the report to this file instead of standard output. It is written to a
    /// temporary file first and renamed when complete, so a failed run never leaves a
    /// half-written or empty report in place of an earlier one.
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
    /// NSS key log (SSLKEYLOGFILE format) to decrypt TLS with, or a folder of them, or
    /// `auto`: the key log named like each capture (x.keys, x.keys.txt, x.keylog or x.txt
    /// beside x.pcap). Repeatable. Keys embedded in pcapng Decryption Secrets Blocks are used
    /// too, without this option.
    #[arg(long = "keylog", value_name = "FILE|DIR|auto")]
    keylogs: Vec<String>,
    #[command(flatten)]
    analysis: Analysis,
    /// Gone: every SIP message is analyzed now. Still accepted (and ignored, with a notice) so
    /// that scripts that pass it keep working.
    #[arg(long, hide = true)]
    max_sip_messages: Option<usize>,
}

/// The options of the analysis itself, the same for `analyze` and `watch`.
#[derive(clap::Args)]
struct Analysis {
    /// Replace these with consistent pseudonyms in every output: ips (IP and MAC addresses),
    /// users (devices, user IDs, e-mail addresses, display names), hosts (host names,
    /// domains), orgs (certificate subject and issuer names), all.
    #[arg(long, value_name = "WHAT", value_delimiter = ',')]
    redact: Vec<String>,
    /// With --redact: write the pseudonyms and the values they stand for to FILE (JSON), for
    /// the customer to keep; the report only says that a map was written.
    #[arg(long, value_name = "FILE")]
    redact_map: Option<std::path::PathBuf>,
    /// Another SIP Phone OAuth port (besides 5090), for nodes configured differently. Repeatable.
    #[arg(long = "oauth-port", value_name = "PORT", value_parser = clap::value_parser!(u16).range(1..))]
    oauth_ports: Vec<u16>,
    /// Another SIP MRA OAuth port (besides 5091). Repeatable.
    #[arg(long = "mra-oauth-port", value_name = "PORT", value_parser = clap::value_parser!(u16).range(1..))]
    mra_oauth_ports: Vec<u16>,
    /// Trust bundle to validate every certificate chain against, offline: CUCM's exported
    /// tomcat-trust certificates or Expressway-C's trusted CA list (PEM, DER or PKCS#7
    /// .p7b/.p7c, or a folder of them). Findings then name the CA the bundle lacks.
    #[arg(long, value_name = "FILE_OR_DIR")]
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
    /// Devices whose registrations are followed per capture (every SIP message is analyzed;
    /// past this, new devices are judged one window of SIP at a time).
    #[arg(long, default_value_t = siptriage::config::MAX_DEVICES, help_heading = "Limits")]
    max_devices: usize,
    /// Encrypted bytes held back in all, waiting for keys a later pcapng block (or, for
    /// watch, a key log that grows) may bring.
    #[arg(long, default_value_t = siptriage::tls::MAX_HELD_TOTAL, help_heading = "Limits")]
    max_held_bytes: usize,
}

impl Analysis {
    /// The validated configuration (without key logs) and what to redact.
    fn config(self) -> Result<(Config, Redacting), String> {
        let redaction = Redaction::parse(&self.redact).map_err(|e| e.to_string())?;
        if self.redact_map.is_some() && redaction.is_empty() {
            return Err("--redact-map needs --redact (which names to replace)".to_string());
        }
        let redacting = Redacting {
            what: redaction,
            map: self.redact_map,
        };
        let mut cfg = Config::default().with_ports(&self.oauth_ports, &self.mra_oauth_ports);
        cfg.max_evidence = self.max_evidence as usize;
        cfg.secrets.show = self.show_secrets;
        cfg.limits.max_connections = self.max_connections;
        cfg.limits.max_fragments = self.max_fragments;
        cfg.limits.max_devices = self.max_devices;
        cfg.limits.hold_back_bytes = self.max_held_bytes;
        cfg.expressway_names = self
            .expressway_names
            .into_iter()
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty())
            .collect();
        if let Some(path) = self.trust {
            let store = siptriage::trust::TrustStore::load(&path)
                .map_err(|e| format!("cannot use the trust bundle: {e}"))?;
            cfg.trust = Some(Arc::new(store));
        }
        Ok((cfg, redacting))
    }
}

/// What to redact, and where to write the pseudonyms' map.
struct Redacting {
    what: Redaction,
    map: Option<std::path::PathBuf>,
}

impl Redacting {
    /// The note a report carries when its map was written (never the map's path, which may
    /// name the customer).
    const NOTE: &'static str = "names are pseudonyms: the map from each pseudonym to the value it stands for was written to a separate file, which is not part of this report";

    /// Writes the map (JSON: class, pseudonym, original), or says why it could not.
    fn write_map(&self, entries: &[redact::MapEntry], quiet: bool) -> Result<(), String> {
        let Some(path) = &self.map else {
            return Ok(());
        };
        let text = serde_json::to_string_pretty(entries).unwrap_or_default() + "\n";
        std::fs::write(path, text)
            .map_err(|e| format!("cannot write the redaction map {}: {e}", path.display()))?;
        if !quiet {
            eprintln!(
                "siptriage: {} pseudonym(s) and their originals written to {} (keep it with the customer)",
                entries.len(),
                path.display()
            );
        }
        Ok(())
    }
}

/// The options of `siptriage watch`.
#[derive(clap::Args)]
struct WatchArgs {
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

struct Settings {
    format: Format,
    output: Option<String>,
    fail_on: FailOn,
    quiet: bool,
    ladder: bool,
    redaction: Redacting,
}

/// Sets the verdict and the summary under the chosen policy; returns the exit code.
fn conclude(outcome: &mut Outcome, fail_on: FailOn) -> u8 {
    siptriage::analyze::conclude(&mut outcome.report, &outcome.tally, fail_on.policy());
    outcome.report.summary.exit_code
}

/// The format a report file's extension asks for.
fn format_of_extension(path: &str) -> Option<Format> {
    let ext = std::path::Path::new(path)
        .extension()?
        .to_str()?
        .to_ascii_lowercase();
    Some(match ext.as_str() {
        "json" => Format::Json,
        "jsonl" | "ndjson" => Format::Jsonl,
        "md" | "markdown" => Format::Markdown,
        "html" | "htm" => Format::Html,
        "xml" => Format::Junit,
        "txt" | "text" => Format::Text,
        _ => return None,
    })
}

fn format_name(f: Format) -> &'static str {
    match f {
        Format::Text => "text",
        Format::Json => "json",
        Format::Jsonl => "jsonl",
        Format::Markdown => "markdown",
        Format::Html => "html",
        Format::Junit => "junit",
    }
}

/// `--format`, or the one the -o extension implies; a conflict between them is an error.
fn choose_format(explicit: Option<Format>, output: Option<&str>) -> Result<Format, String> {
    let implied = output.and_then(format_of_extension);
    match (explicit, implied) {
        (Some(f), Some(i)) if f != i => Err(format!(
            "--format {} conflicts with the output file {}, whose extension means {}: drop one \
             or rename the file",
            format_name(f),
            output.unwrap_or_default(),
            format_name(i)
        )),
        (Some(f), _) | (None, Some(f)) => Ok(f),
        (None, None) => match output
            .and_then(|p| std::path::Path::new(p).extension())
            .map(|e| e.to_string_lossy())
        {
            // `-o report.pdf` would silently be text: say so instead.
            Some(ext) => Err(format!(
                "cannot tell the report's format from the extension .{ext} of {}: give --format \
                 (text, json, jsonl, markdown, html, junit) or name the file .txt, .json, .jsonl, \
                 .md, .html or .xml",
                output.unwrap_or_default()
            )),
            None => Ok(Format::Text),
        },
    }
}

/// Where the report goes: standard output, nowhere (quiet), or a file written through a
/// temporary one that is renamed over it only when the report is complete.
struct Output {
    writer: Box<dyn Write>,
    file: Option<(std::path::PathBuf, std::path::PathBuf)>,
}

impl Output {
    fn open(path: &Option<String>, quiet: bool) -> std::io::Result<Output> {
        let Some(p) = path else {
            let writer: Box<dyn Write> = if quiet {
                Box::new(std::io::sink())
            } else {
                Box::new(std::io::BufWriter::new(std::io::stdout().lock()))
            };
            return Ok(Output { writer, file: None });
        };
        let target = std::path::PathBuf::from(p);
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_else(|| "report".into());
        let tmp = target.with_file_name(format!(".{name}.{}.partial", std::process::id()));
        let file = std::fs::File::create(&tmp)?;
        Ok(Output {
            writer: Box::new(std::io::BufWriter::new(file)),
            file: Some((tmp, target)),
        })
    }

    /// The report is complete: put it in place.
    fn commit(mut self) -> std::io::Result<()> {
        self.writer.flush()?;
        drop(self.writer);
        if let Some((tmp, target)) = self.file.take() {
            if let Err(e) = std::fs::rename(&tmp, &target) {
                let _ = std::fs::remove_file(&tmp);
                return Err(e);
            }
        }
        Ok(())
    }

    /// The run failed: leave whatever was there before.
    fn discard(self) {
        drop(self.writer);
        if let Some((tmp, _)) = self.file {
            let _ = std::fs::remove_file(tmp);
        }
    }
}

/// A progress bar on stderr while large inputs are read (only on a terminal).
fn progress(
    inputs: &Expanded,
    quiet: bool,
) -> Option<(Arc<AtomicU64>, Arc<AtomicBool>, std::thread::JoinHandle<()>)> {
    let total: u64 = inputs.captures.iter().filter_map(|i| i.size()).sum();
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

fn run_analyze(inputs: Expanded, cfg: Config, s: Settings) -> ExitCode {
    let bar = progress(&inputs, s.quiet);
    let counter = bar.as_ref().map(|b| &b.0);
    let mut out = match Output::open(&s.output, s.quiet) {
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
        let mut lines = JsonLines::new(&mut *out.writer).redacting(s.redaction.what);
        let mut outcome = analyze_expanded(&inputs, &cfg, &mut lines, counter);
        conclude(&mut outcome, s.fail_on);
        let mut report = outcome.report.clone();
        redact::apply_with(&mut report, lines.redactor());
        if s.redaction.map.is_some() {
            if let Err(e) = s.redaction.write_map(&lines.redactor().map(), s.quiet) {
                eprintln!("siptriage: {e}");
                return ExitCode::from(2);
            }
            lines.note(Redacting::NOTE);
        }
        lines.summary(&report);
        let err = lines.error.take();
        (outcome, err)
    } else {
        (analyze_expanded(&inputs, &cfg, &mut Nothing, counter), None)
    };
    if let Some((_, done, handle)) = bar {
        done.store(true, Ordering::Relaxed);
        let _ = handle.join();
    }
    let mut outcome = outcome;
    let code = conclude(&mut outcome, s.fail_on);
    if !s.quiet || outcome.report.captures.is_empty() {
        for u in &outcome.unreadable {
            eprintln!("siptriage: {u}");
        }
    }
    if !s.quiet {
        for n in &inputs.notices {
            eprintln!("siptriage: {n}");
        }
        for c in &outcome.report.captures {
            if let Some(stop) = &c.stopped {
                eprintln!("siptriage: {stop}");
            }
        }
    }
    if outcome.report.captures.is_empty() {
        out.discard();
        if let Some(p) = &s.output {
            eprintln!("siptriage: nothing could be read; {p} was not written");
        }
        return ExitCode::from(2);
    }
    let mut report = outcome.report;
    if s.format != Format::Jsonl {
        let redactor = redact::apply(&mut report, s.redaction.what);
        if s.redaction.map.is_some() {
            if let Err(e) = s.redaction.write_map(&redactor.map(), s.quiet) {
                out.discard();
                eprintln!("siptriage: {e}");
                return ExitCode::from(2);
            }
            report.notes.push(Redacting::NOTE.to_string());
        }
    }
    let color = s.output.is_none() && std::io::stdout().is_terminal() && terminal_colours();
    let w = &mut *out.writer;
    let result = match s.format {
        Format::Jsonl => stream_error.map_or(Ok(()), Err),
        f => render(f, &report, w, s.fail_on, s.ladder, color),
    };
    let result = match result {
        Ok(()) => out.commit(),
        Err(e) => {
            out.discard();
            Err(e)
        }
    };
    if let Err(e) = result {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!(
                "siptriage: cannot write {}: {e}",
                s.output.as_deref().unwrap_or("the report")
            );
            return ExitCode::from(2);
        }
    } else if let (Some(path), false) = (&s.output, s.quiet) {
        eprintln!(
            "siptriage: {} report written to {path}",
            format_name(s.format)
        );
    }
    ExitCode::from(code)
}

/// Writes a whole report in `format` (JSON Lines: its findings, notes and summary as events).
fn render(
    format: Format,
    report: &siptriage::report::Report,
    w: &mut dyn Write,
    fail_on: FailOn,
    ladder: bool,
    color: bool,
) -> std::io::Result<()> {
    let fail_at = match fail_on {
        FailOn::Error | FailOn::Inconclusive => Some(Severity::Error),
        FailOn::Warning => Some(Severity::Warning),
        FailOn::Never => None,
    };
    match format {
        Format::Jsonl => {
            let mut lines = JsonLines::new(w);
            for (i, c) in report.captures.iter().enumerate() {
                let findings: Vec<_> = report
                    .findings
                    .iter()
                    .filter(|f| f.capture == i)
                    .cloned()
                    .collect();
                lines.capture_finished(i, c, &findings, &report.notes);
            }
            lines.summary(report);
            lines.error.map_or(Ok(()), Err)
        }
        Format::Text => Text { color, ladder }.render(report, w),
        Format::Json => Json.render(report, w),
        Format::Markdown => Markdown.render(report, w),
        Format::Html => Html.render(report, w),
        Format::Junit => Junit {
            fail_at,
            fail_inconclusive: fail_on == FailOn::Inconclusive,
        }
        .render(report, w),
    }
}

/// Writes to standard output; a reader that went away (`| head`) ends the command quietly,
/// as it does for other Unix tools.
fn to_stdout(f: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> ExitCode {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    match f(&mut out).and_then(|_| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("siptriage: cannot write to standard output: {e}");
            ExitCode::from(2)
        }
    }
}

/// The ids nearest to an unknown one: those that contain it (or that it contains), else those
/// a few edits away.
fn nearest_ids(id: &str) -> Vec<&'static str> {
    let ids: Vec<&'static str> = siptriage::diagnose::catalogue::all()
        .iter()
        .map(|m| m.id)
        .collect();
    let want = id.to_ascii_lowercase();
    let mut near: Vec<&'static str> = ids
        .iter()
        .copied()
        .filter(|i| i.contains(want.as_str()) || (want.len() > 3 && want.contains(i)))
        .collect();
    if near.is_empty() {
        let limit = (want.len() / 3).max(2);
        let mut scored: Vec<(usize, &'static str)> = ids
            .iter()
            .map(|i| (strsim::levenshtein(&want, i), *i))
            .filter(|(d, _)| *d <= limit)
            .collect();
        scored.sort();
        near = scored.into_iter().map(|(_, i)| i).collect();
    }
    near.truncate(5);
    near
}

fn explain(id: &str) -> ExitCode {
    if let Some(m) = siptriage::diagnose::catalogue::find(id) {
        return to_stdout(|out| siptriage::report::catalogue::explain(m, out));
    }
    let near = nearest_ids(id);
    let hint = match near.as_slice() {
        [] => String::new(),
        [one] => format!("; did you mean {one}?"),
        [init @ .., last] => format!("; did you mean {} or {last}?", init.join(", ")),
    };
    eprintln!("siptriage: unknown finding id {id:?}{hint} (`siptriage scenarios` lists them all)");
    ExitCode::from(2)
}

const EXIT_STATUS: &str = r#".SH "EXIT STATUS"
.TP
\fB0\fR
analyze, watch: nothing reaches \-\-fail\-on (by default, no finding is an error); other commands: success
.TP
\fB1\fR
analyze, watch: something reaches \-\-fail\-on: a finding of that severity, or with \-\-fail\-on inconclusive any verdict but ok
.TP
\fB2\fR
no input could be read at all, the interface could not be opened, the arguments are wrong, an unknown id was given to explain, or the output could not be written
"#;

/// One man page: the command's sections, then the exit codes.
fn man_page(cmd: clap::Command, out: &mut dyn Write) -> std::io::Result<()> {
    let man = clap_mangen::Man::new(cmd);
    man.render_title(out)?;
    man.render_name_section(out)?;
    man.render_synopsis_section(out)?;
    man.render_description_section(out)?;
    man.render_options_section(out)?;
    man.render_subcommands_section(out)?;
    out.write_all(EXIT_STATUS.as_bytes())?;
    man.render_version_section(out)
}

/// The command of each page: `(file stem, command)`, the top page first.
fn man_commands() -> Vec<(String, clap::Command)> {
    let mut top = Cli::command();
    top.build();
    let mut pages = vec![("siptriage".to_string(), top.clone())];
    for sub in top.get_subcommands() {
        if sub.get_name() == "help" {
            continue;
        }
        let stem = format!("siptriage-{}", sub.get_name());
        let cmd = sub
            .clone()
            .name(stem.clone())
            .display_name(stem.clone())
            .bin_name(format!("siptriage {}", sub.get_name()))
            .version(env!("CARGO_PKG_VERSION"));
        pages.push((stem, cmd));
    }
    pages
}

fn man(out_dir: Option<std::path::PathBuf>, command: Option<String>) -> ExitCode {
    let pages = man_commands();
    let Some(dir) = out_dir else {
        let want = command.map_or("siptriage".to_string(), |c| format!("siptriage-{c}"));
        let Some((_, cmd)) = pages.into_iter().find(|(stem, _)| *stem == want) else {
            eprintln!(
                "siptriage: no such command for a man page; the commands are analyze, watch, scenarios, \
                 explain, schema, completions and man"
            );
            return ExitCode::from(2);
        };
        return to_stdout(|out| man_page(cmd, out));
    };
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("siptriage: cannot create {}: {e}", dir.display());
        return ExitCode::from(2);
    }
    for (stem, cmd) in pages {
        let path = dir.join(format!("{stem}.1"));
        let mut page = Vec::new();
        let written = man_page(cmd, &mut page).and_then(|_| std::fs::write(&path, page));
        if let Err(e) = written {
            eprintln!("siptriage: cannot write {}: {e}", path.display());
            return ExitCode::from(2);
        }
    }
    ExitCode::SUCCESS
}

/// Loads every --keylog: files, folders of key logs, and `auto` (the key log beside each
/// capture). Returns the key log files used beside captures, for a notice.
fn load_keylogs(
    words: &[String],
    inputs: &Expanded,
    cfg: &mut Config,
    notices: &mut Vec<String>,
) -> Result<(), inputs::KeyLogError> {
    let mut auto = false;
    let mut used = std::collections::BTreeSet::new();
    for word in words {
        if word == "auto" && !std::path::Path::new(word).exists() {
            auto = true;
            continue;
        }
        for (label, text) in inputs::keylog_files(word)? {
            used.insert(std::fs::canonicalize(&label).unwrap_or_else(|_| label.clone().into()));
            cfg.secrets.keylog.add_text(&label, &text);
        }
    }
    let beside: Vec<_> = inputs
        .captures
        .iter()
        .filter_map(|c| inputs::keylog_beside(c).map(|k| (c, k)))
        .filter(|(_, k)| !used.contains(&std::fs::canonicalize(k).unwrap_or_else(|_| k.clone())))
        .collect();
    if auto {
        for (capture, keys) in beside {
            let label = keys.to_string_lossy().to_string();
            for (label, text) in inputs::keylog_files(&label)? {
                cfg.secrets.keylog.add_text(&label, &text);
                notices.push(format!("using the key log {label} for {}", capture.label));
            }
        }
    } else if let Some((capture, keys)) = beside.first() {
        notices.push(if beside.len() == 1 {
            format!(
                "{} looks like the key log of {}: pass it with --keylog {0} (or --keylog auto)",
                keys.display(),
                capture.label
            )
        } else {
            format!(
                "{} captures have a key log named like them beside them (such as {}): add \
                 --keylog auto to use them",
                beside.len(),
                keys.display()
            )
        });
    }
    Ok(())
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
        Command::Scenarios { format } => to_stdout(|out| match format {
            ListFormat::Json => siptriage::report::catalogue::list_json(out),
            ListFormat::Text => siptriage::report::catalogue::list_text(out),
        }),
        Command::Explain { id } => explain(&id),
        Command::Schema { kind } => to_stdout(|out| {
            out.write_all(
                match kind {
                    SchemaKind::Report => siptriage::report::schema(),
                    SchemaKind::Events => siptriage::report::jsonl::schema(),
                }
                .as_bytes(),
            )
        }),
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "siptriage", &mut script);
            to_stdout(|out| out.write_all(&script))
        }
        Command::Man { out, command } => man(out, command),
        Command::Analyze(args) => analyze(args),
        Command::Watch(args) => watch(args),
    }
}

/// Seconds given on the command line as a duration (negative or not a number: an error).
fn seconds(what: &str, secs: f64) -> Result<std::time::Duration, String> {
    std::time::Duration::try_from_secs_f64(secs)
        .map_err(|_| format!("{what} must be a number of seconds, 0 or more (got {secs})"))
}

/// `siptriage watch`: the sensor until it is stopped, then the run's report.
fn watch(args: WatchArgs) -> ExitCode {
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
        closing_note: redacting.map.as_ref().map(|_| Redacting::NOTE.to_string()),
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

/// `siptriage analyze`: validated settings, the key logs and the trust bundle, then the run.
fn analyze(args: AnalyzeArgs) -> ExitCode {
    let AnalyzeArgs {
        captures,
        format,
        output,
        fail_on,
        quiet,
        ladder,
        keylogs,
        analysis,
        max_sip_messages,
    } = args;
    if max_sip_messages.is_some() && !quiet {
        eprintln!(
            "siptriage: --max-sip-messages is ignored: every SIP message is analyzed now (memory is bounded per device; see --max-devices)"
        );
    }
    let fail = |e: &dyn std::fmt::Display| {
        eprintln!("siptriage: {e}");
        ExitCode::from(2)
    };
    let format = match choose_format(format, output.as_deref()) {
        Ok(f) => f,
        Err(e) => return fail(&e),
    };
    let inputs = inputs::expand(&captures);
    let (mut cfg, redaction) = match analysis.config() {
        Ok(c) => c,
        Err(e) => return fail(&e),
    };
    // Hints about the command line itself go to stderr, not into the report.
    let mut hints = Vec::new();
    if let Err(e) = load_keylogs(&keylogs, &inputs, &mut cfg, &mut hints) {
        return fail(&e);
    }
    if !quiet {
        for h in &hints {
            eprintln!("siptriage: {h}");
        }
    }
    run_analyze(
        inputs,
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

/// Sets `stop` on SIGINT or SIGTERM (Ctrl-C or Ctrl-Break, or the console closing, on
/// Windows); a second signal while the first is being handled ends the process at once.
#[cfg(unix)]
fn stop_on_signals(stop: &Arc<AtomicBool>) -> Result<(), String> {
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
fn stop_on_signals(stop: &Arc<AtomicBool>) -> Result<(), String> {
    let stop = stop.clone();
    ctrlc::set_handler(move || {
        if stop.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
    })
    .map_err(|e| format!("cannot handle Ctrl-C: {e}"))
}

/// Whether a terminal shows the severity tags' colours: never with `NO_COLOR`; on Windows only
/// once the console's virtual terminal mode is on (a legacy console would print the escape
/// codes).
fn terminal_colours() -> bool {
    if std::env::var_os("NO_COLOR").is_some() {
        return false;
    }
    if cfg!(windows) {
        return anstyle_query::windows::enable_ansi_colors() == Some(true);
    }
    true
}

/// jemalloc: on a cluster's capture (millions of short-lived SIP strings among tens of
/// thousands of long-lived connections) it takes a fifth less CPU than glibc's allocator, in
/// no more memory (docs/performance.md). `--no-default-features` builds with the system's.
#[cfg(all(feature = "jemalloc", not(windows)))]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;
