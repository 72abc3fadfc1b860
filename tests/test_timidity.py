"""TiMidity++ renders from a GUS patch set: the config is read, missing programs stand in, stems line up."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from sepzoo.data.midi.compose import compose_demo_song
from sepzoo.data.midi.render import get_renderer, group_instruments
from sepzoo.data.midi.stem_tasks import get_task
from sepzoo.data.midi.timidity import closest_program, patch_set_contents

RATE = 16000
FREEPATS = Path("/etc/timidity/freepats.cfg")
needs_freepats = pytest.mark.skipif(
    shutil.which("timidity") is None or not FREEPATS.is_file(),
    reason="timidity and freepats are not installed (scripts/setup_env.sh installs them)",
)


def test_patch_set_config_is_read_with_its_sources(tmp_path):
    (tmp_path / "drums.cfg").write_text("drumset 0\n 35 Drum_000/035_Kick.pat\ndrumset 8\n 36 kick2.pat amp=100\n")
    (tmp_path / "set.cfg").write_text("dir /x\n# comment\nbank 0\n 0 Tone_000/000_Piano.pat\n 33 bass.pat # fingered\n"
                                      "bank 1\n 5 other_bank.pat\nsource drums.cfg\n")
    programs, drumsets = patch_set_contents(tmp_path / "set.cfg")
    assert programs == {0, 33} and drumsets == {0, 8}


def test_missing_programs_stand_in_within_their_stem():
    midi4 = get_task("midi4")
    available = {0, 4, 16, 32, 33, 38, 40, 56}
    assert closest_program(33, available, midi4) == 33  # present: kept
    assert closest_program(39, available, midi4) == 38  # nearest bass
    assert closest_program(2, available, midi4) == 0  # family first: piano 0 (distance 2) ...
    assert closest_program(14, available, midi4) == 16  # ... else the nearest keys program
    assert closest_program(24, available, midi4) == 40  # guitar -> an 'other' program, never a bass
    assert closest_program(33, {0, 40}, midi4) == 33  # no bass in the set: left for TiMidity++ to handle


def late_song():
    """A composed song whose every part starts 1.5 s in."""
    song = compose_demo_song(seconds=4.0, seed=2)
    for instrument in song.instruments:
        for note in instrument.notes:
            note.start, note.end = note.start + 1.5, note.end + 1.5
    return song


@needs_freepats
def test_freepats_stems_line_up_with_their_notes_and_sum_to_the_mixture():
    renderer = get_renderer(FREEPATS, RATE, 1)
    assert len(renderer.programs) > 50 and 0 in renderer.drumsets
    song = late_song()
    task = get_task("midi4")
    groups = group_instruments(song, task)
    stems = renderer.render_task(song, task)
    assert stems.shape[:2] == (4, 1) and stems.dtype == np.float32
    assert np.max(np.abs(stems.sum(axis=0))) == pytest.approx(0.99, abs=1e-4)
    for group, stem in zip(groups, stems):
        if not group:
            assert not np.any(stem)
            continue
        onset = np.argmax(np.abs(stem[0]) > 1e-3) / RATE
        assert 1.5 <= onset < 1.52  # no leading silence dropped, so stems stay aligned with each other

    # Its samples are not TimGM6mb's: the stems' average spectra differ.
    fluid = get_renderer(None, RATE, 1).render_task(late_song(), task)
    for ours, theirs in zip(stems[:, 0], fluid[:, 0]):
        if np.any(ours):
            a, b = (np.abs(np.fft.rfft(x[int(RATE * 1.5): int(RATE * 5.5)])) for x in (ours, theirs))
            assert float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b))) < 0.95
