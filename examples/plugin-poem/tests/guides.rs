//! The guides `docs/writing-a-framework-plugin.md` and `docs/writing-an-adapter.md` quote this
//! crate's code: every snippet marked `<!-- snippet: PATH -->` must appear verbatim in PATH.

use std::path::Path;

/// The snippets of a guide: (source path, code), in order.
fn snippets(guide: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut lines = guide.lines();
    while let Some(line) = lines.next() {
        let Some(path) = line
            .strip_prefix("<!-- snippet: ")
            .and_then(|rest| rest.strip_suffix(" -->"))
        else {
            continue;
        };
        let fence = lines.next().expect("a code block follows the marker");
        assert!(
            fence.starts_with("```"),
            "{path}: no code block after the marker"
        );
        let code: Vec<&str> = lines.by_ref().take_while(|line| *line != "```").collect();
        found.push((path.to_owned(), code.join("\n")));
    }
    found
}

#[test]
fn guide_snippets_match_the_code() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    for guide in [
        "docs/writing-a-framework-plugin.md",
        "docs/writing-an-adapter.md",
    ] {
        let text = std::fs::read_to_string(root.join(guide)).unwrap();
        let snippets = snippets(&text);
        assert!(snippets.len() >= 5, "{guide}: {} snippets", snippets.len());
        for (path, code) in snippets {
            let source = std::fs::read_to_string(root.join(&path))
                .unwrap_or_else(|error| panic!("{guide}: {path}: {error}"));
            assert!(
                source.contains(&code),
                "{guide}: this snippet is not in {path}:\n{code}"
            );
        }
    }
}
