//! The core never names the platform: no file under `src/core/` uses the `worker` crate or the
//! JavaScript bindings beneath it, so its rules run and are tested on the host, and time,
//! randomness and secrets come in as arguments (README, "Layout"). This test fails the moment a
//! core file reaches for the platform.
#![cfg(not(target_arch = "wasm32"))]

use std::fs;
use std::path::{Path, PathBuf};

/// The crates of the edge: naming any of them in the core is the mistake this guards against.
const PLATFORM_CRATES: [&str; 5] = ["worker", "worker_sys", "wasm_bindgen", "js_sys", "web_sys"];

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("read a core folder") {
        let path = entry.expect("list a core folder").path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            found.push(path);
        }
    }
}

/// Whether `line` names `krate` as a path's first segment (`worker::Env`, `use worker;`,
/// `::worker::…`), outside a comment.
fn names(line: &str, krate: &str) -> bool {
    let code = line.split("//").next().unwrap_or_default();
    code.match_indices(krate).any(|(at, _)| {
        let before = code[..at].chars().next_back();
        let after = &code[at + krate.len()..];
        let starts_a_path = before.is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
        starts_a_path && (after.starts_with("::") || after.starts_with(';'))
    })
}

#[test]
fn no_core_file_names_the_platform() {
    let mut files = Vec::new();
    rust_files(Path::new("src/core"), &mut files);
    assert!(
        files.len() > 40,
        "the core was found ({} files)",
        files.len()
    );
    let mut offences = Vec::new();
    for file in &files {
        let text = fs::read_to_string(file).expect("read a core file");
        for (number, line) in text.lines().enumerate() {
            for krate in PLATFORM_CRATES {
                if names(line, krate) {
                    offences.push(format!(
                        "{}:{}: {}",
                        file.display(),
                        number + 1,
                        line.trim()
                    ));
                }
            }
        }
    }
    assert!(
        offences.is_empty(),
        "core files name the platform:\n{}",
        offences.join("\n")
    );
}

#[test]
fn the_check_sees_what_it_must() {
    let cases = [
        ("use worker::{Env, Request};", true, "a use of the crate"),
        (
            "    let env: worker::Env = todo!();",
            true,
            "a path in code",
        ),
        (
            "use wasm_bindgen::JsValue;",
            true,
            "the bindings beneath it",
        ),
        ("/// a worker of the queue", false, "the word in a comment"),
        (
            "let workers = 3; // worker::Env",
            false,
            "a comment after code",
        ),
        (
            "use crate::core::worker_pool::Pool;",
            false,
            "another module's name",
        ),
        ("fn coworker::x()", false, "a longer identifier"),
    ];
    for (line, want, why) in cases {
        let got = PLATFORM_CRATES.iter().any(|krate| names(line, krate));
        assert_eq!(got, want, "{why}: {line}");
    }
}
