#!/usr/bin/env python3
"""One command for the whole side-by-side benchmark of issue 6:

    python3 bench/run.py [--rounds 5] [--repeats 10] [--quick] [--profile release|lto] [--threads N]
                         [--nets mlp,convnet] [--cases ...] [--convnet-ours]

1. Sets up bench/.venv with the pinned Python peers (bench/requirements.txt), once.
2. Builds `mlp-bench` (`cargo build --release` in bench/, its own workspace and target
   dir, candle and tract included).
3. Writes the ONNX models (bench/target/mlp.onnx, bench/target/convnet.onnx) that
   onnxruntime and tract both run.
4. Runs the sides alternately, each run a fresh process, `--rounds` times (the order
   rotates every round): nn-dsl, numpy, numpy-keep, candle, tract, onnxruntime. Each
   process runs the three cases `--repeats` times after a warm-up and checks the accuracy
   (0.9352). numpy-keep is numpy again with glibc's malloc keeping freed memory
   (MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_), numpy's best setting for big batches.
5. Prints the machine, the versions and settings, and one table: per case, each side's
   best and median microseconds per image over all its runs, the ratio their time / ours,
   and the issue's target for that ratio, met or not (judged on the best runs: the
   machine is shared and noisy, so each side's best run is its least disturbed one).

Every process runs with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset (some machines set
them, which slows a current numpy), and the multi-threaded sides all get the same number
of threads, `--threads` (by default the CPUs this process may run on):
OPENBLAS_NUM_THREADS for numpy, RAYON_NUM_THREADS for ours and candle, intra-op threads
for onnxruntime. tract runs on one thread, its default executor (its multi-threaded one
is a cargo feature mlp-bench does not enable). Only numpy-keep gets the malloc variables.
The raw JSON lines are kept in bench/target/results-*.jsonl.

Two networks (`--nets`, both by default): `mlp`, the MLP of chapter 3 (cases single,
batch10000, batch100: the report is the same as before the convnet came), and `convnet`,
the SimpleConvNet of chapter 7 (cases convnet-single, convnet-batch100). Each process runs
the cases of one network; every round runs the MLP's processes, then the convnet's.
nn-dsl's convnet needs conv layers in `network!` and the cargo feature `convnet-ours`:
`--convnet-ours` builds with it and runs it; without it the convnet's tables show the
peers only (no ratios). Every side reports how many of the 10,000 images it classified
correctly; a convnet side whose count is not 9890 is flagged in the table, its targets
are not met, and run.py exits with status 1 after the report.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
import tomllib
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
VENV = BENCH / ".venv"
TARGET = BENCH / "target"
ONNX = TARGET / "mlp.onnx"
CONVNET_ONNX = TARGET / "convnet.onnx"
SIDES = ("nn-dsl", "numpy", "numpy-keep", "candle", "tract", "onnxruntime")
# numpy-keep: numpy with glibc's malloc told to keep freed memory (no mmap for big blocks,
# no trimming), so that each big result does not cost fresh pages the kernel must zero.
# Only numpy's batch of 10,000 notices; the targets hold against both numpy rows.
KEEP_PAGES = {"MALLOC_MMAP_THRESHOLD_": "1073741824", "MALLOC_TRIM_THRESHOLD_": "1073741824"}
CASES = {
    "single": "one image per call, 10,000 images (forward)",
    "batch10000": "one batch of 10,000 images (forward_batch)",
    "batch100": "batches of 100 images, 10,000 images (forward_batch)",
}
CONVNET_CASES = {
    "convnet-single": "SimpleConvNet, one image per call, 10,000 images (forward)",
    "convnet-batch100": "SimpleConvNet, batches of 100 images, 10,000 images (forward_batch)",
}
NETS = {"mlp": CASES, "convnet": CONVNET_CASES}
# The book's trained SimpleConvNet classifies 9890 of the 10,000 test images correctly.
CONVNET_CORRECT = 9890
# The targets of issue 6: (case, peer) -> the least ratio (their time / ours), and a
# stretch goal where the issue names one.
TARGETS = {
    ("single", "numpy"): (8.0, None),
    ("single", "numpy-keep"): (8.0, None),
    ("single", "tract"): (3.0, None),
    ("single", "candle"): (3.0, None),
    ("batch10000", "numpy"): (1.5, None),
    ("batch10000", "numpy-keep"): (1.5, None),
    ("batch10000", "candle"): (1.0, None),
    ("batch10000", "tract"): (1.0, None),
    ("batch10000", "onnxruntime"): (0.8, 1.0),
    ("batch100", "numpy"): (1.2, None),
    ("batch100", "numpy-keep"): (1.2, None),
    ("batch100", "candle"): (1.0, None),
    ("batch100", "tract"): (1.0, None),
    ("batch100", "onnxruntime"): (0.8, 1.0),
    # The SimpleConvNet. tract and candle: no target, reported only.
    ("convnet-single", "numpy"): (10.0, None),
    ("convnet-single", "numpy-keep"): (10.0, None),
    ("convnet-single", "onnxruntime"): (1.0, None),
    ("convnet-batch100", "numpy"): (8.0, None),
    ("convnet-batch100", "numpy-keep"): (8.0, None),
    ("convnet-batch100", "onnxruntime"): (1.0, None),
}
UNSET = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def log(message: str) -> None:
    print(f"[run.py] {message}", file=sys.stderr, flush=True)


def run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, **kwargs)


def venv_python() -> Path:
    return VENV / "bin" / "python"


def setup_venv() -> None:
    """bench/.venv with bench/requirements.txt, reinstalled when that file changes."""
    requirements = BENCH / "requirements.txt"
    digest = hashlib.sha256(requirements.read_bytes()).hexdigest()
    stamp = VENV / ".requirements.sha256"
    if venv_python().exists() and stamp.exists() and stamp.read_text().strip() == digest:
        log(f"venv {VENV} is up to date")
        return
    log(f"creating {VENV} with {sys.executable} and installing {requirements.name}")
    run([sys.executable, "-m", "venv", "--clear", str(VENV)])
    run([str(venv_python()), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", str(requirements)])
    stamp.write_text(digest + "\n")


def build(profile: str, convnet_ours: bool) -> Path:
    # Not --locked: bench/Cargo.lock pins candle, tract and the rest, but nn-runtime's own
    # dependencies are whatever the working tree says; cargo adds a new one to the lock.
    # `convnet-ours` is a default feature: leave it out only when asked.
    features = [] if convnet_ours else ["--no-default-features", "--features", "candle,tract"]
    log(f"cargo build --profile {profile} {' '.join(features)} (bench/: its own workspace and target dir)".replace("  ", " "))
    start = time.monotonic()
    run(["cargo", "build", "--profile", profile, *features, "--bin", "mlp-bench"], cwd=BENCH)
    log(f"built in {time.monotonic() - start:.0f} s")
    directory = "release" if profile == "release" else profile
    return TARGET / directory / "mlp-bench"


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity mask), where the OS tells."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def side_command(
    side: str, binary: Path, repeats: int, threads: int, net: str = "mlp", cases: list[str] | None = None
) -> tuple[list[str], dict[str, str]]:
    """The command line and environment of one process of `side`, on `threads` threads
    (tract on one whatever `threads` is), running `cases` of `net` (all of the MLP's when
    `cases` is None: the command line of before the convnet came)."""
    env = {k: v for k, v in os.environ.items() if k not in UNSET}
    # Set for every process, so that no side inherits another count from the caller.
    env["OPENBLAS_NUM_THREADS"] = str(threads)
    env["RAYON_NUM_THREADS"] = str(threads)
    r = ["--repeats", str(repeats)]
    if cases is not None:
        r += ["--cases", ",".join(cases)]
    onnx = ["--convnet-onnx", str(CONVNET_ONNX)] if net == "convnet" else ["--onnx", str(ONNX)]
    if side in ("numpy", "numpy-keep"):
        if side == "numpy-keep":
            env.update(KEEP_PAGES)
        return [str(venv_python()), str(BENCH / "numpy_reference.py"), *r], env
    if side == "onnxruntime":
        return [
            str(venv_python()),
            str(BENCH / "onnxruntime_reference.py"),
            "--threads",
            str(threads),
            *onnx,
            *r,
        ], env
    command = [str(binary), "--side", side, *r]
    if side == "tract":
        command += onnx
    return command, env


def machine() -> dict:
    info: dict = {"platform": platform.platform()}
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
    except OSError:
        cpuinfo = ""
    model = re.search(r"^model name\s*:\s*(.*)$", cpuinfo, re.MULTILINE)
    info["cpu"] = model.group(1).strip() if model else "unknown"
    flags_line = re.search(r"^flags\s*:\s*(.*)$", cpuinfo, re.MULTILINE)
    flags = set(flags_line.group(1).split()) if flags_line else set()
    info["features"] = (
        " ".join(
            f
            for f in ("avx2", "fma", "avx512f", "avx512vl", "avx512bw", "avx512dq", "avx512_bf16", "avx512_fp16")
            if f in flags
        )
        or "none of AVX2/FMA/AVX-512"
    )
    info["cores"] = f"{len(os.sched_getaffinity(0))} usable of {os.cpu_count()} logical CPUs"
    return info


def tool_version(cmd: list[str]) -> str:
    try:
        return subprocess.run(cmd, cwd=BENCH, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError) as e:
        return f"unknown ({e})"


def source_state() -> str:
    """The commit of the repository, and whether what ours is built from has changes."""
    commit = tool_version(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"])
    changed = tool_version(
        ["git", "-C", str(ROOT), "status", "--porcelain", "--", "nn-runtime", "nn-macros", "nn-dsl", "examples"]
    )
    files = len(changed.splitlines()) if changed and not changed.startswith("unknown") else 0
    return f"commit {commit}" + (f" + uncommitted changes in {files} file(s) of its crates" if files else ", clean")


def locked_versions() -> dict[str, str]:
    lock = tomllib.loads((BENCH / "Cargo.lock").read_text())
    wanted = ("candle-core", "candle-nn", "gemm", "tract-onnx", "tract-linalg", "ndarray", "matrixmultiply")
    found: dict[str, list[str]] = {}
    for package in lock.get("package", []):
        if package["name"] in wanted:
            found.setdefault(package["name"], []).append(package["version"])
    return {name: ", ".join(found[name]) for name in wanted if name in found}


def fmt_us(x: float | None) -> str:
    return "—" if x is None else (f"{x:.3f}" if x < 10 else f"{x:.2f}")


def fmt_ratio(ratio: float | None, threshold: float | None) -> str:
    """Two decimals, or four where two would round across `threshold` (0.7996 -> 0.7996)."""
    if ratio is None:
        return "—"
    short = f"{ratio:.2f}"
    if threshold is not None and (float(short) >= threshold) != (ratio >= threshold):
        return f"{ratio:.4f}"
    return short


def case_table(
    case: str,
    title: str,
    sides: list[str],
    results: dict[tuple[str, str], list[float]],
    correct: dict[tuple[str, str], int] | None = None,
) -> tuple[list[str], int, int]:
    """The table of one case: its lines, the targets met and the targets judged. With
    `correct` (the convnet's cases) a column of each side's count, and a side whose count
    is not CONVNET_CORRECT is flagged and meets no target."""
    out = [f"{case}: {title}"]
    header = f"{'side':<12} {'best µs/img':>12} {'median':>10} {'ratio best':>11} {'ratio med':>10}   target"
    if correct is not None:
        header = f"{'side':<12} {'correct':>7} {'best µs/img':>12} {'median':>10} {'ratio best':>11} {'ratio med':>10}   target"
    out.append(header)
    out.append("-" * len(header) + "-" * 18)
    met_count, target_count = 0, 0
    ours = results.get(("nn-dsl", case))
    ours_best = min(ours) if ours else None
    ours_median = statistics.median(ours) if ours else None
    ours_wrong = correct is not None and ours is not None and correct.get(("nn-dsl", case)) != CONVNET_CORRECT
    for side in sides:
        runs = results.get((side, case))
        if not runs:
            continue
        best, median = min(runs), statistics.median(runs)
        count = ""
        wrong = False
        if correct is not None:
            n = correct.get((side, case))
            wrong = n != CONVNET_CORRECT
            count = f"{n if n is not None else '?':>7} "
        if side == "nn-dsl":
            flag = f"   WRONG COUNT: expected {CONVNET_CORRECT}" if wrong else ""
            out.append(f"{side:<12} {count}{fmt_us(best):>12} {fmt_us(median):>10} {'1.00':>11} {'1.00':>10}{flag}")
            continue
        ratio_best = best / ours_best if ours_best else None
        ratio_median = median / ours_median if ours_median else None
        target = TARGETS.get((case, side))
        if target is None:
            verdict = "(no target)"
        elif ours is None:
            verdict = f">= {target[0]:g}x  (no nn-dsl run)"
        else:
            least, stretch = target
            target_count += 1
            met = ratio_best is not None and ratio_best >= least and not wrong and not ours_wrong
            met_count += met
            verdict = f">= {least:g}x  {'met' if met else 'NOT MET'}"
            if stretch is not None:
                reached = met and ratio_best >= stretch
                verdict += f" (stretch >= {stretch:g}x: {'met' if reached else 'not met'})"
        if wrong:
            verdict += f"   WRONG COUNT: expected {CONVNET_CORRECT}"
        rb = fmt_ratio(ratio_best, target[0] if target else None)
        rm = fmt_ratio(ratio_median, None)
        out.append(f"{side:<12} {count}{fmt_us(best):>12} {fmt_us(median):>10} {rb:>11} {rm:>10}   {verdict}")
    out.append("")
    return out, met_count, target_count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="processes per side, alternating (default 5)")
    parser.add_argument("--repeats", type=int, default=10, help="timed runs per case in each process (default 10)")
    parser.add_argument("--quick", action="store_true", help="1 round of 3 repeats: checks that everything runs")
    parser.add_argument(
        "--profile",
        default="release",
        choices=("release", "lto"),
        help="cargo profile of mlp-bench (release: cargo's defaults; lto: fat LTO, 1 codegen unit)",
    )
    parser.add_argument("--sides", default=",".join(SIDES), help="comma-separated subset of " + ", ".join(SIDES))
    parser.add_argument(
        "--nets", default=",".join(NETS), help="comma-separated: mlp (chapter 3), convnet (chapter 7); default both"
    )
    parser.add_argument(
        "--cases",
        default=None,
        help="comma-separated subset of the cases of --nets: " + ", ".join([*CASES, *CONVNET_CASES]) + " (default all)",
    )
    parser.add_argument(
        "--convnet-ours",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="build mlp-bench with the `convnet-ours` feature and run nn-dsl's SimpleConvNet "
        "(the default); with --no-convnet-ours the convnet's tables show the peers only",
    )
    parser.add_argument("--skip-setup", action="store_true", help="use the venv and binary as they are")
    parser.add_argument(
        "--threads",
        type=int,
        default=usable_cpus(),
        help="threads of numpy, candle, onnxruntime and ours (tract: 1); default: the usable CPUs, here %(default)s",
    )
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.repeats = 1, 3
    if args.rounds < 1 or args.repeats < 1 or args.threads < 1:
        parser.error("--rounds, --repeats and --threads must be at least 1")
    sides = [s.strip() for s in args.sides.split(",") if s.strip()]
    for s in sides:
        if s not in SIDES:
            parser.error(f"unknown side {s!r}")
    if "nn-dsl" not in sides:
        parser.error("the table's ratios are against nn-dsl: keep it in --sides")
    nets = [n.strip() for n in args.nets.split(",") if n.strip()]
    for n in nets:
        if n not in NETS:
            parser.error(f"unknown net {n!r}: expected mlp or convnet")
    # The cases each net's processes run, in the order of NETS.
    chosen = None if args.cases is None else [c.strip() for c in args.cases.split(",") if c.strip()]
    for c in chosen or []:
        if not any(c in NETS[n] for n in nets):
            parser.error(f"case {c!r} is not one of the cases of --nets {','.join(nets)}")
    plan: dict[str, list[str]] = {}
    for net in NETS:
        if net in nets:
            cases = [c for c in NETS[net] if chosen is None or c in chosen]
            if cases:
                plan[net] = cases
    # The sides of each net: nn-dsl runs the convnet only when built with convnet-ours.
    net_sides = {net: [s for s in sides if net != "convnet" or s != "nn-dsl" or args.convnet_ours] for net in plan}

    directory = "release" if args.profile == "release" else args.profile
    binary = TARGET / directory / "mlp-bench"
    if not args.skip_setup:
        setup_venv()
        binary = build(args.profile, args.convnet_ours)
    for net in plan:
        if {"tract", "onnxruntime"} & set(net_sides[net]):
            path = ONNX if net == "mlp" else CONVNET_ONNX
            log(f"writing {path.relative_to(ROOT)}")
            command = [str(venv_python()), str(BENCH / "onnxruntime_reference.py"), "--export-only"]
            if net == "mlp":
                command += ["--onnx", str(ONNX)]
            else:
                command += ["--cases", ",".join(CONVNET_CASES), "--convnet-onnx", str(CONVNET_ONNX)]
            run(command, stdout=subprocess.DEVNULL)

    TARGET.mkdir(exist_ok=True)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    raw_path = TARGET / f"results-{stamp}.jsonl"
    results: dict[tuple[str, str], list[float]] = {}
    correct: dict[tuple[str, str], int] = {}
    flagged: list[str] = []
    meta: dict[str, dict] = {}
    load_before = os.getloadavg()
    started = time.monotonic()
    with raw_path.open("w") as raw:
        for round_ in range(args.rounds):
            for net, cases in plan.items():
                these = net_sides[net]
                order = these[round_ % len(these) :] + these[: round_ % len(these)]
                for side in order:
                    log(f"round {round_ + 1}/{args.rounds}: {side}" + ("" if net == "mlp" else f" ({net})"))
                    # The MLP's processes get the command line of before the convnet came
                    # unless --cases chose fewer of its cases.
                    passed = None if net == "mlp" and cases == list(CASES) else cases
                    command, env = side_command(side, binary, args.repeats, args.threads, net, passed)
                    done = subprocess.run(command, check=False, env=env, cwd=ROOT, capture_output=True, text=True)
                    if done.returncode != 0:
                        sys.stderr.write(done.stderr)
                        log(f"{side} failed (exit {done.returncode}): {' '.join(command)}")
                        return 1
                    if done.stderr and net == "convnet":
                        sys.stderr.write(done.stderr)
                    for line in done.stdout.splitlines():
                        record = json.loads(line)
                        if "case" not in record:
                            continue
                        raw.write(line + "\n")
                        results.setdefault((side, record["case"]), []).extend(record["runs_us"])
                        meta[side] = record
                        if record["case"] in CONVNET_CASES:
                            key = (side, record["case"])
                            if key in correct and correct[key] != record["correct"]:
                                flagged.append(f"{side} {record['case']}: {correct[key]} then {record['correct']} correct")
                            correct[key] = record["correct"]
                            if record["correct"] != CONVNET_CORRECT:
                                flagged.append(
                                    f"{side} {record['case']}: {record['correct']} of {record['images']} correct, "
                                    f"expected {CONVNET_CORRECT}"
                                )
    elapsed = time.monotonic() - started
    load_after = os.getloadavg()

    # --- The report ------------------------------------------------------------------------
    m = machine()
    numpy_versions = meta.get("numpy", {}).get("versions", {})
    blas = numpy_versions.get("blas") or [{}]
    ort_versions = meta.get("onnxruntime", {}).get("versions", {})
    out = []
    if "mlp" in plan:
        out.append("MLP benchmark (issue 6): MNIST 784-50-100-10, sigmoid, sigmoid, softmax, f32, the book's weights,")
        out.append("the 10,000 MNIST test images (pixels / 255); every side scored 0.9352 in every run.")
    if "convnet" in plan:
        out.append(
            "SimpleConvNet (chapter 7): 1x28x28, conv 30 5x5 stride 1 + relu, maxpool 2x2, affine 4320-100 + relu,"
        )
        out.append(
            "affine 100-10 + softmax, f32, the book's trained weights (examples/data/simple_convnet.safetensors),"
        )
        out.append(
            f"the same 10,000 images; the expected count is {CONVNET_CORRECT} correct"
            + ("." if args.convnet_ours else "; nn-dsl not run (no --convnet-ours): peers only, no ratios.")
        )
    out.append("")
    out.append(f"machine      {m['cpu']}; {m['cores']}; {m['features']}")
    out.append(f"             {m['platform']}; load average {load_before[0]:.2f} before, {load_after[0]:.2f} after")
    out.append(f"nn-dsl       {source_state()}")
    out.append(f"rustc        {tool_version(['rustc', '--version'])}")
    out.append(
        f"mlp-bench    cargo profile `{args.profile}` ("
        + (
            "opt-level 3, lto off, 16 codegen units: cargo's defaults"
            if args.profile == "release"
            else "opt-level 3, fat LTO, 1 codegen unit"
        )
        + "), no target-cpu flags"
        + (", feature convnet-ours" if args.convnet_ours else "")
    )
    out.append("crates       " + "; ".join(f"{k} {v}" for k, v in locked_versions().items()))
    b = blas[0] if blas else {}
    out.append(
        f"numpy        {numpy_versions.get('numpy', '?')} with OpenBLAS {b.get('version', '?')} "
        f"(kernel {b.get('architecture', '?')}, {b.get('num_threads', '?')} threads, {b.get('threading_layer', '?')})"
    )
    if "convnet" in plan:
        out.append("             convnet: the book's im2col layers (bench/book_convnet.py), float64 from im2col on")
    if ort_versions:
        out.append(f"onnxruntime  {ort_versions.get('onnxruntime', '?')} (onnx {ort_versions.get('onnx', '?')})")
    found = ", ".join(f"{k}={os.environ[k]}" for k in UNSET if k in os.environ) or "neither was set here"
    t = args.threads
    out.append(f"settings     every process: OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset ({found}),")
    out.append(f"             OPENBLAS_NUM_THREADS={t}, RAYON_NUM_THREADS={t} (--threads; {usable_cpus()} usable CPUs)")
    out.append(f"             nn-dsl and candle: rayon on {t} thread(s); tract: 1 thread (its default executor);")
    out.append(f"             onnxruntime: intra_op_num_threads={t}, ORT_ENABLE_ALL; numpy: OpenBLAS on {t} thread(s);")
    out.append(
        "             numpy-keep: numpy with "
        + " ".join(f"{k}={v}" for k, v in KEEP_PAGES.items())
        + " (glibc keeps freed pages)"
    )
    if list(plan) == ["mlp"]:
        shape = f"{len(sides)} sides"
    else:
        shape = " + ".join(f"{len(net_sides[n])} sides ({n})" for n in plan)
    out.append(
        f"runs         {args.rounds} round{'s' if args.rounds != 1 else ''} x {shape}, alternating, each a fresh process; "
        f"{args.repeats} timed runs per case per process after a warm-up; {elapsed:.0f} s"
        + (" (--quick: a smoke test, not a measurement)" if args.quick else "")
    )
    out.append("ratio        their time / ours (higher is better for nn-dsl); a target is met when the ratio of the")
    out.append("             best runs reaches it")
    out.append("")
    met_count, target_count = 0, 0
    for case, title in CASES.items():
        if "mlp" not in plan or not any((s, case) in results for s in sides):
            continue
        lines, met, count = case_table(case, title, sides, results)
        out += lines
        met_count += met
        target_count += count
    if "mlp" in plan:
        out.append(f"targets met: {met_count} of {target_count}")
    if "convnet" in plan:
        if "mlp" in plan:
            out.append("")
        met_count, target_count = 0, 0
        for case, title in CONVNET_CASES.items():
            if not any((s, case) in results for s in sides):
                continue
            lines, met, count = case_table(case, title, sides, results, correct)
            out += lines
            met_count += met
            target_count += count
        if args.convnet_ours:
            out.append(f"SimpleConvNet targets met: {met_count} of {target_count}")
        else:
            out.append("SimpleConvNet targets: not judged (nn-dsl's convnet not built: run.py --convnet-ours)")
        if flagged:
            out.append("FLAGGED (a count other than the expected one): " + "; ".join(flagged))
        else:
            out.append(f"every convnet side classified {CONVNET_CORRECT} of 10,000 correctly in every run")
    out.append(f"raw results: {raw_path.relative_to(ROOT)}")
    print("\n".join(out))
    return 1 if flagged else 0


if __name__ == "__main__":
    sys.exit(main())
