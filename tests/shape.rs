//! The shape of the code (docs/architecture.md): the command line is a thin shell, the
//! orchestrator is small, a rule is matching plus declared wording that rustfmt formats whole
//! and that shares no copied lines with another rule, and the library never names a
//! command-line flag (the command line words its own hints).

mod common;

use common::rust_files;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn lines_of(p: &Path) -> usize {
    std::fs::read_to_string(p).expect("source").lines().count()
}

fn rule_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    rust_files(&src().join("diagnose/rules"), &mut files);
    files.retain(|f| !f.ends_with("mod.rs"));
    files.sort();
    assert!(files.len() >= 28, "the rules: {files:?}");
    files
}

#[test]
fn main_rs_parses_and_dispatches_and_the_orchestrator_is_small() {
    let main = lines_of(&src().join("main.rs"));
    assert!(main <= 300, "src/main.rs has {main} lines (at most 300)");
    let mut files = Vec::new();
    rust_files(&src().join("analyze"), &mut files);
    for f in files {
        let n = lines_of(&f);
        assert!(n <= 400, "{} has {n} lines (at most 400)", f.display());
    }
}

/// Six consecutive lines (trimmed; blank lines, comments and imports left out) of a file,
/// with the first line's number.
fn windows(text: &str) -> Vec<(usize, String)> {
    let mut lines: Vec<(usize, &str)> = Vec::new();
    let mut import = false;
    for (n, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.starts_with("use ") || import {
            import = !t.ends_with(';');
            continue;
        }
        if !t.is_empty() && !t.starts_with("//") {
            lines.push((n + 1, t));
        }
    }
    lines
        .windows(6)
        .filter(|w| w.iter().filter(|(_, l)| l.len() > 3).count() >= 4)
        .map(|w| {
            let text: Vec<&str> = w.iter().map(|(_, l)| *l).collect();
            (w[0].0, text.join("\n"))
        })
        .collect()
}

/// Runs of six identical lines two files share, each run once: (file, line, other file, line).
fn shared_runs(files: &[(String, String)]) -> Vec<String> {
    let mut seen: BTreeMap<String, (String, usize)> = BTreeMap::new();
    let mut found = Vec::new();
    for (name, text) in files {
        let mut mine = BTreeSet::new();
        // The run being reported: the other file, and the last line matched in each.
        let mut run: Option<(String, usize, usize)> = None;
        for (line, w) in windows(text) {
            if !mine.insert(w.clone()) {
                continue;
            }
            match seen.get(&w) {
                Some((other, at)) if other != name => {
                    let goes_on = run
                        .as_ref()
                        .is_some_and(|(o, mine, theirs)| o == other && line > *mine && at > theirs);
                    if !goes_on {
                        found.push(format!("{name}:{line} repeats {other}:{at}"));
                    }
                    run = Some((other.clone(), line, *at));
                }
                Some(_) => run = None,
                None => {
                    run = None;
                    seen.insert(w, (name.clone(), line));
                }
            }
        }
    }
    found
}

#[test]
fn no_two_rules_share_a_run_of_six_identical_lines() {
    let files: Vec<(String, String)> = rule_files()
        .iter()
        .map(|f| {
            let name = f
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .to_string();
            (name, std::fs::read_to_string(f).expect("rule"))
        })
        .collect();
    let found = shared_runs(&files);
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn the_copy_check_finds_a_copied_walk() {
    let walk = "for (t, tx) in cx.facts.transactions.iter().enumerate() {\n\
                let req = &sip[tx.request];\n\
                let Some(resp) = tx.final_response(sip) else {\n\
                continue;\n\
                };\n\
                let status = resp.status.unwrap_or(0);\n";
    let a = format!("fn a() {{\n{walk}}}\n");
    let b = format!("// b\nfn b() {{\n    {}}}\n", walk.replace('\n', "\n    "));
    let found = shared_runs(&[("a.rs".into(), a), ("b.rs".into(), b)]);
    assert_eq!(found, ["b.rs:3 repeats a.rs:2"]);
}

/// `text` with every line's indentation taken away, except inside a string continued across
/// lines (a line after one ending in `\`), which rustfmt leaves as written.
fn flattened(text: &str) -> String {
    let mut out = String::new();
    let mut continued = false;
    for line in text.lines() {
        if continued {
            out.push_str(line);
        } else {
            out.push_str(line.trim_start());
        }
        out.push('\n');
        continued = line.ends_with('\\');
    }
    out
}

/// What rustfmt makes of `text` (edition 2021, the project's settings).
fn rustfmt(text: &str) -> String {
    use std::io::Write;
    let mut child = Command::new(std::env::var("RUSTFMT").unwrap_or_else(|_| "rustfmt".into()))
        .args(["--edition", "2021", "--emit", "stdout", "--quiet"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("rustfmt runs (rustup component add rustfmt)");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("written");
    let out = child.wait_with_output().expect("rustfmt");
    assert!(out.status.success(), "rustfmt failed");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// rustfmt gives up on an expression it cannot fit (a long literal inside `format!`) and
/// leaves it as written; with every indent taken away, such an expression comes back flat.
#[test]
fn rustfmt_formats_every_rule_whole() {
    let mut files = rule_files();
    files.push(src().join("diagnose/rule.rs"));
    files.push(src().join("diagnose/cert_alerts.rs"));
    let mut unformatted = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).expect("rule");
        let again = rustfmt(&flattened(&text));
        if flattened(&again) != flattened(&text) || again != text {
            let line = again
                .lines()
                .zip(text.lines())
                .position(|(a, b)| a != b)
                .map_or(0, |i| i + 1);
            unformatted.push(format!("{}:{line}", f.display()));
        }
    }
    assert!(
        unformatted.is_empty(),
        "rustfmt does not format these whole (first line that differs):\n{}",
        unformatted.join("\n")
    );
}

#[test]
fn the_rustfmt_check_sees_an_expression_rustfmt_gave_up_on() {
    // As rustfmt leaves it (the literal too long to place, the call as written) it is stable,
    // yet flattened it does not come back: the check flags it.
    let text = "fn f(a: u32) -> String {\n    format!(\n \"a very long literal that cannot fit on one line of a hundred characters at all, no, it cannot {}\",\n a\n    )\n}\n";
    let left = rustfmt(text);
    assert_eq!(rustfmt(&left), left);
    assert_ne!(rustfmt(&flattened(&left)), left);
    // A file rustfmt formats whole comes back from its flattened form.
    let whole = rustfmt("fn f(a: u32) -> String {\n    format!(\"short {}\", a)\n}\n");
    assert_eq!(rustfmt(&flattened(&whole)), whole);
}

/// The long options of `siptriage analyze` and `siptriage watch`, from their help.
fn flags() -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for cmd in ["analyze", "watch"] {
        let help = Command::new(env!("CARGO_BIN_EXE_siptriage"))
            .args([cmd, "--help"])
            .output()
            .expect("siptriage runs");
        let text = String::from_utf8_lossy(&help.stdout).into_owned();
        for word in text.split(|c: char| c.is_whitespace() || c == ',' || c == '[') {
            if let Some(name) = word.strip_prefix("--") {
                let name: String = name
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || *c == '-')
                    .collect();
                if name.len() > 2 && name != "help" {
                    out.insert(format!("--{name}"));
                }
            }
        }
    }
    assert!(
        out.contains("--keylog") && out.contains("--max-devices"),
        "{out:?}"
    );
    out
}

/// Where `text` (a library file) names one of `flags` outside comments.
fn naming(text: &str, flags: &BTreeSet<String>) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let t = line.trim_start();
        if t.starts_with("//") || t.starts_with("#[") {
            continue;
        }
        for f in flags {
            let mut rest = line;
            while let Some(at) = rest.find(f.as_str()) {
                let after = rest[at + f.len()..].chars().next();
                if !after.is_some_and(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
                    found.push((n + 1, f.clone()));
                }
                rest = &rest[at + f.len()..];
            }
        }
    }
    found
}

#[test]
fn no_library_string_names_a_flag() {
    let flags = flags();
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    files.sort();
    let mut found = Vec::new();
    for f in files {
        let rel = f.strip_prefix(src()).expect("under src").to_path_buf();
        if rel.starts_with("cli") || rel == Path::new("main.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&f).expect("source");
        // Unit tests may name flags (they test what the command line passes).
        let code = text.split("#[cfg(test)]").next().unwrap_or("");
        for (line, flag) in naming(code, &flags) {
            found.push(format!("src/{}:{line}: {flag}", rel.display()));
        }
    }
    assert!(
        found.is_empty(),
        "the library names command-line flags (word them in src/cli):\n{}",
        found.join("\n")
    );
}

#[test]
fn the_flag_check_sees_a_flag_in_a_string_and_not_in_a_comment() {
    let flags: BTreeSet<String> = ["--keylog".to_string()].into();
    let text =
        "// --keylog is fine here\nlet s = \"pass it with --keylog\";\nlet t = \"--keylogs\";\n";
    assert_eq!(naming(text, &flags), [(2, "--keylog".to_string())]);
}

#[test]
fn rules_match_without_looping_over_one_connection() {
    for f in rule_files() {
        let text = std::fs::read_to_string(&f).expect("rule");
        assert!(
            !text.contains("iter::once"),
            "{}: a connection rule loops over one connection",
            f.display()
        );
    }
}
