"""Zoo entries built on :class:`~sepzoo.models.lightweight_aspp.LightweightASPP`.

``config`` builds the randomly initialised model (``sepzoo.load(name, weights=None)``). Published weights
(versions, archives, checksums) are recorded by ``sepzoo publish`` in ``sepzoo/weights/<name>/index.json``.

The three decoder variants of the paper's ablation (docs/research.md, part B) with its waveform head, each
within 10 % of the paper's 0.85 M parameters (``python -m sepzoo info NAME`` prints the count). They share
the encoder (stem 24, blocks 48 / 96 / 128 / 160 filters, kernel 15) and the ASPP (96 filters, rates 1, 8, 32,
128 bottleneck frames, kernel 9); a and b decode at the bottleneck rate with 172 filters per stage, c
upsamples with 512 / 384 / 256 / 128 filters (deepest level first), since mirroring the encoder would leave it
at 0.40 M.
"""

MIDI4 = ["drums", "bass", "keys", "other"]
ABLATION = {"sources": MIDI4, "output_head": "waveform", "normalize": True}

PRESETS = {
    "lightweight_aspp": {
        "description": "LightweightASPP (variant b: RFPD + temporal attention, learned-basis mask head), 4 stems "
        "from MIDI renders, 22.05 kHz mono",
        "config": {"sources": MIDI4, "variant": "b", "output_head": "mask", "basis_size": 128},
    },
    "lightweight_aspp_a": {
        "description": "LightweightASPP variant a (RFPD decoder, no attention, waveform head; 0.85 M params), "
        "midi4 stems, 22.05 kHz mono",
        "config": {**ABLATION, "variant": "a", "decoder_channels": 172},
    },
    "lightweight_aspp_b": {
        "description": "LightweightASPP variant b (RFPD decoder + temporal attention, waveform head; 0.85 M "
        "params), midi4 stems, 22.05 kHz mono",
        "config": {**ABLATION, "variant": "b", "decoder_channels": 172},
    },
    "lightweight_aspp_c": {
        "description": "LightweightASPP variant c (upsampling decoder 512/384/256/128 + temporal attention, "
        "waveform head; 0.85 M params), midi4 stems, 22.05 kHz mono",
        "config": {**ABLATION, "variant": "c", "upsampling_channels": [512, 384, 256, 128]},
    },
}
