"""Render cache: the MUSDB-style stem tree, the `sepzoo render` verb, cached chunks, the dataset builder."""

from __future__ import annotations

import argparse
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from sepzoo.cli import render as render_verb
from sepzoo.data.midi.compose import compose_demo_song
from sepzoo.data.midi.render_cache import busiest_window, render_corpus
from sepzoo.data.stem_tree import CachedChunkSource
from sepzoo.data.midi.splits import split_of
from sepzoo.errors import DataError

REPO = Path(__file__).resolve().parents[1]
RATE = 16000


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("corpus")
    (root / "rock").mkdir()
    for index in range(3):
        compose_demo_song(seconds=3.0, seed=index).write(str(root / "rock" / f"tune{index}.mid"))
    (root / "rock" / "broken.mid").write_bytes(b"not a midi file")
    return root


@pytest.fixture(scope="module")
def tree(corpus, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("tree")
    counts = render_corpus(corpus, out, "midi4", split=None, sample_rate=RATE, progress=False)
    assert counts == {"written": 3, "unreadable": 1}
    return out / "all"


def test_tree_has_musdb_layout_and_exact_mixtures(tree):
    songs = sorted(p.name for p in tree.iterdir() if p.is_dir())
    assert songs == ["rock__tune0", "rock__tune1", "rock__tune2"]
    folder = tree / "rock__tune1"
    assert sorted(p.name for p in folder.iterdir()) == ["bass.wav", "drums.wav", "keys.wav", "mixture.wav", "other.wav"]
    info = sf.info(folder / "mixture.wav")
    assert info.samplerate == RATE and info.subtype == "FLOAT" and info.channels == 1
    mixture = sf.read(folder / "mixture.wav", dtype="float32")[0]
    stems = [sf.read(folder / f"{name}.wav", dtype="float32")[0] for name in ("drums", "bass", "keys", "other")]
    assert np.max(np.abs(mixture - np.sum(stems, axis=0))) <= 1e-6
    meta = json.loads((tree / "render.json").read_text())
    assert meta["sources"] == ["drums", "bass", "keys", "other"] and meta["sample_rate"] == RATE


def test_cached_chunks_are_repeatable_and_exact(tree):
    source = CachedChunkSource(tree, chunk_samples=4000)
    first, second = list(source), list(source)
    assert len(first) == len(second) > 3
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(first, second))
    mixture, stems = first[0]
    assert mixture.shape == (4000, 1) and stems.shape == (4000, 4)
    np.testing.assert_allclose(mixture[:, 0], stems.sum(axis=1), atol=1e-6)
    with pytest.raises(DataError, match="render.json"):
        CachedChunkSource(tree.parent)


def test_busiest_window_finds_where_most_stems_play():
    stems = np.zeros((3, 1, 100), dtype=np.float32)
    stems[0, 0, 10:90] = 0.5  # a long solo ...
    stems[1:, 0, 60:80] = 0.5  # ... and the one stretch where everybody plays
    assert busiest_window(stems, window=20, hop=10) == 60
    assert busiest_window(stems, window=200, hop=10) == 0


def run_verb(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    render_verb.add_arguments(parser)
    return render_verb.run(parser.parse_args(argv))


def test_render_verb_writes_excerpts_of_the_chosen_split(corpus, tmp_path, capsys):
    code = run_verb([str(corpus), "-o", str(tmp_path), "--split", "all", "--task", "fixed4",
                     "--sample-rate", str(RATE), "--excerpt-seconds", "2", "--max-songs", "2"])
    assert code == 0 and "wrote 2 songs" in capsys.readouterr().out
    songs = sorted(p for p in (tmp_path / "all").iterdir() if p.is_dir())
    assert len(songs) == 2
    assert {p.name for p in songs[0].iterdir()} == {"mixture.wav", "drums.wav", "piano.wav", "strings.wav", "bass.wav"}
    assert sf.info(songs[0] / "piano.wav").frames == 2 * RATE


def test_render_verb_errors_are_sepzoo_errors(corpus, tmp_path):
    from sepzoo.errors import SepzooError

    for argv in ([str(tmp_path / "missing"), "-o", str(tmp_path)],
                 [str(corpus), "-o", str(tmp_path), "--task", "nope"],
                 [str(corpus), "-o", str(tmp_path), "--excerpt-seconds", "0"]):
        with pytest.raises(SepzooError) as caught:
            run_verb(argv)
        assert "\n" not in str(caught.value)


def test_dataset_builder_prepares_evaluation_splits(tmp_path):
    corpus = tmp_path / "midi"
    corpus.mkdir()
    names = [f"piece{i}.mid" for i in range(200)]
    for split in ("validation", "test"):  # one song that hashes into each evaluation split, one training song
        for name in [n for n in names if split_of(n) == split][:1] + [n for n in names if split_of(n) == "train"][:1]:
            compose_demo_song(seconds=2.0).write(str(corpus / name))
    spec = importlib.util.spec_from_file_location("midi_synth", REPO / "datasets" / "midi_synth" / "midi_synth.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    builder = module.MidiSynth(corpus, tmp_path / "data", sample_rate=RATE, excerpt_seconds=None)
    assert builder.info["sources"] == ["drums", "bass", "keys", "other"]
    with pytest.raises(DataError, match="download_and_prepare"):
        builder.as_dataset("test", batch_size=2)
    counts = builder.download_and_prepare()
    assert counts["validation"]["written"] == counts["test"]["written"] == 1
    for split in ("validation", "test"):
        mixture, stems = next(iter(builder.as_dataset(split, batch_size=1, chunk_samples=2000, dominance_db=None)))
        assert tuple(mixture.shape) == (1, 2000, 1) and tuple(stems.shape) == (1, 2000, 4)
    train = builder.as_dataset("train", batch_size=2, chunk_samples=2000, pool_size=4)
    assert tuple(next(iter(train))[1].shape) == (2, 2000, 4)
