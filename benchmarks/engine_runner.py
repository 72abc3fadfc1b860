"""Separate one file with one engine on N threads and print one JSON line: speed and peak memory.

    python benchmarks/engine_runner.py --engine keras-tf --model lightweight_aspp --input song.wav --threads 1
    python benchmarks/engine_runner.py --engine onnx --export exports/aspp_onnx --input song.wav --threads 2

Engines: ``keras-tf`` and ``keras-jax`` (the zoo model through Keras on that backend), ``onnx``, ``litert``,
``litert-int8`` and ``saved_model`` (a folder written by ``sepzoo export``, run by its own runtime; ``onnx`` and
``litert`` import neither TensorFlow nor Keras). The process is pinned to ``--threads`` cores and every runtime
is told the same thread count before it is imported. One warm-up separation of ``--warmup`` seconds of the
input runs first (graph tracing, compilation, allocation), then ``Separator.separate_file`` is timed on the
whole file, reading, resampling and writing the stems included, as a user runs it.

Printed: ``{"system", "engine", "threads", "audio_s", "wall_s", "rtf", "peak_rss_mb", "imports"}`` where
``rtf`` = wall seconds / audio seconds (below 1 is faster than real time), ``peak_rss_mb`` the process's
peak resident memory (``VmHWM``: runtime, model, buffers; what the user's machine must have) and ``imports`` which of
TensorFlow, Keras and JAX the run loaded. Used by ``benchmarks/speed.py``, ``benchmarks/memory.py`` and
``benchmarks/peers.py``; nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time

ENGINES = ("keras-tf", "keras-jax", "onnx", "litert", "litert-int8", "saved_model")
EXPORTED = {"onnx": "onnx", "litert": "litert", "litert-int8": "litert", "saved_model": "saved_model"}
"""Engine -> the ``Separator`` engine that runs its export."""


def limit_threads(threads: int, engine: str) -> None:
    """Pin this process to ``threads`` cores and tell every runtime before it is imported."""
    cores = sorted(os.sched_getaffinity(0))
    os.sched_setaffinity(0, cores[:threads])
    for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "TF_NUM_INTRAOP_THREADS"):
        os.environ[variable] = str(threads)
    os.environ["TF_NUM_INTEROP_THREADS"] = "1"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if engine == "keras-jax":
        os.environ["KERAS_BACKEND"] = "jax"
        os.environ["XLA_FLAGS"] = (f"--xla_cpu_multi_thread_eigen={'true' if threads > 1 else 'false'} "
                                   f"intra_op_parallelism_threads={threads}")
    elif engine == "keras-tf":
        os.environ["KERAS_BACKEND"] = "tensorflow"


def peak_rss_mb() -> float:
    """This process's peak resident memory, MB: ``VmHWM`` of its own address space. (Not ``ru_maxrss``, which
    Linux carries over from the parent across fork and exec, so a child of a big parent would report the
    parent's size.)"""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def open_model(args):
    """The Keras zoo model or the exported engine."""
    if args.engine in EXPORTED:
        from sepzoo.engines import open_engine

        return open_engine(args.export, EXPORTED[args.engine], threads=args.threads)
    if os.environ["KERAS_BACKEND"] == "tensorflow":
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    from sepzoo import zoo

    try:
        return zoo.load(args.model)
    except Exception:  # noqa: BLE001 - no shipped weights: speed does not depend on weight values
        return zoo.load(args.model, weights=None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=ENGINES, required=True)
    parser.add_argument("--model", default="lightweight_aspp", help="zoo name (keras-* engines)")
    parser.add_argument("--export", help="folder written by `sepzoo export` (exported engines)")
    parser.add_argument("--input", required=True, help="audio file to separate")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=1, help="Separator windows per model call (its default)")
    parser.add_argument("--overlap", type=float, default=0.25, help="Separator overlap fraction")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of the input separated first")
    parser.add_argument("--label", help="system name in the JSON line (default: the model or export name)")
    args = parser.parse_args()
    if args.engine in EXPORTED and not args.export:
        parser.error(f"--engine {args.engine} needs --export FOLDER")
    limit_threads(args.threads, args.engine)

    import soundfile as sf

    from sepzoo.separator import Separator

    model = open_model(args)
    separator = Separator(model, overlap=args.overlap, batch_size=args.batch_size)
    info = sf.info(args.input)  # only the warm-up excerpt is read here: the whole file never sits in memory
    excerpt, rate = sf.read(args.input, frames=round(args.warmup * info.samplerate), dtype="float32", always_2d=True)
    separator.separate(excerpt.T, rate)
    audio_seconds = info.frames / info.samplerate
    del excerpt
    with tempfile.TemporaryDirectory(prefix="sepzoo-bench-") as out:
        start = time.perf_counter()
        separator.separate_file(args.input, out)
        wall = time.perf_counter() - start
    loaded = [name for name in ("tensorflow", "keras", "jax") if name in sys.modules]
    print(json.dumps({
        "system": args.label or getattr(model, "name", args.model), "engine": args.engine, "threads": args.threads,
        "audio_s": round(audio_seconds, 3), "wall_s": round(wall, 3), "rtf": round(wall / audio_seconds, 4),
        "peak_rss_mb": round(peak_rss_mb(), 1), "imports": loaded,
        "batch_size": args.batch_size, "overlap": args.overlap,
    }), flush=True)


if __name__ == "__main__":
    main()
