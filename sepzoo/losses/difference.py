"""The difference loss of docs/research.md, part C: :class:`DifferenceMAE` (``difference+mae``) and
:func:`pairwise_abs_error`."""

from __future__ import annotations

import keras
from keras import ops

from sepzoo.errors import ConfigError
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


def difference_margins(y_true, channels: int, margin_scale: float):
    """``m[b, i, j] = margin_scale * (mean|y_i| + mean|y_j|)``, the cap on ``a[b, i, j]`` in :class:`DifferenceMAE`.

    Means over samples and channels of the target sources; returns ``(batch, sources, sources)``.
    """
    levels = ops.mean(ops.abs(split_sources(y_true, channels)), axis=(1, 3))  # (B, S)
    return margin_scale * (ops.expand_dims(levels, 2) + ops.expand_dims(levels, 1))


@register_loss("difference+mae")
@keras.saving.register_keras_serializable(package="sepzoo")
class DifferenceMAE(keras.losses.Loss):
    """``mean_i a_ii - difference_weight * mean_{i != j} min(a_ij, m_ij)``, per example.

    ``a`` comes from :func:`pairwise_abs_error` (``a_ij`` = mean ``|ŷ_i - y_j|``): the diagonal pulls each
    estimate to its own source, the off-diagonal terms push it away from the others. Each push-away term is
    capped at the margin ``m_ij = margin_scale * (mean|y_i| + mean|y_j|)`` (:func:`difference_margins`,
    target levels of this example, so the margin follows the signal level and is in waveform units).

    Why the margin. Without it the off-diagonal term rewards an estimate for being far from the wrong sources
    however far that is. For ``difference_weight > 1`` the loss is unbounded below: scaling every estimate by
    ``c`` gives about ``c * (1 - difference_weight) * mean|ŷ|``, which falls without end, and training drives
    the outputs up (tests/test_losses.py trains a small model both ways). For ``difference_weight <= 1`` the
    uncapped loss is bounded (by ``-difference_weight * mean_{i != j} mean|y_i - y_j|``, by the triangle
    inequality), but the push-away still pays past the right answer, against the diagonal term. The right
    answer has ``a_ij = mean|y_i - y_j| <= mean|y_i| + mean|y_j|``, so with the default ``margin_scale = 1``
    the cap never touches the exact estimate; for every pair inside the margin, values and gradients are
    those of the uncapped loss, and the push-away stops paying once an estimate is further from a wrong
    source than the right answer could be (about once it is as loud as its own target). A margin in units of
    the targets' own levels, not a fixed waveform value, follows quiet and loud examples alike; a target pair
    that is silent has margin 0, so a silent source's estimate is not pushed away from another silent one.

    Bound. ``a_ii >= 0`` and every capped term is at most ``m_ij``, and ``mean_{i != j} m_ij = 2 *
    margin_scale * mean|y|`` (mean over samples, sources and channels), so the loss is at least
    ``-2 * difference_weight * margin_scale * mean|y|`` for any estimate, and at least
    ``-2 * difference_weight * margin_scale`` for targets within [-1, 1]. For ``difference_weight <= 1`` and
    ``margin_scale >= 1`` the exact estimate is a global minimum. ``margin_scale = 0`` leaves the plain MAE.

    Args:
        channels: audio channels per source (to split the last axis into sources).
        difference_weight: weight of the push-away term.
        margin_scale: the margin in units of ``mean|y_i| + mean|y_j|``; at least 0.
    """

    def __init__(self, channels: int = 1, difference_weight: float = 0.1, margin_scale: float = 1.0,
                 name: str = "difference_mae", **kwargs):
        super().__init__(name=name, **kwargs)
        if margin_scale < 0:
            raise ConfigError(f"margin_scale {margin_scale} must be at least 0 (1 keeps the exact estimate "
                              "inside the margin)")
        self.channels = channels
        self.difference_weight = difference_weight
        self.margin_scale = margin_scale

    def call(self, y_true, y_pred):
        pairs = pairwise_abs_error(y_true, y_pred, self.channels)
        n_sources = pairs.shape[-1]
        diagonal = ops.eye(n_sources, dtype=pairs.dtype)
        own = ops.sum(pairs * diagonal, axis=(1, 2)) / n_sources
        if n_sources == 1:
            return own
        capped = ops.minimum(pairs, difference_margins(y_true, self.channels, self.margin_scale))
        others = ops.sum(capped * (1.0 - diagonal), axis=(1, 2)) / (n_sources * (n_sources - 1))
        return own - self.difference_weight * others

    def lower_bound(self, y_true):
        """The least value the loss can take for targets ``y_true``, per example: ``-2 w s mean|y|``."""
        if split_sources(y_true, self.channels).shape[2] == 1:
            return ops.zeros((ops.shape(y_true)[0],))
        return -2.0 * self.difference_weight * self.margin_scale * ops.mean(ops.abs(y_true), axis=(1, 2))

    def get_config(self):
        return {**super().get_config(), "channels": self.channels, "difference_weight": self.difference_weight,
                "margin_scale": self.margin_scale}
