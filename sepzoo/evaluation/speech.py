"""Speech-enhancement scores: SI-SDR, wideband PESQ and STOI of a speech estimate against the clean speech.

* SI-SDR (scale-invariant SDR, Le Roux et al. 2019), dB: both signals made zero-mean, the reference scaled to
  best fit the estimate, ``10 log10(|a s|^2 / |a s - s_hat|^2)``.
* PESQ (ITU-T P.862.2 wideband, the ``pesq`` package, mode ``"wb"``), MOS-LQO from about 1.0 to 4.64; signals are
  resampled to 16 kHz first. It raises on signals in which it finds no speech (``NoUtterancesError``) or that
  are too short; such a score is recorded as NaN with a note saying why.
* STOI (Taal et al. 2011, the ``pystoi`` package), 0 to 1; a signal with too few non-silent 384 ms frames is
  recorded as NaN with a note, not as pystoi's placeholder 1e-5.

:func:`speech_scores` is the public entry; :func:`score_speech` keeps the notes. Multi-channel arrays
``(channels, samples)`` are averaged over channels first. ``pesq`` and ``pystoi`` are the ``speech`` extra.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

from sepzoo.dsp import resample
from sepzoo.evaluation.extras import require

SPEECH_SOURCE = "speech"
"""Name of the source the speech scores are computed for (``task: speech_denoise``)."""
NOISY_INPUT = "noisy input"
"""Row label of the unprocessed mixture scored as the speech estimate."""
SPEECH_METRICS = ("si_sdr", "pesq", "stoi")
"""Score keys, in table order."""
METRIC_LABELS = {"si_sdr": "SI-SDR (dB)", "pesq": "PESQ (wb)", "stoi": "STOI"}
"""Column titles."""
PESQ_RATE = 16000
"""Rate wideband PESQ works at, Hz."""
SPEECH_REFERENCE_METHODS = ("oracle IRM",)
"""Reference methods scored with the speech metrics: the ``mixture`` and ``equal split`` estimates are scaled
copies of the noisy input, so they would only repeat its row."""


@dataclass(frozen=True)
class SpeechScore:
    """Speech scores of one estimate of one file.

    Attributes:
        values: ``si_sdr`` (dB), ``pesq`` (MOS-LQO), ``stoi`` (0-1); NaN where a score could not be computed.
        notes: Why a score is NaN, one short phrase each (``"PESQ: no utterances detected"``).
    """

    values: dict[str, float]
    notes: tuple[str, ...] = ()


def _mono(audio: np.ndarray) -> np.ndarray:
    """float64 ``(samples,)``: a 1-D signal as is, ``(channels, samples)`` averaged over channels."""
    audio = np.asarray(audio, dtype=np.float64)
    return audio if audio.ndim == 1 else audio.mean(axis=0)


def si_sdr(reference: np.ndarray, estimate: np.ndarray) -> float:
    """Scale-invariant SDR of ``estimate`` against ``reference`` (1-D, same length), dB.

    NaN when the reference or the estimate is silent (0 / 0); +inf for an exact (scaled) estimate.
    """
    reference, estimate = _mono(reference), _mono(estimate)
    reference, estimate = reference - reference.mean(), estimate - estimate.mean()
    energy = float(np.dot(reference, reference))
    if energy == 0.0 or not np.any(estimate):
        return math.nan
    target = np.dot(estimate, reference) / energy * reference
    error = float(np.sum((estimate - target) ** 2))
    target_energy = float(np.sum(target**2))
    if error == 0.0:
        return math.inf
    return 10.0 * math.log10(target_energy / error) if target_energy > 0 else -math.inf


def _pesq_wb(reference: np.ndarray, estimate: np.ndarray, sample_rate: int) -> tuple[float, str | None]:
    """Wideband PESQ at 16 kHz (resampling if needed) and why it is NaN, if it is."""
    pesq = require("pesq", extra="speech")
    if not np.any(estimate):
        return math.nan, "PESQ: silent estimate"
    if sample_rate != PESQ_RATE:
        reference = resample(reference[None], sample_rate, PESQ_RATE)[0]
        estimate = resample(estimate[None], sample_rate, PESQ_RATE)[0]
    try:
        return float(pesq.pesq(PESQ_RATE, reference.astype(np.float32), estimate.astype(np.float32), "wb")), None
    except pesq.NoUtterancesError:
        return math.nan, "PESQ: no utterances detected"
    except pesq.BufferTooShortError:
        return math.nan, "PESQ: signal too short"
    except pesq.PesqError as error:
        return math.nan, f"PESQ: {type(error).__name__}"


def _stoi(reference: np.ndarray, estimate: np.ndarray, sample_rate: int) -> tuple[float, str | None]:
    """STOI and why it is NaN, if it is (pystoi warns and returns 1e-5 when too few frames are left)."""
    stoi = require("pystoi", extra="speech").stoi
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = float(stoi(reference, estimate, sample_rate, extended=False))
    if any("Not enough STFT frames" in str(warning.message) for warning in caught):
        return math.nan, "STOI: too few non-silent frames"
    return value, None


def score_speech(reference: np.ndarray, estimate: np.ndarray, sample_rate: int) -> SpeechScore:
    """SI-SDR, PESQ and STOI of ``estimate`` against the clean ``reference``.

    Args:
        reference: Clean speech, ``(samples,)`` or ``(channels, samples)``.
        estimate: Same shape.
        sample_rate: Hz.
    """
    reference, estimate = _mono(reference), _mono(estimate)
    if reference.shape != estimate.shape:
        raise ValueError(f"reference {reference.shape} and estimate {estimate.shape} differ in length")
    if not np.any(reference):
        return SpeechScore(dict.fromkeys(SPEECH_METRICS, math.nan), ("silent reference, nothing scored",))
    notes = []
    values = {"si_sdr": si_sdr(reference, estimate)}
    if math.isnan(values["si_sdr"]):
        notes.append("SI-SDR: silent estimate")
    with np.errstate(divide="ignore", invalid="ignore"):  # pesq divides a silent estimate by its zero peak
        for key, scorer in (("pesq", _pesq_wb), ("stoi", _stoi)):
            values[key], note = scorer(reference, estimate, sample_rate)
            if note:
                notes.append(note)
    return SpeechScore(values, tuple(notes))


def speech_scores(reference: np.ndarray, estimate: np.ndarray, noisy: np.ndarray, sample_rate: int) -> dict[str, float]:
    """SI-SDR (dB), wideband PESQ and STOI of ``estimate``, and the same three of the unprocessed ``noisy`` input,
    both against the clean ``reference``.

    Args:
        reference: Clean speech, float ``(samples,)`` or ``(channels, samples)`` (channels are averaged).
        estimate: Enhanced speech, same shape.
        noisy: The noisy mixture the estimate was made from, same shape.
        sample_rate: Hz (PESQ resamples to 16 kHz).

    Returns:
        ``{"si_sdr", "pesq", "stoi", "noisy_si_sdr", "noisy_pesq", "noisy_stoi"}``; NaN where a score cannot be
        computed (silent or too short signals; :func:`score_speech` says why).
    """
    enhanced, unprocessed = score_speech(reference, estimate, sample_rate), score_speech(reference, noisy, sample_rate)
    return {**enhanced.values, **{f"noisy_{key}": value for key, value in unprocessed.values.items()}}


def score_speech_rows(reference: np.ndarray, mixture: np.ndarray, estimates: dict[str, np.ndarray],
                      sample_rate: int) -> dict[str, SpeechScore]:
    """The :data:`NOISY_INPUT` row (``mixture`` as the estimate) then one row per method, for one file.

    Args:
        reference: Clean speech ``(channels, samples)``.
        mixture: The noisy input, same shape.
        estimates: Method label -> its speech estimate, same shape.
        sample_rate: Hz.
    """
    rows = {NOISY_INPUT: score_speech(reference, mixture, sample_rate)}
    rows.update({method: score_speech(reference, estimate, sample_rate) for method, estimate in estimates.items()})
    return rows
