"""The Separator against stand-in models whose outputs are known exactly, plus its DSP helpers and plots."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
import soundfile as sf
from conftest import FirModel, tone
from scipy.signal import lfilter

from sepzoo.audio_io import read_audio
from sepzoo.dsp import StreamResampler, overlap_add_window, resample, resampled_length
from sepzoo.errors import AudioFileError, ConfigError, OutputError
from sepzoo.plot import log_spectrogram, save_spectrogram_png
from sepzoo.separator import BLOCK_SAMPLES, Separator, separate, two_stems

GAINS = [[0.5], [-0.25], [2.0]]
FILTERS = [[0.5], [1.0, -1.0], [0.25, 0.5, 0.25]]


@pytest.fixture(scope="module")
def gain_model():
    """Mono, 8000 Hz, context = target = 128 samples; sources are the input times 0.5, -0.25 and 2."""
    return FirModel(GAINS, context_samples=128, target_samples=128, sources=["half", "minus_quarter", "double"])


@pytest.fixture(scope="module")
def centred_model():
    """Mono, 8000 Hz, context 64, target 32 (centred); sources: gain, first difference, 3-tap smoother."""
    return FirModel(FILTERS, context_samples=64, target_samples=32)


def expected(audio: np.ndarray, filters) -> list[np.ndarray]:
    """Each filter applied to each channel with zeros before the first sample."""
    return [lfilter(taps, [1.0], audio, axis=1).astype(np.float32) for taps in filters]


def assert_stems(stems: dict, audio: np.ndarray, filters, atol: float = 1e-5) -> None:
    for stem, reference in zip(stems.values(), expected(audio, filters)):
        assert stem.dtype == np.float32 and stem.shape == audio.shape
        np.testing.assert_allclose(stem, reference, atol=atol)


@pytest.mark.parametrize("channels", [1, 2])
@pytest.mark.parametrize("length", [1, 127, 128, 129, 10 * 128 + 17])
def test_gains_are_reproduced_exactly_for_any_length(gain_model, length, channels):
    audio = np.random.default_rng(length).uniform(-1, 1, (channels, length)).astype(np.float32)
    stems = Separator(gain_model, batch_size=3).separate(audio, 8000)
    assert list(stems) == ["half", "minus_quarter", "double"]
    assert_stems(stems, audio, GAINS)


@pytest.mark.parametrize("channels", [1, 2])
@pytest.mark.parametrize("length", [1, 63, 64, 65, 10 * 64 + 17])
def test_centred_target_reads_the_right_context(centred_model, length, channels):
    audio = np.random.default_rng(length).uniform(-1, 1, (channels, length)).astype(np.float32)
    assert_stems(Separator(centred_model, batch_size=4).separate(audio, 8000), audio, FILTERS)


def test_odd_context_margin_puts_the_extra_sample_after_the_target():
    model = FirModel(FILTERS, context_samples=65, target_samples=32)  # 16 samples before, 17 after
    for length in (1, 100):
        audio = np.random.default_rng(length).uniform(-1, 1, (2, length)).astype(np.float32)
        assert_stems(Separator(model).separate(audio, 8000), audio, FILTERS)


@pytest.mark.parametrize("overlap", [0.0, 0.5, 0.9])
@pytest.mark.parametrize("batch_size", [1, 64])
def test_overlap_and_batch_size_do_not_change_a_linear_model(centred_model, overlap, batch_size):
    audio = tone(8000, 0.1, channels=2)
    separator = Separator(centred_model, overlap=overlap, batch_size=batch_size)
    assert separator.hop == 32 - round(overlap * 32)
    assert_stems(separator.separate(audio, 8000), audio, FILTERS)


def test_every_model_call_gets_a_full_batch_and_the_stems_stay_exact(centred_model):
    """A last, partial batch is padded with silent windows (one shape for compiled graphs) and cut off again."""
    shapes = []

    class Recording:  # an engine: the geometry and a batch predict
        name, sources, sample_rate, channels = "recording", centred_model.sources, 8000, 1
        context_samples, target_samples, fixed_input_length = 64, 32, True

        def predict(self, windows):
            shapes.append(windows.shape)
            return np.asarray(centred_model.predict_on_batch(windows))

    audio = tone(8000, 0.1, channels=2)
    separator = Separator(Recording(), batch_size=4)
    assert separator.windows_for(audio.shape[1]) % 4 != 0  # so the last batch is a partial one
    assert_stems(separator.separate(audio, 8000), audio, FILTERS)
    assert len(shapes) > 1 and set(shapes) == {(8, 64, 1)}  # 4 stereo windows through a mono model


def test_stereo_model_handles_stereo_and_mono_input():
    stereo_model = FirModel(FILTERS, channels=2, context_samples=64, target_samples=32)
    stereo = tone(8000, 0.05, channels=2)
    assert_stems(Separator(stereo_model).separate(stereo, 8000), stereo, FILTERS)
    mono = stereo[:1]
    assert_stems(Separator(stereo_model).separate(mono, 8000), mono, FILTERS)


def test_variable_length_model_takes_any_segment():
    model = FirModel(FILTERS, context_samples=None, target_samples=32, margin=32)
    audio = tone(8000, 0.2)
    separator = Separator(model, segment_samples=500, overlap=0.1)
    assert (separator.target_samples, separator.hop) == (468, 421)
    assert_stems(separator.separate(audio, 8000), audio, FILTERS)


def test_other_rates_are_resampled_in_and_back(gain_model):
    audio = tone(44100, 0.3, channels=2)
    stems = Separator(gain_model).separate(audio, 44100)
    round_trip = resample(resample(audio, 44100, 8000), 8000, 44100)
    assert_stems(stems, round_trip, GAINS)
    in_band = np.sin(2 * np.pi * np.array([[440.0], [1000.0]]) * np.arange(13230) / 44100).astype(np.float32)
    doubled = Separator(gain_model).separate(in_band, 44100)["double"]
    inner = slice(200, -200)  # the resampling filters ring where the signal starts and stops
    np.testing.assert_allclose(doubled[:, inner], 2 * in_band[:, inner], atol=2e-3)


@pytest.mark.parametrize("batch_size", [1, 2])
@pytest.mark.parametrize("length", [1000, 1028, 1098])
def test_resampled_stems_end_where_the_input_ends(centred_model, length, batch_size):
    """The model-rate stems stop at the input's end before resampling back, even when the last windows run in
    a batch that reaches past it: the output tail must not carry the model's response to the zero padding."""
    audio = np.random.default_rng(length).uniform(-1, 1, (1, length)).astype(np.float32)
    down = resample(audio, 16000, 8000)
    stems = Separator(centred_model, batch_size=batch_size).separate(audio, 16000)
    for stem, reference in zip(stems.values(), expected(down, FILTERS)):
        np.testing.assert_allclose(stem, resample(reference, 8000, 16000)[:, :length], atol=1e-5)

@pytest.mark.parametrize("channels", [1, 2])
def test_grouped_stems_are_sums_of_the_model_sources(centred_model, channels):
    audio = tone(8000, 0.3, channels, seed=4)
    grouped = Separator(centred_model, stems={"smooth_and_gain": ["source2", "source0"], "edges": "source1"})
    stems = grouped.separate(audio, 8000)
    assert grouped.sources == ("smooth_and_gain", "edges") and list(stems) == ["smooth_and_gain", "edges"]
    gain, difference, smooth = expected(audio, FILTERS)
    np.testing.assert_allclose(stems["smooth_and_gain"], gain + smooth, atol=1e-5)
    np.testing.assert_allclose(stems["edges"], difference, atol=1e-5)


def test_two_stems_pairs_a_source_with_the_rest(gain_model):
    assert two_stems(gain_model.sources, "half") == {"half": ["half"], "no_half": ["minus_quarter", "double"]}
    audio = tone(8000, 0.2, 1, seed=2)
    stems = separate(audio, gain_model, 8000, stems=two_stems(gain_model.sources, "double"))
    np.testing.assert_allclose(stems["double"], 2.0 * audio, atol=1e-5)
    np.testing.assert_allclose(stems["no_double"], 0.25 * audio, atol=1e-5)  # 0.5 - 0.25
    for bad in ({"x": ["drums"]}, {"x": []}, {}):
        with pytest.raises(ConfigError) as caught:
            Separator(gain_model, stems=bad)
        assert "\n" not in str(caught.value)
    with pytest.raises(ConfigError, match="pick one"):
        two_stems(gain_model.sources, "vocals")


def test_bad_settings_and_inputs(gain_model):
    with pytest.raises(ConfigError, match="fixed windows of 128 samples"):
        Separator(gain_model, segment_samples=256)
    with pytest.raises(ConfigError, match="overlap 1.0"):
        Separator(gain_model, overlap=1.0)
    with pytest.raises(ConfigError, match="batch size 0"):
        Separator(gain_model, batch_size=0)
    variable = FirModel(FILTERS, context_samples=None, target_samples=32, margin=32)
    with pytest.raises(ConfigError, match="must exceed the model's context margin of 32"):
        Separator(variable, segment_samples=32)
    with pytest.raises(AudioFileError, match="3 channels"):
        Separator(gain_model).separate(np.zeros((3, 100), np.float32), 8000)
    three_channel_model = FirModel(GAINS, channels=3, context_samples=16, target_samples=16)
    with pytest.raises(ConfigError, match="takes 3-channel audio"):
        Separator(three_channel_model).separate(np.zeros((2, 100), np.float32), 8000)
    assert Separator(three_channel_model).separate(np.ones((1, 20), np.float32), 8000)["source2"][0, 5] == 2.0


def test_streaming_file_equals_in_memory(gain_model, write_wav, tmp_path):
    audio = tone(16000, 5.0, channels=2)  # longer than one read block: the stream crosses block edges
    path = write_wav("song.wav", audio, 16000)
    separator = Separator(gain_model, batch_size=16)
    written = separator.separate_file(path, tmp_path / "out")
    in_memory = separator.separate(audio, 16000)
    assert sorted(p.name for p in (tmp_path / "out" / "song").iterdir()) == [
        "double.wav", "half.wav", "minus_quarter.wav"]
    for source, stem_path in written.items():
        stem, rate = read_audio(stem_path)
        assert rate == 16000
        np.testing.assert_allclose(stem, in_memory[source], atol=1e-5)


def test_streaming_memory_is_bounded_by_the_window_not_the_track(gain_model, write_wav, tmp_path):
    audio = tone(8000, 120.0)  # 960 000 samples: 3.8 MB in, 11.5 MB of stems out
    path = write_wav("long.wav", audio, 8000)
    separator = Separator(gain_model, batch_size=32)
    separator.separate_file(write_wav("warm.wav", audio[:, :1000], 8000), tmp_path / "warm")
    tracemalloc.start()
    separator.separate_file(path, tmp_path / "out")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"peak traced memory {peak / 1e6:.2f} MB for a {audio.nbytes / 1e6:.2f} MB input")
    assert peak < audio.nbytes  # holding the track and its three stems would take four times that
    assert sf.info(str(tmp_path / "out" / "long" / "double.wav")).frames == audio.shape[1]


@pytest.mark.parametrize("name, rate, frames", [("mono_8k", 8000, 4000), ("mono_192k", 192000, 19200),
                                                ("stereo_44k", 44100, 13230), ("one_sample", 16000, 1)])
def test_separate_file_keeps_rate_and_length(gain_model, audio_files, tmp_path, name, rate, frames):
    written = Separator(gain_model).separate_file(audio_files[name], tmp_path / "out", format="flac")
    for path in written.values():
        info = sf.info(str(path))
        assert (path.suffix, info.samplerate, info.frames) == (".flac", rate, frames)


def test_separate_file_can_change_the_output_rate_and_plot(gain_model, audio_files, tmp_path):
    written = Separator(gain_model).separate_file(audio_files["mono_8k"], tmp_path, sample_rate=16000, plot=True)
    info = sf.info(str(written["half"]))
    assert (info.samplerate, info.frames) == (16000, 8000)
    assert (tmp_path / "mono_8k" / "spectrogram.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ConfigError, match="output sample rate 1000 Hz"):
        Separator(gain_model).separate_file(audio_files["mono_8k"], tmp_path, sample_rate=1000)


def test_failed_separation_leaves_nothing_and_keeps_old_outputs(gain_model, write_wav, tmp_path):
    audio = tone(8000, 10.0)
    audio[0, BLOCK_SAMPLES + 5] = np.nan  # found only after the first block has been separated and written
    bad = write_wav("song.wav", audio, 8000)
    with pytest.raises(AudioFileError, match="NaN"):
        Separator(gain_model).separate_file(bad, tmp_path / "fresh" / "out")
    assert not (tmp_path / "fresh").exists()
    old = tmp_path / "out" / "song" / "half.wav"
    old.parent.mkdir(parents=True)
    old.write_bytes(b"earlier result")
    with pytest.raises(AudioFileError, match="NaN"):
        Separator(gain_model).separate_file(bad, tmp_path / "out")
    assert [p.name for p in old.parent.iterdir()] == ["half.wav"]
    assert old.read_bytes() == b"earlier result"


def test_output_folder_that_is_a_file_is_an_output_error(gain_model, audio_files, tmp_path):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("x")
    with pytest.raises(OutputError, match="cannot create the output folder"):
        Separator(gain_model).separate_file(audio_files["mono_8k"], blocker)


def test_separate_convenience_takes_arrays_and_paths(gain_model, audio_files):
    audio, rate = read_audio(audio_files["stereo_44k"])
    from_path = separate(audio_files["stereo_44k"], gain_model)
    from_array = separate(audio, gain_model, rate, overlap=0.5)
    for source in gain_model.sources:
        np.testing.assert_allclose(from_path[source], from_array[source], atol=1e-5)
    with pytest.raises(ConfigError, match="required with an array"):
        separate(audio, gain_model)
    with pytest.raises(ConfigError, match="carries its own rate"):
        separate(audio_files["stereo_44k"], gain_model, 44100)


def test_stream_resampler_equals_one_shot_and_keeps_tones():
    audio = tone(44100, 0.5, channels=2)
    stream = StreamResampler(44100, 22050, 2)
    pieces = [stream.process(audio[:, start:start + 777]) for start in range(0, audio.shape[1], 777)]
    pieces.append(stream.process(np.zeros((2, 0), np.float32), last=True))
    one_shot = resample(audio, 44100, 22050)
    np.testing.assert_array_equal(np.concatenate(pieces, axis=1), one_shot)
    assert one_shot.shape == (2, resampled_length(audio.shape[1], 44100, 22050)) == (2, 11025)
    sine = np.sin(2 * np.pi * 1000 * np.arange(44100) / 44100)[None].astype(np.float32)
    down = resample(sine, 44100, 8000)[0, 800:-800]
    expected = np.sin(2 * np.pi * 1000 * np.arange(8000) / 8000)[800:-800]
    np.testing.assert_allclose(down, expected, atol=1e-3)


@pytest.mark.parametrize("length, fade", [(1, 0), (7, 3), (32, 8), (32, 100)])
def test_window_is_positive_tapered_and_symmetric(length, fade):
    window = overlap_add_window(length, fade)
    assert window.shape == (length,) and window.dtype == np.float32
    assert (window > 0).all() and (window <= 1).all()
    np.testing.assert_array_equal(window, window[::-1])
    fade = min(fade, length // 2)
    assert (np.diff(window[:fade]) > 0).all()
    assert (window[fade:length - fade] == 1).all()


def test_spectrogram_finds_a_tone_and_writes_a_png(tmp_path):
    sine = np.sin(2 * np.pi * 1000 * np.arange(16000) / 16000)[None].astype(np.float32)
    frequencies, db = log_spectrogram(sine, 16000)
    assert frequencies[db.mean(axis=1).argmax()] == pytest.approx(1000, abs=8)
    assert db.max() == pytest.approx(0.0, abs=0.1)
    path = save_spectrogram_png(tmp_path / "s.png", np.vstack([sine, sine]), {"a": sine, "b": 0 * sine}, 16000)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in tmp_path.iterdir()] == ["s.png"]
