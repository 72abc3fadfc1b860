"""Codec emulators: the presets, codec_magnitudes at any length (TF graph and jitted JAX), identity at
initialisation, shared weights between the model and its magnitude / feature models, the receptive field against
the gradient, that both learn a low-pass codec, and the contract every zoo model keeps."""

from pathlib import Path

import numpy as np
import pytest

from model_contract import ModelContract, _run_python, random_mixture
from sepzoo.models.codec_emulator import SpectrogramCodecEmulator, WaveformCodecEmulator

SPECTROGRAM = dict(target_samples=2000, fft_size=256, hop_size=64, base_filters=4, depth=2)
WAVEFORM = dict(target_samples=2000, fft_size=256, hop_size=64, base_filters=4, depth=2, kernel_size=9)
BOTH = [(SpectrogramCodecEmulator, SPECTROGRAM), (WaveformCodecEmulator, WAVEFORM)]
IDS = ["spectrogram", "waveform"]


def _randomize(model, seed: int = 0, scale: float = 0.1) -> None:
    """Non-zero weights everywhere (the zero-initialised heads would hide the U-Net from gradients and checks)."""
    rng = np.random.default_rng(seed)
    model.set_weights([scale * rng.standard_normal(w.shape).astype("float32") for w in model.get_weights()])


def _noise(batch: int, samples: int, seed: int = 0) -> np.ndarray:
    return (0.1 * np.random.default_rng(seed).standard_normal((batch, samples, 1))).astype("float32")


def test_presets_are_16k_mono_p_ladder_windows():
    from sepzoo import zoo

    spectrogram = zoo.load("codec_emulator_spectrogram", weights=None)
    waveform = zoo.load("codec_emulator_waveform", weights=None)
    for model, domain in ((spectrogram, "spectrogram"), (waveform, "waveform")):
        assert (model.sources, model.sample_rate, model.channels) == (("coded",), 16000, 1)
        assert model.context_samples == model.target_samples == 16256  # 127 hops of 128: the P ladder's window
        assert (model.domain, model.fft_size, model.hop_size) == (domain, 512, 128)
        assert "16 kbps MP3" in zoo.get_preset(f"codec_emulator_{domain}").description
    assert spectrogram.count_params() == 55633 and spectrogram.receptive_field == 8447  # as P2's
    assert waveform.count_params() == 107144 and waveform.receptive_field == 883
    assert 50_000 <= waveform.count_params() <= 150_000 and waveform.receptive_field >= 512


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="one source"):
        SpectrogramCodecEmulator(**SPECTROGRAM, sources=("a", "b"))
    with pytest.raises(ValueError, match=r"\(k \* 4 - 1\) \* 64"):
        SpectrogramCodecEmulator(**SPECTROGRAM, context_samples=2300)
    with pytest.raises(ValueError, match="multiples of 2\\*\\*depth=4"):
        WaveformCodecEmulator(**WAVEFORM, context_samples=2002)
    assert WaveformCodecEmulator(**WAVEFORM).context_samples == 2000
    assert WaveformCodecEmulator(**{**WAVEFORM, "target_samples": 2001}).context_samples == 2004


@pytest.mark.parametrize("cls, kwargs", BOTH, ids=IDS)
def test_codec_magnitudes_at_any_length_with_features(cls, kwargs):
    """5000 samples is no window length: frames = 1 + 5000 // 64 = 79 (padded to 80 inside the spectrogram U-Net);
    in a TensorFlow graph too, and with a batch of 3."""
    tf = pytest.importorskip("tensorflow")
    model = cls(**kwargs)
    x = _noise(3, 5000)
    magnitudes = np.asarray(model.codec_magnitudes(x))
    assert magnitudes.shape == (3, 79, 129, 1) and (magnitudes >= 0).all()
    again, maps = model.codec_magnitudes(x, features=True)
    np.testing.assert_allclose(np.asarray(again), magnitudes, atol=1e-6)
    assert len(maps) == model.depth == 2
    if cls is SpectrogramCodecEmulator:
        assert [tuple(m.shape) for m in maps] == [(3, 40, 64, 4), (3, 20, 32, 8)]
    else:
        assert [tuple(m.shape) for m in maps] == [(3, 2500, 4), (3, 1250, 8)]
    graph = tf.function(lambda w: model.codec_magnitudes(w))
    np.testing.assert_allclose(graph(tf.constant(x)).numpy(), magnitudes, atol=1e-5)
    with pytest.raises(ValueError, match="at least fft_size"):
        model.codec_magnitudes(x[:, :200])


def test_codec_magnitudes_under_jax_jit_and_grad(tmp_path):
    """The perceptual loss calls codec_magnitudes inside a jitted JAX train step: with these weights it gives what
    it gives here under TensorFlow, and its gradient with respect to the waveform is finite and non-zero."""
    pytest.importorskip("jax")
    x = _noise(2, 3001, seed=6)
    np.save(tmp_path / "x.npy", x)
    for name, (cls, kwargs) in zip(IDS, BOTH):
        model = cls(**kwargs)
        _randomize(model, seed=2)
        model.save_weights(tmp_path / f"{name}.weights.h5")
        np.save(tmp_path / f"{name}.npy", np.asarray(model.codec_magnitudes(x)))
    script = (
        "import sys, pathlib, numpy as np, jax, jax.numpy as jnp\n"
        "from sepzoo.models.codec_emulator import SpectrogramCodecEmulator, WaveformCodecEmulator\n"
        "folder = pathlib.Path(sys.argv[1]); x = jnp.asarray(np.load(folder / 'x.npy'))\n"
        f"for name, cls, kwargs in [('spectrogram', SpectrogramCodecEmulator, {SPECTROGRAM!r}),\n"
        f"                          ('waveform', WaveformCodecEmulator, {WAVEFORM!r})]:\n"
        "    m = cls(**kwargs); m.load_weights(folder / f'{name}.weights.h5')\n"
        "    jitted = np.asarray(jax.jit(m.codec_magnitudes)(x))\n"
        "    assert jitted.shape == (2, 47, 129, 1), jitted.shape\n"
        "    np.testing.assert_allclose(jitted, np.load(folder / f'{name}.npy'), atol=1e-4)\n"
        "    loss = lambda w: jnp.mean(m.codec_magnitudes(w, features=True)[1][-1] ** 2)\n"
        "    g = np.asarray(jax.jit(jax.grad(loss))(x))\n"
        "    assert np.isfinite(g).all() and np.abs(g).max() > 0\n"
    )
    _run_python(script, [str(tmp_path)], SpectrogramCodecEmulator(**SPECTROGRAM), "jax")


def test_spectrogram_emulator_starts_as_the_identity():
    """The head is zero-initialised: the magnitude model gives its input back (Nyquist bin zeroed), and so the
    waveform model gives back its input but for that bin."""
    model = SpectrogramCodecEmulator(**SPECTROGRAM)
    linear = np.abs(np.random.default_rng(1).standard_normal((2, 8, 129, 1))).astype("float32")
    out = np.asarray(model.magnitude_model(linear))
    np.testing.assert_allclose(out[:, :, :-1], linear[:, :, :-1], rtol=1e-4, atol=1e-5)
    assert (out[:, :, -1] == 0).all()
    x = random_mixture(model)
    y = np.asarray(model(x))
    assert np.sqrt(np.mean((y - x) ** 2)) < 0.1 * np.sqrt(np.mean(x**2))  # white noise: the Nyquist bin is ~0.5 %


def test_waveform_emulator_starts_as_the_identity():
    model = WaveformCodecEmulator(**WAVEFORM)
    x = random_mixture(model)
    np.testing.assert_array_equal(np.asarray(model(x)), x)


@pytest.mark.parametrize("cls, kwargs", BOTH, ids=IDS)
def test_magnitude_and_feature_models_share_the_models_weights(cls, kwargs, tmp_path):
    """Weights saved from the model and loaded into a fresh one restore codec_magnitudes and its features."""
    model = cls(**kwargs)
    _randomize(model, seed=3)
    core = model.magnitude_model if cls is SpectrogramCodecEmulator else model.waveform_model
    owned = {id(w) for w in model.weights}
    assert {id(w) for w in core.weights} == {id(w) for w in model.feature_model.weights} == owned
    model.save_weights(tmp_path / "emulator.weights.h5")
    fresh = cls(**kwargs)
    x = _noise(2, 3000, seed=4)
    before = np.asarray(fresh.codec_magnitudes(x))
    fresh.load_weights(tmp_path / "emulator.weights.h5")
    expected, expected_maps = model.codec_magnitudes(x, features=True)
    loaded, loaded_maps = fresh.codec_magnitudes(x, features=True)
    assert np.abs(before - np.asarray(expected)).max() > 1e-3  # the check would notice unloaded weights
    np.testing.assert_allclose(np.asarray(loaded), np.asarray(expected), atol=1e-6)
    for a, b in zip(loaded_maps, expected_maps):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-6)


@pytest.mark.parametrize("cls, kwargs", BOTH, ids=IDS)
def test_receptive_field_is_the_widest_gradient_support(cls, kwargs):
    """The computed field is the widest input span an output sample's gradient touches, over one period of the
    U-Net's pattern in the middle of the window (as SpectrogramUNet's test does), with the heads made non-zero."""
    tf = pytest.importorskip("tensorflow")
    spectrogram = cls is SpectrogramCodecEmulator
    model = cls(**{**kwargs, "context_samples": 6080 if spectrogram else 4096})
    _randomize(model, seed=5, scale=0.3)
    x = tf.constant(random_mixture(model, batch=1))

    @tf.function
    def gradient(n):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = model(x)[0, n, 0]
        return tape.gradient(y, x)[0, :, 0]

    period = 2**model.depth * (model.hop_size if spectrogram else 1)
    start = model.context_samples // 3
    spans = []
    for n in range(start, start + period, 8 if spectrogram else 1):
        support = np.flatnonzero(np.abs(gradient(tf.constant(n)).numpy()) > 0)
        spans.append(support[-1] - support[0] + 1)
    assert max(spans) == model.receptive_field


def _lowpass_pairs(samples: int, batch: int = 8, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """White noise at 16 kHz and the same through a 4 kHz windowed-sinc FIR low-pass (101 taps, zero phase)."""
    taps = np.arange(101) - 50
    fir = 0.5 * np.sinc(0.5 * taps) * np.hamming(101)  # cutoff 4 kHz = half of Nyquist
    x = _noise(batch, samples, seed)
    y = np.stack([np.convolve(row, fir, mode="same") for row in x[..., 0]])[..., None].astype("float32")
    return x, y


@pytest.mark.parametrize("cls, kwargs", BOTH, ids=IDS)
def test_both_learn_a_lowpass_codec(cls, kwargs):
    """30 Adam steps on (noise, low-passed noise) with MAE: the loss falls well below the identity's."""
    import keras

    keras.utils.set_random_seed(0)
    model = cls(**kwargs)
    x, y = _lowpass_pairs(model.context_samples)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mae")
    before = model.evaluate(x, y, verbose=0)
    model.fit(x, y, epochs=30, batch_size=8, verbose=0)
    after = model.evaluate(x, y, verbose=0)
    assert after < 0.5 * before, (before, after)  # 0.3 and 0.25 of it when written


class TestSpectrogramCodecEmulator(ModelContract):
    model_class = SpectrogramCodecEmulator
    init_kwargs = SPECTROGRAM


class TestWaveformCodecEmulator(ModelContract):
    model_class = WaveformCodecEmulator
    init_kwargs = WAVEFORM


SPEECH = Path(__file__).resolve().parents[2] / "shared" / "data" / "speech"


@pytest.mark.parametrize("name", ["codec_emulator_spectrogram", "codec_emulator_waveform"])
def test_shipped_emulators_beat_the_identity_map_on_held_back_speech(name):
    """Against real lameenc output on speakers no emulator trained on, each shipped emulator's magnitudes are
    closer than the lossless input's in log-spectral distance and in spectral convergence."""
    if not SPEECH.is_dir():
        pytest.skip(f"no real speech at {SPEECH} (the shared data folder is not checked out)")
    import sepzoo
    from sepzoo.data import make_source
    from sepzoo.evaluation.codec import IDENTITY, emulator_scores

    source = make_source("codec_pairs", split="test", sources=["coded"], sample_rate=16000, channels=1,
                         example_samples=16256, seed=3, validation_examples=12,
                         options={"speech": [str(SPEECH)], "bitrate_kbps": 16})
    scores = emulator_scores({name: sepzoo.load(name)}, [source.example(i) for i in range(12)])
    assert scores[name]["lsd_db"] < scores[IDENTITY]["lsd_db"] - 0.5, scores
    assert scores[name]["spectral_convergence"] < scores[IDENTITY]["spectral_convergence"], scores
