"""Zoo entries built on :class:`~sepzoo.models.lightweight_aspp.LightweightASPP`.

``handle`` is a path under the hub base URL (see :mod:`sepzoo.hub`) or ``None`` when no trained weights
exist yet; ``sha256`` is the archive's checksum. ``config`` builds the randomly initialised model.
"""

PRESETS = {
    "lightweight_aspp": {
        "class_name": "LightweightASPP",
        "description": "LightweightASPP (variant b: RFPD + temporal attention, learned-basis mask head), 4 stems "
        "from MIDI renders, 22.05 kHz mono",
        "config": {"sources": ["drums", "bass", "keys", "other"], "variant": "b", "output_head": "mask",
                   "basis_size": 128},
        "handle": "lightweight_aspp/midi4-v3.tar.gz",
        "sha256": "ce7a6c3728ed0cee4e98ae5917448b664555481da162fcec7f2d30e91747519c",
    },
}
