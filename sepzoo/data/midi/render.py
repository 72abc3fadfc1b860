"""Render each stem of a MIDI piece with FluidSynth, one renderer (soundfont settings) reused per process.

Gain convention (every renderer in sepzoo follows it):

1. FluidSynth renders float32 samples directly (``fluid_synth_write_float``, synth gain 0.2, its default
   reverb and chorus on), so nothing is clipped or quantised to int16. Samples are pitched with linear
   interpolation (FluidSynth's default is 4th order): ~1.5x faster, and the difference is far below what
   a 22.05 kHz separation model resolves.
2. Each stem is rendered on its own by a new synthesizer; the mixture is the sum of the stems.
3. One gain per song scales every stem by the same factor so the mixture peak is 0.99 (full scale 1.0), so
   ``mixture == sum(stems)`` holds after normalisation too.

Arrays here are float32 ``(channels, samples)``; mono is the mean of FluidSynth's left and right outputs.
"""

from __future__ import annotations

import ctypes
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from sepzoo.audio_io import c_stderr_captured, summarise_c_messages
from sepzoo.data.midi.soundfonts import find_soundfont
from sepzoo.data.midi.stem_tasks import StemTask, get_task
from sepzoo.errors import ConfigError, DataError

PEAK = 0.99
DRUM_CHANNEL = 9
DRUM_BANK = 128
LINEAR_INTERPOLATION = 1  # FLUID_INTERP_LINEAR
TAIL_SECONDS = 1.0

# Event kinds, in the order they are applied when they share a sample: releases before new notes.
_NOTE_OFF, _CONTROL, _BEND, _NOTE_ON = range(4)


def load_midi(midi: str | Path):
    """Parse a MIDI file into a ``pretty_midi.PrettyMIDI``; raises :class:`DataError` for unreadable files.

    pretty_midi's warnings about slightly non-standard files (tempo events on other tracks) are silenced: such
    files are common in real corpora and render fine.
    """
    # Imported here: pretty_midi costs ~0.3 s, which `import sepzoo.data` (and so config loading) need not pay.
    import pretty_midi

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return pretty_midi.PrettyMIDI(str(midi))
    except Exception as error:  # pretty_midi/mido raise many types for malformed files
        raise DataError(f"{midi}: not a readable MIDI file ({type(error).__name__}: {error}); skip or repair it") from None


def group_instruments(midi, task: StemTask) -> list[list]:
    """The instruments (with notes) of ``midi`` that each stem of ``task`` renders, in stem order."""
    groups: list[list] = [[] for _ in task.stems]
    for instrument in midi.instruments:
        index = task.stem_index(instrument.program, instrument.is_drum)
        if index is not None and instrument.notes:
            groups[index].append(instrument)
    return groups


def check_render_settings(sample_rate: int, channels: int) -> None:
    """Raise :class:`ConfigError` unless ``channels`` is 1 or 2 and ``sample_rate`` is 8000-96000 Hz."""
    if channels not in (1, 2):
        raise ConfigError(f"channels={channels}: the renderer makes mono (1) or stereo (2) audio")
    if not 8000 <= sample_rate <= 96000:
        raise ConfigError(f"sample_rate={sample_rate} Hz: the renderers work at 8000-96000 Hz; pick a rate there")


class BaseStemRenderer:
    """What every renderer shares: group a piece's instruments by stem, render each group, apply the gain rule.

    Subclasses set ``sample_rate`` and ``channels`` and implement :meth:`render_instruments`.
    """

    sample_rate: int
    channels: int

    def render_task(self, midi, task: str | StemTask, normalize: bool = True) -> np.ndarray:
        """Render every stem of ``task`` from a ``PrettyMIDI``.

        Returns:
            float32 ``(n_sources, channels, samples)``; the piece's length plus a 1 s release tail. With
            ``normalize`` the stems share one gain that puts the peak of their sum at 0.99.
        """
        task = get_task(task)
        groups = group_instruments(midi, task)
        end = max((note.end for group in groups for inst in group for note in inst.notes), default=0.0)
        samples = int(np.ceil((end + TAIL_SECONDS) * self.sample_rate))
        stems = np.stack([self.render_instruments(group, samples) for group in groups])
        if normalize:
            peak = float(np.max(np.abs(stems.sum(axis=0)), initial=0.0))
            if peak > 0.0:
                stems *= np.float32(PEAK / peak)
        return stems

    def render_instruments(self, instruments: Sequence, samples: int) -> np.ndarray:
        """Render the sum of ``instruments`` (pretty_midi) into float32 ``(channels, samples)``."""
        raise NotImplementedError


class StemRenderer(BaseStemRenderer):
    """Renders stems with FluidSynth and one soundfont, rate and channel count; one per worker process, reused
    for every piece.

    Args:
        soundfont: path or name of a ``.sf2`` file (see :func:`find_soundfont`); ``None`` = TimGM6mb.
        sample_rate: output rate in Hz.
        channels: 1 (mono) or 2 (stereo) output channels.
        drum_soundfont: another ``.sf2`` that plays every drum kit, e.g. a multi-sampled acoustic kit such as
            Debian avldrums' ``Black_Pearl_4_LV2.sf2``; ``None`` = ``soundfont``'s kits. Kits missing from it
            take its bank-128 program 0, or its bank-0 program 0 when it has no bank 128 (single-kit
            soundfonts such as avldrums' keep their kit there).
    """

    def __init__(self, soundfont: str | Path | None = None, sample_rate: int = 22050, channels: int = 1,
                 drum_soundfont: str | Path | None = None) -> None:
        # Imported here: pyfluidsynth loads libfluidsynth, needed only by a FluidSynth renderer, not by the rest
        # of the MIDI engine (TiMidity++ patch sets, rendered trees).
        import fluidsynth

        check_render_settings(sample_rate, channels)
        self.soundfont = find_soundfont(soundfont)
        self.drum_soundfont = None if drum_soundfont is None else find_soundfont(drum_soundfont)
        self.sample_rate = int(sample_rate)
        self.channels = channels
        self._fluidsynth = fluidsynth
        self._set_interpolation = fluidsynth.cfunc(
            "fluid_synth_set_interp_method",
            ctypes.c_int,
            ("synth", ctypes.c_void_p, 1),
            ("chan", ctypes.c_int, 1),
            ("method", ctypes.c_int, 1),
        )
        self._write_float = fluidsynth.cfunc(
            "fluid_synth_write_float",
            ctypes.c_int,
            ("synth", ctypes.c_void_p, 1),
            ("len", ctypes.c_int, 1),
            ("lout", ctypes.c_void_p, 1),
            ("loff", ctypes.c_int, 1),
            ("lincr", ctypes.c_int, 1),
            ("rout", ctypes.c_void_p, 1),
            ("roff", ctypes.c_int, 1),
            ("rincr", ctypes.c_int, 1),
        )
        self._new_synth().delete()  # fail early on a bad soundfont

    def render_instruments(self, instruments: Sequence, samples: int) -> np.ndarray:
        """Render the sum of ``instruments`` (pretty_midi) into float32 ``(channels, samples)``.

        Melodic instruments each get their own MIDI channel, drum kits channel 9 with bank 128. Each pass
        starts from a new synthesizer: FluidSynth keeps voice, reverb and chorus state across
        ``system_reset``, so reusing one would make a stem depend on what was rendered before it. With
        dynamic sample loading a new synthesizer costs ~10 ms (TimGM6mb) to ~50 ms (FluidR3_GM).
        """
        stereo = np.zeros((2, samples), dtype=np.float32)
        for batch in _channel_batches(instruments):
            synth = self._new_synth()
            try:
                self._play(synth, self._select_programs(synth, batch), stereo)
            finally:
                synth.delete()
        return stereo if self.channels == 2 else stereo.mean(axis=0, keepdims=True)

    def _new_synth(self):
        synth = self._fluidsynth.Synth(samplerate=float(self.sample_rate), **{"synth.dynamic-sample-loading": 1})
        synth.sfid = synth.drum_sfid = self._load(synth, self.soundfont)
        if self.drum_soundfont is not None:
            synth.drum_sfid = self._load(synth, self.drum_soundfont)
        self._set_interpolation(synth.synth, -1, LINEAR_INTERPOLATION)
        return synth

    @staticmethod
    def _load(synth, soundfont: Path) -> int:
        """Load ``soundfont`` into ``synth``; return its id. FluidSynth's (and libinstpatch's) messages on
        the C-level stderr are captured and a failure is summarised in one :class:`DataError` line."""
        with c_stderr_captured() as messages:
            sfid = synth.sfload(str(soundfont))
        if sfid < 0:
            synth.delete()
            reason = summarise_c_messages(messages) or "no reason given"
            raise DataError(f"{soundfont}: FluidSynth cannot load this soundfont ({reason}); pass a valid .sf2 file")
        return sfid

    def _select_programs(self, synth, batch: list[tuple[int, object]]) -> list[tuple[int, int, int, int, int]]:
        events = []
        for channel, instrument in batch:
            sfid, bank = (synth.drum_sfid, DRUM_BANK) if instrument.is_drum else (synth.sfid, 0)
            # The named program, else the bank's program 0, else (a separate kit soundfont) its first preset;
            # looked up first, because a failed program_select prints a FluidSynth error per pass.
            choices = [(bank, instrument.program), (bank, 0)]
            if instrument.is_drum and self.drum_soundfont is not None:
                choices.append((0, 0))
            chosen = next((c for c in choices if synth.sfpreset_name(sfid, *c) is not None), choices[0])
            synth.program_select(channel, sfid, *chosen)
            events.extend(_instrument_events(instrument, channel, self.sample_rate))
        events.sort()
        return events

    def _play(self, synth, events: list[tuple[int, int, int, int, int]], out: np.ndarray) -> None:
        now, samples = 0, out.shape[1]
        left, right = out[0].ctypes.data, out[1].ctypes.data
        for time, kind, channel, a, b in events:
            time = min(time, samples)
            if time > now:
                self._write_float(synth.synth, time - now, left, now, 1, right, now, 1)
                now = time
            if kind == _NOTE_ON:
                synth.noteon(channel, a, b)
            elif kind == _NOTE_OFF:
                synth.noteoff(channel, a)
            elif kind == _CONTROL:
                synth.cc(channel, a, b)
            else:
                synth.pitch_bend(channel, a)
        if samples > now:
            self._write_float(synth.synth, samples - now, left, now, 1, right, now, 1)


def _channel_batches(instruments: Sequence) -> list[list[tuple[int, object]]]:
    """Split instruments into passes of (MIDI channel, instrument): one drum kit per pass on channel 9, and
    melodic instruments on the other 255 channels of the synthesizer."""
    melodic = [inst for inst in instruments if not inst.is_drum]
    free = [channel for channel in range(256) if channel != DRUM_CHANNEL]
    passes = [[(DRUM_CHANNEL, kit)] for kit in instruments if kit.is_drum]
    for index, start in enumerate(range(0, len(melodic), len(free))):
        if index == len(passes):
            passes.append([])
        passes[index].extend(zip(free, melodic[start : start + len(free)]))
    return passes


def _instrument_events(instrument, channel: int, sample_rate: int) -> list[tuple[int, int, int, int, int]]:
    """Sorted-ready ``(sample, kind, channel, a, b)`` events of one pretty_midi instrument."""
    def at(seconds: float) -> int:
        return int(round(seconds * sample_rate))

    events = [(at(n.start), _NOTE_ON, channel, n.pitch, n.velocity) for n in instrument.notes]
    events += [(at(n.end), _NOTE_OFF, channel, n.pitch, 0) for n in instrument.notes]
    events += [(at(c.time), _CONTROL, channel, c.number, c.value) for c in instrument.control_changes]
    events += [(at(p.time), _BEND, channel, p.pitch, 0) for p in instrument.pitch_bends]
    return events


RendererFactory = Callable[[str, int, int, "str | None"], BaseStemRenderer]
"""``factory(instrument_file, sample_rate, channels, drum_soundfont) -> renderer``."""

_RENDERER_TYPES: dict[str, RendererFactory] = {}
_RENDERERS: dict[tuple[str, int, int, str | None], BaseStemRenderer] = {}


def register_renderer(suffix: str) -> Callable[[RendererFactory], RendererFactory]:
    """Register the renderer factory for instrument files ending in ``suffix`` (e.g. ``".cfg"``); a decorator.

    :func:`get_renderer` picks the factory by the file's suffix; files of an unregistered suffix go to
    FluidSynth (``".sf2"``), which reports a file it cannot load. :mod:`sepzoo.data.midi.timidity` registers
    TiMidity++ patch sets this way (``sepzoo.data.midi`` imports it).
    """
    def register(factory: RendererFactory) -> RendererFactory:
        _RENDERER_TYPES[suffix.lower()] = factory
        return factory

    return register


@register_renderer(".sf2")
def _fluidsynth_renderer(soundfont: str, sample_rate: int, channels: int,
                         drum_soundfont: str | None) -> BaseStemRenderer:
    return StemRenderer(soundfont, sample_rate, channels, drum_soundfont)


def get_renderer(soundfont: str | Path | None = None, sample_rate: int = 22050, channels: int = 1,
                 drum_soundfont: str | Path | None = None) -> BaseStemRenderer:
    """The process-wide renderer for these settings (created once, then reused), made by the factory
    registered for the instrument file's suffix (:func:`register_renderer`): FluidSynth for a ``.sf2``
    (with ``drum_soundfont`` playing the kits, see :class:`StemRenderer`), TiMidity++ for a patch-set config
    ``.cfg`` (see :mod:`sepzoo.data.midi.timidity`)."""
    drums = None if drum_soundfont is None else str(find_soundfont(drum_soundfont))
    key = (str(find_soundfont(soundfont)), int(sample_rate), int(channels), drums)
    if key not in _RENDERERS:
        factory = _RENDERER_TYPES.get(Path(key[0]).suffix.lower(), _RENDERER_TYPES[".sf2"])
        _RENDERERS[key] = factory(*key)
    return _RENDERERS[key]


def render_stems(
    midi,
    task: str | StemTask = "midi4",
    sample_rate: int = 22050,
    soundfont: str | Path | None = None,
    channels: int = 1,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Render a MIDI file path or ``PrettyMIDI`` into a mixture and one waveform per stem of ``task``.

    Args:
        midi: path to a ``.mid`` file or a ``pretty_midi.PrettyMIDI``.
        task: stem task name or :class:`StemTask`.
        sample_rate: output rate in Hz.
        soundfont: ``.sf2`` path or name; ``None`` = TimGM6mb from pretty_midi.
        channels: 1 or 2.

    Returns:
        ``(mixture, stems)``: float32 arrays of shape ``(samples,)`` when mono, ``(2, samples)`` when stereo;
        ``stems`` maps each source name (task order) to its waveform; ``mixture`` is their sum, peak 0.99.
    """
    if isinstance(midi, (str, Path)):
        midi = load_midi(midi)
    task = get_task(task)
    stems = get_renderer(soundfont, sample_rate, channels).render_task(midi, task)
    if channels == 1:
        stems = stems[:, 0]
    return stems.sum(axis=0), dict(zip(task.sources, stems))
