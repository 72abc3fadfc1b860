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
- ``difference+mae`` (:mod:`~sepzoo.losses.difference`): :class:`DifferenceMAE`, the difference loss of docs/research.md,
  part C. With ``a_ij`` the mean ``|ŷ_i - y_j|``, it is ``mean_i a_ii - weight * mean_{i != j} a_ij``: each
  estimate is pulled to its own source and pushed away from the others.

Registry (:mod:`~sepzoo.losses.registry`): each family module decorates its classes with
``@register_loss("name")``; :func:`get_loss` builds one by name and keyword arguments, :func:`list_losses` and
:func:`loss_options` describe what exists, and :func:`build_loss` (what the trainer calls) passes the data's
channel count to every loss whose constructor takes ``channels``. Unknown names and keywords raise
:class:`sepzoo.errors.ConfigError`. New families go in their own files and register themselves the same way,
then get imported below: codec-approximation losses (``codec.py``) and multi-resolution losses are next.

This package never imports :mod:`sepzoo.config` or :mod:`sepzoo.training`; the config imports it to validate
its ``loss`` section.
"""

from sepzoo.losses.registry import build_loss, get_loss, list_losses, loss_options, loss_problems, register_loss
from sepzoo.losses.waveform import ThresholdedSNR, WaveformMAE, WaveformMSE, split_sources  # registers mse, mae, snr
from sepzoo.losses.spectral import SpectralLoss, SpectralMAE, stft_magnitude  # registers spectral, spectral+mae
from sepzoo.losses.difference import DifferenceMAE, pairwise_abs_error  # registers difference+mae

__all__ = [
    "DifferenceMAE",
    "SpectralLoss",
    "SpectralMAE",
    "ThresholdedSNR",
    "WaveformMAE",
    "WaveformMSE",
    "build_loss",
    "get_loss",
    "list_losses",
    "loss_options",
    "loss_problems",
    "pairwise_abs_error",
    "register_loss",
    "split_sources",
    "stft_magnitude",
]
