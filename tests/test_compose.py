"""The demo song: every midi4 stem sounds, and rendering it gives mixture == sum of stems."""

from __future__ import annotations

import numpy as np
import pytest

from sepzoo.data.midi.compose import compose_demo_song
from sepzoo.data.midi.render import render_stems


def rms_db(x: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(np.square(x, dtype=np.float64)) + 1e-20))


@pytest.fixture(scope="module")
def rendered():
    return render_stems(compose_demo_song(seconds=6.0, seed=3), "midi4", sample_rate=22050)


def test_every_midi4_stem_sounds_and_sums_to_the_mixture(rendered):
    mixture, stems = rendered
    assert list(stems) == ["drums", "bass", "keys", "other"]
    for name, stem in stems.items():
        assert stem.dtype == np.float32 and stem.shape == mixture.shape
        assert rms_db(stem) > -35.0, name
    np.testing.assert_allclose(mixture, sum(stems.values()), atol=1e-6)
    assert abs(np.abs(mixture).max() - 0.99) < 1e-6


def test_instruments_land_in_their_general_midi_families():
    song = compose_demo_song(seconds=4.0)
    drums, bass, piano, strings = song.instruments
    assert drums.is_drum and {36, 38, 42}.issubset({n.pitch for n in drums.notes})
    assert 32 <= bass.program <= 39 and 0 <= piano.program <= 7 and 48 <= strings.program <= 51


def test_bass_follows_the_chord_roots():
    song = compose_demo_song(seconds=8.0, seed=5, tempo=120.0)
    _, bass, piano, _ = song.instruments
    for bar in range(4):
        start = bar * 2.0  # 4 beats at 120 bpm
        chord = sorted(n.pitch for n in piano.notes if abs(n.start - start) < 1e-6)
        first_bass = min((n for n in bass.notes if abs(n.start - start) < 1e-6), key=lambda n: n.pitch)
        assert (first_bass.pitch - chord[0]) % 12 == 0


def test_length_tempo_and_seed():
    song = compose_demo_song(seconds=12.0, seed=1, tempo=100.0)
    assert abs(song.get_end_time() - 12.0) < 2.4  # whole 4/4 bars at 100 bpm (2.4 s each)
    same = compose_demo_song(seconds=12.0, seed=1, tempo=100.0)
    other = compose_demo_song(seconds=12.0, seed=2, tempo=100.0)
    assert pitches(song) == pitches(same) != pitches(other)


def pitches(song) -> list[int]:
    return [note.pitch for instrument in song.instruments for note in instrument.notes]
