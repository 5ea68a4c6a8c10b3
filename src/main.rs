//! The command line: arguments -> validated config -> one call -> exit code.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cli;

use cli::analyze::AnalyzeArgs;
use cli::explain::ListFormat;
use cli::schema::SchemaKind;
use cli::watch::WatchArgs;

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

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    match cli.command {
        Command::Scenarios { format } => cli::explain::scenarios(format),
        Command::Explain { id } => cli::explain::explain(&id),
        Command::Schema { kind } => cli::schema::schema(kind),
        Command::Completions { shell } => cli::completions::completions(shell),
        Command::Man { out, command } => cli::man::man(out, command),
        Command::Analyze(args) => cli::analyze::analyze(args),
        Command::Watch(args) => cli::watch::watch(args),
    }
}

/// jemalloc: on a cluster's capture (millions of short-lived SIP strings among tens of
/// thousands of long-lived connections) it takes a fifth less CPU than glibc's allocator, in
/// no more memory (docs/performance.md). `--no-default-features` builds with the system's.
#[cfg(all(feature = "jemalloc", not(windows)))]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;
