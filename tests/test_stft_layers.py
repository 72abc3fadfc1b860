"""STFT / InverseSTFT layers: the right bin, a faithful round trip, config round trips."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from sepzoo.models.layers import STFT, InverseSTFT


def _numpy(value) -> np.ndarray:
    return keras.ops.convert_to_numpy(value)


def test_magnitude_of_a_sine_peaks_at_its_bin():
    # 1 kHz at 8 kHz with a 256-sample frame: bin 1000 * 256 / 8000 = 32. A second channel at 2.5 kHz: bin 80.
    sample_rate, n_fft, hop = 8000, 256, 64
    t = np.arange(2048) / sample_rate
    waves = np.stack([np.sin(2 * np.pi * 1000 * t), 0.5 * np.sin(2 * np.pi * 2500 * t)], -1)
    waves = waves.astype(np.float32)[None]  # (1, 2048, 2)
    magnitude = _numpy(STFT(n_fft, hop)(waves))
    assert magnitude.shape == (1, 2, 1 + (2048 - n_fft) // hop, n_fft // 2 + 1)
    assert np.all(magnitude[0, 0].argmax(axis=-1) == 32)
    assert np.all(magnitude[0, 1].argmax(axis=-1) == 80)
    # Periodic Hann: a bin-centred sine of amplitude A gives A * N / 4 on its bin.
    np.testing.assert_allclose(magnitude[0, 0, :, 32], n_fft / 4, rtol=1e-4)
    np.testing.assert_allclose(magnitude[0, 1, :, 80], 0.5 * n_fft / 4, rtol=1e-4)


def test_complex_output_shapes_and_magnitude_agree():
    waves = np.random.default_rng(0).standard_normal((3, 1000, 2)).astype(np.float32)
    layer = STFT(128, 32, output="complex")
    real, imag = (_numpy(part) for part in layer(waves))
    expected = (3, 2, 1 + (1000 - 128) // 32, 65)
    assert real.shape == imag.shape == expected
    assert tuple(layer.compute_output_shape((3, 1000, 2))[0]) == expected
    np.testing.assert_allclose(np.sqrt(real**2 + imag**2), _numpy(STFT(128, 32)(waves)), rtol=1e-4, atol=1e-4)
    centred = STFT(128, 32, center=True)
    assert _numpy(centred(waves)).shape == (3, 2, 1 + 1000 // 32, 65)
    assert tuple(centred.compute_output_shape((3, 1000, 2))) == (3, 2, 1 + 1000 // 32, 65)


@pytest.mark.parametrize("center", [False, True])
def test_round_trip_reconstructs_a_random_signal(center):
    n_fft, hop, samples = 128, 32, 1024
    waves = np.random.default_rng(1).uniform(-1, 1, (2, samples, 3)).astype(np.float32)
    real, imag = STFT(n_fft, hop, center=center, output="complex")(waves)
    inverse = InverseSTFT(n_fft, hop, center=center, length=samples)
    rebuilt = _numpy(inverse((real, imag)))
    assert rebuilt.shape == waves.shape
    assert tuple(inverse.compute_output_shape((2, 3, real.shape[2], n_fft // 2 + 1))) == waves.shape
    # center=False: the first and last few samples lie under nothing but the window's near-zero ends.
    region = slice(None) if center else slice(16, samples - 16)
    np.testing.assert_allclose(rebuilt[:, region], waves[:, region], atol=1e-4)


def test_get_config_round_trip():
    for layer in (STFT(256, 64, window=None, center=True, output="complex"),
                  InverseSTFT(256, 64, window="hamming", center=True, length=900)):
        config = layer.get_config()
        clone = type(layer).from_config(config)
        assert clone.get_config() == config
        restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
        assert type(restored) is type(layer) and restored.get_config() == config
    waves = np.random.default_rng(2).standard_normal((1, 512, 1)).astype(np.float32)
    layer = STFT(64, 16)
    np.testing.assert_allclose(_numpy(STFT.from_config(layer.get_config())(waves)), _numpy(layer(waves)))


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="output"):
        STFT(64, 16, output="phase")
    with pytest.raises(ValueError, match="hop_size 128"):
        STFT(64, 128)
    with pytest.raises(ValueError, match="hop_size 0"):
        InverseSTFT(64, 0)
