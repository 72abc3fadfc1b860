"""``speech_noise``: a tensorflow-datasets builder of noisy speech for speech denoising (card: README.md).

Nothing is downloaded: the manual directory holds a ``speech/`` folder of clean speech and a ``noise/`` folder of
noise recordings (any format :mod:`sepzoo.audio_io` reads, searched recursively), e.g. ``../shared/data``. Each
example is drawn by :class:`sepzoo.data.speech_noise.SpeechNoiseSource`, the source ``data.kind: speech_noise``
trains from: a random excerpt of a speech file and one of a noise file, the noise scaled to an SNR drawn from
the config's range, both scaled to a random mixture level; the mixture is exactly ``speech + noise``::

    import tensorflow_datasets as tfds
    import datasets.speech_noise  # registers "speech_noise" (run from the repository root)

    ds = tfds.load("speech_noise/mono16k", split="train", batch_size=16,
                   download_and_prepare_kwargs={"download_config": tfds.download.DownloadConfig(
                       manual_dir="../shared/data")})

Splits ``train`` / ``validation`` / ``test`` follow that source's rule (:func:`sepzoo.data.speech_noise.
assign_splits`): a ``speakers.csv`` / ``sources.csv`` beside or above the folders keeps each speaker and noise
recording in one split; files no csv lists are split by a hash of their speaker or recording folder. Example
``i`` of a split is a pure function of ``(seed, split, i)``, so a rebuild gives the same examples.

An example: float32 ``(example_samples, channels)`` waveforms ``mixture``, ``speech`` and ``noise``; ``snr_db``
(speech-to-noise power ratio over the example, dB) and ``level_db`` (mixture RMS, dBFS), float32;
``speech_file`` and ``noise_file`` (text, relative to the manual directory) and ``speech_start``,
``noise_start`` (int64, the first sample taken from each file at the config's rate; a negative
``speech_start`` places a short file that many samples into silence).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import tensorflow_datasets as tfds

from sepzoo.data.speech_noise import DEFAULT_LEVEL_DB, DEFAULT_SNR_DB, SpeechNoiseSource
from sepzoo.errors import DataError

SPLITS = ("train", "validation", "test")
SPEECH_FOLDER, NOISE_FOLDER = "speech", "noise"
"""Folders of the manual directory."""


@dataclasses.dataclass(eq=False)
class SpeechNoiseConfig(tfds.core.BuilderConfig):
    """A rendering of the speech and noise folders.

    Attributes:
        sample_rate: Hz; files are resampled to it (soxr).
        channels: 1 (files down-mixed) or 2 (mono files duplicated).
        example_seconds: length of one example, s.
        train_examples, validation_examples, test_examples: examples drawn per split.
        snr_db: ``(low, high)`` range of the speech-to-noise ratio, dB, drawn uniformly per example.
        level_db: ``(low, high)`` range of the mixture RMS level, dBFS (lowered to keep the peak below 0.99).
        include_narrowband: keep speech recorded below 16 kHz (FSDD's 8 kHz) at a rate above its own.
        seed: example ``i`` of a split depends only on ``(seed, split, i)``.
    """

    sample_rate: int = 16000
    channels: int = 1
    example_seconds: float = 4.0
    train_examples: int = 5000
    validation_examples: int = 500
    test_examples: int = 500
    snr_db: tuple[float, float] = DEFAULT_SNR_DB
    level_db: tuple[float, float] = DEFAULT_LEVEL_DB
    include_narrowband: bool = False
    seed: int = 0


class Builder(tfds.core.GeneratorBasedBuilder):
    """Speech + noise mixtures as denoising examples (see the module docstring and README.md)."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "First release: speaker-disjoint splits, 4 s examples, SNR U[-5, 20] dB."}
    MANUAL_DOWNLOAD_INSTRUCTIONS = (
        "Nothing is downloaded. Pass a folder holding speech/ (clean speech) and noise/ (noise recordings) as the "
        "manual directory, e.g. `DownloadConfig(manual_dir='../shared/data')`; a speakers.csv / sources.csv "
        "(columns file, split_group, suggested_split) in or above those folders keeps speakers and recordings "
        "in one split.")
    BUILDER_CONFIGS = [
        SpeechNoiseConfig(name="mono16k", description="16 kHz mono, 4 s examples, wideband speech only, "
                                                      "SNR U[-5, 20] dB, level U[-30, -10] dBFS"),
        SpeechNoiseConfig(name="mono8k", description="8 kHz mono, 4 s examples (narrowband speech such as FSDD "
                                                     "included), SNR U[-5, 20] dB, level U[-30, -10] dBFS",
                          sample_rate=8000),
    ]

    def _info(self) -> tfds.core.DatasetInfo:
        config = self.builder_config
        samples = example_samples(config)

        def audio(doc: str) -> tfds.features.Audio:
            return tfds.features.Audio(shape=(samples, config.channels), dtype=np.float32,
                                       sample_rate=config.sample_rate, doc=doc)

        return self.dataset_info_from_configs(
            features=tfds.features.FeaturesDict({
                "mixture": audio("speech + noise, exactly (float32)"),
                "speech": audio("the clean speech after the level gain"),
                "noise": audio("the noise after the SNR and level gains"),
                "snr_db": tfds.features.Scalar(np.float32, doc="speech-to-noise power ratio over the example, dB"),
                "level_db": tfds.features.Scalar(np.float32, doc="mixture RMS level, dBFS"),
                "speech_file": tfds.features.Text(doc="speech file, relative to the manual directory"),
                "noise_file": tfds.features.Text(doc="noise file, relative to the manual directory"),
                "speech_start": tfds.features.Scalar(np.int64, doc="first sample taken from the speech file "
                                                                   "(negative: placed that far into silence)"),
                "noise_start": tfds.features.Scalar(np.int64, doc="first sample taken from the noise file "
                                                                  "(looped when shorter than the example)"),
            }),
            supervised_keys=("mixture", "speech"),
        )

    def _split_generators(self, dl_manager: tfds.download.DownloadManager):
        manual_dir = Path(dl_manager.manual_dir)
        folders = [manual_dir / SPEECH_FOLDER, manual_dir / NOISE_FOLDER]
        missing = [str(folder) for folder in folders if not folder.is_dir()]
        if missing:
            raise DataError(f"{', '.join(missing)}: no such folder; the manual directory must hold "
                            f"{SPEECH_FOLDER}/ and {NOISE_FOLDER}/ folders of audio files (e.g. ../shared/data)")
        # Every split is opened before any example is written, so a split without speech or noise fails at once.
        sources = {split: self._source(*folders, split) for split in SPLITS}
        return {split: self._generate_examples(source) for split, source in sources.items()}

    def _source(self, speech: Path, noise: Path, split: str) -> SpeechNoiseSource:
        config = self.builder_config
        return SpeechNoiseSource([speech], [noise], split=split, sample_rate=config.sample_rate,
                                 example_samples=example_samples(config), channels=config.channels, seed=config.seed,
                                 snr_db=config.snr_db, level_db=config.level_db,
                                 include_narrowband=config.include_narrowband)

    def _generate_examples(self, source: SpeechNoiseSource):
        for index in range(getattr(self.builder_config, f"{source.split}_examples")):
            drawn = source.draw(index)
            yield f"{index:07d}", {
                "mixture": np.ascontiguousarray(drawn.mixture.T), "speech": np.ascontiguousarray(drawn.speech.T),
                "noise": np.ascontiguousarray(drawn.noise.T),
                "snr_db": np.float32(drawn.snr_db), "level_db": np.float32(drawn.level_db),
                "speech_file": drawn.speech_file, "noise_file": drawn.noise_file,
                "speech_start": drawn.speech_start, "noise_start": drawn.noise_start,
            }


def example_samples(config: SpeechNoiseConfig) -> int:
    """Samples in one example at the config's rate."""
    return round(config.example_seconds * config.sample_rate)
