"""A shuffled pool of examples that serves each one up to ``reuse_factor`` times."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

from sepzoo.data.chunks import Example
from sepzoo.errors import ConfigError


class ChunkPool:
    """Holds up to ``size`` examples; :meth:`draw` returns a uniformly random one and retires it after
    ``reuse_factor`` draws.

    Args:
        size: pool capacity (examples); larger pools mix songs better and cost memory
            (``size * samples * (n_sources + 1) * channels * 4`` bytes).
        reuse_factor: how many times each example is served before it leaves the pool (1 = once).
        rng: the random generator that picks examples.
    """

    def __init__(self, size: int, reuse_factor: int, rng: np.random.Generator) -> None:
        if size < 1 or reuse_factor < 1:
            raise ConfigError(f"chunk pool size={size} and reuse_factor={reuse_factor} must both be at least 1")
        self.size = size
        self.reuse_factor = reuse_factor
        self._rng = rng
        self._examples: list[Example] = []
        self._uses_left: list[int] = []

    def __len__(self) -> int:
        return len(self._examples)

    @property
    def full(self) -> bool:
        """Whether the pool holds ``size`` examples."""
        return len(self._examples) >= self.size

    def add(self, example: Example) -> None:
        """Put an example in the pool with ``reuse_factor`` uses left."""
        self._examples.append(example)
        self._uses_left.append(self.reuse_factor)

    def draw(self) -> Example:
        """A random example from the pool (which must not be empty); retire it if its uses are spent."""
        index = int(self._rng.integers(len(self._examples)))
        example = self._examples[index]
        self._uses_left[index] -= 1
        if self._uses_left[index] == 0:
            last = len(self._examples) - 1
            self._examples[index], self._uses_left[index] = self._examples[last], self._uses_left[last]
            del self._examples[last], self._uses_left[last]
        return example


def pooled(examples: Iterable[Example], pool: ChunkPool) -> Iterator[Example]:
    """Stream ``examples`` through ``pool``: fill it, then draw whenever it is full, then drain it at the end."""
    for example in examples:
        pool.add(example)
        while pool.full:
            yield pool.draw()
    while len(pool):
        yield pool.draw()
