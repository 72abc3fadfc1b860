"""Reading and writing audio files with soundfile, with one-line errors for every bad input.

Arrays at this edge are float32 ``(channels, samples)``. sepzoo separates mono or stereo audio sampled
between :data:`MIN_SAMPLE_RATE` and :data:`MAX_SAMPLE_RATE` Hz; anything else is refused with an
:class:`~sepzoo.errors.AudioFileError` that names the file and says how to fix it.

Lengths: WAV and FLAC headers state the exact frame count, so a file that decodes to fewer frames is
truncated and refused. For MP3 and OGG (Vorbis, Opus) libsndfile's count is only an estimate (from the bit
rate and file size, or the last page), and a streamed FLAC may state none; their frames are counted by
decoding, so :attr:`AudioInfo.frames` is always what a reader gets. Decoders that print to the C-level stderr
(mpg123 inside libsndfile) are silenced; what they said goes into the one-line error instead.

AAC in MP4/M4A (and ADTS ``.aac``) and Matroska/WebM, which libsndfile cannot read, are decoded by FFmpeg
(``ffprobe`` for the header, ``ffmpeg`` streaming float32 PCM through a pipe); their length is counted by
decoding too. The first audio stream is read.

Outputs are written to a hidden temporary file beside the destination (``.<name>.sepzoo-<hex>.part``, with
the mode the umask gives any new file) and renamed onto it only when complete, so a reader never sees a
half-written file and an older file at that path survives until its replacement is whole. The writing
process holds an ``flock`` on its temporary; one left behind by a killed process is unlocked, and the next
writer into that folder removes it (:func:`remove_stale_temporaries`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import functools
import json
import os
import re
import secrets
import signal
import stat
import struct
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from sepzoo.errors import AudioFileError, ConfigError, OutputError, first_line

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

_ESTIMATED_LENGTH_FORMATS = frozenset({"MP3", "OGG"})
"""libsndfile formats whose header frame count is an estimate: their frames are counted by decoding."""
_UNKNOWN_FRAMES = 0x7FFFFFFFFFFFFFFF
"""libsndfile's frame count (SF_COUNT_MAX) for a file that does not state its length, e.g. a streamed FLAC."""
_NOISY_DECODERS = frozenset({"MP3"})
"""Formats whose decoder (mpg123) prints notes to the C-level stderr; captured while it runs."""
_QUIET_SIGNATURES = {b"RIFF": "WAV", b"RIFX": "WAV", b"RF64": "RF64", b"fLaC": "FLAC", b"OggS": "OGG",
                     b"FORM": "AIFF"}
"""First four bytes of containers whose libsndfile readers print nothing -> their format (any other file's
header is read with fd 2 captured)."""
_LOG_PREFIX = re.compile(r"^(?:\[[^\]]*\]\s*)?(?:(?:note|warning|error|critical|fluidsynth)\s*:\s*)+", re.IGNORECASE)
"""Log prefixes of C library messages (``Note: ``, ``[src/libmpg123/parse.c:...] error: ``,
``fluidsynth: error: ``), dropped when a message is summarised."""

_FFMPEG_FORMAT = "FFMPEG"
""":attr:`AudioInfo.format` of files decoded by FFmpeg rather than libsndfile (the codec is in ``subtype``)."""

_TEMP_TAG = ".sepzoo-"
"""Marks this module's temporaries: ``.<name>.sepzoo-<8 hex>.part`` beside the destination ``<name>``."""
_LEGACY_TEMP = re.compile(r"^\..+\.[a-z0-9_]{8}\.part$")
"""Temporaries of earlier sepzoo versions (``tempfile.mkstemp`` names ``.<name>.<8 chars>.part``)."""


@dataclass(frozen=True)
class AudioInfo:
    """What the header of a valid input file says.

    Attributes:
        path: The file.
        sample_rate: Samples per second per channel, in Hz.
        channels: 1 (mono) or 2 (stereo).
        frames: Samples per channel, exactly as many as decoding gives (counted by decoding for MP3, OGG
            and FLAC files that state no length).
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
    """Read and check a file's header; return it with the exact frame count.

    WAV and FLAC headers give the count; MP3, OGG and FLAC files that state no length are decoded once to
    count it (remembered while the file is unchanged).

    Raises:
        AudioFileError: the file is missing, empty, not audio, a truncated WAV, undecodable, has no frames,
            more than two channels, or a sample rate outside 4000..384000 Hz.
    """
    path = Path(path)
    if not path.exists():
        raise AudioFileError(f"{path}: no such file; check the path")
    if path.is_dir():
        raise AudioFileError(f"{path}: is a folder, not an audio file; pass the audio files inside it")
    if path.stat().st_size == 0:
        raise AudioFileError(f"{path}: file is empty (0 bytes); re-export or re-download it")
    if _is_ffmpeg_container(path):
        info = _ffprobe_info(path)
    else:
        notes: list[str] = []
        try:
            with _maybe_captured(_sniffed_format(path)) as notes:
                header = sf.info(str(path))
        except (sf.SoundFileError, OSError) as error:
            raise AudioFileError(
                f"{path}: not a readable audio file ({_open_failure(error, notes)}); convert it to WAV or FLAC, "
                "e.g. `ffmpeg -i IN OUT.wav`"
            ) from None
        info = AudioInfo(path, int(header.samplerate), int(header.channels), int(header.frames), header.format,
                         header.subtype)
    _check_layout(info.path, info.channels, info.sample_rate)
    if info.format in _ESTIMATED_LENGTH_FORMATS or info.frames == _UNKNOWN_FRAMES:
        status = path.stat()
        frames = _decoded_frames(path, info.format, status.st_size, status.st_mtime_ns, (status.st_dev, status.st_ino))
        info = dataclasses.replace(info, frames=frames)
    _check_length(info)
    return info



@contextlib.contextmanager
def c_stderr_captured() -> Iterator[list[str]]:
    """Send file descriptor 2 to a temporary file for the ``with`` body; then fill the yielded list with what
    was written there, one stripped non-empty line per item.

    C libraries that decode or synthesise audio (mpg123 inside libsndfile, FluidSynth, GLib) print straight to
    fd 2, past ``sys.stderr``; a caller keeps the user's terminal to one error line by summarising them.
    Anything else written to fd 2 meanwhile (another thread) is captured too, so keep the body short.
    """
    lines: list[str] = []
    sys.stderr.flush()
    with tempfile.TemporaryFile() as sink:
        saved = os.dup(2)
        os.dup2(sink.fileno(), 2)
        try:
            yield lines
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            text = sink.read().decode("utf-8", errors="replace")
            lines.extend(line.strip() for line in text.splitlines() if line.strip())


def summarise_c_messages(lines: list[str]) -> str | None:
    """The first line C libraries printed (see :func:`c_stderr_captured`) without its log prefix, or None."""
    for line in lines:
        message = _LOG_PREFIX.sub("", line).strip()
        if message:
            return message
    return None


def _open_failure(error: Exception, notes: list[str]) -> str:
    """Why libsndfile could not open a file that exists: the decoder's own note, else libsndfile's message."""
    reason = summarise_c_messages(notes) or first_line(error)
    reason = re.sub(r"^Error opening '.*?': ", "", reason)
    if reason.startswith("File does not exist or is not a regular file"):  # libsndfile's guess for bad MPEG data
        reason = "format not recognised or the data is damaged"
    return reason


def _check_length(info: AudioInfo) -> None:
    """Refuse a WAV that ends before its header says, and a file without frames."""
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


@functools.lru_cache(maxsize=64)
def _decoded_frames(path: Path, format: str, size: int, mtime_ns: int, inode: tuple[int, int]) -> int:
    """Frames per channel a file decodes to, counted in blocks; cached per (path, size, mtime, (device, inode))."""
    frames = 0
    with _open_for_reading(path, format) as file:
        while block := _read_next(file, path, format, 1 << 16, frames).shape[0]:
            frames += block
    return frames


class _ForwardReader(sf.SoundFile):
    """A ``SoundFile`` read front to back without soundfile's position bookkeeping.

    For a seekable file soundfile cuts every read at the header's frame count and seeks after it; that loses
    the end of an MP3 whose estimate is short and fails at the end of a FLAC that states no length.
    """

    def seekable(self) -> bool:
        return False


@contextlib.contextmanager
def _open_for_reading(path: Path, format: str) -> Iterator[sf.SoundFile | _FfmpegReader]:
    """A :class:`_ForwardReader` of ``path``, its decoder's stderr notes captured; errors become AudioFileError."""
    if format == _FFMPEG_FORMAT:
        with _FfmpegReader(path) as reader:
            yield reader
        return
    notes: list[str] = []
    try:
        with _maybe_captured(format) as notes:
            file = _ForwardReader(str(path))
    except (sf.SoundFileError, OSError) as error:
        raise _decoding_error(path, 0, error, notes) from None
    with file:
        yield file


def _read_next(file: sf.SoundFile | _FfmpegReader, path: Path, format: str, block_samples: int,
               frames_read: int) -> np.ndarray:
    """The next float32 ``(n, channels)`` block (n = 0 at the end); decoder failures become AudioFileError."""
    notes: list[str] = []
    try:
        with _maybe_captured(format) as notes:
            return file.read(block_samples, dtype="float32", always_2d=True)
    except sf.SoundFileError as error:
        raise _decoding_error(path, frames_read, error, notes) from None


def _maybe_captured(format: str | None) -> contextlib.AbstractContextManager[list[str]]:
    """:func:`c_stderr_captured` for formats whose decoder prints to fd 2 and for unknown ones (None), else a
    no-op yielding an empty list."""
    return c_stderr_captured() if format is None or format in _NOISY_DECODERS else contextlib.nullcontext([])


def _sniffed_format(path: Path) -> str | None:
    """The format the first bytes of ``path`` announce when its reader is known to be quiet, else None."""
    try:
        with open(path, "rb") as file:
            return _QUIET_SIGNATURES.get(file.read(4))
    except OSError:
        return None


def _decoding_error(path: Path, frames_read: int, error: Exception, notes: list[str]) -> AudioFileError:
    """The one-line error for a decoder failure, with the decoder's own note when it printed one."""
    reason = summarise_c_messages(notes) or first_line(error)
    return AudioFileError(
        f"{path}: decoding failed after {frames_read} frames ({reason}); the file is corrupt or truncated, "
        "re-export or re-download it"
    )


def _is_ffmpeg_container(path: Path) -> bool:
    """Whether the first bytes announce a container libsndfile cannot read but FFmpeg can: ISO MP4 / M4A
    (``ftyp`` box), an ADTS AAC stream (12-bit sync, layer 0) or Matroska / WebM (EBML magic)."""
    try:
        with open(path, "rb") as file:
            head = file.read(12)
    except OSError:
        return False
    return (head[4:8] == b"ftyp" or head[:4] == b"\x1a\x45\xdf\xa3"
            or (len(head) >= 2 and head[0] == 0xFF and (head[1] & 0xF6) == 0xF0))


def _ffmpeg_failure(stderr: bytes) -> str:
    """FFmpeg's first message line without its ``[codec @ 0x...]`` prefix, or a generic reason."""
    for line in stderr.decode("utf-8", errors="replace").splitlines():
        message = re.sub(r"^\[[^\]]*\]\s*", "", line.strip())
        if message:
            return message.rstrip(".")
    return "FFmpeg could not decode it"


def _ffprobe_info(path: Path) -> AudioInfo:
    """The header of ``path``'s first audio stream as ``ffprobe`` reads it (frames unknown until decoded);
    probed once while the file is unchanged (checking a file and then reading it asks twice)."""
    try:
        status = path.stat()
    except OSError:  # gone since it was checked: let ffprobe say so
        return _probed_header.__wrapped__(path, 0, 0, (0, 0))
    return _probed_header(path, status.st_size, status.st_mtime_ns, (status.st_dev, status.st_ino))


@functools.lru_cache(maxsize=64)
def _probed_header(path: Path, size: int, mtime_ns: int, inode: tuple[int, int]) -> AudioInfo:
    """:func:`_ffprobe_info` for one version of the file (size, modification time and inode are the cache key;
    a failure raises and is not cached)."""
    command = ["ffprobe", "-v", "error", "-select_streams", "a:0", "-show_entries",
               "stream=sample_rate,channels,codec_name", "-of", "json", str(path)]
    try:
        result = subprocess.run(command, capture_output=True, timeout=60)
    except FileNotFoundError:
        raise AudioFileError(
            f"{path}: an MP4/AAC/WebM file needs FFmpeg, which is not installed; install it (`apt-get install "
            "ffmpeg`) or convert the file to WAV or FLAC"
        ) from None
    streams = []
    if result.returncode == 0:
        with contextlib.suppress(ValueError):
            streams = json.loads(result.stdout or b"{}").get("streams", [])
    if not streams:
        reason = _ffmpeg_failure(result.stderr) if result.returncode else "it holds no audio stream"
        raise AudioFileError(
            f"{path}: not a readable audio file ({reason}); convert it to WAV or FLAC, e.g. `ffmpeg -i IN OUT.wav`"
        )
    stream = streams[0]
    return AudioInfo(path, int(stream.get("sample_rate") or 0), int(stream.get("channels") or 0), _UNKNOWN_FRAMES,
                     _FFMPEG_FORMAT, str(stream.get("codec_name", "unknown")).upper())


class _FfmpegReader:
    """Decodes the first audio stream of a file with ``ffmpeg`` into float32 blocks, front to back.

    ``read`` has the :class:`soundfile.SoundFile` signature the block readers use; a decoder failure (FFmpeg
    exits non-zero) raises :class:`soundfile.SoundFileError` with FFmpeg's first message when the stream ends.
    """

    def __init__(self, path: Path) -> None:
        self.channels = _ffprobe_info(path).channels
        command = ["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-map", "0:a:0", "-vn", "-f", "f32le",
                   "-acodec", "pcm_f32le", "-"]
        self._stderr = tempfile.TemporaryFile()
        self._process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=self._stderr)
        self._pending = b""

    def read(self, frames: int, dtype: str = "float32", always_2d: bool = True) -> np.ndarray:
        """Up to ``frames`` frames as float32 ``(n, channels)``; n = 0 at the end of the stream."""
        want = frames * self.channels * 4
        while len(self._pending) < want and (chunk := self._process.stdout.read(max(want - len(self._pending), 4096))):
            self._pending += chunk
        usable = min(len(self._pending), want) // (4 * self.channels) * (4 * self.channels)
        data, self._pending = self._pending[:usable], self._pending[usable:]
        if not data and self._process.wait() != 0:
            self._stderr.seek(0)
            raise sf.SoundFileError(_ffmpeg_failure(self._stderr.read()))
        return np.frombuffer(data, dtype="<f4").reshape(-1, self.channels).astype(dtype, copy=False)

    def __enter__(self) -> _FfmpegReader:
        return self

    def __exit__(self, *exc_info) -> None:
        if self._process.poll() is None:
            self._process.kill()
        self._process.stdout.close()
        self._process.wait()
        self._stderr.close()


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
    """Decode ``info.path`` in blocks, checking sample values and that it is not shorter than ``info.frames``."""
    frames_read = 0
    with _open_for_reading(info.path, info.format) as file:
        while (block := _read_next(file, info.path, info.format, block_samples, frames_read)).shape[0]:
            if not np.isfinite(block).all():
                bad = frames_read + int(np.argwhere(~np.isfinite(block))[0, 0])
                raise AudioFileError(
                    f"{info.path}: holds NaN or infinite samples (first at frame {bad}); "
                    "repair or re-render the file"
                )
            frames_read += block.shape[0]
            yield np.ascontiguousarray(block.T)
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


class _Temporary:
    """A hidden temporary file beside ``destination``, locked by this process until committed or discarded.

    Created as ``.<name>.sepzoo-<8 hex>.part`` in the destination's folder (same filesystem, so the rename is
    atomic) with mode ``0o666`` less the umask, like any file the user creates. An exclusive ``flock`` on it
    marks it in use; the kernel drops the lock when the process dies, even by SIGKILL, which is how
    :func:`remove_stale_temporaries` tells a leftover from a file being written.

    Raises:
        OutputError: ``destination`` is a folder, or its folder cannot be written.
    """

    def __init__(self, destination: Path) -> None:
        if destination.is_dir():
            raise OutputError(f"{destination}: is a folder, cannot write a file there; remove it or choose "
                              "another output folder")
        remove_stale_temporaries(destination.parent)
        self.destination = destination
        self.path, self._lock = _create_locked(destination)

    def commit(self) -> Path:
        """Rename the temporary onto the destination (replacing it) and release the lock."""
        try:
            os.replace(self.path, self.destination)
        except OSError as error:
            self.discard()
            raise OutputError(f"{self.destination}: cannot write it ({error.strerror or error}); "
                              "choose a writable output folder") from None
        self._release()
        return self.destination

    def discard(self) -> None:
        """Delete the temporary and release the lock (idempotent); the destination is untouched."""
        if self._lock is not None:
            self.path.unlink(missing_ok=True)
        self._release()

    def _release(self) -> None:
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None


def _create_locked(destination: Path) -> tuple[Path, int]:
    """Create a new temporary beside ``destination`` and lock it; return its path and the locked descriptor."""
    while True:
        path = destination.with_name(f".{destination.name}{_TEMP_TAG}{secrets.token_hex(4)}.part")
        try:
            descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
        except FileExistsError:
            continue
        except OSError as error:
            raise OutputError(
                f"{destination.parent}: cannot write there ({error.strerror}); choose a writable output folder"
            ) from None
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        if os.fstat(descriptor).st_nlink:
            return path, descriptor
        os.close(descriptor)  # a cleaner removed it between its creation and the lock: make another


def remove_stale_temporaries(folder: str | os.PathLike) -> list[Path]:
    """Delete the temporaries that killed writers left in ``folder``; return the paths removed.

    A temporary is this module's ``.<name>.sepzoo-<hex>.part`` (or an earlier version's
    ``.<name>.<8 chars>.part``) whose ``flock`` nobody holds: files being written by a live process,
    this one or another, are kept. A missing or unreadable folder has none.
    """
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    removed = []
    for name in names:
        if name.startswith(".") and name.endswith(".part") and (_TEMP_TAG in name or _LEGACY_TEMP.match(name)):
            path = Path(folder) / name
            if _remove_if_unlocked(path):
                removed.append(path)
    return removed


def _remove_if_unlocked(path: Path) -> bool:
    """Unlink the regular file ``path`` if its ``flock`` can be taken at once; True when it was removed."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return False
    try:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode):
            return False
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        if os.stat(path, follow_symlinks=False).st_ino != status.st_ino:
            return False
        os.unlink(path)
        return True
    except OSError:  # BlockingIOError: a live writer holds it; others: it went away or cannot be removed
        return False
    finally:
        os.close(descriptor)


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` on success, delete it on any error.

    Raises:
        OutputError: ``path`` is a folder, or its folder cannot be written.
    """
    temporary = _Temporary(Path(path))
    try:
        yield temporary.path
    except BaseException:
        temporary.discard()
        raise
    temporary.commit()


class AudioWriter:
    """Write an audio file block by block into a temporary file, then :meth:`commit` it under its name.

    Used as a context manager it commits on a clean exit and discards the temporary file on an exception.
    Creating one removes the temporaries killed writers left in the destination's folder.

    Args:
        path: Final destination; its folder must exist.
        sample_rate: Rate in Hz.
        channels: Channels per block.
        format: ``"wav"`` (default subtype 32-bit float) or ``"flac"`` (default 24-bit PCM).
        subtype: A libsndfile subtype such as ``"PCM_16"``, or None for the format's default.

    Raises:
        ConfigError: an unknown format or subtype.
        OutputError: ``path`` is a folder, or its folder cannot be written.
    """

    def __init__(self, path: str | os.PathLike, sample_rate: int, channels: int, format: str = "wav",
                 subtype: str | None = None) -> None:
        sf_format, sf_subtype = _check_format(format, subtype)
        self.path = Path(path)
        self.channels = channels
        self._temporary = _Temporary(self.path)
        self.temp_path = self._temporary.path
        try:
            self._file = sf.SoundFile(str(self.temp_path), "w", samplerate=int(sample_rate), channels=channels,
                                      format=sf_format, subtype=sf_subtype)
        except BaseException:
            self._temporary.discard()
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
        return self._temporary.commit()

    def discard(self) -> None:
        """Close and delete the temporary file; the destination is untouched."""
        self.close()
        self._temporary.discard()

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


@contextlib.contextmanager
def signals_deferred() -> Iterator[None]:
    """Hold SIGINT and SIGTERM back (``pthread_sigmask``) inside the block; one that arrives is handled on leaving.

    For the steps that create something and record it for clean-up (a folder, a temporary file and the writer
    that owns it): a Ctrl-C or ``kill`` between the creation and the record would leave the thing behind with
    nobody to remove it. Elsewhere, and where the platform has no signal masks, signals act at once.
    """
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    held = {signal.SIGINT, signal.SIGTERM}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def make_output_dirs(folder: Path) -> list[Path]:
    """Create ``folder`` and its missing parents; return those created, outermost first, for
    :func:`remove_empty_folders` to take back if the command fails.

    Raises:
        OutputError: the folder cannot be created (a file in the way, no permission); nothing is left behind.
    """
    missing = [path for path in (folder, *folder.parents) if not path.exists()][::-1]
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        remove_empty_folders(missing)
        raise OutputError(f"{folder}: cannot create the output folder ({error.strerror or error}); "
                          "pick a writable output folder (-o)") from None
    return missing


def remove_empty_folders(folders: list[Path]) -> None:
    """Remove those of ``folders`` (outermost first) that exist and are empty, innermost first (what a failed
    command created and did not fill)."""
    for folder in reversed(folders):
        try:
            folder.rmdir()
        except OSError:
            pass
