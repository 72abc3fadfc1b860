"""The shipped `speech_denoise` weights: they clean speakers and noise recordings no training run saw (better
SI-SDR and PESQ than the noisy input), and `sepzoo separate -m speech_denoise` writes speech.wav and noise.wav at
the input's rate and length for any length."""

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from sepzoo.cli import main

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
TEST_NOISE = ["esc10", "blanket", "blanket_extra", "speech_commands_background", "librosa", "music_asterisk_moh"]


@pytest.fixture(scope="module")
def denoiser():
    import sepzoo

    return sepzoo.load("speech_denoise")


def test_cleans_unseen_speakers_and_noise_better_than_the_noisy_input(denoiser):
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} is absent: the real speech and noise test split lives there")
    pytest.importorskip("pesq", reason="the speech extra (pesq, pystoi) is not installed")
    from sepzoo.data.speech_noise import SpeechNoiseSource
    from sepzoo.evaluation.speech import score_speech
    from sepzoo.separator import Separator

    source = SpeechNoiseSource([SHARED / "speech"], [SHARED / "noise" / name for name in TEST_NOISE], split="test",
                               sample_rate=16000, example_samples=3 * 16000, seed=1)
    separator = Separator(denoiser)
    gains = {"si_sdr": [], "pesq": []}
    for index in range(8):
        drawn = source.draw(index)
        speech, mixture = drawn.speech, drawn.speech + drawn.noise  # (channels, samples)
        estimate = separator.separate(mixture, 16000)["speech"]
        noisy = score_speech(speech, mixture, 16000).values
        cleaned = score_speech(speech, estimate, 16000).values
        for metric in gains:
            gains[metric].append(cleaned[metric] - noisy[metric])
    mean = {metric: float(np.nanmean(values)) for metric, values in gains.items()}
    # Measured when speech-v1 shipped (these 8 mixtures): SI-SDR +6.0 dB, PESQ +0.32; the bar is about half.
    assert mean["si_sdr"] > 3.0 and mean["pesq"] > 0.2, mean


@pytest.mark.parametrize("rate, samples", [(16000, 12345), (44100, 30001), (8000, 777)])
def test_separate_writes_speech_and_noise_at_the_input_rate_and_length(denoiser, tmp_path, rate, samples, monkeypatch):
    import sepzoo.zoo

    monkeypatch.setattr(sepzoo.zoo, "load", lambda name, weights="pretrained": denoiser)
    rng = np.random.default_rng(rate)
    time = np.arange(samples) / rate
    noisy = 0.1 * np.sin(2 * np.pi * 220 * time) * (1 + np.sin(2 * np.pi * 3 * time)) + 0.02 * rng.standard_normal(samples)
    sf.write(str(tmp_path / "call.wav"), noisy.astype(np.float32), rate, subtype="FLOAT")
    assert main(["separate", str(tmp_path / "call.wav"), "-m", "speech_denoise", "-o", str(tmp_path / "out")]) == 0
    written = {}
    for stem in ("speech", "noise"):
        audio, written_rate = sf.read(str(tmp_path / "out" / "call" / f"{stem}.wav"), dtype="float32")
        assert written_rate == rate and audio.shape == (samples,)
        written[stem] = audio
    # Softmax masks split the mixture: below the model's 8 kHz band edge the two stems add up to it (up to the
    # resampling and STFT round trips); what lies above it is not in a 16 kHz model's output.
    band = np.fft.rfftfreq(samples, 1 / rate) < 7000
    residual = np.fft.rfft(written["speech"] + written["noise"] - noisy)[band]
    assert np.sqrt(np.mean(np.abs(residual) ** 2)) < 0.05 * np.sqrt(np.mean(np.abs(np.fft.rfft(noisy)[band]) ** 2))
