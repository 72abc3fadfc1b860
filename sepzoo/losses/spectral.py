"""Losses on STFT magnitudes: :class:`SpectralLoss` (``spectral``), :class:`SpectralL1` (``spectral_l1``),
:class:`SpectralMAE` (``spectral+mae``) and :class:`MultiResolutionSTFTLoss` (``multires_stft``).

All take their magnitudes from :class:`sepzoo.models.layers.STFT` (periodic Hann window, no centring), the
one STFT implementation of sepzoo; :func:`stft_magnitude` is the same transform as a plain function.
"""

from __future__ import annotations

import keras
from keras import ops

from sepzoo.errors import ConfigError
from sepzoo.losses.registry import register_loss
from sepzoo.losses.waveform import WaveformMAE
from sepzoo.models.layers import STFT


def stft_magnitude(waveforms, fft_size: int, hop_size: int):
    """Linear |STFT| (Hann window, no centring) of ``(batch, samples, k)`` waveforms, via :class:`STFT`.

    Returns ``(batch, k, frames, fft_size // 2 + 1)``; ``samples`` must be at least ``fft_size``.
    """
    dtype = keras.backend.standardize_dtype(waveforms.dtype)
    return STFT(fft_size, hop_size, output="magnitude", dtype=dtype)(waveforms)


@register_loss("spectral")
@keras.saving.register_keras_serializable(package="sepzoo")
class SpectralLoss(keras.losses.Loss):
    """Mean squared difference between linear STFT magnitudes of estimate and target, per example.

    Args:
        fft_size: STFT frame and FFT length, samples.
        hop_size: STFT hop, samples; at most ``fft_size`` (else :class:`ConfigError`).
    """

    def __init__(self, fft_size: int = 512, hop_size: int = 128, name: str = "spectral", **kwargs):
        super().__init__(name=name, **kwargs)
        if not 1 <= hop_size <= fft_size:
            raise ConfigError(f"hop_size {hop_size} must be between 1 and fft_size {fft_size} samples; "
                              "use a hop no longer than the frame")
        self.fft_size = fft_size
        self.hop_size = hop_size
        self._stft = STFT(fft_size, hop_size, output="magnitude", dtype=self.dtype)

    def call(self, y_true, y_pred):
        difference = self._stft(y_pred) - self._stft(y_true)
        return ops.mean(ops.square(difference), axis=(1, 2, 3))

    def get_config(self):
        return {**super().get_config(), "fft_size": self.fft_size, "hop_size": self.hop_size}


@register_loss("spectral_l1")
@keras.saving.register_keras_serializable(package="sepzoo")
class SpectralL1(SpectralLoss):
    """Mean absolute difference between linear STFT magnitudes of estimate and target, per example.

    The L1 on magnitude spectrograms that mixture -> source spectrogram U-Nets are usually trained with
    (docs/research.md, part A: the baseline the codec-approximation loss is measured against).

    Args:
        fft_size: STFT frame and FFT length, samples.
        hop_size: STFT hop, samples; at most ``fft_size`` (else :class:`ConfigError`).
    """

    def __init__(self, fft_size: int = 512, hop_size: int = 128, name: str = "spectral_l1", **kwargs):
        super().__init__(fft_size, hop_size, name=name, **kwargs)

    def call(self, y_true, y_pred):
        return ops.mean(ops.abs(self._stft(y_pred) - self._stft(y_true)), axis=(1, 2, 3))


@register_loss("spectral+mae")
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


#: Added to magnitudes before the log in :class:`MultiResolutionSTFTLoss` (Parallel WaveGAN clamps at 1e-7).
LOG_MAGNITUDE_EPS = 1e-7


def _sizes(values, what: str) -> tuple[int, ...]:
    """``values`` (one number or a sequence; YAML may give strings) as a tuple of ints, else ConfigError."""
    if isinstance(values, (int, float, str)):
        values = [values]
    try:
        numbers = [float(value) for value in values]
    except (TypeError, ValueError):
        raise ConfigError(f"{what} {values!r} must be a list of whole numbers of samples") from None
    if not numbers or any(number != int(number) for number in numbers):
        raise ConfigError(f"{what} {list(values)!r} must be a non-empty list of whole numbers of samples")
    return tuple(int(number) for number in numbers)


def spectral_convergence(target_magnitude, estimate_magnitude):
    """``|| |S_y| - |S_ŷ| ||_F / || |S_y| ||_F`` per example, over every axis but the first.

    A ``1e-12`` under the numerator's square root keeps the gradient finite when the magnitudes are equal.
    """
    axes = tuple(range(1, len(target_magnitude.shape)))
    error = ops.sqrt(ops.sum(ops.square(target_magnitude - estimate_magnitude), axis=axes) + 1e-12)
    return error / ops.sqrt(ops.sum(ops.square(target_magnitude), axis=axes))


def log_magnitude_distance(target_magnitude, estimate_magnitude, eps: float = LOG_MAGNITUDE_EPS):
    """``mean |log(|S_y| + eps) - log(|S_ŷ| + eps)|`` per example, over every axis but the first."""
    axes = tuple(range(1, len(target_magnitude.shape)))
    return ops.mean(ops.abs(ops.log(target_magnitude + eps) - ops.log(estimate_magnitude + eps)), axis=axes)


@register_loss("multires_stft")
@keras.saving.register_keras_serializable(package="sepzoo")
class MultiResolutionSTFTLoss(keras.losses.Loss):
    """Multi-resolution STFT loss (Parallel WaveGAN, Yamamoto et al. 2020; the auxiliary loss of Demucs v3).

    For each resolution ``r`` (one ``(fft_size, hop_size)`` pair) with magnitudes ``|S_y|`` of the target and
    ``|S_ŷ|`` of the estimate (from :class:`STFT`, periodic Hann window, no centring), the term is

        ``spectral_convergence_weight * || |S_y| - |S_ŷ| ||_F / || |S_y| ||_F
        + log_magnitude_weight * mean |log(|S_y| + 1e-7) - log(|S_ŷ| + 1e-7)|``

    and the loss is the mean of the terms over resolutions, one value per example ``(batch,)``. The Frobenius
    norms and the mean run over all sources and channels of the example together (a source that is silent
    in one example does not blow up the ratio on its own). Both terms are relative, so the loss does not
    change when targets and estimates are scaled by the same gain (beyond the ``1e-7`` floor).

    Every ``fft_size`` must be at most the example length in samples (the frames are not centred or padded):
    a call on shorter examples raises ValueError. The defaults need examples of at least 2048 samples.

    Args:
        fft_sizes: STFT frame and FFT lengths, samples, one per resolution.
        hop_sizes: STFT hops, samples, one per resolution, each between 1 and its ``fft_size``.
        spectral_convergence_weight: weight of the spectral-convergence term.
        log_magnitude_weight: weight of the log-magnitude L1 term.
    """

    def __init__(self, fft_sizes=(512, 1024, 2048), hop_sizes=(128, 256, 512),
                 spectral_convergence_weight: float = 1.0, log_magnitude_weight: float = 1.0,
                 name: str = "multires_stft", **kwargs):
        super().__init__(name=name, **kwargs)
        fft_sizes = _sizes(fft_sizes, "fft_sizes")
        hop_sizes = _sizes(hop_sizes, "hop_sizes")
        if len(fft_sizes) != len(hop_sizes):
            raise ConfigError(f"fft_sizes {list(fft_sizes)} and hop_sizes {list(hop_sizes)} must have the same "
                              "length, one hop per resolution")
        for fft_size, hop_size in zip(fft_sizes, hop_sizes):
            if not 1 <= hop_size <= fft_size:
                raise ConfigError(f"hop_size {hop_size} must be between 1 and fft_size {fft_size} samples; "
                                  "use a hop no longer than the frame")
        self.fft_sizes = fft_sizes
        self.hop_sizes = hop_sizes
        self.spectral_convergence_weight = float(spectral_convergence_weight)
        self.log_magnitude_weight = float(log_magnitude_weight)
        self._stfts = [STFT(fft_size, hop_size, output="magnitude", dtype=self.dtype)
                       for fft_size, hop_size in zip(fft_sizes, hop_sizes)]

    def call(self, y_true, y_pred):
        samples = y_true.shape[1]
        if samples is not None and samples < max(self.fft_sizes):
            raise ValueError(f"multires_stft: fft_size {max(self.fft_sizes)} is longer than the examples "
                             f"({samples} samples); every fft_size must be at most the example length, so "
                             "use smaller fft_sizes or longer examples")
        total = 0.0
        for stft in self._stfts:
            target, estimate = stft(y_true), stft(y_pred)
            total = total + self.spectral_convergence_weight * spectral_convergence(target, estimate)
            total = total + self.log_magnitude_weight * log_magnitude_distance(target, estimate)
        return total / len(self._stfts)

    def get_config(self):
        return {**super().get_config(), "fft_sizes": list(self.fft_sizes), "hop_sizes": list(self.hop_sizes),
                "spectral_convergence_weight": self.spectral_convergence_weight,
                "log_magnitude_weight": self.log_magnitude_weight}
