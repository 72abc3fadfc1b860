"""The MIDI data engine: stem tasks, soundfonts, rendering (FluidSynth, TiMidity++), song splits, live chunk
sources (``data.kind: midi``) and rendering a corpus to a stem tree once.

Importing this package registers both renderers (:mod:`~sepzoo.data.midi.render` keeps a registry keyed by
instrument-file suffix; :mod:`~sepzoo.data.midi.timidity` adds ``.cfg``) and the ``midi`` example source.
NumPy-only at import; pretty_midi and FluidSynth load when a song is first parsed or rendered.
"""

from sepzoo.data.midi.chunk_pool import ChunkPool
from sepzoo.data.midi.render import BaseStemRenderer, StemRenderer, get_renderer, load_midi, register_renderer, render_stems
from sepzoo.data.midi.render_cache import busiest_window, render_corpus
from sepzoo.data.midi.soundfonts import default_soundfont, find_soundfont
from sepzoo.data.midi.source import MidiChunkSource
from sepzoo.data.midi.splits import list_midi_files, split_of
from sepzoo.data.midi.stem_tasks import StemTask, get_task, list_tasks, register_task
from sepzoo.data.midi.timidity import TimidityRenderer

__all__ = [
    "BaseStemRenderer",
    "ChunkPool",
    "MidiChunkSource",
    "StemRenderer",
    "StemTask",
    "TimidityRenderer",
    "busiest_window",
    "default_soundfont",
    "find_soundfont",
    "get_renderer",
    "get_task",
    "list_midi_files",
    "list_tasks",
    "load_midi",
    "register_renderer",
    "register_task",
    "render_corpus",
    "render_stems",
    "split_of",
]
