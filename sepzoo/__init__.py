"""sepzoo: a Keras 3 model zoo for lightweight audio source separation.

```python
import sepzoo
model = sepzoo.load("lightweight_aspp")                # shipped weights, 22.05 kHz, 4 stems
stems = sepzoo.separate("song.wav", model=model)        # {"drums": (channels, samples), ...}
```
"""

from sepzoo.errors import SepzooError
from sepzoo.preset import load_preset, save_preset
from sepzoo.zoo import list_models, load, register_preset

__version__ = "0.1.0"


def __getattr__(name):
    # The Separator pulls in audio I/O and resampling; import it only when asked for.
    if name in ("separate", "Separator"):
        from sepzoo import separator

        return getattr(separator, name)
    raise AttributeError(f"module 'sepzoo' has no attribute {name!r}")


__all__ = [
    "Separator",
    "SepzooError",
    "list_models",
    "load",
    "load_preset",
    "register_preset",
    "save_preset",
    "separate",
    "__version__",
]
