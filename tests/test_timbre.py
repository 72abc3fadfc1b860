"""Render-time timbre variation: programs swapped within their GM family and stem, drum kits swapped."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import soundfile as sf
from conftest import average_spectrum

from sepzoo.data.midi.compose import compose_demo_song
from sepzoo.data.midi.render_cache import render_corpus
from sepzoo.data.midi.stem_tasks import get_task
from sepzoo.data.midi.timbre import DRUM_KITS, same_role_programs, vary_programs

RATE = 16000


def test_candidates_stay_in_the_family_and_the_stem():
    midi4, fixed4 = get_task("midi4"), get_task("fixed4")
    assert same_role_programs(33, midi4) == list(range(32, 40))  # the bass family
    assert same_role_programs(17, midi4) == list(range(16, 24))  # organs are midi4 keys
    assert same_role_programs(60, midi4) == list(range(56, 64))  # brass: 'other'
    # fixed4's strings stem is programs 40-51, so 52-55 (choirs, orchestra hit) are not strings: never drawn.
    assert same_role_programs(49, fixed4) == [48, 49, 50, 51]
    assert same_role_programs(53, fixed4) == [52, 53, 54, 55]  # removed instruments stay removed


def test_vary_programs_keeps_every_instrument_in_its_stem():
    task = get_task("midi4")
    song = compose_demo_song(seconds=2.0, seed=3)
    before = [(inst.program, inst.is_drum, task.stem_index(inst.program, inst.is_drum)) for inst in song.instruments]
    notes = [[(n.pitch, n.start, n.end, n.velocity) for n in inst.notes] for inst in song.instruments]
    drawn: Counter = Counter()
    for seed in range(40):
        varied = vary_programs(compose_demo_song(seconds=2.0, seed=3), task, np.random.default_rng(seed))
        assert [[(n.pitch, n.start, n.end, n.velocity) for n in inst.notes] for inst in varied.instruments] == notes
        for (program, is_drum, stem), inst in zip(before, varied.instruments):
            assert task.stem_index(inst.program, inst.is_drum) == stem
            if is_drum:
                assert inst.program in DRUM_KITS
            else:
                assert inst.program // 8 == program // 8
            drawn[(stem, inst.program)] += 1
    assert len(drawn) > 2 * len(before)  # the draws really vary
    again = vary_programs(compose_demo_song(seconds=2.0, seed=3), task, np.random.default_rng(5))
    once = vary_programs(compose_demo_song(seconds=2.0, seed=3), task, np.random.default_rng(5))
    assert [i.program for i in again.instruments] == [i.program for i in once.instruments]


def test_varied_render_changes_timbre_and_keeps_stems_apart(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    song = compose_demo_song(seconds=4.0, seed=1)
    song.write(str(corpus / "tune.mid"))
    plain = render_corpus(corpus, tmp_path / "plain", split=None, sample_rate=RATE, progress=False)
    varied = render_corpus(corpus, tmp_path / "varied", split=None, sample_rate=RATE, timbre_seed=4, progress=False)
    assert plain == varied == {"written": 1}
    assert json.loads((tmp_path / "varied" / "all" / "render.json").read_text())["timbre_seed"] == 4
    changed = 0
    for stem in ("drums", "bass", "keys", "other"):
        a = sf.read(tmp_path / "plain" / "all" / "tune" / f"{stem}.wav", dtype="float32")[0]
        b = sf.read(tmp_path / "varied" / "all" / "tune" / f"{stem}.wav", dtype="float32")[0]
        assert len(a) == len(b)
        silent_a, silent_b = np.max(np.abs(a)) < 1e-6, np.max(np.abs(b)) < 1e-6
        assert silent_a == silent_b  # a stem that plays still plays, a silent one stays silent
        if silent_a:
            continue
        # Other instruments: the average magnitude spectra differ (cosine similarity; 1.0 = same timbre).
        if float(average_spectrum(a) @ average_spectrum(b)) < 0.97:
            changed += 1
    assert changed >= 3
    mixture = sf.read(tmp_path / "varied" / "all" / "tune" / "mixture.wav", dtype="float32")[0]
    stems = [sf.read(tmp_path / "varied" / "all" / "tune" / f"{s}.wav", dtype="float32")[0]
             for s in ("drums", "bass", "keys", "other")]
    assert np.max(np.abs(mixture - np.sum(stems, axis=0))) <= 1e-6
