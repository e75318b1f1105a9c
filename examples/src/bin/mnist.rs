//! Chapter 3 of "Deep Learning from Scratch": the MNIST test set classified by the book's
//! trained 784-50-100-10 network (`nets/mnist.nn`, `data/sample_weight.safetensors`).
//!
//! `cargo run --release -p examples --bin mnist` prints the accuracy (the book's 0.9352),
//! the accuracy per digit, the confusion matrix, and how many images per second the
//! network classifies one at a time and in batches. `--help` lists the options. The
//! running and the report are [`examples::report`]'s, shared with `convnet`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use examples::Mnist;
use examples::mnist;
use examples::report::{self, Report, TestArgs};

/// Classify the MNIST test set with the network of chapter 3 of "Deep Learning from
/// Scratch" (nets/mnist.nn) and the book's trained weights.
///
/// Prints the accuracy, the accuracy per digit, the confusion matrix, and the throughput
/// of single-sample (`forward`) and batched (`forward_batch`) inference. The defaults
/// are the files shipped in examples/data.
#[derive(Debug, Parser)]
#[command(name = "mnist", version)]
struct Args {
    /// The network's parameters, `W1 b1 W2 b2 W3 b3` (.safetensors or .npz).
    #[arg(long, value_name = "FILE", default_value_os_t = mnist::default_weights())]
    weights: PathBuf,
    #[command(flatten)]
    test: TestArgs,
}

fn main() -> ExitCode {
    report::exit_code(run(&Args::parse()))
}

fn run(args: &Args) -> anyhow::Result<()> {
    report::note_debug_build();
    let net = Mnist::load(&args.weights).context("cannot load the network's weights")?;
    let (test, available) = args.test.load()?;
    let report = Report {
        network: format!(
            "Mnist (nets/mnist.nn): 784 -> 50 -> 100 -> 10, {}, {}, {}",
            net.layer1.activation(),
            net.layer2.activation(),
            net.layer3.activation(),
        ),
        weights: &args.weights,
        test: &args.test,
        available,
    };
    report.run(&net, test.images(), test.labels())
}
