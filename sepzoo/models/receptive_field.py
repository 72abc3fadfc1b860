"""Receptive field of a functional Keras model, computed by walking its graph.

For every tensor the walk tracks ``(rf, jump)``: how many input samples one frame of the tensor can see, and
how many input samples lie between two neighbouring frames. Convolutions (plain, separable, strided,
dilated), pooling/upsampling and the blocks in :mod:`sepzoo.models.layers` update it; element-wise layers
(activations, add, concatenate, multiply, ...) take the widest field and the finest step of their inputs.
Global operations (mean over the whole window) are not counted: they see the whole context window anyway.
"""

from __future__ import annotations

import keras


def _as_int(value) -> int:
    return int(value[0]) if isinstance(value, (tuple, list)) else int(value)


def _layer_step(layer, rf: int, jump: int) -> tuple[int, int]:
    """Apply one layer's effect on ``(rf, jump)``."""
    if hasattr(layer, "receptive_field_step"):
        return layer.receptive_field_step(rf, jump)
    if isinstance(layer, keras.layers.UpSampling1D):
        return rf, max(1, jump // _as_int(layer.size))
    if isinstance(layer, (keras.layers.MaxPooling1D, keras.layers.AveragePooling1D)):
        return rf + (_as_int(layer.pool_size) - 1) * jump, jump * _as_int(layer.strides)
    if hasattr(layer, "kernel_size") and hasattr(layer, "strides"):
        dilation = _as_int(getattr(layer, "dilation_rate", 1))
        stride = _as_int(layer.strides)
        if "Transpose" in type(layer).__name__:
            return rf + (_as_int(layer.kernel_size) - 1) * max(1, jump // stride), max(1, jump // stride)
        return rf + (_as_int(layer.kernel_size) - 1) * dilation * jump, jump * stride
    return rf, jump


def receptive_field(model: keras.Model) -> int:
    """Receptive field of the model's first output, in input samples.

    ``model`` must be a functional model with one waveform input. Nested functional models are walked
    through as a single step only if they define ``receptive_field_step``.
    """
    fields: dict[int, tuple[int, int]] = {id(t): (1, 1) for t in model.inputs}
    for depth in sorted(model._nodes_by_depth, reverse=True):
        for node in model._nodes_by_depth[depth]:
            known = [fields[id(t)] for t in node.input_tensors if id(t) in fields]
            if not known:
                continue
            rf = max(f[0] for f in known)
            jump = min(f[1] for f in known)
            rf, jump = _layer_step(node.operation, rf, jump)
            for out in node.outputs:
                fields[id(out)] = (rf, jump)
    return fields[id(model.outputs[0])][0]
