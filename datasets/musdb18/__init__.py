"""``musdb18``: importing this package registers the tensorflow-datasets builder ``musdb18``."""

from .musdb18_dataset_builder import Builder, Musdb18Config  # noqa: F401
