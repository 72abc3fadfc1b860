"""Quick objective scores for one track (full evaluation with BSS Eval lives in :mod:`sepzoo.evaluation`)."""

from __future__ import annotations

import numpy as np


def signal_to_distortion(reference: np.ndarray, estimate: np.ndarray, eps: float = 1e-10) -> float:
    """Plain SDR in dB over the whole signal: ``10 log10(|s|^2 / |s - s_hat|^2)``.

    Not scale-invariant and without BSS Eval's distortion filter, so it rewards a correct level too.
    ``reference`` and ``estimate`` have the same shape (any).
    """
    reference = np.asarray(reference, dtype=np.float64)
    error = reference - np.asarray(estimate, dtype=np.float64)
    return float(10.0 * np.log10((np.sum(reference**2) + eps) / (np.sum(error**2) + eps)))
