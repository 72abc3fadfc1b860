"""Separate every track of a test set with each model and score it, with the reference methods beside them.

Separation runs in this process (one model at a time, on whatever device Keras uses); scoring, the slow
part (museval solves BSS Eval's distortion filters per source), runs in ``jobs`` worker processes, one
track per task, with at most ``2 * jobs`` tracks in flight so memory stays bounded on long test sets.
"""

from __future__ import annotations

import multiprocessing
import os
import re
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from sepzoo.errors import ConfigError, DataError
from sepzoo.evaluation.references import REFERENCE_METHODS, reference_estimates
from sepzoo.evaluation.results import Evaluation, TrackResult
from sepzoo.evaluation.scoring import frame_count, score_track
from sepzoo.evaluation.speech import SPEECH_REFERENCE_METHODS, SPEECH_SOURCE, score_speech_rows
from sepzoo.evaluation.tracks import Track, open_test_set

Separate = Callable[[np.ndarray, int], Mapping[str, np.ndarray]]
"""``separate(mixture (channels, samples) float32, sample_rate Hz) -> {source: (channels, samples)}``."""


@dataclass(frozen=True)
class Estimator:
    """A method to score.

    Attributes:
        label: Column title and file name stem of its JSON files.
        sources: Sources it estimates.
        separate: The separation function; its stems must have the mixture's shape.
    """

    label: str
    sources: tuple[str, ...]
    separate: Separate


def model_estimator(handle: str, stems: Mapping[str, Sequence[str]] | None = None) -> Estimator:
    """An :class:`Estimator` for a zoo model name or preset folder, separating through ``Separator``.

    ``stems`` groups the model's sources into the stems it is scored on (see ``Separator``), e.g.
    ``{"rhythm": ["drums", "bass"], "harmony": ["keys", "other"]}``; pass the same groups to :func:`evaluate`.
    """
    # Keras loads only when a model is scored, not in every process that scores reference estimates.
    from sepzoo.separator import Separator
    from sepzoo.zoo import load

    model = load(handle)
    label = Path(handle).name if os.path.isdir(handle) else handle
    separator = Separator(model, stems=stems)
    return Estimator(label, separator.sources, separator.separate)


def slug(label: str) -> str:
    """A file-name-safe form of a method label, e.g. ``"oracle IRM"`` -> ``"oracle_IRM"``."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", label).strip("_")


def evaluate(root: str | os.PathLike, estimators: Sequence[Estimator] = (), *, split: str | None = None,
             stems: Mapping[str, Sequence[str]] | None = None, jobs: int = 1, max_tracks: int | None = None,
             progress: bool = False) -> Evaluation:
    """Score ``estimators`` and the reference methods on every track under ``root``.

    Args:
        root: Split folder of a stem tree or of MUSDB18, or the folder above it with ``split``.
        estimators: Methods to score, all with the same sources; none scores the reference methods on the
            sources the data has. A source the tracks have no file for that is a known sum of stems they have
            (``accompaniment`` = drums + bass + other on MUSDB18) is scored against that sum, built in memory
            (:func:`~sepzoo.evaluation.tracks.open_test_set`).
        split: Sub-folder of ``root`` to evaluate, e.g. ``"test"``.
        stems: Score groups of the data's sources instead of the sources, e.g. ``{"rhythm": ["drums", "bass"],
            "harmony": ["keys", "other"]}``: each group's reference is the sum of its members' stems, the
            reference methods work on those sums, and the estimators must return the group names (see
            :func:`model_estimator`).
        jobs: Worker processes for scoring (1 scores in a thread beside separation).
        max_tracks: Evaluate only the first ``max_tracks`` tracks (sorted by name).
        progress: Show a tqdm bar on stderr.

    With ``jobs > 1`` the workers are spawned, not forked (forking a process that runs Keras is unsafe), so a
    script calling this needs the usual ``if __name__ == "__main__":`` guard.

    Raises:
        ConfigError: estimators disagree on sources, labels clash, or ``jobs``/``max_tracks`` < 1.
        DataError: the test set is unusable (see :func:`~sepzoo.evaluation.tracks.open_test_set`) or an
            estimator returns stems of the wrong shape or with non-finite samples.
    """
    sources = _common_sources(estimators)
    _check_labels(estimators)
    for name, value in (("jobs", jobs), ("max_tracks", max_tracks)):
        if value is not None and value < 1:
            raise ConfigError(f"{name}={value}: must be at least 1")
    if stems is not None:
        stems = {name: [members] if isinstance(members, str) else list(members) for name, members in stems.items()}
        if sources is not None and set(sources) != set(stems):
            raise ConfigError(f"stems {', '.join(stems)} but the models return {', '.join(sources)}; "
                              "build them with model_estimator(handle, stems)")
        sources = tuple(dict.fromkeys(member for members in stems.values() for member in members))
    test_set = open_test_set(root, split, sources)
    tracks = test_set.tracks[:max_tracks]
    methods = tuple(estimator.label for estimator in estimators) + REFERENCE_METHODS
    results = []
    pending: deque[Future] = deque()
    with _executor(jobs) as executor, tqdm(total=len(tracks), desc="evaluate", unit="track",
                                           disable=not progress) as bar:
        for files in tracks:
            track = files.load(test_set.sources)
            if stems is not None:
                track = _grouped(track, stems)
            estimates = {estimator.label: _separate(estimator, track) for estimator in estimators}
            pending.append(executor.submit(score_methods, track, estimates))
            if len(pending) >= 2 * jobs:
                results.append(pending.popleft().result())
                bar.update()
        while pending:
            results.append(pending.popleft().result())
            bar.update()
    scored = test_set.sources if stems is None else tuple(stems)
    return Evaluation(test_set.location, scored, methods, tuple(results))


def _grouped(track: Track, stems: Mapping[str, Sequence[str]]) -> Track:
    """``track`` with each group's stem the sum of its members' stems."""
    grouped = {name: np.sum([track.stems[member] for member in members], axis=0, dtype=np.float32)
               for name, members in stems.items()}
    return Track(track.name, track.mixture, grouped, track.sample_rate)


def score_methods(track: Track, model_estimates: Mapping[str, Mapping[str, np.ndarray]]) -> TrackResult:
    """Score the models' estimates and the reference methods on one track (runs in a worker).

    When the track has a ``speech`` source (a speech task), its estimates by the models and the oracle mask, and
    the noisy input itself, are also scored with SI-SDR, PESQ and STOI (:mod:`~sepzoo.evaluation.speech`).
    """
    estimates = {**model_estimates, **reference_estimates(track.mixture, track.stems)}
    scores = {method: score_track(track.stems, estimate, track.sample_rate) for method, estimate in estimates.items()}
    speech = {}
    if SPEECH_SOURCE in track.stems:
        speech_estimates = {method: estimate[SPEECH_SOURCE] for method, estimate in estimates.items()
                            if method in model_estimates or method in SPEECH_REFERENCE_METHODS}
        speech = score_speech_rows(track.stems[SPEECH_SOURCE], track.mixture, speech_estimates, track.sample_rate)
    channels, samples = track.mixture.shape
    return TrackResult(track.name, track.sample_rate, channels, frame_count(samples, track.sample_rate), scores,
                       speech)


def _separate(estimator: Estimator, track: Track) -> dict[str, np.ndarray]:
    """Run one estimator on a track and check its stems."""
    stems = estimator.separate(track.mixture, track.sample_rate)
    checked = {}
    for source in track.stems:
        where = f"{estimator.label} on track {track.name!r}"
        if source not in stems:
            raise DataError(f"{where}: returned no {source!r} stem (got {', '.join(stems)}); "
                            "it must return every source it declares")
        stem = np.asarray(stems[source], dtype=np.float32)
        if stem.shape != track.mixture.shape:
            raise DataError(f"{where}: {source!r} stem has shape {stem.shape}, the mixture {track.mixture.shape}; "
                            "stems must be (channels, samples) like the mixture")
        if not np.isfinite(stem).all():
            raise DataError(f"{where}: {source!r} stem holds NaN or infinite samples; check the model's weights")
        checked[source] = stem
    return checked


def _common_sources(estimators: Sequence[Estimator]) -> tuple[str, ...] | None:
    """The sources all estimators share (None without estimators); ConfigError when they differ."""
    if not estimators:
        return None
    first = estimators[0]
    for other in estimators[1:]:
        if set(other.sources) != set(first.sources):
            raise ConfigError(f"{first.label} separates {', '.join(first.sources)} but {other.label} separates "
                              f"{', '.join(other.sources)}; compare models of the same task")
    return first.sources


def _check_labels(estimators: Sequence[Estimator]) -> None:
    """Labels (and their file names) must be unique and differ from the reference methods."""
    taken = {slug(label): label for label in REFERENCE_METHODS}
    for estimator in estimators:
        if slug(estimator.label) in taken:
            raise ConfigError(f"model label {estimator.label!r} clashes with {taken[slug(estimator.label)]!r}; "
                              "give each compared model a distinct name or preset folder name")
        taken[slug(estimator.label)] = estimator.label


def _executor(jobs: int) -> Executor:
    """One scoring thread beside separation, or ``jobs`` spawned processes (no fork of a Keras process)."""
    if jobs == 1:
        return ThreadPoolExecutor(max_workers=1)
    return ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"))
