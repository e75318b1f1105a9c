//! Chapter 6 of "Deep Learning from Scratch" (figure 6-9): SGD, Momentum, AdaGrad and
//! Adam train the same five-layer network (`nets/multi_layer.nn`, 784-100-100-100-100-10
//! relu, He initialisation) on the same minibatches of 128 MNIST training images.
//!
//! `cargo run --release -p examples --bin optimizers` prints each optimizer's loss every
//! 100 iterations, as the book's `optimizer_compare_mnist.py` does, and the test
//! accuracy after the 2,000 iterations, and draws the smoothed losses to
//! `target/optimizers.svg`. `--help` lists the options.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use examples::MultiLayer;
use examples::plot::{self, Chart, Series};
use examples::report;
use examples::training::{self, Batches, Classifier, TrainingData};
use nn_runtime::Optimizer;
use nn_runtime::optim::{AdaGrad, Adam, Momentum, Sgd};

/// Compare SGD, Momentum, AdaGrad and Adam on MNIST (chapter 6 of "Deep Learning from
/// Scratch", figure 6-9).
#[derive(Debug, Parser)]
#[command(name = "optimizers", version)]
struct Args {
    /// Training steps per optimizer.
    #[arg(long, value_name = "N", default_value = "2000")]
    iterations: usize,
    /// Images per minibatch.
    #[arg(long, value_name = "N", default_value = "128", value_parser = report::at_least_one)]
    batch_size: std::num::NonZeroUsize,
    /// Seeds the initialisation (the same for all four) and the minibatch draws.
    #[arg(long, default_value = "1")]
    seed: u64,
    /// Where to draw the loss curves.
    #[arg(long, value_name = "FILE", default_value = "target/optimizers.svg")]
    plot: PathBuf,
}

/// An optimizer's name, itself, the network it trains and its loss per iteration.
type Contender = (&'static str, Box<dyn Optimizer<f32>>, MultiLayer, Vec<f32>);

fn main() -> ExitCode {
    report::exit_code(run(Args::parse()))
}

fn run(args: Args) -> anyhow::Result<()> {
    report::note_debug_build();
    let data = TrainingData::open_default().context("cannot load MNIST")?;
    let contender = |name, optimizer| -> Contender {
        (name, optimizer, MultiLayer::random(args.seed), Vec::new())
    };
    let mut runs = vec![
        contender("SGD", Box::new(Sgd::new(0.01))),
        contender("Momentum", Box::new(Momentum::new(0.01, 0.9))),
        contender("AdaGrad", Box::new(AdaGrad::new(0.01))),
        contender("Adam", Box::new(Adam::new(0.001))),
    ];
    println!(
        "{}: {} parameters; {} iterations of batches of {} per optimizer, seed {}",
        <MultiLayer as Classifier>::NAME,
        report::thousands(MultiLayer::PARAMETERS),
        args.iterations,
        args.batch_size,
        args.seed
    );
    println!("SGD lr 0.01, Momentum lr 0.01 momentum 0.9, AdaGrad lr 0.01, Adam lr 0.001\n");
    println!(" iteration |      SGD | Momentum |  AdaGrad |     Adam");
    println!("-----------|----------|----------|----------|---------");
    let mut batches = Batches::new(args.batch_size.get(), MultiLayer::INPUT, args.seed);
    for iteration in 0..args.iterations {
        // Every optimizer sees the same minibatch.
        let (x, labels) = batches.next(&data.train);
        for (_, optimizer, network, losses) in &mut runs {
            losses.push(network.train_step(x, labels, optimizer.as_mut())?);
        }
        if iteration % 100 == 0 || iteration + 1 == args.iterations {
            let cells: Vec<String> = runs
                .iter()
                .map(|(_, _, _, losses)| format!("{:>8.4}", losses[iteration]))
                .collect();
            println!(" {iteration:>9} | {}", cells.join(" | "));
        }
    }
    println!();
    for (name, _, network, losses) in &runs {
        let tail = &losses[losses.len().saturating_sub(100)..];
        println!(
            "{name:>8}: mean loss of the last {} iterations {:.4}, test accuracy {:.4}",
            tail.len(),
            tail.iter().map(|&l| f64::from(l)).sum::<f64>() / tail.len().max(1) as f64,
            training::accuracy(network, &data.test)?
        );
    }
    let chart = Chart {
        title: "MNIST, 5 layers: loss per iteration (smoothed)".into(),
        x_label: "iterations".into(),
        y_label: "loss".into(),
        series: runs
            .iter()
            .map(|(name, _, _, losses)| Series {
                name: (*name).to_owned(),
                points: smooth(losses)
                    .into_iter()
                    .enumerate()
                    .map(|(i, l)| (i as f64, l))
                    .collect(),
            })
            .collect(),
    };
    plot::write_svg(&args.plot, &[chart], 800)?;
    println!("\nplot: {}", report::shown(&args.plot));
    Ok(())
}

/// The book's `smooth_curve`: a moving average over 11 iterations (the book weights
/// it with a Kaiser window; a plain mean shows the same order of the curves).
fn smooth(losses: &[f32]) -> Vec<f64> {
    let window = 11;
    (0..losses.len())
        .map(|i| {
            let start = i.saturating_sub(window / 2);
            let end = (i + window / 2 + 1).min(losses.len());
            let part = &losses[start..end];
            part.iter().map(|&l| f64::from(l)).sum::<f64>() / part.len() as f64
        })
        .collect()
}
