"""Losses: values on hand-computed cases, and the sign of their gradients."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
import yaml

from sepzoo.config import config_from_dict
from sepzoo.errors import ConfigError
from sepzoo.losses import (
    DifferenceMAE,
    SpectralLoss,
    SpectralMAE,
    ThresholdedSNR,
    WaveformMAE,
    WaveformMSE,
    build_loss,
    get_loss,
    list_losses,
    loss_options,
    pairwise_abs_error,
    register_loss,
    split_sources,
    stft_magnitude,
)

TINY = Path(__file__).parent.parent / "zoo_configs" / "tiny_tones.yaml"
KNOWN = "known losses: difference+mae, mae, mse, snr, spectral, spectral+mae"


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
    kwargs = {"fft_size": 64, "hop_size": 16} if "fft_size" in loss_options(name) else {}
    loss = build_loss(name, kwargs, channels=1)
    assert isinstance(loss, cls)
    rebuilt = keras.losses.deserialize(keras.losses.serialize(loss))
    y = np.random.default_rng(1).standard_normal((2, 128, 2)).astype(np.float32)
    assert _value(rebuilt, y, 0.5 * y) == pytest.approx(_value(loss, y, 0.5 * y), rel=1e-6)


# --- The registry -----------------------------------------------------------------------------------------------


def _sine(frequency_bin: int, n_fft: int, samples: int, amplitude: float = 1.0) -> np.ndarray:
    return (amplitude * np.sin(2 * np.pi * frequency_bin * np.arange(samples) / n_fft)).astype(np.float32)


def _hand_cases():
    """``name -> (kwargs, channels, y_true, y_pred, expected value)``, worked out by hand from small signals."""
    rng = np.random.default_rng(7)
    zeros = np.zeros((1, 4, 2), np.float32)
    errors = np.array([[[1, -2], [0, 3], [0.5, 0.5], [-1, 1]]], np.float32)  # |e|: 1 2 0 3 .5 .5 1 1
    # snr: source 0 at half amplitude (error energy E/4), source 1 exact; tau = floor factor = 1e-3.
    speech = rng.standard_normal((1, 512, 2)).astype(np.float32)
    halved = speech * np.array([0.5, 1.0], np.float32)
    energies = np.sum(speech**2, axis=1)[0]
    floor = 1e-3 * np.sum(np.sum(speech, axis=-1) ** 2)
    snr = np.mean([10 * np.log10((err + 1e-3 * e + floor) / (e + floor))
                   for err, e in ((energies[0] / 4, energies[0]), (0.0, energies[1]))])
    # spectral: a bin-5 sine (periodic Hann, N = 64) against silence: bin 5 = A N / 4, bins 4 and 6 = A N / 8.
    sine = _sine(5, 64, 256, 0.5)[None, :, None]
    spectral = ((0.5 * 64 / 4) ** 2 + 2 * (0.5 * 64 / 8) ** 2) / 33
    # difference+mae, stereo: sources (1, 1) and (0, 0) in columns (s0c0, s0c1, s1c0, s1c1); exact estimates:
    # own errors 0, cross errors 1, so -difference_weight. With channels lost it would be 4 sources (-1/3 here).
    stereo = np.tile(np.array([1, 1, 0, 0], np.float32), (1, 8, 1))
    return {
        "mse": ({}, 1, zeros, errors, (1 + 4 + 0 + 9 + 0.25 + 0.25 + 1 + 1) / 8),
        "mae": ({}, 1, zeros, errors, (1 + 2 + 0 + 3 + 0.5 + 0.5 + 1 + 1) / 8),
        "snr": ({"snr_max_db": 30.0, "snr_floor_db": -30.0}, 1, speech, halved, snr),
        "spectral": ({"fft_size": 64, "hop_size": 16}, 1, np.zeros_like(sine), sine, spectral),
        "spectral+mae": ({"spectral_weight": 0.5, "fft_size": 64, "hop_size": 16}, 1, np.zeros_like(sine), sine,
                         float(np.mean(np.abs(sine))) + 0.5 * spectral),
        "difference+mae": ({"difference_weight": 0.5}, 2, stereo, stereo, -0.5),
    }


HAND_CASES = _hand_cases()


def test_every_registered_loss_has_a_hand_case():
    assert sorted(HAND_CASES) == list_losses()


@pytest.mark.parametrize("name", sorted(HAND_CASES))
def test_registered_loss_value_on_hand_case(name):
    kwargs, channels, y_true, y_pred, expected = HAND_CASES[name]
    loss = build_loss(name, kwargs, channels)
    assert _value(loss, y_true, y_pred) == pytest.approx(expected, rel=1e-4, abs=1e-5)


@pytest.mark.parametrize("name", sorted(HAND_CASES))
def test_registered_loss_falls_as_the_estimate_moves_to_the_target(name):
    kwargs, channels, _, _, _ = HAND_CASES[name]
    rng = np.random.default_rng(11)
    t = np.arange(512)
    y_true = np.stack([np.sin(2 * np.pi * 5 * t / 64), 0.5 * np.sin(2 * np.pi * 11 * t / 64 + 1.0),
                       rng.uniform(-0.3, 0.3, 512), np.cos(2 * np.pi * 3 * t / 64)], -1)[None].astype(np.float32)
    y_pred = (1.3 * y_true + 0.2 * rng.standard_normal(y_true.shape)).astype(np.float32)
    loss = build_loss(name, kwargs, channels)
    gradient = _gradient(loss, y_true, y_pred)
    # The directional derivative towards the target is negative, and a step that way lowers the loss.
    assert float(np.sum(gradient * (y_true - y_pred))) < 0
    assert _value(loss, y_true, y_pred + 0.2 * (y_true - y_pred)) < _value(loss, y_true, y_pred)


@pytest.mark.parametrize("name", list_losses())
def test_registry_sweep_builds_every_loss_with_defaults(name):
    loss = build_loss(name, {}, channels=2)
    assert isinstance(loss, keras.losses.Loss)
    assert ("channels" in loss_options(name)) == hasattr(loss, "channels")
    if "channels" in loss_options(name):
        assert loss.channels == 2
    assert set(loss_options(name)) <= set(loss.get_config())
    y = np.random.default_rng(3).standard_normal((2, 1024, 4)).astype(np.float32)
    value = _value(loss, y, 0.5 * y)
    assert np.isfinite(value)
    rebuilt = keras.losses.deserialize(keras.losses.serialize(loss))
    assert type(rebuilt) is type(loss) and _value(rebuilt, y, 0.5 * y) == pytest.approx(value, rel=1e-6)


def test_get_loss_by_name_and_options():
    assert list_losses() == ["difference+mae", "mae", "mse", "snr", "spectral", "spectral+mae"]
    assert loss_options("snr") == ("channels", "snr_max_db", "snr_floor_db", "silent_weight")
    assert loss_options("mse") == ()
    loss = get_loss("spectral+mae", spectral_weight=2, fft_size="128")  # YAML-ish values are coerced
    assert isinstance(loss, SpectralMAE)
    assert loss.get_config()["spectral_weight"] == 2.0 and loss.get_config()["fft_size"] == 128
    assert get_loss("snr", channels=2).channels == 2


def test_unknown_loss_name_lists_the_known_ones():
    with pytest.raises(ConfigError) as caught:
        get_loss("foo")
    assert str(caught.value) == f"unknown loss 'foo'; {KNOWN}"
    with pytest.raises(ConfigError, match=re.escape(KNOWN)):
        build_loss("l1", {}, channels=1)
    with pytest.raises(ConfigError, match="unknown loss 'foo'"):
        loss_options("foo")


def test_unknown_or_bad_kwarg_names_the_loss_and_the_key():
    with pytest.raises(ConfigError, match=r"loss 'snr' takes no argument 'snr_max'; its arguments: snr_max_db, "
                                          r"snr_floor_db, silent_weight"):
        get_loss("snr", snr_max=20.0)
    with pytest.raises(ConfigError, match=r"loss 'mse' takes no argument 'fft_size'; its arguments: none"):
        build_loss("mse", {"fft_size": 64}, channels=1)
    with pytest.raises(ConfigError, match=r"loss 'spectral' takes no argument 'channels'"):
        get_loss("spectral", channels=2)
    with pytest.raises(ConfigError, match=r"loss 'snr' gets channels from the data section"):
        build_loss("snr", {"channels": 2}, channels=1)
    with pytest.raises(ConfigError, match=r"loss 'spectral': 'big' is not allowed; expected an integer"):
        get_loss("spectral", fft_size="big")
    with pytest.raises(ConfigError, match=r"^loss 'spectral': hop_size 256 must be between 1 and fft_size 128"):
        get_loss("spectral", fft_size=128, hop_size=256)
    with pytest.raises(ConfigError, match=r"^loss 'spectral\+mae': hop_size 256 must be between 1 and fft_size 128"):
        build_loss("spectral+mae", {"fft_size": 128, "hop_size": 256}, channels=1)


def _tiny_raw(loss: dict) -> dict:
    raw = yaml.safe_load(TINY.read_text())
    raw["loss"] = loss
    return raw


def test_config_reports_loss_name_and_kwargs_problems_one_line_each():
    with pytest.raises(ConfigError) as caught:
        config_from_dict(_tiny_raw({"name": "foo"}), "tiny.yaml")
    assert str(caught.value) == f"tiny.yaml: loss.name: unknown loss 'foo'; {KNOWN}"
    with pytest.raises(ConfigError) as caught:
        config_from_dict(_tiny_raw({"name": "snr", "kwargs": {"snr_max": 20, "channels": 2, "silent_weight": 1}}))
    lines = str(caught.value).splitlines()
    assert len(lines) == 2, lines
    assert lines[0].startswith("<dict>: loss.kwargs.snr_max: loss 'snr' takes no argument 'snr_max'")
    assert lines[1].startswith("<dict>: loss.kwargs.channels: loss 'snr' gets channels from the data section")
    with pytest.raises(ConfigError, match=r"^<dict>: loss.kwargs: loss 'spectral': hop_size 512 must be between 1 "):
        config_from_dict(_tiny_raw({"name": "spectral", "kwargs": {"fft_size": 256, "hop_size": 512}}))
    config = config_from_dict(_tiny_raw({"name": "snr", "kwargs": {"snr_max_db": 25, "silent_weight": 0.5}}))
    loss = build_loss(config.loss.name, config.loss.kwargs, config.data.channels)
    assert isinstance(loss, ThresholdedSNR) and (loss.snr_max_db, loss.silent_weight) == (25.0, 0.5)


def test_registering_a_new_family_and_refusing_a_taken_name():
    @register_loss("test-only+l2")
    class ScaledMSE(keras.losses.Loss):
        def __init__(self, channels: int = 1, scale: float = 1.0, name: str = "scaled_mse", **kwargs):
            super().__init__(name=name, **kwargs)
            self.channels, self.scale = channels, scale

        def call(self, y_true, y_pred):
            return self.scale * keras.ops.mean(keras.ops.square(y_pred - y_true), axis=(1, 2))

    from sepzoo.losses import registry

    try:
        assert "test-only+l2" in list_losses()
        loss = build_loss("test-only+l2", {"scale": 3}, channels=2)
        assert (loss.channels, loss.scale) == (2, 3.0)
        with pytest.raises(ValueError, match="already registered"):
            register_loss("mse")(ScaledMSE)
    finally:
        registry._REGISTRY.pop("test-only+l2")


def test_helpers_are_re_exported():
    y = np.arange(12, dtype=np.float32).reshape(1, 3, 4)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(split_sources(y, 2))[0, 1], [[4, 5], [6, 7]])
    magnitude = keras.ops.convert_to_numpy(stft_magnitude(_sine(5, 64, 256)[None, :, None], 64, 16))
    assert magnitude.shape == (1, 1, 13, 33) and np.all(magnitude[0, 0].argmax(-1) == 5)


def test_losses_package_does_not_import_config_or_training():
    code = ("import sys, sepzoo.losses; bad = [m for m in sys.modules if m == 'sepzoo.config' "
            "or m.startswith(('sepzoo.training', 'sepzoo.cli'))]; assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
