"""Floating-point operations of one model window, counted from the ops its layers run.

:func:`window_flops` runs the model once, eagerly, on a zero window while the Keras ops that do the
arithmetic (``conv``, ``conv_transpose``, ``depthwise_conv``, ``separable_conv``, ``matmul``, ``einsum`` and the
FFTs behind ``stft`` / ``istft`` / ``rfft`` / ``irfft``) are wrapped to record what each call costs from its
operand and result shapes. Every layer is covered, built-in or ours, because every layer reaches the
arithmetic through these ops. Counted:

* a multiply-add is 2 FLOPs: a convolution costs ``2 * output elements * kernel taps * input channels per
  group``, a matrix product ``2 * output elements * inner dimension``;
* a real FFT of size ``n`` costs ``2.5 n log2 n`` (half the classic ``5 n log2 n`` of a complex one);
* element-wise work (activations, normalisation, masks, adds) is left out: it is memory-bound, a small share
  of these models, and not what a matrix-product rate can bound.

So the count is the arithmetic a perfect matrix-product kernel would have to do; divided by a machine's
measured matrix-product rate it gives the fastest that machine could run the model (``benchmarks/speed.py``).

Example::

    model = sepzoo.load("lightweight_aspp", weights=None)
    window_flops(model)                  # FLOPs of one (1, context_samples, channels) window
    flops_per_second(model, overlap=0.25)  # per second of mono audio at the model's rate, through Separator
"""

from __future__ import annotations

import contextlib
import math
import threading
from collections.abc import Callable, Iterator

import keras
import numpy as np

_COUNTED = ("conv", "conv_transpose", "depthwise_conv", "separable_conv", "matmul", "einsum", "stft", "istft",
            "rfft", "irfft")
_state = threading.local()


def _shape(value) -> tuple[int, ...]:
    return tuple(int(d) for d in keras.ops.shape(value))


def _size(shape: tuple[int, ...]) -> int:
    return int(np.prod(shape, dtype=np.int64))


def _fft(n: int) -> float:
    return 2.5 * n * math.log2(n) if n > 1 else 0.0


def _einsum_flops(subscripts: str, *operands) -> float:
    """2 x the product of every index's extent: each output element sums over the contracted indices."""
    inputs = subscripts.replace(" ", "").split("->")[0].split(",")
    extents: dict[str, int] = {}
    for letters, operand in zip(inputs, operands):
        shape = _shape(operand)
        if "..." in letters:  # broadcast dims: take them from the operand
            head, tail = letters.split("...")
            middle = shape[len(head):len(shape) - len(tail)]
            letters = head + "".join(chr(0x100 + i) for i in range(len(middle))) + tail
        extents.update(zip(letters, shape))
    return 2.0 * _size(tuple(extents.values()))


def _cost(op: str, args: tuple, kwargs: dict, result) -> float:
    """FLOPs of one call of ``op`` from its operands and result (channels-last, as the zoo models use)."""
    if op == "conv":
        kernel = _shape(kwargs.get("kernel", args[1] if len(args) > 1 else None))
        return 2.0 * _size(_shape(result)) * _size(kernel[:-1])
    if op == "conv_transpose":  # kernel (*spatial, out_channels, in_channels)
        kernel = _shape(kwargs.get("kernel", args[1] if len(args) > 1 else None))
        return 2.0 * _size(_shape(args[0])[:-1]) * _size(kernel)
    if op == "depthwise_conv":  # kernel (*spatial, in_channels, multiplier)
        kernel = _shape(kwargs.get("kernel", args[1] if len(args) > 1 else None))
        return 2.0 * _size(_shape(result)) * _size(kernel[:-2])
    if op == "separable_conv":
        depthwise = _shape(kwargs.get("depthwise_kernel", args[1] if len(args) > 1 else None))
        pointwise = _shape(kwargs.get("pointwise_kernel", args[2] if len(args) > 2 else None))
        positions = _size(_shape(result)[:-1])
        return 2.0 * positions * (_size(depthwise) + _size(pointwise[-2:]))
    if op == "matmul":
        return 2.0 * _size(_shape(result)) * _shape(args[0])[-1]
    if op == "einsum":
        return _einsum_flops(args[0], *args[1:])
    if op in ("stft", "istft"):
        signal = args[0]
        fft_length = int(kwargs.get("fft_length", args[3] if len(args) > 3 else 0))
        if op == "stft":
            frames = _shape(result[0])[:-1]
        else:
            frames = _shape(signal[0])[:-1]
        return _size(frames) * _fft(fft_length)
    if op == "rfft":
        shape = _shape(args[0])
        n = int(kwargs.get("fft_length") or (args[1] if len(args) > 1 and args[1] else shape[-1]))
        return _size(shape[:-1]) * _fft(n)
    if op == "irfft":
        shape = _shape(args[0][0])
        n = int(kwargs.get("fft_length") or (args[1] if len(args) > 1 and args[1] else 2 * (shape[-1] - 1)))
        return _size(shape[:-1]) * _fft(n)
    return 0.0


def _wrap(op: str, function: Callable, totals: dict[str, float]) -> Callable:
    def counted(*args, **kwargs):
        if getattr(_state, "inside", False):  # an op built from other counted ops is counted once, outermost
            return function(*args, **kwargs)
        _state.inside = True
        try:
            result = function(*args, **kwargs)
        finally:
            _state.inside = False
        totals[op] = totals.get(op, 0.0) + _cost(op, args, kwargs, result)
        return result

    return counted


@contextlib.contextmanager
def _counting() -> Iterator[dict[str, float]]:
    """Wrap the counted ops in both namespaces layers call them through (``keras.ops``, ``keras.src.ops``)."""
    import keras.src.ops as src_ops

    totals: dict[str, float] = {}
    saved = []
    for namespace in (keras.ops, src_ops):
        for op in _COUNTED:
            function = getattr(namespace, op, None)
            if function is not None:
                saved.append((namespace, op, function))
                setattr(namespace, op, _wrap(op, function, totals))
    try:
        yield totals
    finally:
        for namespace, op, function in saved:
            setattr(namespace, op, function)


def _counted(model, samples: int) -> dict[str, float]:
    """FLOPs by op of one eager forward pass over a ``(1, samples, channels)`` zero window."""
    window = np.zeros((1, samples, model.channels), np.float32)
    with _counting() as totals:
        model(window, training=False)
    return dict(totals)


def window_flops(model, *, by_op: bool = False) -> float | dict[str, float]:
    """FLOPs of one forward pass over one ``(1, context_samples, channels)`` window.

    Args:
        model: A :class:`~sepzoo.models.base.SeparationModel` (any Keras model with those fields).
        by_op: Return ``{op name: FLOPs}`` instead of the total.

    Returns:
        The total FLOPs (float), or the split by op.
    """
    totals = _counted(model, model.context_samples)
    return totals if by_op else float(sum(totals.values()))


def flops_per_second(model, *, overlap: float = 0.25, segment_samples: int | None = None) -> float:
    """FLOPs per second of single-channel-per-model-channel audio at the model's rate, as the
    :class:`~sepzoo.separator.Separator` runs it: one window every ``hop = target - round(overlap * target)``
    samples (a mono model separating stereo input runs twice this: once per channel).

    Args:
        model: The model.
        overlap: The Separator's overlap fraction.
        segment_samples: Window length when it differs from ``context_samples`` (models with a free time
            axis); counted on a window of that length.
    """
    samples = model.context_samples if segment_samples is None else int(segment_samples)
    flops = float(sum(_counted(model, samples).values()))
    target = samples - (model.context_samples - model.target_samples)
    hop = max(1, target - round(overlap * target))
    return flops * model.sample_rate / hop
