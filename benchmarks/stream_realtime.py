"""Real-time simulation of :class:`sepzoo.StreamingSeparator` on one core: latency and underruns.

    python benchmarks/stream_realtime.py                               # lightweight_aspp, Keras, 44.1 kHz stereo
    python benchmarks/stream_realtime.py --engine onnx --export runs/speed/exports/lightweight_aspp_onnx
    python benchmarks/stream_realtime.py --block 256 --seconds 30 --margins 0 50 100 200

An audio device delivers ``--block`` frames of stereo 44.1 kHz input every ``block / rate`` seconds and plays
the drums stem back after a fixed delay ``D``. The process is pinned to one core; every block is pushed as it
would be in the device callback thread and the compute time of each push is measured for real. The clock is
then replayed: block ``i`` is complete at ``a_i = (i + 1) * block / rate``; its push starts when both it has
arrived and the previous push has finished, and ends after its measured compute time; the stem samples it
returns are needed at ``sample / rate + D``. A sample that is later than that is an **underrun** (a gap in
the played stem). Reported for ``D`` = the streamer's stated latency (what the model's window needs, see
``StreamingSeparator``) plus one block plus each ``--margins`` value (ms of compute allowance): the blocks
with an underrun, and the smallest margin that has none. Sustained real time needs the real-time factor
(total compute / audio) below 1 too; it is printed. Numbers only; nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from engine_runner import ENGINES, EXPORTED, limit_threads  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=ENGINES, default="keras-tf")
    parser.add_argument("--model", default="lightweight_aspp", help="zoo name (keras-* engines)")
    parser.add_argument("--export", help="folder written by `sepzoo export` (exported engines)")
    parser.add_argument("--block", type=int, default=512, help="device block, frames at 44.1 kHz")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the simulated input")
    parser.add_argument("--margins", nargs="+", type=float, default=[0, 50, 100, 200, 400],
                        help="compute allowances on top of the stated latency, ms")
    args = parser.parse_args()
    if args.engine in EXPORTED and not args.export:
        parser.error(f"--engine {args.engine} needs --export FOLDER")
    limit_threads(1, args.engine)

    import tempfile

    import numpy as np
    import soundfile as sf

    from separate_speed import write_track
    from sepzoo.separator import StreamingSeparator
    from engine_runner import open_model

    args.threads = 1
    rate = 44100
    with tempfile.TemporaryDirectory() as folder:
        write_track(Path(folder) / "input.wav", args.seconds, rate, 2)
        audio, _ = sf.read(str(Path(folder) / "input.wav"), dtype="float32", always_2d=True)
    audio = audio.T.copy()
    model = open_model(args)
    warm = StreamingSeparator(model, rate, channels=2)  # graph tracing and allocation happen here, not timed
    warm.push(audio[:, :rate])
    warm.flush()

    streamer = StreamingSeparator(model, rate, channels=2)
    blocks = range(0, audio.shape[1] - args.block + 1, args.block)
    compute, returned = [], []
    for start in blocks:
        begin = time.perf_counter()
        stems = streamer.push(audio[:, start:start + args.block])
        compute.append(time.perf_counter() - begin)
        returned.append(next(iter(stems.values())).shape[-1])

    block_s = args.block / rate
    finish, before = [], 0.0
    for index, seconds in enumerate(compute):  # replay the device clock
        before = max((index + 1) * block_s, before) + seconds
        finish.append(before)
    first_sample = np.concatenate([[0], np.cumsum(returned)[:-1]])
    has_output = np.asarray(returned) > 0
    # Lateness of each push's first returned sample against a delay of 0: needed at first_sample / rate.
    lateness = np.asarray(finish)[has_output] - first_sample[has_output] / rate
    stated = streamer.latency_seconds + block_s
    needed_ms = max(0.0, float(lateness.max()) - stated) * 1000
    total = sum(compute)
    print(f"{getattr(model, 'name', args.model)} on {args.engine}, one core, {args.block}-frame blocks "
          f"({block_s * 1000:.1f} ms) of stereo {rate} Hz, {args.seconds:g} s")
    print(f"stated latency {streamer.latency_seconds * 1000:.1f} ms + one block; real-time factor "
          f"{total / args.seconds:.3f}; slowest push {max(compute) * 1000:.1f} ms; stem samples returned on "
          f"{int(has_output.sum())} of {len(compute)} blocks")
    print("\n| margin (ms) | total delay D (ms) | blocks with an underrun |\n| ---: | ---: | ---: |")
    for margin in args.margins:
        late = int(np.sum(lateness > stated + margin / 1000))
        print(f"| {margin:g} | {(stated + margin / 1000) * 1000:.1f} | {late} of {int(has_output.sum())} |")
    print(f"\nsmallest margin with no underrun: {needed_ms:.1f} ms (D = {stated * 1000 + needed_ms:.1f} ms)")


if __name__ == "__main__":
    main()
