"""Rendering stems with FluidSynth: exact mixtures, removed instruments, determinism, soundfonts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pretty_midi
import pytest
from conftest import average_spectrum

from sepzoo.data.midi.compose import compose_demo_song
from sepzoo.data.midi.render import StemRenderer, get_renderer, render_stems
from sepzoo.data.midi.soundfonts import default_soundfont, find_soundfont
from sepzoo.errors import ConfigError, DataError

RATE = 22050


def with_extra_parts(song: pretty_midi.PrettyMIDI) -> pretty_midi.PrettyMIDI:
    """Add a trumpet (GM 56) melody and an organ (GM 16, a midi4 'keys' program) to a composed song."""
    end = song.get_end_time()
    for program, pitches in ((56, (72, 74, 76, 79)), (16, (60, 64, 67))):
        part = pretty_midi.Instrument(program=program)
        step = 0.5 if program == 56 else 2.0
        for i, t in enumerate(np.arange(0.0, end - step, step)):
            part.notes.append(pretty_midi.Note(velocity=110, pitch=pitches[i % len(pitches)], start=t, end=t + step))
        song.instruments.append(part)
    return song


def rms_db(x: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(np.square(x, dtype=np.float64)) + 1e-20))


def snr_db(reference: np.ndarray, estimate: np.ndarray) -> float:
    """Energy of ``reference`` over that of the difference, in dB (FluidSynth's effects are linear to ~80 dB)."""
    error = np.sum(np.square(estimate - reference, dtype=np.float64))
    return float(10 * np.log10(np.sum(np.square(reference, dtype=np.float64)) / (error + 1e-30)))


@pytest.fixture(scope="module")
def song() -> pretty_midi.PrettyMIDI:
    return with_extra_parts(compose_demo_song(seconds=5.0, seed=7))


def test_midi4_mixture_is_the_sum_of_stems(song):
    mixture, stems = render_stems(song, "midi4", sample_rate=RATE)
    assert mixture.dtype == np.float32 and mixture.ndim == 1
    assert np.max(np.abs(mixture - np.sum(list(stems.values()), axis=0))) <= 1e-6
    assert abs(float(np.max(np.abs(mixture))) - 0.99) < 1e-6
    assert len(mixture) == int(np.ceil((song.get_end_time() + 1.0) * RATE))
    assert all(rms_db(stem) > -35 for stem in stems.values())


def test_fixed4_mixture_holds_no_energy_from_removed_instruments(song):
    renderer = get_renderer(None, RATE, 1)
    fixed = renderer.render_task(song, "fixed4", normalize=False)
    complete = renderer.render_task(song, "midi4", normalize=False)
    removed_parts = [inst for inst in song.instruments if inst.program == 56]
    removed = renderer.render_instruments(removed_parts, fixed.shape[-1])
    assert rms_db(removed) > rms_db(fixed.sum(axis=0)) - 12  # the trumpet is loud
    # The partition holds everything; take away the fixed4 mixture and exactly the trumpet and organ remain.
    organ = renderer.render_instruments([inst for inst in song.instruments if inst.program == 16], fixed.shape[-1])
    leftover = complete.sum(axis=0) - fixed.sum(axis=0)
    assert snr_db(removed + organ, leftover) > 60
    # And the fixed4 mixture is its four target instruments, each rendered alone.
    targets = [[inst for inst in song.instruments if inst.program == p and not inst.is_drum] for p in (0, 48, 33)]
    drums = [inst for inst in song.instruments if inst.is_drum]
    expected = sum(renderer.render_instruments(group, fixed.shape[-1]) for group in [drums, *targets])
    assert snr_db(expected, fixed.sum(axis=0)) > 60


def test_rendering_is_deterministic_whatever_was_rendered_before(song):
    first = render_stems(song, "midi4", RATE)[0]
    render_stems(compose_demo_song(seconds=3.0, seed=1), "fixed4", RATE)
    again = render_stems(song, "midi4", RATE)[0]
    fresh = StemRenderer(sample_rate=RATE).render_task(song, "midi4")[:, 0].sum(axis=0)
    assert np.array_equal(first, again) and np.array_equal(first, fresh)


def test_stereo_and_other_rates(song):
    mixture, stems = render_stems(song, "midi4", sample_rate=16000, channels=2)
    assert mixture.shape == (2, int(np.ceil((song.get_end_time() + 1.0) * 16000)))
    assert stems["bass"].shape == mixture.shape
    assert not np.allclose(mixture[0], mixture[1])  # GM presets and the reverb are panned, not dual mono


def test_a_midi_path_is_read(song, tmp_path: Path):
    path = tmp_path / "song.mid"
    song.write(str(path))
    from_file = render_stems(path, "midi4", RATE)[0]
    assert rms_db(from_file) > -30


def test_corrupt_files_and_bad_settings_are_one_line_errors(tmp_path: Path):
    bad = tmp_path / "broken.mid"
    bad.write_bytes(b"MThd\x00\x00\x00\x06garbage")
    with pytest.raises(DataError, match="broken.mid"):
        render_stems(bad)
    with pytest.raises(ConfigError, match="8000-96000"):
        StemRenderer(sample_rate=4000)
    with pytest.raises(DataError, match="not found"):
        find_soundfont("NoSuchFont.sf2")


def test_soundfonts_are_found():
    assert default_soundfont().name == "TimGM6mb.sf2" and find_soundfont(None) == default_soundfont()
    assert find_soundfont("TimGM6mb.sf2") == default_soundfont()
    debian = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
    if not debian.is_file():
        pytest.skip("fluid-soundfont-gm is not installed")
    assert find_soundfont("FluidR3_GM.sf2") == debian


AVL_KIT = Path("/usr/share/sounds/sf2/Black_Pearl_4_LV2.sf2")


@pytest.mark.skipif(not AVL_KIT.is_file(), reason="needs Debian avldrums.lv2-soundfont (scripts/setup_env.sh)")
def test_a_drum_soundfont_plays_the_kits_and_nothing_else(song):
    plain = get_renderer(None, RATE, 1).render_task(song, "midi4", normalize=False)
    acoustic = get_renderer(None, RATE, 1, drum_soundfont=AVL_KIT.name).render_task(song, "midi4", normalize=False)
    drums = 0  # midi4's first stem
    # The melodic stems are TimGM6mb's, sample for sample.
    np.testing.assert_array_equal(acoustic[1:], plain[1:])
    # The kit (a bank-0-only soundfont) sounds, and its samples are not TimGM6mb's: the spectra differ.
    assert rms_db(acoustic[drums]) > -40
    assert float(average_spectrum(acoustic[drums, 0]) @ average_spectrum(plain[drums, 0])) < 0.95
    with pytest.raises(ConfigError, match="patch set"):
        get_renderer("freepats.cfg", RATE, 1, drum_soundfont=AVL_KIT.name)


def test_an_invalid_soundfont_is_one_line_and_fluidsynth_prints_nothing(tmp_path: Path, capfd):
    bad = tmp_path / "bad.sf2"
    bad.write_text("not a soundfont\n")
    capfd.readouterr()
    with pytest.raises(DataError) as caught:
        StemRenderer(bad, sample_rate=RATE)
    expected = f"{bad}: FluidSynth cannot load this soundfont (Not a RIFF file); pass a valid .sf2 file"
    assert str(caught.value) == expected
    assert capfd.readouterr().err == ""  # FluidSynth's and libinstpatch's own lines went into the message
