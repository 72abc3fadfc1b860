"""Separation losses over source-major waveform tensors, written with ``keras.ops`` only (any backend).

Every loss takes ``y_true`` and ``y_pred`` of shape ``(batch, samples, sources * channels)`` with source
``s``, channel ``c`` at ``[..., s * channels + c]``, and returns one scalar per batch element (Keras then
averages over the batch).

- :class:`WaveformMSE`, :class:`WaveformMAE`: mean squared / absolute sample error over all sources.
- :class:`ThresholdedSNR`: negative signal-to-noise ratio in dB per source, capped and floored, averaged over
  sources, so every source counts by its relative error (the quantity BSS Eval's SDR scores), not its energy.
- :class:`SpectralLoss`: mean squared difference of linear STFT magnitudes (SEEDS.md part C).
- :class:`SpectralMAE`: MAE plus a weighted spectral term.
- :class:`DifferenceMAE`: the difference loss of SEEDS.md part C. With ``a_ij`` the mean ``|ŷ_i - y_j|``,
  it is ``mean_i a_ii - weight * mean_{i != j} a_ij``: each estimate is pulled to its own source and
  pushed away from the others, so it is negative once estimates are far from the wrong sources.
"""

from __future__ import annotations

import keras
from keras import ops

from sepzoo.config import LossSpec


@keras.saving.register_keras_serializable(package="sepzoo")
class WaveformMSE(keras.losses.Loss):
    """Mean squared error over samples, sources and channels; per-example ``(batch,)``."""

    def __init__(self, name: str = "mse", **kwargs):
        super().__init__(name=name, **kwargs)

    def call(self, y_true, y_pred):
        return ops.mean(ops.square(y_pred - y_true), axis=(1, 2))


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


def stft_magnitude(waveforms, fft_size: int, hop_size: int):
    """Linear |STFT| (Hann window, no centring) of ``(batch, samples, k)`` waveforms.

    Returns ``(batch, k, frames, fft_size // 2 + 1)``; ``samples`` must be at least ``fft_size``.
    """
    signals = ops.transpose(waveforms, (0, 2, 1))
    real, imag = ops.stft(signals, fft_size, hop_size, fft_size, window="hann", center=False)
    return ops.sqrt(ops.square(real) + ops.square(imag) + 1e-12)


@keras.saving.register_keras_serializable(package="sepzoo")
class SpectralLoss(keras.losses.Loss):
    """Mean squared difference between linear STFT magnitudes of estimate and target, per example.

    Args:
        fft_size: STFT frame and FFT length, samples.
        hop_size: STFT hop, samples.
    """

    def __init__(self, fft_size: int = 512, hop_size: int = 128, name: str = "spectral", **kwargs):
        super().__init__(name=name, **kwargs)
        self.fft_size = fft_size
        self.hop_size = hop_size

    def call(self, y_true, y_pred):
        difference = stft_magnitude(y_pred, self.fft_size, self.hop_size) - stft_magnitude(
            y_true, self.fft_size, self.hop_size
        )
        return ops.mean(ops.square(difference), axis=(1, 2, 3))

    def get_config(self):
        return {**super().get_config(), "fft_size": self.fft_size, "hop_size": self.hop_size}


@keras.saving.register_keras_serializable(package="sepzoo")
class SpectralMAE(keras.losses.Loss):
    """``MAE + spectral_weight * SpectralLoss``, per example.

    Args:
        spectral_weight: weight of the spectral term (its unit is squared magnitude, not samples).
        fft_size, hop_size: STFT frame and hop, samples.
    """

    def __init__(self, spectral_weight: float = 1.0, fft_size: int = 512, hop_size: int = 128,
                 name: str = "spectral_mae", **kwargs):
        super().__init__(name=name, **kwargs)
        self.spectral_weight = spectral_weight
        self._mae = WaveformMAE()
        self._spectral = SpectralLoss(fft_size, hop_size)

    def call(self, y_true, y_pred):
        return self._mae.call(y_true, y_pred) + self.spectral_weight * self._spectral.call(y_true, y_pred)

    def get_config(self):
        return {**super().get_config(), "spectral_weight": self.spectral_weight,
                "fft_size": self._spectral.fft_size, "hop_size": self._spectral.hop_size}


def pairwise_abs_error(y_true, y_pred, channels: int):
    """``a[b, i, j]`` = mean over samples and channels of ``|y_pred source i - y_true source j|``.

    Inputs ``(batch, samples, sources * channels)``; returns ``(batch, sources, sources)``.
    """
    split_true = split_sources(y_true, channels)
    split_pred = split_sources(y_pred, channels)
    gaps = ops.abs(ops.expand_dims(split_pred, 3) - ops.expand_dims(split_true, 2))  # (B, T, S_pred, S_true, C)
    return ops.mean(gaps, axis=(1, 4))


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


def build_loss(spec: LossSpec, channels: int) -> keras.losses.Loss:
    """The loss a config's ``loss`` section names, for ``channels``-channel sources."""
    if spec.name == "mse":
        return WaveformMSE()
    if spec.name == "mae":
        return WaveformMAE()
    if spec.name == "snr":
        return ThresholdedSNR(channels, spec.snr_max_db, spec.snr_floor_db, spec.snr_silent_weight)
    if spec.name == "spectral":
        return SpectralLoss(spec.fft_size, spec.hop_size)
    if spec.name == "spectral+mae":
        return SpectralMAE(spec.spectral_weight, spec.fft_size, spec.hop_size)
    return DifferenceMAE(channels, spec.difference_weight)
