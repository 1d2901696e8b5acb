//! The checked-in man pages and completions are exactly what the binary generates now.

use crate::support;

use std::path::Path;

fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn man_pages_and_completions_are_current() {
    let t = support::TestDir::new();
    let o = support::cmd(t.dir.path())
        .args(["gen-docs", "--man-dir"])
        .arg(t.path("man"))
        .arg("--completions-dir")
        .arg(t.path("completions"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", support::stderr(&o));
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for dir in ["man", "completions"] {
        let want = files(&t.path(dir));
        let have = files(&root.join(dir));
        let names = |v: &[(String, Vec<u8>)]| v.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
        assert_eq!(
            names(&have),
            names(&want),
            "{dir}/ is stale: run `cargo run -- gen-docs`"
        );
        for ((name, a), (_, b)) in have.iter().zip(&want) {
            assert!(a == b, "{dir}/{name} is stale: run `cargo run -- gen-docs`");
        }
    }
}

#[test]
fn every_subcommand_has_help_with_an_example() {
    let t = support::TestDir::new();
    let o = support::cmd(t.dir.path()).arg("--help").output().unwrap();
    let help = support::stdout(&o);
    assert!(
        help.contains("Exit codes: 0 ok; 1 the run stopped (its records are incomplete); 2 usage"),
        "{help}"
    );
    let commands: Vec<String> = help
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        // Command names sit at two spaces; wrapped descriptions are indented further.
        .filter(|l| !l[2..].starts_with(' '))
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .filter(|c| c != "help")
        .collect();
    assert!(commands.len() >= 2, "{help}");
    for c in commands {
        let o = support::cmd(t.dir.path())
            .args([c.as_str(), "--help"])
            .output()
            .unwrap();
        assert!(o.status.success());
        let text = support::stdout(&o);
        assert!(text.contains("Example"), "`{c} --help` has no example:\n{text}");
    }
}

/// Every `warp-offload` command in the README's shell and cron examples is accepted by the
/// binary (an unknown flag or a bad value fails `--help`). Lines with `...` are elided examples.
#[test]
fn readme_commands_are_accepted() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let mut checked = 0;
    let mut in_code = false;
    let mut line = String::new();
    for raw in readme.lines() {
        if raw.starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if !in_code {
            continue;
        }
        line.push_str(raw.trim_end_matches('\\'));
        line.push(' ');
        if raw.ends_with('\\') {
            continue;
        }
        let text = std::mem::take(&mut line);
        // A cron entry: drop the five schedule fields.
        let text = match text.split_once("warp-offload") {
            Some((head, _)) if head.split_whitespace().count() >= 5 && head.contains('*') => {
                text[head.len()..].to_string()
            }
            _ => text,
        };
        if text.contains("...") || !text.contains("warp-offload ") {
            continue;
        }
        // `\%` is cron's escape of `%`; variables get a placeholder.
        let text = text.replace("\\%", "%");
        for args in support::warp_offload_args(&text, |_| Some("x".to_string())) {
            if args.first().is_some_and(|a| a.starts_with('-') || a.is_empty()) && args.len() < 2 {
                continue;
            }
            support::assert_accepted(&args);
            checked += 1;
        }
    }
    assert!(checked >= 10, "only {checked} README commands found");
}

/// GitHub's anchor of a Markdown heading: lower case, punctuation dropped, spaces as `-`.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

fn source_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("reading {}: {e}", dir.display())) {
        let path = e.unwrap().path();
        if path.is_dir() {
            source_files(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// Every citation of a doc, `docs/<file>.md` or `docs/<file>.md#<anchor>`, in the sources, tests,
/// scripts, README and docs names a file of `docs/` and, with an anchor, one of its headings.
#[test]
fn docs_citations_resolve() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cite = regex::Regex::new(r"docs/([A-Za-z0-9_]+\.md)(?:#([a-z0-9_-]+))?").unwrap();
    let mut files = vec![root.join("README.md")];
    for dir in ["src", "tests", "scripts", "docs"] {
        source_files(&root.join(dir), &mut files);
    }
    let mut checked = 0;
    let mut broken = Vec::new();
    for file in files {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        for c in cite.captures_iter(&text) {
            checked += 1;
            let doc = root.join("docs").join(&c[1]);
            let Ok(doc_text) = std::fs::read_to_string(&doc) else {
                broken.push(format!("{}: {} does not exist", file.display(), &c[0]));
                continue;
            };
            if let Some(want) = c.get(2) {
                let found = doc_text
                    .lines()
                    .filter_map(|l| l.strip_prefix('#'))
                    .any(|h| anchor(h.trim_start_matches('#')) == want.as_str());
                if !found {
                    broken.push(format!("{}: {} has no such heading", file.display(), &c[0]));
                }
            }
        }
    }
    assert!(broken.is_empty(), "broken citations:\n{}", broken.join("\n"));
    assert!(checked >= 20, "only {checked} citations of docs/ found");
}
