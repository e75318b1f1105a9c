"""What the Python sides of the training benchmark (issue 11) share: the command line, the
thread settings, the MNIST training and test sets, the timed loop with the book's
per-epoch evaluations, and the JSON line.

This module imports nothing but the standard library at its top, so that a side can set
its thread variables (`configure_threads`) before it imports numpy, torch or jax; numpy
is imported where the data are read.

- The data: the gzipped IDX files of `--data` (default `examples/data/`):
  train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz,
  t10k-labels-idx1-ubyte.gz; pixels divided by 255 as float32 (the book's
  `normalize=True`), labels as int64 (or float32 one-hot rows where a side asks).
- The loop (`train`): `iterations` minibatch steps; after every epoch (60,000 / 100 =
  600 iterations) and after the last iteration the accuracy on the whole training set
  and the whole test set, as the book's `train_neuralnet.py` and the `train` example
  do. Only the steps are timed (batch sampling, gradient, update); the clock stops for
  the evaluations. A side's `run(count)` must return only when its `count` steps are
  done (JAX: `block_until_ready`).
- The JSON line, the last line on stdout: side, task, seconds (the loop), iterations,
  test_accuracy and train_accuracy (after the last iteration), seed, threads, and
  details (per-epoch records, versions, settings).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import struct
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
DATA_DIR = BENCH_DIR.parent / "examples" / "data"
FILES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}
# --net: the chapter-5 two-layer network (task "mlp"; `two_layer` is the name the `train`
# example gives it) or the chapter-7 SimpleConvNet (task "convnet").
NETS = {"mlp": "mlp", "two_layer": "mlp", "convnet": "convnet"}
DEFAULTS = {
    # task: iterations, learning rate, optimizer
    "mlp": (10_000, 0.1, "sgd"),
    "convnet": (600, 0.001, "adam"),
}
BATCH_SIZE = 100
# Adam, the book's (common/optimizer.py): beta1 0.9, beta2 0.999, eps 1e-7.
ADAM = {"beta1": 0.9, "beta2": 0.999, "eps": 1e-7}


def arguments(description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--net",
        default="mlp",
        choices=sorted(NETS),
        help="mlp (= two_layer, chapter 5: 784-50-10 relu, SGD) or convnet (chapter 7: SimpleConvNet, Adam)",
    )
    parser.add_argument(
        "--iterations", type=int, default=None, help="minibatch steps (default: mlp 10000, convnet 600, one epoch)"
    )
    parser.add_argument("--seed", type=int, default=1, help="seeds the initialisation and the batches (default 1)")
    parser.add_argument("--threads", type=int, default=2, help="threads of the side's math library (default 2)")
    parser.add_argument(
        "--data", type=Path, default=DATA_DIR, help="folder of the four gzipped MNIST IDX files (default examples/data)"
    )
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE, help="default 100")
    parser.add_argument("--lr", type=float, default=None, help="learning rate (default: mlp 0.1 SGD, convnet 0.001 Adam)")
    parser.add_argument(
        "--init",
        choices=("he", "book"),
        default="he",
        help="convnet only: he (default; He for the relu layers, std sqrt(2/fan_in), the last layer std "
        "sqrt(1/fan_in), as nn-dsl's NAME::random) or book (std 0.01 for every layer, as ch07's "
        "SimpleConvNet). The mlp is always W1 std sqrt(2/784), W2 std sqrt(1/50)",
    )
    return parser


def finish_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace) -> argparse.Namespace:
    """Fills the per-net defaults and checks the numbers."""
    args.task = NETS[args.net]
    iterations, lr, optimizer = DEFAULTS[args.task]
    if args.iterations is None:
        args.iterations = iterations
    if args.lr is None:
        args.lr = lr
    args.optimizer = optimizer
    if args.iterations < 1 or args.threads < 1 or args.batch_size < 1:
        parser.error("--iterations, --threads and --batch-size must be at least 1")
    if args.task == "mlp" and args.init != "he":
        parser.error("--init is for --net convnet (the mlp's initialisation is fixed)")
    return args


def init_std(task: str, init: str) -> dict[str, float]:
    """The standard deviation of each weight's normal initialisation (biases are zero).

    mlp: He for the relu layer (sqrt(2/784)), the book's Xavier for the last (sqrt(1/50)).
    convnet, `he`: as nn-dsl's `NAME::random`: He for the relu layers (conv: fan-in
    1*5*5 = 25; affine 4320 -> 100), sqrt(1/100) for the last; `book`: 0.01 for all."""
    if task == "mlp":
        return {"W1": (2.0 / 784) ** 0.5, "W2": (1.0 / 50) ** 0.5}
    if init == "book":
        return {"W1": 0.01, "W2": 0.01, "W3": 0.01}
    return {"W1": (2.0 / 25) ** 0.5, "W2": (2.0 / 4320) ** 0.5, "W3": (1.0 / 100) ** 0.5}


def usable_cpus() -> list[int]:
    try:
        return sorted(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return list(range(os.cpu_count() or 1))


def configure_threads(threads: int, jax: bool = False) -> str:
    """Sets the thread variables of every math library this process may load; call it
    before importing numpy, torch or jax. Returns what was set, for the JSON line.

    JAX (jaxlib 0.10): XLA's CPU client sizes its thread pool by the CPUs the process may
    run on, and `--xla_cpu_multi_thread_eigen=false` no longer keeps a matrix product on
    one thread (checked here with per-thread CPU times), so with fewer threads than
    usable CPUs the process is also pinned to the first `threads` of them."""
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = str(threads)
    said = [f"OPENBLAS_NUM_THREADS=OMP_NUM_THREADS=MKL_NUM_THREADS={threads}"]
    if jax:
        os.environ.setdefault("JAX_PLATFORMS", "cpu")
        multi = "true" if threads > 1 else "false"
        flags = f"--xla_cpu_multi_thread_eigen={multi} intra_op_parallelism_threads={threads}"
        os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " " + flags).strip()
        said.append(f"XLA_FLAGS={os.environ['XLA_FLAGS']!r}")
        cpus = usable_cpus()
        if threads < len(cpus) and hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(0, cpus[:threads])
            said.append(f"pinned to CPUs {cpus[:threads]} (of {cpus})")
        else:
            said.append(f"CPUs {cpus}")
    return "; ".join(said)


# --- The data ------------------------------------------------------------------------------


def read_idx(path: Path, rank: int):
    """A gzipped IDX file of unsigned bytes with `rank` dimensions."""
    import numpy as np

    raw = gzip.decompress(path.read_bytes())
    magic, *dims = struct.unpack(f">{1 + rank}I", raw[: 4 * (1 + rank)])
    if magic != 0x0800 | rank:
        raise ValueError(f"{path}: magic number {magic:#010x}, expected {0x0800 | rank:#010x}")
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 * (1 + rank))
    if data.size != int(np.prod(dims)):
        raise ValueError(f"{path}: {data.size} bytes of data for dimensions {dims}")
    return data.reshape(dims)


def load_mnist(data: Path, flatten: bool = True, one_hot: bool = False):
    """(x_train, t_train, x_test, t_test), as the book's `load_mnist(normalize=True,
    flatten=..., one_hot_label=...)` gives them but in float32 throughout: images as
    float32 rows of 784 pixels / 255 (or (N, 1, 28, 28) when not `flatten`), labels as
    int64 (or float32 one-hot rows of 10; the book's are float64)."""
    import numpy as np

    missing = [name for name in FILES.values() if not (data / name).is_file()]
    if missing:
        raise SystemExit(f"{data}: missing {', '.join(missing)} (MNIST, gzipped IDX; see --data)")
    out = []
    for kind in ("train", "test"):
        pixels = read_idx(data / FILES[f"{kind}_images"], 3)
        labels = read_idx(data / FILES[f"{kind}_labels"], 1).astype(np.int64)
        if pixels.shape[0] != labels.shape[0] or pixels.shape[1:] != (28, 28):
            raise ValueError(f"{data}: {kind} images {pixels.shape}, labels {labels.shape}")
        x = pixels.astype(np.float32) / np.float32(255.0)
        x = x.reshape(-1, 784) if flatten else x.reshape(-1, 1, 28, 28)
        t = labels
        if one_hot:
            t = np.zeros((labels.size, 10), dtype=np.float32)
            t[np.arange(labels.size), labels] = 1.0
        out += [np.ascontiguousarray(x), t]
    return tuple(out)


# --- The loop ------------------------------------------------------------------------------


def train(
    args: argparse.Namespace,
    run: Callable[[int], Callable[[], float]],
    evaluate: Callable[[], tuple[float, float]],
    train_size: int = 60_000,
) -> dict[str, Any]:
    """Runs `args.iterations` steps in chunks that end at each epoch's end (every
    `train_size // batch_size` iterations) and at the last iteration, timing only the
    chunks, and evaluates after each chunk with the clock stopped.

    `run(count)` does `count` steps and returns, once they are done, a function that
    gives the sum of their minibatch losses (called with the clock stopped, so that a
    side can keep its losses where they are until then). `evaluate()` gives (train
    accuracy, test accuracy) on the whole sets.

    Returns seconds, the final accuracies and one record per evaluation; prints the
    book's per-epoch line (train acc, test acc) to stderr."""
    per_epoch = max(train_size // args.batch_size, 1)
    seconds = 0.0
    done = 0
    epochs = []
    while done < args.iterations:
        count = min(per_epoch - done % per_epoch, args.iterations - done)
        start = time.perf_counter()
        loss_sum = run(count)
        seconds += time.perf_counter() - start
        done += count
        mean_loss = float(loss_sum()) / count
        eval_start = time.perf_counter()
        train_acc, test_acc = evaluate()
        eval_seconds = time.perf_counter() - eval_start
        epochs.append(
            {
                "iteration": done,
                "mean_loss": mean_loss,
                "train_accuracy": float(train_acc),
                "test_accuracy": float(test_acc),
                "seconds": seconds,
                "eval_seconds": eval_seconds,
            }
        )
        print(
            f"iteration {done:>6}: train acc, test acc | {train_acc:.4f}, {test_acc:.4f}"
            f"  (mean loss {mean_loss:.4f}; {seconds:.2f} s training so far, evaluation {eval_seconds:.1f} s)",
            file=sys.stderr,
            flush=True,
        )
    last = epochs[-1]
    return {
        "seconds": seconds,
        "train_accuracy": last["train_accuracy"],
        "test_accuracy": last["test_accuracy"],
        "epochs": epochs,
    }


def report(args: argparse.Namespace, side: str, result: dict[str, Any], threads: str, extra: dict[str, Any]) -> None:
    """The JSON line: the fields every side of the training benchmark prints, then the
    details."""
    line = {
        "side": side,
        "task": args.task,
        "seconds": result["seconds"],
        "iterations": args.iterations,
        "test_accuracy": result["test_accuracy"],
        "train_accuracy": result["train_accuracy"],
        "seed": args.seed,
        "threads": args.threads,
        "batch_size": args.batch_size,
        "optimizer": args.optimizer,
        "lr": args.lr,
        "init": "he-xavier" if args.task == "mlp" or args.init == "he" else "book-0.01",
        "dtype": "float32",
        "thread_settings": threads,
        **extra,
        "epochs": result["epochs"],
    }
    print(json.dumps(line), flush=True)
