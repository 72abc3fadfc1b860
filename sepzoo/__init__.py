"""sepzoo: a Keras 3 model zoo for lightweight audio source separation.

```python
import sepzoo
model = sepzoo.load("lightweight_aspp")                # shipped weights, 22.05 kHz, 4 stems
stems = sepzoo.separate("song.wav", model=model)        # {"drums": (channels, samples), ...}
streamer = sepzoo.stream("lightweight_aspp", sample_rate=44100)  # push blocks, get stems a fixed latency later
```

Importing sepzoo registers every zoo model, layer and loss class with Keras, so a ``.keras`` file saved from
a sepzoo model loads with plain ``keras.saving.load_model`` in a fresh process. Keras itself takes seconds
to import, so the classes are registered the moment Keras is imported (at once if it already is), not
before: ``sepzoo --help`` and the hub stay fast.
"""

import importlib
import sys

import wrapt

from sepzoo.errors import SepzooError
from sepzoo.zoo import list_models, load, load_preset, publish, save_preset

__version__ = "0.2.0"

_KERAS_CLASSES = ("sepzoo.models", "sepzoo.losses")


def _register_keras_classes(_keras_module=None) -> None:
    for module in _KERAS_CLASSES:
        importlib.import_module(module)


if "keras" in sys.modules:
    _register_keras_classes()
else:
    wrapt.register_post_import_hook(_register_keras_classes, "keras")


def __getattr__(name):
    # The Separator pulls in audio I/O and resampling; import it only when asked for. It imports no Keras
    # itself (exported engines run without it); loading a zoo model by name does.
    if name in ("separate", "Separator", "stream", "StreamingSeparator"):
        from sepzoo import separator

        return getattr(separator, name)
    raise AttributeError(f"module 'sepzoo' has no attribute {name!r}")


__all__ = [
    "Separator",
    "SepzooError",
    "StreamingSeparator",
    "list_models",
    "load",
    "load_preset",
    "publish",
    "save_preset",
    "separate",
    "stream",
    "__version__",
]
