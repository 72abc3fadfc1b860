"""LightweightASPP: a ~0.85 M-parameter Wave-U-Net-style waveform separator (docs/research.md, part B)."""

from __future__ import annotations

from typing import Sequence

import keras
from keras import layers

from sepzoo.models.base import SeparationModel, register_model
from sepzoo.models.layers import (
    AtrousSpatialPyramidPooling,
    DepthToTime,
    DownsamplingBlock,
    LearnedBasisMasking,
    Rescale,
    ResidualSource,
    TemporalAttention,
    TimeToDepth,
    WindowStandardize,
)
from sepzoo.models.lightweight_aspp_presets import PRESETS
from sepzoo.models.receptive_field import receptive_field

VARIANTS = {
    "a": "receptive-field-preserving decoder (RFPD), no attention",
    "b": "RFPD + temporal attention at the last layer",
    "c": "upsampling decoder + temporal attention",
}
OUTPUT_HEADS = {
    "waveform": "depth-to-time back to the sample rate, then a 1x1 conv over features + mixture",
    "mask": "sigmoid masks over a learned filterbank of the mixture at the bottleneck rate (RFPD only)",
}


@register_model(presets=PRESETS)
class LightweightASPP(SeparationModel):
    """Waveform-to-waveform separator with an ASPP encoder and a receptive-field-preserving decoder.

    After the lightweight end-to-end separation model of docs/research.md, part B. A stem conv and four downsampling
    blocks (stride-2 conv + depthwise-separable conv) bring the mixture to 1/16 of the sample rate, where an
    ASPP bottleneck (atrous separable convs at several rates + global pooling) widens the receptive field to
    the whole context window. The decoder is one of three variants:

    - ``"a"``: RFPD. The skip features of each encoder level are folded down to the bottleneck's frame rate
      with time-to-depth and decoded there, so every decoder kernel keeps the bottleneck's reach; one
      depth-to-time at the end restores the sample rate.
    - ``"b"``: RFPD plus temporal attention (a learned per-sample gate) before the output conv.
    - ``"c"``: a classic upsampling decoder (x2 per level, concatenated skips) plus temporal attention.

    Two output heads: ``"waveform"`` (the paper's: depth-to-time, then a 1x1 conv over the features and the
    mixture writes every sample) and ``"mask"`` (RFPD variants only: the decoder's frames, one per 16 samples,
    give sigmoid masks over a learned 256-filter analysis of the mixture, and one shared transposed conv
    synthesises each source, as in TasNet). The mask head learns much faster from few steps.

    Input ``(batch, context_samples, channels)``; output ``(batch, context_samples, len(sources) * channels)``
    source-major (``target_samples == context_samples``). With ``residual_last_source`` the last source is
    the mixture minus the others, so the sources always sum to the mixture.

    Args:
        sources: names of the separated sources, in output order.
        sample_rate: sample rate the model works at, Hz.
        channels: audio channels of the mixture and of each source (1 = mono).
        context_samples: window length in samples; a multiple of 16.
        variant: ``"a"``, ``"b"`` or ``"c"`` (see above).
        encoder_channels: filters of the stem conv and of the four downsampling blocks (5 numbers).
        aspp_channels: filters of each ASPP branch and of its output.
        aspp_rates: dilation rates of the ASPP's atrous branches (in bottleneck frames).
        aspp_kernel_size: kernel of the atrous branches, frames.
        kernel_size: kernel of the stem and the separable convs, frames.
        decoder_channels: filters of each RFPD decoder stage (variants a and b).
        upsampling_channels: filters of the upsampling decoder's four levels, deepest first (variant c);
            ``None`` mirrors the encoder (``encoder_channels[3::-1]``).
        output_channels_per_sample: features per output sample before the last conv (RFPD depth-to-time).
        attention_kernel_size: kernel of the temporal attention gate, samples.
        residual_last_source: compute the last source as mixture minus the others.
        output_head: ``"waveform"`` or ``"mask"`` (see above).
        normalize: standardise each input window by its RMS (undone on the output) and layer-normalise the
            features after every encoder block, the ASPP and every decoder stage. Not in the paper: without it
            the unnormalised stack barely trains in a CPU budget of a few thousand steps.
        basis_size: filters of the mask head's learned filterbank.
        basis_kernel_size: length of those filters, samples (a multiple of 16; default 32), or several lengths
            for a multi-resolution bank that splits the filters evenly between them (e.g. ``(32, 512)``).

    Example:
    ```python
    import numpy as np, sepzoo
    model = sepzoo.models.LightweightASPP(sources=("vocals", "accompaniment"), variant="b")
    stems = model.predict(np.zeros((1, 16384, 1), "float32"))   # (1, 16384, 2)
    model = sepzoo.load("lightweight_aspp")                       # shipped weights
    ```
    """

    def __init__(
        self,
        sources: Sequence[str] = ("drums", "bass", "keys", "other"),
        sample_rate: int = 22050,
        channels: int = 1,
        context_samples: int = 16384,
        variant: str = "b",
        encoder_channels: Sequence[int] = (24, 48, 96, 128, 160),
        aspp_channels: int = 96,
        aspp_rates: Sequence[int] = (1, 8, 32, 128),
        aspp_kernel_size: int = 9,
        kernel_size: int = 15,
        decoder_channels: int = 172,
        upsampling_channels: Sequence[int] | None = None,
        output_channels_per_sample: int = 16,
        attention_kernel_size: int = 15,
        residual_last_source: bool = True,
        output_head: str = "waveform",
        basis_size: int = 256,
        basis_kernel_size: int | Sequence[int] = 32,
        normalize: bool = True,
        **kwargs,
    ):
        if variant not in VARIANTS:
            raise ValueError(f"variant must be one of {sorted(VARIANTS)}, got {variant!r}")
        if output_head not in OUTPUT_HEADS or (output_head == "mask" and variant == "c"):
            raise ValueError(f"output_head must be one of {sorted(OUTPUT_HEADS)} ('mask' needs variant a or b), "
                             f"got {output_head!r} with variant {variant!r}")
        if len(encoder_channels) != 5:
            raise ValueError(f"encoder_channels needs 5 numbers (stem + 4 blocks), got {list(encoder_channels)}")
        upsampling_channels = tuple(upsampling_channels or encoder_channels[3::-1])
        if len(upsampling_channels) != 4:
            raise ValueError(f"upsampling_channels needs 4 numbers (deepest level first), got {list(upsampling_channels)}")
        if context_samples % 16:
            raise ValueError(f"context_samples must be a multiple of 16, got {context_samples}")
        sources = tuple(sources)
        n_estimated = len(sources) - int(residual_last_source)

        # === Layers ===
        stem = layers.Conv1D(encoder_channels[0], kernel_size, padding="same", activation="leaky_relu", name="stem")
        down_blocks = [
            DownsamplingBlock(filters, kernel_size, separable_stride=(level == 3), name=f"down_{level + 1}")
            for level, filters in enumerate(encoder_channels[1:])
        ]
        aspp = AtrousSpatialPyramidPooling(aspp_channels, aspp_rates, aspp_kernel_size, name="aspp")
        attention = TemporalAttention(attention_kernel_size, name="temporal_attention") if variant != "a" else None
        if output_head == "mask":
            head = layers.Conv1D(n_estimated * basis_size, 1, name="mask_logits")
            masking = LearnedBasisMasking(n_estimated, basis_size, 16, channels, basis_kernel_size,
                                          name="learned_basis_masking")
        else:
            head = layers.Conv1D(n_estimated * channels, 1, name="head")

        # === Functional graph ===
        norm = self._layer_norm if normalize else (lambda x, name: x)
        mixture = keras.Input(shape=(context_samples, channels), name="mixture")
        scaled, rms = WindowStandardize(name="standardize")(mixture) if normalize else (mixture, None)
        skips = [stem(scaled)]
        for level, block in enumerate(down_blocks):
            skips.append(norm(block(skips[-1]), f"norm_down_{level + 1}"))
        x = norm(aspp(skips[-1]), "norm_aspp")
        if variant == "c":
            x = self._upsampling_decoder(x, skips, upsampling_channels, kernel_size, norm)
        else:
            x = self._rfpd_decoder(x, skips, decoder_channels, kernel_size, norm)
        if output_head == "mask":
            if attention is not None:
                x = attention(x)
            estimates = masking([mixture, head(x)])
        else:
            if variant != "c":
                x = layers.Conv1D(16 * output_channels_per_sample, 1, activation="leaky_relu", name="to_depth")(x)
                x = DepthToTime(16, name="unfold")(x)
            x = layers.Concatenate(name="with_mixture")([x, scaled])
            if attention is not None:
                x = attention(x)
            estimates = head(x)
            if normalize:
                estimates = Rescale(name="rescale")([estimates, rms])
        outputs = ResidualSource(name="residual_source")([mixture, estimates]) if residual_last_source else estimates
        super().__init__(inputs=mixture, outputs=outputs, **{"name": "lightweight_aspp", **kwargs})

        # === Config ===
        self.variant = variant
        self.encoder_channels = tuple(encoder_channels)
        self.aspp_channels = aspp_channels
        self.aspp_rates = tuple(aspp_rates)
        self.aspp_kernel_size = aspp_kernel_size
        self.kernel_size = kernel_size
        self.decoder_channels = decoder_channels
        self.upsampling_channels = upsampling_channels
        self.output_channels_per_sample = output_channels_per_sample
        self.attention_kernel_size = attention_kernel_size
        self.residual_last_source = residual_last_source
        self.output_head = output_head
        self.basis_size = basis_size
        self.basis_kernel_size = basis_kernel_size
        self.normalize = normalize
        self._set_fields(
            sources=sources,
            sample_rate=sample_rate,
            channels=channels,
            context_samples=context_samples,
            target_samples=context_samples,
            receptive_field=receptive_field(self),
        )

    @staticmethod
    def _layer_norm(x, name: str):
        return layers.LayerNormalization(name=name)(x)

    @staticmethod
    def _rfpd_decoder(x, skips, filters: int, kernel_size: int, norm):
        """Decode at the bottleneck's frame rate with the skips folded down to it by time-to-depth.

        ``x``: ``(B, T / 16, C)``; ``skips[level]``: ``(B, T / 2**level, C_level)``. Returns ``(B, T / 16, filters)``.
        """
        for level in range(3, -1, -1):
            factor = 2 ** (4 - level)
            folded = TimeToDepth(factor, name=f"fold_{level}")(skips[level])
            x = layers.Concatenate(name=f"merge_{level}")([x, folded])
            x = layers.Conv1D(filters, 1, activation="leaky_relu", name=f"project_{level}")(x)
            x = layers.SeparableConv1D(
                filters, kernel_size, padding="same", activation="leaky_relu", name=f"decode_{level}"
            )(x)
            x = norm(x, f"norm_decode_{level}")
        return x

    @staticmethod
    def _upsampling_decoder(x, skips, channels: Sequence[int], kernel_size: int, norm):
        """Wave-U-Net-style decoder: x2 upsampling, concatenated skip, separable conv of ``channels[3 - level]``
        filters, per level (deepest first)."""
        for level in range(3, -1, -1):
            x = layers.UpSampling1D(2, name=f"upsample_{level}")(x)
            x = layers.Concatenate(name=f"merge_{level}")([x, skips[level]])
            x = layers.SeparableConv1D(
                channels[3 - level], kernel_size, padding="same", activation="leaky_relu", name=f"decode_{level}"
            )(x)
            x = norm(x, f"norm_decode_{level}")
        return x

    def get_config(self):
        return {
            **self.window_config(),
            "variant": self.variant,
            "encoder_channels": list(self.encoder_channels),
            "aspp_channels": self.aspp_channels,
            "aspp_rates": list(self.aspp_rates),
            "aspp_kernel_size": self.aspp_kernel_size,
            "kernel_size": self.kernel_size,
            "decoder_channels": self.decoder_channels,
            "upsampling_channels": list(self.upsampling_channels),
            "output_channels_per_sample": self.output_channels_per_sample,
            "attention_kernel_size": self.attention_kernel_size,
            "residual_last_source": self.residual_last_source,
            "output_head": self.output_head,
            "basis_size": self.basis_size,
            "basis_kernel_size": (self.basis_kernel_size if isinstance(self.basis_kernel_size, int)
                                  else list(self.basis_kernel_size)),
            "normalize": self.normalize,
        }
