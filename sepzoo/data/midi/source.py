"""Unlimited training examples synthesised from MIDI files: render in worker processes, chunk, pool, augment.

Example::

    source = MidiChunkSource("../shared/data/midi", task="midi4", split="train", workers=2, repeat=True)
    dataset = make_tf_dataset(source, batch_size=16)   # sepzoo.data.pipeline
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sepzoo.data.chunks import ChunkFilter, Example, cut_chunks, random_gains
from sepzoo.data.midi.chunk_pool import ChunkPool, pooled
from sepzoo.data.midi.parallel import ordered_map
from sepzoo.data.midi.render import get_renderer, group_instruments, load_midi
from sepzoo.data.midi.soundfonts import find_soundfont
from sepzoo.data.midi.splits import files_in_split, list_midi_files
from sepzoo.data.midi.stem_tasks import StemTask, get_task
from sepzoo.data.midi.timbre import vary_programs
from sepzoo.data.sources import TRAIN, RegisteredSource, SourceRequest, path_list, register_source
from sepzoo.errors import ConfigError, DataError

log = logging.getLogger("sepzoo.data")


@dataclass(frozen=True)
class SongSettings:
    """Everything a worker needs to turn one MIDI file into examples (picklable)."""

    task: StemTask
    sample_rate: int
    channels: int
    soundfont: str
    chunk_samples: int
    chunk_filter: ChunkFilter
    max_chunks: int | None
    vary_timbre: bool = False


@dataclass
class SongChunks:
    """What a worker returns for one MIDI file.

    Attributes:
        path: the MIDI file.
        examples: the chunks kept, as examples.
        seconds: length of the rendered song in seconds (0 when skipped).
        cpu_seconds: CPU time the worker spent parsing, rendering and cutting this song.
        skipped: ``None``, ``"unreadable"`` or ``"too_few_targets"``.
        reason: the one-line reason for a skip.
    """

    path: str
    examples: list[Example]
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    skipped: str | None = None
    reason: str = ""


def chunk_song(job: tuple[str, int, SongSettings]) -> SongChunks:
    """Render one MIDI file (path, seed, settings) and cut it into filtered chunks; never raises for bad files."""
    path, seed, settings = job
    started = time.process_time()
    try:
        midi = load_midi(path)
    except DataError as error:
        return SongChunks(path, [], skipped="unreadable", reason=str(error))
    sounding = sum(bool(group) for group in group_instruments(midi, settings.task))
    if sounding < settings.task.min_targets:
        reason = f"{path}: {sounding} of the task's stems play, {settings.task.min_targets} needed"
        return SongChunks(path, [], skipped="too_few_targets", reason=reason)
    if settings.vary_timbre:  # its own stream, so the chunks cut are the same with and without
        vary_programs(midi, settings.task, np.random.default_rng([seed, 1]))
    renderer = get_renderer(settings.soundfont, settings.sample_rate, settings.channels)
    try:
        stems = renderer.render_task(midi, settings.task)
    except Exception as error:  # a file pretty_midi parsed but FluidSynth chokes on is skipped, not fatal
        return SongChunks(path, [], skipped="unreadable", reason=f"{path}: rendering failed ({error})")
    rng = np.random.default_rng(seed)
    examples = cut_chunks(stems, settings.chunk_samples, rng, settings.chunk_filter, settings.max_chunks)
    seconds = stems.shape[-1] / settings.sample_rate
    return SongChunks(path, examples, seconds=seconds, cpu_seconds=time.process_time() - started)


@register_source("midi")
class MidiChunkSource(RegisteredSource):
    """An iterable of examples ``(mixture (samples, channels), stems (samples, n_sources * channels))``.

    Each iteration is one pass over the split's songs in a seeded random order: workers render songs and cut
    chunks, a :class:`ChunkPool` mixes chunks from many songs, and each served chunk gets its own random
    per-stem gains. Songs are handed out and collected in order, so the examples depend only on ``seed``
    (and the pass number), never on the number of workers or their timing.

    Args:
        midi_paths: a folder searched recursively, or a list of MIDI files.
        task: stem task name or :class:`StemTask` (``"midi4"``, ``"fixed4"``, ...).
        split: ``"train"``, ``"validation"``, ``"test"`` (by :func:`split_of`) or ``None`` for every file.
        sample_rate: Hz.
        chunk_samples: chunk length in samples; or give ``chunk_ms`` instead.
        chunk_ms: chunk length in milliseconds (overrides ``chunk_samples``).
        channels: 1 (mono) or 2.
        soundfont: ``.sf2`` path or name; ``None`` = TimGM6mb from pretty_midi.
        seed: random seed for song order, chunk choice, pool draws and gains.
        pool_size: examples held in the shuffling pool.
        reuse_factor: each chunk is served up to this many times.
        max_chunks_per_piece: cap on chunks taken from one song per pass (``None`` = no cap).
        gain_range: per-stem gain U[low, high]; ``None`` disables augmentation (use for evaluation).
        vary_timbre: re-voice each song before rendering with random programs of the same GM families and
            stems and a random drum kit (:func:`~sepzoo.data.midi.timbre.vary_programs`); a song sounds different
            every time it is rendered.
        silence_db, dominance_db: chunk filter thresholds, see :class:`ChunkFilter`.
        workers: rendering processes (0 = render in this process).
        repeat: loop over the songs forever (a new order each loop).
        fresh_each_pass: a new iteration of the source uses new random draws (``False`` repeats the first).

    As ``data.kind: midi`` its options (``data.options``) are ``paths`` (MIDI folders or files, relative to
    the config file) and the keyword arguments in :attr:`OPTIONS`; validation serves fixed examples without
    gain augmentation or re-voicing.
    """

    OPTIONS = {
        "paths": "MIDI folders (searched recursively) or files, relative to the config file",
        "task": "stem task, e.g. midi4 (default)",
        "reuse_factor": "times a rendered chunk may be served (default 1)",
        "vary_timbre": "re-voice training songs with other programs of the same GM families and random drum "
                       "kits as they are rendered (default false)",
        "soundfont": ".sf2 path or name, or a TiMidity++ .cfg (default TimGM6mb)",
        "pool_size": "examples held in the shuffling pool (default 256)",
        "max_chunks_per_piece": "cap on chunks taken from one song per pass (default 32; none = no cap)",
        "gain_range": "per-stem gain range [low, high] of training examples (default [0.7, 1.0]; none = off)",
        "silence_db": "drop chunks whose mixture is quieter than this, dB (default -50)",
        "dominance_db": "drop chunks where one stem is the mixture but for this many dB (default 20; none = off)",
        "workers": "rendering processes (default 0 = in the training process)",
        "fresh_each_pass": "a new pass over the source draws new chunks (default true for training)",
    }
    REQUIRED = ("paths",)
    PATH_OPTIONS = ("paths",)

    def __init__(
        self,
        midi_paths: str | Path | Sequence[str | Path],
        task: str | StemTask = "midi4",
        split: str | None = "train",
        sample_rate: int = 22050,
        chunk_samples: int = 16384,
        *,
        chunk_ms: float | None = None,
        channels: int = 1,
        soundfont: str | Path | None = None,
        seed: int = 0,
        pool_size: int = 256,
        reuse_factor: int = 1,
        max_chunks_per_piece: int | None = 32,
        gain_range: tuple[float, float] | None = (0.7, 1.0),
        vary_timbre: bool = False,
        silence_db: float = -50.0,
        dominance_db: float | None = 20.0,
        workers: int = 0,
        repeat: bool = False,
        fresh_each_pass: bool = True,
    ) -> None:
        paths = list_midi_files(midi_paths) if isinstance(midi_paths, (str, Path)) else [Path(p) for p in midi_paths]
        self.paths = files_in_split(paths, split)
        if not self.paths:
            raise DataError(f"{midi_paths}: no MIDI files in split {split!r}; check the folder or pass split=None")
        if chunk_ms is not None:
            chunk_samples = int(round(chunk_ms * sample_rate / 1000))
        if chunk_samples < 1 or workers < 0:
            raise ConfigError(f"chunk_samples={chunk_samples} must be >= 1 and workers={workers} >= 0")
        self.task = get_task(task)
        self.settings = SongSettings(
            task=self.task,
            sample_rate=int(sample_rate),
            channels=int(channels),
            soundfont=str(find_soundfont(soundfont)),
            chunk_samples=int(chunk_samples),
            chunk_filter=ChunkFilter(silence_db, dominance_db),
            max_chunks=max_chunks_per_piece,
            vary_timbre=bool(vary_timbre),
        )
        self.seed = seed
        self.pool_size = pool_size
        self.reuse_factor = reuse_factor
        self.gain_range = gain_range
        self.workers = workers
        self.repeat = repeat
        self.fresh_each_pass = fresh_each_pass
        self.split = split
        self.stats: Counter = Counter()
        self._passes = 0
        named = [midi_paths] if isinstance(midi_paths, (str, Path)) else sorted({Path(p).parent for p in midi_paths})
        self.corpus = [Path(p).name for p in named]
        """Folders the songs come from, as :meth:`describe` names them (no absolute paths)."""

    @classmethod
    def option_problems(cls, options) -> list[str]:
        """Bad values of known options, one line each."""
        problems = super().option_problems(options)
        if "task" in options:
            try:
                get_task(options["task"])
            except ConfigError as error:
                problems.append(f"task: {error}")
        for key, least in (("reuse_factor", 1), ("pool_size", 1), ("workers", 0), ("max_chunks_per_piece", 1)):
            value = options.get(key)
            if key in options and not (value is None and key == "max_chunks_per_piece") and (
                    isinstance(value, bool) or not isinstance(value, int) or value < least):
                problems.append(f"{key}: {value!r} is not allowed; expected an integer >= {least}")
        for key in ("vary_timbre", "fresh_each_pass"):
            if key in options and not isinstance(options[key], bool):
                problems.append(f"{key}: {options[key]!r} is not allowed; expected true or false")
        gains = options.get("gain_range")
        if gains is not None and not (isinstance(gains, (list, tuple)) and len(gains) == 2
                                      and all(isinstance(g, (int, float)) for g in gains)):
            problems.append(f"gain_range: {gains!r} is not allowed; expected [low, high] or none")
        return problems

    @classmethod
    def from_options(cls, request: SourceRequest, options: dict) -> MidiChunkSource:
        """Live rendering of the MIDI files under ``options["paths"]`` for ``request.split``."""
        given = path_list(options["paths"])
        paths = [request.resolve(p) for p in given]
        missing = [str(p) for p in paths if not p.exists()]
        if missing:
            raise ConfigError(f"data.options.paths: {', '.join(missing)} not found; "
                              "paths are relative to the config file")
        files = [f for p in paths for f in (list_midi_files(p) if p.is_dir() else [p])]
        kwargs = {key: value for key, value in options.items() if key != "paths"}
        kwargs["task"] = kwargs.get("task") or "midi4"
        kwargs["vary_timbre"] = bool(kwargs.get("vary_timbre")) and request.split == TRAIN
        if kwargs.get("gain_range") is not None:
            kwargs["gain_range"] = tuple(kwargs["gain_range"])
        # Validation serves the same examples every epoch, without gain augmentation.
        per_split = {} if request.split == TRAIN else {"gain_range": None, "fresh_each_pass": False}
        source = cls(files, split=request.split, sample_rate=request.sample_rate,
                     chunk_samples=request.example_samples, channels=request.channels, seed=request.seed,
                     repeat=True, **{**per_split, **kwargs})
        source.corpus = [request.portable(p) for p in given]
        return source

    def describe(self) -> str:
        """One line for a model card's training-data field (folders named relative to the corpus)."""
        settings = self.settings
        text = (f"MIDI rendered live: {len(self.paths)} files of the {self.split or 'whole'} split from "
                f"{', '.join(self.corpus)}, task {self.task.name}, soundfont {Path(settings.soundfont).name}, "
                f"{settings.sample_rate} Hz, {settings.channels} channel(s), reuse factor {self.reuse_factor}")
        if settings.vary_timbre:
            text += "; songs re-voiced with random programs of their GM families"
        return text

    @property
    def sources(self) -> tuple[str, ...]:
        """Source names, in stem column order."""
        return self.task.sources

    @property
    def example_shapes(self) -> tuple[tuple[int, int], tuple[int, int]]:
        """``((samples, channels), (samples, n_sources * channels))`` of every example."""
        samples, channels = self.settings.chunk_samples, self.settings.channels
        return (samples, channels), (samples, len(self.sources) * channels)

    def __iter__(self) -> Iterator[Example]:
        pass_index = self._passes if self.fresh_each_pass else 0
        self._passes += 1
        rng = np.random.default_rng([self.seed, pass_index])
        pool = ChunkPool(self.pool_size, self.reuse_factor, rng)
        for example in pooled(self._song_examples(pass_index), pool):
            yield random_gains(example, rng, self.gain_range) if self.gain_range else example

    def _jobs(self, pass_index: int) -> Iterator[tuple[str, int, SongSettings]]:
        loop = 0
        while loop == 0 or self.repeat:
            order_rng = np.random.default_rng([self.seed, pass_index, loop])
            for index in order_rng.permutation(len(self.paths)):
                yield str(self.paths[index]), int(order_rng.integers(2**63)), self.settings
            loop += 1

    def _song_examples(self, pass_index: int) -> Iterator[Example]:
        for song in ordered_map(chunk_song, self._jobs(pass_index), self.workers):
            if song.skipped:
                self.stats[song.skipped] += 1
                log.warning("skipped %s", song.reason)
                continue
            self.stats["songs"] += 1
            self.stats["chunks"] += len(song.examples)
            self.stats["audio_seconds"] += song.seconds * (len(self.sources) + 1)
            self.stats["render_cpu_seconds"] += song.cpu_seconds
            yield from song.examples
