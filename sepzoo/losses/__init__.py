"""Separation losses over source-major waveform tensors, written with ``keras.ops`` only (any backend), and
the registry that maps a config's ``loss.name`` to them.

Every loss takes ``y_true`` and ``y_pred`` of shape ``(batch, samples, sources * channels)`` with source
``s``, channel ``c`` at ``[..., s * channels + c]``, and returns one scalar per batch element (Keras then
averages over the batch).

- ``mse``, ``mae`` (:mod:`~sepzoo.losses.waveform`): :class:`WaveformMSE`, :class:`WaveformMAE`, mean squared /
  absolute sample error over all sources.
- ``snr`` (:mod:`~sepzoo.losses.waveform`): :class:`ThresholdedSNR`, negative signal-to-noise ratio in dB per
  source, capped and floored, averaged over sources, so every source counts by its relative error (the
  quantity BSS Eval's SDR scores), not its energy.
- ``spectral``, ``spectral+mae`` (:mod:`~sepzoo.losses.spectral`): :class:`SpectralLoss`, mean squared difference
  of linear STFT magnitudes (docs/research.md, part C), and :class:`SpectralMAE`, MAE plus a weighted spectral term.
- ``multires_stft`` (:mod:`~sepzoo.losses.spectral`): :class:`MultiResolutionSTFTLoss`, spectral convergence plus
  log-magnitude L1, averaged over several STFT resolutions (Parallel WaveGAN / Demucs style).
- ``difference+mae`` (:mod:`~sepzoo.losses.difference`): :class:`DifferenceMAE`, the difference loss of docs/research.md,
  part C. With ``a_ij`` the mean ``|ŷ_i - y_j|``, it is ``mean_i a_ii - weight * mean_{i != j} min(a_ij, m_ij)``:
  each estimate is pulled to its own source and pushed away from the others, up to a margin ``m_ij`` set by the
  targets' levels, so the loss is bounded below.

Registry (:mod:`~sepzoo.losses.registry`): each family module decorates its classes with
``@register_loss("name")``; :func:`get_loss` builds one by name and keyword arguments, :func:`list_losses` and
:func:`loss_options` describe what exists, and :func:`build_loss` (what the trainer calls) passes the data's
channel count to every loss whose constructor takes ``channels``. Unknown names and keywords raise
:class:`sepzoo.errors.ConfigError`. New families go in their own files and register themselves the same way,
then get imported below: codec-approximation losses (``codec.py``) are next.

This package never imports :mod:`sepzoo.config` or :mod:`sepzoo.training`; the config imports it to validate
its ``loss`` section.
"""

from sepzoo.losses.registry import build_loss, get_loss, list_losses, loss_options, loss_problems, register_loss
from sepzoo.losses.waveform import ThresholdedSNR, WaveformMAE, WaveformMSE, split_sources  # registers mse, mae, snr
from sepzoo.losses.spectral import (  # registers spectral, spectral+mae, multires_stft
    MultiResolutionSTFTLoss,
    SpectralLoss,
    SpectralMAE,
    log_magnitude_distance,
    spectral_convergence,
    stft_magnitude,
)
from sepzoo.losses.difference import DifferenceMAE, difference_margins, pairwise_abs_error  # registers difference+mae

__all__ = [
    "DifferenceMAE",
    "MultiResolutionSTFTLoss",
    "SpectralLoss",
    "SpectralMAE",
    "ThresholdedSNR",
    "WaveformMAE",
    "WaveformMSE",
    "build_loss",
    "difference_margins",
    "get_loss",
    "list_losses",
    "log_magnitude_distance",
    "loss_options",
    "loss_problems",
    "pairwise_abs_error",
    "register_loss",
    "spectral_convergence",
    "split_sources",
    "stft_magnitude",
]
