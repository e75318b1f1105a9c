//! What the `mnist` and `convnet` programs share: the options that say which test set
//! to classify and how ([`TestArgs`]), and the run itself ([`Report::run`]), for any
//! [`Network`] that classifies the ten digits: it classifies the test set one image at a
//! time and in batches, with a progress bar, and prints the accuracy, the accuracy per
//! digit, the confusion matrix and the throughput of each pass.
//!
//! A program loads its network, then the test set ([`TestArgs::load`]), describes the
//! network, and hands over:
//!
//! ```no_run
//! use std::path::PathBuf;
//!
//! use anyhow::Context;
//! use clap::Parser;
//! use examples::Mnist;
//! use examples::report::{self, Report, TestArgs};
//!
//! #[derive(Parser)]
//! struct Args {
//!     #[arg(long)]
//!     weights: PathBuf,
//!     #[command(flatten)]
//!     test: TestArgs,
//! }
//!
//! fn run(args: &Args) -> anyhow::Result<()> {
//!     let net = Mnist::load(&args.weights).context("cannot load the network's weights")?;
//!     let (test, available) = args.test.load()?;
//!     let report = Report {
//!         network: "Mnist (nets/mnist.nn)".to_owned(),
//!         weights: &args.weights,
//!         test: &args.test,
//!         available,
//!     };
//!     report.run(&net, test.images(), test.labels())
//! }
//!
//! fn main() -> std::process::ExitCode {
//!     report::exit_code(run(&Args::parse()))
//! }
//! ```

use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use nn_runtime::Network;
use nn_runtime::ndarray::ArrayView2;

use crate::eval::{Evaluation, Inference, predict};
use crate::idx::{Images, Labels};
use crate::mnist::{self, CLASSES, TestSet};

/// The options of both programs other than the weights: the test set, the batch size
/// and how many images to classify. Put it in a program's arguments with
/// `#[command(flatten)]`.
#[derive(Debug, Clone, clap::Args)]
pub struct TestArgs {
    /// The images, a gzipped IDX file of 28x28 bytes per image.
    #[arg(long, value_name = "FILE", default_value_os_t = mnist::default_images())]
    pub images: PathBuf,
    /// The labels, a gzipped IDX file of one byte (0 to 9) per image.
    #[arg(long, value_name = "FILE", default_value_os_t = mnist::default_labels())]
    pub labels: PathBuf,
    /// Images per batch for batched inference.
    #[arg(long, value_name = "N", default_value = "100", value_parser = at_least_one)]
    pub batch_size: NonZeroUsize,
    /// Classify only the first N images.
    #[arg(long, value_name = "N", value_parser = at_least_one)]
    pub limit: Option<NonZeroUsize>,
}

impl TestArgs {
    /// Reads `--images` and `--labels`, each on its own so that the message says which
    /// one failed, checks that they fit each other and the networks (28x28 images,
    /// labels 0 to 9), and keeps the first `--limit` images. Also returns how many
    /// images the files hold.
    pub fn load(&self) -> anyhow::Result<(TestSet, usize)> {
        let mut test = {
            let images = Images::open(&self.images).context("cannot load the images")?;
            let labels = Labels::open(&self.labels).context("cannot load the labels")?;
            TestSet::new(&images, &labels).context("cannot load the test set")?
        };
        let available = test.len();
        if let Some(limit) = self.limit {
            test.truncate(limit.get());
        }
        Ok((test, available))
    }
}

/// A number of at least 1, for clap: `--batch-size` and `--limit`.
pub fn at_least_one(text: &str) -> Result<NonZeroUsize, String> {
    let n: usize = text
        .parse()
        .map_err(|_| format!("`{text}` is not a whole number"))?;
    NonZeroUsize::new(n).ok_or_else(|| "it must be at least 1".to_owned())
}

/// A program's exit code: success, or the error and its causes on one line on stderr
/// (`error: what: why: ...`) and 1.
pub fn exit_code(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Warns on stderr that a debug build measures no real throughput (nothing in release).
pub fn note_debug_build() {
    if cfg!(debug_assertions) {
        eprintln!("note: a debug build is slow; for real throughput, run with --release");
    }
}

/// One program's run: what it classifies, with what, and how.
#[derive(Debug, Clone)]
pub struct Report<'a> {
    /// The network, as the `network` line shows it after the name: e.g. `Mnist
    /// (nets/mnist.nn): 784 -> 50 -> 100 -> 10, sigmoid, sigmoid, softmax`; the number
    /// of parameters follows. A line break starts an indented line under it.
    pub network: String,
    /// Where the network's weights came from.
    pub weights: &'a Path,
    /// The test set and the batch size.
    pub test: &'a TestArgs,
    /// How many images the files hold (before `--limit`).
    pub available: usize,
}

impl Report<'_> {
    /// Classifies `images` (one per row) one at a time and in batches of
    /// `--batch-size`, compares the predictions with `labels`, and prints the report.
    pub fn run<N: Network>(
        &self,
        net: &N,
        images: ArrayView2<'_, N::Elem>,
        labels: &[usize],
    ) -> anyhow::Result<()> {
        let n = images.nrows();
        let mut network = self.network.lines();
        println!(
            "network   {}; {} parameters",
            network.next().unwrap_or_default(),
            thousands(N::PARAMETERS),
        );
        for line in network {
            println!("          {line}");
        }
        println!("weights   {}", shown(self.weights));
        println!("images    {}", shown(&self.test.images));
        println!("labels    {}", shown(&self.test.labels));
        if n < self.available {
            println!(
                "test set  the first {} of {} images",
                thousands(n),
                thousands(self.available)
            );
        } else {
            println!("test set  {} images", thousands(n));
        }
        println!();

        let (single, single_time) = timed(net, images, Inference::Single, "one at a time")?;
        let batched = Inference::Batched(self.test.batch_size);
        let (batch_predictions, batch_time) = timed(net, images, batched, "in batches")?;

        let result = Evaluation::new(CLASSES, labels, single)?;
        let other = Evaluation::new(CLASSES, labels, batch_predictions)?;
        print_accuracy(&result, &other);
        print_per_digit(&result);
        print_confusion(&result);

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
            self.test.batch_size,
        );
        Ok(())
    }
}

/// The accuracy of one-at-a-time inference, whether batched inference agrees, and the
/// first misclassified images.
fn print_accuracy(result: &Evaluation, batched: &Evaluation) {
    let confusion = &result.confusion;
    let differ = result
        .predictions
        .iter()
        .zip(&batched.predictions)
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
        println!(
            "          batched: {} ({} images classified differently)",
            fraction(batched.confusion.accuracy()),
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
}

/// A row per digit: images, correct, accuracy.
fn print_per_digit(result: &Evaluation) {
    let confusion = &result.confusion;
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
}

/// The confusion matrix, `.` for an empty cell off the diagonal.
fn print_confusion(result: &Evaluation) {
    let confusion = &result.confusion;
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
}

/// Classifies `images`, with a progress bar if that takes more than a moment.
fn timed<N: Network>(
    net: &N,
    images: ArrayView2<'_, N::Elem>,
    how: Inference,
    label: &'static str,
) -> anyhow::Result<(Vec<usize>, Duration)> {
    let mut progress = Progress::new(images.nrows(), label);
    let start = Instant::now();
    let predictions = predict(net, images, how, |done| progress.advance(done))?;
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
pub fn shown(path: &Path) -> String {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok())
        .unwrap_or(path)
        .display()
        .to_string()
}

/// `12,345`.
///
/// ```
/// assert_eq!(examples::report::thousands(1_234_567), "1,234,567");
/// assert_eq!(examples::report::thousands(999), "999");
/// ```
pub fn thousands(n: usize) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_as_the_report_prints_them() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(10_000), "10,000");
        assert_eq!(thousands(1_162_539), "1,162,539");
        assert_eq!(fraction(Some(0.989)), "0.9890");
        assert_eq!(fraction(None), "-");
        assert_eq!(duration(Duration::from_micros(87)), "87 µs");
        assert_eq!(duration(Duration::from_micros(18_900)), "18.9 ms");
        assert_eq!(duration(Duration::from_millis(1234)), "1.234 s");
        assert_eq!(per_second(10_000, Duration::from_millis(20)), 500_000);
        assert_eq!(per_second(1, Duration::ZERO), 0);
    }

    #[test]
    fn at_least_one_says_why() {
        assert_eq!(at_least_one("7"), Ok(NonZeroUsize::new(7).expect("7")));
        assert_eq!(at_least_one("0"), Err("it must be at least 1".to_owned()));
        assert_eq!(
            at_least_one("many"),
            Err("`many` is not a whole number".to_owned())
        );
    }
}
