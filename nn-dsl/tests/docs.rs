//! The language reference keeps its promises: every diagnostic entry of
//! `docs/language.md` has a wrong example that produces its code and a fixed example
//! that checks clean, and the README's example output is what `nndsl check` prints.

use nn_dsl::Code;

/// The ```nn code blocks of a reference entry, in order.
fn nn_blocks(entry: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in entry.lines() {
        match (&mut current, line.trim_start()) {
            (None, "```nn") => current = Some(String::new()),
            (Some(block), "```") => {
                blocks.push(std::mem::take(block));
                current = None;
            }
            (Some(block), _) => {
                block.push_str(line);
                block.push('\n');
            }
            (None, _) => {}
        }
    }
    blocks
}

#[test]
fn every_entry_has_a_wrong_and_a_fixed_example_that_behave() {
    for code in Code::ALL {
        let entry = nn_dsl::explain::explain(code);
        let blocks = nn_blocks(entry);
        assert!(
            blocks.len() >= 2,
            "{code}: needs a wrong and a fixed ```nn example"
        );
        let wrong = nn_dsl::compile(&blocks[0]);
        assert!(
            wrong.diagnostics.iter().any(|d| d.code == code),
            "{code}: the wrong example does not produce {code}: {:#?}",
            wrong.diagnostics
        );
        let fixed = nn_dsl::compile(&blocks[1]);
        assert!(
            fixed.diagnostics.is_empty(),
            "{code}: the fixed example is not clean: {:#?}",
            fixed.diagnostics
        );
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
