"""MUSDB18 / MUSDB18-HQ training data (``data.kind: musdb``): aligned chunks whose mixture is the sum of the
augmented targets, disjoint splits, resampling that keeps a tone, bounded caches, extra stem folders, the real
``.stem.mp4`` sample, and the shipped MUSDB recipe training end to end."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from sepzoo.data.musdb import (OFFICIAL_VALIDATION, STEMS, DiskTrackCache, MemoryTrackCache, decode_stem_mp4,
                               split_tracks, target_matrix)
from sepzoo.data.sources import make_source
from sepzoo.errors import ConfigError, DataError

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT.parent / "shared" / "data" / "musdb18_sample"
RATE = 44100
TONES_HZ = {"drums": 200.0, "bass": 80.0, "other": 660.0, "vocals": 1000.0}
TONE_AMPLITUDE = 0.25
TRAIN_TRACKS = (*OFFICIAL_VALIDATION[:2], "Artist A - Song A", "Artist B - Song B", "Artist C - Song C",
                "Artist D - Song D")
TEST_TRACKS = ("Test A - One", "Test B - Two")


def write_hq_tree(root: Path, seconds: float = 2.0) -> Path:
    """A MUSDB18-HQ-style tree: ``root/{train,test}/<track>/{mixture,drums,bass,other,vocals}.wav``, stereo
    44.1 kHz float WAV; each stem a tone of its own (:data:`TONES_HZ`) plus a little noise (so every window is
    unique and can be found again in the files)."""
    rng = np.random.default_rng(0)
    time = np.arange(int(RATE * seconds)) / RATE
    for split, names in (("train", TRAIN_TRACKS), ("test", TEST_TRACKS)):
        for name in names:
            folder = root / split / name
            folder.mkdir(parents=True)
            stems = {stem: (TONE_AMPLITUDE * np.sin(2 * np.pi * hz * time)[:, None]
                            + rng.uniform(-0.01, 0.01, (time.size, 2))).astype(np.float32)
                     for stem, hz in TONES_HZ.items()}
            for stem, audio in stems.items():
                sf.write(folder / f"{stem}.wav", audio, RATE, subtype="FLOAT")
            sf.write(folder / "mixture.wav", sum(stems.values()), RATE, subtype="FLOAT")
    return root


@pytest.fixture(scope="module")
def hq_tree(tmp_path_factory) -> Path:
    return write_hq_tree(tmp_path_factory.mktemp("musdb18hq"))


def musdb(root: Path, split: str = "train", sources=STEMS, sample_rate: int = RATE, channels: int = 2,
          samples: int = 4096, **options):
    return make_source("musdb", split=split, sources=list(sources), sample_rate=sample_rate, channels=channels,
                       example_samples=samples, seed=0, options={"root": str(root), **options})


def test_chunks_are_aligned_and_the_mixture_is_the_sum_of_the_augmented_targets(hq_tree):
    plain = musdb(hq_tree, gain_range=None)
    files = {name: {stem: sf.read(hq_tree / "train" / name / f"{stem}.wav", dtype="float32")[0] for stem in STEMS}
             for name in TRAIN_TRACKS}
    for mixture, stems in itertools.islice(plain, 12):
        by_target = stems.reshape(len(stems), 4, 2)
        # Find the window's track and start from the drums column, then every other stem must sit there too.
        found = [(name, int(start)) for name, track in files.items()
                 for start in np.flatnonzero(track["drums"][:, 0] == by_target[0, 0, 0])
                 if np.array_equal(track["drums"][start:start + len(stems)], by_target[:, 0])]
        assert len(found) == 1
        name, start = found[0]
        for index, stem in enumerate(STEMS):
            np.testing.assert_array_equal(by_target[:, index], files[name][stem][start:start + len(stems)])
        np.testing.assert_allclose(mixture, by_target.sum(axis=1), atol=1e-6)

    augmented = musdb(hq_tree, sources=["vocals", "accompaniment"], channel_swap=0.5, sign_flip=0.5)
    gains = []
    for mixture, stems in itertools.islice(augmented, 40):
        assert mixture.shape == (4096, 2) and stems.shape == (4096, 4)
        np.testing.assert_allclose(mixture, stems.reshape(4096, 2, 2).sum(axis=1), atol=1e-6)
        gains.append(np.sqrt(np.mean(stems[:, :2] ** 2)) / (TONE_AMPLITUDE / np.sqrt(2)))
    assert 0.6 < min(gains) and max(gains) < 1.05 and max(gains) - min(gains) > 0.1  # U[0.7, 1.0] gains
    assert "per-target gain U[0.7, 1]" in augmented.describe() and "sign flip p=0.5" in augmented.describe()


def test_official_and_seeded_splits_are_disjoint(hq_tree):
    names = lambda split, scheme="official", seed=0: {t.name for t in split_tracks(hq_tree, split, scheme, seed)}
    train, validation = names("train"), names("validation")
    assert validation == set(OFFICIAL_VALIDATION[:2]) and not train & validation
    assert train | validation == set(TRAIN_TRACKS) and names("test") == set(TEST_TRACKS)
    for seed in (0, 1, 2):
        train, validation = names("train", "random", seed), names("validation", "random", seed)
        assert len(validation) == 2 and not train & validation and train | validation == set(TRAIN_TRACKS)
    assert names("validation", "random", 0) != names("validation", "random", 1) or \
        names("validation", "random", 0) != names("validation", "random", 2)
    source = musdb(hq_tree, "validation", validation_split="random", split_seed=1)
    assert {p.name for p in source.paths} == names("validation", "random", 1)
    first, second = list(source), list(source)  # validation is one fixed pass, unaugmented
    assert len(first) == len(second) > 0 and all(np.array_equal(a[1], b[1]) for a, b in zip(first, second))


def test_a_tone_keeps_its_frequency_and_level_resampled_to_22k_mono(hq_tree):
    source = musdb(hq_tree, "test", sources=["vocals", "accompaniment"], sample_rate=22050, channels=1,
                   samples=8192)
    examples = list(source)
    assert examples and examples[0][1].shape == (8192, 2)
    vocals = examples[1][1][:, 0].astype(np.float64)
    spectrum = np.abs(np.fft.rfft(vocals * np.hanning(vocals.size)))
    peak_hz = np.argmax(spectrum) * 22050 / vocals.size
    assert abs(peak_hz - TONES_HZ["vocals"]) < 22050 / vocals.size
    level_db = 20 * np.log10(np.sqrt(np.mean(vocals ** 2)) / (TONE_AMPLITUDE / np.sqrt(2)))
    assert abs(level_db) < 0.1


def test_memory_cache_stays_within_its_byte_bound_and_disk_cache_decodes_once(hq_tree, tmp_path):
    track_bytes = 4 * 2 * int(RATE * 2.0) * 4  # 4 stems, stereo, 2 s, float32
    bound = int(1.5 * track_bytes)
    source = musdb(hq_tree, cache_bytes=bound, tracks_at_once=1)
    for _ in itertools.islice(source, 150):
        assert source.cache.nbytes <= bound
    assert source.cache.misses >= 4 and len(source.cache._arrays) == 1

    cache = MemoryTrackCache(max_bytes=250)
    arrays = {key: np.zeros(25, np.float32) for key in "abc"}  # 100 bytes each
    for key in "abac":
        cache.get(key, lambda key=key: arrays[key])
    assert (cache.hits, cache.misses, list(cache._arrays), cache.nbytes) == (1, 3, ["a", "c"], 200)

    disk = musdb(hq_tree, "test", cache="disk", cache_dir=str(tmp_path / "decoded"))
    first = list(disk)
    again = musdb(hq_tree, "test", cache="disk", cache_dir=str(tmp_path / "decoded"))
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(first, again))
    assert isinstance(again.cache, DiskTrackCache) and (again.cache.hits, again.cache.misses) == (2, 0)
    assert len(list((tmp_path / "decoded").glob("*.npy"))) == 2


def test_extra_folders_are_mixed_in_with_missing_sources_silent(hq_tree, tmp_path):
    extra = tmp_path / "ccmixter"
    for index in range(2):  # accompaniment only: vocals are silent in these tracks
        (extra / f"song{index}").mkdir(parents=True)
        sf.write(extra / f"song{index}" / "accompaniment.wav", np.full((RATE, 2), 0.1, np.float32), RATE)
    source = musdb(hq_tree, sources=["vocals", "accompaniment"], extra_paths=[str(extra)], extra_weight=0.5,
                   gain_range=None)
    examples = list(itertools.islice(source, 200))
    from_extra = [stems for _, stems in examples if not stems[:, :2].any()]
    assert 60 < len(from_extra) < 140
    assert all(np.allclose(stems[:, 2:], 0.1, atol=1e-4) for stems in from_extra)  # 16-bit WAV
    assert "extra ccmixter (2 tracks, 50% of examples)" in source.describe()
    matrix = target_matrix(("drums", "bass", "vocals"), ["vocals", "accompaniment"])
    np.testing.assert_array_equal(matrix, [[0, 0, 1], [1, 1, 0]])


def test_bad_roots_sources_and_options_are_one_line_errors(hq_tree, tmp_path):
    with pytest.raises(DataError, match=r"no train/ folder; data.options.root must be") as caught:
        musdb(tmp_path)
    assert "\n" not in str(caught.value)
    with pytest.raises(ConfigError, match=r"data.sources: \['vocals', 'drums'\] must name MUSDB18 targets"):
        musdb(hq_tree, sources=["vocals", "drums"])
    with pytest.raises(ConfigError) as caught:
        musdb(hq_tree, validation_split="seeded", cache="disk", sign_flip=2, extra_weight=[0.5, 0.6])
    text = str(caught.value)
    assert "\n" not in text and "validation_split: 'seeded' is not allowed" in text and "cache_dir: missing" in text
    assert "sign_flip: 2 is not allowed" in text and "extra_weight: [0.5, 0.6] is not allowed" in text
    other = tmp_path / "other"
    (other / "train").mkdir(parents=True)
    (other / "test").mkdir()
    for name in ("Someone - Something", "Someone - Else"):
        folder = other / "train" / name
        folder.mkdir()
        for stem in ("mixture", *STEMS):
            sf.write(folder / f"{stem}.wav", np.zeros((100, 2), np.float32), RATE)
    with pytest.raises(DataError, match="the official split leaves no validation track; use .*random"):
        musdb(other, "validation")


@pytest.mark.skipif(not SAMPLE.is_dir(), reason="the real MUSDB18 sample (../shared/data/musdb18_sample) is absent")
def test_real_stem_mp4_reads_through_the_pipeline():
    from sepzoo.data.pipeline import iterate_batches

    path = next((SAMPLE / "train").glob("*.stem.mp4"))
    streams, rate = decode_stem_mp4(path, range(5))
    assert rate == RATE and streams.shape[:2] == (5, 2) and streams.shape[2] > 6 * RATE
    mixture, summed = streams[0].astype(np.float64), streams[1:].sum(axis=0)
    assert 10 * np.log10(np.sum(mixture ** 2) / np.sum((mixture - summed) ** 2)) >= 25.0

    source = musdb(SAMPLE, sample_rate=RATE, channels=2, samples=8192)
    assert source.sample_rate == RATE and source.describe().startswith("MUSDB18 musdb18_sample/train")
    mixture_batch, stems_batch = next(iterate_batches(source, 2))
    assert mixture_batch.shape == (2, 8192, 2) and stems_batch.shape == (2, 8192, 8)
    np.testing.assert_allclose(mixture_batch, stems_batch.reshape(2, 8192, 4, 2).sum(axis=2), atol=1e-6)
    mono = musdb(SAMPLE, sources=["vocals", "accompaniment"], sample_rate=22050, channels=1, samples=4096)
    assert next(iter(mono))[1].shape == (4096, 2)


def test_sepzoo_train_runs_the_musdb4_recipe(hq_tree, tmp_path):
    from sepzoo.cli import main

    tiny_model = ("{variant: b, encoder_channels: [4, 6, 8, 8, 8], aspp_channels: 8, aspp_rates: [1, 2, 4], "
                  "aspp_kernel_size: 3, kernel_size: 5, decoder_channels: 8, output_channels_per_sample: 2, "
                  "attention_kernel_size: 5}")
    overrides = [f"data.options.root={hq_tree}", "data.options.cache=memory", "batch_size=2",
                 "schedule.steps_per_epoch=2", "schedule.max_epochs=1", "schedule.fine_tune=false",
                 "data.validation_examples=2", "data.shuffle_buffer=0", "data.context_samples=4096",
                 f"model.kwargs={tiny_model}"]
    argv = ["train", str(ROOT / "zoo_configs" / "lightweight_aspp_musdb4.yaml"), "-o", str(tmp_path / "run")]
    assert main([*argv, *(item for o in overrides for item in ("--set", o))]) == 0
    metrics = (tmp_path / "run" / "metrics.csv").read_text().splitlines()
    assert len(metrics) == 2 and (tmp_path / "run" / "preset" / "model.weights.h5").is_file()
