"""An evaluation as a markdown table and as JSON files (one per track and method, plus a summary)."""

from __future__ import annotations

import contextlib
import json
import math
import os
from pathlib import Path
from typing import Any

from sepzoo.audio_io import atomic_output
from sepzoo.errors import OutputError
from sepzoo.evaluation.results import Evaluation, TrackResult
from sepzoo.evaluation.runner import slug
from sepzoo.evaluation.scoring import FRAME_SECONDS, METRICS
from sepzoo.evaluation.speech import METRIC_LABELS, NOISY_INPUT, SPEECH_METRICS, SPEECH_SOURCE


def table_metrics(evaluation: Evaluation) -> tuple[str, ...]:
    """Metrics shown in the table: SDR, SIR, SAR, and ISR only for stereo data (for mono it adds little)."""
    return METRICS if evaluation.stereo else tuple(metric for metric in METRICS if metric != "ISR")


def markdown_table(evaluation: Evaluation, per_file: bool = False) -> str:
    """One table: a row per metric and source, a column per method; then how many frames had no score.

    Cells are SiSEC 2018 figures in dB (median over tracks of the median over 1 s frames); the
    ``dropped frames`` rows give, per method and source, the frames museval left NaN out of all frames.
    For a speech task a second table follows (:func:`speech_table`); ``per_file`` adds its per-file rows.
    """
    header = ["metric", "source", *evaluation.methods]
    lines = ["| " + " | ".join(header) + " |", "| --- | --- |" + " ---: |" * len(evaluation.methods)]
    for metric in table_metrics(evaluation):
        for source in evaluation.sources:
            cells = [_format_db(evaluation.median(method, source, metric)) for method in evaluation.methods]
            lines.append(f"| {metric} | {source} | " + " | ".join(cells) + " |")
    total = evaluation.total_frames
    for source in evaluation.sources:
        cells = [f"{evaluation.dropped_frames(method, source)}/{total}" for method in evaluation.methods]
        lines.append(f"| dropped frames | {source} | " + " | ".join(cells) + " |")
    text = "\n".join(lines) + "\n\n" + _notes(evaluation) + "\n"
    return text + ("\n" + speech_table(evaluation, per_file) if evaluation.speech_rows else "")


def speech_table(evaluation: Evaluation, per_file: bool = False) -> str:
    """The speech table: a row per method (``noisy input`` first), median and mean over files of SI-SDR (dB),
    wideband PESQ and STOI of the ``speech`` source; with ``per_file``, a row per file and method after it."""
    rows = evaluation.speech_rows
    header = ["method"] + [f"{METRIC_LABELS[metric]} {stat}" for metric in SPEECH_METRICS
                           for stat in ("median", "mean")]
    lines = ["| " + " | ".join(header) + " |", "| --- |" + " ---: |" * (len(header) - 1)]
    for row in rows:
        cells = [_format_db(figure(row, metric)) for metric in SPEECH_METRICS
                 for figure in (evaluation.speech_median, evaluation.speech_mean)]
        lines.append(f"| {row} | " + " | ".join(cells) + " |")
    files = len([track for track in evaluation.tracks if track.speech])
    notes = [f"Speech scores of the {SPEECH_SOURCE} source against the clean speech over {files} files: SI-SDR in "
             "dB, wideband PESQ (P.862.2 at 16 kHz), STOI; median and mean over the files where a score could be "
             f"computed. {NOISY_INPUT} is the unprocessed mixture (the mixture and equal split reference methods are "
             "scaled copies of it and are not repeated)."]
    missing = evaluation.speech_notes()
    if missing:
        notes.append(f"Not computed (left out of median and mean): {'; '.join(missing)}.")
    text = "\n".join(lines) + "\n\n" + " ".join(notes) + "\n"
    if per_file:
        lines = ["| file | method | " + " | ".join(METRIC_LABELS[metric] for metric in SPEECH_METRICS) + " |",
                 "| --- | --- |" + " ---: |" * len(SPEECH_METRICS)]
        for track in evaluation.tracks:
            for row, score in track.speech.items():
                lines.append(f"| {track.name} | {row} | "
                             + " | ".join(_format_db(score.values[metric]) for metric in SPEECH_METRICS) + " |")
        text += "\n" + "\n".join(lines) + "\n"
    return text


def _notes(evaluation: Evaluation) -> str:
    """The protocol in one sentence and the reasons frames were dropped."""
    notes = [f"SDR/SIR/SAR{'/ISR' if evaluation.stereo else ''} in dB (BSS Eval v4, museval): median over "
             f"{len(evaluation.tracks)} tracks of the median over {FRAME_SECONDS:g} s frames (hop {FRAME_SECONDS:g} s)"
             f" of {evaluation.location}."]
    silent_refs = [f"{source} {count}" for source in evaluation.sources
                   if (count := evaluation.silent_reference_frames(source))]
    silent_ests = [f"{method} {source} {count}" for method in evaluation.methods for source in evaluation.sources
                   if (count := evaluation.silent_estimate_frames(method, source))]
    absent = [f"{source} in {len(names)} ({', '.join(names)})" for source in evaluation.sources
              if (names := evaluation.absent_tracks(source))]
    notes.append("Dropped frames: museval scores no frame in which any reference or estimate is all zeros; "
                 f"silent reference frames: {', '.join(silent_refs) or 'none'}; "
                 f"silent estimate frames: {', '.join(silent_ests) or 'none'}.")
    if absent:
        notes.append(f"Tracks where a source is silent throughout (not scored for it): {'; '.join(absent)}.")
    return " ".join(notes)


def _format_db(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.2f}"


def check_out_dir(out_dir: str | os.PathLike) -> Path:
    """Raise OutputError unless ``out_dir`` is a folder or can become one (its nearest existing ancestor is a
    writable folder); return it as a Path. Run before scoring, so a bad ``--out`` costs nothing."""
    out_dir = Path(out_dir)
    existing = next(path for path in (out_dir, *out_dir.parents, Path(".")) if path.exists())
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise OutputError(f"{existing}: {'not a folder' if not existing.is_dir() else 'not writable'}, cannot hold "
                          f"the evaluation {out_dir}; choose a writable --out folder")
    return out_dir


def write_json(evaluation: Evaluation, out_dir: str | os.PathLike) -> list[Path]:
    """Write ``OUT/<method>/<track>.json`` for every method and track, ``OUT/summary.json`` and ``OUT/table.md``.

    Track files hold, per source, the median and the per-frame values of every metric (dB, ``null`` for a
    dropped frame, ``Infinity`` for an exact estimate) and the frame counts. Each file is renamed into place
    when complete; if writing fails, the files and folders this call created are removed again. Returns the
    written paths.

    Raises:
        OutputError: ``out_dir`` cannot be created or written.
    """
    out_dir = check_out_dir(out_dir)
    files = {out_dir / "summary.json": _dump(_summary(evaluation)),
             out_dir / "table.md": markdown_table(evaluation, per_file=True)}
    for method in evaluation.methods:
        for track in evaluation.tracks:
            files[out_dir / slug(method) / f"{track.name}.json"] = _dump(_track_record(evaluation, method, track))
    created: list[Path] = []
    try:
        for path, text in files.items():
            created += [folder for folder in (path.parent, *path.parent.parents) if not folder.exists()][::-1]
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.exists():
                created.append(path)
            with atomic_output(path) as temporary:
                temporary.write_text(text)
    except BaseException as error:
        _remove_created(created)
        if isinstance(error, OSError):
            raise OutputError(f"{error.filename or out_dir}: cannot write the evaluation ({error.strerror}); "
                              "choose a writable --out folder") from None
        raise
    return list(files)


def _remove_created(paths: list[Path]) -> None:
    """Delete the files and (empty) folders of ``paths`` in reverse order; what cannot be deleted stays."""
    for path in reversed(paths):
        with contextlib.suppress(OSError):
            if path.is_dir():
                path.rmdir()
            else:
                path.unlink()


def _summary(evaluation: Evaluation) -> dict[str, Any]:
    summary = _bss_summary(evaluation)
    if evaluation.speech_rows:
        summary["speech"] = {
            "source": SPEECH_SOURCE,
            "metrics": {metric: METRIC_LABELS[metric] for metric in SPEECH_METRICS},
            "aggregate": "median and mean over the files where a score could be computed",
            "rows": {row: {metric: {"median": evaluation.speech_median(row, metric),
                                    "mean": evaluation.speech_mean(row, metric),
                                    "scored_files": sum(not math.isnan(value)
                                                        for value in evaluation.speech_values(row, metric))}
                           for metric in SPEECH_METRICS}
                     for row in evaluation.speech_rows},
            "files": {track.name: {row: score.values for row, score in track.speech.items()}
                      for track in evaluation.tracks if track.speech},
            "not_computed": evaluation.speech_notes(),
        }
    return summary


def _bss_summary(evaluation: Evaluation) -> dict[str, Any]:
    return {
        "root": str(evaluation.location),
        "protocol": {"frame_seconds": FRAME_SECONDS, "hop_seconds": FRAME_SECONDS, "bss_eval": "v4 (museval)",
                     "aggregate": "median over tracks of the median over frames"},
        "tracks": [track.name for track in evaluation.tracks],
        "total_frames": evaluation.total_frames,
        "methods": {
            method: {source: {"median": {metric: evaluation.median(method, source, metric) for metric in METRICS},
                              "dropped_frames": evaluation.dropped_frames(method, source),
                              "silent_estimate_frames": evaluation.silent_estimate_frames(method, source)}
                     for source in evaluation.sources}
            for method in evaluation.methods},
        "silent_reference_frames": {source: evaluation.silent_reference_frames(source)
                                    for source in evaluation.sources},
        "absent_tracks": {source: evaluation.absent_tracks(source) for source in evaluation.sources},
    }


def _track_record(evaluation: Evaluation, method: str, track: TrackResult) -> dict[str, Any]:
    record = _bss_track_record(evaluation, method, track)
    if method in track.speech:
        record["speech"] = {"scores": track.speech[method].values, "not_computed": list(track.speech[method].notes),
                            "noisy_input": track.speech[NOISY_INPUT].values}
    return record


def _bss_track_record(evaluation: Evaluation, method: str, track: TrackResult) -> dict[str, Any]:
    scores = track.scores[method]
    return {
        "track": track.name, "method": method, "sample_rate": track.sample_rate, "channels": track.channels,
        "window_samples": int(FRAME_SECONDS * track.sample_rate), "frames": track.frames,
        "sources": {source: {"median": {metric: scores[source].median(metric) for metric in METRICS},
                             "frames": scores[source].frames,
                             "dropped_frames": scores[source].dropped_frames,
                             "silent_reference_frames": scores[source].silent_reference_frames,
                             "silent_estimate_frames": scores[source].silent_estimate_frames,
                             "absent": scores[source].absent}
                    for source in evaluation.sources},
    }


def _dump(record: Any) -> str:
    """JSON text with NaN (no score) written as ``null``.

    An exact estimate scores SDR = +inf in museval; it is kept as ``Infinity``, which Python's ``json``
    and museval's own files use, rather than being confused with a missing score.
    """
    return json.dumps(_nan_to_none(record), indent=2) + "\n"


def _nan_to_none(value: Any) -> Any:
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if isinstance(value, dict):
        return {key: _nan_to_none(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_nan_to_none(item) for item in value]
    return value
