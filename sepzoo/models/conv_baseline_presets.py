"""Zoo entries built on :class:`~sepzoo.models.conv_baseline.ConvBaseline`.

``config`` builds the randomly initialised model (``sepzoo.load(name, weights=None)``). Published weights
(versions, archives, checksums) are recorded by ``sepzoo publish`` in ``sepzoo/weights/<name>/index.json``.
"""


def _fixed4(residual: bool) -> dict:
    """The fixed4 task (docs/research.md, part C) at 22.05 kHz mono with 100 ms (2205-sample) windows; kernel 127
    and 16 filters give it about the WaveNet preset's compute per sample, so both train equal steps on a CPU."""
    return {"sources": ["drums", "piano", "strings", "bass"], "sample_rate": 22050, "channels": 1,
            "context_samples": 2205, "filters": [16, 16, 16], "kernel_size": 127, "residual": residual}


PRESETS = {
    "conv_baseline": {
        "description": "ConvBaseline (4 same-padded convs, kernel 127, 16 filters, ReLU, linear output), fixed4 task "
        "(drums, piano, strings, bass), 22.05 kHz mono, 2205-sample context",
        "config": _fixed4(residual=False),
    },
    "conv_baseline_residual": {
        "description": "ConvBaseline with residual connections (1x1 projections where widths differ), kernel 127, "
        "16 filters, fixed4 task (drums, piano, strings, bass), 22.05 kHz mono, 2205-sample context",
        "config": _fixed4(residual=True),
    },
}
