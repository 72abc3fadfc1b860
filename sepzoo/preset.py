"""Presets: a folder holding a model's ``config.json``, ``model.weights.h5`` and ``metadata.json``.

``config.json`` is ``{"class_name": ..., "config": model.get_config()}``; ``metadata.json`` holds what a
model card needs (sources, sample rate, params, receptive field, training data, metrics and the commands
that produced them, sha256 of the weights file).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from sepzoo.errors import ModelNotFoundError
from sepzoo.hub import sha256_file

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.weights.h5"
METADATA_FILE = "metadata.json"


def save_preset(model, directory: str | os.PathLike, metadata: dict[str, Any] | None = None) -> Path:
    """Write ``model`` as a preset folder at ``directory`` (replaced atomically if it exists).

    ``metadata`` is merged over the model's own :meth:`describe` numbers; ``weights_sha256`` is added.
    Returns the preset folder.
    """
    directory = Path(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=directory.parent))
    try:
        config = {"class_name": type(model).__name__, "config": model.get_config()}
        (staging / CONFIG_FILE).write_text(json.dumps(config, indent=2) + "\n")
        _model_only(model).save_weights(staging / WEIGHTS_FILE)
        full_metadata = {**model.describe(), **(metadata or {}), "weights_sha256": sha256_file(staging / WEIGHTS_FILE)}
        (staging / METADATA_FILE).write_text(json.dumps(full_metadata, indent=2) + "\n")
        if directory.exists():
            backup = directory.with_name(f".{directory.name}.old")
            shutil.rmtree(backup, ignore_errors=True)
            directory.rename(backup)
            staging.rename(directory)
            shutil.rmtree(backup, ignore_errors=True)
        else:
            staging.rename(directory)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return directory


def _model_only(model):
    """A copy of ``model`` without optimizer state, so a preset holds the model's weights and nothing else."""
    if getattr(model, "optimizer", None) is None:
        return model
    from sepzoo.zoo import build_model

    copy = build_model(type(model).__name__, model.get_config())
    copy.set_weights(model.get_weights())
    return copy


def read_metadata(directory: str | os.PathLike) -> dict[str, Any]:
    """The preset's ``metadata.json`` as a dict (empty if the preset has none)."""
    path = Path(directory) / METADATA_FILE
    return json.loads(path.read_text()) if path.exists() else {}


def load_preset(directory: str | os.PathLike, *, load_weights: bool = True):
    """Build the model a preset folder describes and load its weights.

    Raises :class:`ModelNotFoundError` when the folder is not a complete preset.
    """
    from sepzoo.zoo import build_model

    directory = Path(directory)
    needed = [CONFIG_FILE] + ([WEIGHTS_FILE] if load_weights else [])
    missing = [name for name in needed if not (directory / name).is_file()]
    if missing:
        raise ModelNotFoundError(
            f"{directory}: not a sepzoo preset (missing {', '.join(missing)}); "
            "a preset folder holds config.json, model.weights.h5 and metadata.json"
        )
    config = json.loads((directory / CONFIG_FILE).read_text())
    model = build_model(config["class_name"], config["config"])
    if load_weights:
        model.load_weights(directory / WEIGHTS_FILE)
    return model
