"""Bad input to every command and to the hub: exit status 2, one line on stderr, no traceback, nothing written.

One table of cases (argv, setup, expected words) runs through the real dispatcher in this process
(``sepzoo.cli.main``) with stderr captured at the file-descriptor level, so messages C libraries print
(mpg123, FluidSynth) count too. Every case checks that ``tmp_path`` holds exactly what its setup made.
Interruptions run the CLI in subprocesses where the signal must come from outside (SIGTERM and SIGKILL of
``sepzoo separate``, SIGTERM of ``sepzoo train``, a closed stdout pipe) and in this process otherwise
(Ctrl-C and SIGTERM raised while stems are written, an interrupted start of training); each checks that
nothing partial is left and that the next run succeeds.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from conftest import FirModel, mp3_bytes, tone

import sepzoo
import sepzoo.zoo
from sepzoo import hub
from sepzoo.cli import main
from sepzoo.errors import ChecksumError, HubError, ModelNotFoundError, PresetNotFoundError

REPO = Path(__file__).resolve().parents[1]
TINY = REPO / "zoo_configs" / "tiny_tones.yaml"
GAINS = {"drums": 0.5, "bass": -0.25, "keys": 2.0, "other": 1.0}
# tiny_tones in two 4-step epochs without fine-tuning, a checkpoint every 2 steps.
BOUNDED = ["schedule.steps_per_epoch=4", "schedule.max_epochs=2", "schedule.patience=100",
           "schedule.fine_tune=false", "checkpoint_every=2", "batch_size=4", "data.validation_examples=4"]


# --------------------------------------------------------------------------------------------------------
# Fixtures and helpers


@pytest.fixture(autouse=True)
def private_cache(tmp_path_factory, monkeypatch) -> Path:
    """A preset cache of this test's own, outside ``tmp_path`` (whose contents each case checks)."""
    cache = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("SEPZOO_CACHE_DIR", str(cache))
    monkeypatch.delenv("SEPZOO_HUB_URL", raising=False)
    monkeypatch.delenv("SEPZOO_OFFLINE", raising=False)
    return cache


@pytest.fixture
def tiny_model(monkeypatch) -> FirModel:
    """``sepzoo.zoo.load("tiny")`` returns a stand-in 4-source gain model at 8000 Hz; other names load for real."""
    model = FirModel([[gain] for gain in GAINS.values()], context_samples=2048, target_samples=2048,
                     sources=list(GAINS))
    real_load = sepzoo.zoo.load

    def load(name, weights="pretrained"):
        return model if name == "tiny" else real_load(name, weights)

    monkeypatch.setattr(sepzoo.zoo, "load", load)
    return model


def run_cli(argv: list[str]) -> int:
    """``sepzoo ARGV`` in this process; its exit status (usage errors exit through SystemExit)."""
    try:
        return main([str(arg) for arg in argv])
    except SystemExit as stop:
        return int(stop.code)


def one_error_line(err: str) -> str:
    """The single line of ``err``, after checking there is exactly one and it is a sepzoo error, no traceback."""
    assert "Traceback" not in err, err
    lines = err.splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}:\n{err}"
    assert lines[0].startswith("sepzoo") and ": error: " in lines[0], lines[0]
    return lines[0]


def tree_of(folder: Path) -> set[str]:
    """Every path under ``folder`` (files and folders, hidden ones too), relative to it."""
    return {str(path.relative_to(folder)) for path in folder.rglob("*")}


def wav(path: Path, audio: np.ndarray, rate: int, subtype: str = "FLOAT") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), np.asarray(audio).T, rate, subtype=subtype, format="WAV")
    return path


def fake_preset(folder: Path, metadata: dict | None = None) -> Path:
    """A folder with the files of a preset (weights are placeholder bytes: only publish/info read it)."""
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"class_name": "LightweightASPP", "config": {}}))
    (folder / "model.weights.h5").write_bytes(b"placeholder weights")
    (folder / "metadata.json").write_text(json.dumps(metadata or {"name": "fake", "description": "a test preset"}))
    return folder


def stem_tree(root: Path, tracks: dict[str, tuple[str, ...]], seconds: float = 0.5) -> Path:
    """``root/<track>/{mixture,<stem>}.wav`` at 8 kHz mono; ``tracks`` names each track's stems."""
    for index, (track, stems) in enumerate(tracks.items()):
        audio = {stem: tone(8000, seconds, seed=index * 10 + k) * 0.3 for k, stem in enumerate(stems)}
        for stem, signal_ in audio.items():
            wav(root / track / f"{stem}.wav", signal_, 8000)
        wav(root / track / "mixture.wav", sum(audio.values()), 8000)
    return root


# --------------------------------------------------------------------------------------------------------
# Setups: each makes the inputs one case needs under tmp (the case's argv names them)


def input_wav(tmp: Path) -> None:
    wav(tmp / "in" / "song.wav", tone(8000, 0.5), 8000)


def write_bytes(name: str, data: bytes) -> Callable[[Path], None]:
    def setup(tmp: Path) -> None:
        (tmp / "in").mkdir(exist_ok=True)
        (tmp / "in" / name).write_bytes(data)
    return setup


def truncated_wav(tmp: Path) -> None:
    whole = wav(tmp / "in" / "whole.wav", tone(8000, 0.5), 8000, "PCM_16")
    (tmp / "in" / "cut.wav").write_bytes(whole.read_bytes()[:3000])
    whole.unlink()


def nan_wav(tmp: Path) -> None:
    audio = tone(8000, 0.5)
    audio[0, 1234] = np.nan
    wav(tmp / "in" / "nan.wav", audio, 8000)


def corrupt_mp3(tmp: Path) -> None:
    """A real MP3 with 8 kB of zeros where frames should be: mpg123 prints notes on fd 2 and gives up."""
    data = mp3_bytes(tone(44100, 2.0), 44100, quality=7)
    cut = len(data) // 3
    write_bytes("broken.mp3", data[:cut] + bytes(8000) + data[cut + 8000:])(tmp)


def stem_path_is_a_folder(tmp: Path) -> None:
    input_wav(tmp)
    (tmp / "out" / "song" / "keys.wav").mkdir(parents=True)


def an_existing_file(name: str) -> Callable[[Path], None]:
    def setup(tmp: Path) -> None:
        input_wav(tmp)
        (tmp / name).write_text("a file, not a folder")
    return setup


def midi_folder(tmp: Path) -> None:
    from sepzoo.data.midi.compose import compose_demo_song

    (tmp / "midi").mkdir()
    compose_demo_song(seconds=2.0, seed=3).write(str(tmp / "midi" / "song.mid"))


def empty_midi_folder(tmp: Path) -> None:
    (tmp / "midi" / "notes").mkdir(parents=True)
    (tmp / "midi" / "notes" / "readme.txt").write_text("no MIDI here")


def unreadable_midi(tmp: Path) -> None:
    (tmp / "midi").mkdir()
    (tmp / "midi" / "broken.mid").write_bytes(b"MThd but not really a MIDI file")


def bad_soundfont(tmp: Path) -> None:
    midi_folder(tmp)
    (tmp / "bad.sf2").write_text("not a soundfont, just text\n")


def broken_yaml(tmp: Path) -> None:
    (tmp / "bad.yaml").write_text("name: [unclosed\n  - of: {course\n")


def finished_looking_run(tmp: Path) -> None:
    (tmp / "run").mkdir()
    (tmp / "run" / "config.yaml").write_text(TINY.read_text())


def tree_missing_a_stem_in_the_first_track(tmp: Path) -> None:
    stem_tree(tmp / "tree", {"a_first": ("bass", "drums"), "b_second": ("bass", "drums", "keys")})


def good_tree(tmp: Path) -> None:
    stem_tree(tmp / "tree", {"a_first": ("bass", "drums"), "b_second": ("bass", "drums")})


def tree_with_broken_render_record(tmp: Path) -> None:
    good_tree(tmp)
    (tmp / "tree" / "render.json").write_text("{ not json")


def empty_tree(tmp: Path) -> None:
    (tmp / "tree" / "junk").mkdir(parents=True)


def tree_and_file(tmp: Path) -> None:
    good_tree(tmp)
    (tmp / "out").write_text("a file where the output folder should go")


def a_preset(tmp: Path) -> None:
    fake_preset(tmp / "preset")


def preset_and_hub_file(tmp: Path) -> None:
    a_preset(tmp)
    (tmp / "hub").write_text("a file where the hub folder should go")


def preset_and_evaluation(summary: dict | None) -> Callable[[Path], None]:
    def setup(tmp: Path) -> None:
        a_preset(tmp)
        (tmp / "eval").mkdir()
        if summary is not None:
            (tmp / "eval" / "summary.json").write_text(json.dumps(summary))
            (tmp / "eval" / "table.md").write_text("| table |\n")
    return setup


def not_a_preset(tmp: Path) -> None:
    (tmp / "folder").mkdir()
    (tmp / "folder" / "notes.txt").write_text("nothing to see")


def preset_with_broken_metadata(tmp: Path) -> None:
    a_preset(tmp)
    (tmp / "preset" / "metadata.json").write_text("{ broken")


def preset_with_damaged_weights(tmp: Path) -> None:
    input_wav(tmp)
    a_preset(tmp)  # config.json builds a default LightweightASPP; model.weights.h5 holds placeholder bytes


def preset_with_broken_config(tmp: Path) -> None:
    input_wav(tmp)
    a_preset(tmp)
    (tmp / "preset" / "config.json").write_text('{"class_name": "LightweightASPP"')


def hub_with_broken_index(tmp: Path) -> None:
    (tmp / "hub" / "mine").mkdir(parents=True)
    (tmp / "hub" / "mine" / "index.json").write_text('{"name": "mine", "versions": ')


def hub_with_incomplete_index(tmp: Path) -> None:
    (tmp / "hub" / "mine").mkdir(parents=True)
    (tmp / "hub" / "mine" / "index.json").write_text('{"name": "mine", "versions": {}}')


# --------------------------------------------------------------------------------------------------------
# The table


@dataclass(frozen=True)
class Case:
    """``sepzoo ARGV`` (split like a shell; ``{tmp}`` stands for the case's tmp_path, ``{tiny}`` for
    zoo_configs/tiny_tones.yaml) after ``setup(tmp)``: exit 2, one line on stderr holding ``words``, and
    tmp_path unchanged."""

    id: str
    argv: str
    setup: Callable[[Path], None] | None
    words: str


SEPARATE = "separate -m tiny -o {tmp}/out"
CASES = [
    # separate: inputs
    Case("separate-missing-input", SEPARATE + " {tmp}/in/nothing.wav", None, "no such file"),
    Case("separate-folder-input", SEPARATE + " {tmp}/in", input_wav, "is a folder"),
    Case("separate-empty-file", SEPARATE + " {tmp}/in/empty.wav", write_bytes("empty.wav", b""), "file is empty"),
    Case("separate-text-file", SEPARATE + " {tmp}/in/notes.wav", write_bytes("notes.wav", b"hello\n" * 50),
         "not a readable audio file"),
    Case("separate-truncated-wav", SEPARATE + " {tmp}/in/cut.wav", truncated_wav, "truncated WAV"),
    Case("separate-nan-samples", SEPARATE + " {tmp}/in/nan.wav", nan_wav,
         "NaN or infinite samples (first at frame 1234)"),
    Case("separate-corrupt-mp3", SEPARATE + " {tmp}/in/broken.mp3", corrupt_mp3, "broken.mp3: decoding failed"),
    Case("separate-m4a-not-decodable", SEPARATE + " {tmp}/in/song.m4a",
         write_bytes("song.m4a", b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00" + bytes(4000)),
         "convert it to WAV or FLAC"),
    Case("separate-good-then-bad-input", SEPARATE + " {tmp}/in/song.wav {tmp}/in/nothing.wav", input_wav,
         "nothing.wav: no such file"),
    Case("separate-same-name-twice", SEPARATE + " {tmp}/in/song.wav {tmp}/in/./song.wav", input_wav,
         "appear more than once"),
    # separate: options and outputs
    Case("separate-unknown-model", "separate -m lightweight_aspq -o {tmp}/out {tmp}/in/song.wav", input_wav,
         "unknown model 'lightweight_aspq'"),
    Case("separate-missing-weights-archive", "separate -m lightweight_aspp --weights {tmp}/none.tar.gz "
         "-o {tmp}/out {tmp}/in/song.wav", input_wav, "preset not found"),
    Case("separate-overlap", SEPARATE + " --overlap 1.5 {tmp}/in/song.wav", input_wav, "overlap 1.5"),
    Case("separate-negative-segment", SEPARATE + " --segment -1 {tmp}/in/song.wav", input_wav, "--segment -1.0"),
    Case("separate-output-rate", SEPARATE + " --sample-rate 100 {tmp}/in/song.wav", input_wav,
         "output sample rate 100 Hz"),
    Case("separate-two-stems-unknown", SEPARATE + " --two-stems vocals {tmp}/in/song.wav", input_wav,
         "two stems around 'vocals'"),
    Case("separate-stems-syntax", SEPARATE + " {tmp}/in/song.wav --stems rhythm", input_wav, "--stems 'rhythm'"),
    Case("separate-format-mp3", SEPARATE + " --format mp3 {tmp}/in/song.wav", input_wav, "invalid choice: 'mp3'"),
    Case("separate-no-output", "separate {tmp}/in/song.wav", input_wav, "-o/--output"),
    Case("separate-output-is-a-file", "separate -m tiny -o {tmp}/taken {tmp}/in/song.wav", an_existing_file("taken"),
         "cannot write output there"),
    Case("separate-stem-path-is-a-folder", SEPARATE + " {tmp}/in/song.wav", stem_path_is_a_folder,
         "keys.wav: is a folder"),
    # render
    Case("render-no-midi-files", "render {tmp}/midi -o {tmp}/out --split all", empty_midi_folder, "no MIDI files"),
    Case("render-missing-folder", "render {tmp}/nowhere -o {tmp}/out", None, "MIDI folder does not exist"),
    Case("render-only-unreadable-midi", "render {tmp}/midi -o {tmp}/out --split all", unreadable_midi,
         "no song of the all split could be rendered (1 unreadable"),
    Case("render-missing-soundfont", "render {tmp}/midi -o {tmp}/out --split all --soundfont {tmp}/none.sf2",
         midi_folder, "soundfont"),
    Case("render-invalid-soundfont", "render {tmp}/midi -o {tmp}/out --split all --soundfont {tmp}/bad.sf2",
         bad_soundfont, "FluidSynth cannot load this soundfont (Not a RIFF file)"),
    Case("render-unknown-task", "render {tmp}/midi -o {tmp}/out --split all --task nope", midi_folder, "nope"),
    Case("render-sample-rate", "render {tmp}/midi -o {tmp}/out --split all --sample-rate 1000", midi_folder,
         "sample_rate=1000 Hz"),
    Case("render-excerpt-zero", "render {tmp}/midi -o {tmp}/out --excerpt-seconds 0", midi_folder,
         "--excerpt-seconds 0.0"),
    Case("render-channels", "render {tmp}/midi -o {tmp}/out --channels 3", midi_folder, "invalid choice: 3"),
    Case("render-output-is-a-file", "render {tmp}/midi -o {tmp}/taken --split all",
         lambda tmp: (midi_folder(tmp), (tmp / "taken").write_text("x")), "cannot create the output folder"),
    # train
    Case("train-no-config", "train -o {tmp}/run", None, "no CONFIG given"),
    Case("train-missing-config", "train {tmp}/none.yaml -o {tmp}/run", None, "cannot read the config"),
    Case("train-broken-yaml", "train {tmp}/bad.yaml -o {tmp}/run", broken_yaml, "not valid YAML"),
    Case("train-unknown-key", "train {tiny} -o {tmp}/run --set schedule.patiense=3", None, "patiense"),
    Case("train-missing-data-folder", "train {tiny} -o {tmp}/run --set data.kind=stem_tree "
         "--set 'data.options={paths: [{tmp}/nodata]}'", None, f"{TINY}: data.options.paths"),
    Case("train-run-folder-is-a-file", "train {tiny} -o {tmp}/taken", an_existing_file("taken"),
         "cannot create the run folder"),
    Case("train-resume-nothing", "train --resume {tmp}/run", None, "not a sepzoo training run"),
    Case("train-resume-with-config", "train {tiny} --resume {tmp}/run", finished_looking_run,
         "a resumed run keeps its own config.yaml"),
    Case("train-resume-without-checkpoint", "train --resume {tmp}/run", finished_looking_run,
         "no checkpoint to resume from"),
    # evaluate
    Case("evaluate-missing-stem-in-first-track", "evaluate --root {tmp}/tree --out {tmp}/out",
         tree_missing_a_stem_in_the_first_track, "a_first/keys.wav: missing"),
    Case("evaluate-missing-root", "evaluate --root {tmp}/nowhere", None, "no such folder"),
    Case("evaluate-no-tracks", "evaluate --root {tmp}/tree", empty_tree, "no tracks found"),
    Case("evaluate-broken-render-record", "evaluate --root {tmp}/tree", tree_with_broken_render_record,
         "render.json: not a readable render record"),
    Case("evaluate-plot-format", "evaluate --root {tmp}/tree --plot {tmp}/plot.xyz", good_tree,
         "cannot save a plot as .xyz"),
    Case("evaluate-out-is-a-file", "evaluate --root {tmp}/tree --out {tmp}/out", tree_and_file, "not a folder"),
    Case("evaluate-unknown-model", "evaluate -m nosuch --root {tmp}/tree", good_tree, "unknown model 'nosuch'"),
    Case("evaluate-jobs-zero", "evaluate --root {tmp}/tree --jobs 0", good_tree, "0 must be at least 1"),
    # publish
    Case("publish-not-a-run", "publish {tmp}/nowhere --name x --version v1 --hub-dir {tmp}/hub", None,
         "neither a finished run"),
    Case("publish-bad-version", "publish {tmp}/preset --name x --version ../v1 --hub-dir {tmp}/hub", a_preset,
         "--version '../v1'"),
    Case("publish-bad-name", "publish {tmp}/preset --name 'a b' --version v1 --hub-dir {tmp}/hub", a_preset,
         "--name 'a b'"),
    Case("publish-not-an-evaluation", "publish {tmp}/preset --name x --version v1 --hub-dir {tmp}/hub "
         "--evaluation {tmp}/eval", preset_and_evaluation(None), "not an evaluation folder"),
    Case("publish-evaluation-without-methods", "publish {tmp}/preset --name x --version v1 --hub-dir {tmp}/hub "
         "--evaluation {tmp}/eval", preset_and_evaluation({"tracks": []}), "summary.json has no 'methods'"),
    Case("publish-missing-licences", "publish {tmp}/preset --name x --version v1 --hub-dir {tmp}/hub "
         "--licences {tmp}/none.txt", a_preset, "cannot read the licences file"),
    Case("publish-hub-is-a-file", "publish {tmp}/preset --name x --version v1 --hub-dir {tmp}/hub",
         preset_and_hub_file, "cannot publish there"),
    # info and list
    Case("info-unknown-name", "info lightweight_aspq", None, "unknown model 'lightweight_aspq'"),
    Case("info-unknown-version", "info lightweight_aspp/v999", None, "no version 'v999'"),
    Case("info-not-a-preset", "info {tmp}/folder", not_a_preset, "not a sepzoo preset"),
    Case("info-broken-metadata", "info {tmp}/preset", preset_with_broken_metadata, "metadata.json is unreadable"),
    Case("info-corrupt-archive", "info {tmp}/in/x.tar.gz", write_bytes("x.tar.gz", b"\x1f\x8b not gzip"),
         "not a readable .tar.gz archive"),
    Case("info-not-an-archive", "info {tmp}/in/x.txt", write_bytes("x.txt", b"text"), "nor an archive"),
    Case("list-unknown-option", "list --bogus", None, "unrecognized arguments: --bogus"),
    Case("separate-damaged-weights", "separate -m {tmp}/preset -o {tmp}/out {tmp}/in/song.wav",
         preset_with_damaged_weights, "model.weights.h5: the weights do not load into LightweightASPP"),
    Case("separate-broken-preset-config", "separate -m {tmp}/preset -o {tmp}/out {tmp}/in/song.wav",
         preset_with_broken_config, "config.json: not a preset config"),

    Case("no-verb", "frobnicate", None, "invalid choice: 'frobnicate'"),
]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_fails_with_one_line_and_writes_nothing(case, tmp_path, capfd, tiny_model):
    if case.setup is not None:
        case.setup(tmp_path)
    before = tree_of(tmp_path)
    argv = [arg.replace("{tmp}", str(tmp_path)).replace("{tiny}", str(TINY)) for arg in shlex.split(case.argv)]
    capfd.readouterr()
    status = run_cli(argv)
    err = capfd.readouterr().err
    line = one_error_line(err)
    assert status == 2, err
    assert case.words in line, line
    assert tree_of(tmp_path) == before, sorted(tree_of(tmp_path) ^ before)


def test_the_table_covers_every_command():
    verbs = {case.argv.split()[0] for case in CASES}
    assert {"separate", "render", "train", "evaluate", "publish", "info", "list"} <= verbs
    assert len(CASES) >= 40


# --------------------------------------------------------------------------------------------------------
# The hub, called from Python


def local_hub(tmp_path: Path, monkeypatch, *, sha256: str | None = None, archive: bytes | None = None) -> str:
    """A ``SEPZOO_HUB_URL`` folder with entry ``fakezoo`` version ``v1`` (an archive of a fake preset);
    ``sha256`` overrides the recorded checksum and ``archive`` the archive's bytes. Returns the handle."""
    root = tmp_path / "hub"
    (root / "fakezoo").mkdir(parents=True)
    digest = hub.archive_preset(fake_preset(tmp_path / "build" / "preset"), root / "fakezoo" / "v1.tar.gz")
    if archive is not None:
        (root / "fakezoo" / "v1.tar.gz").write_bytes(archive)
    index = {"name": "fakezoo", "class_name": "LightweightASPP", "description": "test entry", "config": {},
             "default": "v1", "versions": {"v1": {"handle": "fakezoo/v1.tar.gz", "sha256": sha256 or digest}}}
    (root / "fakezoo" / "index.json").write_text(json.dumps(index))
    monkeypatch.setenv("SEPZOO_HUB_URL", str(root))
    return "fakezoo/v1"


@pytest.mark.parametrize("handle, error, words", [
    ("no_such_model", ModelNotFoundError, "unknown model 'no_such_model'"),
    ("lightweight_aspp/v999", ModelNotFoundError, "no version 'v999'"),
    ("missing/v1.tar.gz", PresetNotFoundError, "preset not found"),
    ("file:///nonexistent/dir/preset.tar.gz", PresetNotFoundError, "preset not found"),
    ("ftp://example.com/preset.tar.gz", HubError, "unsupported URL scheme 'ftp'"),
])
def test_load_of_a_bad_handle_raises_one_line(handle, error, words, tmp_path, monkeypatch, capfd, private_cache):
    monkeypatch.setenv("SEPZOO_HUB_URL", str(tmp_path / "empty_hub"))
    with pytest.raises(error) as caught:
        sepzoo.load(handle)
    message = str(caught.value)
    assert words in message and "\n" not in message
    assert capfd.readouterr().err == ""
    assert not [path for path in private_cache.rglob("*") if not path.name.endswith(".lock")]


@pytest.mark.parametrize("setup, words", [
    (hub_with_broken_index, "mine/index.json: not a readable zoo index"),
    (hub_with_incomplete_index, "mine/index.json: not a zoo index (missing class_name, description, config)"),
])
@pytest.mark.parametrize("argv", [["list"], ["info", "lightweight_aspp"], ["separate", "-m", "mine", "-o", "out", "x.wav"]])
def test_a_damaged_hub_index_is_one_line_for_every_command(setup, words, argv, tmp_path, monkeypatch, capfd):
    setup(tmp_path)
    wav(tmp_path / "x.wav", tone(8000, 0.5), 8000)
    monkeypatch.setenv("SEPZOO_HUB_URL", str(tmp_path / "hub"))
    monkeypatch.chdir(tmp_path)
    before = tree_of(tmp_path)
    capfd.readouterr()
    status = run_cli(argv)
    line = one_error_line(capfd.readouterr().err)
    assert status == 2 and words in line, line
    assert tree_of(tmp_path) == before


def test_presets_and_checkpoints_get_the_mode_the_umask_gives(tmp_path):
    from sepzoo.training.checkpoint import write_text_atomically

    model = FirModel([[0.5], [0.5]], context_samples=64, target_samples=64, sources=["a", "b"])
    previous = os.umask(0o022)
    try:
        preset = sepzoo.zoo.save_preset(model, tmp_path / "preset")
        write_text_atomically(tmp_path / "config.yaml", "a: 1\n")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(preset.stat().st_mode) == 0o755
    for path in [*preset.iterdir(), tmp_path / "config.yaml"]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o644, path


def test_load_refuses_a_checksum_mismatch_and_caches_nothing(tmp_path, monkeypatch, capfd, private_cache):
    handle = local_hub(tmp_path, monkeypatch, sha256="0" * 64)
    with pytest.raises(ChecksumError, match="sha256 mismatch, expected 0000"):
        sepzoo.load(handle)
    assert capfd.readouterr().err == ""
    assert not [path for path in private_cache.rglob("*") if not path.name.endswith(".lock")]


def test_load_refuses_a_corrupt_archive_with_the_right_checksum(tmp_path, monkeypatch, private_cache):
    junk = b"\x1f\x8b\x08\x00 definitely not a gzip stream" * 10
    handle = local_hub(tmp_path, monkeypatch, sha256=hashlib.sha256(junk).hexdigest(), archive=junk)
    with pytest.raises(HubError, match="not a readable .tar.gz archive"):
        sepzoo.load(handle)
    assert not [path for path in private_cache.rglob("*") if not path.name.endswith(".lock")]


def test_checksum_mismatch_through_the_cli(tmp_path, monkeypatch, capfd, private_cache):
    handle = local_hub(tmp_path, monkeypatch, sha256="f" * 64)
    wav(tmp_path / "in" / "song.wav", tone(8000, 0.5), 8000)
    capfd.readouterr()
    status = run_cli(["separate", "-m", handle, "-o", tmp_path / "out", tmp_path / "in" / "song.wav"])
    line = one_error_line(capfd.readouterr().err)
    assert status == 2 and "sha256 mismatch" in line
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------------------------------------
# Interruptions and a closed stdout


def sepzoo_process(argv: list, **options) -> subprocess.Popen:
    """``python -m sepzoo ARGV`` from the repository, stdout and stderr piped unless ``options`` say otherwise."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3"}
    env.pop("TF_CONFIG", None)
    options = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, **options}
    return subprocess.Popen([sys.executable, "-m", "sepzoo", *map(str, argv)], cwd=REPO, env=env, **options)


def wait_for(condition: Callable[[], bool], process: subprocess.Popen, timeout: float = 120.0) -> None:
    """Poll ``condition`` every 10 ms until it holds; fail if the process ends first or time runs out."""
    deadline = time.monotonic() + timeout
    while not condition():
        ensure_running(process, deadline)
        time.sleep(0.01)


def ensure_running(process: subprocess.Popen, deadline: float) -> None:
    """Fail the test if ``process`` has ended (it was to be interrupted) or ``deadline`` (monotonic s) passed."""
    if process.poll() is not None:
        _, err = process.communicate()
        pytest.fail(f"the process ended (status {process.returncode}) before it could be interrupted: "
                    f"{err.decode()[-2000:]}")
    if time.monotonic() > deadline:
        process.kill()
        pytest.fail("timed out waiting for the process to start writing")


def temporaries(folder: Path) -> list[Path]:
    """Hidden files and folders anywhere under ``folder``: what interrupted writes leave."""
    return sorted(path for path in folder.rglob(".*"))


@pytest.fixture(scope="module")
def long_input(tmp_path_factory) -> Path:
    """90 s of 8 kHz mono: long enough that a random-weight zoo model is still separating when signalled."""
    return wav(tmp_path_factory.mktemp("long") / "long.wav", tone(8000, 90.0), 8000, "PCM_16")


def test_separate_terminated_or_killed_leaves_nothing_partial_and_the_next_run_succeeds(long_input, tmp_path, capfd,
                                                                                      tiny_model):
    """Two real ``sepzoo separate`` processes, started together to share their start-up time, are signalled
    while writing their stems: SIGTERM cleans up and says so in one line, SIGKILL leaves its temporaries, and
    a second run into the same folder removes them."""
    outs = {signal.SIGTERM: tmp_path / "terminated", signal.SIGKILL: tmp_path / "killed"}
    processes = {signum: sepzoo_process(["separate", long_input, "-o", out, "-m", "lightweight_aspp",
                                         "--weights", "none"]) for signum, out in outs.items()}
    waiting, deadline = dict(processes), time.monotonic() + 120
    while waiting:  # signal each process as soon as it writes, whichever comes first
        for signum, process in list(waiting.items()):
            if any(outs[signum].rglob("*.part")):
                process.send_signal(signum)
                del waiting[signum]
            else:
                ensure_running(process, deadline)
        time.sleep(0.01)
    results = {signum: (process.communicate(timeout=120)[1].decode(), process.returncode)
               for signum, process in processes.items()}

    err, status = results[signal.SIGTERM]
    assert (status, err.splitlines()) == (143, ["sepzoo: terminated"]), err[-2000:]
    assert not outs[signal.SIGTERM].exists()  # no temporaries, not even the folders it made
    err, status = results[signal.SIGKILL]
    assert status == -signal.SIGKILL, err[-2000:]
    assert any(outs[signal.SIGKILL].rglob("*.part"))  # a killed process cannot clean up

    for out in outs.values():
        capfd.readouterr()
        assert run_cli(["separate", long_input, "-o", out, "-m", "tiny"]) == 0
        assert tree_of(out) == {"long", *(f"long/{source}.wav" for source in GAINS)}
        assert sf.info(str(out / "long" / "drums.wav")).frames == 90 * 8000


@pytest.mark.parametrize("signum, status, line", [
    (signal.SIGINT, 130, "sepzoo: interrupted"),
    (signal.SIGTERM, 143, "sepzoo: terminated"),
])
def test_separate_signalled_in_process_cleans_up(signum, status, line, tmp_path, capfd, tiny_model, monkeypatch):
    """The signal arrives from inside the model while stems are being written (Ctrl-C is SIGINT)."""
    wav(tmp_path / "in" / "song.wav", tone(8000, 3.0), 8000)
    before = tree_of(tmp_path)
    predict, calls = tiny_model.predict_on_batch, []

    def predict_then_signal(batch):
        calls.append(len(batch))
        if len(calls) == 2:
            signal.raise_signal(signum)
        return predict(batch)

    monkeypatch.setattr(tiny_model, "predict_on_batch", predict_then_signal)
    handler = signal.getsignal(signal.SIGTERM)
    # Whatever SIGINT handler the process had (here: ignored, as under some launchers), Ctrl-C interrupts.
    interrupt_handler = signal.signal(signal.SIGINT, signal.SIG_IGN)
    capfd.readouterr()
    assert run_cli(["separate", "-m", "tiny", "-o", tmp_path / "out", tmp_path / "in" / "song.wav"]) == status
    assert capfd.readouterr().err.splitlines() == [line]
    assert len(calls) == 2 and tree_of(tmp_path) == before
    assert signal.signal(signal.SIGINT, interrupt_handler) is signal.SIG_IGN  # put back too
    assert signal.getsignal(signal.SIGTERM) is handler  # the CLI put the previous handler back


@pytest.mark.parametrize("signum, status, line", [
    (signal.SIGINT, 130, "sepzoo: interrupted"),
    (signal.SIGTERM, 143, "sepzoo: terminated"),
])
def test_separate_signalled_while_creating_its_outputs_leaves_nothing(signum, status, line, tmp_path, capfd,
                                                                      tiny_model, monkeypatch):
    """The signal arrives just after a stem's temporary file is created, before its writer is recorded: it is
    held until the writers are, then cleans everything up like any other."""
    import sepzoo.audio_io

    wav(tmp_path / "in" / "song.wav", tone(8000, 1.0), 8000)
    before = tree_of(tmp_path)
    create, made = sepzoo.audio_io._create_locked, []

    def create_then_signal(destination):
        made.append(create(destination))
        if len(made) == 2:
            signal.raise_signal(signum)
        return made[-1]

    monkeypatch.setattr(sepzoo.audio_io, "_create_locked", create_then_signal)
    interrupt_handler = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        capfd.readouterr()
        assert run_cli(["separate", "-m", "tiny", "-o", tmp_path / "out", tmp_path / "in" / "song.wav"]) == status
    finally:
        signal.signal(signal.SIGINT, interrupt_handler)
    assert capfd.readouterr().err.splitlines() == [line]
    assert len(made) == len(GAINS) and tree_of(tmp_path) == before  # every writer was made, then all removed


def test_train_terminated_after_a_checkpoint_resumes_without_leftovers(tmp_path, capfd):
    """A real ``sepzoo train`` gets SIGTERM after its first checkpoint: one line, status 143, the run kept for
    resuming without temporaries. What a SIGKILL in the middle of a write leaves is then planted, and the
    resumed run removes it and finishes."""
    from sepzoo.training.checkpoint import latest_checkpoint

    run = tmp_path / "run"
    process = sepzoo_process(["train", TINY, "-o", run, *[arg for item in BOUNDED for arg in ("--set", item)]],
                             stdout=subprocess.DEVNULL)
    wait_for(lambda: latest_checkpoint(run / "checkpoints") is not None, process)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=120)
    assert (process.returncode, err.decode().splitlines()) == (143, ["sepzoo: terminated"]), err.decode()[-2000:]
    assert temporaries(run) == [] and latest_checkpoint(run / "checkpoints") is not None

    (run / ".tmp-999999-best.npz").write_bytes(b"half an array")
    (run / "checkpoints" / ".step-000000008-1.abcdef").mkdir()
    (run / ".config.yaml.abcdef").write_text("half a config")
    capfd.readouterr()
    assert run_cli(["train", "--resume", run]) == 0
    assert temporaries(run) == []
    assert (run / "preset" / "model.weights.h5").is_file()
    assert capfd.readouterr().err == ""


def test_train_interrupted_before_its_first_checkpoint_leaves_no_run_folder(tmp_path, monkeypatch, capfd):
    import sepzoo.training.trainer as trainer

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(trainer, "make_split_source", interrupted)
    status = run_cli(["train", TINY, "-o", tmp_path / "runs" / "tiny"])
    assert status == 130
    assert capfd.readouterr().err.splitlines() == ["sepzoo: interrupted"]
    assert tree_of(tmp_path) == set()


def test_closed_stdout_ends_quietly(tmp_path):
    preset = fake_preset(tmp_path / "preset", {"name": "fake", "notes": ["line"] * 2000})
    read_end, write_end = os.pipe()
    os.close(read_end)  # like `| head -1` once head has exited: every write to stdout fails with EPIPE
    process = sepzoo_process(["info", preset], stdout=write_end)
    os.close(write_end)
    _, err = process.communicate(timeout=120)
    assert err.decode() == ""
    assert process.returncode == 141
