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
from pathlib import Path

import numpy as np
from tqdm import tqdm

from sepzoo.audio_io import (
    AudioWriter,
    audio_info,
    check_audio_array,
    check_output_rate,
    iter_blocks,
    output_extension,
    read_audio,
)
from sepzoo.dsp import (
    OverlapAdd,
    StreamResampler,
    overlap_add_window,
    resample,
    resampled_length,
    windows_needed,
)
from sepzoo.errors import ConfigError, OutputError
from sepzoo.models.base import SeparationModel
from sepzoo.zoo import load

BLOCK_SAMPLES = 1 << 16
"""Frames read from a file (or sliced from an array) per step, at the input rate."""


class Separator:
    """Separate audio of any length, rate and channel count (mono or stereo) with a :class:`SeparationModel`.

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
        model: The separation model.
        segment_samples: Input window length in samples at the model rate. Only models built for variable
            input length accept a value other than ``context_samples``.
        overlap: Fraction of the target window shared by neighbouring windows, in [0, 1).
        batch_size: Windows per model call (a stereo input through a mono model gives two items per window).
        progress: Show a tqdm bar over windows on stderr.
        stems: Output stems as sums of the model's sources, e.g. ``two_stems(model.sources, "drums")`` or
            ``{"rhythm": ["drums", "bass"], "harmony": ["keys", "other"]}``; default one stem per source.

    Example:
        >>> separator = Separator(sepzoo.load("lightweight_aspp"))  # doctest: +SKIP
        >>> stems = separator.separate(audio, 44100)  # doctest: +SKIP
        >>> stems["drums"].shape == audio.shape  # doctest: +SKIP
        True
    """

    def __init__(self, model: SeparationModel, *, segment_samples: int | None = None, overlap: float = 0.25,
                 batch_size: int = 8, progress: bool = False,
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
        extension = output_extension(format)
        out_rate = check_output_rate(info.sample_rate if sample_rate is None else sample_rate)
        self.check_channels(info.channels)
        track_dir = Path(out_dir) / info.path.stem
        created = _make_dirs(track_dir)
        writers: list[AudioWriter] = []
        try:
            for source in self.sources:
                writers.append(AudioWriter(track_dir / f"{source}.{extension}", out_rate, info.channels, format))
            blocks = iter_blocks(info.path, BLOCK_SAMPLES)
            for stems in self._stream(blocks, info.channels, info.frames, info.sample_rate, out_rate):
                for writer, stem in zip(writers, stems):
                    writer.write(stem)
            for writer in writers:
                writer.close()
            if plot:
                self._plot(track_dir / "spectrogram.png", info.path, writers, out_rate)
            return {source: writer.commit() for source, writer in zip(self.sources, writers)}
        except BaseException:
            for writer in writers:
                writer.discard()
            for folder in reversed(created):
                _remove_if_empty(folder)
            raise

    def _plot(self, path: Path, in_path: Path, writers: list[AudioWriter], out_rate: int) -> None:
        """Save the spectrogram figure of the input and the finished (not yet committed) stems."""
        from sepzoo.plot import save_spectrogram_png  # matplotlib loads only when a plot is asked for

        mixture, in_rate = read_audio(in_path)
        stems = {source: read_audio(writer.temp_path)[0] for source, writer in zip(self.sources, writers)}
        save_spectrogram_png(path, resample(mixture, in_rate, out_rate), stems, out_rate)

    def _stream(self, blocks: Iterable[np.ndarray], channels: int, in_frames: int, in_rate: int,
                out_rate: int) -> Iterator[np.ndarray]:
        """Run input blocks ``(channels, n)`` at ``in_rate`` through resampling, the model and overlap-add.

        Yields:
            float32 ``(sources, channels, m)`` blocks at ``out_rate``; together ``resampled_length(in_frames,
            in_rate, out_rate)`` samples long.
        """
        self.check_channels(channels)
        model_rate = self.model.sample_rate
        sources = len(self.model.sources)
        rows = len(self.sources) * channels
        wanted = resampled_length(in_frames, in_rate, out_rate)
        to_model = StreamResampler(in_rate, model_rate, channels)
        from_model = StreamResampler(model_rate, out_rate, rows)
        total_windows = self.windows_for(resampled_length(in_frames, in_rate, model_rate))
        with tqdm(total=total_windows, unit="window", disable=not self.progress, leave=False,
                  file=sys.stderr) as bar:
            engine = OverlapAdd(self._predictor(channels, bar), context_samples=self.segment_samples,
                                target_samples=self.target_samples, window=self.window, hop=self.hop,
                                channels=channels, outputs=sources * channels, batch_size=self.batch_size)
            separated = (np.einsum("os,scn->ocn", self._mixing, flat.reshape(sources, channels, flat.shape[-1]))
                         for flat in engine.run(to_model.stream(blocks)))
            delivered = 0
            for flat in from_model.stream(stems.reshape(rows, stems.shape[-1]) for stems in separated):
                stems = flat.reshape(len(self.sources), channels, flat.shape[-1])[..., :wanted - delivered]
                delivered += stems.shape[-1]
                yield stems
            yield np.zeros((len(self.sources), channels, wanted - delivered), np.float32)

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

        def predict(windows: np.ndarray) -> np.ndarray:
            count = len(windows)
            if model_channels == channels:
                batch = windows
            elif model_channels == 1:
                batch = windows.transpose(0, 2, 1).reshape(count * channels, -1, 1)
            else:
                batch = np.repeat(windows, model_channels, axis=2)
            outputs = np.asarray(model.predict_on_batch(batch), dtype=np.float32)
            expected = (len(batch), length, sources * model_channels)
            if outputs.shape != expected:
                raise ConfigError(
                    f"model {model.name}: returned windows of shape {outputs.shape}, expected {expected} from "
                    "its target_samples, sources and channels; fix the model's fields"
                )
            if model_channels == channels:
                targets = outputs.reshape(count, length, sources, channels)
            elif model_channels == 1:
                targets = outputs.reshape(count, channels, length, sources).transpose(0, 2, 3, 1)
            else:
                targets = outputs.reshape(count, length, sources, model_channels).mean(axis=3, keepdims=True)
            bar.update(count)
            return targets.reshape(count, length, sources * channels)

        return predict


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


def _fixed_input_length(model: SeparationModel) -> bool:
    """Whether the model's graph fixes the window length (its input shape has a known time axis)."""
    return model.inputs[0].shape[1] is not None


def _make_dirs(folder: Path) -> list[Path]:
    """Create ``folder`` and missing parents; return those created, outermost first. Raises OutputError."""
    missing = [path for path in (folder, *folder.parents) if not path.exists()][::-1]
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        for path in reversed(missing):
            _remove_if_empty(path)
        raise OutputError(
            f"{folder}: cannot create output folder ({error.strerror or error}); choose a writable output folder"
        ) from None
    return missing


def _remove_if_empty(folder: Path) -> None:
    """Remove ``folder`` if it exists and is empty; keep it otherwise."""
    try:
        folder.rmdir()
    except OSError:
        pass


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
