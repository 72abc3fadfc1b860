"""Scores of a whole evaluation and their SiSEC 2018 aggregate: median over frames, then over tracks."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sepzoo.evaluation.scoring import SourceScore


@dataclass(frozen=True)
class TrackResult:
    """All methods' scores on one track.

    Attributes:
        name: Track name.
        sample_rate: Hz (the frame length in samples).
        channels: 1 or 2.
        frames: Number of 1 s frames the track was cut into.
        scores: Method -> source -> :class:`~sepzoo.evaluation.scoring.SourceScore`.
    """

    name: str
    sample_rate: int
    channels: int
    frames: int
    scores: dict[str, dict[str, SourceScore]]


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
