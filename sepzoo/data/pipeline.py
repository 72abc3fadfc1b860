"""Batches of examples for ``model.fit``: a ``tf.data`` wrapper and a ``keras.utils.PyDataset`` for JAX/PyTorch.

Both take a *source*: a re-iterable of examples ``(mixture (samples, channels), stems (samples, n_sources *
channels))`` such as :class:`~sepzoo.data.midi.MidiChunkSource`, or a callable returning an iterator of them.
Both yield ``(mixture_batch (batch, samples, channels), stems_batch (batch, samples, n_sources * channels))``
float32, consecutive examples in source order, dropping a last incomplete batch; with ``shuffle_buffer=0`` they
serve identical batches.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterable, Iterator

import keras
import numpy as np

from sepzoo.data.chunks import Example
from sepzoo.errors import DataError

Source = Iterable[Example] | Callable[[], Iterator[Example]]


def _iterate(source: Source) -> Iterator[Example]:
    return source() if callable(source) else iter(source)


def example_shapes(source: Source) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """``(mixture shape, stems shape)`` of one example: the source's ``example_shapes`` or its first example."""
    shapes = getattr(source, "example_shapes", None)
    if shapes is not None:
        return tuple(shapes[0]), tuple(shapes[1])
    first = next(_iterate(source), None)
    if first is None:
        raise DataError(f"{type(source).__name__}: the data source yielded no examples; check its files and filters")
    return first[0].shape, first[1].shape


def iterate_batches(source: Source, batch_size: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """One pass over ``source`` as stacked float32 batches of ``batch_size`` (a last partial batch is dropped)."""
    examples = _iterate(source)
    while batch := list(itertools.islice(examples, batch_size)):
        if len(batch) < batch_size:
            return
        yield (np.stack([m for m, _ in batch]).astype(np.float32, copy=False),
               np.stack([s for _, s in batch]).astype(np.float32, copy=False))


def make_tf_dataset(source: Source, batch_size: int, *, shuffle_buffer: int = 0, prefetch: bool = True):
    """A ``tf.data.Dataset`` of ``(mixture_batch, stems_batch)`` with fully static shapes.

    Args:
        source: re-iterable of examples, or a callable returning an iterator; iterated once per dataset pass.
            A sized source (with ``len``) gives the dataset a known cardinality.
        batch_size: examples per batch.
        shuffle_buffer: if > 0, shuffle examples through a buffer of this many (on top of the source's pool).
        prefetch: overlap producing batches with training (``tf.data.AUTOTUNE``).
    """
    import tensorflow as tf  # here: under the JAX backend TensorFlow loads only when a tf.data stream is built

    mixture_shape, stems_shape = example_shapes(source)
    signature = (tf.TensorSpec(mixture_shape, tf.float32), tf.TensorSpec(stems_shape, tf.float32))
    dataset = tf.data.Dataset.from_generator(lambda: _iterate(source), output_signature=signature)
    if shuffle_buffer > 0:
        dataset = dataset.shuffle(shuffle_buffer)
    dataset = dataset.batch(batch_size, drop_remainder=True)
    if hasattr(source, "__len__"):  # a sized source (a list of examples) gives Keras a known epoch length
        dataset = dataset.apply(tf.data.experimental.assert_cardinality(len(source) // batch_size))
    return dataset.prefetch(tf.data.AUTOTUNE) if prefetch else dataset


class ExamplePyDataset(keras.utils.PyDataset):
    """Batches of a source for any Keras backend, in stream order.

    The source is streamed, not indexed: ``__getitem__`` ignores the index and returns the next batch, so
    ``fit(shuffle=True)`` changes nothing and ``workers`` must stay 1. When a pass of the source ends, a new
    pass starts (a :class:`~sepzoo.data.midi.MidiChunkSource` draws new chunks for it).

    Args:
        source: re-iterable of examples, or a callable returning an iterator.
        batch_size: examples per batch.
        num_batches: batches per epoch; ``None`` makes the dataset infinite (use ``steps_per_epoch``).
        **kwargs: passed to ``keras.utils.PyDataset`` (``max_queue_size``, ...).
    """

    def __init__(self, source: Source, batch_size: int, num_batches: int | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.source = source
        self.batch_size = batch_size
        self._num_batches = num_batches
        self._batches: Iterator[tuple[np.ndarray, np.ndarray]] | None = None
        self._lock = threading.Lock()

    @property
    def num_batches(self) -> int | None:
        """Batches per epoch, or ``None`` for an infinite dataset."""
        return self._num_batches

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        with self._lock:
            for _attempt in range(2):
                if self._batches is None:
                    self._batches = iterate_batches(self.source, self.batch_size)
                batch = next(self._batches, None)
                if batch is not None:
                    return batch
                self._batches = None
        raise DataError(f"{type(self.source).__name__}: the data source gives fewer than {self.batch_size} examples")
