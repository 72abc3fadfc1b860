"""Render stems with TiMidity++ and a GUS patch set, a sample source independent of the GM soundfonts.

A patch-set config in place of a soundfont selects this renderer: ``sepzoo render ... --soundfont
freepats.cfg`` (Debian's ``timidity`` and ``freepats`` packages install ``/etc/timidity/freepats.cfg``).
FreePats records its own instruments, so its renders give a model timbres that no ``.sf2`` in the zoo's
training set shares.

It follows the gain convention of :mod:`sepzoo.data.midi.render`: each stem is rendered on its own (one TiMidity++
run on a MIDI file holding only that stem's instruments, reverb and chorus at TiMidity++'s defaults, 24-bit
output at 30 % volume so dense stems do not clip), the mixture is the sum of the stems, and one gain per song
puts the mixture's peak at 0.99.

Patch sets rarely hold every GM program (FreePats 20060219 has 72 of 128 and one drum set). An instrument
whose program is missing plays the closest program the set has among those the task puts in the same stem,
preferring its own GM family; a drum kit the set lacks plays drum set 0.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from sepzoo.audio_io import read_audio
from sepzoo.data.midi.render import BaseStemRenderer, check_render_settings, register_renderer
from sepzoo.data.midi.soundfonts import find_soundfont
from sepzoo.data.midi.stem_tasks import StemTask, get_task
from sepzoo.data.midi.timbre import FAMILY_SIZE
from sepzoo.errors import ConfigError, DataError

VOLUME_PERCENT = 30


def patch_set_contents(config: Path) -> tuple[set[int], set[int]]:
    """GM programs of ``bank 0`` and drum sets that a TiMidity++ config (and the files it sources) defines."""
    programs: set[int] = set()
    drumsets: set[int] = set()
    section: tuple[str, int] | None = None
    for line in config.read_text(errors="replace").splitlines():
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        if words[0] in ("bank", "drumset") and len(words) > 1 and words[1].isdigit():
            section = (words[0], int(words[1]))
            if words[0] == "drumset":
                drumsets.add(int(words[1]))
        elif words[0] == "source" and len(words) > 1:
            included = (config.parent / words[1]) if not Path(words[1]).is_absolute() else Path(words[1])
            if included.is_file():
                more_programs, more_drumsets = patch_set_contents(included)
                programs |= more_programs
                drumsets |= more_drumsets
        elif re.fullmatch(r"\d+", words[0]) and section == ("bank", 0):
            programs.add(int(words[0]))
    return programs, drumsets


def closest_program(program: int, available: set[int], task: StemTask) -> int:
    """The program of ``available`` that stands in for ``program``: itself, else the nearest one in the same
    stem of ``task`` (same GM family first); ``program`` itself when the stem has none."""
    if program in available:
        return program
    stem = task.stem_index(program, False)
    candidates = [p for p in available if task.stem_index(p, False) == stem]
    if not candidates:
        return program
    return min(candidates, key=lambda p: (p // FAMILY_SIZE != program // FAMILY_SIZE, abs(p - program), p))


class TimidityRenderer(BaseStemRenderer):
    """Renders stems with the ``timidity`` program and a patch-set config; one per worker process.

    Args:
        config: path or name of a TiMidity++ ``.cfg`` (see :func:`~sepzoo.data.midi.soundfonts.find_soundfont`).
        sample_rate: output rate in Hz.
        channels: 1 (mono) or 2 (stereo) output channels.
    """

    def __init__(self, config: str | Path, sample_rate: int = 22050, channels: int = 1) -> None:
        check_render_settings(sample_rate, channels)
        self.executable = shutil.which("timidity")
        if self.executable is None:
            raise ConfigError("timidity: not installed; apt-get install timidity freepats, or use a .sf2 soundfont")
        self.soundfont = find_soundfont(config)
        self.sample_rate = int(sample_rate)
        self.channels = channels
        self.programs, self.drumsets = patch_set_contents(self.soundfont)
        if not self.programs:
            raise DataError(f"{self.soundfont}: defines no bank-0 instruments; pass a TiMidity++ patch-set config")

    def render_task(self, midi, task: str | StemTask, normalize: bool = True) -> np.ndarray:
        """As :meth:`BaseStemRenderer.render_task`; programs missing from the patch set are replaced in
        ``midi`` (in place) by those that stand in for them."""
        task = get_task(task)
        for instrument in midi.instruments:
            if instrument.is_drum:
                instrument.program = instrument.program if instrument.program in self.drumsets else 0
            else:
                instrument.program = closest_program(instrument.program, self.programs, task)
        return super().render_task(midi, task, normalize)

    def render_instruments(self, instruments: Sequence, samples: int) -> np.ndarray:
        """Render the sum of ``instruments`` (pretty_midi) into float32 ``(channels, samples)``."""
        import pretty_midi  # here: ~0.3 s that `import sepzoo.data` need not pay

        out = np.zeros((self.channels, samples), dtype=np.float32)
        if not instruments:
            return out
        piece = pretty_midi.PrettyMIDI()
        piece.instruments = list(instruments)
        with tempfile.TemporaryDirectory(prefix="sepzoo-timidity-") as folder:
            midi_path, wav_path = Path(folder) / "stem.mid", Path(folder) / "stem.wav"
            piece.write(str(midi_path))
            # --preserve-silence: TiMidity++ drops a file's leading silence by default, which would shift
            # every stem whose first note comes late against the others.
            command = [self.executable, "-idq", "--preserve-silence", "-c", str(self.soundfont), "-Ow",
                       "--output-24bit", "--output-mono" if self.channels == 1 else "--output-stereo",
                       "-s", str(self.sample_rate), "-A", str(VOLUME_PERCENT), "-o", str(wav_path), str(midi_path)]
            result = subprocess.run(command, capture_output=True, text=True)
            if result.returncode != 0 or not wav_path.is_file():
                raise DataError(f"{self.soundfont}: timidity failed ({result.stderr.strip()[-200:]}); "
                                "check the patch set")
            audio = read_audio(wav_path)[0]
        length = min(samples, audio.shape[-1])
        out[:, :length] = audio[:, :length]
        return out


@register_renderer(".cfg")
def _timidity_renderer(config: str, sample_rate: int, channels: int, drum_soundfont: str | None) -> TimidityRenderer:
    if drum_soundfont is not None:
        raise ConfigError(f"{drum_soundfont}: a separate drum soundfont works with FluidSynth .sf2 soundfonts, "
                          f"not with the patch set {config}; drop it or render with an .sf2")
    return TimidityRenderer(config, sample_rate, channels)
