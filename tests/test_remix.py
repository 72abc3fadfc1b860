"""Cross-song remixing: stems come from different examples, mixtures stay sums, settings are checked."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from sepzoo.config import config_from_dict, load_config
from sepzoo.data.augment import AugmentedSource
from sepzoo.data.remix import remix_examples
from sepzoo.errors import ConfigError

ROOT = Path(__file__).parent.parent
SAMPLES, N_SOURCES, SR = 2048, 3, 8000


def tone_examples(count: int, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """Examples whose three stems are sines at frequencies unique to the example and source."""
    rng = np.random.default_rng(seed)
    t = np.arange(SAMPLES) / SR
    examples = []
    for index in range(count):
        freqs = 100.0 + 30.0 * (N_SOURCES * index + np.arange(N_SOURCES))
        amplitude = rng.uniform(0.1, 0.3, size=N_SOURCES)
        stems = (amplitude[None] * np.sin(2 * np.pi * freqs[None] * t[:, None])).astype(np.float32)
        examples.append((stems.sum(axis=1, keepdims=True), stems))
    return examples


def donor_of(stem: np.ndarray, source: int, inputs: list) -> int:
    """Index of the input example whose stem ``source`` equals ``stem`` up to a gain (by correlation)."""
    scores = [abs(np.dot(stem, s[:, source])) / (np.linalg.norm(s[:, source]) * np.linalg.norm(stem) + 1e-12)
              for _, s in inputs]
    best = int(np.argmax(scores))
    assert scores[best] > 0.999
    return best


def test_remixes_draw_each_stem_from_a_different_song_and_mix_by_summing():
    inputs = tone_examples(40)
    outputs = list(remix_examples(inputs, np.random.default_rng(1), probability=1.0, pool_size=8))
    assert len(outputs) == len(inputs)
    for (mixture, stems), (original_mixture, original_stems) in zip(outputs[:8], inputs[:8]):
        assert np.array_equal(stems, original_stems)  # while the pool fills, examples pass unchanged
    mixed_songs = 0
    for position, (mixture, stems) in enumerate(outputs[8:], start=8):
        assert mixture.shape == (SAMPLES, 1) and stems.shape == (SAMPLES, N_SOURCES)
        np.testing.assert_allclose(mixture[:, 0], stems.sum(axis=1), atol=1e-6)
        donors = [donor_of(stems[:, s], s, inputs) for s in range(N_SOURCES)]
        assert all(d <= position for d in donors)  # only examples already seen
        mixed_songs += len(set(donors)) > 1
    assert mixed_songs >= 25  # of 32 remixes, nearly all combine stems of different songs


def test_probability_zero_passes_the_stream_through_and_seeds_repeat():
    inputs = tone_examples(20)
    passed = list(remix_examples(inputs, np.random.default_rng(0), probability=0.0, pool_size=4))
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(passed, inputs))
    first = list(remix_examples(inputs, np.random.default_rng(5), probability=0.5, pool_size=4))
    second = list(remix_examples(inputs, np.random.default_rng(5), probability=0.5, pool_size=4))
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(first, second))
    changed = sum(not np.array_equal(a[1], b[1]) for a, b in zip(first, inputs))
    assert 3 <= changed <= 14  # about half of the 16 after the pool filled


def test_loud_remix_is_scaled_below_full_scale_and_silent_remix_is_refused():
    loud = [(np.full((SAMPLES, 1), 1.5, np.float32), np.full((SAMPLES, N_SOURCES), 0.5, np.float32))] * 6
    for mixture, stems in list(remix_examples(loud, np.random.default_rng(0), 1.0, 2))[2:]:
        assert np.max(np.abs(mixture)) == pytest.approx(0.99, abs=1e-6)
        np.testing.assert_allclose(mixture[:, 0], stems.sum(axis=1), atol=1e-6)
    # One example holds all the sound, the others are silent but for one source each: most remixes would be
    # silent or a single source and must be replaced by the incoming example.
    inputs = tone_examples(12)
    sparse = []
    for index, (_, stems) in enumerate(inputs):
        only = stems * (np.arange(N_SOURCES) == index % N_SOURCES)[None]
        sparse.append((only.sum(axis=1, keepdims=True), only))
    for (mixture, stems), original in zip(remix_examples(sparse, np.random.default_rng(2), 1.0, 4), sparse):
        active = int(np.sum(np.abs(stems).max(axis=0) > 0))
        assert active >= 2 or np.array_equal(stems, original[1])


def test_bad_remix_settings_fail():
    with pytest.raises(ConfigError, match="probability"):
        next(remix_examples(tone_examples(2), np.random.default_rng(0), 1.5, 4))


def test_config_remix_wraps_only_the_training_source(tmp_path):
    from sepzoo.data.sources import describe_source
    from sepzoo.training.data import TRAIN, VALIDATION, make_split_source

    raw = load_config(ROOT / "zoo_configs" / "tiny_tones.yaml").to_dict()
    raw["data"].update(remix=0.5, remix_pool=4)
    config = config_from_dict(raw, str(tmp_path / "remix.yaml"))
    train = make_split_source(config, TRAIN, seed=0)
    assert isinstance(train, AugmentedSource) and train.sources == tuple(config.data.sources)
    assert not isinstance(make_split_source(config, VALIDATION, seed=0), AugmentedSource)
    assert "50% of examples remixed" in describe_source(train)
    examples = list(itertools.islice(train, 12))
    for mixture, stems in examples:
        np.testing.assert_allclose(mixture[:, 0], stems.sum(axis=1), atol=1e-5)
    raw["data"]["remix"] = 1.5
    with pytest.raises(ConfigError, match=r"remix.yaml: data.remix: 1.5"):
        make_split_source(config_from_dict(raw, str(tmp_path / "remix.yaml")), TRAIN, seed=0)
