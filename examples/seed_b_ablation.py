"""Re-run the comparison of docs/research.md, part B on the midi4 task: LightweightASPP decoder variants a (RFPD),
b (RFPD + temporal attention) and c (upsampling + attention), each at 0.85 M parameters, against a mono Wave-U-Net
(M3 layout, 10.3 M parameters), with the same data, loss, batch and optimiser, under two budgets:

- the same training wall time on this machine (``--minutes`` per run, ``schedule.max_wall_time_s``), and
- the same number of steps: as many as the slowest model (Wave-U-Net) made in that time.

Every model is scored with `sepzoo evaluate` (museval, SiSEC 2018 protocol) on a test split rendered with a
soundfont none of them heard (FluidR3_GM), with the mixture, equal-split and oracle-mask rows for reference.

    python examples/seed_b_ablation.py                      # full: renders, 7 trainings (about 1 h 20 min), scoring
    python examples/seed_b_ablation.py --quick              # shrunk models, a few steps on synthetic tones (CI)
    python examples/seed_b_ablation.py --publish-docs       # also copy the table and plot to docs/
    python examples/seed_b_ablation.py --publish midi4-v1   # also publish wave_u_net/midi4-v1 (and a variant
                                                            # that beats the shipped lightweight_aspp)

Full mode renders (if missing) the Freedoom and OpenMSX train splits with TimGM6mb and sf_GMbank (60 s excerpts),
their validation splits with TimGM6mb (20 s) and their test splits with FluidR3_GM (30 s) into renders/midi4,
trains zoo_configs/wave_u_net_midi4.yaml and zoo_configs/lightweight_aspp_b_midi4.yaml (variants set with --set) into
OUT/<run>, scores the shipped `lightweight_aspp` on the same test split, and writes OUT/table.md, OUT/sdr_vs_params.png and OUT/summary.json. Each run's training steps per
second come from its own log (steps / training wall time); the inference real-time factor is measured on one
thread (benchmarks/model_speed.py) on 10 s of audio. Re-running the script skips finished runs and resumes cut ones.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

from comparison_tools import (REFERENCES, REPO, SEPZOO, evaluate, link_test_songs, median_sdr, model_methods,
                              render_trees, train_all, write_tone_tree)

sys.path.insert(0, str(REPO / "benchmarks"))
from model_speed import one_thread_rtfs  # noqa: E402

SOURCES = ["drums", "bass", "keys", "other"]
CORPORA = ["freedoom", "openmsx"]
FLUIDR3 = "/usr/share/sounds/sf2/FluidR3_GM.sf2"
ASPP = "zoo_configs/lightweight_aspp_b_midi4.yaml"
WAVE_U_NET = "zoo_configs/wave_u_net_midi4.yaml"
# run -> (label, config, overrides): the presets lightweight_aspp_a/_b/_c and the Wave-U-Net recipe.
MODELS = {
    "wave_u_net": ("Wave-U-Net (M3 layout)", WAVE_U_NET, []),
    "aspp_a": ("LightweightASPP a (RFPD)", ASPP, ["name=lightweight_aspp_a", "model.kwargs.variant=a"]),
    "aspp_b": ("LightweightASPP b (RFPD + attention)", ASPP, []),
    "aspp_c": ("LightweightASPP c (upsampling + attention)", ASPP,
               ["name=lightweight_aspp_c", "model.kwargs.variant=c",
                "model.kwargs.upsampling_channels=[512, 384, 256, 128]"]),
}
SLOWEST = "wave_u_net"
QUICK_RUNS = ["wave_u_net", "aspp_c"]  # --quick trains these two: the whole path, half the CI time
SHIPPED = "lightweight_aspp"
QUICK_DATA = ["data.kind=tones", "data.options={}", "data.validation_examples=8", "data.shuffle_buffer=0",
              "batch_size=4", "checkpoint_every=2", "schedule.steps_per_epoch=2"]
QUICK_MODELS = {  # shrunk so that CI trains each for a few steps in seconds
    "wave_u_net": ["model.kwargs.num_layers=4", "model.kwargs.filters_per_layer=6", "data.context_samples=755"],
    "aspp": ["data.context_samples=2048", "model.kwargs.encoder_channels=[8, 12, 16, 20, 24]",
             "model.kwargs.aspp_channels=16", "model.kwargs.decoder_channels=24", "model.kwargs.aspp_rates=[1, 2, 4]",
             "model.kwargs.output_channels_per_sample=4", "model.kwargs.upsampling_channels=[24, 20, 16, 12]"],
}


def trees(corpora: list[str]) -> list[tuple[str, str, str, str, int]]:
    """The midi4 trees the recipes read and the test split: ``(corpus, tree, soundfont, split, seconds)``."""
    return [spec for corpus in corpora for spec in [
        (corpus, f"timgm_{corpus}", "TimGM6mb.sf2", "train", 60),
        (corpus, f"timgm_{corpus}", "TimGM6mb.sf2", "validation", 20),
        (corpus, f"gmbank_{corpus}", "sf_GMbank.sf2", "train", 60),
        (corpus, f"fluidr3_{corpus}", FLUIDR3, "test", 30)]]


def runs(budget: str, seconds: float, steps: int | None, quick: bool) -> list[tuple[str, str, list[str]]]:
    """``(run, config, overrides)`` for one budget: ``"time"`` (``seconds`` each) or ``"steps"`` (``steps`` each,
    one epoch; the slowest model's time run already is its equal-steps run)."""
    planned = []
    for run, (_, config, overrides) in MODELS.items():
        if quick and run not in QUICK_RUNS:
            continue
        if budget == "steps" and run == SLOWEST:
            continue
        limits = ([f"schedule.max_wall_time_s={seconds}"] if budget == "time" else
                  [f"schedule.steps_per_epoch={steps}", "schedule.max_epochs=1"])
        shrink = QUICK_MODELS["wave_u_net" if run == SLOWEST else "aspp"] + QUICK_DATA if quick else []
        planned.append((run if budget == "time" else f"{run}_steps", config, [*overrides, *shrink, *limits]))
    return planned


def row(out: Path, run: str, summary: dict, method: str, rtf: float | None) -> dict:
    metadata = json.loads((out / run / "preset" / "metadata.json").read_text())
    training = metadata["training"]
    return {"run": run, "model": MODELS[run.removesuffix("_steps")][0], "params": metadata["params"],
            "steps": training["steps"], "wall_time_s": training["wall_time_s"],
            "steps_per_s": training["steps"] / training["wall_time_s"], "rtf": rtf,
            "sdr": median_sdr(summary, method, SOURCES)}


def table(rows: dict[str, list[dict]], references: dict[str, dict[str, float]], batch: int,
          shipped: tuple[str, dict[str, float]] | None) -> str:
    head = ("| model | params | steps | wall time | steps/s | RTF (1 thread) | " + " | ".join(SOURCES)
            + " | mean |\n| --- | ---: | ---: | ---: | ---: | ---: | " + " | ".join("---:" for _ in SOURCES)
            + " | ---: |")
    parts = [f"Median SDR (dB, museval, SiSEC 2018 protocol) per stem on the midi4 test split rendered with "
             f"FluidR3_GM (a soundfont no model trained on). Same data, loss (snr), batch ({batch}) and optimiser "
             f"for every run; steps/s = training steps / training wall time on this machine (2 CPU cores, "
             f"validation included); RTF = separation compute time / audio time on one thread."]
    for title, budget_rows in rows.items():
        parts += ["", f"**{title}**", "", head]
        for r in budget_rows:
            rtf = "-" if r["rtf"] is None else f"{r['rtf']:.3f}"
            parts.append(f"| {r['model']} | {r['params']:,} | {r['steps']} | {r['wall_time_s'] / 60:.1f} min | "
                         f"{r['steps_per_s']:.2f} | {rtf} | " + " | ".join(f"{r['sdr'][s]:.2f}" for s in SOURCES)
                         + f" | {np.mean(list(r['sdr'].values())):.2f} |")
    parts += ["", "**References**", "", "| row | " + " | ".join(SOURCES) + " | mean |",
              "| --- | " + " | ".join("---:" for _ in SOURCES) + " | ---: |"]
    for name, sdr in ([shipped] if shipped else []) + list(references.items()):
        parts.append(f"| {name} | " + " | ".join(f"{sdr[s]:.2f}" for s in SOURCES)
                     + f" | {np.mean(list(sdr.values())):.2f} |")
    return "\n".join(parts) + "\n"


def plot(rows: dict[str, list[dict]], references: dict[str, dict[str, float]], path: Path) -> None:
    """Mean median SDR against parameters (log scale), one marker per run and budget."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7.5, 4.5))
    axes = figure.subplots()
    for (title, budget_rows), marker in zip(rows.items(), "os"):
        for k, r in enumerate(budget_rows):
            axes.scatter(r["params"], np.mean(list(r["sdr"].values())), marker=marker, color=f"C{k}",
                         label=f"{r['model']} ({title.split(':')[0].lower()})")
    for (name, sdr), style in zip(references.items(), [":", "--", "-."]):
        axes.axhline(np.mean(list(sdr.values())), color="grey", linestyle=style, linewidth=0.8, label=name)
    axes.set_xscale("log")
    axes.set_xlabel("parameters")
    axes.set_ylabel("mean median SDR over 4 stems (dB)")
    axes.set_title("midi4, test split rendered with FluidR3_GM (unseen soundfont)")
    axes.legend(fontsize=6.5, loc="best")
    figure.tight_layout()
    figure.savefig(path, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shrunk models, a few steps on synthetic tones (CI)")
    parser.add_argument("--minutes", type=float, default=12.0, help="training wall time per run (default 12)")
    parser.add_argument("--out", type=Path, default=REPO / "runs" / "seed_b")
    parser.add_argument("--midi", type=Path, default=REPO.parent / "shared" / "data" / "midi")
    parser.add_argument("--jobs", type=int, default=1, help="scoring workers (trainings always run one at a time, "
                        "so that wall time means the same for each)")
    parser.add_argument("--publish-docs", action="store_true", help="copy table.md and the plot to docs/")
    parser.add_argument("--publish", metavar="VERSION", help="publish the Wave-U-Net run as wave_u_net/VERSION and "
                        "the best variant as lightweight_aspp/ASPP_VERSION if it beats the shipped weights (mean SDR)")
    parser.add_argument("--aspp-version", default="midi4-v4", help="version name for a winning variant")
    args = parser.parse_args()
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    seconds = 3.0 if args.quick else args.minutes * 60
    if args.quick:
        test = write_tone_tree(out, SOURCES)
    else:
        render_trees(args.midi, "midi4", trees(CORPORA))
        test = link_test_songs(out, "midi4", [f"fluidr3_{corpus}" for corpus in CORPORA])

    train_all(runs("time", seconds, None, args.quick), out, jobs=1)
    steps = json.loads((out / SLOWEST / "preset" / "metadata.json").read_text())["training"]["steps"]
    print(f"equal-steps budget: {steps} steps (what {SLOWEST} made in {seconds / 60:g} min)")
    train_all(runs("steps", seconds, steps, args.quick), out, jobs=1)

    time_runs = QUICK_RUNS if args.quick else list(MODELS)
    step_runs = [SLOWEST] + [f"{run}_steps" for run in time_runs if run != SLOWEST]
    ordered = time_runs + step_runs[1:]
    summary = evaluate([out / run / "preset" for run in ordered], test, out / "evaluation", args.jobs)
    methods = dict(zip(ordered, model_methods(summary)))
    rtfs = one_thread_rtfs([str(out / run / "preset") for run in time_runs], 2.0 if args.quick else 10.0)
    rtf_of = {run: rtfs.get(str(out / run.removesuffix("_steps") / "preset")) for run in ordered}
    rows = {f"Same wall time: {seconds / 60:g} min of training each": [
                row(out, run, summary, methods[run], rtf_of[run]) for run in time_runs],
            f"Same steps: {steps} each": [row(out, run, summary, methods[run], rtf_of[run]) for run in step_runs]}
    references = {name: median_sdr(summary, name, SOURCES) for name in REFERENCES}
    shipped = None if args.quick else shipped_row(test, out, args.jobs)
    batch = json.loads((out / SLOWEST / "preset" / "metadata.json").read_text())["training"]["batch_size"]
    (out / "table.md").write_text(table(rows, references, batch, shipped))
    plot(rows, references, out / "sdr_vs_params.png")
    (out / "summary.json").write_text(json.dumps({"equal_steps": steps, "rows": rows, "references": references,
                                                  "shipped": shipped}, indent=2) + "\n")
    print((out / "table.md").read_text())
    if args.publish_docs:
        shutil.copyfile(out / "table.md", REPO / "docs" / "seed_b_ablation.md")
        shutil.copyfile(out / "sdr_vs_params.png", REPO / "docs" / "seed_b_ablation.png")
    if args.publish:
        publish(rows, shipped, out, args.publish, args.aspp_version)


def shipped_row(test: Path, out: Path, jobs: int) -> tuple[str, dict[str, float]]:
    """The shipped `lightweight_aspp` (default version) scored on the same test split."""
    from sepzoo.zoo import get_preset

    version = get_preset(SHIPPED).default_version
    folder = out / "evaluation_shipped"
    if not (folder / "summary.json").is_file():
        subprocess.run([*SEPZOO, "evaluate", "-m", SHIPPED, "--root", str(test), "--out", str(folder),
                        "--jobs", str(jobs)], check=True, cwd=REPO)
    summary = json.loads((folder / "summary.json").read_text())
    return f"shipped {SHIPPED}/{version}", median_sdr(summary, model_methods(summary)[0], SOURCES)


def publish(rows: dict[str, list[dict]], shipped: tuple[str, dict[str, float]], out: Path, version: str,
            aspp_version: str) -> None:
    """wave_u_net/VERSION from its run, and the best equal-time variant as lightweight_aspp/ASPP_VERSION when its mean
    SDR beats the shipped weights' on this test split; each card quotes the whole table."""
    from sepzoo.zoo import publish as publish_run

    licences = (REPO / "zoo_configs" / "seed_b_midi4.licences.md").read_text().strip()
    time_rows = next(iter(rows.values()))
    best_variant = max((r for r in time_rows if r["run"] != SLOWEST), key=lambda r: np.mean(list(r["sdr"].values())))
    entries = [("wave_u_net", version, next(r for r in time_rows if r["run"] == SLOWEST))]
    if np.mean(list(best_variant["sdr"].values())) > np.mean(list(shipped[1].values())):
        entries.append((SHIPPED, aspp_version, best_variant))
    else:
        print(f"not publishing {best_variant['model']}: mean SDR {np.mean(list(best_variant['sdr'].values())):.2f} dB "
              f"does not beat {shipped[0]} ({np.mean(list(shipped[1].values())):.2f} dB)")
    for name, entry_version, r in entries:
        evaluation = {
            "data": "midi4 test split of the Freedoom and OpenMSX corpora rendered with FluidR3_GM (30 s excerpts), "
                    "a soundfont no model trained on",
            "summary": "Median SDR (dB): " + ", ".join(f"{s} {r['sdr'][s]:.2f}" for s in SOURCES),
            "sdr_db": r["sdr"], "table": (out / "table.md").read_text(),
            "command": f"python examples/seed_b_ablation.py --publish {version} --aspp-version {aspp_version}",
        }
        index = publish_run(out / r["run"], name, entry_version, evaluation=evaluation, licences=licences,
                            note=f"{r['model']}, trained for {r['wall_time_s'] / 60:.1f} min ({r['steps']} steps of "
                                 f"batch 8) on 2 CPU cores in the ablation of docs/research.md, part B "
                                 f"(docs/seed_b_ablation.md).")
        print(f"published {name}/{entry_version}: {index['versions'][entry_version]['sha256']}")


if __name__ == "__main__":
    main()
