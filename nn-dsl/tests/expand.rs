//! The generated code, pinned: `nndsl expand` of the book's networks and of one network
//! per activation. Read a changed snapshot as you would read the code it shows.

use std::path::Path;

fn expand(path: &Path) -> String {
    let source =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let checked = nn_dsl::compile(&source);
    assert!(
        checked.diagnostics.is_empty(),
        "{}: {:#?}",
        path.display(),
        checked.diagnostics
    );
    nn_dsl::codegen::expand(&checked.program)
}

#[test]
fn the_books_networks() {
    insta::glob!("../../examples/nets", "*.nn", |path| {
        insta::assert_snapshot!(expand(path));
    });
}

#[test]
fn one_network_per_activation() {
    insta::assert_snapshot!(expand(Path::new("tests/expand/activations.nn")));
}

/// Each network with errors gets a stand-in with the real signatures where its sizes
/// are known (`Bad`: the same `forward` as `Good`), slices where they are not
/// (`Broken`), and a redefinition (`Good` again) none. The snapshot shows them whole.
#[test]
fn networks_with_errors_get_stand_ins_with_the_same_signatures() {
    let source = "network Good { layer affine 2 -> 3 }
                  network Bad { layer affine 2 -> 3 act sigmoidd }
                  network Broken { layer affine 2 -> 0 }
                  network Good { layer affine 5 -> 1 }";
    let checked = nn_dsl::compile(source);
    assert!(checked.has_errors());
    let tokens = nn_dsl::codegen::emit_fallback(&checked, &nn_dsl::codegen::call_site);
    let file: syn::File = syn::parse2(tokens).expect("the stand-ins are valid Rust");
    let structs: Vec<String> = file
        .items
        .iter()
        .filter_map(|item| match item {
            syn::Item::Struct(s) => Some(s.ident.to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(
        structs,
        [
            "Good",
            "GoodGradients",
            "Bad",
            "BadGradients",
            "Broken",
            "BrokenGradients"
        ]
    );
    insta::assert_snapshot!(prettyplease::unparse(&file));
}

/// Names that break Rust's conventions (W002) get the `#[allow]` that silences rustc's
/// own lints about them, since W002 has said it already.
#[test]
fn unconventional_names_are_allowed() {
    let checked = nn_dsl::compile("network xor_net { layer Hidden: affine 2 -> 1 act step }");
    assert!(!checked.has_errors());
    insta::assert_snapshot!(nn_dsl::codegen::expand(&checked.program));
}

/// Every layer kind with every option, inline parameters included: the conv weights
/// become a flat `[F·C·Kh·Kw]` literal in OIHW order.
#[test]
fn one_network_per_kind() {
    insta::assert_snapshot!(expand(Path::new("tests/corpus/valid/conv_options.nn")));
}
