//! The four programs, run as a user runs them: output and exit code. Each runs in a
//! directory of its own, so the defaults must not depend on the current directory.

use std::path::PathBuf;
use std::process::{Command, Output};

/// Runs a binary of this crate from a scratch directory.
fn run(binary: &str, args: &[&str]) -> Output {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cli-tests");
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    Command::new(binary)
        .args(args)
        .current_dir(&dir)
        .output()
        .expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("UTF-8 output")
}

/// What a run wrote to stderr, less the note that a debug build prints.
fn stderr_without_debug_note(output: &Output) -> String {
    text(&output.stderr)
        .lines()
        .filter(|line| !line.starts_with("note: a debug build is slow"))
        .map(|line| format!("{line}\n"))
        .collect()
}

#[test]
fn gates_prints_the_four_truth_tables() {
    let output = run(env!("CARGO_BIN_EXE_gates"), &[]);
    assert!(output.status.success(), "{output:?}");
    let stdout = text(&output.stdout);
    let table = " x1  x2 | AND  NAND  OR | XOR
--------+---------------+-----
  0   0 |   0     1   0 |   0
  1   0 |   0     1   1 |   1
  0   1 |   0     1   1 |   1
  1   1 |   1     0   1 |   0
";
    assert!(stdout.contains(table), "{stdout}");
    assert!(
        stdout.contains("AND    one layer    w = [0.5, 0.5]    b = -0.7"),
        "{stdout}"
    );
}

#[test]
fn three_layer_prints_the_books_output() {
    let output = run(env!("CARGO_BIN_EXE_three_layer"), &[]);
    assert!(output.status.success(), "{output:?}");
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains("x = [1.0 0.5]\ny = [0.31682708 0.69627909]\n"),
        "{stdout}"
    );
}

#[test]
fn mnist_on_the_first_500_images_in_batches_of_7() {
    let output = run(
        env!("CARGO_BIN_EXE_mnist"),
        &["--limit", "500", "--batch-size", "7"],
    );
    assert!(output.status.success(), "{output:?}");
    // No progress bar when stderr is not a terminal.
    assert_eq!(stderr_without_debug_note(&output), "");
    let stdout = text(&output.stdout);
    for expected in [
        "network   Mnist (nets/mnist.nn): 784 -> 50 -> 100 -> 10, sigmoid, sigmoid, softmax; 45,360 parameters\n",
        "test set  the first 500 of 10,000 images\n",
        "accuracy  0.9420  (471 of 500 images correct)\n",
        "          single-sample and batched inference agree on every image\n",
        "          first misclassified images: 8, 33, 66, 92, 124, 149, 217, 233, 241, 245\n",
        "digit   images   correct   accuracy\n",
        "    0       42        42     1.0000\n",
        "  all      500       471     0.9420\n",
        "true    0   1   2   3   4   5   6   7   8   9\n",
        "    0  42   .   .   .   .   .   .   .   .   .\n",
        "    9   .   .   .   1   1   .   .   1   2  49\n",
        "(batches of 7)\n",
    ] {
        assert!(stdout.contains(expected), "no {expected:?} in:\n{stdout}");
    }
    // The shipped files, found from any directory.
    assert!(stdout.contains("sample_weight.safetensors\n"), "{stdout}");
    for pass in [
        "  single-sample  forward ",
        "  batched        forward_batch ",
    ] {
        let line = stdout
            .lines()
            .find(|line| line.starts_with(pass))
            .unwrap_or_else(|| panic!("no {pass:?} line in:\n{stdout}"));
        assert!(
            line.contains("    500 images in ") && line.contains(" images/s"),
            "{line}"
        );
    }
}

#[test]
fn mnist_with_a_missing_weights_file_says_so() {
    let missing = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("no-such-weights.safetensors");
    let missing = missing.to_str().expect("a UTF-8 path");
    let output = run(env!("CARGO_BIN_EXE_mnist"), &["--weights", missing]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert_eq!(text(&output.stdout), "");
    let why = std::fs::read(missing).expect_err("no such file");
    assert_eq!(
        stderr_without_debug_note(&output),
        format!(
            "error: cannot load the network's weights: {missing}: cannot read the file: {why}\n"
        )
    );
}

#[test]
fn mnist_with_a_broken_images_file_says_so() {
    // The labels given as images: the magic number tells.
    let labels = examples::mnist::default_labels();
    let labels = labels.to_str().expect("a UTF-8 path");
    let output = run(env!("CARGO_BIN_EXE_mnist"), &["--images", labels]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stderr = stderr_without_debug_note(&output);
    assert_eq!(
        stderr,
        format!(
            "error: cannot load the images: {labels}: wrong magic number 0x00000801: \
             an IDX images file starts with 0x00000803 (this is a labels file)\n"
        )
    );
}

#[test]
fn mnist_refuses_a_batch_size_or_limit_of_zero() {
    for option in ["--batch-size", "--limit"] {
        let output = run(env!("CARGO_BIN_EXE_mnist"), &[option, "0"]);
        assert_eq!(output.status.code(), Some(2), "{output:?}");
        let stderr = text(&output.stderr);
        assert!(
            stderr.contains(&format!(
                "invalid value '0' for '{option} <N>': it must be at least 1"
            )),
            "{stderr}"
        );
    }
    let output = run(env!("CARGO_BIN_EXE_mnist"), &["--batch-size", "many"]);
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert!(text(&output.stderr).contains("`many` is not a whole number"));
}

#[test]
fn convnet_on_the_first_100_images_in_batches_of_7() {
    let output = run(
        env!("CARGO_BIN_EXE_convnet"),
        &["--limit", "100", "--batch-size", "7"],
    );
    assert!(output.status.success(), "{output:?}");
    // No progress bar when stderr is not a terminal.
    assert_eq!(stderr_without_debug_note(&output), "");
    let stdout = text(&output.stdout);
    for expected in [
        "network   SimpleConvNet (nets/simple_convnet.nn): 1x28x28 -> 30x24x24 -> 30x12x12 -> 4320 -> 100 -> 10, f32; 433,890 parameters\n",
        "          conv 5x5 relu, maxpool 2x2, flatten, affine relu, affine softmax\n",
        "test set  the first 100 of 10,000 images\n",
        "accuracy  0.9900  (99 of 100 images correct)\n",
        "          single-sample and batched inference agree on every image\n",
        "          first misclassified images: 18\n",
        "digit   images   correct   accuracy\n",
        "    3       11        10     0.9091\n",
        "  all      100        99     0.9900\n",
        "true    0   1   2   3   4   5   6   7   8   9\n",
        "    3   .   .   .  10   .   1   .   .   .   .\n",
        "(batches of 7)\n",
    ] {
        assert!(stdout.contains(expected), "no {expected:?} in:\n{stdout}");
    }
    // The shipped files, found from any directory.
    assert!(stdout.contains("simple_convnet.safetensors\n"), "{stdout}");
    for pass in [
        "  single-sample  forward ",
        "  batched        forward_batch ",
    ] {
        let line = stdout
            .lines()
            .find(|line| line.starts_with(pass))
            .unwrap_or_else(|| panic!("no {pass:?} line in:\n{stdout}"));
        assert!(
            line.contains("    100 images in ") && line.contains(" images/s"),
            "{line}"
        );
    }
}

#[test]
fn convnet_in_f64_loads_the_npz_weights() {
    let output = run(env!("CARGO_BIN_EXE_convnet"), &["--f64", "--limit", "100"]);
    assert!(output.status.success(), "{output:?}");
    let stdout = text(&output.stdout);
    for expected in [
        "network   SimpleConvNet64 (nets/simple_convnet_f64.nn): 1x28x28 -> 30x24x24 -> 30x12x12 -> 4320 -> 100 -> 10, f64; 433,890 parameters\n",
        "simple_convnet_f64.npz\n",
        "accuracy  0.9900  (99 of 100 images correct)\n",
        "          single-sample and batched inference agree on every image\n",
        "          first misclassified images: 18\n",
        "(batches of 100)\n",
    ] {
        assert!(stdout.contains(expected), "no {expected:?} in:\n{stdout}");
    }
}

#[test]
fn convnet_with_a_missing_weights_file_says_so() {
    let missing = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("no-such-convnet.safetensors");
    let missing = missing.to_str().expect("a UTF-8 path");
    for f64 in [false, true] {
        let mut args = vec!["--weights", missing];
        if f64 {
            args.push("--f64");
        }
        let output = run(env!("CARGO_BIN_EXE_convnet"), &args);
        assert_eq!(output.status.code(), Some(1), "{output:?}");
        assert_eq!(text(&output.stdout), "");
        let why = std::fs::read(missing).expect_err("no such file");
        assert_eq!(
            stderr_without_debug_note(&output),
            format!(
                "error: cannot load the network's weights: {missing}: cannot read the file: {why}\n"
            )
        );
    }
}

#[test]
fn convnet_with_another_networks_weights_says_which_tensor_does_not_fit() {
    // Chapter 3's weights: W1 is [784, 50], not the 30 filters [30, 1, 5, 5].
    let weights = examples::mnist::default_weights();
    let weights = weights.to_str().expect("a UTF-8 path");
    let output = run(env!("CARGO_BIN_EXE_convnet"), &["--weights", weights]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert_eq!(text(&output.stdout), "");
    assert_eq!(
        stderr_without_debug_note(&output),
        format!(
            "error: cannot load the network's weights: {weights}: tensor `W1` has shape \
             [784, 50] but the network expects [30, 1, 5, 5]\n"
        )
    );
}

#[test]
fn convnet_refuses_a_batch_size_or_limit_of_zero() {
    for option in ["--batch-size", "--limit"] {
        let output = run(env!("CARGO_BIN_EXE_convnet"), &[option, "0"]);
        assert_eq!(output.status.code(), Some(2), "{output:?}");
        let stderr = text(&output.stderr);
        assert!(
            stderr.contains(&format!(
                "invalid value '0' for '{option} <N>': it must be at least 1"
            )),
            "{stderr}"
        );
    }
}
