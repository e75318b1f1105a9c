//! The macro's expansion without a compiler: which form is taken, what an error
//! becomes, that the fallback keeps every network, and that a file is tracked.

use std::path::{Path, PathBuf};

use proc_macro2::TokenStream;

use super::{expand, expand_in};

fn tokens(text: &str) -> TokenStream {
    text.parse().expect("valid Rust tokens")
}

fn inline(text: &str) -> String {
    expand_in(tokens(text), Path::new(".")).to_string()
}

/// A fresh directory with `files` written into it.
fn crate_dir(name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("nn-dsl-expansion-{}-{name}", std::process::id()));
    for (path, text) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().expect("a file in a directory"))
            .expect("create the test directory");
        std::fs::write(&path, text).expect("write a test file");
    }
    dir
}

#[test]
fn a_clean_source_becomes_its_networks() {
    let code = inline("network Tiny { layer affine 2 -> 1 act sigmoid }");
    assert!(code.contains("pub struct Tiny"), "{code}");
    assert!(!code.contains("compile_error"), "{code}");
    assert!(!code.contains("unimplemented"), "{code}");
}

#[test]
fn an_error_is_a_compile_error_and_every_network_still_stands() {
    let code = inline(
        "network Good { layer affine 2 -> 3 }
         network Bad { layer conv 1x8x8 -> 4x7x7 kernel 3 act relu }",
    );
    assert!(code.contains("compile_error"), "{code}");
    assert!(
        code.contains("E003: this `conv` layer gives `4x6x6`, not `4x7x7`"),
        "{code}"
    );
    // The help travels with the message (a proc macro has no `= help:` line).
    assert!(
        code.contains("help: 4 filters; height (8 + 2·0 − 3) / 1 + 1 = 6"),
        "{code}"
    );
    assert!(code.contains("pub struct Good"), "{code}");
    assert!(code.contains("pub struct Bad"), "{code}");
    // The stand-in keeps the signature the checker could establish.
    assert!(
        code.contains("INPUT_SHAPE : & 'static [usize] = & [1 , 8 , 8]"),
        "{code}"
    );
    assert!(code.contains("unimplemented"), "{code}");
}

#[test]
fn a_label_says_where_it_points() {
    let code = inline("network N {\n layer affine 2 -> 3\n layer affine 4 -> 1\n}");
    assert!(
        code.contains("E003: this layer takes 4 inputs but 3 values reach it"),
        "{code}"
    );
    // The label on `3` of line 2: its line and column come from the token's span.
    assert!(
        code.contains("note: the previous layer gives 3 values (line 2, column 20)"),
        "{code}"
    );
}

#[test]
fn a_warning_is_a_deprecated_constant() {
    let code = inline("network tiny { layer affine 2 -> 1 }");
    assert!(code.contains("deprecated"), "{code}");
    assert!(code.contains("W002"), "{code}");
    assert!(code.contains("pub struct tiny"), "{code}");
}

#[test]
fn the_file_form_reads_relative_to_the_crate_and_tracks_the_file() {
    let dir = crate_dir(
        "clean",
        &[("nets/tiny.nn", "network Tiny { layer affine 2 -> 1 }")],
    );
    let code = expand_in(tokens(r#"file = "nets/tiny.nn""#), &dir).to_string();
    assert!(code.contains("include_bytes"), "{code}");
    assert!(code.contains("tiny.nn"), "{code}");
    assert!(code.contains("pub struct Tiny"), "{code}");
}

#[test]
fn an_error_in_a_file_quotes_its_place_and_still_tracks_it() {
    let dir = crate_dir(
        "error",
        &[(
            "net.nn",
            "network Net {\n    layer affine 2 -> 3 act rleu\n}\n",
        )],
    );
    let code = expand_in(tokens(r#"file = "net.nn""#), &dir).to_string();
    assert!(code.contains("E005: unknown activation `rleu`"), "{code}");
    assert!(code.contains("--> net.nn:2:29"), "{code}");
    assert!(code.contains("include_bytes"), "{code}");
    assert!(code.contains("pub struct Net"), "{code}");
}

#[test]
fn a_missing_file_or_a_malformed_argument_is_an_error() {
    let dir = crate_dir("missing", &[]);
    let code = expand_in(tokens(r#"file = "nope.nn""#), &dir).to_string();
    assert!(code.contains("cannot read `nope.nn`"), "{code}");
    let code = expand_in(tokens("file = 3"), &dir).to_string();
    assert!(code.contains("compile_error"), "{code}");
    let code = expand_in(tokens(r#"file = "a.nn" extra"#), &dir).to_string();
    assert!(code.contains("expected nothing after the path"), "{code}");
}

#[test]
fn without_cargo_the_file_form_reads_from_the_working_directory() {
    // `expand` outside cargo: no CARGO_MANIFEST_DIR set by a build script here either
    // way, so only check that it does not panic and reports the missing file.
    let code = expand(tokens(r#"file = "surely/not/here.nn""#)).to_string();
    assert!(code.contains("cannot read `surely/not/here.nn`"), "{code}");
}
