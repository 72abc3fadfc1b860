"""Synthetic tones: a cheap example source with known stems, for CI and smoke training.

Source ``s`` of ``n`` owns one frequency band (log-spaced between ``low_hz`` and ``0.45 * sample_rate``).
Even-numbered sources play harmonic notes (random pitch inside the band, 1-4 harmonics, exponential decay);
odd-numbered ones play noise bursts band-passed to their band. Each source is scaled by U[0.7, 1.0] (the
seed's augmentation), is silent with probability ``silent_probability``, and is panned at random when
``channels`` is 2. The mixture is the exact sum of the stems, scaled down together if it would clip.

Example layout (as every sepzoo example source): ``mixture`` float32 ``(chunk_samples, channels)`` and
``stems`` float32 ``(chunk_samples, n_sources * channels)``, source-major (``[:, s * channels + c]``).
``example(index)`` is a pure function of ``(seed, index)``; iterating yields ``example(0), example(1), ...``
without end.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from sepzoo.data.sources import VALIDATION, RegisteredSource, SourceRequest, register_source
from sepzoo.errors import DataError

# Validation streams draw from seeds far from any training stream's.
_VALIDATION_SEED_OFFSET = 1 << 40


@register_source("tones")
class ToneSource(RegisteredSource):
    """Endless, reproducible stream of synthetic tone mixtures (``data.kind: tones``).

    Args:
        sources: source names; their count sets the number of bands.
        sample_rate: Hz.
        chunk_samples: example length, samples.
        channels: 1 (mono) or 2 (random pan per source).
        seed: stream seed; ``example(i)`` depends only on ``seed`` and ``i``.
        low_hz: lower edge of the lowest band, Hz.
        notes_per_chunk: mean number of note or burst onsets per source and chunk.
        silent_probability: chance that a source is silent in an example.
    """

    OPTIONS = {
        "low_hz": "lower edge of the lowest band, Hz (default 60)",
        "notes_per_chunk": "mean note or burst onsets per source and example (default 3)",
        "silent_probability": "chance that a source is silent in an example (default 0.1)",
    }
    NOT_OPTIONS = {"vary_timbre": "re-voices songs as they are rendered, so it needs data.kind midi, not tones"}

    @classmethod
    def option_problems(cls, options) -> list[str]:
        """Non-numeric option values, one line each."""
        return [f"{key}: {value!r} is not allowed; expected a number" for key, value in options.items()
                if isinstance(value, bool) or not isinstance(value, (int, float))]

    @classmethod
    def from_options(cls, request: SourceRequest, options: dict) -> ToneSource:
        """Tones for ``request``; the validation split draws from seeds far from every training stream's."""
        offset = _VALIDATION_SEED_OFFSET if request.split == VALIDATION else 0
        return cls(request.sources, request.sample_rate, request.example_samples, request.channels,
                   seed=request.seed + offset, **options)

    def __init__(
        self,
        sources: Sequence[str],
        sample_rate: int,
        chunk_samples: int,
        channels: int = 1,
        seed: int = 0,
        low_hz: float = 60.0,
        notes_per_chunk: float = 3.0,
        silent_probability: float = 0.1,
    ):
        if not sources:
            raise DataError("ToneSource: no sources given; name at least one source")
        if channels not in (1, 2):
            raise DataError(f"ToneSource: channels={channels} is not supported; use 1 or 2")
        top_hz = 0.45 * sample_rate
        if not 0 < low_hz < top_hz:
            raise DataError(f"ToneSource: low_hz={low_hz} must lie in (0, {top_hz:g}) Hz at {sample_rate} Hz")
        self.sources = tuple(sources)
        self.sample_rate = int(sample_rate)
        self.chunk_samples = int(chunk_samples)
        self.channels = int(channels)
        self.seed = int(seed)
        self.notes_per_chunk = float(notes_per_chunk)
        self.silent_probability = float(silent_probability)
        self.band_edges_hz = np.geomspace(low_hz, top_hz, len(self.sources) + 1)

    @property
    def example_shapes(self) -> tuple[tuple[int, int], tuple[int, int]]:
        """``((samples, channels), (samples, n_sources * channels))`` of every example."""
        return (self.chunk_samples, self.channels), (self.chunk_samples, len(self.sources) * self.channels)

    def describe(self) -> str:
        """One line for a model card's training-data field."""
        bands = ", ".join(
            f"{name} {lo:.0f}-{hi:.0f} Hz"
            for name, lo, hi in zip(self.sources, self.band_edges_hz[:-1], self.band_edges_hz[1:])
        )
        return f"synthetic tones and noise bursts at {self.sample_rate} Hz ({bands}), seed {self.seed}"

    def _harmonic_notes(self, rng: np.random.Generator, lo: float, hi: float) -> np.ndarray:
        t = np.arange(self.chunk_samples) / self.sample_rate
        out = np.zeros(self.chunk_samples)
        for onset in self._onsets(rng):
            f0 = np.exp(rng.uniform(np.log(lo), np.log(hi)))
            decay = rng.uniform(3.0, 12.0)  # 1/s
            tail = t[: self.chunk_samples - onset]
            note = sum(
                np.sin(2 * np.pi * k * f0 * tail + rng.uniform(0, 2 * np.pi)) / k
                for k in range(1, rng.integers(1, 5) + 1)
                if k * f0 < 0.5 * self.sample_rate
            )
            out[onset:] += note * np.exp(-decay * tail)
        return out

    def _noise_bursts(self, rng: np.random.Generator, lo: float, hi: float) -> np.ndarray:
        envelope = np.zeros(self.chunk_samples)
        for onset in self._onsets(rng):
            length = rng.integers(self.chunk_samples // 16, self.chunk_samples // 4 + 1)
            end = min(self.chunk_samples, onset + length)
            envelope[onset:end] += np.hanning(end - onset + 2)[1:-1]
        spectrum = np.fft.rfft(rng.standard_normal(self.chunk_samples))
        freqs = np.fft.rfftfreq(self.chunk_samples, 1.0 / self.sample_rate)
        spectrum[(freqs < lo) | (freqs >= hi)] = 0.0
        noise = np.fft.irfft(spectrum, self.chunk_samples)
        return envelope * noise / (np.std(noise) + 1e-12) * 0.3

    def _onsets(self, rng: np.random.Generator) -> np.ndarray:
        count = max(1, rng.poisson(self.notes_per_chunk))
        return np.sort(rng.integers(0, self.chunk_samples - 1, size=count))

    def example(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """Example ``index``: ``(mixture (chunk_samples, channels), stems (chunk_samples, n_sources * channels))``."""
        rng = np.random.default_rng([self.seed, int(index)])
        stems = np.zeros((self.chunk_samples, len(self.sources) * self.channels))
        for s in range(len(self.sources)):
            if rng.random() < self.silent_probability:
                continue
            lo, hi = self.band_edges_hz[s], self.band_edges_hz[s + 1]
            make = self._harmonic_notes if s % 2 == 0 else self._noise_bursts
            signal = make(rng, lo, hi)
            signal *= rng.uniform(0.7, 1.0) / (np.max(np.abs(signal)) + 1e-12) / np.sqrt(len(self.sources))
            pan = rng.uniform(0.0, 1.0) if self.channels == 2 else None
            gains = (1.0,) if pan is None else (np.cos(pan * np.pi / 2), np.sin(pan * np.pi / 2))
            for c, gain in enumerate(gains):
                stems[:, s * self.channels + c] = gain * signal
        mixture = stems.reshape(self.chunk_samples, len(self.sources), self.channels).sum(axis=1)
        peak = np.max(np.abs(mixture))
        if peak > 1.0:
            stems, mixture = stems / peak, mixture / peak
        return mixture.astype(np.float32), stems.astype(np.float32)

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        index = 0
        while True:
            yield self.example(index)
            index += 1
