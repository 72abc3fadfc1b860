"""Shared fixtures: audio files (good and broken) and tiny deterministic stand-in separation models."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import soundfile as sf  # noqa: E402

from sepzoo.models.base import SeparationModel  # noqa: E402


def average_spectrum(audio: np.ndarray, frame: int = 1024) -> np.ndarray:
    """Unit-norm mean magnitude spectrum of 1-D ``audio`` over whole ``frame``-sample frames: the dot product of
    two is their timbre's cosine similarity (1.0 = same spectral balance)."""
    frames = audio[: len(audio) // frame * frame].reshape(-1, frame)
    magnitude = np.abs(np.fft.rfft(frames, axis=-1)).mean(axis=0)
    return magnitude / (np.linalg.norm(magnitude) + 1e-12)


def rendered_noise_tree(root: Path, sources: list[str], seconds: float, seed: int, songs: int = 1) -> Path:
    """A minimal ``sepzoo render`` tree: train/ and validation/ with ``songs`` noise songs each, 8 kHz mono.

    Song ``k``'s stems are uniform noise of peak ``0.05 * (k + 1)``, so an example tells its song by level.
    """
    rng = np.random.default_rng(seed)
    for split in ("train", "validation"):
        for index in range(songs):
            song = root / split / f"song_{seed}_{index}"
            song.mkdir(parents=True)
            peak = 0.05 * (index + 1)
            stems = rng.uniform(-peak, peak, (len(sources), int(8000 * seconds))).astype(np.float32)
            for name, stem in zip(sources, stems):
                sf.write(song / f"{name}.wav", stem, 8000, subtype="FLOAT")
            sf.write(song / "mixture.wav", stems.sum(axis=0), 8000, subtype="FLOAT")
        (root / split / "render.json").write_text(json.dumps({"sources": sources, "sample_rate": 8000, "channels": 1}))
    return root


def tone(sample_rate: int, seconds: float, channels: int = 1, seed: int = 0) -> np.ndarray:
    """A float32 ``(channels, samples)`` test signal: a few sines below 3 kHz (band-limited for any rate
    >= 8 kHz) plus quiet noise, peak below 0.9."""
    rng = np.random.default_rng(seed)
    time = np.arange(round(sample_rate * seconds)) / sample_rate
    rows = []
    for channel in range(channels):
        frequencies = rng.uniform(80.0, 3000.0, size=4)
        phases = rng.uniform(0, 2 * np.pi, size=4)
        rows.append(0.2 * np.sin(2 * np.pi * frequencies[:, None] * time + phases[:, None]).sum(axis=0))
    audio = np.stack(rows) + 0.01 * rng.standard_normal((channels, len(time)))
    return audio.astype(np.float32)


@pytest.fixture
def write_wav(tmp_path: Path) -> Callable[..., Path]:
    """Factory: ``write_wav(name, audio (channels, samples), sample_rate, subtype="FLOAT") -> Path`` in tmp."""

    def write(name: str, audio: np.ndarray, sample_rate: int, subtype: str = "FLOAT") -> Path:
        path = tmp_path / name
        sf.write(str(path), np.asarray(audio).T, sample_rate, subtype=subtype, format="WAV")
        return path

    return write


@pytest.fixture
def audio_files(tmp_path: Path, write_wav: Callable[..., Path]) -> dict[str, Path]:
    """A folder of audio files under ``tmp_path/audio``: valid ones and one of every kind of broken one.

    Valid: ``mono_8k`` (8000 Hz, 0.5 s), ``stereo_44k`` (44100 Hz, 0.3 s, 16-bit), ``mono_192k``
    (192000 Hz, 0.1 s), ``flac`` (stereo 22050 Hz FLAC, 0.2 s), ``one_sample`` (1 frame at 16000 Hz).
    Broken: ``missing``, ``folder``, ``empty`` (0 bytes), ``truncated`` (WAV cut in half), ``not_audio``
    (text), ``nan``, ``inf`` (float WAVs), ``zero_frames`` (valid header, no data), ``six_channels``,
    ``rate_2k`` (2000 Hz), ``rate_500k`` (500000 Hz).
    """
    folder = tmp_path / "audio"
    folder.mkdir()

    def wav(name: str, audio: np.ndarray, sample_rate: int, subtype: str = "FLOAT") -> Path:
        return write_wav(f"audio/{name}.wav", audio, sample_rate, subtype)

    files = {
        "mono_8k": wav("mono_8k", tone(8000, 0.5), 8000),
        "stereo_44k": wav("stereo_44k", tone(44100, 0.3, channels=2), 44100, "PCM_16"),
        "mono_192k": wav("mono_192k", tone(192000, 0.1), 192000),
        "one_sample": wav("one_sample", np.full((1, 1), 0.5, np.float32), 16000),
        "zero_frames": wav("zero_frames", np.zeros((1, 0), np.float32), 16000),
        "six_channels": wav("six_channels", tone(8000, 0.1, channels=6), 8000),
        "rate_2k": wav("rate_2k", tone(2000, 0.1), 2000),
        "rate_500k": wav("rate_500k", tone(8000, 0.1), 500000),
    }
    flac = folder / "flac.flac"
    sf.write(str(flac), tone(22050, 0.2, channels=2).T, 22050, format="FLAC", subtype="PCM_24")
    files["flac"] = flac
    for name, value in (("nan", np.nan), ("inf", np.inf)):
        audio = tone(8000, 0.2)
        audio[0, 1000] = value
        files[name] = wav(name, audio, 8000)
    whole = wav("whole", tone(8000, 0.2), 8000, "PCM_16").read_bytes()
    (folder / "whole.wav").unlink()
    files["truncated"] = folder / "truncated.wav"
    files["truncated"].write_bytes(whole[: len(whole) // 2])
    files["empty"] = folder / "empty.wav"
    files["empty"].write_bytes(b"")
    files["not_audio"] = folder / "not_audio.wav"
    files["not_audio"].write_text("this is a text file, not sound\n")
    files["folder"] = folder / "folder.wav"
    files["folder"].mkdir()
    files["missing"] = folder / "missing.wav"
    return files


class FirModel(SeparationModel):
    """Stand-in model: source ``s`` is a causal FIR filter ``taps[s]`` of the input, channel by channel.

    ``y_s[t] = sum_j taps[s][j] * x[t - j]``, computed with a fixed ``Conv1D`` over the context window and
    cropped to the centred target window, so the Separator's result is known exactly: ``lfilter`` of the
    zero-padded input. The longest filter must fit in the left context margin. ``context_samples=None``
    builds a variable-length model (input shape ``(None, channels)``) with that margin.
    """

    def __init__(self, taps: Sequence[Sequence[float]], *, channels: int = 1, context_samples: int | None = 64,
                 target_samples: int = 64, margin: int = 0, sample_rate: int = 8000,
                 sources: Sequence[str] | None = None) -> None:
        width = max(len(t) for t in taps)
        margin = margin if context_samples is None else context_samples - target_samples
        left = margin // 2
        if width - 1 > left:
            raise ValueError(f"filters of {width} taps need a left context margin of {width - 1} samples")
        kernel = np.zeros((width, channels, len(taps) * channels), np.float32)
        for source, filter_taps in enumerate(taps):
            for channel in range(channels):
                kernel[width - len(filter_taps):, channel, source * channels + channel] = filter_taps[::-1]
        inputs = keras.Input((context_samples, channels))
        conv = keras.layers.Conv1D(len(taps) * channels, width, use_bias=False, trainable=False)
        filtered = conv(inputs)
        cropped = keras.layers.Cropping1D((left - (width - 1), margin - left))(filtered)
        super().__init__(inputs=inputs, outputs=cropped)
        conv.set_weights([kernel])
        self._set_fields(
            sources=sources or [f"source{index}" for index in range(len(taps))],
            sample_rate=sample_rate,
            channels=channels,
            context_samples=target_samples + margin if context_samples is None else context_samples,
            target_samples=target_samples,
            receptive_field=width,
        )


def mp3_bytes(audio: np.ndarray, rate: int, quality: int = 2) -> bytes:
    """Mono float ``audio (1, samples)`` as a 128 kbit/s constant-bitrate MP3 made by lameenc: no Xing or LAME
    header, so libsndfile can only estimate its length from the bit rate and the file size."""
    lameenc = pytest.importorskip("lameenc")
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(128)
    encoder.set_in_sample_rate(rate)
    encoder.set_channels(1)
    encoder.set_quality(quality)
    pcm = np.clip(audio[0] * 32767, -32768, 32767).astype("<i2").tobytes()
    return bytes(encoder.encode(pcm) + encoder.flush())
