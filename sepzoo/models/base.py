"""The contract every zoo model keeps, so the Separator, trainer and evaluator never hard-code a model's numbers."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import keras

_MODEL_CLASSES: dict[str, type["SeparationModel"]] = {}
_PRESETS: dict[str, dict[str, Any]] = {}
_PRESET_KEYS = {"description", "config"}


def register_model(presets: Mapping[str, Mapping[str, Any]] | None = None) -> Callable[[type], type]:
    """Class decorator that makes a :class:`SeparationModel` subclass a zoo model.

    It registers the class with Keras (``package="sepzoo"``, so a ``.keras`` file naming it loads once
    ``sepzoo`` is imported) and records its presets, the zoo entries built on it (keras-hub's
    ``register_presets``). Each preset is ``name -> {"description": str, "config": constructor kwargs}``;
    published weights are not part of it: ``sepzoo publish`` records them (see :mod:`sepzoo.zoo`).

    Example::

        @register_model(presets={"tiny": {"description": "...", "config": {"sources": ["a", "b"]}}})
        class Tiny(SeparationModel):
            ...

    Args:
        presets: zoo entries built on the class, by name.
    """

    def register(cls: type) -> type:
        if not (isinstance(cls, type) and issubclass(cls, SeparationModel)):
            raise TypeError(f"register_model: {cls!r} is not a SeparationModel subclass")
        for name, entry in (presets or {}).items():
            unknown = set(entry) - _PRESET_KEYS
            if unknown or "description" not in entry:
                raise ValueError(f"preset {name!r} of {cls.__name__}: keys must be {sorted(_PRESET_KEYS)}, "
                                 f"got {sorted(entry)}")
            owner = _PRESETS.get(name, {}).get("class_name")
            if owner not in (None, cls.__name__):
                raise ValueError(f"preset {name!r} is already registered by {owner}")
        keras.saving.register_keras_serializable(package="sepzoo")(cls)
        _MODEL_CLASSES[cls.__name__] = cls
        for name, entry in (presets or {}).items():
            _PRESETS[name] = {"class_name": cls.__name__, "description": entry["description"],
                              "config": dict(entry.get("config", {}))}
        return cls

    return register


def unregister_model(class_name: str) -> None:
    """Forget a zoo model class and its presets (for tests that register a temporary model)."""
    cls = _MODEL_CLASSES.pop(class_name, None)
    for name in [name for name, entry in _PRESETS.items() if entry["class_name"] == class_name]:
        del _PRESETS[name]
    if cls is not None:
        keras.saving.get_custom_objects().pop(f"sepzoo>{class_name}", None)


def model_classes() -> dict[str, type["SeparationModel"]]:
    """Registered zoo model classes by class name."""
    return dict(_MODEL_CLASSES)


def registered_presets() -> dict[str, dict[str, Any]]:
    """Presets registered by the model classes: ``name -> {"class_name", "description", "config"}``."""
    return {name: {**entry, "config": dict(entry["config"])} for name, entry in _PRESETS.items()}


class SeparationModel(keras.Model):
    """Base class of every zoo model: a functional Keras model from a mixture window to source windows.

    Tensor layout:
        input:  ``(batch, context_samples, channels)`` float32 waveform, nominally in [-1, 1].
        output: ``(batch, target_samples, len(sources) * channels)`` float32, source-major: source ``s``,
            channel ``c`` is ``output[..., s * channels + c]``.
    The target window is centred in the context window: it starts ``(context_samples - target_samples) // 2``
    samples after the context window starts.

    Subclasses build their graph, call ``super().__init__(inputs=..., outputs=...)``, then
    :meth:`_set_fields` with their numbers; ``receptive_field`` is computed by the subclass from its layers.
    """

    def _set_fields(
        self,
        *,
        sources: tuple[str, ...] | list[str],
        sample_rate: int,
        channels: int,
        context_samples: int,
        target_samples: int,
        receptive_field: int,
    ) -> None:
        self._sources = tuple(sources)
        self._sample_rate = int(sample_rate)
        self._channels = int(channels)
        self._context_samples = int(context_samples)
        self._target_samples = int(target_samples)
        self._receptive_field = int(receptive_field)

    @property
    def sources(self) -> tuple[str, ...]:
        """Names of the separated sources, in output order."""
        return self._sources

    @property
    def sample_rate(self) -> int:
        """Sample rate the model works at, in Hz."""
        return self._sample_rate

    @property
    def channels(self) -> int:
        """Audio channels per source the model takes and returns (1 = mono)."""
        return self._channels

    @property
    def context_samples(self) -> int:
        """Length of the input window, in samples at :attr:`sample_rate`."""
        return self._context_samples

    @property
    def target_samples(self) -> int:
        """Length of the output window, in samples, centred in the input window."""
        return self._target_samples

    @property
    def receptive_field(self) -> int:
        """Input samples that can influence one output sample through the convolution stack."""
        return self._receptive_field

    @property
    def algorithmic_latency(self) -> int:
        """Samples between an input sample arriving and the first output that depends on it being ready.

        A windowed model can only run once its whole context window has arrived, so this is the context
        length; the compute time per window adds to it (``benchmarks/model_latency.py`` measures that).
        """
        return self.context_samples

    def window_config(self) -> dict[str, Any]:
        """The constructor arguments every zoo model shares (name, trainable, sources, rate, channels, context);
        a subclass's ``get_config`` returns them plus its own architecture arguments."""
        return {"name": self.name, "trainable": self.trainable, "sources": list(self.sources),
                "sample_rate": self.sample_rate, "channels": self.channels, "context_samples": self.context_samples}

    @classmethod
    def from_config(cls, config):
        """Rebuild the model from :meth:`get_config` (which holds exactly the constructor's arguments)."""
        return cls(**config)

    def describe(self) -> dict[str, Any]:
        """A JSON-ready summary: sources, rate (Hz), windows, receptive field and latency (samples, s), params."""
        return {
            "class": type(self).__name__,
            "sources": list(self.sources),
            "sample_rate": self.sample_rate,
            "channels": self.channels,
            "context_samples": self.context_samples,
            "target_samples": self.target_samples,
            "receptive_field": self.receptive_field,
            "receptive_field_seconds": round(self.receptive_field / self.sample_rate, 4),
            "algorithmic_latency_seconds": round(self.algorithmic_latency / self.sample_rate, 4),
            "params": int(self.count_params()),
        }
