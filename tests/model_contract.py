"""The contract every zoo model keeps (keras-hub's ``run_backbone_test`` / ``run_preset_test``).

A model's test file subclasses :class:`ModelContract` with the class and small constructor kwargs::

    class TestLightweightASPP(ModelContract):
        model_class = LightweightASPP
        init_kwargs = dict(context_samples=2048, ...)

and gets, for free: build and output shapes, ``describe()`` numbers (params, receptive and target field,
latency), a ``.keras`` round trip in a fresh process that imports only ``sepzoo``, a few ``fit`` steps that
lower the loss, the same output under JAX, and every registered preset of the class building and, where
weights are published, loading with its sha256 verified. ``tests/test_model_contract.py`` fails when a
registered model class has no such subclass. Each ``check_*`` method is plain, so a test can also run the
whole contract on a model by calling :meth:`ModelContract.run_contract`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]


def random_mixture(model, batch: int = 2, seed: int = 0) -> np.ndarray:
    """A ``(batch, context_samples, channels)`` float32 noise mixture at -20 dBFS RMS."""
    rng = np.random.default_rng(seed)
    return (0.1 * rng.standard_normal((batch, model.context_samples, model.channels))).astype("float32")


def _run_python(script: str, args: list[str], model, backend: str) -> None:
    """Run ``script`` in a fresh interpreter that imports the model's module only if it lives outside sepzoo."""
    module = type(model).__module__
    module_file = sys.modules[module].__file__
    paths = [str(REPO)] + ([] if module.startswith("sepzoo.") else [str(Path(module_file).parent)])
    prelude = "" if module.startswith("sepzoo.") else f"import {module}\n"
    env = {**os.environ, "KERAS_BACKEND": backend, "JAX_PLATFORMS": "cpu",
           "PYTHONPATH": os.pathsep.join(paths + [os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([sys.executable, "-c", prelude + script, *args], env=env, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]


class ModelContract:
    """Checks every zoo model must pass. Subclasses set :attr:`model_class` and :attr:`init_kwargs`."""

    model_class: type | None = None
    init_kwargs: dict[str, Any] = {}
    parity_tolerance = 1e-4
    fit_steps = 4

    def make_model(self):
        return self.model_class(**self.init_kwargs)

    # -- checks -------------------------------------------------------------------------------------------

    def check_output_shape(self, model) -> None:
        y = np.asarray(model(random_mixture(model), training=False))
        assert y.shape == (2, model.target_samples, len(model.sources) * model.channels)
        assert np.isfinite(y).all()

    def check_describe(self, model) -> None:
        info = model.describe()
        assert info["params"] == model.count_params() > 0
        assert 1 <= info["receptive_field"] and 1 <= info["target_samples"] <= info["context_samples"]
        assert info["context_samples"] == model.context_samples and info["target_samples"] == model.target_samples
        assert info["algorithmic_latency_seconds"] > 0 and info["sample_rate"] == model.sample_rate
        assert info["class"] == type(model).__name__
        json.dumps(info)

    def check_keras_file_loads_in_a_fresh_process(self, model, tmp_path: Path) -> None:
        """``model.save`` here; ``import sepzoo`` + ``keras.saving.load_model`` in a new process gives the same."""
        tmp_path.mkdir(parents=True, exist_ok=True)
        path = tmp_path / "model.keras"
        model.save(path)
        x = random_mixture(model)
        np.save(tmp_path / "x.npy", x)
        script = (
            "import sys, numpy as np\n"
            "import sepzoo, keras\n"
            "m = keras.saving.load_model(sys.argv[1])\n"
            "np.save(sys.argv[3], np.asarray(m(np.load(sys.argv[2]), training=False)))\n"
        )
        _run_python(script, [str(path), str(tmp_path / "x.npy"), str(tmp_path / "y.npy")], model, "tensorflow")
        np.testing.assert_allclose(np.load(tmp_path / "y.npy"), np.asarray(model(x, training=False)), atol=1e-6)

    def check_fit_lowers_the_loss(self, model) -> None:
        """A few Adam steps on one fixed batch must lower the MSE on that batch."""
        import keras

        x = random_mixture(model)
        rng = np.random.default_rng(1)
        gains = rng.uniform(-1, 1, len(model.sources) * model.channels).astype("float32")
        offset = (model.context_samples - model.target_samples) // 2
        target = np.tile(x[:, offset: offset + model.target_samples], (1, 1, len(model.sources))) * gains
        model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
        before = model.evaluate(x, target, verbose=0)
        model.fit(x, target, epochs=self.fit_steps, batch_size=2, verbose=0)
        after = model.evaluate(x, target, verbose=0)
        assert after < before, (before, after)

    def check_same_output_under_jax(self, model, tmp_path: Path) -> None:
        """Rebuild the model under KERAS_BACKEND=jax with the same weights: outputs agree, a train step runs."""
        pytest.importorskip("jax")
        from sepzoo.zoo import save_preset

        tmp_path.mkdir(parents=True, exist_ok=True)
        preset = save_preset(model, tmp_path / "preset")
        x = random_mixture(model)
        np.save(tmp_path / "x.npy", x)
        script = (
            "import sys, numpy as np, keras\n"
            "from sepzoo.zoo import load_preset\n"
            "assert keras.backend.backend() == 'jax'\n"
            "m = load_preset(sys.argv[1]); x = np.load(sys.argv[2])\n"
            "np.save(sys.argv[3], np.asarray(m(x, training=False)))\n"
            "m.compile(optimizer='adam', loss='mse')\n"
            "m.fit(x, np.zeros(m.output_shape[1:], 'float32')[None].repeat(len(x), 0), epochs=1, verbose=0)\n"
        )
        _run_python(script, [str(preset), str(tmp_path / "x.npy"), str(tmp_path / "y_jax.npy")], model, "jax")
        np.testing.assert_allclose(np.load(tmp_path / "y_jax.npy"), np.asarray(model(x, training=False)),
                                   atol=self.parity_tolerance)

    def check_presets(self) -> None:
        """Every zoo entry on this class builds; every published version loads with its sha256 verified."""
        from sepzoo import hub, zoo

        entries = [spec for spec in zoo.presets().values() if spec.class_name == self.model_class.__name__]
        for spec in entries:
            model = zoo.load(spec.name, weights=None)
            assert isinstance(model, self.model_class) and model.describe()["params"] > 0
            for version, published in spec.versions.items():
                folder = zoo.fetch_weights(f"{spec.name}/{version}")  # the hub checks the archive's sha256
                metadata = zoo.read_metadata(folder)
                assert metadata["weights_sha256"] == hub.sha256_file(folder / zoo.WEIGHTS_FILE)
                loaded = zoo.load_preset(folder)
                assert isinstance(loaded, self.model_class)
                assert metadata["params"] == loaded.count_params()

    def run_contract(self, tmp_path: Path) -> None:
        """Every check, in order, on a fresh model (for tests that build a model class at run time)."""
        model = self.make_model()
        self.check_output_shape(model)
        self.check_describe(model)
        self.check_keras_file_loads_in_a_fresh_process(model, tmp_path / "keras")
        self.check_same_output_under_jax(model, tmp_path / "jax")
        self.check_fit_lowers_the_loss(self.make_model())
        self.check_presets()

    # -- the tests a subclass gets ------------------------------------------------------------------------

    @pytest.fixture(scope="class")
    def contract_model(self):
        return self.make_model()

    def test_output_shape(self, contract_model):
        self.check_output_shape(contract_model)

    def test_describe(self, contract_model):
        self.check_describe(contract_model)

    def test_keras_file_loads_in_a_fresh_process(self, contract_model, tmp_path):
        self.check_keras_file_loads_in_a_fresh_process(contract_model, tmp_path)

    def test_same_output_under_jax(self, contract_model, tmp_path):
        self.check_same_output_under_jax(contract_model, tmp_path)

    def test_fit_lowers_the_loss(self):
        self.check_fit_lowers_the_loss(self.make_model())

    def test_presets(self):
        self.check_presets()
