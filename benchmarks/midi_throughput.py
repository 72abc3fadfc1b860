"""How fast the MIDI data engine makes training data, and whether it starves ``model.fit``.

Reports, for the ``midi4`` task at 22.05 kHz mono:
1. rendering throughput in seconds of audio produced per wall-clock second (every stem plus the mixture,
   i.e. song length x 5) with the renderer in-process and with 1 and 2 worker processes;
2. the time ``model.fit`` takes to drain N batches from the MIDI pipeline versus from in-memory arrays of the
   same shape, and the input-bound fraction ``1 - t_memory / t_pipeline``.

Uses the first ``--songs`` files of ``../shared/data/midi/freedoom`` when present, otherwise demo songs
composed in code. Never pass/fail; prints a table.

    python benchmarks/midi_throughput.py --songs 8 --batches 100
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from sepzoo.data.midi.compose import compose_demo_song
from sepzoo.data.midi import MidiChunkSource
from sepzoo.data.midi.splits import list_midi_files

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "data" / "midi" / "freedoom"
RATE, CHUNK = 22050, 16384


def corpus_files(songs: int, scratch: Path) -> list[Path]:
    """The first ``songs`` freedoom files, or as many composed 60 s songs written to ``scratch``."""
    if CORPUS.is_dir():
        return list_midi_files(CORPUS)[:songs]
    paths = []
    for seed in range(songs):
        path = scratch / f"demo{seed}.mid"
        compose_demo_song(seconds=60.0, seed=seed, tempo=90 + 5 * seed).write(str(path))
        paths.append(path)
    return paths


def render_throughput(paths: list[Path], workers: int) -> tuple[float, float, float]:
    """One pass with every chunk kept: (audio seconds per wall second, per render CPU second, wall seconds).

    Audio per CPU second is what one worker makes on a core of its own; on a shared machine it is the
    number to compare with the target, and the wall-clock rate shows how well workers actually overlap.
    """
    source = MidiChunkSource(paths, split=None, workers=workers, max_chunks_per_piece=None, pool_size=64,
                             gain_range=None, silence_db=-200.0, dominance_db=None)
    start = time.perf_counter()
    for _ in source:
        pass
    wall = time.perf_counter() - start
    audio = source.stats["audio_seconds"]
    return audio / wall, audio / source.stats["render_cpu_seconds"], wall


def small_model():
    """A 3-layer conv separator (~3 k params) standing in for a zoo model: a cheap step makes any input
    bottleneck visible."""
    import keras

    inputs = keras.Input((CHUNK, 1))
    x = keras.layers.Conv1D(16, 9, padding="same", activation="relu")(inputs)
    x = keras.layers.Conv1D(16, 9, padding="same", activation="relu")(x)
    model = keras.Model(inputs, keras.layers.Conv1D(4, 9, padding="same")(x))
    model.compile(optimizer="adam", loss="mae")
    return model


def fit_seconds(data, batches: int) -> float:
    """Wall time of the second of two ``fit`` epochs of ``batches`` steps on one iterator: steady state, after
    graph tracing and after the chunk pool has filled."""
    import keras

    class EpochClock(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds = time.perf_counter() - self.start

    clock = EpochClock()
    small_model().fit(data, steps_per_epoch=batches, epochs=2, shuffle=False, verbose=0, callbacks=[clock])
    return clock.seconds


def input_bound(paths: list[Path], args: argparse.Namespace) -> tuple[float, float]:
    """(fit seconds from the MIDI pipeline, fit seconds from in-memory arrays) for ``args.batches`` steps."""
    import tensorflow as tf

    from sepzoo.data.pipeline import make_tf_dataset

    batches, batch_size = args.batches, args.batch_size
    source = MidiChunkSource(paths, split=None, workers=args.workers, repeat=True, reuse_factor=args.reuse_factor,
                             max_chunks_per_piece=args.max_chunks_per_piece or None)
    piped = fit_seconds(make_tf_dataset(source, batch_size), batches)
    rng = np.random.default_rng(0)
    mixtures = (0.1 * rng.standard_normal((batch_size * 8, CHUNK, 1))).astype(np.float32)
    stems = np.repeat(mixtures / 4, 4, axis=2)
    memory = tf.data.Dataset.from_tensor_slices((mixtures, stems)).batch(batch_size).repeat().prefetch(2)
    return piped, fit_seconds(memory, batches)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--songs", type=int, default=8, help="MIDI files to render per measurement")
    parser.add_argument("--batches", type=int, default=100, help="fit steps per measurement")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="rendering processes feeding fit")
    parser.add_argument("--reuse-factor", type=int, default=1)
    parser.add_argument("--max-chunks-per-piece", type=int, default=32, help="0 = no cap")
    parser.add_argument("--skip-fit", action="store_true", help="only measure rendering")
    parser.add_argument("--skip-render", action="store_true", help="only measure fit")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with tempfile.TemporaryDirectory() as scratch:
        paths = corpus_files(args.songs, Path(scratch))
        print(f"{len(paths)} songs from {'freedoom' if CORPUS.is_dir() else 'compose_demo_song'}, "
              f"midi4, {RATE} Hz mono, {os.cpu_count()} CPUs")
        print(f"load average before: {os.getloadavg()[0]:.1f}")
        if not args.skip_render:
            rates = {}
            for workers in (0, 1, 2):
                rates[workers], per_cpu, wall = render_throughput(paths, workers)
                print(f"workers={workers}: {rates[workers]:4.0f} x real time wall-clock, {per_cpu:4.0f} x per render "
                      f"CPU second (all stems + mixture), {rates[workers] / per_cpu:.2f} cores busy, {wall:5.1f} s")
            print(f"speed-up 1 -> 2 workers: {rates[2] / rates[1]:.2f}x")
        if not args.skip_fit:
            piped, memory = input_bound(paths, args)
            print(f"fit {args.batches} batches of {args.batch_size} x {CHUNK} (workers={args.workers}, reuse_factor="
                  f"{args.reuse_factor}, max_chunks_per_piece={args.max_chunks_per_piece}): pipeline {piped:.1f} s, "
                  f"in-memory {memory:.1f} s, input-bound fraction {max(0.0, 1 - memory / piped):.2f}")


if __name__ == "__main__":
    main()
