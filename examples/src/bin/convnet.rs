//! Chapter 7 of "Deep Learning from Scratch": the MNIST test set classified by the book's
//! trained SimpleConvNet (`nets/simple_convnet.nn`, `data/simple_convnet.safetensors`):
//! a 5x5 convolution with 30 filters, relu, 2x2 max-pooling, then 4320 -> 100 -> 10.
//!
//! `cargo run --release -p examples --bin convnet` prints the accuracy (0.9890, as the
//! book's code gives for these weights), the accuracy per digit, the confusion matrix,
//! and how many images per second the network classifies one at a time and in batches.
//! `--f64` runs the same network in `f64` (`nets/simple_convnet_f64.nn`) on the
//! original `f64` weights (`data/simple_convnet_f64.npz`). `--help` lists the options.
//! The running and the report are [`examples::report`]'s, shared with `mnist`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use examples::mnist;
use examples::report::{self, Report, TestArgs};
use examples::{SimpleConvNet, SimpleConvNet64};
use nn_runtime::{Affine, Conv2d, Float, MaxPool2d};

/// Classify the MNIST test set with the SimpleConvNet of chapter 7 of "Deep Learning
/// from Scratch" (nets/simple_convnet.nn) and the book's trained weights.
///
/// Prints the accuracy, the accuracy per digit, the confusion matrix, and the throughput
/// of single-sample (`forward`) and batched (`forward_batch`) inference. The defaults
/// are the files shipped in examples/data.
#[derive(Debug, Parser)]
#[command(name = "convnet", version)]
struct Args {
    /// The network's parameters, `W1 b1 W2 b2 W3 b3` (.safetensors or .npz); by default
    /// examples/data/simple_convnet.safetensors, or simple_convnet_f64.npz with --f64.
    #[arg(long, value_name = "FILE")]
    weights: Option<PathBuf>,
    /// Compute in f64 (nets/simple_convnet_f64.nn) instead of f32; the pixels are the
    /// same f32 values, widened.
    #[arg(long)]
    f64: bool,
    #[command(flatten)]
    test: TestArgs,
}

fn main() -> ExitCode {
    report::exit_code(run(&Args::parse()))
}

fn run(args: &Args) -> anyhow::Result<()> {
    report::note_debug_build();
    let weights = match (&args.weights, args.f64) {
        (Some(path), _) => path.clone(),
        (None, false) => mnist::simple_convnet_weights(),
        (None, true) => mnist::simple_convnet_f64_weights(),
    };
    let load = "cannot load the network's weights";
    if args.f64 {
        let net = SimpleConvNet64::load(&weights).context(load)?;
        let (test, available) = args.test.load()?;
        let images = test.images().mapv(f64::from);
        let report = Report {
            network: describe(
                "SimpleConvNet64 (nets/simple_convnet_f64.nn)",
                &net.layer1,
                &net.layer2,
                &net.layer4,
                &net.layer5,
            ),
            weights: &weights,
            test: &args.test,
            available,
        };
        report.run(&net, images.view(), test.labels())
    } else {
        let net = SimpleConvNet::load(&weights).context(load)?;
        let (test, available) = args.test.load()?;
        let report = Report {
            network: describe(
                "SimpleConvNet (nets/simple_convnet.nn)",
                &net.layer1,
                &net.layer2,
                &net.layer4,
                &net.layer5,
            ),
            weights: &weights,
            test: &args.test,
            available,
        };
        report.run(&net, test.images(), test.labels())
    }
}

/// The shapes from layer to layer, the element type, and each layer's kind:
///
/// ```text
/// SimpleConvNet (nets/simple_convnet.nn): 1x28x28 -> 30x24x24 -> 30x12x12 -> 4320 -> 100 -> 10, f32
/// conv 5x5 relu, maxpool 2x2, flatten, affine relu, affine softmax
/// ```
fn describe<T: Float>(
    name: &str,
    conv: &Conv2d<T, 784, 17280>,
    pool: &MaxPool2d<T, 17280, 4320>,
    hidden: &Affine<T, 4320, 100>,
    out: &Affine<T, 100, 10>,
) -> String {
    let shape = |dims: [usize; 3]| format!("{}x{}x{}", dims[0], dims[1], dims[2]);
    let (conv, pool) = (conv.config(), pool.config());
    format!(
        "{name}: {} -> {} -> {} -> 4320 -> 100 -> 10, {}\n\
         conv {}x{} {}, maxpool {}x{}, flatten, affine {}, affine {}",
        shape(conv.input),
        shape(conv.output()),
        shape(pool.output()),
        T::DTYPE,
        conv.kernel[0],
        conv.kernel[1],
        conv.activation,
        pool.size[0],
        pool.size[1],
        hidden.activation(),
        out.activation(),
    )
}
