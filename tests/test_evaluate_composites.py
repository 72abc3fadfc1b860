"""Scoring a vocals / accompaniment model on a MUSDB-style 4-stem tree, which has no ``accompaniment.wav``: the
evaluator builds that reference in memory as drums + bass + other (``sepzoo.data.musdb.TARGET_PARTS``)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import museval
import numpy as np
import pytest
import soundfile as sf
from conftest import FirModel

from sepzoo.cli import evaluate as evaluate_cli
from sepzoo.errors import DataError
from sepzoo.evaluation import Estimator, evaluate, open_test_set
from sepzoo.separator import Separator

RATE = 8000
SECONDS = 1
STEMS = ("drums", "bass", "other", "vocals")
DUO = ("vocals", "accompaniment")
MUSDB_ROOT = Path(__file__).resolve().parents[2] / "shared" / "data" / "musdb18_sample"


def four_stems(seed: int) -> dict[str, np.ndarray]:
    """Mono ``(1, samples)`` drums (noise bursts), bass (low sine), other (a chord), vocals (a vibrato tone)."""
    rng = np.random.default_rng(seed)
    t = np.arange(SECONDS * RATE) / RATE
    signals = {
        "drums": rng.standard_normal(t.size) * np.exp(-30 * (t % 0.25)),
        "bass": np.sin(2 * np.pi * (55 + 5 * seed) * t),
        "other": sum(np.sin(2 * np.pi * f * t) for f in (261.6, 329.6, 392.0)),
        "vocals": np.sin(2 * np.pi * (440 * t + 3 * np.sin(2 * np.pi * 5 * t))) * (0.5 + 0.5 * np.sin(np.pi * t)),
    }
    return {name: (0.1 * s / np.sqrt(np.mean(s**2)))[None].astype(np.float32) for name, s in signals.items()}


def write_tree(split_dir: Path, tracks: int = 2) -> Path:
    """``split_dir/<track>/{mixture,drums,bass,other,vocals}.wav``, float WAV, the mixture the sum of the stems."""
    for seed in range(tracks):
        folder = split_dir / f"track{seed}"
        folder.mkdir(parents=True)
        stems = four_stems(seed)
        for name, audio in stems.items():
            sf.write(folder / f"{name}.wav", audio.T, RATE, subtype="FLOAT")
        sf.write(folder / "mixture.wav", sum(stems.values()).T, RATE, subtype="FLOAT")
    return split_dir


def read(path: Path) -> np.ndarray:
    return sf.read(path, dtype="float32", always_2d=True)[0].T


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``folder`` with its size and modification time."""
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*")}


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    return write_tree(tmp_path_factory.mktemp("musdb_style") / "test")


@pytest.fixture(scope="module")
def half_model() -> Estimator:
    """A 2-source stand-in model: both its vocals and its accompaniment are half the mixture (the equal split)."""
    model = FirModel([[0.5], [0.5]], context_samples=256, target_samples=256, sample_rate=RATE, sources=list(DUO))
    separator = Separator(model)
    return Estimator("half", separator.sources, separator.separate)


def test_accompaniment_reference_is_the_sum_of_drums_bass_and_other(tree):
    test_set = open_test_set(tree, sources=DUO)
    assert test_set.sources == DUO and test_set.composed == {"accompaniment": ("drums", "bass", "other")}
    for files in test_set.tracks:
        track = files.load(test_set.sources)
        folder = tree / files.name
        assert sorted(track.stems) == sorted(DUO)
        np.testing.assert_array_equal(track.stems["vocals"], read(folder / "vocals.wav"))
        parts = read(folder / "drums.wav") + read(folder / "bass.wav") + read(folder / "other.wav")
        np.testing.assert_allclose(track.stems["accompaniment"], parts, atol=1e-7)
        np.testing.assert_allclose(track.stems["vocals"] + track.stems["accompaniment"], track.mixture, atol=1e-6)


def test_sepzoo_evaluate_scores_a_two_stem_model_on_accompaniment(tree, half_model, tmp_path, monkeypatch, capsys):
    results = []

    def recorded(*args, **kwargs):
        results.append(evaluate(*args, **kwargs))
        return results[-1]

    monkeypatch.setattr("sepzoo.evaluation.model_estimator", lambda handle, stems=None: half_model)
    monkeypatch.setattr("sepzoo.evaluation.evaluate", recorded)
    before = snapshot(tree)
    parser = argparse.ArgumentParser()
    evaluate_cli.add_arguments(parser)
    args = parser.parse_args(["-m", "half", "--root", str(tree.parent), "--split", "test",
                              "--out", str(tmp_path / "out")])
    assert evaluate_cli.run(args) == 0
    assert snapshot(tree) == before  # nothing written into the user's tree
    table = capsys.readouterr().out
    assert "| SDR | accompaniment |" in table and "| SDR | vocals |" in table
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert np.isfinite(summary["methods"]["half"]["accompaniment"]["median"]["SDR"])
    result = results[0]
    assert result.sources == DUO and len(result.tracks) == 2
    for track in result.tracks:
        folder = tree / track.name
        mixture, vocals = read(folder / "mixture.wav"), read(folder / "vocals.wav")
        accompaniment = sum(read(folder / f"{s}.wav") for s in ("drums", "bass", "other"))
        sdr = museval.evaluate(np.stack([vocals.T, accompaniment.T]), np.stack([mixture.T / 2] * 2),
                               win=RATE, hop=RATE)[0]
        for index, source in enumerate(DUO):  # the equal split, scored against the summed reference
            expected = np.nanmedian(sdr[index])
            assert track.scores["equal split"][source].median("SDR") == pytest.approx(expected, abs=0.01)
            assert track.scores["half"][source].median("SDR") == pytest.approx(expected, abs=0.05)
    assert result.median("oracle IRM", "accompaniment", "SDR") > result.median("half", "accompaniment", "SDR") + 3


def test_an_accompaniment_file_is_used_when_every_track_has_one(tmp_path):
    tree = write_tree(tmp_path / "test")
    for folder in tree.iterdir():
        sf.write(folder / "accompaniment.wav", read(folder / "drums.wav").T, RATE, subtype="FLOAT")
    test_set = open_test_set(tree, sources=DUO)
    assert test_set.composed == {}
    track = test_set.tracks[0].load(test_set.sources)
    np.testing.assert_array_equal(track.stems["accompaniment"], read(tree / "track0" / "drums.wav"))


@pytest.mark.parametrize("sources, change, words", [
    (("vocals", "keys"), None, "track0/keys.wav: missing; every track needs mixture.wav and one file per source"),
    (DUO, "remove track1/other.wav", "track0/accompaniment.wav: missing; every track needs mixture.wav"),
    (DUO, "add track1/keys.wav", "track0/accompaniment.wav: missing"),  # not MUSDB's stems: no sum
])
def test_a_stem_that_cannot_be_composed_is_still_refused_in_one_line(tmp_path, sources, change, words):
    tree = write_tree(tmp_path / "test")
    if change and change.startswith("remove"):
        (tree / change.split()[1]).unlink()
    elif change:
        sf.write(tree / change.split()[1], read(tree / "track1" / "other.wav").T, RATE, subtype="FLOAT")
    with pytest.raises(DataError) as caught:
        open_test_set(tree, sources=sources)
    assert words in str(caught.value) and "\n" not in str(caught.value)
    model = Estimator("model", sources, lambda mixture, rate: dict.fromkeys(sources, mixture))
    with pytest.raises(DataError, match="missing"):
        evaluate(tree, [model])


@pytest.mark.skipif(not MUSDB_ROOT.is_dir(), reason="the MUSDB18 sample is in ../shared/data, absent here")
def test_musdb18_stem_files_compose_accompaniment_too():
    test_set = open_test_set(MUSDB_ROOT, "train", DUO)
    assert test_set.composed == {"accompaniment": ("drums", "bass", "other")}
    track = test_set.tracks[0].load(test_set.sources)
    parts = test_set.tracks[0].load(("drums", "bass", "other")).stems
    np.testing.assert_allclose(track.stems["accompaniment"], parts["drums"] + parts["bass"] + parts["other"],
                               atol=1e-6)
