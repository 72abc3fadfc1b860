"""ConvBaseline: the contract every zoo model keeps, its receptive field against its impulse response, and the
residual option."""

import numpy as np
import pytest

import model_contract as contract
from model_contract import ModelContract
from sepzoo.models.conv_baseline import ConvBaseline

SMALL = dict(context_samples=512, kernel_size=31, filters=(8, 8, 8))


class TestConvBaseline(ModelContract):
    """The zoo contract on the plain baseline, at a small size."""

    model_class = ConvBaseline
    init_kwargs = dict(residual=False, **SMALL)


class TestConvBaselineResidual(ModelContract):
    """The zoo contract on the residual baseline, at a small size."""

    model_class = ConvBaseline
    init_kwargs = dict(residual=True, **SMALL)


def _influence_span(model, position: int, seeds=(0, 1, 2)) -> tuple[int, int]:
    """First and last output sample that move when input sample ``position`` changes, over a few inputs.

    Each trial compares the model on an input with and without a change at ``position``: a unit impulse (both
    signs) on silence, and a unit bump on random noise. ReLUs can silence a path for one input, so the span is
    the union over the trials.
    """
    length, channels = model.context_samples, model.channels
    bases = [np.zeros((1, length, channels), "float32")] * 2
    bumps = [1.0, -1.0]
    for seed in seeds:
        bases.append(contract.random_mixture(model, batch=1, seed=seed))
        bumps.append(1.0)
    moved = np.zeros(length, bool)
    for base, bump in zip(bases, bumps):
        changed = base.copy()
        changed[0, position, :] += bump
        y0, y1 = np.asarray(model(base)), np.asarray(model(changed))
        moved |= (y0 != y1).any(axis=(0, 2))
    indices = np.flatnonzero(moved)
    return int(indices[0]), int(indices[-1])


@pytest.mark.parametrize("residual", [False, True], ids=["plain", "residual"])
def test_receptive_field_matches_the_impulse_response(residual):
    kernel_size = SMALL["kernel_size"]
    model = ConvBaseline(residual=residual, **SMALL)
    assert model.receptive_field == 1 + 4 * (kernel_size - 1) == 121
    centre = model.context_samples // 2
    first, last = _influence_span(model, centre)
    # An odd same-padded kernel reaches (kernel - 1) / 2 samples each way per layer.
    assert (first, last) == (centre - 2 * (kernel_size - 1), centre + 2 * (kernel_size - 1))
    assert last - first + 1 == model.receptive_field


def test_receptive_field_with_a_kernel_per_layer():
    kernels = (3, 9, 15, 5)
    model = ConvBaseline(context_samples=256, filters=(4, 4, 4), kernel_size=kernels)
    assert model.receptive_field == 1 + sum(k - 1 for k in kernels) == 29
    first, last = _influence_span(model, 128)
    assert last - first + 1 == model.receptive_field
    assert model.get_config()["kernel_size"] == list(kernels)


def test_default_model_is_the_papers_baseline():
    model = ConvBaseline()
    assert model.sources == ("drums", "piano", "strings", "bass")
    assert (model.sample_rate, model.channels, model.context_samples) == (22050, 1, 4410)
    assert model.target_samples == model.context_samples
    assert model.receptive_field == 1 + 4 * 254
    convs = [model.get_layer(f"conv_{i}") for i in range(1, 5)]
    assert [c.filters for c in convs] == [64, 64, 64, 4]
    assert [c.activation.__name__ for c in convs] == ["relu", "relu", "relu", "linear"]
    assert all(c.padding == "same" and c.kernel_size == (255,) for c in convs)


def test_the_last_layer_can_output_negative_samples():
    model = ConvBaseline(**SMALL)
    y = np.asarray(model(contract.random_mixture(model)))
    assert (y < 0).any() and (y > 0).any()


def test_residual_changes_the_output_of_identical_weights():
    plain = ConvBaseline(residual=False, **SMALL)
    residual = ConvBaseline(residual=True, **SMALL)
    for i in range(1, 5):
        residual.get_layer(f"conv_{i}").set_weights(plain.get_layer(f"conv_{i}").get_weights())
    x = contract.random_mixture(plain)
    y_plain = np.asarray(plain(x))
    assert not np.allclose(np.asarray(residual(x)), y_plain, atol=1e-4)
    # With the 1x1 projections (conv 1 and 4 change width) zeroed, the identity skips of conv 2 and 3 remain.
    assert [layer.name for layer in residual.layers if layer.name.startswith("skip_")] == ["skip_1", "skip_4"]
    for name in ("skip_1", "skip_4"):
        layer = residual.get_layer(name)
        layer.set_weights([np.zeros_like(w) for w in layer.get_weights()])
    assert not np.allclose(np.asarray(residual(x)), y_plain, atol=1e-4)


def test_residual_with_equal_widths_needs_no_projection():
    # Mono input, width-1 hidden layers and one mono source: every layer keeps the width, every skip is x.
    model = ConvBaseline(sources=("solo",), context_samples=128, filters=(1, 1, 1), kernel_size=5, residual=True)
    assert [layer.name for layer in model.layers if layer.name.startswith("skip_")] == []
    assert model.count_params() == 4 * (5 + 1)


def test_two_stem_stereo_layout():
    model = ConvBaseline(sources=("vocals", "accompaniment"), channels=2, **SMALL)
    TestConvBaseline().check_output_shape(model)


@pytest.mark.parametrize("kwargs", [dict(filters=(8, 8)), dict(kernel_size=(3, 3, 3)), dict(kernel_size=0)])
def test_bad_arguments_are_refused(kwargs):
    with pytest.raises(ValueError):
        ConvBaseline(**{**SMALL, **kwargs})
