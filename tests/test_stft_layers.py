"""STFT / InverseSTFT layers: the right bin, a faithful round trip, config round trips, and the real-valued DFT path
(for ONNX / LiteRT export, which runs on TensorFlow) giving what the FFT path gives."""

from __future__ import annotations

import itertools

import keras
import numpy as np
import pytest
import scipy.signal

from sepzoo.models import layers as layers_module
from sepzoo.models.layers import STFT, InverseSTFT, real_valued_dft

# (fft_size, hop_size): powers of two, a hop that does not divide the frame, an odd frame, no overlap.
DFT_SIZES = [(64, 16), (100, 24), (63, 20), (256, 96), (512, 128), (64, 64)]


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


def _envelope(window, fft_size: int, hop_size: int, frames: int, center: bool, samples: int) -> np.ndarray:
    """Summed squared window over the ``samples`` output samples of an inverse STFT, over its largest value."""
    squared = (np.ones(fft_size) if window is None else scipy.signal.get_window(window, fft_size)) ** 2
    envelope = np.zeros((frames - 1) * hop_size + fft_size)
    for frame in range(frames):
        envelope[frame * hop_size:frame * hop_size + fft_size] += squared
    start = fft_size // 2 if center else 0
    return np.pad(envelope[start:], (0, samples))[:samples] / envelope.max()


def check_dft_matches_fft(sizes=DFT_SIZES, lengths=(None, 900, 1100)) -> None:
    """STFT and InverseSTFT inside real_valued_dft against the FFT path on random real signals: every window, both
    centrings, output length as it comes, cut or padded (``lengths``). The spectra agree within 1e-6 of their peak. The
    waveforms agree within 1e-5 of their peak wherever the summed squared window is at least 1% of its largest
    value; elsewhere (the first and last few samples without centring, anything past the last frame) both paths
    divide float32 rounding by that near-zero envelope, so there the bound grows as 1 / sqrt(envelope)."""
    rng = np.random.default_rng(3)
    waves = rng.uniform(-1, 1, (2, 1000, 2)).astype(np.float32)
    for (fft_size, hop_size), window, center in itertools.product(sizes, ["hann", "hamming", None], [False, True]):
        case = f"fft {fft_size} hop {hop_size} window {window} center {center}"
        stft = STFT(fft_size, hop_size, window=window, center=center, output="complex")
        spectra = [keras.ops.convert_to_numpy(part) for part in stft(waves)]
        with real_valued_dft():
            dft_spectra = [keras.ops.convert_to_numpy(part) for part in stft(waves)]
        peak = max(np.abs(part).max() for part in spectra)
        for part, dft_part in zip(spectra, dft_spectra):
            np.testing.assert_allclose(dft_part, part, rtol=0, atol=1e-6 * peak, err_msg=case)
        frames = spectra[0].shape[2]
        for length in lengths:
            inverse = InverseSTFT(fft_size, hop_size, window=window, center=center, length=length)
            expected = keras.ops.convert_to_numpy(inverse(spectra))
            with real_valued_dft():
                got = keras.ops.convert_to_numpy(inverse(spectra))
            assert got.shape == expected.shape == tuple(inverse.compute_output_shape(spectra[0].shape)), case
            envelope = _envelope(window, fft_size, hop_size, frames, center, got.shape[1])[None, :, None]
            bound = 1e-5 * np.abs(expected).max() / np.sqrt(np.clip(envelope, 1e-20, 0.01) / 0.01)
            assert np.all(np.abs(got - expected) <= bound), f"{case} length {length}"


def test_real_valued_dft_matches_the_fft_under_tensorflow():
    if keras.backend.backend() != "tensorflow":
        pytest.skip("export, the DFT path's one use, runs on the TensorFlow backend")
    check_dft_matches_fft()


def test_real_valued_dft_traces_in_a_graph_and_the_setting_is_restored():
    """The flag is read when a graph is traced (a tf.function traced inside the block keeps the DFT, with no FFT
    op in it), it nests, and it is restored on leaving, also after an error."""
    waves = np.random.default_rng(5).standard_normal((2, 1024, 1)).astype(np.float32)
    stft, inverse = STFT(128, 32, center=True, output="complex"), InverseSTFT(128, 32, center=True, length=1024)
    expected = keras.ops.convert_to_numpy(inverse(stft(waves)))
    assert layers_module._REAL_VALUED_DFT is False
    with real_valued_dft():
        with real_valued_dft(False):
            assert layers_module._REAL_VALUED_DFT is False
        assert layers_module._REAL_VALUED_DFT is True
        if keras.backend.backend() == "tensorflow":
            import tensorflow as tf

            graph = tf.function(lambda w: inverse(stft(w))).get_concrete_function(tf.TensorSpec((None, 1024, 1)))
            kinds = {node.op for node in graph.graph.as_graph_def().node}
            assert not [kind for kind in kinds if "FFT" in kind.upper()], kinds
            np.testing.assert_allclose(graph(tf.constant(waves)).numpy(), expected, atol=1e-5)
    with pytest.raises(RuntimeError), real_valued_dft():
        raise RuntimeError("inside")
    assert layers_module._REAL_VALUED_DFT is False
