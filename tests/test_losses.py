"""Losses: values on hand-computed cases, and the sign of their gradients."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from sepzoo.config import LossSpec
from sepzoo.losses import (
    DifferenceMAE,
    SpectralLoss,
    SpectralMAE,
    ThresholdedSNR,
    WaveformMAE,
    WaveformMSE,
    build_loss,
    pairwise_abs_error,
)


def _value(loss: keras.losses.Loss, y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(keras.ops.convert_to_numpy(loss(y_true, y_pred)))


def _gradient(loss: keras.losses.Loss, y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """d loss / d y_pred on the running backend."""
    if keras.backend.backend() == "jax":
        import jax

        return np.asarray(jax.grad(lambda p: loss(y_true, p))(y_pred))
    import tensorflow as tf

    prediction = tf.Variable(y_pred)
    with tf.GradientTape() as tape:
        value = loss(y_true, prediction)
    return tape.gradient(value, prediction).numpy()


def test_mse_and_mae_match_hand_computation():
    # Two examples, 2 samples, 2 sources: errors (1, -2, 0, 3) and (0.5, 0.5, 0.5, 0.5).
    y_true = np.zeros((2, 2, 2), np.float32)
    y_pred = np.array([[[1, -2], [0, 3]], [[0.5, 0.5], [0.5, 0.5]]], np.float32)
    assert _value(WaveformMSE(), y_true, y_pred) == pytest.approx(((1 + 4 + 0 + 9) / 4 + 0.25) / 2)
    assert _value(WaveformMAE(), y_true, y_pred) == pytest.approx(((1 + 2 + 0 + 3) / 4 + 0.5) / 2)


@pytest.mark.parametrize("loss", [WaveformMSE(), WaveformMAE(), SpectralMAE(fft_size=32, hop_size=8),
                                  DifferenceMAE(channels=1), ThresholdedSNR(channels=1)],
                         ids=lambda loss: loss.name)
def test_gradient_pulls_each_estimate_towards_its_source(loss):
    rng = np.random.default_rng(0)
    y_true = rng.uniform(-0.5, 0.5, (1, 64, 2)).astype(np.float32)
    y_pred = y_true + 0.1  # every estimate sample too high
    gradient = _gradient(loss, y_true, y_pred)
    # Gradient descent must lower the estimates; the sum over samples is positive for every source.
    assert np.all(gradient.sum(axis=1) > 0)
    assert _value(loss, y_true, y_pred - 0.05) < _value(loss, y_true, y_pred)


def test_spectral_loss_of_a_bin_centred_sine_against_silence():
    # Periodic Hann window of N: a sine of amplitude A on bin k gives |X| = A*N/4 on bin k and A*N/8 on
    # bins k +- 1, zero elsewhere. Against silence the loss is (A*N/4)^2 + 2 (A*N/8)^2 over N/2+1 bins.
    n_fft, k, amplitude = 64, 5, 0.5
    sine = amplitude * np.sin(2 * np.pi * k * np.arange(256) / n_fft)
    y_pred = sine.astype(np.float32)[None, :, None]
    y_true = np.zeros_like(y_pred)
    expected = ((amplitude * n_fft / 4) ** 2 + 2 * (amplitude * n_fft / 8) ** 2) / (n_fft // 2 + 1)
    assert _value(SpectralLoss(n_fft, 16), y_true, y_pred) == pytest.approx(expected, rel=1e-4)
    mae = np.mean(np.abs(sine))
    combined = SpectralMAE(spectral_weight=0.5, fft_size=n_fft, hop_size=16)
    assert _value(combined, y_true, y_pred) == pytest.approx(mae + 0.5 * expected, rel=1e-4)


def test_spectral_loss_ignores_phase_but_not_magnitude():
    t = np.arange(512) / 8000
    a = np.sin(2 * np.pi * 1000 * t).astype(np.float32)[None, :, None]
    shifted = np.sin(2 * np.pi * 1000 * t + 1.3).astype(np.float32)[None, :, None]
    loss = SpectralLoss(128, 32)
    assert _value(loss, a, shifted) < 1e-3 * _value(loss, a, 0.5 * a)
    assert _value(WaveformMAE(), a, shifted) > 0.3


def test_difference_loss_hand_computed_two_sources():
    # Source 0 is constant 1, source 1 constant 0. Right estimates: a = [[0, 1], [1, 0]].
    y_true = np.stack([np.ones(8), np.zeros(8)], axis=-1).astype(np.float32)[None]
    pairs = keras.ops.convert_to_numpy(pairwise_abs_error(y_true, y_true, channels=1))
    np.testing.assert_allclose(pairs[0], [[0, 1], [1, 0]])
    loss = DifferenceMAE(channels=1, difference_weight=0.25)
    assert _value(loss, y_true, y_true) == pytest.approx(0 - 0.25 * 1)
    swapped = y_true[..., ::-1].copy()  # estimates swapped: own terms 1, cross terms 0
    assert _value(loss, y_true, swapped) == pytest.approx(1.0)


def test_difference_loss_splits_stereo_sources_source_major():
    # 2 sources x 2 channels: columns (s0c0, s0c1, s1c0, s1c1).
    y_true = np.array([[[1, 3, 0, 0]]], np.float32)
    y_pred = np.array([[[1, 1, 0, 0]]], np.float32)
    pairs = keras.ops.convert_to_numpy(pairwise_abs_error(y_true, y_pred, channels=2))[0]
    np.testing.assert_allclose(pairs, [[1.0, 1.0], [2.0, 0.0]])


def test_snr_loss_is_minus_the_snr_of_each_source_averaged():
    rng = np.random.default_rng(2)
    y_true = rng.standard_normal((1, 4000, 2)).astype(np.float32)
    # Source 0 estimated at half its amplitude (SNR 6.02 dB), source 1 with 10 % noise (20 dB).
    noisy = y_true[..., 1] + 0.1 * rng.standard_normal((1, 4000))
    y_pred = np.stack([0.5 * y_true[..., 0], noisy], -1).astype(np.float32)
    loss = ThresholdedSNR(channels=1, snr_max_db=60.0, snr_floor_db=-80.0)
    snrs = [10 * np.log10(np.sum(y_true[..., i] ** 2) / np.sum((y_pred[..., i] - y_true[..., i]) ** 2))
            for i in range(2)]
    assert snrs[0] == pytest.approx(6.02, abs=0.01)
    assert _value(loss, y_true, y_pred) == pytest.approx(-np.mean(snrs), abs=1e-3)
    # Scale-free: one gain on targets and estimates leaves it unchanged.
    assert _value(loss, 1e-3 * y_true, 1e-3 * y_pred) == pytest.approx(
        _value(loss, y_true, y_pred), abs=1e-3)


def test_snr_loss_caps_clean_sources_and_weights_silent_ones():
    rng = np.random.default_rng(3)
    y_true = np.zeros((1, 2000, 2), np.float32)
    y_true[..., 0] = rng.standard_normal(2000)  # source 1 is silent; the mixture is source 0
    capped = 10 * np.log10((1e-3 + 1e-3) / (1 + 1e-3))  # a perfect source 0 stops at the 30 dB cap (+ floor)
    leaky = y_true.copy()
    leaky[..., 1] = np.sqrt(1e-3) * y_true[..., 0]  # leakage into the silent source at the floor's level
    # Default: silent sources do not count, so leakage into them costs nothing here.
    ignoring = ThresholdedSNR(channels=1, snr_max_db=30.0, snr_floor_db=-30.0)
    assert _value(ignoring, y_true, y_true) == pytest.approx(capped, abs=1e-3)
    assert _value(ignoring, y_true, leaky) == pytest.approx(capped, abs=1e-3)
    # Full weight: a perfect silent estimate scores 0 and leakage at the floor costs 10 log10(2) dB.
    counting = ThresholdedSNR(channels=1, snr_max_db=30.0, snr_floor_db=-30.0, silent_weight=1.0)
    assert _value(counting, y_true, y_true) == pytest.approx(capped / 2, abs=1e-3)
    assert _value(counting, y_true, leaky) - _value(counting, y_true, y_true) == pytest.approx(
        10 * np.log10(2.0) / 2, abs=1e-3)


@pytest.mark.parametrize("name, cls", [("mse", WaveformMSE), ("mae", WaveformMAE), ("snr", ThresholdedSNR),
                                       ("spectral", SpectralLoss),
                                       ("spectral+mae", SpectralMAE), ("difference+mae", DifferenceMAE)])
def test_build_loss_and_serialisation(name, cls):
    loss = build_loss(LossSpec(name=name, fft_size=64, hop_size=16), channels=1)
    assert isinstance(loss, cls)
    rebuilt = keras.losses.deserialize(keras.losses.serialize(loss))
    y = np.random.default_rng(1).standard_normal((2, 128, 2)).astype(np.float32)
    assert _value(rebuilt, y, 0.5 * y) == pytest.approx(_value(loss, y, 0.5 * y), rel=1e-6)
