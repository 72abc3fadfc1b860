"""The tensorflow-datasets builders in datasets/: ``tfds.load`` of the MIDI renders yields a batch, and the
MUSDB18 builder prepares its three splits from a generated manual directory."""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
tfds = pytest.importorskip("tensorflow_datasets")


def import_builder(name: str, monkeypatch):
    """``import datasets.<name>`` from the repository root (registers the builder)."""
    monkeypatch.syspath_prepend(str(ROOT))
    spec = importlib.util.find_spec("datasets")
    if spec is None or str(ROOT / "datasets") not in list(spec.submodule_search_locations or []):
        pytest.skip("another package named `datasets` (Hugging Face's) shadows the repository's datasets/ folder")
    return importlib.import_module(f"datasets.{name}")


def test_tfds_load_of_the_midi_builder_yields_a_batch(tmp_path, monkeypatch):
    from sepzoo.data.midi import split_of
    from sepzoo.data.midi.compose import compose_demo_song

    midi_synth = import_builder("midi_synth", monkeypatch)
    corpus = tmp_path / "midi"
    corpus.mkdir()
    names = [f"piece{i}.mid" for i in range(200)]
    for split in ("train", "validation", "test"):  # one song that hashes into each split
        name = next(n for n in names if split_of(n) == split)
        compose_demo_song(seconds=2.0, seed=len(split)).write(str(corpus / name))
    config = midi_synth.MidiSynthConfig(name="tiny", sample_rate=8000, excerpt_seconds=None, segment_seconds=1.0)
    download = tfds.download.DownloadConfig(manual_dir=str(corpus))
    batch = next(iter(tfds.load("midi_synth", split="train", batch_size=2, data_dir=str(tmp_path / "tfds"),
                                builder_kwargs={"config": config},
                                download_and_prepare_kwargs={"download_config": download})))
    assert tuple(batch["mixture"].shape) == (2, 8000, 1)
    assert sorted(batch["stems"]) == ["bass", "drums", "keys", "other"]
    np.testing.assert_allclose(batch["mixture"], sum(batch["stems"].values()), atol=1e-5)
    builder = tfds.builder("midi_synth", config=config, data_dir=str(tmp_path / "tfds"))
    assert set(builder.info.splits) == {"train", "validation", "test"}
    assert "MIDI" in builder.info.description and "sepzoo" in builder.info.citation


def test_musdb_builder_builds_from_a_generated_manual_dir(tmp_path, monkeypatch):
    from test_musdb import RATE, TEST_TRACKS, TRAIN_TRACKS, write_hq_tree

    musdb18 = import_builder("musdb18", monkeypatch)
    manual = write_hq_tree(tmp_path / "manual" / "musdb18hq", seconds=1.5).parent
    config = musdb18.Musdb18Config(name="tiny", sample_rate=8000, channels=1, segment_seconds=1.0)
    builder = tfds.builder("musdb18", config=config, data_dir=str(tmp_path / "tfds"))
    builder.download_and_prepare(download_config=tfds.download.DownloadConfig(manual_dir=str(manual)))
    splits = builder.info.splits
    assert (splits["train"].num_examples, splits["validation"].num_examples, splits["test"].num_examples) == (
        2 * (len(TRAIN_TRACKS) - 2), 2 * 2, 2 * len(TEST_TRACKS))  # 1.5 s tracks: two 1 s segments each
    examples = list(tfds.as_numpy(builder.as_dataset(split="validation")))
    first = next(e for e in examples if e["start_sample"] == 0)
    assert first["vocals"].shape == (8000, 1) and first["valid_samples"] == 8000
    last = next(e for e in examples if e["start_sample"] == 8000)
    assert last["valid_samples"] == round(1.5 * RATE * 8000 / RATE) - 8000 and not last["vocals"][4000:].any()
    stems = sum(first[name] for name in ("drums", "bass", "other", "vocals"))
    np.testing.assert_allclose(first["mixture"], stems, atol=1e-4)
    assert "MUSDB18" in builder.info.description and "Rafii" in builder.info.citation


def write_speech_noise_manual_dir(manual: Path, rate: int = 8000) -> Path:
    """``manual/speech/spk<k>/*.wav`` (tones, two files per speaker) with a ``speakers.csv`` putting four
    speakers in train and two ``valid`` groups (so one lands in validation, one in test), and
    ``manual/noise/rec<k>.wav`` (white noise) with a ``sources.csv`` doing the same for recordings."""
    import soundfile as sf

    rng = np.random.default_rng(0)
    t = np.arange(rate) / rate
    rows = {"speech": [], "noise": []}
    for k, split in enumerate(("train", "train", "train", "train", "valid", "valid")):
        for take in range(2):
            path = manual / "speech" / f"spk{k}" / f"take{take}.wav"
            path.parent.mkdir(parents=True, exist_ok=True)
            sf.write(path, 0.3 * np.sin(2 * np.pi * (150 + 40 * k + 10 * take) * t[: rate * (take + 1) // 2]), rate)
            rows["speech"].append(f"speech/spk{k}/take{take}.wav,spk{k},spk{k},{split}")
        path = manual / "noise" / f"rec{k}.wav"
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(path, 0.1 * rng.standard_normal(rate), rate)
        rows["noise"].append(f"noise/rec{k}.wav,rec{k},rec{k},{split}")
    for folder, name in (("speech", "speakers.csv"), ("noise", "sources.csv")):
        header = "file,speaker,split_group,suggested_split" if folder == "speech" else \
            "file,recording,split_group,suggested_split"
        (manual / folder / name).write_text("\n".join([header, *rows[folder]]) + "\n")
    return manual


def test_speech_noise_builder_builds_speaker_disjoint_splits(tmp_path, monkeypatch):
    speech_noise = import_builder("speech_noise", monkeypatch)
    manual = write_speech_noise_manual_dir(tmp_path / "manual")
    config = speech_noise.SpeechNoiseConfig(name="tiny", sample_rate=8000, example_seconds=0.5, train_examples=6,
                                            validation_examples=3, test_examples=3, snr_db=(0.0, 10.0))
    builder = tfds.builder("speech_noise", config=config, data_dir=str(tmp_path / "tfds"))
    builder.download_and_prepare(download_config=tfds.download.DownloadConfig(manual_dir=str(manual)))
    splits = builder.info.splits
    assert [splits[s].num_examples for s in ("train", "validation", "test")] == [6, 3, 3]
    speakers = {}
    for split in ("train", "validation", "test"):
        examples = list(tfds.as_numpy(builder.as_dataset(split=split)))
        speakers[split] = {e["speech_file"].decode().split("/")[1] for e in examples}
        for example in examples:
            assert example["mixture"].shape == example["speech"].shape == (4000, 1)
            np.testing.assert_array_equal(example["mixture"], example["speech"] + example["noise"])
            measured = 10 * np.log10(np.sum(example["speech"] ** 2.0) / np.sum(example["noise"] ** 2.0))
            assert 0.0 - 1e-3 <= example["snr_db"] <= 10.0 + 1e-3 and measured == pytest.approx(example["snr_db"],
                                                                                              abs=1e-3)
    assert speakers["train"] <= {"spk0", "spk1", "spk2", "spk3"}
    assert len(speakers["validation"]) == len(speakers["test"]) == 1 and speakers["validation"] != speakers["test"]
    assert speakers["validation"] | speakers["test"] == {"spk4", "spk5"}
    mixture, speech = next(iter(tfds.as_numpy(builder.as_dataset(split="test", as_supervised=True))))
    assert mixture.shape == speech.shape == (4000, 1)
    assert "denoising" in builder.info.description and "Panayotov" in builder.info.citation
