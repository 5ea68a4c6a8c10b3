//! The subcommands, one module each; `main.rs` parses the arguments and calls one of them.

use std::io::Write;
use std::process::ExitCode;

pub mod analyze;
pub mod completions;
pub mod explain;
pub mod man;
pub mod options;
pub mod output;
pub mod schema;
pub mod watch;

/// Writes to standard output; a reader that went away (`| head`) ends the command quietly,
/// as it does for other Unix tools.
pub fn to_stdout(f: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> ExitCode {
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
