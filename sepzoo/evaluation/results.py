"""Scores of a whole evaluation and their SiSEC 2018 aggregate: median over frames, then over tracks."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sepzoo.evaluation.scoring import SourceScore
from sepzoo.evaluation.speech import SpeechScore


@dataclass(frozen=True)
class TrackResult:
    """All methods' scores on one track.

    Attributes:
        name: Track name.
        sample_rate: Hz (the frame length in samples).
        channels: 1 or 2.
        frames: Number of 1 s frames the track was cut into.
        scores: Method -> source -> :class:`~sepzoo.evaluation.scoring.SourceScore`.
        speech: Row (``"noisy input"``, then methods) -> SI-SDR, PESQ and STOI of the ``speech`` source
            (:class:`~sepzoo.evaluation.speech.SpeechScore`); empty unless the track has a ``speech`` source.
    """

    name: str
    sample_rate: int
    channels: int
    frames: int
    scores: dict[str, dict[str, SourceScore]]
    speech: dict[str, SpeechScore] = field(default_factory=dict)


@dataclass(frozen=True)
class Evaluation:
    """Every track's scores for a set of methods (models first, then the reference methods).

    Attributes:
        location: The split folder that was evaluated.
        sources: Source names, in table order.
        methods: Method labels, in table order.
        tracks: One :class:`TrackResult` per track, in track order.
    """

    location: Path
    sources: tuple[str, ...]
    methods: tuple[str, ...]
    tracks: tuple[TrackResult, ...]

    def track_medians(self, method: str, source: str, metric: str) -> list[float]:
        """Per-track medians over frames, in dB, leaving out tracks where no frame of ``source`` was scored."""
        values = (track.scores[method][source].median(metric) for track in self.tracks)
        return [value for value in values if not math.isnan(value)]

    def median(self, method: str, source: str, metric: str) -> float:
        """The SiSEC 2018 figure: median over tracks of the per-track median over frames, in dB (NaN if none)."""
        values = self.track_medians(method, source, metric)
        return float(np.median(values)) if values else math.nan

    @property
    def total_frames(self) -> int:
        """1 s frames over all tracks (each source has this many, scored or not)."""
        return sum(track.frames for track in self.tracks)

    def dropped_frames(self, method: str, source: str) -> int:
        """Frames of ``source`` without a score for ``method`` (NaN from museval, or source absent)."""
        return sum(track.scores[method][source].dropped_frames for track in self.tracks)

    def silent_reference_frames(self, source: str) -> int:
        """Frames in which the reference of ``source`` is all zeros, over all tracks."""
        first = self.methods[0]
        return sum(track.scores[first][source].silent_reference_frames for track in self.tracks)

    def silent_estimate_frames(self, method: str, source: str) -> int:
        """Frames in which ``method``'s estimate of ``source`` is all zeros, over all tracks."""
        return sum(track.scores[method][source].silent_estimate_frames for track in self.tracks)

    def absent_tracks(self, source: str) -> list[str]:
        """Tracks whose reference of ``source`` is all zeros throughout (not scored for it)."""
        first = self.methods[0]
        return [track.name for track in self.tracks if track.scores[first][source].absent]

    @property
    def stereo(self) -> bool:
        """Whether any track has two channels (ISR is only reported then)."""
        return any(track.channels > 1 for track in self.tracks)

    @property
    def speech_rows(self) -> tuple[str, ...]:
        """Rows of the speech table (``"noisy input"``, then the methods scored with speech metrics); empty
        unless the evaluated sources include ``speech``."""
        rows: dict[str, None] = {}
        for track in self.tracks:
            rows.update(dict.fromkeys(track.speech))
        return tuple(rows)

    def speech_values(self, row: str, metric: str) -> list[float]:
        """Per-file values of a speech metric (``si_sdr`` dB, ``pesq``, ``stoi``) for ``row``, NaN kept."""
        return [track.speech[row].values[metric] for track in self.tracks if row in track.speech]

    def speech_median(self, row: str, metric: str) -> float:
        """Median over the files where ``metric`` could be computed (NaN if none)."""
        values = [value for value in self.speech_values(row, metric) if not math.isnan(value)]
        return float(np.median(values)) if values else math.nan

    def speech_mean(self, row: str, metric: str) -> float:
        """Mean over the files where ``metric`` could be computed (NaN if none)."""
        values = [value for value in self.speech_values(row, metric) if not math.isnan(value)]
        return float(np.mean(values)) if values else math.nan

    def speech_notes(self) -> list[str]:
        """``"<row> on <file>: <why a score is NaN>"`` for every speech score that could not be computed."""
        return [f"{row} on {track.name}: {note}" for track in self.tracks for row, score in track.speech.items()
                for note in score.notes]
