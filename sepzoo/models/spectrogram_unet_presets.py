"""Zoo entries built on :class:`~sepzoo.models.spectrogram_unet.SpectrogramUNet`: the P1-P5 capacity ladder.

Docs/research.md, part A: five mixture -> source magnitude-spectrogram U-Nets of growing capacity, settled as
the base channel count doubling each step (4, 8, 16, 32, 64) at a fixed depth of 4 levels; everything else is
shared: speech / noise at 16 kHz mono, 512-sample (32 ms) Hann frames every 128 samples (8 ms), 3x3 kernels,
power-0.3 magnitude compression, softmax masks across sources, 16 256-sample (1.016 s, 128-frame) windows.
``spectrogram_unet_causal`` is P2 with no look-ahead beyond the STFT window (32 ms algorithmic latency).
Parameter counts (``sepzoo list`` prints them): P1 13.8 k, P2 54.7 k, P3 218 k, P4 868 k, P5 3.47 M, causal
54.7 k (P2's: only paddings and strides differ).

``config`` builds the randomly initialised model (``sepzoo.load(name, weights=None)``); published weights are
recorded by ``sepzoo publish`` in ``sepzoo/weights/<name>/index.json``.
"""

SPEECH = {"sources": ["speech", "noise"], "sample_rate": 16000, "channels": 1, "target_samples": 16000,
          "fft_size": 512, "hop_size": 128, "depth": 4, "kernel_size": 3, "magnitude_exponent": 0.3,
          "mask_activation": "softmax"}
BASE_FILTERS = {"p1": 4, "p2": 8, "p3": 16, "p4": 32, "p5": 64}
PARAMS = {"p1": "13.8 k", "p2": "54.7 k", "p3": "218 k", "p4": "868 k", "p5": "3.47 M"}

PRESETS = {
    **{
        f"spectrogram_unet_{size}": {
            "description": f"Spectrogram U-Net {size.upper()} ({BASE_FILTERS[size]} base filters, 4 levels, "
            f"{PARAMS[size]} params), softmax magnitude masks, speech / noise, 16 kHz mono; architecture only",
            "config": {**SPEECH, "base_filters": BASE_FILTERS[size], "causal": False},
        }
        for size in BASE_FILTERS
    },
    "spectrogram_unet_causal": {
        "description": "Spectrogram U-Net P2 size, causal (frequency-only downsampling, past-padded time convs, "
        "32 ms latency, 54.7 k params), speech / noise, 16 kHz mono; architecture only",
        "config": {**SPEECH, "base_filters": 8, "causal": True},
    },
}
