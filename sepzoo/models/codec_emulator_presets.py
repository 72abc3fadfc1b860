"""Zoo entries built on :mod:`sepzoo.models.codec_emulator`: networks that emulate a 16 kbps MP3 round trip.

Both take a 16 kHz mono window and return the same window as it would come out of a 16 kbps MP3 encode
(lameenc) and decode (libsndfile / mpg123), so a perceptual loss can put a differentiable stand-in for the codec
in the training graph (``codec_magnitudes``). ``codec_emulator_spectrogram`` is a |STFT| -> |STFT| U-Net (P2's
size: 8 base filters, 4 levels, 512-sample Hann frames every 128 samples, 3x3 kernels, power-0.3 compression) on
the P ladder's 16 256-sample (1.016 s, 128-frame) window; ``codec_emulator_waveform`` is a waveform U-Net (5
levels, 8 filters more per level, 15-tap kernels) on the same 16 256-sample window (a multiple of its 2**5).
Parameter counts (``sepzoo list`` prints them): spectrogram 55.6 k, waveform 107 k; receptive fields 8 447 and 883
samples.

``config`` builds the randomly initialised model (``sepzoo.load(name, weights=None)``); weights, trained later on
(lossless, coded) pairs, are recorded by ``sepzoo publish`` in ``sepzoo/weights/<name>/index.json``.
"""

CODEC = "emulates a 16 kbps MP3 round trip (lameenc encode, libsndfile/mpg123 decode) at 16 kHz mono"
WINDOW = {"sources": ["coded"], "sample_rate": 16000, "channels": 1, "target_samples": 16256}

SPECTROGRAM_PRESETS = {
    "codec_emulator_spectrogram": {
        "description": f"Spectrogram codec emulator (|STFT| -> |STFT| U-Net, 8 base filters, 4 levels, 55.6 k "
        f"params, input phase), {CODEC}; architecture only",
        "config": {**WINDOW, "fft_size": 512, "hop_size": 128, "base_filters": 8, "depth": 4, "kernel_size": 3,
                   "magnitude_exponent": 0.3},
    },
}
WAVEFORM_PRESETS = {
    "codec_emulator_waveform": {
        "description": f"Waveform codec emulator (1-D U-Net, 5 levels, 8 filters more per level, 15-tap kernels, "
        f"127-tap linear FIR path, 107 k params, residual output), {CODEC}; architecture only",
        "config": {**WINDOW, "base_filters": 8, "depth": 5, "kernel_size": 15, "linear_taps": 127, "fft_size": 512,
                   "hop_size": 128},
    },
}
PRESETS = {**SPECTROGRAM_PRESETS, **WAVEFORM_PRESETS}
