"""Random per-stem equalisation: new timbres for every training example (NumPy / SciPy).

Soundfonts differ most in spectral balance: one piano is brighter, one bass boomier. A model trained on two
soundfonts learns their balances; tilting each stem's spectrum at random makes it rely on what every
soundfont's instrument shares. The filters are the RBJ audio-EQ-cookbook biquads.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import sosfilt

# (filter kind, lowest and highest frequency in Hz, Q) of the three random filters of every stem.
_BANDS = (("low_shelf", 80.0, 400.0, 0.707), ("peak", 200.0, 5000.0, 1.0), ("high_shelf", 1500.0, 6000.0, 0.707))


def shelf_or_peak(kind: str, frequency_hz: float, gain_db: float, sample_rate: int, q: float = 0.707) -> np.ndarray:
    """One biquad as a SciPy second-order section ``(1, 6)``.

    Args:
        kind: ``"low_shelf"``, ``"high_shelf"`` or ``"peak"``.
        frequency_hz: shelf midpoint or peak centre, Hz (below ``sample_rate / 2``).
        gain_db: gain of the shelf plateau or at the peak, dB.
        sample_rate: Hz.
        q: quality factor (0.707 gives shelves without overshoot).
    """
    amplitude = 10.0 ** (gain_db / 40.0)
    w0 = 2.0 * np.pi * frequency_hz / sample_rate
    cos, alpha = np.cos(w0), np.sin(w0) / (2.0 * q)
    if kind == "peak":
        b = [1 + alpha * amplitude, -2 * cos, 1 - alpha * amplitude]
        a = [1 + alpha / amplitude, -2 * cos, 1 - alpha / amplitude]
    elif kind in ("low_shelf", "high_shelf"):
        sign = 1.0 if kind == "low_shelf" else -1.0
        root = 2.0 * np.sqrt(amplitude) * alpha
        plus, minus = amplitude + 1.0, amplitude - 1.0
        b = [amplitude * (plus - sign * minus * cos + root), sign * 2 * amplitude * (minus - sign * plus * cos),
             amplitude * (plus - sign * minus * cos - root)]
        a = [plus + sign * minus * cos + root, -sign * 2 * (minus + sign * plus * cos),
             plus + sign * minus * cos - root]
    else:
        raise ValueError(f"filter kind {kind!r} is unknown; use low_shelf, high_shelf or peak")
    return np.concatenate([b, a])[None] / a[0]


def random_equalizer(stems: np.ndarray, channels: int, rng: np.random.Generator, max_gain_db: float,
                     sample_rate: int) -> np.ndarray:
    """Filter each source of ``stems`` with its own random low shelf, peak and high shelf.

    Per source: a low shelf at log-uniform 80-400 Hz, a peak (Q 1) at 200-5000 Hz and a high shelf at
    1.5-6 kHz (capped below Nyquist), each with a gain from U[-max_gain_db, max_gain_db]. All channels of a
    source share its filters.

    Args:
        stems: float32 source-major ``(samples, n_sources * channels)``.
        channels: channels per source.
        rng: draws the filters.
        max_gain_db: largest boost or cut of each filter, dB.
        sample_rate: Hz.

    Returns:
        Filtered float32 stems of the same shape (mix them again: the mixture changes too).
    """
    nyquist = sample_rate / 2
    out = np.empty_like(stems)
    for source in range(stems.shape[1] // channels):
        sections = [shelf_or_peak(kind, min(np.exp(rng.uniform(np.log(low), np.log(high))), 0.9 * nyquist),
                                  rng.uniform(-max_gain_db, max_gain_db), sample_rate, q)
                    for kind, low, high, q in _BANDS]
        columns = slice(source * channels, (source + 1) * channels)
        out[:, columns] = sosfilt(np.concatenate(sections), stems[:, columns], axis=0)
    return out.astype(np.float32, copy=False)
