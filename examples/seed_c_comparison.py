"""Re-run the comparison of docs/research.md, part C on the fixed4 task: the WaveNet separator trained with each
of the seed's four losses, then the conv baseline (plain and residual) with the loss that did best, all for the
same steps, batch and example length; every model scored with `sepzoo evaluate` on a test split rendered with a
soundfont none of them heard, plus each model's output-to-target energy ratio per stem (a collapse to silence
shows as a large negative dB).

    python examples/seed_c_comparison.py                 # full: renders, 6 trainings, evaluation (about 1 h)
    python examples/seed_c_comparison.py --quick         # a few steps on tones, one loss (what CI runs)

Full mode renders (if missing) the Freedoom and OpenMSX train/validation splits with TimGM6mb and their test
splits with FluidR3_GM (`sepzoo render --task fixed4`), trains zoo_configs/wavenet_separator_fixed4.yaml and
zoo_configs/conv_baseline_fixed4.yaml into OUT/<run>, and writes OUT/table.md, OUT/sdr.png and OUT/summary.json;
with --publish-docs it copies the table and plot to docs/seed_c_comparison.{md,png}, which the model cards quote.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
from pathlib import Path

import numpy as np

from comparison_tools import (REFERENCES, REPO, evaluate, link_test_songs, model_methods, render_trees, train_all,
                              write_tone_tree)
from comparison_tools import median_sdr as median_sdr_of

SOURCES = ["drums", "piano", "strings", "bass"]
LOSSES = ["mse", "mae", "spectral+mae", "difference+mae"]
QUICK_LOSSES = ["difference+mae"]
"""--quick trains the WaveNet separator with this one only: the whole path (best-loss pick, both baselines) at
three trainings instead of six."""
CORPORA = ["freedoom", "openmsx"]
FLUIDR3 = "/usr/share/sounds/sf2/FluidR3_GM.sf2"
QUICK = ["data.kind=tones", "data.options={}", "data.validation_examples=24", "data.shuffle_buffer=0",
         "schedule.steps_per_epoch=3", "schedule.max_epochs=1", "batch_size=4", "checkpoint_every=3"]


def run_name(model: str, loss: str) -> str:
    return f"{model}_{loss.replace('+', '_')}"


def energy_ratios(preset: Path, test: Path) -> dict[str, float]:
    """Per stem: 10 log10(sum of estimate energy / sum of target energy) over the test tracks, dB."""
    from sepzoo.data.stem_tree import open_stem_tree, read_track
    from sepzoo.separator import Separator
    from sepzoo.zoo import load_preset

    model = load_preset(preset)
    separator = Separator(model, progress=False)
    estimate_energy = dict.fromkeys(model.sources, 0.0)
    target_energy = dict.fromkeys(model.sources, 0.0)
    for track in open_stem_tree(test, sources=model.sources).tracks:
        mixture, stems, rate = read_track(track, model.sources)
        estimates = separator.separate(mixture, rate)
        for name in model.sources:
            estimate_energy[name] += float(np.sum(np.square(estimates[name])))
            target_energy[name] += float(np.sum(np.square(stems[name])))
    return {name: round(10 * math.log10((estimate_energy[name] + 1e-12) / (target_energy[name] + 1e-12)), 2)
            for name in model.sources}


def median_sdr(summary: dict, method: str) -> dict[str, float]:
    return median_sdr_of(summary, method, SOURCES)


def table(rows: list[dict], references: dict[str, dict[str, float]], steps: int, batch: int, chunk: int) -> str:
    lines = [f"Median SDR (dB, museval, SiSEC 2018 protocol) on the test split; energy = 10 log10(estimate energy / "
             f"target energy) per stem, dB. Every run: {steps} steps, batch {batch}, {chunk}-sample examples.", "",
             "| model | loss | params | wall time | " + " | ".join(f"{s} SDR" for s in SOURCES) + " | mean SDR | "
             + " | ".join(f"{s} energy" for s in SOURCES) + " |",
             "| --- | --- | ---: | ---: | " + " | ".join("---:" for _ in SOURCES) + " | ---: | "
             + " | ".join("---:" for _ in SOURCES) + " |"]
    for row in rows:
        sdr = row["sdr"]
        lines.append(f"| {row['model']} | {row['loss']} | {row['params']:,} | {row['wall_time_s'] / 60:.1f} min | "
                     + " | ".join(f"{sdr[s]:.2f}" for s in SOURCES) + f" | {np.mean(list(sdr.values())):.2f} | "
                     + " | ".join(f"{row['energy_db'][s]:+.1f}" for s in SOURCES) + " |")
    for name, sdr in references.items():
        lines.append(f"| {name} | | | | " + " | ".join(f"{sdr[s]:.2f}" for s in SOURCES)
                     + f" | {np.mean(list(sdr.values())):.2f} | " + " | ".join("" for _ in SOURCES) + " |")
    return "\n".join(lines) + "\n"


def plot(rows: list[dict], references: dict[str, dict[str, float]], path: Path) -> None:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(10, 4.5))
    axes = figure.subplots()
    labels = [f"{row['model']}\n{row['loss']}" for row in rows] + list(references)
    values = [row["sdr"] for row in rows] + list(references.values())
    width = 0.8 / len(SOURCES)
    for k, name in enumerate(SOURCES):
        axes.bar(np.arange(len(labels)) + (k - 1.5) * width, [v[name] for v in values], width, label=name)
    axes.set_xticks(np.arange(len(labels)), labels, fontsize=7)
    axes.set_ylabel("median SDR (dB)")
    axes.axhline(0, color="black", linewidth=0.5)
    axes.legend(ncols=4, fontsize=8)
    axes.set_title("fixed4, test split rendered with FluidR3_GM (unseen soundfont)")
    figure.tight_layout()
    figure.savefig(path, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few steps on synthetic tones (CI)")
    parser.add_argument("--out", type=Path, default=REPO / "runs" / "seed_c")
    parser.add_argument("--midi", type=Path, default=REPO.parent / "shared" / "data" / "midi")
    parser.add_argument("--jobs", type=int, default=2, help="trainings (and scoring workers) at a time")
    parser.add_argument("--publish-docs", action="store_true", help="copy table.md and sdr.png to docs/")
    parser.add_argument("--publish", metavar="VERSION", help="publish the WaveNet run with the best loss as "
                        "wavenet_separator/VERSION and the two baselines as conv_baseline(_residual)/VERSION, "
                        "their cards quoting the table (sepzoo.zoo.publish)")
    args = parser.parse_args()
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)

    losses = QUICK_LOSSES if args.quick else LOSSES
    if args.quick:
        overrides, test = QUICK, write_tone_tree(out, SOURCES)
    else:
        render_trees(args.midi, "fixed4", [spec for corpus in CORPORA for spec in [
            (corpus, f"timgm_{corpus}", "TimGM6mb.sf2", "train", 60),
            (corpus, f"timgm_{corpus}", "TimGM6mb.sf2", "validation", 20),
            (corpus, f"fluidr3_{corpus}", FLUIDR3, "test", 30)]])
        overrides, test = [], link_test_songs(out, "fixed4", [f"fluidr3_{corpus}" for corpus in CORPORA])

    # Stage 1: the WaveNet separator with each loss.
    wavenet = [(run_name("wavenet", loss), "zoo_configs/wavenet_separator_fixed4.yaml", [f"loss.name={loss}", *overrides])
               for loss in losses]
    train_all(wavenet, out, args.jobs)
    stage1 = evaluate([out / name / "preset" for name, _, _ in wavenet], test, out / "eval_wavenet", args.jobs)
    methods = model_methods(stage1)
    means = {loss: float(np.mean(list(median_sdr(stage1, method).values()))) for loss, method in zip(losses, methods)}
    best = max(means, key=means.get)
    print(f"best loss for the WaveNet separator: {best} (mean median SDR {means[best]:.2f} dB)")

    # Stage 2: the conv baseline, plain and residual, with that loss.
    baselines = [(run_name("conv_baseline", best), "zoo_configs/conv_baseline_fixed4.yaml", [f"loss.name={best}", *overrides]),
                 (run_name("conv_baseline_residual", best), "zoo_configs/conv_baseline_fixed4.yaml",
                  [f"loss.name={best}", "model.kwargs.residual=true", *overrides])]
    train_all(baselines, out, args.jobs)
    stage2 = evaluate([out / name / "preset" for name, _, _ in baselines], test, out / "eval_baselines", args.jobs)

    rows = []
    for (name, _, _), method, summary in [*zip(wavenet, methods, [stage1] * len(wavenet)),
                                          *zip(baselines, model_methods(stage2), [stage2] * 2)]:
        metadata = json.loads((out / name / "preset" / "metadata.json").read_text())
        rows.append({"run": name, "model": metadata["class"] + (" residual" if "residual" in name else ""),
                     "loss": metadata["training"]["loss"], "params": metadata["params"],
                     "wall_time_s": metadata["training"]["wall_time_s"], "steps": metadata["training"]["steps"],
                     "batch": metadata["training"]["batch_size"], "sdr": median_sdr(summary, method),
                     "energy_db": energy_ratios(out / name / "preset", test)})
    references = {name: median_sdr(stage1, name) for name in REFERENCES}
    (out / "table.md").write_text(table(rows, references, rows[0]["steps"], rows[0]["batch"],
                                        json.loads((out / rows[0]["run"] / "preset" / "metadata.json").read_text())
                                        ["context_samples"]))
    plot(rows, references, out / "sdr.png")
    (out / "summary.json").write_text(json.dumps({"best_loss": best, "rows": rows, "references": references},
                                                 indent=2) + "\n")
    print((out / "table.md").read_text())
    if args.publish_docs:
        shutil.copyfile(out / "table.md", REPO / "docs" / "seed_c_comparison.md")
        shutil.copyfile(out / "sdr.png", REPO / "docs" / "seed_c_comparison.png")
    if args.publish:
        publish(rows, best, out, args.publish)


def publish(rows: list[dict], best: str, out: Path, version: str) -> None:
    """The shipped entries of this comparison, each card quoting the whole table."""
    from sepzoo.zoo import publish as publish_run

    entries = {"wavenet_separator": run_name("wavenet", best), "conv_baseline": run_name("conv_baseline", best),
               "conv_baseline_residual": run_name("conv_baseline_residual", best)}
    licences = (REPO / "zoo_configs" / "fixed4.licences.md").read_text().strip()
    for name, run in entries.items():
        row = next(r for r in rows if r["run"] == run)
        evaluation = {
            "data": "fixed4 test split of the Freedoom and OpenMSX corpora rendered with FluidR3_GM (30 s excerpts), "
                    "a soundfont no model trained on",
            "summary": "Median SDR (dB): " + ", ".join(f"{s} {row['sdr'][s]:.2f}" for s in SOURCES)
                       + "; estimate / target energy (dB): "
                       + ", ".join(f"{s} {row['energy_db'][s]:+.1f}" for s in SOURCES),
            "sdr_db": row["sdr"], "energy_db": row["energy_db"],
            "table": (out / "table.md").read_text(),
            "command": f"python examples/seed_c_comparison.py --publish {version}",
        }
        index = publish_run(out / run, name, version, evaluation=evaluation, licences=licences,
                            note=f"Trained with loss {row['loss']} for {row['steps']} steps (batch {row['batch']}) in "
                                 f"the comparison of docs/research.md, part C (docs/seed_c_comparison.md).")
        print(f"published {name}/{version}: {index['versions'][version]['sha256']}")


if __name__ == "__main__":
    main()
