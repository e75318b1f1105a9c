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

#[test]
fn networks_with_errors_get_stand_ins_with_the_same_signatures() {
    let source = "network Good { layer affine 2 -> 3 }
                  network Bad { layer affine 2 -> 3 act sigmoidd }
                  network Broken { layer affine 2 -> 0 }";
    let (file, checked) = nn_dsl::compile_to_ast(source);
    assert!(checked.has_errors());
    let code = nn_dsl::codegen::emit_fallback(&file, &checked.program, &nn_dsl::codegen::call_site)
        .to_string();
    let file: syn::File = syn::parse2(nn_dsl::codegen::emit_fallback(
        &file,
        &checked.program,
        &nn_dsl::codegen::call_site,
    ))
    .expect("the stand-ins are valid Rust");
    assert_eq!(
        file.items
            .iter()
            .filter(|i| matches!(i, syn::Item::Struct(_)))
            .count(),
        3
    );
    assert!(
        code.contains("pub fn forward (& self , x : & [f32 ; 2]) -> [f32 ; 3]"),
        "{code}"
    );
    assert!(
        code.contains("pub fn forward (& self , _x : & [f32 ; 2]) -> [f32 ; 3]"),
        "{code}"
    );
    assert!(
        code.contains("pub fn forward (& self , _x : & [f32]) -> :: std :: vec :: Vec < f32 >"),
        "{code}"
    );
}
