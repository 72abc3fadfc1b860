"""The difference loss of docs/research.md, part C: :class:`DifferenceMAE` (``difference+mae``) and
:func:`pairwise_abs_error`."""

from __future__ import annotations

import keras
from keras import ops

from sepzoo.losses.registry import register_loss
from sepzoo.losses.waveform import split_sources


def pairwise_abs_error(y_true, y_pred, channels: int):
    """``a[b, i, j]`` = mean over samples and channels of ``|y_pred source i - y_true source j|``.

    Inputs ``(batch, samples, sources * channels)``; returns ``(batch, sources, sources)``.
    """
    split_true = split_sources(y_true, channels)
    split_pred = split_sources(y_pred, channels)
    gaps = ops.abs(ops.expand_dims(split_pred, 3) - ops.expand_dims(split_true, 2))  # (B, T, S_pred, S_true, C)
    return ops.mean(gaps, axis=(1, 4))


@register_loss("difference+mae")
@keras.saving.register_keras_serializable(package="sepzoo")
class DifferenceMAE(keras.losses.Loss):
    """``mean_i a_ii - difference_weight * mean_{i != j} a_ij`` with ``a`` from :func:`pairwise_abs_error`.

    Args:
        channels: audio channels per source (to split the last axis into sources).
        difference_weight: weight of the push-away term.
    """

    def __init__(self, channels: int = 1, difference_weight: float = 0.1, name: str = "difference_mae", **kwargs):
        super().__init__(name=name, **kwargs)
        self.channels = channels
        self.difference_weight = difference_weight

    def call(self, y_true, y_pred):
        pairs = pairwise_abs_error(y_true, y_pred, self.channels)
        n_sources = pairs.shape[-1]
        diagonal = ops.eye(n_sources, dtype=pairs.dtype)
        own = ops.sum(pairs * diagonal, axis=(1, 2)) / n_sources
        if n_sources == 1:
            return own
        others = ops.sum(pairs * (1.0 - diagonal), axis=(1, 2)) / (n_sources * (n_sources - 1))
        return own - self.difference_weight * others

    def get_config(self):
        return {**super().get_config(), "channels": self.channels, "difference_weight": self.difference_weight}
