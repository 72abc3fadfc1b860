"""Speed and memory of file separation on one CPU thread: real-time factor and peak memory per track length.

    python benchmarks/separate_speed.py                      # 30 s and 10 min, lightweight_aspp, random weights
    python benchmarks/separate_speed.py --seconds 5 --rate 22050 --channels 1

For each length a synthetic track (sines plus noise, written block by block so the generator itself stays
small) goes through ``Separator.separate_file``. Reported: wall time, real-time factor (wall time / track
duration; below 1 is faster than real time), peak traced Python/NumPy memory during the separation
(tracemalloc; TensorFlow's own buffers are not traced) and the process's peak resident set size so far
(``resource.ru_maxrss``; lengths run shortest first, so an unchanged value means memory did not grow with
the track). No assertions: this prints a table.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ["OMP_NUM_THREADS"] = "1"
os.environ["TF_NUM_INTRAOP_THREADS"] = "1"
os.environ["TF_NUM_INTEROP_THREADS"] = "1"

import argparse  # noqa: E402
import resource  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import soundfile as sf  # noqa: E402


def write_track(path: Path, seconds: float, sample_rate: int, channels: int, block_seconds: float = 10.0) -> None:
    """Write a ``seconds``-long float WAV of decaying sine notes plus noise, in bounded memory."""
    rng = np.random.default_rng(0)
    total = round(seconds * sample_rate)
    block = round(block_seconds * sample_rate)
    with sf.SoundFile(str(path), "w", sample_rate, channels, subtype="FLOAT", format="WAV") as file:
        for start in range(0, total, block):
            time_s = np.arange(start, min(total, start + block)) / sample_rate
            notes = sum(0.15 * np.sin(2 * np.pi * f * time_s) * np.exp(-3 * (time_s % 0.5)) for f in (110, 220, 440))
            noise = 0.02 * rng.standard_normal((len(time_s), channels))
            file.write((notes[:, None] + noise).astype(np.float32))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="lightweight_aspp", help="zoo model (random weights)")
    parser.add_argument("--seconds", type=float, nargs="+", default=[30.0, 600.0], help="track lengths in s")
    parser.add_argument("--rate", type=int, default=44100, help="input sample rate in Hz (default 44100)")
    parser.add_argument("--channels", type=int, default=2, choices=(1, 2), help="input channels (default 2)")
    parser.add_argument("--batch-size", type=int, default=1, help="windows per model call (the Separator's default)")
    args = parser.parse_args()

    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)

    import sepzoo
    from sepzoo.separator import Separator

    model = sepzoo.load(args.model, weights=None)
    separator = Separator(model, batch_size=args.batch_size)
    print(f"model {args.model}: {model.count_params():,} params, {model.sample_rate} Hz, "
          f"context {model.context_samples} / target {model.target_samples} samples, {len(model.sources)} sources; "
          f"input {args.rate} Hz x {args.channels} ch; batch {args.batch_size}; 1 CPU thread")
    print("| track (s) | windows | wall (s) | real-time factor | traced peak (MB) | max RSS so far (MB) |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        write_track(folder / "warmup.wav", 1.0, args.rate, args.channels)
        separator.separate_file(folder / "warmup.wav", folder / "out")
        for seconds in sorted(args.seconds):
            track = folder / f"track_{seconds:g}s.wav"
            write_track(track, seconds, args.rate, args.channels)
            windows = separator.windows_for(round(seconds * model.sample_rate))
            tracemalloc.start()
            start = time.perf_counter()
            separator.separate_file(track, folder / "out")
            wall = time.perf_counter() - start
            _, traced_peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            max_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(f"| {seconds:g} | {windows} | {wall:.1f} | {wall / seconds:.3f} | {traced_peak / 1e6:.1f} | "
                  f"{max_rss_mb:.0f} |", flush=True)
            track.unlink()


if __name__ == "__main__":
    main()
