"""How fast each engine separates, against the fastest this machine could: FLOPs, the fp32 floor and real-time
factors of Keras (TensorFlow, JAX), LiteRT (fp32, int8) and ONNX Runtime at 1 and 2 threads.

    python benchmarks/speed.py                                  # lightweight_aspp, every engine, 1 and 2 threads
    python benchmarks/speed.py --models lightweight_aspp conv_baseline --engines onnx litert --threads 1
    python benchmarks/speed.py --flops-only                      # the FLOP table of every zoo entry, no timing

1. **FLOPs**: :func:`sepzoo.models.flops.flops_per_second` counts each model's arithmetic from the ops its
   layers run (multiply-adds of convolutions and matrix products, FFTs), per second of the benchmark input as
   the ``Separator`` runs it (windows every ``hop``; a mono model separating stereo runs once per channel).
2. **Matrix-product rate**: float32 ``2048 x 2048`` products in NumPy's BLAS, best of 5, in a child pinned to 1
   (then 2) cores: what an ideal kernel achieves on this machine.
3. **Floor**: FLOPs per input second / that rate = the lowest real-time factor fp32 arithmetic allows.
4. **Real-time factor**: ``benchmarks/engine_runner.py`` separates the ``--seconds`` stereo 44.1 kHz input file
   (``benchmarks/separate_speed.py``'s synthetic track) with each engine in its own child process, one at a
   time, pinned to the thread count; exports (``sepzoo export``, int8 calibrated on the input's first 10 s) are
   written once under ``--out``. ``x floor`` = RTF / floor.

Writes ``--out/speed.json`` and ``--out/speed.md``; prints the tables. Numbers only; nothing is asserted.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import argparse  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from engine_runner import ENGINES, EXPORTED  # noqa: E402
from separate_speed import write_track  # noqa: E402

DEFAULT_ENGINES = ("keras-tf", "keras-jax", "litert", "litert-int8", "onnx")
INPUT_RATE, INPUT_CHANNELS = 44100, 2

MATMUL_CHILD = """
import os, sys, time
threads = int(sys.argv[1])
os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:threads])
for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[variable] = str(threads)
import numpy as np
n = 2048
a, b = (np.random.default_rng(seed).standard_normal((n, n)).astype(np.float32) for seed in (0, 1))
a @ b
times = []
for _ in range(5):
    start = time.perf_counter(); a @ b; times.append(time.perf_counter() - start)
print(2 * n ** 3 / min(times) / 1e9)
"""


def note(message: str) -> None:
    print(f"note: {message}".splitlines()[0][:300], file=sys.stderr, flush=True)


def matmul_gflops(threads: int) -> float:
    """Best float32 matrix-product rate of NumPy's BLAS on ``threads`` cores, GFLOP/s."""
    result = subprocess.run([sys.executable, "-c", MATMUL_CHILD, str(threads)], capture_output=True, text=True,
                            check=True)
    return float(result.stdout.split()[-1])


def input_flops(name: str, overlap: float) -> dict:
    """FLOPs per second of the stereo 44.1 kHz input for zoo entry ``name`` (random weights)."""
    from sepzoo import zoo
    from sepzoo.models.flops import flops_per_second, window_flops

    model = zoo.load(name, weights=None)
    runs = INPUT_CHANNELS if model.channels == 1 else 1  # a mono model separates each input channel
    return {"model": name, "params": int(model.count_params()), "sample_rate": model.sample_rate,
            "channels": model.channels, "window_gflop": window_flops(model) / 1e9,
            "gflop_per_s": flops_per_second(model, overlap=overlap) * runs / 1e9}


def calibration_tree(out: Path, song: Path) -> Path:
    """A one-track stem tree under ``out`` whose ``mixture.wav`` is the first 10 s of ``song`` (int8 calibration)."""
    track = out / "calibration" / "track"
    if not (track / "mixture.wav").is_file():
        import soundfile as sf

        track.mkdir(parents=True, exist_ok=True)
        audio, rate = sf.read(str(song), frames=10 * INPUT_RATE, dtype="float32")
        sf.write(str(track / "mixture.wav"), audio, rate)
    return track.parent


def export(name: str, engine: str, out: Path, calibration: Path) -> Path:
    """``sepzoo export`` of ``name`` for ``engine``, made once under ``out/exports``."""
    folder = out / "exports" / f"{name}_{engine}"
    if (folder / "sepzoo.json").is_file():
        return folder
    from sepzoo import zoo
    from sepzoo.export import export_model

    try:
        model = zoo.load(name)
    except Exception:  # noqa: BLE001 - no shipped weights: speed does not depend on weight values
        model = zoo.load(name, weights=None)
    int8 = engine == "litert-int8"
    return export_model(model, folder, EXPORTED[engine], name=name, int8=int8,
                        calibration=calibration if int8 else None, verify=not int8)


def run_engine(name: str, engine: str, threads: int, song: Path, export_dir: Path | None, batch_size: int,
               overlap: float) -> dict | None:
    command = [sys.executable, str(HERE / "engine_runner.py"), "--engine", engine, "--model", name, "--input",
               str(song), "--threads", str(threads), "--batch-size", str(batch_size), "--overlap", str(overlap),
               "--label", name]
    if export_dir is not None:
        command += ["--export", str(export_dir)]
    result = subprocess.run(command, capture_output=True, text=True)
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    if result.returncode != 0 or not lines:
        note(f"{name} on {engine} ({threads} threads) failed: {(result.stderr.strip().splitlines() or ['?'])[-1]}")
        return None
    return json.loads(lines[-1])


def flops_table(rows: list[dict], rates: dict[int, float]) -> str:
    measured = ", ".join(f"{threads} thread(s): {rate:.1f}" for threads, rate in rates.items())
    lines = [f"FLOPs per second of stereo {INPUT_RATE} Hz input (overlap as the Separator runs it) and the fp32 "
             f"floor at this machine's matrix-product rate ({measured} GFLOP/s).",
             "", "| model | params | rate (Hz) | GFLOP / window | GFLOP / s of input | "
             + " | ".join(f"floor RTF, {t} thr" for t in rates) + " |",
             "| --- | ---: | ---: | ---: | ---: | " + " | ".join("---:" for _ in rates) + " |"]
    for row in rows:
        floors = " | ".join(f"{row['gflop_per_s'] / rate:.4f}" for rate in rates.values())
        lines.append(f"| {row['model']} | {row['params']:,} | {row['sample_rate']} | {row['window_gflop']:.3f} | "
                     f"{row['gflop_per_s']:.2f} | {floors} |")
    return "\n".join(lines)


def rtf_table(runs: list[dict], floors: dict[tuple[str, int], float]) -> str:
    lines = ["| model | engine | threads | batch | RTF | x floor | peak memory (MB) | imports |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |"]
    for run in runs:
        floor = floors[(run["system"], run["threads"])]
        lines.append(f"| {run['system']} | {run['engine']} | {run['threads']} | {run['batch_size']} | "
                     f"{run['rtf']:.3f} | {run['rtf'] / floor:.2f} | {run['peak_rss_mb']:.0f} | "
                     f"{', '.join(run['imports']) or 'numpy only'} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["lightweight_aspp"], help="zoo entries to time")
    parser.add_argument("--engines", nargs="+", choices=ENGINES, default=list(DEFAULT_ENGINES))
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--batch-size", type=int, default=1, help="Separator windows per model call (its default)")
    parser.add_argument("--overlap", type=float, default=0.25, help="Separator overlap fraction")
    parser.add_argument("--seconds", type=float, default=30.0, help="length of the stereo 44.1 kHz input")
    parser.add_argument("--flops-only", action="store_true", help="FLOP table of every zoo entry, no timing")
    parser.add_argument("--out", type=Path, default=REPO / "runs" / "speed")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    rates = {threads: matmul_gflops(threads) for threads in args.threads}
    from sepzoo import zoo

    names = sorted(zoo.presets()) if args.flops_only else args.models
    flops = [input_flops(name, args.overlap) for name in names]
    print(flops_table(flops, rates) + "\n", flush=True)
    if args.flops_only:
        return

    song = args.out / f"input_{args.seconds:g}s.wav"
    if not song.is_file():
        write_track(song, args.seconds, INPUT_RATE, INPUT_CHANNELS)
    calibration = calibration_tree(args.out, song)

    floors = {(row["model"], threads): row["gflop_per_s"] / rate for row in flops for threads, rate in rates.items()}
    runs = []
    for name in args.models:
        for engine in args.engines:
            export_dir = export(name, engine, args.out, calibration) if engine in EXPORTED else None
            for threads in args.threads:
                run = run_engine(name, engine, threads, song, export_dir, args.batch_size, args.overlap)
                if run is not None:
                    runs.append(run)
                    print(f"{name} {engine} {threads} thread(s): RTF {run['rtf']:.3f} "
                          f"({run['rtf'] / floors[(name, threads)]:.2f}x floor), {run['peak_rss_mb']:.0f} MB",
                          flush=True)
    report = (f"# Speed on this machine ({time.strftime('%Y-%m-%d')}, {args.seconds:g} s stereo {INPUT_RATE} Hz "
              f"input, batch {args.batch_size}, overlap {args.overlap})\n\n{flops_table(flops, rates)}\n\n"
              f"{rtf_table(runs, floors)}\n")
    (args.out / "speed.md").write_text(report)
    (args.out / "speed.json").write_text(json.dumps({"matmul_gflops": rates, "flops": flops, "runs": runs},
                                                    indent=2) + "\n")
    print("\n" + rtf_table(runs, floors))


if __name__ == "__main__":
    main()
