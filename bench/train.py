#!/usr/bin/env python3
"""One command for the training benchmark of issue 11:

    python3 bench/train.py [--rounds 3] [--tasks mlp,convnet] [--iterations N] [--threads 2]
                           [--sides nn-dsl,numpy,pytorch,jax,jax-loop] [--seed 1] [--skip-setup]

The book's two training runs, side by side, each side a fresh process per run:

- `mlp`: chapter 5's two-layer network (784-50-10, relu, softmax cross-entropy), SGD lr
  0.1, batch 100 drawn with replacement from the 60,000 training images, 10,000
  iterations, W1 He (std sqrt(2/784)) and W2 std sqrt(1/50), biases zero, float32.
- `convnet`: chapter 7's SimpleConvNet (conv 30 5x5, relu, maxpool 2x2, affine 4320-100,
  relu, affine 100-10), Adam lr 0.001 (beta1 0.9, beta2 0.999, eps 1e-7), batch 100, 600
  iterations (one epoch), He / Xavier initialisation, float32.

Sides: `nn-dsl` (ours: the `train` example, `target/release/train --net two_layer|convnet
... --json`, built once with `cargo build --release -p examples --bin train`; CARGO_TARGET_DIR
is respected), `numpy` (the book's code, bench/train_numpy.py), `pytorch` (eager, CPU,
bench/train_torch.py), `jax` (a jitted step) and `jax-loop` (each epoch one jit of a
fori_loop), both bench/train_jax.py. Every side times only its training steps (batch
draw, gradient, update), not the evaluations after each epoch, not data loading, not
JAX's ahead-of-time compilation (reported apart), and prints one JSON line, its last line
on stdout; the lines are kept in bench/target/train-results-DATE.jsonl.

1. Sets up bench/.venv (bench/requirements.txt, as run.py does, plus
   bench/requirements-train.txt: torch, jax), reinstalled when either file changes.
2. Builds ours; if that fails (or the binary is missing with --skip-setup) the table
   shows the peers only.
3. `--rounds` rounds; each runs every side once per task, the order rotating from round
   to round; round r uses seed `--seed` + r - 1 for every side.
4. Prints the machine, versions and settings, and per task a table: each side's best and
   median seconds, its lowest test accuracy, the ratios their time / ours (best and
   median), and the issue's targets, judged on the best runs: mlp: >= 4x numpy, >= 2x
   the fastest of pytorch, jax and jax-loop (and candle, which this benchmark does not
   run); convnet: >= 2x pytorch, >= 10x numpy; the accuracy targets (mlp: test accuracy
   >= 0.968 for every seed; convnet: >= 0.975 after 2 epochs, judged only with
   --iterations 1200 or more).

Threads (`--threads`, default 2) are the same for every side: RAYON_NUM_THREADS for ours,
OPENBLAS_NUM_THREADS for numpy, torch.set_num_threads for PyTorch, XLA_FLAGS (and CPU
pinning below the usable CPUs) for JAX; OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are unset
for every process, as in run.py.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import run as bench  # bench/run.py: the venv, the machine, the environment rules

BENCH = bench.BENCH
ROOT = bench.ROOT
TARGET = bench.TARGET
SIDES = ("nn-dsl", "numpy", "pytorch", "jax", "jax-loop")
TASKS = {
    "mlp": "chapter 5: 784-50-10 relu, SGD lr 0.1, batch 100",
    "convnet": "chapter 7: SimpleConvNet, Adam lr 0.001, batch 100",
}
DEFAULT_ITERATIONS = {"mlp": 10_000, "convnet": 600}
OURS_NET = {"mlp": "two_layer", "convnet": "convnet"}
# The targets of issue 11: (task, peer) -> the least ratio (their time / ours).
TARGETS = {
    ("mlp", "numpy"): 4.0,
    ("mlp", "pytorch"): 2.0,
    ("mlp", "jax"): 2.0,
    ("mlp", "jax-loop"): 2.0,
    ("convnet", "numpy"): 10.0,
    ("convnet", "pytorch"): 2.0,
}
# The accuracy targets: mlp after its 10,000 iterations, every seed; convnet after two
# epochs (1,200 iterations).
MLP_ACCURACY = 0.968
CONVNET_ACCURACY = 0.975
CONVNET_ACCURACY_ITERATIONS = 1_200
PEERS = {
    "numpy": ["train_numpy.py"],
    "pytorch": ["train_torch.py"],
    "jax": ["train_jax.py"],
    "jax-loop": ["train_jax.py", "--whole-loop"],
}


def log(message: str) -> None:
    print(f"[train.py] {message}", file=sys.stderr, flush=True)


def setup_venv() -> None:
    """bench/.venv as run.py makes it (requirements.txt), plus requirements-train.txt,
    installed together so that pip resolves one set; redone when either file changes
    (run.py recreates the venv when requirements.txt changes, which removes the stamp)."""
    bench.setup_venv()
    files = [BENCH / "requirements.txt", BENCH / "requirements-train.txt"]
    digest = hashlib.sha256(b"".join(f.read_bytes() for f in files)).hexdigest()
    stamp = bench.VENV / ".requirements-train.sha256"
    if stamp.exists() and stamp.read_text().strip() == digest:
        log(f"venv {bench.VENV} has the training peers")
        return
    log("installing bench/requirements-train.txt (torch, jax) into bench/.venv: a few GB the first time")
    command = [str(bench.venv_python()), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    for f in files:
        command += ["-r", str(f)]
    bench.run(command)
    stamp.write_text(digest + "\n")


def cpu_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs so far, from /proc/stat ((0, 0) where there is none)."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    except (OSError, ValueError, IndexError):
        return 0, 0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields[:8]) - idle, sum(fields[:8])


def machine_busy(seconds: float = 1.0) -> float | None:
    """The share of the CPUs busy over `seconds` while this script runs nothing: the other
    work on the machine (which a shared machine's process list may not show)."""
    b0, t0 = cpu_ticks()
    time.sleep(seconds)
    b1, t1 = cpu_ticks()
    return (b1 - b0) / (t1 - t0) if t1 > t0 else None


def children_cpu() -> float:
    """CPU seconds (user + system) of the finished child processes so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def others_share(before: tuple[tuple[int, int], float], after: tuple[tuple[int, int], float]) -> float | None:
    """The share of the CPUs that other work took while a side ran: the CPUs' busy time
    from /proc/stat less the side's own CPU time, over all the CPU time there was."""
    (b0, t0), own0 = before
    (b1, t1), own1 = after
    if t1 <= t0:
        return None
    hz = os.sysconf("SC_CLK_TCK")
    busy = (b1 - b0) / hz
    total = (t1 - t0) / hz
    return max(busy - (own1 - own0), 0.0) / total


def wait_quiet(limit: float, timeout: float) -> float | None:
    """Waits until the machine is busy below `limit` (a share) or `timeout` seconds have
    passed; returns the last share measured."""
    start = time.monotonic()
    said = None
    busy = machine_busy()
    while busy is not None and busy >= limit and time.monotonic() - start < timeout:
        if said is None or time.monotonic() - said >= 60:
            log(f"  other work keeps {busy:.0%} of the CPUs busy: waiting for below {limit:.0%}")
            said = time.monotonic()
        time.sleep(4)
        busy = machine_busy()
    if said is not None:
        log(f"  waited {time.monotonic() - start:.0f} s; now {busy:.0%}")
    return busy


def ours_binary() -> Path:
    target_dir = Path(os.environ.get("CARGO_TARGET_DIR") or ROOT / "target")
    if not target_dir.is_absolute():
        target_dir = ROOT / target_dir
    return target_dir / "release" / "train"


def build_ours() -> bool:
    log("cargo build --release -p examples --bin train")
    start = time.monotonic()
    done = subprocess.run(["cargo", "build", "--release", "-p", "examples", "--bin", "train"], cwd=ROOT)
    if done.returncode != 0:
        log(f"building ours failed (exit {done.returncode}): the table shows the peers only")
        return False
    log(f"built in {time.monotonic() - start:.0f} s")
    return True


def ours_net_names() -> dict[str, str]:
    """The `--net` value of each task as ours's `--help` spells it: clap lists the
    network `two_layer` (the brief's and the docs' spelling) as `two-layer` unless told
    otherwise, so take whichever the binary accepts."""
    names = dict(OURS_NET)
    try:
        text = subprocess.run([str(ours_binary()), "--help"], capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return names
    for line in text.splitlines():
        if line.strip().startswith("--net") and "possible values:" in line:
            values = [v.strip(" ]") for v in line.split("possible values:", 1)[1].split(",")]
            for task, name in OURS_NET.items():
                if name not in values and name.replace("_", "-") in values:
                    names[task] = name.replace("_", "-")
    return names


def side_command(
    side: str, task: str, iterations: int, seed: int, threads: int, data: Path | None, ours_names: dict[str, str]
):
    env = {k: v for k, v in os.environ.items() if k not in bench.UNSET}
    for name in ("OPENBLAS_NUM_THREADS", "RAYON_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[name] = str(threads)
    if side == "nn-dsl":
        net = ours_names[task]
        command = [str(ours_binary()), "--net", net, "--iterations", str(iterations), "--seed", str(seed)]
        if task == "convnet":
            command += ["--optimizer", "adam", "--lr", "0.001"]
        # its plot and weights under bench/target/, not the root workspace's target/
        command += ["--plot", str(TARGET / f"train-{net}.svg"), "--save", str(TARGET / f"train-{net}.safetensors")]
        return command + ["--quiet", "--json"], env
    command = [str(bench.venv_python()), str(BENCH / PEERS[side][0]), *PEERS[side][1:]]
    command += ["--net", task, "--iterations", str(iterations), "--seed", str(seed), "--threads", str(threads)]
    if data is not None:
        command += ["--data", str(data)]
    return command, env


def fmt_ratio(ratio: float | None, threshold: float | None) -> str:
    return bench.fmt_ratio(ratio, threshold)


def task_table(task: str, iterations: int, sides: list[str], records: dict[tuple[str, str], list[dict]]) -> list[str]:
    out = [f"{task}: {TASKS[task]}, {iterations} iterations"]
    header = (
        f"{'side':<9} {'runs':>4} {'best s':>8} {'median s':>9} {'ms/iter':>8} {'busy':>5} {'test acc':>9} "
        f"{'ratio best':>10} {'ratio med':>9}   target"
    )
    out += [header, "-" * (len(header) + 24)]
    ours = records.get(("nn-dsl", task))
    ours_best = min(r["seconds"] for r in ours) if ours else None
    ours_median = statistics.median(r["seconds"] for r in ours) if ours else None
    fastest_framework = None
    for side in sides:
        runs = records.get((side, task))
        if not runs:
            continue
        times = [r["seconds"] for r in runs]
        best, median = min(times), statistics.median(times)
        accuracy = min(r["test_accuracy"] for r in runs)
        if side in ("pytorch", "jax", "jax-loop") and (fastest_framework is None or best < fastest_framework[1]):
            fastest_framework = (side, best)
        busy = min(runs, key=lambda r: r["seconds"]).get("others_during")
        busy_text = "?" if busy is None else f"{busy:.0%}"
        row = (
            f"{side:<9} {len(runs):>4} {best:>8.3f} {median:>9.3f} {best * 1e3 / iterations:>8.3f} {busy_text:>5} "
            f"{accuracy:>9.4f} "
        )
        if side == "nn-dsl":
            out.append(row + f"{'1.00':>10} {'1.00':>9}")
            continue
        ratio_best = best / ours_best if ours_best else None
        ratio_median = median / ours_median if ours_median else None
        target = TARGETS.get((task, side))
        if target is None:
            verdict = "(no target)"
        elif ours is None:
            verdict = f">= {target:g}x  (no nn-dsl run)"
        else:
            verdict = f">= {target:g}x  {'met' if ratio_best >= target else 'NOT MET'}"
        out.append(row + f"{fmt_ratio(ratio_best, target):>10} {fmt_ratio(ratio_median, None):>9}   {verdict}")
    if task == "mlp" and fastest_framework is not None:
        side, best = fastest_framework
        line = f"fastest of pytorch, jax, jax-loop: {side} ({best:.3f} s)"
        if ours_best:
            ratio = best / ours_best
            line += f"; ours {ratio:.2f}x faster: >= 2x {'met' if ratio >= 2.0 else 'NOT MET'}"
        out.append(line)
        out.append("(the issue also names candle, which this benchmark does not run: bench/run.py has it for inference)")
    if ours:
        accuracies = ", ".join(f"seed {r['seed']}: {r['test_accuracy']:.4f}" for r in ours)
        if task == "mlp":
            judged = iterations >= DEFAULT_ITERATIONS["mlp"]
            low = min(r["test_accuracy"] for r in ours)
            verdict = (
                f">= {MLP_ACCURACY} for every seed: {'met' if low >= MLP_ACCURACY else 'NOT MET'}"
                if judged
                else f"(>= {MLP_ACCURACY} after 10,000 iterations: not judged at {iterations})"
            )
        else:
            judged = iterations >= CONVNET_ACCURACY_ITERATIONS
            low = min(r["test_accuracy"] for r in ours)
            verdict = (
                f">= {CONVNET_ACCURACY} after 2 epochs: {'met' if low >= CONVNET_ACCURACY else 'NOT MET'}"
                if judged
                else f"(>= {CONVNET_ACCURACY} after 2 epochs: judged with --iterations {CONVNET_ACCURACY_ITERATIONS})"
            )
        out.append(f"nn-dsl test accuracy: {accuracies}; {verdict}")
    else:
        out.append("nn-dsl: no run (not built?): the peers only, no ratios")
    out.append("")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="processes per side and task, alternating (default 3)")
    parser.add_argument("--tasks", default=",".join(TASKS), help="comma-separated: mlp, convnet (default both)")
    parser.add_argument(
        "--iterations", type=int, default=None, help="every task's iterations (default: mlp 10000, convnet 600)"
    )
    parser.add_argument("--seed", type=int, default=1, help="round r runs with seed SEED + r - 1 (default 1)")
    parser.add_argument("--threads", type=int, default=2, help="threads of every side (default 2)")
    parser.add_argument("--sides", default=",".join(SIDES), help="comma-separated subset of " + ", ".join(SIDES))
    parser.add_argument("--data", type=Path, default=None, help="the MNIST folder of the Python sides (default theirs)")
    parser.add_argument("--skip-setup", action="store_true", help="use the venv and ours's binary as they are")
    parser.add_argument(
        "--quiet-below",
        type=float,
        default=None,
        metavar="PERCENT",
        help="before each run wait (up to --quiet-timeout) until other work keeps the CPUs busy below PERCENT "
        "(measured over 1 s from /proc/stat); the share before each run is recorded either way",
    )
    parser.add_argument("--quiet-timeout", type=float, default=600, help="seconds to wait for quiet (default 600)")
    args = parser.parse_args()
    if args.rounds < 1 or args.threads < 1 or (args.iterations is not None and args.iterations < 1):
        parser.error("--rounds, --threads and --iterations must be at least 1")
    sides = [s.strip() for s in args.sides.split(",") if s.strip()]
    for s in sides:
        if s not in SIDES:
            parser.error(f"unknown side {s!r}")
    tasks = [t.strip() for t in args.tasks.split(",") if t.strip()]
    for t in tasks:
        if t not in TASKS:
            parser.error(f"unknown task {t!r}: expected mlp or convnet")
    iterations = {t: args.iterations or DEFAULT_ITERATIONS[t] for t in tasks}

    peers = [s for s in sides if s != "nn-dsl"]
    if not args.skip_setup and peers:
        setup_venv()
    ours_ok = "nn-dsl" in sides
    if ours_ok and not args.skip_setup:
        ours_ok = build_ours()
    if ours_ok and not ours_binary().exists():
        log(f"no {ours_binary()}: the table shows the peers only")
        ours_ok = False
    sides = [s for s in sides if s != "nn-dsl" or ours_ok]
    ours_names = ours_net_names() if ours_ok else dict(OURS_NET)
    if not sides:
        log("no side to run")
        return 1

    TARGET.mkdir(exist_ok=True)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    raw_path = TARGET / f"train-results-{stamp}.jsonl"
    records: dict[tuple[str, str], list[dict]] = {}
    failures: list[str] = []
    load_before = os.getloadavg()
    started = time.monotonic()
    with raw_path.open("w") as raw:
        for round_ in range(args.rounds):
            seed = args.seed + round_
            for task in tasks:
                order = sides[round_ % len(sides) :] + sides[: round_ % len(sides)]
                for side in order:
                    log(f"round {round_ + 1}/{args.rounds}, {task}, seed {seed}: {side}")
                    command, env = side_command(
                        side, task, iterations[task], seed, args.threads, args.data, ours_names
                    )
                    if args.quiet_below is not None:
                        busy = wait_quiet(args.quiet_below / 100, args.quiet_timeout)
                    else:
                        busy = machine_busy()
                    begun = time.monotonic()
                    before = (cpu_ticks(), children_cpu())
                    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
                    others = others_share(before, (cpu_ticks(), children_cpu()))
                    lines = done.stdout.strip().splitlines()
                    record = None
                    if done.returncode == 0 and lines:
                        try:
                            record = json.loads(lines[-1])
                        except json.JSONDecodeError:
                            record = None
                    if record is None or "seconds" not in record:
                        sys.stderr.write(done.stderr[-4000:])
                        failures.append(f"{side} {task} seed {seed} (exit {done.returncode})")
                        log(f"{side} failed (exit {done.returncode}): {' '.join(command)}")
                        continue
                    record.setdefault("side", side)
                    record["run_side"] = side
                    record["round"] = round_ + 1
                    record["wall_seconds"] = time.monotonic() - begun
                    record["machine_busy_before"] = busy
                    record["others_during"] = others
                    raw.write(json.dumps(record) + "\n")
                    raw.flush()
                    records.setdefault((side, task), []).append(record)
                    log(
                        f"  {record['seconds']:.3f} s, test accuracy {record['test_accuracy']:.4f} "
                        f"(process {record['wall_seconds']:.0f} s; other work: "
                        + ("?" if busy is None else f"{busy:.0%}")
                        + " of the CPUs before, "
                        + ("?" if others is None else f"{others:.0%}")
                        + " during)"
                    )
    elapsed = time.monotonic() - started
    load_after = os.getloadavg()

    # --- The report --------------------------------------------------------------------------
    def meta(side: str) -> dict:
        for task in tasks:
            if records.get((side, task)):
                return records[(side, task)][0]
        return {}

    m = bench.machine()
    out = ["Training benchmark (issue 11): the book's chapter-5 and chapter-7 training runs, float32, loop only", ""]
    out.append(f"machine      {m['cpu']}; {m['cores']}; {m['features']}")
    out.append(f"             {m['platform']}; load average {load_before[0]:.2f} before, {load_after[0]:.2f} after")
    out.append(f"nn-dsl       {bench.source_state()}; {bench.tool_version(['rustc', '--version'])}")
    if ours_ok:
        out.append(f"             {ours_binary()} (cargo build --release -p examples --bin train)")
    numpy_meta = meta("numpy").get("versions", {})
    if numpy_meta:
        blas = (numpy_meta.get("blas") or [{}])[0]
        out.append(
            f"numpy        {numpy_meta.get('numpy', '?')} with OpenBLAS {blas.get('version', '?')} "
            f"(kernel {blas.get('architecture', '?')}, {blas.get('num_threads', '?')} threads): the book's code"
        )
    torch_meta = meta("pytorch").get("versions", {})
    if torch_meta:
        out.append(f"pytorch      {torch_meta.get('torch', '?')}, eager, CPU")
    for side in ("jax", "jax-loop"):
        jax_meta = meta(side)
        if jax_meta:
            v = jax_meta.get("versions", {})
            compiles = [r.get("compile_seconds", 0.0) for t in tasks for r in records.get((side, t), [])]
            out.append(
                f"{side:<12} jax {v.get('jax', '?')}, jaxlib {v.get('jaxlib', '?')}: {jax_meta.get('program', '')}; "
                f"compiled ahead of time, {min(compiles):.1f}-{max(compiles):.1f} s, not timed"
            )
    found = ", ".join(f"{k}={os.environ[k]}" for k in bench.UNSET if k in os.environ) or "neither was set here"
    out.append(f"threads      {args.threads} for every side: RAYON_NUM_THREADS (ours), OPENBLAS_NUM_THREADS (numpy),")
    out.append("             torch.set_num_threads (pytorch), XLA_FLAGS + CPU pinning below the usable CPUs (jax);")
    out.append(f"             OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset ({found}); {bench.usable_cpus()} usable CPUs")
    out.append(
        f"runs         {args.rounds} round{'s' if args.rounds != 1 else ''} x {len(sides)} sides x {len(tasks)} "
        f"task{'s' if len(tasks) != 1 else ''}, alternating, each a fresh process; seeds {args.seed}.."
        f"{args.seed + args.rounds - 1}; {elapsed:.0f} s"
    )
    shares = [r["machine_busy_before"] for rs in records.values() for r in rs if r.get("machine_busy_before") is not None]
    during = [r["others_during"] for rs in records.values() for r in rs if r.get("others_during") is not None]
    if shares:
        out.append(
            f"other work   took {min(shares):.0%} to {max(shares):.0%} of the CPUs in the second before each run"
            + (f" (waited for below {args.quiet_below:g}%)" if args.quiet_below is not None else "")
            + (f", {min(during):.0%} to {max(during):.0%} during the runs" if during else "")
        )
    out.append("timed        the training steps only (batch draw, gradient, update): not the per-epoch evaluations,")
    out.append("             not loading the data, not JAX's compilation")
    out.append("ratio        their time / ours (higher is better for nn-dsl); a target is met when the ratio of the")
    out.append("             best runs reaches it; test acc is a side's lowest over its runs; busy: the share of")
    out.append("             the CPUs that other work took during the best run (/proc/stat less the side's own")
    out.append("             CPU time; on a shared machine other tenants do not show in the process list)")
    out.append("")
    for task in tasks:
        out += task_table(task, iterations[task], sides, records)
    if failures:
        out.append("FAILED runs: " + "; ".join(failures))
    out.append(f"raw results: {raw_path.relative_to(ROOT)}")
    print("\n".join(out))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
