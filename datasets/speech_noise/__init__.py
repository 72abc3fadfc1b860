"""``speech_noise``: importing this package registers the tensorflow-datasets builder ``speech_noise``."""

from .speech_noise_dataset_builder import Builder, SpeechNoiseConfig  # noqa: F401
