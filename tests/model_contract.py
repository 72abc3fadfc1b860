"""Checks every zoo model must pass; model test files call them with a small configuration."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def random_mixture(model, batch: int = 2, seed: int = 0) -> np.ndarray:
    """A ``(batch, context_samples, channels)`` float32 noise mixture at -20 dBFS RMS."""
    rng = np.random.default_rng(seed)
    return (0.1 * rng.standard_normal((batch, model.context_samples, model.channels))).astype("float32")


def check_output_shape(model) -> None:
    y = np.asarray(model(random_mixture(model), training=False))
    assert y.shape == (2, model.target_samples, len(model.sources) * model.channels)
    assert np.isfinite(y).all()


def check_describe(model) -> None:
    info = model.describe()
    assert info["params"] == model.count_params() > 0
    assert info["receptive_field"] >= 1
    json.dumps(info)


def check_keras_round_trip(model, tmp_path: Path) -> None:
    import keras

    path = tmp_path / "model.keras"
    model.save(path)
    restored = keras.saving.load_model(path)
    x = random_mixture(model)
    np.testing.assert_allclose(np.asarray(restored(x)), np.asarray(model(x)), atol=1e-6)
    assert restored.get_config() == model.get_config()


def check_training_step_lowers_loss(model, steps: int = 4) -> None:
    """A few Adam steps on one fixed batch must lower the MSE on that batch."""
    import keras

    x = random_mixture(model)
    rng = np.random.default_rng(1)
    gains = rng.uniform(-1, 1, len(model.sources) * model.channels).astype("float32")
    offset = (model.context_samples - model.target_samples) // 2
    target = np.repeat(x[:, offset : offset + model.target_samples], len(model.sources), axis=-1) * gains
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    before = model.evaluate(x, target, verbose=0)
    model.fit(x, target, epochs=steps, batch_size=2, verbose=0)
    after = model.evaluate(x, target, verbose=0)
    assert after < before, (before, after)


def check_same_output_under_jax(model, tmp_path: Path, tolerance: float = 1e-4) -> None:
    """Rebuild the model under KERAS_BACKEND=jax with the same weights: outputs agree, a train step runs."""
    from sepzoo.preset import save_preset

    preset = save_preset(model, tmp_path / "preset")
    x = random_mixture(model)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y_tf.npy", np.asarray(model(x, training=False)))
    script = (
        "import sys, numpy as np, keras\n"
        "from sepzoo.preset import load_preset\n"
        "assert keras.backend.backend() == 'jax'\n"
        "m = load_preset(sys.argv[1]); x = np.load(sys.argv[2])\n"
        "np.save(sys.argv[3], np.asarray(m(x, training=False)))\n"
        "m.compile(optimizer='adam', loss='mse')\n"
        "m.fit(x, np.zeros(m.output_shape[1:], 'float32')[None].repeat(len(x), 0), epochs=1, verbose=0)\n"
    )
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu", "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, "-c", script, str(preset), str(tmp_path / "x.npy"), str(tmp_path / "y_jax.npy")],
        env=env, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    np.testing.assert_allclose(np.load(tmp_path / "y_jax.npy"), np.load(tmp_path / "y_tf.npy"), atol=tolerance)
