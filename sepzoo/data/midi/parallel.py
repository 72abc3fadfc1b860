"""An ordered, bounded parallel map over worker processes (spawn context, safe after TensorFlow is imported)."""

from __future__ import annotations

import itertools
import multiprocessing
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


def ordered_map(
    function: Callable[[Item], Result], items: Iterable[Item], workers: int, ahead: int | None = None
) -> Iterator[Result]:
    """``map(function, items)`` computed by ``workers`` spawned processes, results in input order.

    At most ``ahead`` items (default ``2 * workers``) are in flight, so a slow consumer bounds memory and
    ``items`` may be infinite. ``workers == 0`` runs in this process. ``function`` must be importable by name.
    """
    if workers == 0:
        yield from map(function, items)
        return
    ahead = ahead or 2 * workers
    items = iter(items)
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        pending = deque(pool.apply_async(function, (item,)) for item in itertools.islice(items, ahead))
        while pending:
            result = pending.popleft().get()
            pending.extend(pool.apply_async(function, (item,)) for item in itertools.islice(items, 1))
            yield result
