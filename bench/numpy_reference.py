#!/usr/bin/env python3
"""The book's MNIST forward pass in numpy (float32), timed as `mlp-bench` times the Rust
sides, on the same images and weights: "Deep Learning from Scratch", chapter 3,
`predict` with `sigmoid` and `softmax` from the book's `common/functions.py`.

Cases: `single` (one image per `predict` call, `x[i]`, over all 10,000), `batch10000` (one
call on all of them), `batch100` (`x[i:i+100]`); and the chapter-7 SimpleConvNet, run by
the book's own im2col code (bench/book_convnet.py) on the images as (N, 1, 28, 28):
`convnet-single` (`x[i:i+1]`, the book's layers take a batch axis) and `convnet-batch100`.
Prints one JSON line per case, with
numpy's version, its BLAS (threadpoolctl) and the OpenBLAS variables it ran with.
bench/run.py runs it with OPENBLAS_NUM_THREADS=2 and OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE
unset.

    python bench/numpy_reference.py [--repeats 10] [--cases single,batch10000,batch100] [--info]
    python bench/numpy_reference.py --cases convnet-single,convnet-batch100
"""

from __future__ import annotations

import json

import numpy as np

import book_convnet
import mlp_common as common

# --- The book's code (ch03/neuralnet_mnist.py and common/functions.py) -------------------


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def softmax(x):
    x = x - np.max(x, axis=-1, keepdims=True)  # guards against overflow
    return np.exp(x) / np.sum(np.exp(x), axis=-1, keepdims=True)


def predict(network, x):
    W1, W2, W3 = network["W1"], network["W2"], network["W3"]
    b1, b2, b3 = network["b1"], network["b2"], network["b3"]

    a1 = np.dot(x, W1) + b1
    z1 = sigmoid(a1)
    a2 = np.dot(z1, W2) + b2
    z2 = sigmoid(a2)
    a3 = np.dot(z2, W3) + b3
    y = softmax(a3)

    return y


# -------------------------------------------------------------------------------------------


def blas_info() -> dict:
    """numpy's version and the BLAS it calls, as threadpoolctl sees it once loaded."""
    info: dict = {"numpy": np.__version__}
    try:
        from threadpoolctl import threadpool_info

        pools = [p for p in threadpool_info() if p.get("user_api") == "blas"]
        info["blas"] = [
            {k: p.get(k) for k in ("internal_api", "version", "architecture", "num_threads", "threading_layer")}
            for p in pools
        ]
    except ImportError:
        info["blas"] = "threadpoolctl is not installed"
    return info


def main() -> None:
    parser = common.arguments(__doc__.splitlines()[0])
    parser.add_argument("--info", action="store_true", help="also print numpy's np.show_config() as a JSON line")
    args = parser.parse_args()
    cases = common.cases(args.cases)
    mlp = any(c in common.CASES for c in cases)
    convnet = any(c in common.CONVNET_CASES for c in cases)
    network = common.read_weights(args.weights) if mlp else None
    conv_net = book_convnet.SimpleConvNet(common.read_convnet_weights(args.convnet_weights)) if convnet else None
    x, t = common.read_test_set(args.images, args.labels)
    n = x.shape[0]
    # The images as the book's SimpleConvNet takes them (load_mnist(flatten=False)): a view.
    x4 = x.reshape(n, *common.IMAGE_SHAPE)
    # One tiny call first, so that OpenBLAS has loaded and threadpoolctl can see it.
    if mlp:
        predict(network, x[:2])
    if convnet:
        conv_net.predict_proba(x4[:2])
    extra = {
        "threads": "OPENBLAS_NUM_THREADS={}".format(common.openblas_environment()["OPENBLAS_NUM_THREADS"]),
        "versions": blas_info(),
        "environment": common.openblas_environment(),
    }
    if args.info:
        print(json.dumps({"side": "numpy", "info": np.show_config(mode="dicts")}, default=str), flush=True)

    def single():
        out = []
        for i in range(n):
            out.append(predict(network, x[i]))
        return out

    def batches(size):
        def run():
            return [predict(network, x[i : i + size]) for i in range(0, n, size)]

        return run

    def convnet_single():
        out = []
        for i in range(n):
            out.append(conv_net.predict_proba(x4[i : i + 1]))
        return out

    def convnet_batches(size):
        def run():
            return [conv_net.predict_proba(x4[i : i + size]) for i in range(0, n, size)]

        return run

    def classes(out):
        return np.argmax(np.vstack(out), axis=1)

    for case in cases:
        if case in common.CONVNET_CASES:
            run = convnet_single if case == "convnet-single" else convnet_batches(common.batch_size(case, n))
            convnet_extra = {**extra, "dtype": "float32 input and weights; float64 from im2col on (the book's np.zeros)"}
            common.measure(
                "numpy", case, args.repeats, t, args.expect_accuracy, run, classes, convnet_extra,
                expect_correct=args.expect_convnet_correct,
            )
            continue
        run = single if case == "single" else batches(common.batch_size(case, n))
        common.measure("numpy", case, args.repeats, t, args.expect_accuracy, run, classes, extra)


if __name__ == "__main__":
    main()
