//! `siptriage schema`: the JSON Schema of the report or of one event.

use std::process::ExitCode;

use clap::ValueEnum;

use super::to_stdout;

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SchemaKind {
    /// The `--format json` document.
    Report,
    /// One line of `--format jsonl`.
    Events,
}

/// Prints the schema of `kind`.
pub fn schema(kind: SchemaKind) -> ExitCode {
    to_stdout(|out| {
        out.write_all(
            match kind {
                SchemaKind::Report => siptriage::report::schema(),
                SchemaKind::Events => siptriage::report::jsonl::schema(),
            }
            .as_bytes(),
        )
    })
}
