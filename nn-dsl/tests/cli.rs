//! The `nndsl` binary as a user runs it: exit codes, the JSON shape, several files in
//! one call, unreadable files, `summary` and `explain`.

use std::path::PathBuf;
use std::process::{Command, Output};

fn nndsl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nndsl"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .output()
        .expect("nndsl runs")
}

fn code(output: &Output) -> i32 {
    output.status.code().expect("nndsl exits normally")
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).expect("stderr is UTF-8")
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("stdout is UTF-8")
}

const VALID: &str = "tests/corpus/valid/three_layer.nn";
const INVALID: &str = "tests/corpus/diagnostics/three_mistakes.nn";
const WARNINGS: &str = "tests/corpus/diagnostics/w001_softmax_hidden.nn";

#[test]
fn a_clean_file_prints_nothing_and_exits_0() {
    let output = nndsl(&["check", VALID]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(stderr(&output), "");
    assert_eq!(stdout(&output), "");
}

#[test]
fn warnings_alone_exit_0() {
    let output = nndsl(&["check", WARNINGS]);
    assert_eq!(code(&output), 0);
    let err = stderr(&output);
    assert!(err.contains("warning[W001]"), "{err}");
    assert!(err.contains("warning: 1 warning emitted"), "{err}");
}

#[test]
fn errors_exit_1_and_are_all_reported() {
    let output = nndsl(&["check", INVALID]);
    assert_eq!(code(&output), 1);
    let err = stderr(&output);
    for expected in [
        "error[E003]: this layer takes 4 inputs but 3 values reach it",
        " --> tests/corpus/diagnostics/three_mistakes.nn:7:18",
        "error[E005]: unknown activation `sigmoidd`",
        "= help: did you mean `sigmoid`?",
        "error[E006]: `weight` has 3 rows but this layer has 2 inputs",
        "error: aborting due to 3 previous errors",
    ] {
        assert!(err.contains(expected), "missing {expected:?} in\n{err}");
    }
}

#[test]
fn several_files_in_one_call() {
    let output = nndsl(&["check", VALID, INVALID, WARNINGS]);
    assert_eq!(
        code(&output),
        1,
        "any file with an error makes the exit code 1"
    );
    let err = stderr(&output);
    assert!(err.contains("three_mistakes.nn:7:18"), "{err}");
    assert!(err.contains("w001_softmax_hidden.nn:2:41"), "{err}");
    assert!(
        !err.contains("three_layer.nn"),
        "a clean file adds nothing: {err}"
    );
}

#[test]
fn json_is_one_array_with_the_contract_fields() {
    let output = nndsl(&["check", "--format", "json", INVALID, WARNINGS, VALID]);
    assert_eq!(code(&output), 1);
    let value: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("stdout is JSON");
    let items = value.as_array().expect("a JSON array");
    assert_eq!(items.len(), 4);
    let keys = [
        "file",
        "code",
        "severity",
        "message",
        "line",
        "column",
        "end_line",
        "end_column",
        "labels",
        "help",
    ];
    for item in items {
        let object = item.as_object().expect("objects");
        let mut found: Vec<&str> = object.keys().map(String::as_str).collect();
        found.sort_unstable();
        let mut wanted = keys.to_vec();
        wanted.sort_unstable();
        assert_eq!(found, wanted);
        for label in item["labels"].as_array().expect("labels is an array") {
            let mut found: Vec<&str> = label
                .as_object()
                .expect("label objects")
                .keys()
                .map(String::as_str)
                .collect();
            found.sort_unstable();
            assert_eq!(
                found,
                ["column", "end_column", "end_line", "line", "message"]
            );
        }
    }
    let first = &items[0];
    assert_eq!(first["file"], INVALID);
    assert_eq!(first["code"], "E003");
    assert_eq!(first["severity"], "error");
    assert_eq!(
        (first["line"].as_u64(), first["column"].as_u64()),
        (Some(7), Some(18))
    );
    assert_eq!(
        (first["end_line"].as_u64(), first["end_column"].as_u64()),
        (Some(7), Some(19))
    );
    assert_eq!(items[1]["help"], "did you mean `sigmoid`?");
    assert_eq!(items[3]["severity"], "warning");
    assert_eq!(items[3]["file"], WARNINGS);
}

#[test]
fn json_of_clean_files_is_an_empty_array() {
    let output = nndsl(&["check", "--format", "json", VALID]);
    assert_eq!(code(&output), 0);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&stdout(&output)).ok(),
        Some(serde_json::json!([]))
    );
}

#[test]
fn columns_count_characters_not_bytes() {
    let dir = tempdir("columns");
    let file = dir.join("accents.nn");
    std::fs::write(
        &file,
        "/* réseau é */ network Net { layer affine 2 -> 3 act sigmoidd }",
    )
    .expect("write");
    let output = nndsl(&[
        "check",
        "--format",
        "json",
        file.to_str().expect("UTF-8 path"),
    ]);
    let value: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("JSON");
    // `sigmoidd` starts at character 54 (byte 56).
    assert_eq!(value[0]["code"], "E005");
    assert_eq!(value[0]["column"].as_u64(), Some(54));
    assert_eq!(value[0]["end_column"].as_u64(), Some(62));
}

#[test]
fn a_missing_file_or_a_directory_exits_2_with_one_line() {
    for (path, reason) in [
        ("no/such/file.nn", "no such file"),
        ("tests", "is a directory"),
    ] {
        let output = nndsl(&["check", path]);
        assert_eq!(code(&output), 2, "{path}");
        let err = stderr(&output);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(path) && err.contains(reason), "{err}");
    }
    // An unreadable file wins over errors in the others, and the others are still checked.
    let output = nndsl(&["check", INVALID, "no/such/file.nn"]);
    assert_eq!(code(&output), 2);
    assert!(stderr(&output).contains("error[E003]"));
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(code(&nndsl(&["check"])), 2);
    assert_eq!(code(&nndsl(&["check", "--format", "xml", VALID])), 2);
    assert_eq!(code(&nndsl(&["frobnicate"])), 2);
}

#[test]
fn a_file_that_is_not_utf8_is_e001() {
    let output = nndsl(&["check", "tests/corpus/diagnostics/e001_not_utf8.nn"]);
    assert_eq!(code(&output), 1);
    assert!(stderr(&output).contains("error[E001]: the file is not valid UTF-8"));
}

#[test]
fn summary_prints_the_layer_table() {
    let output = nndsl(&["summary", "tests/corpus/valid/mnist.nn"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    insta::assert_snapshot!(stdout(&output));
}

/// Every kind and option: the kind column spells the options, layers without
/// parameters or activation show `-`, conv multiply-adds are `F·H'·W'·C·Kh·Kw`.
#[test]
fn summary_of_conv_networks_shows_shapes_and_options() {
    let output = nndsl(&["summary", "tests/corpus/valid/conv_options.nn"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    insta::assert_snapshot!(stdout(&output));
}

#[test]
fn summary_of_a_broken_file_reports_and_exits_1() {
    let output = nndsl(&["summary", INVALID]);
    assert_eq!(code(&output), 1);
    assert_eq!(stdout(&output), "");
    assert!(stderr(&output).contains("error[E005]"));
}

#[test]
fn explain_prints_the_reference_entry() {
    let output = nndsl(&["explain", "E003"]);
    assert_eq!(code(&output), 0);
    assert!(
        stdout(&output).starts_with("### E003"),
        "{}",
        stdout(&output)
    );
    let lower = nndsl(&["explain", "w001"]);
    assert!(stdout(&lower).starts_with("### W001"));
    let unknown = nndsl(&["explain", "E999"]);
    assert_eq!(code(&unknown), 2);
    assert!(stderr(&unknown).contains("E999"));
}

fn tempdir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}
