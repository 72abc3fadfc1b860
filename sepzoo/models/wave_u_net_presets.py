"""Zoo entries built on :class:`~sepzoo.models.wave_u_net.WaveUNet`: the paper's settings, and the one we train.

The paper's models (Stoller et al. 2018, table 1) differ only in these switches: M3 = difference output +
input context (valid convolutions), mono; M4 = M3 in stereo; M5 = M4 with learned upsampling. All have 12
levels, 24 filters per level, kernels 15 (down) and 5 (up), and map 147 443 input samples to 16 389 output
samples at 22.05 kHz. ``config`` builds the randomly initialised model; published weights are recorded by
``sepzoo publish`` in ``sepzoo/weights/<name>/index.json``.
"""

VOCALS = ["vocals", "accompaniment"]
MIDI4 = ["drums", "bass", "keys", "other"]
PAPER = {"num_layers": 12, "filters_per_layer": 24, "down_kernel_size": 15, "up_kernel_size": 5,
         "target_samples": 16384, "sample_rate": 22050, "output_layer": "difference"}

PRESETS = {
    "wave_u_net_m3": {
        "description": "Wave-U-Net M3 as published (difference output, input context, mono), vocals / "
        "accompaniment, 22.05 kHz, 147 443 -> 16 389 samples; architecture only",
        "config": {**PAPER, "sources": VOCALS, "channels": 1, "upsampling": "linear"},
    },
    "wave_u_net_m4": {
        "description": "Wave-U-Net M4 as published (M3 in stereo), vocals / accompaniment, 22.05 kHz; "
        "architecture only",
        "config": {**PAPER, "sources": VOCALS, "channels": 2, "upsampling": "linear"},
    },
    "wave_u_net_m5": {
        "description": "Wave-U-Net M5 as published (M4 with learned upsampling), vocals / accompaniment, "
        "22.05 kHz stereo; architecture only",
        "config": {**PAPER, "sources": VOCALS, "channels": 2, "upsampling": "learned"},
    },
    "wave_u_net": {
        "description": "Wave-U-Net M3 layout (12 levels, 24 filters per level, mono) with window RMS "
        "normalisation and linear outputs, drums / bass / keys / other (midi4) from MIDI renders, 22.05 kHz",
        "config": {**PAPER, "sources": MIDI4, "channels": 1, "upsampling": "linear", "output_activation": "linear",
                   "normalize": True},
    },
}
