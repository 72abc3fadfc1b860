"""Compute latency of one window for every zoo model on CPU (one thread and all threads).

Run: ``python benchmarks/model_latency.py [--repeats 20]``. Prints a markdown table: params, receptive
field, algorithmic latency (the context window) and the median wall time of one forward pass over one
window (batch 1), so total latency = algorithmic + compute. Numbers only; nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time


def measure(model, repeats: int) -> float:
    """Median seconds of ``model.predict_on_batch`` on one window, after two warm-up calls."""
    import numpy as np

    x = np.zeros((1, model.context_samples, model.channels), "float32")
    for _ in range(2):
        model.predict_on_batch(x)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        model.predict_on_batch(x)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1, help="TensorFlow intra-op threads (0 = all cores)")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if os.environ.get("KERAS_BACKEND", "tensorflow") == "tensorflow":
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(max(args.threads, 1))
    import sepzoo

    print(f"| model | params | receptive field (s) | algorithmic latency (s) | compute per window, {args.threads or 'all'} thread(s) (ms) |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for row in sepzoo.list_models():
        model = sepzoo.load(row["name"], weights=None)
        seconds = measure(model, args.repeats)
        print(f"| {row['name']} | {row['params']:,} | {row['receptive_field_seconds']:.3f} "
              f"| {row['algorithmic_latency_seconds']:.3f} | {1000 * seconds:.1f} |")


if __name__ == "__main__":
    main()
