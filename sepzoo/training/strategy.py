"""Distribution: a config's ``strategy`` name -> a scope to build the model in and this process's role.

- ``default``: one device (TensorFlow's default strategy, or plain JAX).
- ``mirrored``: ``tf.distribute.MirroredStrategy`` over every GPU, or over every logical CPU device when
  there is no GPU (``tf.config.set_logical_device_configuration`` splits a CPU before TF starts).
- ``multiworker``: ``tf.distribute.MultiWorkerMirroredStrategy``; the cluster and this worker's role come
  from the ``TF_CONFIG`` environment variable. The chief (task ``chief``, else ``worker`` 0) writes
  checkpoints, logs and the preset.
- ``jax_data_parallel``: ``keras.distribution.DataParallel`` over every JAX device (``KERAS_BACKEND=jax``).

The strategy must be made before TensorFlow runs any op (MultiWorkerMirroredStrategy insists).
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
from dataclasses import dataclass
from typing import Any

import keras

from sepzoo.errors import ConfigError

_BACKEND_OF = {"mirrored": "tensorflow", "multiworker": "tensorflow", "jax_data_parallel": "jax"}


@dataclass
class Distribution:
    """How this process takes part in training.

    Attributes:
        name: the config's strategy name.
        scope: context manager to build and compile the model in.
        replicas: devices training in sync, over all workers.
        worker_index: this worker's index (0 on a single machine).
        is_chief: whether this process writes checkpoints, logs and the preset.
        devices: device names this process trains on.
    """

    name: str
    scope: Any
    replicas: int
    worker_index: int
    is_chief: bool
    devices: list[str]

    def fit_scope(self, model: keras.Model):
        """Context to run ``model.fit`` in; works around two Keras 3 gaps under MultiWorkerMirroredStrategy.

        Keras 3's TF trainer (keras-team/keras#20585) (1) reduces the first ``(x, y)`` batch across workers
        to build the model symbolically, which fails on a tuple of per-replica values, and (2) reduces each
        step's scalar logs along axis 0, which fails on scalars. The model here is already built, so the
        trainer is told it has no strategy of its own (it takes the one of this scope when it traces its
        step functions), and the step functions return their logs as 1-element vectors, which the axis-0
        reduce turns back into scalars.
        """
        if self.name != "multiworker":
            return contextlib.nullcontext()
        model._distribute_strategy = None
        if not getattr(model, "_sepzoo_vector_logs", False):
            model.train_step = _vector_logs(model.train_step)
            model.test_step = _vector_logs(model.test_step)
            model._sepzoo_vector_logs = True
        return self.scope()

    def hardware(self) -> dict[str, Any]:
        """Where the run happens, for a model card: backend, devices, CPU, cores, replicas."""
        return {
            "backend": keras.backend.backend(),
            "strategy": self.name,
            "replicas": self.replicas,
            "devices": self.devices,
            "cpu": platform.processor() or platform.machine(),
            "cpu_cores": os.cpu_count(),
            "platform": platform.platform(),
        }


def _tf_distribution(name: str, config_path: str) -> Distribution:
    import tensorflow as tf  # the TensorFlow backend's strategies; a JAX run never imports TensorFlow

    if name == "default":
        strategy = tf.distribute.get_strategy()
        first = tf.config.list_logical_devices("GPU")[:1] or tf.config.list_logical_devices("CPU")[:1]
        devices = [d.name for d in first]
        return Distribution(name, strategy.scope, 1, 0, True, devices)
    if name == "mirrored":
        devices = [d.name for d in tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")]
        strategy = tf.distribute.MirroredStrategy(devices=devices)
        return Distribution(name, strategy.scope, strategy.num_replicas_in_sync, 0, True, devices)
    cluster = _read_tf_config(config_path)
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    task_type, task_id = strategy.cluster_resolver.task_type, strategy.cluster_resolver.task_id
    is_chief = task_type == "chief" or (task_type == "worker" and task_id == 0 and "chief" not in cluster)
    devices = [d.name for d in tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")[:1]]
    return Distribution(name, strategy.scope, strategy.num_replicas_in_sync, int(task_id), is_chief, devices)


def _read_tf_config(config_path: str) -> dict[str, Any]:
    """The ``cluster`` part of ``TF_CONFIG``; ConfigError if it is missing or malformed."""
    text = os.environ.get("TF_CONFIG", "")
    try:
        cluster = json.loads(text)["cluster"] if text else None
    except (ValueError, KeyError, TypeError):
        cluster = None
    if not isinstance(cluster, dict):
        raise ConfigError(
            f"{config_path}: strategy: multiworker needs TF_CONFIG with a cluster and a task, e.g. "
            '{"cluster": {"worker": ["host1:port", "host2:port"]}, "task": {"type": "worker", "index": 0}}'
        )
    return cluster


def _jax_distribution(name: str) -> Distribution:
    devices = keras.distribution.list_devices()
    if name == "jax_data_parallel":
        keras.distribution.set_distribution(keras.distribution.DataParallel(devices=devices))
        import jax  # the JAX backend's process index; a TensorFlow run never imports JAX

        return Distribution(name, contextlib.nullcontext, len(devices), jax.process_index(),
                            jax.process_index() == 0, devices)
    return Distribution(name, contextlib.nullcontext, 1, 0, True, devices[:1])


def make_distribution(name: str, config_path: str = "<config>") -> Distribution:
    """Set up the strategy a config names on the running Keras backend.

    Raises :class:`ConfigError` when the strategy needs another backend or ``TF_CONFIG`` is missing.
    """
    backend = keras.backend.backend()
    wanted = _BACKEND_OF.get(name, backend)
    if wanted != backend:
        raise ConfigError(
            f"{config_path}: strategy: {name} runs on the {wanted} backend but KERAS_BACKEND is {backend}; "
            f"set KERAS_BACKEND={wanted} or pick another strategy"
        )
    if backend == "tensorflow":
        return _tf_distribution(name, config_path)
    if backend == "jax":
        return _jax_distribution(name)
    if name != "default":
        raise ConfigError(f"{config_path}: strategy: {name} is not available on the {backend} backend; use default")
    return Distribution(name, contextlib.nullcontext, 1, 0, True, ["cpu"])


def _vector_logs(step):
    """Wrap a Keras step function so that every scalar log comes out with shape ``(1,)``."""

    def step_with_vector_logs(data):
        return {name: keras.ops.reshape(value, (1,)) for name, value in step(data).items()}

    return step_with_vector_logs
