"""The codec-approximation loss (``codec``): zero for identical inputs and positive otherwise, its options, and
training through it under TensorFlow and JAX: the gradient reaches the separator, never the frozen emulator."""

import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

from sepzoo.errors import ConfigError
from sepzoo.losses import CodecApproximationLoss, build_loss, get_loss, model_options
from sepzoo.models import SpectrogramCodecEmulator, SpectrogramUNet, WaveformCodecEmulator

REPO = Path(__file__).resolve().parents[1]
EMULATOR = dict(target_samples=2000, fft_size=256, hop_size=64, base_filters=4, depth=2)
SEPARATOR = dict(target_samples=2000, fft_size=256, hop_size=64, base_filters=4, depth=2)


def _speechlike(batch: int, samples: int, columns: int, seed: int = 0) -> np.ndarray:
    """Harmonic tones with gliding pitch plus a little noise, ``(batch, samples, columns)`` at 16 kHz."""
    rng = np.random.default_rng(seed)
    t = np.arange(samples) / 16000
    out = np.zeros((batch, samples, columns), np.float32)
    for b in range(batch):
        for c in range(columns):
            pitch = rng.uniform(100, 300) * (1 + 0.1 * np.sin(2 * np.pi * rng.uniform(1, 4) * t))
            phase = 2 * np.pi * np.cumsum(pitch) / 16000
            out[b, :, c] = 0.05 * sum(np.sin(k * phase) / k for k in range(1, 20)) + 0.003 * rng.standard_normal(samples)
    return out


def _emulator(kind=SpectrogramCodecEmulator, seed: int = 0):
    keras.utils.set_random_seed(seed)
    model = kind(**EMULATOR)
    # The head starts at zero (an untrained emulator is the identity): give it weights so the test sees a codec.
    for weight in model.weights:
        weight.assign(np.random.default_rng(seed).normal(0, 0.1, weight.shape).astype("float32")
                      if "head" in weight.path else weight.numpy())
    return model


def _value(loss, y_true, y_pred) -> np.ndarray:
    return keras.ops.convert_to_numpy(loss.call(keras.ops.convert_to_tensor(y_true), keras.ops.convert_to_tensor(y_pred)))


@pytest.mark.parametrize("kind", [SpectrogramCodecEmulator, WaveformCodecEmulator])
def test_zero_for_identical_inputs_and_positive_otherwise(kind):
    loss = CodecApproximationLoss(_emulator(kind), channels=1, feature_weights=[0.5, 0.5], l1_weight=0.5)
    y = _speechlike(2, 4096, 2)
    assert np.all(_value(loss, y, y) == 0.0)
    noisy = y + 0.01 * np.random.default_rng(1).standard_normal(y.shape).astype(np.float32)
    values = _value(loss, y, noisy)
    assert values.shape == (2,) and np.all(values > 0)
    # The further the estimate, the larger the loss.
    assert np.all(_value(loss, y, y + 4 * (noisy - y)) > values)


def test_terms_add_as_documented():
    """codec_weight * codec term + feature terms + l1_weight * plain magnitude L1; the L1 alone is |S(ŷ) - S(y)|."""
    from sepzoo.data.codec_pairs import magnitude_spectrogram

    emulator = _emulator()
    y, y_hat = _speechlike(2, 4096, 1, seed=2), _speechlike(2, 4096, 1, seed=3)
    l1_only = CodecApproximationLoss(emulator, codec_weight=0.0, l1_weight=1.0)
    expected = [np.mean(np.abs(magnitude_spectrogram(y_hat[b, :, 0], 256, 64) - magnitude_spectrogram(y[b, :, 0], 256, 64)))
                for b in range(2)]
    np.testing.assert_allclose(_value(l1_only, y, y_hat), expected, rtol=2e-3)
    codec = _value(CodecApproximationLoss(emulator), y, y_hat)
    features = _value(CodecApproximationLoss(emulator, codec_weight=0.0, feature_weights=[1.0, 0.0]), y, y_hat)
    mixed = _value(CodecApproximationLoss(emulator, codec_weight=2.0, feature_weights=[0.5], l1_weight=0.25), y, y_hat)
    np.testing.assert_allclose(mixed, 2 * codec + 0.5 * features + 0.25 * np.array(expected), rtol=2e-3)
    assert np.all(features > 0)


def test_the_shipped_emulator_makes_the_loss_blind_to_what_the_codec_removes():
    """MP3 at 16 kbps keeps little above a few kHz: through the trained emulator an error tone at 7 kHz costs far
    less, relative to the same tone at 1 kHz, than it does in plain magnitude L1."""
    import sepzoo

    emulator = sepzoo.load("codec_emulator_spectrogram")
    codec, plain = CodecApproximationLoss(emulator), CodecApproximationLoss(emulator, codec_weight=0.0, l1_weight=1.0)
    y = _speechlike(1, 16256, 1)
    t = np.arange(16256) / 16000

    def tone(hz):
        return (0.01 * np.sin(2 * np.pi * hz * t))[None, :, None].astype(np.float32)

    def ratio(loss):
        return float(_value(loss, y, y + tone(7000))[0] / _value(loss, y, y + tone(1000))[0])

    assert ratio(codec) < 0.3 * ratio(plain), (ratio(codec), ratio(plain))


def test_options_are_checked():
    emulator = _emulator()
    with pytest.raises(ConfigError, match="needs a loaded emulator"):
        CodecApproximationLoss("codec_emulator_spectrogram")
    with pytest.raises(ConfigError, match="not a codec emulator"):
        CodecApproximationLoss(SpectrogramUNet(**SEPARATOR))
    with pytest.raises(ConfigError, match="2 encoder levels"):
        CodecApproximationLoss(emulator, feature_weights=[1, 1, 1])
    with pytest.raises(ConfigError, match="must not be negative"):
        get_loss("codec", emulator=emulator, feature_weights=[-1])
    assert model_options("codec") == ("emulator",)


def test_build_loss_loads_a_named_emulator_and_freezes_it():
    loaded = []

    def load_model(name):
        loaded.append(name)
        return _emulator()

    loss = build_loss("codec", {"emulator": "my_emulator", "feature_weights": [0.5]}, channels=2,
                      load_model=load_model)
    assert loaded == ["my_emulator"] and loss.channels == 2
    assert not loss.emulator.trainable and not loss.emulator.trainable_weights
    assert loss.get_config()["emulator"] == "my_emulator"
    assert loss.get_config()["feature_weights"] == [0.5]


def _separator_and_data(seed: int = 0):
    keras.utils.set_random_seed(seed)
    separator = SpectrogramUNet(**SEPARATOR)
    speech = _speechlike(8, separator.context_samples, 1, seed=seed)
    noise = 0.02 * np.random.default_rng(seed).standard_normal(speech.shape).astype(np.float32)
    return separator, speech + noise, np.concatenate([speech, noise], -1)


def test_fit_trains_the_separator_and_never_the_emulator():
    emulator = _emulator()
    frozen = [w.numpy().copy() for w in emulator.weights]
    separator, x, y = _separator_and_data()
    separator.compile(optimizer=keras.optimizers.Adam(1e-2), loss=CodecApproximationLoss(emulator))
    before = [w.numpy().copy() for w in separator.trainable_weights]
    assert not {id(w) for w in emulator.weights} & {id(w) for w in separator.weights}
    history = separator.fit(x, y, batch_size=4, epochs=12, verbose=0).history["loss"]
    assert history[-1] < 0.85 * history[0], history  # the separator learns through the emulator
    assert all(np.array_equal(a, w.numpy()) for a, w in zip(frozen, emulator.weights))
    assert any(not np.array_equal(a, w.numpy()) for a, w in zip(before, separator.trainable_weights))
    assert len(separator.weights) == len(SpectrogramUNet(**SEPARATOR).weights)  # nothing of the emulator saved


_JAX_FIT = """
import json, sys
import numpy as np
import keras
sys.path.insert(0, sys.argv[2])
import test_codec_loss as t
assert keras.backend.backend() == "jax"
emulator = t._emulator()
frozen = [np.array(w.numpy()) for w in emulator.weights]
separator, x, y = t._separator_and_data()
separator.compile(optimizer=keras.optimizers.Adam(1e-2), loss=t.CodecApproximationLoss(emulator, feature_weights=[0.2]))
before = [np.array(w.numpy()) for w in separator.trainable_weights]
history = separator.fit(x, y, batch_size=4, epochs=12, verbose=0).history["loss"]
json.dump({"history": [float(v) for v in history],
           "emulator_unchanged": all(np.array_equal(a, np.array(w.numpy())) for a, w in zip(frozen, emulator.weights)),
           "separator_changed": any(not np.array_equal(a, np.array(w.numpy())) for a, w in zip(before, separator.trainable_weights))},
          open(sys.argv[1], "w"))
"""


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="runs JAX in a subprocess from TensorFlow")
def test_fit_under_jax_trains_the_separator_and_never_the_emulator(tmp_path):
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu", "TF_CPP_MIN_LOG_LEVEL": "3",
           "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([sys.executable, "-c", _JAX_FIT, str(tmp_path / "out.json"), str(REPO / "tests")],
                            env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    out = json.loads((tmp_path / "out.json").read_text())
    assert out["emulator_unchanged"] and out["separator_changed"]
    assert out["history"][-1] < 0.85 * out["history"][0], out["history"]
