"""``midi_synth``: a tensorflow-datasets builder of multi-instrument stems rendered from MIDI (card: README.md).

Nothing is downloaded: the MIDI corpus is the manual directory (e.g. ``../shared/data/midi``). Each split's
songs (split by a hash of the file name, :func:`sepzoo.data.midi.split_of`) are rendered with FluidSynth by
:func:`sepzoo.data.midi.render_corpus` into a temporary stem tree, read back with
:mod:`sepzoo.data.stem_tree` and cut into fixed-length segments (the last one zero-padded), so examples batch
without padding::

    import tensorflow_datasets as tfds
    import datasets.midi_synth  # registers "midi_synth" (run from the repository root)

    ds = tfds.load("midi_synth/midi4", split="train", batch_size=8,
                   download_and_prepare_kwargs={"download_config": tfds.download.DownloadConfig(
                       manual_dir="../shared/data/midi")})

An example: ``song`` (text), ``start_sample`` and ``valid_samples`` (int64, samples at the config's rate),
``mixture`` float32 ``(segment_samples, channels)`` (the sum of the stems) and ``stems``: one float32
``(segment_samples, channels)`` per source of the task.
"""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path

import numpy as np
import tensorflow_datasets as tfds

from sepzoo.data.midi import get_task, render_corpus
from sepzoo.data.stem_tree import read_track, track_folders


@dataclasses.dataclass(eq=False)
class MidiSynthConfig(tfds.core.BuilderConfig):
    """A rendering of the corpus.

    Attributes:
        task: stem task (``midi4``: drums / bass / keys / other; ``fixed4``: drums / piano / strings / bass).
        sample_rate: Hz.
        channels: 1 (mean of FluidSynth's stereo) or 2.
        soundfont: ``.sf2`` path or name; None = TimGM6mb (in the ``pretty_midi`` wheel).
        excerpt_seconds: seconds kept of each song (its busiest stretch); None = whole songs.
        segment_seconds: length of one example, s.
        max_songs: songs rendered per split at most (None = all).
    """

    task: str = "midi4"
    sample_rate: int = 22050
    channels: int = 1
    soundfont: str | None = None
    excerpt_seconds: float | None = 20.0
    segment_seconds: float = 10.0
    max_songs: int | None = None


class Builder(tfds.core.GeneratorBasedBuilder):
    """MIDI renders as separation examples (see the module docstring and README.md)."""

    VERSION = tfds.core.Version("2.0.0")
    RELEASE_NOTES = {
        "1.0.0": "Builder imitating tfds (datasets/midi_synth/midi_synth.py): rendered validation/test trees.",
        "2.0.0": "A tensorflow_datasets GeneratorBasedBuilder: all three splits, fixed-length segments.",
    }
    MANUAL_DOWNLOAD_INSTRUCTIONS = (
        "Nothing is downloaded. Pass a folder of MIDI files (searched recursively) as the manual directory, "
        "e.g. `DownloadConfig(manual_dir='../shared/data/midi')`; songs are split 80 / 10 / 10 by a hash of "
        "their file names.")
    BUILDER_CONFIGS = [
        MidiSynthConfig(name="midi4", description="drums / bass / keys / other, 22.05 kHz mono, 20 s excerpts",
                        task="midi4"),
        MidiSynthConfig(name="fixed4", description="drums / piano / strings / bass (other instruments removed), "
                                                   "22.05 kHz mono, 20 s excerpts", task="fixed4"),
    ]

    def _info(self) -> tfds.core.DatasetInfo:
        config = self.builder_config
        samples = round(config.segment_seconds * config.sample_rate)

        def audio(doc: str) -> tfds.features.Audio:
            return tfds.features.Audio(shape=(samples, config.channels), dtype=np.float32,
                                       sample_rate=config.sample_rate, doc=doc)

        sources = get_task(config.task).sources
        return self.dataset_info_from_configs(
            features=tfds.features.FeaturesDict({
                "song": tfds.features.Text(doc="song file name"),
                "start_sample": tfds.features.Scalar(np.int64, doc="segment start in the rendered excerpt, samples"),
                "valid_samples": tfds.features.Scalar(np.int64, doc="samples before the zero padding"),
                "mixture": audio("sum of the stems, float32 in [-1, 1]"),
                "stems": tfds.features.FeaturesDict({name: audio(f"the {name} stem") for name in sources}),
            }),
        )

    def _split_generators(self, dl_manager: tfds.download.DownloadManager):
        midi_dir = Path(dl_manager.manual_dir)
        return {split: self._generate_examples(midi_dir, split) for split in ("train", "validation", "test")}

    def _generate_examples(self, midi_dir: Path, split: str):
        config = self.builder_config
        task = get_task(config.task)
        samples = round(config.segment_seconds * config.sample_rate)
        with tempfile.TemporaryDirectory(prefix=f"midi_synth_{split}_") as tree:
            render_corpus(midi_dir, tree, task, split, sample_rate=config.sample_rate, soundfont=config.soundfont,
                          channels=config.channels, excerpt_seconds=config.excerpt_seconds,
                          max_songs=config.max_songs, progress=False)
            for song in track_folders(Path(tree) / split):
                _, stems, _ = read_track(song, task.sources)
                length = min(stem.shape[1] for stem in stems.values())
                for start in range(0, length, samples):
                    valid = min(samples, length - start)
                    pieces = {name: _segment(stem, start, samples) for name, stem in stems.items()}
                    yield f"{song.name}/{start}", {
                        "song": song.name, "start_sample": start, "valid_samples": valid,
                        "mixture": sum(pieces.values()), "stems": pieces,
                    }


def _segment(audio: np.ndarray, start: int, samples: int) -> np.ndarray:
    """``audio`` (channels, n)[start:start + samples] as float32 ``(samples, channels)``, zero-padded."""
    piece = audio[:, start:start + samples].T
    return np.pad(piece, ((0, samples - piece.shape[0]), (0, 0))).astype(np.float32)
