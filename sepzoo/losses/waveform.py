"""Losses on the waveforms themselves: :class:`WaveformMSE` (``mse``), :class:`WaveformMAE` (``mae``) and
:class:`ThresholdedSNR` (``snr``), plus :func:`split_sources`.

Inputs ``(batch, samples, sources * channels)``, source-major; each loss returns one value per example.
"""

from __future__ import annotations

import keras
from keras import ops

from sepzoo.losses.registry import register_loss


@register_loss("mse")
@keras.saving.register_keras_serializable(package="sepzoo")
class WaveformMSE(keras.losses.Loss):
    """Mean squared error over samples, sources and channels; per-example ``(batch,)``."""

    def __init__(self, name: str = "mse", **kwargs):
        super().__init__(name=name, **kwargs)

    def call(self, y_true, y_pred):
        return ops.mean(ops.square(y_pred - y_true), axis=(1, 2))


@register_loss("mae")
@keras.saving.register_keras_serializable(package="sepzoo")
class WaveformMAE(keras.losses.Loss):
    """Mean absolute error over samples, sources and channels; per-example ``(batch,)``."""

    def __init__(self, name: str = "mae", **kwargs):
        super().__init__(name=name, **kwargs)

    def call(self, y_true, y_pred):
        return ops.mean(ops.abs(y_pred - y_true), axis=(1, 2))


def split_sources(waveforms, channels: int):
    """``(batch, samples, sources * channels)`` source-major → ``(batch, samples, sources, channels)``."""
    samples = ops.shape(waveforms)[1]
    return ops.reshape(waveforms, (-1, samples, waveforms.shape[-1] // channels, channels))


@register_loss("snr")
@keras.saving.register_keras_serializable(package="sepzoo")
class ThresholdedSNR(keras.losses.Loss):
    """Weighted mean over sources of ``10 log10((|s - ŝ|² + τ |s|² + ε) / (|s|² + ε))``, dB, per example.

    ``τ = 10^(-snr_max_db / 10)`` stops a source that is already ``snr_max_db`` clean from dominating, and
    ``ε = 10^(snr_floor_db / 10) |mixture|²`` (mixture = sum of the target sources) keeps the ratio finite.
    A source whose reference energy is below ``ε`` counts as silent in that example; its term,
    ``10 log10(|ŝ|² / ε + 1)``, penalises leakage and is weighted by ``silent_weight``. BSS Eval scores no
    frame whose reference is silent, and a full weight teaches a model to answer silence whenever it is
    unsure, so the default is 0 (a model with a residual last source still pays for leakage through it).
    The value is scale-free: multiplying targets and estimates by one gain leaves it unchanged.

    Args:
        channels: audio channels per source.
        snr_max_db: SNR cap, dB.
        snr_floor_db: energy floor relative to the mixture, dB (negative).
        silent_weight: weight of silent sources' terms, relative to 1 for sounding ones.
    """

    def __init__(self, channels: int = 1, snr_max_db: float = 30.0, snr_floor_db: float = -30.0,
                 silent_weight: float = 0.0, name: str = "snr", **kwargs):
        super().__init__(name=name, **kwargs)
        self.channels = channels
        self.snr_max_db = snr_max_db
        self.snr_floor_db = snr_floor_db
        self.silent_weight = silent_weight

    def call(self, y_true, y_pred):
        sources = split_sources(y_true, self.channels)  # (B, T, S, C)
        mixture_energy = ops.sum(ops.square(ops.sum(sources, axis=2)), axis=(1, 2))
        floor = 10.0 ** (self.snr_floor_db / 10.0) * mixture_energy[:, None] + 1e-12
        reference = ops.sum(ops.square(sources), axis=(1, 3))
        error = ops.sum(ops.square(split_sources(y_pred, self.channels) - sources), axis=(1, 3))
        ratio = (error + 10.0 ** (-self.snr_max_db / 10.0) * reference + floor) / (reference + floor)
        weights = ops.where(reference < floor, self.silent_weight, 1.0)
        return ops.sum(weights * 10.0 * ops.log10(ratio), axis=-1) / ops.maximum(ops.sum(weights, axis=-1), 1e-6)

    def get_config(self):
        return {**super().get_config(), "channels": self.channels, "snr_max_db": self.snr_max_db,
                "snr_floor_db": self.snr_floor_db, "silent_weight": self.silent_weight}
