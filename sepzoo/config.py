"""Training configs: the schema of a ``zoo_configs/*.yaml`` file, loading, ``--set`` overrides, validation.

A config is plain YAML with seven sections and a few top-level keys::

    name: tiny_tones                 # the zoo entry this recipe trains
    seed: 0
    batch_size: 8                    # global batch, split over replicas
    strategy: default                # default | mirrored | multiworker | jax_data_parallel
    checkpoint_every: 100            # steps
    model:    {class: LightweightASPP, kwargs: {variant: b, ...}}
    data:     {kind: tones, sources: [...], sample_rate: 8000, channels: 1, context_samples: 1024, ...}
    loss:     {name: mae}
    optimiser: {name: adam, learning_rate: 1.0e-4, beta_1: 0.9, beta_2: 0.999}
    schedule: {steps_per_epoch: 2000, max_epochs: 1000, patience: 30, fine_tune: true, ...}

The schema is the set of dataclasses below: each field's type hint, default and ``metadata`` (allowed
``choices``, ``minimum``, ``maximum``, ``doc``) is all there is. :func:`load_config` checks a file against it and reports
every problem at once, one line each: ``<file>: <key>: <what is wrong>; <what is allowed>``.
"""

from __future__ import annotations

import dataclasses
import os
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import yaml

from sepzoo.data.sources import check_options, option_names, source_kinds
from sepzoo.errors import ConfigError, SepzooError

STRATEGIES = ("default", "mirrored", "multiworker", "jax_data_parallel")
OPTIMISERS = ("adam",)


def _spec(default: Any = dataclasses.MISSING, *, doc: str, choices: Sequence[Any] = (), minimum: float | None = None,
          maximum: float | None = None):
    """A dataclass field carrying its schema facts in ``metadata``."""
    metadata = {"doc": doc, "choices": tuple(choices), "minimum": minimum, "maximum": maximum}
    if isinstance(default, (dict, list)):
        return field(default_factory=lambda: type(default)(default), metadata=metadata)
    return field(default=default, metadata=metadata)


@dataclass(frozen=True, kw_only=True)
class ModelSpec:
    """Which zoo model to build; ``sources``, ``sample_rate``, ``channels``, ``context_samples`` come from data."""

    class_name: str = _spec(doc="a zoo model class, e.g. LightweightASPP")
    kwargs: dict[str, Any] = _spec({}, doc="architecture arguments of that class")
    init_weights: str | None = _spec(None, doc="preset name or handle whose weights start the run (none = random)")


@dataclass(frozen=True, kw_only=True)
class DataSpec:
    """Where training examples come from and their shape.

    ``kind`` names an example source registered in :mod:`sepzoo.data.sources` (``tones``, ``midi``,
    ``stem_tree``, ...) and ``options`` holds that kind's own options (``paths``, ``validation_paths``,
    ``task``, ...), which the source checks; the other keys apply to every kind.
    """

    kind: str = _spec(doc="example source registered in sepzoo.data.sources, e.g. tones, midi, stem_tree")
    sources: tuple[str, ...] = _spec(doc="source names, in model output order")
    sample_rate: int = _spec(doc="Hz", minimum=1)
    channels: int = _spec(1, doc="audio channels (1 = mono)", minimum=1)
    context_samples: int = _spec(doc="model input window, samples", minimum=1)
    remix: float = _spec(0.0, doc="share of training examples remixed from stems of different songs",
                         minimum=0.0, maximum=1.0)
    remix_pool: int = _spec(256, doc="examples held to draw remix stems from", minimum=1)
    eq_db: float = _spec(0.0, doc="largest boost or cut of the random per-stem EQ of training examples, dB "
                                   "(0 = off)", minimum=0.0)
    speed_change: float = _spec(0.0, doc="largest relative speed change of each stem of training examples, "
                                         "resampled on its own (0.06 = about a semitone and 6% tempo; 0 = off)",
                                minimum=0.0, maximum=0.25)
    validation_examples: int = _spec(64, doc="fixed validation examples scored each epoch", minimum=1)
    shuffle_buffer: int = _spec(0, doc="tf.data shuffle buffer, examples (0 = off)", minimum=0)
    options: dict[str, Any] = _spec({}, doc="the kind's own options (paths relative to the config file), e.g. "
                                            "{paths: [...], task: midi4}")


@dataclass(frozen=True, kw_only=True)
class LossSpec:
    """Training loss over all sources: a name registered in :mod:`sepzoo.losses` and its keyword arguments.

    ``name`` and ``kwargs`` are checked against the loss registry when the config is validated (see
    ``sepzoo.losses.list_losses`` and ``loss_options``); ``channels`` comes from the data section.
    """

    name: str = _spec("mse", doc="a registered loss, e.g. mse, mae, snr, spectral, spectral+mae, multires_stft, difference+mae")
    kwargs: dict[str, Any] = _spec({}, doc="keyword arguments of that loss, e.g. {snr_max_db: 30.0}")


@dataclass(frozen=True, kw_only=True)
class OptimiserSpec:
    """Adam and its settings."""

    name: str = _spec("adam", doc="optimiser", choices=OPTIMISERS)
    learning_rate: float = _spec(1e-4, doc="initial learning rate", minimum=0.0)
    beta_1: float = _spec(0.9, doc="first-moment decay", minimum=0.0)
    beta_2: float = _spec(0.999, doc="second-moment decay", minimum=0.0)
    clipnorm: float | None = _spec(None, doc="gradient norm clip (none = off)", minimum=0.0)
    ema_momentum: float | None = _spec(None, doc="keep an exponential moving average of the weights with this "
                                       "momentum (e.g. 0.999) and validate and keep it (none = off)",
                                       minimum=0.0, maximum=1.0)


@dataclass(frozen=True, kw_only=True)
class ScheduleSpec:
    """Epochs of fixed length; stop after ``patience`` epochs without validation gain, optionally fine-tune."""

    steps_per_epoch: int = _spec(2000, doc="optimiser steps per epoch", minimum=1)
    max_epochs: int = _spec(1000, doc="epoch cap of each phase", minimum=1)
    patience: int = _spec(30, doc="epochs without validation gain before a phase ends", minimum=1)
    fine_tune: bool = _spec(True, doc="run a second phase at a lower learning rate from the best weights")
    fine_tune_factor: float = _spec(0.1, doc="learning-rate factor of the fine-tune phase", minimum=0.0)
    fine_tune_max_epochs: int | None = _spec(None, doc="epoch cap of the fine-tune phase (none = max_epochs)",
                                             minimum=1)
    min_delta: float = _spec(0.0, doc="validation loss drop that counts as a gain", minimum=0.0)
    max_wall_time_s: float | None = _spec(None, doc="training seconds (summed over resumes) after which the run "
                                          "ends: the epoch in progress is cut short and validated, no "
                                          "fine-tuning follows (none = no limit)", minimum=1.0)


@dataclass(frozen=True, kw_only=True)
class TrainConfig:
    """A whole training recipe. ``path`` is the file it came from (for messages and relative paths)."""

    name: str = _spec(doc="zoo entry name")
    model: ModelSpec = _spec(doc="model section")
    data: DataSpec = _spec(doc="data section")
    loss: LossSpec = _spec(doc="loss section")
    optimiser: OptimiserSpec = _spec(doc="optimiser section")
    schedule: ScheduleSpec = _spec(doc="schedule section")
    batch_size: int = _spec(32, doc="global batch, examples", minimum=1)
    strategy: str = _spec("default", doc="distribution strategy", choices=STRATEGIES)
    checkpoint_every: int = _spec(500, doc="steps between checkpoints", minimum=1)
    keep_checkpoints: int = _spec(2, doc="newest checkpoints kept on disk", minimum=1)
    seed: int = _spec(0, doc="seed of weights init and data streams", minimum=0)
    description: str = _spec("", doc="one line for the model card")
    path: str = field(default="<dict>", compare=False, metadata={"internal": True})

    def resolve_path(self, relative: str) -> Path:
        """A path from the config, taken relative to the config file's folder unless absolute."""
        candidate = Path(os.path.expanduser(relative))
        return candidate if candidate.is_absolute() else Path(self.path).parent / candidate

    def to_dict(self) -> dict[str, Any]:
        """The config as YAML-ready plain data, keys as written in a file (``model.class``)."""
        raw = dataclasses.asdict(self)
        raw.pop("path")
        raw["model"]["class"] = raw["model"].pop("class_name")
        return _plain(raw)


# The YAML spelling of fields whose Python name differs.
_YAML_NAMES = {"class_name": "class"}
_SECTIONS = {"model", "data", "loss", "optimiser", "schedule"}


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def _schema_fields(cls: type) -> list[tuple[str, dataclasses.Field, Any]]:
    """``(yaml_key, field, type_hint)`` for each user-facing field of a spec dataclass."""
    hints = typing.get_type_hints(cls)
    return [
        (_YAML_NAMES.get(f.name, f.name), f, hints[f.name])
        for f in dataclasses.fields(cls)
        if not f.metadata.get("internal")
    ]


def _describe(hint: Any, meta: Mapping[str, Any]) -> str:
    """Human words for what a field accepts, e.g. ``an integer >= 1`` or ``one of mse, mae``."""
    if meta.get("choices"):
        return "one of " + ", ".join(str(c) for c in meta["choices"])
    optional = type(None) in typing.get_args(hint)
    base = next((a for a in typing.get_args(hint) if a is not type(None)), hint) if optional else hint
    origin = typing.get_origin(base) or base
    words = {int: "an integer", float: "a number", str: "a string", bool: "true or false",
             tuple: "a list of strings", dict: "a mapping"}[origin]
    if meta.get("minimum") is not None:
        words += f" >= {meta['minimum']:g}"
    if meta.get("maximum") is not None:
        words += f"{' and' if meta.get('minimum') is not None else ''} <= {meta['maximum']:g}"
    return words + (" or none" if optional else "")


def _coerce(value: Any, hint: Any, meta: Mapping[str, Any]) -> Any:
    """``value`` as the type ``hint`` asks for, or raise ValueError. Numeric strings pass for numbers
    (PyYAML reads ``1e-5`` as a string)."""
    args = typing.get_args(hint)
    if type(None) in args:
        if value is None or (isinstance(value, str) and value.lower() in ("none", "null", "")):
            return None
        hint = next(a for a in args if a is not type(None))
    origin = typing.get_origin(hint) or hint
    if origin is bool:
        if isinstance(value, bool):
            return value
        raise ValueError
    if origin is int:
        if isinstance(value, bool) or not isinstance(value, (int, str)) or int(value) != float(value):
            raise ValueError
        value = int(value)
    elif origin is float:
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise ValueError
        value = float(value)
    elif origin is str:
        if not isinstance(value, str):
            raise ValueError
    elif origin is tuple:
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, (list, tuple)) or not all(isinstance(item, str) for item in items):
            raise ValueError
        value = tuple(items)
    elif origin is dict:
        if not isinstance(value, Mapping):
            raise ValueError
        value = dict(value)
    if meta.get("choices") and value not in meta["choices"]:
        raise ValueError
    if meta.get("minimum") is not None and isinstance(value, (int, float)) and value < meta["minimum"]:
        raise ValueError
    if meta.get("maximum") is not None and isinstance(value, (int, float)) and value > meta["maximum"]:
        raise ValueError
    return value


def _build(cls: type, raw: Any, prefix: str, errors: list[str]) -> Any:
    """Instantiate spec dataclass ``cls`` from mapping ``raw``, appending ``key: problem`` lines to ``errors``."""
    if not isinstance(raw, Mapping):
        errors.append(f"{prefix or 'top level'}: expected a mapping of keys, got {type(raw).__name__}")
        return None
    before = len(errors)
    fields = _schema_fields(cls)
    known = {key for key, _, _ in fields}
    for key in raw:
        if key not in known:
            where = f"{prefix}.{key}" if prefix else str(key)
            errors.append(f"{where}: unknown key; allowed keys here: {', '.join(sorted(known))}")
    values = {}
    for key, spec_field, hint in fields:
        where = f"{prefix}.{key}" if prefix else key
        if key in _SECTIONS and not prefix:
            values[spec_field.name] = _build(hint, raw.get(key, {}), where, errors)
            continue
        if key not in raw:
            if spec_field.default is dataclasses.MISSING and spec_field.default_factory is dataclasses.MISSING:
                errors.append(f"{where}: missing; required ({spec_field.metadata['doc']}: "
                              f"{_describe(hint, spec_field.metadata)})")
            continue
        try:
            values[spec_field.name] = _coerce(raw[key], hint, spec_field.metadata)
        except (ValueError, TypeError):
            errors.append(f"{where}: {raw[key]!r} is not allowed; expected {_describe(hint, spec_field.metadata)}")
    if len(errors) > before:
        return None
    return cls(**values)


def _cross_checks(config: TrainConfig) -> list[str]:
    """Rules that span several keys."""
    errors = []
    if config.data.kind not in source_kinds():  # the live registry: kinds registered by any module count
        errors.append(f"data.kind: {config.data.kind!r} is not allowed; expected one of {', '.join(source_kinds())}")
    else:
        errors.extend(f"data.options.{line}" for line in check_options(config.data.kind, config.data.options))
    if not config.data.sources:
        errors.append("data.sources: empty; name at least one source")
    if len(set(config.data.sources)) != len(config.data.sources):
        errors.append(f"data.sources: {list(config.data.sources)} repeats a name; give each source once")
    reserved = {"sources", "sample_rate", "channels", "context_samples"} & set(config.model.kwargs)
    for key in sorted(reserved):
        errors.append(f"model.kwargs.{key}: set by the data section; write it as data.{key} instead")
    errors.extend(_loss_checks(config))
    return errors


def _loss_checks(config: TrainConfig) -> list[str]:
    """``loss.name`` and ``loss.kwargs`` against the loss registry, then the loss built as training will."""
    from sepzoo import losses, zoo  # import Keras, so only when a config is checked

    problems = losses.loss_problems(config.loss.name, config.loss.kwargs)
    if problems:
        return [f"loss.{key}: {problem}" for key, problem in problems]
    try:
        losses.build_loss(config.loss.name, config.loss.kwargs, config.data.channels, load_model=zoo.load)
    except SepzooError as error:  # a bad value, or a model named in the loss that cannot be loaded
        return [f"loss.kwargs: {error}"]
    return []


# Keys of the flat sepzoo 0.1 schema, moved into a kind's or a loss's own options in 0.2.
_LEGACY_DATA_OPTIONS = ("paths", "validation_paths", "task", "reuse_factor", "vary_timbre")
_LEGACY_LOSS_KWARGS = {"spectral_weight": "spectral_weight", "difference_weight": "difference_weight",
                       "fft_size": "fft_size", "hop_size": "hop_size", "snr_max_db": "snr_max_db",
                       "snr_floor_db": "snr_floor_db", "snr_silent_weight": "silent_weight"}


def upgrade_legacy_config(raw: Mapping[str, Any]) -> dict[str, Any]:
    """A sepzoo 0.1 config (flat ``data.paths``, ``loss.fft_size``, top-level ``weights``) in today's shape.

    Run folders keep the ``config.yaml`` they started with, so ``sepzoo train --resume`` on a run begun before
    the data and loss sections took their own options still works. A 0.1 key is kept only where the named data
    kind or loss takes it (0.1 wrote every key for every kind and loss).
    """
    upgraded = _plain(dict(raw))
    upgraded.pop("weights", None)
    data = upgraded.get("data")
    if isinstance(data, dict):
        moved = {key: data.pop(key) for key in _LEGACY_DATA_OPTIONS if key in data}
        if moved and data.get("kind") in source_kinds():  # 0.1 wrote every key for every kind
            moved = {key: value for key, value in moved.items() if key in option_names(data["kind"])}
        if data.get("options") is not None or moved:
            data["options"] = {**moved, **(data.get("options") or {})}
    loss = upgraded.get("loss")
    if isinstance(loss, dict) and set(loss) & set(_LEGACY_LOSS_KWARGS):
        from sepzoo.losses import loss_options  # Keras loads here only for a 0.1 config

        takes = set(loss_options(loss.get("name", "mse")))
        legacy = {new: loss.pop(old) for old, new in _LEGACY_LOSS_KWARGS.items() if old in loss}
        loss["kwargs"] = {**{key: value for key, value in legacy.items() if key in takes}, **loss.get("kwargs", {})}
    return upgraded


def config_from_dict(raw: Mapping[str, Any], path: str = "<dict>") -> TrainConfig:
    """Validate plain data against the schema; raise :class:`ConfigError` listing every problem, one per line.

    A sepzoo 0.1 config is upgraded first (:func:`upgrade_legacy_config`).
    """
    errors: list[str] = []
    built = _build(TrainConfig, upgrade_legacy_config(raw), "", errors)
    if built is not None and not errors:
        built = dataclasses.replace(built, path=str(path))
        errors.extend(_cross_checks(built))
    if errors or built is None:
        raise ConfigError("\n".join(f"{path}: {line}" for line in errors))
    return built


def apply_overrides(raw: dict[str, Any], overrides: Sequence[str], path: str = "<dict>") -> dict[str, Any]:
    """Apply ``key.sub=value`` strings to raw config data (a new dict is returned).

    The value is read as YAML (``5`` is an int, ``[a, b]`` a list, ``none`` stays a string that the schema
    turns into None where allowed); validation later coerces it to the field's type.
    """
    result = _plain(dict(raw))
    for override in overrides:
        key, sep, text = override.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"{path}: --set {override!r}: expected key.sub=value, e.g. schedule.patience=5")
        node = result
        parts = key.strip().split(".")
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ConfigError(f"{path}: --set {override!r}: {part} is not a section; "
                                  "only sections (model, data, ...) take sub-keys")
            node = child
        node[parts[-1]] = yaml.safe_load(text) if text.strip() else ""
    return result


def load_config(path: str | os.PathLike, overrides: Sequence[str] = ()) -> TrainConfig:
    """Read a YAML config file, apply ``--set`` overrides and validate it.

    Raises :class:`ConfigError` if the file is missing or not YAML (one line), or if it breaks the schema
    (one line per problem, each naming the file, the key and what is allowed).
    """
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text())
    except OSError as error:
        raise ConfigError(f"{path}: cannot read the config ({error.strerror}); pass an existing YAML file") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}: not valid YAML{where}; fix the syntax") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of keys at the top level; see zoo_configs/tiny_tones.yaml")
    return config_from_dict(apply_overrides(raw, overrides, str(path)), str(path))
