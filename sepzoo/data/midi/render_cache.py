"""Render a MIDI corpus once to a MUSDB-HQ-style stem tree (read back by :mod:`sepzoo.data.stem_tree`).

Tree layout: ``OUTDIR/<split>/<song>/mixture.wav`` plus one ``<stem>.wav`` per source, float32 WAV at the
render rate, and ``OUTDIR/<split>/render.json`` recording how it was made. ``<song>`` is the MIDI file's
path relative to the corpus folder, without suffix, with ``/`` replaced by ``__``.

Nothing is written before the songs and the soundfonts are found: no MIDI file in the split, or a missing
or broken soundfont, fails with nothing created. A song's files are renamed into place together once all
are complete, ``render.json`` comes last, and an error or interruption removes the temporaries and the
folders this call created and left empty. A render that writes no song at all is an error too.
"""

from __future__ import annotations

import json
import logging
import zlib
from collections import Counter
from pathlib import Path

import numpy as np
from tqdm import tqdm

from sepzoo.audio_io import AudioWriter, atomic_output, make_output_dirs, remove_empty_folders
from sepzoo.data.midi.render import get_renderer, group_instruments, load_midi
from sepzoo.data.midi.soundfonts import find_soundfont
from sepzoo.data.midi.splits import files_in_split, list_midi_files
from sepzoo.data.midi.stem_tasks import StemTask, get_task
from sepzoo.data.midi.timbre import vary_programs
from sepzoo.errors import DataError

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
            :class:`~sepzoo.data.midi.render.StemRenderer`); ``None`` = ``soundfont``'s.
        channels: 1 or 2.
        excerpt_seconds: keep only this long an excerpt of each song: the stretch where most stems play
            (see :func:`busiest_window`); ``None`` keeps whole songs.
        max_songs: stop after writing this many songs.
        timbre_seed: re-voice every song with random programs of the same GM families and stems, and a
            random drum kit (see :func:`~sepzoo.data.midi.timbre.vary_programs`), drawn from this seed and the
            song's name; ``None`` (default) plays the programs the MIDI file names.
        progress: show a tqdm bar on stderr.

    Returns:
        Counts: ``written``, ``unreadable``, ``too_few_targets``.

    Raises:
        DataError: no MIDI file of ``split`` under ``midi_dir``, a soundfont is missing or unloadable, or no
            song could be rendered (all unreadable or with too few targets).
        OutputError: ``out_dir`` cannot be written.
    """
    midi_root, task = Path(midi_dir), get_task(task)
    every_file = list_midi_files(midi_root)
    paths = files_in_split(every_file, split)
    if not paths:
        found = f"none of its {len(every_file)} MIDI files is in the {split} split" if every_file else "no MIDI files"
        raise DataError(f"{midi_root}: {found} (.mid, .midi, .kar, searched recursively); "
                        f"point at a folder of MIDI files{' or pass --split all' if every_file else ''}")
    renderer = get_renderer(soundfont, sample_rate, channels, drum_soundfont)  # a bad soundfont fails here
    split_dir = Path(out_dir) / (split or "all")
    created = make_output_dirs(split_dir)
    try:
        counts, unreadable = _render_songs(paths, midi_root, split_dir, renderer, task, sample_rate,
                                           excerpt_seconds, max_songs, timbre_seed, progress)
        if not counts["written"]:
            first = f", first: {unreadable[0]}" if unreadable else ""
            raise DataError(f"{midi_root}: no song of the {split or 'all'} split could be rendered "
                            f"({counts['unreadable']} unreadable, {counts['too_few_targets']} with fewer than "
                            f"{task.min_targets} {task.name} stems playing{first}); "
                            "pass other MIDI files or another --task")
        meta = {"task": task.name, "sources": list(task.sources), "sample_rate": sample_rate, "channels": channels,
                "soundfont": find_soundfont(soundfont).name,
                "drum_soundfont": None if drum_soundfont is None else find_soundfont(drum_soundfont).name,
                "excerpt_seconds": excerpt_seconds,
                "timbre_seed": timbre_seed, **counts}
        with atomic_output(split_dir / "render.json") as temporary:
            temporary.write_text(json.dumps(meta, indent=2) + "\n")
    except BaseException:
        remove_empty_folders(created)
        raise
    for problem in unreadable:
        log.warning("skipped %s", problem)
    return counts


def _render_songs(paths: list[Path], midi_root: Path, split_dir: Path, renderer, task: StemTask, sample_rate: int,
                  excerpt_seconds: float | None, max_songs: int | None, timbre_seed: int | None,
                  progress: bool) -> tuple[Counter, list[DataError]]:
    """Render and write the songs of ``paths`` into ``split_dir``; return the counts of :func:`render_corpus`
    and why each unreadable file was skipped."""
    counts: Counter = Counter()
    unreadable: list[DataError] = []
    bar = tqdm(total=max_songs or len(paths), desc=f"render {split_dir.name}", unit="song", disable=not progress)
    for path in paths:
        if max_songs is not None and counts["written"] >= max_songs:
            break
        try:
            midi = load_midi(path)
        except DataError as error:
            counts["unreadable"] += 1
            unreadable.append(error)
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
    return counts, unreadable


def _write_song(folder: Path, sources: tuple[str, ...], stems: np.ndarray, sample_rate: int) -> None:
    """Write float32 ``stems (n_sources, channels, samples)`` and their sum as ``folder/{mixture,<source>}.wav``,
    renaming them into place together once all are complete."""
    created = make_output_dirs(folder)
    writers: list[AudioWriter] = []
    try:
        for name, audio in (("mixture", stems.sum(axis=0)), *zip(sources, stems)):
            writers.append(AudioWriter(folder / f"{name}.wav", sample_rate, audio.shape[0], subtype="FLOAT"))
            writers[-1].write(audio)
        for writer in writers:
            writer.commit()
    except BaseException:
        for writer in writers:
            writer.discard()
        remove_empty_folders(created)
        raise

