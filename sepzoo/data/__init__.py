"""Training data: the registry of example sources and the sources built in, stem trees, augmentation, and
batch pipelines.

- :mod:`sepzoo.data.sources`: ``data.kind`` -> source class (:func:`make_source`, :func:`register_source`);
- :mod:`sepzoo.data.tones` (``tones``), :mod:`sepzoo.data.midi` (``midi``, the MIDI engine),
  :mod:`sepzoo.data.stem_tree` (``stem_tree``, alias ``cache``), :mod:`sepzoo.data.speech_noise`
  (``speech_noise``, noisy speech mixed on the fly): the kinds built in, each registering itself;
- :mod:`sepzoo.data.augment`: training-only speed change, remixing and EQ of any source.

NumPy-only at import; :mod:`sepzoo.data.pipeline` (Keras, TensorFlow) loads when its names are first used.
"""

# The registry first, then the kinds built in, in the order `source_kinds()` lists them.
from sepzoo.data.sources import describe_source, make_source, register_source, source_kinds  # noqa: I001
from sepzoo.data.tones import ToneSource
from sepzoo.data.chunks import ChunkFilter
from sepzoo.data.midi import (ChunkPool, MidiChunkSource, StemRenderer, StemTask, default_soundfont, find_soundfont,
                              get_task, list_midi_files, list_tasks, load_midi, register_task, render_corpus,
                              render_stems, split_of)
from sepzoo.data.stem_tree import CachedChunkSource, StemTrees, StemTreeSource, open_stem_tree
from sepzoo.data.musdb import MusdbSource
from sepzoo.data.speech_noise import SpeechNoiseSource, render_speech_noise, speech_task_sources
from sepzoo.data.codec_pairs import CodecPairSource

_PIPELINE = ("ExamplePyDataset", "iterate_batches", "make_tf_dataset")


def __getattr__(name):
    # Keras and TensorFlow load only when a pipeline name is first used, not on `import sepzoo.data`.
    if name in _PIPELINE:
        from sepzoo.data import pipeline  # Keras and TensorFlow: see the comment above

        return getattr(pipeline, name)
    raise AttributeError(f"module 'sepzoo.data' has no attribute {name!r}")


__all__ = [
    "CachedChunkSource",
    "ChunkFilter",
    "ChunkPool",
    "MidiChunkSource",
    "StemRenderer",
    "StemTask",
    "StemTreeSource",
    "SpeechNoiseSource",
    "StemTrees",
    "ToneSource",
    "default_soundfont",
    "describe_source",
    "find_soundfont",
    "get_task",
    "list_midi_files",
    "list_tasks",
    "load_midi",
    "make_source",
    "open_stem_tree",
    "register_source",
    "register_task",
    "render_corpus",
    "render_speech_noise",
    "render_stems",
    "source_kinds",
    "speech_task_sources",
    "split_of",
    *_PIPELINE,
]
