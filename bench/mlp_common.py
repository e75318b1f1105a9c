"""What the Python sides of the benchmark share: the data, the weights, the timing loop
and the JSON lines, all the same as `mlp-bench` (bench/src/main.rs) does them.

- The weights: `examples/data/sample_weight.safetensors` (the MLP) and
  `examples/data/simple_convnet.safetensors` (the SimpleConvNet of chapter 7) read with
  struct + numpy (an 8-byte little-endian header length, a JSON header, then the raw
  tensors).
- The images: the gzipped IDX files read with gzip + numpy, pixels divided by 255 as
  float32 (the book's `normalize=True`).
- Each case runs once untimed, then `repeats` times timed; after each run (clock
  stopped) the predictions are compared with the labels. On the MLP's cases a side whose
  accuracy is not the expected 0.9352 is an error, never a result. On the convnet's cases
  the line is printed with `correct`, `expected_correct` (9890) and `correct_ok`, and a
  count that is not 9890 is said on stderr; run.py flags that side in its table.
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

import numpy as np

BENCH_DIR = Path(__file__).resolve().parent
DATA_DIR = BENCH_DIR.parent / "examples" / "data"
INPUT = 784
OUTPUT = 10
CASES = ("single", "batch10000", "batch100")
# The SimpleConvNet of chapter 7: the same images, as (N, 1, 28, 28).
CONVNET_CASES = ("convnet-single", "convnet-batch100")
ALL_CASES = CASES + CONVNET_CASES
IMAGE_SHAPE = (1, 28, 28)
# The book's trained SimpleConvNet classifies 9890 of the 10,000 test images correctly.
CONVNET_CORRECT = 9890


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """Every tensor of a .safetensors file (F32 only, which is all this file holds)."""
    raw = path.read_bytes()
    if len(raw) < 8:
        raise ValueError(f"{path}: too short for a safetensors file")
    (header_len,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + header_len])
    data = memoryview(raw)[8 + header_len :]
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] != "F32":
            raise ValueError(f"{path}: tensor {name} is {info['dtype']}, expected F32")
        begin, end = info["data_offsets"]
        array = np.frombuffer(data[begin:end], dtype="<f4").reshape(info["shape"])
        tensors[name] = array.astype(np.float32)  # native byte order, owned, contiguous
    return tensors


def read_weights(path: Path) -> dict[str, np.ndarray]:
    """The book's W1 b1 W2 b2 W3 b3 (W stored [in, out]), checked."""
    tensors = read_safetensors(path)
    shapes = {"W1": (784, 50), "b1": (50,), "W2": (50, 100), "b2": (100,), "W3": (100, 10), "b3": (10,)}
    for name, shape in shapes.items():
        if name not in tensors:
            raise ValueError(f"{path}: no tensor {name}")
        if tensors[name].shape != shape:
            raise ValueError(f"{path}: {name} is {tensors[name].shape}, expected {shape}")
    return {name: tensors[name] for name in shapes}


def read_convnet_weights(path: Path) -> dict[str, np.ndarray]:
    """The book's SimpleConvNet: W1 [30,1,5,5] (OIHW) b1 [30], W2 [4320,100] b2 [100],
    W3 [100,10] b3 [10] (affine W stored [in, out]), checked."""
    tensors = read_safetensors(path)
    shapes = {
        "W1": (30, 1, 5, 5),
        "b1": (30,),
        "W2": (4320, 100),
        "b2": (100,),
        "W3": (100, 10),
        "b3": (10,),
    }
    for name, shape in shapes.items():
        if name not in tensors:
            raise ValueError(f"{path}: no tensor {name}")
        if tensors[name].shape != shape:
            raise ValueError(f"{path}: {name} is {tensors[name].shape}, expected {shape}")
    return {name: tensors[name] for name in shapes}


def read_idx(path: Path, rank: int) -> np.ndarray:
    """A gzipped IDX file of unsigned bytes with `rank` dimensions."""
    raw = gzip.decompress(path.read_bytes())
    magic, *dims = struct.unpack(f">{1 + rank}I", raw[: 4 * (1 + rank)])
    if magic != 0x0800 | rank:
        raise ValueError(f"{path}: magic number {magic:#010x}, expected {0x0800 | rank:#010x}")
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 * (1 + rank))
    if data.size != int(np.prod(dims)):
        raise ValueError(f"{path}: {data.size} bytes of data for dimensions {dims}")
    return data.reshape(dims)


def read_test_set(images: Path, labels: Path) -> tuple[np.ndarray, np.ndarray]:
    """The images as float32 rows of 784 pixels in [0, 1], and their labels."""
    pixels = read_idx(images, 3)
    x = pixels.reshape(pixels.shape[0], -1).astype(np.float32) / np.float32(255.0)
    t = read_idx(labels, 1).astype(np.int64)
    if x.shape[0] != t.shape[0] or x.shape[1] != INPUT:
        raise ValueError(f"{images}, {labels}: {x.shape} images, {t.shape} labels")
    return np.ascontiguousarray(x), t


def arguments(description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--repeats", type=int, default=10, help="timed runs of each case (after one warm-up)")
    parser.add_argument(
        "--cases", default=",".join(CASES), help="comma-separated, of " + ", ".join(ALL_CASES) + " (default: the MLP's)"
    )
    parser.add_argument("--expect-accuracy", type=float, default=0.9352, help="the MLP's")
    parser.add_argument(
        "--expect-convnet-correct", type=int, default=CONVNET_CORRECT, help="the convnet's count (default %(default)s)"
    )
    parser.add_argument("--weights", type=Path, default=DATA_DIR / "sample_weight.safetensors")
    parser.add_argument("--convnet-weights", type=Path, default=DATA_DIR / "simple_convnet.safetensors")
    parser.add_argument("--images", type=Path, default=DATA_DIR / "t10k-images-idx3-ubyte.gz")
    parser.add_argument("--labels", type=Path, default=DATA_DIR / "t10k-labels-idx1-ubyte.gz")
    return parser


def cases(arg: str) -> list[str]:
    chosen = [c.strip() for c in arg.split(",") if c.strip()]
    for c in chosen:
        if c not in ALL_CASES:
            raise SystemExit(f"unknown case {c!r}: expected one of {', '.join(ALL_CASES)}")
    return chosen


def batch_size(case: str, n: int) -> int:
    return {"single": 1, "batch10000": max(n, 1), "batch100": 100, "convnet-single": 1, "convnet-batch100": 100}[case]


def measure(
    side: str,
    case: str,
    repeats: int,
    labels: np.ndarray,
    expect_accuracy: float,
    run: Callable[[], Any],
    predict: Callable[[Any], np.ndarray],
    extra: dict[str, Any],
    expect_correct: int | None = None,
) -> None:
    """Warm-up, `repeats` timed runs, accuracy check; prints one JSON line.

    With `expect_correct` (the convnet's cases) a different count is not an error: the
    line is printed with `correct_ok` false, a warning goes to stderr, and run.py flags it.
    Without it (the MLP's cases) an accuracy other than `expect_accuracy` is an error."""
    if repeats < 1:
        raise SystemExit("--repeats must be at least 1")

    def correct_of(out: Any) -> int:
        predictions = predict(out)
        if predictions.shape != labels.shape:
            raise RuntimeError(f"{predictions.shape} predictions for {labels.shape} labels")
        return int(np.count_nonzero(predictions == labels))

    correct = correct_of(run())
    runs = []
    for _ in range(repeats):
        start = time.perf_counter_ns()
        out = run()
        runs.append((time.perf_counter_ns() - start) / 1e9)
        again = correct_of(out)
        if again != correct:
            raise RuntimeError(f"runs disagree: {correct} then {again} images correct")
        del out
    n = labels.shape[0]
    accuracy = correct / n
    checked: dict[str, Any] = {}
    if expect_correct is not None:
        checked = {"expected_correct": expect_correct, "correct_ok": correct == expect_correct}
        if correct != expect_correct:
            print(
                f"{side} on the {case} case: {correct} of {n} correct, expected {expect_correct}: "
                "reported, and flagged by run.py",
                file=sys.stderr,
                flush=True,
            )
    elif abs(accuracy - expect_accuracy) >= 0.5e-4:
        sys.exit(
            f"{side} on the {case} case: accuracy {accuracy:.4f} ({correct} of {n} correct), "
            f"expected {expect_accuracy:.4f}: not reporting a side that disagrees"
        )
    per_image = [s * 1e6 / n for s in runs]
    line = {
        "side": side,
        "case": case,
        "images": n,
        "batch": batch_size(case, n),
        "repeats": len(per_image),
        "best_us": min(per_image),
        "median_us": float(np.median(per_image)),
        "runs_us": per_image,
        "correct": correct,
        "accuracy": accuracy,
        **checked,
        **extra,
    }
    print(json.dumps(line), flush=True)


def openblas_environment() -> dict[str, str | None]:
    """The OpenBLAS variables this process sees (run.py unsets CORETYPE and L2_SIZE)."""
    names = ("OPENBLAS_NUM_THREADS", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OMP_NUM_THREADS")
    return {name: os.environ.get(name) for name in names}
