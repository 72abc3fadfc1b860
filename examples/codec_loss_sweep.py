"""Re-measure the claim of docs/research.md, part A: does the codec-approximation loss help small spectrogram U-Nets
over plain L1, and does the gain vanish with capacity? P1-P5 (SpectrogramUNet, 4..64 base filters) x {L1 of
magnitude spectrograms (`spectral_l1`), codec loss (`codec`: L1 after the frozen codec_emulator_spectrogram)}, all
trained for speech denoising on the same data stream, steps and batch (zoo_configs/codec_loss_sweep.yaml), then
scored on the test split (speakers and noise no run heard) with SI-SDR, wideband PESQ and STOI beside the noisy
input (`sepzoo.evaluation.speech`, the scores `sepzoo evaluate` reports), plus each model's magnitude-spectrogram L1
to the clean speech (the metric the baseline optimises).

    python examples/codec_loss_sweep.py              # full: 10 trainings (<= 20 min each), test split, tables
    python examples/codec_loss_sweep.py --quick      # P1 for a few steps on synthetic speech (what CI runs)
    python examples/codec_loss_sweep.py --seed 1 --sizes p1 --out runs/codec_sweep_seed1   # P1 again, seed 1

Writes OUT/table.md, OUT/summary.json, OUT/metrics.png (each metric against params, one line per loss) and
OUT/spectrograms.png (one test example: clean, noisy, and P1's estimate under each loss); --publish-docs copies
them to docs/codec_loss_sweep.{md,png} and docs/codec_loss_spectrograms.png. Re-running resumes: finished runs are
skipped, cut ones resumed. Full mode needs ../shared/data (speech and noise) and writes renders/speech_test
(100 x 4 s, seed 0) if it is missing, the split examples/evaluate_speech_denoise.sh scores speech_denoise on.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np

from comparison_tools import REPO, SEPZOO, train_all

CONFIG = "zoo_configs/codec_loss_sweep.yaml"
SIZES = {"p1": 4, "p2": 8, "p3": 16, "p4": 32, "p5": 64}
QUICK_SIZES = ("p1",)
LOSSES = {
    "l1": ["loss.name=spectral_l1", "loss.kwargs={fft_size: 512, hop_size: 128}"],
    "codec": ["loss.name=codec", "loss.kwargs={emulator: codec_emulator_spectrogram}"],
}
LOSS_LABELS = {"l1": "L1 (spectral_l1)", "codec": "codec (codec_emulator_spectrogram)"}
METRICS = {"si_sdr": "SI-SDR (dB)", "pesq": "PESQ (wb)", "stoi": "STOI", "l1": "magnitude L1"}
NOISE = ["esc10", "blanket", "blanket_extra", "speech_commands_background", "librosa", "music_asterisk_moh"]
QUICK = ["schedule.steps_per_epoch=3", "schedule.max_epochs=1", "batch_size=2", "checkpoint_every=3",
         "data.validation_examples=4", "data.shuffle_buffer=0"]
FFT_SIZE, HOP_SIZE = 512, 128
NOISY = "noisy input"


def run_name(size: str, loss: str) -> str:
    return f"{size}_{loss}"


def write_synthetic_speech(out: Path, files: int = 24, seconds: float = 2.0, rate: int = 16000) -> tuple[Path, Path]:
    """Folders of synthetic 'speech' (harmonic tones with a gliding pitch and syllable-like gaps) and 'noise'
    (low-passed and white noise), one sub-folder per speaker / recording, for --quick (no ../shared); 24 of each
        put speakers and recordings in every split (splits go by a hash of the sub-folder name)."""
    import soundfile as sf

    rng = np.random.default_rng(0)
    t = np.arange(int(seconds * rate)) / rate
    for index in range(files):
        pitch = 110 + 30 * index + 20 * np.sin(2 * np.pi * 0.7 * t)
        phase = 2 * np.pi * np.cumsum(pitch) / rate
        voice = sum(np.sin(k * phase) / k for k in range(1, 12))
        envelope = np.clip(np.sin(2 * np.pi * 2.5 * t + index), 0, None) ** 0.5
        folder = out / "speech" / f"speaker_{index}"
        folder.mkdir(parents=True, exist_ok=True)
        sf.write(folder / "utterance.wav", (0.1 * voice * envelope).astype(np.float32), rate)
        noise = rng.standard_normal(t.size)
        if index % 2:
            noise = np.convolve(noise, np.ones(8) / 8, mode="same")
        folder = out / "noise" / f"recording_{index}"
        folder.mkdir(parents=True, exist_ok=True)
        sf.write(folder / "noise.wav", (0.05 * noise).astype(np.float32), rate)
    return out / "speech", out / "noise"


def render_test(speech: list[Path], noise: list[Path], out: Path, examples: int, seconds: float) -> Path:
    """The test split (``sepzoo render --task speech_denoise``) in ``out``, unless it is there; returns ``out``."""
    if not (out / "test" / "render.json").is_file():
        subprocess.run([*SEPZOO, "render", "--task", "speech_denoise", "--speech", *map(str, speech), "--noise",
                        *map(str, noise), "--split", "test", "--examples", str(examples), "--seconds", str(seconds),
                        "--sample-rate", "16000", "--seed", "0", "-o", str(out)], check=True, cwd=REPO)
    return out


def magnitude(waveform: np.ndarray) -> np.ndarray:
    """|STFT| (512-sample periodic Hann frames every 128 samples, centred) of a mono waveform: (frames, 257)."""
    from sepzoo.data.codec_pairs import magnitude_spectrogram

    return magnitude_spectrogram(np.asarray(waveform, np.float32), FFT_SIZE, HOP_SIZE)


def score_files(test: Path, estimate_of) -> dict[str, dict[str, float]]:
    """Per test example: SI-SDR (dB), wideband PESQ and STOI of ``estimate_of(mixture, rate)`` against the clean
    speech (:func:`sepzoo.evaluation.speech.score_speech`, what `sepzoo evaluate` reports; NaN where a score
    cannot be computed) and its magnitude L1, mean |S(estimate) - S(speech)| (the quantity `spectral_l1` trains on)."""
    from sepzoo.audio_io import read_audio
    from sepzoo.evaluation.speech import score_speech

    files = {}
    for track in sorted(p for p in test.iterdir() if p.is_dir()):
        mixture, rate = read_audio(track / "mixture.wav")
        speech = read_audio(track / "speech.wav")[0]
        estimate = estimate_of(mixture, rate)
        files[track.name] = {**score_speech(speech, estimate, rate).values,
                             "l1": float(np.mean(np.abs(magnitude(estimate[0]) - magnitude(speech[0]))))}
    return files


def run_scores(out: Path, name: str, test: Path) -> dict[str, dict[str, float]]:
    """:func:`score_files` of run ``name``'s preset (or of the noisy input for ``NOISY``), cached in OUT/eval."""
    cache = out / "eval" / f"{name}.json"
    if not cache.is_file():
        if name == NOISY:
            files = score_files(test, lambda mixture, rate: mixture)
        else:
            from sepzoo.separator import Separator
            from sepzoo.zoo import load_preset

            separator = Separator(load_preset(out / name / "preset"), progress=False)
            files = score_files(test, lambda mixture, rate: separator.separate(mixture, rate)["speech"])
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps(files, indent=1) + "\n")
    return json.loads(cache.read_text())


def aggregate(files: dict[str, dict[str, float]]) -> dict:
    """Mean and median over files (NaN scores left out) per speech metric, and the mean magnitude L1."""
    values = {metric: np.array([file[metric] for file in files.values()], float) for metric in METRICS}
    return {**{metric: {"mean": float(np.nanmean(values[metric])), "median": float(np.nanmedian(values[metric])),
                        "scored_files": int(np.sum(~np.isnan(values[metric])))} for metric in ("si_sdr", "pesq", "stoi")},
            "l1": float(np.nanmean(values["l1"]))}


def separate_one(run: Path, track: Path) -> np.ndarray:
    """The speech estimate (mono, 16 kHz) of one test example by the run's preset."""
    from sepzoo.audio_io import read_audio
    from sepzoo.separator import Separator
    from sepzoo.zoo import load_preset

    mixture, rate = read_audio(track / "mixture.wav")
    return Separator(load_preset(run / "preset"), progress=False).separate(mixture, rate)["speech"][0]


def table(rows: list[dict], noisy: dict[str, float], steps: int, batch: int) -> str:
    columns = ["si_sdr", "pesq", "stoi"]
    lines = [f"Speech denoising on the test split (speakers and noise recordings no run trained on). Every run: "
             f"{steps} steps of batch {batch} x 1.016 s, same data stream. SI-SDR (dB), wideband PESQ and STOI: mean "
             "over files (median in brackets); magnitude L1: mean |S(estimate) - S(speech)| (512/128 STFT), "
             "lower is better.", "",
             "| model | params | loss | wall time | SI-SDR (dB) | PESQ (wb) | STOI | magnitude L1 |",
             "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |"]
    for row in rows:
        cells = [f"{row[m]['mean']:.2f} ({row[m]['median']:.2f})" if m != "stoi" else
                 f"{row[m]['mean']:.3f} ({row[m]['median']:.3f})" for m in columns]
        lines.append(f"| {row['size'].upper()} | {row['params']:,} | {row['loss']} | {row['wall_time_s'] / 60:.1f} min "
                     f"| {' | '.join(cells)} | {row['l1']:.4f} |")
    cells = [f"{noisy[m]['mean']:.2f} ({noisy[m]['median']:.2f})" if m != "stoi" else
             f"{noisy[m]['mean']:.3f} ({noisy[m]['median']:.3f})" for m in columns]
    lines.append(f"| noisy input | | | | {' | '.join(cells)} | {noisy['l1']:.4f} |")
    lines += ["", "Codec loss minus L1, per model (positive = the codec loss did better; for magnitude L1, "
              "negative = the codec-loss model is closer):", "",
              "| model | SI-SDR (dB) | PESQ | STOI | magnitude L1 |", "| --- | ---: | ---: | ---: | ---: |"]
    by_run = {(row["size"], row["loss_key"]): row for row in rows}
    for size in dict.fromkeys(row["size"] for row in rows):
        if (size, "l1") in by_run and (size, "codec") in by_run:
            a, b = by_run[(size, "l1")], by_run[(size, "codec")]
            lines.append(f"| {size.upper()} | {b['si_sdr']['mean'] - a['si_sdr']['mean']:+.2f} | "
                         f"{b['pesq']['mean'] - a['pesq']['mean']:+.3f} | {b['stoi']['mean'] - a['stoi']['mean']:+.4f} "
                         f"| {b['l1'] - a['l1']:+.4f} |")
    return "\n".join(lines) + "\n"


def plot_metrics(rows: list[dict], noisy: dict, path: Path) -> None:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(12, 3.4))
    for axes, (metric, label) in zip(figure.subplots(1, len(METRICS)), METRICS.items()):
        for loss in LOSSES:
            mine = sorted((row for row in rows if row["loss_key"] == loss), key=lambda row: row["params"])
            values = [row[metric] if metric == "l1" else row[metric]["mean"] for row in mine]
            axes.plot([row["params"] for row in mine], values, marker="o", label=LOSS_LABELS[loss])
        axes.axhline(noisy[metric] if metric == "l1" else noisy[metric]["mean"], color="grey", linestyle=":",
                     label="noisy input")
        axes.set_xscale("log")
        axes.set_xlabel("parameters")
        axes.set_title(label + (" (mean)" if metric != "l1" else ", lower is better"), fontsize=9)
    axes.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def plot_spectrograms(test: Path, track: str, estimates: dict[str, np.ndarray], path: Path) -> None:
    """Clean speech, noisy input and each estimate of one test example, log magnitude (dB), 0-8 kHz."""
    from matplotlib.figure import Figure

    from sepzoo.audio_io import read_audio

    panels = {"clean speech": read_audio(test / track / "speech.wav")[0][0],
              "noisy input": read_audio(test / track / "mixture.wav")[0][0], **estimates}
    figure = Figure(figsize=(3.2 * len(panels), 3.2))
    reference = 20 * np.log10(np.max(magnitude(panels["clean speech"])) + 1e-9)
    for axes, (title, waveform) in zip(figure.subplots(1, len(panels)), panels.items()):
        db = 20 * np.log10(magnitude(waveform).T + 1e-9) - reference
        axes.imshow(db, origin="lower", aspect="auto", vmin=-80, vmax=0, cmap="magma",
                    extent=(0, len(waveform) / 16000, 0, 8))
        axes.set_title(title, fontsize=9)
        axes.set_xlabel("s")
    figure.axes[0].set_ylabel("kHz")
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="P1, a few steps, synthetic speech (CI)")
    parser.add_argument("--out", type=Path, default=REPO / "runs" / "codec_loss_sweep")
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--jobs", type=int, default=2, help="trainings at a time")
    parser.add_argument("--losses", nargs="+", choices=sorted(LOSSES), default=list(LOSSES))
    parser.add_argument("--sizes", nargs="+", choices=list(SIZES), default=list(SIZES), help="models to run")
    parser.add_argument("--seed", type=int, default=0, help="seed of weights and data stream (another seed: another "
                        "--out), e.g. --seed 1 --sizes p1 --out runs/codec_sweep_seed1")
    parser.add_argument("--train-only", action="store_true", help="train the runs, score nothing")
    parser.add_argument("--score-only", action="store_true", help="train nothing; score the finished runs (each "
                        "once: OUT/eval/<run>.json) and stop before the table")
    parser.add_argument("--publish-docs", action="store_true", help="copy the table and figures to docs/")
    args = parser.parse_args()
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)

    sizes = QUICK_SIZES if args.quick else tuple(args.sizes)
    if args.quick:
        speech, noise = write_synthetic_speech(out / "synthetic")
        data = [f"data.options.speech=[{speech}]", f"data.options.noise=[{noise}]", *QUICK]
        test = render_test([speech], [noise], out / "renders", examples=3, seconds=1.0)
    else:
        data = [f"seed={args.seed}"] if args.seed else []
        test = REPO / "renders" / "speech_test"
    runs = [(run_name(size, loss), CONFIG, [f"model.kwargs.base_filters={SIZES[size]}", *LOSSES[loss], *data])
            for loss in args.losses for size in sizes]
    # P5 first: the longest runs start while the others fill the second worker.
    runs.sort(key=lambda run: -SIZES[run[0].split("_")[0]])
    if not args.score_only:
        train_all(runs, out, args.jobs)
    if args.train_only:
        return
    if not args.quick:
        render_test([args.data / "speech"], [args.data / "noise" / name for name in NOISE], test, 100, 4.0)
    names = [run_name(size, loss) for size in sizes for loss in LOSSES]
    finished = [name for name in names if (out / name / "preset" / "metadata.json").is_file()]
    scores = {name: run_scores(out, name, test / "test") for name in [NOISY, *finished]}
    if args.score_only:  # each run is scored once, so a finished run can be scored while others still train
        return
    rows = []
    for name in names:
        metadata = json.loads((out / name / "preset" / "metadata.json").read_text())
        size, loss = name.split("_")
        rows.append({"run": name, "size": size, "loss_key": loss, "loss": LOSS_LABELS[loss].split(" ")[0],
                     "params": metadata["params"], "wall_time_s": metadata["training"]["wall_time_s"],
                     "steps": metadata["training"]["steps"], "batch": metadata["training"]["batch_size"],
                     **aggregate(scores[name])})
    noisy = aggregate(scores[NOISY])
    if len({(row["steps"], row["batch"]) for row in rows}) != 1:
        raise SystemExit(f"runs differ in steps or batch: {[(r['run'], r['steps'], r['batch']) for r in rows]}")
    (out / "table.md").write_text(table(rows, noisy, rows[0]["steps"], rows[0]["batch"]))
    plot_metrics(rows, noisy, out / "metrics.png")
    example = sorted(scores[NOISY])[0]
    smallest = sizes[0]
    plot_spectrograms(test / "test", example,
                      {f"{smallest.upper()} {LOSS_LABELS[loss].split(' ')[0]}": separate_one(out / run_name(smallest, loss),
                                                                                      test / "test" / example)
                       for loss in LOSSES}, out / "spectrograms.png")
    (out / "summary.json").write_text(json.dumps({"rows": rows, NOISY: noisy, "example": example}, indent=2)
                                      + "\n")
    print((out / "table.md").read_text())
    if args.publish_docs:
        shutil.copyfile(out / "table.md", REPO / "docs" / "codec_loss_sweep.md")
        shutil.copyfile(out / "metrics.png", REPO / "docs" / "codec_loss_sweep.png")
        shutil.copyfile(out / "spectrograms.png", REPO / "docs" / "codec_loss_spectrograms.png")


if __name__ == "__main__":
    main()
