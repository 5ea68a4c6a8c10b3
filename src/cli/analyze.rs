//! `siptriage analyze`: validated settings, the key logs and the trust bundle, then the run.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use siptriage::analyze::{analyze_expanded, Outcome};
use siptriage::config::Config;
use siptriage::inputs::{self, Expanded};
use siptriage::note::Note;
use siptriage::report::jsonl::JsonLines;
use siptriage::report::redact;
use siptriage::report::Observer;

use super::options::{Analysis, FailOn, Format, Redacting};
use super::output::{choose_format, format_name, render, terminal_colours, Output};

/// The options of `siptriage analyze`.
#[derive(clap::Args)]
pub struct AnalyzeArgs {
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

pub struct Settings {
    pub format: Format,
    pub output: Option<String>,
    pub fail_on: FailOn,
    pub quiet: bool,
    pub ladder: bool,
    pub redaction: Redacting,
}

/// Sets the verdict and the summary under the chosen policy; returns the exit code.
pub fn conclude(outcome: &mut Outcome, fail_on: FailOn) -> u8 {
    siptriage::analyze::conclude(&mut outcome.report, &outcome.tally, fail_on.policy());
    outcome.report.summary.exit_code
}

/// A progress bar on stderr while large inputs are read (only on a terminal).
pub fn progress(
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

pub fn run_analyze(inputs: Expanded, cfg: Config, s: Settings) -> ExitCode {
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
            lines.note(&Note::PseudonymMap);
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
        // The library says what an input is; the command line says which option takes it.
        for k in &inputs.keylogs_named {
            eprintln!("siptriage: to decrypt with the key log {k}, pass it with --keylog {k}");
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
        // The library says the SIP is encrypted; the command line says which option reads it.
        let encrypted = outcome
            .report
            .notes
            .iter()
            .any(|n| matches!(n.inner(), Note::Undecrypted { .. }));
        if encrypted {
            eprintln!(
                "siptriage: to read the encrypted SIP, pass the clients' key log with --keylog \
                 FILE (or --keylog auto for the key log named like each capture)"
            );
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
            report.notes.push(Note::PseudonymMap);
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

/// Loads every --keylog: files, folders of key logs, and `auto` (the key log beside each
/// capture). Returns the key log files used beside captures, for a notice.
pub fn load_keylogs(
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

/// `siptriage analyze`: validated settings, the key logs and the trust bundle, then the run.
pub fn analyze(args: AnalyzeArgs) -> ExitCode {
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
