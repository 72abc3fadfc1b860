"""sepzoo's music separation engines beside Open-Unmix and HTDemucs: real-time factor and peak memory, one run.

    python benchmarks/peers.py                                   # 30 s input, 1 thread, keras-tf onnx litert + peers
    python benchmarks/peers.py --threads 1 2 --engines keras-tf onnx litert litert-int8
    python benchmarks/peers.py --seconds 600                     # a 10 min track: memory growth with length
    python benchmarks/peers.py --no-sepzoo --seconds 10          # the peers alone

1. Writes one synthetic stereo 44.1 kHz track of ``--seconds`` (``write_track`` of ``separate_speed.py``) to
   ``--out``, and the ``sepzoo export`` each exported engine runs (``speed.py``'s, int8 calibrated on the
   track's first 10 s) under ``--out/exports``, both reused by later runs.
2. Installs the peers into their own virtual environment (``--peers-venv``, made with ``--peers-python`` on
   first use): the CPU wheel of ``torch==2.13.0``, then ``openunmix`` and ``demucs`` without their dependencies
   (both want torchaudio, which has no build for this torch; the model code needs only einops, julius, tqdm and
   NumPy) plus soundfile to read the input.
3. Runs, each in its own child process and one after the other (never two timed runs at once), for every
   ``--threads`` count: every sepzoo engine of ``--engines`` through ``benchmarks/engine_runner.py`` on zoo
   model ``--model`` (its shipped weights, random where it has none), then the peers through
   ``benchmarks/peer_music_runner.py``: Open-Unmix umxhq without Wiener filtering and HTDemucs (published
   configurations, random weights: speed and memory do not depend on the weight values). Each child is pinned
   to the thread count and, after a warm-up on a 2 s excerpt, times what a user waits for: reading the file,
   separating it and writing the stems as float WAV (interpreter start, imports and model construction are
   not counted). It also reports the peak resident memory of its whole process (runtime, model and buffers).
4. Prints one markdown table: system, engine, threads, real-time factor (wall / audio; below 1 is
   faster than real time), peak memory, and the ratios to sepzoo at the same thread count: RTF / the fastest
   sepzoo engine's RTF and peak memory / the leanest sepzoo engine's (above 1: the peer is slower / bigger).

Writes ``--out/peers.json`` and ``--out/peers.md``. A child that fails is reported in the table, not raised.
No assertions: this prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from engine_runner import ENGINES, EXPORTED  # noqa: E402  (no TensorFlow: it imports only the standard library)
from speed import INPUT_RATE, calibration_tree  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
BENCHMARKS = Path(__file__).resolve().parent
ENGINE_RUNNER = BENCHMARKS / "engine_runner.py"
PEER_RUNNER = BENCHMARKS / "peer_music_runner.py"
TORCH = "torch==2.13.0"
"""The CPU wheel; an unpinned or newer torch would make pip resolve a multi-GB CUDA build."""
PEER_PACKAGES = ["openunmix==1.3.0", "demucs==4.1.0", "einops==0.8.2", "julius==0.2.8", "tqdm==4.70.1",
                 "numpy==2.4.6", "soundfile==0.14.0", "cffi==2.1.1", "pycparser==3.12"]
"""Installed with ``--no-deps``: the peers' model code and what it imports, no torchaudio."""
PEERS = ("umxhq", "htdemucs")


def peers_python(venv: Path, python: str) -> Path:
    """The music peers' interpreter, creating the venv and installing the pinned packages on first use."""
    interpreter = venv / "bin" / "python"
    stamp = venv / ".peers-installed"
    wanted = " ".join([TORCH, *PEER_PACKAGES])
    if not stamp.is_file() or stamp.read_text() != wanted:
        subprocess.run([python, "-m", "venv", str(venv)], check=True)
        (venv / ".gitignore").write_text("*\n")  # keep the venv out of git wherever it lies
        pip = [str(interpreter), "-m", "pip", "install", "-q"]
        subprocess.run([*pip, TORCH], check=True)
        subprocess.run([*pip, "--no-deps", *PEER_PACKAGES], check=True)
        stamp.write_text(wanted)
    return interpreter


EXPORT_CHILD = """
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from speed import export
print(export(sys.argv[2], sys.argv[3], Path(sys.argv[4]), Path(sys.argv[5])))
"""
"""``speed.py``'s :func:`export` in a child: TensorFlow never loads in this parent (see :func:`run_child`)."""


def export_for(model: str, engine: str, out: Path, track: Path) -> Path:
    """The ``sepzoo export`` of ``model`` that ``engine`` runs, made once under ``out/exports`` by ``speed.py``'s
    :func:`export` (int8 calibrated on the input's first 10 s, as there)."""
    folder = out / "exports" / f"{model}_{engine}"  # where speed.py's export() puts it
    if (folder / "sepzoo.json").is_file():
        return folder
    calibration = calibration_tree(out, track)
    print(f"exporting {model} for {engine} ...", flush=True)
    result = subprocess.run([sys.executable, "-c", EXPORT_CHILD, str(BENCHMARKS), model, engine, str(out),
                             str(calibration)], check=False, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"export of {model} for {engine} failed:\n{result.stderr[-3000:]}")
    return Path(result.stdout.strip().splitlines()[-1])


def child_env(threads: int, peer: bool) -> dict[str, str]:
    """The environment of a timed child: every runtime's thread pools sized to ``threads``."""
    env = dict(os.environ)
    for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "TF_NUM_INTRAOP_THREADS",
                     "TF_NUM_INTEROP_THREADS"):
        env[variable] = str(threads)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if peer:  # the peers' venv must not see the project's packages
        for variable in ("PYTHONPATH", "VIRTUAL_ENV"):
            env.pop(variable, None)
    return env


def run_child(command: list[str], env: dict[str, str], what: str) -> dict:
    """Run one timed child; its JSON report, or ``{"error": ...}`` with the tail of its output.

    The children report ``VmHWM`` (``ru_maxrss`` would carry this parent's peak into them); the parent stays
    small anyway (NumPy and soundfile, the track written in blocks, exports made in children).
    """
    load = os.getloadavg()[0]  # other work on the machine slows every timing: recorded beside it
    print(f"running {what} (1-min load average {load:.2f}) ...", flush=True)
    result = subprocess.run(command, check=False, env=env, capture_output=True, text=True)
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    if result.returncode == 0 and lines:
        report = {**json.loads(lines[-1]), "load_before": round(load, 2)}
        print(f"  RTF {report['rtf']:.3f}, peak {report['peak_rss_mb']:.0f} MB", flush=True)
        return report
    tail = (result.stderr or result.stdout).strip().splitlines()[-5:]
    print(f"  failed (exit {result.returncode}): " + " / ".join(tail), flush=True)
    return {"error": f"exit {result.returncode}: {' / '.join(tail)}", "load_before": round(load, 2)}


def cpu_name() -> str:
    """The CPU model from /proc/cpuinfo where there is one."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def table(rows: list[dict]) -> str:
    """Markdown table of the rows, with each row's ratios to the best sepzoo run at its thread count."""
    lines = ["| system | engine | threads | RTF | peak memory (MB) | RTF / fastest sepzoo | memory / leanest sepzoo |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    for row in rows:
        if "error" in row:
            lines.append(f"| {row['system']} | {row['engine']} | {row['threads']} | failed: {row['error'][:80]} "
                         "| - | - | - |")
            continue
        ours = [r for r in rows if r["kind"] == "sepzoo" and r["threads"] == row["threads"] and "error" not in r]
        fastest = min((r["rtf"] for r in ours), default=None)
        leanest = min((r["peak_rss_mb"] for r in ours), default=None)
        rtf_ratio = f"{row['rtf'] / fastest:.2f}" if fastest else "-"
        memory_ratio = f"{row['peak_rss_mb'] / leanest:.2f}" if leanest else "-"
        lines.append(f"| {row['system']} | {row['engine']} | {row['threads']} | {row['rtf']:.3f} "
                     f"| {row['peak_rss_mb']:.0f} | {rtf_ratio} | {memory_ratio} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="input length in s (default 30; 600 for memory)")
    parser.add_argument("--threads", type=int, nargs="+", default=[1], help="CPU thread counts (default 1)")
    parser.add_argument("--engines", nargs="+", default=["keras-tf", "onnx", "litert"], choices=ENGINES,
                        help="sepzoo engines (default keras-tf onnx litert)")
    parser.add_argument("--model", default="lightweight_aspp", help="sepzoo zoo model (random weights)")
    parser.add_argument("--peers", nargs="+", default=list(PEERS), choices=PEERS, help="peers (default both)")
    parser.add_argument("--no-sepzoo", action="store_true", help="run the peers only")
    parser.add_argument("--no-peers", action="store_true", help="run the sepzoo engines only")
    parser.add_argument("--peers-venv", type=Path, default=REPO / ".venv-music-peers",
                        help="virtual environment of the peers (made on first use)")
    parser.add_argument("--peers-python", default="python3.11", help="interpreter that makes the peers' venv")
    parser.add_argument("--out", type=Path, default=REPO / "runs" / "peers", help="output folder")
    args = parser.parse_args()

    from separate_speed import write_track

    args.out.mkdir(parents=True, exist_ok=True)
    python = None if args.no_peers else peers_python(args.peers_venv, args.peers_python)
    engines = [] if args.no_sepzoo else args.engines
    if engines and not ENGINE_RUNNER.is_file():
        raise SystemExit(f"{ENGINE_RUNNER}: not found; pass --no-sepzoo to run the peers alone")
    track = args.out / f"input_{args.seconds:g}s.wav"
    if not track.is_file():
        write_track(track, args.seconds, INPUT_RATE, 2)
    exports = {engine: export_for(args.model, engine, args.out, track) for engine in engines if engine in EXPORTED}
    rows = []
    for threads in args.threads:
        for engine in engines:
            command = [sys.executable, str(ENGINE_RUNNER), "--engine", engine, "--model", args.model,
                       "--input", str(track), "--threads", str(threads), "--label", args.model]
            if engine in exports:
                command += ["--export", str(exports[engine])]
            report = run_child(command, child_env(threads, peer=False), f"sepzoo {engine}, {threads} thread(s)")
            rows.append({**report, "system": f"sepzoo {args.model}", "engine": engine, "kind": "sepzoo",
                         "threads": threads})
        for peer in [] if args.no_peers else args.peers:
            command = [str(python), str(PEER_RUNNER), "--system", peer, "--input", str(track),
                       "--threads", str(threads)]
            report = run_child(command, child_env(threads, peer=True), f"{peer}, {threads} thread(s)")
            rows.append({**report, "system": report.get("label", peer), "engine": "PyTorch", "kind": "peer",
                         "threads": threads})
    loads = [row["load_before"] for row in rows]
    header = (f"Synthetic stereo 44.1 kHz track of {args.seconds:g} s; each system in its own process, one at a "
              f"time, pinned to its thread count; peers with random weights; RTF = wall time of reading, separating "
              f"and writing stems / audio duration, after a warm-up; peak memory = the child's max RSS. "
              f"{cpu_name()}, {os.cpu_count()} CPUs; 1-min load average before the runs "
              f"{min(loads, default=0):.2f} to {max(loads, default=0):.2f}.\n\n")
    text = table(rows)
    (args.out / "peers.md").write_text(header + text + "\n")
    (args.out / "peers.json").write_text(json.dumps({"seconds": args.seconds, "model": args.model,
                                                     "rows": rows}, indent=2) + "\n")
    print(header + text)


if __name__ == "__main__":
    main()
