"""Render a MIDI corpus once to a MUSDB-HQ-style tree, and serve chunks from such a tree.

Tree layout: ``OUTDIR/<split>/<song>/mixture.wav`` plus one ``<stem>.wav`` per source, float32 WAV at the
render rate, and ``OUTDIR/<split>/render.json`` recording how it was made. ``<song>`` is the MIDI file's
path relative to the corpus folder, without suffix, with ``/`` replaced by ``__``.
"""

from __future__ import annotations

import json
import logging
import zlib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from tqdm import tqdm

from sepzoo.audio_io import read_audio, write_audio
from sepzoo.data.chunks import ChunkFilter, Example, cut_chunks, random_gains
from sepzoo.data.render import get_renderer, group_instruments, load_midi
from sepzoo.data.soundfonts import find_soundfont
from sepzoo.data.splits import files_in_split, list_midi_files
from sepzoo.data.stem_tasks import StemTask, get_task
from sepzoo.data.timbre import vary_programs
from sepzoo.errors import DataError, OutputError

log = logging.getLogger("sepzoo.data")


def song_name(path: Path, root: Path) -> str:
    """Folder name of a song in the tree: relative path without suffix, ``/`` -> ``__``."""
    return path.relative_to(root).with_suffix("").as_posix().replace("/", "__")


def busiest_window(stems: np.ndarray, window: int, hop: int, silence_db: float = -50.0) -> int:
    """Start (samples) of the ``window``-long stretch where the most (stem, hop) cells are not silent.

    Args:
        stems: float32 ``(n_sources, channels, samples)``.
        window: excerpt length in samples.
        hop: cell length in samples (the start is a multiple of it).
        silence_db: RMS level (dB re 1.0) below which a cell counts as silent.
    """
    samples = stems.shape[-1]
    if samples <= window:
        return 0
    cells = samples // hop
    energy = np.square(stems[..., : cells * hop], dtype=np.float64).reshape(stems.shape[0], -1, cells, hop)
    active = (10 * np.log10(energy.mean(axis=(1, 3)) + 1e-20) > silence_db).sum(axis=0)
    per_window = np.convolve(active, np.ones(window // hop), mode="valid")
    best = int(np.argmax(per_window[: (samples - window) // hop + 1]))
    return best * hop


def song_folders(split_dir: Path) -> list[Path]:
    """The song folders of a rendered split (those holding a ``mixture.wav``), sorted."""
    return sorted(p for p in split_dir.iterdir() if (p / "mixture.wav").is_file())


def render_corpus(
    midi_dir: str | Path,
    out_dir: str | Path,
    task: str | StemTask = "midi4",
    split: str | None = "test",
    *,
    sample_rate: int = 22050,
    soundfont: str | Path | None = None,
    drum_soundfont: str | Path | None = None,
    channels: int = 1,
    excerpt_seconds: float | None = None,
    max_songs: int | None = None,
    timbre_seed: int | None = None,
    progress: bool = True,
) -> Counter:
    """Render the songs of ``split`` under ``midi_dir`` into ``out_dir/<split or 'all'>/<song>/{mixture,<stem>}.wav``.

    Args:
        midi_dir: corpus folder (searched recursively).
        out_dir: tree root; created if missing.
        task: stem task name or :class:`StemTask`.
        split: ``"train"``, ``"validation"``, ``"test"`` or ``None`` (all songs, written under ``all``).
        sample_rate: Hz.
        soundfont: ``.sf2`` path or name; ``None`` = TimGM6mb.
        drum_soundfont: ``.sf2`` that plays the drum kits instead (see
            :class:`~sepzoo.data.render.StemRenderer`); ``None`` = ``soundfont``'s.
        channels: 1 or 2.
        excerpt_seconds: keep only this long an excerpt of each song: the stretch where most stems play
            (see :func:`busiest_window`); ``None`` keeps whole songs.
        max_songs: stop after writing this many songs.
        timbre_seed: re-voice every song with random programs of the same GM families and stems, and a
            random drum kit (see :func:`~sepzoo.data.timbre.vary_programs`), drawn from this seed and the
            song's name; ``None`` (default) plays the programs the MIDI file names.
        progress: show a tqdm bar on stderr.

    Returns:
        Counts: ``written``, ``unreadable``, ``too_few_targets``.
    """
    midi_root, task = Path(midi_dir), get_task(task)
    paths = files_in_split(list_midi_files(midi_root), split)
    split_dir = Path(out_dir) / (split or "all")
    try:
        split_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputError(f"{split_dir}: cannot create the output folder ({error.strerror}); pick a writable -o") from None
    renderer = get_renderer(soundfont, sample_rate, channels, drum_soundfont)
    counts: Counter = Counter()
    bar = tqdm(total=max_songs or len(paths), desc=f"render {split_dir.name}", unit="song", disable=not progress)
    for path in paths:
        if max_songs is not None and counts["written"] >= max_songs:
            break
        try:
            midi = load_midi(path)
        except DataError as error:
            counts["unreadable"] += 1
            log.warning("skipped %s", error)
            continue
        if sum(bool(group) for group in group_instruments(midi, task)) < task.min_targets:
            counts["too_few_targets"] += 1
            continue
        name = song_name(path, midi_root)
        if timbre_seed is not None:
            vary_programs(midi, task, np.random.default_rng([timbre_seed, zlib.crc32(name.encode())]))
        stems = renderer.render_task(midi, task)
        if excerpt_seconds is not None:
            window = int(round(excerpt_seconds * sample_rate))
            start = busiest_window(stems, window, hop=sample_rate)
            stems = stems[..., start : start + window]
        _write_song(split_dir / name, task.sources, stems, sample_rate)
        counts["written"] += 1
        bar.update()
    bar.close()
    meta = {"task": task.name, "sources": list(task.sources), "sample_rate": sample_rate, "channels": channels,
            "soundfont": find_soundfont(soundfont).name,
            "drum_soundfont": None if drum_soundfont is None else find_soundfont(drum_soundfont).name,
            "excerpt_seconds": excerpt_seconds,
            "timbre_seed": timbre_seed, **counts}
    (split_dir / "render.json").write_text(json.dumps(meta, indent=2) + "\n")
    return counts


def _write_song(folder: Path, sources: tuple[str, ...], stems: np.ndarray, sample_rate: int) -> None:
    write_audio(folder / "mixture.wav", stems.sum(axis=0), sample_rate, subtype="FLOAT")
    for name, stem in zip(sources, stems):
        write_audio(folder / f"{name}.wav", stem, sample_rate, subtype="FLOAT")


class CachedChunkSource:
    """Examples cut from a rendered tree (see :func:`render_corpus`), for repeatable validation and tests.

    Each pass visits the songs in sorted order (or a seeded shuffled order with ``shuffle``) and yields every
    chunk that passes the filter, as ``(mixture (samples, channels), stems (samples, n_sources * channels))``.
    The mixture is recomputed as the sum of the stem files.

    Args:
        split_dir: ``OUTDIR/<split>`` folder holding one folder per song.
        sources: stem names in output order; default: those in ``render.json``.
        chunk_samples: chunk length in samples.
        seed: seed for the grid offset, order, and gains; a pass is identical every time.
        shuffle: shuffle song order and chunks within each song.
        gain_range: per-stem gain U[low, high]; ``None`` (default) serves the rendered levels.
        max_chunks_per_piece, silence_db, dominance_db: as in :class:`~sepzoo.data.midi.MidiChunkSource`.
    """

    def __init__(
        self,
        split_dir: str | Path,
        sources: tuple[str, ...] | None = None,
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
        meta_path = self.split_dir / "render.json"
        if not meta_path.is_file():
            raise DataError(f"{self.split_dir}: no render.json; render the tree with `sepzoo render` first")
        meta = json.loads(meta_path.read_text())
        self.sources = tuple(sources or meta["sources"])
        self.channels = int(meta["channels"])
        self.sample_rate = int(meta["sample_rate"])
        self.songs = song_folders(self.split_dir)
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
        """Stems of one song folder as float32 ``(n_sources, channels, samples)``."""
        stems = []
        for name in self.sources:
            path = folder / f"{name}.wav"
            if not path.is_file():
                raise DataError(f"{path}: stem file missing; re-render the tree or pass the right sources")
            stems.append(read_audio(path)[0])
        return np.stack(stems)

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
