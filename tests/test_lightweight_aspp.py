"""LightweightASPP: the published shape, the contract every zoo model keeps, and backend parity."""

import numpy as np
import pytest

import model_contract as contract
from model_contract import ModelContract
from sepzoo.models.lightweight_aspp import LightweightASPP

SMALL = dict(context_samples=2048, encoder_channels=(8, 12, 16, 20, 24), aspp_channels=16, decoder_channels=24,
             aspp_rates=(1, 2, 4), output_channels_per_sample=4)


@pytest.fixture(
    scope="module",
    params=[dict(variant="a"), dict(variant="b"), dict(variant="c"),
            dict(variant="b", output_head="mask", basis_size=8, basis_kernel_size=64), dict(variant="b", normalize=False),
            dict(variant="b", output_head="mask", basis_size=8, basis_kernel_size=(32, 256))],
    ids=["a", "b", "c", "b-mask", "b-unnormalized", "b-mask-multires"],
)
def small_model(request):
    return LightweightASPP(**request.param, **SMALL)


def test_default_model_matches_the_paper_budget():
    model = LightweightASPP()
    assert model.sample_rate == 22050 and model.context_samples == 16384 and model.channels == 1
    assert model.sources == ("drums", "bass", "keys", "other")
    assert abs(model.count_params() - 850_000) <= 85_000, model.count_params()
    assert model.receptive_field >= 16384


def test_shipped_architecture_matches_the_paper_budget():
    from sepzoo import zoo

    model = LightweightASPP(**zoo.get_preset("lightweight_aspp").config)
    assert abs(model.count_params() - 850_000) <= 85_000, model.count_params()
    assert model.receptive_field >= 16384


@pytest.mark.parametrize("name", ["lightweight_aspp_a", "lightweight_aspp_b", "lightweight_aspp_c"])
def test_ablation_variants_are_within_ten_percent_of_the_paper_budget(name):
    """Seed B's ablation compares decoders a, b and c at equal size: each preset within 10 % of 0.85 M."""
    from sepzoo import zoo

    model = zoo.load(name, weights=None)
    assert model.variant == name[-1] and model.output_head == "waveform"
    assert abs(model.count_params() - 850_000) <= 85_000, model.count_params()
    assert model.receptive_field >= 16384


def test_receptive_field_follows_the_layers():
    narrow = LightweightASPP(aspp_rates=(1, 4), variant="a")
    wide = LightweightASPP(aspp_rates=(1, 8, 32, 128), variant="a")
    # Widening the largest ASPP rate by 124 bottleneck frames widens the field by 124 * (9 - 1) * 16 samples.
    assert wide.receptive_field - narrow.receptive_field == 124 * 8 * 16
    # The mask head adds its analysis filter: 512-sample filters reach 480 samples further than 32-sample ones.
    short = LightweightASPP(output_head="mask", basis_size=8, basis_kernel_size=32)
    long = LightweightASPP(output_head="mask", basis_size=8, basis_kernel_size=512)
    assert long.receptive_field - short.receptive_field == 480
    # A multi-resolution bank reaches as far as its longest filters.
    both = LightweightASPP(output_head="mask", basis_size=8, basis_kernel_size=(32, 512))
    assert both.receptive_field == long.receptive_field


def test_standardisation_makes_the_model_scale_equivariant():
    model = LightweightASPP(**SMALL)
    x = 0.05 * np.random.default_rng(3).standard_normal((1, 2048, 1)).astype("float32")
    np.testing.assert_allclose(np.asarray(model(4 * x)), 4 * np.asarray(model(x)), rtol=1e-3, atol=1e-5)


def test_residual_source_makes_stems_sum_to_the_mixture(small_model):
    x = contract.random_mixture(small_model)
    y = np.asarray(small_model(x))
    np.testing.assert_allclose(y.sum(axis=-1, keepdims=True), x, atol=1e-5)


def test_two_stem_stereo_layout():
    model = LightweightASPP(sources=("vocals", "accompaniment"), channels=2, **SMALL)
    TestLightweightASPP().check_output_shape(model)


class TestLightweightASPP(ModelContract):
    """The zoo contract on the shipped architecture (variant b, mask head), at a small size."""

    model_class = LightweightASPP
    init_kwargs = dict(variant="b", output_head="mask", basis_size=8, basis_kernel_size=64, **SMALL)


def test_every_variant_keeps_the_contract(small_model, request):
    case = TestLightweightASPP()
    case.check_output_shape(small_model)
    case.check_describe(small_model)
    if request.node.callspec.id != "b-mask":  # TestLightweightASPP trains that one already (CI time)
        case.check_fit_lowers_the_loss(small_model)


def test_waveform_head_matches_under_jax(tmp_path):
    TestLightweightASPP().check_same_output_under_jax(LightweightASPP(variant="b", **SMALL), tmp_path)


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="variant"):
        LightweightASPP(variant="z")
    with pytest.raises(ValueError, match="output_head"):
        LightweightASPP(variant="c", output_head="mask")
    with pytest.raises(ValueError, match="multiple of 16"):
        LightweightASPP(context_samples=1000)
    with pytest.raises(ValueError, match="multiple of stride"):
        LightweightASPP(output_head="mask", basis_kernel_size=40)
    with pytest.raises(ValueError, match="split evenly"):
        LightweightASPP(output_head="mask", basis_size=10, basis_kernel_size=(32, 64, 512))
