"""Side-by-side log-magnitude spectrograms of a mixture and its separated stems (matplotlib, Agg backend)."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)
import numpy as np  # noqa: E402

from sepzoo.audio_io import atomic_output  # noqa: E402

FFT_SAMPLES = 2048
"""STFT frame length in samples."""
MAX_FRAMES = 2000
"""Most STFT frames drawn per panel; long tracks get a larger hop (sparser frames), not a bigger image."""
MAX_ROWS = 128
"""Most frequency rows drawn per panel; neighbouring bins are merged by their maximum so narrow tones stay
visible instead of being averaged away when the image is scaled down."""
FLOOR_DB = -100.0
"""Magnitudes are clipped to this many dB below the loudest bin of the figure."""


def log_spectrogram(audio: np.ndarray, sample_rate: int) -> tuple[np.ndarray, np.ndarray]:
    """Magnitude STFT in dB of float ``(channels, samples)`` audio, channels averaged.

    Hann frames of ``FFT_SAMPLES`` samples spread evenly from the first to the last sample, a quarter frame
    apart or sparser when that would give more than ``MAX_FRAMES``. 0 dB is a full-scale sine (amplitude 1).
    Signals shorter than one frame are zero-padded to one frame.

    Returns:
        ``(frequencies Hz (bins,), magnitude dB (bins, frames))``.
    """
    mono = np.asarray(audio, dtype=np.float32).mean(axis=0)
    mono = np.pad(mono, (0, max(0, FFT_SAMPLES - len(mono))))
    last_start = len(mono) - FFT_SAMPLES
    count = min(MAX_FRAMES, last_start // (FFT_SAMPLES // 4) + 1)
    starts = np.linspace(0, last_start, count).round().astype(np.int64)
    window = np.hanning(FFT_SAMPLES).astype(np.float32)
    frames = mono[starts[:, None] + np.arange(FFT_SAMPLES)] * window
    magnitude = 2.0 * np.abs(np.fft.rfft(frames, axis=1)).T / window.sum()
    frequencies = np.fft.rfftfreq(FFT_SAMPLES, 1.0 / sample_rate)
    return frequencies, 20.0 * np.log10(magnitude + 1e-12)


def save_spectrogram_png(path: str | os.PathLike, mixture: np.ndarray, stems: dict[str, np.ndarray],
                         sample_rate: int) -> Path:
    """Write a PNG with one spectrogram panel per signal, mixture on top, then stems in ``stems`` order.

    Args:
        path: Destination ``.png``; written to a temporary file and renamed, so never half-written.
        mixture: float ``(channels, samples)`` at ``sample_rate`` Hz.
        stems: source name -> float ``(channels, samples)`` at ``sample_rate`` Hz.
        sample_rate: Rate in Hz.

    Axes: time in s, frequency in Hz; one shared colour scale in dB, ``FLOOR_DB`` below the figure's peak.
    """
    path = Path(path)
    panels = {"mixture": mixture, **stems}
    spectra = {name: log_spectrogram(audio, sample_rate) for name, audio in panels.items()}
    peak = max(float(db.max()) for _, db in spectra.values())
    figure, axes = plt.subplots(len(panels), 1, figsize=(10, 2.2 * len(panels)), sharex=True, squeeze=False)
    try:
        for axis, (name, (frequencies, db)) in zip(axes[:, 0], spectra.items()):
            extent = (0.0, panels[name].shape[-1] / sample_rate, 0.0, frequencies[-1])
            image = axis.imshow(_max_pool_rows(db, MAX_ROWS), origin="lower", aspect="auto", extent=extent,
                                cmap="magma", vmin=peak + FLOOR_DB, vmax=peak, interpolation="antialiased")
            axis.set_title(name)
            axis.set_ylabel("frequency (Hz)")
            figure.colorbar(image, ax=axis, label="magnitude (dB)")
        axes[-1, 0].set_xlabel("time (s)")
        figure.tight_layout()
        with atomic_output(path) as temp:
            figure.savefig(temp, format="png", dpi=100)
    finally:
        plt.close(figure)
    return path


def _max_pool_rows(image: np.ndarray, rows: int) -> np.ndarray:
    """Merge groups of adjacent rows of ``(bins, frames)`` by their maximum, to at most ``rows`` rows."""
    group = -(-image.shape[0] // rows)
    padded = np.pad(image, ((0, -image.shape[0] % group), (0, 0)), constant_values=-np.inf)
    return padded.reshape(-1, group, image.shape[1]).max(axis=1)
