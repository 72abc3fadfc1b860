"""WaveNetSeparator: the zoo contract, its receptive field against the impulse response, the presets' shape."""

import numpy as np
import pytest

from model_contract import ModelContract
from sepzoo import zoo
from sepzoo.models.wavenet_separator import WaveNetSeparator

SMALL = dict(context_samples=512, stacks=2, blocks_per_stack=3, filters=8, skip_channels=8, head_channels=(16, 8))


class TestWaveNetSeparator(ModelContract):
    model_class = WaveNetSeparator
    init_kwargs = SMALL


class TestWaveNetSeparatorUnnormalized(ModelContract):
    model_class = WaveNetSeparator
    init_kwargs = dict(SMALL, normalize=False, sources=("a", "b"), channels=2)


def test_receptive_field_follows_the_formula():
    for stacks, blocks, kernel, head in [(1, 4, 3, (16,)), (2, 3, 3, (16, 8)), (3, 2, 5, ())]:
        model = WaveNetSeparator(context_samples=256, stacks=stacks, blocks_per_stack=blocks, kernel_size=kernel,
                                 filters=4, skip_channels=4, head_channels=head)
        expected = 1 + stacks * (kernel - 1) * (2**blocks - 1) + 2 * len(head)
        assert model.receptive_field == expected, (stacks, blocks, kernel, head)
        assert model.target_samples == model.context_samples


def test_receptive_field_matches_the_impulse_response():
    """Outputs that move when one input sample moves span exactly the receptive field (and no more)."""
    model = WaveNetSeparator(context_samples=512, stacks=2, blocks_per_stack=4, filters=16, skip_channels=16,
                             head_channels=(16,), normalize=False)
    rng = np.random.default_rng(0)
    base = (0.1 * rng.standard_normal((1, 512, 1))).astype("float32")
    centre = 256
    moved = np.zeros(512, bool)
    for amplitude in (-3.0, -1.0, 1.0, 3.0):
        bumped = base.copy()
        bumped[0, centre, 0] += amplitude
        moved |= np.abs(np.asarray(model(bumped)) - np.asarray(model(base)))[0].max(axis=-1) > 1e-7
    span = np.flatnonzero(moved)
    assert span.min() >= centre - (model.receptive_field - 1) // 2
    assert span.max() <= centre + (model.receptive_field - 1) // 2
    assert span.max() - span.min() + 1 == model.receptive_field


def test_presets_are_the_paper_model_and_a_cpu_size():
    paper = zoo.load("wavenet_separator_paper", weights=None)
    assert (paper.stacks, paper.blocks_per_stack, paper.filters, paper.head_channels) == (4, 10, 128, (512, 256))
    assert paper.sample_rate == 44100 and paper.context_samples == 4410
    assert paper.sources == ("drums", "piano", "strings", "bass")
    cpu = zoo.load("wavenet_separator", weights=None)
    assert cpu.sample_rate == 22050 and cpu.count_params() < paper.count_params() / 10


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="at least 1"):
        WaveNetSeparator(stacks=0)


@pytest.mark.parametrize("samples, rate, channels", [(1, 22050, 1), (999, 44100, 2), (30011, 16000, 1)])
def test_separates_any_length_and_rate(samples, rate, channels):
    from sepzoo.separator import Separator

    model = WaveNetSeparator(**SMALL)
    audio = (0.1 * np.random.default_rng(samples).standard_normal((channels, samples))).astype("float32")
    stems = Separator(model).separate(audio, rate)
    assert set(stems) == set(model.sources)
    assert all(stem.shape == (channels, samples) and np.isfinite(stem).all() for stem in stems.values())
