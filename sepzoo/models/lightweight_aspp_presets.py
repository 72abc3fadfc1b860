"""Zoo entries built on :class:`~sepzoo.models.lightweight_aspp.LightweightASPP`.

``handle`` is a path under the hub base URL (see :mod:`sepzoo.hub`) or ``None`` when no trained weights
exist yet; ``sha256`` is the archive's checksum. ``config`` builds the randomly initialised model.
"""

PRESETS = {
    "lightweight_aspp": {
        "class_name": "LightweightASPP",
        "description": "LightweightASPP (variant b: RFPD + temporal attention), 4 stems from MIDI renders, 22.05 kHz mono",
        "config": {"sources": ["drums", "bass", "keys", "other"], "variant": "b"},
        "handle": "lightweight_aspp/midi4-v1.tar.gz",
        "sha256": "6056a5ab5aa7bb56c0b5a5218bdd71c436509e0367a0d42c1d17947468e4f7ba",
    },
}
