"""(Lossless, MP3-coded) pairs: ``data.kind: codec_pairs`` and its MP3 round trip.

A small generated corpus stands in for speech and music: four "speakers" of harmonic tone sequences with a
``speakers.csv`` (two train, one validation, one test speaker; one file at 22.05 kHz, one shorter than an example)
and a stem tree of music "tracks" (noise + chirps, stereo 22.05 kHz, a ``mixture.wav`` beside its stems) whose track
names are picked so each split gets tracks. Real speech in ``../shared/data/speech`` is coded when present.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from scipy import signal

from sepzoo.data.codec_pairs import (CodecPairSource, _mp3_encode_decode, codec_delay, magnitude_spectrogram,
                                     measure_delay, mp3_round_trip)
from sepzoo.data.sources import TEST, TRAIN, VALIDATION, make_source, source_kinds
from sepzoo.data.speech_noise import HASH_TEST, HASH_VALIDATION, _position
from sepzoo.errors import ConfigError

RATE = 16000
SAMPLES = 16256
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
SPLITS = (TRAIN, VALIDATION, TEST)
SPEAKERS = {"ann": "train", "bob": "train", "eve": "valid", "fay": "test"}


def broadband(seconds: float, rate: int, seed: int) -> np.ndarray:
    """Float32 ``(samples,)``: white noise plus a 100 Hz..(0.45 * rate) chirp, peak below 0.5."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    chirp = signal.chirp(t, 100, t[-1], 0.45 * rate, method="logarithmic")
    return (0.05 * rng.standard_normal(t.size) + 0.2 * chirp).astype(np.float32)


def harmonic_sequence(seconds: float, rate: int, seed: int) -> np.ndarray:
    """A speech stand-in, float32 ``(samples,)``: 4 harmonics on a gliding pitch, in bursts, over breath noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    f0 = rng.uniform(100, 250) * (1 + 0.1 * np.sin(2 * np.pi * 0.7 * t))
    phase = 2 * np.pi * np.cumsum(f0) / rate
    voice = sum(np.sin(k * phase) / k for k in range(1, 5))
    envelope = 0.05 + np.clip(np.sin(2 * np.pi * 2.5 * t + rng.uniform(0, np.pi)), 0, None) ** 2
    return (0.3 * voice * envelope + 0.01 * rng.standard_normal(t.size)).astype(np.float32)


def track_names() -> list[str]:
    """Two track names per split, as the SHA-256 split of ``music/<name>`` assigns them."""
    wanted, names, index = {split: 2 for split in SPLITS}, [], 0
    while any(wanted.values()):
        name = f"track{index:03d}"
        position = _position(f"music/{name}")
        split = TEST if position < HASH_TEST else VALIDATION if position < HASH_TEST + HASH_VALIDATION else TRAIN
        if wanted[split]:
            wanted[split] -= 1
            names.append(name)
        index += 1
    return names


def low_band_and_high_drop(original: np.ndarray, coded: np.ndarray, rate: int) -> tuple[float, float, float]:
    """``(correlation below 3 kHz, energy drop above 6 kHz in dB, energy change below 3 kHz in dB)``."""
    sos = signal.butter(8, 3000, "low", fs=rate, output="sos")
    correlation = np.corrcoef(signal.sosfiltfilt(sos, original), signal.sosfiltfilt(sos, coded))[0, 1]
    frequencies = np.fft.rfftfreq(original.size, 1 / rate)
    power_in, power_out = (np.abs(np.fft.rfft(x.astype(np.float64))) ** 2 for x in (original, coded))
    high, low = frequencies > 6000, frequencies < 3000
    drop = 10 * np.log10(power_in[high].sum() / max(power_out[high].sum(), 1e-30))
    change = 10 * np.log10(power_out[low].sum() / power_in[low].sum())
    return float(correlation), float(drop), float(change)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """``root/speech`` (4 speakers, speakers.csv) and ``root/music`` (stem tree, 6 tracks); returns root."""
    root = tmp_path_factory.mktemp("codec_corpus")
    rows = []
    for index, (speaker, split) in enumerate(SPEAKERS.items()):
        folder = root / "speech" / speaker
        folder.mkdir(parents=True)
        for take in range(2):
            rate = 22050 if (index, take) == (0, 1) else RATE
            seconds = 0.6 if (index, take) == (1, 1) else 1.6  # bob's second take is shorter than an example
            sf.write(folder / f"{speaker}_{take}.wav", harmonic_sequence(seconds, rate, 10 * index + take), rate)
            rows.append({"file": f"{speaker}/{speaker}_{take}.wav", "split_group": speaker, "suggested_split": split})
    with open(root / "speech" / "speakers.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, ["file", "split_group", "suggested_split"])
        writer.writeheader()
        writer.writerows(rows)
    for index, name in enumerate(track_names()):
        folder = root / "music" / name
        folder.mkdir(parents=True)
        stems = np.stack([broadband(1.6, 22050, 100 + 2 * index + k) for k in range(2)]) * 0.5  # (2 stems, samples)
        stereo = np.stack([stems, stems[:, ::-1]], axis=-1)  # (stems, samples, 2 channels)
        for stem_name, stem in zip(("vocals", "bass"), stereo):
            sf.write(folder / f"{stem_name}.wav", stem, 22050)
        sf.write(folder / "mixture.wav", stereo.sum(axis=0), 22050)
    return root


def build(corpus: Path, split: str = TRAIN, *, channels: int = 1, seed: int = 0, **options):
    options = {"speech": ["speech"], "music": ["music"], **options}
    return make_source("codec_pairs", split=split, sources=["coded"], sample_rate=RATE, channels=channels,
                       example_samples=SAMPLES, seed=seed, options=options, base_dir=corpus, validation_examples=3)


def test_measure_delay_finds_known_shifts():
    reference = np.random.default_rng(0).standard_normal(4000)
    for shift in (-37, 0, 5, 300):
        delayed = np.roll(reference, shift)
        assert measure_delay(reference, delayed, 400) == shift
    assert measure_delay(np.stack([reference, reference]), np.stack([np.roll(reference, 9)] * 2), 50) == 9
    assert measure_delay(reference, np.roll(reference, 300), 100) != 300  # outside the searched lags


def test_round_trip_lines_up_broadband_signal():
    audio = broadband(2.0, RATE, 1)[None]
    raw = _mp3_encode_decode(audio, RATE, 16)
    delay = codec_delay(RATE, 16)
    assert 500 < delay < 3000  # LAME's 576 + the decoder's 529 at 16 kHz, unless the decoder strips some
    assert measure_delay(audio[0], raw[0], 4000) == delay
    coded = mp3_round_trip(audio, RATE, 16)
    assert coded.shape == audio.shape and coded.dtype == np.float32
    assert measure_delay(audio[0], coded[0], 4000) == 0
    correlation, drop, change = low_band_and_high_drop(audio[0], coded[0], RATE)
    assert correlation > 0.9  # measured 0.97
    assert drop > 30  # measured 44 dB: LAME low-passes at about 5.5 kHz at 16 kbit/s
    assert abs(change) < 2  # measured -0.35 dB
    assert np.array_equal(coded, mp3_round_trip(audio, RATE, 16))  # deterministic


def test_round_trip_stereo_and_silence():
    audio = np.stack([broadband(1.0, RATE, 2), broadband(1.0, RATE, 3)])
    coded = mp3_round_trip(audio, RATE, 32)
    assert coded.shape == audio.shape
    for channel in range(2):
        assert measure_delay(audio[channel], coded[channel], 4000) == 0
    silence = np.zeros((1, 5000), np.float32)
    assert np.array_equal(mp3_round_trip(silence, RATE), silence)
    assert mp3_round_trip(np.zeros((1, 0), np.float32), RATE).shape == (1, 0)
    with pytest.raises(ConfigError, match="bitrate_kbps"):
        mp3_round_trip(audio, RATE, 4)


def test_round_trip_lines_up_real_speech():
    folder = SHARED / "speech" / "cmu_arctic"
    files = sorted(folder.glob("*.wav")) if folder.is_dir() else []
    if not files:
        pytest.skip(f"no real speech at {folder} (the shared data folder is not checked out)")
    from sepzoo.audio_io import read_audio
    from sepzoo.dsp import resample

    audio, rate = read_audio(files[0])
    audio = resample(audio.mean(axis=0, keepdims=True), rate, RATE)
    audio *= 0.5 / np.abs(audio).max()
    assert measure_delay(audio[0], _mp3_encode_decode(audio, RATE, 16)[0], 4000) == codec_delay(RATE, 16)
    coded = mp3_round_trip(audio, RATE, 16)
    assert measure_delay(audio[0], coded[0], 4000) == 0
    correlation, drop, change = low_band_and_high_drop(audio[0], coded[0], RATE)
    assert correlation > 0.9  # measured 0.99
    assert drop > 30  # measured 79 dB
    assert abs(change) < 2  # measured +0.5 dB


def test_magnitude_spectrogram_matches_keras_stft():
    import keras

    waveform = broadband(0.5, RATE, 4)
    for fft_size, hop_size in ((512, 128), (256, 100)):
        ours = magnitude_spectrogram(waveform, fft_size, hop_size)
        assert ours.shape == (1 + waveform.size // hop_size, fft_size // 2 + 1) and ours.dtype == np.float32
        real, imag = keras.ops.stft(waveform[None], fft_size, hop_size, fft_size, window="hann", center=True)
        theirs = np.hypot(keras.ops.convert_to_numpy(real)[0], keras.ops.convert_to_numpy(imag)[0])
        assert theirs.shape == ours.shape
        assert np.max(np.abs(ours - theirs)) <= 1e-4 * np.max(theirs)


def test_registered_and_deterministic(corpus):
    assert "codec_pairs" in source_kinds()
    source = build(corpus)
    assert isinstance(source, CodecPairSource) and source.sources == ("coded",)
    assert source.example_shapes == ((SAMPLES, 1), (SAMPLES, 1))
    again = build(corpus)
    for index in (0, 1, 5):
        lossless, coded = source.example(index)
        assert lossless.shape == coded.shape == (SAMPLES, 1)
        assert lossless.dtype == coded.dtype == np.float32
        other = again.example(index)
        assert np.array_equal(lossless, other[0]) and np.array_equal(coded, other[1])
    assert not np.array_equal(source.example(0)[0], source.example(2)[0])
    assert not np.array_equal(source.example(0)[0], build(corpus, seed=1).example(0)[0])
    assert [source.draw(i).kind for i in range(4)] == ["speech", "music", "speech", "music"]


def test_examples_are_levelled_and_coded(corpus):
    source = build(corpus, level_db=[-26, -14])
    for index in range(6):
        pair = source.draw(index)
        rms = np.sqrt(np.mean(pair.lossless.astype(np.float64) ** 2))
        assert abs(20 * np.log10(rms) - pair.level_db) < 0.01
        assert -26 - 1e-6 <= pair.level_db <= -14 + 1e-6 or np.max(np.abs(pair.lossless)) > 0.98
        assert np.max(np.abs(pair.lossless)) <= 0.99 + 1e-6
        assert measure_delay(pair.lossless[0], pair.coded[0], 2000) == 0
        correlation, drop, _ = low_band_and_high_drop(pair.lossless[0], pair.coded[0], RATE)
        assert correlation > 0.8, (index, pair.file, correlation)
        assert drop > 12, (index, pair.file, drop)  # measured 21 to 76 dB
    short = next(source.draw(i) for i in range(0, 200, 2) if source.draw(i).file.endswith("bob_1.wav"))
    assert short.start <= 0  # the 0.6 s file sits in silence
    quiet = np.abs(short.lossless[0]) < 1e-9
    assert quiet.sum() > SAMPLES - int(0.6 * RATE) - 10


def test_splits_keep_speakers_and_tracks_apart(corpus):
    files = {split: {f.path for kind in build(corpus, split).files.values() for f in kind} for split in SPLITS}
    groups = {split: {f.group for kind in build(corpus, split).files.values() for f in kind} for split in SPLITS}
    for first, second in ((TRAIN, VALIDATION), (TRAIN, TEST), (VALIDATION, TEST)):
        assert not files[first] & files[second]
        assert not groups[first] & groups[second]
    every = set().union(*files.values())
    assert len(every) == 8 + 6  # speech files + one mixture per track, no stems
    assert all(p.name == "mixture.wav" for p in every if "music" in p.parts)
    assert {p.parent.name for p in files[TEST] if "speech" in p.parts} == {"fay"}
    drawn = {build(corpus, TEST).draw(i).file for i in range(6)}
    assert drawn <= {f"speech/fay/fay_{k}.wav" for k in range(2)} | {f"music/{p.parent.name}/mixture.wav"
                                                                      for p in files[TEST]}


def test_validation_is_fixed_and_finite(corpus):
    source = build(corpus, VALIDATION)
    first, second = list(source), list(source)
    assert len(first) == 3
    assert all(np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1]) for a, b in zip(first, second))


def test_spectrogram_domain(corpus):
    source = build(corpus, domain="spectrogram", fft_size=256, hop_size=64)
    frames, bins = 1 + SAMPLES // 64, 129
    assert source.example_shapes == ((frames, bins), (frames, bins))
    lossless, coded = source.example(1)
    assert lossless.shape == coded.shape == (frames, bins) and lossless.dtype == np.float32
    pair = source.draw(1)
    assert np.array_equal(lossless, magnitude_spectrogram(pair.lossless[0], 256, 64))
    assert np.array_equal(coded, magnitude_spectrogram(pair.coded[0], 256, 64))
    high = slice(int(6000 / RATE * 256) + 1, None)
    assert coded[:, high].sum() < 0.1 * lossless[:, high].sum()  # the coded top band is nearly empty
    with pytest.raises(ConfigError, match="spectrogram domain of codec_pairs is mono"):
        build(corpus, channels=2, domain="spectrogram")


def test_stereo_waveforms(corpus):
    source = make_source("codec_pairs", split=TRAIN, sources=["coded"], sample_rate=RATE, channels=2,
                         example_samples=SAMPLES, seed=0, options={"music": ["music"], "bitrate_kbps": 32},
                         base_dir=corpus)
    lossless, coded = source.example(0)
    assert lossless.shape == coded.shape == (SAMPLES, 2)
    assert not np.array_equal(lossless[:, 0], lossless[:, 1])  # the stereo mixture keeps its two channels
    assert measure_delay(lossless[:, 0], coded[:, 0], 2000) == 0


def test_describe_names_no_absolute_path(corpus):
    line = build(corpus, TEST).describe()
    assert str(corpus) not in line
    assert "speech speech" in line and "music music" in line and "MP3 16 kbit/s" in line and "16000 Hz" in line


def test_tf_dataset_feeds_fit(corpus):
    import keras

    from sepzoo.data.pipeline import make_tf_dataset

    source = build(corpus)
    lossless, coded = next(iter(make_tf_dataset(source, 4)))
    assert tuple(lossless.shape) == tuple(coded.shape) == (4, SAMPLES, 1)
    np.testing.assert_array_equal(np.asarray(lossless)[1], source.example(1)[0])
    model = keras.Sequential([keras.Input((SAMPLES, 1)), keras.layers.Conv1D(1, 9, padding="same")])
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(make_tf_dataset(source, 4), steps_per_epoch=2, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


@pytest.mark.parametrize(("options", "message"), [
    ({"speech": None}, "needs speech or music folders"),
    ({"bitrate_kbps": 4}, "bitrate_kbps: 4 is not allowed"),
    ({"bitrate_kbps": 500}, "bitrate_kbps: 500 is not allowed"),
    ({"bitrate_kbps": "16"}, "bitrate_kbps: '16' is not allowed"),
    ({"domain": "mel"}, "domain: 'mel' is not allowed; use one of waveform, spectrogram"),
    ({"fft_size": 0}, "fft_size: 0 is not allowed"),
    ({"hop_size": 600}, "hop_size: 600 is more than fft_size 512"),
    ({"level_db": [-10, -30]}, "level_db: .* low <= high"),
    ({"include_narrowband": "yes"}, "include_narrowband: 'yes' is not allowed"),
    ({"noise": ["x"]}, "noise: unknown option of data.kind codec_pairs"),
])
def test_bad_options(corpus, options, message):
    options = {"speech": ["speech"], **options}
    if options["speech"] is None:
        del options["speech"]
    with pytest.raises(ConfigError, match=message):
        make_source("codec_pairs", split=TRAIN, sources=["coded"], sample_rate=RATE, channels=1,
                    example_samples=SAMPLES, seed=0, options=options, base_dir=corpus)


def test_wrong_source_names(corpus):
    with pytest.raises(ConfigError, match="data.sources"):
        make_source("codec_pairs", split=TRAIN, sources=["speech"], sample_rate=RATE, channels=1,
                    example_samples=SAMPLES, seed=0, options={"speech": ["speech"]}, base_dir=corpus)
