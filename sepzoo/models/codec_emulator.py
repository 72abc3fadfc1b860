"""Codec emulators: networks trained to imitate a lossy codec's round trip (a 16 kbps MP3 encode and decode).

Two models with the same job and interface, one per domain: :class:`SpectrogramCodecEmulator` maps |STFT| to
|STFT| with a 2-D U-Net and resynthesises with the input's phase; :class:`WaveformCodecEmulator` maps waveform to
waveform with a 1-D U-Net. Both are one-source :class:`~sepzoo.models.base.SeparationModel` s (source
``"coded"``, output window = input window), so ``sepzoo train`` trains them on (lossless, coded) pairs and the
Separator runs them on a file. A trained one stands in for the codec, which is not differentiable, in a
perceptual loss: both give :meth:`codec_magnitudes` (the emulated coded magnitude spectrogram of waveforms of any
length, and optionally the U-Net's encoder feature maps), which works inside a jitted JAX or a TensorFlow graph
train step.
"""

from __future__ import annotations

import math
from typing import Sequence

import keras
import numpy as np
from keras import layers, ops

from sepzoo.models.base import SeparationModel, register_model
from sepzoo.models.codec_emulator_presets import SPECTROGRAM_PRESETS, WAVEFORM_PRESETS
from sepzoo.models.layers import (
    STFT,
    CompressedMagnitude,
    FrequencyCoordinate,
    InverseSTFT,
    PowerLaw,
    ReplaceMagnitude,
    TimeFrequencyConv,
    TimeFrequencyConvTranspose,
)
from sepzoo.models.spectrogram_unet import SpectrogramUNet, receptive_field_samples, spectrogram_unet_context


def _check_common(sources, depth: int, kernel_size: int, base_filters: int, fft_size: int, hop_size: int) -> tuple:
    sources = tuple(sources)
    if len(sources) != 1:
        raise ValueError(f"a codec emulator has one source (the coded signal), got {list(sources)}")
    if depth < 1 or kernel_size < 2 or base_filters < 1:
        raise ValueError(f"depth={depth} and base_filters={base_filters} must be >= 1 and kernel_size="
                         f"{kernel_size} >= 2")
    if not 1 <= hop_size <= fft_size:
        raise ValueError(f"hop_size={hop_size} must be between 1 and fft_size={fft_size}")
    return sources


def _static_samples(waveforms, fft_size: int) -> int:
    samples = waveforms.shape[1]
    if samples is None or len(waveforms.shape) != 3:
        raise ValueError(f"codec_magnitudes takes (batch, samples, channels) waveforms with a known number of "
                         f"samples, got shape {tuple(waveforms.shape)}")
    if samples < fft_size:
        raise ValueError(f"codec_magnitudes needs at least fft_size={fft_size} samples, got {samples}")
    return int(samples)


def _pad_axis_to_multiple(x, axis: int, multiple: int):
    """Zeros at the end of ``axis`` up to a multiple of ``multiple`` (static shapes)."""
    pad = -x.shape[axis] % multiple
    if not pad:
        return x
    widths = [(0, 0)] * len(x.shape)
    widths[axis] = (0, pad)
    return ops.pad(x, widths)


def _crop_features(maps, length: int) -> list:
    """Encoder map of level ``i`` (resolution halved ``i + 1`` times) cut to the frames the unpadded input makes."""
    return [m[:, : -(-length // 2 ** (level + 1))] for level, m in enumerate(maps)]


@register_model(presets=SPECTROGRAM_PRESETS)
class SpectrogramCodecEmulator(SeparationModel):
    """A U-Net from the magnitude spectrogram of a signal to that of the signal after a lossy codec round trip.

    The core is :attr:`magnitude_model`, a functional Keras model from LINEAR magnitudes
    ``(batch, frames, fft_size // 2 + 1, channels)`` (``frames`` any multiple of ``2**depth``) to the emulated
    coded linear magnitudes of the same shape, always >= 0. Inside it the magnitudes are compressed to
    ``|X| ** magnitude_exponent`` (:class:`~sepzoo.models.layers.PowerLaw`), the Nyquist bin is dropped (so the
    frequency axis halves evenly) and a frequency-coordinate channel ``bin / bins`` is appended
    (:class:`~sepzoo.models.layers.FrequencyCoordinate`: a codec treats frequencies very differently, above all it
    removes everything over its low-pass cutoff, and shift-invariant convs could otherwise only tell bins apart near
    the spectrum's edges). The U-Net is SpectrogramUNet's (Jansson et al. 2017): encoder level ``i`` is a strided
    3x3 :class:`~sepzoo.models.layers.TimeFrequencyConv` of ``base_filters * 2**i`` filters (LeakyReLU 0.2)
    halving time and frequency; decoder level ``i`` a transposed conv back to level ``i - 1``'s size and filters,
    concatenated with that level's encoder output; the last one restores full resolution with ``base_filters``
    maps, and a 1x1 conv (the ``head``) gives one value per bin and channel.

    The output is a residual on the compressed input, rectified: ``relu(compressed_in + head)``, decompressed by
    ``** (1 / magnitude_exponent)``; the Nyquist bin comes back as 0. Why this form: at low bit rates a codec is
    close to the identity where it spends its bits (low frequencies) and outputs exact zeros where it spends none
    (above its low-pass cutoff, and in bands it drops); a residual makes the first cheap to learn and the ``relu``
    lets the second be exactly 0, with no sigmoid to saturate. The head is initialised to zeros, so an untrained
    emulator is the identity (up to the zeroed Nyquist bin and the 1e-12 smoothing of the power laws).

    The waveform model: the shared :class:`~sepzoo.models.layers.STFT` (periodic Hann frames of ``fft_size``
    samples every ``hop_size``, centred) of the input window, its magnitude through :attr:`magnitude_model`, the
    emulated magnitude given the input's phase (:class:`~sepzoo.models.layers.ReplaceMagnitude`), and the shared
    :class:`~sepzoo.models.layers.InverseSTFT` back to ``context_samples`` samples: the coded waveform.
    :attr:`receptive_field` is computed from the layers as SpectrogramUNet's is (each conv's exact frame span, then
    the STFT windows that make and cover an output sample); a gradient test checks it.

    Input ``(batch, context_samples, channels)``; output ``(batch, context_samples, channels)``, the emulated coded
    waveform (``target_samples == context_samples``).

    Args:
        sources: the one output's name, ``("coded",)``; it names the file the Separator writes (``coded.wav``).
        sample_rate: sample rate the model works at, Hz (the STFT sizes are in samples, so scale them with it).
        channels: audio channels (1 = mono); each is coded on its own, with the U-Net seeing all of them.
        target_samples: window length wanted, samples; rounded up to the nearest valid one (as SpectrogramUNet's:
            ``(k * 2**depth - 1) * hop_size``). Ignored when ``context_samples`` is given.
        context_samples: window length, samples; must be a valid one. ``None``: computed from ``target_samples``.
        fft_size: STFT frame and FFT length, samples (512 = 32 ms at 16 kHz); ``fft_size / 2`` must be a multiple
            of ``2**depth``.
        hop_size: STFT hop, samples (128 = 8 ms at 16 kHz).
        base_filters: filters of the first encoder level; level ``i`` has ``base_filters * 2**i``.
        depth: encoder (and decoder) levels.
        kernel_size: conv taps along time and frequency (frames and bins), at least 2.
        magnitude_exponent: power-law compression the U-Net works in (0.3: a 60 dB range becomes 18 dB).

    Example:
    ```python
    import numpy as np
    from sepzoo.models import SpectrogramCodecEmulator
    model = SpectrogramCodecEmulator()                                # 16 kHz mono, 55.6 k params
    print(model.context_samples, model.receptive_field)               # 16256 8447
    coded = model(np.zeros((1, model.context_samples, 1), "float32"))   # (1, 16256, 1)
    magnitudes = model.codec_magnitudes(np.zeros((2, 5000, 1), "float32"))   # (2, 40, 257, 1)
    ```
    """

    def __init__(
        self,
        sources: Sequence[str] = ("coded",),
        sample_rate: int = 16000,
        channels: int = 1,
        target_samples: int = 16000,
        context_samples: int | None = None,
        fft_size: int = 512,
        hop_size: int = 128,
        base_filters: int = 8,
        depth: int = 4,
        kernel_size: int = 3,
        magnitude_exponent: float = 0.3,
        **kwargs,
    ):
        sources = _check_common(sources, depth, kernel_size, base_filters, fft_size, hop_size)
        if (fft_size // 2) % 2**depth or not magnitude_exponent > 0:
            raise ValueError(f"fft_size={fft_size} / 2 must be a multiple of 2**depth={2**depth} and "
                             f"magnitude_exponent={magnitude_exponent} > 0")
        if context_samples is None:
            context_samples = spectrogram_unet_context(target_samples, fft_size, hop_size, depth, causal=False)
        if context_samples != spectrogram_unet_context(context_samples, fft_size, hop_size, depth, causal=False):
            raise ValueError(f"context_samples={context_samples} is not a window length this "
                             f"SpectrogramCodecEmulator can take: valid lengths are (k * {2**depth} - 1) * {hop_size}"
                             f" for k >= 1 (the next is "
                             f"{spectrogram_unet_context(context_samples, fft_size, hop_size, depth, False)}); pass "
                             "target_samples instead and the model computes its window")
        bins = fft_size // 2

        # === Layers ===
        stft = STFT(fft_size, hop_size, center=True, output="complex", name="stft")
        magnitude = CompressedMagnitude(1.0, name="magnitude")  # linear |X|, channels last, Nyquist kept
        drop_nyquist = layers.Cropping2D(((0, 0), (0, 1)), name="drop_nyquist")
        compress = PowerLaw(magnitude_exponent, name="compress")
        coordinate = FrequencyCoordinate(name="frequency_coordinate")
        down = [TimeFrequencyConv(base_filters * 2**level, kernel_size, strides=2, name=f"down_{level}")
                for level in range(depth)]
        up = [TimeFrequencyConvTranspose(base_filters * 2 ** max(level - 1, 0), kernel_size, strides=2,
                                         name=f"up_{level}") for level in range(depth)]
        head = layers.Conv2D(channels, 1, kernel_initializer="zeros", name="head")
        residual = layers.Add(name="residual")
        rectify = layers.ReLU(name="rectify")
        decompress = PowerLaw(1.0 / magnitude_exponent, name="decompress")
        zero_nyquist = layers.ZeroPadding2D(((0, 0), (0, 1)), name="zero_nyquist")
        with_phase = ReplaceMagnitude(name="with_input_phase")
        inverse = InverseSTFT(fft_size, hop_size, center=True, length=context_samples, name="inverse_stft")

        # === Functional graph ===
        linear = keras.Input((None, bins + 1, channels), name="magnitudes")
        compressed = compress(drop_nyquist(linear))
        x = coordinate(compressed)
        skips = []
        for conv in down:
            x = conv(x)
            skips.append(x)
        for level in range(depth - 1, -1, -1):
            if level < depth - 1:
                x = layers.Concatenate(name=f"merge_{level}")([x, skips[level]])
            x = up[level](x)
        emulated = zero_nyquist(decompress(rectify(residual([compressed, head(x)]))))
        magnitude_model = keras.Model(linear, emulated, name="magnitude_model")
        feature_model = keras.Model(linear, [emulated, *skips], name="feature_model")  # the same layers

        waveform = keras.Input((context_samples, channels), name="waveform")
        real, imag = stft(waveform)
        coded = inverse(with_phase([real, imag, magnitude_model(magnitude((real, imag)))]))
        super().__init__(inputs=waveform, outputs=coded, **{"name": "spectrogram_codec_emulator", **kwargs})

        # === Config ===
        self._fft_size = int(fft_size)
        self._hop_size = int(hop_size)
        self.base_filters = int(base_filters)
        self.depth = int(depth)
        self.kernel_size = int(kernel_size)
        self.magnitude_exponent = float(magnitude_exponent)
        # Not layers of this model's graph beyond magnitude_model, so not tracked: they own no weights.
        self.magnitude_model = magnitude_model
        self.feature_model = feature_model
        self._stft, self._magnitude = stft, magnitude
        first, last = SpectrogramUNet._frame_spans(down, up, context_samples // hop_size + 1)
        self._set_fields(sources=sources, sample_rate=sample_rate, channels=channels,
                         context_samples=context_samples, target_samples=context_samples,
                         receptive_field=receptive_field_samples(first, last, fft_size, hop_size, context_samples))

    @property
    def fft_size(self) -> int:
        """STFT frame and FFT length of :meth:`codec_magnitudes` (and of the model's own STFT), samples."""
        return self._fft_size

    @property
    def hop_size(self) -> int:
        """STFT hop of :meth:`codec_magnitudes`, samples."""
        return self._hop_size

    @property
    def domain(self) -> str:
        """Where the emulation happens: ``"spectrogram"`` (|STFT| to |STFT|)."""
        return "spectrogram"

    def codec_magnitudes(self, waveforms, features: bool = False):
        """The emulated codec-coded magnitude spectrogram of ``waveforms``.

        Backend-agnostic (``keras.ops``), usable inside a jitted JAX or a TensorFlow graph train step, any batch.

        Args:
            waveforms: ``(batch, samples, channels)`` float tensor; any ``samples >= fft_size``, known when traced.
            features: also return the U-Net's encoder feature maps.

        Returns:
            Linear magnitudes ``(batch, 1 + samples // hop_size, fft_size // 2 + 1, channels)`` (centred periodic
            Hann STFT, as :class:`~sepzoo.models.layers.STFT` with ``center=True`` gives it, through
            :attr:`magnitude_model`; the frames are zero-padded at the end to a multiple of ``2**depth`` for the
            U-Net and cut back). With ``features=True``, ``(magnitudes, maps)``: ``maps`` holds the ``depth`` encoder
            outputs, shallow to deep, level ``i`` ``(batch, ceil(frames / 2**(i + 1)), bins / 2**(i + 1),
            base_filters * 2**i)``.
        """
        waveforms = ops.convert_to_tensor(waveforms)
        _static_samples(waveforms, self.fft_size)
        linear = self._magnitude(self._stft(waveforms))
        frames = linear.shape[1]
        padded = _pad_axis_to_multiple(linear, 1, 2**self.depth)
        if not features:
            return self.magnitude_model(padded)[:, :frames]
        emulated, *maps = self.feature_model(padded)
        return emulated[:, :frames], _crop_features(maps, frames)

    def get_config(self):
        return {
            **self.window_config(),
            "fft_size": self.fft_size,
            "hop_size": self.hop_size,
            "base_filters": self.base_filters,
            "depth": self.depth,
            "kernel_size": self.kernel_size,
            "magnitude_exponent": self.magnitude_exponent,
        }


def waveform_unet_spans(samples: int, depth: int, kernel_size: int) -> tuple[np.ndarray, np.ndarray]:
    """For every output sample of :class:`WaveformCodecEmulator`'s U-Net on ``samples`` samples (a multiple of
    ``2**depth``), the first and last input sample it depends on.

    Follows the graph: a "same" conv of stride ``s`` pads ``kernel - s`` zeros, ``(kernel - s) // 2`` of them
    before (TensorFlow's and XLA's rule on a length divisible by ``s``), so output ``j`` sees inputs
    ``j * s - before .. j * s - before + kernel - 1``; nearest-neighbour upsampling gives output ``t`` input
    ``t // 2``; skips and the residual input widen a span to the union.
    """
    def conv(span, stride):
        frames, before = len(span[0]), (kernel_size - stride) // 2
        start = np.arange(frames // stride) * stride - before
        return span[0][np.clip(start, 0, frames - 1)], span[1][np.clip(start + kernel_size - 1, 0, frames - 1)]

    def union(a, b):
        return np.minimum(a[0], b[0]), np.maximum(a[1], b[1])

    span = (np.arange(samples), np.arange(samples))
    skips = [span]
    for _ in range(depth):
        span = conv(span, 2)
        skips.append(span)
    for level in range(depth - 1, -1, -1):
        span = conv(union((np.repeat(span[0], 2), np.repeat(span[1], 2)), skips[level]), 1)
    return union(span, skips[0])


@register_model(presets=WAVEFORM_PRESETS)
class WaveformCodecEmulator(SeparationModel):
    """A 1-D U-Net from a waveform to the same waveform after a lossy codec round trip, predicting the difference.

    :attr:`waveform_model`, a functional model on windows of any length that is a multiple of ``2**depth``:
    encoder level ``i`` is a stride-2 ``Conv1D`` of ``base_filters * (i + 1)`` filters (``kernel_size`` taps,
    "same" padding, LeakyReLU 0.2), halving the rate; decoder level ``i`` doubles the rate (nearest-neighbour
    ``UpSampling1D``, which cannot make checkerboard artefacts as a strided transposed conv can), concatenates
    encoder level ``i - 1``'s output (the input waveform at level 0) and applies a "same" conv back to level
    ``i - 1``'s filters (``base_filters`` at level 0). A linear 1x1 conv (the ``head``, initialised to zeros, so
    an untrained emulator is the identity) gives the correction added to the input, and a linear FIR of
    ``linear_taps`` taps per channel (the ``linear_path``, "same" padding, also initialised to zeros) adds a second
    one: ``coded = x + linear_path(x) + head(...)``. The FIR is there for the codec's band limit: at 16 kbps MP3
    keeps nothing above about 5.5 kHz, a steep linear low-pass that a stack of short non-linear convs learns only
    slowly (without it the U-Net did not lower the log-spectral distance to real MP3 output in 1 000 steps; a 127-tap
    FIR can cut 40 dB and more, see docs/experiments.md).
    Filters grow linearly with depth (Wave-U-Net's rule), which keeps the deep levels, where the receptive field
    is won, cheap: the defaults give 107 k parameters and an 883-sample (55 ms) receptive field, more than an MP3
    granule's 576-sample transform, which is what the emulated codec's artefacts (pre-echo, smearing) span.

    :attr:`receptive_field` is computed exactly from the layers (:func:`waveform_unet_spans`); a gradient test
    checks it. :meth:`codec_magnitudes` gives the STFT magnitudes of the emulated waveform for a perceptual loss.

    Input ``(batch, context_samples, channels)``; output ``(batch, context_samples, channels)``, the emulated coded
    waveform.

    Args:
        sources: the one output's name, ``("coded",)``.
        sample_rate: sample rate the model works at, Hz.
        channels: audio channels (1 = mono).
        target_samples: window length wanted, samples; rounded up to a multiple of ``2**depth``. Ignored when
            ``context_samples`` is given.
        context_samples: window length, samples; a multiple of ``2**depth``. ``None``: from ``target_samples``.
        base_filters: filters added per level: level ``i`` has ``base_filters * (i + 1)``.
        depth: encoder (and decoder) levels.
        kernel_size: taps of every conv but the head, samples.
        linear_taps: taps of the linear FIR path, samples (127 = 7.9 ms at 16 kHz; 0: none).
        fft_size: STFT frame of :meth:`codec_magnitudes`, samples (the network itself has none).
        hop_size: STFT hop of :meth:`codec_magnitudes`, samples.

    Example:
    ```python
    import numpy as np
    from sepzoo.models import WaveformCodecEmulator
    model = WaveformCodecEmulator()                                   # 16 kHz mono, 107 k params
    print(model.context_samples, model.receptive_field)               # 16000 883
    coded = model(np.zeros((1, model.context_samples, 1), "float32"))   # (1, 16000, 1)
    magnitudes = model.codec_magnitudes(np.zeros((2, 5000, 1), "float32"))   # (2, 40, 257, 1)
    ```
    """

    def __init__(
        self,
        sources: Sequence[str] = ("coded",),
        sample_rate: int = 16000,
        channels: int = 1,
        target_samples: int = 16000,
        context_samples: int | None = None,
        base_filters: int = 8,
        depth: int = 5,
        kernel_size: int = 15,
        linear_taps: int = 127,
        fft_size: int = 512,
        hop_size: int = 128,
        **kwargs,
    ):
        sources = _check_common(sources, depth, kernel_size, base_filters, fft_size, hop_size)
        if linear_taps < 0:
            raise ValueError(f"linear_taps={linear_taps} must be >= 0 (0: no linear path)")
        multiple = 2**depth
        if context_samples is None:
            context_samples = math.ceil(max(target_samples, 1) / multiple) * multiple
        if context_samples < 1 or context_samples % multiple:
            raise ValueError(f"context_samples={context_samples} is not a window length this WaveformCodecEmulator "
                             f"can take: valid lengths are multiples of 2**depth={multiple}; pass target_samples "
                             "instead and the model computes its window")
        filters = [base_filters * (level + 1) for level in range(depth)]

        # === Layers ===
        down = [layers.Conv1D(filters[level], kernel_size, strides=2, padding="same", activation="leaky_relu",
                              name=f"down_{level}") for level in range(depth)]
        upsample = [layers.UpSampling1D(2, name=f"upsample_{level}") for level in range(depth)]
        up = [layers.Conv1D(filters[max(level - 1, 0)], kernel_size, padding="same", activation="leaky_relu",
                            name=f"up_{level}") for level in range(depth)]
        head = layers.Conv1D(channels, 1, kernel_initializer="zeros", name="head")
        linear = (layers.DepthwiseConv1D(linear_taps, padding="same", use_bias=False, depthwise_initializer="zeros",
                                         name="linear_path") if linear_taps else None)
        residual = layers.Add(name="residual")

        # === Functional graph ===
        signal = keras.Input((None, channels), name="signal")
        x, skips = signal, [signal]
        for conv in down:
            x = conv(x)
            skips.append(x)
        for level in range(depth - 1, -1, -1):
            x = up[level](layers.Concatenate(name=f"merge_{level}")([upsample[level](x), skips[level]]))
        emulated = residual([signal, head(x), *([linear(signal)] if linear else [])])
        waveform_model = keras.Model(signal, emulated, name="waveform_model")
        feature_model = keras.Model(signal, [emulated, *skips[1:]], name="feature_model")  # the same layers

        waveform = keras.Input((context_samples, channels), name="waveform")
        super().__init__(inputs=waveform, outputs=waveform_model(waveform),
                         **{"name": "waveform_codec_emulator", **kwargs})

        # === Config ===
        self.base_filters = int(base_filters)
        self.depth = int(depth)
        self.kernel_size = int(kernel_size)
        self.linear_taps = int(linear_taps)
        self._fft_size = int(fft_size)
        self._hop_size = int(hop_size)
        self.waveform_model = waveform_model
        self.feature_model = feature_model
        self._stft = STFT(fft_size, hop_size, center=True, output="complex", name="stft")
        self._magnitude = CompressedMagnitude(1.0, name="magnitude")
        first, last = waveform_unet_spans(context_samples, depth, kernel_size)
        if linear_taps:  # the linear path's "same" FIR: taps - 1 samples, (taps - 1) // 2 of them before
            centre = np.arange(context_samples)
            first = np.minimum(first, np.clip(centre - (linear_taps - 1) // 2, 0, None))
            last = np.maximum(last, np.clip(centre + linear_taps // 2, None, context_samples - 1))
        self._set_fields(sources=sources, sample_rate=sample_rate, channels=channels,
                         context_samples=context_samples, target_samples=context_samples,
                         receptive_field=int(np.max(last - first + 1)))

    @property
    def fft_size(self) -> int:
        """STFT frame and FFT length of :meth:`codec_magnitudes`, samples."""
        return self._fft_size

    @property
    def hop_size(self) -> int:
        """STFT hop of :meth:`codec_magnitudes`, samples."""
        return self._hop_size

    @property
    def domain(self) -> str:
        """Where the emulation happens: ``"waveform"``."""
        return "waveform"

    def codec_magnitudes(self, waveforms, features: bool = False):
        """The magnitude spectrogram of the emulated codec-coded ``waveforms``.

        Backend-agnostic (``keras.ops``), usable inside a jitted JAX or a TensorFlow graph train step, any batch.

        Args:
            waveforms: ``(batch, samples, channels)`` float tensor; any ``samples >= fft_size``, known when traced.
            features: also return the U-Net's encoder feature maps.

        Returns:
            Linear magnitudes ``(batch, 1 + samples // hop_size, fft_size // 2 + 1, channels)`` of the emulated
            waveform (zero-padded at the end to a multiple of ``2**depth`` samples for the U-Net, cut back to
            ``samples``; centred periodic Hann STFT, as :class:`~sepzoo.models.layers.STFT` with ``center=True``
            gives it). With ``features=True``, ``(magnitudes, maps)``: ``maps`` holds the ``depth`` encoder outputs,
            shallow to deep, level ``i`` ``(batch, ceil(samples / 2**(i + 1)), base_filters * (i + 1))``.
        """
        waveforms = ops.convert_to_tensor(waveforms)
        samples = _static_samples(waveforms, self.fft_size)
        padded = _pad_axis_to_multiple(waveforms, 1, 2**self.depth)
        if features:
            emulated, *maps = self.feature_model(padded)
        else:
            emulated, maps = self.waveform_model(padded), None
        magnitudes = self._magnitude(self._stft(emulated[:, :samples]))
        return magnitudes if not features else (magnitudes, _crop_features(maps, samples))

    def get_config(self):
        return {
            **self.window_config(),
            "base_filters": self.base_filters,
            "depth": self.depth,
            "kernel_size": self.kernel_size,
            "linear_taps": self.linear_taps,
            "fft_size": self.fft_size,
            "hop_size": self.hop_size,
        }
