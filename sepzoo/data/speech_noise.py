"""Noisy speech mixed on the fly from folders of clean speech and of noise: ``data.kind: speech_noise``.

Each example takes a random excerpt of ``example_samples`` from one random speech file and one from a random noise
file (any format :mod:`sepzoo.audio_io` reads: WAV, FLAC, Ogg Vorbis/Opus, MP3; resampled to the requested rate,
down-mixed or duplicated to the requested channels), scales the noise to an SNR drawn uniformly from ``snr_db``
(power over the whole example, all channels), then scales both to a mixture RMS level drawn uniformly from
``level_db`` (dBFS), lowered further when the mixture peak would pass :data:`PEAK`. The mixture is exactly
``speech + noise`` (float32). A speech file shorter than the example sits at a random offset in silence; a noise
file shorter than it is looped. ``example(index)`` is a pure function of ``(seed, split, index)``.

Splits (``train`` / ``validation`` / ``test``) keep speakers and noise recordings apart
(:func:`assign_splits`):

1. Files listed in a ``speakers.csv`` or ``sources.csv`` (columns ``file``, ``split_group``, ``suggested_split``,
   found in the given folder or one of its three parents; ``file`` is relative to the csv's folder or its parent)
   go by their ``split_group``: every file of a group lands in one split. ``suggested_split`` ``train`` stays
   train. When the csv names no ``test`` group, the test split is carved out of its ``valid`` groups: they are
   sorted by a SHA-256 of their name and every second one goes to ``test``, the others stay ``validation``.
   With fewer than two ``valid`` groups (``noise/sources.csv`` has only ESC-10 fold 5) the files of the valid
   group(s) are divided the same way by their ``recording`` (noise) or ``speaker`` (speech) column instead, so
   a recording or speaker is still in one split only.
2. Files no csv lists go by a SHA-256 of their group: the first folder below the given folder (a speaker or
   recording folder), or the file name itself for files directly in it: 10 % test, 10 % validation, 80 % train.
   The assignment of a group never depends on which other files exist.

Speech below 16 kHz (FSDD's 8 kHz) carries no wideband content, so it is left out when the requested rate is
above its own, unless ``include_narrowband``.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
from tqdm import tqdm

from sepzoo.audio_io import (AudioWriter, atomic_output, check_output_rate, make_output_dirs, read_audio,
                             remove_empty_folders)
from sepzoo.data.sources import (TEST, TRAIN, VALIDATION, RegisteredSource, SourceRequest, path_list,
                                 portable_path, register_source)
from sepzoo.dsp import match_channels, resample
from sepzoo.errors import ConfigError, DataError

SPEECH_TASKS: dict[str, tuple[str, str]] = {"speech_denoise": ("speech", "noise")}
"""Speech task name -> its two sources (the clean speech, the noise), in model output order."""
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3")
"""Files found in speech and noise folders (any case), searched recursively."""
SPLIT_FILES = ("speakers.csv", "sources.csv")
"""csv files that assign files to split groups (``file``, ``split_group``, ``suggested_split`` columns)."""
WIDEBAND_HZ = 16000
"""Speech recorded below this rate counts as narrowband."""
PEAK = 0.99
"""Largest mixture sample magnitude after the level gain."""
DEFAULT_SNR_DB = (-5.0, 20.0)
DEFAULT_LEVEL_DB = (-30.0, -10.0)
HASH_TEST, HASH_VALIDATION = 0.1, 0.1
"""Shares of the test and validation splits among groups that no csv lists."""
_SPLIT_CODES = {TRAIN: 0, VALIDATION: 1, TEST: 2}
_CSV_SPLITS = {"train": TRAIN, "valid": VALIDATION, "validation": VALIDATION, "test": TEST}
_CACHE_BYTES = 1 << 30
_SILENT_RMS = 1e-5
_DRAW_ATTEMPTS = 20


def register_speech_task(name: str, speech: str = "speech", noise: str = "noise") -> tuple[str, str]:
    """Add a speech task (``data.options.task``, ``sepzoo render --task``) whose sources are named ``speech`` and
    ``noise``; returns them."""
    SPEECH_TASKS[name] = (speech, noise)
    return SPEECH_TASKS[name]


def speech_task_sources(task: str) -> tuple[str, str] | None:
    """The ``(speech, noise)`` source names of a speech task, or None when ``task`` is no speech task."""
    return SPEECH_TASKS.get(task)


@dataclass(frozen=True)
class AudioFile:
    """One speech or noise file and the split it belongs to.

    Attributes:
        path: The file.
        name: How records name it: relative to the given folder's parent (``speech/cmu_arctic/x.wav``).
        group: Its split unit (speaker, recording or csv ``split_group``); never shared across splits.
        split: ``train``, ``validation`` or ``test``.
    """

    path: Path
    name: str
    group: str
    split: str


def _position(key: str) -> float:
    """A stable number in [0, 1) from a SHA-256 of ``key``."""
    return int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big") / 2**64


def _alternate(units: Sequence[str]) -> dict[str, str]:
    """Units sorted by SHA-256 of their name: even positions -> validation, odd -> test."""
    ordered = sorted(set(units), key=lambda unit: (hashlib.sha256(unit.encode("utf-8")).hexdigest(), unit))
    return {unit: (TEST if index % 2 else VALIDATION) for index, unit in enumerate(ordered)}


def find_audio(folder: Path) -> list[Path]:
    """Every audio file (:data:`AUDIO_SUFFIXES`) under ``folder``, recursively, sorted."""
    return sorted(path for path in folder.rglob("*") if path.suffix.lower() in AUDIO_SUFFIXES and path.is_file())


def _split_csvs(folder: Path) -> list[Path]:
    """The split csv files of ``folder`` and its three nearest parents."""
    found = []
    for candidate_dir in (folder, *list(folder.resolve().parents)[:3]):
        found += [candidate_dir / name for name in SPLIT_FILES if (candidate_dir / name).is_file()]
    return found


def _read_split_csv(path: Path) -> dict[Path, dict[str, str]]:
    """Resolved file path -> its csv row, for the rows whose file exists (relative to the csv's parent or folder)."""
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            missing = {"file", "split_group", "suggested_split"} - set(reader.fieldnames or ())
            if missing:
                raise DataError(f"{path}: has no {', '.join(sorted(missing))} column; a split csv needs file, "
                                "split_group and suggested_split (see ../shared/data/speech/speakers.csv)")
            rows = list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise DataError(f"{path}: not a readable split csv ({error}); fix or remove it") from None
    table = {}
    for row in rows:
        split = _CSV_SPLITS.get((row.get("suggested_split") or "").strip().lower())
        if split is None:
            raise DataError(f"{path}: file {row.get('file')!r} has suggested_split {row.get('suggested_split')!r}; "
                            f"use one of {', '.join(_CSV_SPLITS)}")
        for base in (path.parent.parent, path.parent):
            candidate = (base / row["file"]).resolve()
            if candidate.is_file():
                table[candidate] = {**row, "suggested_split": split}
                break
    return table


def assign_splits(folders: Sequence[Path], what: str) -> list[AudioFile]:
    """Every audio file under ``folders`` with its split group and split (see the module docstring).

    Args:
        folders: Folders to search (recursively).
        what: ``"speech"`` or ``"noise"``, for messages.

    Raises:
        DataError: a folder is missing or holds no audio files, or a split csv is unreadable.
    """
    listed: dict[Path, dict[str, str]] = {}
    found: list[tuple[Path, Path]] = []
    for folder in folders:
        if not folder.is_dir():
            raise DataError(f"{folder}: {what} folder does not exist; pass a folder of {what} audio files")
        files = find_audio(folder)
        if not files:
            raise DataError(f"{folder}: no {what} audio files ({', '.join(AUDIO_SUFFIXES)}, searched recursively); "
                            f"pass a folder of {what} recordings")
        for csv_path in _split_csvs(folder):
            listed.update(_read_split_csv(csv_path))
        found += [(folder, path) for path in files]
    listed_rows = {path: listed[path.resolve()] for _, path in found if path.resolve() in listed}
    valid_groups = sorted({row["split_group"] for row in listed_rows.values() if row["suggested_split"] == VALIDATION})
    has_test = any(row["suggested_split"] == TEST for row in listed_rows.values())
    by_unit, unit_column = {}, None
    if not has_test:
        if len(valid_groups) >= 2:
            by_unit = _alternate(valid_groups)
        else:
            columns = set().union(*(row.keys() for row in listed_rows.values())) if listed_rows else set()
            unit_column = next((column for column in ("recording", "speaker") if column in columns), "file")
            by_unit = _alternate([row[unit_column] or row["file"] for row in listed_rows.values()
                                  if row["suggested_split"] == VALIDATION])
    result, seen = [], set()
    for folder, path in found:
        if path.resolve() in seen:
            continue
        seen.add(path.resolve())
        name = portable_path(path, folder.parent)
        row = listed_rows.get(path)
        if row is not None:
            group, split = row["split_group"], row["suggested_split"]
            if split == VALIDATION and not has_test:
                unit = group if unit_column is None else (row[unit_column] or row["file"])
                split = by_unit[unit]
                group = group if unit_column is None else f"{group}/{unit}"
        else:
            relative = path.relative_to(folder)
            group = f"{folder.name}/{relative.parts[0] if len(relative.parts) > 1 else relative.stem}"
            position = _position(group)
            split = TEST if position < HASH_TEST else VALIDATION if position < HASH_TEST + HASH_VALIDATION else TRAIN
        result.append(AudioFile(path, name, group, split))
    return result


def _is_narrowband(path: Path) -> bool:
    """Whether a file's own rate is below :data:`WIDEBAND_HZ` (from its header; unreadable files are kept, so
    reading them later reports the problem)."""
    try:
        return sf.info(str(path)).samplerate < WIDEBAND_HZ
    except (sf.SoundFileError, OSError, RuntimeError):
        return False


def _check_range(name: str, value: Any) -> tuple[float, float]:
    if (not isinstance(value, (list, tuple)) or len(value) != 2
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
            or not np.all(np.isfinite(value)) or value[0] > value[1]):
        raise ConfigError(f"{name}: {value!r} is not allowed; expected [low, high] in dB with low <= high")
    return float(value[0]), float(value[1])


@dataclass(frozen=True)
class DrawnExample:
    """One example with how it was made.

    Attributes:
        speech: float32 ``(channels, samples)``, after the level gain.
        noise: float32 ``(channels, samples)``, after the SNR and level gains.
        speech_file: Name of the speech file (:attr:`AudioFile.name`).
        noise_file: Name of the noise file.
        speech_start: First sample taken from the speech file (negative: placed that many samples into silence).
        noise_start: First sample taken from the noise file (looped when shorter than the example).
        snr_db: Speech-to-noise power ratio over the example, dB.
        level_db: Mixture RMS level, dBFS.
    """

    speech: np.ndarray
    noise: np.ndarray
    speech_file: str
    noise_file: str
    speech_start: int
    noise_start: int
    snr_db: float
    level_db: float

    @property
    def mixture(self) -> np.ndarray:
        """``speech + noise``, float32 ``(channels, samples)``."""
        return self.speech + self.noise

    def record(self) -> dict[str, Any]:
        """JSON-ready description (no audio)."""
        return {"speech_file": self.speech_file, "noise_file": self.noise_file, "speech_start": self.speech_start,
                "noise_start": self.noise_start, "snr_db": round(self.snr_db, 4), "level_db": round(self.level_db, 4)}


@register_source("speech_noise")
class SpeechNoiseSource(RegisteredSource):
    """Endless, reproducible stream of noisy speech, ``data.kind: speech_noise`` (see the module docstring).

    Args:
        speech: Folders of clean speech (searched recursively).
        noise: Folders of noise.
        split: ``"train"``, ``"validation"`` or ``"test"``.
        sample_rate: Hz; files are resampled to it.
        example_samples: Example length, samples.
        channels: 1 (files down-mixed) or 2 (mono files duplicated).
        seed: Stream seed; ``example(i)`` depends only on ``seed``, ``split`` and ``i``.
        snr_db: ``(low, high)``: speech-to-noise ratio drawn uniformly per example, dB.
        level_db: ``(low, high)``: mixture RMS level drawn uniformly per example, dBFS (lowered to keep the peak
            at most :data:`PEAK`).
        include_narrowband: Keep speech recorded below 16 kHz (FSDD's 8 kHz) even when ``sample_rate`` is above
            its rate.
        task: A speech task (:data:`SPEECH_TASKS`); sets the source names.

    Yields ``(mixture (example_samples, channels), stems (example_samples, 2 * channels))`` float32, stems
    source-major: speech channels, then noise channels.

    Raises:
        DataError: a folder is missing or holds no audio, or the split has no speech or no noise file.
    """

    OPTIONS = {
        "speech": "folders of clean speech, relative to the config file (searched recursively; a speakers.csv "
                  "there or above assigns speakers to splits)",
        "noise": "folders of noise recordings, relative to the config file (a sources.csv there or above assigns "
                 "recordings to splits)",
        "task": "speech task, sets the source names (default speech_denoise: speech, noise)",
        "snr_db": "speech-to-noise ratio range [low, high] drawn uniformly per example, dB (default [-5, 20])",
        "level_db": "mixture RMS level range [low, high] drawn uniformly per example, dBFS; the peak is kept "
                    "below 0.99 (default [-30, -10])",
        "include_narrowband": "keep speech recorded below 16 kHz (FSDD, 8 kHz) in examples of a higher rate "
                              "(default false)",
    }
    REQUIRED = ("speech", "noise")
    PATH_OPTIONS = ("speech", "noise")

    @classmethod
    def option_problems(cls, options: Mapping[str, Any]) -> list[str]:
        """Bad values of known options, one line each."""
        problems = super().option_problems(options)
        for key in ("snr_db", "level_db"):
            if key in options:
                try:
                    _check_range(key, options[key])
                except ConfigError as error:
                    problems.append(str(error))
        if "task" in options and options["task"] not in SPEECH_TASKS:
            problems.append(f"task: {options['task']!r} is not a speech task; use one of {', '.join(SPEECH_TASKS)}")
        if "include_narrowband" in options and not isinstance(options["include_narrowband"], bool):
            problems.append(f"include_narrowband: {options['include_narrowband']!r} is not allowed; expected true "
                            "or false")
        return problems

    @classmethod
    def from_options(cls, request: SourceRequest, options: dict[str, Any]) -> SpeechNoiseSource:
        """The source of ``request.split`` from checked ``options`` (paths relative to the config file)."""
        return cls([request.resolve(p) for p in path_list(options["speech"])],
                   [request.resolve(p) for p in path_list(options["noise"])],
                   split=request.split, sample_rate=request.sample_rate, example_samples=request.example_samples,
                   channels=request.channels, seed=request.seed, snr_db=options.get("snr_db", DEFAULT_SNR_DB),
                   level_db=options.get("level_db", DEFAULT_LEVEL_DB),
                   include_narrowband=options.get("include_narrowband", False),
                   task=options.get("task", "speech_denoise"))

    def __init__(self, speech: Sequence[str | Path], noise: Sequence[str | Path], *, split: str = TRAIN,
                 sample_rate: int = 16000, example_samples: int = 16000, channels: int = 1, seed: int = 0,
                 snr_db: Sequence[float] = DEFAULT_SNR_DB, level_db: Sequence[float] = DEFAULT_LEVEL_DB,
                 include_narrowband: bool = False, task: str = "speech_denoise"):
        if split not in _SPLIT_CODES:
            raise ConfigError(f"split {split!r} is unknown; use one of {', '.join(_SPLIT_CODES)}")
        if channels not in (1, 2):
            raise ConfigError(f"channels={channels} is not supported by speech_noise; use 1 or 2")
        if task not in SPEECH_TASKS:
            raise ConfigError(f"task {task!r} is not a speech task; use one of {', '.join(SPEECH_TASKS)}")
        if example_samples < 1:
            raise ConfigError(f"example_samples={example_samples}: must be at least 1")
        self.snr_db, self.level_db = _check_range("snr_db", list(snr_db)), _check_range("level_db", list(level_db))
        self.task, self.sources = task, SPEECH_TASKS[task]
        self.split, self.sample_rate, self.channels = split, int(sample_rate), int(channels)
        self.example_samples, self.seed = int(example_samples), int(seed)
        self.include_narrowband = bool(include_narrowband)
        self.speech_folders = [Path(p) for p in speech]
        self.noise_folders = [Path(p) for p in noise]
        every_speech = assign_splits(self.speech_folders, "speech")
        every_noise = assign_splits(self.noise_folders, "noise")
        self.speech_files = [f for f in every_speech if f.split == split]
        self.narrowband_left_out = 0
        if not self.include_narrowband and self.sample_rate >= WIDEBAND_HZ:
            kept = [f for f in self.speech_files if not _is_narrowband(f.path)]
            self.narrowband_left_out = len(self.speech_files) - len(kept)
            self.speech_files = kept
        self.noise_files = [f for f in every_noise if f.split == split]
        for what, files, every, folders in (("speech", self.speech_files, every_speech, self.speech_folders),
                                            ("noise", self.noise_files, every_noise, self.noise_folders)):
            if not files:
                narrow = (f", {self.narrowband_left_out} narrowband files left out (include_narrowband keeps them)"
                          if what == "speech" and self.narrowband_left_out else "")
                raise DataError(f"{', '.join(map(str, folders))}: no {what} file in the {split} split (of "
                                f"{len(every)} found{narrow}); add files, or a speakers.csv / sources.csv that "
                                "assigns split groups to this split")
        self._cache: OrderedDict[Path, np.ndarray] = OrderedDict()
        self._cached_bytes = 0

    @property
    def example_shapes(self) -> tuple[tuple[int, int], tuple[int, int]]:
        """``((samples, channels), (samples, 2 * channels))`` of every example."""
        return (self.example_samples, self.channels), (self.example_samples, 2 * self.channels)

    def describe(self) -> str:
        """One line for a model card's training-data field (folders named by their own names)."""
        speakers = len({f.group for f in self.speech_files})
        recordings = len({f.group for f in self.noise_files})
        return (f"speech {', '.join(p.name for p in self.speech_folders)} ({len(self.speech_files)} files, "
                f"{speakers} speaker groups) + noise {', '.join(p.name for p in self.noise_folders)} "
                f"({len(self.noise_files)} files, {recordings} recording groups), {self.split} split, SNR "
                f"U[{self.snr_db[0]:g}, {self.snr_db[1]:g}] dB, level U[{self.level_db[0]:g}, {self.level_db[1]:g}] "
                f"dBFS, {self.sample_rate} Hz, {self.channels} channel(s), seed {self.seed}")

    def load(self, path: Path) -> np.ndarray:
        """A file as float32 ``(channels, samples)`` at :attr:`sample_rate` (kept in a bounded cache)."""
        if path in self._cache:
            self._cache.move_to_end(path)
            return self._cache[path]
        audio, rate = read_audio(path)
        audio = resample(match_channels(audio, self.channels), rate, self.sample_rate)
        self._cache[path] = audio
        self._cached_bytes += audio.nbytes
        while self._cached_bytes > _CACHE_BYTES and len(self._cache) > 1:
            self._cached_bytes -= self._cache.popitem(last=False)[1].nbytes
        return audio

    def _excerpt(self, audio: np.ndarray, rng: np.random.Generator, loop: bool) -> tuple[np.ndarray, int]:
        """``example_samples`` of ``audio`` from a random start: padded with silence (``loop`` False) or looped."""
        length, samples = self.example_samples, audio.shape[1]
        if samples >= length:
            start = int(rng.integers(0, samples - length + 1))
            return audio[:, start:start + length], start
        if loop:
            start = int(rng.integers(0, samples))
            return np.take(audio, np.arange(start, start + length) % samples, axis=1), start
        offset = int(rng.integers(0, length - samples + 1))
        out = np.zeros((audio.shape[0], length), np.float32)
        out[:, offset:offset + samples] = audio
        return out, -offset

    def _pick(self, files: list[AudioFile], rng: np.random.Generator, loop: bool) -> tuple[AudioFile, np.ndarray, int]:
        """A random file's excerpt that is not silent (RMS above -100 dBFS)."""
        for _ in range(_DRAW_ATTEMPTS):
            chosen = files[int(rng.integers(len(files)))]
            excerpt, start = self._excerpt(self.load(chosen.path), rng, loop)
            if np.sqrt(np.mean(np.square(excerpt, dtype=np.float64))) > _SILENT_RMS:
                return chosen, excerpt, start
        raise DataError(f"{chosen.path}: {_DRAW_ATTEMPTS} excerpts in a row were silent; remove silent files from "
                        "the speech and noise folders")

    def draw(self, index: int) -> DrawnExample:
        """Example ``index`` with how it was made."""
        rng = np.random.default_rng([self.seed, _SPLIT_CODES[self.split], int(index)])
        speech_file, speech, speech_start = self._pick(self.speech_files, rng, loop=False)
        noise_file, noise, noise_start = self._pick(self.noise_files, rng, loop=True)
        speech, noise = speech.astype(np.float64), noise.astype(np.float64)
        snr_db = float(rng.uniform(*self.snr_db))
        level_db = float(rng.uniform(*self.level_db))
        noise *= np.sqrt(np.mean(speech**2) / np.mean(noise**2) / 10 ** (snr_db / 10))
        mixture = speech + noise
        gain = 10 ** (level_db / 20) / np.sqrt(np.mean(mixture**2))
        peak = np.max(np.abs(mixture)) * gain
        if peak > PEAK:
            gain *= PEAK / peak
            level_db = float(20 * np.log10(np.sqrt(np.mean(mixture**2)) * gain))
        return DrawnExample((gain * speech).astype(np.float32), (gain * noise).astype(np.float32), speech_file.name,
                            noise_file.name, speech_start, noise_start, snr_db, level_db)

    def example(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """Example ``index``: ``(mixture (samples, channels), stems (samples, 2 * channels))``, float32."""
        drawn = self.draw(index)
        return drawn.mixture.T.copy(), np.concatenate([drawn.speech, drawn.noise]).T.copy()

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        index = 0
        while True:
            yield self.example(index)
            index += 1


def render_speech_noise(speech: Sequence[str | Path], noise: Sequence[str | Path], out_dir: str | Path, *,
                        split: str = TEST, examples: int = 100, seconds: float = 4.0, sample_rate: int = 16000,
                        channels: int = 1, seed: int = 0, snr_db: Sequence[float] = DEFAULT_SNR_DB,
                        level_db: Sequence[float] = DEFAULT_LEVEL_DB, include_narrowband: bool = False,
                        task: str = "speech_denoise", progress: bool = False) -> Path:
    """Write ``examples`` noisy-speech examples of ``split`` as a stem tree ``out_dir/<split>/<NNNN>/`` with
    ``mixture.wav``, ``speech.wav`` and ``noise.wav`` (float32 WAV), then ``out_dir/<split>/render.json``
    (task, sources, rate, channels, options and, per example, the files, offsets, SNR and level).

    Every folder and file is checked before anything is written; each example's files are renamed into place
    together; an error or interruption removes what this call wrote. Returns the split folder.

    Raises:
        ConfigError: bad numbers (examples < 1, seconds <= 0, a bad range).
        DataError: a folder is missing or holds no audio, or the split has no speech or no noise.
        OutputError: ``out_dir`` cannot be written.
    """
    if examples < 1:
        raise ConfigError(f"--examples {examples}: must be at least 1")
    if not seconds > 0:
        raise ConfigError(f"--excerpt-seconds {seconds}: must be positive")
    check_output_rate(sample_rate)
    source = SpeechNoiseSource(speech, noise, split=split, sample_rate=sample_rate,
                               example_samples=int(round(seconds * sample_rate)), channels=channels, seed=seed,
                               snr_db=snr_db, level_db=level_db, include_narrowband=include_narrowband, task=task)
    split_dir = Path(out_dir) / split
    created = make_output_dirs(split_dir)
    written: list[Path] = []
    records = []
    try:
        for index in tqdm(range(examples), desc=f"render {split}", unit="example", disable=not progress):
            drawn = source.draw(index)
            name = f"{index:04d}"
            created += make_output_dirs(split_dir / name)
            writers = []
            try:
                for stem, audio in (("mixture", drawn.mixture), *zip(source.sources, (drawn.speech, drawn.noise))):
                    writers.append(AudioWriter(split_dir / name / f"{stem}.wav", sample_rate, channels,
                                               subtype="FLOAT"))
                    writers[-1].write(audio)
                for writer in writers:
                    written.append(writer.commit())
            except BaseException:
                for writer in writers:
                    writer.discard()
                raise
            records.append({"name": name, **drawn.record()})
        meta = {"task": task, "sources": list(source.sources), "sample_rate": sample_rate, "channels": channels,
                "split": split, "excerpt_seconds": seconds, "seed": seed, "snr_db": list(source.snr_db),
                "level_db": list(source.level_db), "include_narrowband": include_narrowband,
                "speech": [p.name for p in source.speech_folders], "noise": [p.name for p in source.noise_folders],
                "written": examples, "examples": records}
        with atomic_output(split_dir / "render.json") as temporary:
            temporary.write_text(json.dumps(meta, indent=2) + "\n")
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        remove_empty_folders(created)
        raise
    return split_dir

