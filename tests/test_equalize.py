"""Random per-stem EQ: cookbook filter gains measured on tones, per-source filters, augmented sources."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import sosfilt

from sepzoo.data.augment import AugmentedSource
from sepzoo.data.equalize import random_equalizer, shelf_or_peak

SR = 22050


def tone_gain_db(sos: np.ndarray, frequency_hz: float) -> float:
    """Steady-state gain of ``sos`` on a 1 s sine, dB (the first 0.5 s is skipped)."""
    tone = np.sin(2 * np.pi * frequency_hz * np.arange(SR) / SR)
    out = sosfilt(sos, tone)
    half = SR // 2
    return float(10 * np.log10(np.mean(out[half:] ** 2) / np.mean(tone[half:] ** 2)))


@pytest.mark.parametrize("kind, centre, gain, low_gain, high_gain", [
    ("low_shelf", 300.0, 6.0, 6.0, 0.0),
    ("high_shelf", 2000.0, -9.0, 0.0, -9.0),
    ("peak", 1000.0, 6.0, 0.0, 0.0),
])
def test_filters_boost_and_cut_the_right_band(kind, centre, gain, low_gain, high_gain):
    sos = shelf_or_peak(kind, centre, gain, SR, q=1.0 if kind == "peak" else 0.707)
    assert tone_gain_db(sos, 40.0) == pytest.approx(low_gain, abs=0.3)
    assert tone_gain_db(sos, 9000.0) == pytest.approx(high_gain, abs=0.3)
    if kind == "peak":
        assert tone_gain_db(sos, centre) == pytest.approx(gain, abs=0.1)
    else:
        assert tone_gain_db(sos, centre) == pytest.approx(gain / 2, abs=0.5)  # half way at the midpoint
    with pytest.raises(ValueError, match="band_pass"):
        shelf_or_peak("band_pass", centre, gain, SR)


def test_each_source_gets_its_own_filters_and_channels_share_them():
    rng = np.random.default_rng(0)
    noise = rng.standard_normal((SR, 1)).astype(np.float32)
    stems = np.tile(noise, (1, 6))  # 3 sources x 2 channels, all the same noise
    out = random_equalizer(stems, channels=2, rng=np.random.default_rng(1), max_gain_db=9.0, sample_rate=SR)
    assert out.shape == stems.shape and out.dtype == np.float32
    for source in range(3):
        np.testing.assert_array_equal(out[:, 2 * source], out[:, 2 * source + 1])
    spectra = [np.abs(np.fft.rfft(out[:, 2 * s])) for s in range(3)]
    bands = [(20, 200), (200, 2000), (2000, 10000)]
    levels = np.array([[10 * np.log10(np.mean(sp[lo:hi] ** 2)) for lo, hi in bands] for sp in spectra])
    assert np.ptp(levels, axis=0).max() > 2.0  # the sources' spectral balances now differ by dBs
    flat = random_equalizer(stems, channels=2, rng=np.random.default_rng(1), max_gain_db=0.0, sample_rate=SR)
    np.testing.assert_allclose(flat, stems, atol=1e-5)


def test_augmented_source_mixes_the_equalised_stems():
    rng = np.random.default_rng(2)
    examples = []
    for _ in range(6):
        stems = (0.2 * rng.standard_normal((4096, 3))).astype(np.float32)
        examples.append((stems.sum(axis=1, keepdims=True), stems))
    source = AugmentedSource(examples, seed=0, sample_rate=SR, eq_db=6.0)
    outputs = list(source)
    assert len(outputs) == 6
    for (mixture, stems), (_, original) in zip(outputs, examples):
        np.testing.assert_allclose(mixture[:, 0], stems.sum(axis=1), atol=1e-5)
        assert not np.allclose(stems, original, atol=1e-3)
    again = list(source)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(outputs, again))  # a pass repeats from the seed
