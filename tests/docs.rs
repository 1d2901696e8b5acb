//! The checked-in man pages and completions are exactly what the binary generates now.

mod support;

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
    assert!(help.contains("Exit codes: 0 ok, 1 error, 2 usage, 3 some segments failed, 4 integrity mismatch"));
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
