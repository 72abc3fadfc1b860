"""ConvBaseline: four same-padded 1-D convolutions with large kernels (docs/research.md, part C)."""

from __future__ import annotations

from typing import Sequence

import keras
from keras import layers

from sepzoo.models.base import SeparationModel, register_model
from sepzoo.models.conv_baseline_presets import PRESETS
from sepzoo.models.receptive_field import receptive_field

N_LAYERS = 4


@register_model(presets=PRESETS)
class ConvBaseline(SeparationModel):
    """The convolutional baseline of docs/research.md, part C: four Conv1D layers with large kernels.

    Conv 1 to 3 have ``filters`` channels each and a ReLU; conv 4 is linear (no activation, so it can write
    negative samples) and has ``len(sources) * channels`` channels, one waveform per source. Every conv uses
    ``padding="same"`` and stride 1, so the output window is as long as the input window
    (``target_samples == context_samples``) and the receptive field is ``1 + sum(kernel - 1)`` samples
    (``1 + 4 * (kernel_size - 1)`` for one kernel size: 1017 samples, 46 ms at 22.05 kHz, for 255).

    With ``residual=True`` every layer adds its input to its output: ``y = conv(x) + skip(x)``, where
    ``conv(x)`` is the layer's output after its ReLU (none on conv 4) and ``skip(x)`` is ``x`` itself when the
    layer keeps the channel count, else a learned 1x1 linear projection of ``x`` (no bias) to the layer's
    width. With the default widths, conv 2 and 3 get identity skips and conv 1 (``channels`` -> ``filters[0]``)
    and conv 4 (``filters[2]`` -> ``len(sources) * channels``) get projections. The projections see one
    sample each, so they leave the receptive field unchanged.

    Input ``(batch, context_samples, channels)`` float32 waveform; output
    ``(batch, context_samples, len(sources) * channels)`` source-major: source ``s``, channel ``c`` is
    ``output[..., s * channels + c]``.

    Args:
        sources: names of the separated sources, in output order (tuple of str).
        sample_rate: sample rate the model works at, Hz (int).
        channels: audio channels of the mixture and of each source, 1 = mono (int).
        context_samples: window length, samples at ``sample_rate`` (int); any length >= 1.
        filters: output channels of conv 1, 2 and 3 (3 ints); conv 4's are ``len(sources) * channels``.
        kernel_size: kernel length of every conv, samples (int), or one per conv (4 ints).
        residual: add each conv's input to its output, through a 1x1 projection where widths differ (bool).

    Example:
    ```python
    import numpy as np, sepzoo
    model = sepzoo.models.ConvBaseline(sources=("drums", "bass"), context_samples=512, kernel_size=31,
                                       filters=(8, 8, 8), residual=True)
    stems = model.predict(np.zeros((1, 512, 1), "float32"))   # (1, 512, 2)
    model = sepzoo.load("conv_baseline", weights=None)          # the zoo entry, random weights
    ```
    """

    def __init__(
        self,
        sources: Sequence[str] = ("drums", "piano", "strings", "bass"),
        sample_rate: int = 22050,
        channels: int = 1,
        context_samples: int = 4410,
        filters: Sequence[int] = (64, 64, 64),
        kernel_size: int | Sequence[int] = 255,
        residual: bool = False,
        **kwargs,
    ):
        sources = tuple(sources)
        filters = tuple(int(f) for f in filters)
        kernels = (int(kernel_size),) * N_LAYERS if isinstance(kernel_size, int) else tuple(int(k) for k in kernel_size)
        if not sources:
            raise ValueError("sources must name at least one source")
        if len(filters) != N_LAYERS - 1 or min(filters) < 1:
            raise ValueError(f"filters needs {N_LAYERS - 1} positive numbers (conv 1 to 3), got {list(filters)}")
        if len(kernels) != N_LAYERS or min(kernels) < 1:
            raise ValueError(f"kernel_size must be a positive int or {N_LAYERS} of them, got {kernel_size!r}")
        if channels < 1 or context_samples < 1:
            raise ValueError(f"channels and context_samples must be positive, got {channels}, {context_samples}")
        widths = (*filters, len(sources) * channels)

        # === Layers ===
        convs = [
            layers.Conv1D(width, kernel, padding="same", activation="relu" if i < N_LAYERS else None,
                          name=f"conv_{i}")
            for i, (width, kernel) in enumerate(zip(widths, kernels), start=1)
        ]
        in_widths = (channels, *widths[:-1])
        skips = [
            None if not residual else
            (lambda x: x) if w_in == w_out else layers.Conv1D(w_out, 1, use_bias=False, name=f"skip_{i}")
            for i, (w_in, w_out) in enumerate(zip(in_widths, widths), start=1)
        ]

        # === Functional graph ===
        mixture = keras.Input(shape=(context_samples, channels), name="mixture")
        x = mixture
        for i, (conv, skip) in enumerate(zip(convs, skips), start=1):
            y = conv(x)
            x = layers.Add(name=f"residual_{i}")([y, skip(x)]) if residual else y
        super().__init__(inputs=mixture, outputs=x, **{"name": "conv_baseline", **kwargs})

        # === Config ===
        self.filters = filters
        self.kernel_size = kernel_size if isinstance(kernel_size, int) else kernels
        self.residual = bool(residual)
        self._set_fields(
            sources=sources,
            sample_rate=sample_rate,
            channels=channels,
            context_samples=context_samples,
            target_samples=context_samples,
            receptive_field=receptive_field(self),
        )

    def get_config(self):
        return {
            **self.window_config(),
            "filters": list(self.filters),
            "kernel_size": self.kernel_size if isinstance(self.kernel_size, int) else list(self.kernel_size),
            "residual": self.residual,
        }
