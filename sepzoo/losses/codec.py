"""The codec-approximation (perceptual) loss of docs/research.md, part A: :class:`CodecApproximationLoss` (``codec``).

A codec emulator ``C`` (:mod:`sepzoo.models.codec_emulator`: a network trained to map lossless audio to the same
audio after a 16 kbps MP3 round trip) is frozen and put between the separator and the loss: estimate and target
are compared *after* the emulated codec, so only what survives the codec, what its psychoacoustic model keeps,
is penalised. With ``S`` the STFT magnitude the emulator compares on and ``f_k`` its encoder feature maps::

    L = codec_weight * mean|C(ŷ) - C(y)| + sum_k feature_weights[k] * mean|f_k(ŷ) - f_k(y)|
        + l1_weight * mean|S(ŷ) - S(y)|

per example, every source and channel of it put through the emulator on its own. The emulator's weights never
change: it is set non-trainable, it is not part of the separator's variables (so no optimiser sees it), and the
target's side is cut from the gradient.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
from keras import ops

from sepzoo.errors import ConfigError
from sepzoo.losses.registry import register_loss
from sepzoo.models.layers import STFT

DEFAULT_EMULATOR = "codec_emulator_spectrogram"
"""The zoo entry a config's ``codec`` loss uses when it names no ``emulator``."""


def _weights(values, what: str) -> tuple[float, ...]:
    if values is None:
        return ()
    if isinstance(values, (int, float, str)):
        values = [values]
    try:
        numbers = tuple(float(value) for value in values)
    except (TypeError, ValueError):
        raise ConfigError(f"{what} {values!r} must be a list of numbers") from None
    if any(number < 0 for number in numbers):
        raise ConfigError(f"{what} {list(numbers)} must not be negative")
    return numbers


@register_loss("codec")
@keras.saving.register_keras_serializable(package="sepzoo")
class CodecApproximationLoss(keras.losses.Loss):
    """Mean absolute difference of estimate and target after a frozen codec emulator, per example ``(batch,)``.

    Inputs ``(batch, samples, sources * channels)`` source-major, as every sepzoo loss; ``samples`` must be at
    least the emulator's ``fft_size``. Each source channel goes through the emulator as a mono signal (the
    emulators are mono). ``C(·)`` is the emulator's
    ``codec_magnitudes``: the emulated coded magnitude spectrogram, ``(frames, fft_size / 2 + 1)`` linear
    magnitudes (centred periodic-Hann STFT); estimate and target take two calls of the same shape, so equal inputs
    give exactly 0. The emulator must work at the data's sample rate: it emulates the
    codec at its own rate (16 kHz for the shipped ones).

    In a config::

        loss: {name: codec, kwargs: {emulator: codec_emulator_spectrogram, feature_weights: [0.5, 0.5]}}

    where ``emulator`` is a zoo name (loaded with its published weights by the trainer through
    :func:`~sepzoo.losses.build_loss`'s ``load_model``). In Python, pass the model itself.

    Args:
        emulator: a codec emulator model (``SpectrogramCodecEmulator`` or ``WaveformCodecEmulator``, anything with
            ``codec_magnitudes(waveforms, features)``, ``fft_size``, ``hop_size``, ``channels == 1``) or, through
            ``build_loss``, the zoo name of one. Frozen here (``trainable = False``).
        channels: audio channels per source (from the data section).
        codec_weight: weight of the emulated-codec term ``mean|C(ŷ) - C(y)|``.
        feature_weights: weights of the L1 distances of the emulator's encoder feature maps, shallow to deep
            (at most one per level; empty: none).
        l1_weight: weight of plain magnitude L1 ``mean|S(ŷ) - S(y)|`` on the emulator's STFT (0: pure codec loss).

    Example:
    ```python
    import sepzoo
    from sepzoo.losses import build_loss
    loss = build_loss("codec", {"feature_weights": [0.5]}, channels=1, load_model=sepzoo.load)
    model = sepzoo.load("spectrogram_unet_p1", weights=None)
    model.compile(optimizer="adam", loss=loss)
    ```
    """

    MODEL_OPTIONS = ("emulator",)

    def __init__(self, emulator=DEFAULT_EMULATOR, channels: int = 1, codec_weight: float = 1.0,
                 feature_weights: Sequence[float] | None = None, l1_weight: float = 0.0, name: str = "codec",
                 **kwargs):
        super().__init__(name=name, **kwargs)
        if isinstance(emulator, str) or emulator is None:
            raise ConfigError(f"the codec loss needs a loaded emulator model, got {emulator!r}; build it with "
                              "sepzoo.losses.build_loss(..., load_model=sepzoo.load), as sepzoo train does, or "
                              "pass the model")
        if not hasattr(emulator, "codec_magnitudes"):
            raise ConfigError(f"emulator {type(emulator).__name__} is not a codec emulator (it has no "
                              "codec_magnitudes); use codec_emulator_spectrogram or codec_emulator_waveform")
        if int(getattr(emulator, "channels", 1)) != 1:
            raise ConfigError(f"the codec emulator must be mono (channels=1), it has {emulator.channels}")
        self.feature_weights = _weights(feature_weights, "feature_weights")
        levels = int(getattr(emulator, "depth", len(self.feature_weights)))
        if len(self.feature_weights) > levels:
            raise ConfigError(f"feature_weights has {len(self.feature_weights)} weights but the emulator has "
                              f"{levels} encoder levels; give at most one weight per level")
        self.codec_weight, self.l1_weight = float(codec_weight), float(l1_weight)
        if self.codec_weight < 0 or self.l1_weight < 0:
            raise ConfigError(f"codec_weight {codec_weight} and l1_weight {l1_weight} must not be negative")
        self.channels = int(channels)
        emulator.trainable = False
        self.emulator = emulator
        self.emulator_name = getattr(emulator, "zoo_handle", None) or emulator.name
        self._stft = STFT(emulator.fft_size, emulator.hop_size, center=True, output="magnitude", dtype=self.dtype)

    def call(self, y_true, y_pred):
        samples, columns = ops.shape(y_true)[1], y_true.shape[-1]

        def mono(waveforms):  # (B, T, S*C) -> (B*S*C, T, 1), example-major
            return ops.reshape(ops.transpose(waveforms, (0, 2, 1)), (-1, samples, 1))

        features = bool(self.feature_weights)

        def through_codec(waveforms):  # -> (coded magnitudes, feature maps), each (B*S*C, ...)
            output = self.emulator.codec_magnitudes(waveforms, features=features)
            return output if features else (output, [])

        # Estimate and target go through the emulator in two calls of the same shape, so equal inputs give
        # bit-equal outputs (one call on both would put them at different batch positions).
        estimate, target = mono(y_pred), ops.stop_gradient(mono(y_true))
        (coded_estimate, maps_estimate), (coded_target, maps_target) = through_codec(estimate), through_codec(target)

        def distance(a, b):  # (B*S*C, ...) twice -> (B,): mean |a - b| per example over all its columns
            difference = ops.abs(a - ops.stop_gradient(b))
            per_column = ops.mean(ops.reshape(difference, (ops.shape(difference)[0], -1)), axis=-1)
            return ops.mean(ops.reshape(per_column, (-1, columns)), axis=-1)

        total = self.codec_weight * distance(coded_estimate, coded_target)
        for weight, a, b in zip(self.feature_weights, maps_estimate, maps_target):
            if weight:
                total = total + weight * distance(a, b)
        if self.l1_weight:
            total = total + self.l1_weight * distance(self._stft(estimate), self._stft(target))
        return total

    def get_config(self):
        return {**super().get_config(), "emulator": self.emulator_name, "channels": self.channels,
                "codec_weight": self.codec_weight, "feature_weights": list(self.feature_weights),
                "l1_weight": self.l1_weight}
