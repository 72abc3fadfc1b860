"""BSS Eval v4 scores of one track, the SiSEC 2018 way, with an account of the frames museval drops.

``museval.evaluate`` cuts a track into frames (1 s windows, 1 s hop) and returns SDR, ISR, SIR and SAR per
source and frame. A frame in which *any* reference or *any* estimate is all zeros comes back NaN for every
source; a track in which a whole reference or estimate is all zeros makes museval raise. This module keeps
museval's rules and makes both cases visible instead of fatal:

* a source whose reference is silent over the whole track is *absent*: it is left out of the call (with its
  estimate) and not scored on that track;
* an estimate silent over the whole track makes every frame NaN, as museval's own frame rule would;
* for each source it counts the frames where its reference or its estimate is silent, and how many frames
  ended NaN (dropped).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from sepzoo.evaluation.extras import require

museval = require("museval")
Framing = require("museval.metrics").Framing

METRICS = ("SDR", "SIR", "SAR", "ISR")
"""BSS Eval image metrics, in dB."""
FRAME_SECONDS = 1.0
"""Window and hop of the SiSEC 2018 protocol, in s."""


@dataclass(frozen=True)
class SourceScore:
    """Scores of one source on one track by one method.

    Attributes:
        frames: Metric -> one value per frame, in dB (NaN for a dropped frame; empty when ``absent``).
        silent_reference_frames: Frames in which this source's reference is all zeros.
        silent_estimate_frames: Frames in which this method's estimate of this source is all zeros (0 when
            ``absent``: that estimate is not scored).
        absent: The reference is all zeros over the whole track, so the source was not scored.
    """

    frames: dict[str, list[float]]
    silent_reference_frames: int
    silent_estimate_frames: int
    absent: bool

    @property
    def dropped_frames(self) -> int:
        """Frames museval left NaN (a reference or an estimate silent there); all of them when absent."""
        return int(np.isnan(self.frames["SDR"]).sum()) if not self.absent else self.silent_reference_frames

    def median(self, metric: str) -> float:
        """Median over the non-NaN frames, in dB; NaN when no frame is left."""
        values = np.asarray(self.frames.get(metric, []), dtype=np.float64)
        values = values[~np.isnan(values)]
        return float(np.median(values)) if values.size else math.nan


def frame_count(samples: int, sample_rate: int) -> int:
    """Number of SiSEC frames museval cuts from ``samples`` samples at ``sample_rate`` Hz."""
    window = int(FRAME_SECONDS * sample_rate)
    return Framing(window, window, samples).nwin


def score_track(references: Mapping[str, np.ndarray], estimates: Mapping[str, np.ndarray],
                sample_rate: int) -> dict[str, SourceScore]:
    """Score estimates against references with ``museval.evaluate`` (1 s windows, 1 s hop, BSS Eval v4).

    Args:
        references: Source -> true stem, float ``(channels, samples)``.
        estimates: Source -> estimate with the same keys and shapes.
        sample_rate: Hz; sets the window to ``sample_rate`` samples.

    Returns:
        Source -> :class:`SourceScore`, in the order of ``references``.
    """
    window = int(FRAME_SECONDS * sample_rate)
    samples = next(iter(references.values())).shape[-1]
    silent_refs = {source: _silent_frames(audio, window) for source, audio in references.items()}
    silent_ests = {source: _silent_frames(estimates[source], window) for source in references}
    present = [source for source in references if not silent_refs[source].all()]
    frames = {source: dict.fromkeys(METRICS, [math.nan] * frame_count(samples, sample_rate)) for source in present}
    if present and not any(silent_ests[source].all() for source in present):
        stacked_refs = np.stack([references[source].T for source in present]).astype(np.float64)
        stacked_ests = np.stack([estimates[source].T for source in present]).astype(np.float64)
        sdr, isr, sir, sar = museval.evaluate(stacked_refs, stacked_ests, win=window, hop=window)
        for index, source in enumerate(present):
            frames[source] = {metric: values[index].tolist()
                              for metric, values in zip(("SDR", "ISR", "SIR", "SAR"), (sdr, isr, sir, sar))}
    scores = {}
    for source, silent in silent_refs.items():
        if source in frames:
            scores[source] = SourceScore(frames[source], int(silent.sum()), int(silent_ests[source].sum()), False)
        else:
            scores[source] = SourceScore(dict.fromkeys(METRICS, []), int(silent.sum()), 0, absent=True)
    return scores


def _silent_frames(audio: np.ndarray, window: int) -> np.ndarray:
    """Per SiSEC frame, whether ``audio`` ``(channels, samples)`` is silent by museval's rule.

    museval calls a frame silent when the sum over channels is exactly zero at every sample.
    """
    summed = audio.sum(axis=0)
    return np.array([not summed[frame].any() for frame in Framing(window, window, summed.shape[-1])])
