"""Every registered loss gives the same values under TensorFlow and JAX (to 1e-5, relative where large).

The losses are computed here on the running backend (TensorFlow) and, for all of them at once, in one fresh
interpreter with ``KERAS_BACKEND=jax JAX_PLATFORMS=cpu`` and ``PYTHONPATH`` set to the repository, as
``tests/model_contract.py`` runs its JAX checks.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

import sepzoo
from sepzoo.losses import build_loss, list_losses

REPO = Path(__file__).resolve().parents[1]

#: ``(case id, loss name, kwargs, channels)``: every registered loss with its defaults, plus variants that take
#: other paths through the code (stereo splitting, silent-source weighting, a margin that caps).
CASES = [
    ("mse", "mse", {}, 2),
    ("mae", "mae", {}, 2),
    ("snr", "snr", {}, 2),
    ("snr-silent-weight", "snr", {"silent_weight": 0.5, "snr_max_db": 20.0}, 1),
    ("spectral", "spectral", {}, 2),
    ("spectral+mae", "spectral+mae", {"spectral_weight": 0.01, "fft_size": 256, "hop_size": 64}, 2),
    ("difference+mae", "difference+mae", {}, 2),
    ("difference+mae-mono-capped", "difference+mae", {"difference_weight": 2.0, "margin_scale": 0.5}, 1),
    ("multires_stft", "multires_stft", {}, 2),
    ("spectral_l1", "spectral_l1", {}, 2),
    ("codec", "codec", {}, 2),
    ("codec-features-l1", "codec", {"feature_weights": [0.5, 0.25], "l1_weight": 0.1}, 1),
    ("multires_stft-small", "multires_stft", {"fft_sizes": [64, 128], "hop_sizes": [16, 48],
                                              "spectral_convergence_weight": 0.5, "log_magnitude_weight": 2.0}, 1),
]

_JAX_SCRIPT = """
import json, sys
import numpy as np
import keras
import sepzoo
from sepzoo.losses import build_loss
assert keras.backend.backend() == "jax", keras.backend.backend()
folder = sys.argv[1]
inputs = np.load(folder + "/inputs.npz")
y_true, y_pred = keras.ops.convert_to_tensor(inputs["y_true"]), keras.ops.convert_to_tensor(inputs["y_pred"])
values = {}
for case, name, kwargs, channels in json.load(open(folder + "/cases.json")):
    loss = build_loss(name, kwargs, channels, load_model=sepzoo.load)
    values[case] = keras.ops.convert_to_numpy(loss.call(y_true, y_pred)).astype(float).tolist()
json.dump(values, open(folder + "/jax.json", "w"))
"""


def _inputs() -> tuple[np.ndarray, np.ndarray]:
    """Two examples of 2048 samples (multires_stft's longest default frame), 4 columns, one source silent in
    the second example; estimates are the targets scaled, noised and, in one column, far too loud."""
    rng = np.random.default_rng(1234)
    y_true = 0.3 * rng.standard_normal((2, 2048, 4))
    y_true[1, :, 2:4] = 0.0
    y_pred = 0.8 * y_true + 0.1 * rng.standard_normal(y_true.shape)
    y_pred[0, :, 1] *= 5.0
    return y_true.astype(np.float32), y_pred.astype(np.float32)


def test_parity_cases_cover_every_registered_loss():
    assert sorted({name for _, name, _, _ in CASES}) == list_losses()


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="compares TensorFlow here with JAX")
def test_every_loss_matches_between_tensorflow_and_jax(tmp_path):
    y_true, y_pred = _inputs()
    np.savez(tmp_path / "inputs.npz", y_true=y_true, y_pred=y_pred)
    (tmp_path / "cases.json").write_text(json.dumps(CASES))
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu", "TF_CPP_MIN_LOG_LEVEL": "3",
           "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([sys.executable, "-c", _JAX_SCRIPT, str(tmp_path)], env=env, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    jax_values = json.loads((tmp_path / "jax.json").read_text())

    tensors = keras.ops.convert_to_tensor(y_true), keras.ops.convert_to_tensor(y_pred)
    mismatches = []
    for case, name, kwargs, channels in CASES:
        tf_value = keras.ops.convert_to_numpy(build_loss(name, kwargs, channels, load_model=sepzoo.load).call(*tensors)).astype(float)
        jax_value = np.asarray(jax_values[case])
        assert tf_value.shape == jax_value.shape == (2,), case
        assert np.all(np.isfinite(tf_value)), case
        if not np.allclose(jax_value, tf_value, rtol=1e-5, atol=1e-5):
            mismatches.append(f"{case}: tensorflow {tf_value.tolist()} jax {jax_value.tolist()}")
    assert not mismatches, "\n".join(mismatches)
