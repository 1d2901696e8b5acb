//! How a command's after-help text is laid out, for `--help` and the man pages alike.
//!
//! The text is prose, which `--help` re-flows to the terminal's width and man fills, and
//! preformatted sections: a line made of one capitalised word and a colon (`Examples:`,
//! `Faults:`) followed by indented lines, up to the first line that is not indented. Sections
//! are shown exactly as written, never wrapped or hyphenated, so that an example always pastes:
//! `--help` prints them after its text from the help template, the only part of clap's help it
//! does not re-flow; the man pages give each its own section in no-fill mode (`gen_docs`).

use super::Cli;
use clap::{Command, CommandFactory, FromArgMatches};

/// A preformatted section: its title and its lines as written (indented).
#[derive(Debug, PartialEq, Eq)]
pub struct Section {
    pub title: String,
    pub lines: Vec<String>,
}

/// An after-help text taken apart: its prose paragraphs (blank-line separated) and its sections.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct AfterHelp {
    pub prose: String,
    pub sections: Vec<Section>,
}

/// A line that opens a section: `Title:`.
fn heading(line: &str) -> Option<&str> {
    line.strip_suffix(':')
        .filter(|w| w.starts_with(|c: char| c.is_ascii_uppercase()) && w.chars().all(|c| c.is_ascii_alphabetic()))
}

pub fn split(text: &str) -> AfterHelp {
    let mut prose: Vec<&str> = Vec::new();
    let mut sections: Vec<Section> = Vec::new();
    let mut in_section = false;
    for line in text.lines() {
        if let Some(title) = heading(line) {
            sections.push(Section {
                title: title.to_string(),
                lines: Vec::new(),
            });
            in_section = true;
            continue;
        }
        in_section &= line.is_empty() || line.starts_with(' ');
        match sections.last_mut() {
            Some(s) if in_section => s.lines.push(line.to_string()),
            _ => prose.push(line),
        }
    }
    for s in &mut sections {
        while s.lines.last().is_some_and(|l| l.is_empty()) {
            s.lines.pop();
        }
    }
    let paragraphs: Vec<String> = prose
        .split(|l| l.trim().is_empty())
        .filter(|p| !p.is_empty())
        .map(|p| p.join("\n"))
        .collect();
    AfterHelp {
        prose: paragraphs.join("\n\n"),
        sections,
    }
}

/// clap's default help template (clap_builder's `DEFAULT_TEMPLATE`).
const CLAP_TEMPLATE: &str = "{before-help}{about-with-newline}\n{usage-heading} {usage}\n\n{all-args}{after-help}";

/// The help template showing `sections` verbatim after clap's own text. Text in a template is
/// copied as is, except `{tag}`: a known tag would be replaced and text after a `{` with no
/// `}` dropped, so a section must not hold either (checked).
fn template(sections: &[Section], styles: &clap::builder::Styles) -> String {
    let header = styles.get_header();
    let mut t = CLAP_TEMPLATE.to_string();
    for s in sections {
        t.push_str(&format!("\n\n{header}{}:{header:#}", s.title));
        for line in &s.lines {
            assert!(
                template_safe(line),
                "help section {:?}: clap's template would alter the line {line:?}",
                s.title
            );
            t.push('\n');
            t.push_str(line);
        }
    }
    t
}

fn template_safe(line: &str) -> bool {
    line.split('{').skip(1).all(|part| {
        part.split_once('}')
            .is_some_and(|(tag, _)| tag.is_empty() || !tag.chars().all(|c| c.is_ascii_lowercase() || c == '-'))
    })
}

/// Moves the sections of a command's after-help (and of its subcommands') into its template.
fn lay_out(cmd: Command) -> Command {
    let mut cmd = cmd.mut_subcommands(lay_out);
    let Some(text) = cmd.get_after_help().map(|t| t.to_string()) else {
        return cmd;
    };
    let after = split(&text);
    if after.sections.is_empty() {
        return cmd;
    }
    let template = template(&after.sections, cmd.get_styles());
    cmd = cmd.help_template(template);
    if after.prose.is_empty() {
        cmd.after_help(None)
    } else {
        cmd.after_help(unwrap(&after.prose))
    }
}

/// Joins the lines of each paragraph, but for indented ones (lists), so that clap re-flows
/// sentences to the terminal's width instead of breaking each source line on its own.
fn unwrap(prose: &str) -> String {
    let paragraphs: Vec<String> = prose
        .split("\n\n")
        .map(|paragraph| {
            let mut out = String::with_capacity(paragraph.len());
            let mut after_sentence = false;
            for line in paragraph.lines() {
                let sentence = !line.starts_with(' ');
                if !out.is_empty() {
                    out.push(if sentence && after_sentence { ' ' } else { '\n' });
                }
                out.push_str(line);
                after_sentence = sentence;
            }
            out
        })
        .collect();
    paragraphs.join("\n\n")
}

/// The command line as the binary parses it: the derived one, sections laid out for `--help`.
pub fn command() -> Command {
    lay_out(Cli::command())
}

/// Parses the process's arguments (like `Cli::try_parse`, with `command()`), and keeps the
/// command line for the retry commands (`rerun`).
pub fn parse() -> Result<Cli, clap::Error> {
    let mut cmd = command();
    let matches = cmd.try_get_matches_from_mut(std::env::args_os())?;
    let cli = Cli::from_arg_matches(&matches).map_err(|e| e.format(&mut cmd))?;
    crate::rerun::init(&cmd, &matches);
    Ok(cli)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_and_prose_are_told_apart() {
        let text =
            "First line\nstill prose:\n  indented prose\n\nExamples:\n  a {x=1}\n\n  # b\nAfter.\n\nFaults:\n  f\n";
        let a = split(text);
        assert_eq!(a.prose, "First line\nstill prose:\n  indented prose\n\nAfter.");
        assert_eq!(
            a.sections,
            vec![
                Section {
                    title: "Examples".into(),
                    lines: vec!["  a {x=1}".into(), "".into(), "  # b".into()],
                },
                Section {
                    title: "Faults".into(),
                    lines: vec!["  f".into()],
                },
            ]
        );
        assert_eq!(split("Exit codes: 0 ok").sections, vec![]);
    }

    #[test]
    fn template_text_that_clap_would_alter_is_caught() {
        assert!(template_safe("selector 'os.cpu{host=web01}' and {} and {\"a\": 1}"));
        assert!(!template_safe("{usage}"));
        assert!(!template_safe("{\"a\": {\"b\": 1}}"));
        assert!(!template_safe("open {"));
    }

    /// At any width, every section line comes out of `--help` whole, and the prose is still
    /// there (re-flowed).
    #[test]
    fn sections_are_never_wrapped() {
        let raw = Cli::command();
        let laid = command();
        let mut checked = 0;
        for sub in raw.get_subcommands().filter(|s| !s.is_hide_set()) {
            let after = split(&sub.get_after_help().map(|t| t.to_string()).unwrap_or_default());
            let name = sub.get_name();
            for width in [40, 60, 200] {
                let mut cmd = laid.clone();
                cmd.build();
                let sub = cmd.find_subcommand_mut(name).unwrap().clone().term_width(width);
                let help = sub.clone().render_long_help().to_string();
                let lines: Vec<&str> = help.lines().collect();
                for s in &after.sections {
                    assert!(lines.contains(&format!("{}:", s.title).as_str()), "{name}: {help}");
                    for line in &s.lines {
                        assert!(
                            lines.contains(&line.as_str()),
                            "{name} at {width}: {line:?} broken in\n{help}"
                        );
                        checked += 1;
                    }
                }
                let words = |t: &str| t.split_whitespace().map(str::to_string).collect::<Vec<_>>();
                let tail = help.split_once("Options:").map(|(_, t)| t).unwrap_or(&help).to_string();
                for w in words(&after.prose) {
                    assert!(tail.contains(&w), "{name}: prose word {w:?} lost");
                }
            }
        }
        assert!(checked > 100, "only {checked} section lines checked");
    }
}
