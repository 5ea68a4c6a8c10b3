//! The command line: arguments -> validated config -> one call -> exit code.

use std::io::Write;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use siptriage::analyze::analyze;
use siptriage::config::Config;
use siptriage::report::{Json, Reporter, Text};

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

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    /// A report for people: summary, findings with evidence and fix, notes.
    Text,
    /// One JSON document (schema_version 1), for tickets and pipelines.
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// List every finding id of the catalogue, one line each.
    Scenarios {
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Explain one finding id: what it means, the evidence it needs, the fix and the source.
    Explain {
        /// A finding id, as `siptriage scenarios` lists them.
        id: String,
    },
    /// Analyze one or more captures (pcap, pcapng, gzip-compressed or not; `-` reads stdin).
    ///
    /// Exit code: 0 when no finding is an error, 1 when one is, 2 when no input could be read
    /// or the arguments are wrong.
    Analyze {
        /// Capture files.
        #[arg(required = true)]
        captures: Vec<String>,
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
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
        Command::Scenarios { format } => {
            let mut out = std::io::stdout().lock();
            let r = match format {
                Format::Text => siptriage::report::catalogue::list_text(&mut out),
                Format::Json => siptriage::report::catalogue::list_json(&mut out),
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
        Command::Analyze {
            captures,
            format,
            oauth_ports,
            mra_oauth_ports,
            keylogs,
            show_secrets,
            trust,
            expressway_names,
            max_evidence,
        } => {
            let mut cfg = Config::default().with_ports(&oauth_ports, &mra_oauth_ports);
            cfg.max_evidence = max_evidence as usize;
            cfg.show_secrets = show_secrets;
            cfg.expressway_names = expressway_names
                .into_iter()
                .map(|n| n.trim().to_string())
                .filter(|n| !n.is_empty())
                .collect();
            if let Some(path) = trust {
                match siptriage::trust::TrustStore::load(&path) {
                    Ok(store) => cfg.trust = Some(std::sync::Arc::new(store)),
                    Err(e) => {
                        eprintln!("siptriage: cannot use the trust bundle: {e}");
                        return ExitCode::from(2);
                    }
                }
            }
            for path in &keylogs {
                match std::fs::read(path) {
                    Ok(bytes) => cfg.keylog.add_text(path, &String::from_utf8_lossy(&bytes)),
                    Err(e) => {
                        eprintln!("siptriage: {path}: cannot read the key log: {e}");
                        return ExitCode::from(2);
                    }
                }
            }
            let outcome = analyze(&captures, &cfg);
            for u in &outcome.unreadable {
                eprintln!("siptriage: {u}");
            }
            if outcome.report.captures.is_empty() {
                return ExitCode::from(2);
            }
            for c in &outcome.report.captures {
                if let Some(s) = &c.stopped {
                    eprintln!("siptriage: {s}");
                }
            }
            let reporter: &dyn Reporter = match format {
                Format::Text => &Text,
                Format::Json => &Json,
            };
            let stdout = std::io::stdout();
            let mut lock = stdout.lock();
            if let Err(e) = reporter
                .render(&outcome.report, &mut lock)
                .and_then(|_| lock.flush())
            {
                if e.kind() != std::io::ErrorKind::BrokenPipe {
                    eprintln!("siptriage: cannot write the report: {e}");
                    return ExitCode::from(2);
                }
            }
            ExitCode::from(if outcome.report.has_errors() { 1 } else { 0 })
        }
    }
}
