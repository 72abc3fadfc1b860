"""The README's main job: `sepzoo demo` renders, separates, writes stems + PNG and scores every stem."""

import re

import numpy as np
import pytest
import soundfile as sf

from sepzoo.cli import main

pytest.importorskip("fluidsynth", reason="pyfluidsynth / libfluidsynth3 not installed (scripts/setup_env.sh installs them)")


def test_demo_writes_stems_plot_and_scores(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "-o", str(out), "--seconds", "4"]) == 0
    printed = capsys.readouterr().out
    assert "weights" in printed.splitlines()[0]
    mixture, rate = sf.read(out / "demo_song.wav", dtype="float32")
    assert rate == 22050 and len(mixture) >= 4 * rate * 0.9
    for stem in ("drums", "bass", "keys", "other"):
        estimate, estimate_rate = sf.read(out / "demo_song" / f"{stem}.wav", dtype="float32")
        reference, _ = sf.read(out / "reference" / f"{stem}.wav", dtype="float32")
        assert estimate_rate == rate and estimate.shape == mixture.shape == reference.shape
        assert np.sqrt(np.mean(reference**2)) > 1e-3, f"{stem} is silent in the demo song"
        assert re.search(rf"^\| {stem} \| -?\d+\.\d\d \| -?\d+\.\d\d \|$", printed, re.M)
    png = (out / "demo_song" / "spectrogram.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 10_000
