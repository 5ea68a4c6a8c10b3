//! `siptriage man`: the man pages, one per command, from the argument definitions.

use std::io::Write;
use std::process::ExitCode;

use clap::CommandFactory;

use super::to_stdout;
use crate::Cli;

pub const EXIT_STATUS: &str = r#".SH "EXIT STATUS"
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
pub fn man_page(cmd: clap::Command, out: &mut dyn Write) -> std::io::Result<()> {
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
pub fn man_commands() -> Vec<(String, clap::Command)> {
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

pub fn man(out_dir: Option<std::path::PathBuf>, command: Option<String>) -> ExitCode {
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
