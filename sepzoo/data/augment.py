"""Training-only augmentation of an example source: cross-song remixing, then random per-stem EQ."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from sepzoo.data.chunks import Example, mix_within_full_scale
from sepzoo.data.equalize import random_equalizer
from sepzoo.data.remix import remix_examples


class AugmentedSource:
    """A source whose examples are remixed (:func:`~sepzoo.data.remix.remix_examples`) and equalised
    (:func:`~sepzoo.data.equalize.random_equalizer`); every other attribute is the wrapped source's.

    Args:
        source: a re-iterable example source (``sources``, ``example_shapes``, ...).
        seed: seed of the augmentation draws; each pass starts from it again.
        sample_rate: Hz, for the EQ filters.
        remix: share of examples remixed across songs, in [0, 1] (0 = off).
        remix_pool: examples held to draw remix stems from.
        eq_db: largest boost or cut of each random EQ filter, dB (0 = off).
    """

    def __init__(self, source: Any, seed: int, sample_rate: int, *, remix: float = 0.0, remix_pool: int = 256,
                 eq_db: float = 0.0) -> None:
        self.source, self.seed, self.sample_rate = source, seed, sample_rate
        self.remix, self.remix_pool, self.eq_db = remix, remix_pool, eq_db

    def __getattr__(self, name: str) -> Any:
        if name == "source":  # not set yet (e.g. while unpickling): no delegation loop
            raise AttributeError(name)
        return getattr(self.source, name)

    def __iter__(self) -> Iterator[Example]:
        rng = np.random.default_rng([self.seed, 0x5EB])
        examples = iter(self.source)
        if self.remix > 0:
            examples = remix_examples(examples, rng, self.remix, self.remix_pool)
        if self.eq_db <= 0:
            return examples
        return (mix_within_full_scale(random_equalizer(stems, mixture.shape[1], rng, self.eq_db, self.sample_rate),
                                      mixture.shape[1]) for mixture, stems in examples)
