"""A short multi-instrument demo piece written in code, so demos and tests need no MIDI files.

Every ``midi4`` stem sounds: drums (kick, snare, hi-hats on channel 10), a finger bass following the chord
roots, an acoustic piano comping the chords, and a string ensemble holding them (the ``other`` stem).
"""

from __future__ import annotations

import numpy as np
import pretty_midi

# A I-V-vi-IV progression as (root pitch class offset from the key, minor?) per bar.
PROGRESSION = ((0, False), (7, False), (9, True), (5, False))
KICK, SNARE, CLOSED_HAT, OPEN_HAT, CRASH = 36, 38, 42, 46, 49
PIANO, FINGER_BASS, STRINGS = 0, 33, 48


def compose_demo_song(seconds: float = 12.0, seed: int = 0, tempo: float = 110.0) -> pretty_midi.PrettyMIDI:
    """Compose a pop groove in 4/4 lasting about ``seconds`` (whole bars, at least one).

    Args:
        seconds: wanted length in seconds.
        seed: picks the key (C to B) and humanises velocities; the same seed gives the same piece.
        tempo: beats per minute.

    Returns:
        A ``PrettyMIDI`` with four instruments: drums, finger bass (GM 33), acoustic grand piano (GM 0) and
        string ensemble (GM 48).
    """
    rng = np.random.default_rng(seed)
    key = 48 + int(rng.integers(0, 12))  # C3..B3
    beat = 60.0 / tempo
    bars = max(1, int(round(seconds / (4 * beat))))
    song = pretty_midi.PrettyMIDI(initial_tempo=tempo)
    drums = pretty_midi.Instrument(program=0, is_drum=True, name="drums")
    bass = pretty_midi.Instrument(program=FINGER_BASS, name="bass")
    piano = pretty_midi.Instrument(program=PIANO, name="piano")
    strings = pretty_midi.Instrument(program=STRINGS, name="strings")

    def add(instrument: pretty_midi.Instrument, pitch: int, start_beat: float, beats: float, velocity: int) -> None:
        jitter = int(rng.integers(-6, 7))
        instrument.notes.append(
            pretty_midi.Note(
                velocity=int(np.clip(velocity + jitter, 1, 127)),
                pitch=pitch,
                start=start_beat * beat,
                end=(start_beat + beats) * beat,
            )
        )

    for bar in range(bars):
        offset, minor = PROGRESSION[bar % len(PROGRESSION)]
        root = key + offset
        triad = (root, root + (3 if minor else 4), root + 7)
        first = 4.0 * bar
        _add_drum_bar(add, drums, first, crash=bar % 4 == 0)
        for eighth in range(8):  # bass: root on the beats, fifth on the last off-beat
            pitch = root - 24 + (7 if eighth == 7 else 0)
            add(bass, pitch, first + eighth / 2, 0.45, 100 if eighth % 2 == 0 else 80)
        for hit in (0.0, 1.5, 2.5, 3.0):  # piano: syncopated chord stabs, voiced an octave up
            for pitch in triad:
                add(piano, pitch + 12, first + hit, 0.4, 85)
        for pitch in (triad[0], triad[1] + 12, triad[2]):  # strings: held open voicing
            add(strings, pitch, first, 3.9, 70)
    song.instruments.extend([drums, bass, piano, strings])
    return song


def _add_drum_bar(add, drums: pretty_midi.Instrument, first: float, crash: bool) -> None:
    """Kick on 1 and 3 (plus the and-of-3), snare on 2 and 4, closed hats on eighths, open hat to close the bar."""
    for hit in (0.0, 2.0, 2.5):
        add(drums, KICK, first + hit, 0.25, 110)
    for hit in (1.0, 3.0):
        add(drums, SNARE, first + hit, 0.25, 105)
    for eighth in range(7):
        add(drums, CLOSED_HAT, first + eighth / 2, 0.2, 80 if eighth % 2 == 0 else 60)
    add(drums, OPEN_HAT, first + 3.5, 0.4, 75)
    if crash:
        add(drums, CRASH, first, 1.0, 100)
