"""The loss registry: names a config's ``loss.name`` can take, and how their keyword arguments are checked.

A loss family module registers each class under its config name with :func:`register_loss`. Everything else
(config validation, the trainer) asks the registry; nothing here knows a particular loss. Two rules it applies
by itself, both in :func:`build_loss`: a class whose constructor takes ``channels`` gets the data's channel
count, so ``channels`` is not a keyword a config may set; and a keyword the class lists in its
``MODEL_OPTIONS`` (e.g. the codec loss's ``emulator``) may be given as a zoo name, which ``build_loss``
turns into a model with the ``load_model`` function its caller passes (the trainer passes ``sepzoo.zoo.load``:
this package sits beside the zoo and does not import it).

This module must not import :mod:`sepzoo.config` (the config imports the losses, not the other way round).
"""

from __future__ import annotations

import inspect
from typing import Any, Callable, Mapping

from sepzoo.errors import ConfigError

#: Keyword a loss takes from the data section through :func:`build_loss`, never from ``loss.kwargs``.
CHANNELS = "channels"

_REGISTRY: dict[str, type] = {}


def register_loss(name: str) -> Callable[[type], type]:
    """Class decorator: make ``cls`` the loss a config names ``name``. A name can be registered once."""

    def decorate(cls: type) -> type:
        if _REGISTRY.get(name, cls) is not cls:
            raise ValueError(f"loss name {name!r} is already registered to {_REGISTRY[name].__qualname__}")
        _REGISTRY[name] = cls
        return cls

    return decorate


def list_losses() -> list[str]:
    """Registered loss names, sorted."""
    return sorted(_REGISTRY)


def _unknown_name(name: str) -> str:
    return f"unknown loss {name!r}; known losses: {', '.join(list_losses())}"


def _class(name: str) -> type:
    if name not in _REGISTRY:
        raise ConfigError(_unknown_name(name))
    return _REGISTRY[name]


def _parameters(name: str) -> list[inspect.Parameter]:
    """Keyword parameters of the loss constructor, in order, without ``self``, ``name`` and ``**kwargs``."""
    signature = inspect.signature(_class(name).__init__)
    return [p for p in signature.parameters.values()
            if p.name not in ("self", "name")
            and p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)]


def loss_options(name: str) -> tuple[str, ...]:
    """The keyword names the constructor of loss ``name`` takes, in signature order (``channels`` included).

    Raises :class:`ConfigError` listing the known names if ``name`` is not registered.
    """
    return tuple(p.name for p in _parameters(name))


def _settable(name: str) -> list[str]:
    return [option for option in loss_options(name) if option != CHANNELS]


def _coerce(value: Any, default: Any) -> Any:
    """``value`` as the type of the parameter's default for numbers (YAML may give ``1e-5`` as a string);
    raise ValueError when it cannot be one. Other values pass as they are."""
    if isinstance(default, bool) or default is None or default is inspect.Parameter.empty:
        return value
    if isinstance(default, (int, float)):
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise ValueError
        number = float(value)
        if isinstance(default, int):
            if number != int(number):
                raise ValueError
            return int(number)
        return number
    return value


def loss_problems(name: str, kwargs: Mapping[str, Any]) -> list[tuple[str, str]]:
    """What is wrong with loss ``name`` and keyword arguments ``kwargs``, as ``(key, problem)`` pairs.

    ``key`` is ``"name"`` or ``"kwargs.<keyword>"``; ``problem`` is one line saying what is allowed. Empty when
    they are fine. Values are checked by type only; the constructor itself may still reject a combination.
    """
    if name not in _REGISTRY:
        return [("name", _unknown_name(name))]
    parameters = {p.name: p for p in _parameters(name)}
    settable = _settable(name)
    problems = []
    for key in kwargs:
        if key == CHANNELS and CHANNELS in parameters:
            problems.append((f"kwargs.{key}", f"loss {name!r} gets channels from the data section; "
                                              "write it as data.channels instead"))
        elif key not in parameters:
            allowed = ", ".join(settable) if settable else "none"
            problems.append((f"kwargs.{key}", f"loss {name!r} takes no argument {key!r}; its arguments: {allowed}"))
        else:
            try:
                _coerce(kwargs[key], parameters[key].default)
            except (ValueError, TypeError):
                kind = type(parameters[key].default).__name__
                problems.append((f"kwargs.{key}", f"loss {name!r}: {kwargs[key]!r} is not allowed; expected "
                                                  f"{'an integer' if kind == 'int' else 'a number'}"))
    return problems


def get_loss(name: str, **kwargs: Any):
    """A new instance of the loss registered as ``name``, built with ``kwargs``.

    Raises :class:`ConfigError` for an unknown name (the message lists the known names) or a keyword the
    class does not take (the message names the loss and the key); the constructor's own ConfigError or
    ValueError for bad values comes back as a ConfigError naming the loss.
    """
    cls = _class(name)
    parameters = {p.name: p for p in _parameters(name)}
    # Called directly, a loss that takes ``channels`` may be given it; only a config may not set it.
    problems = [problem for key, problem in loss_problems(name, kwargs)
                if not (key == f"kwargs.{CHANNELS}" and CHANNELS in parameters)]
    if problems:
        raise ConfigError(problems[0])
    values = {key: _coerce(value, parameters[key].default) for key, value in kwargs.items()}
    try:
        return cls(**values)
    except (ConfigError, ValueError) as error:
        raise ConfigError(f"loss {name!r}: {error}") from None


def model_options(name: str) -> tuple[str, ...]:
    """The keywords of loss ``name`` whose value may be a zoo model name (the class's ``MODEL_OPTIONS``)."""
    return tuple(getattr(_class(name), "MODEL_OPTIONS", ()))


def build_loss(name: str, kwargs: Mapping[str, Any] | None, channels: int,
               load_model: Callable[[str], Any] | None = None):
    """The loss a config's ``loss`` section names, for sources of ``channels`` audio channels.

    ``kwargs`` are the section's keyword arguments; a class that takes ``channels`` gets ``channels`` here, and
    ``kwargs`` may not set it. A string given (or defaulted) for one of the class's :func:`model_options` is a
    zoo name (or preset handle) that ``load_model`` turns into a model; without ``load_model`` it stays a string,
    which the class refuses. Raises :class:`ConfigError` as :func:`get_loss` does.
    """
    kwargs = dict(kwargs or {})
    if CHANNELS in loss_options(name):
        if CHANNELS in kwargs:
            raise ConfigError(f"loss {name!r} gets channels from the data section; write it as data.channels "
                              "instead of a loss argument")
        kwargs[CHANNELS] = channels
    if load_model is not None:
        defaults = {p.name: p.default for p in _parameters(name)}
        for key in model_options(name):
            handle = kwargs.get(key, defaults.get(key))
            if isinstance(handle, str):  # given, or the constructor's default zoo name
                kwargs[key] = load_model(handle)
                kwargs[key].zoo_handle = handle  # so the loss's get_config can name it
    return get_loss(name, **kwargs)
