"""Zoo entries built on :class:`~sepzoo.models.wavenet_separator.WaveNetSeparator`.

``config`` builds the randomly initialised model. Published weights are recorded by ``sepzoo publish`` in
``sepzoo/weights/<name>/index.json``.
"""

FIXED4 = ["drums", "piano", "strings", "bass"]

PRESETS = {
    "wavenet_separator": {
        "description": "WaveNet separator, CPU size (2 stacks x 8 blocks, 24 filters, head 96/48), drums / piano / "
        "strings / bass (fixed4) from MIDI renders, 22.05 kHz mono, 2205-sample (100 ms) windows",
        "config": {"sources": FIXED4, "sample_rate": 22050, "context_samples": 2205, "stacks": 2,
                   "blocks_per_stack": 8, "filters": 24, "skip_channels": 48, "head_channels": [96, 48],
                   "normalize": True},
    },
    "wavenet_separator_paper": {
        "description": "WaveNet separator as published (4 stacks x 10 blocks, 128 filters, head 512/256), fixed4, "
        "44.1 kHz mono, 4410-sample (100 ms) windows; architecture only",
        "config": {"sources": FIXED4, "sample_rate": 44100, "context_samples": 4410, "stacks": 4,
                   "blocks_per_stack": 10, "filters": 128, "skip_channels": 128, "head_channels": [512, 256],
                   "normalize": False},
    },
}
