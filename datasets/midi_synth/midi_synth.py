"""TFDS-style builder for MIDI-synthesised stems (see README.md beside this file for the dataset card).

The builder mirrors the ``tfds.core.DatasetBuilder`` surface (``info``, ``download_and_prepare``,
``as_dataset``) without depending on ``tensorflow_datasets``: validation and test are rendered once to a
stem tree (repeatable evaluation); train is synthesised on the fly, because the training data is unlimited.

    builder = MidiSynth("../shared/data/midi", data_dir="~/sepzoo_data/midi_synth")
    builder.download_and_prepare()                    # renders validation/ and test/
    test = builder.as_dataset("test", batch_size=8)   # tf.data of (mixture, stems)
"""

from __future__ import annotations

from pathlib import Path

from sepzoo.data.midi import MidiChunkSource
from sepzoo.data.midi.render_cache import render_corpus
from sepzoo.data.midi.soundfonts import find_soundfont
from sepzoo.data.midi.stem_tasks import get_task
from sepzoo.data.pipeline import make_tf_dataset
from sepzoo.data.stem_tree import StemTreeSource
from sepzoo.errors import DataError

PREPARED_SPLITS = ("validation", "test")


class MidiSynth:
    """MIDI corpus + soundfont -> per-stem waveforms for a stem task.

    Args:
        midi_dir: folder of MIDI files (searched recursively); songs split by a hash of the file name.
        data_dir: where the rendered validation/test trees go (``data_dir/<split>/<song>/*.wav``).
        task: stem task name (``"midi4"`` or ``"fixed4"`` or a registered one).
        soundfont: ``.sf2`` path or name; ``None`` = TimGM6mb.
        sample_rate: Hz.
        excerpt_seconds: length of each rendered evaluation excerpt, s (``None`` = whole songs).
    """

    VERSION = "1.0.0"

    def __init__(
        self,
        midi_dir: str | Path,
        data_dir: str | Path,
        task: str = "midi4",
        soundfont: str | Path | None = None,
        sample_rate: int = 22050,
        excerpt_seconds: float | None = 20.0,
    ) -> None:
        self.midi_dir = Path(midi_dir)
        self.data_dir = Path(data_dir).expanduser()
        self.task = get_task(task)
        self.soundfont = find_soundfont(soundfont)
        self.sample_rate = sample_rate
        self.excerpt_seconds = excerpt_seconds

    @property
    def info(self) -> dict:
        """Description, version and the layout of one example."""
        return {
            "name": f"midi_synth/{self.task.name}",
            "version": self.VERSION,
            "description": "Multi-instrument music rendered from MIDI with FluidSynth, one waveform per stem.",
            "sources": list(self.task.sources),
            "sample_rate": self.sample_rate,
            "soundfont": self.soundfont.name,
            "features": {
                "mixture": "float32 (samples, channels)",
                "stems": "float32 (samples, n_sources * channels), source-major; mixture == sum of stems",
            },
            "splits": {"train": "synthesised on the fly", **{s: str(self.data_dir / s) for s in PREPARED_SPLITS}},
        }

    def download_and_prepare(self, max_songs: int | None = None) -> dict[str, dict]:
        """Render the validation and test songs (nothing is downloaded); returns per-split counts."""
        return {
            split: dict(render_corpus(self.midi_dir, self.data_dir, self.task, split, sample_rate=self.sample_rate,
                                      soundfont=self.soundfont, excerpt_seconds=self.excerpt_seconds,
                                      max_songs=max_songs, progress=False))
            for split in PREPARED_SPLITS
        }

    def as_dataset(self, split: str, batch_size: int, chunk_samples: int = 16384, **source_options):
        """``tf.data.Dataset`` of ``(mixture (batch, samples, 1), stems (batch, samples, n_sources))`` batches.

        ``train`` streams a :class:`MidiChunkSource` (``source_options`` go to it: workers, pool_size, ...);
        the prepared splits read the rendered tree in a fixed order.
        """
        if split == "train":
            source = MidiChunkSource(self.midi_dir, self.task, "train", self.sample_rate, chunk_samples,
                                     soundfont=self.soundfont, **source_options)
        elif split in PREPARED_SPLITS:
            if not (self.data_dir / split / "render.json").is_file():
                raise DataError(f"{self.data_dir / split}: split not prepared; call download_and_prepare() first")
            source = StemTreeSource(self.data_dir / split, self.task.sources, chunk_samples, **source_options)
        else:
            raise DataError(f"split {split!r} is unknown; use train, validation or test")
        return make_tf_dataset(source, batch_size)
