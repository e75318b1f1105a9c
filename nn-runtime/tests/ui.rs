//! Compile-fail tests of `network!`: every error code in inline form, errors in `.nn`
//! files, a missing file, a type error at a call, a warning made an error. Each
//! `.stderr` shows where rustc puts the caret: under the offending DSL token.
//!
//! To accept changed output after reading it: `TRYBUILD=overwrite cargo test -p
//! nn-runtime --test ui`.

use std::path::{Path, PathBuf};

#[test]
fn ui() {
    link_nets_into_trybuild_project();
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}

/// trybuild compiles the cases as a crate of its own under
/// `target/tests/trybuild/nn-runtime`, whose manifest directory is what
/// `network!(file = "nets/...")` resolves against: give it the `nets` the cases use.
fn link_nets_into_trybuild_project() {
    let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("CARGO_TARGET_TMPDIR is target/tmp")
        .to_path_buf();
    let project: PathBuf = target
        .join("tests")
        .join("trybuild")
        .join(env!("CARGO_PKG_NAME"));
    std::fs::create_dir_all(&project).expect("create the trybuild project directory");
    let nets = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ui/nets");
    let link = project.join("nets");
    let _ = std::fs::remove_file(&link);
    let _ = std::fs::remove_dir_all(&link);
    std::os::unix::fs::symlink(&nets, &link).expect("link tests/ui/nets into the trybuild project");
}
