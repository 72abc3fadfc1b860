"""Peak memory of file separation per engine and track length: does it stay flat as the track grows?

    python benchmarks/memory.py                                   # 30 s and 10 min, every engine, lightweight_aspp
    python benchmarks/memory.py --lengths 30 120 --engines onnx litert --threads 1

For each length a synthetic stereo 44.1 kHz track (``benchmarks/separate_speed.py``'s sines plus noise, written
block by block) is separated by ``benchmarks/engine_runner.py`` in a fresh process per engine and length:
``Separator.separate_file`` streams the file through resampling, the model's windows and overlap-add, and
writes the stems as it goes. Reported: the process's peak resident memory (``VmHWM``: the runtime, the
model and every buffer), the growth from the shortest to the longest track, the real-time factor, and which of
TensorFlow / Keras / JAX each run imported (the ONNX and LiteRT engines import none of them). Exports are
made once under ``--out`` as in ``benchmarks/speed.py``.

Writes ``--out/memory.json`` and ``--out/memory.md``. Numbers only; nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from engine_runner import ENGINES, EXPORTED  # noqa: E402
from separate_speed import write_track  # noqa: E402
from speed import DEFAULT_ENGINES, INPUT_CHANNELS, INPUT_RATE, REPO, calibration_tree, export, run_engine  # noqa: E402


def length_label(seconds: float) -> str:
    return f"{seconds / 60:g} min" if seconds >= 60 else f"{seconds:g} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="lightweight_aspp", help="zoo entry")
    parser.add_argument("--engines", nargs="+", choices=ENGINES, default=list(DEFAULT_ENGINES))
    parser.add_argument("--lengths", nargs="+", type=float, default=[30.0, 600.0], help="track lengths, seconds")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=1, help="Separator windows per model call (its default)")
    parser.add_argument("--out", type=Path, default=REPO / "runs" / "speed")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    lengths = sorted(args.lengths)
    songs = {}
    for seconds in lengths:
        songs[seconds] = args.out / f"input_{seconds:g}s.wav"
        if not songs[seconds].is_file():
            write_track(songs[seconds], seconds, INPUT_RATE, INPUT_CHANNELS)
    calibration = calibration_tree(args.out, songs[lengths[0]])

    rows = []
    for engine in args.engines:
        export_dir = export(args.model, engine, args.out, calibration) if engine in EXPORTED else None
        runs = {}
        for seconds in lengths:
            run = run_engine(args.model, engine, args.threads, songs[seconds], export_dir, args.batch_size, 0.25)
            if run is not None:
                runs[seconds] = run
                print(f"{engine} {length_label(seconds)}: {run['peak_rss_mb']:.0f} MB, RTF {run['rtf']:.3f}",
                      flush=True)
        if runs:
            rows.append({"engine": engine, "runs": {str(s): r for s, r in runs.items()},
                         "imports": next(iter(runs.values()))["imports"]})

    header = " | ".join(f"peak MB, {length_label(s)}" for s in lengths)
    lines = [f"# Peak resident memory, {args.model}, stereo {INPUT_RATE} Hz, {args.threads} thread(s)", "",
             f"| engine | {header} | growth {length_label(lengths[0])} -> {length_label(lengths[-1])} (MB) | "
             "RTF (longest) | imports |",
             "| --- | " + " | ".join("---:" for _ in lengths) + " | ---: | ---: | --- |"]
    for row in rows:
        runs = row["runs"]
        peaks = " | ".join(f"{runs[str(s)]['peak_rss_mb']:.0f}" if str(s) in runs else "-" for s in lengths)
        first, last = runs.get(str(lengths[0])), runs.get(str(lengths[-1]))
        growth = f"{last['peak_rss_mb'] - first['peak_rss_mb']:+.0f}" if first and last else "-"
        rtf = f"{last['rtf']:.3f}" if last else "-"
        lines.append(f"| {row['engine']} | {peaks} | {growth} | {rtf} | {', '.join(row['imports']) or 'numpy only'} |")
    report = "\n".join(lines) + "\n"
    (args.out / "memory.md").write_text(report)
    (args.out / "memory.json").write_text(json.dumps(rows, indent=2) + "\n")
    print("\n" + report)


if __name__ == "__main__":
    main()
