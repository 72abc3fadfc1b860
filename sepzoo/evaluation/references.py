"""Reference estimates scored beside every model, on the same tracks.

* ``mixture``: the mixture given as the estimate of every source (what doing nothing scores).
* ``equal split``: the mixture divided by the number of sources, for every source. BSS Eval's image SDR is
  not scale-invariant, so this beats the mixture by several dB (about 6 dB for four equally loud sources)
  and is the real floor a model has to beat.
* ``oracle IRM``: the ideal ratio mask, the power share of each true stem in every STFT bin, applied to the
  mixture. It uses the answers, so it is an upper anchor for mask-like methods, not a bound for all.

Every function takes and returns float32 ``(channels, samples)`` arrays.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from scipy.signal import istft, stft

REFERENCE_METHODS = ("mixture", "equal split", "oracle IRM")
"""Labels of the reference methods, in table order."""
IRM_FFT_SAMPLES = 2048
"""STFT window of the oracle mask, in samples (46 ms at 44.1 kHz); Hann window."""
IRM_HOP_SAMPLES = 512
"""STFT hop of the oracle mask, in samples (75 % overlap, so the Hann windows add up to a constant)."""


def mixture_estimate(mixture: np.ndarray, sources: tuple[str, ...]) -> dict[str, np.ndarray]:
    """The mixture as the estimate of every source."""
    return {source: mixture for source in sources}


def equal_split(mixture: np.ndarray, sources: tuple[str, ...]) -> dict[str, np.ndarray]:
    """``mixture / len(sources)`` as the estimate of every source."""
    share = (mixture / len(sources)).astype(np.float32)
    return {source: share for source in sources}


def oracle_irm(mixture: np.ndarray, stems: Mapping[str, np.ndarray],
               fft_samples: int = IRM_FFT_SAMPLES, hop_samples: int = IRM_HOP_SAMPLES) -> dict[str, np.ndarray]:
    """Ideal ratio mask estimates: ``|S_s|^2 / sum_k |S_k|^2`` per bin and channel, times the mixture STFT.

    Bins where every stem is silent get a zero mask. The output has the mixture's length.

    Args:
        mixture: ``(channels, samples)``.
        stems: Source -> true stem ``(channels, samples)``.
        fft_samples: STFT window length, in samples.
        hop_samples: STFT hop, in samples.
    """
    overlap = fft_samples - hop_samples

    def spectrum(audio: np.ndarray) -> np.ndarray:
        return stft(audio.astype(np.float64), nperseg=fft_samples, noverlap=overlap)[2]

    mixture_spectrum = spectrum(mixture)
    powers = {source: np.abs(spectrum(stem)) ** 2 for source, stem in stems.items()}
    total = sum(powers.values())
    estimates = {}
    for source, power in powers.items():
        mask = np.divide(power, total, out=np.zeros_like(power), where=total > 0)
        audio = istft(mask * mixture_spectrum, nperseg=fft_samples, noverlap=overlap)[1]
        estimates[source] = audio[..., : mixture.shape[-1]].astype(np.float32)
    return estimates


def reference_estimates(mixture: np.ndarray, stems: Mapping[str, np.ndarray]) -> dict[str, dict[str, np.ndarray]]:
    """Every reference method's estimates of ``stems``' sources, keyed by :data:`REFERENCE_METHODS` label."""
    sources = tuple(stems)
    estimates = (mixture_estimate(mixture, sources), equal_split(mixture, sources), oracle_irm(mixture, stems))
    return dict(zip(REFERENCE_METHODS, estimates))
