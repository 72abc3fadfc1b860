"""Stem tasks: which General MIDI instruments make up each separated source.

A task is data, not code: a name, an ordered list of stems, each stem a set of GM programs (0-127), the
drum kits, or "the rest", and a mode:

- ``"partition"``: every instrument of a piece lands in exactly one stem (one stem must be the rest), so the
  mixture is the sum of the stems and nothing is thrown away.
- ``"fixed"``: only the listed targets are kept; every other instrument is removed from the mixture. Pieces
  with fewer than ``min_targets`` sounding targets are skipped; silent targets are allowed.

A new task takes one call::

    register_task("lead3", {"drums": "drums", "lead": [(80, 87)], "rest": "rest"})

Program ranges are inclusive, as GM tables print them (bass = 32-39).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sepzoo.errors import ConfigError

DRUMS = "drums"
REST = "rest"
MODES = ("partition", "fixed")


@dataclass(frozen=True)
class StemSpec:
    """One source of a task.

    Attributes:
        name: stem name, used as the WAV file name and the model's source name.
        programs: GM program numbers (0-127) of melodic instruments that belong to this stem.
        drums: whether drum-kit instruments (``is_drum``) belong to this stem.
        rest: whether this stem takes every instrument no other stem claims (partition tasks only).
    """

    name: str
    programs: frozenset[int] = frozenset()
    drums: bool = False
    rest: bool = False

    def claims(self, program: int, is_drum: bool) -> bool:
        """Whether an instrument with this GM ``program`` and drum flag is named by this stem."""
        return self.drums if is_drum else program in self.programs


@dataclass(frozen=True)
class StemTask:
    """An ordered list of stems and how instruments outside them are treated.

    Attributes:
        name: task name used by :func:`get_task` and the CLI.
        stems: the sources, in model output order.
        mode: ``"partition"`` or ``"fixed"`` (see the module docstring).
        min_targets: a piece is used only if at least this many stems have notes.
    """

    name: str
    stems: tuple[StemSpec, ...]
    mode: str = "partition"
    min_targets: int = 1

    def __post_init__(self) -> None:
        _validate(self)

    @property
    def sources(self) -> tuple[str, ...]:
        """Stem names in output order."""
        return tuple(stem.name for stem in self.stems)

    def stem_index(self, program: int, is_drum: bool) -> int | None:
        """Index of the stem an instrument belongs to, or ``None`` when the task removes it."""
        for index, stem in enumerate(self.stems):
            if stem.claims(program, is_drum):
                return index
        for index, stem in enumerate(self.stems):
            if stem.rest:
                return index
        return None


def _validate(task: StemTask) -> None:
    where = f"stem task {task.name!r}"
    if task.mode not in MODES:
        raise ConfigError(f"{where}: mode {task.mode!r} is unknown; use one of {', '.join(MODES)}")
    names = task.sources
    if not names or len(set(names)) != len(names):
        raise ConfigError(f"{where}: stem names {names} must be non-empty and distinct; rename the stems")
    rests = [stem.name for stem in task.stems if stem.rest]
    if task.mode == "partition" and len(rests) != 1:
        raise ConfigError(f"{where}: a partition needs exactly one 'rest' stem, found {len(rests)}; add or remove one")
    if task.mode == "fixed" and rests:
        raise ConfigError(f"{where}: a fixed task removes unlisted instruments, so {rests[0]!r} cannot be 'rest'")
    if sum(stem.drums for stem in task.stems) > 1:
        raise ConfigError(f"{where}: more than one stem claims the drums; keep 'drums' in one stem")
    seen: dict[int, str] = {}
    for stem in task.stems:
        bad = [p for p in stem.programs if not 0 <= p <= 127]
        if bad:
            raise ConfigError(f"{where}: stem {stem.name!r} has GM programs {bad} outside 0-127; fix its ranges")
        for program in stem.programs:
            if program in seen:
                raise ConfigError(
                    f"{where}: GM program {program} is in both {seen[program]!r} and {stem.name!r}; make ranges disjoint"
                )
            seen[program] = stem.name
    if not 1 <= task.min_targets <= len(task.stems):
        raise ConfigError(f"{where}: min_targets={task.min_targets} must be between 1 and {len(task.stems)}")


def _stem_from_value(name: str, value: str | Sequence[tuple[int, int]]) -> StemSpec:
    if value == DRUMS:
        return StemSpec(name, drums=True)
    if value == REST:
        return StemSpec(name, rest=True)
    if isinstance(value, str):
        raise ConfigError(f"stem {name!r}: {value!r} is not 'drums', 'rest' or a list of (first, last) program ranges")
    programs = frozenset(p for first, last in value for p in range(int(first), int(last) + 1))
    return StemSpec(name, programs=programs)


_TASKS: dict[str, StemTask] = {}


def register_task(
    name: str,
    sources: Mapping[str, str | Sequence[tuple[int, int]]],
    mode: str = "partition",
    min_targets: int = 1,
) -> StemTask:
    """Define a task and make it available to :func:`get_task` under ``name``.

    Args:
        name: task name.
        sources: ordered mapping stem name -> ``"drums"``, ``"rest"`` or a list of inclusive GM program ranges
            ``[(first, last), ...]``.
        mode: ``"partition"`` or ``"fixed"``.
        min_targets: a piece is used only if at least this many stems have notes.

    Returns:
        The registered :class:`StemTask`.
    """
    stems = tuple(_stem_from_value(stem_name, value) for stem_name, value in sources.items())
    task = StemTask(name=name, stems=stems, mode=mode, min_targets=min_targets)
    _TASKS[name] = task
    return task


def get_task(task: str | StemTask) -> StemTask:
    """The task registered under ``task`` (a :class:`StemTask` is returned unchanged)."""
    if isinstance(task, StemTask):
        return task
    if task not in _TASKS:
        raise ConfigError(f"stem task {task!r} is unknown; use one of {', '.join(sorted(_TASKS))} or register_task()")
    return _TASKS[task]


def list_tasks() -> list[str]:
    """Names of all registered tasks, sorted."""
    return sorted(_TASKS)


register_task("midi4", {"drums": DRUMS, "bass": [(32, 39)], "keys": [(0, 23)], "other": REST})
register_task(
    "fixed4",
    {"drums": DRUMS, "piano": [(0, 7)], "strings": [(40, 51)], "bass": [(32, 39)]},
    mode="fixed",
    min_targets=2,
)
