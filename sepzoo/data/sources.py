"""The registry of example sources: a config's ``data.kind`` names one, ``data.options`` are its own options.

A source class registers itself in its own module with :func:`register_source`::

    @register_source("tones")
    class ToneSource(RegisteredSource):
        OPTIONS = {"low_hz": "lower edge of the lowest band, Hz", ...}

        @classmethod
        def from_options(cls, request: SourceRequest, options: dict) -> "ToneSource": ...

Every registered class declares the options it takes (``OPTIONS``: name -> one-line doc), which of them are
paths (``PATH_OPTIONS``, resolved relative to the config file's folder) and checks their values
(:meth:`RegisteredSource.option_problems`); :func:`make_source` builds the class for one split. The kinds
built in (``tones``, ``midi``, ``stem_tree`` with its alias ``cache``) register when :mod:`sepzoo.data`
is imported, which importing this module always does first.

A source is re-iterable and yields ``(mixture (samples, channels), stems (samples, n_sources * channels))``;
it has ``sources`` (stem names in column order), ``example_shapes`` and ``describe()`` (one line for a
model card, naming no absolute path).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from sepzoo.errors import ConfigError

TRAIN, VALIDATION, TEST = "train", "validation", "test"


@dataclass(frozen=True)
class SourceRequest:
    """What every source gets besides its own options.

    Attributes:
        split: ``"train"`` or ``"validation"`` (``"test"`` where a source has one).
        sources: stem names in output order.
        sample_rate: Hz.
        channels: audio channels.
        example_samples: length of each example, samples.
        seed: stream seed.
        base_dir: folder that relative paths in the options are taken from (the config file's).
        validation_examples: size of the fixed validation set (a source may spread it over its songs).
    """

    split: str
    sources: tuple[str, ...]
    sample_rate: int
    channels: int
    example_samples: int
    seed: int
    base_dir: Path
    validation_examples: int = 64

    def resolve(self, path: str | os.PathLike) -> Path:
        """``path`` from the options, relative to :attr:`base_dir` unless absolute."""
        return resolve_path(path, self.base_dir)

    def portable(self, path: str | os.PathLike) -> str:
        """``path`` as a model card may name it (see :func:`portable_path`)."""
        return portable_path(self.resolve(path), self.base_dir)


class RegisteredSource:
    """What a registered source class provides (a mixin; override the class attributes and methods)."""

    OPTIONS: ClassVar[Mapping[str, str]] = {}
    """Option name -> one-line doc, everything ``data.options`` may hold for this kind."""
    REQUIRED: ClassVar[tuple[str, ...]] = ()
    """Options that must be given."""
    PATH_OPTIONS: ClassVar[tuple[str, ...]] = ()
    """Options holding a list of paths (relative to the config file's folder unless absolute)."""
    NOT_OPTIONS: ClassVar[Mapping[str, str]] = {}
    """Option names this kind does not take -> the advice its error line gives instead of the allowed list."""

    @classmethod
    def option_problems(cls, options: Mapping[str, Any]) -> list[str]:
        """``"<option>: <what is wrong>; <what is allowed>"`` lines for known options with bad values."""
        problems = []
        for key in cls.PATH_OPTIONS:
            if key in options and not _is_path_list(options[key]):
                problems.append(f"{key}: {options[key]!r} is not allowed; expected a list of folders or files")
        return problems

    @classmethod
    def from_options(cls, request: SourceRequest, options: dict[str, Any]) -> Any:
        """The source for ``request.split`` built from checked ``options``."""
        raise NotImplementedError


_KINDS: dict[str, type[RegisteredSource]] = {}
_ALIASES: dict[str, str] = {}


def register_source(kind: str, *, aliases: tuple[str, ...] = ()) -> Callable[[type], type]:
    """Class decorator: register a :class:`RegisteredSource` as ``data.kind: <kind>`` (and its ``aliases``)."""
    def register(cls: type) -> type:
        for name in (kind, *aliases):
            owner = _KINDS.get(name) or _KINDS.get(_ALIASES.get(name, ""))
            if owner is not None and owner.__qualname__ != cls.__qualname__:
                raise ValueError(f"data kind {name!r} is already registered by {owner.__qualname__}")
        _KINDS[kind] = cls
        _ALIASES.update({alias: kind for alias in aliases})
        return cls

    return register


def source_kinds(aliases: bool = True) -> tuple[str, ...]:
    """The registered kinds in registration order, then (with ``aliases``) their other accepted names."""
    return (*_KINDS, *(_ALIASES if aliases else ()))


def canonical_kind(kind: str) -> str:
    """The registered name of ``kind`` (``cache`` -> ``stem_tree``); raises :class:`ConfigError` if unknown."""
    name = _ALIASES.get(kind, kind)
    if name not in _KINDS:
        raise ConfigError(f"data.kind: {kind!r} is not a registered example source; "
                          f"use one of {', '.join(source_kinds())}")
    return name


def source_class(kind: str) -> type[RegisteredSource]:
    """The class registered for ``kind`` (or an alias of it)."""
    return _KINDS[canonical_kind(kind)]


def option_names(kind: str) -> tuple[str, ...]:
    """The options ``kind`` takes, sorted."""
    return tuple(sorted(source_class(kind).OPTIONS))


def check_options(kind: str, options: Mapping[str, Any]) -> list[str]:
    """Every problem with ``kind``'s ``options``, one ``"<option>: <problem>; <what is allowed>"`` line each."""
    cls = source_class(kind)
    allowed = option_names(kind)
    problems = [f"{key}: {cls.NOT_OPTIONS[key]}" if key in cls.NOT_OPTIONS else
                f"{key}: unknown option of data.kind {kind}; allowed: {', '.join(allowed)}"
                for key in options if key not in cls.OPTIONS]
    problems += [f"{key}: missing; data.kind {kind} needs it ({cls.OPTIONS[key]})"
                 for key in cls.REQUIRED if options.get(key) in (None, "", [], ())]
    known = {key: value for key, value in options.items() if key in cls.OPTIONS}
    return problems + cls.option_problems(known)


def make_source(kind: str, *, split: str, sources: tuple[str, ...] | list[str], sample_rate: int, channels: int,
                example_samples: int, seed: int, options: Mapping[str, Any] | None = None,
                base_dir: str | os.PathLike = ".", validation_examples: int = 64) -> Any:
    """The example source of ``kind`` for ``split``, built from the kind's own ``options``.

    Paths in ``options`` are taken relative to ``base_dir``. Raises :class:`ConfigError` (one line, naming
    ``data.<key>``) for an unknown kind, an unknown or bad option, or a source whose stems differ from
    ``sources``.
    """
    cls = source_class(kind)
    options = dict(options or {})
    problems = check_options(kind, options)
    if problems:
        raise ConfigError("; ".join(f"data.options.{line}" for line in problems))
    request = SourceRequest(split=split, sources=tuple(sources), sample_rate=int(sample_rate),
                            channels=int(channels), example_samples=int(example_samples), seed=int(seed),
                            base_dir=Path(base_dir), validation_examples=int(validation_examples))
    source = cls.from_options(request, options)
    if tuple(source.sources) != tuple(request.sources):
        raise ConfigError(f"data.sources: {list(request.sources)} but the {kind} source gives "
                          f"{list(source.sources)}; list those names in that order")
    return source


def describe_source(source: Any) -> str:
    """One line about a source's examples for the model card: its ``describe()``, else its class and stems."""
    describe = getattr(source, "describe", None)
    if callable(describe):
        return describe()
    return f"{type(source).__name__}: stems {', '.join(source.sources)}"


def resolve_path(path: str | os.PathLike, base_dir: str | os.PathLike) -> Path:
    """``path`` (``~`` expanded) relative to ``base_dir`` unless absolute."""
    candidate = Path(os.path.expanduser(path))
    return candidate if candidate.is_absolute() else Path(base_dir) / candidate


def portable_path(path: str | os.PathLike, base_dir: str | os.PathLike) -> str:
    """How a model card names ``path``: relative to ``base_dir`` when it lies inside it, else its own name
    (``../renders/full/timgm_freedoom`` -> ``timgm_freedoom``); never an absolute path."""
    path, base = Path(os.path.abspath(path)), Path(os.path.abspath(base_dir))
    try:
        relative = path.relative_to(base).as_posix()
    except ValueError:
        return path.name
    return relative if relative != "." else path.name


def pin_paths(kind: str, options: Mapping[str, Any], base_dir: str | os.PathLike) -> dict[str, Any]:
    """``options`` with every path option absolute, so they hold from any folder (a run folder's config)."""
    return _map_paths(kind, options, lambda p: str(resolve_path(p, base_dir).resolve()))


def portable_options(kind: str, options: Mapping[str, Any], base_dir: str | os.PathLike) -> dict[str, Any]:
    """``options`` with every path option named as :func:`portable_path` does (for a model card)."""
    return _map_paths(kind, options, lambda p: portable_path(resolve_path(p, base_dir), base_dir))


def _map_paths(kind: str, options: Mapping[str, Any], change: Callable[[str], str]) -> dict[str, Any]:
    result = dict(options)
    for key in source_class(kind).PATH_OPTIONS:
        if key in result and _is_path_list(result[key]):
            paths = [result[key]] if isinstance(result[key], str) else result[key]
            result[key] = [change(p) for p in paths]
    return result


def path_list(value: Any) -> list[str]:
    """A path option's value as a list (a single string is a list of one)."""
    return [] if value is None else [value] if isinstance(value, str) else list(value)


def _is_path_list(value: Any) -> bool:
    return isinstance(value, str) or (isinstance(value, (list, tuple)) and all(isinstance(p, str) for p in value))
