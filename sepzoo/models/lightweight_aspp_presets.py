"""Zoo entries built on :class:`~sepzoo.models.lightweight_aspp.LightweightASPP`.

``config`` builds the randomly initialised model (``sepzoo.load(name, weights=None)``). Published weights
(versions, archives, checksums) are recorded by ``sepzoo publish`` in ``sepzoo/weights/<name>/index.json``.
"""

PRESETS = {
    "lightweight_aspp": {
        "description": "LightweightASPP (variant b: RFPD + temporal attention, learned-basis mask head), 4 stems "
        "from MIDI renders, 22.05 kHz mono",
        "config": {"sources": ["drums", "bass", "keys", "other"], "variant": "b", "output_head": "mask",
                   "basis_size": 128},
    },
}
