"""FLOP counting from the ops a model's layers run: exact on layers whose cost is known by hand."""

import math

import keras
import numpy as np
import pytest

from sepzoo.models.flops import flops_per_second, window_flops
from sepzoo.models.layers import STFT


def windowed(model: keras.Model, sample_rate: int = 8000) -> keras.Model:
    """Give a plain Keras model the window fields the counter reads."""
    model.context_samples = model.target_samples = int(model.inputs[0].shape[1])
    model.channels = int(model.inputs[0].shape[2])
    model.sample_rate = sample_rate
    return model


def test_convolutions_and_dense_cost_two_flops_per_multiply_add():
    inputs = keras.Input((1000, 2))
    x = keras.layers.Conv1D(8, 5, padding="same")(inputs)                 # 1000 x 8 outputs, 5 taps x 2 in
    x = keras.layers.Conv1D(6, 3, strides=2, dilation_rate=1, padding="same")(x)  # 500 x 6 outputs, 3 x 8
    x = keras.layers.SeparableConv1D(4, 7, padding="same")(x)            # depthwise 500 x 7 x 6, point 500 x 6 x 4
    x = keras.layers.Conv1DTranspose(3, 4, strides=2, padding="same")(x)  # 500 inputs x 4 taps x 4 in x 3 out
    x = keras.layers.Dense(2)(x)                                          # 1000 x 2 outputs, inner 3
    model = windowed(keras.Model(inputs, x))
    expected = 2 * (1000 * 8 * 5 * 2 + 500 * 6 * 3 * 8 + 500 * (7 * 6 + 6 * 4) + 500 * 4 * 4 * 3 + 1000 * 2 * 3)
    assert window_flops(model) == expected
    split = window_flops(model, by_op=True)
    assert split["conv"] == 2 * (1000 * 8 * 5 * 2 + 500 * 6 * 3 * 8)
    assert split["matmul"] == 2 * 1000 * 2 * 3
    assert keras.ops.conv.__name__ == "conv" and keras.ops.matmul.__name__ == "matmul"  # ops restored


def test_stft_counts_one_real_fft_per_frame_and_channel():
    inputs = keras.Input((4096, 2))
    magnitude = STFT(512, 128)(inputs)  # (B, 2, frames, 257)
    model = windowed(keras.Model(inputs, magnitude))
    frames = int(magnitude.shape[2])
    assert window_flops(model) == pytest.approx(2 * frames * 2.5 * 512 * math.log2(512))


def test_flops_per_second_follows_the_separators_hop():
    inputs = keras.Input((1000, 1))
    model = windowed(keras.Model(inputs, keras.layers.Conv1D(1, 3, padding="same")(inputs)), sample_rate=8000)
    per_window = window_flops(model)
    assert flops_per_second(model, overlap=0.0) == pytest.approx(per_window * 8000 / 1000)
    assert flops_per_second(model, overlap=0.25) == pytest.approx(per_window * 8000 / 750)
    assert np.isfinite(flops_per_second(model, overlap=0.5))
