"""Training state and atomic checkpoints.

A checkpoint is a folder ``<run>/checkpoints/step-<step>-<time ns>/`` holding

- ``model.npz``: the current weights;
- ``best.npz``: the best weights so far (by validation loss), when there are any;
- ``optimizer.npz``: every optimiser variable (Adam moments, iteration counter, learning rate) in order;
- ``state.json``: the :class:`TrainState` (step counter, epoch, phase, early-stopping counters, data seed).

It is written into a hidden temporary folder and renamed into place, then ``checkpoints/latest`` (a text
file naming the folder) is replaced atomically, so a process killed at any instant leaves either the old
or the new checkpoint, never half of one. The newest ``keep`` checkpoints are kept.

Variables are stored as ``.npz`` arrays in ``model.weights`` / ``optimizer.variables`` order, read and
assigned directly: unlike ``model.save_weights``, this creates no TensorFlow variables, which under
MultiWorkerMirroredStrategy would start a collective that only the chief joins.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from sepzoo.errors import ConfigError
from sepzoo.hub import make_temp_dir, make_temp_file

LATEST = "latest"
WEIGHTS = "model.npz"
BEST_WEIGHTS = "best.npz"
OPTIMIZER = "optimizer.npz"
STATE = "state.json"


@dataclass
class TrainState:
    """Where a run stands. Steps are optimiser steps; epochs count over both phases.

    Attributes:
        step: optimiser steps done.
        epoch: epochs finished.
        step_in_epoch: steps done in the current, unfinished epoch.
        phase: 0 = main training, 1 = fine-tuning.
        phase_start_epoch: epoch at which the current phase started.
        learning_rate: learning rate of the current phase.
        best_val_loss: lowest validation loss so far (None before the first validation).
        best_epoch: epoch (1-based) that reached it.
        bad_epochs: epochs since the last validation gain in this phase.
        data_seed: seed of the current training example stream (the data position: the stream is
            re-seeded from the step counter whenever it restarts, so no stretch of data is replayed).
        finished: the schedule has run to its end.
        resumed_from_step: step of the checkpoint this process resumed from (None for a fresh run).
        wall_time_s: seconds spent training, summed over the run and every resume (up to the last
            checkpoint of a process that was killed).
    """

    learning_rate: float
    data_seed: int
    step: int = 0
    epoch: int = 0
    step_in_epoch: int = 0
    phase: int = 0
    phase_start_epoch: int = 0
    best_val_loss: float | None = None
    best_epoch: int | None = None
    bad_epochs: int = 0
    finished: bool = False
    resumed_from_step: int | None = None
    wall_time_s: float = 0.0


def write_text_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder and an atomic rename."""
    handle, temporary = make_temp_file(path.parent, f".{path.name}.", "")  # umask mode, unlike mkstemp's 0600
    with os.fdopen(handle, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(temporary, path)


def save_variables(variables: list, path: Path, names: list[str] | None = None) -> None:
    """Write the values of Keras ``variables`` to ``path`` (``.npz``) through a temporary file and a rename.

    ``names`` (default: the variables' paths) are stored beside them for people reading the file.
    """
    temporary = path.with_name(f".tmp-{os.getpid()}-{path.name}")
    with open(temporary, "wb") as f:
        np.savez(f, *[keras.ops.convert_to_numpy(v) for v in variables],
                 names=np.array(names if names is not None else [v.path for v in variables]))
    os.replace(temporary, path)


def _averaged_pairs(model: keras.Model) -> list[tuple]:
    """``(trained variable, its moving average)`` pairs of the model's optimiser; empty without ``use_ema``."""
    optimizer = model.optimizer
    if not getattr(optimizer, "use_ema", False):
        return []
    # The optimiser's own lists, as keras.callbacks.SwapEMAWeights reads them (Keras has no public accessor).
    return list(zip(optimizer._trainable_variables, optimizer._model_variables_moving_average))


def kept_weights(model: keras.Model) -> list:
    """``model.weights``, with each trainable variable replaced by its moving average when the optimiser keeps
    one (``use_ema``): the weights a run validates and keeps as its best."""
    average = {id(variable): mean for variable, mean in _averaged_pairs(model)}
    return [average.get(id(v), v) for v in model.weights]


def restart_average(model: keras.Model) -> None:
    """Set the optimiser's weight average (if it keeps one) to the model's current weights."""
    for variable, average in _averaged_pairs(model):
        average.assign(keras.ops.convert_to_numpy(variable))  # a copy: JAX must not see one buffer twice


def load_variables(variables: list, path: Path) -> None:
    """Assign the arrays of ``path`` (written by :func:`save_variables`) to ``variables``.

    Raises :class:`ConfigError` if their number or shapes differ (another model or optimiser).
    """
    with np.load(path) as stored:
        values = [stored[f"arr_{i}"] for i in range(len(stored.files) - 1)]
    if [tuple(v.shape) for v in values] != [tuple(v.shape) for v in variables]:
        raise ConfigError(f"{path}: stored variables do not fit this model or optimiser; "
                          "resume with the config that started the run")
    for variable, value in zip(variables, values):
        variable.assign(value)


def save_checkpoint(folder: Path, model: keras.Model, state: TrainState, best_weights: Path, keep: int = 2) -> Path:
    """Write a checkpoint of ``model`` (weights + optimiser) and ``state`` under ``folder``; return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    name = f"step-{state.step:09d}-{time.time_ns()}"
    staging = make_temp_dir(folder, f".{name}.", "")
    try:
        save_variables(model.weights, staging / WEIGHTS)
        if best_weights.exists():
            shutil.copyfile(best_weights, staging / BEST_WEIGHTS)
        save_variables(model.optimizer.variables, staging / OPTIMIZER)
        (staging / STATE).write_text(json.dumps(dataclasses.asdict(state), indent=2) + "\n")
        staging.rename(folder / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    write_text_atomically(folder / LATEST, name + "\n")
    for old in sorted(folder.glob("step-*"))[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    return folder / name


def latest_checkpoint(folder: Path) -> Path | None:
    """The folder ``checkpoints/latest`` names, or None when there is no checkpoint."""
    pointer = folder / LATEST
    if not pointer.exists():
        return None
    checkpoint = folder / pointer.read_text().strip()
    return checkpoint if (checkpoint / STATE).exists() else None


def restore_checkpoint(checkpoint: Path, model: keras.Model, best_weights: Path) -> TrainState:
    """Load weights, optimiser variables and state from ``checkpoint`` into a compiled, built ``model``.

    The best weights stored with the checkpoint are copied to ``best_weights``. Raises
    :class:`ConfigError` if the checkpoint was made by a model or optimiser of another shape.
    """
    state = TrainState(**json.loads((checkpoint / STATE).read_text()))
    load_variables(model.weights, checkpoint / WEIGHTS)
    load_variables(model.optimizer.variables, checkpoint / OPTIMIZER)
    if (checkpoint / BEST_WEIGHTS).exists():
        shutil.copyfile(checkpoint / BEST_WEIGHTS, best_weights)
    return state
