"""How well a codec emulator reproduces a real codec: log-spectral distance and spectral convergence of its
emulated magnitude spectrogram against the real codec's output, beside the identity map (docs/research.md,
part A).

Both scores compare linear STFT magnitudes ``(frames, bins)`` of one example:

- **log-spectral distance** (dB): per frame, the RMS over bins of ``10 log10(P_est / P_ref)`` with ``P = |S|² +
  floor``, then the mean over frames; ``floor`` is :data:`FLOOR_DB` below the reference example's strongest bin,
  so bins the codec removed count as that floor, not as minus infinity.
- **spectral convergence**: ``|| |S_ref| - |S_est| ||_F / || |S_ref| ||_F``.

:func:`emulator_scores` runs each emulator's ``codec_magnitudes`` (what the codec loss compares through) on the
lossless side of held-back ``(lossless, coded)`` pairs and scores it against the coded side; the ``identity`` row
scores the lossless audio itself, the baseline every emulator must beat.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

FLOOR_DB = 80.0
"""Power floor of the log-spectral distance, dB below the reference example's strongest bin."""
IDENTITY = "identity"


def log_spectral_distance(reference: np.ndarray, estimate: np.ndarray, floor_db: float = FLOOR_DB) -> float:
    """Mean over frames of the RMS over bins of ``10 log10(P_est / P_ref)``, dB; inputs ``(frames, bins)``."""
    reference_power, estimate_power = np.square(reference, dtype=np.float64), np.square(estimate, dtype=np.float64)
    floor = max(float(reference_power.max()), 1e-20) * 10 ** (-floor_db / 10)
    ratio_db = 10 * np.log10((estimate_power + floor) / (reference_power + floor))
    return float(np.mean(np.sqrt(np.mean(np.square(ratio_db), axis=-1))))


def spectral_convergence(reference: np.ndarray, estimate: np.ndarray) -> float:
    """``|| |S_ref| - |S_est| ||_F / || |S_ref| ||_F`` of two ``(frames, bins)`` magnitude arrays."""
    reference, estimate = np.asarray(reference, np.float64), np.asarray(estimate, np.float64)
    return float(np.linalg.norm(reference - estimate) / max(np.linalg.norm(reference), 1e-20))


def emulator_scores(emulators: Mapping[str, Any], pairs: Iterable[tuple[np.ndarray, np.ndarray]], *,
                    fft_size: int = 512, hop_size: int = 128, batch_size: int = 8) -> dict[str, dict[str, float]]:
    """Mean log-spectral distance (dB) and spectral convergence per method over ``pairs``.

    Args:
        emulators: name -> codec emulator (``codec_magnitudes``, ``fft_size``, ``hop_size`` as
            :mod:`sepzoo.models.codec_emulator` gives them, mono); each must use ``fft_size`` / ``hop_size``.
        pairs: ``(lossless, coded)`` mono waveforms, each ``(samples,)`` or ``(samples, 1)``, of equal length,
            aligned (``codec_pairs`` examples of the waveform domain).
        fft_size, hop_size: the STFT the scores compare on, samples.
        batch_size: examples per emulator call.

    Returns:
        ``{method: {"lsd_db": mean, "spectral_convergence": mean, "examples": n}}`` with :data:`IDENTITY` first.
    """
    from sepzoo.data.codec_pairs import magnitude_spectrogram

    for name, emulator in emulators.items():
        if (emulator.fft_size, emulator.hop_size) != (fft_size, hop_size):
            raise ValueError(f"emulator {name} compares on a {emulator.fft_size}/{emulator.hop_size} STFT, "
                             f"not {fft_size}/{hop_size}")
    pairs = [(np.asarray(lossless, np.float32).reshape(-1), np.asarray(coded, np.float32).reshape(-1))
             for lossless, coded in pairs]
    coded_magnitudes = [magnitude_spectrogram(coded, fft_size, hop_size) for _, coded in pairs]
    estimates: dict[str, list[np.ndarray]] = {
        IDENTITY: [magnitude_spectrogram(lossless, fft_size, hop_size) for lossless, _ in pairs]}
    for name, emulator in emulators.items():
        estimates[name] = []
        for start in range(0, len(pairs), batch_size):
            batch = np.stack([lossless for lossless, _ in pairs[start:start + batch_size]])[..., None]
            magnitudes = np.asarray(emulator.codec_magnitudes(batch))[..., 0]  # (batch, frames, bins)
            estimates[name].extend(magnitudes)
    return {name: {"lsd_db": float(np.mean([log_spectral_distance(r, e) for r, e in zip(coded_magnitudes, values)])),
                   "spectral_convergence": float(np.mean([spectral_convergence(r, e)
                                                          for r, e in zip(coded_magnitudes, values)])),
                   "examples": len(values)}
            for name, values in estimates.items()}


def emulator_table(scores: Mapping[str, Mapping[str, float]]) -> str:
    """A Markdown table of :func:`emulator_scores`' result, one row per method."""
    lines = ["| method | log-spectral distance (dB) | spectral convergence |", "| --- | ---: | ---: |"]
    lines += [f"| {name} | {row['lsd_db']:.2f} | {row['spectral_convergence']:.3f} |" for name, row in scores.items()]
    return "\n".join(lines) + "\n"
