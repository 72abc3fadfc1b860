"""MUSDB18 and MUSDB18-HQ as training examples: ``data.kind: musdb``, with extra stem folders mixed in.

Two layouts of one corpus (Rafii et al., 2017: 100 train + 50 test tracks, 44.1 kHz stereo):

- MUSDB18: ``ROOT/{train,test}/<track>.stem.mp4``, five AAC streams in the order mixture, drums, bass,
  other, vocals (:data:`STREAM_ORDER`). All stems of a track come out of one ``ffmpeg`` call that merges the
  streams (``amerge``) into one float32 pipe; the ``musdb``/``stempeg`` packages are not needed.
- MUSDB18-HQ: ``ROOT/{train,test}/<track>/{mixture,drums,bass,other,vocals}.wav``, read with soundfile
  through :mod:`sepzoo.data.stem_tree` (the reader of every ``<track>/<stem>.wav`` tree).

Splits: ``train`` and ``validation`` come from the ``train`` folder, either the official 86 / 14 split
(:data:`OFFICIAL_VALIDATION`, the list the ``musdb`` package ships in ``configs/mus.yaml``) or a seeded random
75 / 25 split (the seed paper's); ``test`` is the ``test`` folder (50 tracks).

Targets are ``data.sources``: any of ``drums``, ``bass``, ``other``, ``vocals`` and ``accompaniment``
(= drums + bass + other, :data:`TARGET_PARTS`) that together hold every stem once, so the mixture is their sum.
Training examples are random windows of random tracks; each target is scaled by its own gain from
U[0.7, 1.0] and the mixture is the sum of the scaled targets (the seed's recipe; MUSDB18's own mixture stream is
not used for training). Mono is the mean of the two channels; audio is resampled to ``data.sample_rate`` with
soxr once per track, when it is decoded.

Decoded tracks (at the model's rate and channel count) are kept in a :class:`MemoryTrackCache` (an LRU bounded
in bytes) or written once to a :class:`DiskTrackCache` folder of ``.npy`` files that later passes memory-map, so
an epoch does not decode AAC again.

Extra folders (``extra_paths``, e.g. CCMixter as ``<track>/{vocals,accompaniment}.wav``) hold any subset of the
targets or of their parts per track; a missing one is silent. A share ``extra_weight`` of training examples is
drawn from them.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import subprocess
import tempfile
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from sepzoo.audio_io import audio_info
from sepzoo.data.augment import random_channel_swap, random_sign_flip
from sepzoo.data.chunks import ChunkFilter, Example, random_gains, to_example
from sepzoo.data.sources import (TEST, TRAIN, VALIDATION, RegisteredSource, SourceRequest, path_list,
                                 register_source)
from sepzoo.data.stem_tree import MIXTURE, open_stem_tree, read_stem, track_folders
from sepzoo.dsp import resample
from sepzoo.errors import ConfigError, DataError

STREAM_ORDER = ("mixture", "drums", "bass", "other", "vocals")
"""Audio streams of a MUSDB18 ``.stem.mp4``, in file order (the NI Stems order)."""
STEMS = STREAM_ORDER[1:]
"""The four MUSDB18 stems; they sum to the mixture."""
TARGET_PARTS: dict[str, tuple[str, ...]] = {
    "drums": ("drums",), "bass": ("bass",), "other": ("other",), "vocals": ("vocals",),
    "accompaniment": ("drums", "bass", "other"),
}
"""Target name -> the MUSDB18 stems it sums. A new target is one entry here."""
OFFICIAL_VALIDATION = (
    "Actions - One Minute Smile", "Clara Berry And Wooldog - Waltz For My Victims",
    "Johnny Lokke - Promises & Lies", "Patrick Talbot - A Reason To Leave", "Triviul - Angelsaint",
    "Alexander Ross - Goodbye Bolero", "Fergessen - Nos Palpitants", "Leaf - Summerghost",
    "Skelpolu - Human Mistakes", "Young Griffo - Pennies", "ANiMAL - Rockshow", "James May - On The Line",
    "Meaxic - Take A Step", "Traffic Experiment - Sirens",
)
"""The 14 tracks of MUSDB18's ``train`` folder in the official validation split (``musdb`` 0.4,
``configs/mus.yaml``, ``validation_tracks``); the other 86 are the training split."""
RANDOM_VALIDATION_SHARE = 0.25
"""Share of the ``train`` folder's tracks that the seeded random split holds out (75 / 25 of 100)."""
STEM_MP4 = ".stem.mp4"
_GIB = 1 << 30


# ---------------------------------------------------------------------------------------------------------
# Tracks: where they are and how to decode them.


@dataclass(frozen=True)
class TrackRef:
    """One track on disk, not yet decoded.

    Attributes:
        name: Track name (file name without ``.stem.mp4``, or folder name).
        location: The ``.stem.mp4`` file or the track folder.
        parts: Names of the waveforms :attr:`decode` returns, in order (MUSDB18: :data:`STEMS`; an extra
            folder: the target or stem files it has).
        decode: ``decode() -> (audio float32 (n_parts, channels, samples), sample_rate Hz)``.
    """

    name: str
    location: Path
    parts: tuple[str, ...]
    decode: Callable[[], tuple[np.ndarray, int]]

    def cache_key(self, sample_rate: int, channels: int) -> str:
        """A key that changes when the file, the parts, the rate or the channel count change."""
        status = self.location.stat()
        return json.dumps([str(self.location.resolve()), status.st_mtime_ns, status.st_size, list(self.parts),
                           sample_rate, channels])


def stem_mp4_streams(path: Path) -> list[tuple[int, int]]:
    """``(sample_rate Hz, channels)`` of every audio stream of ``path`` (``ffprobe``); one-line DataError if it
    cannot be probed."""
    command = ["ffprobe", "-v", "error", "-select_streams", "a", "-show_entries", "stream=sample_rate,channels",
               "-of", "json", str(path)]
    try:
        result = subprocess.run(command, capture_output=True, timeout=60)
    except FileNotFoundError:
        raise DataError(f"{path}: reading MUSDB18 .stem.mp4 needs FFmpeg (ffprobe), which is not installed; "
                        "install it (`apt-get install ffmpeg`) or use MUSDB18-HQ WAV folders") from None
    try:
        streams = json.loads(result.stdout or b"{}").get("streams", []) if result.returncode == 0 else []
    except ValueError:
        streams = []
    if not streams:
        raise DataError(f"{path}: not a readable MP4 stem file (ffprobe found no audio stream); "
                        "re-download the track or convert MUSDB18 to MUSDB18-HQ WAV folders")
    return [(int(s.get("sample_rate") or 0), int(s.get("channels") or 0)) for s in streams]


def decode_stem_mp4(path: str | os.PathLike, streams: Sequence[int] = (1, 2, 3, 4)) -> tuple[np.ndarray, int]:
    """Decode audio streams of a MUSDB18 ``.stem.mp4`` with one ``ffmpeg`` call.

    Args:
        path: The ``.stem.mp4`` file.
        streams: Stream indices in :data:`STREAM_ORDER` (0 = mixture, 1..4 = drums, bass, other, vocals).

    Returns:
        ``(audio float32 (len(streams), channels, samples), sample_rate Hz)``; samples = the shortest stream's.

    Raises:
        DataError: ffmpeg missing, fewer streams than asked for, streams of different rates or channel counts,
            or a decoding failure (one line each).
    """
    path = Path(path)
    found = stem_mp4_streams(path)
    if max(streams) >= len(found):
        raise DataError(f"{path}: {len(found)} audio stream(s) but a MUSDB18 stem file has "
                        f"{len(STREAM_ORDER)} ({', '.join(STREAM_ORDER)}); re-download the track")
    layouts = {found[i] for i in streams}
    if len(layouts) != 1:
        raise DataError(f"{path}: its streams differ in sample rate or channel count ({sorted(layouts)}); "
                        "re-download the track")
    sample_rate, channels = layouts.pop()
    inputs = "".join(f"[0:a:{i}]" for i in streams)
    mapping = (["-filter_complex", f"{inputs}amerge=inputs={len(streams)}[merged]", "-map", "[merged]"]
               if len(streams) > 1 else ["-map", f"0:a:{streams[0]}"])
    command = ["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), *mapping, "-f", "f32le", "-acodec",
               "pcm_f32le", "-"]
    result = subprocess.run(command, capture_output=True)
    if result.returncode != 0:
        reason = (result.stderr.decode("utf-8", "replace").strip().splitlines() or ["ffmpeg failed"])[0]
        raise DataError(f"{path}: cannot decode its audio streams ({reason}); re-download the track")
    audio = np.frombuffer(result.stdout, dtype=np.float32).reshape(-1, len(streams), channels)
    return np.ascontiguousarray(audio.transpose(1, 2, 0)), sample_rate


def decode_stem_folder(folder: Path, parts: Sequence[str]) -> tuple[np.ndarray, int]:
    """``<folder>/<part>.wav`` of every part as float32 ``(n_parts, channels, samples)`` and its rate in Hz.

    Files of one track must share rate and channel count; they are cut to the shortest (an extra folder's
    stems may differ by a few samples)."""
    waves = [read_stem(folder, part) for part in parts]
    infos = [audio_info(folder / f"{part}.wav") for part in parts]
    if len({(i.sample_rate, i.channels) for i in infos}) != 1:
        raise DataError(f"{folder}: its stem files differ in sample rate or channel count; re-export them alike")
    samples = min(w.shape[1] for w in waves)
    return np.stack([w[:, :samples] for w in waves]), infos[0].sample_rate


def musdb_subset(root: Path, subset: str, parts: Sequence[str] = STEMS) -> list[TrackRef]:
    """The tracks of ``root/<subset>`` (``train`` or ``test``), sorted by name: ``.stem.mp4`` files, or
    MUSDB18-HQ folders whose headers are checked (every stem present, one rate and length per track).

    ``parts``: the waveforms each track decodes, names of :data:`STREAM_ORDER` (default the four stems; add
    ``mixture`` for MUSDB18's own mix)."""
    folder, parts = root / subset, tuple(parts)
    files = sorted(folder.glob(f"*{STEM_MP4}"))
    if files:
        streams = [STREAM_ORDER.index(part) for part in parts]
        return [TrackRef(f.name[: -len(STEM_MP4)], f, parts, lambda f=f: decode_stem_mp4(f, streams))
                for f in files]
    if track_folders(folder):
        tree = open_stem_tree(folder, STEMS, check_headers=True, one_rate=False)
        return [TrackRef(t.name, t, parts, lambda t=t: decode_stem_folder(t, parts)) for t in tree.tracks]
    raise DataError(f"{folder}: no MUSDB18 tracks (no *{STEM_MP4}, no <track>/{MIXTURE}.wav); point "
                    f"data.options.root at the folder holding MUSDB18's or MUSDB18-HQ's train/ and test/")


def extra_tracks(root: Path, targets: Sequence[str]) -> list[TrackRef]:
    """Tracks of an extra folder ``root/<track>/<name>.wav``: each reads the files named after a target or a
    stem of one (:data:`TARGET_PARTS`); tracks holding none of them are skipped."""
    wanted = list(dict.fromkeys([*targets, *(p for t in targets for p in TARGET_PARTS.get(t, ()))]))
    tracks = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []:
        parts = tuple(name for name in wanted if (folder / f"{name}.wav").is_file())
        if parts:
            tracks.append(TrackRef(folder.name, folder, parts, lambda f=folder, p=parts: decode_stem_folder(f, p)))
    if not tracks:
        raise DataError(f"{root}: no <track>/<source>.wav folders with any of {', '.join(wanted)}; point "
                        "data.options.extra_paths at folders of per-track stem files (e.g. CCMixter as "
                        "<track>/vocals.wav + accompaniment.wav)")
    return tracks


def target_matrix(parts: Sequence[str], targets: Sequence[str]) -> np.ndarray:
    """float32 ``(n_targets, n_parts)``: row ``t`` sums the parts that make target ``t``.

    A target found as a part of its own name is taken as is; otherwise it sums its :data:`TARGET_PARTS` that
    are present; a target with neither is silent (an all-zero row)."""
    matrix = np.zeros((len(targets), len(parts)), dtype=np.float32)
    for row, target in enumerate(targets):
        names = (target,) if target in parts else TARGET_PARTS.get(target, ())
        for name in names:
            if name in parts:
                matrix[row, parts.index(name)] = 1.0
    return matrix


# ---------------------------------------------------------------------------------------------------------
# Splits.


def official_validation(names: Sequence[str], seed: int) -> set[str]:
    """The tracks of the official validation list (:data:`OFFICIAL_VALIDATION`) among ``names``."""
    return set(names) & set(OFFICIAL_VALIDATION)


def random_validation(names: Sequence[str], seed: int) -> set[str]:
    """A seeded random :data:`RANDOM_VALIDATION_SHARE` of ``names`` (at least one, never all)."""
    ordered = sorted(names)
    count = min(max(1, round(len(ordered) * RANDOM_VALIDATION_SHARE)), max(len(ordered) - 1, 0))
    order = np.random.default_rng([seed, 0x75]).permutation(len(ordered))
    return {ordered[i] for i in order[:count]}


VALIDATION_SPLITS: dict[str, Callable[[Sequence[str], int], set[str]]] = {
    "official": official_validation,
    "random": random_validation,
}
"""``validation_split`` option -> ``(train folder's track names, split_seed) -> validation track names``."""


def split_tracks(root: Path, split: str, scheme: str = "official", seed: int = 0,
                 parts: Sequence[str] = STEMS) -> list[TrackRef]:
    """The tracks of ``split`` (``train``, ``validation`` or ``test``) under the MUSDB18(-HQ) ``root``.

    ``train`` and ``validation`` partition the ``train`` folder by ``VALIDATION_SPLITS[scheme]``; ``test`` is
    the ``test`` folder. ``parts``: as in :func:`musdb_subset`.

    Raises:
        DataError: ``root`` lacks the folder, holds no tracks, or the split comes out empty.
    """
    subset = "test" if split == TEST else "train"
    if not (root / subset).is_dir():
        raise DataError(f"{root}: no {subset}/ folder; data.options.root must be the MUSDB18 or MUSDB18-HQ folder "
                        "that holds train/ and test/ (e.g. ~/data/musdb18hq)")
    tracks = musdb_subset(root, subset, parts)
    if split == TEST:
        return tracks
    held_out = VALIDATION_SPLITS[scheme]([t.name for t in tracks], seed)
    chosen = [t for t in tracks if (t.name in held_out) == (split == VALIDATION)]
    if not chosen:
        raise DataError(f"{root / subset}: the {scheme} split leaves no {split} track; use "
                        "data.options.validation_split: random for a corpus without MUSDB18's track names")
    return chosen


# ---------------------------------------------------------------------------------------------------------
# Decoded-track caches.


def prepare_track(track: TrackRef, sample_rate: int, channels: int) -> np.ndarray:
    """Decode ``track`` and bring it to ``sample_rate`` Hz and ``channels`` (mono = mean of the channels).

    Returns:
        float32 ``(n_parts, channels, samples)``, C-contiguous.
    """
    audio, rate = track.decode()
    if audio.shape[1] != channels:
        if channels == 1:
            audio = audio.mean(axis=1, keepdims=True)
        elif audio.shape[1] == 1:
            audio = np.repeat(audio, channels, axis=1)
        else:
            raise DataError(f"{track.location}: {audio.shape[1]} channels cannot become {channels}; "
                            "set data.channels to 1 or 2")
    n_parts, n_channels, _ = audio.shape
    audio = resample(audio.reshape(n_parts * n_channels, -1), rate, sample_rate)
    return np.ascontiguousarray(audio.reshape(n_parts, n_channels, -1), dtype=np.float32)


class MemoryTrackCache:
    """Decoded tracks in memory, least recently used dropped first, at most ``max_bytes`` in all.

    Args:
        max_bytes: bound on the bytes of the arrays held; a track larger than this is served but not kept.

    Attributes:
        nbytes: bytes held now. hits, misses: lookups served from memory / decoded.
    """

    def __init__(self, max_bytes: int = 2 * _GIB) -> None:
        self.max_bytes = int(max_bytes)
        self.nbytes = 0
        self.hits = self.misses = 0
        self._arrays: OrderedDict[str, np.ndarray] = OrderedDict()

    def get(self, key: str, load: Callable[[], np.ndarray]) -> np.ndarray:
        """The array cached under ``key``, or ``load()``'s result (kept if it fits)."""
        if key in self._arrays:
            self.hits += 1
            self._arrays.move_to_end(key)
            return self._arrays[key]
        self.misses += 1
        array = load()
        if array.nbytes <= self.max_bytes:
            while self.nbytes + array.nbytes > self.max_bytes:
                self.nbytes -= self._arrays.popitem(last=False)[1].nbytes
            self._arrays[key] = array
            self.nbytes += array.nbytes
        return array

    def describe(self) -> str:
        return f"decoded tracks cached in memory (LRU, {self.max_bytes / _GIB:.3g} GiB)"


class DiskTrackCache:
    """Decoded tracks written once to ``folder/<sha1 of key>.npy`` and memory-mapped on later reads.

    Writes are atomic (a temporary file renamed into place), so parallel readers and a killed run never see a
    half-written array. Stale entries (the source file changed) are simply not found again; delete the folder
    to reclaim them.
    """

    def __init__(self, folder: str | os.PathLike) -> None:
        self.folder = Path(folder)
        self.hits = self.misses = 0

    def get(self, key: str, load: Callable[[], np.ndarray]) -> np.ndarray:
        """The array stored under ``key`` (memory-mapped), or ``load()``'s result, stored first."""
        path = self.folder / f"{hashlib.sha1(key.encode()).hexdigest()}.npy"
        if path.is_file():
            self.hits += 1
            return np.load(path, mmap_mode="r")
        self.misses += 1
        array = load()
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.folder, suffix=".npy.tmp")
            with os.fdopen(handle, "wb") as file:
                np.save(file, array)
            os.replace(temporary, path)
        except OSError as error:
            raise DataError(f"{self.folder}: cannot write the decoded-track cache ({error.strerror}); "
                            "set data.options.cache_dir to a writable folder or use cache: memory") from None
        return array

    def describe(self) -> str:
        return "decoded tracks cached on disk"


class NoTrackCache:
    """Decode every time (for measuring; the benchmark's baseline)."""

    hits = misses = 0

    def get(self, key: str, load: Callable[[], np.ndarray]) -> np.ndarray:
        self.misses += 1
        return load()

    def describe(self) -> str:
        return "no decoded-track cache"


TRACK_CACHES: dict[str, Callable[[Mapping[str, Any], SourceRequest], Any]] = {
    "memory": lambda options, request: MemoryTrackCache(int(options.get("cache_bytes", 2 * _GIB))),
    "disk": lambda options, request: DiskTrackCache(request.resolve(path_list(options["cache_dir"])[0])),
    "none": lambda options, request: NoTrackCache(),
}
"""``cache`` option -> factory of the cache from the options and the request."""


# ---------------------------------------------------------------------------------------------------------
# Windows of tracks.


@dataclass
class TrackPool:
    """Tracks served as windows of ``(n_targets, channels, samples)``: decoded through ``cache`` at the
    request's rate and channel count, the targets summed from each track's parts."""

    tracks: list[TrackRef]
    targets: tuple[str, ...]
    sample_rate: int
    channels: int
    cache: Any

    def __post_init__(self) -> None:
        self._matrices = {t.parts: target_matrix(t.parts, self.targets) for t in self.tracks}

    def audio(self, track: TrackRef) -> np.ndarray:
        """Decoded parts of ``track``, float32 ``(n_parts, channels, samples)`` (possibly memory-mapped)."""
        return self.cache.get(track.cache_key(self.sample_rate, self.channels),
                              lambda: prepare_track(track, self.sample_rate, self.channels))

    def window(self, track: TrackRef, parts: np.ndarray, start: int, samples: int) -> np.ndarray:
        """Targets of ``parts[..., start:start + samples]`` as float32 ``(n_targets, channels, samples)``,
        zero-padded past the end of a short track."""
        piece = np.asarray(parts[..., start:start + samples], dtype=np.float32)
        if piece.shape[-1] < samples:
            piece = np.pad(piece, ((0, 0), (0, 0), (0, samples - piece.shape[-1])))
        return np.einsum("tp,pcs->tcs", self._matrices[track.parts], piece)

    def random_windows(self, samples: int, rng: np.random.Generator, tracks_at_once: int) -> Iterator[np.ndarray]:
        """Endless random windows: passes over the tracks in a new order; ``tracks_at_once`` tracks are decoded
        together and each gives ``length // samples`` windows at random starts, served shuffled."""
        while True:
            order = rng.permutation(len(self.tracks))
            for group_start in range(0, len(order), tracks_at_once):
                group = [self.tracks[i] for i in order[group_start:group_start + tracks_at_once]]
                decoded = [self.audio(track) for track in group]
                draws = [(g, int(rng.integers(0, max(audio.shape[-1] - samples, 0) + 1)))
                         for g, audio in enumerate(decoded) for _ in range(max(1, audio.shape[-1] // samples))]
                for index in rng.permutation(len(draws)):
                    g, start = draws[index]
                    yield self.window(group[g], decoded[g], start, samples)

    def fixed_windows(self, samples: int, per_track: int) -> Iterator[np.ndarray]:
        """Up to ``per_track`` evenly spaced windows of every track, tracks by name: the same every pass."""
        for track in self.tracks:
            parts = self.audio(track)
            last = max(parts.shape[-1] - samples, 0)
            count = min(per_track, max(1, parts.shape[-1] // samples))
            for start in sorted({round(s) for s in np.linspace(0, last, count)}):
                yield self.window(track, parts, int(start), samples)


# ---------------------------------------------------------------------------------------------------------
# The registered source.


def _probability(options: Mapping[str, Any], key: str) -> float:
    return float(options.get(key) or 0.0)


@register_source("musdb")
class MusdbSource(RegisteredSource):
    """MUSDB18 / MUSDB18-HQ examples, with extra stem folders, for ``data.kind: musdb``.

    Yields ``(mixture (samples, channels), targets (samples, n_targets * channels))``, source-major, mixture ==
    sum of the targets. Training (``split="train"``) is endless: random windows of random tracks
    (:meth:`TrackPool.random_windows`), a share ``extra_weight`` from the extra folders, each augmented (gains,
    channel swap, sign flip). Validation and test are one fixed pass of evenly spaced windows, unaugmented,
    spread so that ``validation_examples`` span every track.

    Args:
        pools: ``[(pool, share of examples)]``: MUSDB's tracks first, then each extra folder.
        request: the split, targets, rate, channels, example length and seed.
        options: the checked ``data.options``.
        names: how :meth:`describe` names each pool.
    """

    OPTIONS: ClassVar[Mapping[str, str]] = {
        "root": "MUSDB18 (train/, test/ of .stem.mp4) or MUSDB18-HQ (train/, test/ of <track>/*.wav) folder, "
                "relative to the config file",
        "validation_split": "official (86 / 14 tracks, musdb's validation list; default) or random "
                            "(75 / 25 %, drawn by split_seed)",
        "split_seed": "seed of the random validation split (default 0)",
        "extra_paths": "extra training folders of <track>/<source>.wav (e.g. CCMixter's vocals + accompaniment); "
                       "a missing source is silent",
        "extra_weight": "share of training examples drawn from extra_paths: one number for all (split evenly) "
                        "or one per folder (default 0.2)",
        "gain_range": "per-target gain range [low, high] of training examples (default [0.7, 1.0]; none = off)",
        "channel_swap": "chance that a target's left and right channels swap, per target (default 0)",
        "sign_flip": "chance that a target's polarity flips, per target (default 0)",
        "silence_db": "redraw training windows whose mixture is quieter than this, dB re full scale (default -60)",
        "tracks_at_once": "training tracks decoded together, their windows shuffled together (default 4)",
        "cache": "where decoded tracks are kept: memory (LRU of cache_bytes; default), disk (cache_dir) or none",
        "cache_bytes": "bound of the memory cache, bytes (default 2147483648 = 2 GiB)",
        "cache_dir": "folder of the disk cache (cache: disk), relative to the config file",
    }
    REQUIRED = ("root",)
    PATH_OPTIONS = ("root", "extra_paths", "cache_dir")

    def __init__(self, pools: list[tuple[TrackPool, float]], request: SourceRequest, options: Mapping[str, Any],
                 names: Sequence[str]) -> None:
        self.pools, self.request, self.names = pools, request, list(names)
        self.sources = request.sources
        self.sample_rate, self.channels = request.sample_rate, request.channels
        self.example_samples = request.example_samples
        self.training = request.split == TRAIN
        gains = options.get("gain_range", (0.7, 1.0))
        self.gain_range = tuple(gains) if gains is not None else None
        self.channel_swap = _probability(options, "channel_swap")
        self.sign_flip = _probability(options, "sign_flip")
        self.chunk_filter = ChunkFilter(float(options.get("silence_db", -60.0)), None)
        self.tracks_at_once = int(options.get("tracks_at_once", 4))
        self.scheme = options.get("validation_split", "official")
        self.cache = pools[0][0].cache
        self.paths = [t.location for pool, _ in pools for t in pool.tracks]

    @property
    def example_shapes(self) -> tuple[tuple[int, int], tuple[int, int]]:
        """``((samples, channels), (samples, n_targets * channels))`` of every example."""
        return ((self.example_samples, self.channels),
                (self.example_samples, len(self.sources) * self.channels))

    @classmethod
    def option_problems(cls, options: Mapping[str, Any]) -> list[str]:
        """Bad values of known options, one line each."""
        problems = super().option_problems(options)
        if "root" in options and len(path_list(options["root"])) != 1:
            problems.append(f"root: {options['root']!r} is not allowed; expected one folder")
        scheme = options.get("validation_split", "official")
        if scheme not in VALIDATION_SPLITS:
            problems.append(f"validation_split: {scheme!r} is not allowed; expected one of "
                            f"{', '.join(VALIDATION_SPLITS)}")
        cache = options.get("cache", "memory")
        if cache not in TRACK_CACHES:
            problems.append(f"cache: {cache!r} is not allowed; expected one of {', '.join(TRACK_CACHES)}")
        elif cache == "disk" and not options.get("cache_dir"):
            problems.append("cache_dir: missing; cache: disk needs a folder for the decoded tracks")
        gains = options.get("gain_range")
        if gains is not None and not (isinstance(gains, (list, tuple)) and len(gains) == 2
                                      and all(_is_number(g) and g >= 0 for g in gains) and gains[0] <= gains[1]):
            problems.append(f"gain_range: {gains!r} is not allowed; expected [low, high] with 0 <= low <= high, "
                            "or none")
        for key in ("channel_swap", "sign_flip"):
            if key in options and not (_is_number(options[key]) and 0 <= options[key] <= 1):
                problems.append(f"{key}: {options[key]!r} is not allowed; expected a probability in [0, 1]")
        for key in ("split_seed", "tracks_at_once", "cache_bytes"):
            value = options.get(key)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                      or value < (0 if key == "split_seed" else 1)):
                problems.append(f"{key}: {value!r} is not allowed; expected an integer >= "
                                f"{0 if key == 'split_seed' else 1}")
        if "silence_db" in options and not _is_number(options["silence_db"]):
            problems.append(f"silence_db: {options['silence_db']!r} is not allowed; expected a number of dB")
        weights = options.get("extra_weight")
        if weights is not None:
            listed = weights if isinstance(weights, (list, tuple)) else [weights]
            if not all(_is_number(w) and w >= 0 for w in listed) or sum(listed) >= 1:
                problems.append(f"extra_weight: {weights!r} is not allowed; expected shares >= 0 that sum below 1")
            elif isinstance(weights, (list, tuple)) and len(weights) != len(path_list(options.get("extra_paths"))):
                problems.append(f"extra_weight: {len(weights)} shares for {len(path_list(options.get('extra_paths')))}"
                                " extra_paths; give one share per folder or a single number")
        return problems

    @classmethod
    def from_options(cls, request: SourceRequest, options: dict[str, Any]) -> MusdbSource:
        """The tracks of ``request.split`` under ``options["root"]`` (plus, for training, ``extra_paths``)."""
        unknown = [t for t in request.sources if t not in TARGET_PARTS]
        covered = sorted(p for t in request.sources if t in TARGET_PARTS for p in TARGET_PARTS[t])
        if unknown or covered != sorted(STEMS):
            raise ConfigError(f"data.sources: {list(request.sources)} must name MUSDB18 targets ("
                              f"{', '.join(TARGET_PARTS)}) that hold each of {', '.join(STEMS)} once, e.g. "
                              "[vocals, accompaniment] or [drums, bass, other, vocals]")
        root = request.resolve(path_list(options["root"])[0])
        cache = TRACK_CACHES[options.get("cache", "memory")](options, request)
        tracks = split_tracks(root, request.split, options.get("validation_split", "official"),
                              int(options.get("split_seed", 0)))

        def make_pool(refs: list[TrackRef]) -> TrackPool:
            return TrackPool(refs, request.sources, request.sample_rate, request.channels, cache)

        extra = [request.resolve(p) for p in path_list(options.get("extra_paths"))] if request.split == TRAIN else []
        weights = options.get("extra_weight", 0.2)
        shares = ([] if not extra else [float(w) for w in weights] if isinstance(weights, (list, tuple))
                  else [float(weights) / len(extra)] * len(extra))
        pools = [(make_pool(tracks), 1.0 - sum(shares))]
        pools += [(make_pool(extra_tracks(folder, request.sources)), share) for folder, share in zip(extra, shares)]
        names = [f"{request.portable(root)}/{'test' if request.split == TEST else 'train'}",
                 *(request.portable(folder) for folder in extra)]
        return cls(pools, request, options, names)

    def describe(self) -> str:
        """One line for a model card: corpus, split, targets, rate, channels, extras and augmentation."""
        musdb, _ = self.pools[0]
        kind = "MUSDB18" if musdb.tracks[0].location.name.endswith(STEM_MP4) else "MUSDB18-HQ"
        split = f"{self.request.split} split ({self.scheme})" if self.request.split != TEST else "test set"
        text = (f"{kind} {self.names[0]}, {split}: {len(musdb.tracks)} tracks; targets {'/'.join(self.sources)}, "
                f"{self.sample_rate} Hz, {self.channels} channel(s)")
        for name, (pool, share) in zip(self.names[1:], self.pools[1:]):
            text += f"; extra {name} ({len(pool.tracks)} tracks, {share:.0%} of examples)"
        if self.training:
            if self.gain_range:
                text += f"; per-target gain U[{self.gain_range[0]:g}, {self.gain_range[1]:g}], mixture = their sum"
            if self.channel_swap:
                text += f"; channel swap p={self.channel_swap:g}"
            if self.sign_flip:
                text += f"; sign flip p={self.sign_flip:g}"
        return text

    def __iter__(self) -> Iterator[Example]:
        if not self.training:
            spread = math.ceil(self.request.validation_examples / max(len(self.pools[0][0].tracks), 1))
            for targets in self.pools[0][0].fixed_windows(self.example_samples, spread):
                if self.chunk_filter.keep(targets):
                    yield to_example(targets)
            return
        rng = np.random.default_rng([self.request.seed, 0x3D8])
        streams = [pool.random_windows(self.example_samples, rng, self.tracks_at_once) for pool, _ in self.pools]
        shares = np.array([share for _, share in self.pools], dtype=np.float64)
        while True:
            stream = streams[int(rng.choice(len(streams), p=shares / shares.sum()))] if len(streams) > 1 else streams[0]
            targets = next(stream)
            if not self.chunk_filter.keep(targets):
                continue
            yield self.augment(to_example(targets), rng)

    def augment(self, example: Example, rng: np.random.Generator) -> Example:
        """Gains (mixture = sum of the scaled targets, scaled down together if it would clip), then channel
        swap and sign flip per target."""
        if self.gain_range:
            example = random_gains(example, rng, self.gain_range)
        if self.channel_swap:
            example = random_channel_swap(example, rng, self.channel_swap)
        if self.sign_flip:
            example = random_sign_flip(example, rng, self.sign_flip)
        return example


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
