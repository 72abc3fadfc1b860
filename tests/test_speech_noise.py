"""The speech + noise source (``data.kind: speech_noise``) and ``sepzoo render --task speech_denoise``.

A small generated corpus stands in for speech and noise: six "speakers" of harmonic tone sequences (WAV, FLAC,
one 22.05 kHz file, one 8 kHz narrowband file) with a ``speakers.csv``, and four noise "recordings" with a
``sources.csv`` whose only valid group holds two recordings. The real data in ``../shared/data`` is read when
present.
"""

from __future__ import annotations

import csv
import json
import shlex
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from sepzoo.cli import main
from sepzoo.config import config_from_dict
from sepzoo.data.sources import TEST, TRAIN, VALIDATION, make_source
from sepzoo.data.speech_noise import SpeechNoiseSource, assign_splits
from sepzoo.data.stem_tree import open_stem_tree
from sepzoo.errors import ConfigError, DataError

RATE = 16000
SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
SPLITS = (TRAIN, VALIDATION, TEST)
# speaker -> suggested split: four train speakers, two valid ones (one becomes test).
SPEAKERS = {"ann": "train", "bob": "train", "cat": "train", "dan": "train", "eve": "valid", "fay": "valid"}
# recording -> (split_group, suggested split): one valid group of two recordings, split by recording.
RECORDINGS = {"hum": ("hum", "train"), "hiss": ("hiss", "train"), "rain": ("fold_b", "valid"),
              "fan": ("fold_b", "valid")}


def harmonic_sequence(seconds: float, rate: int, seed: int) -> np.ndarray:
    """A speech stand-in, float32 ``(samples,)``: notes of 4 harmonics on a gliding pitch, 0.2 s each, with gaps."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    f0 = rng.uniform(100, 250) * (1 + 0.1 * np.sin(2 * np.pi * 0.7 * t))
    phase = 2 * np.pi * np.cumsum(f0) / rate
    voice = sum(np.sin(k * phase) / k for k in range(1, 5))
    envelope = np.clip(np.sin(2 * np.pi * 2.5 * t + rng.uniform(0, np.pi)), 0, None) ** 2
    return (0.3 * voice * envelope).astype(np.float32)


def coloured_noise(seconds: float, rate: int, seed: int) -> np.ndarray:
    """A noise stand-in, float32 ``(samples,)``: white noise tilted by a random spectral slope."""
    rng = np.random.default_rng(seed)
    spectrum = np.fft.rfft(rng.standard_normal(int(seconds * rate)))
    spectrum *= (1 + np.arange(spectrum.size)) ** rng.uniform(-1.0, 0.0)
    noise = np.fft.irfft(spectrum, int(seconds * rate))
    return (0.2 * noise / np.std(noise)).astype(np.float32)


def write_corpus(root: Path) -> tuple[Path, Path]:
    """``root/speech`` (with speakers.csv) and ``root/noise`` (with sources.csv); returns both folders."""
    rows = []
    for index, (speaker, split) in enumerate(SPEAKERS.items()):
        folder = root / "speech" / speaker
        folder.mkdir(parents=True)
        for take in range(2):
            rate, suffix = (22050, "flac") if take == 1 and index == 0 else (RATE, "flac" if take else "wav")
            path = folder / f"{speaker}_{take}.{suffix}"
            sf.write(path, harmonic_sequence(1.2 + 0.3 * take, rate, 10 * index + take), rate)
            rows.append({"file": f"speech/{speaker}/{path.name}", "speaker": speaker, "split_group": speaker,
                         "suggested_split": split})
    narrowband = root / "speech" / "ann" / "ann_8k.wav"  # a narrowband take of a train speaker
    sf.write(narrowband, harmonic_sequence(1.0, 8000, 99), 8000)
    rows.append({"file": "speech/ann/ann_8k.wav", "speaker": "ann", "split_group": "ann", "suggested_split": "train"})
    _write_csv(root / "speech" / "speakers.csv", rows)
    rows = []
    (root / "noise").mkdir()
    for index, (recording, (group, split)) in enumerate(RECORDINGS.items()):
        for take in range(2):
            path = root / "noise" / f"{recording}_{take}.wav"
            stereo = np.stack([coloured_noise(0.8 + take, RATE, 100 + 10 * index + take)] * 2, axis=1)
            sf.write(path, stereo if index == 0 else stereo[:, 0], RATE)
            rows.append({"file": f"noise/{path.name}", "recording": recording, "split_group": group,
                         "suggested_split": split})
    _write_csv(root / "noise" / "sources.csv", rows)
    return root / "speech", root / "noise"


def _write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[Path, Path]:
    return write_corpus(tmp_path_factory.mktemp("corpus"))


def source(corpus, split=TRAIN, seed=0, **options) -> SpeechNoiseSource:
    speech, noise = corpus
    return SpeechNoiseSource([speech], [noise], split=split, sample_rate=RATE, example_samples=RATE, seed=seed,
                             **options)


def test_mixture_is_speech_plus_noise_at_an_snr_inside_the_range(corpus):
    stream = source(corpus, snr_db=(-5, 20))
    for index in range(12):
        mixture, stems = stream.example(index)
        assert mixture.dtype == stems.dtype == np.float32
        assert mixture.shape == (RATE, 1) and stems.shape == (RATE, 2)
        speech, noise = stems[:, :1], stems[:, 1:]
        np.testing.assert_array_equal(mixture, speech + noise)
        snr = 10 * np.log10(np.mean(speech.astype(np.float64) ** 2) / np.mean(noise.astype(np.float64) ** 2))
        assert -5 - 1e-3 <= snr <= 20 + 1e-3
        assert np.max(np.abs(mixture)) <= 1.0
    drawn = stream.draw(3)
    assert -30 - 1e-3 <= drawn.level_db <= -10 + 1e-3
    assert drawn.level_db == pytest.approx(20 * np.log10(np.sqrt(np.mean(drawn.mixture.astype(np.float64) ** 2))),
                                           abs=1e-3)


def test_stereo_examples_duplicate_mono_files(corpus):
    speech, noise = corpus
    stream = SpeechNoiseSource([speech], [noise], sample_rate=RATE, example_samples=4000, channels=2)
    mixture, stems = stream.example(0)
    assert mixture.shape == (4000, 2) and stems.shape == (4000, 4)
    np.testing.assert_array_equal(mixture, stems[:, :2] + stems[:, 2:])


def test_splits_share_no_speaker_and_no_noise_recording(corpus):
    speech, noise = corpus
    for files, key in ((assign_splits([speech], "speech"), lambda f: Path(f.name).parent.name),
                       (assign_splits([noise], "noise"), lambda f: Path(f.name).stem.split("_")[0])):
        owners = {split: {key(f) for f in files if f.split == split} for split in SPLITS}
        assert all(owners.values()), owners
        assert not owners[TRAIN] & owners[VALIDATION] and not owners[TRAIN] & owners[TEST]
        assert not owners[VALIDATION] & owners[TEST]
    speakers = {split: {Path(f.name).parent.name for f in source(corpus, split).speech_files} for split in SPLITS}
    assert speakers[TRAIN] == {"ann", "bob", "cat", "dan"} and speakers[VALIDATION] | speakers[TEST] == {"eve", "fay"}
    recordings = {split: {f.name for f in source(corpus, split).noise_files} for split in SPLITS}
    assert {Path(n).stem.split("_")[0] for n in recordings[VALIDATION] | recordings[TEST]} == {"rain", "fan"}
    for split in SPLITS:  # an example only draws on files of its own split
        stream = source(corpus, split)
        names = {f.name for f in stream.speech_files}, {f.name for f in stream.noise_files}
        for index in range(4):
            drawn = stream.draw(index)
            assert drawn.speech_file in names[0] and drawn.noise_file in names[1]


def test_same_seed_gives_the_same_examples_and_another_seed_others(corpus):
    first, again, other = source(corpus, seed=5), source(corpus, seed=5), source(corpus, seed=6)
    for index in range(3):
        np.testing.assert_array_equal(first.example(index)[1], again.example(index)[1])
    assert not np.array_equal(np.stack([first.example(i)[1] for i in range(3)]),
                              np.stack([other.example(i)[1] for i in range(3)]))
    assert not np.array_equal(first.example(0)[1], first.example(1)[1])


def test_narrowband_speech_is_left_out_of_wideband_examples_unless_asked(corpus):
    def names(**options):
        return {Path(f.name).name for f in source(corpus, **options).speech_files}

    assert "ann_8k.wav" not in names()
    assert "ann_8k.wav" in names(include_narrowband=True)
    speech, noise = corpus
    narrow = SpeechNoiseSource([speech], [noise], sample_rate=8000, example_samples=800)
    assert "ann_8k.wav" in {Path(f.name).name for f in narrow.speech_files}


def test_a_folder_without_csv_is_split_by_its_subfolders(tmp_path):
    for index in range(30):
        folder = tmp_path / "mine" / f"person{index:02d}"
        folder.mkdir(parents=True)
        for take in range(2):
            sf.write(folder / f"take{take}.wav", harmonic_sequence(0.3, RATE, index), RATE)
    files = assign_splits([tmp_path / "mine"], "speech")
    split_of_person = {}
    for f in files:
        person = Path(f.name).parent.name
        assert split_of_person.setdefault(person, f.split) == f.split  # a person's takes stay together
    assert set(split_of_person.values()) == set(SPLITS)
    assert assign_splits([tmp_path / "mine"], "speech") == files


def test_a_config_names_the_kind_and_the_task_and_tf_data_batches_it(corpus, tmp_path):
    speech, noise = corpus
    raw = {"name": "speech_test", "model": {"class": "LightweightASPP"}, "loss": {"name": "mae"},
           "optimiser": {}, "schedule": {},
           "data": {"kind": "speech_noise", "sources": ["speech", "noise"], "sample_rate": RATE, "channels": 1,
                    "context_samples": 2048,
                    "options": {"speech": [str(speech)], "noise": [str(noise)], "task": "speech_denoise",
                                "snr_db": [0, 10], "level_db": [-25, -20]}}}
    config = config_from_dict(raw)
    from sepzoo.training.data import make_dataset, make_split_source  # Keras loads here

    train = make_split_source(config, TRAIN, seed=1)
    mixture, stems = next(iter(make_dataset(train, 4, 2048, 2048)))
    assert tuple(mixture.shape) == (4, 2048, 1) and tuple(stems.shape) == (4, 2048, 2)
    np.testing.assert_allclose(mixture.numpy(), stems.numpy().sum(axis=-1, keepdims=True), atol=1e-7)
    assert "speech" in train.describe() and str(tmp_path) not in train.describe()
    assert make_split_source(config, VALIDATION, seed=1).split == VALIDATION


@pytest.mark.parametrize("options, words", [
    ({"snr_db": [10, 0]}, "data.options.snr_db: [10, 0] is not allowed"),
    ({"level_db": "loud"}, "data.options.level_db"),
    ({"task": "midi4"}, "is not a speech task"),
    ({"speech": None}, "data.options.speech: missing"),
])
def test_bad_options_raise_one_line(corpus, options, words):
    speech, noise = corpus
    with pytest.raises(ConfigError) as caught:
        make_source("speech_noise", split=TRAIN, sources=("speech", "noise"), sample_rate=RATE, channels=1,
                    example_samples=RATE, seed=0, options={"speech": [str(speech)], "noise": [str(noise)], **options})
    assert words in str(caught.value) and "\n" not in str(caught.value)


def test_sources_other_than_the_tasks_are_refused(corpus):
    speech, noise = corpus
    with pytest.raises(ConfigError, match="gives \\['speech', 'noise'\\]"):
        make_source("speech_noise", split=TRAIN, sources=("noise", "speech"), sample_rate=RATE, channels=1,
                    example_samples=RATE, seed=0, options={"speech": [str(speech)], "noise": [str(noise)]})


@pytest.mark.skipif(not (SHARED / "speech" / "speakers.csv").is_file(), reason="../shared/data is absent (CI has it)")
def test_real_data_splits_are_disjoint_and_draw_examples():
    speech = assign_splits([SHARED / "speech"], "speech")
    noise = assign_splits([SHARED / "noise"], "noise")
    with open(SHARED / "speech" / "speakers.csv", newline="") as handle:
        speaker_of = {row["file"]: row["speaker"] for row in csv.DictReader(handle)}
    with open(SHARED / "noise" / "sources.csv", newline="") as handle:
        recording_of = {row["file"]: row["recording"] for row in csv.DictReader(handle)}
    for files, owner in ((speech, speaker_of), (noise, recording_of)):
        assert all(f.name in owner for f in files)
        by_split = {split: [f for f in files if f.split == split] for split in SPLITS}
        assert all(by_split.values())
        owners = {split: {owner[f.name] for f in chosen} for split, chosen in by_split.items()}
        groups = {split: {f.group.split("/")[0] for f in chosen} for split, chosen in by_split.items()}
        assert not owners[TRAIN] & (owners[VALIDATION] | owners[TEST]) and not owners[VALIDATION] & owners[TEST]
        assert not groups[TRAIN] & (groups[VALIDATION] | groups[TEST])
    for split in SPLITS:
        stream = SpeechNoiseSource([SHARED / "speech"], [SHARED / "noise"], split=split, sample_rate=RATE,
                                   example_samples=RATE)
        assert not any("fsdd" in f.name for f in stream.speech_files)  # 8 kHz, left out of 16 kHz examples
        mixture, stems = stream.example(0)
        np.testing.assert_array_equal(mixture[:, 0], stems[:, 0] + stems[:, 1])


# --------------------------------------------------------------------------------------------------------
# sepzoo render --task speech_denoise


def run_cli(command: str, capfd) -> tuple[int, list[str]]:
    capfd.readouterr()
    status = main(shlex.split(command))
    return status, [line for line in capfd.readouterr().err.splitlines() if line.strip()]


def test_render_writes_a_stem_tree_evaluate_reads(corpus, tmp_path, capfd):
    speech, noise = corpus
    status, err = run_cli(f"render --task speech_denoise --speech {speech} --noise {noise} --split test "
                          f"--examples 3 --seconds 0.5 -o {tmp_path}/out", capfd)
    assert status == 0, err
    split_dir = tmp_path / "out" / "test"
    tree = open_stem_tree(split_dir, check_headers=True)
    assert tree.sources == ("speech", "noise") and tree.sample_rate == RATE and len(tree.tracks) == 3
    meta = json.loads((split_dir / "render.json").read_text())
    assert meta["task"] == "speech_denoise" and len(meta["examples"]) == 3
    for track in tree.tracks:
        mixture, speech_audio, noise_audio = (sf.read(track / f"{name}.wav", dtype="float32")[0]
                                              for name in ("mixture", "speech", "noise"))
        assert mixture.shape == (RATE // 2,)
        np.testing.assert_array_equal(mixture, speech_audio + noise_audio)
    test_speakers = {Path(f.name).parent.name for f in source(corpus, TEST).speech_files}
    assert {Path(record["speech_file"]).parent.name for record in meta["examples"]} <= test_speakers


def only_train(root: Path) -> None:
    """A speech folder whose csv puts every file in train, so its test split is empty."""
    (root / "train_only" / "x").mkdir(parents=True)
    sf.write(root / "train_only" / "x" / "a.wav", harmonic_sequence(0.5, RATE, 0), RATE)
    _write_csv(root / "train_only" / "speakers.csv",
               [{"file": "train_only/x/a.wav", "split_group": "x", "suggested_split": "train"}])


@pytest.mark.parametrize("arguments, setup, words", [
    ("--speech {tmp}/nowhere --noise {noise}", None, "nowhere: speech folder does not exist"),
    ("--speech {tmp}/empty --noise {noise}", lambda root: (root / "empty").mkdir(), "no speech audio files"),
    ("--speech {tmp}/train_only --noise {noise}", only_train, "no speech file in the test split"),
    ("--speech {speech}", None, "--noise: missing"),
    ("--speech {speech} --noise {noise} --split all", None, "--split all"),
    ("--speech {speech} --noise {noise} --examples 0", None, "--examples 0"),
    ("--speech {speech} --noise {noise} --seconds 0", None, "must be positive"),
    ("--speech {speech} --noise {noise} --sample-rate 100", None, "100 Hz"),
    ("--speech {speech} --noise {noise} --snr-db 10 0", None, "snr_db"),
    ("--speech {speech} --noise {noise} --soundfont x.sf2", None, "--soundfont: only for MIDI tasks"),
])
def test_render_refuses_bad_input_with_one_line_and_writes_nothing(corpus, tmp_path, capfd, arguments, setup, words):
    speech, noise = corpus
    if setup is not None:
        setup(tmp_path)
    before = sorted(tmp_path.rglob("*"))
    command = "render --task speech_denoise -o {tmp}/out " + arguments
    status, err = run_cli(command.format(tmp=tmp_path, speech=speech, noise=noise), capfd)
    assert status == 2 and len(err) == 1, err
    assert err[0].startswith("sepzoo: error: ") and words in err[0], err[0]
    assert sorted(tmp_path.rglob("*")) == before and not (tmp_path / "out").exists()


def test_data_errors_name_the_folder(tmp_path):
    with pytest.raises(DataError, match="none: speech folder does not exist"):
        SpeechNoiseSource([tmp_path / "none"], [tmp_path])
