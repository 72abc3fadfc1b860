"""Distribution strategies on a CPU-only machine: MirroredStrategy over two logical CPU devices, and
MultiWorkerMirroredStrategy with two worker processes on 127.0.0.1. Each run is a fresh subprocess, since
devices and the multi-worker cluster must be set before TensorFlow starts."""

from __future__ import annotations

import csv
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np

ROOT = Path(__file__).parent.parent
TINY = ROOT / "zoo_configs" / "tiny_tones.yaml"
SHORT = ["schedule.max_epochs=3", "schedule.patience=100", "schedule.fine_tune=false", "batch_size=4",
         "data.validation_examples=8"]
TWO_CPUS = ("import tensorflow as tf; "
            "tf.config.set_logical_device_configuration(tf.config.list_physical_devices('CPU')[0], "
            "[tf.config.LogicalDeviceConfiguration()] * 2); ")


def _script(out: Path, overrides: list[str], prelude: str = "") -> list[str]:
    code = (f"{prelude}from sepzoo.config import load_config; from sepzoo.training.trainer import train; "
            f"train(load_config({str(TINY)!r}, {overrides!r}), {str(out)!r})")
    return [sys.executable, "-c", code]


def _env(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != "TF_CONFIG"}
    return {**env, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3", "KERAS_BACKEND": "tensorflow", **extra}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _weights(path: Path) -> dict[str, np.ndarray]:
    """The model's weight arrays in a weights file by name (optimizer state, if saved, left out)."""
    found = {}
    with h5py.File(path) as f:
        f.visititems(lambda name, node: found.__setitem__(name, node[()]) if isinstance(node, h5py.Dataset) else None)
    return {name: value for name, value in found.items() if not name.startswith("optimizer/")}


def test_mirrored_two_logical_cpus_loss_goes_down(tmp_path):
    out = tmp_path / "run"
    result = subprocess.run(_script(out, [*SHORT, "strategy=mirrored", "schedule.steps_per_epoch=8"], TWO_CPUS),
                            env=_env(), capture_output=True, timeout=240)
    assert result.returncode == 0, result.stderr.decode()[-3000:]
    rows = list(csv.DictReader((out / "metrics.csv").open()))
    losses = [float(r["loss"]) for r in rows]
    assert len(losses) == 3 and losses[-1] < losses[0], losses
    training = json.loads((out / "preset" / "metadata.json").read_text())["training"]
    assert training["hardware"]["replicas"] == 2 and len(training["hardware"]["devices"]) == 2
    assert training["steps"] == 24


def test_multiworker_two_processes_end_with_identical_weights(tmp_path):
    out = tmp_path / "run"
    workers = [f"127.0.0.1:{_free_port()}" for _ in range(2)]
    overrides = [*SHORT, "strategy=multiworker", "schedule.steps_per_epoch=3", "schedule.max_epochs=2"]
    processes = [
        subprocess.Popen(_script(out, overrides), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         env=_env(TF_CONFIG=json.dumps({"cluster": {"worker": workers},
                                                        "task": {"type": "worker", "index": index}})))
        for index in range(2)
    ]
    try:
        errors = [p.communicate(timeout=240)[1].decode()[-3000:] for p in processes]
    finally:
        for p in processes:
            if p.poll() is None:
                p.kill()
    assert [p.returncode for p in processes] == [0, 0], errors
    chief, other = _weights(out / "preset" / "model.weights.h5"), _weights(out / "worker-1" / "model.weights.h5")
    assert chief.keys() == other.keys() and len(chief) > 10
    for name in chief:
        np.testing.assert_array_equal(chief[name], other[name], err_msg=name)
    metadata = json.loads((out / "preset" / "metadata.json").read_text())
    assert metadata["training"]["steps"] == 6 and metadata["training"]["hardware"]["replicas"] == 2
    # The non-chief worker never writes the run's shared files.
    assert not (out / "worker-1" / "checkpoints").exists()
