"""The model contract itself: every registered model has a contract test, and a model added from a module of
its own (here a temporary one, outside the package) gets the whole contract and a published preset with no
edit to any shared file."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

from model_contract import ModelContract
from sepzoo import zoo
from sepzoo.models import base, model_classes

TESTS = Path(__file__).parent

TOY_MODULE = '''
"""A toy zoo model: one same-padded conv from the mixture to every source."""

import keras

from sepzoo.models.base import SeparationModel, register_model

PRESETS = {"toy_conv": {"description": "toy conv separator, 2 stems, 8 kHz mono",
                        "config": {"sources": ["low", "high"], "kernel_size": 9}}}


@register_model(presets=PRESETS)
class ToyConv(SeparationModel):
    """One conv layer, ``(batch, context_samples, channels)`` -> ``(batch, context_samples, sources * channels)``."""

    def __init__(self, sources=("low", "high"), sample_rate=8000, channels=1, context_samples=256, kernel_size=9,
                 **kwargs):
        # === Layers ===
        conv = keras.layers.Conv1D(len(sources) * channels, kernel_size, padding="same")
        # === Functional graph ===
        mixture = keras.Input((context_samples, channels))
        super().__init__(inputs=mixture, outputs=conv(mixture), **{"name": "toy_conv", **kwargs})
        # === Config ===
        self.kernel_size = kernel_size
        self._set_fields(sources=sources, sample_rate=sample_rate, channels=channels,
                         context_samples=context_samples, target_samples=context_samples,
                         receptive_field=kernel_size)

    def get_config(self):
        return {"name": self.name, "trainable": self.trainable, "sources": list(self.sources),
                "sample_rate": self.sample_rate, "channels": self.channels,
                "context_samples": self.context_samples, "kernel_size": self.kernel_size}

    @classmethod
    def from_config(cls, config):
        return cls(**config)
'''


def _contract_classes() -> dict[str, type]:
    """Model class name -> the ModelContract subclass that tests it, over every test module in tests/."""
    for path in sorted(TESTS.glob("test_*.py")):
        try:
            importlib.import_module(path.stem)
        except pytest.skip.Exception:  # a module that needs an optional package skips itself
            pass
    return {case.model_class.__name__: case for case in _all_subclasses(ModelContract) if case.model_class}


def _all_subclasses(cls: type) -> list[type]:
    return [sub for direct in cls.__subclasses__() for sub in [direct, *_all_subclasses(direct)]]


def test_every_registered_model_has_a_contract_test():
    tested = _contract_classes()
    untested = sorted(set(model_classes()) - set(tested))
    assert not untested, f"registered models without a ModelContract test: {untested}; add tests/test_<model>.py"


@pytest.fixture
def toy_module(tmp_path, monkeypatch):
    folder = tmp_path / "toy_package"
    folder.mkdir()
    (folder / "toy_zoo_model.py").write_text(TOY_MODULE)
    monkeypatch.syspath_prepend(str(folder))
    module = importlib.import_module("toy_zoo_model")
    try:
        yield module
    finally:
        base.unregister_model("ToyConv")
        sys.modules.pop("toy_zoo_model", None)


def test_a_model_from_its_own_module_gets_the_whole_contract(toy_module, tmp_path, monkeypatch):
    assert "ToyConv" in model_classes() and "toy_conv" in zoo.presets()
    assert zoo.load("toy_conv", weights=None).describe()["receptive_field"] == 9

    # Publish a version of it into a hub folder of its own: the contract then loads it, sha256 checked.
    hub_dir = tmp_path / "hub"
    monkeypatch.setenv("SEPZOO_HUB_URL", str(hub_dir))
    monkeypatch.setenv("SEPZOO_CACHE_DIR", str(tmp_path / "cache"))
    model = toy_module.ToyConv(**zoo.get_preset("toy_conv").config)
    zoo.save_preset(model, tmp_path / "run" / "preset", {"description": "toy", "training": {"steps": 0}})
    zoo.publish(tmp_path / "run", "toy_conv", "v1", hub_dir=hub_dir)
    assert zoo.get_preset("toy_conv").versions["v1"].sha256

    class TestToy(ModelContract):
        model_class = toy_module.ToyConv
        init_kwargs = {}

    TestToy().run_contract(tmp_path / "contract")
    assert zoo.load("toy_conv/v1").count_params() == model.count_params()
