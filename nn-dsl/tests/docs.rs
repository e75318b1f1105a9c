//! The language reference keeps its promises: every diagnostic entry of
//! `docs/language.md` shows pairs of a wrong example that produces its code and a fixed
//! example that checks clean, every example outside the diagnostics checks clean unless
//! it is presented as wrong, and the README's example output is what `nndsl check`
//! prints.

use nn_dsl::Code;

/// A ```nn code block of the reference.
struct Block {
    /// The last non-blank line before the block's opening fence, trimmed ("Wrong:",
    /// "Fixed:", or a sentence), or "" when there is none.
    label: String,
    /// The source inside the fences.
    source: String,
    /// The 1-based line of the opening fence within the text the block was taken from.
    line: usize,
}

/// The ```nn code blocks of a part of the reference, in order.
fn nn_blocks(text: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut current: Option<Block> = None;
    let mut last_text_line = "";
    for (index, line) in text.lines().enumerate() {
        match (&mut current, line.trim()) {
            (None, "```nn") => {
                current = Some(Block {
                    label: last_text_line.to_owned(),
                    source: String::new(),
                    line: index + 1,
                });
            }
            (Some(_), "```") => blocks.extend(current.take()),
            (Some(block), _) => {
                block.source.push_str(line);
                block.source.push('\n');
            }
            (None, "") => {}
            (None, trimmed) => last_text_line = trimmed,
        }
    }
    assert!(current.is_none(), "a ```nn block is not closed");
    blocks
}

/// What is wrong with the examples of the reference entry `entry` of `code`: they must
/// come in pairs, each of a "Wrong:" example that produces `code` and a "Fixed:"
/// example that checks clean, without even a warning.
fn entry_problems(code: Code, entry: &str) -> Vec<String> {
    let blocks = nn_blocks(entry);
    let mut problems = Vec::new();
    if blocks.len() < 2 {
        problems.push(format!("{code}: needs a wrong and a fixed ```nn example"));
    }
    if !blocks.len().is_multiple_of(2) {
        problems.push(format!(
            "{code}: {} ```nn examples, not pairs of a wrong and a fixed one",
            blocks.len()
        ));
    }
    for (index, examples) in blocks.chunks_exact(2).enumerate() {
        let (wrong, fixed) = (&examples[0], &examples[1]);
        let pair = index + 1;
        if !wrong.label.starts_with("Wrong") {
            problems.push(format!(
                "{code}, pair {pair}: the first example is presented as {:?}, not \"Wrong:\"",
                wrong.label
            ));
        }
        if !fixed.label.starts_with("Fixed") {
            problems.push(format!(
                "{code}, pair {pair}: the second example is presented as {:?}, not \"Fixed:\"",
                fixed.label
            ));
        }
        let diagnostics = nn_dsl::compile(&wrong.source).diagnostics;
        if !diagnostics.iter().any(|d| d.code == code) {
            problems.push(format!(
                "{code}, pair {pair}: the wrong example does not produce {code}:\n{}{diagnostics:#?}",
                wrong.source
            ));
        }
        let diagnostics = nn_dsl::compile(&fixed.source).diagnostics;
        if !diagnostics.is_empty() {
            problems.push(format!(
                "{code}, pair {pair}: the fixed example is not clean:\n{}{diagnostics:#?}",
                fixed.source
            ));
        }
    }
    problems
}

#[test]
fn every_entry_has_wrong_and_fixed_examples_in_pairs_that_behave() {
    let problems: Vec<String> = Code::ALL
        .into_iter()
        .flat_map(|code| entry_problems(code, nn_dsl::explain::explain(code)))
        .collect();
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

#[test]
fn an_entry_with_an_odd_number_of_examples_or_a_pair_that_misbehaves_fails() {
    let pair = "Wrong:\n\n```nn\nnetwork A {\n```\n\nFixed:\n\n```nn\nnetwork A { layer affine 1 -> 1 }\n```\n\n";
    let good = format!("### E001: syntax error\n\n{pair}");
    assert_eq!(entry_problems(Code::E001, &good), Vec::<String>::new());

    let odd = format!("{good}Wrong:\n\n```nn\nnetwork B {{\n```\n");
    let problems = entry_problems(Code::E001, &odd);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains("not pairs"), "{problems:?}");

    // The same pair under another code: its wrong example does not produce E002.
    assert_eq!(entry_problems(Code::E002, &good).len(), 1);

    let swapped = "Wrong:\n\n```nn\nnetwork A { layer affine 1 -> 1 }\n```\n\nFixed:\n\n```nn\nnetwork A {\n```\n";
    assert_eq!(entry_problems(Code::E001, swapped).len(), 2);

    let unlabelled = pair.replace("Fixed:", "Then:");
    assert_eq!(entry_problems(Code::E001, &unlabelled).len(), 1);
}

/// Outside the diagnostics, the reference presents an example that does not check by a
/// line starting with "Wrong" right before it (as the diagnostic entries do); every
/// other example must check clean, without even a warning.
#[test]
fn the_examples_of_the_reference_check_clean_unless_presented_as_wrong() {
    let reference = nn_dsl::explain::LANGUAGE_REFERENCE;
    let (body, _) = reference
        .split_once("\n## Diagnostics\n")
        .expect("the reference has a \"## Diagnostics\" section");
    let blocks = nn_blocks(body);
    assert!(!blocks.is_empty(), "the reference shows no ```nn example");
    for block in blocks {
        let diagnostics = nn_dsl::compile(&block.source).diagnostics;
        if block.label.starts_with("Wrong") {
            assert!(
                !diagnostics.is_empty(),
                "docs/language.md:{}: the example presented as wrong checks clean:\n{}",
                block.line,
                block.source
            );
        } else {
            assert!(
                diagnostics.is_empty(),
                "docs/language.md:{}: the example is not clean:\n{}{:#?}",
                block.line,
                block.source,
                diagnostics
            );
        }
    }
}

#[test]
fn the_readme_shows_what_nndsl_check_prints() {
    let workspace = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let readme = std::fs::read_to_string(workspace.join("README.md")).expect("README.md");
    let command = "$ nndsl check ";
    let start = readme
        .find(command)
        .expect("the README shows an `nndsl check` run");
    let run = &readme[start..];
    let end = run.find("\n```").expect("the run ends with the code block");
    let (first_line, shown) = run[..end]
        .split_once('\n')
        .expect("output follows the command");
    let path = &first_line[command.len()..];

    let output = std::process::Command::new(env!("CARGO_BIN_EXE_nndsl"))
        .args(["check", path])
        .current_dir(&workspace)
        .env("NO_COLOR", "1")
        .output()
        .expect("nndsl runs");
    let printed = String::from_utf8(output.stderr).expect("UTF-8");
    assert_eq!(printed.trim_end(), shown.trim_end());
}
