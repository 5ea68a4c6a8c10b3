//! `siptriage scenarios` and `siptriage explain`: the catalogue, whole or one id.

use std::process::ExitCode;

use clap::ValueEnum;

use super::to_stdout;

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    /// One line per id: id, severity, confidence, title.
    Text,
    /// A JSON array of the catalogue entries.
    Json,
}

/// `siptriage scenarios`: every id, one line each, or the catalogue as JSON.
pub fn scenarios(format: ListFormat) -> ExitCode {
    to_stdout(|out| match format {
        ListFormat::Json => siptriage::report::catalogue::list_json(out),
        ListFormat::Text => siptriage::report::catalogue::list_text(out),
    })
}

/// The ids nearest to an unknown one: those that contain it (or that it contains), else those
/// a few edits away.
pub fn nearest_ids(id: &str) -> Vec<&'static str> {
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

pub fn explain(id: &str) -> ExitCode {
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
