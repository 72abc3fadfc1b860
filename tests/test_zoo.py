"""Registry, presets and `sepzoo.load` through every kind of handle, and the list/info CLI verbs."""

import json

import numpy as np
import pytest

import sepzoo
from http_fixtures import ArchiveServer, Route
from sepzoo import hub, zoo
from sepzoo.cli import main
from sepzoo.errors import ModelNotFoundError
from sepzoo.models.lightweight_aspp import LightweightASPP
from sepzoo.zoo import load_preset, read_metadata, save_preset

TINY = dict(context_samples=512, encoder_channels=(4, 4, 4, 4, 4), aspp_channels=4, aspp_rates=(1, 2),
            decoder_channels=4, output_channels_per_sample=2, sources=("low", "high"))


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SEPZOO_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def tiny_preset(tmp_path):
    model = LightweightASPP(**TINY)
    return model, save_preset(model, tmp_path / "tiny", {"training": {"steps": 3}})


def _same_output(a, b):
    x = np.random.default_rng(0).standard_normal((1, a.context_samples, 1)).astype("float32")
    np.testing.assert_allclose(np.asarray(a(x)), np.asarray(b(x)), atol=1e-6)


def test_save_preset_writes_config_weights_and_metadata(tiny_preset):
    model, folder = tiny_preset
    metadata = read_metadata(folder)
    assert metadata["params"] == model.count_params()
    assert metadata["sources"] == ["low", "high"] and metadata["training"] == {"steps": 3}
    assert metadata["weights_sha256"] == hub.sha256_file(folder / "model.weights.h5")
    _same_output(model, load_preset(folder))


def test_save_preset_replaces_an_existing_folder(tiny_preset):
    model, folder = tiny_preset
    save_preset(model, folder, {"training": {"steps": 9}})
    assert read_metadata(folder)["training"]["steps"] == 9
    assert sorted(p.name for p in folder.parent.iterdir() if p.name.startswith(".")) == []


def test_load_from_an_archive_served_over_http(tiny_preset, tmp_path, cache):
    model, folder = tiny_preset
    archive = tmp_path / "tiny.tar.gz"
    digest = hub.archive_preset(folder, archive)
    with ArchiveServer() as server:
        url = server.serve("/zoo/tiny.tar.gz", Route(body=archive.read_bytes()))
        zoo.register_preset(zoo.PresetSpec("tiny_test", "LightweightASPP", "test entry", TINY,
                                           versions={"v1": zoo.WeightsVersion(url, digest)}, default_version="v1"))
        try:
            _same_output(model, sepzoo.load("tiny_test"))
            _same_output(model, sepzoo.load("tiny_test"))
            assert server.hits("/zoo/tiny.tar.gz") == 1
        finally:
            zoo.unregister_preset("tiny_test")


def test_load_a_preset_folder_or_weights_override(tiny_preset):
    model, folder = tiny_preset
    _same_output(model, sepzoo.load(str(folder)))
    zoo.register_preset(zoo.PresetSpec("tiny_test", "LightweightASPP", "test entry", TINY))
    try:
        _same_output(model, sepzoo.load("tiny_test", weights=str(folder)))
        fresh = sepzoo.load("tiny_test", weights=None)
        assert fresh.count_params() == model.count_params()
        with pytest.raises(ModelNotFoundError, match="no pretrained weights"):
            sepzoo.load("tiny_test")
    finally:
        zoo.unregister_preset("tiny_test")


def test_unknown_names_suggest_close_ones():
    with pytest.raises(ModelNotFoundError, match="did you mean lightweight_aspp"):
        sepzoo.load("lightweight_asp")


def test_a_folder_that_is_not_a_preset(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelNotFoundError, match="not a sepzoo preset"):
        sepzoo.load(str(tmp_path / "empty"))


def test_list_models_reports_numbers_from_the_models():
    rows = {row["name"]: row for row in sepzoo.list_models()}
    row = rows["lightweight_aspp"]
    model = LightweightASPP(**zoo.get_preset("lightweight_aspp").config)
    assert row["params"] == model.count_params() and row["receptive_field"] == model.receptive_field
    assert row["sample_rate"] == 22050 and row["sources"] == ["drums", "bass", "keys", "other"]


def test_list_and_info_verbs(capsys):
    assert main(["list"]) == 0
    assert "| lightweight_aspp | drums, bass, keys, other | 22050 |" in capsys.readouterr().out
    zoo.register_preset(zoo.PresetSpec("tiny_test", "LightweightASPP", "test entry", TINY))
    try:
        assert main(["info", "tiny_test"]) == 0
    finally:
        zoo.unregister_preset("tiny_test")
    info = json.loads(capsys.readouterr().out)
    assert info["sources"] == ["low", "high"] and info["weights"] == "none published yet"
    assert info["gflop_per_second_of_audio"] > 0
    assert main(["info", "nonexistent_model"]) == 2
    assert "unknown model 'nonexistent_model'" in capsys.readouterr().err


def test_an_unknown_version_is_an_error_listing_the_known_ones():
    known = sorted(zoo.get_preset("lightweight_aspp").versions)
    assert known, "lightweight_aspp ships at least one version"
    with pytest.raises(ModelNotFoundError, match=f"no version 'no-such-version'; known versions: {known[0]}"):
        sepzoo.load("lightweight_aspp/no-such-version")
    assert main(["info", "lightweight_aspp/no-such-version"]) == 2


def test_a_named_version_loads_the_same_weights_as_the_default(tmp_path, monkeypatch):
    monkeypatch.setenv("SEPZOO_CACHE_DIR", str(tmp_path / "cache"))
    spec = zoo.get_preset("lightweight_aspp")
    _same_output(sepzoo.load("lightweight_aspp"), sepzoo.load(f"lightweight_aspp/{spec.default_version}"))


def test_a_keras_file_loads_in_a_fresh_process_after_only_import_sepzoo(tmp_path):
    import subprocess
    import sys

    model = LightweightASPP(**TINY)
    model.save(tmp_path / "m.keras")
    script = ("import sys, sepzoo, keras\n"
              "m = keras.saving.load_model(sys.argv[1])\n"
              "print(type(m).__name__, m.count_params())\n")
    result = subprocess.run([sys.executable, "-c", script, str(tmp_path / "m.keras")], capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split()[-2:] == ["LightweightASPP", str(model.count_params())]


def test_sepzoo_help_does_not_import_keras():
    import subprocess
    import sys

    script = ("import sys, contextlib, io\n"
              "from sepzoo.cli import main\n"
              "with contextlib.redirect_stdout(io.StringIO()):\n"
              "    try:\n        main(['--help'])\n    except SystemExit:\n        pass\n"
              "print('keras' in sys.modules, 'tensorflow' in sys.modules)\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split()[-2:] == ["False", "False"]


def test_publish_turns_a_run_into_a_loadable_portable_version(tiny_preset, tmp_path, monkeypatch, capsys):
    model, folder = tiny_preset
    run = tmp_path / "run"
    machine = str(tmp_path / "renders" / "full")
    save_preset(model, run / "preset", {
        "description": "tiny test model",
        "training": {"steps": 3, "wall_time_s": 120.5, "data": f"stem_tree: {machine}/timgm_songs",
                     "hardware": {"cpu": "x86_64", "platform": "Linux-host-1"},
                     "config": {"data": {"options": {"paths": [f"{machine}/timgm_songs"]}}}}})
    hub_dir = tmp_path / "hub"
    monkeypatch.setenv("SEPZOO_HUB_URL", str(hub_dir))
    monkeypatch.setenv("SEPZOO_CACHE_DIR", str(tmp_path / "cache"))
    zoo.register_preset(zoo.PresetSpec("tiny_test", "LightweightASPP", "test entry", TINY))
    try:
        assert main(["publish", str(run), "--name", "tiny_pub", "--version", "v1", "--hub-dir", str(hub_dir)]) == 0
        assert "published tiny_pub/v1" in capsys.readouterr().out
        index = json.loads((hub_dir / "tiny_pub" / "index.json").read_text())
        assert index["default"] == "v1" and index["versions"]["v1"]["handle"] == "tiny_pub/v1.tar.gz"
        assert index["versions"]["v1"]["sha256"] == hub.sha256_file(hub_dir / "tiny_pub" / "v1.tar.gz")
        _same_output(model, sepzoo.load("tiny_pub/v1"))
        metadata = read_metadata(zoo.fetch_weights("tiny_pub"))
        assert metadata["handle"] == "tiny_pub/v1.tar.gz" and metadata["training"]["wall_time_s"] == 120.5
        assert metadata["training"]["data"] == "stem_tree: timgm_songs"
        assert metadata["training"]["config"]["data"]["options"]["paths"] == ["timgm_songs"]
        card = (hub_dir / "tiny_pub" / "MODEL_CARD.md").read_text()
        assert str(tmp_path) not in card and "Linux-host-1" not in card and "{'" not in card
        assert main(["publish", str(tmp_path / "nothing"), "--name", "x", "--version", "v1"]) == 2
        assert "neither a finished run" in capsys.readouterr().err
        assert main(["publish", str(run), "--name", "tiny_pub", "--version", "v 2", "--hub-dir", str(hub_dir)]) == 2
    finally:
        zoo.unregister_preset("tiny_test")
