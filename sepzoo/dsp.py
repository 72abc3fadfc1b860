"""Resampling and overlap-add windows for long-file inference (NumPy, float32 ``(channels, samples)``).

Resampling uses soxr (libsoxr): its filters are band-limited and high quality (``"HQ"``: 20-bit precision,
a passband to about 91 % of Nyquist), it runs in fast C, and :class:`soxr.ResampleStream` converts a long file
chunk by chunk in bounded memory with output identical to a one-shot conversion, so the streaming and
in-memory separation paths agree sample for sample.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np
import soxr

QUALITY = "HQ"
"""soxr quality preset used everywhere in sepzoo."""


def resampled_length(samples: int, from_rate: int, to_rate: int) -> int:
    """Samples a signal of ``samples`` at ``from_rate`` Hz has at ``to_rate`` Hz (rounded half up)."""
    return (samples * to_rate + from_rate // 2) // from_rate


def resample(audio: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """Resample float ``(channels, samples)`` audio from ``from_rate`` to ``to_rate`` Hz.

    Returns:
        float32 ``(channels, samples')`` with ``samples'`` as soxr counts, ``round(samples * to / from)``.
        A copy even when the rates are equal.
    """
    audio = np.asarray(audio, dtype=np.float32)
    if from_rate == to_rate:
        return audio.copy()
    return np.ascontiguousarray(soxr.resample(audio.T, from_rate, to_rate, quality=QUALITY).T)


class StreamResampler:
    """Resample a stream of float32 ``(channels, n)`` blocks from ``from_rate`` to ``to_rate`` Hz.

    Concatenating every :meth:`process` output (the last call with ``last=True``) equals
    :func:`resample` of the concatenated input. Equal rates pass blocks through unchanged.
    """

    def __init__(self, from_rate: int, to_rate: int, channels: int) -> None:
        self.channels = channels
        self._stream = None
        if from_rate != to_rate:
            self._stream = soxr.ResampleStream(from_rate, to_rate, channels, dtype="float32", quality=QUALITY)

    def process(self, block: np.ndarray, last: bool = False) -> np.ndarray:
        """Feed a ``(channels, n)`` block (n may be 0); return the ``(channels, m)`` output ready so far."""
        if self._stream is None:
            return block
        out = self._stream.resample_chunk(np.ascontiguousarray(block.T, dtype=np.float32), last=last)
        return np.ascontiguousarray(out.reshape(-1, self.channels).T)

    def stream(self, blocks: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        """Resample every ``(channels, n)`` block in turn, then flush what the filter still holds."""
        for block in blocks:
            yield self.process(block)
        yield self.process(np.zeros((self.channels, 0), np.float32), last=True)


def overlap_add_window(length: int, fade: int) -> np.ndarray:
    """A strictly positive trapezoid window with raised-cosine (Hann) sides, for weighted overlap-add.

    Args:
        length: Window length in samples (>= 1).
        fade: Samples of each rising/falling side, clipped to ``length // 2``; 0 gives a flat window.

    Returns:
        float32 ``(length,)``, values in (0, 1], flat 1 in the middle. Because it never reaches 0, dividing
        the overlap-added windows by their running sum reproduces any constant gain exactly, even at the
        file edges where only one window covers a sample.
    """
    fade = min(fade, length // 2)
    ramp = 0.5 - 0.5 * np.cos(np.pi * np.arange(1, fade + 1) / (fade + 1))
    window = np.ones(length, dtype=np.float32)
    window[:fade] = ramp
    window[length - fade:] = ramp[::-1]
    return window
