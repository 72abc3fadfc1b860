"""Stem trees: folders of ``<root>/<track>/<stem>.wav`` plus ``<root>/<track>/mixture.wav``.

That is the layout ``sepzoo render`` writes (``OUTDIR/<split>/<song>/...``, with ``OUTDIR/<split>/render.json``
recording how it was made) and the one MUSDB18-HQ ships (``musdb18hq/{train,test}/<track>/...``, no
``render.json``). ``render.json`` is optional: when present it supplies the stem names and the sample rate;
when absent the stem names come from the caller (or the first track's files) and the rate from the files,
whose headers are all checked to agree.

This module serves such trees three ways:

- :func:`open_stem_tree`: find and check the tracks of one tree (evaluation uses it for its stem trees);
- :class:`StemTreeSource`: chunks of one tree as training examples;
- :class:`StemTrees`: the example source of ``data.kind: stem_tree`` (alias ``cache``), several trees
  interleaved, for training and a fixed validation set.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sepzoo.audio_io import audio_info, read_audio
from sepzoo.data.chunks import ChunkFilter, Example, cut_chunks, random_gains
from sepzoo.data.sources import TRAIN, RegisteredSource, SourceRequest, path_list, register_source
from sepzoo.errors import ConfigError, DataError

MIXTURE = "mixture"
"""File stem of the mixture in a stem tree (``mixture.wav``)."""
RENDER_META = "render.json"
"""Optional file of a tree's root that names its sources, sample rate and channels (``sepzoo render``)."""


def track_folders(root: str | Path) -> list[Path]:
    """The track folders of a tree (those holding a ``mixture.wav``), sorted."""
    root = Path(root)
    return sorted(p for p in root.iterdir() if (p / f"{MIXTURE}.wav").is_file()) if root.is_dir() else []


def stem_names(track: Path) -> list[str]:
    """The stem files of one track folder, by name (without ``.wav``), sorted; the mixture excluded."""
    return sorted(path.stem for path in track.glob("*.wav") if path.stem != MIXTURE)


@dataclass(frozen=True)
class StemTree:
    """The checked tracks of one tree.

    Attributes:
        root: The folder holding the track folders.
        sources: Stem names every track has, in output order.
        sample_rate: Hz (``render.json``'s, else the files'; the first track's when rates may differ).
        channels: Audio channels.
        tracks: Track folders, sorted by name.
        meta: ``render.json``'s contents, or None.
    """

    root: Path
    sources: tuple[str, ...]
    sample_rate: int
    channels: int
    tracks: tuple[Path, ...]
    meta: dict[str, Any] | None = None


def open_stem_tree(root: str | Path, sources: Sequence[str] | None = None, *, check_headers: bool | None = None,
                   one_rate: bool = True) -> StemTree:
    """Find the tracks of the tree at ``root`` and check their files.

    Args:
        root: Folder of ``<track>/mixture.wav`` + ``<track>/<stem>.wav`` folders.
        sources: Stems every track must have; None: ``render.json``'s, else the first track's files.
        check_headers: Check that every stem matches its mixture's rate, channels and length (and, with
            ``one_rate``, that all tracks share one rate and channel count) from the file headers. None
            (default): only when there is no ``render.json``; with one, only that the stem files exist.
        one_rate: Require one sample rate and channel count over all tracks.

    Raises:
        DataError: one line: no tracks, a missing stem file (named), or files that disagree.
    """
    root = Path(root)
    meta_path = root / RENDER_META
    meta = json.loads(meta_path.read_text()) if meta_path.is_file() else None
    tracks = track_folders(root)
    if not tracks:
        raise DataError(f"{root}: no tracks (no <track>/{MIXTURE}.wav{'' if meta else ' and no ' + RENDER_META}); "
                        "render the tree with `sepzoo render` or point at a folder of "
                        f"<track>/<stem>.wav + {MIXTURE}.wav folders")
    if sources is None:
        sources = meta["sources"] if meta and meta.get("sources") else stem_names(tracks[0])
        if not sources:
            raise DataError(f"{tracks[0]}: has {MIXTURE}.wav but no <source>.wav stems; "
                            "re-render the track with its stems")
    sources = tuple(sources)
    if check_headers if check_headers is not None else meta is None:
        first = None
        for track in tracks:
            mixture = check_track_files(track, sources)
            first = first or (track, mixture)
            if one_rate and (mixture.sample_rate, mixture.channels) != (first[1].sample_rate, first[1].channels):
                raise DataError(f"{track / MIXTURE}.wav: {mixture.sample_rate} Hz, {mixture.channels} channel(s) "
                                f"but {first[0] / MIXTURE}.wav has {first[1].sample_rate} Hz, "
                                f"{first[1].channels} channel(s); every track of a tree must share them")
        sample_rate, channels = first[1].sample_rate, first[1].channels
    else:
        for track in tracks:
            for source in sources:
                if not (track / f"{source}.wav").is_file():
                    raise _missing_stem(track / f"{source}.wav", sources)
        if meta is not None:
            sample_rate, channels = int(meta["sample_rate"]), int(meta.get("channels", 1))
        else:
            info = audio_info(tracks[0] / f"{MIXTURE}.wav")
            sample_rate, channels = info.sample_rate, info.channels
    if meta is not None and check_headers and one_rate and sample_rate != int(meta["sample_rate"]):
        raise DataError(f"{tracks[0] / MIXTURE}.wav: {sample_rate} Hz but {meta_path} says {meta['sample_rate']} Hz; "
                        "re-render the tree")
    return StemTree(root, sources, int(sample_rate), int(channels), tuple(tracks), meta)


def check_track_files(track: Path, sources: Sequence[str]):
    """Raise DataError unless every source file exists and matches the mixture's rate, channels and length;
    return the mixture's :func:`~sepzoo.audio_io.audio_info`."""
    mixture = audio_info(track / f"{MIXTURE}.wav")
    for source in sources:
        path = track / f"{source}.wav"
        if not path.is_file():
            raise _missing_stem(path, sources)
        stem = audio_info(path)
        for what, unit, expected, got in (("sample rate", " Hz", mixture.sample_rate, stem.sample_rate),
                                          ("channel count", "", mixture.channels, stem.channels),
                                          ("length", " samples", mixture.frames, stem.frames)):
            if got != expected:
                raise DataError(f"{path}: {what} is {got}{unit} but {MIXTURE}.wav has {expected}{unit}; "
                                "stems and mixture must match, re-render the track")
    return mixture


def _missing_stem(path: Path, sources: Sequence[str]) -> DataError:
    return DataError(f"{path}: missing; every track needs {MIXTURE}.wav and one file per source "
                     f"({', '.join(sources)}); re-render the track or remove its folder")


def read_track(track: Path, sources: Sequence[str]) -> tuple[np.ndarray, dict[str, np.ndarray], int]:
    """``(mixture (channels, samples), {source: (channels, samples)}, sample_rate)`` of one track folder."""
    mixture, sample_rate = read_audio(track / f"{MIXTURE}.wav")
    return mixture, {source: read_stem(track, source) for source in sources}, sample_rate


def read_stem(track: Path, source: str) -> np.ndarray:
    """One stem file of a track as float32 ``(channels, samples)``; one-line DataError if it is missing."""
    path = track / f"{source}.wav"
    if not path.is_file():
        raise DataError(f"{path}: stem file missing; re-render the tree or pass the right sources")
    return read_audio(path)[0]


class StemTreeSource:
    """Examples cut from one stem tree, for training, repeatable validation and tests.

    Each pass visits the tracks in sorted order (or a seeded shuffled order with ``shuffle``) and yields every
    chunk that passes the filter, as ``(mixture (samples, channels), stems (samples, n_sources * channels))``.
    The mixture is recomputed as the sum of the stem files.

    Args:
        split_dir: The tree's root (``OUTDIR/<split>`` of a render, ``musdb18hq/train``, ...).
        sources: stem names in output order; default: those of ``render.json`` (or of the first track).
        chunk_samples: chunk length in samples.
        seed: seed for the grid offset, order, and gains; a pass is identical every time.
        shuffle: shuffle track order and chunks within each track.
        gain_range: per-stem gain U[low, high]; ``None`` (default) serves the stored levels.
        max_chunks_per_piece, silence_db, dominance_db: as in :class:`~sepzoo.data.midi.MidiChunkSource`.
    """

    def __init__(
        self,
        split_dir: str | Path,
        sources: Sequence[str] | None = None,
        chunk_samples: int = 16384,
        *,
        seed: int = 0,
        shuffle: bool = False,
        gain_range: tuple[float, float] | None = None,
        max_chunks_per_piece: int | None = None,
        silence_db: float = -50.0,
        dominance_db: float | None = 20.0,
    ) -> None:
        self.split_dir = Path(split_dir)
        self.tree = open_stem_tree(self.split_dir, sources)
        self.sources = self.tree.sources
        self.channels = self.tree.channels
        self.sample_rate = self.tree.sample_rate
        self.songs = list(self.tree.tracks)
        self.chunk_samples = chunk_samples
        self.seed = seed
        self.shuffle = shuffle
        self.gain_range = gain_range
        self.max_chunks = max_chunks_per_piece
        self.chunk_filter = ChunkFilter(silence_db, dominance_db)

    @property
    def example_shapes(self) -> tuple[tuple[int, int], tuple[int, int]]:
        """``((samples, channels), (samples, n_sources * channels))`` of every example."""
        return (self.chunk_samples, self.channels), (self.chunk_samples, len(self.sources) * self.channels)

    def load_song(self, folder: Path) -> np.ndarray:
        """Stems of one track folder as float32 ``(n_sources, channels, samples)``."""
        return np.stack([read_stem(folder, name) for name in self.sources])

    def __iter__(self) -> Iterator[Example]:
        rng = np.random.default_rng(self.seed)
        order = rng.permutation(len(self.songs)) if self.shuffle else range(len(self.songs))
        for index in order:
            examples = cut_chunks(self.load_song(self.songs[index]), self.chunk_samples, rng, self.chunk_filter,
                                  self.max_chunks)
            if self.shuffle:
                examples = [examples[i] for i in rng.permutation(len(examples))]
            for example in examples:
                yield random_gains(example, rng, self.gain_range) if self.gain_range else example


CachedChunkSource = StemTreeSource
"""The former name of :class:`StemTreeSource` (it read only rendered trees)."""

_CHUNK_OPTIONS = ("shuffle", "gain_range", "max_chunks_per_piece", "silence_db", "dominance_db")


@register_source("stem_tree", aliases=("cache",))
class StemTrees(RegisteredSource):
    """Examples from one or more stem trees, interleaved: ``data.kind: stem_tree``.

    Pass ``k`` opens every tree's split with :class:`StemTreeSource` seeded by ``(seed, k)`` and takes one
    example from each tree in turn until all are spent. ``passes=None`` repeats without end (training, each
    pass in a new order); ``passes=1`` gives one fixed pass (validation).

    Args:
        split_dirs: tree roots (``<tree>/<split>``).
        sources: stem names in output order.
        chunk_samples: example length, samples.
        seed: stream seed.
        passes: number of passes, or None for endless.
        options: keyword arguments of :class:`StemTreeSource` (``shuffle``, ``gain_range``, ...).
        names: how :meth:`describe` names the trees (default: their folder names).
        task: stem task the trees were rendered for, if known (for :meth:`describe`).
    """

    OPTIONS = {
        "paths": "stem trees, relative to the config file: a folder holding <split>/<track>/ folders "
                 "(`sepzoo render -o`, MUSDB18-HQ) or a folder of <track>/ folders itself",
        "validation_paths": "stem trees of the validation split when they differ from paths",
        "task": "stem task the trees were rendered for, e.g. midi4 (recorded in the model card)",
        "shuffle": "shuffle tracks and their chunks (default true for training)",
        "gain_range": "per-stem gain range [low, high] of training examples (default [0.7, 1.0]; none = off)",
        "max_chunks_per_piece": "cap on chunks taken from one track per pass (default none)",
        "silence_db": "drop chunks whose mixture is quieter than this, dB (default -50)",
        "dominance_db": "drop chunks where one stem is the mixture but for this many dB (default 20; none = off)",
    }
    NOT_OPTIONS = {"vary_timbre": "re-voices songs as they are rendered, so it needs data.kind midi, not stem_tree; "
                                  "re-voice rendered trees with `sepzoo render --vary-timbre SEED`"}
    REQUIRED = ("paths",)
    PATH_OPTIONS = ("paths", "validation_paths")

    def __init__(self, split_dirs: list[Path], sources: Sequence[str], chunk_samples: int, seed: int,
                 passes: int | None, options: dict[str, Any], names: Sequence[str] | None = None,
                 task: str | None = None):
        self.trees = [StemTreeSource(d, sources, chunk_samples, seed=seed, **options) for d in split_dirs]
        self.split_dirs, self.seed, self.passes, self.options = split_dirs, seed, passes, options
        self.names = list(names or [d.name for d in split_dirs])
        self.task = task
        self.sources = self.trees[0].sources
        self.sample_rate, self.channels = self.trees[0].sample_rate, self.trees[0].channels
        self.example_shapes = self.trees[0].example_shapes
        self.paths = [song for tree in self.trees for song in tree.songs]

    @classmethod
    def option_problems(cls, options) -> list[str]:
        """Bad values of known options, one line each."""
        problems = super().option_problems(options)
        gains = options.get("gain_range")
        if gains is not None and not (isinstance(gains, (list, tuple)) and len(gains) == 2
                                      and all(isinstance(g, (int, float)) for g in gains)):
            problems.append(f"gain_range: {gains!r} is not allowed; expected [low, high] or none")
        cap = options.get("max_chunks_per_piece")
        if cap is not None and (isinstance(cap, bool) or not isinstance(cap, int) or cap < 1):
            problems.append(f"max_chunks_per_piece: {cap!r} is not allowed; expected an integer >= 1 or none")
        if "task" in options and not isinstance(options["task"], str):
            problems.append(f"task: {options['task']!r} is not allowed; expected a task name such as midi4")
        return problems

    @classmethod
    def from_options(cls, request: SourceRequest, options: dict[str, Any]) -> StemTrees:
        """The trees of ``options["paths"]`` (validation: ``validation_paths`` if given) for ``request.split``."""
        key = "validation_paths" if request.split != TRAIN and options.get("validation_paths") else "paths"
        given = path_list(options[key])
        split_dirs = []
        for path in given:
            root = request.resolve(path)
            split_dir = root / request.split
            if not track_folders(split_dir) and track_folders(root):
                split_dir = root  # the path is a tree of tracks itself (e.g. musdb18hq/test as validation)
            if not track_folders(split_dir):
                raise ConfigError(f"data.options.{key}: {split_dir} is not a stem tree (no <track>/{MIXTURE}.wav); "
                                  f"render it with `sepzoo render ... --split {request.split}` or name a folder of "
                                  f"<track>/<stem>.wav + {MIXTURE}.wav folders")
            split_dirs.append(split_dir)
        chunk_options = {k: options[k] for k in _CHUNK_OPTIONS if k in options}
        if chunk_options.get("gain_range") is not None:
            chunk_options["gain_range"] = tuple(chunk_options["gain_range"])
        names = [_tree_name(request.portable(d), d) for d in split_dirs]
        if request.split == TRAIN:
            trees = cls(split_dirs, request.sources, request.example_samples, request.seed, None,
                        {"shuffle": True, "gain_range": (0.7, 1.0), **chunk_options}, names, options.get("task"))
        else:
            spread = _spread_over_songs(split_dirs, request.validation_examples, chunk_options.get("max_chunks_per_piece"))
            trees = cls(split_dirs, request.sources, request.example_samples, request.seed, 1,
                        {**chunk_options, **spread}, names, options.get("task"))
        for tree, name in zip(trees.trees, names):
            if (tree.sample_rate, tree.channels) != (request.sample_rate, request.channels):
                raise ConfigError(f"data.sample_rate: {request.sample_rate} Hz, {request.channels} channel(s) but "
                                  f"the stem tree {name} holds {tree.sample_rate} Hz, {tree.channels} channel(s); "
                                  "set data.sample_rate and data.channels to the tree's")
        return trees

    def describe(self) -> str:
        """One line for a model card's training-data field (trees named relative to the corpus)."""
        task = f", task {self.task}" if self.task else ""
        return (f"stem trees {', '.join(self.names)}: {len(self.paths)} tracks{task}, {self.sample_rate} Hz, "
                f"{self.channels} channel(s)")

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        for k in itertools.count() if self.passes is None else range(self.passes):
            for tree in self.trees:
                tree.seed = int(np.random.SeedSequence([self.seed, k]).generate_state(1)[0])
            streams = [iter(tree) for tree in self.trees]
            while streams:
                for stream in list(streams):
                    example = next(stream, None)
                    if example is None:
                        streams.remove(stream)
                    else:
                        yield example


def _spread_over_songs(split_dirs: list[Path], examples: int, cap: int | None) -> dict[str, Any]:
    """Options that make the first ``examples`` of a fixed pass span every track it can.

    Tracks are visited in a seeded shuffled order and each gives at most its share of the examples (more of
    them when there are fewer tracks than examples), instead of every chunk of the first few tracks.
    """
    songs = sum(len(track_folders(d)) for d in split_dirs)
    share = max(1, math.ceil(examples / max(songs, 1)))
    return {"shuffle": True, "max_chunks_per_piece": min(share, cap) if cap else share}


def _tree_name(portable: str, split_dir: Path) -> str:
    """How a model card names a split folder: its portable path, with the tree's name in front when that path
    is only the split's own name (``timgm_freedoom/train``, not ``train``)."""
    if "/" in portable or split_dir.parent.name in ("", "/"):
        return portable
    return f"{split_dir.parent.name}/{portable}"
