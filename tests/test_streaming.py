"""StreamingSeparator: blocks of any size in, the offline Separator's stems out, a fixed latency later."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import FirModel, tone

import sepzoo
from sepzoo.audio_io import read_audio
from sepzoo.cli import main
from sepzoo.errors import ConfigError
from sepzoo.separator import Separator, StreamingSeparator

FILTERS = [[0.5, 0.25], [1.0, -0.5, 0.2]]


def stream_in_random_blocks(streamer: StreamingSeparator, audio: np.ndarray, seed: int) -> np.ndarray:
    """Push ``audio`` in random block sizes (0 to 5000 samples), checking after each push that the output is
    exactly ``latency_samples`` behind; return all stems ``(sources, channels, samples)``."""
    rng = np.random.default_rng(seed)
    parts, position = [], 0
    while position < audio.shape[1]:
        size = int(rng.choice([0, 1, 17, 100, 333, 1000, 5000]))
        block = audio[:, position:position + size]
        position += block.shape[1]
        stems = streamer.push(block)
        assert list(stems) == list(streamer.sources)
        parts.append(np.stack(list(stems.values())))
        assert streamer.returned == max(0, position - streamer.latency_samples)
        assert parts[-1].shape[1:] == (audio.shape[0], parts[-1].shape[2])
    parts.append(np.stack(list(streamer.flush().values())))
    return np.concatenate(parts, axis=2)


@pytest.mark.parametrize(
    ("rate", "channels", "model_channels", "batch_size"),
    [(8000, 1, 1, 1), (8000, 2, 1, 3), (22050, 2, 2, 1), (44100, 1, 1, 2), (16000, 2, 1, 1)],
    ids=["model-rate", "stereo-through-mono-batch3", "stereo-22k", "44k-batch2", "16k-stereo"],
)
def test_random_blocks_give_the_offline_result_after_the_stated_latency(rate, channels, model_channels,
                                                                         batch_size):
    model = FirModel(FILTERS, context_samples=96, target_samples=64, channels=model_channels)
    audio = tone(rate, 0.6, channels=channels, seed=rate)
    offline = Separator(model, batch_size=batch_size).separate(audio, rate)
    streamer = StreamingSeparator(model, rate, channels=channels, batch_size=batch_size)
    streamed = stream_in_random_blocks(streamer, audio, seed=channels + batch_size)
    expected = np.stack(list(offline.values()))
    assert streamed.shape == expected.shape
    np.testing.assert_allclose(streamed, expected, atol=1e-4)
    assert streamer.received == streamer.returned == audio.shape[1]


def test_latency_at_the_model_rate_is_what_the_window_needs():
    """context - left margin - 1 samples, plus (batch - 1) hops: the first target sample of a window is final
    once its whole context has arrived, and a batch waits for its last window."""
    model = FirModel(FILTERS, context_samples=96, target_samples=64)  # margin 32: 16 left, 16 right
    for batch_size in (1, 4):
        streamer = StreamingSeparator(model, 8000, batch_size=batch_size, overlap=0.25)
        hop = 64 - 16
        assert streamer.latency_samples == 96 - 16 - 1 + (batch_size - 1) * hop
        assert streamer.latency_seconds == pytest.approx(streamer.latency_samples / 8000)


def test_stream_builds_from_a_model_and_refuses_misuse():
    model = FirModel(FILTERS, context_samples=96, target_samples=64)
    streamer = sepzoo.stream(model, 8000, stems={"all": ["source0", "source1"]})
    assert isinstance(streamer, sepzoo.StreamingSeparator) and streamer.sources == ("all",)
    with pytest.raises(ConfigError, match="expected \\(1, samples\\)"):
        streamer.push(np.zeros((2, 10), np.float32))
    with pytest.raises(ConfigError, match="NaN"):
        streamer.push(np.full((1, 10), np.nan, np.float32))
    assert streamer.flush()["all"].shape == (1, 0)
    with pytest.raises(ConfigError, match="already flushed"):
        streamer.push(np.zeros((1, 10), np.float32))


def test_cli_stream_writes_the_offline_stems(write_wav, tmp_path, monkeypatch):
    model = FirModel(FILTERS, context_samples=96, target_samples=64, sample_rate=8000)
    monkeypatch.setattr(sepzoo.zoo, "load", lambda name, weights="pretrained": model)
    audio = tone(11025, 0.5, channels=2, seed=4)
    path = write_wav("song.wav", audio, 11025)
    assert main(["separate", str(path), "-o", str(tmp_path / "offline")]) == 0
    assert main(["separate", str(path), "-o", str(tmp_path / "streamed"), "--stream"]) == 0
    for source in model.sources:
        offline, rate = read_audio(tmp_path / "offline" / "song" / f"{source}.wav")
        streamed, _ = read_audio(tmp_path / "streamed" / "song" / f"{source}.wav")
        assert rate == 11025 and streamed.shape == audio.shape
        np.testing.assert_allclose(streamed, offline, atol=1e-4)
