"""Export to LiteRT / ONNX / SavedModel: parity with Keras through each format's own runtime, int8 quality on a
rendered split, the CLI, and separation with no TensorFlow or Keras imported."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
import soundfile as sf
from conftest import FirModel, tone
from scipy.signal import firwin

from sepzoo.cli import main
from sepzoo.engines import INFO_FILE, MODEL_FILES, open_engine
from sepzoo.errors import ConfigError
from sepzoo.export import export_model
from sepzoo.metrics import signal_to_distortion
from sepzoo.models import model_classes
from sepzoo.separator import Separator

REPO = Path(__file__).resolve().parents[1]
pytest.importorskip("onnxruntime")
pytest.importorskip("ai_edge_litert")
pytest.importorskip("tf2onnx")
if keras.backend.backend() != "tensorflow":
    pytest.skip("export runs on the TensorFlow backend", allow_module_level=True)

# Every registered model class at a small size (the sizes of its own tests).
SMALL = {
    "LightweightASPP": dict(context_samples=2048, encoder_channels=(8, 12, 16, 20, 24), aspp_channels=16,
                            decoder_channels=24, aspp_rates=(1, 2, 4), output_channels_per_sample=4, variant="b",
                            output_head="mask", basis_size=8, basis_kernel_size=64),
    "ConvBaseline": dict(context_samples=512, kernel_size=31, filters=(8, 8, 8)),
    "WaveUNet": dict(sources=("drums", "bass", "other"), num_layers=4, filters_per_layer=6, target_samples=256),
    "WaveNetSeparator": dict(context_samples=512, stacks=2, blocks_per_stack=3, filters=8, skip_channels=8,
                             head_channels=(16, 8)),
    "SpectrogramUNet": dict(target_samples=2000, fft_size=256, hop_size=64, base_filters=4, depth=2),
    "SpectrogramCodecEmulator": dict(target_samples=2000, fft_size=256, hop_size=64, base_filters=4, depth=2),
    "WaveformCodecEmulator": dict(target_samples=512, base_filters=4, depth=2, kernel_size=5, linear_taps=15),
}
# What cannot be exported, and the words of the one-line reason. (The spectrogram models' RFFT / IRFFT, which
# neither tf2onnx nor the LiteRT builtins convert, are traced as real-valued DFT matrices for onnx and litert.)
REFUSED: dict[tuple[str, str], str] = {}


def small_model(class_name: str):
    keras.utils.set_random_seed(0)
    return model_classes()[class_name](**SMALL[class_name])


def _op_names(path: Path) -> set[str]:
    """The op types of an ONNX (``.onnx``) or LiteRT (``.tflite``) model file."""
    if path.suffix == ".onnx":
        import onnx

        return {node.op_type for node in onnx.load(str(path)).graph.node}
    from ai_edge_litert.interpreter import Interpreter

    return {op["op_name"] for op in Interpreter(model_path=str(path))._get_ops_details()}


def test_every_registered_model_class_has_a_small_size_here():
    assert set(SMALL) == set(model_classes())


@pytest.mark.parametrize("format", ["onnx", "litert", "saved_model"])
@pytest.mark.parametrize("class_name", sorted(SMALL))
def test_export_matches_keras_in_the_formats_own_runtime(class_name, format, tmp_path):
    model = small_model(class_name)
    if (class_name, format) in REFUSED:
        with pytest.raises(ConfigError) as refused:
            export_model(model, tmp_path / "out", format)
        message = str(refused.value)
        assert "\n" not in message and REFUSED[class_name, format] in message and class_name in message
        assert not (tmp_path / "out").exists() and list(tmp_path.iterdir()) == []
        return
    out = export_model(model, tmp_path / "out", format, name="small")
    info = json.loads((out / INFO_FILE).read_text())
    assert info["file"] == MODEL_FILES[format] and (out / info["file"]).exists()
    assert {key: info[key] for key in ("sources", "sample_rate", "channels", "context_samples", "target_samples")} \
        == {"sources": list(model.sources), "sample_rate": model.sample_rate, "channels": model.channels,
            "context_samples": model.context_samples, "target_samples": model.target_samples}
    assert info["max_abs_diff"] <= 1e-4
    if format != "saved_model":  # traced with real-valued DFT matrices: no FFT op reaches the converter
        assert not [op for op in _op_names(out / info["file"]) if "FFT" in op.upper() or "DFT" in op.upper()]
    engine = open_engine(out / info["file"])
    windows = (0.1 * np.random.default_rng(1).standard_normal((3, model.context_samples, model.channels)))
    windows = windows.astype(np.float32)
    expected = np.asarray(model.predict_on_batch(windows))
    for batch in (windows, windows[:1]):  # the batch axis is free
        got = engine.predict(batch)
        assert got.shape == expected[:len(batch)].shape
        np.testing.assert_allclose(got, expected[:len(batch)], atol=1e-4)


@pytest.mark.parametrize("format", ["onnx", "litert"])
def test_the_fft_graph_is_refused_in_one_line(format, tmp_path, monkeypatch):
    """Without real_valued_dft the STFT layers trace RFFT / IRFFT, which neither converter takes: export says so in
    one line and leaves nothing behind (and so it is the DFT path that makes the spectrogram models export)."""
    import contextlib

    import sepzoo.models.layers

    monkeypatch.setattr(sepzoo.models.layers, "real_valued_dft", contextlib.nullcontext)
    with pytest.raises(ConfigError) as refused:
        export_model(small_model("SpectrogramUNet"), tmp_path / "out", format)
    message = str(refused.value)
    assert "\n" not in message and "IRFFT" in message and "SpectrogramUNet" in message
    assert list(tmp_path.iterdir()) == []


def test_separator_drives_an_onnx_export_like_the_keras_model(tmp_path):
    """Resampling (44.1 -> 22.05 kHz), stereo input through a mono model, overlap-add: same stems."""
    model = small_model("ConvBaseline")
    engine = open_engine(export_model(model, tmp_path / "onnx", "onnx"), "onnx")
    audio = tone(44100, 0.4, channels=2, seed=2)
    expected = Separator(model, batch_size=4).separate(audio, 44100)
    got = Separator(engine, batch_size=4).separate(audio, 44100)
    for source in model.sources:
        np.testing.assert_allclose(got[source], expected[source], atol=1e-4)
    with pytest.raises(ConfigError, match="is a onnx export"):
        open_engine(tmp_path / "onnx", "litert")


def band_split_tree(root: Path, split: str, songs: int, seed: int) -> Path:
    """A rendered stem tree ``root/split/song_k/{low,high,mixture}.wav`` at 8 kHz: band-limited noises below
    1200 Hz and above 800 Hz (overlapping, so no filter separates them cleanly), 1 s each."""
    rng = np.random.default_rng(seed)
    frequencies = np.fft.rfftfreq(8000, 1 / 8000)
    for index in range(songs):
        song = root / split / f"song_{index}"
        song.mkdir(parents=True)
        spectrum = np.fft.rfft(rng.standard_normal((2, 8000)), axis=1)
        low = np.fft.irfft(spectrum[0] * (frequencies < 1200), 8000)
        high = np.fft.irfft(spectrum[1] * (frequencies > 800), 8000)
        stems = 0.2 * np.stack([low / low.std(), high / high.std()]).astype(np.float32)
        for name, stem in zip(("low", "high"), stems):
            sf.write(song / f"{name}.wav", stem, 8000, subtype="FLOAT")
        sf.write(song / "mixture.wav", stems.sum(axis=0), 8000, subtype="FLOAT")
    return root / split


def test_int8_litert_keeps_sdr_within_half_a_db_of_fp32(tmp_path):
    """A band-split FIR model (33-tap low-pass at 1 kHz and its complement, 16 samples of delay) on a rendered
    test split, where it scores a realistic 5-15 dB; int8 calibrated on a separate train split. (On an
    easy split where fp32 scores ~43 dB, int8's own noise floor near 35 dB shows instead.)"""
    lowpass = firwin(33, 1000, fs=8000)
    highpass = -lowpass
    highpass[16] += 1.0
    model = FirModel([lowpass, highpass], context_samples=128, target_samples=64, sources=["low", "high"])
    train = band_split_tree(tmp_path / "tree", "train", songs=2, seed=0)
    test = band_split_tree(tmp_path / "tree", "test", songs=2, seed=1)
    fp32 = Separator(open_engine(export_model(model, tmp_path / "fp32", "litert")))
    int8 = Separator(open_engine(export_model(model, tmp_path / "int8", "litert", int8=True, calibration=train)))
    assert json.loads((tmp_path / "int8" / INFO_FILE).read_text())["int8"] is True
    scores, agreement = {"fp32": [], "int8": []}, []
    for song in sorted(test.iterdir()):
        mixture, rate = sf.read(song / "mixture.wav", dtype="float32")
        stems = {name: separator.separate(mixture[None], rate) for name, separator in (("fp32", fp32), ("int8", int8))}
        for source in ("low", "high"):
            reference, _ = sf.read(song / f"{source}.wav", dtype="float32")
            for name in scores:
                scores[name].append(signal_to_distortion(reference[:-16], stems[name][source][0, 16:]))
            agreement.append(signal_to_distortion(stems["fp32"][source], stems["int8"][source]))
    fp32_sdr, int8_sdr = np.mean(scores["fp32"]), np.mean(scores["int8"])
    print(f"SDR fp32 {fp32_sdr:.2f} dB, int8 {int8_sdr:.2f} dB, delta {int8_sdr - fp32_sdr:+.3f} dB; "
          f"int8 against fp32 {np.mean(agreement):.1f} dB")
    assert fp32_sdr > 5.0
    assert abs(int8_sdr - fp32_sdr) < 0.5


def test_export_refuses_bad_options_in_one_line(tmp_path):
    model = small_model("ConvBaseline")
    with pytest.raises(ConfigError, match="int8 quantization is for litert"):
        export_model(model, tmp_path / "x", "onnx", int8=True, calibration=tmp_path)
    with pytest.raises(ConfigError, match="needs --calibration"):
        export_model(model, tmp_path / "x", "litert", int8=True)
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "notes.txt").write_text("mine")
    with pytest.raises(Exception, match="not an export folder"):
        export_model(model, tmp_path / "taken", "onnx")
    assert (tmp_path / "taken" / "notes.txt").read_text() == "mine"


def test_cli_exports_and_separates_with_the_exported_engine(tmp_path, write_wav, capsys):
    out = tmp_path / "conv_onnx"
    assert main(["export", "conv_baseline", "--weights", "none", "--format", "onnx", "-o", str(out)]) == 0
    assert "max |diff| vs Keras" in capsys.readouterr().out
    song = write_wav("song.wav", tone(22050, 0.5, seed=5), 22050)
    assert main(["separate", str(song), "--engine", "onnx", "-m", str(out), "-o", str(tmp_path / "a")]) == 0
    assert main(["separate", str(song), "--engine", "onnx", "-m", str(out / "model.onnx"), "--stream",
                 "-o", str(tmp_path / "b")]) == 0
    sources = json.loads((out / INFO_FILE).read_text())["sources"]
    for source in sources:
        offline, _ = sf.read(tmp_path / "a" / "song" / f"{source}.wav")
        streamed, _ = sf.read(tmp_path / "b" / "song" / f"{source}.wav")
        np.testing.assert_allclose(streamed, offline, atol=1e-4)
    capsys.readouterr()
    assert main(["export", "conv_baseline", "--weights", "none", "--format", "onnx", "--int8", "-o",
                 str(tmp_path / "q")]) == 2
    assert capsys.readouterr().err.count("\n") == 1


TF_FREE = """
import sys
import numpy as np
import sepzoo
from sepzoo.engines import open_engine
from sepzoo.separator import Separator

song, outputs = sys.argv[1], sys.argv[2]
for export in sys.argv[3:]:
    engine = open_engine(export)
    written = Separator(engine).separate_file(song, f"{outputs}/{engine.info['format']}")
    assert sorted(written) == sorted(engine.sources), written
    streamer = sepzoo.stream(engine, 44100)
    stems = streamer.push(np.zeros((1, 30000), np.float32))
    assert set(stems) == set(engine.sources)
    from sepzoo.cli import main  # the command line too: `sepzoo separate --engine onnx|litert`
    assert main(["separate", song, "--engine", engine.info["format"], "-m", export, "-o", f"{outputs}/cli-{engine.info['format']}"]) == 0
loaded = [name for name in ("tensorflow", "keras") if name in sys.modules]
assert not loaded, loaded
print("ok")
"""


def test_exported_models_separate_without_tensorflow_or_keras(tmp_path, write_wav):
    model = small_model("WaveNetSeparator")
    exports = [str(export_model(model, tmp_path / format, format)) for format in ("onnx", "litert")]
    song = write_wav("song.wav", tone(44100, 0.3, seed=6), 44100)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run([sys.executable, "-c", TF_FREE, str(song), str(tmp_path / "stems"), *exports],
                            env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0 and result.stdout.splitlines()[-1] == "ok", result.stderr[-3000:]
    for format in ("onnx", "litert"):
        assert len(list((tmp_path / "stems" / format / "song").glob("*.wav"))) == len(model.sources)
