"""Random per-stem speed change: pitch measured on tones, centring, lengths, and the training source."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from conftest import rendered_noise_tree

from sepzoo.data.augment import AugmentedSource
from sepzoo.data.speed import input_samples, random_speed, speed_ratio

SR = 22050
OUT = 8192


def peak_frequency(signal: np.ndarray) -> float:
    """Frequency of the largest bin of a Hann-windowed, 8x zero-padded spectrum, Hz."""
    spectrum = np.abs(np.fft.rfft(signal * np.hanning(len(signal)), 8 * len(signal)))
    return float(np.argmax(spectrum) * SR / (8 * len(signal)))


def test_drawn_speeds_become_close_ratios_of_small_integers():
    for speed in (0.94, 0.9876, 1.0, 1.0123, 1.06):
        up, down = speed_ratio(speed)
        assert up <= 128 and abs(down / up - speed) <= 1 / 256
    assert speed_ratio(1.0) == (1, 1)


def test_each_source_moves_its_tone_by_its_own_speed_and_channels_share_it():
    n = input_samples(OUT, 0.06)
    t = np.arange(n) / SR
    tone = np.sin(2 * np.pi * 440.0 * t).astype(np.float32)
    stems = np.stack([tone] * 6, axis=1)  # 3 sources x 2 channels, all the same 440 Hz tone
    measured = []
    for seed in range(8):
        out = random_speed(stems, channels=2, rng=np.random.default_rng(seed), max_change=0.06, output_samples=OUT)
        assert out.shape == (OUT, 6) and out.dtype == np.float32
        for source in range(3):
            np.testing.assert_array_equal(out[:, 2 * source], out[:, 2 * source + 1])
            measured.append(peak_frequency(out[:, 2 * source]))
    assert all(440.0 * 0.94 - 1.0 < frequency < 440.0 * 1.06 + 1.0 for frequency in measured)
    assert max(measured) - min(measured) > 30.0  # draws span most of the +-6 % (about +-26 Hz at 440 Hz)
    assert len({round(frequency) for frequency in measured}) > 12  # and every source draws its own


def test_unity_speed_keeps_the_centre_of_the_input():
    rng = np.random.default_rng(0)
    n = input_samples(OUT, 0.0)
    stems = rng.standard_normal((n, 2)).astype(np.float32)
    out = random_speed(stems, channels=1, rng=rng, max_change=0.0, output_samples=OUT)
    start = (n - OUT) // 2  # the output's centre is the input's centre
    np.testing.assert_allclose(out, stems[start:start + OUT], atol=1e-6)


def test_too_short_input_is_refused():
    with pytest.raises(ValueError, match="needs"):
        random_speed(np.zeros((OUT, 2), np.float32), 1, np.random.default_rng(0), 0.06, OUT)


def test_augmented_source_serves_context_length_examples_that_mix_to_their_sum():
    rng = np.random.default_rng(1)
    n = input_samples(OUT, 0.06)
    examples = []
    for _ in range(4):
        stems = (0.2 * rng.standard_normal((n, 3))).astype(np.float32)
        examples.append((stems.sum(axis=1, keepdims=True), stems))

    class Listed(list):
        example_shapes = ((n, 1), (n, 3))

    source = AugmentedSource(Listed(examples), seed=0, sample_rate=SR, speed_change=0.06, example_samples=OUT)
    assert source.example_shapes == ((OUT, 1), (OUT, 3))
    outputs = list(source)
    assert len(outputs) == 4
    for mixture, stems in outputs:
        assert stems.shape == (OUT, 3)
        np.testing.assert_allclose(mixture[:, 0], stems.sum(axis=1), atol=1e-5)
    with pytest.raises(ValueError, match="example_samples"):
        AugmentedSource(examples, seed=0, sample_rate=SR, speed_change=0.06)


def test_training_source_cuts_longer_chunks_and_serves_the_context(tmp_path):
    from sepzoo.config import config_from_dict, load_config
    from sepzoo.training.data import TRAIN, VALIDATION, make_split_source

    tree = rendered_noise_tree(tmp_path / "tree", ["low", "mid", "high"], seconds=1.0, seed=0)
    raw = load_config(Path(__file__).parent.parent / "zoo_configs" / "tiny_tones.yaml").to_dict()
    raw["data"].update(kind="stem_tree", speed_change=0.06, options={"paths": [str(tree)], "dominance_db": None})
    config = config_from_dict(raw, str(tmp_path / "speed.yaml"))
    context = config.data.context_samples
    for mixture, stems in itertools.islice(make_split_source(config, TRAIN, seed=0), 6):
        assert mixture.shape == (context, 1) and stems.shape == (context, 3)
        np.testing.assert_allclose(mixture[:, 0], stems.sum(axis=1), atol=1e-5)
    mixture, _ = next(iter(make_split_source(config, VALIDATION, seed=0)))
    assert mixture.shape == (context, 1)  # validation is never resampled
