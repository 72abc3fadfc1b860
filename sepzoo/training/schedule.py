"""The seed's schedule as a Keras callback: count steps, checkpoint every N, keep the best, stop on a plateau.

One epoch is a fixed number of optimiser steps followed by a validation pass. After each epoch the
validation loss is compared with the best so far; ``patience`` epochs in a row without a gain of more than
``min_delta`` end the phase (``model.stop_training``). The trainer then reloads the best weights and, if
the config asks for it, starts a fine-tuning phase at ``learning_rate * fine_tune_factor`` under the same
rule. The callback keeps :class:`~sepzoo.training.checkpoint.TrainState` current, so a checkpoint taken at
any step resumes with the same counters.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import keras

from sepzoo.config import ScheduleSpec
from sepzoo.training.checkpoint import TrainState, kept_weights, save_variables


def record_validation(state: TrainState, val_loss: float, schedule: ScheduleSpec) -> bool:
    """Close an epoch in ``state`` with its validation loss; return whether it is a new best.

    Moves ``epoch`` on by one, resets ``step_in_epoch``, and updates ``best_val_loss``, ``best_epoch`` and
    ``bad_epochs``.
    """
    state.epoch += 1
    state.step_in_epoch = 0
    improved = state.best_val_loss is None or val_loss < state.best_val_loss - schedule.min_delta
    if improved:
        state.best_val_loss = float(val_loss)
        state.best_epoch = state.epoch
        state.bad_epochs = 0
    else:
        state.bad_epochs += 1
    return improved


def phase_end_epoch(state: TrainState, schedule: ScheduleSpec) -> int:
    """The epoch at which the current phase ends at the latest (its start plus its epoch cap)."""
    cap = schedule.max_epochs if state.phase == 0 else (schedule.fine_tune_max_epochs or schedule.max_epochs)
    return state.phase_start_epoch + cap


def out_of_time(state: TrainState, schedule: ScheduleSpec) -> bool:
    """Whether the run has used its ``max_wall_time_s`` (as of the state's last checkpoint)."""
    return schedule.max_wall_time_s is not None and state.wall_time_s >= schedule.max_wall_time_s


def phase_over(state: TrainState, schedule: ScheduleSpec) -> bool:
    """Whether the current phase has hit its patience, its epoch cap or the run's wall-time limit."""
    return (state.bad_epochs >= schedule.patience or state.epoch >= phase_end_epoch(state, schedule)
            or out_of_time(state, schedule))


def reopen_if_extended(state: TrainState, schedule: ScheduleSpec) -> None:
    """Mark a finished run unfinished when its (edited) schedule now asks for more.

    More means a fine-tuning phase that a run without ``fine_tune`` skipped, or a higher epoch cap or
    patience for the phase it ended in. The run then goes on from the state its end left: the best weights,
    restored when the phase closed.
    """
    if state.finished:
        skipped_fine_tune = state.phase == 0 and schedule.fine_tune
        state.finished = phase_over(state, schedule) and not skipped_fine_tune


class ScheduleCallback(keras.callbacks.Callback):
    """Drives :class:`TrainState` from inside ``model.fit``.

    Args:
        state: the run's state, updated in place.
        schedule: the config's schedule section.
        checkpoint_every: steps between checkpoints.
        save_checkpoint: writes a checkpoint of the model it is given and of ``state`` (a no-op on non-chief
            workers). It gets ``self.model``, which on JAX syncs the mid-epoch training state into the model.
        best_weights: where this process writes the best weights (the weight average when the optimiser
            keeps one).
        wall_time: seconds the run has trained so far, now (for ``schedule.max_wall_time_s``).
    """

    def __init__(self, state: TrainState, schedule: ScheduleSpec, checkpoint_every: int,
                 save_checkpoint: Callable[[keras.Model], None], best_weights: Path,
                 wall_time: Callable[[], float] | None = None):
        super().__init__()
        self.state = state
        self.schedule = schedule
        self.checkpoint_every = checkpoint_every
        self.save_checkpoint = save_checkpoint
        self.best_weights = best_weights
        self.wall_time = wall_time

    def on_train_batch_end(self, batch, logs=None):
        self.state.step += 1
        self.state.step_in_epoch += 1
        # A checkpoint due on an epoch's last step waits for the validation at epoch end, so that a
        # resumed run never has to redo half an epoch boundary.
        epoch_done = self.state.step_in_epoch >= self.schedule.steps_per_epoch
        if self.state.step % self.checkpoint_every == 0 and not epoch_done:
            self.save_checkpoint(self.model)
        limit = self.schedule.max_wall_time_s
        if limit is not None and self.wall_time is not None and self.wall_time() >= limit:
            self.model.stop_training = True  # Keras still validates the cut epoch and calls on_epoch_end

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        improved = record_validation(self.state, float(logs["val_loss"]), self.schedule)
        if improved:
            save_variables(kept_weights(self.model), self.best_weights, [w.path for w in self.model.weights])
        logs.update(step=self.state.step, phase=self.state.phase, learning_rate=self.state.learning_rate,
                    best_val_loss=self.state.best_val_loss)
        self.save_checkpoint(self.model)
        if phase_over(self.state, self.schedule):
            self.model.stop_training = True
