//! The corpus: every `.nn` file under `tests/corpus/valid/` must check clean, and its
//! IR is pinned by a snapshot; every file under `tests/corpus/diagnostics/` must
//! produce the code its name starts with (`e003_chain.nn` gives E003), and its rendered
//! human and JSON diagnostics are pinned by snapshots.

use std::path::Path;

use nn_dsl::diag::human::{self, Style};
use nn_dsl::{Code, SourceFile};

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// The path as the snapshots show it: relative and with `/`, the same on every machine.
fn display_name(path: &Path) -> String {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .expect("corpus files have UTF-8 names");
    format!("tests/corpus/{name}")
}

#[test]
fn valid_sources_check_clean() {
    insta::glob!("corpus/valid/*.nn", |path| {
        let bytes = read(path);
        let compiled = nn_dsl::compile_bytes(&bytes);
        assert!(
            compiled.checked.diagnostics.is_empty(),
            "{} should check clean, got {:#?}",
            path.display(),
            compiled.checked.diagnostics
        );
        let parsed = nn_dsl::parse(&compiled.text);
        assert_eq!(
            parsed.file.networks.len(),
            compiled.checked.program.networks.len(),
            "every network of a clean source becomes IR"
        );
        insta::assert_debug_snapshot!(compiled.checked.program);
    });
}

#[test]
fn invalid_sources_report_their_code() {
    insta::glob!("corpus/diagnostics/*.nn", |path| {
        let bytes = read(path);
        let compiled = nn_dsl::compile_bytes(&bytes);
        let diagnostics = &compiled.checked.diagnostics;
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("UTF-8 file name");
        if let Some(expected) = Code::parse(&stem[..4.min(stem.len())]) {
            assert!(
                diagnostics.iter().any(|d| d.code == expected),
                "{stem} should report {expected}, got {diagnostics:#?}"
            );
            if expected.severity() == nn_dsl::Severity::Warning {
                assert!(!compiled.checked.has_errors(), "{stem} should only warn");
            }
        }
        assert!(!diagnostics.is_empty(), "{stem} should report something");

        let name = display_name(path);
        let file = SourceFile::new(&name, &compiled.text);
        insta::assert_snapshot!("human", human::render_all(diagnostics, &file, Style::Plain));

        let json: Vec<_> = diagnostics
            .iter()
            .map(|d| nn_dsl::diag::json::to_json(d, &file))
            .collect();
        let json = serde_json::to_string_pretty(&json).expect("diagnostics serialise");
        insta::assert_snapshot!("json", json);
    });
}

/// The acceptance case: a size mismatch, an unknown activation and a bad weight
/// shape are all reported, each at its own token.
#[test]
fn three_mistakes_point_at_their_tokens() {
    let source = std::str::from_utf8(&read(Path::new(
        "tests/corpus/diagnostics/three_mistakes.nn",
    )))
    .expect("UTF-8")
    .to_owned();
    let checked = nn_dsl::compile(&source);
    let at = |code: Code| -> &str {
        let d = checked
            .diagnostics
            .iter()
            .find(|d| d.code == code)
            .unwrap_or_else(|| panic!("no {code} in {:#?}", checked.diagnostics));
        &source[d.span.range()]
    };
    assert_eq!(at(Code::E003), "4");
    assert_eq!(at(Code::E005), "sigmoidd");
    assert_eq!(at(Code::E006), "[[0.1, 0.3], [0.2, 0.4], [0.5, 0.5]]");
    assert_eq!(checked.diagnostics.len(), 3, "{:#?}", checked.diagnostics);
}
