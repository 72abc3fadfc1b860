"""Batch pipelines: tf.data and PyDataset serve the same static-shaped batches, and model.fit consumes them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

from sepzoo.data.midi.compose import compose_demo_song
from sepzoo.data.midi import MidiChunkSource
from sepzoo.data.pipeline import ExamplePyDataset, iterate_batches, make_tf_dataset
from sepzoo.errors import DataError

REPO = Path(__file__).resolve().parents[1]
SAMPLES, SOURCES = 256, 3


def examples(count: int, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """``count`` noise examples: 3 mono stems and their sum."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        stems = (0.1 * rng.standard_normal((SAMPLES, SOURCES))).astype(np.float32)
        out.append((stems.sum(axis=1, keepdims=True), stems))
    return out


def tiny_model(sources: int = SOURCES) -> keras.Model:
    inputs = keras.Input((SAMPLES, 1))
    outputs = keras.layers.Conv1D(sources, 9, padding="same")(inputs)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="mse")
    return model


def test_tf_dataset_has_static_shapes_and_the_same_batches_as_pydataset():
    data = examples(10)
    dataset = make_tf_dataset(data, batch_size=4)
    mixture_spec, stems_spec = dataset.element_spec
    assert tuple(mixture_spec.shape) == (4, SAMPLES, 1) and tuple(stems_spec.shape) == (4, SAMPLES, SOURCES)
    tf_batches = [(m.numpy(), s.numpy()) for m, s in dataset]
    py_dataset = ExamplePyDataset(data, batch_size=4, num_batches=2)
    py_batches = [py_dataset[i] for i in range(2)]
    plain = list(iterate_batches(data, 4))
    assert len(tf_batches) == len(plain) == 2  # 10 examples: the last partial batch is dropped
    for (tm, ts), (pm, ps), (m, s) in zip(tf_batches, py_batches, plain):
        assert np.array_equal(tm, pm) and np.array_equal(ts, ps) and np.array_equal(ts, s)
    assert np.array_equal(plain[1][0][0], data[4][0])  # consecutive examples, in order


def test_generator_functions_and_shuffling():
    def fresh():
        return iter(examples(8, seed=1))

    ordered = [s.numpy() for _, s in make_tf_dataset(fresh, batch_size=2, prefetch=False)]
    shuffled = [s.numpy() for _, s in make_tf_dataset(fresh, batch_size=2, shuffle_buffer=8)]
    assert len(ordered) == len(shuffled) == 4
    assert sorted(x.tobytes() for b in ordered for x in b) == sorted(x.tobytes() for b in shuffled for x in b)
    with pytest.raises(DataError, match="no examples"):
        make_tf_dataset(lambda: iter([]), batch_size=2)


def test_pydataset_streams_across_epochs_and_reports_a_short_source():
    data = examples(6)
    stream = ExamplePyDataset(data, batch_size=2)
    assert stream.num_batches is None
    served = [stream[i][1] for i in range(5)]  # past the 3 batches of one pass: a new pass starts
    assert np.array_equal(served[3], served[0])
    with pytest.raises(DataError, match="fewer than 8"):
        ExamplePyDataset(data, batch_size=8)[0]


def test_fit_trains_from_both_pipelines():
    data = examples(16)
    model = tiny_model()
    before = model.evaluate(make_tf_dataset(data, 4), verbose=0)
    model.fit(make_tf_dataset(data, 4), epochs=3, shuffle=False, verbose=0)
    model.fit(ExamplePyDataset(data, 4, num_batches=4), epochs=3, verbose=0)
    assert model.evaluate(make_tf_dataset(data, 4), verbose=0) < before


def test_midi_source_feeds_fit(tmp_path):
    compose_demo_song(seconds=3.0).write(str(tmp_path / "demo.mid"))
    source = MidiChunkSource(tmp_path, split=None, chunk_samples=SAMPLES, max_chunks_per_piece=8, pool_size=8,
                            repeat=True)
    dataset = make_tf_dataset(source, batch_size=2)
    assert tuple(dataset.element_spec[1].shape) == (2, SAMPLES, 4)
    history = tiny_model(sources=4).fit(dataset, steps_per_epoch=3, epochs=2, shuffle=False, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))


def test_the_data_package_imports_without_tensorflow_or_keras():
    code = "import sys, sepzoo.data; assert not {'tensorflow', 'keras'} & set(sys.modules), sys.modules.keys()"
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True)


def test_pydataset_trains_under_the_jax_backend():
    code = """
import numpy as np, keras
from sepzoo.data.pipeline import ExamplePyDataset
assert keras.backend.backend() == "jax"
rng = np.random.default_rng(0)
stems = [(0.1 * rng.standard_normal((64, 2))).astype("float32") for _ in range(8)]
data = [(s.sum(axis=1, keepdims=True), s) for s in stems]
inputs = keras.Input((64, 1))
model = keras.Model(inputs, keras.layers.Conv1D(2, 5, padding="same")(inputs))
model.compile(optimizer="adam", loss="mse")
history = model.fit(ExamplePyDataset(data, 2, num_batches=4), epochs=2, verbose=0)
assert len(history.history["loss"]) == 2 and np.isfinite(history.history["loss"]).all()
"""
    env = {**os.environ, "KERAS_BACKEND": "jax", "PYTHONPATH": str(REPO)}
    subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, check=True, timeout=120)
