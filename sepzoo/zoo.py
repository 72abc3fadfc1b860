"""The zoo registry: model names -> model class, constructor config and weights handle.

Each model module keeps its entries in a ``PRESETS`` dict beside it (``<model>_presets.py``); they are
registered here once. :func:`load` turns a name, a preset folder, a ``file://``/``http(s)://`` handle or
an archive path into a ready :class:`~sepzoo.models.base.SeparationModel`.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sepzoo.errors import ModelNotFoundError


@dataclass(frozen=True)
class PresetSpec:
    """One zoo entry.

    Attributes:
        name: the name users load, e.g. ``"lightweight_aspp"``.
        class_name: registered model class, e.g. ``"LightweightASPP"``.
        description: one line for listings.
        config: constructor kwargs of the randomly initialised model.
        handle: weights archive or folder, relative to the hub base URL or absolute; ``None`` if untrained.
        sha256: checksum of the archive ``handle`` points to (``None`` for folders or untrained entries).
    """

    name: str
    class_name: str
    description: str
    config: dict[str, Any] = field(default_factory=dict)
    handle: str | None = None
    sha256: str | None = None


_PRESETS: dict[str, PresetSpec] = {}


def _model_classes() -> dict[str, type]:
    """Zoo model classes by name: every ``SeparationModel`` subclass registered as Keras-serializable."""
    import keras

    import sepzoo.models  # noqa: F401  (registers the built-in classes)
    from sepzoo.models.base import SeparationModel

    registered = keras.saving.get_custom_objects().values()
    return {cls.__name__: cls for cls in registered if isinstance(cls, type) and issubclass(cls, SeparationModel)}


def register_preset(spec: PresetSpec) -> None:
    """Add (or replace) a zoo entry."""
    _PRESETS[spec.name] = spec


def _register_builtin_presets() -> None:
    from sepzoo.models import lightweight_aspp_presets

    for module in (lightweight_aspp_presets,):
        for name, entry in module.PRESETS.items():
            register_preset(PresetSpec(name=name, **entry))


def presets() -> dict[str, PresetSpec]:
    """All registered zoo entries by name."""
    if not _PRESETS:
        _register_builtin_presets()
    return dict(_PRESETS)


def build_model(class_name: str, config: dict[str, Any]):
    """Instantiate a registered model class from its constructor config."""
    classes = _model_classes()
    if class_name not in classes:
        raise ModelNotFoundError(f"unknown model class {class_name!r}; known classes: {', '.join(sorted(classes))}")
    return classes[class_name].from_config(dict(config))


def _looks_like_handle(name: str) -> bool:
    return "://" in name or os.path.exists(name) or name.endswith((".tar.gz", ".tgz", ".zip", ".tar"))


def _unknown_name_error(name: str) -> ModelNotFoundError:
    known = sorted(presets())
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
    hint = f"did you mean {' or '.join(close)}?" if close else f"known models: {', '.join(known)}"
    return ModelNotFoundError(f"unknown model {name!r}: {hint} (`sepzoo list` shows all)")


def get_preset(name: str) -> PresetSpec:
    """The zoo entry called ``name`` (a trailing ``/version`` is accepted); raises with close-name suggestions."""
    entries = presets()
    base = name.split("/", 1)[0]
    if base not in entries:
        raise _unknown_name_error(name)
    return entries[base]


def _is_registered(name: str) -> bool:
    return name.split("/", 1)[0] in presets()


def fetch_weights(name: str) -> Path:
    """The local preset folder of a zoo entry's published weights, or of a preset handle, via :mod:`sepzoo.hub`.

    Raises :class:`ModelNotFoundError` for an entry without published weights and for an unknown name.
    """
    from sepzoo import hub

    if not _is_registered(name) and _looks_like_handle(name):
        return hub.fetch(name)
    spec = get_preset(name)
    if spec.handle is None:
        raise ModelNotFoundError(
            f"{spec.name}: no pretrained weights are published yet; "
            "use weights=None (CLI: --weights none) for a randomly initialised model"
        )
    return hub.fetch(spec.handle, spec.sha256)


def load(name: str, weights: str | None = "pretrained"):
    """Build a zoo model.

    Args:
        name: a zoo name (``sepzoo list``), or a preset folder / archive / ``file://`` / ``http(s)://`` handle.
        weights: ``"pretrained"`` (the entry's shipped weights, fetched through :mod:`sepzoo.hub`), ``None``
            (random initialisation), or a preset handle whose weights replace the entry's.

    Returns:
        A :class:`~sepzoo.models.base.SeparationModel`.
    """
    from sepzoo.preset import load_preset

    if weights is None and (_is_registered(name) or not _looks_like_handle(name)):
        spec = get_preset(name)
        return build_model(spec.class_name, spec.config)
    if weights not in (None, "pretrained") and _is_registered(name):
        return load_preset(fetch_weights(str(weights)))
    return load_preset(fetch_weights(name))


def has_weights(name: str) -> bool:
    """Whether the zoo entry ``name`` has published weights."""
    return get_preset(name).handle is not None


def list_models() -> list[dict[str, Any]]:
    """One row per zoo entry: name, description, sources, sample rate (Hz), params, receptive field, weights."""
    rows = []
    for name, spec in sorted(presets().items()):
        info = build_model(spec.class_name, spec.config).describe()
        rows.append({"name": name, "description": spec.description, "weights": spec.handle is not None, **info})
    return rows
