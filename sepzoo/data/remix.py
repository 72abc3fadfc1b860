"""Cross-song remixing: training mixtures whose stems come from different examples (NumPy).

A model trained on whole-song chunks can lean on which parts usually play together in the training songs;
with few songs it memorises them. Remixing draws each source's stem from an independent random example of a
pool, so the model sees combinations no song contains and has to tell sources apart by how they sound.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

from sepzoo.data.chunks import ChunkFilter, Example, mix_within_full_scale
from sepzoo.errors import ConfigError


def remix_examples(
    examples: Iterable[Example],
    rng: np.random.Generator,
    probability: float,
    pool_size: int,
    chunk_filter: ChunkFilter = ChunkFilter(),
) -> Iterator[Example]:
    """Stream ``examples``, replacing each by a remix with ``probability`` once ``pool_size`` have been seen.

    The pool holds ``pool_size`` examples; each incoming example takes a random slot (so the pool keeps
    songs from far back in the stream). A remix takes stem ``s`` of a random pool example for every source
    ``s`` independently and mixes them (scaled down together if the sum would clip). A remix that fails
    ``chunk_filter`` (a silent or one-source mixture) is replaced by the incoming example.

    Args:
        examples: ``(mixture (samples, channels), stems (samples, n_sources * channels))`` pairs.
        rng: draws slots, stems and the remix decision.
        probability: chance that an example is a remix, in [0, 1].
        pool_size: examples held for remixing (memory: ``pool_size * samples * n_sources * channels * 4``
            bytes: only the stems are kept).
        chunk_filter: the filter remixes must pass.

    Yields:
        Examples of the same shapes, with mixture == sum of stems.
    """
    if not 0.0 <= probability <= 1.0 or pool_size < 1:
        raise ConfigError(f"remix probability {probability} must lie in [0, 1] and pool size {pool_size} be >= 1")
    pool: list[np.ndarray] = []
    for mixture, stems in examples:
        if len(pool) < pool_size:
            pool.append(stems)
            yield mixture, stems
            continue
        pool[int(rng.integers(pool_size))] = stems
        if rng.random() >= probability:
            yield mixture, stems
            continue
        channels = mixture.shape[1]
        n_sources = stems.shape[1] // channels
        donors = rng.integers(pool_size, size=n_sources)
        mixed = np.concatenate([pool[d][:, s * channels:(s + 1) * channels] for s, d in enumerate(donors)], axis=1)
        by_source = mixed.T.reshape(n_sources, channels, -1)
        yield mix_within_full_scale(mixed, channels) if chunk_filter.keep(by_source) else (mixture, stems)
