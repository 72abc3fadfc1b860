"""Random per-stem speed change: each stem of a training example resampled by its own factor (NumPy / SciPy).

Playing a sample faster raises its pitch and moves its resonances up by the same ratio, which is what makes
one soundfont's piano or bass sound unlike another's. Resampling every stem on its own draws new instrument
"sizes" and new tempo relations for every example. Each speed is rounded to a fraction with a denominator
of at most 128, so that a polyphase filter resamples a 16 384-sample stem in about half a millisecond.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
from scipy.signal import resample_poly

# Largest denominator of the rational approximation of a drawn speed (off by at most 1/256, 7 cents).
_MAX_DENOMINATOR = 128
# Samples kept on each side of the output for the resampling filter to settle (its half-length is ~10).
_EDGE_SAMPLES = 256


def speed_ratio(speed: float) -> tuple[int, int]:
    """``(up, down)`` with ``down / up`` the closest ratio to ``speed`` whose ``up`` is at most 128."""
    ratio = Fraction(speed).limit_denominator(_MAX_DENOMINATOR)
    return ratio.denominator, ratio.numerator


def input_samples(output_samples: int, max_change: float) -> int:
    """Samples a stem needs so that any speed up to ``1 + max_change`` still fills ``output_samples``."""
    return math.ceil((output_samples + 2 * _EDGE_SAMPLES) * (1.0 + max_change)) + 1


def random_speed(stems: np.ndarray, channels: int, rng: np.random.Generator, max_change: float,
                 output_samples: int) -> np.ndarray:
    """Resample each source of ``stems`` by its own random speed and keep the centred ``output_samples``.

    A speed ``s`` plays the stem ``s`` times as fast: pitch and every resonance move up by ``s`` (down when
    ``s < 1``), and the stem's centre stays at the output's centre. Speeds are drawn uniformly from
    ``[1 - max_change, 1 + max_change]`` (0.06: about a semitone either way) and rounded to
    :func:`speed_ratio`. All channels of a source share its speed.

    Args:
        stems: float32 source-major ``(samples, n_sources * channels)`` with at least
            ``input_samples(output_samples, max_change)`` samples.
        channels: channels per source.
        rng: draws the speeds.
        max_change: largest relative speed change, e.g. 0.06.
        output_samples: length of the result, samples.

    Returns:
        float32 ``(output_samples, n_sources * channels)``.
    """
    needed = input_samples(output_samples, max_change)
    if stems.shape[0] < needed:
        raise ValueError(f"{stems.shape[0]} samples per stem: a speed change of up to {max_change:g} needs "
                         f"{needed} to give {output_samples}")
    n_sources = stems.shape[1] // channels
    out = np.empty((output_samples, stems.shape[1]), np.float32)
    for source in range(n_sources):
        up, down = speed_ratio(rng.uniform(1.0 - max_change, 1.0 + max_change))
        columns = slice(source * channels, (source + 1) * channels)
        # Only the input span that maps onto the output (plus the filter's edges) is resampled.
        span = math.ceil((output_samples + 2 * _EDGE_SAMPLES) * down / up)
        start = (stems.shape[0] - span) // 2
        resampled = resample_poly(stems[start:start + span, columns], up, down, axis=0)
        offset = (resampled.shape[0] - output_samples) // 2
        out[:, columns] = resampled[offset:offset + output_samples]
    return out
