"""Wave-U-Net: the multi-scale waveform U-Net of Stoller et al. (2018), the baseline of docs/research.md, part B."""

from __future__ import annotations

import math
from typing import Sequence

import keras
import numpy as np
from keras import layers

from sepzoo.models.base import SeparationModel, register_model
from sepzoo.models.layers import (
    CenterCrop,
    Decimate,
    InterpolateUpsample,
    Rescale,
    ResidualSource,
    WindowStandardize,
)
from sepzoo.models.wave_u_net_presets import PRESETS

UPSAMPLING = {"linear": "linear interpolation (aligned corners)", "learned": "learned per-channel interpolation"}
OUTPUTS = {"difference": "last source = mixture - the others", "direct": "one output conv per source"}


def _geometry_from_bottleneck(bottleneck: int, num_layers: int, down_kernel_size: int,
                              up_kernel_size: int) -> tuple[int, int]:
    """``(context_samples, target_samples)`` of a Wave-U-Net whose bottleneck conv outputs ``bottleneck`` frames."""
    context, target = bottleneck + down_kernel_size - 1, bottleneck
    for _ in range(num_layers):
        target = 2 * target - 1 - (up_kernel_size - 1)
        context = 2 * context - 1 + down_kernel_size - 1
    return context, target


def wave_u_net_geometry(num_layers: int, down_kernel_size: int, up_kernel_size: int,
                        target_samples: int) -> tuple[int, int]:
    """``(context_samples, target_samples)`` of a Wave-U-Net whose output is at least ``target_samples`` long.

    Valid convolutions shrink every feature map, so only some lengths are possible: walk from the wanted
    output down to the bottleneck (each up level: ``+ up_kernel_size - 1``, then ``(n + 1) / 2``), round the
    bottleneck length up, then walk back up to the output (``2n - 1``, ``- (up_kernel_size - 1)``) and down
    to the input (``2n - 1``, ``+ (down_kernel_size - 1)``). Possible lengths step by ``2**num_layers``. The
    paper's M3-M5 (12 levels, kernels 15 and 5, 16 384 wanted) need 147 443 input samples for 16 389 output
    samples.

    Args:
        num_layers: downsampling (and upsampling) levels.
        down_kernel_size: kernel of the downsampling convs (and of the bottleneck conv), samples.
        up_kernel_size: kernel of the upsampling convs, samples.
        target_samples: the output length wanted, samples (at least 1).
    """
    frames = float(max(1, target_samples))
    for _ in range(num_layers):
        frames = (frames + up_kernel_size - 1 + 1) / 2
    return _geometry_from_bottleneck(max(2, math.ceil(frames)), num_layers, down_kernel_size, up_kernel_size)


def wave_u_net_receptive_field(context_samples: int, num_layers: int, down_kernel_size: int,
                                up_kernel_size: int) -> int:
    """Input samples the widest-seeing output sample depends on (its receptive field).

    Follows the first and last input sample of every frame through the graph. Interpolated frames mix two
    neighbours, so most output samples see more than the valid-convolution arithmetic
    (``context - target + 1``) says, though never beyond the context window.
    """
    def conv(span, kernel):
        return span[0][: len(span[0]) - kernel + 1], span[1][kernel - 1:]

    def crop(span, frames):
        start = (len(span[0]) - frames) // 2
        return span[0][start:start + frames], span[1][start:start + frames]

    span = (np.arange(context_samples), np.arange(context_samples))
    skips = []
    for _ in range(num_layers):
        skips.append(conv(span, down_kernel_size))
        span = (skips[-1][0][::2], skips[-1][1][::2])
    span = conv(span, down_kernel_size)
    for skip in reversed(skips):
        first, last = np.repeat(span[0], 2)[:-1], np.repeat(span[1], 2)[1:]  # odd frames: both neighbours
        skip_first, skip_last = crop(skip, len(first))
        span = conv((np.minimum(first, skip_first), np.maximum(last, skip_last)), up_kernel_size)
    return int(np.max(span[1] - span[0]) + 1)


@register_model(presets=PRESETS)
class WaveUNet(SeparationModel):
    """Wave-U-Net: valid 1-D convolutions on ``num_layers`` time scales with crop-and-concatenate skips.

    Level ``i`` (0-based) of the encoder is a valid conv of ``filters_per_layer * (i + 1)`` filters (kernel
    ``down_kernel_size``, LeakyReLU 0.2) whose output is kept as a skip, then decimation by 2. A bottleneck
    conv of ``filters_per_layer * (num_layers + 1)`` filters follows. Each decoder level doubles the frame
    rate (``upsampling``: linear interpolation, or the learned interpolation of M5), centre-crops the skip of
    the same level to its length, concatenates, and applies a valid conv (kernel ``up_kernel_size``) with as
    many filters as that encoder level. The centre of the mixture is concatenated last and a 1x1 conv
    (``output_activation``) gives each source; with ``output_layer="difference"`` the last source is the (centre of
    the) mixture minus the others.

    Because every conv is valid, the model predicts ``target_samples`` from a longer ``context_samples``
    window centred on it; :func:`wave_u_net_geometry` computes the pair and the Separator and trainer ask the
    model for it. Paper setting (M3-M5): 12 levels, 24 filters per level, kernels 15 / 5, 147 443-sample input,
    16 389-sample output at 22.05 kHz (6.69 s in, 0.743 s out), about 10.2 M parameters.

    Input ``(batch, context_samples, channels)``; output ``(batch, target_samples, len(sources) * channels)``,
    source-major.

    Args:
        sources: names of the separated sources, in output order.
        sample_rate: sample rate the model works at, Hz.
        channels: audio channels of the mixture and of each source (1 = mono, M3; 2 = stereo, M4 / M5).
        target_samples: output length wanted, samples; rounded up to the nearest length the valid convs allow.
            Ignored when ``context_samples`` is given.
        context_samples: input length, samples; must be one the valid convs allow (``model.get_config()``
            records it). ``None``: computed from ``target_samples``.
        num_layers: downsampling / upsampling levels.
        filters_per_layer: filters added per level (the paper's 24).
        down_kernel_size: kernel of the input, downsampling and bottleneck convs, samples.
        up_kernel_size: kernel of the upsampling convs, samples.
        upsampling: ``"linear"`` (M3, M4) or ``"learned"`` (M5).
        output_layer: ``"difference"`` (M2 onwards) or ``"direct"``.
        output_activation: ``"tanh"`` (the paper's) or ``"linear"``.
        normalize: divide each input window by its RMS and multiply the outputs back (not in the paper; use
            with ``output_activation="linear"``).

    Example:
    ```python
    import numpy as np
    from sepzoo.models import WaveUNet
    model = WaveUNet(sources=("vocals", "accompaniment"), num_layers=4, filters_per_layer=8, target_samples=256)
    print(model.context_samples, model.target_samples)          # 755 261
    stems = model(np.zeros((1, model.context_samples, 1), "float32"))   # (1, 261, 2)
    import sepzoo
    model = sepzoo.load("wave_u_net_m3", weights=None)          # the paper's M3, 147 443 -> 16 389 samples
    ```
    """

    def __init__(
        self,
        sources: Sequence[str] = ("vocals", "accompaniment"),
        sample_rate: int = 22050,
        channels: int = 1,
        target_samples: int = 16384,
        context_samples: int | None = None,
        num_layers: int = 12,
        filters_per_layer: int = 24,
        down_kernel_size: int = 15,
        up_kernel_size: int = 5,
        upsampling: str = "linear",
        output_layer: str = "difference",
        output_activation: str = "tanh",
        normalize: bool = False,
        **kwargs,
    ):
        if upsampling not in UPSAMPLING or output_layer not in OUTPUTS:
            raise ValueError(f"upsampling must be one of {sorted(UPSAMPLING)} and output_layer one of {sorted(OUTPUTS)}, "
                             f"got {upsampling!r} and {output_layer!r}")
        if num_layers < 1 or down_kernel_size % 2 == 0 or up_kernel_size % 2 == 0:
            raise ValueError(f"num_layers={num_layers} must be >= 1 and the kernels ({down_kernel_size}, "
                             f"{up_kernel_size}) odd, so skips crop symmetrically")
        sources = tuple(sources)
        if context_samples is None:
            context_samples, target_samples = wave_u_net_geometry(num_layers, down_kernel_size, up_kernel_size,
                                                                  target_samples)
        else:
            target_samples = self._target_for_context(context_samples, num_layers, down_kernel_size,
                                                      up_kernel_size)
        n_estimated = len(sources) - int(output_layer == "difference")

        # === Layers ===
        down_convs = [layers.Conv1D(filters_per_layer * (level + 1), down_kernel_size, activation="leaky_relu",
                                    name=f"down_conv_{level}") for level in range(num_layers)]
        bottleneck = layers.Conv1D(filters_per_layer * (num_layers + 1), down_kernel_size, activation="leaky_relu",
                                   name="bottleneck")
        up_convs = [layers.Conv1D(filters_per_layer * (level + 1), up_kernel_size, activation="leaky_relu",
                                  name=f"up_conv_{level}") for level in range(num_layers)]
        to_sources = layers.Conv1D(n_estimated * channels, 1, activation=output_activation, name="to_sources")

        # === Functional graph ===
        mixture = keras.Input((context_samples, channels), name="mixture")
        x, rms = WindowStandardize(name="standardize")(mixture) if normalize else (mixture, None)
        scaled_mixture = x
        skips = []
        for level, conv in enumerate(down_convs):
            skips.append(conv(x))
            x = Decimate(2, name=f"decimate_{level}")(skips[-1])
        x = bottleneck(x)
        for level in range(num_layers - 1, -1, -1):
            x = InterpolateUpsample(upsampling == "learned", name=f"upsample_{level}")(x)
            skip = CenterCrop(x.shape[1], name=f"crop_skip_{level}")(skips[level])
            x = up_convs[level](layers.Concatenate(name=f"merge_{level}")([skip, x]))
        centre = CenterCrop(target_samples, name="crop_mixture")(scaled_mixture)
        estimates = to_sources(layers.Concatenate(name="with_mixture")([centre, x]))
        if output_layer == "difference":
            estimates = ResidualSource(name="difference_output")([centre, estimates])
        if normalize:
            estimates = Rescale(name="rescale")([estimates, rms])
        super().__init__(inputs=mixture, outputs=estimates, **{"name": "wave_u_net", **kwargs})

        # === Config ===
        self.num_layers = int(num_layers)
        self.filters_per_layer = int(filters_per_layer)
        self.down_kernel_size = int(down_kernel_size)
        self.up_kernel_size = int(up_kernel_size)
        self.upsampling = upsampling
        self.output_layer = output_layer
        self.output_activation = output_activation
        self.normalize = bool(normalize)
        self._set_fields(sources=sources, sample_rate=sample_rate, channels=channels,
                         context_samples=context_samples, target_samples=target_samples,
                         receptive_field=wave_u_net_receptive_field(
                             context_samples, num_layers, down_kernel_size, up_kernel_size))

    @staticmethod
    def _target_for_context(context_samples: int, num_layers: int, down_kernel_size: int,
                            up_kernel_size: int) -> int:
        """The output length for an input of ``context_samples``; raises if the valid convs cannot take it."""
        smallest_context, _ = wave_u_net_geometry(num_layers, down_kernel_size, up_kernel_size, 1)
        offset, _ = _geometry_from_bottleneck(0, num_layers, down_kernel_size, up_kernel_size)
        bottleneck, remainder = divmod(context_samples - offset, 2**num_layers)
        if remainder or context_samples < smallest_context:
            raise ValueError(f"context_samples={context_samples} is not an input length this Wave-U-Net can "
                             f"take: valid lengths are {smallest_context} + k * {2**num_layers}; pass "
                             f"target_samples instead and the model computes its input length")
        return _geometry_from_bottleneck(bottleneck, num_layers, down_kernel_size, up_kernel_size)[1]

    def get_config(self):
        return {
            **self.window_config(),
            "num_layers": self.num_layers,
            "filters_per_layer": self.filters_per_layer,
            "down_kernel_size": self.down_kernel_size,
            "up_kernel_size": self.up_kernel_size,
            "upsampling": self.upsampling,
            "output_layer": self.output_layer,
            "output_activation": self.output_activation,
            "normalize": self.normalize,
        }
