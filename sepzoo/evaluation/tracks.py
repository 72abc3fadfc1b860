"""Test sets for evaluation: a MUSDB-style stem tree or real MUSDB18 ``.stem.mp4`` files.

A stem tree is ``ROOT/<track>/mixture.wav`` plus one ``ROOT/<track>/<source>.wav`` per source, as
``sepzoo render`` writes (``OUTDIR/<split>/<song>/...``) and as MUSDB18-HQ ships; it is read by
:mod:`sepzoo.data.stem_tree`, the reader training uses too. MUSDB18 proper
(``ROOT/<split>/<track>.stem.mp4``) is read through the ``musdb`` package. Either way ``ROOT`` may be the
split folder itself, or the folder above it with ``split`` naming the split.

A source asked for that the tracks have no file for, but that is a known sum of stems they do have
(:data:`sepzoo.data.musdb.TARGET_PARTS`: ``accompaniment`` = drums + bass + other), is built in memory as that
sum when a track is loaded, so a vocals / accompaniment model can be scored on MUSDB18; nothing is written into
the test set. It is built for every track as soon as one track lacks its file, and only where the tracks hold no
stems other than MUSDB18's (a ``keys.wav`` beside drums, bass and other would be left out of the sum).

Every problem with the files (no tracks, a missing source file, stems whose rate, channel count or length
differ from the mixture) is found by :func:`open_test_set`, from the file headers, before any track is
separated, and raised as a one-line :class:`~sepzoo.errors.DataError`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np

from sepzoo.data.musdb import STEMS, TARGET_PARTS
from sepzoo.data.stem_tree import MIXTURE, RENDER_META, open_stem_tree, read_track, stem_names
from sepzoo.errors import DataError
from sepzoo.evaluation.extras import require


@dataclass(frozen=True)
class Track:
    """One decoded track.

    Attributes:
        name: Track name (its folder or ``.stem.mp4`` name).
        mixture: float32 ``(channels, samples)``.
        stems: Source name -> float32 ``(channels, samples)``, same shape as ``mixture``.
        sample_rate: Hz.
    """

    name: str
    mixture: np.ndarray
    stems: dict[str, np.ndarray]
    sample_rate: int


@dataclass(frozen=True)
class TrackFiles:
    """One track not yet decoded.

    Attributes:
        name: Track name.
        load: ``load(sources)`` decodes the mixture and the stems of ``sources`` into a :class:`Track`.
    """

    name: str
    load: Callable[[Sequence[str]], Track]


@dataclass(frozen=True)
class EvaluationSet:
    """The checked tracks of one split.

    Attributes:
        location: The split folder.
        sources: Sources every track has (stem tree: sorted file names; MUSDB18: musdb's order).
        tracks: Tracks sorted by name.
        composed: Sources built in memory as the sum of stems -> those stems (``{"accompaniment": ("drums",
            "bass", "other")}`` on MUSDB18); empty when every source has its own file.
    """

    location: Path
    sources: tuple[str, ...]
    tracks: tuple[TrackFiles, ...]
    composed: dict[str, tuple[str, ...]] = field(default_factory=dict)


def open_test_set(root: str | os.PathLike, split: str | None = None,
                  sources: Sequence[str] | None = None) -> EvaluationSet:
    """Find the tracks under ``root`` (or ``root/split``) and check their files.

    Args:
        root: A split folder of a stem tree or of MUSDB18, or the folder above it when ``split`` is given.
        split: Sub-folder of ``root`` to read, e.g. ``"test"``.
        sources: Sources every track must have, as files or as sums of the stems they are made of (see the
            module docstring); None accepts those of the first track.

    Raises:
        DataError: the folder is missing or holds no tracks, a track lacks a source file, or a stem's
            sample rate, channel count or length differs from its mixture.
    """
    folder = Path(root) / split if split else Path(root)
    if not folder.is_dir():
        raise DataError(f"{folder}: no such folder; pass --root the split folder of a stem tree "
                        "(ROOT/<track>/mixture.wav) or the folder above it with --split")
    track_folders = sorted(path.parent for path in folder.glob(f"*/{MIXTURE}.wav"))
    if track_folders:
        return _open_stem_tree(folder, track_folders, sources)
    if any(folder.glob("*.stem.mp4")):
        return _open_musdb(folder, sources)
    splits = sorted(path.name for path in folder.iterdir()
                    if path.is_dir() and (any(path.glob(f"*/{MIXTURE}.wav")) or any(path.glob("*.stem.mp4"))))
    if splits and not split:
        raise DataError(f"{folder}: holds the splits {', '.join(splits)}, not tracks; choose one with --split")
    raise DataError(f"{folder}: no tracks found (no <track>/{MIXTURE}.wav, no *.stem.mp4); "
                    "point --root at a split folder written by `sepzoo render` or at MUSDB18")


def _open_stem_tree(folder: Path, track_folders: list[Path], sources: Sequence[str] | None) -> EvaluationSet:
    """Check every track folder's headers now (:func:`~sepzoo.data.stem_tree.open_stem_tree`); decode later,
    one track at a time.

    Without ``sources`` they are those ``render.json`` names, else every stem file name any track has (sorted),
    so a track that lacks a stem the others have is refused, whichever track it is."""
    meta = _render_meta(folder)
    if sources is None:
        sources = _tree_sources(meta, track_folders)
    sources = tuple(sources)
    composed = composable_sources(sources, [set(stem_names(track)) for track in track_folders])
    tree = open_stem_tree(folder, _files_to_read(sources, composed), check_headers=True, one_rate=False)
    tracks = tuple(TrackFiles(path.name, partial(_load_stem_tree_track, path, composed)) for path in tree.tracks)
    return EvaluationSet(folder, sources, tracks, composed)


def composable_sources(sources: Sequence[str], stems_per_track: Sequence[set[str]]) -> dict[str, tuple[str, ...]]:
    """The sources of ``sources`` to build as sums: those some track has no stem of, that are a sum of stems
    (:data:`~sepzoo.data.musdb.TARGET_PARTS`) every track has, where no track has stems other than MUSDB18's
    (:data:`~sepzoo.data.musdb.STEMS`) and ``sources``; source -> the stems it sums.

    Args:
        sources: Sources asked for.
        stems_per_track: The stem names each track has.
    """
    if any(stems - set(STEMS) - set(sources) for stems in stems_per_track):
        return {}
    composed = {}
    for source in sources:
        parts = TARGET_PARTS.get(source, (source,))
        if (parts != (source,) and any(source not in stems for stems in stems_per_track)
                and all(set(parts) <= stems for stems in stems_per_track)):
            composed[source] = parts
    return composed


def _files_to_read(sources: Sequence[str], composed: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    """The stems to decode for ``sources``: each source's own, or the stems of a composed one, once each."""
    return tuple(dict.fromkeys(stem for source in sources for stem in composed.get(source, (source,))))


def _compose(stems: dict[str, np.ndarray], sources: Sequence[str],
             composed: dict[str, tuple[str, ...]]) -> dict[str, np.ndarray]:
    """``sources``' stems, a composed one the float32 sum of its stems (``(channels, samples)`` each)."""
    return {source: np.sum([stems[part] for part in composed[source]], axis=0, dtype=np.float32)
            if source in composed else stems[source] for source in sources}


def _render_meta(folder: Path) -> dict | None:
    """``folder/render.json`` as a dict, None when there is none; DataError when it is unreadable."""
    path = folder / RENDER_META
    if not path.is_file():
        return None
    try:
        meta = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise DataError(f"{path}: not a readable render record ({error}); "
                        "re-render the tree or delete the file") from None
    if not isinstance(meta, dict):
        raise DataError(f"{path}: holds no JSON object; re-render the tree or delete the file")
    return meta


def _tree_sources(meta: dict | None, track_folders: list[Path]) -> list[str]:
    """The sources of a tree: ``render.json``'s when it names them, else the union of the tracks' stem files."""
    if meta and meta.get("sources"):
        return list(meta["sources"])
    names = sorted({name for track in track_folders for name in stem_names(track)})
    if not names:
        raise DataError(f"{track_folders[0]}: has {MIXTURE}.wav but no <source>.wav stems; "
                        "re-render the track with its stems")
    return names


def _load_stem_tree_track(track_folder: Path, composed: dict[str, tuple[str, ...]], sources: Sequence[str]) -> Track:
    mixture, stems, sample_rate = read_track(track_folder, _files_to_read(sources, composed))
    return Track(track_folder.name, mixture, _compose(stems, sources, composed), sample_rate)


def _open_musdb(folder: Path, sources: Sequence[str] | None) -> EvaluationSet:
    """Read MUSDB18 ``.stem.mp4`` files of one subset through ``musdb``."""
    tracks = require("musdb").DB(root=str(folder.parent), subsets=folder.name).tracks
    if not tracks:
        raise DataError(f"{folder}: musdb found no tracks; MUSDB18 expects ROOT/train and ROOT/test folders "
                        "of .stem.mp4 files")
    available = tuple(tracks[0].sources)
    sources = available if sources is None else tuple(sources)
    composed = composable_sources(sources, [set(track.sources) for track in tracks])
    for track in tracks:
        missing = [source for source in _files_to_read(sources, composed) if source not in track.sources]
        if missing:
            raise DataError(f"{folder / track.name}.stem.mp4: has no {', '.join(missing)} stem (it has "
                            f"{', '.join(track.sources)}); evaluate a model trained on MUSDB18's sources")
    ordered = sorted(tracks, key=lambda track: track.name)
    return EvaluationSet(folder, sources, tuple(TrackFiles(track.name, partial(_load_musdb_track, track, composed))
                                                for track in ordered), composed)


def _load_musdb_track(track, composed: dict[str, tuple[str, ...]], sources: Sequence[str]) -> Track:
    """Decode a ``musdb.MultiTrack``: all streams at once, stream 0 being the mixture."""
    streams = track.stems.astype(np.float32)  # (stream, samples, channels)
    stems = {source: np.ascontiguousarray(streams[track.sources[source].stem_id].T)
             for source in _files_to_read(sources, composed)}
    return Track(track.name, np.ascontiguousarray(streams[0].T), _compose(stems, sources, composed), int(track.rate))
