"""Timbre variation at render time: swap each instrument's GM program for another that plays the same role.

A separation model trained on one or two soundfonts learns their samples rather than the instruments; the
usual cure is more timbres. A soundfont already holds eight variants of every General MIDI family (programs
8k to 8k + 7: eight pianos, eight basses, eight organs, ...) and eight drum kits, so re-voicing a song with
other members of the same families gives new timbres with the same notes, the same stem labels and no new
data. Only programs that the task puts in the same stem are drawn, so a fixed task never loses a target
and a partition never moves a note to another stem.
"""

from __future__ import annotations

import numpy as np

from sepzoo.data.midi.stem_tasks import StemTask, get_task

FAMILY_SIZE = 8
# The kits General MIDI 2 names in bank 128 (Standard, Room, Power, Electronic, TR-808, Jazz, Brush,
# Orchestra); TimGM6mb, sf_GMbank and FluidR3_GM all have these eight.
DRUM_KITS = (0, 8, 16, 24, 25, 32, 40, 48)


def same_role_programs(program: int, task: StemTask) -> list[int]:
    """The GM programs of ``program``'s family (8 programs) that ``task`` assigns to the same stem."""
    first = program // FAMILY_SIZE * FAMILY_SIZE
    stem = task.stem_index(program, False)
    return [other for other in range(first, first + FAMILY_SIZE) if task.stem_index(other, False) == stem]


def vary_programs(midi, task: str | StemTask, rng: np.random.Generator):
    """Give every instrument of ``midi`` a random program of its family and stem, and drum kits a random kit.

    Args:
        midi: a ``pretty_midi.PrettyMIDI``; changed in place.
        task: the stem task the song is rendered for (decides which programs share a stem).
        rng: source of the draws; one draw per instrument, in instrument order.

    Returns:
        ``midi``, for chaining.
    """
    task = get_task(task)
    for instrument in midi.instruments:
        choices = DRUM_KITS if instrument.is_drum else same_role_programs(instrument.program, task)
        instrument.program = int(rng.choice(choices))
    return midi
