//! The guides stay true to the code: their links resolve, every setting and error type the code
//! has is documented, and every CLI option they mention exists. (Their Rust examples are
//! doctests of `serverless_adapter::guides`.)

use std::collections::BTreeSet;
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// README.md and every Markdown file of `docs/`.
fn documents() -> Vec<PathBuf> {
    let mut files = vec![root().join("README.md")];
    for entry in std::fs::read_dir(root().join("docs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// The targets of the Markdown links `[text](target)` outside code blocks.
fn links(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_code = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code {
            continue;
        }
        let mut rest = line;
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            let Some(end) = after.find(')') else { break };
            out.push(after[..end].to_owned());
            rest = &after[end..];
        }
    }
    out
}

/// GitHub's anchor for a heading: lowercase, punctuation dropped, spaces as `-`.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

fn anchors(text: &str) -> BTreeSet<String> {
    let mut in_code = false;
    let mut out = BTreeSet::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
        } else if !in_code && line.starts_with('#') {
            out.insert(slug(line.trim_start_matches('#')));
        }
    }
    out
}

#[test]
fn every_link_resolves() {
    let mut checked = 0;
    for doc in documents() {
        let text = std::fs::read_to_string(&doc).unwrap();
        let dir = doc.parent().unwrap();
        for link in links(&text) {
            if link.starts_with("http://") || link.starts_with("https://") {
                continue;
            }
            let (file, anchor) = match link.split_once('#') {
                Some((file, anchor)) => (file, Some(anchor)),
                None => (link.as_str(), None),
            };
            let target: PathBuf = if file.is_empty() {
                doc.clone()
            } else {
                dir.join(file)
            };
            checked += 1;
            assert!(
                target.exists(),
                "{}: the link {link:?} leads nowhere",
                doc.display()
            );
            if let Some(anchor) = anchor {
                let headings = anchors(&std::fs::read_to_string(&target).unwrap());
                assert!(
                    headings.contains(anchor),
                    "{}: no heading #{anchor} in {} (there are {headings:?})",
                    doc.display(),
                    target.display()
                );
            }
        }
    }
    assert!(checked > 30, "the links were found ({checked})");
}

#[test]
fn every_lwa_setting_is_in_the_migration_guide() {
    let guide = read("docs/migrating-from-lambda-web-adapter.md");
    let settings = read("frameworks/proxy/src/settings.rs");
    let mut names = BTreeSet::new();
    for (at, _) in settings.match_indices("\"AWS_LWA_") {
        let name: String = settings[at + 1..]
            .chars()
            .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
            .collect();
        names.insert(name);
    }
    assert!(names.len() >= 15, "the settings were found: {names:?}");
    for name in &names {
        assert!(
            guide.contains(&format!("`{name}`")) || guide.contains(&format!("`{name}=")),
            "{name} is read by the proxy but not in the migration guide"
        );
    }
}

#[test]
fn every_error_type_is_in_troubleshooting() {
    let page = read("docs/troubleshooting.md");
    let error = read("core/src/error.rs");
    let body = error
        .split("pub fn error_type(&self)")
        .nth(1)
        .expect("error_type() is in core/src/error.rs");
    let body = &body[..body.find("\n    }\n").unwrap()];
    let mut types = Vec::new();
    for piece in body.split('"').skip(1).step_by(2) {
        types.push(piece.to_owned());
    }
    assert!(types.len() >= 9, "the error types were found: {types:?}");
    for more in [
        "App.ErrorStatus",
        "App.InvalidBatchAnswer",
        "Runtime.StreamError",
    ] {
        types.push(more.to_owned());
    }
    for error_type in types {
        assert!(
            page.contains(&format!("`{error_type}`")),
            "{error_type} is not explained in docs/troubleshooting.md"
        );
    }
}

#[test]
fn every_emulator_option_in_the_guide_exists() {
    let guide = read("docs/local-emulator.md");
    let cli = read("emulator/src/main.rs");
    let mut options = BTreeSet::new();
    for (at, _) in guide.match_indices("`--") {
        let option: String = guide[at + 1..]
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || *c == '-' || c.is_ascii_digit())
            .collect();
        if option.len() > 2 {
            options.insert(option);
        }
    }
    assert!(options.len() >= 15, "the options were found: {options:?}");
    for option in options {
        assert!(
            cli.contains(&format!("\"{option}\"")),
            "{option} is in docs/local-emulator.md but lambda-emulator does not take it"
        );
    }
}
