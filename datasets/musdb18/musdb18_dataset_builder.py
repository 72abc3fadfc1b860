"""``musdb18``: a tensorflow-datasets builder of MUSDB18 / MUSDB18-HQ from a manual download (card: README.md).

MUSDB18 cannot be downloaded without accepting its terms (Zenodo, academic use), so the user points the
manual directory at the folder holding ``train/`` and ``test/`` of either layout: ``.stem.mp4`` files
(MUSDB18, AAC) or ``<track>/{mixture,drums,bass,other,vocals}.wav`` folders (MUSDB18-HQ); a
``musdb18hq/`` or ``musdb18/`` folder inside the manual directory is found too. Tracks are decoded, brought to
the config's rate (soxr) and channel count (mono = mean) and cut into fixed-length segments (the last one
zero-padded) by :mod:`sepzoo.data.musdb`, the reader ``data.kind: musdb`` trains from::

    import tensorflow_datasets as tfds
    import datasets.musdb18  # registers "musdb18" (run from the repository root)

    ds = tfds.load("musdb18/stereo44k", split="train", batch_size=4,
                   download_and_prepare_kwargs={"download_config": tfds.download.DownloadConfig(
                       manual_dir="~/data/musdb18hq")})

Splits: ``train`` (86 tracks) and ``validation`` (14, the official list ``musdb`` ships) from ``train/``;
``test`` (50) from ``test/``. An example: ``track`` (text), ``start_sample`` and ``valid_samples`` (int64,
samples at the config's rate), and float32 ``(segment_samples, channels)`` waveforms ``mixture`` (MUSDB18's own
mix) and ``drums``, ``bass``, ``other``, ``vocals``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import tensorflow_datasets as tfds

from sepzoo.data.musdb import STREAM_ORDER, prepare_track, split_tracks
from sepzoo.errors import DataError

LAYOUT_FOLDERS = ("musdb18hq", "musdb18")
"""Folders inside the manual directory that may hold ``train/`` and ``test/``."""


@dataclasses.dataclass(eq=False)
class Musdb18Config(tfds.core.BuilderConfig):
    """A rendering of the corpus.

    Attributes:
        sample_rate: Hz (the corpus is 44 100 Hz; other rates are resampled with soxr).
        channels: 2 (as distributed) or 1 (mean of the two).
        segment_seconds: length of one example, s.
    """

    sample_rate: int = 44100
    channels: int = 2
    segment_seconds: float = 10.0


class Builder(tfds.core.GeneratorBasedBuilder):
    """MUSDB18 / MUSDB18-HQ as separation examples (see the module docstring and README.md)."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "First release: official 86 / 14 / 50 split, 10 s segments."}
    MANUAL_DOWNLOAD_INSTRUCTIONS = (
        "Download MUSDB18 (https://zenodo.org/records/1117372) or MUSDB18-HQ (https://zenodo.org/records/3338373) "
        "after accepting its terms, unpack it, and pass the folder holding train/ and test/ as the manual "
        "directory, e.g. `DownloadConfig(manual_dir='~/data/musdb18hq')`.")
    BUILDER_CONFIGS = [
        Musdb18Config(name="stereo44k", description="44.1 kHz stereo, as distributed, 10 s segments"),
        Musdb18Config(name="mono22k", description="22.05 kHz mono (mean of the channels), 10 s segments: the "
                                                  "seed paper's setting", sample_rate=22050, channels=1),
    ]

    def _info(self) -> tfds.core.DatasetInfo:
        config = self.builder_config
        samples = round(config.segment_seconds * config.sample_rate)

        def audio(doc: str) -> tfds.features.Audio:
            return tfds.features.Audio(shape=(samples, config.channels), dtype=np.float32,
                                       sample_rate=config.sample_rate, doc=doc)

        return self.dataset_info_from_configs(
            features=tfds.features.FeaturesDict({
                "track": tfds.features.Text(doc="track name, 'Artist - Title'"),
                "start_sample": tfds.features.Scalar(np.int64, doc="segment start in the track, samples"),
                "valid_samples": tfds.features.Scalar(np.int64, doc="samples before the zero padding"),
                **{name: audio(f"the {name} stream, float32 in about [-1, 1]") for name in STREAM_ORDER},
            }),
            homepage="https://sigsep.github.io/datasets/musdb.html",
        )

    def _split_generators(self, dl_manager: tfds.download.DownloadManager):
        root = musdb_root(Path(dl_manager.manual_dir))
        return {split: self._generate_examples(root, split) for split in ("train", "validation", "test")}

    def _generate_examples(self, root: Path, split: str):
        config = self.builder_config
        samples = round(config.segment_seconds * config.sample_rate)
        for track in split_tracks(root, split, "official", parts=STREAM_ORDER):
            audio = prepare_track(track, config.sample_rate, config.channels)  # (5, channels, n)
            for start in range(0, audio.shape[-1], samples):
                piece = audio[..., start:start + samples]
                valid = piece.shape[-1]
                piece = np.pad(piece, ((0, 0), (0, 0), (0, samples - valid))).transpose(0, 2, 1)
                yield f"{track.name}/{start}", {
                    "track": track.name, "start_sample": start, "valid_samples": valid,
                    **{name: np.ascontiguousarray(piece[i]) for i, name in enumerate(STREAM_ORDER)},
                }


def musdb_root(manual_dir: Path) -> Path:
    """The folder holding ``train/`` and ``test/``: ``manual_dir`` itself or one of :data:`LAYOUT_FOLDERS`."""
    for candidate in (manual_dir, *(manual_dir / name for name in LAYOUT_FOLDERS)):
        if (candidate / "train").is_dir() and (candidate / "test").is_dir():
            return candidate
    raise DataError(f"{manual_dir}: no train/ and test/ folders (nor in {' or '.join(LAYOUT_FOLDERS)}/); pass the "
                    "unpacked MUSDB18 or MUSDB18-HQ folder as the manual directory")
