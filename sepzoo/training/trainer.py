"""``train(config, out_dir)``: a config -> strategy -> model + data -> ``model.fit`` phases -> a preset.

Run folder layout (``out_dir``)::

    config.yaml            the validated config this run uses (resume reads the same file)
    checkpoints/           atomic checkpoints every ``checkpoint_every`` steps and at every epoch end
    best.npz               best weights so far by validation loss (arrays in ``model.weights`` order)
    logs/                  TensorBoard event files
    metrics.csv            one row per epoch: step, phase, learning rate, loss, val_loss, best_val_loss
    preset/                the finished model (config.json, model.weights.h5, metadata.json)
    worker-<i>/            non-chief MultiWorker processes: their final weights, for checking sync

Schedule (docs/research.md, part B): an epoch is ``schedule.steps_per_epoch`` steps; after ``schedule.patience``
epochs without a validation gain the best weights are restored and, with ``schedule.fine_tune``, training
continues at ``learning_rate * fine_tune_factor`` under the same rule; the preset holds the best weights.
"""

from __future__ import annotations

import math
import os
import shlex
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import keras
import yaml

from sepzoo.config import OptimiserSpec, TrainConfig, config_from_dict, load_config
from sepzoo.data.sources import describe_source, pin_paths, portable_options
from sepzoo.errors import ConfigError, ModelNotFoundError, OutputError, SepzooError
from sepzoo.losses import build_loss
from sepzoo.training import checkpoint as ckpt
from sepzoo.training.data import TRAIN, VALIDATION, make_dataset, make_split_source, stream_seed
from sepzoo.training.schedule import ScheduleCallback, out_of_time, phase_end_epoch, phase_over, reopen_if_extended
from sepzoo.training.strategy import Distribution, make_distribution
from sepzoo.zoo import WEIGHTS_FILE, fetch_weights, save_preset
from sepzoo.zoo import build_model as build_zoo_model
from sepzoo.zoo import load as load_zoo_model

RUN_CONFIG = "config.yaml"


def build_model(config: TrainConfig) -> keras.Model:
    """The config's model, with sources, sample rate, channels and context taken from the data section."""
    data = config.data
    kwargs = {**config.model.kwargs, "sources": list(data.sources), "sample_rate": data.sample_rate,
              "channels": data.channels, "context_samples": data.context_samples}
    try:
        return build_zoo_model(config.model.class_name, kwargs)
    except (TypeError, ValueError) as error:
        raise ConfigError(f"{config.path}: model.kwargs: {config.model.class_name} rejects them ({error}); "
                          "check the class's documented arguments") from None


def _load_initial_weights(model: keras.Model, config: TrainConfig) -> None:
    """Start from a preset's weights (fine-tuning or continuing a published model); shapes must match."""
    handle = config.model.init_weights
    try:
        folder = fetch_weights(handle)
    except ModelNotFoundError as error:
        raise ConfigError(f"{config.path}: model.init_weights: {error}") from None
    if not (folder / WEIGHTS_FILE).is_file():
        raise ConfigError(f"{config.path}: model.init_weights: {handle} has no weights; name a preset with weights")
    try:
        model.load_weights(folder / WEIGHTS_FILE)
    except ValueError as error:
        raise ConfigError(f"{config.path}: model.init_weights: {handle} does not fit model.kwargs ({error})") from None


class _Adam(keras.optimizers.Adam):
    """Adam that leaves the trained weights in the model when ``fit`` returns, also with ``use_ema``.

    Keras copies the weight average into the model at the end of every ``fit``; the trainer calls ``fit``
    once per phase and after a resume, so that would make where a run continues depend on how it was cut.
    The average is read where it is wanted instead: validation (``SwapEMAWeights``) and the best weights.
    """

    def finalize_variable_values(self, var_list):
        """Leave ``var_list`` as it is."""


def make_optimizer(spec: OptimiserSpec) -> keras.optimizers.Optimizer:
    """The optimiser a config's ``optimiser`` section describes (Adam, optionally keeping a weight average)."""
    ema = {"use_ema": True, "ema_momentum": spec.ema_momentum} if spec.ema_momentum else {}
    return _Adam(spec.learning_rate, beta_1=spec.beta_1, beta_2=spec.beta_2, clipnorm=spec.clipnorm, name="adam",
                 **ema)


def _compile(model: keras.Model, config: TrainConfig) -> None:
    optimizer = make_optimizer(config.optimiser)
    model.compile(optimizer=optimizer, loss=build_loss(config.loss.name, config.loss.kwargs, config.data.channels,
                                                       load_model=load_zoo_model))
    optimizer.build(model.trainable_variables)


def _prepare_run_folder(config: TrainConfig | str | os.PathLike | None, out: Path, resume: bool) -> TrainConfig:
    """Load the config (from the run folder when resuming), create ``out`` for a new run, and remove the
    temporaries a killed process left in it (see :data:`_RUN_TEMPORARIES`)."""
    if resume:
        saved = out / RUN_CONFIG
        if not saved.exists():
            raise ConfigError(f"{out}: not a sepzoo training run (no {RUN_CONFIG}); "
                              "pass the -o folder of an earlier `sepzoo train`")
        _remove_run_temporaries(out)
        return load_config(saved)
    if config is None:
        raise ConfigError(f"{out}: no config given; pass a YAML file or TrainConfig, or resume=True for an earlier run")
    if not isinstance(config, TrainConfig):
        config = load_config(config)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputError(f"{out}: cannot create the run folder ({error.strerror}); pick a writable -o") from None
    if ckpt.latest_checkpoint(out / "checkpoints"):
        raise OutputError(f"{out}: holds an earlier run's checkpoints; resume it with --resume {out} "
                          "or pick an empty -o folder")
    _remove_run_temporaries(out)
    return config


_RUN_TEMPORARIES = (f".{RUN_CONFIG}.*", ".tmp-[0-9]*-*.npz", "worker-*/.tmp-[0-9]*-*.npz", ".preset.*",
                    "checkpoints/.step-*", f"checkpoints/.{ckpt.LATEST}.*")
"""Run-folder paths (globs) of files and folders written and then renamed into place: the run config and
checkpoint pointer (``write_text_atomically``), weight arrays (``save_variables``), checkpoint and preset
staging folders. A process killed while writing one leaves it behind."""


def _remove_run_temporaries(out: Path) -> None:
    """Delete the temporaries of :data:`_RUN_TEMPORARIES` in run folder ``out``. Not under MultiWorker
    (``TF_CONFIG`` set), where other processes may be writing into the same folder right now."""
    if "TF_CONFIG" in os.environ:
        return
    for pattern in _RUN_TEMPORARIES:
        for path in out.glob(pattern):
            _remove(path)


def _remove(path: Path) -> None:
    """Delete a file or a folder tree; what cannot be deleted stays."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
        return
    try:
        path.unlink(missing_ok=True)
    except OSError:
        pass


_RUN_ENTRIES = (RUN_CONFIG, "checkpoints", "best.npz", "logs", "metrics.csv", "preset", "worker-*")
"""What a run writes directly into its folder (see the module docstring), as globs."""


def _clean_up_failed_run(out: Path, entries_before: set[str], created: list[Path], resume: bool) -> None:
    """After a failed or interrupted :func:`train`: without a checkpoint, delete the run entries
    (:data:`_RUN_ENTRIES`) and temporaries the call added to ``out`` and the folders it ``created``
    (outermost first); with one, keep the run for resuming and delete only its temporaries. A resumed run
    keeps everything else; a MultiWorker one (a folder shared with other processes) is left alone."""
    if not out.is_dir() or "TF_CONFIG" in os.environ:
        return
    _remove_run_temporaries(out)
    if resume or ckpt.latest_checkpoint(out / "checkpoints") is not None:
        return
    for pattern in _RUN_ENTRIES:
        for path in out.glob(pattern):
            if path.name not in entries_before:
                _remove(path)
    for folder in reversed(created):
        try:
            folder.rmdir()
        except OSError:
            break


def _blame_given_config(error: SepzooError, out: Path, config: TrainConfig | str | os.PathLike | None) -> None:
    """Errors found while reading the run's copy of the config name that copy; it was just removed, so name
    the config the user gave instead (rewriting ``error``'s message in place)."""
    copy = f"{out / RUN_CONFIG}: "
    message = str(error)
    given = config.path if isinstance(config, TrainConfig) else config
    if given is not None and message.startswith(copy):
        error.args = (f"{given}: {message[len(copy):]}",)


def _write_run_config(config: TrainConfig, out: Path) -> None:
    data = config.to_dict()
    # Data paths are relative to the original config file; pin them so the run folder stands alone.
    data["data"]["options"] = pin_paths(config.data.kind, config.data.options, config.resolve_path("."))
    ckpt.write_text_atomically(out / RUN_CONFIG, yaml.safe_dump(data, sort_keys=False))


def _callbacks(schedule_callback: ScheduleCallback, out: Path, distribution: Distribution, ema: bool) -> list:
    # With a weight average, validation scores the average: it is swapped in and back out around the pass.
    swap = [keras.callbacks.SwapEMAWeights()] if ema else []
    if not distribution.is_chief:
        return [*swap, schedule_callback]
    return [
        *swap,
        schedule_callback,
        keras.callbacks.CSVLogger(str(out / "metrics.csv"), append=True),
        keras.callbacks.TensorBoard(log_dir=str(out / "logs"), update_freq="epoch", write_graph=False),
    ]


def _metadata(config: TrainConfig, state: ckpt.TrainState, distribution: Distribution, train_source: Any,
              command: str) -> dict[str, Any]:
    """What the model card says about the run; ``sepzoo publish`` adds the handle and version."""
    return {
        "name": config.name,
        "description": config.description,
        "training": {
            "data": describe_source(train_source),
            "data_kind": config.data.kind,
            "task": config.data.options.get("task"),
            "loss": config.loss.name,
            "optimiser": {"name": config.optimiser.name, "learning_rate": config.optimiser.learning_rate,
                          "beta_1": config.optimiser.beta_1, "beta_2": config.optimiser.beta_2},
            "batch_size": config.batch_size,
            "steps": state.step,
            "epochs": state.epoch,
            "steps_per_epoch": config.schedule.steps_per_epoch,
            "best_epoch": state.best_epoch,
            "final_val_loss": state.best_val_loss,
            "fine_tuned": state.phase == 1,
            "command": command,
            "hardware": distribution.hardware(),
            "wall_time_s": state.wall_time_s,
            "config": _portable_config(config),
        },
    }


def _portable_config(config: TrainConfig) -> dict[str, Any]:
    """The config for the model card: data paths named relative to the corpus, never absolute."""
    data = config.to_dict()
    data["data"]["options"] = portable_options(config.data.kind, config.data.options, config.resolve_path("."))
    return data


def train(config: TrainConfig | str | os.PathLike | None, out_dir: str | os.PathLike, *, resume: bool = False,
          command: str | None = None) -> Path:
    """Train the model a config describes; return the preset folder written at the end.

    Args:
        config: a :class:`~sepzoo.config.TrainConfig` or a YAML path. Ignored with ``resume``: the run
            folder's own ``config.yaml`` is used.
        out_dir: run folder (layout in the module docstring).
        resume: continue the run in ``out_dir`` from its last checkpoint, with the same step counter,
            optimiser state and schedule position. A finished run whose ``config.yaml`` was edited to ask
            for more (``fine_tune`` turned on, a higher epoch cap or patience) goes on from its best weights.
        command: command line recorded in the model card (default: this process's argv).

    Returns:
        ``out_dir / "preset"`` on the chief, ``out_dir / "worker-<i>"`` on other MultiWorker processes.

    A run that fails or is interrupted (Ctrl-C, SIGTERM) before its first checkpoint leaves nothing behind:
    the files and folders it created are removed. After a checkpoint the folder stays, for ``resume``;
    temporaries of interrupted writes are removed then, and by the next start or resume after a SIGKILL.
    """
    out = Path(out_dir)
    entries_before = set(os.listdir(out)) if out.is_dir() else set()
    created = [folder for folder in (out, *out.parents) if not folder.exists()][::-1]
    try:
        return _train(config, out, resume, command)
    except BaseException as error:
        _clean_up_failed_run(out, entries_before, created, resume)
        if isinstance(error, SepzooError) and not resume and not (out / RUN_CONFIG).exists():
            _blame_given_config(error, out, config)
        raise


def _train(config: TrainConfig | str | os.PathLike | None, out: Path, resume: bool, command: str | None) -> Path:
    """:func:`train` without the clean-up of a failed start."""
    config = _prepare_run_folder(config, out, resume)
    # The strategy comes first: MultiWorkerMirroredStrategy must exist before TensorFlow runs any op.
    distribution = make_distribution(config.strategy, config.path)
    if distribution.is_chief and not resume:
        _write_run_config(config, out)
        config = config_from_dict(yaml.safe_load((out / RUN_CONFIG).read_text()), str(out / RUN_CONFIG))
    keras.utils.set_random_seed(config.seed)
    with distribution.scope():
        model = build_model(config)
        if config.model.init_weights and not resume:
            _load_initial_weights(model, config)
        _compile(model, config)

    # Every worker keeps its own copy of the best weights, so restoring them needs no cross-worker sync.
    own_dir = out if distribution.is_chief else out / f"worker-{distribution.worker_index}"
    own_dir.mkdir(parents=True, exist_ok=True)
    best_weights = own_dir / "best.npz"
    if resume:
        state = _resume(out, model, best_weights)
        reopen_if_extended(state, config.schedule)
    else:
        state = ckpt.TrainState(learning_rate=config.optimiser.learning_rate, data_seed=stream_seed(config.seed, 0))

    clock = [time.perf_counter()]

    def count_wall_time() -> None:
        now = time.perf_counter()
        state.wall_time_s = round(state.wall_time_s + now - clock[0], 1)
        clock[0] = now

    def save_checkpoint(current: keras.Model) -> None:
        count_wall_time()
        if distribution.is_chief:
            ckpt.save_checkpoint(out / "checkpoints", current, state, best_weights, config.keep_checkpoints)

    schedule = config.schedule
    validation = make_dataset(make_split_source(config, VALIDATION, config.seed), config.batch_size,
                              model.context_samples, model.target_samples,
                              batches=math.ceil(config.data.validation_examples / config.batch_size))
    train_source = None
    callback = ScheduleCallback(state, schedule, config.checkpoint_every, save_checkpoint, best_weights,
                                wall_time=lambda: state.wall_time_s + time.perf_counter() - clock[0])
    callbacks = _callbacks(callback, out, distribution, ema=bool(config.optimiser.ema_momentum))
    verbose = "auto" if sys.stderr.isatty() else 2
    while not state.finished:
        if phase_over(state, schedule):
            _end_phase(state, config, model, best_weights)
            save_checkpoint(model)
            continue
        model.optimizer.learning_rate = state.learning_rate
        state.data_seed = stream_seed(config.seed, state.step)
        train_source = make_split_source(config, TRAIN, state.data_seed)
        stream = make_dataset(train_source, config.batch_size, model.context_samples, model.target_samples,
                              shuffle_buffer=config.data.shuffle_buffer)
        # A resumed, half-done epoch is finished on its own first, with the steps it still lacks.
        partial = state.step_in_epoch > 0
        with distribution.fit_scope(model):
            model.fit(
                stream,
                initial_epoch=state.epoch,
                epochs=state.epoch + 1 if partial else phase_end_epoch(state, schedule),
                steps_per_epoch=schedule.steps_per_epoch - state.step_in_epoch if partial else schedule.steps_per_epoch,
                validation_data=validation,
                callbacks=callbacks,
                shuffle=False,
                verbose=verbose,
            )

    if best_weights.exists():
        ckpt.load_variables(model.weights, best_weights)
    if not distribution.is_chief:
        model.save_weights(own_dir / "model.weights.h5")
        return own_dir
    train_source = train_source or make_split_source(config, TRAIN, state.data_seed)
    count_wall_time()
    metadata = _metadata(config, state, distribution, train_source, command or shlex.join(sys.argv))
    return save_preset(model, out / "preset", metadata)


def _resume(out: Path, model: keras.Model, best_weights: Path) -> ckpt.TrainState:
    """Load the run's last checkpoint into ``model``; check that the optimiser agrees on the step count."""
    last = ckpt.latest_checkpoint(out / "checkpoints")
    if last is None:
        raise ConfigError(f"{out}: no checkpoint to resume from yet; start the run again without --resume")
    state = ckpt.restore_checkpoint(last, model, best_weights)
    state.resumed_from_step = state.step
    iterations = int(keras.ops.convert_to_numpy(model.optimizer.iterations))
    if iterations != state.step:
        raise ConfigError(f"{last}: optimiser says {iterations} steps but the state says {state.step}; "
                          "the checkpoint is damaged, resume from an earlier one")
    return state


def _end_phase(state: ckpt.TrainState, config: TrainConfig, model: keras.Model, best_weights: Path) -> None:
    """Close the current phase: restore the best weights, then start fine-tuning or finish.

    A weight average restarts from the restored weights, so fine-tuning does not average in the epochs after
    the best one.
    """
    if best_weights.exists():
        ckpt.load_variables(model.weights, best_weights)
        ckpt.restart_average(model)
    if state.phase == 0 and config.schedule.fine_tune and not out_of_time(state, config.schedule):
        state.phase = 1
        state.phase_start_epoch = state.epoch
        state.bad_epochs = 0
        state.learning_rate = config.optimiser.learning_rate * config.schedule.fine_tune_factor
    else:
        state.finished = True
