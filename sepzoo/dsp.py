"""Resampling and streaming overlap-add for long-file inference (NumPy, float32 ``(channels, samples)``).

Resampling uses soxr (libsoxr): its filters are band-limited and high quality (``"HQ"``: 20-bit precision,
a passband to about 91 % of Nyquist), it runs in fast C, and :class:`soxr.ResampleStream` converts a long file
chunk by chunk in bounded memory with output identical to a one-shot conversion, so the streaming and
in-memory separation paths agree sample for sample.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

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


def match_channels(audio: np.ndarray, channels: int) -> np.ndarray:
    """``(c, samples)`` audio as ``(channels, samples)``: all channels averaged for mono, a mono signal repeated,
    the first ``channels`` of more; unchanged when ``c == channels``."""
    if audio.shape[0] == channels:
        return audio
    if channels == 1:
        return audio.mean(axis=0, keepdims=True)
    if audio.shape[0] == 1:
        return np.repeat(audio, channels, axis=0)
    return audio[:channels]


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


def windows_needed(samples: int, target_samples: int, hop: int) -> int:
    """Target windows of ``target_samples`` stepping by ``hop`` (samples) that cover ``samples`` samples.

    Window ``k`` covers ``[k * hop, k * hop + target_samples)``; the count is the smallest ``K >= 1`` with
    ``(K - 1) * hop + target_samples >= samples``, so even an empty signal gets one window.
    """
    return 1 + max(0, -(-(samples - target_samples) // hop))


class OverlapAdd:
    """Streaming weighted overlap-add of a window-by-window predictor over a signal of any length.

    Model-agnostic: ``predict`` maps a batch of input (context) windows to output (target) windows and may be
    a Keras model, an exported graph or plain NumPy. The signal arrives in blocks of any size; output comes
    out as soon as no later window can change it, and only the windows in flight are held (see
    :attr:`buffered_samples`), never the whole signal.

    Geometry, all in samples: input position 0 is the first sample pushed. Target window ``k`` covers
    output positions ``[k * hop, k * hop + target_samples)``; ``predict`` sees the context window that
    starts ``offset = (context_samples - target_samples) // 2`` samples earlier, so the target is centred in
    its context (an odd margin puts the extra sample after the target). Positions before 0 and at or past
    the end of the input read as zeros. Windows ``k = 0 .. windows_needed(n, target_samples, hop) - 1``
    are run, so the last target window ends at or past the last of the ``n`` input samples.

    Output, for ``0 <= t < n``, with ``p_k`` window ``k``'s prediction and ``w`` the ``window`` weights::

        y[t] = sum_k w[t - k * hop] * p_k[t - k * hop] / sum_k w[t - k * hop]

    over the windows ``k`` with ``0 <= t - k * hop < target_samples``. The weights are normalised per
    sample, so a predictor that returns its centred input times a constant gives that gain exactly.

    Args:
        predict: float32 ``(n, context_samples, channels)`` -> ``(n, target_samples, outputs)``, for
            ``1 <= n <= batch_size`` windows (a fresh array each call).
        context_samples: Input window length in samples.
        target_samples: Output window length in samples, at most ``context_samples``.
        window: ``(target_samples,)`` strictly positive weights, e.g. :func:`overlap_add_window`.
        hop: Step between windows in samples, from 1 to ``target_samples`` (no gaps between targets).
        channels: Rows of each input block (the last axis of a predict input).
        outputs: Rows of each output block (the last axis of a predict output).
        batch_size: Windows per ``predict`` call (the last call may have fewer).

    Example:
        >>> engine = OverlapAdd(lambda w: w[:, 2:6], context_samples=8, target_samples=4,
        ...                     window=overlap_add_window(4, 2), hop=2, channels=1, outputs=1)
        >>> x = np.arange(10, dtype=np.float32)[None]
        >>> np.array_equal(np.concatenate([engine.push(x[:, :3]), engine.push(x[:, 3:]), engine.flush()], 1), x)
        True
    """

    def __init__(self, predict: Callable[[np.ndarray], np.ndarray], *, context_samples: int, target_samples: int,
                 window: np.ndarray, hop: int, channels: int, outputs: int, batch_size: int = 8) -> None:
        if not 1 <= target_samples <= context_samples:
            raise ValueError(f"target of {target_samples} samples: must be from 1 to the context of "
                             f"{context_samples} samples")
        if not 1 <= hop <= target_samples:
            raise ValueError(f"hop of {hop} samples: must be from 1 to the target of {target_samples} samples")
        window = np.asarray(window, dtype=np.float32)
        if window.shape != (target_samples,) or not (window > 0).all():
            raise ValueError(f"window of shape {window.shape}: must be ({target_samples},) and strictly positive")
        if channels < 1 or outputs < 1 or batch_size < 1:
            raise ValueError(f"channels {channels}, outputs {outputs}, batch size {batch_size}: must be >= 1")
        self.predict = predict
        self.context_samples = context_samples
        self.target_samples = target_samples
        self.window = window
        self.hop = hop
        self.channels = channels
        self.outputs = outputs
        self.batch_size = batch_size
        self.offset = (context_samples - target_samples) // 2
        self.received = 0
        """Input samples pushed so far."""
        self.emitted = 0
        """Output samples returned so far."""
        self.windows_cut = 0
        self.windows_done = 0
        # Input from position received - len(input) on (the zeros before position 0 to start with), always
        # shorter than one context window between calls.
        self._input = np.zeros((channels, self.offset), np.float32)
        self._batch: np.ndarray | None = None  # (batch_size, context, channels), the first _pending filled
        self._pending = 0
        # Weighted sums and weight sums for output positions emitted, emitted + 1, ...
        self._sum = np.zeros((outputs, 0), np.float32)
        self._weight = np.zeros(0, np.float32)
        self._end: int | None = None  # the input length, once flushed

    @property
    def buffered_samples(self) -> int:
        """Samples per channel held between calls: input not yet windowed, pending windows, unfinished output.

        Always below ``batch_size * context_samples + target_samples``, at most ``batch_size + 1`` windows,
        whatever the block sizes and signal length.
        """
        return self._input.shape[1] + self._pending * self.context_samples + self._weight.shape[0]

    def push(self, block: np.ndarray) -> np.ndarray:
        """Add float ``(channels, n)`` input (n may be 0); return the float32 ``(outputs, m)`` output now final."""
        return self._join(list(self._feed(block)))

    def flush(self) -> np.ndarray:
        """End the input (zero-padded past its end); return the float32 ``(outputs, m)`` remaining output.

        All output together is exactly as long as all input. The engine cannot be used afterwards.
        """
        return self._join(list(self._finish()))

    def run(self, blocks: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        """Push every ``(channels, n)`` block, then flush; yield ``(outputs, m)`` output after each batch.

        Lazy: a block spanning many windows is run a batch at a time, each batch's output yielded before
        the next is computed. The yielded blocks, concatenated, are as long as the input.
        """
        for block in blocks:
            yield from self._feed(block)
        yield from self._finish()

    def _feed(self, block: np.ndarray) -> Iterator[np.ndarray]:
        """Window ``block`` a context at a time; run each full batch and yield the output it completes."""
        if self._end is not None:
            raise ValueError("OverlapAdd: input already flushed; build a new OverlapAdd for the next signal")
        block = np.asarray(block, dtype=np.float32)
        if block.ndim != 2 or block.shape[0] != self.channels:
            raise ValueError(f"block of shape {block.shape}: expected ({self.channels}, samples)")
        self.received += block.shape[1]
        used = 0
        while True:
            room = self.context_samples - self._input.shape[1]
            if room and used < block.shape[1]:
                piece = block[:, used:used + room]
                used += piece.shape[1]
                self._input = np.concatenate([self._input, piece], axis=1)
            if self._input.shape[1] < self.context_samples:
                return
            yield from self._cut()

    def _finish(self) -> Iterator[np.ndarray]:
        """Zero-pad the input until its last window is cut, run the last batch, yield the output to the end."""
        if self._end is not None:
            raise ValueError("OverlapAdd: input already flushed; build a new OverlapAdd for the next signal")
        self._end = self.received
        while self.windows_cut < windows_needed(self.received, self.target_samples, self.hop):
            missing = self.context_samples - self._input.shape[1]
            self._input = np.pad(self._input, ((0, 0), (0, missing)))
            yield from self._cut()
        self._run_batch()
        yield self._emit(self.received)
        self._input = np.zeros((self.channels, 0), np.float32)
        self._sum = np.zeros((self.outputs, 0), np.float32)
        self._weight = np.zeros(0, np.float32)

    def _cut(self) -> Iterator[np.ndarray]:
        """Move the full context window at the front of the input to the batch; run the batch when full."""
        if self._batch is None:
            self._batch = np.empty((self.batch_size, self.context_samples, self.channels), np.float32)
        self._batch[self._pending] = self._input.T
        self._pending += 1
        self._input = self._input[:, self.hop:]
        self.windows_cut += 1
        if self._pending == self.batch_size:
            self._run_batch()
            upto = self.windows_done * self.hop  # no later window reaches before its start
            yield self._emit(upto if self._end is None else min(upto, self._end))

    def _run_batch(self) -> None:
        """Predict the pending windows and add their weighted targets and the weights into the running sums."""
        if not self._pending:
            return
        count = self._pending
        targets = np.asarray(self.predict(self._batch[:count]), dtype=np.float32)
        self._batch = None
        self._pending = 0
        expected = (count, self.target_samples, self.outputs)
        if targets.shape != expected:
            raise ValueError(f"predict returned windows of shape {targets.shape}, expected {expected}")
        first = self.windows_done * self.hop - self.emitted  # where window windows_done starts in the sums
        grow = first + (count - 1) * self.hop + self.target_samples - self._weight.shape[0]
        self._sum = np.pad(self._sum, ((0, 0), (0, grow)))
        self._weight = np.pad(self._weight, (0, grow))
        for index, target in enumerate(targets):
            start = first + index * self.hop
            self._sum[:, start:start + self.target_samples] += target.T * self.window
            self._weight[start:start + self.target_samples] += self.window
        self.windows_done += count

    def _emit(self, upto: int) -> np.ndarray:
        """Return the normalised output for positions ``[emitted, upto)`` and drop it from the running sums."""
        count = max(0, min(upto, self.emitted + self._weight.shape[0]) - self.emitted)
        out = self._sum[:, :count] / self._weight[:count]
        self._sum = self._sum[:, count:]
        self._weight = self._weight[count:]
        self.emitted += count
        return out

    def _join(self, parts: list[np.ndarray]) -> np.ndarray:
        """Concatenate output blocks along time; an empty ``(outputs, 0)`` block when there are none."""
        return np.concatenate(parts, axis=1) if parts else np.zeros((self.outputs, 0), np.float32)
