//! The compiler of the `.nn` network-definition language: grammar, parser, checker,
//! diagnostics and the code generator behind `network!`.
//!
//! The pipeline runs one way: [`parse`] gives an [`ast::File`] with spans, [`check()`]
//! turns it into the [`ir::Program`] and collects [`Diagnostic`]s, which
//! [`diag::human`] renders like rustc and `diag::json` as JSON. [`compile`] and
//! [`compile_bytes`] run the whole front end; [`codegen`] turns the IR into Rust, and
//! [`expansion`] is the whole `network!` macro as a function of its tokens.
//!
//! ```
//! let checked = nn_dsl::compile(
//!     "network ThreeLayer {
//!          layer affine 2 -> 3 act sigmoid
//!          layer affine 3 -> 2 act sigmoid
//!          layer affine 2 -> 2
//!      }",
//! );
//! assert!(checked.diagnostics.is_empty());
//! let network = &checked.program.networks[0];
//! assert_eq!((network.input.len(), network.output.len()), (2, 2));
//! assert_eq!(network.layers[2].tensors[0].name, "W3");
//! ```

pub mod ast;
pub mod check;
pub mod codegen;
pub mod diag;
pub mod expansion;
pub mod explain;
pub mod ir;
mod parser;
mod source;
pub mod span;
pub mod summary;

pub use check::{Checked, check};
pub use diag::{Code, Diagnostic, Label, Severity};
pub use parser::{Parsed, parse};
pub use source::{Compiled, compile, compile_bytes};
pub use span::{LineCol, LineIndex, SourceFile, Span};
