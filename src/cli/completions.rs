//! `siptriage completions`: a shell's completion script.

use std::process::ExitCode;

use clap::CommandFactory;

use super::to_stdout;
use crate::Cli;

/// Prints the completion script for `shell`.
pub fn completions(shell: clap_complete::Shell) -> ExitCode {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "siptriage", &mut script);
    to_stdout(|out| out.write_all(&script))
}
