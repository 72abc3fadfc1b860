"""A config's ``data`` section -> the registry's example source for a split -> batched ``tf.data`` streams.

Which source a ``data.kind`` names and what its ``data.options`` mean is the business of
:mod:`sepzoo.data.sources`; here the training side: the stream seeds, the training-only augmentation
wrapped around the training split's source, and the ``tf.data`` stream. Sources yield
``(mixture (context_samples, channels), stems (context_samples, n_sources * channels))`` examples. When
the model's output window is shorter than its input, the stems are cropped to the centred target window
here, so the loss always compares equal lengths.
"""

from __future__ import annotations

from typing import Any

from sepzoo.config import TrainConfig
from sepzoo.data.augment import AugmentedSource, source_samples
from sepzoo.data.sources import TRAIN, VALIDATION, make_source
from sepzoo.errors import ConfigError

__all__ = ["TRAIN", "VALIDATION", "make_dataset", "make_split_source", "stream_seed"]


def stream_seed(base_seed: int, step: int) -> int:
    """Seed of a training stream (re)started at optimiser step ``step``."""
    return base_seed * 1_000_003 + step


def make_split_source(config: TrainConfig, split: str, seed: int) -> Any:
    """The example source of ``config.data`` for ``split`` (``"train"`` or ``"validation"``): the registry's
    source of ``data.kind`` built from ``data.options``, wrapped in the training augmentations for ``"train"``.

    Raises :class:`ConfigError` (one line naming the config file) for bad options or when the source's stems
    differ from ``data.sources``.
    """
    data = config.data
    samples = source_samples(data.context_samples, split, data.speed_change)
    try:
        source = make_source(data.kind, split=split, sources=data.sources, sample_rate=data.sample_rate,
                             channels=data.channels, example_samples=samples, seed=seed, options=data.options,
                             base_dir=config.resolve_path("."), validation_examples=data.validation_examples)
    except ConfigError as error:
        raise ConfigError(f"{config.path}: {error}") from None
    if split != TRAIN or (data.remix == 0 and data.eq_db == 0 and data.speed_change == 0):
        return source
    return AugmentedSource(source, seed, data.sample_rate, remix=data.remix, remix_pool=data.remix_pool,
                           eq_db=data.eq_db, speed_change=data.speed_change, example_samples=data.context_samples)


def make_dataset(source: Any, batch_size: int, context_samples: int, target_samples: int, *,
                 shuffle_buffer: int = 0, batches: int | None = None):
    """Batched ``tf.data`` stream of ``(mixture (B, context, C), stems (B, target, S*C))`` from ``source``.

    ``batches`` limits the stream to that many batches (a fixed validation set); None keeps it endless.
    """
    # Imported here: the pipeline loads Keras and TensorFlow, which config checks and source building avoid.
    from sepzoo.data.pipeline import make_tf_dataset

    dataset = make_tf_dataset(source, batch_size, shuffle_buffer=shuffle_buffer, prefetch=True)
    if target_samples != context_samples:
        start = (context_samples - target_samples) // 2
        dataset = dataset.map(lambda mixture, stems: (mixture, stems[:, start:start + target_samples]))
    if batches is None:
        return dataset
    import tensorflow as tf  # only when a fixed validation set is asked for; the Keras backend may be JAX

    # repeat() keeps a fixed validation set full when its source is finite (a rendered split).
    return dataset.repeat().take(batches).apply(tf.data.experimental.assert_cardinality(batches))
