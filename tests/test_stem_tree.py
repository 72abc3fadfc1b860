"""Stem trees without render.json (MUSDB18-HQ layout): training reads them, evaluation opens them, a missing
stem file is one line; the source registry's kinds and options; portable descriptions for the model card."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from sepzoo.data.sources import make_source, pin_paths, portable_options, source_kinds
from sepzoo.data.stem_tree import StemTrees, open_stem_tree
from sepzoo.errors import ConfigError, DataError

RATE = 8000
MUSDB = ("bass", "drums", "other", "vocals")
ROOT = Path(__file__).resolve().parent.parent


def musdb_style_tree(root: Path, sources=MUSDB, channels: int = 2, tracks: int = 2, seconds: float = 0.5,
                     splits=("train", "test")) -> dict[str, dict[str, np.ndarray]]:
    """``root/<split>/<track>/{<stem>,mixture}.wav``, no render.json; returns the stems written per track."""
    rng = np.random.default_rng(0)
    written = {}
    for split in splits:
        for index in range(tracks):
            folder = root / split / f"Artist {index} - Song {split}"
            folder.mkdir(parents=True)
            stems = {name: rng.uniform(-0.2, 0.2, (int(RATE * seconds), channels)).astype(np.float32)
                     for name in sources}
            for name, stem in stems.items():
                sf.write(folder / f"{name}.wav", stem, RATE, subtype="FLOAT")
            sf.write(folder / "mixture.wav", sum(stems.values()), RATE, subtype="FLOAT")
            written[folder.name] = stems
    return written


def request(tmp_path: Path, split: str, **options):
    return make_source("stem_tree", split=split, sources=MUSDB, sample_rate=RATE, channels=2, example_samples=1000,
                       seed=0, options={"paths": ["musdb18hq"], "dominance_db": None, **options}, base_dir=tmp_path,
                       validation_examples=4)


def test_musdb_style_tree_trains_and_evaluates(tmp_path):
    written = musdb_style_tree(tmp_path / "musdb18hq")
    assert not (tmp_path / "musdb18hq" / "train" / "render.json").exists()
    train = request(tmp_path, "train")
    assert isinstance(train, StemTrees) and train.sources == MUSDB and train.sample_rate == RATE
    for mixture, stems in itertools.islice(train, 12):  # endless: more than the 2 x 4 chunks of one pass
        assert mixture.shape == (1000, 2) and stems.shape == (1000, 8)
        np.testing.assert_allclose(mixture, stems.reshape(1000, 4, 2).sum(axis=1), atol=1e-6)
    # MUSDB18-HQ has no validation split: validation_paths names its test folder, a tree of tracks itself.
    validation = request(tmp_path, "validation", validation_paths=["musdb18hq/test"])
    examples = list(validation)
    assert len(examples) == 4 and all(p.parent.name == "test" for p in validation.paths)
    mixture, stems = examples[0]
    test_stems = [written[p.name] for p in validation.paths]
    assert any(np.any(np.all(np.isclose(track["drums"], stems[0, 2:4]), axis=1)) for track in test_stems)
    description = validation.describe()
    assert "musdb18hq/test" in description and str(tmp_path) not in description

    from sepzoo.evaluation import open_test_set

    test_set = open_test_set(tmp_path / "musdb18hq", "test", MUSDB)
    assert [t.name for t in test_set.tracks] == sorted(p.name for p in (tmp_path / "musdb18hq" / "test").iterdir())
    track = test_set.tracks[0].load(MUSDB)
    assert track.sample_rate == RATE and track.mixture.shape == (2, RATE // 2)
    np.testing.assert_allclose(track.stems["vocals"], written[track.name]["vocals"].T)
    assert open_test_set(tmp_path / "musdb18hq" / "test").sources == MUSDB  # sorted stem file names


def test_missing_stem_file_is_one_line_naming_it(tmp_path):
    musdb_style_tree(tmp_path / "musdb18hq")
    missing = tmp_path / "musdb18hq" / "train" / "Artist 1 - Song train" / "vocals.wav"
    missing.unlink()
    for call in (lambda: request(tmp_path, "train"), lambda: open_stem_tree(missing.parent.parent, MUSDB)):
        with pytest.raises(DataError) as caught:
            call()
        assert str(caught.value).startswith(f"{missing}: missing") and "\n" not in str(caught.value)

    from sepzoo.evaluation import open_test_set

    with pytest.raises(DataError, match="vocals.wav: missing"):
        open_test_set(tmp_path / "musdb18hq", "train", MUSDB)


def test_tree_files_must_agree_without_render_json(tmp_path):
    musdb_style_tree(tmp_path / "tree", splits=("train",))
    odd = tmp_path / "tree" / "train" / "Artist 1 - Song train"
    for name in (*MUSDB, "mixture"):
        sf.write(odd / f"{name}.wav", np.zeros((RATE, 2), np.float32), 2 * RATE, subtype="FLOAT")
    with pytest.raises(DataError, match=r"mixture.wav: 16000 Hz, 2 channel\(s\) but .* has 8000 Hz") as caught:
        open_stem_tree(tmp_path / "tree" / "train", MUSDB)
    assert "\n" not in str(caught.value)
    (odd / "mixture.wav").unlink()  # now a folder that is no track: ignored
    (tmp_path / "musdb18hq").symlink_to(tmp_path / "tree")
    with pytest.raises(ConfigError, match=r"data.sample_rate: 16000 Hz, 2 channel\(s\) but the stem tree "
                                          r"musdb18hq/train holds 8000 Hz"):
        make_source("stem_tree", split="train", sources=MUSDB, sample_rate=2 * RATE, channels=2,
                    example_samples=1000, seed=0, options={"paths": ["musdb18hq"]}, base_dir=tmp_path)


def test_registry_kinds_and_options_errors(tmp_path):
    assert source_kinds()[:3] == ("tones", "midi", "stem_tree") and "cache" in source_kinds()
    common = dict(split="train", sources=("a", "b"), sample_rate=RATE, channels=1, example_samples=256, seed=0,
                  base_dir=tmp_path)
    with pytest.raises(ConfigError, match="data.kind: 'vorbis' is not a registered example source; use one of tones"):
        make_source("vorbis", **common)
    with pytest.raises(ConfigError) as caught:
        make_source("tones", options={"low_hz": 80, "bands": 3}, **common)
    message = str(caught.value)
    assert message.startswith("data.options.bands: unknown option of data.kind tones; allowed: low_hz, ")
    assert "\n" not in message
    with pytest.raises(ConfigError, match=r"data.options.paths: missing; data.kind cache needs it"):
        make_source("cache", options={}, **common)
    with pytest.raises(ConfigError, match=r"data.options.paths: .*nowhere/train is not a stem tree"):
        make_source("stem_tree", options={"paths": ["nowhere"]}, **common)
    with pytest.raises(ConfigError, match=r"data.options.max_chunks_per_piece: 0 is not allowed; .*>= 1"):
        make_source("stem_tree", options={"paths": ["t"], "max_chunks_per_piece": 0}, **common)
    tones = make_source("tones", options={"low_hz": 80}, **common)
    assert tones.band_edges_hz[0] == 80 and "synthetic tones" in tones.describe()


def test_paths_are_pinned_for_the_run_folder_and_portable_for_the_card(tmp_path):
    options = {"paths": ["../renders/full/timgm", "local/tree"], "validation_paths": ["/data/opl3"], "task": "midi4"}
    pinned = pin_paths("cache", options, tmp_path / "configs")
    assert pinned["paths"] == [str((tmp_path / "renders/full/timgm").resolve()),
                               str((tmp_path / "configs/local/tree").resolve())]
    assert pinned["validation_paths"] == ["/data/opl3"] and pinned["task"] == "midi4"
    portable = portable_options("stem_tree", pinned, tmp_path / "configs")
    assert portable == {"paths": ["timgm", "local/tree"], "validation_paths": ["opl3"], "task": "midi4"}


def test_trained_model_card_names_no_absolute_path(tmp_path):
    from sepzoo.config import config_from_dict, load_config
    from sepzoo.model_card import render_model_card
    from sepzoo.training.trainer import train

    musdb_style_tree(tmp_path / "corpus" / "trees", sources=("low", "mid", "high"), channels=1, seconds=0.2,
                     splits=("train", "validation"))
    raw = load_config(ROOT / "zoo_configs" / "tiny_tones.yaml").to_dict()
    raw["data"].update(kind="stem_tree", validation_examples=2, options={"paths": ["trees"], "task": "noise3",
                                                                         "dominance_db": None})
    raw["schedule"].update(steps_per_epoch=1, max_epochs=1, fine_tune=False)
    raw["batch_size"] = 2
    config = config_from_dict(raw, str(tmp_path / "corpus" / "noise.yaml"))
    preset = train(config, tmp_path / "run", command="sepzoo train noise.yaml")

    run_config = (tmp_path / "run" / "config.yaml").read_text()
    assert str((tmp_path / "corpus" / "trees").resolve()) in run_config  # the run folder stands alone
    metadata = json.loads((preset / "metadata.json").read_text())
    card = json.dumps(metadata) + render_model_card(metadata, "noise")
    assert str(tmp_path) not in card and str(tmp_path.resolve()) not in card
    assert metadata["training"]["data"].startswith("stem trees trees/train: 2 tracks, task noise3, 8000 Hz")
    assert metadata["training"]["config"]["data"]["options"]["paths"] == ["trees"]
    assert metadata["training"]["task"] == "noise3"
