"""Training chunks per second of ``data.kind: musdb`` from MUSDB18-HQ WAV folders and from MUSDB18 ``.stem.mp4``
files, with and without the decoded-track cache. Prints a table; never pass/fail.

A MUSDB18-HQ-style tree of generated tracks (tones plus noise, 44.1 kHz stereo) is written to a temporary folder
and encoded to ``.stem.mp4`` (five AAC streams, 256 kb/s, as MUSDB18) with ffmpeg. Each row serves three passes
over the training tracks (``tracks * track_seconds / chunk_seconds`` chunks per pass) at the recipe's setting
(22.05 kHz mono, 16 384-sample chunks): the first pass decodes, later passes decode again (``cache: none``) or
reuse the cache. The real 7 s MUSDB18 sample (``../shared/data/musdb18_sample``) is timed too when present.

    python benchmarks/musdb_throughput.py [--tracks 6] [--seconds 20]
"""

from __future__ import annotations

import argparse
import itertools
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from sepzoo.data.musdb import STREAM_ORDER
from sepzoo.data.sources import make_source

RATE = 44100
SAMPLE = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "musdb18_sample"


def write_tree(root: Path, tracks: int, seconds: float) -> None:
    """``root/{train,test}/<track>/{mixture,drums,bass,other,vocals}.wav``, 16-bit like MUSDB18-HQ."""
    rng = np.random.default_rng(0)
    time_s = np.arange(int(RATE * seconds)) / RATE
    for split, count in (("train", tracks), ("test", 1)):
        for index in range(count):
            folder = root / split / f"Generated {index} - Track {index}"
            folder.mkdir(parents=True)
            stems = {name: (0.2 * np.sin(2 * np.pi * (80.0 * (k + 1) + index) * time_s)[:, None]
                            + rng.uniform(-0.05, 0.05, (time_s.size, 2)))
                     for k, name in enumerate(STREAM_ORDER[1:])}
            for name, audio in stems.items():
                sf.write(folder / f"{name}.wav", audio, RATE, subtype="PCM_16")
            sf.write(folder / "mixture.wav", sum(stems.values()), RATE, subtype="PCM_16")


def encode_stem_mp4(tree: Path, out: Path) -> None:
    """Each track folder of ``tree/{train,test}`` as ``out/<split>/<track>.stem.mp4`` (five AAC streams)."""
    for folder in sorted(tree.glob("*/*/")):
        target = out / folder.parent.name / f"{folder.name}.stem.mp4"
        target.parent.mkdir(parents=True, exist_ok=True)
        inputs = [arg for name in STREAM_ORDER for arg in ("-i", str(folder / f"{name}.wav"))]
        maps = [arg for index in range(len(STREAM_ORDER)) for arg in ("-map", str(index))]
        subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *inputs, *maps, "-c:a", "aac", "-b:a", "256k",
                        str(target)], check=True)


def chunks_per_second(root: Path, cache: str, cache_dir: Path, chunk_samples: int,
                      passes: int = 3) -> tuple[float, float]:
    """``(first pass, later passes)`` chunks per second of the training stream."""
    options = {"root": str(root), "cache": cache, "cache_dir": str(cache_dir), "validation_split": "random",
               "tracks_at_once": 2}
    source = make_source("musdb", split="train", sources=["drums", "bass", "other", "vocals"], sample_rate=22050,
                         channels=1, example_samples=chunk_samples, seed=0, options=options)
    per_pass = _chunks_per_pass(source, chunk_samples)
    stream = iter(source)
    start = time.perf_counter()
    for _ in itertools.islice(stream, per_pass):
        pass
    first = per_pass / (time.perf_counter() - start)
    start = time.perf_counter()
    for _ in itertools.islice(stream, per_pass * (passes - 1)):
        pass
    return first, per_pass * (passes - 1) / (time.perf_counter() - start)


def _chunks_per_pass(source, chunk_samples: int) -> int:
    """Chunks the training stream serves per pass over its tracks (from the file headers' lengths)."""
    from sepzoo.audio_io import audio_info

    total = 0
    for track in source.pools[0][0].tracks:
        location = track.location
        if location.is_dir():
            seconds = audio_info(location / "drums.wav").duration
        else:
            seconds = float(subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of",
                                            "csv=p=0", str(location)], capture_output=True, text=True).stdout)
        total += max(1, int(seconds * 22050) // chunk_samples)
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracks", type=int, default=6, help="generated training tracks (a quarter are held out)")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each generated track, s")
    parser.add_argument("--chunk-samples", type=int, default=16384, help="chunk length at 22.05 kHz, samples")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="musdb_bench_") as folder:
        folder = Path(folder)
        write_tree(folder / "hq", args.tracks, args.seconds)
        encode_stem_mp4(folder / "hq", folder / "mp4")
        corpora = {"MUSDB18-HQ WAV (generated)": folder / "hq", "MUSDB18 .stem.mp4 (generated)": folder / "mp4"}
        if SAMPLE.is_dir():
            (folder / "sample").mkdir()
            (folder / "sample" / "train").symlink_to(SAMPLE / "train")
            corpora["MUSDB18 .stem.mp4 (real 7 s sample)"] = folder / "sample"
        print(f"{args.tracks} generated tracks of {args.seconds:g} s (a quarter held out for validation); "
              f"chunks of {args.chunk_samples} samples at 22.05 kHz mono; 3 passes")
        print("| corpus | cache | first pass, chunks/s | later passes, chunks/s |")
        print("| --- | --- | ---: | ---: |")
        for index, (name, root) in enumerate(corpora.items()):
            for cache in ("none", "memory", "disk"):
                first, later = chunks_per_second(root, cache, folder / f"cache_{index}_{cache}", args.chunk_samples)
                print(f"| {name} | {cache} | {first:.0f} | {later:.0f} |", flush=True)


if __name__ == "__main__":
    main()
