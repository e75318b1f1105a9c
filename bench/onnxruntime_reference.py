#!/usr/bin/env python3
"""The book's MNIST network as an ONNX model, run by onnxruntime on the CPU, timed as
`mlp-bench` times the Rust sides, on the same images and weights.

The model is built with the `onnx` package from `examples/data/sample_weight.safetensors`:
input `x` float32 `[N, 784]` (N dynamic), MatMul + Add + Sigmoid, MatMul + Add + Sigmoid,
MatMul + Add + Softmax(axis -1), output `y` `[N, 10]`; opset 13, IR version 8. It is
written to `--onnx` (default bench/target/mlp.onnx), which `mlp-bench --side tract --onnx`
then loads, so that tract runs the same file.

The chapter-7 SimpleConvNet (`--cases convnet-single,convnet-batch100`) is built the same
way from `examples/data/simple_convnet.safetensors` and written to `--convnet-onnx`
(default bench/target/convnet.onnx): input `x` float32 `[N, 1, 28, 28]`, Conv (30 filters
5x5, stride 1, no padding, bias b1) + Relu, MaxPool 2x2 stride 2, Flatten (axis 1: channel,
row, column), Gemm (W2 `[4320, 100]`, b2) + Relu, Gemm (W3, b3), Softmax(axis -1), output
`y` `[N, 10]`; opset 13, IR version 8. `--export-only` writes the models of the nets of
`--cases` (both with `--cases all`).

onnxruntime runs with `intra_op_num_threads` 2 (`--threads`), one inter-op thread,
sequential execution and every graph optimisation (ORT_ENABLE_ALL). Cases: `single`
(`session.run` on `x[i:i+1]`, over all 10,000), `batch10000`, `batch100`. One JSON line
per case.

    python bench/onnxruntime_reference.py [--repeats 10] [--threads 2] [--export-only]
    python bench/onnxruntime_reference.py --cases convnet-single,convnet-batch100
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import mlp_common as common


def build_model(weights: dict[str, np.ndarray]):
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    initializers = [numpy_helper.from_array(weights[name], name) for name in ("W1", "b1", "W2", "b2", "W3", "b3")]
    nodes = []
    x = "x"
    for i in (1, 2, 3):
        nodes.append(helper.make_node("MatMul", [x, f"W{i}"], [f"a{i}_matmul"], name=f"a{i}_matmul"))
        nodes.append(helper.make_node("Add", [f"a{i}_matmul", f"b{i}"], [f"a{i}"], name=f"a{i}"))
        if i < 3:
            nodes.append(helper.make_node("Sigmoid", [f"a{i}"], [f"z{i}"], name=f"z{i}"))
            x = f"z{i}"
    nodes.append(helper.make_node("Softmax", ["a3"], ["y"], name="y", axis=-1))
    graph = helper.make_graph(
        nodes,
        "mnist_mlp",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", common.INPUT])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", common.OUTPUT])],
        initializer=initializers,
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8, producer_name="onnxruntime_reference.py"
    )
    onnx.checker.check_model(model, full_check=True)
    return model


def build_convnet_model(weights: dict[str, np.ndarray]):
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    initializers = [numpy_helper.from_array(weights[name], name) for name in ("W1", "b1", "W2", "b2", "W3", "b3")]
    nodes = [
        helper.make_node(
            "Conv", ["x", "W1", "b1"], ["c1"], name="c1", kernel_shape=[5, 5], strides=[1, 1], pads=[0, 0, 0, 0]
        ),
        helper.make_node("Relu", ["c1"], ["r1"], name="r1"),
        helper.make_node("MaxPool", ["r1"], ["p1"], name="p1", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Flatten", ["p1"], ["f1"], name="f1", axis=1),
        helper.make_node("Gemm", ["f1", "W2", "b2"], ["a2"], name="a2"),
        helper.make_node("Relu", ["a2"], ["r2"], name="r2"),
        helper.make_node("Gemm", ["r2", "W3", "b3"], ["a3"], name="a3"),
        helper.make_node("Softmax", ["a3"], ["y"], name="y", axis=-1),
    ]
    graph = helper.make_graph(
        nodes,
        "simple_convnet",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", *common.IMAGE_SHAPE])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", common.OUTPUT])],
        initializer=initializers,
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8, producer_name="onnxruntime_reference.py"
    )
    onnx.checker.check_model(model, full_check=True)
    return model


def main() -> None:
    parser = common.arguments(__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="intra_op_num_threads")
    parser.add_argument("--onnx", type=Path, default=common.BENCH_DIR / "target" / "mlp.onnx")
    parser.add_argument("--convnet-onnx", type=Path, default=common.BENCH_DIR / "target" / "convnet.onnx")
    parser.add_argument("--export-only", action="store_true", help="write the model(s) and stop")
    args = parser.parse_args()
    if args.cases == "all":
        args.cases = ",".join(common.ALL_CASES)
    cases = common.cases(args.cases)
    mlp = any(c in common.CASES for c in cases)
    convnet = any(c in common.CONVNET_CASES for c in cases)

    import onnx

    if mlp:
        model = build_model(common.read_weights(args.weights))
        args.onnx.parent.mkdir(parents=True, exist_ok=True)
        onnx.save(model, str(args.onnx))
    if convnet:
        model = build_convnet_model(common.read_convnet_weights(args.convnet_weights))
        args.convnet_onnx.parent.mkdir(parents=True, exist_ok=True)
        onnx.save(model, str(args.convnet_onnx))
    if args.export_only:
        for wanted, path in ((mlp, args.onnx), (convnet, args.convnet_onnx)):
            if wanted:
                print(f"wrote {path}")
        return

    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(str(args.onnx), options, providers=["CPUExecutionProvider"]) if mlp else None
    conv_session = (
        ort.InferenceSession(str(args.convnet_onnx), options, providers=["CPUExecutionProvider"]) if convnet else None
    )

    x, t = common.read_test_set(args.images, args.labels)
    n = x.shape[0]
    x4 = x.reshape(n, *common.IMAGE_SHAPE)  # a view: contiguous (N, 1, 28, 28)
    extra = {
        "threads": f"intra_op_num_threads={args.threads}",
        "versions": {"onnxruntime": ort.__version__, "onnx": onnx.__version__, "numpy": np.__version__},
        "environment": common.openblas_environment(),
    }

    def single():
        out = []
        for i in range(n):
            out.append(session.run(["y"], {"x": x[i : i + 1]})[0])
        return out

    def batches(size):
        def run():
            return [session.run(["y"], {"x": x[i : i + size]})[0] for i in range(0, n, size)]

        return run

    def convnet_single():
        out = []
        for i in range(n):
            out.append(conv_session.run(["y"], {"x": x4[i : i + 1]})[0])
        return out

    def convnet_batches(size):
        def run():
            return [conv_session.run(["y"], {"x": x4[i : i + size]})[0] for i in range(0, n, size)]

        return run

    def classes(out):
        return np.argmax(np.vstack(out), axis=1)

    for case in cases:
        if case in common.CONVNET_CASES:
            run = convnet_single if case == "convnet-single" else convnet_batches(common.batch_size(case, n))
            common.measure(
                "onnxruntime", case, args.repeats, t, args.expect_accuracy, run, classes, extra,
                expect_correct=args.expect_convnet_correct,
            )
            continue
        run = single if case == "single" else batches(common.batch_size(case, n))
        common.measure("onnxruntime", case, args.repeats, t, args.expect_accuracy, run, classes, extra)


if __name__ == "__main__":
    main()
