"""The SiSEC 2018 evaluator on small synthetic stem trees (16 kHz, 2-3 s, 2-3 sources) and the MUSDB18 sample.

museval solves BSS Eval's 512-tap distortion filters per call, so one module-scoped evaluation feeds most
tests; the bad-tree tests only read headers.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import museval
import numpy as np
import pytest
import soundfile as sf

from sepzoo.cli import evaluate as evaluate_cli
from sepzoo.errors import ConfigError, DataError, SepzooError
from sepzoo.evaluation import (REFERENCE_METHODS, Estimator, evaluate, markdown_table, open_test_set, plot_sdr,
                               write_json)
from sepzoo.evaluation.references import equal_split, oracle_irm
from sepzoo.evaluation.scoring import score_track

RATE = 16000
SECONDS = 3
SOURCES = ("bass", "drums", "keys")
MUSDB_ROOT = Path(__file__).resolve().parents[2] / "shared" / "data" / "musdb18_sample"


def synth_stems(seed: int, channels: int = 1, seconds: int = SECONDS) -> dict[str, np.ndarray]:
    """Three equally loud (RMS 0.1) sources: a decaying noise burst every 0.25 s, a low sine, a triad."""
    rng = np.random.default_rng(seed)
    t = np.arange(seconds * RATE) / RATE
    signals = {
        "bass": np.sin(2 * np.pi * (55 + 10 * seed) * t),
        "drums": rng.standard_normal(t.size) * np.exp(-30 * (t % 0.25)),
        "keys": sum(np.sin(2 * np.pi * f * t) for f in (261.6, 329.6, 392.0)) * (0.6 + 0.4 * np.sin(2 * np.pi * t)),
    }
    stems = {}
    for name, signal in signals.items():
        stereo = np.stack([signal * (1.0 - 0.3 * c) for c in range(channels)])
        stems[name] = (0.1 * stereo / np.sqrt(np.mean(stereo**2))).astype(np.float32)
    return stems


def write_track(folder: Path, stems: dict[str, np.ndarray], rate: int = RATE) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, audio in stems.items():
        sf.write(folder / f"{name}.wav", audio.T, rate, subtype="FLOAT")
    sf.write(folder / "mixture.wav", sum(stems.values()).T, rate, subtype="FLOAT")


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    """``ROOT/test/{b_gap, c_absent}``: keys silent in b_gap's first second, bass silent in all of c_absent."""
    root = tmp_path_factory.mktemp("renders")
    tracks = {name: synth_stems(seed) for seed, name in enumerate(("b_gap", "c_absent"))}
    tracks["b_gap"]["keys"][:, :RATE] = 0.0
    tracks["c_absent"]["bass"][:] = 0.0
    for name, stems in tracks.items():
        write_track(root / "test" / name, stems)
    return root


def true_stems(root: Path) -> Estimator:
    """An 'estimator' that looks the true stems up by the mixture it is given."""
    answers = {}
    for folder in sorted((root / "test").iterdir()):
        mixture = sf.read(folder / "mixture.wav", dtype="float32", always_2d=True)[0].T
        answers[mixture.tobytes()] = {s: sf.read(folder / f"{s}.wav", dtype="float32", always_2d=True)[0].T
                                      for s in SOURCES}
    return Estimator("truth", SOURCES, lambda mixture, rate: answers[mixture.tobytes()])


@pytest.fixture(scope="module")
def result(tree):
    """The true stems and the reference methods, scored with two worker processes."""
    return evaluate(tree, [true_stems(tree)], split="test", jobs=2)


def test_table_has_the_model_and_the_three_reference_methods(result):
    table = markdown_table(result)
    header = table.splitlines()[0]
    assert header == "| metric | source | truth | mixture | equal split | oracle IRM |"
    rows = [line.split(" | ")[:2] for line in table.splitlines()[2:] if line.startswith("| ")]
    assert [(metric.strip("| "), source) for metric, source in rows] == [
        (metric, source) for metric in ("SDR", "SIR", "SAR", "dropped frames") for source in SOURCES]
    assert result.methods == ("truth", *REFERENCE_METHODS)


def test_oracle_sdr_matches_museval_called_directly(tree, result):
    per_source = {source: [] for source in SOURCES}
    for folder in sorted((tree / "test").iterdir()):
        mixture = sf.read(folder / "mixture.wav", dtype="float32", always_2d=True)[0].T
        stems = {s: sf.read(folder / f"{s}.wav", dtype="float32", always_2d=True)[0].T for s in SOURCES}
        estimates = oracle_irm(mixture, stems)
        present = [s for s in SOURCES if np.any(stems[s])]  # museval refuses an all-zero reference
        sdr, _, _, _ = museval.evaluate(np.stack([stems[s].T for s in present]),
                                        np.stack([estimates[s].T for s in present]), win=RATE, hop=RATE)
        for index, source in enumerate(present):
            per_source[source].append(np.nanmedian(sdr[index]))
    for source in SOURCES:
        expected = float(np.median(per_source[source]))
        assert result.median("oracle IRM", source, "SDR") == pytest.approx(expected, abs=0.01)
        assert f"| SDR | {source} | " in markdown_table(result)
    assert len(per_source["bass"]) == 1  # c_absent has no bass to score


def test_silent_reference_frames_are_dropped_and_reported(result):
    assert result.total_frames == 2 * SECONDS
    assert result.silent_reference_frames("keys") == 1
    assert result.absent_tracks("bass") == ["c_absent"]
    for method in result.methods:
        # b_gap's first frame is NaN for every source; bass also misses c_absent's three frames
        assert result.dropped_frames(method, "drums") == 1
        assert result.dropped_frames(method, "keys") == 1
        assert result.dropped_frames(method, "bass") == 1 + SECONDS
    b_gap = next(track for track in result.tracks if track.name == "b_gap")
    keys_frames = b_gap.scores["equal split"]["keys"].frames["SDR"]
    assert math.isnan(keys_frames[0]) and not any(math.isnan(value) for value in keys_frames[1:])
    table = markdown_table(result)
    assert "| dropped frames | bass | 4/6 | 4/6 | 4/6 | 4/6 |" in table
    assert "silent reference frames: bass 3, keys 1" in table
    assert "bass in 1 (c_absent)" in table


def test_true_stems_score_far_above_the_equal_split(result):
    for source in SOURCES:
        assert result.median("truth", source, "SDR") > result.median("equal split", source, "SDR") + 40


def test_equal_split_beats_the_mixture_and_the_oracle_beats_both(result):
    for source in SOURCES:
        mixture, split, oracle = (result.median(method, source, "SDR") for method in REFERENCE_METHODS)
        assert split > mixture + 3  # 3 equal sources: about +1.8 dB against -3 dB
        assert oracle > split + 5


def test_groups_of_sources_are_scored_on_their_summed_stems(tree):
    groups = {"low": ["bass", "drums"], "keys": "keys"}  # one source may be named without a list
    truth = true_stems(tree)
    def grouped(mixture, rate):
        stems = truth.separate(mixture, rate)
        return {"low": stems["bass"] + stems["drums"], "keys": stems["keys"]}

    summed_truth = Estimator("truth", tuple(groups), grouped)
    result = evaluate(tree, [summed_truth], split="test", stems=groups)
    assert result.sources == ("low", "keys")
    assert result.median("truth", "low", "SDR") > result.median("equal split", "low", "SDR") + 40
    # The equal split of two groups is the mixture / 2, scored against bass + drums: as museval says directly.
    expected = []
    for folder in sorted((tree / "test").iterdir()):
        mixture = sf.read(folder / "mixture.wav", dtype="float32", always_2d=True)[0].T
        stems = {s: sf.read(folder / f"{s}.wav", dtype="float32", always_2d=True)[0].T for s in SOURCES}
        references = np.stack([(stems["bass"] + stems["drums"]).T, stems["keys"].T])
        sdr = museval.evaluate(references, np.stack([mixture.T / 2] * 2), win=RATE, hop=RATE)[0]
        expected.append(np.nanmedian(sdr[0]))
    assert result.median("equal split", "low", "SDR") == pytest.approx(float(np.median(expected)), abs=0.01)
    with pytest.raises(ConfigError, match="the models return"):
        evaluate(tree, [truth], split="test", stems=groups)


def test_silent_estimate_frames_are_counted(tree):
    stems = synth_stems(7)
    references = {s: stems[s] for s in ("bass", "drums")}
    muted = {s: audio.copy() for s, audio in references.items()}
    muted["drums"][:, 2 * RATE:] = 0.0
    scores = score_track(references, muted, RATE)
    assert scores["drums"].silent_estimate_frames == 1
    assert scores["drums"].dropped_frames == scores["bass"].dropped_frames == 1
    assert scores["bass"].median("SDR") > 60
    muted["drums"][:] = 0.0  # museval raises on an all-zero estimate; every frame is dropped instead
    scores = score_track(references, muted, RATE)
    assert scores["bass"].dropped_frames == SECONDS and math.isnan(scores["bass"].median("SDR"))


def test_json_per_track_and_method_and_box_plot(result, tmp_path):
    written = write_json(result, tmp_path / "out")
    assert len(written) == 2 + 2 * len(result.methods)
    record = json.loads((tmp_path / "out" / "oracle_IRM" / "b_gap.json").read_text())
    assert record["frames"] == SECONDS and record["sources"]["keys"]["frames"]["SDR"][0] is None
    assert record["sources"]["keys"]["median"]["SDR"] == pytest.approx(
        next(t for t in result.tracks if t.name == "b_gap").scores["oracle IRM"]["keys"].median("SDR"))
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["methods"]["equal split"]["bass"]["dropped_frames"] == 4
    assert summary["absent_tracks"]["bass"] == ["c_absent"]
    png = plot_sdr(result, tmp_path / "box.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000


def test_cli_scores_a_stereo_split_with_isr(tmp_path, monkeypatch, capsys):
    duo = ("bass", "drums")  # two stereo sources keep museval's filter solves small
    for seed, name in enumerate(("solo", "second")):
        stems = synth_stems(seed, channels=2, seconds=2)
        write_track(tmp_path / "renders" / "test" / name, {s: stems[s] for s in duo})
    split = Estimator("split-model", duo, lambda mixture, rate: equal_split(mixture, duo))
    monkeypatch.setattr("sepzoo.evaluation.model_estimator", lambda handle, stems=None: split)
    parser = argparse.ArgumentParser()
    evaluate_cli.add_arguments(parser)
    args = parser.parse_args(["-m", "fake", "--root", str(tmp_path / "renders"), "--split", "test",
                              "--max-tracks", "1", "--out", str(tmp_path / "out"), "--plot", str(tmp_path / "b.png")])
    assert evaluate_cli.run(args) == 0
    table = capsys.readouterr().out
    assert "| ISR | drums |" in table and "median over 1 tracks" in table
    assert sorted(p.name for p in (tmp_path / "out" / "split-model").iterdir()) == ["second.json"]
    # the model is the equal split, so its row must equal the reference row
    line = next(line for line in table.splitlines() if line.startswith("| SDR | drums |"))
    cells = [cell.strip() for cell in line.strip("|").split("|")]
    assert cells[2] == cells[4]
    assert (tmp_path / "b.png").is_file()


def make_bad_tree(root: Path, problem: str) -> Path:
    """A one-track tree with one defect; returns the folder to pass as root."""
    if problem == "no tracks":
        (root / "empty" / "junk").mkdir(parents=True)
        return root / "empty"
    stems = synth_stems(1, seconds=1)
    write_track(root / "split" / "song", stems)
    broken = root / "split" / "song"
    if problem == "missing source":
        (broken / "keys.wav").unlink()
    elif problem == "length":
        sf.write(broken / "drums.wav", stems["drums"][:, :-100].T, RATE, subtype="FLOAT")
    elif problem == "rate":
        sf.write(broken / "drums.wav", stems["drums"].T, 22050, subtype="FLOAT")
    elif problem == "channels":
        sf.write(broken / "drums.wav", np.concatenate([stems["drums"]] * 2).T, RATE, subtype="FLOAT")
    return root if problem == "splits without --split" else root / "split"


@pytest.mark.parametrize("problem, words", [
    ("no tracks", "no tracks found"),
    ("missing source", "keys.wav: missing"),
    ("length", "length is 15900 samples but mixture.wav has 16000 samples"),
    ("rate", "sample rate is 22050 Hz but mixture.wav has 16000 Hz"),
    ("channels", "channel count is 2 but mixture.wav has 1"),
    ("splits without --split", "holds the splits split, not tracks; choose one with --split"),
])
def test_bad_trees_raise_one_line(tmp_path, problem, words):
    root = make_bad_tree(tmp_path, problem)
    with pytest.raises(DataError) as caught:
        open_test_set(root, sources=SOURCES)
    message = str(caught.value)
    assert words in message and "\n" not in message


def test_bad_arguments_raise_one_line(tmp_path, tree):
    other = Estimator("vocal-model", ("vocals", "accompaniment"), lambda mixture, rate: {})
    keys_only = Estimator("short", SOURCES, lambda mixture, rate: {"keys": mixture})
    cases = [
        (ConfigError, lambda: evaluate(tree / "test", [true_stems(tree), other]), "compare models of the same task"),
        (ConfigError, lambda: evaluate(tree / "test", [Estimator("equal split", SOURCES, None)]), "clashes"),
        (ConfigError, lambda: evaluate(tree / "test", jobs=0), "jobs=0"),
        (DataError, lambda: evaluate(tmp_path / "nowhere"), "no such folder"),
        (DataError, lambda: evaluate(tree / "test", [keys_only]), "returned no 'bass' stem"),
    ]
    for error_type, call, words in cases:
        with pytest.raises(error_type) as caught:
            call()
        assert isinstance(caught.value, SepzooError) and words in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.skipif(not MUSDB_ROOT.is_dir(), reason="the MUSDB18 sample is in ../shared/data, absent here")
def test_reads_real_musdb18_stems():
    for root, split in ((MUSDB_ROOT, "train"), (MUSDB_ROOT / "train", None)):
        test_set = open_test_set(root, split)
        assert test_set.sources == ("vocals", "drums", "bass", "other")
        assert [track.name for track in test_set.tracks] == ["Music Delta - 80s Rock"]
    track = test_set.tracks[0].load(("drums", "bass"))
    assert track.sample_rate == 44100 and track.mixture.shape == track.stems["drums"].shape == (2, 300032)
    references = {s: track.stems[s][:, 44100:3 * 44100] for s in ("drums", "bass")}  # 2 frames keep museval quick
    scores = score_track(references, oracle_irm(sum(references.values()), references), 44100)
    assert all(np.isfinite(scores[s].median("ISR")) and scores[s].median("SDR") > 5 for s in references)
    with pytest.raises(DataError, match="has no keys stem"):
        open_test_set(MUSDB_ROOT, "train", ("drums", "keys"))


@pytest.mark.parametrize("with_render_record", [False, True])
def test_a_stem_missing_from_the_first_track_is_refused_by_name(tmp_path, with_render_record):
    write_track(tmp_path / "split" / "a_first", {s: x for s, x in synth_stems(1, seconds=1).items() if s != "keys"})
    write_track(tmp_path / "split" / "b_second", synth_stems(2, seconds=1))
    if with_render_record:
        (tmp_path / "split" / "render.json").write_text(json.dumps({"sources": list(SOURCES), "sample_rate": RATE}))
    with pytest.raises(DataError) as caught:
        open_test_set(tmp_path / "split")  # sources from render.json, else every stem any track has
    assert str(caught.value).startswith(f"{tmp_path / 'split' / 'a_first' / 'keys.wav'}: missing")
