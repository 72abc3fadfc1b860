"""Engines: what the :class:`~sepzoo.separator.Separator` runs, a Keras model or an exported one.

An engine is anything with the geometry attributes of a :class:`~sepzoo.models.base.SeparationModel`
(``name``, ``sources``, ``sample_rate``, ``channels``, ``context_samples``, ``target_samples``) and a
``predict(windows)`` that maps float32 ``(batch, context_samples, channels)`` windows to
``(batch, target_samples, len(sources) * channels)`` targets, source-major. A Keras zoo model is one already
(its batch call is ``predict_on_batch``); the classes here run what ``sepzoo export`` wrote:

* :class:`OnnxEngine` with ``onnxruntime``, :class:`LiteRTEngine` with ``ai-edge-litert`` (``pip install
  'sepzoo[lite]'``): neither imports TensorFlow or Keras, so separation runs without them.
* :class:`SavedModelEngine` with TensorFlow.

An exported model is a folder: the model file (``model.onnx``, ``model.tflite`` or ``saved_model/``) and
``sepzoo.json``, the geometry the Separator needs (see :func:`read_export_info`). :func:`open_engine` takes
the folder or the model file in it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from sepzoo.errors import ConfigError, ModelNotFoundError

INFO_FILE = "sepzoo.json"
"""The sidecar beside every exported model file: its geometry, format and origin."""

MODEL_FILES = {"litert": "model.tflite", "onnx": "model.onnx", "saved_model": "saved_model"}
"""Exported model file (or folder) name in an export folder, by format."""

_GEOMETRY = ("sources", "sample_rate", "channels", "context_samples", "target_samples")
_RUNTIMES = {"litert": "ai-edge-litert", "onnx": "onnxruntime", "saved_model": "tensorflow"}


@runtime_checkable
class Engine(Protocol):
    """What the Separator needs from a model: its geometry and a batch predict.

    Attributes:
        name: Shown in messages, e.g. the zoo name.
        sources: Source names, in output order.
        sample_rate: Rate in Hz the model works at.
        channels: Audio channels per source the model takes and returns.
        context_samples: Input window length, samples.
        target_samples: Output window length, samples, centred in the input window.
    """

    name: str
    sources: tuple[str, ...]
    sample_rate: int
    channels: int
    context_samples: int
    target_samples: int

    def predict(self, windows: np.ndarray) -> np.ndarray:
        """float32 ``(batch, context_samples, channels)`` -> ``(batch, target_samples, sources * channels)``."""


def export_info(model, format: str, *, name: str | None = None, int8: bool = False) -> dict[str, Any]:
    """The ``sepzoo.json`` content for ``model`` exported as ``format`` (JSON-ready, no machine paths)."""
    return {
        "format": format,
        "file": MODEL_FILES[format],
        "name": name or model.name,
        "class": type(model).__name__,
        "sources": list(model.sources),
        "sample_rate": int(model.sample_rate),
        "channels": int(model.channels),
        "context_samples": int(model.context_samples),
        "target_samples": int(model.target_samples),
        "receptive_field": int(getattr(model, "receptive_field", model.context_samples)),
        "input_layout": "(batch, context_samples, channels) float32",
        "output_layout": "(batch, target_samples, sources * channels) float32, source-major",
        "int8": bool(int8),
    }


def read_export_info(path: str | os.PathLike) -> tuple[Path, dict[str, Any]]:
    """Find an exported model and its ``sepzoo.json`` from the export folder or the model file in it.

    Returns:
        (the model file or SavedModel folder, the sidecar's content).

    Raises:
        ModelNotFoundError: no export there, or its sidecar is unreadable or lacks geometry.
    """
    path = Path(path)
    folder = path if (path / INFO_FILE).is_file() else path.parent
    info_path = folder / INFO_FILE
    if not info_path.is_file():
        raise ModelNotFoundError(f"{path}: no {INFO_FILE} beside it; pass a folder written by `sepzoo export`")
    try:
        info = json.loads(info_path.read_text())
    except (OSError, ValueError) as error:
        raise ModelNotFoundError(f"{info_path}: unreadable ({error}); export the model again") from None
    missing = [key for key in (*_GEOMETRY, "format", "file") if key not in info]
    if missing:
        raise ModelNotFoundError(f"{info_path}: lacks {', '.join(missing)}; export the model again")
    model_path = folder / info["file"] if path == folder else path
    if not model_path.exists():
        raise ModelNotFoundError(f"{model_path}: missing; export the model again")
    return model_path, info


def open_engine(path: str | os.PathLike, engine: str | None = None, *, threads: int | None = None):
    """Open an exported model (folder or model file) with its runtime.

    Args:
        path: Folder written by ``sepzoo export``, or the model file in it.
        engine: ``"onnx"``, ``"litert"`` or ``"saved_model"``; default the export's format.
        threads: CPU threads for the runtime (default: the runtime's own choice).

    Raises:
        ConfigError: the engine does not match the export's format, or its runtime is not installed.
    """
    model_path, info = read_export_info(path)
    engine = engine or info["format"]
    if engine != info["format"]:
        raise ConfigError(f"--engine {engine}: {model_path} is a {info['format']} export; use --engine "
                          f"{info['format']} or export the model as {engine}")
    classes = {"onnx": OnnxEngine, "litert": LiteRTEngine, "saved_model": SavedModelEngine}
    if engine not in classes:
        raise ConfigError(f"engine {engine!r}: choose one of {', '.join(classes)}")
    return classes[engine](model_path, info, threads=threads)


class _ExportedEngine:
    """Geometry from ``sepzoo.json``; subclasses add :meth:`predict`."""

    runtime = ""
    fixed_input_length = True
    """Exported graphs take windows of exactly ``context_samples`` samples."""

    def __init__(self, path: Path, info: dict[str, Any], *, threads: int | None = None) -> None:
        self.path = Path(path)
        self.info = info
        self.name = str(info.get("name", self.path.stem))
        self.sources = tuple(info["sources"])
        self.sample_rate = int(info["sample_rate"])
        self.channels = int(info["channels"])
        self.context_samples = int(info["context_samples"])
        self.target_samples = int(info["target_samples"])
        self.receptive_field = int(info.get("receptive_field", self.context_samples))
        self.threads = threads

    def _missing_runtime(self, error: ImportError) -> ConfigError:
        return ConfigError(f"{self.path}: running a {self.info['format']} export needs {self.runtime} ({error}); "
                           "pip install 'sepzoo[lite]'")

    def _check(self, windows: np.ndarray) -> np.ndarray:
        windows = np.ascontiguousarray(windows, dtype=np.float32)
        if windows.ndim != 3 or windows.shape[1:] != (self.context_samples, self.channels):
            raise ConfigError(f"{self.path}: windows of shape {windows.shape}, expected (batch, "
                              f"{self.context_samples}, {self.channels})")
        return windows

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.path)!r})"


class OnnxEngine(_ExportedEngine):
    """An ONNX export run by ``onnxruntime`` on the CPU."""

    runtime = _RUNTIMES["onnx"]

    def __init__(self, path: Path, info: dict[str, Any], *, threads: int | None = None) -> None:
        super().__init__(path, info, threads=threads)
        try:
            import onnxruntime
        except ImportError as error:
            raise self._missing_runtime(error) from None
        options = onnxruntime.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        self._session = onnxruntime.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
        self._input = self._session.get_inputs()[0].name

    def predict(self, windows: np.ndarray) -> np.ndarray:
        return self._session.run(None, {self._input: self._check(windows)})[0]


class LiteRTEngine(_ExportedEngine):
    """A LiteRT (``.tflite``) export run by the ``ai-edge-litert`` interpreter; the batch axis is resized to
    each call's window count."""

    runtime = _RUNTIMES["litert"]

    def __init__(self, path: Path, info: dict[str, Any], *, threads: int | None = None) -> None:
        super().__init__(path, info, threads=threads)
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError as error:
            raise self._missing_runtime(error) from None
        self._interpreter = Interpreter(model_path=str(self.path), num_threads=threads)
        self._input = self._interpreter.get_input_details()[0]["index"]
        self._output = self._interpreter.get_output_details()[0]["index"]
        self._batch = None

    def predict(self, windows: np.ndarray) -> np.ndarray:
        windows = self._check(windows)
        if self._batch != len(windows):
            self._interpreter.resize_tensor_input(self._input, windows.shape, strict=False)
            self._interpreter.allocate_tensors()
            self._batch = len(windows)
        self._interpreter.set_tensor(self._input, windows)
        self._interpreter.invoke()
        return self._interpreter.get_tensor(self._output).copy()


class SavedModelEngine(_ExportedEngine):
    """A TensorFlow SavedModel export, called through its ``serve`` endpoint (imports TensorFlow)."""

    runtime = _RUNTIMES["saved_model"]

    def __init__(self, path: Path, info: dict[str, Any], *, threads: int | None = None) -> None:
        super().__init__(path, info, threads=threads)
        try:
            import tensorflow as tf
        except ImportError as error:
            raise self._missing_runtime(error) from None
        self._loaded = tf.saved_model.load(str(self.path))  # keep it: the endpoint needs its variables

    def predict(self, windows: np.ndarray) -> np.ndarray:
        return np.asarray(self._loaded.serve(self._check(windows)), dtype=np.float32)
