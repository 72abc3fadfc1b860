"""Helpers the comparison scripts share (seed_b_ablation.py, seed_c_comparison.py): run `sepzoo train` for a list
of runs (skipping finished ones, resuming cut ones), score presets side by side with `sepzoo evaluate`, and
write a synthetic-tone test tree for --quick modes. Every step goes through the CLI a user would type."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SEPZOO = [sys.executable, "-m", "sepzoo"]
REFERENCES = ("mixture", "equal split", "oracle IRM")


def train_all(runs: list[tuple[str, str, list[str]]], out: Path, jobs: int) -> None:
    """Train ``(name, config, overrides)`` runs into ``out/<name>``, ``jobs`` at a time (one thread each when
    more than one). A run with a preset is finished and skipped; one with checkpoints is resumed."""
    env = dict(os.environ)
    if jobs > 1:
        env.update(TF_NUM_INTRAOP_THREADS="1", TF_NUM_INTEROP_THREADS="1", OMP_NUM_THREADS="1")
    pending, active = list(runs), []
    while pending or active:
        while pending and len(active) < jobs:
            name, config, overrides = pending.pop(0)
            if (out / name / "preset" / "metadata.json").is_file():
                continue  # finished earlier: re-running the script resumes where it stopped
            if (out / name / "checkpoints").is_dir():  # a run cut short: it goes on with its own config.yaml
                command = [*SEPZOO, "train", "--resume", str(out / name)]
            else:
                command = [*SEPZOO, "train", str(REPO / config), "-o", str(out / name),
                           *[item for o in overrides for item in ("--set", o)]]
            log = open(out / f"{name}.log", "w")
            active.append((name, subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)))
        time.sleep(2)
        for name, process in list(active):
            if process.poll() is not None:
                active.remove((name, process))
                if process.returncode != 0:
                    raise SystemExit(f"training {name} failed; see {out / f'{name}.log'}")


def evaluate(presets: list[Path], test: Path, out_dir: Path, jobs: int) -> dict:
    """`sepzoo evaluate` of the presets side by side, each labelled by its run's name; returns summary.json.

    The summary's methods are the presets' labels in order, then the reference rows (:data:`REFERENCES`)."""
    labelled = out_dir.parent / "presets"
    labelled.mkdir(parents=True, exist_ok=True)
    links = []
    for preset in presets:
        link = labelled / preset.parent.name
        if not link.exists():
            link.symlink_to(preset.resolve())
        links.append(link)
    if not (out_dir / "summary.json").is_file():
        command = [*SEPZOO, "evaluate", "-m", str(links[0]), "--root", str(test), "--out", str(out_dir),
                   "--jobs", str(jobs)]
        if len(links) > 1:
            command += ["--compare", *map(str, links[1:])]
        subprocess.run(command, check=True, cwd=REPO)
    return json.loads((out_dir / "summary.json").read_text())


def model_methods(summary: dict) -> list[str]:
    """The evaluated models' labels in a summary, in the order they were given (reference rows left out)."""
    return [method for method in summary["methods"] if method not in REFERENCES]


def median_sdr(summary: dict, method: str, sources: list[str]) -> dict[str, float]:
    """Median SDR (dB) of each source for one method of a summary."""
    return {name: summary["methods"][method][name]["median"]["SDR"] for name in sources}


def render_trees(midi: Path, task: str, trees: list[tuple[str, str, str, str, int]]) -> None:
    """Render ``(corpus, tree, soundfont, split, seconds)`` into ``renders/<task>/<tree>/<split>`` where missing
    (`sepzoo render --task TASK`; a split with a render.json is done)."""
    for corpus, name, font, split, seconds in trees:
        tree = REPO / "renders" / task / name
        if not (tree / split / "render.json").is_file():
            subprocess.run([*SEPZOO, "render", str(midi / corpus), "-o", str(tree), "--task", task, "--soundfont",
                            font, "--split", split, "--excerpt-seconds", str(seconds)], check=True, cwd=REPO)


def link_test_songs(out: Path, task: str, trees: list[str]) -> Path:
    """``out/test``: one folder holding the test songs of ``renders/<task>/<tree>/test`` for each tree (symlinks)."""
    test = out / "test"
    test.mkdir(parents=True, exist_ok=True)
    for name in trees:
        for song in sorted((REPO / "renders" / task / name / "test").iterdir()):
            if song.is_dir() and not (test / song.name).exists():
                (test / song.name).symlink_to(song.resolve())
    return test


def write_tone_tree(out: Path, sources: list[str], tracks: int = 3, seconds: float = 1.0) -> Path:
    """A test tree of synthetic tone stems named like ``sources`` (no MIDI data needed), for --quick modes."""
    import soundfile as sf

    from sepzoo.data import make_source

    test = out / "test"
    source = make_source("tones", split="validation", sources=sources, sample_rate=22050, channels=1,
                         example_samples=round(22050 * seconds), seed=7)
    for index, (mixture, stems) in zip(range(tracks), source):
        track = test / f"tones_{index}"
        track.mkdir(parents=True, exist_ok=True)
        sf.write(track / "mixture.wav", mixture, 22050, subtype="FLOAT")
        for k, name in enumerate(sources):
            sf.write(track / f"{name}.wav", stems[:, k], 22050, subtype="FLOAT")
    return test
