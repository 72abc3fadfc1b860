"""``sepzoo separate`` through the real dispatcher, with a tiny stand-in model in place of the zoo's."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from conftest import FirModel

import sepzoo.zoo
from sepzoo.audio_io import read_audio
from sepzoo.cli import main

GAINS = {"drums": 0.5, "bass": -0.25, "keys": 2.0, "other": 1.0}
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def loads(monkeypatch) -> list[tuple[str, object]]:
    """Replace ``sepzoo.zoo.load`` with a stand-in 4-source gain model at 8000 Hz; record each call."""
    calls = []
    model = FirModel([[gain] for gain in GAINS.values()], context_samples=256, target_samples=256,
                     sources=list(GAINS))

    def load(name, weights="pretrained"):
        calls.append((name, weights))
        return model

    monkeypatch.setattr(sepzoo.zoo, "load", load)
    return calls


def fails(argv: list[str], capsys) -> str:
    """Run the CLI expecting exit status 2; return its single stderr line."""
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("sepzoo: error: "), err
    return lines[0]


def files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.exists() else []


def test_separates_every_input_into_its_own_folder(audio_files, loads, tmp_path, capsys):
    out = tmp_path / "out"
    inputs = [audio_files["stereo_44k"], audio_files["mono_8k"]]
    assert main(["separate", *map(str, inputs), "-m", "tiny", "-o", str(out)]) == 0
    assert loads == [("tiny", "pretrained")]
    assert files_under(out) == ["mono_8k", *[f"mono_8k/{s}.wav" for s in sorted(GAINS)],
                                "stereo_44k", *[f"stereo_44k/{s}.wav" for s in sorted(GAINS)]]
    mixture, _ = read_audio(audio_files["mono_8k"])  # at the model rate, so the gains are exact
    for source, gain in GAINS.items():
        stem, rate = read_audio(out / "mono_8k" / f"{source}.wav")
        assert rate == 8000
        np.testing.assert_allclose(stem, gain * mixture, atol=1e-5)
    stereo_stem, rate = read_audio(out / "stereo_44k" / "drums.wav")
    assert (rate, stereo_stem.shape) == (44100, (2, 13230))
    assert f"{audio_files['mono_8k']} -> {out / 'mono_8k'}/ (drums, bass, keys, other)" in capsys.readouterr().out


def test_two_stems_writes_the_source_and_the_rest(audio_files, loads, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["separate", str(audio_files["mono_8k"]), "-o", str(out), "--two-stems", "keys"]) == 0
    assert files_under(out) == ["mono_8k", "mono_8k/keys.wav", "mono_8k/no_keys.wav"]
    mixture, _ = read_audio(audio_files["mono_8k"])
    np.testing.assert_allclose(read_audio(out / "mono_8k" / "keys.wav")[0], 2.0 * mixture, atol=1e-5)
    rest = GAINS["drums"] + GAINS["bass"] + GAINS["other"]
    np.testing.assert_allclose(read_audio(out / "mono_8k" / "no_keys.wav")[0], rest * mixture, atol=1e-5)
    assert "(keys, no_keys)" in capsys.readouterr().out


def test_stems_writes_sums_of_sources(audio_files, loads, tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["separate", str(audio_files["mono_8k"]), "-o", str(out), "--stems", "rhythm=drums+bass", "tune=keys"]
    assert main(argv) == 0
    assert files_under(out) == ["mono_8k", "mono_8k/rhythm.wav", "mono_8k/tune.wav"]
    mixture, _ = read_audio(audio_files["mono_8k"])
    rhythm = GAINS["drums"] + GAINS["bass"]
    np.testing.assert_allclose(read_audio(out / "mono_8k" / "rhythm.wav")[0], rhythm * mixture, atol=1e-5)
    np.testing.assert_allclose(read_audio(out / "mono_8k" / "tune.wav")[0], GAINS["keys"] * mixture, atol=1e-5)
    assert "(rhythm, tune)" in capsys.readouterr().out


def test_format_rate_overlap_plot_and_weights_options(audio_files, loads, tmp_path):
    out = tmp_path / "out"
    argv = ["separate", str(audio_files["mono_192k"]), "-o", str(out), "--format", "flac",
            "--sample-rate", "16000", "--overlap", "0.5", "--plot", "--weights", "none"]
    assert main(argv) == 0
    assert loads == [("lightweight_aspp", None)]
    assert files_under(out / "mono_192k") == sorted([f"{s}.flac" for s in GAINS] + ["spectrogram.png"])
    info = sf.info(str(out / "mono_192k" / "keys.flac"))
    assert (info.samplerate, info.frames, info.format) == (16000, 1600, "FLAC")


@pytest.mark.parametrize("bad", ["missing", "folder", "empty", "truncated", "not_audio", "nan", "inf",
                                 "zero_frames", "six_channels", "rate_2k", "rate_500k"])
def test_one_bad_input_stops_everything_before_writing(audio_files, loads, tmp_path, capsys, bad):
    out = tmp_path / "out"
    line = fails(["separate", str(audio_files["mono_8k"]), str(audio_files[bad]), "-o", str(out)], capsys)
    assert str(audio_files[bad]) in line
    assert not out.exists()
    assert loads == []


@pytest.mark.parametrize("options, message", [
    (["--overlap", "1.5"], "overlap 1.5: must be a fraction in [0, 1)"),
    (["--segment", "0.5"], "takes fixed windows of 256 samples"),
    (["--segment", "-1"], "--segment -1.0: must be a positive"),
    (["--sample-rate", "100"], "output sample rate 100 Hz"),
    (["--two-stems", "vocals"], "two stems around 'vocals': the model's sources are drums, bass, keys, other"),
    (["--stems", "rhythm"], "--stems 'rhythm': write NAME=SOURCE+SOURCE"),
    (["--stems", "low=bass+tuba"], "stem 'low': tuba is not a source of model"),
])
def test_bad_options_fail_before_writing(audio_files, loads, tmp_path, capsys, options, message):
    out = tmp_path / "out"
    assert message in fails(["separate", str(audio_files["mono_8k"]), "-o", str(out), *options], capsys)
    assert not out.exists()


def test_inputs_with_the_same_name_are_refused(audio_files, loads, tmp_path, capsys, write_wav):
    twin = write_wav("mono_8k.wav", read_audio(audio_files["mono_8k"])[0], 8000)
    line = fails(["separate", str(audio_files["mono_8k"]), str(twin), "-o", str(tmp_path / "out")], capsys)
    assert "'mono_8k' appear more than once" in line


def test_unwritable_output_folder(audio_files, loads, tmp_path, capsys):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the output folder should go")
    line = fails(["separate", str(audio_files["mono_8k"]), "-o", str(blocker / "out")], capsys)
    assert f"{blocker / 'out'}: cannot write output there" in line
    assert blocker.read_text() == "a file where the output folder should go"


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root may write to read-only folders")
def test_read_only_output_folder(audio_files, loads, tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    try:
        assert "cannot write output there" in fails(
            ["separate", str(audio_files["mono_8k"]), "-o", str(locked)], capsys)
        assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o700)


def test_unknown_model_name_from_the_real_zoo(audio_files, tmp_path, capsys):
    line = fails(["separate", str(audio_files["mono_8k"]), "-m", "lightweight_aspq", "-o", str(tmp_path / "o")],
                 capsys)
    assert "unknown model 'lightweight_aspq'" in line


def test_python_dash_m_prints_one_error_line_and_no_traceback(tmp_path):
    missing = tmp_path / "missing.wav"
    result = subprocess.run([sys.executable, "-m", "sepzoo", "separate", str(missing), "-o", str(tmp_path / "o")],
                            cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    ours = [line for line in result.stderr.splitlines() if line.startswith("sepzoo")]
    assert ours == [f"sepzoo: error: {missing}: no such file; check the path"]
    assert not (tmp_path / "o").exists()


def test_stems_get_the_mode_the_umask_gives_and_leftover_temporaries_go(audio_files, loads, tmp_path):
    out = tmp_path / "out"
    stale = out / "mono_8k" / ".drums.wav.sepzoo-0badf00d.part"  # what a killed run leaves
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"half a stem")
    previous = os.umask(0o027)
    try:
        assert main(["separate", str(audio_files["mono_8k"]), "-o", str(out)]) == 0
    finally:
        os.umask(previous)
    assert files_under(out) == ["mono_8k", *[f"mono_8k/{s}.wav" for s in sorted(GAINS)]]
    assert {oct(path.stat().st_mode & 0o777) for path in (out / "mono_8k").iterdir()} == {oct(0o640)}


def test_an_mp3_without_a_xing_header_is_separated_to_its_real_end(loads, tmp_path):
    lameenc = pytest.importorskip("lameenc")
    encoder = lameenc.Encoder()  # constant bit rate, no Xing/LAME header: the length is only estimated
    encoder.set_bit_rate(128)
    encoder.set_in_sample_rate(44100)
    encoder.set_channels(1)
    samples = 2 * 44100
    pcm = (np.sin(2 * np.pi * 440.0 * np.arange(samples) / 44100) * 16000).astype("<i2").tobytes()
    mp3 = tmp_path / "tone.mp3"
    mp3.write_bytes(bytes(encoder.encode(pcm) + encoder.flush()))
    assert main(["separate", str(mp3), "-o", str(tmp_path / "out")]) == 0
    decoded, _ = read_audio(mp3)
    keys, rate = read_audio(tmp_path / "out" / "tone" / "keys.wav")
    assert rate == 44100 and keys.shape == decoded.shape
    assert samples <= decoded.shape[1] < samples + 2 * 1152  # encoder delay and padding, no more
    middle = slice(samples // 4, 3 * samples // 4)
    assert np.corrcoef(keys[0, middle], decoded[0, middle])[0, 1] > 0.99
