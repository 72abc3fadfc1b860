"""Losses on STFT magnitudes: :class:`SpectralLoss` (``spectral``) and :class:`SpectralMAE` (``spectral+mae``).

Both take their magnitudes from :class:`sepzoo.models.layers.STFT` (periodic Hann window, no centring), the
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
