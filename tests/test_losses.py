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

import sepzoo
from sepzoo.config import config_from_dict
from sepzoo.errors import ConfigError
from sepzoo.losses import (
    CodecApproximationLoss,
    DifferenceMAE,
    MultiResolutionSTFTLoss,
    SpectralL1,
    SpectralLoss,
    SpectralMAE,
    ThresholdedSNR,
    WaveformMAE,
    WaveformMSE,
    build_loss,
    difference_margins,
    get_loss,
    list_losses,
    loss_options,
    model_options,
    pairwise_abs_error,
    register_loss,
    split_sources,
    stft_magnitude,
)

TINY = Path(__file__).parent.parent / "zoo_configs" / "tiny_tones.yaml"
KNOWN = "known losses: codec, difference+mae, mae, mse, multires_stft, snr, spectral, spectral+mae, spectral_l1"


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
                                       ("spectral", SpectralLoss), ("spectral_l1", SpectralL1),
                                       ("spectral+mae", SpectralMAE), ("difference+mae", DifferenceMAE),
                                       ("multires_stft", MultiResolutionSTFTLoss)])
def test_build_loss_and_serialisation(name, cls):
    kwargs = {"fft_size": 64, "hop_size": 16} if "fft_size" in loss_options(name) else {}
    if "fft_sizes" in loss_options(name):
        kwargs = {"fft_sizes": [32, 64], "hop_sizes": [8, 16]}
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
    # multires_stft: an estimate at half the target's amplitude has |S_ŷ| = |S_y| / 2 in every bin (a power-of-2
    # gain is exact in floating point), so spectral convergence is 1/2 and the log-magnitude distance log 2 at
    # every resolution (noise fills every bin, far above the 1e-7 floor).
    noise = rng.standard_normal((1, 512, 2)).astype(np.float32)
    codec_input = (0.1 * rng.standard_normal((1, 1024, 4))).astype(np.float32)  # two stereo sources, 1024 samples
    multires = {"fft_sizes": [64, 128, 256], "hop_sizes": [16, 32, 64], "spectral_convergence_weight": 1.0,
                "log_magnitude_weight": 0.5}
    return {
        "mse": ({}, 1, zeros, errors, (1 + 4 + 0 + 9 + 0.25 + 0.25 + 1 + 1) / 8),
        "mae": ({}, 1, zeros, errors, (1 + 2 + 0 + 3 + 0.5 + 0.5 + 1 + 1) / 8),
        "snr": ({"snr_max_db": 30.0, "snr_floor_db": -30.0}, 1, speech, halved, snr),
        "spectral": ({"fft_size": 64, "hop_size": 16}, 1, np.zeros_like(sine), sine, spectral),
        # spectral_l1: the same sine, |S| = 8, 4, 4 in bins 5, 4, 6 of 33 in every frame.
        "spectral_l1": ({"fft_size": 64, "hop_size": 16}, 1, np.zeros_like(sine), sine, 16 / 33),
        # codec: an estimate equal to its target passes the emulator unchanged on both sides.
        "codec": ({"feature_weights": [0.5], "l1_weight": 0.1}, 2, codec_input, codec_input.copy(), 0.0),
        "spectral+mae": ({"spectral_weight": 0.5, "fft_size": 64, "hop_size": 16}, 1, np.zeros_like(sine), sine,
                         float(np.mean(np.abs(sine))) + 0.5 * spectral),
        "difference+mae": ({"difference_weight": 0.5}, 2, stereo, stereo, -0.5),
        "multires_stft": (multires, 1, noise, 0.5 * noise, 0.5 + 0.5 * np.log(2.0)),
    }


HAND_CASES = _hand_cases()


def test_every_registered_loss_has_a_hand_case():
    assert sorted(HAND_CASES) == list_losses()


@pytest.mark.parametrize("name", sorted(HAND_CASES))
def test_registered_loss_value_on_hand_case(name):
    kwargs, channels, y_true, y_pred, expected = HAND_CASES[name]
    loss = build_loss(name, kwargs, channels, load_model=sepzoo.load)
    assert _value(loss, y_true, y_pred) == pytest.approx(expected, rel=1e-4, abs=1e-5)


@pytest.mark.parametrize("name", sorted(HAND_CASES))
def test_registered_loss_falls_as_the_estimate_moves_to_the_target(name):
    kwargs, channels, _, _, _ = HAND_CASES[name]
    rng = np.random.default_rng(11)
    t = np.arange(512)
    y_true = np.stack([np.sin(2 * np.pi * 5 * t / 64), 0.5 * np.sin(2 * np.pi * 11 * t / 64 + 1.0),
                       rng.uniform(-0.3, 0.3, 512), np.cos(2 * np.pi * 3 * t / 64)], -1)[None].astype(np.float32)
    y_pred = (1.3 * y_true + 0.2 * rng.standard_normal(y_true.shape)).astype(np.float32)
    loss = build_loss(name, kwargs, channels, load_model=sepzoo.load)
    gradient = _gradient(loss, y_true, y_pred)
    # The directional derivative towards the target is negative, and a step that way lowers the loss.
    assert float(np.sum(gradient * (y_true - y_pred))) < 0
    assert _value(loss, y_true, y_pred + 0.2 * (y_true - y_pred)) < _value(loss, y_true, y_pred)


@pytest.mark.parametrize("name", list_losses())
def test_registry_sweep_builds_every_loss_with_defaults(name):
    loss = build_loss(name, {}, channels=2, load_model=sepzoo.load)
    assert isinstance(loss, keras.losses.Loss)
    assert ("channels" in loss_options(name)) == hasattr(loss, "channels")
    if "channels" in loss_options(name):
        assert loss.channels == 2
    assert set(loss_options(name)) <= set(loss.get_config())
    # 2048 samples: multires_stft's largest default frame.
    y = np.random.default_rng(3).standard_normal((2, 2048, 4)).astype(np.float32)
    value = _value(loss, y, 0.5 * y)
    assert np.isfinite(value)
    if model_options(name):  # a model held by the loss is named in its config and loaded again from the zoo
        config = loss.get_config()
        rebuilt = build_loss(name, {key: config[key] for key in loss_options(name) if key != "channels"}, channels=2,
                             load_model=sepzoo.load)
    else:
        rebuilt = keras.losses.deserialize(keras.losses.serialize(loss))
    assert type(rebuilt) is type(loss) and _value(rebuilt, y, 0.5 * y) == pytest.approx(value, rel=1e-6)


def test_get_loss_by_name_and_options():
    assert list_losses() == ["codec", "difference+mae", "mae", "mse", "multires_stft", "snr", "spectral", "spectral+mae",
                             "spectral_l1"]
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


# --- multires_stft --------------------------------------------------------------------------------------------


def _numpy_magnitudes(signal: np.ndarray, n_fft: int, hop: int) -> np.ndarray:
    """|STFT| of a 1-D signal with a periodic Hann window and no centring, written out with numpy."""
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)
    starts = range(0, len(signal) - n_fft + 1, hop)
    return np.abs(np.stack([np.fft.rfft(window * signal[s:s + n_fft]) for s in starts]))


def test_multires_stft_matches_a_numpy_reference():
    rng = np.random.default_rng(5)
    y_true = rng.standard_normal((2, 600, 3))
    y_pred = 0.7 * y_true + 0.4 * rng.standard_normal(y_true.shape)
    y_pred[1, :, 2] = 0.0  # one silent estimate: the log term meets the floor
    sizes, hops, sc_weight, lm_weight = (64, 256), (16, 100), 0.7, 1.3
    expected = []
    for b in range(2):
        terms = []
        for n_fft, hop in zip(sizes, hops):
            target = np.stack([_numpy_magnitudes(y_true[b, :, k], n_fft, hop) for k in range(3)])
            estimate = np.stack([_numpy_magnitudes(y_pred[b, :, k], n_fft, hop) for k in range(3)])
            estimate = np.sqrt(estimate**2 + 1e-12)  # the STFT layer's floor
            convergence = np.linalg.norm(target - estimate) / np.linalg.norm(target)
            log_distance = np.mean(np.abs(np.log(target + 1e-7) - np.log(estimate + 1e-7)))
            terms.append(sc_weight * convergence + lm_weight * log_distance)
        expected.append(np.mean(terms))
    loss = MultiResolutionSTFTLoss(sizes, hops, spectral_convergence_weight=sc_weight, log_magnitude_weight=lm_weight)
    values = keras.ops.convert_to_numpy(loss.call(y_true.astype(np.float32), y_pred.astype(np.float32)))
    np.testing.assert_allclose(values, expected, rtol=2e-4)


def test_multires_stft_is_zero_at_the_target_and_ignores_a_common_gain():
    y = np.random.default_rng(6).standard_normal((2, 2048, 2)).astype(np.float32)
    loss = MultiResolutionSTFTLoss()
    assert _value(loss, y, y) < 1e-6
    gradient = _gradient(loss, y, y)
    assert np.all(np.isfinite(gradient))  # the norm's gradient stays finite at a perfect estimate
    y_pred = (0.8 * y + 0.1 * np.random.default_rng(7).standard_normal(y.shape)).astype(np.float32)
    assert _value(loss, 0.25 * y, 0.25 * y_pred) == pytest.approx(_value(loss, y, y_pred), rel=1e-4)


def test_multires_stft_refuses_frames_longer_than_the_examples():
    y = np.zeros((1, 1500, 1), np.float32)
    with pytest.raises(ValueError, match=r"fft_size 2048 is longer than the examples \(1500 samples\); every "
                                         r"fft_size must be at most the example length"):
        MultiResolutionSTFTLoss()(y, y)
    assert np.isfinite(_value(MultiResolutionSTFTLoss([512, 1024], [128, 256]), y + 0.1, y))


def test_multires_stft_arguments_and_config_round_trip():
    loss = get_loss("multires_stft", fft_sizes=["128", 256.0], hop_sizes=[32, "64"], spectral_convergence_weight=2,
                    log_magnitude_weight="0.5")
    config = loss.get_config()
    assert (config["fft_sizes"], config["hop_sizes"]) == ([128, 256], [32, 64])
    assert (config["spectral_convergence_weight"], config["log_magnitude_weight"]) == (2.0, 0.5)
    rebuilt = MultiResolutionSTFTLoss.from_config(config)
    assert rebuilt.get_config() == config
    assert keras.losses.deserialize(keras.losses.serialize(loss)).get_config() == config
    assert loss_options("multires_stft") == ("fft_sizes", "hop_sizes", "spectral_convergence_weight",
                                             "log_magnitude_weight")
    with pytest.raises(ConfigError, match=r"^loss 'multires_stft': fft_sizes \[512, 1024\] and hop_sizes \[128\] "
                                          r"must have the same length"):
        get_loss("multires_stft", fft_sizes=[512, 1024], hop_sizes=[128])
    with pytest.raises(ConfigError, match=r"^loss 'multires_stft': hop_size 600 must be between 1 and fft_size 512"):
        build_loss("multires_stft", {"fft_sizes": [512], "hop_sizes": [600]}, channels=1)
    with pytest.raises(ConfigError, match=r"fft_sizes .* must be a"):
        get_loss("multires_stft", fft_sizes=["big"], hop_sizes=[128])
    with pytest.raises(ConfigError, match=r"takes no argument 'channels'"):
        build_loss("multires_stft", {"channels": 2}, channels=1)


def test_config_accepts_multires_stft_kwargs():
    config = config_from_dict(_tiny_raw({"name": "multires_stft",
                                         "kwargs": {"fft_sizes": [128, 256], "hop_sizes": [32, 64]}}))
    loss = build_loss(config.loss.name, config.loss.kwargs, config.data.channels)
    assert isinstance(loss, MultiResolutionSTFTLoss) and loss.fft_sizes == (128, 256)


# --- difference+mae: the margin keeps it bounded ----------------------------------------------------------------


def _uncapped_difference(y_true, y_pred, weight: float, channels: int = 1) -> float:
    """The difference loss without a margin, mean over the batch: ``mean_i a_ii - w mean_{i != j} a_ij``."""
    pairs = keras.ops.convert_to_numpy(pairwise_abs_error(y_true, y_pred, channels))
    n = pairs.shape[-1]
    own = np.trace(pairs, axis1=1, axis2=2) / n
    others = (pairs.sum(axis=(1, 2)) - n * own) / (n * (n - 1))
    return float(np.mean(own - weight * others))


def test_difference_loss_hand_computed_inside_and_outside_the_margin():
    # Targets y_0 = (1, -1, 1, -1), y_1 = 0.5: levels 1 and 0.5, so both cross margins are 1.5.
    y_true = np.array([[[1, 0.5], [-1, 0.5], [1, 0.5], [-1, 0.5]]], np.float32)
    margins = keras.ops.convert_to_numpy(difference_margins(y_true, channels=1, margin_scale=1.0))[0]
    np.testing.assert_allclose(margins, [[2.0, 1.5], [1.5, 1.0]])
    loss = DifferenceMAE(channels=1, difference_weight=0.4)
    # Inside: ŷ_0 = y_0 / 2, ŷ_1 = 0.75. a_00 = 0.5, a_11 = 0.25, a_01 = mean(0, 1) = 0.5,
    # a_10 = mean(0.25, 1.75) = 1.
    inside = np.stack([0.5 * y_true[0, :, 0], np.full(4, 0.75)], -1)[None].astype(np.float32)
    expected = (0.5 + 0.25) / 2 - 0.4 * (0.5 + 1.0) / 2
    assert _value(loss, y_true, inside) == pytest.approx(expected)
    assert _uncapped_difference(y_true, inside, 0.4) == pytest.approx(expected)  # the margin changes nothing
    # Outside: ŷ_1 = 3. a_11 = 2.5 and a_10 = mean(2, 4) = 3, capped at 1.5.
    outside = inside.copy()
    outside[..., 1] = 3.0
    assert _value(loss, y_true, outside) == pytest.approx((0.5 + 2.5) / 2 - 0.4 * (0.5 + 1.5) / 2)
    # margin_scale 0 leaves the plain MAE; a negative one is refused.
    assert _value(DifferenceMAE(channels=1, margin_scale=0.0), y_true, outside) == pytest.approx(
        _value(WaveformMAE(), y_true, outside))
    with pytest.raises(ConfigError, match="margin_scale -1.0 must be at least 0"):
        get_loss("difference+mae", margin_scale=-1)


def test_difference_loss_leaves_the_exact_estimate_alone():
    # mean|y_i - y_j| <= mean|y_i| + mean|y_j|: at y_pred = y_true no term reaches the default margin.
    rng = np.random.default_rng(8)
    y_true = rng.uniform(-0.5, 0.5, (3, 256, 6)).astype(np.float32)
    y_true[1, :, 2:4] = 0.0  # a silent stereo source
    for weight in (0.1, 2.0):
        loss = DifferenceMAE(channels=2, difference_weight=weight)
        assert _value(loss, y_true, y_true) == pytest.approx(_uncapped_difference(y_true, y_true, weight, 2),
                                                             rel=1e-5)


@pytest.mark.parametrize("weight", [0.1, 2.0])
def test_difference_loss_is_bounded_below_when_estimates_grow(weight):
    rng = np.random.default_rng(9)
    y_true = rng.uniform(-0.5, 0.5, (2, 256, 3)).astype(np.float32)
    y_pred = (y_true + 0.05 * rng.standard_normal(y_true.shape)).astype(np.float32)
    loss = DifferenceMAE(channels=1, difference_weight=weight)
    bound = float(np.mean(keras.ops.convert_to_numpy(loss.lower_bound(y_true))))
    assert bound == pytest.approx(-2 * weight * np.mean(np.abs(y_true)))
    values = [_value(loss, y_true, scale * y_pred) for scale in (1.0, 10.0, 1000.0)]
    assert min(values) >= bound
    assert values[2] > values[0]  # a thousand times louder is worse, not better
    # At 1000x the gradient points back to the targets: no push-away term pays any more.
    gradient = _gradient(loss, y_true, 1000.0 * y_pred)
    assert float(np.sum(gradient * (y_true - 1000.0 * y_pred))) < 0
    if weight > 1:
        # Without the margin the loss falls without end as the estimates grow, far below the bound.
        uncapped = [_uncapped_difference(y_true, scale * y_pred, weight) for scale in (1.0, 10.0, 1000.0)]
        assert uncapped[0] > uncapped[1] > uncapped[2] and uncapped[2] < 100 * bound


def _train_difference_model(margin_scale: float, steps: int = 60):
    """A 2-layer conv separator trained ``steps`` steps with ``difference+mae`` (weight 2) on the tones data.

    Returns (losses per step, diagonal MAE before, after, output RMS after, target RMS) on a fixed batch.
    """
    from sepzoo.data import make_source, make_tf_dataset

    source = make_source("tones", split="train", sources=("low", "mid", "high"), sample_rate=8000, channels=1,
                         example_samples=512, seed=0)
    dataset = make_tf_dataset(source, 8, prefetch=False)
    mixture, stems = (np.asarray(t) for t in next(iter(dataset)))
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((512, 1)), keras.layers.Conv1D(16, 31, padding="same", activation="tanh"),
                              keras.layers.Conv1D(3, 31, padding="same")])
    loss = build_loss("difference+mae", {"difference_weight": 2.0, "margin_scale": margin_scale}, channels=1)
    model.compile(keras.optimizers.Adam(3e-3), loss)

    def diagonal_mae():
        estimate = np.asarray(model.predict_on_batch(mixture))
        pairs = keras.ops.convert_to_numpy(pairwise_abs_error(stems, estimate, 1))
        return float(np.mean(np.diagonal(pairs, axis1=1, axis2=2))), float(np.sqrt(np.mean(estimate**2)))

    before, _ = diagonal_mae()
    losses = [float(model.train_on_batch(x, y)) for x, y in dataset.take(steps)]
    after, rms = diagonal_mae()
    return losses, before, after, rms, float(np.sqrt(np.mean(stems**2)))


def test_difference_loss_trains_stably_where_the_uncapped_one_diverges():
    # Weight 2 makes the uncapped loss unbounded below; with the default margin training stays sane.
    losses, before, after, rms, target_rms = _train_difference_model(margin_scale=1.0)
    assert np.all(np.isfinite(losses))
    assert rms < 10 * target_rms
    assert after < 0.7 * before
    # The same run without a margin (a margin no estimate reaches) blows the outputs up.
    _, _, diverged_after, diverged_rms, _ = _train_difference_model(margin_scale=1e9)
    assert diverged_rms > 10 * target_rms and diverged_after > before
