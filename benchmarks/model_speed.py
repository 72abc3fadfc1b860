"""Training speed and one-thread inference real-time factor of every zoo model, with random weights.

    python benchmarks/model_speed.py                                   # every registered zoo preset
    python benchmarks/model_speed.py --models conv_baseline lightweight_aspp --steps 10 --seconds 5

For each zoo entry (``sepzoo.zoo.presets()``, so a newly added model is picked up without an edit here):

* **steps/s**: ``model.fit`` with MSE and Adam on random in-memory data, batch 8 of ``context_samples``-sample
  windows, timed over ``--steps`` steps after a 2-step warm-up (which traces the train function), with
  TensorFlow's default threads (all cores).
* **RTF (1 thread)**: ``Separator(model).separate(audio, model.sample_rate)`` on ``--seconds`` of noise at the
  model's rate and channel count, in a child process limited to one TensorFlow thread
  (``TF_NUM_INTRAOP_THREADS=1``, ``TF_NUM_INTEROP_THREADS=1``, ``tf.config.threading``); the same call runs
  once first as a warm-up. RTF = compute seconds / audio seconds (below 1 is faster than real time).

Prints a markdown table: name, params, context samples, steps/s, RTF (1 thread). A preset whose class fails
to build is skipped with a one-line note; a measurement that fails shows ``-``. Numbers only; nothing is
asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

BATCH_SIZE = 8
WARMUP_STEPS = 2
ONE_THREAD_ENV = {
    "TF_NUM_INTRAOP_THREADS": "1",
    "TF_NUM_INTEROP_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",  # JAX backend
}


def note(message: str) -> None:
    """One line on stderr, so the table on stdout stays clean."""
    print(f"note: {message}".splitlines()[0][:200], file=sys.stderr, flush=True)


def build(name: str):
    """The zoo entry with random weights, or None (after a one-line note) when it fails to build."""
    from sepzoo import zoo

    try:
        return zoo.load(name, weights=None)
    except Exception as error:  # noqa: BLE001 - any failure to build skips the entry
        note(f"skipped {name}: {type(error).__name__}: {error}")
        return None


def train_steps_per_second(model, steps: int) -> float:
    """Steps/s of ``model.fit`` (MSE, Adam, batch 8) on random arrays, after a warm-up of 2 steps."""
    import keras
    import numpy as np

    rng = np.random.default_rng(0)
    examples = BATCH_SIZE * max(steps, WARMUP_STEPS)
    x = (0.1 * rng.standard_normal((examples, model.context_samples, model.channels))).astype("float32")
    y = (0.1 * rng.standard_normal((examples, model.target_samples, len(model.sources) * model.channels))
         ).astype("float32")
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    warm = BATCH_SIZE * WARMUP_STEPS
    model.fit(x[:warm], y[:warm], batch_size=BATCH_SIZE, epochs=1, verbose=0, shuffle=False)
    used = BATCH_SIZE * steps
    start = time.perf_counter()
    model.fit(x[:used], y[:used], batch_size=BATCH_SIZE, epochs=1, verbose=0, shuffle=False)
    return steps / (time.perf_counter() - start)


def real_time_factor(model, seconds: float) -> float:
    """Compute seconds / audio seconds of ``Separator.separate`` on ``seconds`` of noise, after one warm-up."""
    import numpy as np

    from sepzoo.separator import Separator

    rng = np.random.default_rng(0)
    audio = (0.1 * rng.standard_normal((model.channels, round(seconds * model.sample_rate)))).astype("float32")
    separator = Separator(model)
    separator.separate(audio, model.sample_rate)  # traces predict for the full and the last, shorter batch
    start = time.perf_counter()
    separator.separate(audio, model.sample_rate)
    return (time.perf_counter() - start) / seconds


def inference_child(names: list[str], seconds: float) -> None:
    """Child process: one TensorFlow thread; prints ``{name: rtf or null}`` as JSON on its last line."""
    if os.environ.get("KERAS_BACKEND", "tensorflow") == "tensorflow":
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    results = {}
    for name in names:
        model = build(name)
        if model is None:
            continue
        try:
            results[name] = real_time_factor(model, seconds)
        except Exception as error:  # noqa: BLE001 - a benchmark reports, it does not stop
            note(f"{name}: inference failed: {type(error).__name__}: {error}")
            results[name] = None
    print(json.dumps(results), flush=True)


def one_thread_rtfs(names: list[str], seconds: float) -> dict[str, float | None]:
    """Run :func:`inference_child` in a fresh interpreter whose TensorFlow has one thread."""
    if not names:
        return {}
    command = [sys.executable, os.path.abspath(__file__), "--inference-child", "--seconds", str(seconds),
               "--models", *names]
    result = subprocess.run(command, env={**os.environ, **ONE_THREAD_ENV}, stdout=subprocess.PIPE, text=True)
    lines = result.stdout.strip().splitlines()
    if result.returncode != 0 or not lines:
        note(f"one-thread inference process failed with status {result.returncode}")
        return {}
    return json.loads(lines[-1])


def format_number(value: float | None, digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", metavar="NAME", help="zoo entries (default: every preset)")
    parser.add_argument("--steps", type=int, default=20, help="timed training steps per model (default 20)")
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds of noise to separate (default 10)")
    parser.add_argument("--inference-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.steps < 1 or args.seconds <= 0:
        parser.error("--steps must be at least 1 and --seconds positive")
    if args.inference_child:
        inference_child(args.models or [], args.seconds)
        return

    from sepzoo import zoo

    names = args.models or sorted(zoo.presets())
    rows = []
    for name in names:
        model = build(name)
        if model is None:
            continue
        try:
            steps_per_second = train_steps_per_second(model, args.steps)
        except Exception as error:  # noqa: BLE001 - a benchmark reports, it does not stop
            note(f"{name}: training failed: {type(error).__name__}: {error}")
            steps_per_second = None
        rows.append((name, model.count_params(), model.context_samples, steps_per_second))
        del model
    rtfs = one_thread_rtfs([row[0] for row in rows], args.seconds)

    print(f"batch {BATCH_SIZE}, {args.steps} timed training steps (all of {os.cpu_count()} CPUs), "
          f"{args.seconds:g} s of noise separated on 1 thread; random weights")
    print("| name | params | context samples | steps/s | RTF (1 thread) |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, params, context, steps_per_second in rows:
        print(f"| {name} | {params:,} | {context} | {format_number(steps_per_second, 2)} "
              f"| {format_number(rtfs.get(name), 3)} |")


if __name__ == "__main__":
    main()
