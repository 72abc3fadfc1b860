"""The graph walk gives the same receptive field as the gradient support of a real conv stack."""

import keras
import numpy as np

from sepzoo.models.layers import TimeToDepth, DepthToTime
from sepzoo.models.receptive_field import receptive_field


def _gradient_support(model, length: int) -> int:
    """Number of input samples with a non-zero gradient for the centre output sample."""
    import tensorflow as tf

    x = tf.Variable(np.random.default_rng(0).standard_normal((1, length, 1)).astype("float32"))
    with tf.GradientTape() as tape:
        y = model(x)
        centre = y[0, length // 2, 0]
    grad = np.abs(tape.gradient(centre, x).numpy()[0, :, 0])
    nonzero = np.nonzero(grad > 0)[0]
    return int(nonzero[-1] - nonzero[0] + 1)


def test_conv_stack_with_strides_dilations_and_time_to_depth():
    inputs = keras.Input((256, 1))
    x = keras.layers.Conv1D(3, 5, padding="same", activation="tanh")(inputs)
    x = keras.layers.Conv1D(4, 3, strides=2, padding="same", activation="tanh")(x)
    x = keras.layers.SeparableConv1D(4, 3, dilation_rate=3, padding="same", activation="tanh")(x)
    x = TimeToDepth(2)(x)
    x = keras.layers.Conv1D(8, 3, padding="same", activation="tanh")(x)
    x = DepthToTime(4)(x)
    model = keras.Model(inputs, x)
    # 5 -> +2 (stride conv) -> jump 2, +2*3*2=12 -> +2 (fold) -> jump 4, +2*4 -> 5+2+12+2+8 = 29
    assert receptive_field(model) == 29
    # A layer's exact support can be narrower (stride phase), never wider, than the walk's bound.
    assert 29 - 4 <= _gradient_support(model, 256) <= 29
