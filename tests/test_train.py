"""The training engine: schedule, checkpoints, run folder and preset, resume after SIGKILL, JAX backend."""

from __future__ import annotations

import csv
import itertools
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import rendered_noise_tree

from sepzoo.config import ScheduleSpec, load_config
from sepzoo.training.checkpoint import OPTIMIZER, STATE, TrainState, latest_checkpoint
from sepzoo.training.schedule import phase_over, record_validation

ROOT = Path(__file__).parent.parent
TINY = ROOT / "zoo_configs" / "tiny_tones.yaml"
# 6-step epochs, 3 main epochs without early stop, then 1 fine-tune epoch: 24 steps in all.
BOUNDED = ["schedule.steps_per_epoch=6", "schedule.max_epochs=3", "schedule.patience=100",
           "schedule.fine_tune_max_epochs=1", "checkpoint_every=4", "batch_size=4", "data.validation_examples=8"]
TOTAL_STEPS = 24


def _subprocess_env(**extra: str) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3", **extra}
    env.pop("TF_CONFIG", None)
    return env


def _training_script(out: Path, overrides: list[str]) -> str:
    return (f"from sepzoo.config import load_config; from sepzoo.training.trainer import train; "
            f"train(load_config({str(TINY)!r}, {overrides!r}), {str(out)!r})")


def test_schedule_stops_after_patience_and_counts_best():
    schedule = ScheduleSpec(patience=2, max_epochs=10, min_delta=0.01)
    state = TrainState(learning_rate=1e-3, data_seed=0)
    gains = [record_validation(state, loss, schedule) for loss in (1.0, 0.9, 0.895, 0.95)]
    assert gains == [True, True, False, False]  # 0.895 is a gain smaller than min_delta
    assert (state.epoch, state.best_epoch, state.best_val_loss, state.bad_epochs) == (4, 2, 0.9, 2)
    assert phase_over(state, schedule)
    capped = TrainState(learning_rate=1e-3, data_seed=0, epoch=13, phase=1, phase_start_epoch=10)
    assert phase_over(capped, ScheduleSpec(patience=5, max_epochs=10, fine_tune_max_epochs=3))


def test_cache_source_interleaves_trees_endlessly_and_validation_is_fixed(tmp_path):
    from sepzoo.config import config_from_dict
    from sepzoo.training.data import TRAIN, VALIDATION, make_split_source

    sources = ["low", "mid", "high"]
    trees = [rendered_noise_tree(tmp_path / f"tree{i}", sources, seconds=0.5, seed=i) for i in range(2)]
    raw = load_config(TINY).to_dict()
    raw["data"].update(kind="stem_tree", options={"paths": [str(t) for t in trees], "dominance_db": None})
    config = config_from_dict(raw, str(tmp_path / "cache.yaml"))

    examples = list(itertools.islice(make_split_source(config, TRAIN, seed=3), 40))  # 2 x 7 chunks per pass
    assert len(examples) == 40
    for mixture, stems in examples:
        assert mixture.shape == (512, 1) and stems.shape == (512, 3)
        np.testing.assert_allclose(mixture[:, 0], stems.sum(axis=1), atol=1e-6)
    validation = make_split_source(config, VALIDATION, seed=3)
    first, second = list(validation), list(validation)
    assert len(first) == 14 and all(np.array_equal(a[1], b[1]) for a, b in zip(first, second))


def test_fixed_validation_examples_span_the_songs(tmp_path):
    from sepzoo.config import config_from_dict
    from sepzoo.training.data import VALIDATION, make_split_source

    sources = ["low", "mid", "high"]
    tree = rendered_noise_tree(tmp_path / "tree", sources, seconds=0.5, seed=0, songs=8)  # 7 chunks per song
    raw = load_config(TINY).to_dict()
    raw["data"].update(kind="cache", validation_examples=8, options={"paths": [str(tree)], "dominance_db": None})
    examples = list(itertools.islice(make_split_source(config_from_dict(raw, str(tmp_path / "c.yaml")), VALIDATION, 3), 8))
    songs = {int(round(np.abs(stems).max() / 0.05)) for _, stems in examples}
    assert songs == set(range(1, 9))  # one example from each of the 8 songs, not 7 + 1 from the first two

    other = rendered_noise_tree(tmp_path / "other", sources, seconds=0.5, seed=1, songs=2)
    raw["data"]["options"]["validation_paths"] = [str(other)]
    config = config_from_dict(raw, str(tmp_path / "c.yaml"))
    assert [s.parent.parent for s in make_split_source(config, VALIDATION, 3).paths] == [other] * 2
    assert {s.parent.parent for s in make_split_source(config, "train", 3).paths} == {tree}

    # The run folder's copy of the config pins both lists, so a run resumes from anywhere.
    from sepzoo.training.trainer import _write_run_config

    run = tmp_path / "runs" / "deep" / "run"
    run.mkdir(parents=True)
    raw["data"]["options"].update(paths=["tree"], validation_paths=["other"])
    _write_run_config(config_from_dict(raw, str(tmp_path / "c.yaml")), run)
    pinned = load_config(run / "config.yaml")
    assert [s.parent.parent for s in make_split_source(pinned, VALIDATION, 3).paths] == [other] * 2
    assert {s.parent.parent for s in make_split_source(pinned, "train", 3).paths} == {tree}


def test_train_writes_run_folder_and_preset(tmp_path):
    from sepzoo.training.trainer import train

    out = tmp_path / "run"
    preset = train(load_config(TINY, BOUNDED), out, command="sepzoo train tiny_tones.yaml")

    rows = list(csv.DictReader((out / "metrics.csv").open()))
    assert len(rows) == 4
    assert [int(r["step"]) for r in rows] == [6, 12, 18, 24]
    assert [int(r["phase"]) for r in rows] == [0, 0, 0, 1]
    assert float(rows[-1]["learning_rate"]) == pytest.approx(3e-4)  # fine-tune at lr / 10
    assert float(rows[-1]["loss"]) < float(rows[0]["loss"])
    assert list((out / "logs" / "train").iterdir()) and list((out / "logs" / "validation").iterdir())

    metadata = json.loads((preset / "metadata.json").read_text())
    training = metadata["training"]
    best = min(float(r["val_loss"]) for r in rows)
    assert training["steps"] == TOTAL_STEPS and training["epochs"] == 4
    assert training["final_val_loss"] == pytest.approx(best)
    assert training["command"] == "sepzoo train tiny_tones.yaml"
    assert "synthetic tones" in training["data"] and training["hardware"]["backend"] == "tensorflow"
    assert training["wall_time_s"] > 0 and metadata["params"] > 0 and len(metadata["weights_sha256"]) == 64

    # The preset holds the best epoch's weights, not the last epoch's.
    from sepzoo.zoo import load_preset

    with np.load(out / "best.npz") as best_arrays:
        best_values = [best_arrays[f"arr_{i}"] for i in range(len(best_arrays.files) - 1)]
    shipped = load_preset(preset)
    assert len(best_values) == len(shipped.weights)
    for variable, value in zip(shipped.weights, best_values):
        np.testing.assert_array_equal(np.asarray(variable), value)

    from sepzoo.errors import OutputError

    with pytest.raises(OutputError, match="--resume"):
        train(load_config(TINY, BOUNDED), out)


def test_wall_time_limit_cuts_the_epoch_validates_it_and_skips_fine_tuning(tmp_path):
    """``schedule.max_wall_time_s``: the run stops within a step of the limit, as a finished, validated epoch."""
    from sepzoo.training.trainer import train

    out = tmp_path / "run"
    overrides = [*BOUNDED, "schedule.steps_per_epoch=1000", "schedule.max_wall_time_s=1"]
    preset = train(load_config(TINY, overrides), out)
    rows = list(csv.DictReader((out / "metrics.csv").open()))
    training = json.loads((preset / "metadata.json").read_text())["training"]
    assert len(rows) == 1 and int(rows[0]["phase"]) == 0 and rows[0]["val_loss"]  # one cut epoch, validated
    assert 1 <= training["steps"] < 1000 and training["wall_time_s"] >= 1.0 and not training["fine_tuned"]
    state = TrainState(learning_rate=1e-3, data_seed=0, wall_time_s=10.0)
    assert phase_over(state, ScheduleSpec(max_wall_time_s=10.0)) and not phase_over(state, ScheduleSpec())


def test_weight_average_is_validated_and_kept_as_the_best_weights(tmp_path):
    from sepzoo.training.trainer import train

    out = tmp_path / "run"
    overrides = [*BOUNDED, "schedule.max_epochs=1", "schedule.fine_tune=false", "optimiser.ema_momentum=0.5",
                 "keep_checkpoints=2"]
    train(load_config(TINY, overrides), out, command="ema")

    def arrays(path: Path) -> list[tuple[str, np.ndarray]]:
        with np.load(path) as stored:
            return [(str(name), stored[f"arr_{i}"]) for i, name in enumerate(stored["names"])]

    # Two checkpoints at step 6: the epoch's end (running weights), then the phase's end (best restored).
    epoch_end, phase_end = sorted((out / "checkpoints").glob("step-*"))
    running = arrays(epoch_end / "model.npz")
    averages = {name.removeprefix("adam/").removesuffix("_average"): value
                for name, value in arrays(epoch_end / OPTIMIZER) if name.endswith("_average")}
    best = arrays(out / "best.npz")
    assert len(best) == len(running)
    compared = 0
    for (name, value), (_, kept) in zip(running, best):
        average = averages.get(name.replace("/", "_"))
        if average is None:
            continue  # not trained (no average kept)
        compared += 1
        np.testing.assert_array_equal(kept, average)
        if name.endswith("kernel"):
            assert not np.array_equal(kept, value)  # the average, not the running weights
    assert compared > 10
    # At the phase's end the best weights are restored and the average restarts from them.
    restarted = {name.removeprefix("adam/").removesuffix("_average"): value
                 for name, value in arrays(phase_end / OPTIMIZER) if name.endswith("_average")}
    for (name, kept), (_, restored) in zip(best, arrays(phase_end / "model.npz")):
        np.testing.assert_array_equal(kept, restored)
        if name.replace("/", "_") in restarted:
            np.testing.assert_array_equal(restarted[name.replace("/", "_")], restored)
    assert [name for name, _ in best] == [name for name, _ in running]  # stored under the model's names


def test_fit_leaves_the_running_weights_in_the_model_when_averaging():
    import keras

    from sepzoo.config import OptimiserSpec
    from sepzoo.training.trainer import make_optimizer

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    optimizer = make_optimizer(OptimiserSpec(learning_rate=0.1, ema_momentum=0.5))
    model.compile(optimizer=optimizer, loss="mse")
    rng = np.random.default_rng(0)
    x, y = rng.random((64, 4), dtype=np.float32), rng.random((64, 1), dtype=np.float32)
    model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    kernel = keras.ops.convert_to_numpy(model.weights[0])
    average = keras.ops.convert_to_numpy(optimizer._model_variables_moving_average[0])
    assert not np.allclose(kernel, average)  # Keras's own Adam would have copied the average in here


def test_sigkill_mid_run_then_resume_reaches_the_same_final_step(tmp_path):
    from sepzoo.training.trainer import train

    out = tmp_path / "run"
    process = subprocess.Popen([sys.executable, "-c", _training_script(out, BOUNDED)], env=_subprocess_env(),
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300  # generous: a loaded CI machine can take minutes to the first checkpoint
    while latest_checkpoint(out / "checkpoints") is None and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    _, stderr = process.communicate()
    assert process.returncode == -signal.SIGKILL, stderr.decode()[-2000:]
    killed_at = json.loads((latest_checkpoint(out / "checkpoints") / STATE).read_text())
    assert 0 < killed_at["step"] < TOTAL_STEPS and not killed_at["finished"]

    preset = train(None, out, resume=True, command="resume")

    final = latest_checkpoint(out / "checkpoints")
    state = json.loads((final / STATE).read_text())
    assert state["finished"] and state["step"] == TOTAL_STEPS and state["epoch"] == 4
    assert state["resumed_from_step"] == killed_at["step"]
    with np.load(final / OPTIMIZER) as stored:
        iterations = [stored[f"arr_{i}"] for i, name in enumerate(stored["names"]) if name.endswith("iteration")]
    assert [int(i) for i in iterations] == [TOTAL_STEPS]
    assert json.loads((preset / "metadata.json").read_text())["training"]["steps"] == TOTAL_STEPS
    steps_logged = [int(r["step"]) for r in csv.DictReader((out / "metrics.csv").open())]
    assert steps_logged[-1] == TOTAL_STEPS and steps_logged == sorted(steps_logged)


def test_jax_backend_data_parallel_fit_with_weight_average(tmp_path):
    out = tmp_path / "run"
    # One epoch, then one fine-tuning epoch: the weight average restarts from the restored best weights.
    overrides = [*BOUNDED, "strategy=jax_data_parallel", "schedule.max_epochs=1", "optimiser.ema_momentum=0.5"]
    result = subprocess.run(
        [sys.executable, "-c", _training_script(out, overrides)], capture_output=True, timeout=240,
        env=_subprocess_env(KERAS_BACKEND="jax", XLA_FLAGS="--xla_force_host_platform_device_count=2"),
    )
    assert result.returncode == 0, result.stderr.decode()[-3000:]
    training = json.loads((out / "preset" / "metadata.json").read_text())["training"]
    assert training["hardware"]["backend"] == "jax" and training["hardware"]["replicas"] == 2
    assert training["steps"] == 12 and np.isfinite(training["final_val_loss"])


def test_init_weights_starts_from_a_preset(tmp_path):
    from sepzoo.errors import ConfigError
    from sepzoo.zoo import load_preset
    from sepzoo.training.trainer import build_model, train

    start = build_model(load_config(TINY))
    from sepzoo.zoo import save_preset

    save_preset(start, tmp_path / "start")
    one_step = ["schedule.steps_per_epoch=1", "schedule.max_epochs=1", "schedule.fine_tune=false",
                "batch_size=2", "data.validation_examples=2", "optimiser.learning_rate=1e-9"]
    preset = train(load_config(TINY, [*one_step, f"model.init_weights={tmp_path / 'start'}"]), tmp_path / "run")
    for trained, initial in zip(load_preset(preset).weights, start.weights):
        np.testing.assert_allclose(np.asarray(trained), np.asarray(initial), atol=1e-6)
    import warnings

    with pytest.raises(ConfigError, match="does not fit"), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # Keras notes each layer it cannot match before failing
        train(load_config(TINY, [*one_step, "model.kwargs.decoder_channels=12",
                                 f"model.init_weights={tmp_path / 'start'}"]), tmp_path / "run2")


def test_finished_run_resumes_into_the_fine_tuning_its_edited_config_adds(tmp_path):
    import yaml

    from sepzoo.training.trainer import train

    out = tmp_path / "run"
    train(load_config(TINY, [*BOUNDED, "schedule.max_epochs=2", "schedule.fine_tune=false"]), out)
    config_path = out / "config.yaml"
    config = yaml.safe_load(config_path.read_text())
    config["schedule"]["fine_tune"] = True
    config_path.write_text(yaml.safe_dump(config))

    preset = train(None, out, resume=True)

    rows = list(csv.DictReader((out / "metrics.csv").open()))
    assert [int(r["step"]) for r in rows] == [6, 12, 18]
    assert [int(r["phase"]) for r in rows] == [0, 0, 1]
    assert float(rows[-1]["learning_rate"]) == pytest.approx(3e-4)
    assert json.loads((preset / "metadata.json").read_text())["training"]["steps"] == 18
    # Finished again: a second resume with nothing more asked of it trains no step.
    train(None, out, resume=True)
    assert len(list(csv.DictReader((out / "metrics.csv").open()))) == 3
