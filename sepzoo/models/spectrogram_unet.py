"""Spectrogram U-Net: a magnitude-mask U-Net over the mixture's STFT, the P1-P5 models of docs/research.md, part A."""

from __future__ import annotations

import math
from typing import Sequence

import keras
import numpy as np
from keras import layers

from sepzoo.models.base import SeparationModel, register_model
from sepzoo.models.layers import (
    STFT,
    CompressedMagnitude,
    InverseSTFT,
    SpectrogramMasking,
    TimeFrequencyConv,
    TimeFrequencyConvTranspose,
)
from sepzoo.models.spectrogram_unet_presets import PRESETS

MASK_ACTIVATIONS = {"softmax": "across sources: the sources add up to the mixture", "sigmoid": "each source on its own"}


def spectrogram_unet_context(target_samples: int, fft_size: int, hop_size: int, depth: int, causal: bool) -> int:
    """The shortest window this U-Net can take that is at least ``target_samples`` (and ``fft_size``) long.

    The STFT centres frame ``f`` on sample ``f * hop_size``, so a window of ``T`` samples has ``T / hop_size + 1``
    frames and the inverse STFT gives back all ``T`` samples when ``T`` is a multiple of ``hop_size``. A
    non-causal U-Net halves the frame axis ``depth`` times, so its frame count must also be a multiple of
    ``2**depth``: valid windows are ``(k * 2**depth - 1) * hop_size`` samples (16 256 = 127 * 128 for depth 4,
    hop 128). A causal one keeps every frame, so any multiple of ``hop_size`` of at least ``fft_size`` will do.

    Args:
        target_samples: the window length wanted, samples.
        fft_size, hop_size: STFT frame and hop, samples.
        depth: U-Net levels.
        causal: whether the U-Net downsamples along frequency only.
    """
    multiple = 1 if causal else 2**depth
    frames = math.ceil(max(target_samples, fft_size) / hop_size) + 1
    return (math.ceil(frames / multiple) * multiple - 1) * hop_size


def receptive_field_samples(first: np.ndarray, last: np.ndarray, fft_size: int, hop_size: int, samples: int) -> int:
    """The widest input span, in samples, that one output sample of an STFT-masking model depends on.

    ``first[f]`` .. ``last[f]``: the input frames the mask of frame ``f`` depends on. Frame ``f`` is centred on
    sample ``f * hop_size`` (``center=True``); its periodic Hann window is non-zero on ``f * hop_size - fft_size / 2
    + 1 .. f * hop_size + fft_size / 2 - 1``. Output sample ``n`` is made of the frames whose window covers it and
    depends on every input sample the windows of their spans cover, clipped to the ``samples``-sample window.
    """
    half = fft_size // 2
    n = np.arange(samples)
    lowest = np.clip(-((half - 1 - n) // hop_size), 0, len(first) - 1)  # the first frame covering n
    highest = np.clip((n + half - 1) // hop_size, 0, len(first) - 1)  # the last one
    start = np.maximum(first[lowest] * hop_size - half + 1, 0)
    end = np.minimum(last[highest] * hop_size + half - 1, samples - 1)
    return int(np.max(end - start + 1))


@register_model(presets=PRESETS)
class SpectrogramUNet(SeparationModel):
    """A U-Net over the mixture's magnitude spectrogram that predicts one mask per source and channel.

    The mixture window goes through the shared :class:`~sepzoo.models.layers.STFT` (periodic Hann frames of
    ``fft_size`` samples every ``hop_size`` samples, centred, reflect-padded at the window's ends). Its magnitude,
    compressed to ``|X| ** magnitude_exponent`` with the Nyquist bin dropped (``fft_size / 2`` bins, so the
    frequency axis halves evenly), is the U-Net's input, ``(frames, bins)`` with the audio channels as features.
    After the U-Net of Jansson et al. (2017, "Singing voice separation with deep U-Net convolutional networks"),
    at a fixed ``depth``: encoder level ``i`` is one strided 3x3 conv of ``base_filters * 2**i`` filters
    (LeakyReLU 0.2) that halves frequency and time (frequency only when ``causal``); decoder level ``i`` is a
    transposed conv back to level ``i - 1``'s size and filters, concatenated with that level's encoder output;
    the last transposed conv restores full resolution with one mask logit per source and channel. The masks
    (``mask_activation``; the Nyquist bin takes its neighbour's) multiply the mixture's complex STFT, so every
    source keeps the mixture phase, and the shared :class:`~sepzoo.models.layers.InverseSTFT` resynthesises it.

    With ``causal=True`` every time axis is kept (strides 1 along time) and convs are padded with past frames
    only, so output sample ``n`` depends on input samples up to ``n + fft_size - 1`` and nothing later: the
    algorithmic latency is the STFT window (``fft_size`` samples, 32 ms at the defaults), with no hop of
    look-ahead in the network. Otherwise the model sees the whole window (its latency is ``context_samples``).

    The output window is the input window (``target_samples == context_samples``, see
    :func:`spectrogram_unet_context` for the lengths allowed). :attr:`receptive_field` is computed from the layers:
    each one's exact frame dependencies (``frame_span``), then the STFT windows that make and cover an output sample
    (:func:`receptive_field_samples`); a gradient test checks it against the model itself.

    Input ``(batch, context_samples, channels)``; output ``(batch, context_samples, len(sources) * channels)``,
    source-major (source ``s``, channel ``c`` at ``s * channels + c``).

    Args:
        sources: names of the separated sources, in output order.
        sample_rate: sample rate the model works at, Hz (the STFT sizes are in samples, so scale them with it).
        channels: audio channels of the mixture and of each source (1 = mono); each channel gets its own masks.
        target_samples: window length wanted, samples; rounded up to the nearest valid one. Ignored when
            ``context_samples`` is given.
        context_samples: window length, samples; must be a valid one (``model.get_config()`` records it).
            ``None``: computed from ``target_samples``.
        fft_size: STFT frame and FFT length, samples (512 = 32 ms at 16 kHz); ``fft_size / 2`` must be a multiple
            of ``2**depth``.
        hop_size: STFT hop, samples (128 = 8 ms at 16 kHz; 75 % overlap).
        base_filters: filters of the first encoder level; level ``i`` has ``base_filters * 2**i`` (P1-P5: 4, 8,
            16, 32, 64).
        depth: encoder (and decoder) levels.
        kernel_size: conv taps along time and frequency (frames and bins), at least 2.
        magnitude_exponent: power-law compression of the input magnitudes (0.3: a 60 dB range becomes 18 dB;
            1.0: linear). The masks always apply to the uncompressed STFT.
        mask_activation: ``"softmax"`` across sources (masks add up to 1, so the sources add up to the mixture up
            to the STFT round trip; the default) or ``"sigmoid"`` per source.
        causal: no look-ahead beyond the STFT window (see above).

    Example:
    ```python
    import numpy as np
    from sepzoo.models import SpectrogramUNet
    model = SpectrogramUNet(base_filters=8, target_samples=16000)   # speech / noise, 16 kHz mono
    print(model.context_samples, model.receptive_field)             # 16256 8447
    stems = model(np.zeros((1, model.context_samples, 1), "float32"))   # (1, 16256, 2)
    import sepzoo
    model = sepzoo.load("spectrogram_unet_p3", weights=None)        # P3, 16 base filters
    ```
    """

    def __init__(
        self,
        sources: Sequence[str] = ("speech", "noise"),
        sample_rate: int = 16000,
        channels: int = 1,
        target_samples: int = 16000,
        context_samples: int | None = None,
        fft_size: int = 512,
        hop_size: int = 128,
        base_filters: int = 16,
        depth: int = 4,
        kernel_size: int = 3,
        magnitude_exponent: float = 0.3,
        mask_activation: str = "softmax",
        causal: bool = False,
        **kwargs,
    ):
        if mask_activation not in MASK_ACTIVATIONS:
            raise ValueError(f"mask_activation must be one of {sorted(MASK_ACTIVATIONS)}, got {mask_activation!r}")
        if depth < 1 or kernel_size < 2 or base_filters < 1:
            raise ValueError(f"depth={depth} and base_filters={base_filters} must be >= 1 and kernel_size="
                             f"{kernel_size} >= 2")
        if not 1 <= hop_size <= fft_size or (fft_size // 2) % 2**depth:
            raise ValueError(f"fft_size={fft_size} / 2 must be a multiple of 2**depth={2**depth} and hop_size="
                             f"{hop_size} between 1 and fft_size")
        sources = tuple(sources)
        if context_samples is None:
            context_samples = spectrogram_unet_context(target_samples, fft_size, hop_size, depth, causal)
        self._check_context(context_samples, fft_size, hop_size, depth, causal)
        time_stride = 1 if causal else 2

        # === Layers ===
        stft = STFT(fft_size, hop_size, center=True, output="complex", name="stft")
        magnitude = CompressedMagnitude(magnitude_exponent, bins=fft_size // 2, name="magnitude")
        down = [TimeFrequencyConv(base_filters * 2**level, kernel_size, strides=(time_stride, 2), causal=causal,
                                  name=f"down_{level}") for level in range(depth)]
        up = [TimeFrequencyConvTranspose(base_filters * 2 ** (level - 1) if level else len(sources) * channels,
                                         kernel_size, strides=(time_stride, 2), causal=causal,
                                         activation="leaky_relu" if level else None, name=f"up_{level}")
              for level in range(depth)]
        masking = SpectrogramMasking(len(sources), mask_activation, name="masking")
        inverse = InverseSTFT(fft_size, hop_size, center=True, length=context_samples, name="inverse_stft")

        # === Functional graph ===
        mixture = keras.Input((context_samples, channels), name="mixture")
        real, imag = stft(mixture)
        x = magnitude((real, imag))
        skips = []
        for conv in down:
            x = conv(x)
            skips.append(x)
        for level in range(depth - 1, -1, -1):
            if level < depth - 1:
                x = layers.Concatenate(name=f"merge_{level}")([x, skips[level]])
            x = up[level](x)
        estimates = inverse(masking([real, imag, x]))
        super().__init__(inputs=mixture, outputs=estimates, **{"name": "spectrogram_unet", **kwargs})

        # === Config ===
        self.fft_size = int(fft_size)
        self.hop_size = int(hop_size)
        self.base_filters = int(base_filters)
        self.depth = int(depth)
        self.kernel_size = int(kernel_size)
        self.magnitude_exponent = float(magnitude_exponent)
        self.mask_activation = mask_activation
        self.causal = bool(causal)
        first, last = self._frame_spans(down, up, context_samples // hop_size + 1)
        self.look_ahead_frames = int(np.max(last - np.arange(len(last))))
        self._set_fields(sources=sources, sample_rate=sample_rate, channels=channels,
                         context_samples=context_samples, target_samples=context_samples,
                         receptive_field=receptive_field_samples(first, last, fft_size, hop_size, context_samples))

    @staticmethod
    def _check_context(context_samples: int, fft_size: int, hop_size: int, depth: int, causal: bool) -> None:
        """Raise ValueError, naming the valid lengths, unless the U-Net can take ``context_samples``."""
        if context_samples != spectrogram_unet_context(context_samples, fft_size, hop_size, depth, causal):
            shortest = spectrogram_unet_context(1, fft_size, hop_size, depth, causal)
            rule = (f"multiples of {hop_size} from {shortest}" if causal else
                    f"(k * {2**depth} - 1) * {hop_size} for k >= 1, from {shortest}")
            nearest = spectrogram_unet_context(context_samples, fft_size, hop_size, depth, causal)
            raise ValueError(f"context_samples={context_samples} is not a window length this SpectrogramUNet can "
                             f"take: valid lengths are {rule} (the next is {nearest}); pass target_samples "
                             "instead and the model computes its window")

    @staticmethod
    def _frame_spans(down, up, frames: int) -> tuple[np.ndarray, np.ndarray]:
        """For every output frame, the first and last input frame its masks depend on, following the graph: each
        layer's own ``frame_span``, skips merged by taking the wider span (the frame itself always counts)."""
        first = last = np.arange(frames)
        skips = []
        for conv in down:
            first, last = conv.frame_span(first, last)
            skips.append((first, last))
        for level in range(len(up) - 1, -1, -1):
            if level < len(up) - 1:
                first, last = np.minimum(first, skips[level][0]), np.maximum(last, skips[level][1])
            first, last = up[level].frame_span(first, last)
        return np.minimum(first, np.arange(frames)), np.maximum(last, np.arange(frames))

    @property
    def algorithmic_latency(self) -> int:
        """Samples from an input sample arriving to the first output that depends on it being computable.

        Causal: the STFT window, ``fft_size``, plus a hop per frame of look-ahead in the U-Net (none: its convs
        see past frames only), so output sample ``n`` needs input up to ``n + fft_size - 1``: what a frame-by-frame
        streaming run waits for. Otherwise the whole window, ``context_samples``, as for any windowed model.
        """
        if self.causal:
            return self.fft_size + self.look_ahead_frames * self.hop_size
        return self.context_samples

    def get_config(self):
        return {
            **self.window_config(),
            "fft_size": self.fft_size,
            "hop_size": self.hop_size,
            "base_filters": self.base_filters,
            "depth": self.depth,
            "kernel_size": self.kernel_size,
            "magnitude_exponent": self.magnitude_exponent,
            "mask_activation": self.mask_activation,
            "causal": self.causal,
        }
