"""Long-file inference: resample, cut model windows, overlap-add the separated targets, resample back.

One streaming engine serves both entry points: :meth:`Separator.separate` feeds an in-memory array through it
block by block, :meth:`Separator.separate_file` feeds a file and writes each source as it comes out. Memory
is bounded by the window size times the batch size, never by the track length. The windowing and weighted
overlap-add are :class:`sepzoo.dsp.OverlapAdd`'s; this module wraps the model as its predict function.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from math import ceil, gcd
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from tqdm import tqdm

from sepzoo.audio_io import (
    AudioWriter,
    audio_info,
    check_audio_array,
    check_output_rate,
    iter_blocks,
    make_output_dirs,
    output_extension,
    read_audio,
    remove_empty_folders,
    signals_deferred,
)
from sepzoo.dsp import (
    OverlapAdd,
    StreamResampler,
    overlap_add_window,
    resample,
    resampled_length,
    windows_needed,
)
from sepzoo.engines import Engine
from sepzoo.errors import ConfigError
from sepzoo.zoo import load

if TYPE_CHECKING:  # the Keras model classes; not imported at run time, so exported engines run without Keras
    from sepzoo.models.base import SeparationModel

BLOCK_SAMPLES = 1 << 16
"""Frames read from a file (or sliced from an array) per step, at the input rate."""


class Separator:
    """Separate audio of any length, rate and channel count (mono or stereo) with a :class:`SeparationModel`
    or an exported model's :class:`~sepzoo.engines.Engine` (``open_engine("exports/aspp_onnx")``).

    Geometry comes from the model: each input window of ``segment_samples`` (default ``context_samples``)
    yields a target window ``context_samples - target_samples`` shorter, centred in it. Target windows step
    by ``hop = target - round(overlap * target)`` samples, are weighted by a strictly positive Hann-sided
    trapezoid and normalised by the running window sum, so a model that applies a constant gain is
    reproduced exactly. The signal is zero-padded before and after, so the first target window starts at
    sample 0, the last ends at or past the final sample, and every context margin has samples to read.

    Rates: input is resampled (soxr) to ``model.sample_rate`` and the stems back to the input rate, trimmed
    or zero-padded to the input length (half-up rounded when the output rate differs).

    Channels: a mono model separates each input channel independently (each channel of a window is its own
    batch item); a model with as many channels as the input gets them as they are; a multi-channel model
    given mono input sees the channel duplicated, and its per-source channels are averaged back to mono.
    Stems always have the input's channel count.

    Args:
        model: The separation model: a Keras zoo model (called with ``predict_on_batch``) or an engine
            (called with ``predict``); both give the geometry attributes.
        segment_samples: Input window length in samples at the model rate. Only models built for variable
            input length accept a value other than ``context_samples``.
        overlap: Fraction of the target window shared by neighbouring windows, in [0, 1).
        batch_size: Windows per model call (a stereo input through a mono model gives two items per window).
            Every call has this many: a last, partial batch is padded with silent windows, so a compiled
            graph (JAX, XLA, LiteRT's allocation) is built for one shape only. 1, the default, is the
            fastest on a CPU (``lightweight_aspp``, one thread, per window: TensorFlow 52 ms at 1 stereo
            window, 81 ms at 8; ``benchmarks/window_time.py``) and keeps memory lowest; a GPU wants more.
        progress: Show a tqdm bar over windows on stderr.
        stems: Output stems as sums of the model's sources, e.g. ``two_stems(model.sources, "drums")`` or
            ``{"rhythm": ["drums", "bass"], "harmony": ["keys", "other"]}``; default one stem per source.

    Example:
        >>> separator = Separator(sepzoo.load("lightweight_aspp"))  # doctest: +SKIP
        >>> stems = separator.separate(audio, 44100)  # doctest: +SKIP
        >>> stems["drums"].shape == audio.shape  # doctest: +SKIP
        True
    """

    def __init__(self, model: SeparationModel | Engine, *, segment_samples: int | None = None, overlap: float = 0.25,
                 batch_size: int = 1, progress: bool = False,
                 stems: Mapping[str, Sequence[str]] | None = None) -> None:
        self.model = model
        self.stems = _check_stems(model, stems)
        # (output stems, model sources) 0/1 matrix that sums the model's sources into the output stems.
        self._mixing = np.array([[float(source in members) for source in model.sources]
                                 for members in self.stems.values()], np.float32)
        margin = model.context_samples - model.target_samples
        self.segment_samples = model.context_samples if segment_samples is None else int(segment_samples)
        if self.segment_samples != model.context_samples and _fixed_input_length(model):
            raise ConfigError(
                f"segment of {self.segment_samples} samples: model {model.name} takes fixed windows of "
                f"{model.context_samples} samples at {model.sample_rate} Hz; leave the segment at its default"
            )
        self.target_samples = self.segment_samples - margin
        if self.target_samples < 1:
            raise ConfigError(
                f"segment of {self.segment_samples} samples: must exceed the model's context margin of "
                f"{margin} samples; use a longer segment"
            )
        if not 0.0 <= overlap < 1.0:
            raise ConfigError(f"overlap {overlap}: must be a fraction in [0, 1), e.g. 0.25")
        if batch_size < 1:
            raise ConfigError(f"batch size {batch_size}: must be at least 1")
        self.hop = max(1, self.target_samples - round(overlap * self.target_samples))
        self.offset = margin // 2
        self.window = overlap_add_window(self.target_samples, self.target_samples - self.hop)
        self.batch_size = batch_size
        self.progress = progress

    @property
    def sources(self) -> tuple[str, ...]:
        """Names of the output stems (the model's sources unless ``stems`` groups them)."""
        return tuple(self.stems)

    def check_channels(self, channels: int) -> None:
        """Raise ConfigError unless ``channels``-channel input maps onto the model (see the class docstring)."""
        model_channels = self.model.channels
        if model_channels not in (1, channels) and channels != 1:
            raise ConfigError(
                f"model {self.model.name}: takes {model_channels}-channel audio, which a {channels}-channel "
                "input cannot be mapped to; downmix the input to mono"
            )

    def windows_for(self, samples: int) -> int:
        """Target windows needed to cover ``samples`` samples at the model rate."""
        return windows_needed(samples, self.target_samples, self.hop)

    def separate(self, audio: np.ndarray, sample_rate: int) -> dict[str, np.ndarray]:
        """Separate float ``(channels, samples)`` audio at ``sample_rate`` Hz.

        Returns:
            source name -> float32 ``(channels, samples)``, same shape and rate as ``audio``.
        """
        audio = check_audio_array(audio, sample_rate)
        blocks = (audio[:, start:start + BLOCK_SAMPLES] for start in range(0, audio.shape[1], BLOCK_SAMPLES))
        parts = list(self._stream(blocks, audio.shape[0], audio.shape[1], sample_rate, sample_rate))
        stems = np.concatenate(parts, axis=2)
        return dict(zip(self.sources, stems))

    def separate_file(self, in_path: str | os.PathLike, out_dir: str | os.PathLike, *, format: str = "wav",
                      sample_rate: int | None = None, plot: bool = False) -> dict[str, Path]:
        """Separate an audio file into ``out_dir/<input stem>/<source>.<format>`` in bounded memory.

        Stems are written to temporary files and renamed into place only once all are complete; on any
        error the temporary files and any folder this call created are removed, and earlier outputs at the
        same paths stay as they were.

        Args:
            in_path: Mono or stereo audio file.
            out_dir: Output folder, created if missing.
            format: ``"wav"`` (32-bit float) or ``"flac"`` (24-bit).
            sample_rate: Output rate in Hz; default the input's rate.
            plot: Also write ``spectrogram.png`` (mixture and stems; reads the whole track into memory).

        Returns:
            source name -> written path.
        """
        info = audio_info(in_path)
        out_rate = check_output_rate(info.sample_rate if sample_rate is None else sample_rate)
        self.check_channels(info.channels)
        blocks = iter_blocks(info.path, BLOCK_SAMPLES)
        stems = self._stream(blocks, info.channels, info.frames, info.sample_rate, out_rate)
        return _write_stems(stems, self.sources, info.path, info.channels, out_dir, format, out_rate, plot)

    def _stream(self, blocks: Iterable[np.ndarray], channels: int, in_frames: int, in_rate: int,
                out_rate: int) -> Iterator[np.ndarray]:
        """Run input blocks ``(channels, n)`` at ``in_rate`` through resampling, the model and overlap-add.

        Yields:
            float32 ``(sources, channels, m)`` blocks at ``out_rate``; together ``resampled_length(in_frames,
            in_rate, out_rate)`` samples long.
        """
        total_windows = self.windows_for(resampled_length(in_frames, in_rate, self.model.sample_rate))
        with tqdm(total=total_windows, unit="window", disable=not self.progress, leave=False,
                  file=sys.stderr) as bar:
            pipeline = _Pipeline(self, channels, in_rate, out_rate, bar)
            for block in blocks:
                yield pipeline.push(block)
            yield pipeline.flush(resampled_length(in_frames, in_rate, out_rate))

    def _predictor(self, channels: int, bar: tqdm) -> Callable[[np.ndarray], np.ndarray]:
        """The :class:`OverlapAdd` predict function for ``channels``-channel input: the model on a batch of
        float32 ``(n, segment_samples, channels)`` windows -> ``(n, target_samples, sources * channels)``
        targets, sources outer and channels inner; advances ``bar`` by ``n``.

        Maps the input channels onto the model's (see the class docstring): a mono model gets each channel
        of a window as its own batch item, a multi-channel model given mono input sees the channel repeated
        and its per-source channels are averaged back to one.
        """
        model, model_channels = self.model, self.model.channels
        sources, length = len(model.sources), self.target_samples
        call = getattr(model, "predict_on_batch", None) or model.predict  # Keras model or engine

        def predict(windows: np.ndarray) -> np.ndarray:
            count = len(windows)
            padded = max(count, self.batch_size)  # one batch shape for every call: compiled graphs build once
            if count < padded:
                windows = np.concatenate([windows, np.zeros((padded - count, *windows.shape[1:]), windows.dtype)])
            if model_channels == channels:
                batch = windows
            elif model_channels == 1:
                batch = windows.transpose(0, 2, 1).reshape(padded * channels, -1, 1)
            else:
                batch = np.repeat(windows, model_channels, axis=2)
            outputs = np.asarray(call(batch), dtype=np.float32)
            expected = (len(batch), length, sources * model_channels)
            if outputs.shape != expected:
                raise ConfigError(
                    f"model {model.name}: returned windows of shape {outputs.shape}, expected {expected} from "
                    "its target_samples, sources and channels; fix the model's fields"
                )
            outputs = outputs[:len(batch) * count // padded]  # the real windows' items come first
            if model_channels == channels:
                targets = outputs.reshape(count, length, sources, channels)
            elif model_channels == 1:
                targets = outputs.reshape(count, channels, length, sources).transpose(0, 2, 3, 1)
            else:
                targets = outputs.reshape(count, length, sources, model_channels).mean(axis=3, keepdims=True)
            bar.update(count)
            return targets.reshape(count, length, sources * channels)

        return predict


class _Pipeline:
    """The Separator's chain in push form: resample to the model's rate, overlap-add the model's windows
    (:class:`OverlapAdd` with :meth:`Separator._predictor`), sum sources into stems, resample to ``out_rate``.

    With ``chunk``, each resampler is fed exactly ``chunk`` samples at a time (the rest waits), so how much
    it holds back depends only on how many samples came in, never on the block sizes pushed: that is what
    lets :class:`StreamingSeparator` promise a fixed latency. Values are the same either way.
    """

    def __init__(self, separator: Separator, channels: int, in_rate: int, out_rate: int, bar: tqdm | None = None,
                 chunk: int | None = None) -> None:
        separator.check_channels(channels)
        model_rate = separator.model.sample_rate
        self.sources = len(separator.model.sources)
        self.stems = len(separator.sources)
        self.channels = channels
        self.mixing = separator._mixing
        self.to_model = StreamResampler(in_rate, model_rate, channels)
        self.from_model = StreamResampler(model_rate, out_rate, self.stems * channels)
        self.in_chunks = _Rechunker(channels, chunk if chunk and in_rate != model_rate else None)
        self.out_chunks = _Rechunker(self.stems * channels, chunk if chunk and out_rate != model_rate else None)
        self.engine = OverlapAdd(separator._predictor(channels, tqdm(disable=True) if bar is None else bar),
                                 context_samples=separator.segment_samples, target_samples=separator.target_samples,
                                 window=separator.window, hop=separator.hop, channels=channels,
                                 outputs=self.sources * channels, batch_size=separator.batch_size)
        self.delivered = 0

    def push(self, block: np.ndarray) -> np.ndarray:
        """Feed float ``(channels, n)`` input; return the float32 ``(stems, channels, m)`` output ready so far."""
        parts = [self._after_model(self.engine.push(self.to_model.process(piece)))
                 for piece in self.in_chunks.split(block)]
        return self._deliver(parts)

    def flush(self, samples: int) -> np.ndarray:
        """End the input; return the rest of the output, trimmed or zero-padded to ``samples`` in all."""
        model_block = self.to_model.process(self.in_chunks.rest(), last=True)
        flat = np.concatenate([self._after_model(self.engine.push(model_block)),
                               self._after_model(self.engine.flush(), last=True)], axis=1)
        keep = max(0, samples - self.delivered)
        flat = np.pad(flat[:, :keep], ((0, 0), (0, keep - min(keep, flat.shape[1]))))
        self.delivered += keep
        return flat.reshape(self.stems, self.channels, keep)

    def _after_model(self, flat: np.ndarray, last: bool = False) -> np.ndarray:
        """``(sources * channels, n)`` model output -> ``(stems * channels, m)`` at the output rate."""
        stems = np.einsum("os,scn->ocn", self.mixing, flat.reshape(self.sources, self.channels, flat.shape[-1]))
        rows = stems.reshape(self.stems * self.channels, -1)
        parts = [self.from_model.process(piece) for piece in self.out_chunks.split(rows)]
        if last:
            parts.append(self.from_model.process(self.out_chunks.rest(), last=True))
        return np.concatenate(parts, axis=1) if parts else rows[:, :0]

    def _deliver(self, parts: list[np.ndarray]) -> np.ndarray:
        flat = np.concatenate(parts, axis=1) if parts else np.zeros((self.stems * self.channels, 0), np.float32)
        self.delivered += flat.shape[-1]
        return flat.reshape(self.stems, self.channels, flat.shape[-1])


class _Rechunker:
    """Cut a stream of ``(rows, n)`` blocks into ``(rows, chunk)`` pieces (``chunk=None``: pass blocks on)."""

    def __init__(self, rows: int, chunk: int | None) -> None:
        self.chunk = chunk
        self.buffer = np.zeros((rows, 0), np.float32)

    def split(self, block: np.ndarray) -> list[np.ndarray]:
        block = np.asarray(block, dtype=np.float32)
        if self.chunk is None:
            return [block]
        self.buffer = np.concatenate([self.buffer, block], axis=1)
        whole = self.buffer.shape[1] // self.chunk * self.chunk
        pieces = [self.buffer[:, start:start + self.chunk] for start in range(0, whole, self.chunk)]
        self.buffer = self.buffer[:, whole:]
        return pieces

    def rest(self) -> np.ndarray:
        rest, self.buffer = self.buffer, self.buffer[:, :0]
        return rest


class StreamingSeparator:
    """Separate audio that arrives block by block: push blocks of any size, get stems with a fixed latency.

    The stems are exactly :meth:`Separator.separate`'s for the same signal (same resampling, windows and
    overlap-add, run through the same code), delivered late by :attr:`latency_samples`: after ``N`` input
    samples have been pushed in total, exactly ``max(0, N - latency_samples)`` stem samples have been
    returned; :meth:`flush` returns the rest, so the stems are as long as the input.

    The latency, in samples at ``sample_rate``, is what the model's window needs beyond the newest sample:

    * at the model's rate, ``context_samples - offset - 1 + (batch_size - 1) * hop``, where ``offset`` is the
      left context margin ``(context_samples - target_samples) // 2``: the first sample of a target window
      is final only when its whole context window (the target plus the right margin) has arrived, and a
      batch of ``batch_size`` windows runs together (keep ``batch_size=1`` for the lowest latency);
    * at any other rate, that converted to ``sample_rate`` plus what the two soxr resamplers hold back,
      which the resamplers are fed in fixed chunks of :attr:`CHUNK` samples to make constant (measured once
      per rate pair on silence; counts do not depend on the signal).

    Args:
        model: Keras zoo model or :class:`~sepzoo.engines.Engine`.
        sample_rate: Rate of the pushed audio and of the stems, Hz (default the model's).
        channels: Channels of the pushed audio (1 or 2, mapped onto the model as :class:`Separator` does).
        overlap, batch_size, stems, segment_samples: as for :class:`Separator`.

    Example:
        >>> streamer = sepzoo.stream("lightweight_aspp", sample_rate=44100)  # doctest: +SKIP
        >>> for block in microphone_blocks:  # (1, n) float32, any n  # doctest: +SKIP
        ...     play(streamer.push(block)["drums"])
        >>> tail = streamer.flush()  # doctest: +SKIP
    """

    CHUNK = 256
    """Samples per resampler call when the input rate differs from the model's."""

    def __init__(self, model: SeparationModel | Engine, sample_rate: int | None = None, *, channels: int = 1,
                 overlap: float = 0.25, batch_size: int = 1, stems: Mapping[str, Sequence[str]] | None = None,
                 segment_samples: int | None = None) -> None:
        self.separator = Separator(model, segment_samples=segment_samples, overlap=overlap, batch_size=batch_size,
                                   stems=stems)
        self.sample_rate = check_output_rate(model.sample_rate if sample_rate is None else sample_rate)
        self.channels = int(channels)
        self.separator.check_channels(self.channels)
        self.latency_samples = _stream_latency(self.separator, self.sample_rate, self.CHUNK)
        self._pipeline = _Pipeline(self.separator, self.channels, self.sample_rate, self.sample_rate,
                                   chunk=self.CHUNK)
        self._ready = np.zeros((len(self.sources), self.channels, 0), np.float32)
        self.received = 0
        """Input samples pushed so far."""
        self.returned = 0
        """Stem samples returned so far."""
        self._flushed = False

    @property
    def sources(self) -> tuple[str, ...]:
        """Names of the output stems."""
        return self.separator.sources

    @property
    def latency_seconds(self) -> float:
        """:attr:`latency_samples` in seconds."""
        return self.latency_samples / self.sample_rate

    def push(self, block: np.ndarray) -> dict[str, np.ndarray]:
        """Add float ``(channels, n)`` audio (any n >= 0); return stem name -> float32 ``(channels, m)``, the
        stem samples now due (``m`` keeps the total exactly ``latency_samples`` behind the input)."""
        return dict(zip(self.sources, self._push(block)))

    def flush(self) -> dict[str, np.ndarray]:
        """End the input; return the remaining ``latency_samples`` (or fewer) of every stem. Use a new
        StreamingSeparator for the next signal."""
        return dict(zip(self.sources, self._flush()))

    def separate_file(self, in_path: str | os.PathLike, out_dir: str | os.PathLike, *, format: str = "wav",
                      block_samples: int = 4096, plot: bool = False) -> dict[str, Path]:
        """Stream a file through :meth:`push` ``block_samples`` frames at a time into
        ``out_dir/<input stem>/<source>.<format>``, as :meth:`Separator.separate_file` writes it."""
        info = audio_info(in_path)
        if (info.sample_rate, info.channels) != (self.sample_rate, self.channels):
            raise ConfigError(f"{info.path}: {info.channels} channels at {info.sample_rate} Hz, but this stream "
                              f"takes {self.channels} at {self.sample_rate} Hz; make a StreamingSeparator for it")
        stems = (*(self._push(block) for block in iter_blocks(info.path, block_samples)), self._flush())
        return _write_stems(iter(stems), self.sources, info.path, info.channels, out_dir, format,
                            self.sample_rate, plot)

    def _push(self, block: np.ndarray) -> np.ndarray:
        if self._flushed:
            raise ConfigError("stream: already flushed; make a new StreamingSeparator for the next signal")
        block = np.asarray(block, dtype=np.float32)
        if block.ndim != 2 or block.shape[0] != self.channels:
            raise ConfigError(f"block of shape {block.shape}: expected ({self.channels}, samples) float audio")
        if not np.isfinite(block).all():
            raise ConfigError("block: holds NaN or infinite samples; pass finite audio")
        self.received += block.shape[1]
        self._ready = np.concatenate([self._ready, self._pipeline.push(block)], axis=2)
        due = max(0, self.received - self.latency_samples) - self.returned
        if self._ready.shape[-1] < due:  # the latency bound failed: a bug, not a user error
            raise RuntimeError(f"stream: {due} samples due but {self._ready.shape[-1]} ready; please report")
        out, self._ready = self._ready[..., :due], self._ready[..., due:]
        self.returned += due
        return out

    def _flush(self) -> np.ndarray:
        if self._flushed:
            raise ConfigError("stream: already flushed; make a new StreamingSeparator for the next signal")
        self._flushed = True
        out = np.concatenate([self._ready, self._pipeline.flush(self.received)], axis=2)
        out = out[..., :self.received - self.returned]
        self._ready = self._ready[..., :0]
        self.returned += out.shape[-1]
        return out


def _stream_latency(separator: Separator, rate: int, chunk: int) -> int:
    """:attr:`StreamingSeparator.latency_samples` for input at ``rate`` Hz (see its docstring)."""
    offset = (separator.segment_samples - separator.target_samples) // 2
    windows = separator.segment_samples - offset - 1 + (separator.batch_size - 1) * separator.hop
    model_rate = separator.model.sample_rate
    if rate == model_rate:
        return windows
    into_model = _resampler_lag(rate, model_rate, chunk)  # model-rate samples
    out_of_model = _resampler_lag(model_rate, rate, chunk)  # samples at rate
    return ceil((into_model + windows) * rate / model_rate + out_of_model) + 1


_LAGS: dict[tuple[int, int, int], float] = {}


def _resampler_lag(from_rate: int, to_rate: int, chunk: int) -> float:
    """Most output samples a soxr stream fed ``chunk`` samples at a time holds back behind its input, over
    every input length (including the partly filled chunk): measured on silence over a warm-up second and
    three periods of the chunk / rate-ratio pattern (capped at a minute), after which it repeats."""
    key = (from_rate, to_rate, chunk)
    if key not in _LAGS:
        period = from_rate // gcd(from_rate, to_rate)
        pattern = chunk * period // gcd(chunk, period)
        total = min(60 * from_rate, from_rate + 3 * pattern)
        stream = StreamResampler(from_rate, to_rate, 1)
        silence = np.zeros((1, chunk), np.float32)
        ratio, produced, worst = to_rate / from_rate, 0, 0.0
        for index in range(-(-total // chunk)):
            worst = max(worst, ((index + 1) * chunk - 1) * ratio - produced)
            produced += stream.process(silence).shape[-1]
        _LAGS[key] = worst
    return _LAGS[key]


def stream(model: str | SeparationModel | Engine = "lightweight_aspp", sample_rate: int | None = None, *,
           weights: str | None = "pretrained", **options) -> StreamingSeparator:
    """A :class:`StreamingSeparator` for a zoo model name (loaded with ``weights``), a model or an engine.

    Args:
        model: Zoo model name, Keras model or :class:`~sepzoo.engines.Engine`.
        sample_rate: Rate of the pushed audio in Hz (default the model's).
        weights: Passed to ``sepzoo.load`` for a name.
        **options: :class:`StreamingSeparator` keywords (channels, overlap, batch_size, stems, segment_samples).
    """
    if isinstance(model, str):
        model = load(model, weights=weights)
    return StreamingSeparator(model, sample_rate, **options)


def _write_stems(stems: Iterator[np.ndarray], sources: Sequence[str], in_path: Path, channels: int,
                 out_dir: str | os.PathLike, format: str, out_rate: int, plot: bool) -> dict[str, Path]:
    """Write ``(sources, channels, m)`` blocks to ``out_dir/<input stem>/<source>.<format>`` atomically.

    Stems go to temporary files renamed into place only once all are complete; on any error the temporary
    files and any folder this call created are removed, and earlier outputs at the same paths stay as they
    were. Returns source name -> written path.
    """
    extension = output_extension(format)
    track_dir = Path(out_dir) / in_path.stem
    created: list[Path] = []
    writers: list[AudioWriter] = []
    try:
        with signals_deferred():  # a signal between creating a folder or temporary and recording it would leak it
            created = make_output_dirs(track_dir)
            for source in sources:
                writers.append(AudioWriter(track_dir / f"{source}.{extension}", out_rate, channels, format))
        for block in stems:
            for writer, stem in zip(writers, block):
                writer.write(stem)
        for writer in writers:
            writer.close()
        if plot:
            _plot(track_dir / "spectrogram.png", in_path, sources, writers, out_rate)
        return {source: writer.commit() for source, writer in zip(sources, writers)}
    except BaseException:
        for writer in writers:
            writer.discard()
        remove_empty_folders(created)
        raise


def _plot(path: Path, in_path: Path, sources: Sequence[str], writers: list[AudioWriter], out_rate: int) -> None:
    """Save the spectrogram figure of the input and the finished (not yet committed) stems."""
    from sepzoo.plot import save_spectrogram_png  # matplotlib loads only when a plot is asked for

    mixture, in_rate = read_audio(in_path)
    stems = {source: read_audio(writer.temp_path)[0] for source, writer in zip(sources, writers)}
    save_spectrogram_png(path, resample(mixture, in_rate, out_rate), stems, out_rate)


def two_stems(sources: Sequence[str], target: str) -> dict[str, list[str]]:
    """Output stems ``target`` and ``no_<target>`` (the sum of every other source) for :class:`Separator`."""
    if target not in sources:
        raise ConfigError(f"two stems around {target!r}: the model's sources are {', '.join(sources)}; pick one")
    return {target: [target], f"no_{target}": [source for source in sources if source != target]}


def parse_stem_groups(items: Sequence[str] | None) -> dict[str, list[str]] | None:
    """Command-line stem groups: ``["rhythm=drums+bass", "harmony=keys+other"]`` ->
    ``{"rhythm": ["drums", "bass"], "harmony": ["keys", "other"]}``; ``None`` for none given.

    Raises:
        ConfigError: an item is not ``NAME=SOURCE+SOURCE...`` or repeats a name.
    """
    if not items:
        return None
    groups: dict[str, list[str]] = {}
    for item in items:
        name, _, members = item.partition("=")
        sources = [source for source in members.split("+") if source]
        if not name or not sources or name in groups:
            raise ConfigError(f"--stems {item!r}: write NAME=SOURCE+SOURCE with a new NAME, "
                              "e.g. rhythm=drums+bass harmony=keys+other")
        groups[name] = sources
    return groups


def _check_stems(model: SeparationModel, stems: Mapping[str, Sequence[str]] | None) -> dict[str, list[str]]:
    """The output stems, one per source by default; raise ConfigError for empty groups or unknown sources."""
    if stems is None:
        return {source: [source] for source in model.sources}
    checked = {}
    for name, members in stems.items():
        members = [members] if isinstance(members, str) else list(members)
        unknown = [member for member in members if member not in model.sources]
        if not members or unknown:
            raise ConfigError(f"stem {name!r}: {', '.join(unknown) or 'no sources'} is not a source of model "
                              f"{model.name}; use some of {', '.join(model.sources)}")
        checked[str(name)] = members
    if not checked:
        raise ConfigError(f"stems: no output stems given; name at least one group of {', '.join(model.sources)}")
    return checked


def _fixed_input_length(model: SeparationModel | Engine) -> bool:
    """Whether the model's graph fixes the window length (its input shape has a known time axis; an engine
    says so in ``fixed_input_length``)."""
    fixed = getattr(model, "fixed_input_length", None)
    return bool(fixed) if fixed is not None else model.inputs[0].shape[1] is not None






def separate(source: str | os.PathLike | np.ndarray, model: str | SeparationModel = "lightweight_aspp",
             sample_rate: int | None = None, *, weights: str | None = "pretrained",
             **separator_options) -> dict[str, np.ndarray]:
    """Separate a file or an array with a zoo model in one call.

    Args:
        source: Path to an audio file, or a float ``(channels, samples)`` array.
        model: Zoo model name (loaded with ``weights``) or a model instance.
        sample_rate: Rate of the array in Hz (required for arrays; files carry their own, so leave it None).
        weights: ``"pretrained"``, None (random initialisation) or a path, passed to ``sepzoo.load``.
        **separator_options: :class:`Separator` keywords (segment_samples, overlap, batch_size, progress,
            stems).

    Returns:
        source name -> float32 ``(channels, samples)`` at the input rate and length.
    """
    if isinstance(source, np.ndarray):
        if sample_rate is None:
            raise ConfigError("sample_rate: required with an array input; pass the array's rate in Hz")
        audio = source
    else:
        if sample_rate is not None:
            raise ConfigError(f"sample_rate={sample_rate}: a file carries its own rate; leave sample_rate None")
        audio, sample_rate = read_audio(source)
    if isinstance(model, str):

        model = load(model, weights=weights)
    return Separator(model, **separator_options).separate(audio, sample_rate)
