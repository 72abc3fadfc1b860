"""Rendering the real MIDI corpus in ../shared/data/midi (skipped when the shared folder is absent)."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest

from sepzoo.data.midi import MidiChunkSource
from sepzoo.data.midi.render import get_renderer, group_instruments, load_midi
from sepzoo.data.midi.splits import list_midi_files
from sepzoo.data.midi.stem_tasks import get_task

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "data" / "midi"
RATE, SECONDS = 22050, 20.0

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"the shared MIDI corpus is absent ({CORPUS})")


def opening(midi, seconds: float):
    """A copy of ``midi`` keeping only what happens in its first ``seconds``."""
    cut = copy.deepcopy(midi)
    for instrument in cut.instruments:
        instrument.notes = [n for n in instrument.notes if n.start < seconds]
        for note in instrument.notes:
            note.end = min(note.end, seconds)
        instrument.control_changes = [c for c in instrument.control_changes if c.time < seconds]
        instrument.pitch_bends = [b for b in instrument.pitch_bends if b.time < seconds]
    return cut


def sounding_seconds(instruments, seconds: int) -> np.ndarray:
    """Per 1-s cell, the seconds during which any note of ``instruments`` is held."""
    held = np.zeros(seconds)
    for instrument in instruments:
        for note in instrument.notes:
            for cell in range(int(note.start), min(int(np.ceil(note.end)), seconds)):
                held[cell] += max(0.0, min(note.end, cell + 1) - max(note.start, cell))
    return held


@pytest.fixture(scope="module")
def songs():
    """The openings of the first three freedoom songs where at least three midi4 stems play in the first 20 s."""
    task, chosen = get_task("midi4"), []
    for path in list_midi_files(CORPUS / "freedoom"):
        midi = load_midi(path)
        groups = group_instruments(midi, task)
        if sum(any(note.start < SECONDS for inst in group for note in inst.notes) for group in groups) >= 3:
            chosen.append((path, opening(midi, SECONDS)))
        if len(chosen) == 3:
            return chosen
    pytest.fail("fewer than three freedoom songs have three midi4 stems playing in their opening")


def test_every_stem_sounds_where_its_instruments_play_and_only_there(songs):
    task, renderer = get_task("midi4"), get_renderer(None, RATE, 1)
    for path, midi in songs:
        stems = renderer.render_task(midi, task)
        cells = int(SECONDS)
        level = 10 * np.log10(np.square(stems[:, 0, : cells * RATE], dtype=np.float64).reshape(4, cells, RATE)
                              .mean(axis=2) + 1e-20)
        for index, group in enumerate(group_instruments(midi, task)):
            held = sounding_seconds(group, cells)
            playing = held > 0.5
            if playing.any():
                quietest = level[index][playing].min()
                assert quietest > -60, f"{path.name} {task.sources[index]}: {quietest:.1f} dB while its notes play"
            long_quiet = [c for c in range(cells) if held[max(0, c - 4) : c + 1].sum() == 0]
            if long_quiet:
                assert level[index][long_quiet].max() < -70, f"{path.name} {task.sources[index]} sounds without notes"


def test_chunk_source_serves_real_songs(songs, tmp_path):
    paths = [tmp_path / path.name for path, _ in songs]
    for path, (_, midi) in zip(paths, songs):
        midi.write(str(path))
    source = MidiChunkSource(paths, split=None, max_chunks_per_piece=4, pool_size=8)
    served = list(source)
    assert source.stats["songs"] == 3 and source.stats["unreadable"] == 0
    assert len(served) == 12
    for mixture, stems in served:
        assert stems.shape == (16384, 4)
        np.testing.assert_allclose(mixture[:, 0], stems.sum(axis=1), atol=1e-6)
        assert 10 * np.log10(np.mean(np.square(mixture)) + 1e-20) > -50
