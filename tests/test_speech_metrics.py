"""Speech-enhancement scores (SI-SDR, wideband PESQ, STOI) and their table in ``sepzoo evaluate``.

The clean signal is real speech from ``../shared/data`` when present (a 16 kHz CMU ARCTIC sentence), else a
generated harmonic tone sequence with syllable-like gaps.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from sepzoo.cli import evaluate as evaluate_cli
from sepzoo.evaluation import Estimator
from sepzoo.evaluation.speech import NOISY_INPUT, score_speech, si_sdr, speech_scores

RATE = 16000
REAL_SPEECH = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "speech" / "cmu_arctic" / \
    "cmu_arctic_us_aew_a0001.wav"


def clean_speech(seconds: float = 3.0, seed: int = 0) -> np.ndarray:
    """float32 ``(samples,)`` at 16 kHz: real speech when ../shared/data is there, else a harmonic sequence."""
    samples = int(seconds * RATE)
    if REAL_SPEECH.is_file() and seed == 0:
        audio, rate = sf.read(REAL_SPEECH, dtype="float32")
        if rate == RATE and audio.ndim == 1 and audio.size >= samples:
            return 0.5 * audio[:samples] / np.max(np.abs(audio[:samples]))
    rng = np.random.default_rng(seed)
    t = np.arange(samples) / RATE
    f0 = rng.uniform(110, 220) * (1 + 0.15 * np.sin(2 * np.pi * 0.5 * t))
    phase = 2 * np.pi * np.cumsum(f0) / RATE
    formants = sum(np.sin(k * phase) * np.exp(-((k * f0 - 700) / 400) ** 2 - 0.1 * k) for k in range(1, 30))
    syllables = np.clip(np.sin(2 * np.pi * 3 * t), 0, None) ** 2 * (np.sin(2 * np.pi * 0.4 * t) > -0.6)
    return (0.4 * formants * syllables / np.max(np.abs(formants))).astype(np.float32)


def noise_like(clean: np.ndarray, snr_db: float, seed: int = 1) -> np.ndarray:
    """White noise scaled to ``snr_db`` below ``clean``'s power."""
    noise = np.random.default_rng(seed).standard_normal(clean.size)
    return (noise * np.sqrt(np.mean(clean**2) / np.mean(noise**2) / 10 ** (snr_db / 10))).astype(np.float32)


def test_a_less_noisy_estimate_scores_higher_on_all_three():
    clean = clean_speech()
    noise = noise_like(clean, 0.0)
    noisy, estimate = clean + noise, clean + 0.15 * noise  # the estimate keeps 16.5 dB less noise
    scores = speech_scores(clean, estimate, noisy, RATE)
    assert set(scores) == {"si_sdr", "pesq", "stoi", "noisy_si_sdr", "noisy_pesq", "noisy_stoi"}
    for metric in ("si_sdr", "pesq", "stoi"):
        assert scores[metric] > scores[f"noisy_{metric}"], (metric, scores)
    assert scores["noisy_si_sdr"] == pytest.approx(0.0, abs=0.3)
    assert 1.0 <= scores["noisy_pesq"] < scores["pesq"] <= 4.65 and 0 < scores["noisy_stoi"] < scores["stoi"] <= 1
    # (channels, samples) arrays are averaged over channels; another rate is resampled for PESQ
    stereo = speech_scores(np.stack([clean, clean]), np.stack([estimate, estimate]), np.stack([noisy, noisy]), RATE)
    assert stereo["si_sdr"] == pytest.approx(scores["si_sdr"], abs=1e-6)
    narrow = speech_scores(clean[::2], estimate[::2], noisy[::2], RATE // 2)
    assert narrow["pesq"] > narrow["noisy_pesq"]


def test_si_sdr_on_hand_computed_cases():
    rng = np.random.default_rng(0)
    reference = rng.standard_normal(4000)
    reference -= reference.mean()
    error = rng.standard_normal(4000)
    error -= error.mean()
    error -= np.dot(error, reference) / np.dot(reference, reference) * reference  # orthogonal to the reference
    error *= np.linalg.norm(reference) / np.linalg.norm(error) / 10  # 20 dB below it
    assert si_sdr(reference, 3.0 * (reference + error)) == pytest.approx(20.0, abs=1e-9)
    assert si_sdr(reference, -0.5 * reference) == math.inf


def test_silent_and_short_signals_give_nan_with_a_note_not_an_error():
    clean = clean_speech(1.0)
    silent = score_speech(np.zeros_like(clean), clean, RATE)
    assert all(math.isnan(value) for value in silent.values.values()) and silent.notes
    muted = score_speech(clean, np.zeros_like(clean), RATE)
    assert math.isnan(muted.values["pesq"]) and "PESQ: silent estimate" in muted.notes
    short = score_speech(clean[:800], clean[:800] + 0.01, RATE)
    assert math.isnan(short.values["pesq"]) and any(note.startswith("PESQ") for note in short.notes)
    assert math.isnan(short.values["stoi"]) and "STOI: too few non-silent frames" in short.notes


def write_speech_tree(root: Path, tracks: int = 2, seconds: float = 2.0) -> dict[bytes, dict[str, np.ndarray]]:
    """``root/test/<track>/{mixture,speech,noise}.wav`` at 5 dB SNR; returns mixture bytes -> true stems."""
    answers = {}
    for index in range(tracks):
        clean = clean_speech(seconds, seed=index + 1)
        noise = noise_like(clean, 5.0, seed=index + 10)
        folder = root / "test" / f"{index:04d}"
        folder.mkdir(parents=True)
        for name, audio in (("mixture", clean + noise), ("speech", clean), ("noise", noise)):
            sf.write(folder / f"{name}.wav", audio, RATE, subtype="FLOAT")
        mixture = sf.read(folder / "mixture.wav", dtype="float32", always_2d=True)[0].T
        answers[mixture.tobytes()] = {"speech": clean[None], "noise": noise[None]}
    (root / "test" / "render.json").write_text(json.dumps({"task": "speech_denoise", "sources": ["speech", "noise"],
                                                           "sample_rate": RATE, "channels": 1}))
    return answers


def test_evaluate_reports_speech_scores_beside_the_noisy_input(tmp_path, monkeypatch, capsys):
    answers = write_speech_tree(tmp_path / "renders")

    def mostly_clean(mixture, rate):  # a stand-in model that removes 80 % of the noise amplitude
        truth = answers[mixture.tobytes()]
        return {"speech": truth["speech"] + 0.2 * truth["noise"], "noise": 0.8 * truth["noise"]}

    model = Estimator("denoiser", ("speech", "noise"), mostly_clean)
    monkeypatch.setattr("sepzoo.evaluation.model_estimator", lambda handle, stems=None: model)
    parser = argparse.ArgumentParser()
    evaluate_cli.add_arguments(parser)
    args = parser.parse_args(["-m", "fake", "--root", str(tmp_path / "renders"), "--split", "test",
                              "--out", str(tmp_path / "out")])
    assert evaluate_cli.run(args) == 0
    table = capsys.readouterr().out
    assert "| SDR | speech |" in table  # the BSS Eval table stays
    rows = {line.split("|")[1].strip(): [float(cell) for cell in line.strip().strip("|").split("|")[1:]]
            for line in table.splitlines() if line.startswith(("| noisy input |", "| denoiser |", "| oracle IRM |"))}
    assert set(rows) == {NOISY_INPUT, "denoiser", "oracle IRM"}
    for column in range(6):  # SI-SDR, PESQ, STOI medians and means
        assert rows["denoiser"][column] > rows[NOISY_INPUT][column], (column, rows)
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    speech = summary["speech"]
    assert set(speech["rows"]) == {NOISY_INPUT, "denoiser", "oracle IRM"} and set(speech["files"]) == {"0000", "0001"}
    assert speech["rows"]["denoiser"]["pesq"]["scored_files"] == 2
    record = json.loads((tmp_path / "out" / "denoiser" / "0001.json").read_text())
    assert record["speech"]["scores"]["si_sdr"] > record["speech"]["noisy_input"]["si_sdr"]
    per_file = (tmp_path / "out" / "table.md").read_text()
    assert "| 0001 | noisy input |" in per_file and "| 0001 | denoiser |" in per_file
