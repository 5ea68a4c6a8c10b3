//! What `analyze` and `watch` share: the report formats, the exit policy, the analysis options
//! and what to redact.

use std::sync::Arc;

use clap::ValueEnum;
use siptriage::config::Config;
use siptriage::report::redact::{self, Redaction};

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
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
pub enum FailOn {
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
    pub fn policy(self) -> siptriage::analyze::FailOn {
        use siptriage::analyze::FailOn as P;
        match self {
            FailOn::Error => P::Error,
            FailOn::Warning => P::Warning,
            FailOn::Inconclusive => P::Inconclusive,
            FailOn::Never => P::Never,
        }
    }
}

/// The options of the analysis itself, the same for `analyze` and `watch`.
#[derive(clap::Args)]
pub struct Analysis {
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
    pub fn config(self) -> Result<(Config, Redacting), String> {
        let redaction = Redaction::parse(&self.redact).map_err(|e| {
            format!(
                "unknown --redact item \"{}\": the classes are ips, users, hosts, orgs and all",
                e.0
            )
        })?;
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
pub struct Redacting {
    pub what: Redaction,
    pub map: Option<std::path::PathBuf>,
}

impl Redacting {
    /// Writes the map (JSON: class, pseudonym, original), or says why it could not.
    pub fn write_map(&self, entries: &[redact::MapEntry], quiet: bool) -> Result<(), String> {
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

/// Seconds given on the command line as a duration (negative or not a number: an error).
pub fn seconds(what: &str, secs: f64) -> Result<std::time::Duration, String> {
    std::time::Duration::try_from_secs_f64(secs)
        .map_err(|_| format!("{what} must be a number of seconds, 0 or more (got {secs})"))
}
