"""Cutting rendered songs into training examples, filtering them, and gain augmentation (NumPy).

An *example* is a pair of float32 arrays:
    mixture ``(samples, channels)`` and stems ``(samples, n_sources * channels)``, source-major
    (source ``s``, channel ``c`` at column ``s * channels + c``), with mixture == sum of the stems.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

Example = tuple[np.ndarray, np.ndarray]
_TINY = 1e-20


@dataclass(frozen=True)
class ChunkFilter:
    """Which chunks are worth training on.

    Attributes:
        silence_db: drop a chunk whose mixture RMS is below this level, in dB re full scale (1.0).
        dominance_db: drop a chunk where one stem is the whole mixture but for this many dB:
            ``10 log10(|mix|^2 / |mix - stem|^2) > dominance_db`` (the targets barely differ from the mixture).
            ``None`` keeps such chunks.
    """

    silence_db: float = -50.0
    dominance_db: float | None = 20.0

    def keep(self, stems: np.ndarray) -> bool:
        """Whether a chunk of stems, float32 ``(n_sources, channels, samples)``, passes the filter."""
        mixture = stems.sum(axis=0)
        mixture_energy = float(np.mean(np.square(mixture, dtype=np.float64)))
        if 10 * np.log10(mixture_energy + _TINY) < self.silence_db:
            return False
        if self.dominance_db is None:
            return True
        residual = np.mean(np.square(mixture[None] - stems, dtype=np.float64), axis=(1, 2))
        return bool(np.all(10 * np.log10(mixture_energy / (residual + _TINY)) <= self.dominance_db))


def cut_chunks(
    stems: np.ndarray,
    chunk_samples: int,
    rng: np.random.Generator,
    chunk_filter: ChunkFilter = ChunkFilter(),
    max_chunks: int | None = None,
) -> list[Example]:
    """Non-overlapping chunks of a rendered song that pass ``chunk_filter``, as examples.

    Args:
        stems: float32 ``(n_sources, channels, samples)``.
        chunk_samples: chunk length in samples.
        rng: picks the grid offset (0 .. chunk_samples - 1) and, under ``max_chunks``, which chunks to keep.
        chunk_filter: the silence / dominance filter.
        max_chunks: keep at most this many chunks per song (a random subset, in time order); ``None`` = all.

    Returns:
        A list of examples (see the module docstring).
    """
    samples = stems.shape[-1]
    offset = int(rng.integers(0, chunk_samples)) if samples >= 2 * chunk_samples else 0
    starts = range(offset, samples - chunk_samples + 1, chunk_samples)
    kept = [s for s in starts if chunk_filter.keep(stems[..., s : s + chunk_samples])]
    if max_chunks is not None and len(kept) > max_chunks:
        kept = sorted(rng.choice(kept, size=max_chunks, replace=False).tolist())
    return [to_example(stems[..., s : s + chunk_samples]) for s in kept]


def to_example(stems: np.ndarray) -> Example:
    """``(n_sources, channels, samples)`` stems -> ``(mixture (samples, channels), stems (samples, n*channels))``."""
    n_sources, channels, samples = stems.shape
    flat = np.ascontiguousarray(stems.transpose(2, 0, 1).reshape(samples, n_sources * channels), dtype=np.float32)
    return mix_of(flat, channels), flat


def mix_of(stems: np.ndarray, channels: int) -> np.ndarray:
    """Mixture ``(samples, channels)`` as the sum of source-major stems ``(samples, n_sources * channels)``."""
    return stems.reshape(stems.shape[0], -1, channels).sum(axis=1)


def random_gains(example: Example, rng: np.random.Generator, gain_range: tuple[float, float]) -> Example:
    """Scale each stem by its own gain drawn from U[gain_range] and recompute the mixture as their sum.

    If the new mixture would peak above 1.0, every stem is scaled down by the same factor so it peaks at 0.99.
    """
    mixture, stems = example
    channels = mixture.shape[1]
    n_sources = stems.shape[1] // channels
    gains = rng.uniform(gain_range[0], gain_range[1], size=n_sources).astype(np.float32)
    return mix_within_full_scale(stems * np.repeat(gains, channels)[None, :], channels)


def mix_within_full_scale(stems: np.ndarray, channels: int) -> Example:
    """The example of source-major ``stems`` ``(samples, n_sources * channels)``, mixed by summing.

    If the mixture would peak above 1.0, every stem is scaled down by the same factor so it peaks at 0.99.
    """
    mixture = mix_of(stems, channels)
    peak = float(np.max(np.abs(mixture), initial=0.0))
    if peak > 1.0:
        stems = stems * np.float32(0.99 / peak)
        mixture = mix_of(stems, channels)
    return mixture, stems
