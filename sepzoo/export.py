"""Export a zoo model for runtimes without Keras: LiteRT (``.tflite``), ONNX, or a TensorFlow SavedModel.

Every format goes through Keras' own ``Model.export`` (TensorFlow backend; ONNX through ``tf2onnx``, LiteRT
through the TFLite converter), with the input fixed to ``(batch, context_samples, channels)`` float32 and a
free batch axis. LiteRT keeps to the converter's builtin ops: the ``ai-edge-litert`` runtime has no
TensorFlow ("Flex") kernels, so a model that needs them is refused at export instead of failing at run time.

An export is a folder: the model file (``model.tflite``, ``model.onnx`` or ``saved_model/``) and
``sepzoo.json`` with the geometry the :class:`~sepzoo.separator.Separator` needs (rate, sources, channels,
context and target windows) — see :mod:`sepzoo.engines`, which runs it. When the format's runtime is
installed the export is checked on a random batch against the Keras model (largest absolute difference
recorded as ``max_abs_diff`` in ``sepzoo.json``; fp32 must agree within ``tolerance``).

int8 (LiteRT only): the converter's full-integer quantization with float fallback, calibrated on context
windows cut from the ``mixture.wav`` files of a stem tree (e.g. a ``sepzoo render`` split); input and output
stay float32.

Example::

    model = sepzoo.load("lightweight_aspp")
    export_model(model, "exports/aspp_onnx", "onnx")
    stems = Separator(open_engine("exports/aspp_onnx")).separate(audio, 44100)
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import re
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from sepzoo.audio_io import read_audio
from sepzoo.dsp import match_channels, resample
from sepzoo.engines import INFO_FILE, MODEL_FILES, export_info, open_engine
from sepzoo.errors import ConfigError, DataError, OutputError

FORMATS = tuple(MODEL_FILES)
"""Export formats: ``litert``, ``onnx``, ``saved_model``."""

CALIBRATION_WINDOWS = 64
"""Context windows the int8 converter sees by default (spread over the calibration files)."""


def export_model(model, out_dir: str | os.PathLike, format: str, *, name: str | None = None, int8: bool = False,
                 calibration: str | os.PathLike | None = None, calibration_windows: int = CALIBRATION_WINDOWS,
                 verify: bool = True, tolerance: float = 1e-4) -> Path:
    """Export ``model`` (a :class:`~sepzoo.models.base.SeparationModel`) as ``format`` into ``out_dir``.

    ``out_dir`` is replaced as a whole, and only once the export is complete: a folder holding an earlier
    export (its ``sepzoo.json``) or nothing is replaced, any other folder is refused.

    Args:
        model: The Keras model.
        out_dir: Export folder, created.
        format: ``"litert"``, ``"onnx"`` or ``"saved_model"``.
        name: Recorded in ``sepzoo.json`` (the zoo name); default the model's name.
        int8: Quantize to int8 (LiteRT only), calibrated on ``calibration``.
        calibration: Stem tree folder whose ``mixture.wav`` files (any depth) calibrate int8.
        calibration_windows: Context windows used for calibration.
        verify: Check the export against Keras on a random batch when its runtime is installed.
        tolerance: Largest absolute difference allowed for fp32 exports (output units, full scale 1).

    Returns:
        ``out_dir``.

    Raises:
        ConfigError: a bad option, or the model cannot be exported in that format (one line saying why).
    """
    if format not in FORMATS:
        raise ConfigError(f"format {format!r}: choose one of {', '.join(FORMATS)}")
    if int8 and format != "litert":
        raise ConfigError(f"--int8 with format {format}: int8 quantization is for litert; use --format litert")
    if int8 and calibration is None:
        raise ConfigError("--int8: needs --calibration DIR, a stem tree of mixture.wav files (e.g. a rendered "
                          "split) to calibrate on")
    import keras

    if keras.backend.backend() != "tensorflow":
        raise ConfigError(f"export: runs on the TensorFlow backend, not {keras.backend.backend()}; "
                          "set KERAS_BACKEND=tensorflow")
    label = f"model {name or model.name} ({type(model).__name__})"
    windows = _calibration_windows(model, calibration, calibration_windows) if int8 else None
    out_dir = Path(out_dir)
    _check_destination(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".sepzoo-export-", dir=out_dir.parent))
    try:
        _convert(model, staging / MODEL_FILES[format], format, windows, label)
        info = export_info(model, format, name=name, int8=int8)
        (staging / INFO_FILE).write_text(json.dumps(info, indent=2) + "\n")
        if verify:
            info.update(_verify(model, staging, format, None if int8 else tolerance, label))
            (staging / INFO_FILE).write_text(json.dumps(info, indent=2) + "\n")
        if out_dir.exists():
            shutil.rmtree(out_dir)
        staging.rename(out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out_dir


def _check_destination(out_dir: Path) -> None:
    """Refuse an existing file, or a folder that holds anything but an earlier export."""
    if out_dir.exists() and not (out_dir.is_dir() and ((out_dir / INFO_FILE).is_file() or not any(out_dir.iterdir()))):
        raise OutputError(f"{out_dir}: exists and is not an export folder; choose a new -o folder")


def _input_signature(model):
    import tensorflow as tf

    return [tf.TensorSpec((None, model.context_samples, model.channels), tf.float32, name="mixture")]


def _convert(model, path: Path, format: str, windows: np.ndarray | None, label: str) -> None:
    """Write ``model`` as ``format`` to ``path``; raise ConfigError with the converter's reason on failure.

    For ``onnx`` and ``litert`` the model is traced inside
    :func:`~sepzoo.models.layers.real_valued_dft`, so its STFT layers become convolutions with DFT matrices
    (neither format converts RFFT / IRFFT); ``saved_model`` keeps the FFT."""
    import tensorflow as tf

    from sepzoo.models.layers import real_valued_dft

    signature = _input_signature(model)
    options: dict[str, Any] = {}
    if format == "litert":
        options["target_spec"] = {"supported_ops": [tf.lite.OpsSet.TFLITE_BUILTINS]}
        if windows is not None:
            options["optimizations"] = [tf.lite.Optimize.DEFAULT]
            options["representative_dataset"] = lambda: ([window[None]] for window in windows)
    keras_format = "tf_saved_model" if format == "saved_model" else format
    # ONNX and LiteRT builtins have no RFFT / IRFFT: trace the STFT layers as real-valued DFT matrices there.
    # Model.export traces the model inside this call, so the graph it converts is the DFT one.
    transform = contextlib.nullcontext() if format == "saved_model" else real_valued_dft()
    with _captured_logs() as log, transform:
        try:
            model.export(str(path), format=keras_format, input_signature=signature, verbose=False, **options)
            if format == "onnx":
                import onnx

                onnx.checker.check_model(str(path), full_check=True)
        except Exception as error:  # converters raise anything; the user gets one line
            raise ConfigError(f"{label}: cannot export as {format}: {_reason(error, log.getvalue())}") from None


@contextlib.contextmanager
def _captured_logs() -> Iterator[io.StringIO]:
    """Collect tf2onnx's log (it reports unsupported ops there, not in the exception) and keep the converters
    quiet: their Python output, warnings and the C++ messages the TFLite converter writes to file descriptor 2
    (the one-line error says what matters)."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    logger = logging.getLogger("tf2onnx")
    saved = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.ERROR)
    logger.propagate = False
    saved_stderr, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield buffer
    finally:
        os.dup2(saved_stderr, 2)
        os.close(saved_stderr)
        os.close(devnull)
        logger.removeHandler(handler)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]


def _reason(error: Exception, log: str) -> str:
    """One line from a converter failure: the ops it could not convert when it names them."""
    text = f"{error}\n{log}"
    flex = sorted(set(re.findall(r"'tf\.(\w+)' op is neither a custom op nor a flex op", text)))
    if flex:
        return (f"TensorFlow ops {', '.join(flex)} have no LiteRT builtin kernel (the ai-edge-litert runtime "
                "has no TensorFlow kernels); try --format onnx or saved_model")
    unsupported = re.search(r"Unsupported ops: Counter\(\{(.*?)\}\)", text)
    if unsupported:
        ops = sorted(set(re.findall(r"'(\w+)'", unsupported.group(1))))
        return f"tf2onnx cannot convert TensorFlow ops {', '.join(ops)}; try --format litert or saved_model"
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return f"{type(error).__name__}: {lines[-1][:300] if lines else 'no message'}"


def _verify(model, folder: Path, format: str, tolerance: float | None, label: str) -> dict[str, Any]:
    """Run a random batch through the export and Keras; return ``{"max_abs_diff": ...}`` (empty without the
    runtime). Raise ConfigError when an fp32 export differs by more than ``tolerance``."""
    try:
        engine = open_engine(folder, format)
    except ConfigError:  # its runtime is not installed here: nothing to check with
        return {}
    windows = (0.1 * np.random.default_rng(0).standard_normal((2, model.context_samples, model.channels)))
    windows = windows.astype(np.float32)
    expected = np.asarray(model.predict_on_batch(windows), dtype=np.float32)
    try:
        got = engine.predict(windows)
    except Exception as error:  # the runtime refuses the graph
        raise ConfigError(f"{label}: {format} export does not run in {engine.runtime}: "
                          f"{_reason(error, '')}") from None
    diff = float(np.max(np.abs(got - expected))) if got.shape == expected.shape else float("inf")
    if tolerance is not None and not diff <= tolerance:
        raise ConfigError(f"{label}: {format} export differs from the Keras model by {diff:.3g} (allowed "
                          f"{tolerance:g}); report it with the model name and format")
    return {"max_abs_diff": diff}


def _calibration_windows(model, folder: str | os.PathLike, count: int) -> np.ndarray:
    """Up to ``count`` float32 ``(context_samples, channels)`` windows from the mixtures under ``folder``,
    resampled to the model's rate, downmixed (or duplicated) to its channels, spread evenly over each file."""
    files = sorted(Path(folder).rglob("mixture.wav"))
    if not files:
        raise DataError(f"{folder}: no mixture.wav files under it; pass a stem tree (e.g. a rendered split) "
                        "with --calibration")
    per_file = max(1, -(-count // len(files)))
    context, channels = model.context_samples, model.channels
    windows = []
    for path in files:
        audio, rate = read_audio(path)
        audio = resample(audio, rate, model.sample_rate)
        audio = match_channels(audio, channels)
        if audio.shape[1] < context:
            audio = np.pad(audio, ((0, 0), (0, context - audio.shape[1])))
        starts = np.linspace(0, audio.shape[1] - context, per_file).round().astype(int)
        windows.extend(audio[:, start:start + context].T for start in np.unique(starts))
    return np.stack(windows[:count]).astype(np.float32)
