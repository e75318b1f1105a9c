//! How checking scales with the size of a source: one network of N layers
//! (`layer affine 16 -> 16 act relu`, every tenth one named), N from 5,000 to 40,000.
//!
//! Groups (throughput in layers, so criterion prints layers per second):
//! - `compile`: `nn_dsl::compile` of the clean source;
//! - `compile_params`: the same with inline 2×2 parameters on every layer;
//! - `check_path`: what `nndsl check` does minus I/O: UTF-8 decoding, compiling and
//!   rendering the (zero) diagnostics and the closing line;
//! - `compile_errors`: every layer has an unknown activation (`sigmoidd`), so the checker
//!   makes N E005 diagnostics with suggestions;
//! - `render_errors`: the `check_path` of that source, i.e. also rendering the N
//!   diagnostics rustc-style (each rendering sees only the lines it shows; given the
//!   whole source it was quadratic: 86.7 s for 40,000 diagnostics).
//!
//! Run with `cargo bench -p nn-dsl --bench check`; sample sizes and times are small so
//! that the whole run takes about a minute.

use std::fmt::Write as _;
use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkGroup, BenchmarkId, Criterion, Throughput, measurement::WallTime};
use nn_dsl::SourceFile;
use nn_dsl::diag::human::{self, Style};

/// The layer counts of the scaling groups.
const SIZES: [usize; 4] = [5_000, 10_000, 20_000, 40_000];

/// One network of `layers` layers `16 -> 16` with activation `act` and, if `params`,
/// inline 2×2 parameters instead (sizes `2 -> 2`).
fn source(layers: usize, act: &str, params: bool) -> String {
    let (size, block) = if params {
        (
            2,
            " { weight [[0.5, -0.5], [0.25, 1e-3]] bias [0.1, -0.2] }",
        )
    } else {
        (16, "")
    };
    let mut text = format!("// {layers} layers\nnetwork Big {{\n    input {size}\n");
    for i in 0..layers {
        let name = if i % 10 == 0 {
            format!("l{i}: ")
        } else {
            String::new()
        };
        writeln!(
            text,
            "    layer {name}affine {size} -> {size} act {act}{block}"
        )
        .expect("writing to a String cannot fail");
    }
    text.push_str("}\n");
    text
}

/// `nndsl check` on one file minus reading it: decode, compile, render every diagnostic
/// and the closing line, as `nndsl` writes them to stderr.
fn check_path(bytes: &[u8]) -> String {
    let compiled = nn_dsl::compile_bytes(bytes);
    let file = SourceFile::new("big.nn", &compiled.text);
    human::render_all(&compiled.checked.diagnostics, &file, Style::Plain)
}

fn group<'a>(c: &'a mut Criterion, name: &str) -> BenchmarkGroup<'a, WallTime> {
    let mut group = c.benchmark_group(name);
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    group
}

/// Benchmarks `run` on the source of each size in `sizes`, after checking once that it
/// gives `per_layer` diagnostics per layer.
fn scaling(
    c: &mut Criterion,
    name: &str,
    sizes: &[usize],
    make: impl Fn(usize) -> String,
    per_layer: usize,
    run: impl Fn(&str) -> usize,
) {
    let mut group = group(c, name);
    for &layers in sizes {
        let text = make(layers);
        let diagnostics = nn_dsl::compile(&text).diagnostics.len();
        assert_eq!(diagnostics, per_layer * layers, "{name}/{layers}");
        group.throughput(Throughput::Elements(layers as u64));
        group.bench_with_input(BenchmarkId::from_parameter(layers), &text, |b, text| {
            b.iter(|| run(black_box(text)));
        });
    }
    group.finish();
}

fn compile(text: &str) -> usize {
    nn_dsl::compile(text).program.networks.len()
}

fn render(text: &str) -> usize {
    check_path(text.as_bytes()).len()
}

fn benches(c: &mut Criterion) {
    let clean = |layers| source(layers, "relu", false);
    let errors = |layers| source(layers, "sigmoidd", false);
    scaling(c, "compile", &SIZES, clean, 0, compile);
    scaling(
        c,
        "compile_params",
        &[5_000, 40_000],
        |layers| source(layers, "relu", true),
        0,
        compile,
    );
    scaling(c, "check_path", &SIZES, clean, 0, render);
    scaling(c, "compile_errors", &SIZES, errors, 1, compile);
    scaling(c, "render_errors", &SIZES, errors, 1, render);
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    benches(&mut criterion);
    criterion.final_summary();
}
