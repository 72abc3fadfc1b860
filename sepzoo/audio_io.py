"""Reading and writing audio files with soundfile, with one-line errors for every bad input.

Arrays at this edge are float32 ``(channels, samples)``. sepzoo separates mono or stereo audio sampled
between :data:`MIN_SAMPLE_RATE` and :data:`MAX_SAMPLE_RATE` Hz; anything else is refused with an
:class:`~sepzoo.errors.AudioFileError` that names the file and says how to fix it. Outputs are written to a
temporary file beside the destination and renamed onto it only when complete, so a reader never sees a
half-written file and an older file at that path survives until its replacement is whole.
"""

from __future__ import annotations

import contextlib
import os
import struct
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from sepzoo.errors import AudioFileError, ConfigError, OutputError

MIN_SAMPLE_RATE = 4000
"""Lowest accepted sample rate, in Hz."""
MAX_SAMPLE_RATE = 384000
"""Highest accepted sample rate, in Hz."""
MAX_CHANNELS = 2
"""sepzoo separates mono or stereo input."""

_FORMATS = {"wav": ("WAV", "FLOAT"), "flac": ("FLAC", "PCM_24")}
"""Output format name -> (libsndfile format, default subtype). WAV stems default to 32-bit float so
stems louder than full scale are kept exactly; FLAC has no float subtype, so 24-bit PCM (clipped)."""

_UNKNOWN_WAV_SIZES = (0, 0xFFFFFFFF)
"""``data`` chunk sizes written by streaming encoders that did not know the length in advance."""


@dataclass(frozen=True)
class AudioInfo:
    """What the header of a valid input file says.

    Attributes:
        path: The file.
        sample_rate: Samples per second per channel, in Hz.
        channels: 1 (mono) or 2 (stereo).
        frames: Samples per channel.
        format: libsndfile container name, e.g. ``"WAV"``.
        subtype: libsndfile sample encoding, e.g. ``"PCM_16"``.
    """

    path: Path
    sample_rate: int
    channels: int
    frames: int
    format: str
    subtype: str

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.frames / self.sample_rate


def audio_info(path: str | os.PathLike) -> AudioInfo:
    """Read and check a file's header without decoding its samples.

    Raises:
        AudioFileError: the file is missing, empty, not audio, a truncated WAV, has no frames, more than two
            channels, or a sample rate outside 4000..384000 Hz.
    """
    path = Path(path)
    if not path.exists():
        raise AudioFileError(f"{path}: no such file; check the path")
    if path.is_dir():
        raise AudioFileError(f"{path}: is a folder, not an audio file; pass the audio files inside it")
    if path.stat().st_size == 0:
        raise AudioFileError(f"{path}: file is empty (0 bytes); re-export or re-download it")
    try:
        header = sf.info(str(path))
    except (sf.SoundFileError, OSError) as error:
        raise AudioFileError(
            f"{path}: not a readable audio file ({_first_line(error)}); convert it to WAV or FLAC, "
            "e.g. `ffmpeg -i IN OUT.wav`"
        ) from None
    info = AudioInfo(path, int(header.samplerate), int(header.channels), int(header.frames), header.format,
                     header.subtype)
    _check_header(info)
    return info


def _first_line(error: Exception) -> str:
    """An exception's message cut to its first line (or its type name if empty), for one-line errors."""
    return (str(error).splitlines() or [type(error).__name__])[0]


def _check_header(info: AudioInfo) -> None:
    """Refuse a parsed header sepzoo cannot use (see :func:`audio_info`)."""
    _check_layout(info.path, info.channels, info.sample_rate)
    declared = _wav_declared_frames(info)
    if declared is not None and declared > info.frames:
        raise AudioFileError(
            f"{info.path}: truncated WAV, its header promises {declared} frames but only {info.frames} are "
            "present; re-export or re-download the file"
        )
    if info.frames == 0:
        raise AudioFileError(f"{info.path}: contains no audio (0 frames); pass a file with at least one sample")


def _check_layout(name: object, channels: int, sample_rate: int) -> None:
    """Refuse more than :data:`MAX_CHANNELS` channels or a rate outside the accepted range; ``name`` is blamed."""
    if not 1 <= channels <= MAX_CHANNELS:
        raise AudioFileError(
            f"{name}: has {channels} channels, sepzoo separates mono or stereo; "
            "downmix to stereo first, e.g. `ffmpeg -i IN -ac 2 OUT`"
        )
    if not MIN_SAMPLE_RATE <= sample_rate <= MAX_SAMPLE_RATE:
        raise AudioFileError(
            f"{name}: sample rate {sample_rate} Hz is outside {MIN_SAMPLE_RATE}..{MAX_SAMPLE_RATE} Hz; "
            "resample it first, e.g. `ffmpeg -i IN -ar 44100 OUT`"
        )


def check_audio_array(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """Apply the file policy to an in-memory signal; return it as contiguous float32 ``(channels, samples)``.

    Raises:
        AudioFileError: not 2-D, no samples, more than two channels, a rate outside 4000..384000 Hz, or
            NaN/Inf samples.
    """
    audio = np.ascontiguousarray(audio, dtype=np.float32)
    if audio.ndim != 2:
        raise AudioFileError(
            f"audio array: has shape {audio.shape}; pass (channels, samples), e.g. `x[None]` for a mono vector"
        )
    _check_layout("audio array", audio.shape[0], sample_rate)
    if audio.shape[1] == 0:
        raise AudioFileError("audio array: contains no samples; pass at least one sample per channel")
    if not np.isfinite(audio).all():
        raise AudioFileError("audio array: holds NaN or infinite samples; replace them, e.g. with np.nan_to_num")
    return audio


def _wav_declared_frames(info: AudioInfo) -> int | None:
    """Frames the ``data`` chunk of a RIFF/RIFX WAV header declares, or None if not a WAV or size unknown.

    libsndfile silently shortens a truncated WAV to the bytes present, so the promise is read here.
    """
    if info.format not in ("WAV", "WAVEX"):
        return None
    with open(info.path, "rb") as file:
        riff = file.read(12)
        if len(riff) < 12 or riff[:4] not in (b"RIFF", b"RIFX") or riff[8:12] != b"WAVE":
            return None
        size_format = "<I" if riff[:4] == b"RIFF" else ">I"
        while len(chunk := file.read(8)) == 8:
            (size,) = struct.unpack(size_format, chunk[4:])
            if chunk[:4] == b"data":
                if size in _UNKNOWN_WAV_SIZES:
                    return None
                bytes_per_frame = _bytes_per_frame(info)
                return None if bytes_per_frame is None else size // bytes_per_frame
            file.seek(size + (size & 1), os.SEEK_CUR)
    return None


def _bytes_per_frame(info: AudioInfo) -> int | None:
    """Bytes one frame takes in an uncompressed WAV, or None for compressed subtypes."""
    bits = {"PCM_U8": 8, "PCM_S8": 8, "PCM_16": 16, "PCM_24": 24, "PCM_32": 32, "FLOAT": 32, "DOUBLE": 64}
    return bits[info.subtype] // 8 * info.channels if info.subtype in bits else None


def iter_blocks(path: str | os.PathLike, block_samples: int) -> Iterator[np.ndarray]:
    """Stream a checked file as float32 ``(channels, n)`` blocks of ``block_samples`` frames (the last shorter).

    Memory stays bounded by the block size. The header is checked before the first block; non-finite
    samples and files that end before their header says raise :class:`AudioFileError` when reached.
    """
    if block_samples < 1:
        raise ConfigError(f"block_samples={block_samples}: must be at least 1 sample")
    info = audio_info(path)
    yield from _read_blocks(info, block_samples)


def _read_blocks(info: AudioInfo, block_samples: int) -> Iterator[np.ndarray]:
    """Decode ``info.path`` in blocks, checking sample values and the total frame count."""
    frames_read = 0
    try:
        with sf.SoundFile(str(info.path)) as file:
            while (block := file.read(block_samples, dtype="float32", always_2d=True)).shape[0]:
                if not np.isfinite(block).all():
                    bad = frames_read + int(np.argwhere(~np.isfinite(block))[0, 0])
                    raise AudioFileError(
                        f"{info.path}: holds NaN or infinite samples (first at frame {bad}); "
                        "repair or re-render the file"
                    )
                frames_read += block.shape[0]
                yield np.ascontiguousarray(block.T)
    except sf.SoundFileError as error:
        raise AudioFileError(
            f"{info.path}: decoding failed after {frames_read} frames ({_first_line(error)}); the file is corrupt or "
            "truncated, re-export or re-download it"
        ) from None
    if frames_read < info.frames:
        raise AudioFileError(
            f"{info.path}: ends after {frames_read} of {info.frames} frames; the file is truncated, "
            "re-export or re-download it"
        )


def read_audio(path: str | os.PathLike) -> tuple[np.ndarray, int]:
    """Read a whole checked file.

    Returns:
        ``(audio, sample_rate)``: float32 ``(channels, samples)`` and the rate in Hz.
    """
    info = audio_info(path)
    blocks = list(_read_blocks(info, info.frames))  # one block, unless the decoder finds more than announced
    return (blocks[0] if len(blocks) == 1 else np.concatenate(blocks, axis=1)), info.sample_rate


def validate_audio(path: str | os.PathLike, block_samples: int = 1 << 16) -> AudioInfo:
    """Check a file completely (header, every sample, length) in bounded memory; return its header info."""
    info = audio_info(path)
    for _ in _read_blocks(info, block_samples):
        pass
    return info


def check_output_rate(sample_rate: int) -> int:
    """Return ``sample_rate`` (Hz) as an int if outputs may be written at it; raise ConfigError otherwise."""
    if not MIN_SAMPLE_RATE <= sample_rate <= MAX_SAMPLE_RATE:
        raise ConfigError(
            f"output sample rate {sample_rate} Hz: outside {MIN_SAMPLE_RATE}..{MAX_SAMPLE_RATE} Hz; pick one inside"
        )
    return int(sample_rate)


def output_extension(format: str) -> str:
    """File extension (without dot) for an output ``format`` name; raises ConfigError for unknown ones."""
    _check_format(format, None)
    return format.lower()


def _check_format(format: str, subtype: str | None) -> tuple[str, str]:
    """Resolve ``format`` ("wav" | "flac") and ``subtype`` to libsndfile names, or raise ConfigError."""
    if format.lower() not in _FORMATS:
        raise ConfigError(f"output format {format!r}: not supported; use one of {', '.join(_FORMATS)}")
    sf_format, default_subtype = _FORMATS[format.lower()]
    subtype = (subtype or default_subtype).upper()
    if not sf.check_format(sf_format, subtype):
        raise ConfigError(
            f"subtype {subtype!r}: {format} cannot store it; use one of {', '.join(sf.available_subtypes(sf_format))}"
        )
    return sf_format, subtype


def _temp_path_beside(path: Path) -> Path:
    """Create an empty hidden temporary file in ``path``'s folder (same filesystem, so renames are atomic)."""
    try:
        handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    except OSError as error:
        raise OutputError(
            f"{path.parent}: cannot write there ({error.strerror}); choose a writable output folder"
        ) from None
    os.close(handle)
    return Path(name)


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` on success, delete it on any error."""
    path = Path(path)
    temp = _temp_path_beside(path)
    try:
        yield temp
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


class AudioWriter:
    """Write an audio file block by block into a temporary file, then :meth:`commit` it under its name.

    Used as a context manager it commits on a clean exit and discards the temporary file on an exception.

    Args:
        path: Final destination; its folder must exist.
        sample_rate: Rate in Hz.
        channels: Channels per block.
        format: ``"wav"`` (default subtype 32-bit float) or ``"flac"`` (default 24-bit PCM).
        subtype: A libsndfile subtype such as ``"PCM_16"``, or None for the format's default.
    """

    def __init__(self, path: str | os.PathLike, sample_rate: int, channels: int, format: str = "wav",
                 subtype: str | None = None) -> None:
        sf_format, sf_subtype = _check_format(format, subtype)
        self.path = Path(path)
        self.channels = channels
        self.temp_path = _temp_path_beside(self.path)
        try:
            self._file = sf.SoundFile(str(self.temp_path), "w", samplerate=int(sample_rate), channels=channels,
                                      format=sf_format, subtype=sf_subtype)
        except BaseException:
            self.temp_path.unlink(missing_ok=True)
            raise

    def write(self, block: np.ndarray) -> None:
        """Append a float ``(channels, n)`` block."""
        if block.ndim != 2 or block.shape[0] != self.channels:
            raise ValueError(f"expected a ({self.channels}, n) block, got shape {block.shape}")
        self._file.write(np.ascontiguousarray(block.T, dtype=np.float32))

    def close(self) -> None:
        """Finish the temporary file (idempotent); the destination is untouched until :meth:`commit`."""
        self._file.close()

    def commit(self) -> Path:
        """Close and rename the temporary file onto the destination; return the destination."""
        self.close()
        os.replace(self.temp_path, self.path)
        return self.path

    def discard(self) -> None:
        """Close and delete the temporary file; the destination is untouched."""
        self.close()
        self.temp_path.unlink(missing_ok=True)

    def __enter__(self) -> AudioWriter:
        return self

    def __exit__(self, exc_type, exc, traceback) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.discard()


def write_audio(path: str | os.PathLike, audio: np.ndarray, sample_rate: int, format: str = "wav",
                subtype: str | None = None) -> Path:
    """Write float ``(channels, samples)`` audio at ``sample_rate`` Hz atomically; return the path.

    Missing parent folders are created.

    Raises:
        AudioFileError: ``audio`` is not 2-D or holds NaN/Inf.
        OutputError: the destination folder cannot be created or written.
    """
    path = Path(path)
    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim != 2:
        raise AudioFileError(f"{path}: audio to write has shape {audio.shape}; pass a (channels, samples) array")
    if not np.isfinite(audio).all():
        raise AudioFileError(f"{path}: audio to write holds NaN or infinite samples; fix them before writing")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputError(
            f"{path.parent}: cannot create folder ({error.strerror or error}); choose a writable output folder"
        ) from None
    with AudioWriter(path, sample_rate, audio.shape[0], format, subtype) as writer:
        writer.write(audio)
    return path
