"""Wave-U-Net: the paper's geometry, the exact receptive field, the contract every zoo model keeps."""

import numpy as np
import pytest

from model_contract import ModelContract
from sepzoo.models.wave_u_net import WaveUNet, wave_u_net_geometry

SMALL = dict(sources=("drums", "bass", "other"), num_layers=4, filters_per_layer=6, target_samples=256)


def test_paper_geometry_and_size():
    """M3 / M4 / M5 (Stoller et al. 2018): 147 443 -> 16 389 samples at 22.05 kHz (6.69 s in, 0.743 s out),
    about 10.2 M parameters; one output sample sees 135 155 of the input samples."""
    from sepzoo import zoo

    assert wave_u_net_geometry(12, 15, 5, 16384) == (147443, 16389)
    for name, channels in [("wave_u_net_m3", 1), ("wave_u_net_m4", 2), ("wave_u_net_m5", 2)]:
        model = zoo.load(name, weights=None)
        assert (model.context_samples, model.target_samples, model.channels) == (147443, 16389, channels)
        assert round(model.context_samples / model.sample_rate, 2) == 6.69
        assert round(model.target_samples / model.sample_rate, 3) == 0.743
        assert abs(model.count_params() - 10.2e6) < 0.1e6, model.count_params()
        assert model.receptive_field == 135155 <= model.context_samples


def test_receptive_field_is_the_widest_gradient_support():
    """The computed receptive field equals the widest input span any output sample's gradient touches."""
    tf = pytest.importorskip("tensorflow")
    model = WaveUNet(**SMALL, output_layer="direct", output_activation="linear")
    x = tf.constant(np.random.default_rng(0).standard_normal((1, model.context_samples, 1)).astype("float32"))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = model(x)[0, :, 0]
    jacobian = np.abs(tape.jacobian(y, x).numpy()[:, 0, :, 0]) > 0
    spans = [np.flatnonzero(row)[-1] - np.flatnonzero(row)[0] + 1 for row in jacobian]
    assert max(spans) == model.receptive_field
    assert np.flatnonzero(jacobian[0])[0] == 0 and np.flatnonzero(jacobian[-1])[-1] == model.context_samples - 1


def test_geometry_round_trips_and_bad_lengths_are_refused():
    model = WaveUNet(**SMALL)
    assert model.target_samples >= 256
    again = WaveUNet(**{**SMALL, "context_samples": model.context_samples + 2**4})
    assert again.target_samples == model.target_samples + 2**4  # valid lengths step by 2**num_layers
    with pytest.raises(ValueError, match="not an input length"):
        WaveUNet(**{**SMALL, "context_samples": model.context_samples + 1})
    with pytest.raises(ValueError, match="upsampling"):
        WaveUNet(**SMALL, upsampling="cubic")


def test_difference_output_sums_to_the_centre_of_the_mixture():
    model = WaveUNet(**SMALL)
    x = np.random.default_rng(1).uniform(-0.5, 0.5, (2, model.context_samples, 1)).astype("float32")
    y = np.asarray(model(x))
    start = (model.context_samples - model.target_samples) // 2
    np.testing.assert_allclose(y.sum(axis=-1), x[:, start:start + model.target_samples, 0], atol=1e-5)


@pytest.mark.parametrize("length", [100, 1000, 5000])
def test_separator_aligns_the_target_window_for_any_length(length):
    """The Separator asks the model for its geometry: with the difference output the stems of any length add up
    to the input exactly, which only happens when each target lands on the centre of its context window."""
    from sepzoo.separator import Separator

    model = WaveUNet(**SMALL)
    audio = (0.3 * np.sin(2 * np.pi * 440 * np.arange(length) / model.sample_rate))[None].astype("float32")
    stems = Separator(model, progress=False).separate(audio, model.sample_rate)
    assert set(stems) == set(model.sources) and all(stem.shape == audio.shape for stem in stems.values())
    np.testing.assert_allclose(sum(stems.values()), audio, atol=1e-5)


class TestWaveUNet(ModelContract):
    model_class = WaveUNet
    init_kwargs = SMALL


class TestWaveUNetLearnedStereo(ModelContract):
    """M5-style: stereo, learned upsampling, window normalisation with linear outputs."""

    model_class = WaveUNet
    init_kwargs = dict(SMALL, channels=2, upsampling="learned", normalize=True, output_activation="linear")

    def test_presets(self):
        pytest.skip("the presets are checked by TestWaveUNet")
