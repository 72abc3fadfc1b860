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
- ``spectral_l1`` (:mod:`~sepzoo.losses.spectral`): :class:`SpectralL1`, mean absolute difference of linear STFT
  magnitudes, the L1 baseline of the codec-loss comparison (docs/research.md, part A).
- ``codec`` (:mod:`~sepzoo.losses.codec`): :class:`CodecApproximationLoss`, the L1 of estimate and target after a
  frozen MP3 emulator (:mod:`sepzoo.models.codec_emulator`), optionally of its feature maps and mixed with
  ``spectral_l1`` (docs/research.md, part A). Its ``emulator`` is a zoo name that :func:`build_loss` loads with
  the ``load_model`` function its caller passes (the trainer passes ``sepzoo.zoo.load``).
- ``difference+mae`` (:mod:`~sepzoo.losses.difference`): :class:`DifferenceMAE`, the difference loss of docs/research.md,
  part C. With ``a_ij`` the mean ``|ŷ_i - y_j|``, it is ``mean_i a_ii - weight * mean_{i != j} min(a_ij, m_ij)``:
  each estimate is pulled to its own source and pushed away from the others, up to a margin ``m_ij`` set by the
  targets' levels, so the loss is bounded below.

Registry (:mod:`~sepzoo.losses.registry`): each family module decorates its classes with
``@register_loss("name")``; :func:`get_loss` builds one by name and keyword arguments, :func:`list_losses` and
:func:`loss_options` describe what exists, and :func:`build_loss` (what the trainer calls) passes the data's
channel count to every loss whose constructor takes ``channels``. Unknown names and keywords raise
:class:`sepzoo.errors.ConfigError`. New families go in their own files and register themselves the same way,
then get imported below.

This package never imports :mod:`sepzoo.config` or :mod:`sepzoo.training`; the config imports it to validate
its ``loss`` section.
"""

from sepzoo.losses.registry import (build_loss, get_loss, list_losses, loss_options, loss_problems, model_options,
                                    register_loss)
from sepzoo.losses.waveform import ThresholdedSNR, WaveformMAE, WaveformMSE, split_sources  # registers mse, mae, snr
from sepzoo.losses.spectral import (  # registers spectral, spectral_l1, spectral+mae, multires_stft
    MultiResolutionSTFTLoss,
    SpectralL1,
    SpectralLoss,
    SpectralMAE,
    log_magnitude_distance,
    spectral_convergence,
    stft_magnitude,
)
from sepzoo.losses.difference import DifferenceMAE, difference_margins, pairwise_abs_error  # registers difference+mae
from sepzoo.losses.codec import CodecApproximationLoss  # registers codec

__all__ = [
    "CodecApproximationLoss",
    "DifferenceMAE",
    "MultiResolutionSTFTLoss",
    "SpectralL1",
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
    "model_options",
    "pairwise_abs_error",
    "register_loss",
    "spectral_convergence",
    "split_sources",
    "stft_magnitude",
]
