//! The one-way rule of the pipeline (docs/architecture.md): a module imports only modules of
//! lower layers (peers of one layer do not import each other). A new module must be given its
//! layer here. `.ci/run` runs this test first, so a violation fails the build with the file and
//! the import named.

mod common;

use common::rust_files;
use std::collections::BTreeMap;
use std::path::Path;

/// Each module of `src/` with its layer, from the bottom up.
const LAYERS: &[(&str, u32)] = &[
    ("time", 0),
    ("words", 0),
    ("net", 0),
    ("verdict", 0),
    ("place", 0),
    ("note", 1),
    ("logs", 2),
    ("inputs", 3),
    ("capture", 4),
    ("live", 4),
    ("decode", 5),
    ("flow", 6),
    ("cert", 7),
    ("trust", 8),
    ("tls", 9),
    ("sip", 9),
    ("http", 9),
    ("config", 10),
    ("session", 11),
    ("diagnose", 12),
    ("source", 12),
    ("report", 13),
    ("analyze", 14),
    ("watch", 15),
    ("cli", 16),
];

/// `crate::name` references in code (comments skipped).
fn imports(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(p) = rest.find("crate::") {
            let after = &rest[p + "crate::".len()..];
            let name: String = after
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() && name.chars().next().is_some_and(|c| c.is_ascii_lowercase()) {
                out.push((n + 1, name));
            }
            rest = after;
        }
    }
    out
}

#[test]
fn lower_layers_never_import_higher_ones() {
    let layers: BTreeMap<&str, u32> = LAYERS.iter().copied().collect();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut problems = Vec::new();
    for f in &files {
        let rel = f.strip_prefix(&src).expect("under src");
        let first = rel
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .unwrap_or("");
        let module = first.strip_suffix(".rs").unwrap_or(first);
        if module == "main" || module == "lib" {
            continue; // the command line and the crate root may use every layer
        }
        let Some(&mine) = layers.get(module) else {
            problems.push(format!(
                "src/{}: module `{module}` has no layer in tests/layers.rs",
                rel.display()
            ));
            continue;
        };
        let text = std::fs::read_to_string(f).expect("source");
        for (line, used) in imports(&text) {
            if used == module {
                continue;
            }
            match layers.get(used.as_str()) {
                Some(&theirs) if theirs < mine => {}
                Some(&theirs) => problems.push(format!(
                    "src/{}:{line}: `{module}` (layer {mine}) imports `{used}` (layer {theirs}): \
                     a module imports only lower layers",
                    rel.display()
                )),
                None => problems.push(format!(
                    "src/{}:{line}: `crate::{used}` is not a module with a layer",
                    rel.display()
                )),
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_check_sees_an_upward_import() {
    // The checker itself: an import of a higher layer is found, comments are not imports.
    let found = imports("use crate::report::Report; // crate::analyze\n/// [`crate::time`]\n");
    assert_eq!(found, [(1, "report".to_string())]);
}
