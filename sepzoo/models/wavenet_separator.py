"""WaveNetSeparator: a WaveNet-style waveform separator (docs/research.md, part C)."""

from __future__ import annotations

from typing import Sequence

import keras
from keras import layers

from sepzoo.models.base import SeparationModel, register_model
from sepzoo.models.layers import Rescale, WaveNetBlock, WindowStandardize
from sepzoo.models.receptive_field import receptive_field
from sepzoo.models.wavenet_separator_presets import PRESETS


@register_model(presets=PRESETS)
class WaveNetSeparator(SeparationModel):
    """Stacks of dilated-conv blocks with residual and skip outputs, then a conv head to one waveform per source.

    After the WaveNet-style separator of docs/research.md, part C. A 1x1 conv lifts the mixture to ``filters``
    channels; ``stacks`` stacks of ``blocks_per_stack`` :class:`~sepzoo.models.layers.WaveNetBlock` follow,
    the dilation doubling inside a stack (1, 2, 4, ...) and restarting at 1 in the next. Each block passes a
    residual output to the next block and a skip output to a sum over all blocks; the skip sum goes through
    ``relu``, then one conv per entry of ``head_channels`` (kernel ``head_kernel_size``, ReLU after each; the
    paper's 512 and 256) and a last 1x1 conv to ``len(sources) * channels`` outputs. All convs are non-causal
    with same padding, so the output window is the input window (``target_samples == context_samples``).

    Input ``(batch, context_samples, channels)``; output ``(batch, context_samples, len(sources) * channels)``
    source-major. Receptive field: ``1 + stacks * (kernel_size - 1) * (2**blocks_per_stack - 1)`` samples from
    the blocks plus ``(head_kernel_size - 1)`` per head conv (:attr:`receptive_field` walks the graph).

    Args:
        sources: names of the separated sources, in output order.
        sample_rate: sample rate the model works at, Hz.
        channels: audio channels of the mixture and of each source (1 = mono).
        context_samples: window length, samples.
        stacks: number of stacks of blocks.
        blocks_per_stack: blocks per stack; block ``b`` of a stack has dilation ``2**b``.
        filters: channels of the residual stream.
        skip_channels: channels of each block's skip output.
        kernel_size: taps of each dilated conv.
        head_channels: filters of the head convs after the skip sum (the paper: ``(512, 256)``).
        head_kernel_size: kernel of the head convs, samples.
        normalize: divide each input window by its RMS and multiply the outputs back (not in the paper; it
            keeps quiet and loud windows in one numeric range, which a short CPU training needs).

    Example::

        import numpy as np
        from sepzoo.models import WaveNetSeparator

        model = WaveNetSeparator(stacks=1, blocks_per_stack=4, filters=8, skip_channels=8, head_channels=(16,))
        stems = model(np.zeros((1, model.context_samples, 1), "float32"))   # (1, 4410, 4)
        print(model.describe()["receptive_field"])                           # 33 samples

        import sepzoo
        model = sepzoo.load("wavenet_separator", weights=None)               # the CPU-sized preset
    """

    def __init__(
        self,
        sources: Sequence[str] = ("drums", "piano", "strings", "bass"),
        sample_rate: int = 22050,
        channels: int = 1,
        context_samples: int = 4410,
        stacks: int = 2,
        blocks_per_stack: int = 8,
        filters: int = 32,
        skip_channels: int = 64,
        kernel_size: int = 3,
        head_channels: Sequence[int] = (128, 64),
        head_kernel_size: int = 3,
        normalize: bool = True,
        **kwargs,
    ):
        if stacks < 1 or blocks_per_stack < 1:
            raise ValueError(f"stacks={stacks}, blocks_per_stack={blocks_per_stack}: both must be at least 1")
        outputs_per_sample = len(sources) * channels

        # === Layers ===
        standardize = WindowStandardize(name="standardize") if normalize else None
        lift = layers.Conv1D(filters, 1, name="lift")
        blocks = [
            WaveNetBlock(filters, skip_channels, kernel_size, 2**block, name=f"stack{stack}_block{block}",
                         with_residual=(stack, block) != (stacks - 1, blocks_per_stack - 1))
            for stack in range(stacks) for block in range(blocks_per_stack)
        ]
        head = [layers.Conv1D(width, head_kernel_size, padding="same", activation="relu", name=f"head_{i}")
                for i, width in enumerate(head_channels)]
        to_sources = layers.Conv1D(outputs_per_sample, 1, name="to_sources")

        # === Functional graph ===
        mixture = keras.Input((context_samples, channels), name="mixture")
        x, rms = standardize(mixture) if normalize else (mixture, None)
        x = lift(x)
        skips = []
        for block in blocks:
            x, skip = block(x)
            skips.append(skip)
        x = layers.Activation("relu", name="skip_relu")(layers.Add(name="skip_sum")(skips) if len(skips) > 1
                                                         else skips[0])
        for conv in head:
            x = conv(x)
        estimates = to_sources(x)
        if normalize:
            estimates = Rescale(name="rescale")([estimates, rms])
        super().__init__(inputs=mixture, outputs=estimates, **{"name": "wavenet_separator", **kwargs})

        # === Config ===
        self.stacks = int(stacks)
        self.blocks_per_stack = int(blocks_per_stack)
        self.filters = int(filters)
        self.skip_channels = int(skip_channels)
        self.kernel_size = int(kernel_size)
        self.head_channels = tuple(int(width) for width in head_channels)
        self.head_kernel_size = int(head_kernel_size)
        self.normalize = bool(normalize)
        self._set_fields(sources=sources, sample_rate=sample_rate, channels=channels,
                         context_samples=context_samples, target_samples=context_samples,
                         receptive_field=receptive_field(self))

    def get_config(self):
        return {
            **self.window_config(),
            "stacks": self.stacks,
            "blocks_per_stack": self.blocks_per_stack,
            "filters": self.filters,
            "skip_channels": self.skip_channels,
            "kernel_size": self.kernel_size,
            "head_channels": list(self.head_channels),
            "head_kernel_size": self.head_kernel_size,
            "normalize": self.normalize,
        }
