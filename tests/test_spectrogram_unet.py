"""SpectrogramUNet: the P1-P5 ladder, window geometry, receptive field, causality, any-length separation, and the
contract every zoo model keeps."""

import numpy as np
import pytest

from model_contract import ModelContract, random_mixture
from sepzoo.models.spectrogram_unet import SpectrogramUNet, spectrogram_unet_context

SMALL = dict(target_samples=2000, fft_size=256, hop_size=64, base_filters=4, depth=3)
CAUSAL = dict(SMALL, causal=True, mask_activation="sigmoid")
MUSIC = dict(sources=("vocals", "accompaniment"), sample_rate=22050, channels=2, target_samples=4000,
             fft_size=1024, hop_size=256, base_filters=4, depth=3)
# The contract builds the model again in fresh TensorFlow and JAX processes, where each conv layer costs seconds
# to initialise: two levels keep those runs short.
CONTRACT = dict(SMALL, depth=2)
LADDER = [f"spectrogram_unet_p{size}" for size in range(1, 6)]


def _predict(model, x: np.ndarray) -> np.ndarray:
    return np.asarray(model(x, training=False))


def test_p1_to_p5_double_the_filters_at_fixed_depth_and_grow_in_params():
    """docs/research.md, part A: base channels 4, 8, 16, 32, 64 at one depth; parameters strictly grow."""
    from sepzoo import zoo

    models = [zoo.load(name, weights=None) for name in LADDER]
    assert [m.base_filters for m in models] == [4, 8, 16, 32, 64]
    assert {m.depth for m in models} == {4}
    params = [m.count_params() for m in models]
    assert all(small < large for small, large in zip(params, params[1:])), params
    for model in models:
        assert (model.sample_rate, model.channels, model.sources) == (16000, 1, ("speech", "noise"))
        assert model.context_samples == model.target_samples == 16256  # 127 hops of 128: 128 frames, 1.016 s
        assert model.receptive_field == 8447 and model.algorithmic_latency == model.context_samples
    causal = zoo.load("spectrogram_unet_causal", weights=None)
    assert causal.causal and causal.count_params() == params[1]  # P2's size: only paddings and strides differ
    assert causal.context_samples == 16000 and causal.algorithmic_latency == 512  # the 32 ms STFT window
    assert causal.receptive_field == 2943  # 17 frames of past context: (17 + 2) hops + a window - 1 sample
    assert causal.describe()["algorithmic_latency_seconds"] == 0.032


def test_geometry_round_trips_and_bad_lengths_are_refused():
    model = SpectrogramUNet(**SMALL)
    # 2000 samples -> 33 frames -> 40 (a multiple of 2**3) -> 39 hops of 64.
    assert model.context_samples == model.target_samples == 39 * 64
    again = SpectrogramUNet(**{**SMALL, "context_samples": model.context_samples + 8 * 64})
    assert again.target_samples == again.context_samples  # valid windows step by 2**depth hops
    with pytest.raises(ValueError, match=r"not a window length.*\(k \* 8 - 1\) \* 64.*next is 3008"):
        SpectrogramUNet(**{**SMALL, "context_samples": model.context_samples + 64})
    causal = SpectrogramUNet(**CAUSAL)
    assert causal.context_samples == 2048  # any multiple of the hop will do
    with pytest.raises(ValueError, match="multiples of 64 from 256"):
        SpectrogramUNet(**{**CAUSAL, "context_samples": 2050})
    assert spectrogram_unet_context(16000, 512, 128, 4, causal=False) == 16256


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="mask_activation"):
        SpectrogramUNet(**{**SMALL, "mask_activation": "relu"})
    with pytest.raises(ValueError, match="multiple of 2\\*\\*depth"):
        SpectrogramUNet(**{**SMALL, "fft_size": 200})
    with pytest.raises(ValueError, match="kernel_size"):
        SpectrogramUNet(**{**SMALL, "kernel_size": 1})


@pytest.mark.parametrize("kwargs", [SMALL, CAUSAL], ids=["non-causal", "causal"])
def test_receptive_field_is_the_widest_gradient_support(kwargs):
    """The computed field is the widest input span an output sample's gradient touches, over every position of
    one period of the U-Net's frame pattern (2**depth hops, every 8 samples) in the middle of the window."""
    tf = pytest.importorskip("tensorflow")
    model = SpectrogramUNet(**{**kwargs, "context_samples": 6080})
    x = tf.constant(random_mixture(model, batch=1))

    @tf.function
    def gradient(n):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = model(x)[0, n, 0]
        return tape.gradient(y, x)[0, :, 0]

    spans = []
    start = model.context_samples // 3
    for n in range(start, start + 2**model.depth * model.hop_size, 8):
        support = np.flatnonzero(np.abs(gradient(tf.constant(n)).numpy()) > 0)
        spans.append(support[-1] - support[0] + 1)
        if model.causal:  # nothing later than the frames whose window covers sample n
            assert support[-1] <= n + model.algorithmic_latency - 1
    assert max(spans) == model.receptive_field


def test_causal_output_does_not_depend_on_later_input():
    """Two inputs that differ only from sample t on: the causal model's outputs agree up to t - latency (latency =
    the STFT window), while the non-causal model's already differ there."""
    causal = SpectrogramUNet(**{**CAUSAL, "context_samples": 6080})
    t = causal.context_samples // 2 + 37
    x = random_mixture(causal, batch=2, seed=4)
    changed = x.copy()
    changed[:, t:] = np.random.default_rng(5).standard_normal(changed[:, t:].shape) * 0.3
    y, y_changed = _predict(causal, x), _predict(causal, changed)
    settled = t - causal.algorithmic_latency
    assert causal.algorithmic_latency == causal.fft_size
    np.testing.assert_allclose(y_changed[:, :settled], y[:, :settled], atol=1e-6)
    assert np.abs(y_changed[:, settled:t] - y[:, settled:t]).max() > 1e-4  # the bound is not loose by a window

    non_causal = SpectrogramUNet(**{**SMALL, "context_samples": 6080})
    assert non_causal.algorithmic_latency == non_causal.context_samples
    y, y_changed = _predict(non_causal, x), _predict(non_causal, changed)
    assert np.abs(y_changed[:, :settled] - y[:, :settled]).max() > 1e-6  # 1e-4 here; the causal model's is 0


def test_softmax_masks_make_sources_sum_to_the_mixture_and_sigmoid_masks_attenuate():
    model = SpectrogramUNet(**SMALL)
    x = random_mixture(model, seed=2)
    np.testing.assert_allclose(_predict(model, x).sum(axis=-1, keepdims=True), x, atol=1e-5)
    sigmoid = SpectrogramUNet(**CAUSAL)
    x = random_mixture(sigmoid, seed=2)
    y = _predict(sigmoid, x)
    rms = np.sqrt(np.mean(np.square(y), axis=1))  # (batch, sources): masks in (0, 1) only take energy away
    assert np.isfinite(y).all() and (0 < rms).all() and (rms < np.sqrt(np.mean(np.square(x), axis=1))).all()


@pytest.mark.parametrize("length", [999, 4097, 12345])
def test_separator_returns_any_length_and_softmax_stems_add_up(length):
    """Overlap-add in the Separator at odd lengths: stems as long as the input, summing to it (softmax masks)."""
    from sepzoo.separator import Separator

    model = SpectrogramUNet(**SMALL)
    audio = (0.3 * np.random.default_rng(length).standard_normal((1, length))).astype("float32")
    stems = Separator(model, progress=False).separate(audio, model.sample_rate)
    assert list(stems) == ["speech", "noise"] and all(stem.shape == audio.shape for stem in stems.values())
    np.testing.assert_allclose(sum(stems.values()), audio, atol=1e-4)


def test_music_setting_stereo_22k():
    """Usable for music too: 22.05 kHz vocals / accompaniment in stereo, 46 ms frames; each channel has its
    own masks, and stereo files of odd length come back whole through the Separator."""
    from sepzoo.separator import Separator

    model = SpectrogramUNet(**MUSIC)
    TestSpectrogramUNet().check_output_shape(model)
    x = random_mixture(model, seed=3)
    y = _predict(model, x).reshape(2, model.context_samples, 2, 2)  # (batch, samples, source, channel)
    np.testing.assert_allclose(y.sum(axis=2), x, atol=1e-5)
    audio = (0.2 * np.random.default_rng(6).standard_normal((2, 7001))).astype("float32")
    stems = Separator(model, progress=False).separate(audio, 22050)
    assert set(stems) == {"vocals", "accompaniment"} and stems["vocals"].shape == (2, 7001)
    np.testing.assert_allclose(stems["vocals"] + stems["accompaniment"], audio, atol=1e-4)


class TestSpectrogramUNet(ModelContract):
    model_class = SpectrogramUNet
    init_kwargs = CONTRACT


class TestSpectrogramUNetCausal(ModelContract):
    """Causal paddings and frequency-only strides, with sigmoid masks."""

    model_class = SpectrogramUNet
    init_kwargs = dict(CONTRACT, causal=True, mask_activation="sigmoid")

    def test_presets(self):
        pytest.skip("the presets are checked by TestSpectrogramUNet")
