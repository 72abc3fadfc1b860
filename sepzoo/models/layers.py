"""Building blocks shared by the zoo models. One class per block; models compose them.

All layers take and return channels-last tensors ``(batch, frames, channels)``. "Frames" are samples at
the layer's own resolution: after ``n`` stride-2 steps one frame spans ``2**n`` input samples.

Every layer here that changes how far an output frame can see implements
``receptive_field_step(rf, jump) -> (rf, jump)``, used by :mod:`sepzoo.models.receptive_field`:
``rf`` is the receptive field in input samples of one frame of the layer's input, ``jump`` is the
distance in input samples between two neighbouring frames.
"""

from __future__ import annotations

import contextlib
import functools
import operator
from collections.abc import Iterator
from typing import Sequence

import keras
import numpy as np
import scipy.signal
from keras import layers, ops

_PACKAGE = "sepzoo"


@keras.saving.register_keras_serializable(package=_PACKAGE)
class TimeToDepth(layers.Layer):
    """Fold ``factor`` consecutive frames into channels: ``(B, T, C) -> (B, T / factor, C * factor)``.

    The space-to-depth of super-resolution networks, along time. ``T`` must be a multiple of ``factor``.
    Output channel ``k * C + c`` holds channel ``c`` of frame ``k`` within each group.
    """

    def __init__(self, factor: int, **kwargs):
        super().__init__(**kwargs)
        self.factor = int(factor)

    def call(self, x):
        frames, channels = x.shape[1], x.shape[2]
        return ops.reshape(x, (-1, frames // self.factor, channels * self.factor))

    def compute_output_shape(self, input_shape):
        batch, frames, channels = input_shape
        return (batch, None if frames is None else frames // self.factor, channels * self.factor)

    def receptive_field_step(self, rf: int, jump: int) -> tuple[int, int]:
        return rf + (self.factor - 1) * jump, jump * self.factor

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


@keras.saving.register_keras_serializable(package=_PACKAGE)
class DepthToTime(layers.Layer):
    """Unfold channels back into frames: ``(B, T, C * factor) -> (B, T * factor, C)``; inverse of TimeToDepth."""

    def __init__(self, factor: int, **kwargs):
        super().__init__(**kwargs)
        self.factor = int(factor)

    def call(self, x):
        frames, channels = x.shape[1], x.shape[2]
        return ops.reshape(x, (-1, frames * self.factor, channels // self.factor))

    def compute_output_shape(self, input_shape):
        batch, frames, channels = input_shape
        return (batch, None if frames is None else frames * self.factor, channels // self.factor)

    def receptive_field_step(self, rf: int, jump: int) -> tuple[int, int]:
        return rf, max(1, jump // self.factor)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


@keras.saving.register_keras_serializable(package=_PACKAGE)
class DownsamplingBlock(layers.Layer):
    """Halve the frame rate, then filter: stride-2 conv followed by a depthwise-separable conv.

    ``(B, T, C_in) -> (B, T / 2, filters)``. With ``separable_stride=True`` the stride-2 conv is itself
    depthwise-separable (worth it once the input has enough channels, per MobileNetV2's advice).
    """

    def __init__(
        self,
        filters: int,
        kernel_size: int = 15,
        stride_kernel_size: int = 5,
        separable_stride: bool = False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.filters = int(filters)
        self.kernel_size = int(kernel_size)
        self.stride_kernel_size = int(stride_kernel_size)
        self.separable_stride = bool(separable_stride)
        stride_conv = layers.SeparableConv1D if separable_stride else layers.Conv1D
        self.down = stride_conv(filters, stride_kernel_size, strides=2, padding="same", name="down")
        self.act_down = layers.LeakyReLU(0.2)
        self.conv = layers.SeparableConv1D(filters, kernel_size, padding="same", name="separable")
        self.act_conv = layers.LeakyReLU(0.2)

    def build(self, input_shape):
        self.down.build(input_shape)
        half = (input_shape[0], None if input_shape[1] is None else input_shape[1] // 2, self.filters)
        self.conv.build(half)
        super().build(input_shape)

    def call(self, x):
        return self.act_conv(self.conv(self.act_down(self.down(x))))

    def compute_output_shape(self, input_shape):
        frames = input_shape[1]
        return (input_shape[0], None if frames is None else frames // 2, self.filters)

    def receptive_field_step(self, rf: int, jump: int) -> tuple[int, int]:
        rf += (self.stride_kernel_size - 1) * jump
        jump *= 2
        return rf + (self.kernel_size - 1) * jump, jump

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "stride_kernel_size": self.stride_kernel_size,
            "separable_stride": self.separable_stride,
        }


@keras.saving.register_keras_serializable(package=_PACKAGE)
class AtrousSpatialPyramidPooling(layers.Layer):
    """ASPP along time: parallel atrous convs at several dilation rates plus a global-pooling branch.

    ``(B, T, C_in) -> (B, T, filters)``. Branches: a 1x1 conv; one depthwise-separable conv of
    ``kernel_size`` per rate in ``rates`` (dilation = rate); the mean over all ``T`` frames through a 1x1
    conv, broadcast back over time. The branches are concatenated and fused by a 1x1 conv. The pooling
    branch sees the whole window; :meth:`receptive_field_step` counts the largest atrous branch only.
    """

    def __init__(self, filters: int, rates: Sequence[int] = (1, 8, 32, 128), kernel_size: int = 9, **kwargs):
        super().__init__(**kwargs)
        self.filters = int(filters)
        self.rates = tuple(int(r) for r in rates)
        self.kernel_size = int(kernel_size)
        self.pointwise = layers.Conv1D(filters, 1, activation="leaky_relu", name="pointwise")
        self.atrous = [
            layers.SeparableConv1D(
                filters, kernel_size, dilation_rate=rate, padding="same", activation="leaky_relu", name=f"rate_{rate}"
            )
            for rate in self.rates
        ]
        self.pooled = layers.Conv1D(filters, 1, activation="leaky_relu", name="pooled")
        self.fuse = layers.Conv1D(filters, 1, activation="leaky_relu", name="fuse")

    def build(self, input_shape):
        for branch in (self.pointwise, *self.atrous):
            branch.build(input_shape)
        self.pooled.build((input_shape[0], 1, input_shape[2]))
        self.fuse.build((input_shape[0], input_shape[1], self.filters * (len(self.rates) + 2)))
        super().build(input_shape)

    def call(self, x):
        frames = ops.shape(x)[1]
        pooled = self.pooled(ops.mean(x, axis=1, keepdims=True))
        pooled = ops.repeat(pooled, frames, axis=1)
        branches = [self.pointwise(x), *(conv(x) for conv in self.atrous), pooled]
        return self.fuse(ops.concatenate(branches, axis=-1))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[1], self.filters)

    def receptive_field_step(self, rf: int, jump: int) -> tuple[int, int]:
        return rf + (self.kernel_size - 1) * max(self.rates) * jump, jump

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "rates": list(self.rates),
            "kernel_size": self.kernel_size,
        }


@keras.saving.register_keras_serializable(package=_PACKAGE)
class TemporalAttention(layers.Layer):
    """Re-weight every frame by a learned gate in (0, 1): CBAM's spatial attention, along time.

    ``(B, T, C) -> (B, T, C)``. The channel-wise mean and max of each frame, ``(B, T, 2)``, go through a conv
    of ``kernel_size`` with a sigmoid, giving one weight per frame that multiplies all its channels.
    """

    def __init__(self, kernel_size: int = 7, **kwargs):
        super().__init__(**kwargs)
        self.kernel_size = int(kernel_size)
        self.gate = layers.Conv1D(1, kernel_size, padding="same", activation="sigmoid", name="gate")

    def build(self, input_shape):
        self.gate.build((input_shape[0], input_shape[1], 2))
        super().build(input_shape)

    def call(self, x):
        stats = ops.concatenate(
            [ops.mean(x, axis=-1, keepdims=True), ops.max(x, axis=-1, keepdims=True)], axis=-1
        )
        return x * self.gate(stats)

    def compute_output_shape(self, input_shape):
        return input_shape

    def receptive_field_step(self, rf: int, jump: int) -> tuple[int, int]:
        return rf + (self.kernel_size - 1) * jump, jump

    def get_config(self):
        return {**super().get_config(), "kernel_size": self.kernel_size}


@keras.saving.register_keras_serializable(package=_PACKAGE)
class ResidualSource(layers.Layer):
    """Append the mixture minus the sum of the estimated sources as one more source.

    Inputs ``[mixture (B, T, C), estimates (B, T, S * C)]`` -> ``(B, T, (S + 1) * C)``, source-major, so the
    sources always add up to the mixture exactly.
    """

    def call(self, inputs):
        mixture, estimates = inputs
        channels = mixture.shape[-1]
        n_sources = estimates.shape[-1] // channels
        total = ops.zeros_like(mixture)
        for s in range(n_sources):
            total = total + estimates[..., s * channels : (s + 1) * channels]
        return ops.concatenate([estimates, mixture - total], axis=-1)

    def compute_output_shape(self, input_shapes):
        mixture_shape, estimates_shape = input_shapes
        return (*estimates_shape[:2], estimates_shape[2] + mixture_shape[2])


@keras.saving.register_keras_serializable(package=_PACKAGE)
class LearnedBasisMasking(layers.Layer):
    """Separate by masking a learned filterbank of the mixture, then synthesise each source (TasNet-style).

    Inputs ``[mixture (B, T, C), masks_logits (B, T / stride, n_sources * basis_size)]`` ->
    ``(B, T, n_sources * C)`` source-major. The mixture goes through an analysis conv (``basis_size``
    filters of ``kernel_size`` samples, hop ``stride``, no bias); each source's sigmoid mask multiplies that
    representation, and one shared transposed conv (same size and hop) turns it back into ``C`` channels.
    ``kernel_size`` sets the filterbank's frequency resolution: TasNet's 2 * stride suits speech, while
    music's bass needs filters of tens of milliseconds (512 samples at 22.05 kHz resolve ~43 Hz).

    A sequence of kernel sizes makes a multi-resolution filterbank: ``basis_size`` is split evenly between
    the sizes, each group has its own analysis and synthesis conv (all with hop ``stride`` and centred on
    the same frames), and a source is the sum of its groups' syntheses. Short filters keep transients
    sharp while long ones resolve low notes.
    """

    def __init__(self, n_sources: int, basis_size: int = 256, stride: int = 16, channels: int = 1,
                 kernel_size: int | Sequence[int] | None = None, **kwargs):
        super().__init__(**kwargs)
        self.n_sources = int(n_sources)
        self.basis_size = int(basis_size)
        self.stride = int(stride)
        self.channels = int(channels)
        sizes = [2 * stride] if kernel_size is None else kernel_size
        self.kernel_sizes = tuple(int(k) for k in (sizes if isinstance(sizes, Sequence) else [sizes]))
        for size in self.kernel_sizes:
            if size < self.stride or size % self.stride:
                raise ValueError(f"kernel_size must be a multiple of stride {self.stride}, got {size}")
        if self.basis_size % len(self.kernel_sizes):
            raise ValueError(f"basis_size {self.basis_size} must split evenly between kernel sizes "
                             f"{list(self.kernel_sizes)}")
        self.group_size = self.basis_size // len(self.kernel_sizes)
        self._analyses, self._syntheses = [], []
        for size in self.kernel_sizes:
            # Public attributes name the weights in saved files; one size keeps the names weights saved before
            # multi-resolution banks have, so they still load.
            suffix = "" if len(self.kernel_sizes) == 1 else f"_{size}"
            analysis = layers.Conv1D(self.group_size, size, strides=stride, padding="same", use_bias=False,
                                     activation="relu", name=f"analysis{suffix}")
            synthesis = layers.Conv1DTranspose(channels, size, strides=stride, padding="same", use_bias=False,
                                               name=f"synthesis{suffix}")
            setattr(self, f"analysis{suffix}", analysis)
            setattr(self, f"synthesis{suffix}", synthesis)
            self._analyses.append(analysis)
            self._syntheses.append(synthesis)

    def build(self, input_shapes):
        mixture_shape, _ = input_shapes
        frames = None if mixture_shape[1] is None else mixture_shape[1] // self.stride
        for analysis, synthesis in zip(self._analyses, self._syntheses):
            analysis.build(mixture_shape)
            synthesis.build((mixture_shape[0], frames, self.group_size))
        super().build(input_shapes)

    def call(self, inputs):
        mixture, mask_logits = inputs
        basis = [analysis(mixture) for analysis in self._analyses]
        masks = ops.sigmoid(mask_logits)
        sources = []
        for s in range(self.n_sources):
            first = s * self.basis_size
            parts = [
                synthesis(group * masks[..., first + g * self.group_size : first + (g + 1) * self.group_size])
                for g, (group, synthesis) in enumerate(zip(basis, self._syntheses))
            ]
            sources.append(functools.reduce(operator.add, parts))
        return ops.concatenate(sources, axis=-1)

    def compute_output_shape(self, input_shapes):
        mixture_shape, _ = input_shapes
        return (*mixture_shape[:2], self.n_sources * self.channels)

    def receptive_field_step(self, rf: int, jump: int) -> tuple[int, int]:
        # ``jump`` is 1 here (the mixture input); the masks' field is already in ``rf``.
        return rf + (max(self.kernel_sizes) - 1) * jump, jump

    def get_config(self):
        sizes = self.kernel_sizes[0] if len(self.kernel_sizes) == 1 else list(self.kernel_sizes)
        return {
            **super().get_config(),
            "n_sources": self.n_sources,
            "basis_size": self.basis_size,
            "stride": self.stride,
            "channels": self.channels,
            "kernel_size": sizes,
        }


@keras.saving.register_keras_serializable(package=_PACKAGE)
class WindowStandardize(layers.Layer):
    """Divide each example by its RMS over the window: ``(B, T, C) -> [(B, T, C), rms (B, 1, 1)]``.

    Keeps quiet and loud windows in the same numeric range; pair it with :class:`Rescale` on the output.
    """

    def __init__(self, epsilon: float = 1e-5, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = float(epsilon)

    def call(self, x):
        rms = ops.sqrt(ops.mean(ops.square(x), axis=(1, 2), keepdims=True) + self.epsilon**2)
        return [x / rms, rms]

    def compute_output_shape(self, input_shape):
        return [input_shape, (input_shape[0], 1, 1)]

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}


@keras.saving.register_keras_serializable(package=_PACKAGE)
class Rescale(layers.Layer):
    """Multiply ``(B, T, C)`` by a per-example scale ``(B, 1, 1)`` (undoes :class:`WindowStandardize`)."""

    def call(self, inputs):
        values, scale = inputs
        return values * scale

    def compute_output_shape(self, input_shapes):
        return input_shapes[0]


# --- Short-time Fourier transform ------------------------------------------------------------------------------------

_REAL_VALUED_DFT = False
"""Whether :class:`STFT` and :class:`InverseSTFT` trace the real-valued DFT instead of the FFT; see
:func:`real_valued_dft`."""


@contextlib.contextmanager
def real_valued_dft(enabled: bool = True) -> Iterator[None]:
    """Make :class:`STFT` and :class:`InverseSTFT` compute with real-valued DFT matrices instead of the FFT while
    inside the ``with`` block.

    The FFT (``keras.ops.stft`` / ``istft``) is the default and the fast path for training and Keras inference.
    Its RFFT / IRFFT ops have no ONNX (tf2onnx) or LiteRT builtin conversion, so :mod:`sepzoo.export` traces
    the model inside this block for those formats: the transform becomes a strided convolution whose kernel
    holds the windowed cos / sin DFT basis, and the inverse a transposed convolution with the windowed inverse
    basis (which also overlap-adds), followed by a constant per-sample normalisation; only conv, pad, reshape,
    slice and elementwise ops. Both paths give the same numbers to float32 rounding (about 1e-6 of the
    signal's scale, with fp32 accumulation; a GPU running matmuls in TF32 would be coarser).

    The flag is read when a layer's ``call`` runs, i.e. when a graph is traced: a graph traced before entering
    keeps the FFT, and one traced inside keeps the DFT after leaving. It is a process-wide setting, not
    per-thread.

    Args:
        enabled: use the DFT (True) or the FFT (False) inside the block; the previous setting is restored on
            leaving.
    """
    global _REAL_VALUED_DFT
    saved, _REAL_VALUED_DFT = _REAL_VALUED_DFT, bool(enabled)
    try:
        yield
    finally:
        _REAL_VALUED_DFT = saved


def _stft_frames(samples, fft_size: int, hop_size: int, center: bool):
    """Frames :class:`STFT` makes of ``samples`` samples (None stays None)."""
    if samples is None:
        return None
    return 1 + samples // hop_size if center else 1 + (samples - fft_size) // hop_size


def _window_values(window: str | None, fft_size: int, backend: str) -> np.ndarray:
    """``window`` as ``keras.ops.stft`` / ``istft`` take it on ``backend``, ``(fft_size,)`` float64 numpy.

    Periodic (None = rectangular), except that TensorFlow's ``hann_window`` / ``hamming_window`` give the
    symmetric window for an odd ``fft_size`` even when asked for the periodic one.
    """
    if window is None:
        return np.ones(fft_size)
    periodic = not (backend == "tensorflow" and fft_size % 2)
    return scipy.signal.get_window(window, fft_size, fftbins=periodic)


def _window_spectrum(window: str | None, fft_size: int):
    """``(real, imag)`` of the rFFT of the window ``keras.ops.istft`` applies (see :func:`_window_values`), as
    numpy arrays."""
    spectrum = np.fft.rfft(_window_values(window, fft_size, keras.backend.backend()))
    return spectrum.real.astype(np.float32), spectrum.imag.astype(np.float32)


@functools.lru_cache(maxsize=16)
def _dft_kernels(window: str | None, fft_size: int, backend: str) -> tuple[np.ndarray, np.ndarray]:
    """The windowed real-valued DFT bases of :func:`real_valued_dft`, float64 numpy, read-only.

    With ``N = fft_size``, ``bins = N // 2 + 1``, window ``w`` (as ``backend`` makes it) and ``a = 2 pi n k / N``
    (``n`` the sample in the frame, ``k`` the bin):

    - ``analysis`` ``(N, 1, 2 * bins)``, a conv kernel ``(taps, in, out)``: output channel ``k`` is
      ``w[n] cos(a)`` (the real part of bin ``k``), channel ``bins + k`` is ``-w[n] sin(a)`` (its imaginary part);
    - ``synthesis`` ``(N, 1, 2 * bins)``, a transposed-conv kernel ``(taps, out, in)``: the one-sided inverse DFT
      times the synthesis window, ``w[n] c_k cos(a) / N`` for the real parts and ``-w[n] c_k sin(a) / N`` for
      the imaginary ones, with ``c_k = 2`` except 1 for bin 0 and (even ``N``) bin ``N / 2``, whose imaginary
      parts drop out as in an inverse real FFT.
    """
    bins = fft_size // 2 + 1
    angle = 2 * np.pi * (np.outer(np.arange(fft_size), np.arange(bins)) % fft_size) / fft_size  # (N, bins)
    window_values = _window_values(window, fft_size, backend)[:, None]
    weights = np.full(bins, 2.0)
    weights[0] = 1.0
    if fft_size % 2 == 0:
        weights[-1] = 1.0
    basis = window_values * np.concatenate([np.cos(angle), -np.sin(angle)], axis=1)  # (N, 2 * bins)
    kernels = basis[:, None, :], (basis * np.tile(weights, 2) / fft_size)[:, None, :]
    for kernel in kernels:
        kernel.flags.writeable = False
    return kernels


@functools.lru_cache(maxsize=64)
def _overlap_add_scale(window: str | None, fft_size: int, hop_size: int, frames: int, backend: str) -> np.ndarray:
    """``(samples,)`` float64: what :class:`InverseSTFT` multiplies the overlap-added frames by, on the DFT path.

    ``samples = (frames - 1) * hop_size + fft_size``. ``1 / E`` with ``E`` the summed squared window of the
    frames covering the sample, as :class:`InverseSTFT` divides by on the FFT path; where ``E`` is tiny the FFT
    path keeps what the backend's ``istft`` gives, and so does this: TensorFlow divides by the steady-state sum
    ``D`` of the squared window at that sample's position in the hop, and only uses ``1 / E`` where
    ``E > 1e-3 D``; JAX (scipy's ``istft``) uses ``1 / E`` wherever ``E > 1e-10`` and 1 elsewhere.
    """
    squared = _window_values(window, fft_size, backend) ** 2
    samples = (frames - 1) * hop_size + fft_size
    starts = np.arange(frames)[:, None] * hop_size
    envelope = np.zeros(samples)
    np.add.at(envelope, (starts + np.arange(fft_size)).ravel(), np.tile(squared, frames))
    if backend == "jax":
        scale = np.where(envelope > 1e-10, 1.0 / np.maximum(envelope, 1e-10), 1.0)
    else:
        overlaps = -(-fft_size // hop_size)
        steady = np.pad(squared, (0, overlaps * hop_size - fft_size)).reshape(overlaps, hop_size).sum(axis=0)
        steady = np.maximum(steady[np.arange(samples) % hop_size], 1e-30)
        scale = np.where(envelope > 1e-3 * steady, 1.0 / np.maximum(envelope, 1e-30), 1.0 / steady)
    scale.flags.writeable = False
    return scale


def _dim(x, axis: int):
    """``x.shape[axis]`` when known at trace time, else the dynamic size."""
    return x.shape[axis] if x.shape[axis] is not None else ops.shape(x)[axis]


@keras.saving.register_keras_serializable(package=_PACKAGE)
class STFT(layers.Layer):
    """Short-time Fourier transform of each channel: ``(B, T, K)`` waveforms -> ``(B, K, frames, fft_size//2 + 1)``.

    Built on ``keras.ops.stft``, so it runs on any backend (inside :func:`real_valued_dft`: a strided
    convolution with the windowed DFT basis, the same numbers). Frame ``f`` starts at sample ``f * hop_size``
    (``center=False``: ``frames = 1 + (T - fft_size) // hop_size``, and ``T`` must be at least ``fft_size``) or
    is centred on it (``center=True``: the signal is reflect-padded by ``fft_size // 2`` on both sides,
    ``frames = 1 + T // hop_size``). Bin ``b`` is the frequency ``b * sample_rate / fft_size``.

    Args:
        fft_size: frame and FFT length, samples.
        hop_size: distance between frame starts, samples (at most ``fft_size``).
        window: ``"hann"`` or ``"hamming"`` (periodic, as ``keras.ops.stft`` takes them), or None for a
            rectangular one.
        center: centre frames on their hop positions instead of starting them there.
        output: ``"magnitude"``: one tensor ``sqrt(re² + im² + 1e-12)`` (linear, unnormalised: a sine of
            amplitude ``A`` on a bin gives ``A * sum(window) / 2``; the ``1e-12`` keeps the gradient finite at
            silence); ``"complex"``: the tuple ``(real, imag)``, each of that shape.
    """

    OUTPUTS = ("magnitude", "complex")

    def __init__(self, fft_size: int, hop_size: int, window: str | None = "hann", center: bool = False,
                 output: str = "magnitude", **kwargs):
        super().__init__(**kwargs)
        if output not in self.OUTPUTS:
            raise ValueError(f"STFT output {output!r} is not one of {', '.join(self.OUTPUTS)}")
        if not 1 <= int(hop_size) <= int(fft_size):
            raise ValueError(f"STFT hop_size {hop_size} must be between 1 and fft_size {fft_size} samples")
        self.fft_size = int(fft_size)
        self.hop_size = int(hop_size)
        self.window = window
        self.center = bool(center)
        self.output_mode = output  # ``Layer.output`` is taken

    def call(self, waveforms):
        signals = ops.transpose(waveforms, (0, 2, 1))  # (B, K, T): keras.ops.stft transforms the last axis
        if _REAL_VALUED_DFT:
            real, imag = self._real_valued_stft(signals)
        else:
            real, imag = ops.stft(signals, self.fft_size, self.hop_size, self.fft_size, window=self.window,
                                  center=self.center)
        if self.output_mode == "complex":
            return real, imag
        return ops.sqrt(ops.square(real) + ops.square(imag) + 1e-12)

    def _real_valued_stft(self, signals):
        """What ``keras.ops.stft`` gives, as a strided convolution with the windowed DFT basis.

        Args:
            signals: ``(batch, channels, samples)`` waveforms, float32 or float64.

        Returns:
            ``(real, imag)``, each ``(batch, channels, frames, fft_size // 2 + 1)``.
        """
        bins = self.fft_size // 2 + 1
        if self.center:  # as keras.ops.stft: reflect-pad by half a frame on both sides
            half = self.fft_size // 2
            signals = ops.pad(signals, ((0, 0), (0, 0), (half, half)), mode="reflect")
        channels = signals.shape[1]
        mono = ops.reshape(signals, (-1, _dim(signals, 2), 1))  # (B * K, T, 1)
        analysis, _ = _dft_kernels(self.window, self.fft_size, keras.backend.backend())
        kernel = ops.convert_to_tensor(analysis, dtype=signals.dtype)
        spectra = ops.conv(mono, kernel, strides=self.hop_size, padding="valid")  # (B * K, frames, 2 * bins)
        spectra = ops.reshape(spectra, (-1, channels, _dim(spectra, 1), 2 * bins))
        return spectra[..., :bins], spectra[..., bins:]

    def compute_output_shape(self, input_shape):
        batch, samples, channels = input_shape
        shape = (batch, channels, _stft_frames(samples, self.fft_size, self.hop_size, self.center),
                 self.fft_size // 2 + 1)
        return (shape, shape) if self.output_mode == "complex" else shape

    def get_config(self):
        return {**super().get_config(), "fft_size": self.fft_size, "hop_size": self.hop_size,
                "window": self.window, "center": self.center, "output": self.output_mode}


@keras.saving.register_keras_serializable(package=_PACKAGE)
class InverseSTFT(layers.Layer):
    """Inverse of :class:`STFT` with ``output="complex"``: ``(real, imag)`` -> ``(B, T, K)`` waveforms.

    Takes the pair ``(real, imag)``, each ``(B, K, frames, fft_size//2 + 1)``, and overlap-adds the frames
    (``keras.ops.istft``). Every sample is then divided by the summed squared window of the frames that
    cover it, measured by running the same ``keras.ops.istft`` on frames that hold the window itself, so
    samples near the ends, which fewer frames cover, come back too (some backends normalise by the
    steady-state sum only). With the same ``fft_size``, ``hop_size``, ``window`` and ``center`` as the forward
    transform it gives the signal back: all of it with ``center=True``; with ``center=False`` all but the
    first and last few samples, where the window is near zero (those stay as ``keras.ops.istft`` gives them).
    Inside :func:`real_valued_dft` the same numbers come from a transposed convolution with the windowed inverse
    DFT basis and a constant per-sample normalisation (the number of frames must then be known when traced).
    Output length in samples: ``length`` if given, else ``(frames - 1) * hop_size + fft_size``
    (``center=False``) or ``(frames - 1) * hop_size`` (``center=True``; one more for an odd ``fft_size``).

    Args:
        fft_size: frame and FFT length, samples.
        hop_size: distance between frame starts, samples.
        window: window name, or None for a rectangular one; as given to :class:`STFT`.
        center: whether the forward transform centred its frames.
        length: output samples (cut or zero-padded to it), or None.
    """

    def __init__(self, fft_size: int, hop_size: int, window: str | None = "hann", center: bool = False,
                 length: int | None = None, **kwargs):
        super().__init__(**kwargs)
        if not 1 <= int(hop_size) <= int(fft_size):
            raise ValueError(f"InverseSTFT hop_size {hop_size} must be between 1 and fft_size {fft_size} samples")
        self.fft_size = int(fft_size)
        self.hop_size = int(hop_size)
        self.window = window
        self.center = bool(center)
        self.length = None if length is None else int(length)
        self._window_spectrum = _window_spectrum(window, self.fft_size)

    def _istft(self, real, imag):
        return ops.istft((real, imag), self.fft_size, self.hop_size, self.fft_size, length=self.length,
                         window=self.window, center=self.center)

    def call(self, inputs):
        real, imag = inputs
        if _REAL_VALUED_DFT:
            return self._real_valued_istft(real, imag)
        signals = self._istft(real, imag)
        # What keras.ops.istft makes of frames holding just the window: the squared-window envelope over its
        # own normalisation. 1 wherever the backend normalised exactly; near 0 where no window reaches.
        frames = ops.ones((ops.shape(real)[-2], 1), dtype=real.dtype)
        window_real, window_imag = (ops.convert_to_tensor(part, dtype=real.dtype) for part in self._window_spectrum)
        gain = self._istft(frames * window_real, frames * window_imag)
        signals = signals / ops.where(gain > 1e-3, gain, 1.0)
        if self.length is not None:  # keras.ops.istft only cuts to ``length``; pad so that it can also grow
            padding = [(0, 0)] * (len(signals.shape) - 1) + [(0, self.length)]
            signals = ops.pad(signals, padding)[..., : self.length]
        return ops.transpose(signals, (0, 2, 1))  # (B, K, T) -> (B, T, K)

    def _real_valued_istft(self, real, imag):
        """What :meth:`call` gives on the FFT path, with a transposed convolution (inverse DFT and overlap-add in
        one) and a constant per-sample normalisation.

        Args:
            real: ``(batch, channels, frames, fft_size // 2 + 1)`` real parts; ``frames`` known when traced.
            imag: the imaginary parts, the same shape.

        Returns:
            ``(batch, samples, channels)`` waveforms, ``samples`` as :meth:`compute_output_shape` says.
        """
        channels, frames, bins = real.shape[1], real.shape[2], real.shape[3]
        if frames is None:
            raise ValueError("InverseSTFT: the real-valued DFT needs the number of frames when traced; give the "
                             "model a fixed input length")
        spectra = ops.reshape(ops.concatenate([real, imag], axis=-1), (-1, frames, 2 * bins))  # (B * K, F, 2 bins)
        _, synthesis = _dft_kernels(self.window, self.fft_size, keras.backend.backend())
        kernel = ops.convert_to_tensor(synthesis, dtype=real.dtype)
        signals = ops.conv_transpose(spectra, kernel, strides=self.hop_size, padding="valid")[..., 0]
        scale = _overlap_add_scale(self.window, self.fft_size, self.hop_size, frames, keras.backend.backend())
        # The samples keras.ops.istft keeps (then cut or zero-padded to ``length``), and their scale.
        start = self.fft_size // 2 if self.center else 0
        end = len(scale) - start if self.length is None else min(start + self.length, len(scale))
        signals = signals[:, start:end] * ops.convert_to_tensor(scale[start:end], dtype=real.dtype)
        if self.length is not None and end - start < self.length:
            signals = ops.pad(signals, ((0, 0), (0, self.length - (end - start))))
        signals = ops.reshape(signals, (-1, channels, signals.shape[-1]))
        return ops.transpose(signals, (0, 2, 1))  # (B, K, T) -> (B, T, K)

    def compute_output_shape(self, input_shapes):
        # The shapes of (real, imag), or one of them.
        single = input_shapes[0] is None or isinstance(input_shapes[0], int)
        batch, channels, frames, _ = tuple(input_shapes if single else input_shapes[0])
        samples = self.length
        if samples is None and frames is not None:
            samples = (frames - 1) * self.hop_size + (self.fft_size % 2 if self.center else self.fft_size)
        return (batch, samples, channels)

    def get_config(self):
        return {**super().get_config(), "fft_size": self.fft_size, "hop_size": self.hop_size,
                "window": self.window, "center": self.center, "length": self.length}


# ---------------------------------------------------------------------------------------------------------
# WaveNet block (docs/research.md, part C)


@keras.saving.register_keras_serializable(package=_PACKAGE)
class WaveNetBlock(layers.Layer):
    """One block of a WaveNet-style separator: a dilated conv with a residual and a skip output.

    ``x (B, T, filters) -> [residual (B, T, filters), skip (B, T, skip_channels)]``:
    ``h = relu(conv_dilated(x))`` (``kernel_size`` taps ``dilation`` samples apart, same padding, non-causal),
    ``residual = x + conv1x1(h)`` goes to the next block, ``skip = conv1x1(h)`` is summed over all blocks.

    Args:
        filters: channels of the residual stream.
        skip_channels: channels of the skip output.
        kernel_size: taps of the dilated conv.
        dilation: distance between taps, samples.
        with_residual: compute the residual output; the last block of a network sets it False (nothing reads
            its residual) and passes ``x`` through unchanged.
    """

    def __init__(self, filters: int, skip_channels: int, kernel_size: int = 3, dilation: int = 1,
                 with_residual: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.filters, self.skip_channels = int(filters), int(skip_channels)
        self.kernel_size, self.dilation = int(kernel_size), int(dilation)
        self.with_residual = bool(with_residual)
        self.dilated = layers.Conv1D(self.filters, self.kernel_size, dilation_rate=self.dilation, padding="same",
                                     activation="relu", name="dilated")
        self.to_residual = layers.Conv1D(self.filters, 1, name="to_residual") if self.with_residual else None
        self.to_skip = layers.Conv1D(self.skip_channels, 1, name="to_skip")

    def build(self, input_shape):
        self.dilated.build(input_shape)
        hidden = (*input_shape[:-1], self.filters)
        if self.to_residual is not None:
            self.to_residual.build(hidden)
        self.to_skip.build(hidden)

    def call(self, x):
        hidden = self.dilated(x)
        residual = x + self.to_residual(hidden) if self.to_residual is not None else x
        return [residual, self.to_skip(hidden)]

    def compute_output_shape(self, input_shape):
        return [tuple(input_shape), (*input_shape[:-1], self.skip_channels)]

    def receptive_field_step(self, rf: int, jump: int) -> tuple[int, int]:
        """The dilated conv widens the field by ``(kernel_size - 1) * dilation`` frames; 1x1 convs do not."""
        return rf + (self.kernel_size - 1) * self.dilation * jump, jump

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "skip_channels": self.skip_channels,
                "kernel_size": self.kernel_size, "dilation": self.dilation, "with_residual": self.with_residual}


# ---------------------------------------------------------------------------------------------------------
# Wave-U-Net resampling and cropping (docs/research.md, part B)


@keras.saving.register_keras_serializable(package=_PACKAGE)
class Decimate(layers.Layer):
    """Keep every ``factor``-th frame, starting with the first: ``(B, T, C) -> (B, (T - 1) // factor + 1, C)``.

    Wave-U-Net's downsampling: no anti-alias filter (the conv before it has learned what to keep), and an odd
    ``T`` keeps both end frames, so the valid-convolution geometry stays exact.
    """

    def __init__(self, factor: int = 2, **kwargs):
        super().__init__(**kwargs)
        self.factor = int(factor)

    def call(self, x):
        return x[:, :: self.factor]

    def compute_output_shape(self, input_shape):
        batch, frames, channels = input_shape
        return (batch, None if frames is None else (frames - 1) // self.factor + 1, channels)

    def receptive_field_step(self, rf: int, jump: int) -> tuple[int, int]:
        return rf, jump * self.factor

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


@keras.saving.register_keras_serializable(package=_PACKAGE)
class InterpolateUpsample(layers.Layer):
    """Double the frame rate keeping both end frames: ``(B, T, C) -> (B, 2T - 1, C)``.

    Even output frames are the input frames; odd frame ``2k + 1`` is ``w * x[k] + (1 - w) * x[k + 1]``. With
    ``learned=False``, ``w = 0.5``: linear interpolation with aligned corners (Wave-U-Net's default). With
    ``learned=True``, ``w = sigmoid(v)`` with one trainable ``v`` per channel, initialised to 0 (Wave-U-Net's
    learned upsampling, its model M5).

    Args:
        learned: learn the interpolation weight of each channel.
    """

    def __init__(self, learned: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.learned = bool(learned)

    def build(self, input_shape):
        if self.learned:
            self.logit = self.add_weight(shape=(input_shape[-1],), initializer="zeros", name="logit")

    def call(self, x):
        frames, channels = x.shape[1], x.shape[2]
        weight = ops.sigmoid(self.logit) if self.learned else 0.5
        between = weight * x[:, :-1] + (1.0 - weight) * x[:, 1:]
        pairs = ops.reshape(ops.stack([x[:, :-1], between], axis=2), (-1, 2 * (frames - 1), channels))
        return ops.concatenate([pairs, x[:, -1:]], axis=1)

    def compute_output_shape(self, input_shape):
        batch, frames, channels = input_shape
        return (batch, None if frames is None else 2 * frames - 1, channels)

    def receptive_field_step(self, rf: int, jump: int) -> tuple[int, int]:
        """An odd frame mixes two neighbouring input frames, ``jump`` samples apart."""
        return rf + jump, max(1, jump // 2)

    def get_config(self):
        return {**super().get_config(), "learned": self.learned}


@keras.saving.register_keras_serializable(package=_PACKAGE)
class CenterCrop(layers.Layer):
    """Keep the middle ``frames`` frames: ``(B, T, C) -> (B, frames, C)``.

    When ``T - frames`` is odd, the extra frame comes off the end (Wave-U-Net's crop-and-concatenate).

    Args:
        frames: output length, frames; at most ``T``.
    """

    def __init__(self, frames: int, **kwargs):
        super().__init__(**kwargs)
        self.frames = int(frames)

    def call(self, x):
        start = (x.shape[1] - self.frames) // 2
        return x[:, start : start + self.frames]

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.frames, input_shape[2])

    def get_config(self):
        return {**super().get_config(), "frames": self.frames}


# ---------------------------------------------------------------------------------------------------------
# Spectrogram blocks: magnitude features, 2-D convs over (frames, bins), masking (docs/research.md, part A)
#
# These take channels-last time-frequency maps ``(B, frames, bins, C)``; their ``receptive_field_step`` works
# along the frame axis (``rf`` and ``jump`` in frames), which is what a spectrogram model turns into samples.


def _same_padding(kernel: int, stride: int) -> tuple[int, int]:
    """``(before, after)`` zeros that give a valid conv "same" geometry on a length divisible by ``stride``:
    ``kernel - stride`` zeros in all, the odd one after (TensorFlow's rule, written out so every backend agrees)."""
    total = max(kernel - stride, 0)
    return total // 2, total - total // 2


def _pair(value) -> tuple[int, int]:
    return (int(value), int(value)) if isinstance(value, (int, np.integer)) else (int(value[0]), int(value[1]))


@keras.saving.register_keras_serializable(package=_PACKAGE)
class CompressedMagnitude(layers.Layer):
    """Power-law compressed STFT magnitude, channels last: ``(real, imag)`` -> ``(B, frames, bins, K)``.

    Takes the pair ``(real, imag)``, each ``(B, K, frames, F)`` as :class:`STFT` with ``output="complex"`` gives
    it, and returns ``(re² + im² + 1e-12) ** (exponent / 2)`` (``|X| ** exponent``; the ``1e-12`` keeps silence
    finite) of the lowest ``bins`` bins (all ``F`` when None), with the audio channels last.

    Args:
        exponent: compression exponent; 0.3 (a common choice for speech) squeezes a 60 dB magnitude range into
            18 dB, 1.0 keeps linear magnitudes.
        bins: bins kept from the bottom, or None for all; e.g. ``fft_size // 2`` drops the Nyquist bin so the
            axis halves evenly.
    """

    def __init__(self, exponent: float = 0.3, bins: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.exponent = float(exponent)
        self.bins = None if bins is None else int(bins)

    def call(self, inputs):
        real, imag = inputs
        if self.bins is not None:
            real, imag = real[..., : self.bins], imag[..., : self.bins]
        power = ops.square(real) + ops.square(imag) + 1e-12
        return ops.transpose(ops.power(power, 0.5 * self.exponent), (0, 2, 3, 1))

    def compute_output_shape(self, input_shapes):
        batch, channels, frames, bins = tuple(input_shapes[0])
        return (batch, frames, bins if self.bins is None else self.bins, channels)

    def get_config(self):
        return {**super().get_config(), "exponent": self.exponent, "bins": self.bins}


@keras.saving.register_keras_serializable(package=_PACKAGE)
class TimeFrequencyConv(layers.Layer):
    """2-D conv over a time-frequency map with "same" geometry, optionally causal along time.

    ``(B, frames, bins, C_in) -> (B, frames / time_stride, bins / frequency_stride, filters)``; frames and bins
    must be multiples of their strides. The zero padding is explicit (then a valid conv), so every backend pads
    alike: along frequency, and along time unless causal, ``kernel - stride`` zeros split as TensorFlow's "same"
    does (the odd one after, so output frame ``j`` of a stride-2, 3-tap conv sees input frames ``2j .. 2j + 2``).
    With ``causal=True`` time is padded by ``kernel - 1`` zero frames before only: output frame ``t`` sees input
    frames ``t - kernel + 1 .. t`` (the time stride must then be 1).

    Args:
        filters: output channels.
        kernel_size: ``(frames, bins)`` taps, or one number for both.
        strides: ``(time, frequency)`` strides, or one number for both.
        causal: pad time on the past side only.
        activation: Keras activation name (``"leaky_relu"``: slope 0.2), or None for linear.
    """

    def __init__(self, filters: int, kernel_size=3, strides=1, causal: bool = False,
                 activation: str | None = "leaky_relu", **kwargs):
        super().__init__(**kwargs)
        self.filters = int(filters)
        self.kernel_size = _pair(kernel_size)
        self.strides = _pair(strides)
        self.causal = bool(causal)
        self.activation = activation
        if self.causal and self.strides[0] != 1:
            raise ValueError(f"a causal TimeFrequencyConv needs time stride 1, got strides {self.strides}")
        time_pad = (self.kernel_size[0] - 1, 0) if self.causal else _same_padding(self.kernel_size[0], self.strides[0])
        self.padding = (time_pad, _same_padding(self.kernel_size[1], self.strides[1]))
        self.conv = layers.Conv2D(self.filters, self.kernel_size, strides=self.strides, padding="valid",
                                  activation=activation, name="conv")

    def build(self, input_shape):
        batch, frames, bins, channels = input_shape
        grow = [sum(pad) for pad in self.padding]
        self.conv.build((batch, None if frames is None else frames + grow[0],
                         None if bins is None else bins + grow[1], channels))
        super().build(input_shape)

    def call(self, x):
        return self.conv(ops.pad(x, ((0, 0), *self.padding, (0, 0))))

    def compute_output_shape(self, input_shape):
        batch, frames, bins, _ = input_shape
        return (batch, None if frames is None else frames // self.strides[0],
                None if bins is None else bins // self.strides[1], self.filters)

    def receptive_field_step(self, rf: int, jump: int) -> tuple[int, int]:
        return rf + (self.kernel_size[0] - 1) * jump, jump * self.strides[0]

    def frame_span(self, first: np.ndarray, last: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Exact frame dependencies: given, for every input frame, the first and last frame of some earlier map
        it depends on (non-decreasing int arrays), the same for every output frame (zero padding adds none)."""
        frames, (kernel, stride), before = len(first), (self.kernel_size[0], self.strides[0]), self.padding[0][0]
        start = np.arange(frames // stride) * stride - before
        return first[np.clip(start, 0, frames - 1)], last[np.clip(start + kernel - 1, 0, frames - 1)]

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": list(self.kernel_size),
                "strides": list(self.strides), "causal": self.causal, "activation": self.activation}


@keras.saving.register_keras_serializable(package=_PACKAGE)
class TimeFrequencyConvTranspose(layers.Layer):
    """Transposed 2-D conv over a time-frequency map, the upsampling mirror of :class:`TimeFrequencyConv`.

    ``(B, frames, bins, C_in) -> (B, frames * time_stride, bins * frequency_stride, filters)``. A valid transposed
    conv, cropped to that size: along frequency, and along time unless causal, by as many positions before as
    :class:`TimeFrequencyConv`'s padding puts there (so with the same kernel and stride it is that conv's exact
    transpose: input frame ``j`` of a stride-2, 3-tap one reaches output frames ``2j .. 2j + 2``). With
    ``causal=True`` nothing is cropped before along time: output frame ``t`` gets input frames ``j`` with
    ``j * time_stride <= t``, never a later one.

    Args:
        filters: output channels.
        kernel_size: ``(frames, bins)`` taps, or one number for both; at least the stride on each axis.
        strides: ``(time, frequency)`` upsampling factors, or one number for both.
        causal: crop so that no output frame depends on a later input frame.
        activation: Keras activation name, or None for linear.
    """

    def __init__(self, filters: int, kernel_size=3, strides=1, causal: bool = False,
                 activation: str | None = "leaky_relu", **kwargs):
        super().__init__(**kwargs)
        self.filters = int(filters)
        self.kernel_size = _pair(kernel_size)
        self.strides = _pair(strides)
        self.causal = bool(causal)
        self.activation = activation
        if any(k < s for k, s in zip(self.kernel_size, self.strides)):
            raise ValueError(f"TimeFrequencyConvTranspose kernel {self.kernel_size} must be at least its strides "
                             f"{self.strides}, or some output positions get no input")
        self.crop_before = (0 if self.causal else _same_padding(self.kernel_size[0], self.strides[0])[0],
                            _same_padding(self.kernel_size[1], self.strides[1])[0])
        self.conv = layers.Conv2DTranspose(self.filters, self.kernel_size, strides=self.strides, padding="valid",
                                           activation=activation, name="conv")

    def build(self, input_shape):
        self.conv.build(input_shape)
        super().build(input_shape)

    def call(self, x):
        frames, bins = x.shape[1] * self.strides[0], x.shape[2] * self.strides[1]
        (t0, f0) = self.crop_before
        return self.conv(x)[:, t0 : t0 + frames, f0 : f0 + bins]

    def compute_output_shape(self, input_shape):
        batch, frames, bins, _ = input_shape
        return (batch, None if frames is None else frames * self.strides[0],
                None if bins is None else bins * self.strides[1], self.filters)

    def receptive_field_step(self, rf: int, jump: int) -> tuple[int, int]:
        """An output frame gets up to ``ceil(kernel / stride)`` neighbouring input frames, ``jump`` apart."""
        step = max(1, jump // self.strides[0])
        return rf + (-(-self.kernel_size[0] // self.strides[0]) - 1) * jump, step

    def frame_span(self, first: np.ndarray, last: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Exact frame dependencies, as :meth:`TimeFrequencyConv.frame_span`: output frame ``t`` gets the input
        frames ``j`` with ``j * stride <= t + crop <= j * stride + kernel - 1``."""
        frames, (kernel, stride), crop = len(first), (self.kernel_size[0], self.strides[0]), self.crop_before[0]
        position = np.arange(frames * stride) + crop
        lowest, highest = -((kernel - 1 - position) // stride), position // stride
        return first[np.clip(lowest, 0, frames - 1)], last[np.clip(highest, 0, frames - 1)]

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": list(self.kernel_size),
                "strides": list(self.strides), "causal": self.causal, "activation": self.activation}


@keras.saving.register_keras_serializable(package=_PACKAGE)
class SpectrogramMasking(layers.Layer):
    """Mask the mixture's complex STFT once per source (the mixture phase is kept): ``[real, imag, logits]`` ->
    ``(real, imag)``.

    ``real``, ``imag``: ``(B, K, frames, F)``, the mixture as :class:`STFT` with ``output="complex"`` gives it
    (``K`` audio channels). ``logits``: ``(B, frames, bins, n_sources * K)`` channels last, source-major
    (``s * K + c``), ``bins <= F``: bins above ``bins`` take the mask of the highest one (a model that drops the
    Nyquist bin still masks it). Returns ``(real, imag)``, each ``(B, n_sources * K, frames, F)`` source-major,
    which :class:`InverseSTFT` turns into ``(B, T, n_sources * K)`` waveforms.

    Args:
        n_sources: number of sources.
        activation: ``"softmax"``: across sources, so in every bin, frame and channel the masks add up to 1 and
            the sources add up to the mixture (exactly, up to the STFT round trip); ``"sigmoid"``: each mask in
            (0, 1) on its own.
    """

    ACTIVATIONS = ("softmax", "sigmoid")

    def __init__(self, n_sources: int, activation: str = "softmax", **kwargs):
        super().__init__(**kwargs)
        if activation not in self.ACTIVATIONS:
            raise ValueError(f"mask activation {activation!r} is not one of {', '.join(self.ACTIVATIONS)}")
        self.n_sources = int(n_sources)
        self.activation = activation

    def call(self, inputs):
        real, imag, logits = inputs
        channels, frames, all_bins = real.shape[1], real.shape[2], real.shape[3]
        bins = logits.shape[2]
        logits = ops.reshape(logits, (-1, frames, bins, self.n_sources, channels))
        masks = ops.softmax(logits, axis=3) if self.activation == "softmax" else ops.sigmoid(logits)
        if bins < all_bins:
            masks = ops.concatenate([masks, ops.repeat(masks[:, :, -1:], all_bins - bins, axis=2)], axis=2)
        masks = ops.reshape(ops.transpose(masks, (0, 3, 4, 1, 2)), (-1, self.n_sources * channels, frames, all_bins))
        tiles = (1, self.n_sources, 1, 1)
        return ops.tile(real, tiles) * masks, ops.tile(imag, tiles) * masks

    def compute_output_shape(self, input_shapes):
        batch, channels, frames, bins = tuple(input_shapes[0])
        shape = (batch, self.n_sources * channels, frames, bins)
        return shape, shape

    def get_config(self):
        return {**super().get_config(), "n_sources": self.n_sources, "activation": self.activation}


# ---------------------------------------------------------------------------------------------------------
# Magnitude-to-magnitude spectrogram blocks (codec emulation: sepzoo.models.codec_emulator)


@keras.saving.register_keras_serializable(package=_PACKAGE)
class PowerLaw(layers.Layer):
    """Element-wise ``|x| ** exponent``, smoothed at 0: ``(x² + 1e-12) ** (exponent / 2)``; any shape.

    Compresses magnitudes (``exponent < 1``) or undoes that (``1 / exponent``) with a finite gradient everywhere
    (the ``1e-12`` keeps ``x ** 0.3`` differentiable at silence). The output is always positive.

    Args:
        exponent: the power, > 0.
    """

    def __init__(self, exponent: float, **kwargs):
        super().__init__(**kwargs)
        if not float(exponent) > 0:
            raise ValueError(f"PowerLaw exponent must be > 0, got {exponent}")
        self.exponent = float(exponent)

    def call(self, x):
        return ops.power(ops.square(x) + 1e-12, 0.5 * self.exponent)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "exponent": self.exponent}


@keras.saving.register_keras_serializable(package=_PACKAGE)
class FrequencyCoordinate(layers.Layer):
    """Append the bin's frequency as one more channel: ``(B, frames, bins, C) -> (B, frames, bins, C + 1)``.

    The extra channel is ``bin / bins`` (0 at DC, rising linearly to just under 1 at the top bin): CoordConv
    (Liu et al. 2018) along frequency. Convolutions are shift-invariant along frequency, so without it a
    network can tell bins apart only near the edges of the spectrum, where its zero padding reaches.
    """

    def call(self, x):
        bins = x.shape[2]
        coordinate = ops.reshape(ops.cast(ops.arange(bins), x.dtype) / bins, (1, 1, bins, 1))
        return ops.concatenate([x, coordinate * ops.ones_like(x[..., :1])], axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:3], None if input_shape[3] is None else input_shape[3] + 1)


@keras.saving.register_keras_serializable(package=_PACKAGE)
class ReplaceMagnitude(layers.Layer):
    """Give a complex STFT new magnitudes, keeping its phase: ``[real, imag, magnitude]`` -> ``(real, imag)``.

    ``real``, ``imag``: ``(B, K, frames, F)`` as :class:`STFT` with ``output="complex"`` gives them; ``magnitude``:
    ``(B, frames, F, K)`` channels last (the layout :class:`CompressedMagnitude` and the 2-D convs use), linear.
    Returns ``magnitude * (real, imag) / |X|`` with ``|X| = sqrt(re² + im² + 1e-12)`` (a silent bin keeps phase
    0, so it stays silent), in the STFT's layout, ready for :class:`InverseSTFT`.
    """

    def call(self, inputs):
        real, imag, magnitude = inputs
        scale = ops.transpose(magnitude, (0, 3, 1, 2)) / ops.sqrt(ops.square(real) + ops.square(imag) + 1e-12)
        return real * scale, imag * scale

    def compute_output_shape(self, input_shapes):
        shape = tuple(input_shapes[0])
        return shape, shape
