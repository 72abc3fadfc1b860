"""Training-only augmentation of an example source: per-stem speed change, cross-song remixing, per-stem EQ;
per-stem channel swap and sign flip (:func:`random_channel_swap`, :func:`random_sign_flip`).

Per-stem gains with the mixture re-summed are :func:`sepzoo.data.chunks.random_gains`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from sepzoo.data.chunks import Example, mix_within_full_scale
from sepzoo.data.equalize import random_equalizer
from sepzoo.data.remix import remix_examples
from sepzoo.data.sources import TRAIN, describe_source
from sepzoo.data.speed import input_samples, random_speed


def source_samples(context_samples: int, split: str, speed_change: float = 0.0) -> int:
    """Length of the examples a source cuts for ``split``, samples: ``context_samples``, plus, for training,
    the margin that a speed change of up to ``speed_change`` resamples away."""
    if split != TRAIN or speed_change == 0:
        return context_samples
    return input_samples(context_samples, speed_change)


class AugmentedSource:
    """A source whose examples are sped up or slowed down per stem (:func:`~sepzoo.data.speed.random_speed`),
    remixed (:func:`~sepzoo.data.remix.remix_examples`) and equalised
    (:func:`~sepzoo.data.equalize.random_equalizer`), in that order; every other attribute is the wrapped
    source's.

    Args:
        source: a re-iterable example source (``sources``, ``example_shapes``, ...).
        seed: seed of the augmentation draws; each pass starts from it again.
        sample_rate: Hz, for the EQ filters.
        remix: share of examples remixed across songs, in [0, 1] (0 = off).
        remix_pool: examples held to draw remix stems from.
        eq_db: largest boost or cut of each random EQ filter, dB (0 = off).
        speed_change: largest relative speed change of each stem, e.g. 0.06 (0 = off). The wrapped source's
            examples must then be ``input_samples(example_samples, speed_change)`` long
            (:func:`~sepzoo.data.speed.input_samples`); they come out ``example_samples`` long.
        example_samples: length of the examples served, samples (needed with ``speed_change``).
    """

    def __init__(self, source: Any, seed: int, sample_rate: int, *, remix: float = 0.0, remix_pool: int = 256,
                 eq_db: float = 0.0, speed_change: float = 0.0, example_samples: int | None = None) -> None:
        if speed_change > 0 and example_samples is None:
            raise ValueError("speed_change needs example_samples, the length of the examples served")
        self.source, self.seed, self.sample_rate = source, seed, sample_rate
        self.remix, self.remix_pool, self.eq_db = remix, remix_pool, eq_db
        self.speed_change, self.example_samples = speed_change, example_samples

    def describe(self) -> str:
        """The wrapped source's model-card line followed by the augmentations applied."""
        text = describe_source(self.source)
        if self.remix:
            text += f"; {self.remix:.0%} of examples remixed from stems of different songs (pool {self.remix_pool})"
        if self.eq_db:
            text += f"; random per-stem EQ up to ±{self.eq_db:g} dB"
        if self.speed_change:
            text += f"; each stem resampled to a random speed within ±{self.speed_change:.0%}"
        return text

    def __getattr__(self, name: str) -> Any:
        if name == "source":  # not set yet (e.g. while unpickling): no delegation loop
            raise AttributeError(name)
        return getattr(self.source, name)

    @property
    def example_shapes(self) -> tuple[tuple[int, int], tuple[int, int]]:
        """``((samples, channels), (samples, n_sources * channels))`` of the examples served."""
        (samples, channels), (_, stem_columns) = self.source.example_shapes
        samples = self.example_samples if self.speed_change > 0 else samples
        return (samples, channels), (samples, stem_columns)

    def __iter__(self) -> Iterator[Example]:
        rng = np.random.default_rng([self.seed, 0x5EB])
        examples = iter(self.source)
        if self.speed_change > 0:
            examples = (mix_within_full_scale(random_speed(stems, mixture.shape[1], rng, self.speed_change,
                                                           self.example_samples), mixture.shape[1])
                        for mixture, stems in examples)
        if self.remix > 0:
            examples = remix_examples(examples, rng, self.remix, self.remix_pool)
        if self.eq_db <= 0:
            return examples
        return (mix_within_full_scale(random_equalizer(stems, mixture.shape[1], rng, self.eq_db, self.sample_rate),
                                      mixture.shape[1]) for mixture, stems in examples)


def random_channel_swap(example: Example, rng: np.random.Generator, probability: float) -> Example:
    """Swap the left and right channels of each stem with ``probability``, drawn per stem; re-sum the mixture.

    Args:
        example: ``(mixture (samples, channels), stems (samples, n_sources * channels))``, source-major.
        rng: draws the swaps.
        probability: chance per stem, in [0, 1]. Mono examples come back unchanged (no draw is made).
    """
    mixture, stems = example
    channels = mixture.shape[1]
    if channels != 2:
        return example
    swap = rng.random(stems.shape[1] // channels) < probability
    if not swap.any():
        return example
    by_source = stems.reshape(stems.shape[0], -1, channels).copy()
    by_source[:, swap] = by_source[:, swap, ::-1]
    return mix_within_full_scale(by_source.reshape(stems.shape), channels)


def random_sign_flip(example: Example, rng: np.random.Generator, probability: float) -> Example:
    """Negate each stem with ``probability``, drawn per stem; re-sum the mixture (scaled down together if it
    would clip). The stems' spectra are unchanged; only how they add up in the mixture changes."""
    mixture, stems = example
    channels = mixture.shape[1]
    flip = rng.random(stems.shape[1] // channels) < probability
    if not flip.any():
        return example
    signs = np.repeat(np.where(flip, -1.0, 1.0).astype(np.float32), channels)
    return mix_within_full_scale(stems * signs[None, :], channels)
