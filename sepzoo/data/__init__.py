"""Training data: MIDI-synthesised stems (render, chunk, pool), render caches, and batch pipelines.

NumPy-only at import; :mod:`sepzoo.data.pipeline` (Keras, TensorFlow) loads when its names are first used.
"""

from sepzoo.data.chunk_pool import ChunkPool
from sepzoo.data.chunks import ChunkFilter
from sepzoo.data.midi import MidiChunkSource
from sepzoo.data.render import StemRenderer, load_midi, render_stems
from sepzoo.data.render_cache import CachedChunkSource, render_corpus
from sepzoo.data.soundfonts import default_soundfont, find_soundfont
from sepzoo.data.splits import list_midi_files, split_of
from sepzoo.data.stem_tasks import StemTask, get_task, list_tasks, register_task

_PIPELINE = ("ExamplePyDataset", "iterate_batches", "make_tf_dataset")


def __getattr__(name):
    if name in _PIPELINE:
        from sepzoo.data import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module 'sepzoo.data' has no attribute {name!r}")


__all__ = [
    "CachedChunkSource",
    "ChunkFilter",
    "ChunkPool",
    "MidiChunkSource",
    "StemRenderer",
    "StemTask",
    "default_soundfont",
    "find_soundfont",
    "get_task",
    "list_midi_files",
    "list_tasks",
    "load_midi",
    "register_task",
    "render_corpus",
    "render_stems",
    "split_of",
    *_PIPELINE,
]
