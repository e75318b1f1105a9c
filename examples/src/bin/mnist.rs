//! Chapter 3 of "Deep Learning from Scratch": the MNIST test set classified by the book's
//! trained 784-50-100-10 network (`nets/mnist.nn`, `data/sample_weight.safetensors`).
//!
//! `cargo run --release -p examples --bin mnist` prints the accuracy (the book's 0.9352),
//! the accuracy per digit, the confusion matrix, and how many images per second the
//! network classifies one at a time and in batches. `--help` lists the options.

use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use examples::Mnist;
use examples::eval::{Evaluation, Inference, predict};
use examples::idx::{Images, Labels};
use examples::mnist::{self, CLASSES, TestSet};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

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
    /// The images, a gzipped IDX file of 28x28 bytes per image.
    #[arg(long, value_name = "FILE", default_value_os_t = mnist::default_images())]
    images: PathBuf,
    /// The labels, a gzipped IDX file of one byte (0 to 9) per image.
    #[arg(long, value_name = "FILE", default_value_os_t = mnist::default_labels())]
    labels: PathBuf,
    /// Images per batch for batched inference.
    #[arg(long, value_name = "N", default_value = "100", value_parser = at_least_one)]
    batch_size: NonZeroUsize,
    /// Classify only the first N images.
    #[arg(long, value_name = "N", value_parser = at_least_one)]
    limit: Option<NonZeroUsize>,
}

fn at_least_one(text: &str) -> Result<NonZeroUsize, String> {
    let n: usize = text
        .parse()
        .map_err(|_| format!("`{text}` is not a whole number"))?;
    NonZeroUsize::new(n).ok_or_else(|| "it must be at least 1".to_owned())
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // `{:#}`: the error and its causes on one line, `what: why: ...`.
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> anyhow::Result<()> {
    if cfg!(debug_assertions) {
        eprintln!("note: a debug build is slow; for real throughput, run with --release");
    }
    let net = Mnist::load(&args.weights).context("cannot load the network's weights")?;
    // Each file on its own, so that the message says which one failed; then whether
    // they fit each other and the network.
    let mut test = {
        let images = Images::open(&args.images).context("cannot load the images")?;
        let labels = Labels::open(&args.labels).context("cannot load the labels")?;
        TestSet::new(&images, &labels).context("cannot load the test set")?
    };
    let available = test.len();
    if let Some(limit) = args.limit {
        test.truncate(limit.get());
    }
    let n = test.len();

    let parameters = Mnist::PARAMETERS;
    println!(
        "network   Mnist (nets/mnist.nn): 784 -> 50 -> 100 -> 10, {}, {}, {}; {} parameters",
        net.layer1.activation(),
        net.layer2.activation(),
        net.layer3.activation(),
        thousands(parameters),
    );
    println!("weights   {}", shown(&args.weights));
    println!("images    {}", shown(&args.images));
    println!("labels    {}", shown(&args.labels));
    if n < available {
        println!(
            "test set  the first {} of {} images",
            thousands(n),
            thousands(available)
        );
    } else {
        println!("test set  {} images", thousands(n));
    }
    println!();

    let (single, single_time) = timed(&net, &test, Inference::Single, "one at a time")?;
    let batched = Inference::Batched(args.batch_size);
    let (batch_predictions, batch_time) = timed(&net, &test, batched, "in batches")?;

    let result = Evaluation::new(CLASSES, test.labels(), single)?;
    let confusion = &result.confusion;
    let differ = result
        .predictions
        .iter()
        .zip(&batch_predictions)
        .filter(|(a, b)| a != b)
        .count();
    println!(
        "accuracy  {}  ({} of {} images correct)",
        fraction(confusion.accuracy()),
        thousands(confusion.correct()),
        thousands(confusion.total()),
    );
    if differ == 0 {
        println!("          single-sample and batched inference agree on every image");
    } else {
        let other = Evaluation::new(CLASSES, test.labels(), batch_predictions)?;
        println!(
            "          batched: {} ({} images classified differently)",
            fraction(other.confusion.accuracy()),
            thousands(differ),
        );
    }
    let first: Vec<String> = result
        .misclassified
        .iter()
        .take(10)
        .map(usize::to_string)
        .collect();
    if !first.is_empty() {
        println!("          first misclassified images: {}", first.join(", "));
    }
    println!();

    println!("digit   images   correct   accuracy");
    for digit in 0..CLASSES {
        println!(
            "{digit:>5}   {:>6}   {:>7}   {:>8}",
            thousands(confusion.label_total(digit)),
            thousands(confusion.label_correct(digit)),
            fraction(confusion.label_accuracy(digit)),
        );
    }
    println!(
        "  all   {:>6}   {:>7}   {:>8}",
        thousands(confusion.total()),
        thousands(confusion.correct()),
        fraction(confusion.accuracy()),
    );
    println!();

    let width = (0..CLASSES)
        .flat_map(|l| (0..CLASSES).map(move |p| (l, p)))
        .map(|(l, p)| confusion.count(l, p).to_string().len())
        .max()
        .unwrap_or(1)
        .max(3);
    println!("confusion matrix: a row per true digit, a column per predicted digit");
    print!("true ");
    for p in 0..CLASSES {
        print!(" {p:>width$}");
    }
    println!();
    for l in 0..CLASSES {
        print!("{l:>5}");
        for p in 0..CLASSES {
            let count = confusion.count(l, p);
            if count == 0 && l != p {
                print!(" {:>width$}", ".");
            } else {
                print!(" {count:>width$}");
            }
        }
        println!();
    }
    println!();

    println!("throughput");
    println!(
        "  single-sample  forward          {:>6} images in {:>9}   {:>11} images/s",
        thousands(n),
        duration(single_time),
        thousands(per_second(n, single_time)),
    );
    println!(
        "  batched        forward_batch    {:>6} images in {:>9}   {:>11} images/s   (batches of {})",
        thousands(n),
        duration(batch_time),
        thousands(per_second(n, batch_time)),
        args.batch_size,
    );
    Ok(())
}

/// Classifies the test set, with a progress bar if that takes more than a moment.
fn timed(
    net: &Mnist,
    test: &TestSet,
    how: Inference,
    label: &'static str,
) -> anyhow::Result<(Vec<usize>, Duration)> {
    let mut progress = Progress::new(test.len(), label);
    let start = Instant::now();
    let predictions = predict(net, test.images(), how, |done| progress.advance(done))?;
    let elapsed = start.elapsed();
    progress.finish();
    Ok((predictions, elapsed))
}

/// A progress bar on stderr that appears only once a run has taken more than a moment,
/// and never when stderr is not a terminal.
struct Progress {
    bar: ProgressBar,
    start: Instant,
    shown: bool,
}

impl Progress {
    /// How long a run may take before the bar appears.
    const MOMENT: Duration = Duration::from_millis(300);

    fn new(len: usize, label: &'static str) -> Progress {
        let bar = ProgressBar::with_draw_target(Some(len as u64), ProgressDrawTarget::hidden());
        let style = ProgressStyle::with_template(
            "{prefix:>13} [{bar:40}] {human_pos}/{human_len} images, {eta} left",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        bar.set_style(style);
        bar.set_prefix(label);
        Progress {
            bar,
            start: Instant::now(),
            shown: false,
        }
    }

    fn advance(&mut self, done: usize) {
        self.bar.inc(done as u64);
        if !self.shown && self.start.elapsed() > Self::MOMENT {
            // Hidden by indicatif itself when stderr is not a terminal.
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
            self.shown = true;
        }
    }

    fn finish(self) {
        self.bar.finish_and_clear();
    }
}

/// A path relative to the current directory if it is below it, else as given.
fn shown(path: &Path) -> String {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok())
        .unwrap_or(path)
        .display()
        .to_string()
}

/// `12,345`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `0.9352`, or `-` for no samples.
fn fraction(value: Option<f64>) -> String {
    value.map_or_else(|| "-".to_owned(), |v| format!("{v:.4}"))
}

/// `12.3 ms`, `1.234 s`, `87 µs`.
fn duration(d: Duration) -> String {
    let seconds = d.as_secs_f64();
    if seconds >= 1.0 {
        format!("{seconds:.3} s")
    } else if seconds >= 1e-3 {
        format!("{:.1} ms", seconds * 1e3)
    } else {
        format!("{:.0} µs", seconds * 1e6)
    }
}

fn per_second(n: usize, d: Duration) -> usize {
    let seconds = d.as_secs_f64();
    if seconds > 0.0 {
        (n as f64 / seconds).round() as usize
    } else {
        0
    }
}
