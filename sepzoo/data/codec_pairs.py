"""Pairs of lossless and MP3-coded audio made on the fly from folders of speech and music: ``data.kind: codec_pairs``.

Each example takes a random excerpt of ``example_samples`` from one random speech or music file (any format
:mod:`sepzoo.audio_io` reads: WAV, FLAC, Ogg Vorbis/Opus, MP3; resampled to the requested rate, down-mixed or
duplicated to the requested channels), scales it to an RMS level drawn uniformly from ``level_db`` (dBFS, over the
excerpt and all channels), lowered further when the peak of the excerpt or its context would pass :data:`PEAK`, and
codes it with MP3 at ``bitrate_kbps`` (:func:`mp3_round_trip`: LAME encoder, libsndfile/mpg123 decoder, resampled
back, codec delay removed so both line up sample for sample). The excerpt is coded together with
:data:`CONTEXT_SAMPLES` of the file on each side (silence beyond the file's ends), and the middle is kept, so its
edges carry no codec start-up or flush artefacts. A file shorter than the example sits at a random offset in
silence. Excerpts more than :data:`QUIET_DB` below their file's RMS (a pause in a recording) are redrawn.

With both ``speech`` and ``music`` given, even examples are speech and odd ones music (a split that has files of
one kind only uses that kind). ``example(index)`` is a pure function of ``(seed, split, index)``.

Splits (``train`` / ``validation`` / ``test``) keep speakers and tracks apart, as
:func:`sepzoo.data.speech_noise.assign_splits` assigns them: a ``speakers.csv`` / ``sources.csv`` in a folder or
above it, else a SHA-256 of the first folder below the given folder (a speaker, or a track of a stem tree; for a
``sepzoo render`` output give its split folder, so each example folder is a group). In a folder that holds a
``mixture.*`` file (a stem tree's track) only the mixture is used, so the stems are not used twice.

Audio recorded below 16 kHz (FSDD's 8 kHz speech) carries no wideband content, so it is left out when the requested
rate is above its own, unless ``include_narrowband``.

Examples are ``(lossless, coded)``, the source's one stem named ``coded``:

- ``domain: waveform``: float32 ``(example_samples, channels)`` each, what a waveform model trains on (input the
  lossless audio, target the coded audio);
- ``domain: spectrogram`` (mono only): float32 ``(frames, fft_size // 2 + 1)`` STFT magnitudes of each
  (:func:`magnitude_spectrogram`), ``frames = 1 + example_samples // hop_size``.
"""

from __future__ import annotations

import functools
import io
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from sepzoo.audio_io import read_audio
from sepzoo.data.sources import (TEST, TRAIN, VALIDATION, RegisteredSource, SourceRequest, path_list,
                                 portable_path, register_source)
from sepzoo.data.speech_noise import (DEFAULT_LEVEL_DB, PEAK, WIDEBAND_HZ, AudioFile, _check_range, _is_narrowband,
                                      assign_splits)
from sepzoo.dsp import match_channels, resample
from sepzoo.errors import ConfigError, DataError

SOURCES = ("coded",)
"""The stem name of every codec pair: the coded audio."""
DOMAINS = ("waveform", "spectrogram")
"""What examples hold: waveforms, or STFT magnitudes."""
MIN_BITRATE_KBPS, MAX_BITRATE_KBPS = 8, 320
"""MP3 bit rates LAME encodes, kbit/s (it rounds to the nearest MPEG rate inside this range)."""
DEFAULT_BITRATE_KBPS = 16
DEFAULT_FFT_SIZE, DEFAULT_HOP_SIZE = 512, 128
CONTEXT_SAMPLES = 2048
"""Samples of the file coded on each side of an excerpt and then cropped away."""
QUIET_DB = -40.0
"""An excerpt whose RMS is this far below its file's RMS, dB, is redrawn."""
PROBE_SECONDS = 2.0
"""Length of the white-noise probe :func:`codec_delay` measures with, seconds."""
PROBE_LEVEL_DB = -20.0
"""RMS of that probe, dBFS."""
_SPLIT_CODES = {TRAIN: 0, VALIDATION: 1, TEST: 2}
_CACHE_BYTES = 1 << 30
_SILENT_RMS = 1e-5
_DRAW_ATTEMPTS = 20


def _check_audio(audio: np.ndarray) -> np.ndarray:
    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim != 2 or audio.shape[0] not in (1, 2):
        raise ValueError(f"audio of shape {audio.shape}: expected (channels, samples) with 1 or 2 channels")
    return audio


def _check_bitrate(bitrate_kbps: Any) -> int:
    if (isinstance(bitrate_kbps, bool) or not isinstance(bitrate_kbps, (int, np.integer))
            or not MIN_BITRATE_KBPS <= bitrate_kbps <= MAX_BITRATE_KBPS):
        raise ConfigError(f"bitrate_kbps: {bitrate_kbps!r} is not allowed; expected a whole number of kbit/s from "
                          f"{MIN_BITRATE_KBPS} to {MAX_BITRATE_KBPS} (MP3 rates: 8, 16, 24, 32, 48, 64, 96, 128, ...)")
    return int(bitrate_kbps)


def _mp3_encode_decode(audio: np.ndarray, sample_rate: int, bitrate_kbps: int) -> np.ndarray:
    """``audio`` coded to MP3 and decoded again, back at ``sample_rate`` but NOT aligned: it starts late by the
    codec delay (:func:`codec_delay`) and runs on to the end of the last MP3 frame.

    Args:
        audio: float32 ``(channels, samples)``, 1 or 2 channels, samples in [-1, 1] (clipped there).
        sample_rate: Hz of ``audio`` and of the result.
        bitrate_kbps: MP3 bit rate, kbit/s; LAME picks its own coding rate for it (16 kbit/s: 16 kHz or lower).

    Returns:
        float32 ``(channels, samples')``, ``samples'`` a little longer than ``samples``.
    """
    import lameenc  # here: only codec pairs need the encoder

    audio = _check_audio(audio)
    channels = audio.shape[0]
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(_check_bitrate(bitrate_kbps))
    encoder.set_in_sample_rate(int(sample_rate))
    encoder.set_channels(channels)
    encoder.set_quality(2)
    pcm = np.round(np.clip(audio, -1.0, 1.0) * 32767.0).astype("<i2").T.copy()  # interleaved int16
    data = bytes(encoder.encode(pcm.tobytes())) + bytes(encoder.flush())
    decoded, decoded_rate = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
    decoded = decoded.T
    decoded = match_channels(decoded, channels)  # a decoder may return another channel count
    return resample(decoded, int(decoded_rate), int(sample_rate))


def measure_delay(reference: np.ndarray, delayed: np.ndarray, max_lag: int) -> int:
    """The lag of ``delayed`` behind ``reference``, samples (positive: ``delayed`` is late), at the peak of their
    cross-correlation over lags ``-max_lag..max_lag`` (computed with FFTs).

    Args:
        reference: ``(samples,)``; a ``(channels, samples)`` array is summed over its channels first.
        delayed: the same for the other signal; its length may differ.
        max_lag: largest lag searched either way, samples.

    Returns:
        The lag, samples (the smallest one on a tie; 0 when either signal is silent).
    """
    reference, delayed = (np.asarray(x, dtype=np.float64) for x in (reference, delayed))
    reference, delayed = (x.sum(axis=0) if x.ndim == 2 else x for x in (reference, delayed))
    if reference.ndim != 1 or delayed.ndim != 1:
        raise ValueError("measure_delay takes (samples,) or (channels, samples) arrays")
    size = 1
    while size < reference.size + delayed.size:
        size *= 2
    # correlation[lag] = sum_n delayed[n] * reference[n - lag], lag taken modulo size
    correlation = np.fft.irfft(np.fft.rfft(delayed, size) * np.conj(np.fft.rfft(reference, size)), size)
    lags = np.arange(-min(int(max_lag), reference.size - 1), min(int(max_lag), delayed.size - 1) + 1)
    if lags.size == 0:
        return 0
    values = correlation[lags % size]
    if not np.any(values):
        return 0
    return int(lags[int(np.argmax(values))])


@functools.lru_cache(maxsize=64)
def codec_delay(sample_rate: int, bitrate_kbps: int, channels: int = 1) -> int:
    """The delay of :func:`_mp3_encode_decode` at ``sample_rate`` Hz, samples: measured with :func:`measure_delay`
    on :data:`PROBE_SECONDS` of seeded white noise at :data:`PROBE_LEVEL_DB` dBFS (cached per arguments).

    LAME's encoder delay (576 samples at its coding rate) plus the decoder's (529), less what the decoder strips
    itself: about 1105 samples for 16 kbit/s mono at 16 kHz.
    """
    rng = np.random.default_rng([0xC0DEC, int(sample_rate), int(bitrate_kbps), int(channels)])
    samples = int(round(PROBE_SECONDS * sample_rate))
    probe = (rng.standard_normal((int(channels), samples)) * 10 ** (PROBE_LEVEL_DB / 20)).astype(np.float32)
    coded = _mp3_encode_decode(probe, sample_rate, bitrate_kbps)
    return measure_delay(probe, coded, max_lag=samples // 2)


def mp3_round_trip(audio: np.ndarray, sample_rate: int, bitrate_kbps: int = DEFAULT_BITRATE_KBPS) -> np.ndarray:
    """``audio`` coded to MP3 at ``bitrate_kbps`` and decoded, lined up with ``audio`` sample for sample.

    Encodes with LAME (quality 2), decodes in memory with libsndfile, resamples the decoded audio from the rate LAME
    coded at back to ``sample_rate``, removes the codec delay (:func:`codec_delay`, the same for every call with
    these arguments) and crops or zero-pads the end to the input's length.

    Args:
        audio: float32 ``(channels, samples)``, 1 or 2 channels, samples in [-1, 1] (clipped there).
        sample_rate: Hz of ``audio``.
        bitrate_kbps: MP3 bit rate, kbit/s, :data:`MIN_BITRATE_KBPS` to :data:`MAX_BITRATE_KBPS`.

    Returns:
        float32 ``(channels, samples)``, the shape of ``audio``.
    """
    audio = _check_audio(audio)
    channels, samples = audio.shape
    if samples == 0:
        return audio.copy()
    delay = codec_delay(int(sample_rate), _check_bitrate(bitrate_kbps), channels)
    coded = _mp3_encode_decode(audio, sample_rate, bitrate_kbps)
    if delay < 0:
        coded = np.concatenate([np.zeros((channels, -delay), np.float32), coded], axis=1)
    coded = coded[:, max(delay, 0):max(delay, 0) + samples]
    if coded.shape[1] < samples:
        coded = np.pad(coded, ((0, 0), (0, samples - coded.shape[1])))
    return np.ascontiguousarray(coded, dtype=np.float32)


def magnitude_spectrogram(waveform: np.ndarray, fft_size: int = DEFAULT_FFT_SIZE,
                          hop_size: int = DEFAULT_HOP_SIZE) -> np.ndarray:
    """STFT magnitude of a mono waveform, as ``keras.ops.stft(x, fft_size, hop_size, fft_size, window="hann",
    center=True)`` computes it.

    Args:
        waveform: ``(samples,)``.
        fft_size: frame and FFT length, samples (periodic Hann window of this length).
        hop_size: frame step, samples.

    Returns:
        float32 ``(1 + samples // hop_size, fft_size // 2 + 1)``: frames centred on samples ``0, hop_size, ...``
        (the waveform reflect-padded by ``fft_size // 2`` on both sides), ``|rfft|`` per frame.
    """
    waveform = np.asarray(waveform, dtype=np.float64)
    if waveform.ndim != 1:
        raise ValueError(f"waveform of shape {waveform.shape}: expected (samples,)")
    padded = np.pad(waveform, fft_size // 2, mode="reflect")
    frames = 1 + waveform.size // hop_size
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(fft_size) / fft_size)
    index = np.arange(frames)[:, None] * hop_size + np.arange(fft_size)[None, :]
    return np.abs(np.fft.rfft(padded[index] * window, axis=1)).astype(np.float32)


def _music_files(files: list[AudioFile]) -> list[AudioFile]:
    """``files`` less the stems of stem-tree tracks: in a folder holding a ``mixture.*`` file only that is kept."""
    mixed = {f.path.parent for f in files if f.path.stem.lower() == "mixture"}
    return [f for f in files if f.path.parent not in mixed or f.path.stem.lower() == "mixture"]


def _window(audio: np.ndarray, start: int, length: int) -> np.ndarray:
    """``audio[:, start:start + length]``, silence where that runs past either end (``start`` may be negative)."""
    out = np.zeros((audio.shape[0], length), np.float32)
    first, last = max(start, 0), min(start + length, audio.shape[1])
    if last > first:
        out[:, first - start:last - start] = audio[:, first:last]
    return out


def _rms(audio: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(audio, dtype=np.float64)))) if audio.size else 0.0


@dataclass(frozen=True)
class CodecPair:
    """One example with how it was made.

    Attributes:
        lossless: float32 ``(channels, samples)``, after the level gain.
        coded: float32 ``(channels, samples)``, ``lossless`` through :func:`mp3_round_trip` (with its context).
        kind: ``"speech"`` or ``"music"``.
        file: Name of the file (:attr:`~sepzoo.data.speech_noise.AudioFile.name`).
        start: First sample taken from the file (negative: placed that many samples into silence).
        level_db: RMS level of ``lossless``, dBFS.
    """

    lossless: np.ndarray
    coded: np.ndarray
    kind: str
    file: str
    start: int
    level_db: float

    def record(self) -> dict[str, Any]:
        """JSON-ready description (no audio)."""
        return {"kind": self.kind, "file": self.file, "start": self.start, "level_db": round(self.level_db, 4)}


@register_source("codec_pairs")
class CodecPairSource(RegisteredSource):
    """Reproducible stream of (lossless, MP3-coded) pairs, ``data.kind: codec_pairs`` (see the module docstring).

    Args:
        speech: Folders of speech (searched recursively).
        music: Folders of music (searched recursively; only ``mixture.*`` in folders that hold one).
        split: ``"train"``, ``"validation"`` or ``"test"``.
        sample_rate: Hz; files are resampled to it.
        example_samples: Example length, samples.
        channels: 1 (files down-mixed) or 2 (mono files duplicated); the spectrogram domain takes 1 only.
        seed: Stream seed; ``example(i)`` depends only on ``seed``, ``split`` and ``i``.
        bitrate_kbps: MP3 bit rate, kbit/s.
        domain: ``"waveform"`` or ``"spectrogram"``.
        fft_size: STFT frame length of the spectrogram domain, samples.
        hop_size: STFT frame step, samples.
        level_db: ``(low, high)``: RMS level of the lossless excerpt drawn uniformly per example, dBFS (lowered to
            keep the peak at most :data:`PEAK`).
        include_narrowband: Keep files recorded below 16 kHz even when ``sample_rate`` is above their rate.
        validation_examples: Examples of one pass of the validation or test split.
        base_dir: Folder the model card names the folders relative to (else by their own names).

    Iterating the train split is endless; the validation and test splits give their first ``validation_examples``
    examples each pass, always the same ones.

    Raises:
        ConfigError: a bad value.
        DataError: a folder is missing or holds no audio, or the split has no file.
    """

    OPTIONS = {
        "speech": "folders of speech, relative to the config file (searched recursively; a speakers.csv there or "
                  "above assigns speakers to splits)",
        "music": "folders of music, relative to the config file (every audio file found; in a stem tree's track "
                 "folder only its mixture)",
        "bitrate_kbps": f"MP3 bit rate of the coded audio, kbit/s, {MIN_BITRATE_KBPS} to {MAX_BITRATE_KBPS} "
                        f"(default {DEFAULT_BITRATE_KBPS})",
        "domain": "what examples hold: waveform ((samples, channels) audio) or spectrogram (mono STFT magnitudes, "
                  "(frames, fft_size // 2 + 1)) (default waveform)",
        "fft_size": f"STFT frame length of the spectrogram domain, samples (default {DEFAULT_FFT_SIZE})",
        "hop_size": f"STFT frame step of the spectrogram domain, samples, at most fft_size (default "
                    f"{DEFAULT_HOP_SIZE})",
        "level_db": "RMS level range [low, high] of the lossless excerpt drawn uniformly per example, dBFS; the "
                    "peak is kept below 0.99 (default [-30, -10])",
        "include_narrowband": "keep audio recorded below 16 kHz (FSDD, 8 kHz) in examples of a higher rate "
                              "(default false)",
    }
    PATH_OPTIONS = ("speech", "music")

    @classmethod
    def option_problems(cls, options: Mapping[str, Any]) -> list[str]:
        """Bad values of known options, one line each."""
        problems = super().option_problems(options)
        if not any(path_list(options.get(key)) for key in ("speech", "music")):
            problems.append("speech: missing; data.kind codec_pairs needs speech or music folders (or both)")
        if "bitrate_kbps" in options:
            try:
                _check_bitrate(options["bitrate_kbps"])
            except ConfigError as error:
                problems.append(str(error))
        if "domain" in options and options["domain"] not in DOMAINS:
            problems.append(f"domain: {options['domain']!r} is not allowed; use one of {', '.join(DOMAINS)}")
        sizes = {"fft_size": DEFAULT_FFT_SIZE, "hop_size": DEFAULT_HOP_SIZE}
        for key in sizes:
            value = options.get(key, sizes[key])
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                problems.append(f"{key}: {value!r} is not allowed; expected a positive whole number of samples")
            sizes[key] = value
        fft, hop = sizes["fft_size"], sizes["hop_size"]
        if not any(line.startswith(("fft_size:", "hop_size:")) for line in problems) and hop > fft:
            problems.append(f"hop_size: {hop} is more than fft_size {fft}; use a hop of at most fft_size samples")
        if "level_db" in options:
            try:
                _check_range("level_db", options["level_db"])
            except ConfigError as error:
                problems.append(str(error))
        if "include_narrowband" in options and not isinstance(options["include_narrowband"], bool):
            problems.append(f"include_narrowband: {options['include_narrowband']!r} is not allowed; expected true "
                            "or false")
        return problems

    @classmethod
    def from_options(cls, request: SourceRequest, options: dict[str, Any]) -> CodecPairSource:
        """The source of ``request.split`` from checked ``options`` (paths relative to the config file)."""
        return cls([request.resolve(p) for p in path_list(options.get("speech"))],
                   [request.resolve(p) for p in path_list(options.get("music"))],
                   split=request.split, sample_rate=request.sample_rate, example_samples=request.example_samples,
                   channels=request.channels, seed=request.seed,
                   bitrate_kbps=options.get("bitrate_kbps", DEFAULT_BITRATE_KBPS),
                   domain=options.get("domain", "waveform"), fft_size=options.get("fft_size", DEFAULT_FFT_SIZE),
                   hop_size=options.get("hop_size", DEFAULT_HOP_SIZE),
                   level_db=options.get("level_db", DEFAULT_LEVEL_DB),
                   include_narrowband=options.get("include_narrowband", False),
                   validation_examples=request.validation_examples, base_dir=request.base_dir)

    def __init__(self, speech: Sequence[str | Path] = (), music: Sequence[str | Path] = (), *, split: str = TRAIN,
                 sample_rate: int = 16000, example_samples: int = 16000, channels: int = 1, seed: int = 0,
                 bitrate_kbps: int = DEFAULT_BITRATE_KBPS, domain: str = "waveform",
                 fft_size: int = DEFAULT_FFT_SIZE, hop_size: int = DEFAULT_HOP_SIZE,
                 level_db: Sequence[float] = DEFAULT_LEVEL_DB, include_narrowband: bool = False,
                 validation_examples: int = 64, base_dir: str | Path | None = None):
        if split not in _SPLIT_CODES:
            raise ConfigError(f"split {split!r} is unknown; use one of {', '.join(_SPLIT_CODES)}")
        if channels not in (1, 2):
            raise ConfigError(f"channels={channels} is not supported by codec_pairs; use 1 or 2")
        if example_samples < 1:
            raise ConfigError(f"example_samples={example_samples}: must be at least 1")
        problems = self.option_problems({"speech": [str(p) for p in speech], "music": [str(p) for p in music],
                                         "bitrate_kbps": bitrate_kbps, "domain": domain, "fft_size": fft_size,
                                         "hop_size": hop_size, "level_db": list(level_db),
                                         "include_narrowband": include_narrowband})
        if problems:
            raise ConfigError("; ".join(problems))
        if domain == "spectrogram" and channels != 1:
            raise ConfigError(f"channels={channels}: the spectrogram domain of codec_pairs is mono; set channels to 1 "
                              "or use domain waveform")
        self.sources = SOURCES
        self.split, self.sample_rate, self.channels = split, int(sample_rate), int(channels)
        self.example_samples, self.seed = int(example_samples), int(seed)
        self.bitrate_kbps, self.domain = int(bitrate_kbps), domain
        self.fft_size, self.hop_size = int(fft_size), int(hop_size)
        self.level_db = _check_range("level_db", list(level_db))
        self.include_narrowband = bool(include_narrowband)
        self.validation_examples = int(validation_examples)
        self.folders = {"speech": [Path(p) for p in speech], "music": [Path(p) for p in music]}
        self.folder_names = {kind: [portable_path(p, base_dir) if base_dir is not None else Path(p).name
                                    for p in paths] for kind, paths in self.folders.items()}
        self.files: dict[str, list[AudioFile]] = {}
        self.narrowband_left_out = 0
        found = 0
        for kind, folders in self.folders.items():
            if not folders:
                continue
            every = assign_splits(folders, kind)
            if kind == "music":
                every = _music_files(every)
            found += len(every)
            files = [f for f in every if f.split == split]
            if not self.include_narrowband and self.sample_rate >= WIDEBAND_HZ:
                kept = [f for f in files if not _is_narrowband(f.path)]
                self.narrowband_left_out += len(files) - len(kept)
                files = kept
            if files:
                self.files[kind] = files
        if not self.files:
            folders = [str(p) for paths in self.folders.values() for p in paths]
            narrow = (f", {self.narrowband_left_out} narrowband files left out (include_narrowband keeps them)"
                      if self.narrowband_left_out else "")
            raise DataError(f"{', '.join(folders)}: no audio file in the {split} split (of {found} found{narrow}); "
                            "add files, or a speakers.csv / sources.csv that assigns split groups to this split")
        self.kinds = tuple(self.files)
        self._cache: OrderedDict[Path, tuple[np.ndarray, float]] = OrderedDict()
        self._cached_bytes = 0

    @property
    def frames(self) -> int:
        """STFT frames of one spectrogram example."""
        return 1 + self.example_samples // self.hop_size

    @property
    def example_shapes(self) -> tuple[tuple[int, int], tuple[int, int]]:
        """``((samples, channels), (samples, channels))`` (waveform) or ``((frames, bins), (frames, bins))``."""
        shape = ((self.frames, self.fft_size // 2 + 1) if self.domain == "spectrogram"
                 else (self.example_samples, self.channels))
        return shape, shape

    def describe(self) -> str:
        """One line for a model card's training-data field (folders named portably, never absolute)."""
        parts = [f"{kind} {', '.join(self.folder_names[kind])} ({len(self.files.get(kind, []))} files, "
                 f"{len({f.group for f in self.files.get(kind, [])})} split groups)"
                 for kind in ("speech", "music") if self.folders[kind]]
        domain = (f"spectrogram (STFT {self.fft_size}/{self.hop_size})" if self.domain == "spectrogram"
                  else "waveform")
        return (f"lossless vs MP3 {self.bitrate_kbps} kbit/s pairs of {' + '.join(parts)}, {self.split} split, "
                f"{domain}, level U[{self.level_db[0]:g}, {self.level_db[1]:g}] dBFS, {self.sample_rate} Hz, "
                f"{self.channels} channel(s), seed {self.seed}")

    def load(self, path: Path) -> tuple[np.ndarray, float]:
        """A file as float32 ``(channels, samples)`` at :attr:`sample_rate` and its RMS (kept in a bounded cache)."""
        if path in self._cache:
            self._cache.move_to_end(path)
            return self._cache[path]
        audio, rate = read_audio(path)
        audio = resample(match_channels(audio, self.channels), rate, self.sample_rate)
        self._cache[path] = (audio, _rms(audio))
        self._cached_bytes += audio.nbytes
        while self._cached_bytes > _CACHE_BYTES and len(self._cache) > 1:
            self._cached_bytes -= self._cache.popitem(last=False)[1][0].nbytes
        return self._cache[path]

    def draw(self, index: int) -> CodecPair:
        """Example ``index`` as waveforms, with the file it came from."""
        rng = np.random.default_rng([self.seed, _SPLIT_CODES[self.split], int(index)])
        kind = self.kinds[int(index) % len(self.kinds)]
        files, length = self.files[kind], self.example_samples
        for _ in range(_DRAW_ATTEMPTS):
            chosen = files[int(rng.integers(len(files)))]
            audio, file_rms = self.load(chosen.path)
            samples = audio.shape[1]
            start = (int(rng.integers(0, samples - length + 1)) if samples >= length
                     else -int(rng.integers(0, length - samples + 1)))
            window = _window(audio, start - CONTEXT_SAMPLES, length + 2 * CONTEXT_SAMPLES).astype(np.float64)
            excerpt_rms = _rms(window[:, CONTEXT_SAMPLES:CONTEXT_SAMPLES + length])
            if excerpt_rms > max(_SILENT_RMS, file_rms * 10 ** (QUIET_DB / 20)):
                break
        else:
            raise DataError(f"{chosen.path}: {_DRAW_ATTEMPTS} excerpts in a row were silent; remove silent files "
                            f"from the {kind} folders")
        level_db = float(rng.uniform(*self.level_db))
        gain = 10 ** (level_db / 20) / excerpt_rms
        peak = float(np.max(np.abs(window))) * gain
        if peak > PEAK:
            gain *= PEAK / peak
            level_db = float(20 * np.log10(excerpt_rms * gain))
        window = (window * gain).astype(np.float32)
        coded = mp3_round_trip(window, self.sample_rate, self.bitrate_kbps)
        middle = slice(CONTEXT_SAMPLES, CONTEXT_SAMPLES + length)
        return CodecPair(np.ascontiguousarray(window[:, middle]), np.ascontiguousarray(coded[:, middle]), kind,
                         chosen.name, start, level_db)

    def example(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """Example ``index``: ``(lossless, coded)``, float32, both ``(samples, channels)`` (waveform domain) or
        ``(frames, fft_size // 2 + 1)`` STFT magnitudes (spectrogram domain)."""
        pair = self.draw(index)
        if self.domain == "spectrogram":
            return (magnitude_spectrogram(pair.lossless[0], self.fft_size, self.hop_size),
                    magnitude_spectrogram(pair.coded[0], self.fft_size, self.hop_size))
        return pair.lossless.T.copy(), pair.coded.T.copy()

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        index = 0
        while self.split == TRAIN or index < self.validation_examples:
            yield self.example(index)
            index += 1
