"""Zoo entries built on :class:`~sepzoo.models.lightweight_aspp.LightweightASPP`.

``handle`` is a path under the hub base URL (see :mod:`sepzoo.hub`) or ``None`` when no trained weights
exist yet; ``sha256`` is the archive's checksum. ``config`` builds the randomly initialised model.
"""

PRESETS = {
    "lightweight_aspp": {
        "class_name": "LightweightASPP",
        "description": "LightweightASPP (variant b: RFPD + temporal attention), 4 stems from MIDI renders, 22.05 kHz mono",
        "config": {"sources": ["drums", "bass", "keys", "other"], "variant": "b"},
        "handle": None,
        "sha256": None,
    },
}
