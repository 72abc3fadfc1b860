"""Training configs: every shipped YAML validates; bad configs list one clear line per problem."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from sepzoo.config import TrainConfig, apply_overrides, config_from_dict, load_config
from sepzoo.errors import ConfigError

CONFIGS = sorted((Path(__file__).parent.parent / "zoo_configs").glob("*.yaml"))
TINY = Path(__file__).parent.parent / "zoo_configs" / "tiny_tones.yaml"


@pytest.mark.parametrize("path", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_shipped_configs_validate_and_round_trip(path):
    config = load_config(path)
    assert path.stem.startswith(config.name)  # file = zoo entry name + task
    assert config_from_dict(config.to_dict(), str(path)) == config


def test_tiny_config_values_are_typed():
    config = load_config(TINY)
    assert isinstance(config, TrainConfig)
    assert config.model.class_name == "LightweightASPP"
    assert config.data.sources == ("low", "mid", "high")
    assert isinstance(config.optimiser.learning_rate, float) and config.optimiser.learning_rate == 3e-3
    assert config.resolve_path("data") == TINY.parent / "data"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    return path


def test_bad_config_reports_every_error_one_line_each(tmp_path):
    text = TINY.read_text()
    text = text.replace("strategy: default", "strategy: horovod")
    text = text.replace("  patience: 2", "  patiense: 2\n  max_epochs_x: 1")
    text = text.replace("  sample_rate: 8000\n", "")
    text = text.replace("batch_size: 8", "batch_size: -4")
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    lines = str(caught.value).splitlines()
    assert len(lines) == 5, lines
    assert all(line.startswith(f"{path}: ") for line in lines)
    by_key = {line.split(": ")[1]: line for line in lines}
    assert "default, mirrored, multiworker, jax_data_parallel" in by_key["strategy"]
    assert "unknown key" in by_key["schedule.patiense"] and "patience" in by_key["schedule.patiense"]
    assert "unknown key" in by_key["schedule.max_epochs_x"]
    assert "missing; required" in by_key["data.sample_rate"] and "integer >= 1" in by_key["data.sample_rate"]
    assert "-4 is not allowed" in by_key["batch_size"] and ">= 1" in by_key["batch_size"]


def test_cross_key_rules(tmp_path):
    text = TINY.read_text().replace("  kind: tones", "  kind: midi").replace("    variant: b", "    sample_rate: 4")
    with pytest.raises(ConfigError) as caught:
        load_config(_write(tmp_path, text))
    lines = str(caught.value).splitlines()
    assert any("data.options.paths: missing; data.kind midi needs it" in line for line in lines)
    assert any("model.kwargs.sample_rate: set by the data section" in line for line in lines)
    with pytest.raises(ConfigError, match=r"data.options.vary_timbre: .* needs data.kind midi, not tones"):
        load_config(TINY, ["data.options={vary_timbre: true}"])
    with pytest.raises(ConfigError, match=r"data.options.vary_timbre: .* not stem_tree; .*--vary-timbre"):
        load_config(TINY, ["data.kind=cache", "data.options={paths: [x], vary_timbre: true}"])


def test_data_kind_and_options_are_checked_by_the_source_registry():
    from sepzoo.data.sources import source_kinds

    assert {"tones", "midi", "stem_tree", "cache", "musdb"} <= set(source_kinds()) and "vorbis" not in source_kinds()
    with pytest.raises(ConfigError) as caught:
        load_config(TINY, ["data.kind=vorbis"])
    assert "data.kind: 'vorbis' is not allowed; expected one of tones, midi, stem_tree" in str(caught.value)
    with pytest.raises(ConfigError) as caught:
        load_config(TINY, ["data.kind=midi", "data.options={paths: [songs], reuse_factor: 0, pool: 3}"])
    lines = str(caught.value).splitlines()
    assert len(lines) == 2, lines
    assert any("data.options.pool: unknown option of data.kind midi; allowed: " in line and "reuse_factor" in line
               for line in lines)
    assert any("data.options.reuse_factor: 0 is not allowed; expected an integer >= 1" in line for line in lines)
    config = load_config(TINY, ["data.kind=stem_tree", "data.options={paths: [trees], task: midi4}"])
    assert config.data.options == {"paths": ["trees"], "task": "midi4"}


def test_loss_section_is_checked_against_the_loss_registry():
    with pytest.raises(ConfigError) as caught:
        load_config(TINY, ["loss.name=l3"])
    assert str(caught.value) == (f"{TINY}: loss.name: unknown loss 'l3'; "
                                 "known losses: codec, difference+mae, mae, mse, multires_stft, snr, spectral, spectral+mae, spectral_l1")
    with pytest.raises(ConfigError) as caught:
        load_config(TINY, ["loss.name=snr", "loss.kwargs.snr_max=20", "loss.kwargs.snr_floor_db=low"])
    lines = str(caught.value).splitlines()
    assert [line.split(": ")[1] for line in lines] == ["loss.kwargs.snr_max", "loss.kwargs.snr_floor_db"]
    assert "loss 'snr' takes no argument 'snr_max'; its arguments: snr_max_db, snr_floor_db, silent_weight" in lines[0]
    assert "'low' is not allowed; expected a number" in lines[1]
    with pytest.raises(ConfigError, match=r"loss.kwargs.channels: .*write it as data.channels"):
        load_config(TINY, ["loss.name=difference+mae", "loss.kwargs.channels=2"])
    with pytest.raises(ConfigError, match=r"loss.kwargs: loss 'spectral': hop_size 256 must be between 1 and fft_"):
        load_config(TINY, ["loss.name=spectral", "loss.kwargs={fft_size: 128, hop_size: 256}"])
    with pytest.raises(ConfigError, match=r"loss.weight: unknown key; allowed keys here: kwargs, name"):
        load_config(TINY, ["loss.weight=2"])
    config = load_config(TINY, ["loss.name=spectral+mae", "loss.kwargs.fft_size=256", "loss.kwargs.hop_size=64"])
    assert (config.loss.name, config.loss.kwargs) == ("spectral+mae", {"fft_size": 256, "hop_size": 64})
    assert config_from_dict(config.to_dict()) == config
    assert load_config(TINY).loss.kwargs == {}


def test_unreadable_or_non_yaml_file_is_one_line(tmp_path):
    for path, expected in (
        (tmp_path / "nope.yaml", "cannot read the config"),
        (_write(tmp_path, "model: [unclosed\n"), "not valid YAML at line"),
    ):
        with pytest.raises(ConfigError) as caught:
            load_config(path)
        assert expected in str(caught.value) and "\n" not in str(caught.value)


def test_set_overrides_are_coerced_to_the_schema():
    config = load_config(TINY, [
        "schedule.patience=5",
        "optimiser.learning_rate=1e-5",  # PyYAML reads this as a string; the schema makes it a float
        "data.sources=[a, b]",
        "model.kwargs.variant=c",
        "schedule.fine_tune=false",
        "optimiser.clipnorm=none",
    ])
    assert config.schedule.patience == 5
    assert config.optimiser.learning_rate == pytest.approx(1e-5)
    assert config.data.sources == ("a", "b")
    assert config.model.kwargs["variant"] == "c"
    assert config.schedule.fine_tune is False
    assert config.optimiser.clipnorm is None


def test_bad_overrides(tmp_path):
    with pytest.raises(ConfigError, match="expected key.sub=value"):
        apply_overrides({}, ["schedule.patience"])
    with pytest.raises(ConfigError, match="not a section"):
        apply_overrides({"seed": 1}, ["seed.x=2"])
    with pytest.raises(ConfigError, match=r"schedule.patience: 'soon' is not allowed; expected an integer >= 1"):
        load_config(TINY, ["schedule.patience=soon"])


def test_cli_train_rejects_bad_config_with_one_line_per_error(tmp_path):
    from sepzoo.cli import train as train_verb

    parser = argparse.ArgumentParser()
    train_verb.add_arguments(parser)
    path = _write(tmp_path, TINY.read_text().replace("strategy: default", "strategy: ring"))
    args = parser.parse_args([str(path), "--set", "schedule.patience=soon", "-o", str(tmp_path / "run")])
    with pytest.raises(ConfigError) as caught:
        train_verb.run(args)
    assert sorted(line.split(": ")[1] for line in str(caught.value).splitlines()) == ["schedule.patience", "strategy"]
    # The loss section is checked against the loss registry once the rest of the file is valid.
    args = parser.parse_args([str(TINY), "--set", "loss.name=l4", "-o", str(tmp_path / "run")])
    with pytest.raises(ConfigError) as caught:
        train_verb.run(args)
    assert str(caught.value) == (f"{TINY}: loss.name: unknown loss 'l4'; "
                                 "known losses: codec, difference+mae, mae, mse, multires_stft, snr, spectral, spectral+mae, spectral_l1")
    with pytest.raises(ConfigError, match="no CONFIG given"):
        train_verb.run(parser.parse_args([]))
    with pytest.raises(ConfigError, match="keeps its own config.yaml"):
        train_verb.run(parser.parse_args([str(path), "--resume", str(tmp_path)]))


def test_a_0_1_run_config_is_upgraded_so_old_runs_resume(tmp_path):
    legacy = {
        "name": "old", "weights": "none", "batch_size": 4,
        "model": {"class": "LightweightASPP", "kwargs": {}},
        "data": {"kind": "cache", "sources": ["drums", "bass", "keys", "other"], "sample_rate": 22050,
                 "context_samples": 16384, "task": "midi4", "paths": ["trees/a"], "reuse_factor": 1,
                 "vary_timbre": False, "validation_paths": ["trees/b"], "options": {"max_chunks_per_piece": 64}},
        "loss": {"name": "snr", "spectral_weight": 1.0, "difference_weight": 0.1, "fft_size": 512, "hop_size": 128,
                 "snr_max_db": 25.0, "snr_floor_db": -30.0, "snr_silent_weight": 0.0},
        "optimiser": {"name": "adam"}, "schedule": {},
    }
    config = config_from_dict(legacy, str(tmp_path / "config.yaml"))
    # reuse_factor and vary_timbre belong to live MIDI rendering; 0.1 wrote them for every kind.
    assert config.data.kind == "cache" and config.data.options == {
        "paths": ["trees/a"], "validation_paths": ["trees/b"], "task": "midi4", "max_chunks_per_piece": 64}
    assert config.loss.kwargs == {"snr_max_db": 25.0, "snr_floor_db": -30.0, "silent_weight": 0.0}
